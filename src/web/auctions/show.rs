//! `/auctions/{id}`: one auction, its state and history, and the bid form or live panel.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::domain::auction::{window, AuctionStatus, Window};
use crate::domain::Won;
use crate::services::auctions::Auction;
use crate::services::now;
use crate::views::auction::{load_auction_and_state, AuctionState};
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
    pub bid_unit: Won,
    pub start_price: Won,
    pub buy_now: Option<Won>,
    /// Why the viewer cannot bid (`None`: the form is shown).
    pub cannot_bid: Option<String>,
    pub is_seller: bool,
    pub is_winner: bool,
    pub is_leader: bool,
    pub can_edit: bool,
    pub error: Option<String>,
    pub amount: String,
}

pub(crate) async fn show_page(
    req: &HttpRequest,
    state: &AppState,
    id: i64,
    status: StatusCode,
    error: Option<String>,
    amount: String,
) -> Result<HttpResponse, AppError> {
    let ctx = Ctx::load(req).await?;
    let tz = state.settings.timezone;
    let watchers = state.live.watchers(id);
    let (a, auction_state) = db(state, move |conn| {
        load_auction_and_state(conn, id, tz, watchers)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    let st = a.status();
    let win = window(a.starts_at, a.ends_at, now());
    let viewer = ctx.user.as_ref().map(|u| u.id);
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
        None
    };
    let page = ShowPage {
        region_name: state.reference.region_name(a.region_id),
        category_name: state.reference.category_name(a.category_id),
        bid_unit: Won::from_stored(a.bid_unit),
        start_price: Won::from_stored(a.start_price),
        buy_now: a.buy_now(),
        cannot_bid,
        is_seller,
        is_winner: viewer.is_some() && a.winner_id == viewer,
        is_leader: viewer.is_some() && a.leader_id == viewer,
        can_edit: is_seller && a.bid_count == 0 && st.is_open(),
        error,
        amount,
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
