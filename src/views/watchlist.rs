//! A row of `/me/watchlist`: the page renders every row with `partials/_watch_row.html`, and
//! the member's socket pushes one row again, rendered by the same partial, after each committed
//! change to a watched auction (from the state the live relay rendered once for everyone).

use askama::Template;
use chrono::NaiveDateTime;

use crate::domain::auction::{window, AuctionStatus, Window};
use crate::domain::Won;
use crate::services::watchlist::Watched;
use crate::views::auction::AuctionState;
use crate::views::i18n::Tr;

/// One watched auction as the member sees it.
pub struct WatchRow {
    pub id: i64,
    pub title: String,
    pub is_national: bool,
    pub price: Won,
    /// The smallest next bid, while bids are taken.
    pub min_bid: Option<Won>,
    pub leader_name: Option<String>,
    pub you_lead: bool,
    pub status: AuctionStatus,
    /// While open: seconds until the end, or `None` before it starts ("starts soon").
    pub open: Option<Option<i64>>,
    /// The end (the row writes it in the site's time zone).
    pub ends_at: NaiveDateTime,
}

impl WatchRow {
    /// The row the page shows, from the watchlist as read now.
    pub fn from_watched(w: &Watched, me: i64, at: NaiveDateTime) -> WatchRow {
        let a = &w.auction;
        let status = a.status();
        WatchRow {
            id: a.id,
            title: a.title.clone(),
            is_national: a.is_national,
            price: a.current_price(),
            min_bid: status.is_open().then(|| a.prices().minimum_bid()),
            leader_name: w.leader_name.clone(),
            you_lead: a.leader_id == Some(me),
            status,
            open: status
                .is_open()
                .then(|| match window(a.starts_at, a.ends_at, at) {
                    Window::NotStarted => None,
                    _ => Some((a.ends_at - at).num_seconds().max(0)),
                }),
            ends_at: a.ends_at,
        }
    }

    /// The row pushed after a change, from the state the live relay rendered.
    pub fn from_state(s: &AuctionState, me: i64) -> WatchRow {
        let open = s.status.is_open();
        WatchRow {
            id: s.id,
            title: s.title.clone(),
            is_national: s.is_national,
            price: s.current_price,
            min_bid: open.then_some(s.min_bid),
            leader_name: s.leader_name.clone().filter(|n| !n.is_empty()),
            you_lead: s.leader_id == Some(me),
            status: s.status,
            open: open.then(|| (!s.not_started).then_some(s.secs_left)),
            ends_at: s.ends_at,
        }
    }
}

/// One row (`<tr>`), with the unstar form (it carries the member's CSRF token).
#[derive(Template)]
#[template(path = "partials/_watch_row.html")]
pub struct WatchRowFragment<'a> {
    pub row: &'a WatchRow,
    pub csrf_token: &'a str,
    pub ctx: Tr,
}
