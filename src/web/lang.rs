//! The page's language, decided in one place ([`negotiate`]), and the header's toggle
//! (`POST /lang`).
//!
//! Order: the `lang` cookie (set by the toggle), else the logged-in member's saved choice
//! (`users.locale`), else `Accept-Language` (q-values respected, `ko`/`en` only), else Korean.
//! Anything but exactly `ko` or `en` in the cookie or the form is ignored.
//!
//! The toggle is a POST (with the CSRF token every form carries) rather than a GET link: it
//! changes state (a cookie, and the member's profile when logged in), and a GET would let any
//! other site (an `<img>`, a prefetch) switch a member's saved language.

use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::domain::lang::Lang;
use crate::services::accounts::{self, CurrentUser};
use crate::services::sessions::SessionKey;
use crate::web::ctx::Ctx;
use crate::web::error::AppError;
use crate::web::next::safe_next;
use crate::web::{db, AppState};

/// The cookie the toggle sets.
pub const COOKIE: &str = "lang";

/// The language of this request's page.
pub fn negotiate(req: &HttpRequest, user: Option<&CurrentUser>) -> Lang {
    from_cookie(req)
        .or_else(|| user.and_then(|u| u.locale))
        .or_else(|| {
            req.headers()
                .get(actix_web::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::negotiate)
        })
        .unwrap_or_default()
}

fn from_cookie(req: &HttpRequest) -> Option<Lang> {
    req.cookie(COOKIE).and_then(|c| Lang::parse(c.value()))
}

/// The language of a live socket (`/auctions/{id}/live`, `/me/live`), negotiated from its
/// upgrade request exactly as a page's: the cookie, else the member's saved choice (read only
/// when there is no cookie), else `Accept-Language`, else Korean.
pub async fn for_socket(req: &HttpRequest, state: &AppState, key: Option<&SessionKey>) -> Lang {
    if let Some(lang) = from_cookie(req) {
        return lang;
    }
    let user = match key {
        Some(key) => {
            let key = key.clone();
            db(state, move |conn| {
                accounts::current_user(conn, &key, crate::services::now())
                    .map_err(anyhow::Error::new)
            })
            .await
            .ok()
            .flatten()
        }
        None => None,
    };
    negotiate(req, user.as_ref())
}

#[derive(Deserialize)]
pub struct LangForm {
    #[serde(default)]
    lang: String,
    /// The page to come back to. Not `next`: the toggle is on every page, and a page's own
    /// `next` field (the login form's) must stay the only one of that name.
    #[serde(default)]
    back: String,
}

/// `POST /lang` (`lang`, `back`): keep the choice in the cookie (a year) and, for a logged-in
/// member, in their profile; back to `back` when it is a path on this site, else `/`. An
/// unknown `lang` changes nothing.
pub async fn set(
    ctx: Ctx,
    state: web::Data<AppState>,
    form: web::Form<LangForm>,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(&form.back).unwrap_or_else(|| "/".to_owned());
    let mut response = HttpResponse::SeeOther();
    response.insert_header((actix_web::http::header::LOCATION, next));
    let Some(lang) = Lang::parse(&form.lang) else {
        return Ok(response.finish());
    };
    if let Some(user) = ctx.user.as_ref().map(|u| u.id) {
        db(&state, move |conn| {
            accounts::set_locale(conn, user, lang).map_err(anyhow::Error::new)
        })
        .await?;
    }
    let cookie = Cookie::build(COOKIE, lang.code())
        .path("/")
        .max_age(Duration::days(365))
        .same_site(SameSite::Lax)
        .http_only(true)
        .secure(state.settings.is_https())
        .finish();
    Ok(response.cookie(cookie).finish())
}

/// Error pages in the reader's language: the page's own language when its handler built a
/// [`Ctx`] (which remembers it in the request), else the cookie or `Accept-Language`.
/// (`ResponseError` renders without the request, in English; this renders it again.)
pub async fn in_language(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    use actix_web::body::BoxBody;
    use actix_web::HttpMessage;
    // Not a clone of the request: the router needs it unshared further in.
    let before = negotiate(req.request(), None);
    let shown =
        |e: &AppError, lang: Lang| lang != Lang::En && !matches!(e, AppError::LoginRequired { .. });
    match next.call(req).await {
        Ok(res) => {
            let lang = res
                .request()
                .extensions()
                .get::<Lang>()
                .copied()
                .unwrap_or(before);
            let page = match res
                .response()
                .error()
                .and_then(|e| e.as_error::<AppError>())
            {
                Some(e) if shown(e, lang) => Some(e.page(lang)),
                _ => None,
            };
            Ok(match page {
                Some(page) => res.map_body(|_, _| BoxBody::new(page)),
                None => res.map_body(|_, body| body.boxed()),
            })
        }
        // An error from a middleware further in (the CSRF guard): rendered again in the
        // cookie's or `Accept-Language`'s language.
        Err(err) => match err.as_error::<AppError>() {
            Some(e) if shown(e, before) => {
                let response = err.error_response().set_body(BoxBody::new(e.page(before)));
                Err(actix_web::error::InternalError::from_response(e.to_string(), response).into())
            }
            _ => Err(err),
        },
    }
}
