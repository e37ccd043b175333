//! Admin pages: the dashboard and the money audit.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use crate::domain::money::group_thousands;
use crate::services::audit::{self, AuditReport};
use crate::web::{db, render, AppError, AppState, Ctx};

/// `/admin`: the money at a glance and links to the admin tools.
#[derive(Template)]
#[template(path = "admin/dashboard.html")]
pub struct DashboardPage {
    pub ctx: Ctx,
    pub report: AuditReport,
}

pub async fn dashboard(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    ctx.require_admin()?;
    let report = db(&state, audit::run).await?;
    render(StatusCode::OK, &DashboardPage { ctx, report })
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
        format!("₩{}", group_thousands(*n))
    }
}

impl DashboardPage {
    pub fn won(&self, n: i64) -> String {
        format!("₩{}", group_thousands(n))
    }
}

pub async fn audit(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    ctx.require_admin()?;
    let report = db(&state, audit::run).await?;
    render(StatusCode::OK, &AuditPage { ctx, report })
}
