//! Buyer protection: the part of a trade after the sale is agreed, one flow for the market and
//! for auctions. A market trade gets here when the seller approves it; a won auction (closed by
//! the scheduler or an admin, or bought now) becomes a trade here in the transaction that
//! closes it ([`open_auction_trade`]). The buyer's money stays held until the buyer confirms
//! receipt, or the scheduler does once the auto-confirm time passes ([`confirm`]); only then is
//! the seller paid. Before that either side may open a dispute ([`open_dispute`]), which stops
//! the clock; an admin resolves it by refunding the buyer or paying the seller
//! ([`resolve_dispute`]).
//!
//! Every step is one [`write_tx`] that locks the trade's product or auction row first, reads
//! the trade again under that lock, then locks the wallets in ascending user id: a confirm and
//! a resolve racing for one trade run one after the other, and the second finds it settled.
//!
//! The journal keeps the kinds each side already used: a market trade moves `purchase_*`
//! entries under `trade #id`; an auction trade keeps the winner's `bid_hold` until it is paid
//! out as `settle_out`/`settle_in` (or given back as `bid_release`) under `auction #id`.

use crate::domain::msg::Msg;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::once::{self, OnceKey};
use crate::db::schema::{auctions, products, trade_disputes, trades};
use crate::db::{lock_wallets, write_tx, DbConnection};
use crate::domain::market::{Reason, Resolution, TradeId, TradeStatus};
use crate::domain::notification::NotificationKind;
use crate::domain::{LedgerKind, UserId, Won};
use crate::services::notify::{self, Notice};
use crate::services::now;
use crate::services::wallet::move_money;

use super::*;

/// What a trade is for: a market product, or a won auction. Its page is where the trade is
/// shown and where its steps lead back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum TradeItem {
    Product(i64),
    Auction(i64),
}

impl TradeItem {
    pub fn of(trade: &TradeRow) -> Option<TradeItem> {
        match (trade.product_id, trade.auction_id) {
            (Some(p), None) => Some(TradeItem::Product(p)),
            (None, Some(a)) => Some(TradeItem::Auction(a)),
            _ => None,
        }
    }

    /// The page of the product or the auction.
    pub fn path(self) -> String {
        match self {
            TradeItem::Product(id) => format!("/market/{id}"),
            TradeItem::Auction(id) => format!("/auctions/{id}"),
        }
    }
}

/// Lock a trade's product or auction row (the first lock of the transaction), then read the
/// trade again under it. The product comes back when the trade is a market one.
fn lock_any_trade(
    conn: &mut DbConnection,
    id: TradeId,
) -> QueryResult<Option<(Option<ProductRow>, TradeRow)>> {
    let Some(item) = find_trade(conn, id)?.as_ref().and_then(TradeItem::of) else {
        return Ok(None);
    };
    let product = match item {
        TradeItem::Product(p) => match lock_product(conn, p)? {
            Some(row) => Some(row),
            None => return Ok(None),
        },
        TradeItem::Auction(a) => {
            let locked: Option<i64> =
                crate::first_for_update!(conn, auctions::table.find(a).select(auctions::id))?;
            if locked.is_none() {
                return Ok(None);
            }
            None
        }
    };
    Ok(find_trade(conn, id)?.map(|trade| (product, trade)))
}

/// A notification of `kind` about `trade`, named after its product or auction.
fn notice(
    conn: &mut DbConnection,
    kind: NotificationKind,
    item: TradeItem,
    trade: &TradeRow,
) -> QueryResult<Notice> {
    let amount = Some(Won::from_stored(trade.price));
    Ok(match item {
        TradeItem::Product(p) => {
            let name: String = products::table.find(p).select(products::name).first(conn)?;
            Notice::trade(kind, trade.id, p, &name, amount)
        }
        TradeItem::Auction(a) => {
            let title: String = auctions::table
                .find(a)
                .select(auctions::title)
                .first(conn)?;
            Notice::auction_trade(kind, trade.id, a, &title, amount)
        }
    })
}

fn auction_reference(auction_id: i64) -> String {
    format!("auction #{auction_id}")
}

/// The held price goes to the seller: a market trade as `purchase_out`/`purchase_in`, an
/// auction's as `settle_out`/`settle_in` (the winner's bid hold paid out).
fn pay_out(conn: &mut DbConnection, item: TradeItem, trade: &TradeRow) -> QueryResult<()> {
    match item {
        TradeItem::Product(_) => {
            pay_seller(conn, trade.id, trade.buyer_id, trade.seller_id, trade.price)
        }
        TradeItem::Auction(a) => {
            move_money(
                conn,
                trade.buyer_id,
                LedgerKind::SettleOut,
                0,
                -trade.price,
                auction_reference(a),
            )?;
            move_money(
                conn,
                trade.seller_id,
                LedgerKind::SettleIn,
                trade.price,
                0,
                auction_reference(a),
            )
        }
    }
}

/// The held price goes back to the buyer: a market trade's as `purchase_release` (and, paid
/// by card or virtual account, held again for the refund to PortOne); an auction's as
/// `bid_release`. True when a refund to PortOne is now pending.
fn give_back(conn: &mut DbConnection, item: TradeItem, trade: &TradeRow) -> QueryResult<bool> {
    match item {
        TradeItem::Product(_) => {
            release(conn, trade.id, trade.buyer_id, trade.price)?;
            hold_card_refund(conn, trade.id)
        }
        TradeItem::Auction(a) => {
            move_money(
                conn,
                trade.buyer_id,
                LedgerKind::BidRelease,
                trade.price,
                -trade.price,
                auction_reference(a),
            )?;
            Ok(false)
        }
    }
}

// ---------------------------------------------------------------- a won auction

/// Inside the transaction that closes an auction (or buys it now): the winner's `price` is
/// held in their wallet, and the trade that keeps it there until receipt is confirmed starts
/// now, confirmed automatically after `auto_confirm`.
pub fn open_auction_trade(
    conn: &mut DbConnection,
    auction_id: i64,
    buyer: UserId,
    seller: UserId,
    price: i64,
    at: NaiveDateTime,
    auto_confirm: Duration,
) -> QueryResult<TradeId> {
    let period = chrono::TimeDelta::from_std(auto_confirm).unwrap_or(chrono::TimeDelta::days(7));
    diesel::insert_into(trades::table)
        .values((
            trades::auction_id.eq(Some(auction_id)),
            trades::buyer_id.eq(buyer),
            trades::seller_id.eq(seller),
            trades::price.eq(price),
            trades::status.eq(TradeStatus::Approved.as_str()),
            trades::created_at.eq(at),
            trades::approved_at.eq(Some(at)),
            trades::auto_confirm_at.eq(Some(at + period)),
            trades::quantity.eq(1),
        ))
        .returning(trades::id)
        .get_result(conn)
}

/// The trade of a sold auction, if any.
pub fn trade_of_auction(conn: &mut DbConnection, auction_id: i64) -> QueryResult<Option<TradeRow>> {
    trades::table
        .filter(trades::auction_id.eq(auction_id))
        .select(TradeRow::as_select())
        .first(conn)
        .optional()
}

// ---------------------------------------------------------------- confirm receipt

/// Who confirms: the buyer, or the scheduler once the auto-confirm time has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmer {
    Buyer(UserId),
    Scheduler,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error("This trade does not exist.")]
    NotFound,
    #[error("Only the buyer can confirm this trade.")]
    NotBuyer,
    #[error("This trade is waiting for the seller's approval; it can be confirmed once approved.")]
    NotApproved,
    #[error("This purchase is not paid yet; it can be confirmed once it is paid and the seller approves it.")]
    NotPaid,
    #[error("This trade is already settled.")]
    Settled,
    #[error("This trade is not due for automatic confirmation yet.")]
    NotDue,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl ConfirmError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.no_such_trade"),
            Self::NotBuyer => Msg::new("err.confirm.not_buyer"),
            Self::NotApproved => Msg::new("err.confirm.not_approved"),
            Self::NotPaid => Msg::new("err.confirm.not_paid"),
            Self::Settled => Msg::new("err.confirm.settled"),
            Self::NotDue => Msg::new("err.confirm.not_due"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(ConfirmError);

/// Confirm receipt: the held price leaves the buyer's locked money and arrives in the seller's
/// balance. The buyer may confirm a disputed trade too (they received it after all, which ends
/// the dispute); the scheduler never confirms a disputed one. Returns the trade's item.
#[tracing::instrument(skip(conn), fields(trade.id = trade_id))]
pub fn confirm(
    conn: &mut DbConnection,
    trade_id: TradeId,
    by: Confirmer,
) -> Result<TradeItem, ConfirmError> {
    write_tx(conn, |conn| {
        let (product, trade) = lock_any_trade(conn, trade_id)?.ok_or(ConfirmError::NotFound)?;
        let item = TradeItem::of(&trade).ok_or(ConfirmError::NotFound)?;
        let at = now();
        match by {
            Confirmer::Buyer(user) if user != trade.buyer_id => return Err(ConfirmError::NotBuyer),
            Confirmer::Buyer(_) => {}
            Confirmer::Scheduler => {
                if trade.status() != Some(TradeStatus::Approved)
                    || trade.auto_confirm_at.is_none_or(|due| due > at)
                {
                    return Err(ConfirmError::NotDue);
                }
            }
        }
        match trade.status() {
            Some(TradeStatus::Approved | TradeStatus::Disputed) => {}
            Some(TradeStatus::Requested) => return Err(ConfirmError::NotApproved),
            Some(TradeStatus::AwaitingPayment) => return Err(ConfirmError::NotPaid),
            _ => return Err(ConfirmError::Settled),
        }
        lock_wallets(conn, &[trade.buyer_id, trade.seller_id])?;
        diesel::update(trades::table.find(trade_id))
            .set((
                trades::status.eq(TradeStatus::Confirmed.as_str()),
                trades::confirmed_at.eq(at),
            ))
            .execute(conn)?;
        pay_out(conn, item, &trade)?;
        if let Some(p) = product {
            update_units_and_status(conn, p.id, p.units_left)?;
        }
        // The buyer confirmed: the seller hears of it; the site confirmed: both do.
        if by == Confirmer::Scheduler {
            let auto = notice(conn, NotificationKind::TradeAutoConfirmed, item, &trade)?;
            notify::notify(conn, trade.buyer_id, &auto)?;
            notify::notify(conn, trade.seller_id, &auto)?;
        } else {
            let confirmed = notice(conn, NotificationKind::TradeConfirmed, item, &trade)?;
            notify::notify(conn, trade.seller_id, &confirmed)?;
        }
        Ok(item)
    })
}

/// Confirm every trade waiting for receipt whose auto-confirm time has passed (market and
/// auction alike; a disputed one waits for its admin), each in its own transaction. Returns
/// how many were confirmed now.
#[tracing::instrument(skip_all)]
pub fn confirm_due_trades(conn: &mut DbConnection) -> anyhow::Result<usize> {
    let due: Vec<i64> = trades::table
        .filter(trades::status.eq(TradeStatus::Approved.as_str()))
        .filter(trades::auto_confirm_at.le(now()))
        .order(trades::auto_confirm_at.asc())
        .limit(100)
        .select(trades::id)
        .load(conn)?;
    let mut confirmed = 0;
    for id in due {
        match confirm(conn, id, Confirmer::Scheduler) {
            Ok(_) => {
                confirmed += 1;
                tracing::info!(trade.id = id, "trade confirmed automatically");
            }
            // The buyer confirmed it, or a side disputed it, in the meantime.
            Err(ConfirmError::Settled | ConfirmError::NotDue | ConfirmError::NotFound) => {}
            Err(e) => return Err(anyhow::Error::new(e)),
        }
    }
    Ok(confirmed)
}

// ---------------------------------------------------------------- dispute

#[derive(Debug, thiserror::Error)]
pub enum DisputeError {
    #[error("This trade does not exist.")]
    NotFound,
    #[error("Only the buyer or the seller of this trade can dispute it.")]
    NotParty,
    #[error("Only a trade waiting for the buyer to confirm receipt can be disputed: before the seller accepts, the buyer can cancel and the seller can reject; after confirmation the money has been paid.")]
    NotOpen,
    #[error("You have already given your side of this dispute; an admin will decide.")]
    AlreadyDisputed,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl DisputeError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.no_such_trade"),
            Self::NotParty => Msg::new("err.dispute.not_party"),
            Self::NotOpen => Msg::new("err.dispute.not_open"),
            Self::AlreadyDisputed => Msg::new("err.dispute.already_disputed"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(DisputeError);

/// The buyer or the seller disputes a trade waiting for receipt, with their reason: the trade
/// stops waiting (no automatic confirmation) until an admin resolves it. The other side may add
/// their own reason to an open dispute. Returns the trade's item.
#[tracing::instrument(skip(conn, reason, key), fields(trade.id = trade_id, user.id = user))]
pub fn open_dispute(
    conn: &mut DbConnection,
    trade_id: TradeId,
    user: UserId,
    reason: &Reason,
    key: Option<&OnceKey>,
) -> Result<TradeItem, DisputeError> {
    write_tx(conn, |conn| {
        once::run(conn, key, |conn| {
            let (_, trade) = lock_any_trade(conn, trade_id)?.ok_or(DisputeError::NotFound)?;
            let item = TradeItem::of(&trade).ok_or(DisputeError::NotFound)?;
            if user != trade.buyer_id && user != trade.seller_id {
                return Err(DisputeError::NotParty);
            }
            let at = now();
            match trade.status() {
                Some(TradeStatus::Approved) => {
                    diesel::update(trades::table.find(trade_id))
                        .set((
                            trades::status.eq(TradeStatus::Disputed.as_str()),
                            trades::disputed_at.eq(Some(at)),
                        ))
                        .execute(conn)?;
                }
                Some(TradeStatus::Disputed) => {
                    let mine: i64 = trade_disputes::table
                        .filter(trade_disputes::trade_id.eq(trade_id))
                        .filter(trade_disputes::user_id.eq(user))
                        .count()
                        .get_result(conn)?;
                    if mine > 0 {
                        return Err(DisputeError::AlreadyDisputed);
                    }
                }
                _ => return Err(DisputeError::NotOpen),
            }
            diesel::insert_into(trade_disputes::table)
                .values((
                    trade_disputes::trade_id.eq(trade_id),
                    trade_disputes::user_id.eq(user),
                    trade_disputes::reason.eq(reason.as_str()),
                    trade_disputes::created_at.eq(at),
                ))
                .execute(conn)?;
            // The other side hears of it (and reads the reason on the trade's page).
            let other = if user == trade.buyer_id {
                trade.seller_id
            } else {
                trade.buyer_id
            };
            let disputed = notice(conn, NotificationKind::TradeDisputed, item, &trade)?;
            notify::notify(conn, other, &disputed)?;
            Ok(item)
        })
    })
}

// ---------------------------------------------------------------- resolve

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("This trade does not exist.")]
    NotFound,
    #[error("This trade has no open dispute any more: it was resolved, or the buyer confirmed receipt. Nothing was changed.")]
    NotDisputed,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl ResolveError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.no_such_trade"),
            Self::NotDisputed => Msg::new("err.resolve.not_disputed"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(ResolveError);

/// What a resolution did.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct Resolved {
    pub item: TradeItem,
    pub outcome: Resolution,
    /// The buyer's money goes back to their card or virtual account: a refund of the trade's
    /// payment is pending, to be sent to PortOne after the commit.
    pub card_refund: bool,
}

/// An admin resolves a disputed trade, with a written reason both sides then read: the held
/// money goes back to the buyer (`refunded`; paid by card or virtual account, the refund goes
/// to PortOne through the refund path every other trade refund takes) or to the seller
/// (`confirmed`). Units of a refunded market trade do not go back on sale (the item may be
/// with the buyer, or broken): the seller lists it again if they still have it.
#[tracing::instrument(skip(conn, reason, key), fields(trade.id = trade_id, user.id = admin))]
pub fn resolve_dispute(
    conn: &mut DbConnection,
    trade_id: TradeId,
    admin: UserId,
    outcome: Resolution,
    reason: &Reason,
    key: Option<&OnceKey>,
) -> Result<Resolved, ResolveError> {
    write_tx(conn, |conn| {
        once::run(conn, key, |conn| {
            let (product, trade) = lock_any_trade(conn, trade_id)?.ok_or(ResolveError::NotFound)?;
            let item = TradeItem::of(&trade).ok_or(ResolveError::NotFound)?;
            if trade.status() != Some(TradeStatus::Disputed) {
                return Err(ResolveError::NotDisputed);
            }
            lock_wallets(conn, &[trade.buyer_id, trade.seller_id])?;
            let at = now();
            let (status, card_refund) = match outcome {
                Resolution::RefundBuyer => (TradeStatus::Refunded, give_back(conn, item, &trade)?),
                Resolution::PaySeller => {
                    pay_out(conn, item, &trade)?;
                    (TradeStatus::Confirmed, false)
                }
            };
            diesel::update(trades::table.find(trade_id))
                .set((
                    trades::status.eq(status.as_str()),
                    trades::confirmed_at.eq((status == TradeStatus::Confirmed).then_some(at)),
                    trades::resolution.eq(Some(outcome.as_str())),
                    trades::resolution_reason.eq(Some(reason.as_str())),
                    trades::resolved_by.eq(Some(admin)),
                    trades::resolved_at.eq(Some(at)),
                ))
                .execute(conn)?;
            if let Some(p) = product {
                update_units_and_status(conn, p.id, p.units_left)?;
            }
            let resolved = notice(conn, NotificationKind::TradeResolved, item, &trade)?;
            notify::notify(conn, trade.buyer_id, &resolved)?;
            notify::notify(conn, trade.seller_id, &resolved)?;
            Ok(Resolved {
                item,
                outcome,
                card_refund,
            })
        })
    })
}

// ---------------------------------------------------------------- what the pages show

/// One side's reason in a dispute.
#[derive(Debug, Clone)]
pub struct DisputeNote {
    pub user_id: UserId,
    pub name: String,
    pub reason: String,
    pub at: NaiveDateTime,
}

/// The reasons given in the disputes of `trade_ids`, by trade, oldest first.
pub fn dispute_notes(
    conn: &mut DbConnection,
    trade_ids: &[TradeId],
) -> QueryResult<std::collections::HashMap<TradeId, Vec<DisputeNote>>> {
    use crate::db::schema::users;
    let rows: Vec<(i64, i64, String, String, NaiveDateTime)> = trade_disputes::table
        .inner_join(users::table)
        .filter(trade_disputes::trade_id.eq_any(trade_ids))
        .order(trade_disputes::id.asc())
        .select((
            trade_disputes::trade_id,
            trade_disputes::user_id,
            users::display_name,
            trade_disputes::reason,
            trade_disputes::created_at,
        ))
        .load(conn)?;
    let mut out: std::collections::HashMap<TradeId, Vec<DisputeNote>> = Default::default();
    for (trade, user_id, name, reason, at) in rows {
        out.entry(trade).or_default().push(DisputeNote {
            user_id,
            name,
            reason,
            at,
        });
    }
    Ok(out)
}

/// Most open disputes the admin page lists at once (oldest first).
pub const OPEN_DISPUTES_LIMIT: i64 = 200;

/// Every disputed trade, oldest dispute first, as the admin page shows it.
pub fn open_disputes(conn: &mut DbConnection) -> QueryResult<Vec<TradeView>> {
    let rows = trades::table
        .filter(trades::status.eq(TradeStatus::Disputed.as_str()))
        .order((trades::disputed_at.asc(), trades::id.asc()))
        .limit(OPEN_DISPUTES_LIMIT)
        .select(TradeRow::as_select())
        .load(conn)?;
    trade_views(conn, rows)
}
