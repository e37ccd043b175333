//! A payment that will not be paid: stopped at PortOne (an open virtual account voided), and
//! a trade payment closed together with its trade.

use diesel::prelude::*;

use crate::db::schema::payments;
use crate::db::{write_tx, DbPool};
use crate::portone::{Payment as PortOnePayment, PaymentStatus, PortOne, PortOneError};
use crate::services::market;
use crate::services::now;

use super::{by_merchant_uid, connection, PaymentRow, Status};

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
        if status == Status::Expired {
            let told = crate::services::notify::Notice::payment(
                crate::domain::notification::NotificationKind::PaymentExpired,
                &row.merchant_uid,
                Some(row.amount()),
            );
            crate::services::notify::notify(conn, row.user_id, &told)?;
        }
        market::card_unpaid(conn, trade_id)?;
        Ok(true)
    })
}

/// What PortOne says of one of our unpaid payments we want to close.
pub(super) enum AtPortOne {
    /// It was paid after all: settle it as paid.
    Paid(Box<PortOnePayment>),
    /// Nothing can be paid any more (never paid; an open virtual account voided).
    Stopped,
    /// PortOne did not answer, or has another order under this `imp_uid`: nothing is known.
    Unknown,
}

/// Ask PortOne about an unpaid payment of ours before closing it (past its deadline, or the
/// buyer cancelled). A virtual account still open is voided (`DELETE /vbanks/{imp_uid}`), so
/// nobody can pay into it once it is closed here. A card payment whose `imp_uid` never
/// reached us is looked up by its `merchant_uid`; one paid later anyway is cancelled back to
/// the card by `settle`.
pub(super) fn stop_at_portone(portone: &PortOne, row: &PaymentRow) -> AtPortOne {
    let found = match (&row.imp_uid, row.method.as_str()) {
        (Some(imp_uid), _) => portone.payment(imp_uid),
        // A virtual account PortOne never opened.
        (None, "vbank") => return AtPortOne::Stopped,
        (None, _) => portone.paid_for_order(&row.merchant_uid),
    };
    let found = match found {
        Ok(found) => found,
        Err(PortOneError::NotFound { .. }) if row.imp_uid.is_none() => return AtPortOne::Stopped,
        Err(e) => {
            tracing::warn!(error = %e, "an unpaid payment could not be looked up");
            return AtPortOne::Unknown;
        }
    };
    if found.merchant_uid != row.merchant_uid {
        tracing::error!("PortOne has another order under an unpaid payment's imp_uid: left alone");
        return AtPortOne::Unknown;
    }
    match found.status {
        PaymentStatus::Paid => AtPortOne::Paid(Box::new(found)),
        PaymentStatus::Ready | PaymentStatus::Other if row.method == "vbank" => {
            match portone.revoke_vbank(&found.imp_uid) {
                Ok(_) => AtPortOne::Stopped,
                Err(e) => {
                    // Paid in the meantime, or PortOne away: the next look decides.
                    tracing::warn!(error = %e, "an open virtual account could not be voided");
                    AtPortOne::Unknown
                }
            }
        }
        PaymentStatus::Ready
        | PaymentStatus::Other
        | PaymentStatus::Cancelled
        | PaymentStatus::Failed => AtPortOne::Stopped,
    }
}
