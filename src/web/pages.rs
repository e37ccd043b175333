//! The home page, health check, stylesheet and the 404 fallback.

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;

use crate::web::{db, AppError, AppState};

/// `200 ok` when the database answers, `503` with `Retry-After` when it does not (within about a
/// second while the database is away: see `db::checkout`).
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let result: Result<(), anyhow::Error> = db(&state, |conn| {
        conn.batch_execute("SELECT 1").map_err(anyhow::Error::new)
    })
    .await;
    match result {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ok"),
        Err(e) => {
            tracing::warn!(error = format!("{e:#}"), "health check failed");
            HttpResponse::ServiceUnavailable()
                .insert_header((
                    actix_web::http::header::RETRY_AFTER,
                    crate::web::error::RETRY_AFTER_SECONDS.to_string(),
                ))
                .content_type("text/plain")
                .body("database unavailable")
        }
    }
}

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../static/css/site.css"))
}

/// The charts' stylesheet (the auction page's price chart, the admin dashboard's bars).
pub async fn chart_stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../static/css/charts.css"))
}

/// The card checkout's script (PortOne's SDK window; only on a real PortOne's payment page).
pub async fn checkout_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../static/js/checkout.js"))
}

pub async fn live_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../static/js/live.js"))
}

pub async fn me_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../static/js/me.js"))
}

pub async fn chat_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../static/js/chat.js"))
}

pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
