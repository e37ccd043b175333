//! `GET, POST /account/password`: change the password. The current password is required, the
//! new one follows the sign-up rule; on success every other session of the user ends and this
//! browser gets a new one.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::msg::Msg;
use crate::domain::Password;
use crate::services::now;
use crate::services::password::{
    check_and_hash, replace_password, stored_hash, ChangePasswordError,
};
use crate::services::sessions::SessionKey;
use crate::web::client_ip::client_ip;
use crate::web::ratelimit;
use crate::web::session::{self, flash, new_token};
use crate::web::{db, render, see_other, AppError, AppState, Ctx};

/// The form: `current_password`, `new_password`, `new_password_confirm`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    pub current_password: String,
    pub new_password: String,
    pub new_password_confirm: String,
}

/// The password change form, blank or with the reasons it was refused.
#[derive(Template)]
#[template(path = "account/password.html")]
pub struct PasswordPage {
    pub ctx: Ctx,
    pub errors: Vec<String>,
}

pub async fn form(ctx: Ctx) -> Result<HttpResponse, AppError> {
    ctx.require_user()?;
    render(
        StatusCode::OK,
        &PasswordPage {
            ctx,
            errors: vec![],
        },
    )
}

#[tracing::instrument(skip_all)]
pub async fn change(
    req: HttpRequest,
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let user = ctx.require_user()?;
    let (user_id, username) = (user.id, user.username.clone());
    let mut errors = Vec::new();
    let current = Password::parse_any(&form.current_password);
    if current.is_none() {
        errors.push(Msg::new("err.password.current_empty"));
    }
    let new = Password::parse_new(&form.new_password, &form.new_password_confirm, &username)
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(current), Some(new), true) = (current, new, errors.is_empty()) else {
        return refused(ctx, StatusCode::UNPROCESSABLE_ENTITY, errors);
    };
    // Checking the current password is a login attempt: a stolen session cannot guess it.
    let ip = ratelimit::ip_key(client_ip(&req));
    let attempt = match state.login_throttle.begin(&ip, &username) {
        Ok(attempt) => attempt,
        Err(_) => {
            tracing::warn!(user.id = user_id, "password change rate limit reached");
            return refused(
                ctx,
                StatusCode::TOO_MANY_REQUESTS,
                vec![Msg::new("err.password.throttled")],
            );
        }
    };
    let key = SessionKey::new(user_id, new_token());
    let row = key.clone();
    let old_hash = db(&state, move |conn| stored_hash(conn, user_id)).await?;
    let checked = old_hash.clone();
    let new_hash = match state
        .passwords
        .run(move || check_and_hash(&checked, &current, &new))
        .await?
    {
        Ok(hash) => {
            state.login_throttle.succeeded(attempt);
            hash
        }
        Err(e) => {
            if matches!(e, ChangePasswordError::WrongPassword) {
                state.login_throttle.failed(attempt);
            } else {
                state.login_throttle.succeeded(attempt);
            }
            let reasons = AppError::from(e).into_msgs()?;
            return refused(ctx, StatusCode::UNPROCESSABLE_ENTITY, reasons);
        }
    };
    let result = db(&state, move |conn| {
        replace_password(conn, user_id, &old_hash, &new_hash, &row, now())
    })
    .await;
    match result {
        Ok(ended) => {
            session::adopt(&session, &key)?;
            state.live.sessions_ended(user_id);
            let others = ended.saturating_sub(1);
            flash(
                &session,
                "success",
                Msg::new(if others == 1 {
                    "flash.password.changed.one"
                } else {
                    "flash.password.changed.other"
                })
                .arg("n", others),
            );
            Ok(see_other("/account/password"))
        }
        Err(e) => {
            let reasons = AppError::from(e).into_msgs()?;
            refused(ctx, StatusCode::UNPROCESSABLE_ENTITY, reasons)
        }
    }
}

fn refused(ctx: Ctx, status: StatusCode, errors: Vec<Msg>) -> Result<HttpResponse, AppError> {
    let errors = Msg::texts(&errors, ctx.lang);
    render(status, &PasswordPage { ctx, errors })
}
