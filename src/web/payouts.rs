//! Payouts: `/wallet/payouts` (a member asks to be paid out to a bank account; their payouts in
//! words) and `/admin/payouts` (the queue: mark transferred once the bank transfer is made, or
//! reject).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::once::OnceKey;
use crate::domain::bank::{bank_name, BankAccount, BANKS};
use crate::domain::msg::Msg;
use crate::domain::Won;
use crate::services::payouts::{
    self, decide_payout, request_payout, Payout, PayoutDecision, MAX_PAYOUT, MIN_PAYOUT,
};
use crate::web::session::flash;
use crate::web::{db, db_once, render, see_other, AppError, AppState, Ctx};

/// One payout as a page shows it.
pub struct PayoutLine {
    pub id: i64,
    pub username: String,
    pub amount: Won,
    pub bank: String,
    pub account: String,
    pub holder: String,
    pub status: &'static str,
    pub label: String,
    pub requested_at: String,
    pub decided_at: Option<String>,
    pub note: String,
    pub open: bool,
}

impl PayoutLine {
    pub fn new(ctx: &Ctx, p: Payout, username: String, full_number: bool) -> PayoutLine {
        let status = p.status();
        PayoutLine {
            id: p.id,
            username,
            amount: p.amount(),
            bank: bank_name(&p.bank_code).unwrap_or("?").to_owned(),
            account: if full_number {
                p.account_number.clone()
            } else {
                BankAccount::masked_number(&p.account_number)
            },
            holder: p.account_holder.clone(),
            status: status.as_str(),
            label: ctx.t(status.label_key()),
            requested_at: ctx.time(&p.requested_at),
            decided_at: p.decided_at.as_ref().map(|t| ctx.time(t)),
            note: p.note.clone().unwrap_or_default(),
            open: status == payouts::PayoutStatus::Requested,
        }
    }
}

/// What the payout form sent (re-shown on 422).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PayoutForm {
    pub amount: String,
    pub bank_code: String,
    pub account_number: String,
    pub account_holder: String,
    /// The form's one-time key: resubmitted after an unknown outcome, the payout acts once.
    pub idempotency_key: String,
}

/// `/wallet/payouts`: the request form and the member's payouts.
#[derive(Template)]
#[template(path = "wallet/payouts.html")]
pub struct PayoutsPage {
    pub ctx: Ctx,
    pub available: Won,
    pub min: Won,
    pub max: Won,
    pub banks: &'static [(&'static str, &'static str)],
    pub form: PayoutForm,
    pub errors: Vec<String>,
    pub lines: Vec<PayoutLine>,
}

async fn payouts_page(
    ctx: Ctx,
    state: &AppState,
    status: StatusCode,
    form: PayoutForm,
    errors: Vec<Msg>,
) -> Result<HttpResponse, AppError> {
    let user = ctx.require_user()?;
    let (user_id, available) = (user.id, user.balance);
    let rows = db(state, move |conn| {
        payouts::payouts_of(conn, user_id).map_err(anyhow::Error::new)
    })
    .await?;
    let lines = rows
        .into_iter()
        .map(|p| PayoutLine::new(&ctx, p, String::new(), false))
        .collect();
    render(
        status,
        &PayoutsPage {
            available,
            min: MIN_PAYOUT,
            max: MAX_PAYOUT,
            banks: &BANKS,
            form,
            errors: Msg::texts(&errors, ctx.lang),
            lines,
            ctx,
        },
    )
}

pub async fn show(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    payouts_page(ctx, &state, StatusCode::OK, PayoutForm::default(), vec![]).await
}

#[tracing::instrument(skip_all)]
pub async fn request(
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<PayoutForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = ctx.require_user()?.id;
    let form = form.into_inner();
    let mut errors = Vec::new();
    let amount = Won::parse(&form.amount)
        .map_err(|e| errors.push(Msg::new("err.payout.amount").arg("why", e.msg())))
        .ok();
    let account = BankAccount::parse(&form.bank_code, &form.account_number, &form.account_holder)
        .map_err(|mut e| errors.append(&mut e))
        .ok();
    if let (Some(amount), Some(account), true) = (amount, account, errors.is_empty()) {
        let key = OnceKey::parse(user_id, "payout", &form.idempotency_key).map(|k| {
            k.for_request(&format!(
                "{amount}:{}:{}:{}",
                account.bank_code, account.number, account.holder
            ))
        });
        let result = db_once(&state, key.is_some(), move |conn| {
            request_payout(conn, user_id, amount, &account, key.as_ref())
        })
        .await;
        match result {
            Ok(id) => {
                flash(
                    &session,
                    "success",
                    Msg::new("flash.payout.requested")
                        .arg("id", id)
                        .arg("amount", amount),
                );
                return Ok(see_other("/wallet/payouts"));
            }
            Err(e) => errors.extend(AppError::from(e).into_msgs()?),
        }
    }
    payouts_page(ctx, &state, StatusCode::UNPROCESSABLE_ENTITY, form, errors).await
}

/// `/admin/payouts`: requested payouts oldest first (with the full account), then the newest
/// decided ones.
#[derive(Template)]
#[template(path = "admin/payouts.html")]
pub struct QueuePage {
    pub ctx: Ctx,
    pub lines: Vec<PayoutLine>,
}

pub async fn queue(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    ctx.require_admin()?;
    let rows = db(&state, |conn| {
        payouts::queue(conn).map_err(anyhow::Error::new)
    })
    .await?;
    let lines = rows
        .into_iter()
        .map(|(p, username)| PayoutLine::new(&ctx, p, username, true))
        .collect();
    render(StatusCode::OK, &QueuePage { ctx, lines })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    pub note: String,
}

async fn decide(
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    id: i64,
    decision: PayoutDecision,
    note: String,
) -> Result<HttpResponse, AppError> {
    let admin = ctx.require_admin()?.id;
    let note: String = note.chars().filter(|c| !c.is_control()).take(200).collect();
    let result = db(&state, move |conn| {
        decide_payout(conn, id, admin, decision, &note)
    })
    .await;
    match result {
        Ok(p) => flash(
            &session,
            "success",
            Msg::new("flash.payout.decided")
                .arg("id", id)
                .arg("status", Msg::new(p.status().key())),
        ),
        Err(e) => {
            let why = AppError::from(e).into_msgs()?;
            let why = Msg::new("flash.payout.refused")
                .arg("id", id)
                .arg("why", why);
            flash(&session, "error", why);
        }
    }
    Ok(see_other("/admin/payouts"))
}

pub async fn transfer(
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, AppError> {
    let note = form.into_inner().note;
    decide(
        ctx,
        session,
        state,
        path.into_inner(),
        PayoutDecision::Transferred,
        note,
    )
    .await
}

pub async fn reject(
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, AppError> {
    let note = form.into_inner().note;
    decide(
        ctx,
        session,
        state,
        path.into_inner(),
        PayoutDecision::Rejected,
        note,
    )
    .await
}
