//! The simulator's checkout page: it stands in for the PG's payment window that
//! `IMP.request_pay` opens. The buyer approves, declines or closes it; the outcome is recorded
//! as a payment (`paid` or `failed`) and the browser goes back to `m_redirect_url` with
//! `imp_uid`, `merchant_uid` and `imp_success`, as PortOne's mobile redirect does.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::msg::Msg;
use crate::domain::Won;
use crate::web::portone_sim::state::{CheckoutError, Decision, Simulator};
use crate::web::{render, see_other, AppError, AppState, Ctx};

/// `/portone-sim/checkout`: the order, its amount, and approve / decline / close.
#[derive(Template)]
#[template(path = "portone_sim/checkout.html")]
pub struct CheckoutPage {
    pub ctx: Ctx,
    pub merchant_uid: String,
    pub amount: Won,
    pub name: String,
    pub m_redirect_url: String,
    /// Where PortOne's webhook goes (empty: none).
    pub notice_url: String,
    /// Why the window cannot take this payment (PortOne blocks it), if it cannot.
    pub refusal: Option<String>,
}

/// What `IMP.request_pay` hands the window.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CheckoutQuery {
    pub merchant_uid: String,
    pub amount: String,
    pub name: String,
    pub m_redirect_url: String,
    pub notice_url: String,
}

/// The checkout form: the same fields and the decision.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CheckoutForm {
    pub merchant_uid: String,
    pub amount: String,
    pub name: String,
    pub m_redirect_url: String,
    pub notice_url: String,
    pub decision: String,
}

/// A checked order: merchant_uid 1–40 characters, a positive amount, a name up to 100
/// characters and a redirect that stays on this site (a path, never `//host` or a scheme).
struct Order {
    merchant_uid: String,
    amount: Won,
    name: String,
    m_redirect_url: String,
}

fn parse_order(
    merchant_uid: &str,
    amount: &str,
    name: &str,
    redirect: &str,
) -> Result<Order, AppError> {
    let merchant_uid = merchant_uid.trim();
    if merchant_uid.is_empty() || merchant_uid.chars().count() > 40 {
        return Err(AppError::BadRequest(Msg::new("err.sim.merchant_uid")));
    }
    let amount = Won::parse_within(amount, Won::new(1).unwrap_or(Won::ZERO), Won::MAX_INPUT)
        .map_err(|e| AppError::BadRequest(e.msg()))?;
    if name.chars().count() > 100 {
        return Err(AppError::BadRequest(Msg::new("err.sim.name")));
    }
    let local = redirect.starts_with('/')
        && !redirect.starts_with("//")
        && redirect.len() <= 512
        && !redirect.contains('\\')
        && !redirect.chars().any(char::is_control);
    if !local {
        return Err(AppError::BadRequest(Msg::new("err.sim.redirect")));
    }
    Ok(Order {
        merchant_uid: merchant_uid.to_owned(),
        amount,
        name: name.to_owned(),
        m_redirect_url: redirect.to_owned(),
    })
}

/// The webhook address, delivered within this site only (empty: no webhook).
fn notice_url(sim: &Simulator, raw: &str) -> Result<Option<String>, AppError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    sim.resolve_notice_url(raw)
        .map(Some)
        .ok_or_else(|| AppError::BadRequest(Msg::new("err.sim.notice_url")))
}

/// `GET /portone-sim/checkout`.
pub async fn page(
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<CheckoutQuery>,
) -> Result<HttpResponse, AppError> {
    let sim = state.portone_sim.as_deref().ok_or(AppError::NotFound)?;
    let q = query.into_inner();
    let order = parse_order(&q.merchant_uid, &q.amount, &q.name, &q.m_redirect_url)?;
    notice_url(sim, &q.notice_url)?;
    let refusal = sim
        .checkout_allowed(&order.merchant_uid, order.amount)
        .err()
        .map(|e| e.msg().text(ctx.lang));
    let status = if refusal.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        status,
        &CheckoutPage {
            ctx,
            merchant_uid: order.merchant_uid,
            amount: order.amount,
            name: order.name,
            m_redirect_url: order.m_redirect_url,
            notice_url: q.notice_url,
            refusal,
        },
    )
}

/// `POST /portone-sim/checkout`: record the outcome, 303 back to `m_redirect_url`.
pub async fn decide(
    state: web::Data<AppState>,
    form: web::Form<CheckoutForm>,
) -> Result<HttpResponse, AppError> {
    let sim = state.portone_sim.as_deref().ok_or(AppError::NotFound)?;
    let f = form.into_inner();
    let order = parse_order(&f.merchant_uid, &f.amount, &f.name, &f.m_redirect_url)?;
    let decision = match f.decision.as_str() {
        "approve" => Decision::Approve,
        "decline" => Decision::Decline,
        "close" => Decision::Close,
        _ => return Err(AppError::BadRequest(Msg::new("err.sim.decision"))),
    };
    let notice = notice_url(sim, &f.notice_url)?;
    let payment = sim
        .checkout(
            &order.merchant_uid,
            order.amount,
            &order.name,
            decision,
            notice,
        )
        .map_err(|e: CheckoutError| AppError::Rejected(e.msg()))?;
    crate::web::portone_sim::dispatch(&state).await;
    let mut pairs = vec![
        ("imp_uid", payment.imp_uid.clone()),
        ("merchant_uid", payment.merchant_uid.clone()),
        ("imp_success", (decision == Decision::Approve).to_string()),
    ];
    if let Some(reason) = &payment.fail_reason {
        pairs.push(("error_msg", reason.clone()));
    }
    let query = serde_urlencoded::to_string(&pairs)
        .map_err(|e| AppError::Internal(anyhow::Error::new(e)))?;
    let separator = if order.m_redirect_url.contains('?') {
        '&'
    } else {
        '?'
    };
    Ok(see_other(&format!(
        "{}{separator}{query}",
        order.m_redirect_url
    )))
}
