//! The end of an auction: the close (a sale becomes a trade), a cancel, and the scheduler's
//! opening of scheduled auctions and list of due ones.

use super::*;
use crate::domain::msg::Msg;

#[derive(Debug, thiserror::Error)]
pub enum CloseError {
    #[error("No such auction.")]
    NotFound,
    #[error("This auction has not reached its end time yet.")]
    NotDue,
    #[error("This auction is already closed.")]
    AlreadyClosed,
    /// Another process is closing it right now (PostgreSQL `SKIP LOCKED`).
    #[error("This auction is being closed by another process.")]
    Busy,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl CloseError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.no_such_auction"),
            Self::NotDue => Msg::new("err.close.not_due"),
            Self::AlreadyClosed => Msg::new("err.already_closed"),
            Self::Busy => Msg::new("err.close.busy"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(CloseError);

/// How an auction closed.
#[derive(Debug, Clone)]
pub struct Closed {
    pub status: AuctionStatus,
    pub event: AuctionEvent,
}

/// Close an auction whose end has passed: with a leader it is sold and becomes a trade (the
/// winner's hold stays held until they confirm receipt, or the scheduler does after
/// `auto_confirm`; only then is the seller paid); without bids it ends with no bids. Closing
/// twice changes nothing.
#[tracing::instrument(skip(conn), fields(auction.id = auction_id))]
pub fn close_auction(
    conn: &mut DbConnection,
    auction_id: i64,
    now: NaiveDateTime,
    auto_confirm: std::time::Duration,
) -> Result<Closed, CloseError> {
    write_tx(conn, |conn| {
        let exists_unlocked = first_for_update!(
            skip_locked,
            conn,
            auctions::table
                .find(auction_id)
                .select(Auction::as_select())
        )?;
        let a = match exists_unlocked {
            Some(a) => a,
            None => {
                let exists = crate::services::auctions::find(conn, auction_id)?;
                return Err(if exists.is_some() {
                    CloseError::Busy
                } else {
                    CloseError::NotFound
                });
            }
        };
        if !a.status().is_open() {
            return Err(CloseError::AlreadyClosed);
        }
        if now < a.ends_at {
            return Err(CloseError::NotDue);
        }
        let event = AuctionEvent::new(auction_id, None);
        events::notify(conn, &event)?;
        let below_reserve = a.reserve_price.is_some_and(|r| a.current_price < r);
        let (status, winner) = match a.leader_id {
            Some(leader) if below_reserve => {
                // No sale below the seller's secret reserve: the highest bid's hold goes back.
                lock_wallets(conn, &[leader])?;
                release(conn, auction_id, leader, a.held())?;
                (AuctionStatus::ReserveNotMet, None)
            }
            Some(leader) => {
                // The winner's hold of the price is the trade's money (the seller is paid on
                // confirmation); what their maximum held beyond the price comes back now.
                if a.held() > a.current_price {
                    lock_wallets(conn, &[leader])?;
                    release(conn, auction_id, leader, a.held() - a.current_price)?;
                }
                market::open_auction_trade(
                    conn,
                    auction_id,
                    leader,
                    a.seller_id,
                    a.current_price,
                    now,
                    auto_confirm,
                )?;
                (AuctionStatus::Sold, Some((leader, a.current_price())))
            }
            None => (AuctionStatus::NoBids, None),
        };
        notify::auction_ended(conn, &a, a.leader_id, status, a.current_price())?;
        diesel::update(auctions::table.find(auction_id))
            .set((
                auctions::status.eq(status.as_str()),
                auctions::winner_id.eq(winner.map(|(w, _)| w)),
                auctions::closed_at.eq(Some(now)),
                auctions::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(Closed { status, event })
    })
}

#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("No such auction.")]
    NotFound,
    #[error("Only the seller or an admin can cancel this auction.")]
    NotAllowed,
    #[error("This auction already has bids; only an admin can cancel it now.")]
    HasBids,
    #[error("This auction is already closed.")]
    AlreadyClosed,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl CancelError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.no_such_auction"),
            Self::NotAllowed => Msg::new("err.cancel.not_allowed"),
            Self::HasBids => Msg::new("err.cancel.has_bids"),
            Self::AlreadyClosed => Msg::new("err.already_closed"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(CancelError);

/// Who is cancelling.
#[derive(Debug, Clone, Copy)]
pub enum Canceller {
    Seller(UserId),
    Admin,
}

/// Cancel an open auction. A seller may only while it has no bids; an admin may any time,
/// and the leader's hold is released.
#[tracing::instrument(skip(conn), fields(auction.id = auction_id))]
pub fn cancel_auction(
    conn: &mut DbConnection,
    uploads: &Path,
    auction_id: i64,
    by: Canceller,
    now: NaiveDateTime,
) -> Result<Cancelled, CancelError> {
    let (cancelled, photo) = write_tx(conn, |conn| {
        let a = lock_auction(conn, auction_id)?.ok_or(CancelError::NotFound)?;
        if let Canceller::Seller(id) = by {
            if a.seller_id != id {
                return Err(CancelError::NotAllowed);
            }
            if a.bid_count > 0 {
                return Err(CancelError::HasBids);
            }
        }
        if !a.status().is_open() {
            return Err(CancelError::AlreadyClosed);
        }
        let event = AuctionEvent::new(auction_id, a.leader_id.map(|l| (l, a.held())));
        events::notify(conn, &event)?;
        let mut released = None;
        if let Some(leader) = a.leader_id {
            lock_wallets(conn, &[leader])?;
            release(conn, auction_id, leader, a.held())?;
            released = Some((leader, Won::from_stored(a.held())));
        }
        diesel::update(auctions::table.find(auction_id))
            .set((
                auctions::status.eq(AuctionStatus::Cancelled.as_str()),
                auctions::closed_at.eq(Some(now)),
                auctions::updated_at.eq(now),
            ))
            .execute(conn)?;
        let photos = crate::services::photos::take_all(
            conn,
            crate::services::photos::Owner::Auction(auction_id),
        )?;
        Ok((Cancelled { released, event }, photos))
    })?;
    // The photos of a cancelled listing go, once the cancel has committed.
    for name in photo {
        images::remove(uploads, &name);
    }
    Ok(cancelled)
}

/// What a committed cancel changed.
#[derive(Debug, Clone)]
pub struct Cancelled {
    /// The leader and the hold released to them.
    pub released: Option<(UserId, Won)>,
    pub event: AuctionEvent,
}

/// Flip scheduled auctions whose start has come to active, in one transaction that sends an
/// event for each (their watchers see bidding open). Returns the events, to publish after commit.
pub fn activate_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> anyhow::Result<Vec<AuctionEvent>> {
    write_tx(conn, |conn| {
        let ids: Vec<i64> = diesel::update(
            auctions::table
                .filter(auctions::status.eq(AuctionStatus::Scheduled.as_str()))
                .filter(auctions::starts_at.le(now)),
        )
        .set((
            auctions::status.eq(AuctionStatus::Active.as_str()),
            auctions::updated_at.eq(now),
        ))
        .returning(auctions::id)
        .get_results(conn)?;
        let mut events = Vec::with_capacity(ids.len());
        for id in ids {
            let event = AuctionEvent::new(id, None);
            events::notify(conn, &event)?;
            events.push(event);
        }
        Ok(events)
    })
}

/// Ids of open auctions whose end has passed, soonest first.
pub fn due_for_close(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    auctions::table
        .filter(auctions::status.eq_any(["scheduled", "active"]))
        .filter(auctions::ends_at.le(now))
        .order(auctions::ends_at.asc())
        .limit(limit)
        .select(auctions::id)
        .load(conn)
}
