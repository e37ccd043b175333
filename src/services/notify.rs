//! The notification centre (issue 13 item 7). A use case tells a member what happened to them
//! with one call, [`notify`], inside its own transaction: the row commits (or rolls back) with
//! the change it reports, and the member's open pages hear of it after commit (the per-member
//! signal, [`crate::db::signal_user`]).
//!
//! Rows store what happened — a [`NotificationKind`] and the ids, title and amount it is about
//! — never a sentence; `views::notification` writes the sentence when it is shown.
//!
//! Wiring a new event is one line in its use case, e.g. a dispute opened by the buyer:
//!
//! ```ignore
//! notify::notify(conn, trade.seller_id, &Notice::trade(NotificationKind::TradeDisputed, trade.id, product_id, &name, Some(price)))?;
//! ```

use crate::domain::msg::Msg;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::notifications;
use crate::db::{write_tx, DbConnection};
use crate::domain::auction::AuctionStatus;
use crate::domain::notification::NotificationKind;
use crate::domain::{UserId, Won};
use crate::services::now;

/// Notifications per page of `/notifications`.
pub const PER_PAGE: i64 = 20;

/// "Ending soon" goes out this long before an auction's end.
pub const ENDING_SOON: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// What to tell a member: the kind and what it is about.
#[derive(Debug, Clone)]
pub struct Notice {
    pub kind: NotificationKind,
    pub auction_id: Option<i64>,
    pub product_id: Option<i64>,
    pub trade_id: Option<i64>,
    pub merchant_uid: Option<String>,
    pub payout_id: Option<i64>,
    /// The auction's title or the product's name, as it was.
    pub title: Option<String>,
    pub amount: Option<Won>,
    /// The conversation of a new chat message.
    pub chat_id: Option<i64>,
}

impl Notice {
    fn of(kind: NotificationKind) -> Notice {
        Notice {
            kind,
            auction_id: None,
            product_id: None,
            trade_id: None,
            merchant_uid: None,
            payout_id: None,
            title: None,
            amount: None,
            chat_id: None,
        }
    }

    /// A new message in conversation `chat_id` about the listing titled `title`.
    pub fn chat(chat_id: i64, title: &str) -> Notice {
        Notice {
            chat_id: Some(chat_id),
            title: Some(title.to_owned()),
            ..Notice::of(NotificationKind::ChatMessage)
        }
    }

    /// About an auction (outbid, won, sold, no sale, reserve, ending soon).
    pub fn auction(
        kind: NotificationKind,
        auction_id: i64,
        title: &str,
        amount: Option<Won>,
    ) -> Notice {
        Notice {
            auction_id: Some(auction_id),
            title: Some(title.to_owned()),
            amount,
            ..Notice::of(kind)
        }
    }

    /// About a market trade of a product (requested … confirmed, disputed, resolved).
    pub fn trade(
        kind: NotificationKind,
        trade_id: i64,
        product_id: i64,
        name: &str,
        amount: Option<Won>,
    ) -> Notice {
        Notice {
            trade_id: Some(trade_id),
            product_id: Some(product_id),
            title: Some(name.to_owned()),
            amount,
            ..Notice::of(kind)
        }
    }

    /// About a trade that came from an auction (buyer protection: disputes on auction wins).
    pub fn auction_trade(
        kind: NotificationKind,
        trade_id: i64,
        auction_id: i64,
        title: &str,
        amount: Option<Won>,
    ) -> Notice {
        Notice {
            trade_id: Some(trade_id),
            ..Notice::auction(kind, auction_id, title, amount)
        }
    }

    /// About a PortOne payment (paid, account issued, expired, refunded).
    pub fn payment(kind: NotificationKind, merchant_uid: &str, amount: Option<Won>) -> Notice {
        Notice {
            merchant_uid: Some(merchant_uid.to_owned()),
            amount,
            ..Notice::of(kind)
        }
    }

    /// About a payout (done, rejected).
    pub fn payout(kind: NotificationKind, payout_id: i64, amount: Won) -> Notice {
        Notice {
            payout_id: Some(payout_id),
            amount: Some(amount),
            ..Notice::of(kind)
        }
    }
}

/// Tell `user_id` about `notice`, inside the caller's transaction: the row commits with the
/// change it reports, and the member's open pages get the new unread count after commit.
pub fn notify(conn: &mut DbConnection, user_id: UserId, notice: &Notice) -> QueryResult<()> {
    diesel::insert_into(notifications::table)
        .values((
            notifications::user_id.eq(user_id),
            notifications::kind.eq(notice.kind.as_str()),
            notifications::auction_id.eq(notice.auction_id),
            notifications::product_id.eq(notice.product_id),
            notifications::trade_id.eq(notice.trade_id),
            notifications::merchant_uid.eq(notice.merchant_uid.as_deref()),
            notifications::payout_id.eq(notice.payout_id),
            notifications::title.eq(notice.title.as_deref()),
            notifications::amount.eq(notice.amount.map(Won::get)),
            notifications::created_at.eq(now()),
            notifications::chat_id.eq(notice.chat_id),
        ))
        .execute(conn)?;
    crate::db::signal_user(conn, user_id)
}

/// "You were outbid" to the leader a bid or buy-now displaced (`None`, or the bidder
/// themself: nobody to tell). `price` is the auction's new price.
pub fn outbid(
    conn: &mut DbConnection,
    previous_leader: Option<UserId>,
    auction_id: i64,
    title: &str,
    price: Won,
) -> QueryResult<()> {
    match previous_leader {
        Some(user) => notify(
            conn,
            user,
            &Notice::auction(NotificationKind::Outbid, auction_id, title, Some(price)),
        ),
        None => Ok(()),
    }
}

/// The outcome of auction `a` (closed, or bought now), to its seller and to `leader` — the
/// winner, or the leading bidder below the reserve: `won`/`sold`, `no_sale`, or
/// `bid_below_reserve`/`reserve_not_met`, with the final `price`. Other statuses tell nobody.
pub fn auction_ended(
    conn: &mut DbConnection,
    a: &crate::services::auctions::Auction,
    leader: Option<UserId>,
    status: AuctionStatus,
    price: Won,
) -> QueryResult<()> {
    let about = |kind| Notice::auction(kind, a.id, &a.title, Some(price));
    match (status, leader) {
        (AuctionStatus::Sold, Some(winner)) => {
            notify(conn, winner, &about(NotificationKind::Won))?;
            notify(conn, a.seller_id, &about(NotificationKind::Sold))
        }
        (AuctionStatus::NoBids, _) => notify(
            conn,
            a.seller_id,
            &Notice::auction(NotificationKind::NoSale, a.id, &a.title, None),
        ),
        (AuctionStatus::ReserveNotMet, Some(leader)) => {
            notify(conn, leader, &about(NotificationKind::BidBelowReserve))?;
            notify(conn, a.seller_id, &about(NotificationKind::ReserveNotMet))
        }
        _ => Ok(()),
    }
}

/// One stored notification.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    pub auction_id: Option<i64>,
    pub product_id: Option<i64>,
    pub trade_id: Option<i64>,
    pub merchant_uid: Option<String>,
    pub payout_id: Option<i64>,
    pub title: Option<String>,
    pub amount: Option<i64>,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
    pub chat_id: Option<i64>,
}

impl Notification {
    /// `None` for a kind this build does not know (written by a newer one).
    pub fn kind(&self) -> Option<NotificationKind> {
        NotificationKind::parse(&self.kind)
    }

    pub fn amount(&self) -> Option<Won> {
        self.amount.map(Won::from_stored)
    }

    pub fn is_unread(&self) -> bool {
        self.read_at.is_none()
    }
}

/// One page of a member's notifications, newest first, and how many there are in all.
pub fn page_of(
    conn: &mut DbConnection,
    user_id: UserId,
    page: i64,
) -> QueryResult<(Vec<Notification>, i64)> {
    let total: i64 = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    let rows = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .order(notifications::id.desc())
        .limit(PER_PAGE)
        .offset((page - 1).max(0) * PER_PAGE)
        .select(Notification::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// How many of a member's notifications are unread (the partial index `notifications_unread_idx`).
pub fn unread_count(conn: &mut DbConnection, user_id: UserId) -> QueryResult<i64> {
    notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)
}

/// The member's newest unread notification.
pub fn newest_unread(
    conn: &mut DbConnection,
    user_id: UserId,
) -> QueryResult<Option<Notification>> {
    notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .order(notifications::id.desc())
        .select(Notification::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, thiserror::Error)]
pub enum OpenNotificationError {
    /// No such notification, or not the member's own.
    #[error("No such notification.")]
    NotFound,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl OpenNotificationError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.open_notification.not_found"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(OpenNotificationError);

/// Open one of the member's notifications: it is marked read (once) and returned, for its link.
/// Another member's notification is [`OpenNotificationError::NotFound`], as a missing one is.
#[tracing::instrument(skip(conn), fields(user.id = user_id, notification.id = id))]
pub fn open(
    conn: &mut DbConnection,
    user_id: UserId,
    id: i64,
) -> Result<Notification, OpenNotificationError> {
    write_tx(conn, |conn| {
        let n = notifications::table
            .filter(notifications::id.eq(id))
            .filter(notifications::user_id.eq(user_id))
            .select(Notification::as_select())
            .first(conn)
            .optional()?
            .ok_or(OpenNotificationError::NotFound)?;
        if n.is_unread() {
            diesel::update(notifications::table.find(id))
                .set(notifications::read_at.eq(Some(now())))
                .execute(conn)?;
            crate::db::signal_user(conn, user_id)?;
        }
        Ok(n)
    })
}

/// Mark every notification of the member read. Returns how many were unread.
#[tracing::instrument(skip(conn), fields(user.id = user_id))]
pub fn mark_all_read(conn: &mut DbConnection, user_id: UserId) -> anyhow::Result<usize> {
    write_tx(conn, |conn| {
        let n = diesel::update(
            notifications::table
                .filter(notifications::user_id.eq(user_id))
                .filter(notifications::read_at.is_null()),
        )
        .set(notifications::read_at.eq(Some(now())))
        .execute(conn)?;
        if n > 0 {
            crate::db::signal_user(conn, user_id)?;
        }
        Ok(n)
    })
}

/// What the header shows a member: unread notifications and available money (one query).
pub fn header_figures(conn: &mut DbConnection, user_id: UserId) -> QueryResult<Option<(i64, Won)>> {
    use crate::db::schema::wallets;
    let unread = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .count()
        .single_value();
    let row: Option<(Option<i64>, i64)> = wallets::table
        .filter(wallets::user_id.eq(user_id))
        .select((unread, wallets::balance))
        .first(conn)
        .optional()?;
    Ok(row.map(|(n, balance)| (n.unwrap_or(0), Won::from_stored(balance))))
}

/// "Ending in 10 minutes": tell every member who bid on or watches an active auction ending
/// within [`ENDING_SOON`] (its seller aside), once per member and auction. One statement claims
/// the rows: the unique index `notifications_ending_soon_once` makes a second process's insert
/// of the same (auction, member) do nothing, so several schedulers never notify twice. Returns
/// how many members were told now.
pub fn notify_ending_soon(conn: &mut DbConnection, at: NaiveDateTime) -> anyhow::Result<usize> {
    #[derive(QueryableByName)]
    struct Told {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        user_id: i64,
    }
    const SQL: &str = "\
        WITH due AS (\
            SELECT id, title, current_price, seller_id FROM auctions \
            WHERE status = 'active' AND ends_at > $1 AND ends_at <= $2), \
        who AS (\
            SELECT b.auction_id, b.bidder_id AS user_id FROM bids b JOIN due ON due.id = b.auction_id \
            UNION \
            SELECT w.auction_id, w.user_id FROM watchlist w JOIN due ON due.id = w.auction_id) \
        INSERT INTO notifications (user_id, kind, auction_id, title, amount, created_at) \
        SELECT who.user_id, 'ending_soon', due.id, due.title, due.current_price, $1 \
        FROM who JOIN due ON due.id = who.auction_id \
        WHERE who.user_id <> due.seller_id AND NOT EXISTS (\
            SELECT 1 FROM notifications n WHERE n.kind = 'ending_soon' \
            AND n.auction_id = due.id AND n.user_id = who.user_id) \
        ON CONFLICT DO NOTHING \
        RETURNING user_id";
    let until = at + ENDING_SOON;
    // Most passes find no auction in the window: then no write transaction at all.
    let any_due: Option<i64> = crate::db::schema::auctions::table
        .filter(crate::db::schema::auctions::status.eq("active"))
        .filter(crate::db::schema::auctions::ends_at.gt(at))
        .filter(crate::db::schema::auctions::ends_at.le(until))
        .select(crate::db::schema::auctions::id)
        .first(conn)
        .optional()?;
    if any_due.is_none() {
        return Ok(0);
    }
    write_tx(conn, |conn| {
        let told: Vec<Told> = match conn {
            DbConnection::Pg(c) => diesel::sql_query(SQL)
                .bind::<diesel::sql_types::Timestamp, _>(at)
                .bind::<diesel::sql_types::Timestamp, _>(until)
                .load(c)?,
            DbConnection::Sqlite(c) => diesel::sql_query(SQL.replace('$', "?"))
                .bind::<diesel::sql_types::Timestamp, _>(at)
                .bind::<diesel::sql_types::Timestamp, _>(until)
                .load(c)?,
        };
        for t in &told {
            crate::db::signal_user(conn, t.user_id)?;
        }
        Ok::<_, anyhow::Error>(told.len())
    })
}
