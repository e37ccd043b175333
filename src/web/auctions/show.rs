//! `/auctions/{id}`: one auction, its state and history, and the bid form or live panel.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::domain::auction::{window, AuctionStatus, Window, INCREMENT_TABLE};
use crate::domain::lang::Lang;
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
    /// The listing's photos, first to last (the gallery).
    pub photos: Vec<crate::web::photos::GalleryPhoto>,
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
    let (a, auction_state, trade, watching, photos) = db(state, move |conn| {
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
        let photos =
            crate::services::photos::list(conn, crate::services::photos::Owner::Auction(id))?;
        Ok::<_, anyhow::Error>(Some((a, st, trade, watching, photos)))
    })
    .await?
    .ok_or(AppError::NotFound)?;
    let st = a.status();
    let win = window(a.starts_at, a.ends_at, now());
    let is_seller = viewer == Some(a.seller_id);
    let cannot_bid = if !st.is_open() || win == Window::Ended {
        Some(Msg::new("err.auction_ended"))
    } else if win == Window::NotStarted {
        Some(Msg::new("rule.opens_at").arg("time", ctx.time(&a.starts_at)))
    } else if viewer.is_none() {
        Some(Msg::new("err.live.log_in"))
    } else if is_seller {
        Some(Msg::new("rule.own_auction"))
    } else {
        outside_district(state, &a, ctx.user.as_ref())
            .map(|district| Msg::new("err.neighbours_only").arg("district", district))
    }
    .map(|m| m.text(ctx.lang));
    let lang = ctx.lang;
    let page = ShowPage {
        region_name: state.reference.region_name(a.region_id),
        category_name: state.reference.category_name(a.category_id),
        increment_rule: increment_rule(&a, lang),
        soft_close_rule: soft_close_rule(&state.settings, lang),
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
        protection_rule: protection_rule(state.settings.market_auto_confirm, lang),
        trade: match (trade, viewer) {
            (Some(t), Some(v)) => Some(TradeLine::new(&ctx, v, t)),
            _ => None,
        },
        state: auction_state,
        photos: crate::web::photos::gallery(photos),
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
fn protection_rule(auto_confirm: std::time::Duration, lang: Lang) -> String {
    let secs = auto_confirm.as_secs();
    let period = if secs >= 86_400 && secs % 86_400 == 0 {
        let days = secs / 86_400;
        let key = if days == 1 {
            "span.days.one"
        } else {
            "span.days.other"
        };
        Msg::new(key).arg("n", days).text(lang)
    } else {
        span_words(auto_confirm, lang)
    };
    Msg::new("rule.protection").arg("period", period).text(lang)
}

/// The increment rule of `a`, in one sentence.
fn increment_rule(a: &Auction, lang: Lang) -> String {
    if !a.increment_table {
        return Msg::new("rule.increment_unit")
            .arg("unit", Won::from_stored(a.bid_unit))
            .text(lang);
    }
    let mut bands = Vec::new();
    let mut from = 0_i64;
    for (bound, step) in INCREMENT_TABLE {
        let step = Won::from_stored(step);
        let band = match bound {
            Some(b) if from == 0 => Msg::new("rule.band_below").arg("bound", Won::from_stored(b)),
            Some(b) => Msg::new("rule.band_up_to").arg("bound", Won::from_stored(b)),
            None => Msg::new("rule.band_from").arg("bound", Won::from_stored(from)),
        };
        bands.push(band.arg("step", step).text(lang));
        from = bound.unwrap_or(from);
    }
    Msg::new("rule.increment_table")
        .arg("bands", bands.join(", "))
        .text(lang)
}

/// The site's soft-close rule, in one sentence.
fn soft_close_rule(settings: &crate::config::Settings, lang: Lang) -> String {
    if settings.soft_close.is_zero() {
        return String::new();
    }
    Msg::new("rule.soft_close")
        .arg("window", span_words(settings.soft_close, lang))
        .arg("cap", span_words(settings.soft_close_cap, lang))
        .text(lang)
}

/// "4 seconds", "3 minutes", "1 hour 30 minutes" (`4초`, `3분`, `1시간 30분`).
fn span_words(d: std::time::Duration, lang: Lang) -> String {
    let secs = d.as_secs();
    let unit = |n: u64, one: &'static str, other: &'static str| {
        Msg::new(if n == 1 { one } else { other })
            .arg("n", n)
            .text(lang)
    };
    let seconds = |n| unit(n, "span.seconds.one", "span.seconds.other");
    let minutes = |n| unit(n, "span.minutes.one", "span.minutes.other");
    let hours = |n| unit(n, "span.hours.one", "span.hours.other");
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => seconds(s),
        (0, m, 0) => minutes(m),
        (h, 0, 0) => hours(h),
        (h, m, _) if h > 0 => format!("{} {}", hours(h), minutes(m)),
        (_, m, s) => format!("{} {}", minutes(m), seconds(s)),
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
