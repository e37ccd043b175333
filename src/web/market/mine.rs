//! `/me/purchases` and `/me/reservations`: my trades as buyer and seller.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use crate::services::market::{self as market_service};
use crate::web::market::TradeLine;
use crate::web::{db, render, AppError, AppState, Ctx};

// ---------------------------------------------------------------- my trades

/// `/me/purchases`: every trade where I am the buyer, with the price at purchase time.
#[derive(Template)]
#[template(path = "market/purchases.html")]
pub struct PurchasesPage {
    pub ctx: Ctx,
    pub trades: Vec<TradeLine>,
}

pub async fn purchases(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.id;
    let rows = db(&state, move |conn| {
        market_service::purchases(conn, me).map_err(anyhow::Error::new)
    })
    .await?;
    let trades = rows
        .into_iter()
        .map(|t| TradeLine::new(&ctx, me, t))
        .collect();
    render(StatusCode::OK, &PurchasesPage { ctx, trades })
}

/// `/me/reservations`: trades in progress where I am the buyer or the seller.
#[derive(Template)]
#[template(path = "market/reservations.html")]
pub struct ReservationsPage {
    pub ctx: Ctx,
    pub trades: Vec<TradeLine>,
}

pub async fn reservations(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.id;
    let rows = db(&state, move |conn| {
        market_service::reservations(conn, me).map_err(anyhow::Error::new)
    })
    .await?;
    let trades = rows
        .into_iter()
        .map(|t| TradeLine::new(&ctx, me, t))
        .collect();
    render(StatusCode::OK, &ReservationsPage { ctx, trades })
}
