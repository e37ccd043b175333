//! A market purchase paid at checkout: the trade waits (`awaiting_payment`, its units
//! reserved) until PortOne says paid, or its deadline passes and it is cancelled.

use diesel::prelude::*;

use crate::db::once::{self, OnceKey};
use crate::db::schema::payments;
use crate::db::{write_tx, DbPool};
use crate::domain::bank::BankAccount;
use crate::domain::market::{TradeId, TradeStatus};
use crate::domain::UserId;
use crate::portone::PortOne;
use crate::services::market::{self, CancelTradeError, TradeCanceller};
use crate::services::now;
use crate::services::refunds;

use super::unpaid::{close_unpaid_trade, stop_at_portone, AtPortOne};
use super::vbank::{self, VbankOrder};
use super::verify::settle;
use super::{connection, new_uid, PaymentRow, Status};

/// How a market purchase is paid at checkout.
#[derive(Debug, Clone)]
pub enum CheckoutMethod {
    /// Through the card checkout window, within `within`.
    Card { within: std::time::Duration },
    /// By transfer into a virtual account opened at `bank_code` for `depositor`, open for
    /// `due`; `refund_to` is where the money goes back should the trade not go ahead.
    Vbank {
        bank_code: String,
        depositor: String,
        refund_to: BankAccount,
        due: std::time::Duration,
        notice_url: Option<String>,
    },
}

impl CheckoutMethod {
    const fn as_str(&self) -> &'static str {
        match self {
            CheckoutMethod::Card { .. } => "card",
            CheckoutMethod::Vbank { .. } => "vbank",
        }
    }

    const fn within(&self) -> std::time::Duration {
        match self {
            CheckoutMethod::Card { within } => *within,
            CheckoutMethod::Vbank { due, .. } => *due,
        }
    }
}

/// A market purchase to be paid at checkout.
#[derive(Debug, Clone)]
pub struct TradeCheckout {
    pub product_id: i64,
    pub buyer_id: UserId,
    pub order: market::Order,
    /// The seller's time to answer, from the payment.
    pub respond_within: std::time::Duration,
    pub method: CheckoutMethod,
}

/// Start a market purchase paid at checkout: in one transaction the trade
/// (`awaiting_payment`, its units reserved) and its payment (purpose `trade`, the whole
/// price, due within the method's time); then the amount is registered with PortOne when
/// `prepare` is on, and for a virtual account the account is opened (its deadline becomes the
/// trade's). Gives the `merchant_uid` for the payment page. A PortOne step that fails closes
/// the payment and cancels the trade (the units go back on sale).
#[tracing::instrument(skip_all, fields(user.id = purchase.buyer_id, product.id = purchase.product_id))]
pub fn start_trade_payment(
    pool: &DbPool,
    portone: &PortOne,
    prepare: bool,
    purchase: &TradeCheckout,
    key: Option<&OnceKey>,
) -> Result<(String, market::Bought), market::BuyError> {
    let TradeCheckout {
        product_id,
        buyer_id,
        order,
        respond_within,
        ref method,
    } = *purchase;
    if let CheckoutMethod::Vbank {
        bank_code,
        depositor,
        ..
    } = method
    {
        if !vbank::valid_bank(bank_code) {
            return Err(market::BuyError::VbankBank);
        }
        if !vbank::valid_depositor(depositor) {
            return Err(market::BuyError::Depositor);
        }
    }
    let refund_to = match method {
        CheckoutMethod::Vbank { refund_to, .. } => Some(refund_to),
        CheckoutMethod::Card { .. } => None,
    };
    let fresh_uid = new_uid("trade");
    let pay_within = chrono::Duration::from_std(method.within())
        .map_err(|e| market::BuyError::Unexpected(anyhow::anyhow!("payment deadline: {e}")))?;
    let ((merchant_uid, bought), replayed) = {
        let mut conn = connection(pool)?;
        write_tx(&mut conn, |conn| {
            once::run_flagged(conn, key, |conn| -> Result<_, market::BuyError> {
                let merchant_uid = fresh_uid.clone();
                let bought =
                    market::reserve_for_card(conn, product_id, buyer_id, order, respond_within)?;
                let at = now();
                diesel::insert_into(payments::table)
                    .values((
                        payments::merchant_uid.eq(&merchant_uid),
                        payments::user_id.eq(buyer_id),
                        payments::amount.eq(bought.price.get()),
                        payments::method.eq(method.as_str()),
                        payments::purpose.eq("trade"),
                        payments::status.eq(Status::Ready.as_str()),
                        payments::trade_id.eq(Some(bought.trade_id)),
                        payments::pay_by.eq(Some(at + pay_within)),
                        payments::refund_bank.eq(refund_to.map(|a| a.bank_code.as_str())),
                        payments::refund_account.eq(refund_to.map(|a| a.number.as_str())),
                        payments::refund_holder.eq(refund_to.map(|a| a.holder.as_str())),
                        payments::created_at.eq(at),
                        payments::updated_at.eq(at),
                    ))
                    .execute(conn)?;
                Ok((merchant_uid, bought))
            })
        })?
    };
    if replayed {
        // A resubmitted form: the purchase it started the first time, nothing asked again.
        return Ok((merchant_uid, bought));
    }
    if prepare {
        if let Err(e) = portone.prepare(&merchant_uid, bought.price) {
            tracing::warn!(error = %e, "PortOne prepare failed; the purchase is cancelled");
            close_unpaid_trade(
                pool,
                &merchant_uid,
                Status::Failed,
                "PortOne could not register the payment",
            )?;
            return Err(market::BuyError::PaymentUnavailable);
        }
    }
    if let CheckoutMethod::Vbank {
        bank_code,
        depositor,
        due,
        notice_url,
        ..
    } = method
    {
        let order = VbankOrder {
            merchant_uid: &merchant_uid,
            amount: bought.price,
            bank_code,
            depositor,
            due: *due,
            notice_url: notice_url.clone(),
            name: "NeighborBid market purchase",
        };
        match vbank::issue(pool, portone, &order)? {
            Ok(due_at) => {
                // The trade waits exactly as long as the account is open.
                let mut conn = connection(pool)?;
                diesel::update(payments::table.filter(payments::merchant_uid.eq(&merchant_uid)))
                    .set(payments::pay_by.eq(Some(due_at)))
                    .execute(&mut *conn)
                    .map_err(anyhow::Error::new)?;
            }
            Err(e) => {
                tracing::warn!(error = %e, "PortOne did not open the virtual account; the purchase is cancelled");
                close_unpaid_trade(
                    pool,
                    &merchant_uid,
                    Status::Failed,
                    "PortOne did not open the virtual account",
                )?;
                return Err(if e.is_result_unknown() {
                    market::BuyError::PaymentUnavailable
                } else {
                    market::BuyError::PaymentRefused(e.to_string())
                });
            }
        }
    }
    Ok((merchant_uid, bought))
}

/// The buyer cancels a purchase the seller has not approved. Still waiting for its payment:
/// PortOne is asked first (an open virtual account is voided, so nothing can be paid into it
/// afterwards; a card payment that did arrive is settled), then the payment is closed
/// `cancelled` and the units go back on sale. Paid (or paid from the wallet): the market's
/// cancel releases the hold and, for a payment at checkout, its refund goes back the way the
/// money came. Returns the product's id.
#[tracing::instrument(skip(pool, portone), fields(user.id = buyer_id))]
pub fn cancel_purchase(
    pool: &DbPool,
    portone: &PortOne,
    trade_id: TradeId,
    buyer_id: UserId,
) -> Result<i64, CancelTradeError> {
    let (trade, payment) = {
        let mut conn = connection(pool)?;
        let trade = market::find_trade(&mut conn, trade_id)?.ok_or(CancelTradeError::NotFound)?;
        let payment: Option<PaymentRow> = payments::table
            .filter(payments::trade_id.eq(trade_id))
            .select(PaymentRow::as_select())
            .first(&mut *conn)
            .optional()?;
        (trade, payment)
    };
    if trade.buyer_id != buyer_id {
        return Err(CancelTradeError::NotBuyer);
    }
    if let Some(payment) = payment.filter(|p| p.status() == Status::Ready) {
        if trade.status() == Some(TradeStatus::AwaitingPayment) {
            match stop_at_portone(portone, &payment) {
                AtPortOne::Stopped => {
                    close_unpaid_trade(
                        pool,
                        &payment.merchant_uid,
                        Status::Cancelled,
                        "the buyer cancelled the purchase before paying",
                    )?;
                    let mut conn = connection(pool)?;
                    let now_trade = market::find_trade(&mut conn, trade_id)?
                        .ok_or(CancelTradeError::NotFound)?;
                    if now_trade.status() != Some(TradeStatus::Cancelled) {
                        // Paid in the meantime (the webhook won the race): cancel it as paid.
                        drop(conn);
                        return cancel_paid(pool, portone, trade_id, buyer_id);
                    }
                    return trade.product_id.ok_or(CancelTradeError::NotFound);
                }
                AtPortOne::Paid(found) => {
                    // It was paid after all: record it, then cancel it as a paid purchase.
                    settle(pool, portone, &payment, &found)
                        .map_err(|e| CancelTradeError::Unexpected(anyhow::anyhow!("{e}")))?;
                }
                AtPortOne::Unknown => return Err(CancelTradeError::PaymentUnavailable),
            }
        }
    }
    cancel_paid(pool, portone, trade_id, buyer_id)
}

/// The market's cancel (the hold released, the units back on sale), then the refund of a
/// payment at checkout sent to PortOne (one that gets no answer is left to the reconciler).
fn cancel_paid(
    pool: &DbPool,
    portone: &PortOne,
    trade_id: TradeId,
    buyer_id: UserId,
) -> Result<i64, CancelTradeError> {
    let product_id = {
        let mut conn = connection(pool)?;
        market::cancel_trade(&mut conn, trade_id, TradeCanceller::Buyer(buyer_id))?
    };
    if let Err(e) = refunds::send_trade_refund(pool, portone, trade_id) {
        tracing::warn!(error = %e, "a cancelled purchase's refund could not be sent yet");
    }
    Ok(product_id)
}
