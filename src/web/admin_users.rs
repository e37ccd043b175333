//! `/admin/users`: find users (search, paging), suspend and reactivate them. A suspension ends
//! the user's sessions in the same transaction, and their live sockets in this process at once.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::msg::Msg;
use crate::services::users::{self, StatusChange};
use crate::web::error::urlencode;
use crate::web::session::flash;
use crate::web::{db, page_number, render, see_other, AppError, AppState, Ctx, Pager};

/// Users a page.
const PER_PAGE: i64 = 20;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UsersQuery {
    pub q: String,
    pub page: String,
}

/// Every user, searchable by username or display name, with Suspend or Reactivate.
#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    pub ctx: Ctx,
    pub q: String,
    pub total: i64,
    pub lines: Vec<UserRow>,
    pub pager: Pager,
    pub error: Option<String>,
}

pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub is_active: bool,
    pub is_me: bool,
    pub joined: String,
}

pub async fn list(
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<UsersQuery>,
) -> Result<HttpResponse, AppError> {
    ctx.require_admin()?;
    let page = page_number(&query.page);
    users_page(ctx, &state, &query.q, page, StatusCode::OK, None).await
}

async fn users_page(
    ctx: Ctx,
    state: &AppState,
    q: &str,
    page: i64,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let me = ctx.require_admin()?.id;
    let q: String = q.trim().chars().take(100).collect();
    let text = q.clone();
    let (found, total) = db(state, move |conn| {
        users::search(conn, &text, page, PER_PAGE).map_err(anyhow::Error::new)
    })
    .await?;
    let lines = found
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            is_admin: u.is_admin(),
            is_me: u.id == me,
            joined: ctx.time(&u.created_at),
            username: u.username,
            display_name: u.display_name,
            is_active: u.is_active,
        })
        .collect();
    let pager = Pager::new(page, total, PER_PAGE, "/admin/users", &[("q", q.clone())]);
    render(
        status,
        &UsersPage {
            ctx,
            q,
            total,
            lines,
            pager,
            error,
        },
    )
}

/// Suspend a member: their sessions end, their sockets close, they cannot log in.
#[tracing::instrument(skip_all, fields(user.id = *path))]
pub async fn suspend(
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let admin = ctx.require_admin()?.id;
    let id = path.into_inner();
    let result = db(&state, move |conn| users::suspend(conn, admin, id)).await;
    match result {
        Ok(change) => {
            state.live.sessions_ended(change.user_id);
            let message = match (change.changed, change.sessions_ended) {
                (true, 1) => Msg::new("flash.admin.suspended.one"),
                (true, _) => Msg::new("flash.admin.suspended.other"),
                (false, _) => Msg::new("flash.admin.already_suspended"),
            }
            .arg("name", &change.username)
            .arg("n", change.sessions_ended);
            done(&session, &change, message)
        }
        Err(e) => refused(ctx, &state, AppError::from(e)).await,
    }
}

/// Let a suspended user log in again.
#[tracing::instrument(skip_all, fields(user.id = *path))]
pub async fn reactivate(
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    ctx.require_admin()?;
    let id = path.into_inner();
    let result = db(&state, move |conn| users::reactivate(conn, id)).await;
    match result {
        Ok(change) => {
            let message = if change.changed {
                Msg::new("flash.admin.reactivated")
            } else {
                Msg::new("flash.admin.not_suspended")
            }
            .arg("name", &change.username);
            done(&session, &change, message)
        }
        Err(e) => refused(ctx, &state, AppError::from(e)).await,
    }
}

fn done(session: &Session, change: &StatusChange, message: Msg) -> Result<HttpResponse, AppError> {
    flash(session, "success", message);
    Ok(see_other(&format!(
        "/admin/users?q={}",
        urlencode(&change.username)
    )))
}

/// A refused action: the list again with the status and the reason (a missing user is a 404).
async fn refused(ctx: Ctx, state: &AppState, e: AppError) -> Result<HttpResponse, AppError> {
    let (status, why) = e.refusal(ctx.lang).ok_or(e)?;
    users_page(ctx, state, "", 1, status, Some(why)).await
}
