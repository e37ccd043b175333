//! Auction pages, one file per page or use case: [`browse`], [`show`], [`bid`] (and buy now),
//! [`listing`] (create, edit, cancel), [`mine`] (my listings, my bids), and the live panel's
//! socket ([`live`]). What several of them show lives here.

pub mod bid;
pub mod browse;
pub mod listing;
pub mod listing_form;
pub mod live;
pub mod mine;
pub mod show;
pub mod watch;

use chrono::NaiveDateTime;

use crate::domain::auction::{time_left, window, Window};
use crate::domain::image::thumb_name;
use crate::domain::Won;
use crate::services::auctions::Auction;

// ------------------------------------------------------------------ browse

/// One card on a list page.
pub struct Card {
    pub id: i64,
    pub title: String,
    pub image: Option<String>,
    pub is_national: bool,
    pub price: Won,
    pub bid_count: i32,
    pub time_left: String,
    pub status_label: &'static str,
    /// For the card's words in the page's language ([`crate::web::ctx::Ctx::card_time`]).
    pub status: crate::domain::auction::AuctionStatus,
    pub not_started: bool,
    pub secs_left: i64,
    pub open: bool,
    /// The viewer has starred it (their watchlist).
    pub watched: bool,
}

impl Card {
    pub fn new(a: &Auction, at: NaiveDateTime) -> Card {
        let status = a.status();
        Card {
            id: a.id,
            title: a.title.clone(),
            image: a.image_name.as_deref().map(thumb_name),
            is_national: a.is_national,
            price: a.current_price(),
            bid_count: a.bid_count,
            time_left: match (status.is_open(), window(a.starts_at, a.ends_at, at)) {
                (true, Window::NotStarted) => "starts soon".to_owned(),
                (true, _) => time_left(a.ends_at, at),
                (false, _) => status.label().to_owned(),
            },
            status_label: status.label(),
            status,
            not_started: window(a.starts_at, a.ends_at, at) == Window::NotStarted,
            secs_left: (a.ends_at - at).num_seconds(),
            open: status.is_open(),
            watched: false,
        }
    }
}

pub(crate) fn opt_id(s: &str) -> Option<i64> {
    s.trim().parse::<i64>().ok().filter(|n| *n > 0)
}

/// The site's soft-close rule, from its settings.
pub(crate) fn soft_close(settings: &crate::config::Settings) -> crate::domain::auction::SoftClose {
    let span =
        |d: std::time::Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::zero());
    crate::domain::auction::SoftClose {
        window: span(settings.soft_close),
        cap: span(settings.soft_close_cap),
    }
}
