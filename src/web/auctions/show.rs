//! `/auctions/{id}`: one auction, its state and history, and the bid form or live panel.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::domain::auction::{window, AuctionStatus, Window, INCREMENT_TABLE};
use crate::domain::msg::Msg;
use crate::domain::Won;
use crate::services::auctions::Auction;
use crate::services::market;
use crate::services::now;
use crate::views::auction::{load_auction_and_state, AuctionState};
use crate::web::market::TradeLine;
use crate::web::{db, render, AppError, AppState, Ctx};

/// `/auctions/{id}`: everything about one auction and, for those who may, the bid form
/// (national auctions add the live panel).
#[derive(Template)]
#[template(path = "auctions/show.html")]
pub struct ShowPage {
    pub ctx: Ctx,
    pub a: Auction,
    pub state: AuctionState,
    pub region_name: String,
    pub category_name: String,
    /// "Bids go up …" in one sentence: the seller's unit, or the site's table.
    pub increment_rule: String,
    /// "Soft close: …" in one sentence (empty when the site turned it off).
    pub soft_close_rule: String,
    pub start_price: Won,
    pub buy_now: Option<Won>,
    /// Why the viewer cannot bid (`None`: the form is shown).
    pub cannot_bid: Option<String>,
    pub is_seller: bool,
    pub is_winner: bool,
    pub is_leader: bool,
    /// The leader's own maximum (shown to them only).
    pub my_max: Option<Won>,
    /// The viewer has starred it (their watchlist).
    pub watching: bool,
    pub can_edit: bool,
    pub error: Option<String>,
    pub amount: String,
    /// Buyer protection in one sentence (the auto-confirm period).
    pub protection_rule: String,
    /// A sold auction's trade, for its buyer or its seller.
    pub trade: Option<TradeLine>,
}

pub(crate) async fn show_page(
    req: &HttpRequest,
    state: &AppState,
    id: i64,
    status: StatusCode,
    error: Option<Msg>,
    amount: String,
) -> Result<HttpResponse, AppError> {
    let ctx = Ctx::load(req).await?;
    let tz = state.settings.timezone;
    let live = state.live.clone();
    let viewer = ctx.user.as_ref().map(|u| u.id);
    let (a, auction_state, trade, watching) = db(state, move |conn| {
        let watchers = live.watchers_everywhere(conn, id);
        let Some((a, st)) = load_auction_and_state(conn, id, tz, watchers)? else {
            return Ok(None);
        };
        let trade = match viewer {
            Some(v) if a.status() == AuctionStatus::Sold => {
                market::auction_trade_for(conn, id, v).map_err(anyhow::Error::new)?
            }
            _ => None,
        };
        let watching = match viewer {
            Some(me) => crate::services::watchlist::is_watching(conn, me, id)?,
            None => false,
        };
        Ok::<_, anyhow::Error>(Some((a, st, trade, watching)))
    })
    .await?
    .ok_or(AppError::NotFound)?;
    let st = a.status();
    let win = window(a.starts_at, a.ends_at, now());
    let is_seller = viewer == Some(a.seller_id);
    let cannot_bid = if !st.is_open() || win == Window::Ended {
        Some("This auction has ended.".to_owned())
    } else if win == Window::NotStarted {
        Some(format!("Bidding opens at {}.", ctx.time(&a.starts_at)))
    } else if viewer.is_none() {
        Some("Log in to bid.".to_owned())
    } else if is_seller {
        Some("This is your auction: you cannot bid on it.".to_owned())
    } else {
        outside_district(state, &a, ctx.user.as_ref())
            .map(|district| crate::services::bidding::neighbours_only(&district))
    };
    let page = ShowPage {
        region_name: state.reference.region_name(a.region_id),
        category_name: state.reference.category_name(a.category_id),
        increment_rule: increment_rule(&a),
        soft_close_rule: soft_close_rule(&state.settings),
        start_price: Won::from_stored(a.start_price),
        buy_now: a.prices().buy_now_offered(),
        cannot_bid,
        is_seller,
        is_winner: viewer.is_some() && a.winner_id == viewer,
        is_leader: viewer.is_some() && a.leader_id == viewer,
        my_max: (viewer.is_some() && a.leader_id == viewer).then(|| Won::from_stored(a.held())),
        watching,
        can_edit: is_seller && a.bid_count == 0 && st.is_open(),
        error: error.map(|e| e.text(ctx.lang)),
        amount,
        protection_rule: protection_rule(state.settings.market_auto_confirm),
        trade: match (trade, viewer) {
            (Some(t), Some(v)) => Some(TradeLine::new(&ctx, v, t)),
            _ => None,
        },
        state: auction_state,
        a,
        ctx,
    };
    render(status, &page)
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    show_page(
        &req,
        &state,
        path.into_inner(),
        StatusCode::OK,
        None,
        String::new(),
    )
    .await
}

/// Buyer protection, in one sentence.
fn protection_rule(auto_confirm: std::time::Duration) -> String {
    let secs = auto_confirm.as_secs();
    let period = if secs >= 86_400 && secs % 86_400 == 0 {
        let days = secs / 86_400;
        format!("{days} day{}", if days == 1 { "" } else { "s" })
    } else {
        span_words(auto_confirm)
    };
    format!(
        "Buyer protection: the winner's money is held, not paid to the seller, until the winner confirms receipt; \
         it is confirmed automatically {period} after the sale. Either side can open a dispute before then, and an admin decides."
    )
}

/// The increment rule of `a`, in one sentence.
fn increment_rule(a: &Auction) -> String {
    if !a.increment_table {
        return format!(
            "Bids go up in steps of {} (the seller's unit).",
            Won::from_stored(a.bid_unit)
        );
    }
    let mut bands = Vec::new();
    let mut from = 0_i64;
    for (bound, step) in INCREMENT_TABLE {
        let step = Won::from_stored(step);
        match bound {
            Some(b) if from == 0 => bands.push(format!("{step} below {}", Won::from_stored(b))),
            Some(b) => bands.push(format!("{step} up to {}", Won::from_stored(b))),
            None => bands.push(format!("{step} from {}", Won::from_stored(from))),
        }
        from = bound.unwrap_or(from);
    }
    format!(
        "Bids go up by the site's increment table: {}.",
        bands.join(", ")
    )
}

/// The site's soft-close rule, in one sentence.
fn soft_close_rule(settings: &crate::config::Settings) -> String {
    if settings.soft_close.is_zero() {
        return String::new();
    }
    let window = span_words(settings.soft_close);
    format!(
        "Soft close: a bid in the last {window} moves the end to {window} after that bid, up to {} past the original end, so nobody wins by bidding in the last second.",
        span_words(settings.soft_close_cap),
    )
}

/// "4 seconds", "3 minutes", "1 hour 30 minutes".
fn span_words(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    let unit = |n: u64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => unit(s, "second"),
        (0, m, 0) => unit(m, "minute"),
        (h, 0, 0) => unit(h, "hour"),
        (h, m, _) if h > 0 => format!("{} {}", unit(h, "hour"), unit(m, "minute")),
        (_, m, s) => format!("{} {}", unit(m, "minute"), unit(s, "second")),
    }
}

/// A local auction seen by a member whose neighbourhood is outside its district: the
/// district's name.
fn outside_district(
    state: &AppState,
    a: &Auction,
    viewer: Option<&crate::services::accounts::CurrentUser>,
) -> Option<String> {
    let viewer = viewer?;
    if a.is_national {
        return None;
    }
    let theirs = state.reference.district_of(a.region_id)?;
    let mine = state.reference.district_of(viewer.region_id);
    (mine.map(|m| m.id) != Some(theirs.id)).then(|| theirs.full_name.clone())
}
