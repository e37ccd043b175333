//! A market purchase paid at checkout: the trade waits (`awaiting_payment`, its units
//! reserved) until PortOne says paid, or its deadline passes and it is cancelled.

use diesel::prelude::*;

use crate::db::schema::payments;
use crate::db::{write_tx, DbPool};
use crate::domain::UserId;
use crate::portone::PortOne;
use crate::services::market;
use crate::services::now;

use super::{by_merchant_uid, connection, new_uid, Status};

/// How long a buyer has to pay a market purchase by card.
pub const TRADE_CARD_DEADLINE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// A market purchase to be paid by card.
#[derive(Debug, Clone, Copy)]
pub struct TradeCheckout {
    pub product_id: i64,
    pub buyer_id: UserId,
    pub order: market::Order,
    /// The seller's time to answer, from the payment.
    pub respond_within: std::time::Duration,
    /// The buyer's time to pay.
    pub pay_within: std::time::Duration,
}

/// Start a market purchase paid by card: in one transaction the trade (`awaiting_payment`,
/// its units reserved) and its payment (purpose `trade`, the whole price, due within
/// `pay_within`); then the amount is registered with PortOne when `prepare` is on. Gives the
/// `merchant_uid` for the payment page. A prepare that fails closes the payment and cancels
/// the trade (the units go back on sale).
#[tracing::instrument(skip_all, fields(user.id = purchase.buyer_id, product.id = purchase.product_id))]
pub fn start_trade_payment(
    pool: &DbPool,
    portone: &PortOne,
    prepare: bool,
    purchase: &TradeCheckout,
) -> Result<(String, market::Bought), market::BuyError> {
    let TradeCheckout {
        product_id,
        buyer_id,
        order,
        respond_within,
        pay_within,
    } = *purchase;
    let merchant_uid = new_uid("trade");
    let pay_within = chrono::Duration::from_std(pay_within)
        .map_err(|e| market::BuyError::Unexpected(anyhow::anyhow!("payment deadline: {e}")))?;
    let bought = {
        let mut conn = connection(pool)?;
        write_tx(
            &mut conn,
            |conn| -> Result<market::Bought, market::BuyError> {
                let bought =
                    market::reserve_for_card(conn, product_id, buyer_id, order, respond_within)?;
                let at = now();
                diesel::insert_into(payments::table)
                    .values((
                        payments::merchant_uid.eq(&merchant_uid),
                        payments::user_id.eq(buyer_id),
                        payments::amount.eq(bought.price.get()),
                        payments::method.eq("card"),
                        payments::purpose.eq("trade"),
                        payments::status.eq(Status::Ready.as_str()),
                        payments::trade_id.eq(Some(bought.trade_id)),
                        payments::pay_by.eq(Some(at + pay_within)),
                        payments::created_at.eq(at),
                        payments::updated_at.eq(at),
                    ))
                    .execute(conn)?;
                Ok(bought)
            },
        )?
    };
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
    Ok((merchant_uid, bought))
}

/// A trade payment that will not be paid (declined, closed, never registered, past its
/// deadline): in one transaction it is closed as `status` and its trade, still waiting,
/// cancelled with its units back on sale. True when it was closed now.
pub(super) fn close_unpaid_trade(
    pool: &DbPool,
    merchant_uid: &str,
    status: Status,
    reason: &str,
) -> anyhow::Result<bool> {
    let mut conn = connection(pool)?;
    write_tx(&mut conn, |conn| -> Result<bool, anyhow::Error> {
        let Some(row) = by_merchant_uid(conn, merchant_uid)? else {
            return Ok(false);
        };
        let Some(trade_id) = row.trade_id else {
            return Ok(false);
        };
        market::lock_trade_product(conn, trade_id)?;
        let closed = diesel::update(
            payments::table
                .find(row.id)
                .filter(payments::status.eq(Status::Ready.as_str())),
        )
        .set((
            payments::status.eq(status.as_str()),
            payments::fail_reason.eq(reason),
            payments::updated_at.eq(now()),
        ))
        .execute(conn)?;
        if closed == 0 {
            return Ok(false);
        }
        market::card_unpaid(conn, trade_id)?;
        Ok(true)
    })
}
