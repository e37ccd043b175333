//! The simulator's bank counter: a virtual account's details and the button that pays into
//! it, standing in for the buyer's transfer at their own bank.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use crate::portone::{Payment, PaymentStatus};
use crate::web::{render, see_other, AppError, AppState, Ctx};

/// `/portone-sim/bank/{imp_uid}`: the account (bank, number, holder, amount, deadline), its
/// status, and "deposit" while it waits for the money.
#[derive(Template)]
#[template(path = "portone_sim/bank.html")]
pub struct BankPage {
    pub ctx: Ctx,
    pub payment: Payment,
    pub deadline: String,
    pub waiting: bool,
}

/// A virtual account the simulator issued, or 404.
fn account(state: &AppState, imp_uid: &str) -> Result<Payment, AppError> {
    let sim = state.portone_sim.as_deref().ok_or(AppError::NotFound)?;
    sim.find(imp_uid)
        .filter(|p| p.pay_method.as_deref() == Some("vbank"))
        .ok_or(AppError::NotFound)
}

/// `GET /portone-sim/bank/{imp_uid}`.
pub async fn page(
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let payment = account(&state, &path)?;
    let deadline = chrono::DateTime::from_timestamp(payment.vbank_date, 0)
        .map(|t| ctx.time(&t.naive_utc()))
        .unwrap_or_default();
    let waiting = payment.status == PaymentStatus::Ready;
    render(
        StatusCode::OK,
        &BankPage {
            ctx,
            payment,
            deadline,
            waiting,
        },
    )
}

/// `POST /portone-sim/bank/{imp_uid}/deposit`: the buyer pays the amount in; PortOne's
/// webhook follows. 303 back to the account.
pub async fn deposit(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let payment = account(&state, &path)?;
    let sim = state.portone_sim.as_deref().ok_or(AppError::NotFound)?;
    let answer = sim.deposit(&payment.imp_uid);
    if answer.code != 0 {
        return Err(AppError::Rejected(
            crate::domain::msg::Msg::new("err.sim.bank")
                .arg("0", answer.message.unwrap_or_default()),
        ));
    }
    crate::web::portone_sim::dispatch(&state).await;
    Ok(see_other(&format!(
        "{}/bank/{}",
        crate::web::portone_sim::PREFIX,
        payment.imp_uid
    )))
}
