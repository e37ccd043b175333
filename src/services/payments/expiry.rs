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

/// Each overdue payment of `due`: asked at PortOne once more (a payment that arrived is
/// settled as paid; an open virtual account is voided), otherwise handed to `close`. A PortOne
/// that does not answer leaves the payment for the next round. The number `close` closed.
fn sweep(
    pool: &DbPool,
    portone: &PortOne,
    due: Vec<PaymentRow>,
    close: impl Fn(&PaymentRow) -> anyhow::Result<bool>,
) -> anyhow::Result<usize> {
    let mut expired = 0;
    for row in due {
        match stop_at_portone(portone, &row) {
            AtPortOne::Paid(found) => {
                settle(pool, portone, &row, &found).map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            AtPortOne::Unknown => {}
            AtPortOne::Stopped => expired += usize::from(close(&row)?),
        }
    }
    Ok(expired)
}

/// Market purchases paid at checkout past their deadline (card: its time to pay; virtual
/// account: its deadline): unless PortOne has them paid, closed `expired` and the trade
/// cancelled, its units back on sale. The number expired.
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
    sweep(pool, portone, due, |row| {
        let why = if row.method == "vbank" {
            "no transfer arrived before the virtual account's deadline"
        } else {
            "the card payment's deadline passed unpaid"
        };
        let closed = close_unpaid_trade(pool, &row.merchant_uid, Status::Expired, why)?;
        if closed {
            tracing::info!(trade.id = row.trade_id, "unpaid market purchase cancelled");
        }
        Ok(closed)
    })
}

/// Virtual-account top-ups past their deadline: unless PortOne has them paid (then credited),
/// voided there (`DELETE /vbanks/{imp_uid}`) and marked `expired`. The number expired. (A
/// market purchase's account is [`expire_due_trade_payments`]'s.)
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
    sweep(pool, portone, due, |row| {
        let mut conn = connection(pool)?;
        crate::db::write_tx(&mut conn, |conn| -> anyhow::Result<bool> {
            let closed = diesel::update(
                payments::table
                    .find(row.id)
                    .filter(payments::status.eq(Status::Ready.as_str())),
            )
            .set((
                payments::status.eq(Status::Expired.as_str()),
                payments::updated_at.eq(now()),
            ))
            .execute(conn)?;
            if closed > 0 {
                let told = crate::services::notify::Notice::payment(
                    crate::domain::notification::NotificationKind::PaymentExpired,
                    &row.merchant_uid,
                    Some(row.amount()),
                );
                crate::services::notify::notify(conn, row.user_id, &told)?;
            }
            Ok(closed > 0)
        })
    })
}
