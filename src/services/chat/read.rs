//! Reading a conversation: its page, the messages its open page hears of, the read markers.

use super::*;
use crate::db::{read_tx, write_tx};
use crate::domain::msg::Msg;
use crate::services::market::{self, TradeView};
use crate::services::now;

/// Who is reading a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// One of its two sides.
    Side,
    /// An admin handling its trade's dispute (reads, never writes).
    Admin,
}

#[derive(Debug, thiserror::Error)]
pub enum ViewChatError {
    #[error("No such conversation.")]
    NotFound,
    #[error("Only the two people in a conversation can read and write it.")]
    NotAllowed,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
crate::unexpected_error!(ViewChatError);

impl ViewChatError {
    /// The reason in the reader's language; `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            ViewChatError::NotAllowed => Msg::new("chat.error_not_allowed"),
            ViewChatError::NotFound | ViewChatError::Unexpected(_) => {
                Msg::new("chat.error_generic")
            }
        }
    }
}

/// A conversation's page: the listing, the people, the trade between them if any, and a page of
/// messages (oldest first).
#[derive(Debug)]
pub struct ChatView {
    pub chat: ChatRow,
    pub reader: Reader,
    pub listing: Option<ListingInfo>,
    pub seller_name: String,
    pub neighbour_name: String,
    /// The trade of this listing between these two (a won auction, a buy-now, a purchase).
    pub trade: Option<TradeView>,
    pub messages: Vec<Message>,
    /// There are older messages than the first shown.
    pub has_older: bool,
    /// The reader blocked the other side / the other side blocked the reader.
    pub i_blocked: bool,
    pub they_blocked: bool,
}

/// The trade of the conversation's listing between its neighbour (buyer) and its seller.
fn trade_of(conn: &mut DbConnection, chat: &ChatRow) -> QueryResult<Option<TradeView>> {
    match chat.item() {
        Some(item) => market::trade_between(conn, item, chat.neighbour_id, chat.seller_id),
        None => Ok(None),
    }
}

/// Who may read `chat`: its sides; an admin when its trade was disputed.
fn reader_of(
    conn: &mut DbConnection,
    chat: &ChatRow,
    me: UserId,
    is_admin: bool,
) -> Result<Reader, ViewChatError> {
    if chat.is_side(me) {
        return Ok(Reader::Side);
    }
    if is_admin && trade_of(conn, chat)?.is_some_and(|t| t.trade.disputed_at.is_some()) {
        return Ok(Reader::Admin);
    }
    Err(ViewChatError::NotAllowed)
}

/// Read a conversation: the newest [`MESSAGES_PER_PAGE`] messages, or those before message
/// `before`. A side reading the newest ones marks the conversation read (and its chat
/// notification), and their header hears of it.
#[tracing::instrument(skip(conn), fields(user.id = me, chat.id = id))]
pub fn view(
    conn: &mut DbConnection,
    me: UserId,
    is_admin: bool,
    id: i64,
    before: Option<i64>,
) -> Result<ChatView, ViewChatError> {
    let (chat, reader) = read_tx(conn, |conn| {
        let chat = find_chat(conn, id)?.ok_or(ViewChatError::NotFound)?;
        let reader = reader_of(conn, &chat, me, is_admin)?;
        Ok::<_, ViewChatError>((chat, reader))
    })?;
    let view = read_tx(conn, |conn| {
        let chat = find_chat(conn, id)?.ok_or(ViewChatError::NotFound)?;
        let mut query = chat_messages::table
            .filter(chat_messages::chat_id.eq(id))
            .order(chat_messages::id.desc())
            .limit(MESSAGES_PER_PAGE + 1)
            .select(Message::as_select())
            .into_boxed();
        if let Some(before) = before {
            query = query.filter(chat_messages::id.lt(before));
        }
        let mut messages: Vec<Message> = query.load(conn)?;
        let has_older = messages.len() > usize::try_from(MESSAGES_PER_PAGE).unwrap_or(50);
        messages.truncate(usize::try_from(MESSAGES_PER_PAGE).unwrap_or(50));
        messages.reverse();
        let names = names(conn, &[chat.seller_id, chat.neighbour_id])?;
        let listing = match chat.item() {
            Some(item) => listing_info(conn, item)?,
            None => None,
        };
        let trade = trade_of(conn, &chat)?;
        let (i_blocked, they_blocked) = if reader == Reader::Side {
            let other = chat.other(me);
            (has_blocked(conn, me, other)?, has_blocked(conn, other, me)?)
        } else {
            (false, false)
        };
        Ok::<_, ViewChatError>(ChatView {
            seller_name: names.get(&chat.seller_id).cloned().unwrap_or_default(),
            neighbour_name: names.get(&chat.neighbour_id).cloned().unwrap_or_default(),
            chat,
            reader,
            listing,
            trade,
            messages,
            has_older,
            i_blocked,
            they_blocked,
        })
    })?;
    // The newest page, read by a side: read up to its last message (one that came after is
    // pushed to the open page by the member socket, which marks it then).
    if reader == Reader::Side && before.is_none() {
        let upto = view.messages.last().map_or(0, |m| m.id);
        mark_read(conn, &chat, me, upto)?;
    }
    Ok(view)
}

/// Mark `chat` read for `me` up to message `upto` (never backwards), and its chat notification
/// read.
fn mark_read(
    conn: &mut DbConnection,
    chat: &ChatRow,
    me: UserId,
    upto: i64,
) -> Result<(), ViewChatError> {
    let mine = if me == chat.seller_id {
        chat.seller_read_id
    } else {
        chat.neighbour_read_id
    };
    let unread_note: bool =
        diesel::select(diesel::dsl::exists(unread_chat_notes(chat.id, me))).get_result(conn)?;
    if mine >= upto && !unread_note {
        return Ok(());
    }
    write_tx(conn, |conn| {
        // Never backwards: a marker already past `upto` stays.
        if me == chat.seller_id {
            diesel::update(
                chats::table
                    .find(chat.id)
                    .filter(chats::seller_read_id.lt(upto)),
            )
            .set(chats::seller_read_id.eq(upto))
            .execute(conn)?;
        } else {
            diesel::update(
                chats::table
                    .find(chat.id)
                    .filter(chats::neighbour_read_id.lt(upto)),
            )
            .set(chats::neighbour_read_id.eq(upto))
            .execute(conn)?;
        }
        diesel::update(unread_chat_notes(chat.id, me))
            .set(notifications::read_at.eq(Some(now())))
            .execute(conn)?;
        crate::db::signal_user(conn, me)?;
        Ok::<_, ViewChatError>(())
    })
}

/// The messages of `chat` after message `after`, for a side's open page (at most
/// [`MESSAGES_PER_PAGE`], oldest first). Anyone else gets nothing.
pub fn messages_after(
    conn: &mut DbConnection,
    me: UserId,
    chat: i64,
    after: i64,
) -> QueryResult<Vec<Message>> {
    let Some(row) = find_chat(conn, chat)? else {
        return Ok(Vec::new());
    };
    if !row.is_side(me) {
        return Ok(Vec::new());
    }
    chat_messages::table
        .filter(chat_messages::chat_id.eq(chat))
        .filter(chat_messages::id.gt(after))
        .order(chat_messages::id.asc())
        .limit(MESSAGES_PER_PAGE)
        .select(Message::as_select())
        .load(conn)
}

/// Mark `chat` read for `me` (a side) up to message `upto`: the messages were shown on the
/// member's open page.
pub fn mark_seen(conn: &mut DbConnection, me: UserId, chat: i64, upto: i64) -> anyhow::Result<()> {
    if let Some(row) = find_chat(conn, chat)?.filter(|c| c.is_side(me)) {
        mark_read(conn, &row, me, upto)?;
    }
    Ok(())
}

/// Whether `me` is a side of `chat` (the member socket follows only those).
pub fn is_side_of(conn: &mut DbConnection, me: UserId, chat: i64) -> QueryResult<bool> {
    Ok(find_chat(conn, chat)?.is_some_and(|c| c.is_side(me)))
}
