//! Money in auctions: bid, buy now, close, cancel. Each is one transaction that locks the
//! auction row first, then the wallets it touches in ascending user id (DESIGN.md §4).

use std::path::Path;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::once::{self, OnceKey};
use crate::db::schema::{auctions, bids};
use crate::db::{lock_wallets, write_tx, DbConnection, WalletRow};
use crate::domain::auction::{window, AmountRule, AuctionStatus, SoftClose, Window};
use crate::domain::{LedgerKind, UserId, Won};
use crate::first_for_update;
use crate::services::auctions::Auction;
use crate::services::events::{self, AuctionEvent};
use crate::services::images;
use crate::services::market;
use crate::services::notify;
use crate::services::wallet::move_money;

/// Why a bid was refused. The text is what the bidder reads, on the page or the socket.
#[derive(Debug, thiserror::Error)]
pub enum PlaceBidError {
    #[error("No such auction.")]
    NotFound,
    #[error("Bidding has not started yet.")]
    NotStarted,
    #[error("This auction has ended.")]
    Ended,
    #[error("You cannot bid on your own auction.")]
    OwnAuction,
    #[error("{}", neighbours_only(.district))]
    NotNeighbour { district: String },
    #[error("Your bid must be at least {minimum}.")]
    TooLow { minimum: Won },
    #[error("You already lead with a maximum of {max}: to raise it, enter more than {max}.")]
    MaxNotHigher { max: Won },
    #[error("Bids go up in steps of {unit}: enter a whole multiple of {unit}.")]
    NotMultiple { unit: Won },
    #[error(
        "You have {available} available, but this bid needs {needed}. Top up your wallet first."
    )]
    InsufficientFunds { available: Won, needed: Won },
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
crate::unexpected_error!(PlaceBidError);

impl From<AmountRule> for PlaceBidError {
    fn from(rule: AmountRule) -> Self {
        match rule {
            AmountRule::TooLow { minimum } => PlaceBidError::TooLow { minimum },
            AmountRule::NotMultiple { unit } => PlaceBidError::NotMultiple { unit },
        }
    }
}

/// Why a member from elsewhere cannot take part in a local auction, in one sentence.
pub fn neighbours_only(district: &str) -> String {
    format!(
        "This is a local auction for neighbours in {district}: only members whose neighbourhood is in {district} can bid or buy. National auctions are open to everyone."
    )
}

/// The district a region lies in (a neighbourhood's parent; a district itself), with its name.
fn district_of(conn: &mut DbConnection, region_id: i64) -> QueryResult<Option<(i64, String)>> {
    use crate::db::schema::regions;
    let Some((level, parent)) = regions::table
        .find(region_id)
        .select((regions::level, regions::parent_id))
        .first::<(i32, Option<i64>)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let district = match level {
        3 => parent,
        2 => Some(region_id),
        _ => None,
    };
    match district {
        Some(id) => regions::table
            .find(id)
            .select((regions::id, regions::full_name))
            .first(conn)
            .optional(),
        None => Ok(None),
    }
}

/// A local auction takes bids and purchases only from members whose neighbourhood lies in the
/// district of the auction's neighbourhood; a national one from everyone. `Err(district)`
/// names the district for the refusal.
fn check_neighbour(
    conn: &mut DbConnection,
    a: &Auction,
    member: UserId,
) -> Result<Result<(), String>, diesel::result::Error> {
    if a.is_national {
        return Ok(Ok(()));
    }
    use crate::db::schema::users;
    let home: i64 = users::table
        .find(member)
        .select(users::region_id)
        .first(conn)?;
    let theirs = district_of(conn, a.region_id)?;
    let mine = district_of(conn, home)?;
    Ok(match theirs {
        Some((id, _)) if mine.as_ref().is_some_and(|(m, _)| *m == id) => Ok(()),
        Some((_, name)) => Err(name),
        // An auction outside any district (not listable today): nobody is turned away.
        None => Ok(()),
    })
}

/// What a committed bid changed (for flashes and live updates).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct BidPlaced {
    /// For the live panel, once committed (it names the outbid bidder and the released hold).
    pub event: AuctionEvent,
    /// Whether the bidder leads now (false: an earlier maximum was higher — outbid at once).
    pub leads: bool,
    /// The auction's price after the bid.
    pub price: Won,
    /// The bidder's maximum.
    pub maximum: Won,
}

fn lock_auction(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Auction>> {
    first_for_update!(conn, auctions::table.find(id).select(Auction::as_select()))
}

fn wallet(rows: &[WalletRow], user_id: UserId) -> Result<&WalletRow, anyhow::Error> {
    rows.iter()
        .find(|w| w.user_id == user_id)
        .ok_or_else(|| anyhow::anyhow!("wallet of user {user_id} is missing"))
}

fn reference(auction_id: i64) -> String {
    format!("auction #{auction_id}")
}

/// Hold `amount` of a bidder's available money.
fn hold(conn: &mut DbConnection, auction_id: i64, user_id: UserId, amount: i64) -> QueryResult<()> {
    move_money(
        conn,
        user_id,
        LedgerKind::BidHold,
        -amount,
        amount,
        reference(auction_id),
    )
}

/// Give a held `amount` back to the bidder's available money.
fn release(
    conn: &mut DbConnection,
    auction_id: i64,
    user_id: UserId,
    amount: i64,
) -> QueryResult<()> {
    move_money(
        conn,
        user_id,
        LedgerKind::BidRelease,
        amount,
        -amount,
        reference(auction_id),
    )
}

/// One row of an auction's history: the bid as everyone sees it; the maximum the bidder
/// entered on a submission's own row (`None`: a row the site placed automatically, or a
/// purchase).
struct Entry {
    amount: i64,
    max_amount: Option<i64>,
    is_buy_now: bool,
}

/// Append a row to the auction's history.
fn record_bid(
    conn: &mut DbConnection,
    auction_id: i64,
    bidder_id: UserId,
    entry: Entry,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(bids::table)
        .values((
            bids::auction_id.eq(auction_id),
            bids::bidder_id.eq(bidder_id),
            bids::amount.eq(entry.amount),
            bids::is_buy_now.eq(entry.is_buy_now),
            bids::max_amount.eq(entry.max_amount),
            bids::is_auto.eq(entry.max_amount.is_none() && !entry.is_buy_now),
            bids::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Check that the auction takes bids now: open status and inside its time window.
fn check_open(a: &Auction, now: NaiveDateTime) -> Result<(), PlaceBidError> {
    if !a.status().is_open() {
        return Err(PlaceBidError::Ended);
    }
    match window(a.starts_at, a.ends_at, now) {
        Window::NotStarted => Err(PlaceBidError::NotStarted),
        Window::Ended => Err(PlaceBidError::Ended),
        Window::Open => Ok(()),
    }
}

/// The rules that need no money, checked on an auction row as read.
fn check_bid_rules(
    a: &Auction,
    bidder_id: UserId,
    amount: Won,
    now: NaiveDateTime,
) -> Result<(), PlaceBidError> {
    check_open(a, now)?;
    if a.seller_id == bidder_id {
        return Err(PlaceBidError::OwnAuction);
    }
    a.prices().check_amount(amount)?;
    Ok(())
}

/// Place a bid of `amount`. Releases the outbid leader's hold and holds the new amount, in
/// one transaction with the bid row and the auction's new price.
///
/// The rules are first checked on a plain read, so a bid that cannot win (most of them on a
/// busy auction) is refused without taking locks: the price only rises, so a bid too low now
/// is too low under the lock too. Every rule is checked again under the lock.
#[tracing::instrument(skip(conn), fields(auction.id = auction_id, user.id = bidder_id))]
pub fn place_bid(
    conn: &mut DbConnection,
    auction_id: i64,
    bidder_id: UserId,
    amount: Won,
    now: NaiveDateTime,
    soft_close: SoftClose,
    key: Option<&OnceKey>,
) -> Result<BidPlaced, PlaceBidError> {
    // A resubmitted form gets its first outcome, not the refusal that outcome causes now.
    if let Some(done) = once::replay::<_, PlaceBidError>(conn, key)? {
        return Ok(done);
    }
    let seen = crate::services::auctions::find(conn, auction_id)?.ok_or(PlaceBidError::NotFound)?;
    if let Err(refused) = check_bid_rules(&seen, bidder_id, amount, now) {
        return once::replay::<_, PlaceBidError>(conn, key)?.ok_or(refused);
    }
    // Where a member lives does not change with the bid: checked once, before the locks.
    if let Err(district) = check_neighbour(conn, &seen, bidder_id)? {
        return Err(PlaceBidError::NotNeighbour { district });
    }
    write_tx(conn, |conn| {
        once::run(conn, key, |conn| {
            let a = lock_auction(conn, auction_id)?.ok_or(PlaceBidError::NotFound)?;
            check_bid_rules(&a, bidder_id, amount, now)?;

            let step = |p: i64| a.prices().increment.step(Won::from_stored(p)).get();
            let reserve = |price: i64, max: i64| match a.reserve_price {
                // A maximum at or above the reserve lifts the price to it at once.
                Some(r) if max >= r && price < r => r,
                _ => price,
            };
            let x = amount.get();
            let held = a.held();
            let mut ids = vec![bidder_id];
            ids.extend(a.leader_id);
            let wallets = lock_wallets(conn, &ids)?;
            let mine = wallet(&wallets, bidder_id)?;
            // What the bidder must have: the whole maximum (a leader raising it, the difference).
            let own_hold = if a.leader_id == Some(bidder_id) {
                held
            } else {
                0
            };
            if mine.balance + own_hold < x {
                return Err(PlaceBidError::InsufficientFunds {
                    available: Won::from_stored(mine.balance + own_hold),
                    needed: amount,
                });
            }
            // The history rows this submission writes, oldest first: (bidder, the bid as
            // everyone sees it, the maximum entered — on the submission's own row only). Every
            // accepted submission writes exactly one row of its own; rows the site places for
            // a leader's maximum are marked automatic. The leader's row is always the newest.
            let mut rows: Vec<(UserId, i64, Option<i64>)> = Vec::new();
            let (leader, leader_max, price, outbid) = match a.leader_id {
                None => {
                    hold(conn, auction_id, bidder_id, x)?;
                    let price = reserve(a.current_price, x);
                    rows.push((bidder_id, price, Some(x)));
                    (bidder_id, x, price, None)
                }
                Some(l) if l == bidder_id => {
                    if x <= held {
                        return Err(PlaceBidError::MaxNotHigher {
                            max: Won::from_stored(held),
                        });
                    }
                    // Raising one's own maximum moves only the difference; the price stays
                    // (unless the new maximum reaches the reserve).
                    hold(conn, auction_id, bidder_id, x - held)?;
                    let price = reserve(a.current_price, x);
                    rows.push((bidder_id, price, Some(x)));
                    (bidder_id, x, price, None)
                }
                Some(l) if x > held => {
                    // The challenger's maximum beats the leader's: the site bids only as much
                    // as needed, one increment over the old maximum (capped at the new one).
                    release(conn, auction_id, l, held)?;
                    hold(conn, auction_id, bidder_id, x)?;
                    let price = reserve(x.min(held + step(held)), x);
                    if held > a.current_price {
                        // The site had bid the old leader's maximum in full.
                        rows.push((l, held, None));
                    }
                    rows.push((bidder_id, price, Some(x)));
                    (bidder_id, x, price, Some((l, held)))
                }
                Some(l) => {
                    // The leader's maximum holds (an equal one too: the earlier leads). The
                    // site raises the leader's bid just past the challenger's, capped at the
                    // leader's maximum.
                    let price = reserve(held.min(x + step(x)), held);
                    rows.push((bidder_id, x, Some(x)));
                    rows.push((l, price, None));
                    (l, held, price, None)
                }
            };
            let event = AuctionEvent::new(auction_id, outbid);
            // Sent before the writes: PostgreSQL delivers it only if everything below commits.
            events::notify(conn, &event)?;
            // The displaced leader is told the price that beat them.
            notify::outbid(
                conn,
                outbid.map(|(l, _)| l),
                auction_id,
                &a.title,
                Won::from_stored(price),
            )?;
            for (who, at, max) in &rows {
                let entry = Entry {
                    amount: *at,
                    max_amount: *max,
                    is_buy_now: false,
                };
                record_bid(conn, auction_id, *who, entry, now)?;
            }
            diesel::update(auctions::table.find(auction_id))
                .set((
                    auctions::current_price.eq(price),
                    auctions::leader_id.eq(Some(leader)),
                    auctions::leader_max.eq(Some(leader_max)),
                    auctions::bid_count
                        .eq(auctions::bid_count + i32::try_from(rows.len()).unwrap_or(0)),
                    auctions::status.eq(AuctionStatus::Active.as_str()),
                    auctions::updated_at.eq(now),
                ))
                .execute(conn)?;
            // Soft close: a bid that changed the price or the leader in the last minutes moves
            // the end (pushed to watchers with the rest of the state once this commits).
            let changed = price != a.current_price || a.leader_id != Some(leader);
            if let Some(new_end) = changed
                .then(|| soft_close.extended_end(a.ends_at, a.original_ends_at, now))
                .flatten()
            {
                diesel::update(auctions::table.find(auction_id))
                    .set((
                        auctions::ends_at.eq(new_end),
                        auctions::original_ends_at
                            .eq(Some(a.original_ends_at.unwrap_or(a.ends_at))),
                        auctions::extensions.eq(auctions::extensions + 1),
                    ))
                    .execute(conn)?;
            }
            Ok(BidPlaced {
                event,
                leads: leader == bidder_id,
                price: Won::from_stored(price),
                maximum: amount,
            })
        })
    })
}

#[derive(Debug, thiserror::Error)]
pub enum BuyNowError {
    #[error("No such auction.")]
    NotFound,
    #[error("This auction has no buy-now price.")]
    NoBuyNow,
    #[error("The buy-now price changed to {price}. Check it and buy again if you still want it.")]
    PriceChanged { price: Won },
    #[error("The bids have reached the buy-now price (the price is {price}): buy now is no longer offered, bid instead.")]
    PriceReached { price: Won },
    #[error("Buy now opens when the auction starts.")]
    NotStarted,
    #[error("This auction has ended.")]
    Ended,
    #[error("You cannot buy your own item.")]
    OwnAuction,
    #[error("{}", neighbours_only(.district))]
    NotNeighbour { district: String },
    #[error(
        "You have {available} available, but buying now costs {needed}. Top up your wallet first."
    )]
    InsufficientFunds { available: Won, needed: Won },
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
crate::unexpected_error!(BuyNowError);

/// What a committed buy-now changed.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Bought {
    pub price: Won,
    pub event: AuctionEvent,
}

/// Buy at the buy-now price: the leader's hold is released (or topped up, when the buyer
/// leads), the whole price is held from the buyer, and the auction is sold. The seller is paid
/// once the buyer confirms receipt: the sale becomes a trade ([`market::open_auction_trade`]).
#[tracing::instrument(skip(conn), fields(auction.id = auction_id, user.id = buyer_id))]
pub fn buy_now(
    conn: &mut DbConnection,
    auction_id: i64,
    buyer_id: UserId,
    expected_price: Option<Won>,
    now: NaiveDateTime,
    auto_confirm: std::time::Duration,
    key: Option<&OnceKey>,
) -> Result<Bought, BuyNowError> {
    write_tx(conn, |conn| {
        once::run(conn, key, |conn| {
            let a = lock_auction(conn, auction_id)?.ok_or(BuyNowError::NotFound)?;
            let price = a.buy_now().ok_or(BuyNowError::NoBuyNow)?;
            if !a.status().is_open() {
                return Err(BuyNowError::Ended);
            }
            match window(a.starts_at, a.ends_at, now) {
                Window::NotStarted => return Err(BuyNowError::NotStarted),
                Window::Ended => return Err(BuyNowError::Ended),
                Window::Open => {}
            }
            if a.seller_id == buyer_id {
                return Err(BuyNowError::OwnAuction);
            }
            if a.prices().buy_now_offered().is_none() {
                return Err(BuyNowError::PriceReached {
                    price: a.current_price(),
                });
            }
            if let Err(district) = check_neighbour(conn, &a, buyer_id)? {
                return Err(BuyNowError::NotNeighbour { district });
            }
            // The price the buyer agreed to, compared under the lock: a seller cannot switch it
            // between the buyer reading the page and the buyer's POST arriving.
            if expected_price != Some(price) {
                return Err(BuyNowError::PriceChanged { price });
            }
            // The seller's wallet is not touched: they are paid when the trade is confirmed.
            let mut ids = vec![buyer_id];
            ids.extend(a.leader_id);
            let wallets = lock_wallets(conn, &ids)?;
            let buyer = wallet(&wallets, buyer_id)?;
            let buyer_leads = a.leader_id == Some(buyer_id);
            let own_hold = if buyer_leads { a.held() } else { 0 };
            if buyer.balance + own_hold < price.get() {
                return Err(BuyNowError::InsufficientFunds {
                    available: Won::from_stored(buyer.balance + own_hold),
                    needed: price,
                });
            }
            let event = AuctionEvent::new(
                auction_id,
                a.leader_id
                    .filter(|l| *l != buyer_id)
                    .map(|l| (l, a.held())),
            );
            events::notify(conn, &event)?;
            let displaced = a.leader_id.filter(|l| *l != buyer_id);
            notify::outbid(conn, displaced, auction_id, &a.title, price)?;
            notify::auction_ended(conn, &a, Some(buyer_id), AuctionStatus::Sold, price)?;
            if let Some(leader) = a.leader_id.filter(|l| *l != buyer_id) {
                release(conn, auction_id, leader, a.held())?;
            }
            // The buyer's own hold (when leading) counts: the rest of the price is held now,
            // or what their maximum held beyond the price comes back.
            if own_hold < price.get() {
                hold(conn, auction_id, buyer_id, price.get() - own_hold)?;
            } else if own_hold > price.get() {
                release(conn, auction_id, buyer_id, own_hold - price.get())?;
            }
            market::open_auction_trade(
                conn,
                auction_id,
                buyer_id,
                a.seller_id,
                price.get(),
                now,
                auto_confirm,
            )?;
            let entry = Entry {
                amount: price.get(),
                max_amount: None,
                is_buy_now: true,
            };
            record_bid(conn, auction_id, buyer_id, entry, now)?;
            diesel::update(auctions::table.find(auction_id))
                .set((
                    auctions::current_price.eq(price.get()),
                    auctions::leader_id.eq(Some(buyer_id)),
                    auctions::leader_max.eq(None::<i64>),
                    auctions::winner_id.eq(Some(buyer_id)),
                    auctions::bid_count.eq(auctions::bid_count + 1),
                    auctions::status.eq(AuctionStatus::Sold.as_str()),
                    auctions::closed_at.eq(Some(now)),
                    auctions::updated_at.eq(now),
                ))
                .execute(conn)?;
            Ok(Bought { price, event })
        })
    })
}

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
                auctions::image_name.eq(None::<String>),
                auctions::closed_at.eq(Some(now)),
                auctions::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok((Cancelled { released, event }, a.image_name))
    })?;
    // The photo of a cancelled listing goes, once the cancel has committed.
    if let Some(name) = photo {
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
