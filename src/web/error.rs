//! One error type for handlers; each arm maps to a status and a templated page, once.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::web::ctx::Ctx;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Not logged in: 303 to the login page, then back to `next`.
    #[error("login required")]
    LoginRequired { next: String },
    #[error("the form's security token is missing or stale")]
    Csrf,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The 4xx/5xx page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub ctx: Ctx,
    pub status: u16,
    pub title: &'static str,
    pub message: String,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (title, message) = match self {
            AppError::LoginRequired { next } => {
                let location = format!("/login?next={}", urlencode(next));
                return HttpResponse::SeeOther()
                    .insert_header((actix_web::http::header::LOCATION, location))
                    .finish();
            }
            AppError::NotFound => (
                "Page not found",
                "There is nothing at this address. It may have been removed, or the link is wrong."
                    .to_owned(),
            ),
            AppError::Forbidden(why) => ("Not allowed", why.clone()),
            AppError::Csrf => (
                "Form expired",
                "This form's security token is missing or out of date. Go back, reload the page and try again."
                    .to_owned(),
            ),
            AppError::BadRequest(why) => ("Bad request", why.clone()),
            AppError::PayloadTooLarge => (
                "Too large",
                "What you sent is larger than this form accepts.".to_owned(),
            ),
            AppError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error");
                (
                    "Something went wrong",
                    "The server could not finish this request. Nothing was changed; please try again."
                        .to_owned(),
                )
            }
        };
        let status = self.status_code();
        let page = ErrorPage {
            ctx: Ctx::anonymous(),
            status: status.as_u16(),
            title,
            message,
        };
        let body = page.render().unwrap_or_else(|_| title.to_owned());
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body)
    }
}

/// Percent-encode a query value.
pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|q| q.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// Map actix's own extractor errors (malformed form or query) to our pages.
pub fn form_error(
    err: actix_web::error::UrlencodedError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    match err {
        actix_web::error::UrlencodedError::Overflow { .. } => AppError::PayloadTooLarge.into(),
        other => AppError::BadRequest(format!("The form could not be read: {other}")).into(),
    }
}

pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    AppError::BadRequest(format!("The address could not be read: {err}")).into()
}

pub fn path_error(
    _err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    AppError::NotFound.into()
}
