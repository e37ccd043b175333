//! Extractors: [`Ctx`] from a request (what every page needs: user, wallet, CSRF token, flashes,
//! time zone) and [`SessionUser`] (just the logged-in user's id, for POST handlers that redirect).
//! Both believe the session cookie only once the sessions table agrees (one indexed query), so
//! a logged-out, password-changed or suspended session is refused on its very next request.

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};

use crate::services::accounts::{self, CurrentUser};
use crate::services::now;
use crate::services::sessions::{self, SessionKey};
use crate::web::ctx::Ctx;
use crate::web::error::AppError;
use crate::web::session;
use crate::web::{db, AppState};

impl Ctx {
    /// Build the context for a request: when the cookie names a user, one query checks the
    /// session and loads the user with their wallet.
    pub async fn load(req: &HttpRequest) -> Result<Ctx, AppError> {
        let session = req.get_session();
        let state = state(req)?;
        let user = match session::claim(&session) {
            Some(key) => {
                db(&state, move |conn| {
                    accounts::current_user(conn, &key, now()).map_err(anyhow::Error::new)
                })
                .await?
            }
            None => None,
        };
        if user.is_none() && session::names_a_user(&session) {
            session::forget(&session);
        }
        let lang = crate::web::lang::negotiate(req, user.as_ref());
        // The error page of this request speaks it too (`web::error::in_language`).
        actix_web::HttpMessage::extensions_mut(req).insert(lang);
        let path = req
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let back = if req.method() == actix_web::http::Method::GET {
            path.clone()
        } else {
            req.headers()
                .get(actix_web::http::header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(crate::web::next::local_path)
                .unwrap_or_else(|| "/".to_owned())
        };
        let ctx = Ctx {
            lang,
            back,
            user,
            csrf_token: session::csrf_token(&session),
            tz: state.settings.timezone,
            path,
            session: Some(session),
        };
        Ok(ctx)
    }

    /// The logged-in user, or a redirect to the login page.
    pub fn require_user(&self) -> Result<&CurrentUser, AppError> {
        self.user.as_ref().ok_or_else(|| AppError::LoginRequired {
            next: self.path.clone(),
        })
    }

    pub fn require_admin(&self) -> Result<&CurrentUser, AppError> {
        let user = self.require_user()?;
        if user.is_admin {
            Ok(user)
        } else {
            Err(AppError::Forbidden(crate::domain::msg::Msg::new(
                "err.admin_only",
            )))
        }
    }
}

impl FromRequest for Ctx {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Ctx, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ctx::load(&req).await })
    }
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("application state missing")))
}

/// The logged-in user's id, for POST handlers that redirect: the session is checked (one
/// query over two primary keys: the session row and its user, who must be active); the
/// service checks the rest.
pub struct SessionUser {
    pub id: i64,
    pub session: Session,
}

impl FromRequest for SessionUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<SessionUser, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let session = req.get_session();
            let login_required = || AppError::LoginRequired {
                next: req
                    .headers()
                    .get(actix_web::http::header::REFERER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(crate::web::next::local_path)
                    .unwrap_or_else(|| "/".to_owned()),
            };
            let Some(key) = session::claim(&session) else {
                return Err(login_required());
            };
            let id = key.user_id;
            let state = state(&req)?;
            if live_session(&state, key).await? {
                Ok(SessionUser { id, session })
            } else {
                session::forget(&session);
                Err(login_required())
            }
        })
    }
}

/// Whether the sessions table still honours `key` (and its user is active).
pub async fn live_session(state: &AppState, key: SessionKey) -> Result<bool, AppError> {
    let live: Result<bool, anyhow::Error> = db(state, move |conn| {
        sessions::is_live(conn, &key, now()).map_err(anyhow::Error::new)
    })
    .await;
    Ok(live?)
}
