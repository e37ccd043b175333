//! CSRF: every POST must carry the session's synchronizer token, as the form field
//! `csrf_token` (url-encoded or multipart) or the `X-CSRF-Token` header. Checked here once
//! for the whole site, so no handler can forget it.

use actix_session::SessionExt;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::HttpMessage as _;
use futures_util::StreamExt;
use subtle::ConstantTimeEq;

use crate::web::error::AppError;

/// Largest url-encoded form body accepted.
pub const FORM_LIMIT: usize = 64 * 1024;
/// Largest multipart body accepted (an image upload and its fields).
pub const MULTIPART_LIMIT: usize = 6 * 1024 * 1024;

pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() != Method::POST {
        return next.call(req).await;
    }
    let expected = crate::web::session::stored_csrf_token(&req.get_session());
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

    let limit = if content_type.starts_with("multipart/form-data") {
        MULTIPART_LIMIT
    } else {
        FORM_LIMIT
    };
    let mut body = BytesMut::new();
    let mut payload = req.take_payload();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge.into());
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();

    let sent = header_token.or_else(|| {
        if content_type.starts_with("multipart/form-data") {
            multipart_field(&body, "csrf_token")
        } else {
            serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
                .ok()
                .and_then(|pairs| {
                    pairs
                        .into_iter()
                        .find(|(k, _)| k == "csrf_token")
                        .map(|(_, v)| v)
                })
        }
    });
    let valid = matches!((&expected, &sent), (Some(e), Some(s))
        if !e.is_empty() && bool::from(e.as_bytes().ct_eq(s.as_bytes())));
    if !valid {
        tracing::info!(
            path = req.path(),
            "POST refused: CSRF token missing or wrong"
        );
        return Err(AppError::Csrf.into());
    }
    req.set_payload(Payload::from(body));
    next.call(req).await
}

/// The value of a small text field in a multipart body (enough for a token).
fn multipart_field(body: &Bytes, name: &str) -> Option<String> {
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
