//! 1:1 chat (issue 14 item 3): a conversation per listing (an auction or a product) and
//! neighbour, with the listing's seller. Only its two sides read and write it; an admin reads
//! (never writes) one whose trade was disputed. Messages are plain text, rate-limited per
//! member; a member may block another, who then can neither open a conversation with nor write
//! to them.
//!
//! Each use case is one transaction with its own error enum. A new message signals both sides
//! after commit ([`crate::db::signal_user`]): their `/me/live` sockets push it to an open chat
//! page and redraw the header's unread count, in any process.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{
    auctions, chat_messages, chats, notifications, products, user_blocks, users,
};
use crate::db::{read_tx, write_tx, DbConnection};
use crate::domain::chat::ChatBody;
use crate::domain::image::thumb_name;
use crate::domain::msg::Msg;
use crate::domain::notification::NotificationKind;
use crate::domain::UserId;
use crate::services::market::{self, TradeItem, TradeView};
use crate::services::notify::{self, Notice};
use crate::services::now;

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
    let row: Option<(String, i64, Option<String>)> = match item {
        TradeItem::Auction(id) => auctions::table
            .find(id)
            .select((auctions::title, auctions::seller_id, auctions::image_name))
            .first(conn)
            .optional()?,
        TradeItem::Product(id) => products::table
            .find(id)
            .select((products::name, products::seller_id, products::image_path))
            .first(conn)
            .optional()?,
    };
    Ok(row.map(|(title, seller_id, image)| ListingInfo {
        item,
        title,
        seller_id,
        thumb_url: image.map(|name| format!("/uploads/{}", thumb_name(&name))),
    }))
}

/// The listings of `chats`, in two queries (auctions, products).
fn listing_infos(
    conn: &mut DbConnection,
    chats: &[ChatRow],
) -> QueryResult<HashMap<TradeItem, ListingInfo>> {
    let auction_ids: Vec<i64> = chats.iter().filter_map(|c| c.auction_id).collect();
    let product_ids: Vec<i64> = chats.iter().filter_map(|c| c.product_id).collect();
    let mut out = HashMap::new();
    let thumb = |image: Option<String>| image.map(|name| format!("/uploads/{}", thumb_name(&name)));
    if !auction_ids.is_empty() {
        for (id, title, seller_id, image) in auctions::table
            .filter(auctions::id.eq_any(auction_ids))
            .select((
                auctions::id,
                auctions::title,
                auctions::seller_id,
                auctions::image_name,
            ))
            .load::<(i64, String, i64, Option<String>)>(conn)?
        {
            let item = TradeItem::Auction(id);
            out.insert(
                item,
                ListingInfo {
                    item,
                    title,
                    seller_id,
                    thumb_url: thumb(image),
                },
            );
        }
    }
    if !product_ids.is_empty() {
        for (id, title, seller_id, image) in products::table
            .filter(products::id.eq_any(product_ids))
            .select((
                products::id,
                products::name,
                products::seller_id,
                products::image_path,
            ))
            .load::<(i64, String, i64, Option<String>)>(conn)?
        {
            let item = TradeItem::Product(id);
            out.insert(
                item,
                ListingInfo {
                    item,
                    title,
                    seller_id,
                    thumb_url: thumb(image),
                },
            );
        }
    }
    Ok(out)
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

// ---------------------------------------------------------------- open

#[derive(Debug, thiserror::Error)]
pub enum OpenChatError {
    #[error("No such listing.")]
    NotFound,
    #[error("This is your own listing: neighbours who write to you about it are in your chats.")]
    OwnListing,
    #[error("Sorry, this member does not take messages from you.")]
    Blocked,
    #[error("You blocked this member: unblock them on their profile to chat again.")]
    YouBlocked,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
crate::unexpected_error!(OpenChatError);

impl OpenChatError {
    /// The translation key of the reason shown to the member.
    pub fn key(&self) -> &'static str {
        match self {
            OpenChatError::OwnListing => "chat.error_own_listing",
            OpenChatError::Blocked => "chat.error_blocked",
            OpenChatError::YouBlocked => "chat.error_you_blocked",
            OpenChatError::NotFound | OpenChatError::Unexpected(_) => "chat.error_generic",
        }
    }

    /// The reason in the reader's language; `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        Msg::new(self.key())
    }
}

/// Open (or find) the conversation between `me` and the seller of `item`: created once, even
/// when several requests ask at the same moment (the unique indexes `chats_*_once`). Returns its
/// id.
#[tracing::instrument(skip(conn), fields(user.id = me))]
pub fn open(conn: &mut DbConnection, me: UserId, item: TradeItem) -> Result<i64, OpenChatError> {
    const SQL: &str = "INSERT INTO chats (product_id, auction_id, seller_id, neighbour_id, created_at, last_message_at) \
        VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING";
    write_tx(conn, |conn| {
        let listing = listing_info(conn, item)?.ok_or(OpenChatError::NotFound)?;
        let seller = listing.seller_id;
        if seller == me {
            return Err(OpenChatError::OwnListing);
        }
        if has_blocked(conn, seller, me)? {
            return Err(OpenChatError::Blocked);
        }
        if has_blocked(conn, me, seller)? {
            return Err(OpenChatError::YouBlocked);
        }
        let (product, auction) = match item {
            TradeItem::Product(p) => (Some(p), None),
            TradeItem::Auction(a) => (None, Some(a)),
        };
        let at = now();
        macro_rules! insert {
            ($c:expr, $sql:expr) => {
                diesel::sql_query($sql)
                    .bind::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>, _>(product)
                    .bind::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>, _>(auction)
                    .bind::<diesel::sql_types::BigInt, _>(seller)
                    .bind::<diesel::sql_types::BigInt, _>(me)
                    .bind::<diesel::sql_types::Timestamp, _>(at)
                    .execute($c)
            };
        }
        match conn {
            DbConnection::Pg(c) => insert!(c, SQL)?,
            DbConnection::Sqlite(c) => insert!(c, SQL.replace('$', "?"))?,
        };
        let query = chats::table
            .filter(chats::neighbour_id.eq(me))
            .select(chats::id);
        let id = match item {
            TradeItem::Product(p) => query.filter(chats::product_id.eq(p)).first(conn)?,
            TradeItem::Auction(a) => query.filter(chats::auction_id.eq(a)).first(conn)?,
        };
        Ok(id)
    })
}

// ---------------------------------------------------------------- read

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

fn find_chat(conn: &mut DbConnection, id: i64) -> QueryResult<Option<ChatRow>> {
    chats::table
        .find(id)
        .select(ChatRow::as_select())
        .first(conn)
        .optional()
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

// ---------------------------------------------------------------- send

#[derive(Debug, thiserror::Error)]
pub enum SendMessageError {
    #[error("No such conversation.")]
    NotFound,
    #[error("Only the two people in a conversation can read and write it.")]
    NotAllowed,
    #[error("Sorry, this member does not take messages from you.")]
    Blocked,
    #[error("You blocked this member: unblock them on their profile to chat again.")]
    YouBlocked,
    #[error("You are sending messages too fast: at most {per_minute} a minute. Wait a moment and try again.")]
    TooFast { per_minute: u32 },
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
crate::unexpected_error!(SendMessageError);

impl SendMessageError {
    /// The translation key of the reason shown to the member (`%{n}`: the limit).
    pub fn key(&self) -> &'static str {
        match self {
            SendMessageError::Blocked => "chat.error_blocked",
            SendMessageError::YouBlocked => "chat.error_you_blocked",
            SendMessageError::TooFast { .. } => "chat.error_too_fast",
            SendMessageError::NotAllowed => "chat.error_not_allowed",
            SendMessageError::NotFound | SendMessageError::Unexpected(_) => "chat.error_generic",
        }
    }

    /// The reason in the reader's language; `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            SendMessageError::TooFast { per_minute } => Msg::new(self.key()).arg("n", per_minute),
            _ => Msg::new(self.key()),
        }
    }
}

/// `me` writes `body` in conversation `id`. At most `per_minute` messages a minute per member.
/// The other side is told with one notification per conversation while it is unread. Both
/// sides' pages hear of it after commit.
#[tracing::instrument(skip(conn, body), fields(user.id = me, chat.id = id))]
pub fn send(
    conn: &mut DbConnection,
    me: UserId,
    id: i64,
    body: &ChatBody,
    per_minute: u32,
) -> Result<Message, SendMessageError> {
    write_tx(conn, |conn| {
        // The conversation's row first: its sends (and their one notification) go one at a time.
        let chat: ChatRow =
            crate::first_for_update!(conn, chats::table.find(id).select(ChatRow::as_select()))?
                .ok_or(SendMessageError::NotFound)?;
        if !chat.is_side(me) {
            return Err(SendMessageError::NotAllowed);
        }
        let other = chat.other(me);
        if has_blocked(conn, other, me)? {
            return Err(SendMessageError::Blocked);
        }
        if has_blocked(conn, me, other)? {
            return Err(SendMessageError::YouBlocked);
        }
        // The member's row: their sends in different conversations count one at a time.
        crate::db::lock_user(conn, me)?;
        let at = now();
        let recent: i64 = chat_messages::table
            .filter(chat_messages::sender_id.eq(me))
            .filter(chat_messages::created_at.gt(at - chrono::TimeDelta::minutes(1)))
            .count()
            .get_result(conn)?;
        if recent >= i64::from(per_minute) {
            return Err(SendMessageError::TooFast { per_minute });
        }
        let message_id: i64 = diesel::insert_into(chat_messages::table)
            .values((
                chat_messages::chat_id.eq(id),
                chat_messages::sender_id.eq(me),
                chat_messages::body.eq(body.as_str()),
                chat_messages::created_at.eq(at),
            ))
            .returning(chat_messages::id)
            .get_result(conn)?;
        let message = Message {
            id: message_id,
            chat_id: id,
            sender_id: me,
            body: body.as_str().to_owned(),
            created_at: at,
        };
        let update = diesel::update(chats::table.find(id));
        if me == chat.seller_id {
            update
                .set((
                    chats::last_message_id.eq(message.id),
                    chats::last_message_at.eq(at),
                    chats::seller_read_id.eq(message.id),
                ))
                .execute(conn)?;
        } else {
            update
                .set((
                    chats::last_message_id.eq(message.id),
                    chats::last_message_at.eq(at),
                    chats::neighbour_read_id.eq(message.id),
                ))
                .execute(conn)?;
        }
        let told: bool =
            diesel::select(diesel::dsl::exists(unread_chat_notes(id, other))).get_result(conn)?;
        if !told {
            let title = match chat.item() {
                Some(item) => listing_info(conn, item)?.map(|l| l.title),
                None => None,
            };
            notify::notify(
                conn,
                other,
                &Notice::chat(id, title.as_deref().unwrap_or("")),
            )?;
        } else {
            crate::db::signal_user(conn, other)?;
        }
        crate::db::signal_user(conn, me)?;
        Ok(message)
    })
}

// ---------------------------------------------------------------- list

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

// ---------------------------------------------------------------- block

#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    #[error("No such member.")]
    NotFound,
    #[error("You cannot block yourself.")]
    Yourself,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
crate::unexpected_error!(BlockError);

/// `me` blocks (`block = true`) or unblocks `other`. Doing it twice changes nothing.
#[tracing::instrument(skip(conn), fields(user.id = me, other.id = other))]
pub fn set_block(
    conn: &mut DbConnection,
    me: UserId,
    other: UserId,
    block: bool,
) -> Result<(), BlockError> {
    if me == other {
        return Err(BlockError::Yourself);
    }
    let done = write_tx(conn, |conn| {
        let exists: bool =
            diesel::select(diesel::dsl::exists(users::table.find(other))).get_result(conn)?;
        if !exists {
            return Err(BlockError::NotFound);
        }
        let already = has_blocked(conn, me, other)?;
        if block && !already {
            diesel::insert_into(user_blocks::table)
                .values((
                    user_blocks::blocker_id.eq(me),
                    user_blocks::blocked_id.eq(other),
                    user_blocks::created_at.eq(now()),
                ))
                .execute(conn)?;
        } else if !block && already {
            diesel::delete(
                user_blocks::table
                    .filter(user_blocks::blocker_id.eq(me))
                    .filter(user_blocks::blocked_id.eq(other)),
            )
            .execute(conn)?;
        }
        Ok(())
    });
    match done {
        // The same block, inserted at the same moment by another request: done either way.
        Err(BlockError::Unexpected(e))
            if e.downcast_ref::<diesel::result::Error>()
                .is_some_and(crate::db::is_unique_violation) =>
        {
            Ok(())
        }
        other => other,
    }
}

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

impl BlockError {
    /// The reason in the reader's language; `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            BlockError::Yourself => Msg::new("chat.error_block_self"),
            BlockError::NotFound | BlockError::Unexpected(_) => Msg::new("chat.error_generic"),
        }
    }
}
