//! The PortOne v1 (아임포트) REST client: `POST /users/getToken`, `POST /payments/prepare`,
//! `GET /payments/{imp_uid}`, `POST /payments/cancel`, `POST /vbanks`, `DELETE /vbanks/{imp_uid}`.
//!
//! Written against PortOne's own description (`shared/reference/portone-v1.openapi.yml`), so it
//! works unchanged against `api.iamport.kr`, the built-in simulator, or any faithful imitation:
//! every answer is the envelope `{code, message, response}` (code 0 = success), times are unix
//! seconds with 0 for "not yet", and each call carries the access token in `Authorization` as
//! PortOne v1 takes it (the raw token).
//!
//! One client per process ([`PortOne`]): the access token is cached behind a mutex and renewed
//! when under 60 seconds remain or when PortOne answers 401. Every call has a timeout; a timeout
//! or a lost connection is "result unknown" ([`PortOneError::is_result_unknown`]), never
//! confused with PortOne saying no. The key, the secret and tokens never reach `Debug` output.
//!
//! Blocking on purpose: services call it inside `web::block`, like diesel.

mod types;

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Deserialize;

pub use types::{
    deserialize_opt_won, deserialize_won, CancelHistory, CancelRequest, Payment, PaymentStatus,
    Prepared, RefundAccount, Token, VbankRequest,
};

/// A token is renewed when fewer than this many seconds of it remain.
pub const RENEW_BEFORE: Duration = Duration::from_secs(60);
/// The largest answer read from PortOne.
const MAX_ANSWER_BYTES: u64 = 1024 * 1024;

/// Why a call to PortOne did not give an answer we can use.
#[derive(Debug, thiserror::Error)]
pub enum PortOneError {
    /// No answer within the timeout: PortOne may or may not have done it (result unknown).
    #[error("PortOne did not answer in time (the result is unknown)")]
    Timeout,
    /// PortOne could not be reached, or the connection broke (result unknown).
    #[error("PortOne could not be reached (the result is unknown): {0}")]
    Unreachable(String),
    /// PortOne answered 5xx (result unknown: it may have acted before failing).
    #[error("PortOne answered HTTP {status} (the result is unknown)")]
    ServerError { status: u16 },
    /// PortOne said no: a non-zero `code` with its `message`.
    #[error("PortOne refused (code {code}): {message}")]
    Rejected { code: i64, message: String },
    /// PortOne does not know it (HTTP 404, e.g. an unknown `imp_uid`).
    #[error("PortOne does not know it: {message}")]
    NotFound { message: String },
    /// The key and secret were refused, or a fresh token was refused again.
    #[error("PortOne refused our credentials")]
    Unauthorized,
    /// An answer that is not PortOne's envelope or not the shape it documents.
    #[error("PortOne's answer could not be read: {0}")]
    Malformed(String),
}

impl PortOneError {
    /// The request may or may not have taken effect at PortOne: look again later (reconcile),
    /// never treat it as refused.
    pub fn is_result_unknown(&self) -> bool {
        matches!(
            self,
            PortOneError::Timeout | PortOneError::Unreachable(_) | PortOneError::ServerError { .. }
        )
    }
}

/// A string never shown by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The cached access token.
struct CachedToken {
    value: Secret,
    /// When it must be renewed (its expiry less [`RENEW_BEFORE`]), on our own clock.
    renew_at: Instant,
}

/// The PortOne v1 client: one per process.
pub struct PortOne {
    base_url: String,
    api_key: Secret,
    api_secret: Secret,
    agent: ureq::Agent,
    token: Mutex<Option<CachedToken>>,
}

impl fmt::Debug for PortOne {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortOne")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("api_secret", &self.api_secret)
            .finish_non_exhaustive()
    }
}

/// `{code, message, response}`; `response` is read into its type only on success.
#[derive(Deserialize)]
struct Envelope {
    code: i64,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    response: Option<serde_json::Value>,
}

enum Method {
    Get,
    Post,
    Delete,
}

impl PortOne {
    /// A client for the API at `base_url` (`https://api.iamport.kr`, or the simulator's
    /// `…/portone-sim`) with `imp_key`/`imp_secret`; every call ends after `timeout`.
    pub fn new(base_url: &str, api_key: &str, api_secret: &str, timeout: Duration) -> PortOne {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent("neighborbid-portone/1")
            .build()
            .into();
        PortOne {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: Secret(api_key.to_owned()),
            api_secret: Secret(api_secret.to_owned()),
            agent,
            token: Mutex::new(None),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `POST /payments/prepare`: register the amount PortOne must see for `merchant_uid`.
    pub fn prepare(
        &self,
        merchant_uid: &str,
        amount: crate::domain::Won,
    ) -> Result<Prepared, PortOneError> {
        let body = serde_json::json!({ "merchant_uid": merchant_uid, "amount": amount.get() });
        self.call(Method::Post, "/payments/prepare", Some(body))
    }

    /// `GET /payments/{imp_uid}`: the payment as PortOne has it now.
    pub fn payment(&self, imp_uid: &str) -> Result<Payment, PortOneError> {
        let path = format!("/payments/{}", path_segment(imp_uid)?);
        self.call(Method::Get, &path, None)
    }

    /// `GET /payments/find/{merchant_uid}/paid`: the paid payment PortOne has for one of our
    /// orders, for when its `imp_uid` never reached us (a checkout whose return was lost).
    /// `NotFound` when PortOne has no paid payment for it.
    pub fn paid_for_order(&self, merchant_uid: &str) -> Result<Payment, PortOneError> {
        let path = format!("/payments/find/{}/paid", path_segment(merchant_uid)?);
        self.call(Method::Get, &path, None)
    }

    /// `POST /payments/cancel`: refund all or part of a payment. Give `checksum` (what we
    /// believe is still cancellable) so PortOne refuses when its books differ from ours.
    pub fn cancel(&self, request: &CancelRequest) -> Result<Payment, PortOneError> {
        let body =
            serde_json::to_value(request).map_err(|e| PortOneError::Malformed(e.to_string()))?;
        self.call(Method::Post, "/payments/cancel", Some(body))
    }

    /// `POST /vbanks`: issue a virtual account; the payment comes back `ready` with `vbank_num`.
    pub fn issue_vbank(&self, request: &VbankRequest) -> Result<Payment, PortOneError> {
        let body =
            serde_json::to_value(request).map_err(|e| PortOneError::Malformed(e.to_string()))?;
        self.call(Method::Post, "/vbanks", Some(body))
    }

    /// `DELETE /vbanks/{imp_uid}`: void a virtual account nobody has paid into yet.
    pub fn revoke_vbank(&self, imp_uid: &str) -> Result<Payment, PortOneError> {
        let path = format!("/vbanks/{}", path_segment(imp_uid)?);
        self.call(Method::Delete, &path, None)
    }

    /// An authorised call: with the cached token, and once more with a fresh one on 401.
    fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<T, PortOneError> {
        let token = self.token()?;
        match self.send(&method, path, Some(&token), body.as_ref()) {
            Err(PortOneError::Unauthorized) => {
                self.forget(&token);
                let fresh = self.token()?;
                self.send(&method, path, Some(&fresh), body.as_ref())
            }
            other => other,
        }
    }

    /// The cached token, or a new one from `POST /users/getToken` when none is cached or
    /// under [`RENEW_BEFORE`] of it remains. The lock is held while a new token is fetched, so
    /// threads that need one at the same moment wait for that one rather than each buying
    /// their own (they wait at most the timeout).
    fn token(&self) -> Result<Secret, PortOneError> {
        let mut cached = self.token.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(token) = cached.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(token.value.clone());
        }
        let body = serde_json::json!({
            "imp_key": self.api_key.0,
            "imp_secret": self.api_secret.0,
        });
        let issued: Token = self.send(&Method::Post, "/users/getToken", None, Some(&body))?;
        // Trust PortOne's clock only for the token's length of life, not for the time of day.
        let lifetime = u64::try_from(issued.expired_at.saturating_sub(issued.now)).unwrap_or(0);
        let renew_at = Instant::now() + Duration::from_secs(lifetime).saturating_sub(RENEW_BEFORE);
        let value = Secret(issued.access_token);
        *cached = Some(CachedToken {
            value: value.clone(),
            renew_at,
        });
        Ok(value)
    }

    /// Drop `used` from the cache (unless another thread has already replaced it).
    fn forget(&self, used: &Secret) {
        let mut cached = self.token.lock().unwrap_or_else(PoisonError::into_inner);
        if cached.as_ref().is_some_and(|t| &t.value == used) {
            *cached = None;
        }
    }

    /// One HTTP exchange, read as PortOne's envelope.
    fn send<T: DeserializeOwned>(
        &self,
        method: &Method,
        path: &str,
        token: Option<&Secret>,
        body: Option<&serde_json::Value>,
    ) -> Result<T, PortOneError> {
        let url = format!("{}{}", self.base_url, path);
        let result = match method {
            Method::Get | Method::Delete => {
                let mut request = match method {
                    Method::Delete => self.agent.delete(&url),
                    _ => self.agent.get(&url),
                };
                request = request.header("Accept", "application/json");
                if let Some(token) = token {
                    request = request.header("Authorization", token.0.as_str());
                }
                request.call()
            }
            Method::Post => {
                let mut request = self
                    .agent
                    .post(&url)
                    .header("Accept", "application/json")
                    .content_type("application/json");
                if let Some(token) = token {
                    request = request.header("Authorization", token.0.as_str());
                }
                let text = body.map(serde_json::Value::to_string).unwrap_or_default();
                request.send(text.as_bytes())
            }
        };
        let mut response = result.map_err(transport_error)?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .map_err(transport_error)?;
        if status == 401 {
            return Err(PortOneError::Unauthorized);
        }
        if status >= 500 {
            return Err(PortOneError::ServerError { status });
        }
        let envelope: Envelope = serde_json::from_str(&text).map_err(|e| {
            PortOneError::Malformed(format!("HTTP {status}, not PortOne's envelope: {e}"))
        })?;
        let message = envelope.message.unwrap_or_default();
        if status == 404 {
            return Err(PortOneError::NotFound { message });
        }
        if envelope.code != 0 {
            return Err(PortOneError::Rejected {
                code: envelope.code,
                message,
            });
        }
        if !(200..300).contains(&status) {
            return Err(PortOneError::Malformed(format!(
                "HTTP {status} with code 0"
            )));
        }
        let response = envelope
            .response
            .ok_or_else(|| PortOneError::Malformed("code 0 without a response".to_owned()))?;
        serde_json::from_value(response)
            .map_err(|e| PortOneError::Malformed(format!("unexpected response: {e}")))
    }
}

/// `imp_uid` as one path segment: PortOne's ids are `imp_` and digits; anything that could
/// step out of the path is refused before a request is made.
fn path_segment(id: &str) -> Result<&str, PortOneError> {
    if !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Ok(id)
    } else {
        Err(PortOneError::NotFound {
            message: "not a PortOne id".to_owned(),
        })
    }
}

fn transport_error(e: ureq::Error) -> PortOneError {
    match e {
        ureq::Error::Timeout(_) => PortOneError::Timeout,
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            PortOneError::Timeout
        }
        ureq::Error::BodyExceedsLimit(_) => {
            PortOneError::Malformed("the answer is too large".to_owned())
        }
        other => PortOneError::Unreachable(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_secret_and_token_never_reach_debug_output() {
        let client = PortOne::new(
            "https://api.iamport.kr",
            "key-1234567890",
            "secret-abcdefghij",
            Duration::from_secs(1),
        );
        *client.token.lock().unwrap() = Some(CachedToken {
            value: Secret("token-zyxwvuts".to_owned()),
            renew_at: Instant::now(),
        });
        let shown = format!("{client:?} {client:#?}");
        for secret in ["key-1234567890", "secret-abcdefghij", "token-zyxwvuts"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("api.iamport.kr"), "{shown}");

        let mut settings = crate::config::PortOneSettings::simulator();
        settings.api_key = "key-1234567890".to_owned();
        settings.api_secret = "secret-abcdefghij".to_owned();
        let shown = format!("{settings:?}");
        assert!(
            !shown.contains("key-1234567890") && !shown.contains("secret-abcdefghij"),
            "{shown}"
        );
    }

    #[test]
    fn ids_that_could_leave_the_path_are_refused_before_any_request() {
        for id in [
            "",
            "../users/getToken",
            "imp_1/../x",
            "imp 1",
            "imp_1?x=1",
            "imp_1#",
        ] {
            assert!(path_segment(id).is_err(), "{id:?}");
        }
        assert!(path_segment("imp_448280090638").is_ok());
    }

    #[test]
    fn timeouts_and_lost_connections_are_result_unknown_and_refusals_are_not() {
        assert!(PortOneError::Timeout.is_result_unknown());
        assert!(PortOneError::Unreachable("refused".to_owned()).is_result_unknown());
        assert!(PortOneError::ServerError { status: 502 }.is_result_unknown());
        assert!(!PortOneError::Rejected {
            code: 1,
            message: String::new()
        }
        .is_result_unknown());
        assert!(!PortOneError::Unauthorized.is_result_unknown());
    }
}
