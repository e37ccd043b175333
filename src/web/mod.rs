//! HTTP: routes, extractors (page context, session user, CSRF), page templates, error pages.
//! Handlers are thin: extract → parse → one service call → choose the response.

pub mod account;
pub mod account_profile;
pub mod admin;
pub mod admin_disputes;
pub mod admin_payments;
pub mod admin_users;
pub mod auctions;
pub mod chats;
pub mod client_ip;
pub mod csrf;
pub mod ctx;
pub mod error;
pub mod extract;
pub mod headers;
pub mod lang;
pub mod market;
pub mod me_live;
pub mod next;
pub mod notifications;
pub mod pager;
pub mod pages;
pub mod password;
pub mod passwords;
pub mod payments;
pub mod payouts;
pub mod photos;
pub mod portone_sim;
pub mod profiles;
pub mod ratelimit;
pub mod session;
pub mod sockets;
pub mod tabs;
pub mod upload;
pub mod uploads;
pub mod wallet;

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::config::Settings;
use crate::db::{DbConnection, DbPool};
pub use ctx::Ctx;
pub use error::AppError;
pub use extract::SessionUser;
pub use pager::{page_number, Pager};

/// Shared by every worker.
pub struct AppState {
    pub pool: DbPool,
    pub settings: Arc<Settings>,
    /// Failed logins per (username, client IP), per client IP and per username.
    pub login_throttle: ratelimit::LoginThrottle,
    /// Sign-ups per client IP per hour.
    pub signups_by_ip: ratelimit::Limiter,
    /// argon2 hashes and verifications, a few at a time.
    pub passwords: passwords::PasswordWork,
    /// Live panels of national auctions.
    pub live: Arc<crate::live::LiveHub>,
    /// Live sockets open per user and per client address.
    pub sockets: Arc<sockets::SocketSlots>,
    /// Regions and categories, loaded once.
    pub reference: Arc<crate::services::reference::Reference>,
    /// Slots for reading and decoding photo uploads (`Settings::upload_concurrency`).
    pub upload_slots: Arc<tokio::sync::Semaphore>,
    /// The process's one PortOne client (token cached inside); call it inside `web::block`.
    pub portone: Arc<crate::portone::PortOne>,
    /// The built-in PortOne simulator's books, when it stands in for PortOne.
    pub portone_sim: Option<Arc<portone_sim::state::Simulator>>,
}

/// Run `f` with a pooled connection on the blocking pool, carrying the request's span.
/// A transaction is one such closure: it never spans an `.await`.
pub async fn db<T, E, F>(state: &AppState, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<anyhow::Error> + Send + 'static,
{
    let pool = state.pool.clone();
    let span = tracing::Span::current();
    web::block(move || {
        let _entered = span.enter();
        let mut conn = crate::db::checkout(&pool)
            .map_err(|e| E::from(anyhow::Error::new(e).context("no database connection")))?;
        f(&mut conn)
    })
    .await
    .map_err(|e| E::from(anyhow::anyhow!("blocking task failed: {e}")))?
}

/// [`db`] for a use case guarded by a one-time key (`keyed`): when the database connection is
/// lost mid-transaction — before or during `COMMIT`, the outcome unknown — it is run again on a
/// fresh connection, a bounded number of times. The key makes that safe: a first attempt that
/// committed is found and its outcome returned; one that did not commit acts now. Without a key
/// it is [`db`].
pub async fn db_once<T, E, F>(state: &AppState, keyed: bool, f: F) -> Result<T, E>
where
    F: Fn(&mut DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<anyhow::Error> + crate::db::TxError + Send + 'static,
{
    let pool = state.pool.clone();
    let span = tracing::Span::current();
    web::block(move || {
        let _entered = span.enter();
        retry_lost(keyed, || {
            let mut conn = crate::db::checkout(&pool)
                .map_err(|e| E::from(anyhow::Error::new(e).context("no database connection")))?;
            f(&mut conn)
        })
    })
    .await
    .map_err(|e| E::from(anyhow::anyhow!("blocking task failed: {e}")))?
}

/// On the blocking pool: run `f` again, a bounded number of times, while it fails because its
/// database connection was lost — only when `keyed` (guarded by a one-time key, so a first
/// attempt that did commit is found, not repeated). Each attempt takes a fresh connection.
pub fn retry_lost<T, E, F>(keyed: bool, mut f: F) -> Result<T, E>
where
    E: crate::db::TxError,
    F: FnMut() -> Result<T, E>,
{
    const ATTEMPTS: u32 = 3;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match f() {
            Err(e)
                if keyed
                    && attempt < ATTEMPTS
                    && e.database_error()
                        .is_some_and(crate::db::is_connection_lost) =>
            {
                tracing::warn!(attempt, "database connection lost mid-transaction: retried");
                std::thread::sleep(std::time::Duration::from_millis(100 * u64::from(attempt)));
            }
            other => return other,
        }
    }
}

/// Render a template with a status code.
pub fn render<T: Template>(
    status: actix_web::http::StatusCode,
    page: &T,
) -> Result<HttpResponse, AppError> {
    let html = page
        .render()
        .map_err(|e| AppError::Internal(anyhow::Error::new(e)))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// 303 See Other to `location`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish()
}

/// The routes that take a photo: multipart bodies up to [`csrf::MULTIPART_LIMIT`]. Every
/// other POST is a small form, up to [`csrf::FORM_LIMIT`].
pub const UPLOAD_ROUTES: [&str; 4] = [
    "/auctions",
    "/auctions/{id}/edit",
    "/market/new",
    "/market/{id}/photos",
];

/// The largest body a POST to `path` may have.
pub fn body_limit(path: &str) -> usize {
    static UPLOADS: std::sync::LazyLock<Vec<actix_web::dev::ResourceDef>> =
        std::sync::LazyLock::new(|| {
            UPLOAD_ROUTES
                .iter()
                .map(|p| actix_web::dev::ResourceDef::new(*p))
                .collect()
        });
    if UPLOADS.iter().any(|r| r.is_match(path)) {
        csrf::MULTIPART_LIMIT
    } else {
        csrf::FORM_LIMIT
    }
}

/// Every route of the site.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(auctions::browse::browse))
        .service(
            web::resource("/auctions")
                .route(web::get().to(auctions::browse::browse))
                .route(web::post().to(auctions::listing::create)),
        )
        .route("/auctions/new", web::get().to(auctions::listing::new_form))
        .route("/auctions/{id}", web::get().to(auctions::show::show))
        .route("/auctions/{id}/bids", web::post().to(auctions::bid::bid))
        .route(
            "/auctions/{id}/buy-now",
            web::post().to(auctions::bid::buy_now),
        )
        .service(
            web::resource("/auctions/{id}/edit")
                .route(web::get().to(auctions::listing::edit_form))
                .route(web::post().to(auctions::listing::edit)),
        )
        .route(
            "/auctions/{id}/cancel",
            web::post().to(auctions::listing::cancel),
        )
        .route("/me/listings", web::get().to(auctions::mine::my_listings))
        .route("/me/bids", web::get().to(auctions::mine::my_bids))
        .route(
            "/auctions/{id}/watch",
            web::post().to(auctions::watch::watch),
        )
        .route(
            "/me/watchlist",
            web::get().to(auctions::watch::my_watchlist),
        )
        .route("/notifications", web::get().to(notifications::list))
        .route(
            "/notifications/read-all",
            web::post().to(notifications::read_all),
        )
        .route("/notifications/{id}", web::get().to(notifications::open))
        .route("/me/live", web::get().to(me_live::me_live))
        .route("/static/js/me.js", web::get().to(pages::me_script))
        .route("/uploads/{name}", web::get().to(uploads::image))
        .route("/admin/auctions", web::get().to(admin::auctions))
        .route(
            "/admin/auctions/{id}/close",
            web::post().to(admin::close_auction),
        )
        .route(
            "/admin/auctions/{id}/cancel",
            web::post().to(admin::cancel_auction),
        )
        .route("/chats", web::get().to(chats::list))
        .route("/chats/{id}", web::get().to(chats::show))
        .route("/chats/{id}/messages", web::post().to(chats::actions::send))
        .route(
            "/auctions/{id}/chat",
            web::post().to(chats::actions::open_auction),
        )
        .route(
            "/market/{id}/chat",
            web::post().to(chats::actions::open_product),
        )
        .route("/users/{id}/block", web::post().to(chats::actions::block))
        .route(
            "/users/{id}/unblock",
            web::post().to(chats::actions::unblock),
        )
        .route("/static/js/chat.js", web::get().to(pages::chat_script))
        .route("/healthz", web::get().to(pages::healthz))
        .route("/static/css/site.css", web::get().to(pages::stylesheet))
        .route(
            "/static/css/charts.css",
            web::get().to(pages::chart_stylesheet),
        )
        .route("/static/js/live.js", web::get().to(pages::live_script))
        .route(
            "/static/js/checkout.js",
            web::get().to(pages::checkout_script),
        )
        .route("/auctions/{id}/live", web::get().to(auctions::live::live))
        .service(
            web::resource("/signup")
                .route(web::get().to(account::signup_form))
                .route(web::post().to(account::signup)),
        )
        .service(
            web::resource("/login")
                .route(web::get().to(account::login_form))
                .route(web::post().to(account::login)),
        )
        .service(web::resource("/logout").route(web::post().to(account::logout)))
        .service(web::resource("/lang").route(web::post().to(lang::set)))
        .route("/wallet", web::get().to(wallet::show))
        .service(web::resource("/wallet/top-up").route(web::post().to(wallet::top_up)))
        .service(
            web::resource(payments::COMPLETE_PATH)
                .route(web::get().to(payments::complete))
                .route(web::post().to(payments::complete)),
        )
        .route(payments::WEBHOOK_PATH, web::post().to(payments::webhook))
        .route("/payments/{merchant_uid}", web::get().to(payments::show))
        .route(
            "/payments/{merchant_uid}/cancel",
            web::post().to(payments::cancel),
        )
        .route("/market", web::get().to(market::list::list))
        .service(
            web::resource("/market/new")
                .route(web::get().to(market::sell::new_form))
                .route(web::post().to(market::sell::create)),
        )
        .route("/market/{id}", web::get().to(market::show::show))
        .service(
            web::resource("/market/{id}/photos")
                .route(web::get().to(photos::product_photos))
                .route(web::post().to(photos::add_product_photos)),
        )
        .route("/photos/{id}/move", web::post().to(photos::move_photo))
        .route("/photos/{id}/delete", web::post().to(photos::delete_photo))
        .route("/market/{id}/buy", web::post().to(market::trade::buy))
        .route(
            "/market/{id}/price",
            web::post().to(market::trade::change_price),
        )
        .route(
            "/trades/{id}/approve",
            web::post().to(market::trade::approve),
        )
        .route("/trades/{id}/reject", web::post().to(market::trade::reject))
        .route("/trades/{id}/cancel", web::post().to(market::trade::cancel))
        .route("/trades/{id}/review", web::post().to(market::trade::review))
        .route("/users/{id}", web::get().to(profiles::show))
        .route(
            "/trades/{id}/confirm",
            web::post().to(market::trade::confirm),
        )
        .route(
            "/trades/{id}/dispute",
            web::post().to(market::trade::dispute),
        )
        .route("/admin/disputes", web::get().to(admin_disputes::list))
        .route(
            "/admin/disputes/{id}/resolve",
            web::post().to(admin_disputes::resolve),
        )
        .route("/me/purchases", web::get().to(market::mine::purchases))
        .route(
            "/me/reservations",
            web::get().to(market::mine::reservations),
        )
        .route("/admin", web::get().to(admin::dashboard))
        .route("/admin/audit", web::get().to(admin::audit))
        .service(
            web::resource("/account")
                .route(web::get().to(account_profile::form))
                .route(web::post().to(account_profile::update)),
        )
        .service(
            web::resource("/account/password")
                .route(web::get().to(password::form))
                .route(web::post().to(password::change)),
        )
        .route("/admin/users", web::get().to(admin_users::list))
        .service(
            web::resource("/wallet/payouts")
                .route(web::get().to(payouts::show))
                .route(web::post().to(payouts::request)),
        )
        .route("/admin/payouts", web::get().to(payouts::queue))
        .route("/admin/payments", web::get().to(admin_payments::list))
        .route(
            "/admin/payments/{merchant_uid}/recheck",
            web::post().to(admin_payments::recheck_payment),
        )
        .route(
            "/admin/payouts/{id}/transfer",
            web::post().to(payouts::transfer),
        )
        .route(
            "/admin/payouts/{id}/reject",
            web::post().to(payouts::reject),
        )
        .route(
            "/admin/users/{id}/suspend",
            web::post().to(admin_users::suspend),
        )
        .route(
            "/admin/users/{id}/reactivate",
            web::post().to(admin_users::reactivate),
        );
}
