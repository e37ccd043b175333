//! The wallet page and the development top-up.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::money::format_delta;
use crate::domain::LedgerKind;
use crate::domain::{AmountError, Won};
use crate::services::wallet::{self as wallet_service, DepositError, DepositOutcome};
use crate::web::session::{flash, new_token};
use crate::web::{db, page_number, render, see_other, AppError, AppState, Ctx, Pager, SessionUser};

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
    pub label: &'static str,
    pub kind: String,
    pub delta_balance: String,
    pub delta_locked: String,
    pub reference: String,
}

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
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let user = ctx.require_user()?;
    let (user_id, balance, locked) = (user.id, user.balance, user.locked);
    let (entries, total) = db(state, move |conn| {
        wallet_service::journal_page(conn, user_id, page, JOURNAL_PER_PAGE)
            .map_err(anyhow::Error::new)
    })
    .await?;
    let lines = entries
        .into_iter()
        .map(|e| JournalLine {
            time: ctx.time(&e.created_at),
            label: LedgerKind::parse(&e.kind).map_or("Other", LedgerKind::label),
            kind: e.kind,
            delta_balance: format_delta(e.delta_balance),
            delta_locked: format_delta(e.delta_locked),
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
            error,
            ctx,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TopUpForm {
    pub amount: String,
    /// `dev` (the free development top-up, only with `NEIGHBORBID_DEV_TOPUP=true`).
    pub method: String,
    pub idempotency_key: String,
}

fn valid_key(key: &str) -> bool {
    (16..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[tracing::instrument(skip_all, fields(user.id = user.id))]
pub async fn top_up(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    form: web::Form<TopUpForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    if form.method != "dev" {
        return Err(AppError::Rejected(
            "Choose how to pay: that top-up method is not available.".to_owned(),
        ));
    }
    if !state.settings.dev_topup {
        return Err(AppError::Forbidden(
            "The free development top-up is switched off on this site.".to_owned(),
        ));
    }
    let amount = Won::parse_within(&form.amount, TOPUP_MIN, TOPUP_MAX);
    let reason = match (&amount, valid_key(&form.idempotency_key)) {
        (Err(e), _) => Some(top_up_reason(e)),
        (Ok(_), false) => Some("This form has expired. Reload the page and try again.".to_owned()),
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
                    format!("{amount} added to your wallet."),
                );
                Ok(see_other("/wallet"))
            }
            Ok(DepositOutcome::AlreadyApplied) => {
                flash(
                    &user.session,
                    "info",
                    "That top-up was already applied; nothing was added twice.",
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

fn top_up_reason(e: &AmountError) -> String {
    match e {
        AmountError::TooLarge(_) => format!("A single top-up can be at most {TOPUP_MAX}."),
        other => other.to_string(),
    }
}
