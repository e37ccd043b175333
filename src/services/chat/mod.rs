//! 1:1 chat (issue 14 item 3): a conversation per listing (an auction or a product) and
//! neighbour, with the listing's seller. Only its two sides read and write it; an admin reads
//! (never writes) one whose trade was disputed. Messages are plain text, rate-limited per
//! member; a member may block another, who then can neither open a conversation with nor write
//! to them.
//!
//! Each use case is one transaction with its own error enum. A new message signals both sides
//! after commit ([`crate::db::signal_user`]): their `/me/live` sockets push it to an open chat
//! page and redraw the header's unread count, in any process.
//!
//! One file per use case: `open.rs`, `read.rs` (a conversation's page, what its open page
//! hears, read markers), `send.rs`, `list.rs` (`/chats`, the header's count, a trade's
//! conversation), `block.rs`; what they share — the rows, the listing a conversation is about,
//! blocks, names, the unread chat notification — is here.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{
    auctions, chat_messages, chats, notifications, products, user_blocks, users,
};
use crate::db::DbConnection;
use crate::domain::image::thumb_name;
use crate::domain::notification::NotificationKind;
use crate::domain::UserId;
use crate::services::market::TradeItem;

mod block;
mod list;
mod open;
mod read;
mod send;

pub use block::*;
pub use list::*;
pub use open::*;
pub use read::*;
pub use send::*;

/// Conversations per page of `/chats`.
pub const PER_PAGE: i64 = 20;
/// Messages a chat page shows at once (older ones a link away).
pub const MESSAGES_PER_PAGE: i64 = 50;

/// A conversation as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = chats)]
pub struct ChatRow {
    pub id: i64,
    pub product_id: Option<i64>,
    pub auction_id: Option<i64>,
    pub seller_id: i64,
    pub neighbour_id: i64,
    pub created_at: NaiveDateTime,
    pub last_message_at: NaiveDateTime,
    pub last_message_id: i64,
    pub seller_read_id: i64,
    pub neighbour_read_id: i64,
}

impl ChatRow {
    /// The auction or product it is about.
    pub fn item(&self) -> Option<TradeItem> {
        match (self.product_id, self.auction_id) {
            (Some(p), None) => Some(TradeItem::Product(p)),
            (None, Some(a)) => Some(TradeItem::Auction(a)),
            _ => None,
        }
    }

    pub fn is_side(&self, user: UserId) -> bool {
        user == self.seller_id || user == self.neighbour_id
    }

    /// The other side, seen from `user` (one of the two).
    pub fn other(&self, user: UserId) -> UserId {
        if user == self.seller_id {
            self.neighbour_id
        } else {
            self.seller_id
        }
    }
}

/// One message as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = chat_messages)]
pub struct Message {
    pub id: i64,
    pub chat_id: i64,
    pub sender_id: i64,
    pub body: String,
    pub created_at: NaiveDateTime,
}

/// The listing a conversation is about, as its pages show it.
#[derive(Debug, Clone)]
pub struct ListingInfo {
    pub item: TradeItem,
    pub title: String,
    pub seller_id: UserId,
    /// The photo's thumbnail, when it has one.
    pub thumb_url: Option<String>,
}

fn listing_info(conn: &mut DbConnection, item: TradeItem) -> QueryResult<Option<ListingInfo>> {
    Ok(listings_of(conn, &[item])?.remove(&item))
}

/// The listings of `chats`, in two queries (auctions, products).
fn listing_infos(
    conn: &mut DbConnection,
    chats: &[ChatRow],
) -> QueryResult<HashMap<TradeItem, ListingInfo>> {
    let items: Vec<TradeItem> = chats.iter().filter_map(ChatRow::item).collect();
    listings_of(conn, &items)
}

/// The listings `items` name that exist, in at most two queries (auctions, products).
fn listings_of(
    conn: &mut DbConnection,
    items: &[TradeItem],
) -> QueryResult<HashMap<TradeItem, ListingInfo>> {
    let auction_ids: Vec<i64> = items
        .iter()
        .filter_map(|i| match i {
            TradeItem::Auction(id) => Some(*id),
            TradeItem::Product(_) => None,
        })
        .collect();
    let product_ids: Vec<i64> = items
        .iter()
        .filter_map(|i| match i {
            TradeItem::Product(id) => Some(*id),
            TradeItem::Auction(_) => None,
        })
        .collect();
    let mut rows: Vec<(TradeItem, String, i64, Option<String>)> = Vec::new();
    if !auction_ids.is_empty() {
        rows.extend(
            auctions::table
                .filter(auctions::id.eq_any(auction_ids))
                .select((
                    auctions::id,
                    auctions::title,
                    auctions::seller_id,
                    auctions::image_name,
                ))
                .load::<(i64, String, i64, Option<String>)>(conn)?
                .into_iter()
                .map(|(id, t, s, i)| (TradeItem::Auction(id), t, s, i)),
        );
    }
    if !product_ids.is_empty() {
        rows.extend(
            products::table
                .filter(products::id.eq_any(product_ids))
                .select((
                    products::id,
                    products::name,
                    products::seller_id,
                    products::image_path,
                ))
                .load::<(i64, String, i64, Option<String>)>(conn)?
                .into_iter()
                .map(|(id, t, s, i)| (TradeItem::Product(id), t, s, i)),
        );
    }
    Ok(rows
        .into_iter()
        .map(|(item, title, seller_id, image)| {
            let info = ListingInfo {
                item,
                title,
                seller_id,
                thumb_url: image.map(|name| format!("/uploads/{}", thumb_name(&name))),
            };
            (item, info)
        })
        .collect())
}

/// Whether `blocker` blocked `blocked`.
pub fn has_blocked(conn: &mut DbConnection, blocker: UserId, blocked: UserId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        user_blocks::table
            .filter(user_blocks::blocker_id.eq(blocker))
            .filter(user_blocks::blocked_id.eq(blocked)),
    ))
    .get_result(conn)
}

fn find_chat(conn: &mut DbConnection, id: i64) -> QueryResult<Option<ChatRow>> {
    chats::table
        .find(id)
        .select(ChatRow::as_select())
        .first(conn)
        .optional()
}

type UnreadNotes = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Filter<
            diesel::dsl::Filter<notifications::table, diesel::dsl::Eq<notifications::user_id, i64>>,
            diesel::dsl::Eq<notifications::chat_id, i64>,
        >,
        diesel::dsl::Eq<notifications::kind, &'static str>,
    >,
    diesel::dsl::IsNull<notifications::read_at>,
>;

/// The member's unread notification of a new message in `chat` (at most one).
fn unread_chat_notes(chat: i64, me: UserId) -> UnreadNotes {
    notifications::table
        .filter(notifications::user_id.eq(me))
        .filter(notifications::chat_id.eq(chat))
        .filter(notifications::kind.eq(NotificationKind::ChatMessage.as_str()))
        .filter(notifications::read_at.is_null())
}

fn names(conn: &mut DbConnection, ids: &[UserId]) -> QueryResult<HashMap<UserId, String>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}
