//! CSRF: every POST must carry the session's synchronizer token, as the form field
//! `csrf_token` (url-encoded or multipart) or the `X-CSRF-Token` header. Checked here once
//! for the whole site, so no handler can forget it.
//!
//! Checked before the body costs anything: a POST whose session holds no token (no session
//! cookie: nothing to compare with) is refused before a byte of its body is read, and one that
//! declares a body over its route's limit ([`crate::web::body_limit`]: 64 KB for a form, more
//! for a photo upload) gets 413 at once. A multipart body is read only as far as its
//! `csrf_token` field (every form sends it first) and then streamed on to the handler, which
//! checks who is asking before it reads the rest; no route ever gets more than its limit.
//!
//! Exempt: the routes in [`EXEMPT_ROUTES`] and nothing else. They are called server to server
//! (no browser, no session, so no token to compare) and authenticate each request themselves;
//! their bodies are still capped by the app's `PayloadConfig` (64 KB).

use actix_session::SessionExt;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::HttpMessage as _;
use futures_util::StreamExt;
use subtle::ConstantTimeEq;

use crate::web::error::AppError;

/// Largest body of a small form (every POST but a photo upload).
pub const FORM_LIMIT: usize = 64 * 1024;
/// Largest multipart body of a photo upload (its photos and fields): several phone photos
/// at once, each still at most 5 MB (`Image::MAX_BYTES`). Bodies are read only while holding
/// an upload slot, so at most `NEIGHBORBID_UPLOAD_CONCURRENCY` of them are in memory at once.
pub const MULTIPART_LIMIT: usize = 32 * 1024 * 1024;
/// How far into a multipart body its `csrf_token` field is looked for.
const TOKEN_SCAN_LIMIT: usize = FORM_LIMIT;

/// POST routes that are not CSRF-checked, each authenticating its caller another way:
/// the built-in PortOne simulator's REST API (an access token from `imp_key`/`imp_secret`) and
/// its controls (`imp_key`/`imp_secret` in the body). Its checkout page is a browser form and
/// stays checked. PortOne's webhook (`/payments/webhook`) has no session: it trusts nothing in
/// its body and asks PortOne itself.
pub const EXEMPT_ROUTES: [&str; 14] = [
    "/portone-sim/users/getToken",
    "/portone-sim/payments/prepare",
    "/portone-sim/payments/cancel",
    "/portone-sim/vbanks",
    "/portone-sim/_sim/expire-tokens",
    "/portone-sim/_sim/stats",
    "/portone-sim/_sim/vbanks/{imp_uid}/deposit",
    "/portone-sim/_sim/faults",
    "/portone-sim/_sim/token-lifetime",
    "/portone-sim/_sim/webhooks",
    "/portone-sim/_sim/webhook-faults",
    "/portone-sim/_sim/payments/{imp_uid}/amount",
    "/portone-sim/_sim/payments/{imp_uid}/cancel",
    "/payments/webhook",
];

/// Is `path` one of [`EXEMPT_ROUTES`]?
pub fn is_exempt(path: &str) -> bool {
    static EXEMPT: std::sync::LazyLock<Vec<actix_web::dev::ResourceDef>> =
        std::sync::LazyLock::new(|| {
            EXEMPT_ROUTES
                .iter()
                .map(|p| actix_web::dev::ResourceDef::new(*p))
                .collect()
        });
    EXEMPT.iter().any(|r| r.is_match(path))
}

pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() != Method::POST || is_exempt(req.path()) {
        return next.call(req).await;
    }
    let Some(expected) =
        crate::web::session::stored_csrf_token(&req.get_session()).filter(|t| !t.is_empty())
    else {
        tracing::info!(path = req.path(), "POST refused: no session");
        return Err(AppError::Csrf.into());
    };
    let limit = crate::web::body_limit(req.path());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        tracing::info!(
            path = req.path(),
            "POST refused: body over the route's limit"
        );
        return Err(AppError::PayloadTooLarge.into());
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let header_token = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    let mut payload = req.take_payload();
    let (sent, body) = if let Some(token) = header_token {
        (Some(token), limited(Bytes::new(), payload, limit))
    } else if content_type.starts_with("multipart/form-data") {
        // Only as much as it takes to see the token; the rest stays in the socket.
        let mut prefix = BytesMut::new();
        let token = loop {
            if let Some(token) = multipart_field(&prefix, "csrf_token") {
                break Some(token);
            }
            if prefix.len() >= TOKEN_SCAN_LIMIT {
                break None;
            }
            match payload.next().await {
                Some(chunk) => prefix.extend_from_slice(&chunk?),
                None => break None,
            }
        };
        (token, limited(prefix.freeze(), payload, limit))
    } else {
        let limit = limit.min(FORM_LIMIT);
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk?;
            if body.len() + chunk.len() > limit {
                return Err(AppError::PayloadTooLarge.into());
            }
            body.extend_from_slice(&chunk);
        }
        let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
            .ok()
            .and_then(|pairs| {
                pairs
                    .into_iter()
                    .find(|(k, _)| k == "csrf_token")
                    .map(|(_, v)| v)
            });
        (token, Payload::from(body.freeze()))
    };
    let valid = sent
        .as_ref()
        .is_some_and(|s| bool::from(expected.as_bytes().ct_eq(s.as_bytes())));
    if !valid {
        tracing::info!(
            path = req.path(),
            "POST refused: CSRF token missing or wrong"
        );
        return Err(AppError::Csrf.into());
    }
    req.set_payload(body);
    next.call(req).await
}

/// `prefix` (already read) and then the rest of `payload`, ending in an overflow error once
/// more than `limit` bytes have come in all.
fn limited(prefix: Bytes, payload: Payload, limit: usize) -> Payload {
    let mut seen = 0_usize;
    let stream = futures_util::stream::iter((!prefix.is_empty()).then_some(Ok(prefix)))
        .chain(payload)
        .map(move |chunk| {
            let chunk = chunk?;
            seen = seen.saturating_add(chunk.len());
            if seen > limit {
                Err(PayloadError::Overflow)
            } else {
                Ok(chunk)
            }
        });
    let stream: std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(stream);
    Payload::from(stream)
}

/// The value of a small text field in a multipart body (enough for a token); `None` until
/// the value's line is complete.
fn multipart_field(body: &[u8], name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\"");
    let start = find(body, needle.as_bytes())?;
    let rest = &body[start..];
    let value_start = find(rest, b"\r\n\r\n")? + 4;
    let value = &rest[value_start..];
    let end = find(value, b"\r\n")?;
    std::str::from_utf8(&value[..end]).ok().map(str::to_owned)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
