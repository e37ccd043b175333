//! `/admin/payments`: every payment with its state (forged and waiting ones first), a re-check
//! with PortOne for any that has reached its checkout, and the payouts still to be decided.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use crate::domain::msg::Msg;
use crate::domain::Won;
use crate::services::payments_admin::{overview, recheck};
use crate::services::payouts;
use crate::web::payouts::PayoutLine;
use crate::web::session::flash;
use crate::web::{db, render, see_other, AppError, AppState, Ctx};

/// One payment as the admin sees it.
pub struct PaymentLine {
    pub merchant_uid: String,
    pub username: String,
    pub method: String,
    pub amount: Won,
    pub status: &'static str,
    pub imp_uid: String,
    pub created_at: String,
    pub paid_at: Option<String>,
    pub note: String,
    /// A refund of this payment that needs a look.
    pub flag: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/payments.html")]
pub struct PaymentsPage {
    pub ctx: Ctx,
    pub payments: Vec<PaymentLine>,
    pub payouts: Vec<PayoutLine>,
}

pub async fn list(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    ctx.require_admin()?;
    let (rows, queue) = db(&state, |conn| {
        Ok::<_, anyhow::Error>((overview(conn)?, payouts::queue(conn)?))
    })
    .await?;
    let payments = rows
        .into_iter()
        .map(|(p, username, flag)| PaymentLine {
            flag: flag.map(|f| ctx.t(f.words_key())),
            status: p.status().as_str(),
            amount: p.amount(),
            imp_uid: p.imp_uid.clone().unwrap_or_default(),
            created_at: ctx.time(&p.created_at),
            paid_at: p.paid_at.as_ref().map(|t| ctx.time(t)),
            note: p.fail_reason.clone().unwrap_or_default(),
            merchant_uid: p.merchant_uid,
            method: p.method,
            username,
        })
        .collect();
    let payouts = queue
        .into_iter()
        .filter(|(p, _)| p.status() == payouts::PayoutStatus::Requested)
        .map(|(p, username)| PayoutLine::new(&ctx, p, username, true))
        .collect();
    render(
        StatusCode::OK,
        &PaymentsPage {
            ctx,
            payments,
            payouts,
        },
    )
}

/// Look one payment up at PortOne again and act as a webhook would.
pub async fn recheck_payment(
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    ctx.require_admin()?;
    let merchant_uid = path.into_inner();
    let (pool, portone) = (state.pool.clone(), state.portone.clone());
    let uid = merchant_uid.clone();
    let span = tracing::Span::current();
    let result = web::block(move || {
        let _entered = span.enter();
        recheck(&pool, &portone, &uid)
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?;
    match result {
        Ok(v) => flash(
            &session,
            "success",
            Msg::new(if v.credited {
                "flash.admin.recheck_credited"
            } else {
                "flash.admin.recheck"
            })
            .arg("uid", &merchant_uid)
            .arg("status", v.status.as_str()),
        ),
        Err(e) => {
            let e = AppError::from(e);
            let (_, why) = e.title_and_message(ctx.lang);
            match e {
                AppError::NotFound => return Err(e),
                other => {
                    other.log();
                    let why = Msg::new("flash.admin.recheck_refused")
                        .arg("uid", &merchant_uid)
                        .arg("why", why);
                    flash(&session, "error", why);
                }
            }
        }
    }
    Ok(see_other("/admin/payments"))
}
