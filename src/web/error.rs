//! One error type for handlers, and the one place where every use case's error becomes an HTTP
//! answer: each arm maps to a status and a templated page (or a live-panel notice), once.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::db;
use crate::domain::lang::Lang;
use crate::domain::msg::Msg;
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
    #[error("forbidden: {}", .0.text(Lang::En))]
    Forbidden(Msg),
    /// Not logged in: 303 to the login page, then back to `next`.
    #[error("login required")]
    LoginRequired { next: String },
    #[error("the form's security token is missing or stale")]
    Csrf,
    #[error("bad request: {}", .0.text(Lang::En))]
    BadRequest(Msg),
    /// A rule of the use case refused the request (422); the reason is shown.
    #[error("refused: {}", .0.text(Lang::En))]
    Rejected(Msg),
    /// Several reasons at once (a form with more than one bad field), 422.
    #[error("invalid: {}", Msg::join(.0, Lang::En))]
    Invalid(Vec<Msg>),
    #[error("payload too large")]
    PayloadTooLarge,
    /// Too many requests or connections from one user or address (429).
    #[error("too many: {}", .0.text(Lang::En))]
    TooMany(Msg),
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
    /// A refusal that the page which was posted shows again: its status and reason in `lang`
    /// (422 for a broken rule, 403 for someone else's thing). `None` for everything else.
    pub fn refusal(&self, lang: Lang) -> Option<(StatusCode, String)> {
        match self {
            AppError::Rejected(why) => Some((StatusCode::UNPROCESSABLE_ENTITY, why.text(lang))),
            AppError::Invalid(why) => {
                Some((StatusCode::UNPROCESSABLE_ENTITY, Msg::join(why, lang)))
            }
            AppError::Forbidden(why) => Some((StatusCode::FORBIDDEN, why.text(lang))),
            _ => None,
        }
    }

    /// [`Self::refusal`] as a sentence in no language yet (for a page rendered further on).
    pub fn refusal_msg(&self) -> Option<(StatusCode, Msg)> {
        match self {
            AppError::Rejected(why) => Some((StatusCode::UNPROCESSABLE_ENTITY, why.clone())),
            AppError::Invalid(why) => Some((
                StatusCode::UNPROCESSABLE_ENTITY,
                Msg::new("err.reasons").arg("0", why),
            )),
            AppError::Forbidden(why) => Some((StatusCode::FORBIDDEN, why.clone())),
            _ => None,
        }
    }

    /// For a page that shows a refusal itself (a form re-rendered with its reasons): the
    /// reasons of a 422 in `lang`, or the error to answer with instead.
    pub fn into_reasons(self, lang: Lang) -> Result<Vec<String>, AppError> {
        self.into_msgs()
            .map(|why| why.iter().map(|m| m.text(lang)).collect())
    }

    /// The reasons of a 422 as sentences in no language yet, or the error to answer with.
    pub fn into_msgs(self) -> Result<Vec<Msg>, AppError> {
        match self {
            AppError::Rejected(why) => Ok(vec![why]),
            AppError::Invalid(why) => Ok(why),
            other => Err(other),
        }
    }

    /// The title and the sentence a person reads (page or live-panel notice), in `lang`.
    pub fn title_and_message(&self, lang: Lang) -> (String, String) {
        let t = |key: &'static str| Msg::new(key).text(lang);
        match self {
            AppError::NotFound => (t("err.page.not_found.title"), t("err.page.not_found")),
            AppError::LoginRequired { .. } => (t("err.page.login.title"), t("err.page.login")),
            AppError::Forbidden(why) => (t("err.page.forbidden.title"), why.text(lang)),
            AppError::Csrf => (t("err.page.csrf.title"), t("err.page.csrf")),
            AppError::BadRequest(why) => (t("err.page.bad_request.title"), why.text(lang)),
            AppError::Rejected(why) => (t("err.page.rejected.title"), why.text(lang)),
            AppError::Invalid(why) => (t("err.page.rejected.title"), Msg::join(why, lang)),
            AppError::PayloadTooLarge => (t("err.page.too_large.title"), t("err.page.too_large")),
            AppError::TooMany(why) => (t("err.page.too_many.title"), why.text(lang)),
            AppError::Busy => (t("err.page.busy.title"), t("err.page.busy")),
            AppError::Unavailable(_) => {
                (t("err.page.unavailable.title"), t("err.page.unavailable"))
            }
            AppError::Internal(_) => (t("err.page.internal.title"), t("err.internal")),
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

/// A use case's reason for the page; in a debug build (the tests), also a check that its English
/// in `locales/msg.en.yml` reads exactly as the log's `#[error]` text.
fn english_checked(e: &impl std::fmt::Display, msg: Msg) -> Msg {
    debug_assert_eq!(
        msg.text(Lang::En),
        e.to_string(),
        "locales/msg.en.yml differs from #[error] for {}",
        msg.key()
    );
    msg
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
                    $(e @ E::$fb { .. } => AppError::Forbidden(english_checked(&e, e.msg())),)*
                    #[allow(unreachable_patterns, reason = "some use cases have no rule left")]
                    rule => AppError::Rejected(english_checked(&rule, rule.msg())),
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
            e @ ListingError::NotYours => AppError::Forbidden(english_checked(&e, e.msg())),
            ListingError::Invalid(reasons) => AppError::Invalid(reasons),
            e @ (ListingError::Locked
            | ListingError::TooManyPhotos { .. }
            | ListingError::PhotoLimit { .. }) => AppError::Rejected(english_checked(&e, e.msg())),
        }
    }
}

impl From<TopUpError> for AppError {
    fn from(e: TopUpError) -> Self {
        match e {
            TopUpError::Unexpected(e) => AppError::from(e),
            e @ TopUpError::PortOneUnavailable => AppError::Unavailable(anyhow::anyhow!("{e}")),
            rule => AppError::Rejected(english_checked(&rule, rule.msg())),
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
            e @ RecheckError::NoImpUid => AppError::Rejected(english_checked(&e, e.msg())),
            RecheckError::Verify(e) => AppError::from(e),
        }
    }
}

impl From<VerifyError> for AppError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::Unexpected(e) => AppError::from(e),
            VerifyError::UnknownMerchantUid | VerifyError::UnknownPayment => AppError::NotFound,
            e @ VerifyError::Mismatch => AppError::BadRequest(english_checked(&e, e.msg())),
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
    pub title: String,
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
        let status = self.status_code();
        let mut response = HttpResponse::build(status);
        if matches!(self, AppError::Unavailable(_) | AppError::Busy) {
            response.insert_header((
                actix_web::http::header::RETRY_AFTER,
                RETRY_AFTER_SECONDS.to_string(),
            ));
        }
        response
            .content_type("text/html; charset=utf-8")
            .body(self.page(Lang::En))
    }
}

impl AppError {
    /// The error page's HTML in `lang`.
    pub fn page(&self, lang: Lang) -> String {
        let (title, message) = self.title_and_message(lang);
        let page = ErrorPage {
            ctx: Ctx::anonymous_in(lang),
            status: self.status_code().as_u16(),
            title: title.clone(),
            message,
        };
        page.render().unwrap_or(title)
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
        other => {
            AppError::BadRequest(Msg::new("err.form_unreadable").arg("0", other.to_string())).into()
        }
    }
}

pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    AppError::BadRequest(Msg::new("err.address_unreadable").arg("0", err.to_string())).into()
}

pub fn path_error(
    _err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    AppError::NotFound.into()
}
