//! Sign-up, log-in and log-out pages.

use std::time::Duration;

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::msg::Msg;
use crate::domain::{DisplayName, Password, Username};
use crate::services::accounts::{self, NewAccount, Role, SignUpError};
use crate::services::reference::RegionGroup;
use crate::web::client_ip::client_ip;
use crate::web::next::safe_next;
use crate::web::ratelimit;
use crate::web::session::{self, flash};
use crate::web::{db, render, see_other, AppError, AppState, Ctx};

/// Sign-up form (`username`, `password`, `password_confirm`, `display_name`, `region_id`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignUpForm {
    pub username: String,
    pub password: String,
    pub password_confirm: String,
    pub display_name: String,
    pub region_id: String,
}

/// The sign-up page, blank or re-rendered with the reasons it was refused.
#[derive(Template)]
#[template(path = "account/signup.html")]
pub struct SignUpPage {
    pub ctx: Ctx,
    pub errors: Vec<String>,
    pub username: String,
    pub display_name: String,
    pub region_id: i64,
    pub groups: Vec<RegionGroup>,
}

pub async fn signup_form(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    if ctx.user.is_some() {
        return Ok(see_other("/"));
    }
    let groups = state.reference.neighbourhood_groups();
    render(
        StatusCode::OK,
        &SignUpPage {
            ctx,
            errors: vec![],
            username: String::new(),
            display_name: String::new(),
            region_id: 0,
            groups,
        },
    )
}

#[tracing::instrument(skip_all)]
pub async fn signup(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<SignUpForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let mut errors = Vec::new();
    let username = Username::parse(&form.username)
        .map_err(|e| errors.push(e))
        .ok();
    let display_name = DisplayName::parse(&form.display_name)
        .map_err(|e| errors.push(e))
        .ok();
    let password = Password::parse_new(&form.password, &form.password_confirm, &form.username)
        .map_err(|e| errors.push(e))
        .ok();
    let region_id = form.region_id.trim().parse::<i64>().ok();
    if region_id.is_none() {
        errors.push(Msg::new("err.choose_neighbourhood"));
    }

    let valid = match (username, display_name, password, region_id) {
        (Some(username), Some(display_name), Some(password), Some(region_id))
            if errors.is_empty() =>
        {
            let new = NewAccount {
                username,
                display_name,
                region_id,
                role: Role::Member,
            };
            Some((new, password))
        }
        _ => None,
    };

    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    let mut retry_after = None;
    let mut outcome = None;
    if let Some((new, password)) = valid {
        // Every sign-up that gets this far costs a password hash, and counts.
        let ip = ratelimit::ip_key(client_ip(&req));
        match state.signups_by_ip.check(&ip) {
            Err(wait) => {
                tracing::warn!(client.ip = %ip, "sign-up rate limit reached");
                errors.push(Msg::new("err.signup_throttled").arg("wait", describe_wait(wait)));
                status = StatusCode::TOO_MANY_REQUESTS;
                retry_after = Some(wait);
            }
            Ok(()) => {
                let hash = state
                    .passwords
                    .run(move || accounts::hash_password(&password))
                    .await?
                    .map_err(AppError::Internal)?;
                let result: Result<i64, SignUpError> = db(&state, move |conn| {
                    accounts::create_account(conn, &new, &hash)
                })
                .await;
                match result {
                    Ok(id) => outcome = Some(id),
                    Err(e) => errors.extend(AppError::from(e).into_msgs()?),
                }
            }
        }
    }

    if let Some(user_id) = outcome {
        session::log_in(&state, &session, user_id).await?;
        flash(&session, "success", Msg::new("flash.welcome"));
        return Ok(see_other("/"));
    }
    let ctx = Ctx::load(&req).await?;
    let groups = state.reference.neighbourhood_groups();
    let mut resp = render(
        status,
        &SignUpPage {
            errors: Msg::texts(&errors, ctx.lang),
            ctx,
            username: clip(&form.username, 40),
            display_name: clip(&form.display_name, 60),
            region_id: region_id.unwrap_or(0),
            groups,
        },
    )?;
    if let Some(wait) = retry_after {
        set_retry_after(&mut resp, wait);
    }
    Ok(resp)
}

/// `Retry-After` in whole seconds, at least 1.
fn set_retry_after(resp: &mut HttpResponse, wait: Duration) {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    resp.headers_mut().insert(
        actix_web::http::header::RETRY_AFTER,
        actix_web::http::header::HeaderValue::from(secs),
    );
}

/// Keep re-rendered input short (a 10 KB username is not echoed back whole).
fn clip(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    pub username: String,
    pub password: String,
    pub next: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NextQuery {
    pub next: String,
}

/// The log-in page.
#[derive(Template)]
#[template(path = "account/login.html")]
pub struct LoginPage {
    pub ctx: Ctx,
    pub error: Option<String>,
    pub username: String,
    pub next: String,
}

pub async fn login_form(ctx: Ctx, query: web::Query<NextQuery>) -> Result<HttpResponse, AppError> {
    if ctx.user.is_some() {
        return Ok(see_other("/"));
    }
    render(
        StatusCode::OK,
        &LoginPage {
            ctx,
            error: None,
            username: String::new(),
            next: safe_next(&query.next).unwrap_or_default(),
        },
    )
}

#[tracing::instrument(skip_all)]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let next = safe_next(&form.next).unwrap_or_default();
    let ip = ratelimit::ip_key(client_ip(&req));
    let username = Username::parse(&form.username).ok();
    let limit_key = username.as_ref().map_or_else(
        || clip(&form.username, 40).to_lowercase(),
        |u| u.as_str().to_owned(),
    );

    let attempt = match state.login_throttle.begin(&ip, &limit_key) {
        Ok(attempt) => attempt,
        Err(wait) => {
            tracing::warn!(client.ip = %ip, "login throttled");
            return login_refused(
                &req,
                StatusCode::TOO_MANY_REQUESTS,
                Msg::new("err.login_throttled").arg("wait", describe_wait(wait)),
                &form.username,
                next,
                Some(wait),
            )
            .await;
        }
    };

    let user_id = match (username, Password::parse_any(&form.password)) {
        (Some(username), Some(password)) => {
            let found = db(&state, move |conn| {
                accounts::find_login(conn, &username).map_err(anyhow::Error::new)
            })
            .await?;
            state
                .passwords
                .run(move || accounts::check_password(found.as_ref(), &password))
                .await?
        }
        _ => None,
    };
    match user_id {
        Some(id) => {
            state.login_throttle.succeeded(attempt);
            session::log_in(&state, &session, id).await?;
            flash(&session, "success", Msg::new("flash.logged_in"));
            Ok(see_other(if next.is_empty() { "/" } else { &next }))
        }
        None => {
            state.login_throttle.failed(attempt);
            login_refused(
                &req,
                StatusCode::UNPROCESSABLE_ENTITY,
                Msg::new("err.login_wrong"),
                &form.username,
                next,
                None,
            )
            .await
        }
    }
}

async fn login_refused(
    req: &HttpRequest,
    status: StatusCode,
    error: Msg,
    username: &str,
    next: String,
    retry_after: Option<Duration>,
) -> Result<HttpResponse, AppError> {
    let ctx = Ctx::load(req).await?;
    let mut resp = render(
        status,
        &LoginPage {
            error: Some(error.text(ctx.lang)),
            username: clip(username, 40),
            next,
            ctx,
        },
    )?;
    if let Some(wait) = retry_after {
        set_retry_after(&mut resp, wait);
    }
    Ok(resp)
}

fn describe_wait(wait: Duration) -> Msg {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    match secs {
        1 => Msg::new("wait.second"),
        2..90 => Msg::new("wait.seconds").arg("n", secs),
        _ => Msg::new("wait.minutes").arg("n", secs.div_ceil(60)),
    }
}

/// End the session on the server and forget the cookie.
pub async fn logout(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, AppError> {
    session::log_out(&state, &session).await?;
    flash(&session, "info", Msg::new("flash.logged_out"));
    Ok(see_other("/"))
}
