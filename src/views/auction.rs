//! The auction state every viewer sees: the page renders it, and the live panel pushes it again
//! (`partials/_auction_state.html`) after every committed change.

use askama::Template;
use chrono::NaiveDateTime;

use crate::db::DbConnection;
use crate::domain::auction::{time_left, window, AuctionStatus, Window};
use crate::domain::Won;
use crate::services::auctions::{self, Auction};
use crate::services::charts;
use crate::services::now;
use crate::views::chart::{price_chart, Chart, MAX_POINTS};
use crate::views::i18n::Tr;

/// One row of the bid history.
pub struct BidView {
    pub amount: Won,
    pub bidder: String,
    /// When it was placed (shown relative, `3분 전`, with the time in the site's zone).
    pub at: NaiveDateTime,
    pub buy_now: bool,
    /// Placed by the site for the leader's maximum.
    pub auto: bool,
}

/// What every viewer sees of an auction's money and history.
pub struct AuctionState {
    pub id: i64,
    pub title: String,
    pub status: AuctionStatus,
    pub is_national: bool,
    pub not_started: bool,
    pub current_price: Won,
    pub min_bid: Won,
    pub bid_count: i32,
    pub leader_id: Option<i64>,
    pub leader_name: Option<String>,
    pub winner_id: Option<i64>,
    pub winner_name: Option<String>,
    pub seller_name: String,
    pub time_left: String,
    /// Seconds until the deadline below (the fragment writes them in its language).
    pub secs_left: i64,
    /// Start (when not started) or end, in milliseconds since the epoch, for the ticking clock.
    pub deadline_ms: i64,
    pub ends_at: NaiveDateTime,
    pub bids: Vec<BidView>,
    pub watchers: usize,
    /// With a secret reserve: whether the price has reached it (`None`: no reserve).
    pub reserve_met: Option<bool>,
    /// Soft close: how often a late bid moved the end, and the end the seller set.
    pub extensions: i32,
    pub original_ends_at: Option<NaiveDateTime>,
    /// Whether buy-now is still offered (an auction with one, until the price reaches it).
    pub buy_now_offered: bool,
    /// The price history chart (numbers and times only: the same for every language).
    pub chart: Chart,
}

/// The state fragment: the same partial the auction page includes, in one language (the live
/// relay renders it once per language, [`crate::views::i18n::LANGS`]).
#[derive(Template)]
#[template(path = "partials/_auction_state.html")]
pub struct StateFragment<'a> {
    pub state: &'a AuctionState,
    pub ctx: Tr,
}

/// Bid history rows shown (page and live panel).
pub const HISTORY: i64 = 10;

/// Load an auction's state: four queries (auction with its seller, newest bids, the chart's
/// price steps and extensions).
pub fn load_state(
    conn: &mut DbConnection,
    id: i64,
    tz: chrono_tz::Tz,
    watchers: usize,
) -> anyhow::Result<Option<AuctionState>> {
    Ok(load_auction_and_state(conn, id, tz, watchers)?.map(|(_, s)| s))
}

/// The auction row and its state (the page needs both).
pub fn load_auction_and_state(
    conn: &mut DbConnection,
    id: i64,
    tz: chrono_tz::Tz, // the chart's times; the fragment writes its own, in its language
    watchers: usize,
) -> anyhow::Result<Option<(Auction, AuctionState)>> {
    let Some((a, seller_name)) = auctions::find_with_seller(conn, id)? else {
        return Ok(None);
    };
    let bids = auctions::bid_history(conn, id, HISTORY)?;
    let chart = price_chart(
        a.start_price,
        &charts::price_steps(conn, id, MAX_POINTS)?,
        &charts::extensions(conn, id, MAX_POINTS)?,
        tz,
    );
    // The leader (and a winner) made the newest bid.
    let newest_bidder = bids.first().map(|b| (b.bidder_id, b.bidder_name.clone()));
    let name = |id: i64| match &newest_bidder {
        Some((bidder, name)) if *bidder == id => name.clone(),
        _ => String::new(),
    };
    let at = now();
    let st = a.status();
    let not_started = st.is_open() && window(a.starts_at, a.ends_at, at) == Window::NotStarted;
    let deadline = if not_started { a.starts_at } else { a.ends_at };
    let state = AuctionState {
        id: a.id,
        title: a.title.clone(),
        status: st,
        is_national: a.is_national,
        not_started,
        current_price: a.current_price(),
        min_bid: a.prices().minimum_bid(),
        bid_count: a.bid_count,
        leader_id: a.leader_id,
        leader_name: a.leader_id.map(name),
        winner_id: a.winner_id,
        winner_name: a.winner_id.map(name),
        seller_name,
        time_left: if !st.is_open() {
            st.label().to_owned()
        } else if not_started {
            time_left(a.starts_at, at).replace(" left", "")
        } else {
            time_left(a.ends_at, at)
        },
        secs_left: if st.is_open() {
            (deadline - at).num_seconds().max(0)
        } else {
            0
        },
        deadline_ms: deadline.and_utc().timestamp_millis(),
        ends_at: a.ends_at,
        reserve_met: a
            .reserve_price
            .map(|r| a.bid_count > 0 && a.current_price >= r),
        extensions: a.extensions,
        original_ends_at: a.original_ends_at,
        buy_now_offered: a.prices().buy_now_offered().is_some(),
        bids: bids
            .into_iter()
            .map(|b| BidView {
                amount: Won::from_stored(b.amount),
                bidder: b.bidder_name,
                at: b.created_at,
                buy_now: b.is_buy_now,
                auto: b.is_auto,
            })
            .collect(),
        watchers,
        chart,
    };
    Ok(Some((a, state)))
}
