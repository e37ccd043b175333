//! One error type for handlers, and the one place where every use case's error becomes an HTTP
//! answer: each arm maps to a status and a templated page (or a live-panel notice), once.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::db;
use crate::services::accounts::{SignUpError, UpdateProfileError};
use crate::services::auctions::ListingError;
use crate::services::bidding::{BuyNowError, CancelError, CloseError, PlaceBidError};
use crate::services::chat::{BlockError, OpenChatError, SendMessageError, ViewChatError};
use crate::services::market::{
    BuyError, CancelTradeError, ChangePriceError, ConfirmError, CreateProductError, DecideError,
    DisputeError, ResolveError,
};
use crate::services::notify::OpenNotificationError;
use crate::services::password::ChangePasswordError;
use crate::services::payments::{TopUpError, VerifyError};
use crate::services::payments_admin::RecheckError;
use crate::services::payouts::{DecidePayoutError, RequestPayoutError};
use crate::services::photos::PhotoError;
use crate::services::refunds::RefundError;
use crate::services::reviews::ReviewError;
use crate::services::users::{ReactivateError, SuspendError};
use crate::services::wallet::DepositError;
use crate::services::watchlist::WatchError;
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
    /// A rule of the use case refused the request (422); the reason is shown.
    #[error("refused: {0}")]
    Rejected(String),
    /// Several reasons at once (a form with more than one bad field), 422.
    #[error("invalid: {}", .0.join(" "))]
    Invalid(Vec<String>),
    #[error("payload too large")]
    PayloadTooLarge,
    /// Too many requests or connections from one user or address (429).
    #[error("too many: {0}")]
    TooMany(String),
    /// Every upload slot is taken: 503 with `Retry-After`.
    #[error("too many uploads at once")]
    Busy,
    /// The database cannot be reached (pool timeout, lost connection): 503 with `Retry-After`.
    #[error("database unavailable: {0:#}")]
    Unavailable(anyhow::Error),
    #[error(transparent)]
    Internal(anyhow::Error),
}

/// Seconds a client is asked to wait while the database is away.
pub const RETRY_AFTER_SECONDS: u64 = 5;

impl AppError {
    /// A refusal that the page which was posted shows again: its status and reason
    /// (422 for a broken rule, 403 for someone else's thing). `None` for everything else.
    pub fn refusal(&self) -> Option<(StatusCode, String)> {
        match self {
            AppError::Rejected(why) => Some((StatusCode::UNPROCESSABLE_ENTITY, why.clone())),
            AppError::Invalid(why) => Some((StatusCode::UNPROCESSABLE_ENTITY, why.join(" "))),
            AppError::Forbidden(why) => Some((StatusCode::FORBIDDEN, why.clone())),
            _ => None,
        }
    }

    /// For a page that shows a refusal itself (a form re-rendered with its reasons): the
    /// reasons of a 422, or the error to answer with instead.
    pub fn into_reasons(self) -> Result<Vec<String>, AppError> {
        match self {
            AppError::Rejected(why) => Ok(vec![why]),
            AppError::Invalid(why) => Ok(why),
            other => Err(other),
        }
    }

    /// The title and the sentence a person reads (page or live-panel notice).
    pub fn title_and_message(&self) -> (&'static str, String) {
        match self {
            AppError::NotFound => (
                "Page not found",
                "There is nothing at this address. It may have been removed, or the link is wrong."
                    .to_owned(),
            ),
            AppError::LoginRequired { .. } => ("Log in", "Log in first.".to_owned()),
            AppError::Forbidden(why) => ("Not allowed", why.clone()),
            AppError::Csrf => (
                "Form expired",
                "This form's security token is missing or out of date. Go back, reload the page and try again."
                    .to_owned(),
            ),
            AppError::BadRequest(why) => ("Bad request", why.clone()),
            AppError::Rejected(why) => ("Not possible", why.clone()),
            AppError::Invalid(why) => ("Not possible", why.join(" ")),
            AppError::PayloadTooLarge => (
                "Too large",
                "What you sent is larger than this form accepts.".to_owned(),
            ),
            AppError::TooMany(why) => ("Slow down", why.clone()),
            AppError::Busy => (
                "Busy",
                "Many photos are being uploaded right now. Nothing was saved; please send the form again in a few seconds."
                    .to_owned(),
            ),
            AppError::Unavailable(_) => (
                "Back in a moment",
                "The site cannot reach its database right now. Nothing was changed; please try again in a few seconds."
                    .to_owned(),
            ),
            AppError::Internal(_) => (
                "Something went wrong",
                "The server could not finish this request. Nothing was changed; please try again."
                    .to_owned(),
            ),
        }
    }

    /// Log what the person does not see (the cause of a 5xx), once.
    pub fn log(&self) {
        match self {
            AppError::Internal(e) => tracing::error!(error = format!("{e:#}"), "internal error"),
            AppError::Unavailable(e) => {
                tracing::warn!(error = format!("{e:#}"), "database unavailable");
            }
            _ => {}
        }
    }
}

/// An unexpected failure: the database being away is a 503, a missing row a 404, the rest 500.
impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        if db::is_unavailable(&e) {
            return AppError::Unavailable(e);
        }
        match e.downcast_ref::<diesel::result::Error>() {
            Some(diesel::result::Error::NotFound) => AppError::NotFound,
            _ => AppError::Internal(e),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::from(anyhow::Error::new(e))
    }
}

/// How each use case's refusals reach people, in one place: `Unexpected` as above, then each
/// listed variant as 404 or 403, and every other variant (a rule) as a 422 with its text.
macro_rules! use_case_errors {
    ($($t:ty { not_found: [$($nf:ident),*], forbidden: [$($fb:ident),*] })*) => {$(
        impl From<$t> for AppError {
            fn from(e: $t) -> Self {
                type E = $t;
                match e {
                    E::Unexpected(e) => AppError::from(e),
                    $(E::$nf { .. } => AppError::NotFound,)*
                    $(e @ E::$fb { .. } => AppError::Forbidden(e.to_string()),)*
                    #[allow(unreachable_patterns, reason = "some use cases have no rule left")]
                    rule => AppError::Rejected(rule.to_string()),
                }
            }
        }
    )*};
}

use_case_errors! {
    PlaceBidError { not_found: [NotFound], forbidden: [OwnAuction, NotNeighbour] }
    BuyNowError { not_found: [NotFound], forbidden: [OwnAuction, NotNeighbour] }
    CloseError { not_found: [NotFound], forbidden: [] }
    CancelError { not_found: [NotFound], forbidden: [NotAllowed] }
    SignUpError { not_found: [], forbidden: [] }
    DepositError { not_found: [], forbidden: [NoWallet] }
    CreateProductError { not_found: [], forbidden: [] }
    ChangePriceError { not_found: [NotFound], forbidden: [NotSeller] }
    BuyError { not_found: [NotFound], forbidden: [] }
    DecideError { not_found: [NotFound], forbidden: [NotSeller] }
    ConfirmError { not_found: [NotFound], forbidden: [NotBuyer] }
    CancelTradeError { not_found: [NotFound], forbidden: [NotBuyer] }
    DisputeError { not_found: [NotFound], forbidden: [NotParty] }
    ResolveError { not_found: [NotFound], forbidden: [] }
    RequestPayoutError { not_found: [], forbidden: [] }
    RefundError { not_found: [NotFound], forbidden: [] }
    DecidePayoutError { not_found: [NotFound], forbidden: [] }
    ChangePasswordError { not_found: [NotFound], forbidden: [] }
    SuspendError { not_found: [NotFound], forbidden: [OwnAccount, Admin] }
    ReactivateError { not_found: [NotFound], forbidden: [] }
    WatchError { not_found: [NotFound], forbidden: [] }
    OpenNotificationError { not_found: [NotFound], forbidden: [] }
    ReviewError { not_found: [NotFound], forbidden: [NotParty] }
    UpdateProfileError { not_found: [NotFound], forbidden: [] }
    PhotoError { not_found: [NotFound], forbidden: [NotYours] }
    OpenChatError { not_found: [NotFound], forbidden: [] }
    ViewChatError { not_found: [NotFound], forbidden: [NotAllowed] }
    SendMessageError { not_found: [NotFound], forbidden: [NotAllowed] }
    BlockError { not_found: [NotFound], forbidden: [] }
}

impl From<ListingError> for AppError {
    fn from(e: ListingError) -> Self {
        match e {
            ListingError::Unexpected(e) => AppError::from(e),
            ListingError::NotFound => AppError::NotFound,
            e @ ListingError::NotYours => AppError::Forbidden(e.to_string()),
            ListingError::Invalid(reasons) => AppError::Invalid(reasons),
            e @ (ListingError::Locked
            | ListingError::TooManyPhotos { .. }
            | ListingError::PhotoLimit { .. }) => AppError::Rejected(e.to_string()),
        }
    }
}

impl From<TopUpError> for AppError {
    fn from(e: TopUpError) -> Self {
        match e {
            TopUpError::Unexpected(e) => AppError::from(e),
            e @ TopUpError::PortOneUnavailable => AppError::Unavailable(anyhow::anyhow!("{e}")),
            rule => AppError::Rejected(rule.to_string()),
        }
    }
}

/// A payment notice that names no payment of ours, or one PortOne does not know: 404; one whose
/// order disagrees with PortOne's: 400; PortOne unreachable: 503 (PortOne retries on 5xx).
impl From<RecheckError> for AppError {
    fn from(e: RecheckError) -> Self {
        match e {
            RecheckError::Unexpected(e) => AppError::from(e),
            RecheckError::NotFound => AppError::NotFound,
            e @ RecheckError::NoImpUid => AppError::Rejected(e.to_string()),
            RecheckError::Verify(e) => AppError::from(e),
        }
    }
}

impl From<VerifyError> for AppError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::Unexpected(e) => AppError::from(e),
            VerifyError::UnknownMerchantUid | VerifyError::UnknownPayment => AppError::NotFound,
            e @ VerifyError::Mismatch => AppError::BadRequest(e.to_string()),
            VerifyError::PortOne(e) => AppError::Unavailable(anyhow::Error::new(e)),
        }
    }
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
            AppError::Rejected(_) | AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) | AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::LoginRequired { next } = self {
            let location = format!("/login?next={}", urlencode(next));
            return HttpResponse::SeeOther()
                .insert_header((actix_web::http::header::LOCATION, location))
                .finish();
        }
        self.log();
        let (title, message) = self.title_and_message();
        let status = self.status_code();
        let page = ErrorPage {
            ctx: Ctx::anonymous(),
            status: status.as_u16(),
            title,
            message,
        };
        let body = page.render().unwrap_or_else(|_| title.to_owned());
        let mut response = HttpResponse::build(status);
        if matches!(self, AppError::Unavailable(_) | AppError::Busy) {
            response.insert_header((
                actix_web::http::header::RETRY_AFTER,
                RETRY_AFTER_SECONDS.to_string(),
            ));
        }
        response.content_type("text/html; charset=utf-8").body(body)
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
