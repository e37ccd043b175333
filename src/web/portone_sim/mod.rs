//! The built-in PortOne v1 simulator, mounted under [`PREFIX`] only when no real PortOne is
//! configured (`Settings::portone.api_url` is `None`). It speaks PortOne's REST API as the
//! reference describes it, so [`crate::portone::PortOne`] talks to it unchanged:
//!
//! - `POST /users/getToken`, `POST /payments/prepare`, `GET /payments/prepare/{merchant_uid}`,
//!   `GET /payments/{imp_uid}`, `POST /payments/cancel`, `POST /vbanks`,
//!   `DELETE /vbanks/{imp_uid}` — server to server: JSON or form bodies, the access token in
//!   `Authorization`, answers in the envelope `{code, message, response}`. They carry no session,
//!   so they are on the CSRF guard's exempt list ([`crate::web::csrf::EXEMPT_ROUTES`]);
//! - `GET /checkout` and `POST /checkout` — the page standing in for the PG's payment window:
//!   approve, decline or close; it records the payment and sends the browser back to
//!   `m_redirect_url` with `imp_uid` and `merchant_uid`. A normal page of the site (CSRF-checked
//!   form, no script: the site's CSP holds);
//! - `GET /bank/{imp_uid}` and `POST /bank/{imp_uid}/deposit` — the buyer's bank: a virtual
//!   account's details and the button that pays into it (a CSRF-checked form as well);
//! - the simulator's own controls, with `imp_key`/`imp_secret` in the body:
//!   `POST /_sim/expire-tokens` (every token stops working), `POST /_sim/token-lifetime`
//!   (`secs`: new tokens live 1–1800 seconds), `POST /_sim/stats` (token
//!   requests counted), `POST /_sim/vbanks/{imp_uid}/deposit` (the buyer pays into a virtual
//!   account), `POST /_sim/faults` (`mode` = `delay` with `delay_ms` | `error` | `error_before` |
//!   `none`, for the next `count` API calls: a late answer after the work is done, a 500 after
//!   it, a 500 instead of it), `POST /_sim/payments/{imp_uid}/amount` (the PG charged another
//!   `amount` than prepared) and `POST /_sim/payments/{imp_uid}/cancel` (cancelled in
//!   PortOne's console, behind the site's back), `POST /_sim/webhooks` (the webhooks sent and
//!   how they were answered) and `POST /_sim/webhook-faults` (`copies`: each webhook sent 1–5
//!   times; `before_redirect`: delivered before the browser is sent back, not alongside).
//!
//! Webhooks: a payment with a `notice_url` (the checkout's, or `POST /vbanks`') gets PortOne's
//! `{imp_uid, merchant_uid, status}` as JSON when it is paid or fails at the checkout, when its
//! virtual account is issued (`ready`) or paid into, and when it is cancelled in the console
//! (API cancels send none, as PortOne's `enable_webhook` defaults to false). They go only to
//! this site: a `notice_url` must be a path here or start with this site's address.
//!
//! Its books live in memory ([`state::Simulator`], in `AppState`): a restart forgets them.

pub mod bank;
pub mod checkout;
pub mod state;

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::domain::Won;
use crate::web::AppState;
use state::{Answer, CancelOrder, Fault, Simulator, VbankIssue};

/// Where the simulator is served: `NEIGHBORBID_PORTONE_API_URL` defaults to the site's
/// address followed by this.
pub const PREFIX: &str = "/portone-sim";

/// The simulator's routes (mounted by `startup` when it is active).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(PREFIX)
            .route("/users/getToken", web::post().to(get_token))
            .route("/payments/prepare", web::post().to(prepare))
            .route("/payments/prepare/{merchant_uid}", web::get().to(prepared))
            .route("/payments/cancel", web::post().to(cancel))
            .route("/payments/{imp_uid}", web::get().to(payment))
            .route("/payments/find/{merchant_uid}", web::get().to(find_payment))
            .route(
                "/payments/find/{merchant_uid}/{payment_status}",
                web::get().to(find_payment_in),
            )
            .route("/vbanks", web::post().to(issue_vbank))
            .route("/vbanks/{imp_uid}", web::delete().to(revoke_vbank))
            .route("/_sim/expire-tokens", web::post().to(expire_tokens))
            .route("/_sim/stats", web::post().to(stats))
            .route("/_sim/vbanks/{imp_uid}/deposit", web::post().to(deposit))
            .route("/_sim/faults", web::post().to(faults))
            .route("/_sim/token-lifetime", web::post().to(token_lifetime))
            .route("/_sim/webhooks", web::post().to(webhooks))
            .route("/_sim/webhook-faults", web::post().to(webhook_faults))
            .route(
                "/_sim/payments/{imp_uid}/amount",
                web::post().to(tamper_amount),
            )
            .route(
                "/_sim/payments/{imp_uid}/cancel",
                web::post().to(cancel_behind_our_back),
            )
            .route("/bank/{imp_uid}", web::get().to(bank::page))
            .route("/bank/{imp_uid}/deposit", web::post().to(bank::deposit))
            .service(
                web::resource("/checkout")
                    .route(web::get().to(checkout::page))
                    .route(web::post().to(checkout::decide)),
            )
            .default_service(web::to(unknown)),
    );
}

/// The simulator, or 404 when this process talks to a real PortOne.
fn simulator(state: &AppState) -> Option<&Simulator> {
    state.portone_sim.as_deref()
}

/// Send the webhooks the last change queued: in the background, or before answering when the
/// `before_redirect` fault is on.
pub async fn dispatch(state: &AppState) {
    let Some(sim) = state.portone_sim.clone() else {
        return;
    };
    let (notices, before_answer) = sim.take_outbox();
    if notices.is_empty() {
        return;
    }
    let send = move || {
        for notice in notices {
            sim.deliver(notice);
        }
    };
    if before_answer {
        if let Err(e) = web::block(send).await {
            tracing::warn!(error = %e, "simulator: webhooks could not be sent");
        }
    } else {
        drop(actix_web::rt::task::spawn_blocking(send));
    }
}

/// Serve one API call, suffering the pending fault if there is one.
async fn faulty(sim: &Simulator, op: impl FnOnce() -> Answer) -> HttpResponse {
    match sim.take_fault() {
        None => respond(op()),
        Some(Fault::Delay(delay)) => {
            let answer = op();
            actix_web::rt::time::sleep(delay).await;
            respond(answer)
        }
        Some(Fault::ErrorAfter) => {
            let _done = op();
            server_error()
        }
        Some(Fault::ErrorBefore) => server_error(),
    }
}

/// A 500 as a failing gateway gives it: no envelope.
fn server_error() -> HttpResponse {
    HttpResponse::InternalServerError()
        .content_type("text/plain; charset=utf-8")
        .body("Internal Server Error")
}

fn respond(answer: Answer) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    HttpResponse::build(status)
        .content_type("application/json; charset=utf-8")
        .json(serde_json::json!({
            "code": answer.code,
            "message": answer.message,
            "response": answer.response,
        }))
}

/// A JSON or url-encoded body, as PortOne accepts both.
fn body<T: DeserializeOwned>(req: &HttpRequest, bytes: &[u8]) -> Result<T, Answer> {
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/json"));
    let parsed = if json {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    } else {
        serde_urlencoded::from_bytes(bytes).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| Answer::refused(400, &format!("잘못된 요청입니다: {e}")))
}

/// The token check every API call but `getToken` makes.
fn authorised<'a>(state: &'a AppState, req: &HttpRequest) -> Result<&'a Simulator, Answer> {
    let sim = simulator(state).ok_or_else(|| Answer::refused(404, "Not Found"))?;
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if sim.authorised(header) {
        Ok(sim)
    } else {
        Err(Answer::unauthorized())
    }
}

#[derive(Deserialize)]
struct Credentials {
    #[serde(default)]
    imp_key: String,
    #[serde(default)]
    imp_secret: String,
}

async fn get_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    bytes: web::Bytes,
) -> HttpResponse {
    let Some(sim) = simulator(&state) else {
        return respond(Answer::refused(404, "Not Found"));
    };
    match body::<Credentials>(&req, &bytes) {
        Ok(c) => respond(sim.get_token(&c.imp_key, &c.imp_secret)),
        Err(refusal) => respond(refusal),
    }
}

#[derive(Deserialize)]
struct PrepareBody {
    merchant_uid: String,
    #[serde(deserialize_with = "crate::portone::deserialize_won")]
    amount: Won,
}

async fn prepare(state: web::Data<AppState>, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    let sim = match authorised(&state, &req) {
        Ok(sim) => sim,
        Err(refusal) => return respond(refusal),
    };
    match body::<PrepareBody>(&req, &bytes) {
        Ok(p) => faulty(sim, || sim.prepare(&p.merchant_uid, p.amount)).await,
        Err(refusal) => respond(refusal),
    }
}

async fn prepared(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    match authorised(&state, &req) {
        Ok(sim) => faulty(sim, || sim.prepared(&path)).await,
        Err(refusal) => respond(refusal),
    }
}

async fn payment(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    match authorised(&state, &req) {
        Ok(sim) => faulty(sim, || sim.payment(&path)).await,
        Err(refusal) => respond(refusal),
    }
}

/// `GET /payments/find/{merchant_uid}`: the newest payment (by start) for an order.
async fn find_payment(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    match authorised(&state, &req) {
        Ok(sim) => faulty(sim, || sim.find_by_order(&path, None)).await,
        Err(refusal) => respond(refusal),
    }
}

/// `GET /payments/find/{merchant_uid}/{payment_status}`: the newest in that status.
async fn find_payment_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (merchant_uid, status) = path.into_inner();
    match authorised(&state, &req) {
        Ok(sim) => faulty(sim, || sim.find_by_order(&merchant_uid, Some(&status))).await,
        Err(refusal) => respond(refusal),
    }
}

async fn cancel(state: web::Data<AppState>, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    let sim = match authorised(&state, &req) {
        Ok(sim) => sim,
        Err(refusal) => return respond(refusal),
    };
    match body::<CancelOrder>(&req, &bytes) {
        Ok(c) => faulty(sim, || sim.cancel(&c)).await,
        Err(refusal) => respond(refusal),
    }
}

async fn issue_vbank(
    state: web::Data<AppState>,
    req: HttpRequest,
    bytes: web::Bytes,
) -> HttpResponse {
    let sim = match authorised(&state, &req) {
        Ok(sim) => sim,
        Err(refusal) => return respond(refusal),
    };
    match body::<VbankIssue>(&req, &bytes) {
        Ok(v) => {
            let response = faulty(sim, || sim.issue_vbank(&v)).await;
            dispatch(&state).await;
            response
        }
        Err(refusal) => respond(refusal),
    }
}

async fn revoke_vbank(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    match authorised(&state, &req) {
        Ok(sim) => faulty(sim, || sim.revoke_vbank(&path)).await,
        Err(refusal) => respond(refusal),
    }
}

/// The controls take the key and secret (not a token: expiring tokens must not need one).
fn controlled<'a>(
    state: &'a AppState,
    req: &HttpRequest,
    bytes: &[u8],
) -> Result<&'a Simulator, Answer> {
    let sim = simulator(state).ok_or_else(|| Answer::refused(404, "Not Found"))?;
    let c = body::<Credentials>(req, bytes)?;
    if sim.credentials_match(&c.imp_key, &c.imp_secret) {
        Ok(sim)
    } else {
        Err(Answer::unauthorized())
    }
}

async fn expire_tokens(
    state: web::Data<AppState>,
    req: HttpRequest,
    bytes: web::Bytes,
) -> HttpResponse {
    match controlled(&state, &req, &bytes) {
        Ok(sim) => {
            sim.expire_tokens();
            respond(Answer {
                status: 200,
                code: 0,
                message: None,
                response: Some(serde_json::json!({ "expired": true })),
            })
        }
        Err(refusal) => respond(refusal),
    }
}

async fn stats(state: web::Data<AppState>, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    match controlled(&state, &req, &bytes) {
        Ok(sim) => respond(Answer {
            status: 200,
            code: 0,
            message: None,
            response: Some(serde_json::json!({ "token_requests": sim.token_requests() })),
        }),
        Err(refusal) => respond(refusal),
    }
}

async fn deposit(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    match controlled(&state, &req, &bytes) {
        Ok(sim) => {
            let answer = sim.deposit(&path);
            dispatch(&state).await;
            respond(answer)
        }
        Err(refusal) => respond(refusal),
    }
}

#[derive(Deserialize)]
struct FaultBody {
    #[serde(default)]
    mode: String,
    #[serde(default)]
    delay_ms: Option<u64>,
    #[serde(default)]
    count: Option<u32>,
}

/// The longest injected delay.
const MAX_DELAY_MS: u64 = 60_000;

async fn faults(state: web::Data<AppState>, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    let sim = match controlled(&state, &req, &bytes) {
        Ok(sim) => sim,
        Err(refusal) => return respond(refusal),
    };
    let f = match body::<FaultBody>(&req, &bytes) {
        Ok(f) => f,
        Err(refusal) => return respond(refusal),
    };
    let fault = match f.mode.as_str() {
        "none" => None,
        "delay" => match f.delay_ms {
            Some(ms) if ms <= MAX_DELAY_MS => {
                Some(Fault::Delay(std::time::Duration::from_millis(ms)))
            }
            _ => return respond(Answer::refused(400, "delay_ms: 0 to 60000")),
        },
        "error" => Some(Fault::ErrorAfter),
        "error_before" => Some(Fault::ErrorBefore),
        _ => {
            return respond(Answer::refused(
                400,
                "mode: delay, error, error_before or none",
            ))
        }
    };
    let count = f.count.unwrap_or(1).min(1_000);
    sim.inject(fault, count);
    respond(Answer {
        status: 200,
        code: 0,
        message: None,
        response: Some(serde_json::json!({ "mode": f.mode, "count": count })),
    })
}

#[derive(Deserialize)]
struct LifetimeBody {
    secs: i64,
}

async fn token_lifetime(
    state: web::Data<AppState>,
    req: HttpRequest,
    bytes: web::Bytes,
) -> HttpResponse {
    let sim = match controlled(&state, &req, &bytes) {
        Ok(sim) => sim,
        Err(refusal) => return respond(refusal),
    };
    match body::<LifetimeBody>(&req, &bytes) {
        Ok(l) if (1..=state::TOKEN_LIFETIME_SECS).contains(&l.secs) => {
            sim.set_token_lifetime(Some(l.secs));
            respond(Answer {
                status: 200,
                code: 0,
                message: None,
                response: Some(serde_json::json!({ "secs": l.secs })),
            })
        }
        Ok(_) => respond(Answer::refused(400, "secs: 1 to 1800")),
        Err(refusal) => respond(refusal),
    }
}

#[derive(Deserialize)]
struct AmountBody {
    #[serde(deserialize_with = "crate::portone::deserialize_won")]
    amount: Won,
}

async fn tamper_amount(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let sim = match controlled(&state, &req, &bytes) {
        Ok(sim) => sim,
        Err(refusal) => return respond(refusal),
    };
    match body::<AmountBody>(&req, &bytes) {
        Ok(a) => respond(sim.tamper_amount(&path, a.amount)),
        Err(refusal) => respond(refusal),
    }
}

async fn cancel_behind_our_back(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    match controlled(&state, &req, &bytes) {
        Ok(sim) => {
            let answer = sim.cancel_behind_our_back(&path);
            dispatch(&state).await;
            respond(answer)
        }
        Err(refusal) => respond(refusal),
    }
}

async fn webhooks(state: web::Data<AppState>, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    match controlled(&state, &req, &bytes) {
        Ok(sim) => respond(Answer {
            status: 200,
            code: 0,
            message: None,
            response: serde_json::to_value(sim.deliveries()).ok(),
        }),
        Err(refusal) => respond(refusal),
    }
}

#[derive(Deserialize)]
struct WebhookFaultBody {
    #[serde(default)]
    copies: Option<u32>,
    #[serde(default)]
    before_redirect: Option<String>,
}

async fn webhook_faults(
    state: web::Data<AppState>,
    req: HttpRequest,
    bytes: web::Bytes,
) -> HttpResponse {
    let sim = match controlled(&state, &req, &bytes) {
        Ok(sim) => sim,
        Err(refusal) => return respond(refusal),
    };
    let f = match body::<WebhookFaultBody>(&req, &bytes) {
        Ok(f) => f,
        Err(refusal) => return respond(refusal),
    };
    let copies = f.copies.unwrap_or(1);
    if !(1..=5).contains(&copies) {
        return respond(Answer::refused(400, "copies: 1 to 5"));
    }
    let before_redirect = matches!(f.before_redirect.as_deref(), Some("true" | "1" | "on"));
    sim.set_webhook_faults(copies, before_redirect);
    respond(Answer {
        status: 200,
        code: 0,
        message: None,
        response: Some(serde_json::json!({ "copies": copies, "before_redirect": before_redirect })),
    })
}

async fn unknown() -> HttpResponse {
    respond(Answer::refused(404, "Not Found"))
}
