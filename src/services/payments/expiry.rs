//! Payments past their deadline, swept by the payments job: unpaid virtual accounts voided at
//! PortOne, unpaid market purchases cancelled (a payment that arrived in time is settled).

use diesel::prelude::*;

use crate::db::schema::payments;
use crate::db::DbPool;
use crate::portone::PortOne;
use crate::services::now;

use super::unpaid::{close_unpaid_trade, stop_at_portone, AtPortOne};
use super::verify::settle;
use super::{connection, PaymentRow, Status};

/// Market purchases paid at checkout past their deadline (card: its time to pay; virtual
/// account: its deadline): asked at PortOne once more (a payment that arrived is settled as
/// paid; an open virtual account is voided), otherwise closed `expired` and the trade
/// cancelled, its units back on sale. A PortOne that does not answer leaves the payment for
/// the next round. The number expired.
pub fn expire_due_trade_payments(pool: &DbPool, portone: &PortOne) -> anyhow::Result<usize> {
    let due: Vec<PaymentRow> = {
        let mut conn = connection(pool)?;
        payments::table
            .filter(payments::purpose.eq("trade"))
            .filter(payments::status.eq(Status::Ready.as_str()))
            .filter(payments::pay_by.lt(now()))
            .order(payments::id.asc())
            .limit(50)
            .select(PaymentRow::as_select())
            .load(&mut *conn)?
    };
    let mut expired = 0;
    for row in due {
        match stop_at_portone(portone, &row) {
            AtPortOne::Paid(found) => {
                settle(pool, portone, &row, &found).map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            AtPortOne::Unknown => {}
            AtPortOne::Stopped => {
                let why = if row.method == "vbank" {
                    "no transfer arrived before the virtual account's deadline"
                } else {
                    "the card payment's deadline passed unpaid"
                };
                if close_unpaid_trade(pool, &row.merchant_uid, Status::Expired, why)? {
                    expired += 1;
                    tracing::info!(trade.id = row.trade_id, "unpaid market purchase cancelled");
                }
            }
        }
    }
    Ok(expired)
}

/// Virtual-account top-ups past their deadline: asked at PortOne once more (a deposit that
/// arrived is credited), otherwise voided there (`DELETE /vbanks/{imp_uid}`) and marked
/// `expired`. A PortOne that does not answer leaves the payment for the next round. The
/// number expired. (A market purchase's account is [`expire_due_trade_payments`]'s.)
pub fn expire_due_vbanks(pool: &DbPool, portone: &PortOne) -> anyhow::Result<usize> {
    let due: Vec<PaymentRow> = {
        let mut conn = connection(pool)?;
        payments::table
            .filter(payments::method.eq("vbank"))
            .filter(payments::purpose.eq("topup"))
            .filter(payments::status.eq(Status::Ready.as_str()))
            .filter(payments::vbank_due.lt(now()))
            .filter(payments::imp_uid.is_not_null())
            .order(payments::id.asc())
            .limit(50)
            .select(PaymentRow::as_select())
            .load(&mut *conn)?
    };
    let mut expired = 0;
    for row in due {
        match stop_at_portone(portone, &row) {
            AtPortOne::Paid(found) => {
                settle(pool, portone, &row, &found).map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            AtPortOne::Unknown => {}
            AtPortOne::Stopped => {
                let mut conn = connection(pool)?;
                expired += diesel::update(
                    payments::table
                        .find(row.id)
                        .filter(payments::status.eq(Status::Ready.as_str())),
                )
                .set((
                    payments::status.eq(Status::Expired.as_str()),
                    payments::updated_at.eq(now()),
                ))
                .execute(&mut *conn)?;
            }
        }
    }
    Ok(expired)
}
