//! The watchlist: the star on every card and auction page (`POST /auctions/{id}/watch`, a
//! form that works without JavaScript) and `/me/watchlist`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::msg::Msg;
use crate::services::now;
use crate::services::watchlist;
use crate::views::watchlist::WatchRow;
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
        Msg::new(if watching {
            "flash.watch.added"
        } else {
            "flash.watch.removed"
        }),
    );
    let back = safe_next(&form.next).unwrap_or_else(|| format!("/auctions/{id}"));
    Ok(see_other(&back))
}

/// `/me/watchlist`: every starred auction as it is now (price, leader, state, end). With
/// JavaScript, the member's socket (`/me/live?watchlist=1`) keeps the rows live.
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
        .iter()
        .map(|w| WatchRow::from_watched(w, me, at))
        .collect();
    render(StatusCode::OK, &WatchlistPage { ctx, rows })
}
