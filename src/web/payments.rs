//! Payments through PortOne (DESIGN §8): the payment page, the browser's return from the
//! checkout (`/payments/complete`) and PortOne's webhook (`/payments/webhook`). The last two
//! trust nothing they are given: both end in the one verification,
//! [`crate::services::payments::verify`].

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::once::OnceKey;
use crate::domain::msg::Msg;
use crate::domain::Won;
use crate::services::payments::{self as payments_service, PaymentRow, Status, VerifyError};
use crate::services::refunds::{self as refunds_service, RefundForm, RefundStatus};
use crate::web::session::flash;
use crate::web::{db, render, retry_lost, see_other, AppError, AppState, Ctx};

/// Where the simulator's checkout window sends the browser back.
pub const COMPLETE_PATH: &str = "/payments/complete";
/// Where PortOne posts its notices (register `PUBLIC_URL` + this at PortOne).
pub const WEBHOOK_PATH: &str = "/payments/webhook";

/// `/payments/{merchant_uid}`: one payment, its state in words, and the checkout while ready.
#[derive(Template)]
#[template(path = "payments/show.html")]
pub struct PaymentPage {
    /// A real PortOne's card checkout (its SDK window), when one is configured.
    pub sdk_checkout: Option<SdkCheckout>,
    pub ctx: Ctx,
    pub merchant_uid: String,
    pub amount: Won,
    pub method: String,
    pub status: &'static str,
    pub status_words: String,
    pub created: String,
    pub paid: Option<String>,
    pub receipt_url: Option<String>,
    pub fail_reason: Option<String>,
    /// The simulator's checkout window can be opened (card, ready, simulator active).
    pub checkout: bool,
    pub m_redirect_url: &'static str,
    pub notice_url: String,
    /// A virtual account: bank, number, holder and deadline.
    pub vbank: Option<VbankShown>,
    /// What can be refunded now (zero: no refund form).
    pub refundable: Won,
    /// The banks a virtual-account refund can go to (code, name).
    pub refund_banks: &'static [(&'static str, &'static str)],
    /// This payment's refunds, newest first, in words.
    pub refunds: Vec<RefundShown>,
    /// What is paid for: `NeighborBid wallet top-up` or `NeighborBid market purchase`.
    pub title: &'static str,
    /// A market purchase waiting for its card payment: the deadline.
    pub pay_by: Option<String>,
}

/// One refund of the payment, as its owner sees it.
pub struct RefundShown {
    pub amount: Won,
    pub status: &'static str,
    pub words: String,
    pub why: Option<String>,
    pub at: String,
}

/// The virtual account to pay into, as the page shows it.
pub struct VbankShown {
    pub bank: String,
    pub number: String,
    pub holder: String,
    pub due: String,
}

/// The webhook address PortOne is given: absolute under `NEIGHBORBID_PUBLIC_URL`, else the path
/// (which only the built-in simulator accepts).
pub fn notice_url(state: &AppState) -> String {
    match state.settings.public_url.as_deref() {
        Some(base) => format!("{}{WEBHOOK_PATH}", base.trim_end_matches('/')),
        None => WEBHOOK_PATH.to_owned(),
    }
}

/// What `IMP.init`/`IMP.request_pay` need, carried as data attributes for `checkout.js`.
pub struct SdkCheckout {
    pub imp_code: String,
    pub pg: String,
    /// The absolute `m_redirect_url` (mobile browsers come back there).
    pub redirect: String,
}

/// `NEIGHBORBID_PUBLIC_URL` + `/payments/complete`, for PortOne's SDK.
fn complete_url(state: &AppState) -> String {
    let base = state
        .settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", state.settings.bind));
    format!("{base}{COMPLETE_PATH}")
}

/// The receipt link, only when it is a web address.
fn receipt(row: &PaymentRow) -> Option<String> {
    row.receipt_url
        .clone()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
}

pub async fn show(
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user_id = ctx.require_user()?.id;
    let merchant_uid = path.into_inner();
    let (row, refundable, refund_rows) = db(&state, move |conn| {
        let Some(row) =
            payments_service::find_own(conn, user_id, &merchant_uid).map_err(anyhow::Error::new)?
        else {
            return Ok(None);
        };
        let refundable = refunds_service::refundable(conn, &row).map_err(anyhow::Error::new)?;
        let refunds = refunds_service::refunds_of(conn, row.id).map_err(anyhow::Error::new)?;
        Ok::<_, anyhow::Error>(Some((row, refundable, refunds)))
    })
    .await?
    .ok_or(AppError::NotFound)?;
    let status = row.status();
    let refunds = refund_rows
        .iter()
        .map(|r| RefundShown {
            amount: r.amount(),
            status: r.status().as_str(),
            words: ctx.t(r.status().words_key()),
            why: r.fail_reason.clone(),
            at: ctx.time(&r.created_at),
        })
        .collect();
    let status_words = ctx.t(row.words_key());
    render(
        StatusCode::OK,
        &PaymentPage {
            title: if row.purpose == "trade" {
                "NeighborBid market purchase"
            } else {
                "NeighborBid wallet top-up"
            },
            pay_by: row
                .pay_by
                .filter(|_| status == Status::Ready)
                .map(|t| ctx.time(&t)),
            amount: row.amount(),
            method: row.method.clone(),
            status: status.as_str(),
            status_words,
            refundable,
            refund_banks: &crate::domain::bank::BANKS,
            refunds,
            created: ctx.time(&row.created_at),
            paid: row.paid_at.as_ref().map(|t| ctx.time(t)),
            receipt_url: receipt(&row),
            fail_reason: row.fail_reason.clone(),
            checkout: row.method == "card"
                && status == Status::Ready
                && state.portone_sim.is_some(),
            sdk_checkout: (row.method == "card"
                && status == Status::Ready
                && state.portone_sim.is_none()
                && !state.settings.portone.imp_code.is_empty())
            .then(|| SdkCheckout {
                imp_code: state.settings.portone.imp_code.clone(),
                pg: state.settings.portone.pg.clone(),
                redirect: complete_url(&state),
            }),
            m_redirect_url: COMPLETE_PATH,
            notice_url: notice_url(&state),
            vbank: row.vbank_num.as_ref().map(|num| VbankShown {
                bank: row.vbank_name.clone().unwrap_or_default(),
                number: num.clone(),
                holder: row.vbank_holder.clone().unwrap_or_default(),
                due: row
                    .vbank_due
                    .as_ref()
                    .map(|t| ctx.time(t))
                    .unwrap_or_default(),
            }),
            merchant_uid: row.merchant_uid,
            ctx,
        },
    )
}

/// What the checkout window (or a callback) hands back; PortOne's own answer decides.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Notice {
    pub imp_uid: String,
    pub merchant_uid: String,
}

fn checked(notice: &Notice) -> Result<(), AppError> {
    if notice.imp_uid.is_empty() || notice.merchant_uid.is_empty() {
        return Err(AppError::BadRequest(Msg::new("err.payment.notice_fields")));
    }
    Ok(())
}

async fn verify(
    state: &web::Data<AppState>,
    notice: Notice,
) -> Result<payments_service::Verified, VerifyError> {
    let (pool, portone) = (state.pool.clone(), state.portone.clone());
    let span = tracing::Span::current();
    web::block(move || {
        let _entered = span.enter();
        payments_service::verify(&pool, &portone, &notice.imp_uid, &notice.merchant_uid)
    })
    .await
    .map_err(|e| VerifyError::Unexpected(anyhow::anyhow!("blocking task failed: {e}")))?
}

/// `GET|POST /payments/complete?imp_uid=…&merchant_uid=…`: the browser is back from the
/// checkout. Verified with PortOne, then 303 to the payment page.
#[tracing::instrument(skip_all)]
pub async fn complete(
    session: Session,
    state: web::Data<AppState>,
    query: web::Query<Notice>,
) -> Result<HttpResponse, AppError> {
    let notice = query.into_inner();
    checked(&notice)?;
    let page = format!("/payments/{}", notice.merchant_uid);
    match verify(&state, notice).await {
        Ok(v) => {
            let (kind, message) = match v.status {
                Status::Paid => ("success", "flash.payment.paid"),
                Status::Ready => ("info", "flash.payment.ready"),
                Status::Forged => ("error", v.status.words_key()),
                _ => ("error", "flash.payment.failed"),
            };
            flash(&session, kind, Msg::new(message));
            Ok(see_other(&page))
        }
        Err(VerifyError::PortOne(e)) => {
            tracing::warn!(error = %e, "PortOne did not confirm a returning payment");
            flash(&session, "info", Msg::new("flash.payment.unconfirmed"));
            Ok(see_other(&page))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /payments/webhook`: PortOne's notice, JSON or form. No session, no CSRF; only
/// `imp_uid` and `merchant_uid` are read, and only to ask PortOne. 200 once processed, 404 for a
/// `merchant_uid` we never issued, 503 while PortOne cannot be reached.
#[tracing::instrument(skip_all)]
pub async fn webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let json = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    let notice: Notice = if json {
        serde_json::from_slice(&body)
            .map_err(|_| AppError::BadRequest(Msg::new("err.payment.not_json")))?
    } else {
        serde_urlencoded::from_bytes(&body)
            .map_err(|_| AppError::BadRequest(Msg::new("err.payment.not_form")))?
    };
    checked(&notice)?;
    let v = verify(&state, notice).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "merchant_uid": v.merchant_uid,
        "status": v.status.as_str(),
    })))
}

/// The refund form (DESIGN §6): `amount` (empty: all refundable), `reason`, and for a virtual
/// account `refund_bank`, `refund_account`, `refund_holder`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CancelForm {
    pub amount: String,
    pub reason: String,
    pub refund_bank: String,
    pub refund_account: String,
    pub refund_holder: String,
    /// The form's one-time key: resubmitted after an unknown outcome, the refund acts once.
    pub idempotency_key: String,
}

/// `POST /payments/{merchant_uid}/cancel`: the owner asks for unspent money back. 303 to the
/// payment page with the outcome in words; 422 with the reason when nothing can move; 404 for
/// anyone else's payment.
#[tracing::instrument(skip_all)]
pub async fn cancel(
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CancelForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = ctx.require_user()?.id;
    let merchant_uid = path.into_inner();
    let f = form.into_inner();
    let key = OnceKey::parse(user_id, "refund", &f.idempotency_key)
        .map(|k| k.for_request(&format!("{merchant_uid}:{}", f.amount.trim())));
    let form = RefundForm {
        amount: f.amount,
        reason: f.reason,
        refund_bank: f.refund_bank,
        refund_account: f.refund_account,
        refund_holder: f.refund_holder,
    };
    let (pool, portone, uid) = (
        state.pool.clone(),
        state.portone.clone(),
        merchant_uid.clone(),
    );
    let span = tracing::Span::current();
    let outcome = web::block(move || {
        let _entered = span.enter();
        retry_lost(key.is_some(), || {
            refunds_service::request_refund(&pool, &portone, user_id, &uid, &form, key.as_ref())
        })
    })
    .await
    .map_err(|e| AppError::from(anyhow::anyhow!("blocking task failed: {e}")))??;
    let kind = match outcome.status {
        RefundStatus::Done => "success",
        RefundStatus::Pending => "info",
        RefundStatus::Refused | RefundStatus::Mismatch => "error",
    };
    flash(&session, kind, Msg::new(outcome.status.words_key()));
    Ok(see_other(&format!("/payments/{merchant_uid}")))
}
