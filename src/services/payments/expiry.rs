//! Payments past their deadline, swept by the payments job: unpaid virtual accounts voided at
//! PortOne, unpaid market purchases cancelled (a payment that arrived in time is settled).

use diesel::prelude::*;

use crate::db::schema::payments;
use crate::db::DbPool;
use crate::portone::{PaymentStatus, PortOne};
use crate::services::now;

use super::checkout::close_unpaid_trade;
use super::verify::settle;
use super::{connection, PaymentRow, Status};

/// Market card payments past their deadline: asked at PortOne once more when we know the
/// `imp_uid` (a payment that arrived is settled as paid), otherwise closed `expired` and the
/// trade cancelled, its units back on sale. A PortOne that does not answer leaves the payment
/// for the next round. The number expired.
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
        if let Some(imp_uid) = row.imp_uid.clone() {
            match portone.payment(&imp_uid) {
                Ok(found) if found.merchant_uid == row.merchant_uid => {
                    if found.status == PaymentStatus::Paid {
                        settle(pool, portone, &row, &found).map_err(|e| anyhow::anyhow!("{e}"))?;
                        continue;
                    }
                }
                Ok(_) => {
                    tracing::error!("PortOne has another order for a trade payment: left alone");
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "an overdue trade payment could not be looked up");
                    continue;
                }
            }
        }
        if close_unpaid_trade(
            pool,
            &row.merchant_uid,
            Status::Expired,
            "the card payment's deadline passed unpaid",
        )? {
            expired += 1;
            tracing::info!(trade.id = row.trade_id, "unpaid market purchase cancelled");
        }
    }
    Ok(expired)
}

/// Virtual accounts past their deadline: asked at PortOne once more (a deposit that arrived
/// is credited), otherwise voided there (`DELETE /vbanks/{imp_uid}`) and marked `expired`. A
/// PortOne that does not answer leaves the payment for the next round. The number expired.
pub fn expire_due_vbanks(pool: &DbPool, portone: &PortOne) -> anyhow::Result<usize> {
    let due: Vec<PaymentRow> = {
        let mut conn = connection(pool)?;
        payments::table
            .filter(payments::method.eq("vbank"))
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
        let Some(imp_uid) = row.imp_uid.clone() else {
            continue;
        };
        let found = match portone.payment(&imp_uid) {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "an overdue virtual account could not be looked up");
                continue;
            }
        };
        if found.merchant_uid != row.merchant_uid {
            tracing::error!("PortOne has another order for this virtual account: left alone");
            continue;
        }
        match found.status {
            PaymentStatus::Paid => {
                settle(pool, portone, &row, &found).map_err(|e| anyhow::anyhow!("{e}"))?;
                continue;
            }
            PaymentStatus::Ready | PaymentStatus::Other => {
                if let Err(e) = portone.revoke_vbank(&imp_uid) {
                    tracing::warn!(error = %e, "an overdue virtual account could not be voided");
                    continue;
                }
            }
            PaymentStatus::Cancelled | PaymentStatus::Failed => {}
        }
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
    Ok(expired)
}
