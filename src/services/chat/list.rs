//! The member's conversations (`/chats`), the header's unread count, a trade's conversation.

use super::*;
use crate::services::market;

/// One line of `/chats`.
#[derive(Debug, Clone)]
pub struct ChatLine {
    pub id: i64,
    pub listing: Option<ListingInfo>,
    pub other_id: UserId,
    pub other_name: String,
    pub last_body: Option<String>,
    pub last_message_at: NaiveDateTime,
    /// Messages from the other side the member has not seen.
    pub unread: i64,
}

/// The member's conversations, newest activity first, and how many there are in all.
pub fn page_of(
    conn: &mut DbConnection,
    me: UserId,
    page: i64,
) -> QueryResult<(Vec<ChatLine>, i64)> {
    let mine = || chats::table.filter(chats::seller_id.eq(me).or(chats::neighbour_id.eq(me)));
    let total: i64 = mine().count().get_result(conn)?;
    let rows: Vec<ChatRow> = mine()
        .order((chats::last_message_at.desc(), chats::id.desc()))
        .limit(PER_PAGE)
        .offset((page - 1).max(0) * PER_PAGE)
        .select(ChatRow::as_select())
        .load(conn)?;
    let people: Vec<i64> = rows.iter().map(|c| c.other(me)).collect();
    let names = names(conn, &people)?;
    let last_ids: Vec<i64> = rows.iter().map(|c| c.last_message_id).collect();
    let bodies: HashMap<i64, String> = chat_messages::table
        .filter(chat_messages::id.eq_any(last_ids))
        .select((chat_messages::id, chat_messages::body))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    // The other side's messages after the member's read marker, per conversation (one query).
    let unread_in: Vec<i64> = rows
        .iter()
        .filter(|c| {
            c.last_message_id
                > if me == c.seller_id {
                    c.seller_read_id
                } else {
                    c.neighbour_read_id
                }
        })
        .map(|c| c.id)
        .collect();
    let unread: HashMap<i64, i64> = if unread_in.is_empty() {
        HashMap::new()
    } else {
        chat_messages::table
            .inner_join(chats::table)
            .filter(chat_messages::chat_id.eq_any(unread_in))
            .filter(chat_messages::sender_id.ne(me))
            .filter(
                chats::seller_id
                    .eq(me)
                    .and(chat_messages::id.gt(chats::seller_read_id))
                    .or(chats::neighbour_id
                        .eq(me)
                        .and(chat_messages::id.gt(chats::neighbour_read_id))),
            )
            .group_by(chat_messages::chat_id)
            .select((chat_messages::chat_id, diesel::dsl::count_star()))
            .load::<(i64, i64)>(conn)?
            .into_iter()
            .collect()
    };
    let listings = listing_infos(conn, &rows)?;
    let lines = rows
        .into_iter()
        .map(|c| {
            let other_id = c.other(me);
            ChatLine {
                id: c.id,
                listing: c.item().and_then(|item| listings.get(&item).cloned()),
                other_id,
                other_name: names.get(&other_id).cloned().unwrap_or_default(),
                last_body: bodies.get(&c.last_message_id).cloned(),
                last_message_at: c.last_message_at,
                unread: unread.get(&c.id).copied().unwrap_or(0),
            }
        })
        .collect();
    Ok((lines, total))
}

/// How many of the member's conversations have a message they have not seen (the header).
pub fn unread_chats(conn: &mut DbConnection, me: UserId) -> QueryResult<i64> {
    chats::table
        .filter(
            chats::seller_id
                .eq(me)
                .and(chats::last_message_id.gt(chats::seller_read_id))
                .or(chats::neighbour_id
                    .eq(me)
                    .and(chats::last_message_id.gt(chats::neighbour_read_id))),
        )
        .count()
        .get_result(conn)
}

/// The conversation about a trade's listing between its buyer and its seller, if they had one
/// (`/admin/disputes` links it).
pub fn chat_of_trade(
    conn: &mut DbConnection,
    trade: &market::TradeRow,
) -> QueryResult<Option<i64>> {
    let query = chats::table
        .filter(chats::neighbour_id.eq(trade.buyer_id))
        .filter(chats::seller_id.eq(trade.seller_id))
        .select(chats::id);
    match (trade.product_id, trade.auction_id) {
        (Some(p), _) => query.filter(chats::product_id.eq(p)).first(conn).optional(),
        (None, Some(a)) => query.filter(chats::auction_id.eq(a)).first(conn).optional(),
        (None, None) => Ok(None),
    }
}
