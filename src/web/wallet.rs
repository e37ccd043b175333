//! The wallet page and the development top-up.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::once::OnceKey;
use crate::domain::msg::Msg;
use crate::domain::LedgerKind;
use crate::domain::{AmountError, Won};
use crate::services::payments::{self as payments_service, TopUpError, TopUpMethod};
use crate::services::wallet::{self as wallet_service, DepositError, DepositOutcome};
use crate::web::session::{flash, new_token};
use crate::web::{
    db, page_number, render, retry_lost, see_other, AppError, AppState, Ctx, Pager, SessionUser,
};

pub const JOURNAL_PER_PAGE: i64 = 20;
/// The development top-up accepts ₩1 to ₩10,000,000 at a time.
pub const TOPUP_MAX: Won = match Won::new(10_000_000) {
    Some(w) => w,
    None => Won::ZERO,
};
const TOPUP_MIN: Won = match Won::new(1) {
    Some(w) => w,
    None => Won::ZERO,
};

/// One journal line, formatted for the page.
pub struct JournalLine {
    pub time: String,
    pub label: String,
    pub kind: String,
    pub delta_balance: String,
    pub delta_locked: String,
    pub reference: String,
}

/// One of the member's payments, for the wallet page.
pub struct PaymentLine {
    pub merchant_uid: String,
    pub time: String,
    pub amount: Won,
    pub method: String,
    pub status: &'static str,
    pub status_words: String,
    /// A virtual account still waiting: bank, number, holder and deadline.
    pub account: Option<String>,
}

/// How many of a member's payments the wallet page lists.
pub const PAYMENTS_LISTED: i64 = 20;

/// `/wallet`: balance, locked, the journal (newest first, paginated) and the top-up form.
#[derive(Template)]
#[template(path = "wallet/show.html")]
pub struct WalletPage {
    pub ctx: Ctx,
    pub balance: Won,
    pub locked: Won,
    pub lines: Vec<JournalLine>,
    pub pager: Pager,
    pub total_entries: i64,
    pub dev_topup: bool,
    pub topup_max: Won,
    pub idempotency_key: String,
    pub amount: String,
    pub error: Option<String>,
    /// Top-up by card through PortOne (the simulator's checkout window).
    pub card_topup: bool,
    pub card_min: Won,
    pub card_max: Won,
    pub daily_cap: Won,
    pub payments: Vec<PaymentLine>,
    /// The banks a virtual account can be opened at: (code, name).
    pub banks: Vec<(&'static str, &'static str)>,
    /// How long a virtual account waits for its deposit, in hours.
    pub vbank_hours: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    pub page: String,
}

pub async fn show(
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let page = page_number(&query.page);
    wallet_page(ctx, &state, page, StatusCode::OK, String::new(), None).await
}

async fn wallet_page(
    ctx: Ctx,
    state: &AppState,
    page: i64,
    status: StatusCode,
    amount: String,
    error: Option<Msg>,
) -> Result<HttpResponse, AppError> {
    let user = ctx.require_user()?;
    let (user_id, balance, locked) = (user.id, user.balance, user.locked);
    let (entries, total, payments) = db(state, move |conn| {
        let (entries, total) = wallet_service::journal_page(conn, user_id, page, JOURNAL_PER_PAGE)
            .map_err(anyhow::Error::new)?;
        let payments =
            payments_service::recent(conn, user_id, PAYMENTS_LISTED).map_err(anyhow::Error::new)?;
        Ok::<_, anyhow::Error>((entries, total, payments))
    })
    .await?;
    let payments = payments
        .into_iter()
        .map(|p| {
            let status = p.status();
            let account = match (&p.vbank_num, status) {
                (Some(num), payments_service::Status::Ready) => Some(format!(
                    "{} {} ({}){}",
                    p.vbank_name.as_deref().unwrap_or_default(),
                    num,
                    p.vbank_holder.as_deref().unwrap_or_default(),
                    p.vbank_due
                        .as_ref()
                        .map(|t| ctx.t_n("wallet.due_by", ctx.time(t)))
                        .unwrap_or_default()
                )),
                _ => None,
            };
            PaymentLine {
                account,
                time: ctx.time(&p.created_at),
                amount: p.amount(),
                method: ctx.t(if p.method == "card" {
                    "words.method.card"
                } else {
                    "words.method.vbank"
                }),
                status: status.as_str(),
                status_words: ctx.t(p.words_key()),
                merchant_uid: p.merchant_uid,
            }
        })
        .collect();
    let lines = entries
        .into_iter()
        .map(|e| JournalLine {
            time: ctx.time(&e.created_at),
            label: ctx
                .t(LedgerKind::parse(&e.kind).map_or("words.ledger.other", LedgerKind::label_key)),
            kind: e.kind,
            delta_balance: ctx.lang.money_delta(e.delta_balance),
            delta_locked: ctx.lang.money_delta(e.delta_locked),
            reference: e.reference.unwrap_or_default(),
        })
        .collect();
    let pager = Pager::new(page, total, JOURNAL_PER_PAGE, "/wallet", &[]);
    render(
        status,
        &WalletPage {
            balance,
            locked,
            lines,
            pager,
            total_entries: total,
            dev_topup: state.settings.dev_topup,
            topup_max: TOPUP_MAX,
            idempotency_key: new_token(),
            amount,
            error: error.map(|e| e.text(ctx.lang)),
            card_topup: card_available(state),
            card_min: payments_service::TOPUP_MIN,
            card_max: payments_service::TOPUP_MAX,
            daily_cap: payments_service::DAILY_CAP,
            payments,
            banks: payments_service::vbank_banks(),
            vbank_hours: state.settings.portone.vbank_due.as_secs() / 3600,
            ctx,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TopUpForm {
    pub amount: String,
    /// `card` (through PortOne), or `dev` (the free development top-up, only with
    /// `NEIGHBORBID_DEV_TOPUP=true`).
    pub method: String,
    pub idempotency_key: String,
    /// `vbank`: PortOne's bank code and the depositor's name.
    pub bank_code: String,
    pub depositor: String,
}

#[tracing::instrument(skip_all, fields(user.id = user.id))]
pub async fn top_up(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    form: web::Form<TopUpForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    if form.method == "card" && card_available(&state) {
        return portone_top_up(req, user, state, form, TopUpMethod::Card).await;
    }
    if form.method == "vbank" {
        let how = TopUpMethod::Vbank {
            bank_code: form.bank_code.clone(),
            depositor: form.depositor.clone(),
            due: state.settings.portone.vbank_due,
            notice_url: Some(crate::web::payments::notice_url(&state)),
        };
        return portone_top_up(req, user, state, form, how).await;
    }
    if form.method != "dev" {
        return Err(AppError::Rejected(Msg::new("err.wallet.method")));
    }
    if !state.settings.dev_topup {
        return Err(AppError::Forbidden(Msg::new("err.wallet.dev_off")));
    }
    let amount = Won::parse_within(&form.amount, TOPUP_MIN, TOPUP_MAX);
    // The development top-up keys its journal line with the form's one-time key (required).
    let well_formed = OnceKey::parse(user.id, "dev_top_up", &form.idempotency_key).is_some();
    let reason = match (&amount, well_formed) {
        (Err(e), _) => Some(top_up_reason(e)),
        (Ok(_), false) => Some(Msg::new("err.form_expired")),
        (Ok(_), true) => None,
    };
    if let (Ok(amount), None) = (amount, &reason) {
        let key = format!("topup:{}:{}", user.id, form.idempotency_key);
        let user_id = user.id;
        let outcome: Result<DepositOutcome, DepositError> = db(&state, move |conn| {
            wallet_service::deposit(
                conn,
                user_id,
                amount,
                &key,
                Some("development top-up".to_owned()),
            )
        })
        .await;
        return match outcome {
            Ok(DepositOutcome::Credited) => {
                flash(
                    &user.session,
                    "success",
                    Msg::new("flash.wallet.added").arg("amount", amount),
                );
                Ok(see_other("/wallet"))
            }
            Ok(DepositOutcome::AlreadyApplied) => {
                flash(
                    &user.session,
                    "info",
                    Msg::new("flash.wallet.already_applied"),
                );
                Ok(see_other("/wallet"))
            }
            Err(e) => Err(e.into()),
        };
    }
    let ctx = Ctx::load(&req).await?;
    let typed: String = form.amount.chars().take(30).collect();
    wallet_page(
        ctx,
        &state,
        1,
        StatusCode::UNPROCESSABLE_ENTITY,
        typed,
        reason,
    )
    .await
}

/// Card top-ups run through the checkout window, which only the built-in simulator serves
/// (the PortOne browser SDK is not part of the site yet; see the README).
/// Card top-ups: the simulator's window, or PortOne's SDK window when a store code is set.
fn card_available(state: &AppState) -> bool {
    state.portone_sim.is_some() || !state.settings.portone.imp_code.is_empty()
}

/// `method=card` or `vbank`: create the payment (limits checked by the payments service), 303
/// to its page.
async fn portone_top_up(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    form: TopUpForm,
    how: TopUpMethod,
) -> Result<HttpResponse, AppError> {
    let (pool, portone) = (state.pool.clone(), state.portone.clone());
    let prepare = state.settings.portone.prepare;
    let (user_id, amount) = (user.id, form.amount.clone());
    let key = OnceKey::parse(user_id, "top_up", &form.idempotency_key).map(|k| {
        k.for_request(&format!(
            "{}:{}:{}:{}",
            form.method,
            form.amount.trim(),
            form.bank_code.trim(),
            form.depositor.trim()
        ))
    });
    let span = tracing::Span::current();
    let started = web::block(move || {
        let _entered = span.enter();
        retry_lost(key.is_some(), || {
            payments_service::start_topup(
                &pool,
                &portone,
                prepare,
                user_id,
                &amount,
                &how,
                key.as_ref(),
            )
        })
    })
    .await
    .map_err(|e| TopUpError::Unexpected(anyhow::anyhow!("blocking task failed: {e}")))
    .and_then(|r| r);
    match started {
        Ok(merchant_uid) => Ok(see_other(&format!("/payments/{merchant_uid}"))),
        Err(
            e @ (TopUpError::Amount(_) | TopUpError::DailyCap { .. } | TopUpError::NotAvailable),
        ) => {
            let ctx = Ctx::load(&req).await?;
            let typed: String = form.amount.chars().take(30).collect();
            wallet_page(
                ctx,
                &state,
                1,
                StatusCode::UNPROCESSABLE_ENTITY,
                typed,
                Some(e.msg()),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

fn top_up_reason(e: &AmountError) -> Msg {
    match e {
        AmountError::TooLarge(_) => Msg::new("err.top_up.too_large").arg("max", TOPUP_MAX),
        other => other.msg(),
    }
}
