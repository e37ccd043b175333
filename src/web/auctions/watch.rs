//! The watchlist: the star on every card and auction page (`POST /auctions/{id}/watch`, a
//! form that works without JavaScript) and `/me/watchlist`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::auction::AuctionStatus;
use crate::domain::Won;
use crate::services::now;
use crate::services::watchlist::{self, Watched};
use crate::web::auctions::Card;
use crate::web::next::safe_next;
use crate::web::{db, render, see_other, AppError, AppState, Ctx, SessionUser};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WatchForm {
    /// `on` stars, `off` unstars, anything else turns the star over.
    pub watch: String,
    /// Where to go back to (a path on this site; the auction's page otherwise).
    pub next: String,
}

/// `POST /auctions/{id}/watch`: star or unstar, then back to the page the star was on.
#[tracing::instrument(skip_all, fields(auction.id = *path, user.id = user.id))]
pub async fn watch(
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<WatchForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let me = user.id;
    let want = match form.watch.as_str() {
        "on" => Some(true),
        "off" => Some(false),
        _ => None,
    };
    let watching = db(&state, move |conn| watchlist::set_watch(conn, me, id, want)).await?;
    crate::web::session::flash(
        &user.session,
        "success",
        if watching {
            "Added to your watchlist."
        } else {
            "Removed from your watchlist."
        },
    );
    let back = safe_next(&form.next).unwrap_or_else(|| format!("/auctions/{id}"));
    Ok(see_other(&back))
}

pub struct WatchRow {
    pub card: Card,
    pub leader_name: Option<String>,
    pub you_lead: bool,
    pub status: AuctionStatus,
    pub ends_at: String,
    pub min_bid: Option<Won>,
}

/// `/me/watchlist`: every starred auction as it is now (price, leader, state, end).
#[derive(Template)]
#[template(path = "auctions/watchlist.html")]
pub struct WatchlistPage {
    pub ctx: Ctx,
    pub rows: Vec<WatchRow>,
}

pub async fn my_watchlist(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.id;
    let list = db(&state, move |conn| {
        watchlist::watchlist_of(conn, me).map_err(anyhow::Error::new)
    })
    .await?;
    let at = now();
    let rows = list
        .into_iter()
        .map(
            |Watched {
                 auction: a,
                 leader_name,
             }| {
                let mut card = Card::new(&a, at);
                card.watched = true;
                WatchRow {
                    you_lead: a.leader_id == Some(me),
                    leader_name,
                    status: a.status(),
                    ends_at: ctx.time(&a.ends_at),
                    min_bid: a.status().is_open().then(|| a.prices().minimum_bid()),
                    card,
                }
            },
        )
        .collect();
    render(StatusCode::OK, &WatchlistPage { ctx, rows })
}
