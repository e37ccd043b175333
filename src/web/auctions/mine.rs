//! `/me/listings` and `/me/bids`: a seller's auctions and a bidder's auctions.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use crate::domain::auction::AuctionStatus;
use crate::domain::Won;
use crate::services::auctions::{self};
use crate::services::now;
use crate::web::auctions::Card;
use crate::web::{db, render, AppError, AppState, Ctx};

pub struct ListingRow {
    pub card: Card,
    pub can_edit: bool,
    pub winner_paid: Option<Won>,
}

/// `/me/listings`: the seller's auctions.
#[derive(Template)]
#[template(path = "auctions/my_listings.html")]
pub struct MyListingsPage {
    pub ctx: Ctx,
    pub rows: Vec<ListingRow>,
}

pub async fn my_listings(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let id = ctx.require_user()?.id;
    let list = db(&state, move |conn| {
        auctions::listings_of(conn, id).map_err(anyhow::Error::new)
    })
    .await?;
    let at = now();
    let rows = list
        .iter()
        .map(|a| ListingRow {
            card: Card::new(a, at),
            can_edit: a.bid_count == 0 && a.status().is_open(),
            winner_paid: (a.status() == AuctionStatus::Sold).then(|| a.current_price()),
        })
        .collect();
    render(StatusCode::OK, &MyListingsPage { ctx, rows })
}

pub struct MyBidRow {
    pub card: Card,
    pub my_top: Won,
    /// leading, outbid, won, lost, cancelled
    pub state: &'static str,
}

/// `/me/bids`: every auction I bid on, as leading, outbid, won or lost.
#[derive(Template)]
#[template(path = "auctions/my_bids.html")]
pub struct MyBidsPage {
    pub ctx: Ctx,
    pub rows: Vec<MyBidRow>,
}

pub async fn my_bids(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.id;
    let list = db(&state, move |conn| {
        auctions::bids_of(conn, me).map_err(anyhow::Error::new)
    })
    .await?;
    let at = now();
    let rows = list
        .iter()
        .map(|(a, top)| MyBidRow {
            card: Card::new(a, at),
            my_top: Won::from_stored(*top),
            state: match a.status() {
                AuctionStatus::Scheduled | AuctionStatus::Active if a.leader_id == Some(me) => {
                    "leading"
                }
                AuctionStatus::Scheduled | AuctionStatus::Active => "outbid",
                AuctionStatus::Sold if a.winner_id == Some(me) => "won",
                AuctionStatus::Cancelled => "cancelled",
                _ => "lost",
            },
        })
        .collect();
    render(StatusCode::OK, &MyBidsPage { ctx, rows })
}
