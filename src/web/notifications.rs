//! The notification centre: `/notifications` (newest first, paged), `GET /notifications/{id}`
//! (marks it read and goes to its page), `POST /notifications/read-all`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::services::notify::{self, PER_PAGE};
use crate::views::notification::{link, sentence};
use crate::web::{db, page_number, render, see_other, AppError, AppState, Ctx, Pager, SessionUser};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    pub page: String,
}

pub struct Line {
    pub id: i64,
    pub sentence: String,
    pub at: crate::views::i18n::Moment,
    pub unread: bool,
}

/// `/notifications`: the member's notifications, newest first, 20 a page.
#[derive(Template)]
#[template(path = "notifications/list.html")]
pub struct NotificationsPage {
    pub ctx: Ctx,
    pub lines: Vec<Line>,
    pub total: i64,
    pub pager: Pager,
}

pub async fn list(
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.id;
    let page = page_number(&query.page);
    let (rows, total) = db(&state, move |conn| {
        notify::page_of(conn, me, page).map_err(anyhow::Error::new)
    })
    .await?;
    let lines = rows
        .iter()
        .map(|n| Line {
            id: n.id,
            sentence: sentence(n, ctx.lang),
            at: ctx.moment(&n.created_at),
            unread: n.is_unread(),
        })
        .collect();
    let pager = Pager::new(page, total, PER_PAGE, "/notifications", &[]);
    render(
        StatusCode::OK,
        &NotificationsPage {
            ctx,
            lines,
            total,
            pager,
        },
    )
}

/// `GET /notifications/{id}`: mark it read and go to the page it is about. Only its member may;
/// anyone else gets 404, as for a missing one.
#[tracing::instrument(skip_all, fields(notification.id = *path))]
pub async fn open(
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.id;
    let id = path.into_inner();
    let n = db(&state, move |conn| notify::open(conn, me, id)).await?;
    Ok(see_other(&link(&n)))
}

/// `POST /notifications/read-all`.
#[tracing::instrument(skip_all, fields(user.id = user.id))]
pub async fn read_all(
    user: SessionUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let me = user.id;
    db(&state, move |conn| notify::mark_all_read(conn, me)).await?;
    Ok(see_other("/notifications"))
}
