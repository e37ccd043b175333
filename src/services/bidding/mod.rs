//! Money in auctions: bid, buy now, close, cancel. Each is one transaction that locks the
//! auction row first, then the wallets it touches in ascending user id (DESIGN.md §4).
//!
//! One file per use case: `place.rs` (proxy bids), `buy_now.rs`, `close.rs` (the close, an
//! admin's or seller's cancel, the scheduler's opening and due lists); what they share — the
//! neighbours-only rule, the auction lock, holds and releases, the history rows — is here.

use std::path::Path;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::once::{self, OnceKey};
use crate::db::schema::{auction_extensions, auctions, bids};
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

mod buy_now;
mod close;
mod place;

pub use buy_now::*;
pub use close::*;
pub use place::*;

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
