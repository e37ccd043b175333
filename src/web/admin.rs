//! Admin pages: the dashboard and the money audit.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use crate::domain::money::group_thousands;
use crate::domain::msg::Msg;
use crate::services::audit::{self, AuditReport};
use crate::services::charts;
use crate::views::chart::{activity_charts, DailyChart};
use crate::web::session::flash;
use crate::web::{db, render, see_other, AppError, AppState, Ctx};

/// `/admin`: the money at a glance and links to the admin tools.
#[derive(Template)]
#[template(path = "admin/dashboard.html")]
pub struct DashboardPage {
    pub ctx: Ctx,
    pub report: AuditReport,
    /// The last [`ACTIVITY_DAYS`] days as bar charts (bids, sales, top-ups, refunds).
    pub charts: Vec<DailyChart>,
}

/// Days the dashboard's charts cover, today (in the site's time zone) the last.
pub const ACTIVITY_DAYS: u32 = 30;

pub async fn dashboard(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    ctx.require_admin()?;
    let tz = state.settings.timezone;
    let today = crate::services::now()
        .and_utc()
        .with_timezone(&tz)
        .date_naive();
    let (report, activity) = db(&state, move |conn| {
        Ok::<_, anyhow::Error>((
            audit::run(conn)?,
            charts::daily_activity(conn, tz, today, ACTIVITY_DAYS)?,
        ))
    })
    .await?;
    let charts = activity_charts(&activity);
    render(
        StatusCode::OK,
        &DashboardPage {
            ctx,
            report,
            charts,
        },
    )
}

/// `/admin/audit`: every check of `neighborbid audit`, with each difference named.
#[derive(Template)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    pub ctx: Ctx,
    pub report: AuditReport,
}

impl AuditPage {
    pub fn won(&self, n: &i64) -> String {
        won_in(self.ctx.lang, *n)
    }
}

impl DashboardPage {
    pub fn won(&self, n: i64) -> String {
        won_in(self.ctx.lang, n)
    }
}

/// A total (it may be any `i64`) as the page's language writes money.
fn won_in(lang: crate::domain::lang::Lang, n: i64) -> String {
    match lang {
        crate::domain::lang::Lang::Ko => format!("{}원", group_thousands(n)),
        crate::domain::lang::Lang::En => format!("₩{}", group_thousands(n)),
    }
}

pub async fn audit(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    ctx.require_admin()?;
    let report = db(&state, audit::run).await?;
    render(StatusCode::OK, &AuditPage { ctx, report })
}

/// `/admin/auctions`: open auctions past their end (Close) and every open auction (Cancel).
#[derive(Template)]
#[template(path = "admin/auctions.html")]
pub struct AdminAuctionsPage {
    pub ctx: Ctx,
    pub due: Vec<AdminAuctionRow>,
    pub open: Vec<AdminAuctionRow>,
}

pub struct AdminAuctionRow {
    pub id: i64,
    pub title: String,
    pub price: crate::domain::Won,
    pub bid_count: i32,
    pub ends_at: String,
}

pub async fn auctions(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    ctx.require_admin()?;
    let at = crate::services::now();
    let (due, open) = db(&state, move |conn| {
        Ok::<_, anyhow::Error>((
            crate::services::auctions::past_end(conn, at, 200)?,
            crate::services::auctions::open_auctions(conn, 200)?,
        ))
    })
    .await?;
    let row = |a: &crate::services::auctions::Auction| AdminAuctionRow {
        id: a.id,
        title: a.title.clone(),
        price: a.current_price(),
        bid_count: a.bid_count,
        ends_at: ctx.time(&a.ends_at),
    };
    let due = due.iter().map(row).collect();
    let open = open.iter().map(row).collect();
    render(StatusCode::OK, &AdminAuctionsPage { ctx, due, open })
}

/// Close a past-end auction now (what the scheduler does, by hand).
pub async fn close_auction(
    ctx: Ctx,
    session: actix_session::Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    ctx.require_admin()?;
    let id = path.into_inner();
    let auto_confirm = state.settings.market_auto_confirm;
    let result = db(&state, move |conn| {
        crate::services::bidding::close_auction(conn, id, crate::services::now(), auto_confirm)
    })
    .await;
    let session = &session;
    match result {
        Ok(closed) => {
            let label = Msg::new(closed.status.key());
            state.live.after_commit(closed.event);
            flash(
                session,
                "success",
                Msg::new("flash.admin.auction_closed")
                    .arg("id", id)
                    .arg("label", label),
            );
        }
        Err(e) => {
            let why = AppError::from(e).into_msgs()?;
            flash(
                session,
                "error",
                Msg::new("flash.admin.auction_refused")
                    .arg("id", id)
                    .arg("why", why),
            );
        }
    }
    Ok(see_other("/admin/auctions"))
}

/// Cancel any open auction; the leader's hold is released.
pub async fn cancel_auction(
    ctx: Ctx,
    session: actix_session::Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    ctx.require_admin()?;
    let id = path.into_inner();
    let uploads = state.settings.data_dir.join("uploads");
    let result = db(&state, move |conn| {
        crate::services::bidding::cancel_auction(
            conn,
            &uploads,
            id,
            crate::services::bidding::Canceller::Admin,
            crate::services::now(),
        )
    })
    .await;
    let session = &session;
    match result {
        Ok(cancelled) => {
            state.live.after_commit(cancelled.event);
            flash(
                session,
                "success",
                match cancelled.released {
                    Some((_, amount)) => Msg::new("flash.admin.auction_cancelled_released")
                        .arg("id", id)
                        .arg("amount", amount),
                    None => Msg::new("flash.admin.auction_cancelled").arg("id", id),
                },
            );
        }
        Err(e) => {
            let why = AppError::from(e).into_msgs()?;
            flash(
                session,
                "error",
                Msg::new("flash.admin.auction_refused")
                    .arg("id", id)
                    .arg("why", why),
            );
        }
    }
    Ok(see_other("/admin/auctions"))
}
