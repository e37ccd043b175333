//! THE verification of a payment's news, and what follows from PortOne's word.

use crate::domain::msg::Msg;
use diesel::prelude::*;

use crate::db::schema::payments;
use crate::db::{is_unique_violation, lock_wallets, write_tx, DbConnection, DbPool};
use crate::domain::{LedgerKind, UserId};
use crate::portone::{
    CancelRequest, Payment as PortOnePayment, PaymentStatus, PortOne, PortOneError,
};
use crate::services::market;
use crate::services::now;
use crate::services::wallet::{apply_movement, Movement};

use super::unpaid::close_unpaid_trade;
use super::{by_merchant_uid, connection, PaymentRow, Status};

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// No payment of ours has this `merchant_uid`.
    #[error("There is no such payment.")]
    UnknownMerchantUid,
    /// PortOne does not know this `imp_uid`.
    #[error("PortOne does not know that payment.")]
    UnknownPayment,
    /// The caller's `merchant_uid` is not the one PortOne has for this `imp_uid`.
    #[error("That payment does not belong to this order.")]
    Mismatch,
    /// PortOne did not answer (timeout, 5xx, lost connection) or answered something unusable:
    /// nothing changed; ask again later.
    #[error("PortOne could not be reached; the payment will be checked again.")]
    PortOne(PortOneError),
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl VerifyError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::UnknownMerchantUid => Msg::new("err.no_such_payment"),
            Self::UnknownPayment => Msg::new("err.verify.unknown_payment"),
            Self::Mismatch => Msg::new("err.verify.mismatch"),
            Self::PortOne(_) => Msg::new("err.verify.port_one"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(VerifyError);

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub merchant_uid: String,
    pub owner: UserId,
    pub status: Status,
    /// True when this call credited the wallet (false when already credited or not paid).
    pub credited: bool,
}

/// THE verification: the redirect, the callback and the webhook all come here. `imp_uid` is
/// looked up at PortOne; `claimed_merchant_uid` (what the caller said) must be ours and must be
/// the one PortOne has for it. Then PortOne's status decides.
#[tracing::instrument(skip(pool, portone))]
pub fn verify(
    pool: &DbPool,
    portone: &PortOne,
    imp_uid: &str,
    claimed_merchant_uid: &str,
) -> Result<Verified, VerifyError> {
    let claimed = {
        let mut conn = connection(pool)?;
        by_merchant_uid(&mut conn, claimed_merchant_uid)?
    };
    if claimed.is_none() {
        return Err(VerifyError::UnknownMerchantUid);
    }
    let found = portone.payment(imp_uid).map_err(|e| match e {
        PortOneError::NotFound { .. } => VerifyError::UnknownPayment,
        e => VerifyError::PortOne(e),
    })?;
    if found.imp_uid != imp_uid || found.merchant_uid != claimed_merchant_uid {
        tracing::warn!(
            portone_merchant_uid = %found.merchant_uid,
            "a payment notice named another order than PortOne has: ignored"
        );
        return Err(VerifyError::Mismatch);
    }
    let row = {
        let mut conn = connection(pool)?;
        by_merchant_uid(&mut conn, &found.merchant_uid)?.ok_or(VerifyError::UnknownMerchantUid)?
    };
    settle(pool, portone, &row, &found)
}

/// Act on PortOne's word about one of our payments (already matched to `row`).
pub(super) fn settle(
    pool: &DbPool,
    portone: &PortOne,
    row: &PaymentRow,
    found: &PortOnePayment,
) -> Result<Verified, VerifyError> {
    let mut conn = connection(pool)?;
    let (row, found) = (row.clone(), found.clone());
    match found.status {
        PaymentStatus::Paid if found.amount.get() != row.amount => {
            drop(conn);
            forged(pool, portone, &row, &found)
        }
        PaymentStatus::Paid => {
            let verified = credit(&mut conn, &row, &found)?;
            drop(conn);
            if row.purpose == "trade"
                && !verified.credited
                && row.paid_at.is_none()
                && matches!(
                    verified.status,
                    Status::Expired | Status::Failed | Status::Cancelled
                )
                && found.cancellable().get() > 0
            {
                // Paid at PortOne after its trade was closed (past the deadline, or cancelled by
                // the buyer): nothing was credited or held, so the whole payment goes back.
                tracing::warn!(
                    "a trade payment arrived after its trade closed: cancelled at PortOne"
                );
                let cancel = CancelRequest {
                    imp_uid: found.imp_uid.clone(),
                    amount: None,
                    checksum: Some(found.cancellable()),
                    reason: "Paid after the purchase was closed: the purchase did not go ahead"
                        .to_owned(),
                    refund: row.refund_account(),
                };
                if let Err(e) = portone.cancel(&cancel) {
                    tracing::warn!(error = %e, "the late trade payment's cancel did not go through");
                    if e.is_result_unknown() {
                        return Err(VerifyError::PortOne(e));
                    }
                }
            }
            Ok(verified)
        }
        PaymentStatus::Failed | PaymentStatus::Cancelled => {
            let status = if found.status == PaymentStatus::Failed {
                Status::Failed
            } else {
                Status::Cancelled
            };
            let reason = found
                .fail_reason
                .clone()
                .or_else(|| found.cancel_reason.clone());
            if row.purpose == "trade" {
                diesel::update(payments::table.find(row.id))
                    .filter(payments::status.eq(Status::Ready.as_str()))
                    .set(payments::imp_uid.eq(&found.imp_uid))
                    .execute(&mut *conn)
                    .map_err(anyhow::Error::new)?;
                close_unpaid_trade(
                    pool,
                    &row.merchant_uid,
                    status,
                    reason.as_deref().unwrap_or("the card payment was not made"),
                )?;
                return outcome(&mut conn, &row, false);
            }
            diesel::update(
                payments::table
                    .find(row.id)
                    .filter(payments::status.eq(Status::Ready.as_str())),
            )
            .set((
                payments::status.eq(status.as_str()),
                payments::imp_uid.eq(&found.imp_uid),
                payments::fail_reason.eq(reason),
                payments::updated_at.eq(now()),
            ))
            .execute(&mut *conn)
            .map_err(anyhow::Error::new)?;
            outcome(&mut conn, &row, false)
        }
        PaymentStatus::Ready | PaymentStatus::Other => outcome(&mut conn, &row, false),
    }
}

/// The payment's state as stored now.
fn outcome(
    conn: &mut DbConnection,
    row: &PaymentRow,
    credited: bool,
) -> Result<Verified, VerifyError> {
    let status: String = payments::table
        .find(row.id)
        .select(payments::status)
        .first(conn)
        .map_err(anyhow::Error::new)?;
    Ok(Verified {
        merchant_uid: row.merchant_uid.clone(),
        owner: row.user_id,
        status: Status::parse(&status),
        credited,
    })
}

/// Paid with our amount: mark it paid and credit the wallet, in one transaction, once.
fn credit(
    conn: &mut DbConnection,
    row: &PaymentRow,
    found: &PortOnePayment,
) -> Result<Verified, VerifyError> {
    // A trade's payment is credited only while it waits (a failed one cancelled its trade).
    let open: &[&str] = if row.trade_id.is_some() {
        &[Status::Ready.as_str()]
    } else {
        &[Status::Ready.as_str(), Status::Failed.as_str()]
    };
    let result = write_tx(conn, |conn| -> Result<bool, VerifyError> {
        if let Some(trade_id) = row.trade_id {
            // The product first, then wallets: every market use case's lock order.
            market::lock_trade_product(conn, trade_id)?;
        }
        lock_wallets(conn, &[row.user_id])?;
        let at = now();
        let updated = diesel::update(
            payments::table
                .find(row.id)
                .filter(payments::status.eq_any(open)),
        )
        .set((
            payments::status.eq(Status::Paid.as_str()),
            payments::imp_uid.eq(&found.imp_uid),
            payments::receipt_url.eq(found.receipt_url.as_deref()),
            payments::fail_reason.eq(None::<String>),
            payments::paid_at.eq(Some(at)),
            payments::updated_at.eq(at),
        ))
        .execute(conn)?;
        if updated == 0 {
            // Already paid (credited then), or closed as forged/cancelled/expired.
            return Ok(false);
        }
        apply_movement(
            conn,
            &Movement {
                user_id: row.user_id,
                kind: LedgerKind::Deposit,
                delta_balance: row.amount,
                delta_locked: 0,
                reference: Some(format!(
                    "{} {}",
                    if row.method == "vbank" {
                        "virtual account payment"
                    } else {
                        "card payment"
                    },
                    row.merchant_uid
                )),
                idempotency_key: Some(found.imp_uid.clone()),
            },
        )?;
        let told = crate::services::notify::Notice::payment(
            crate::domain::notification::NotificationKind::PaymentPaid,
            &row.merchant_uid,
            Some(row.amount()),
        );
        crate::services::notify::notify(conn, row.user_id, &told)?;
        if let Some(trade_id) = row.trade_id {
            // The same transaction holds the price for the trade and hands it to the seller.
            if !market::card_paid(conn, trade_id, row.amount)? {
                tracing::warn!(
                    trade.id = trade_id,
                    "a trade paid after it closed: the deposit stays in the wallet"
                );
            }
        }
        Ok(true)
    });
    let credited = match result {
        Ok(credited) => credited,
        Err(VerifyError::Unexpected(e))
            if e.downcast_ref::<diesel::result::Error>()
                .is_some_and(is_unique_violation) =>
        {
            false
        }
        Err(e) => return Err(e),
    };
    if credited {
        tracing::info!(amount = row.amount, "payment credited");
    }
    outcome(conn, row, credited)
}

/// PortOne's amount is not ours: never credited; flagged `forged` and cancelled in full at
/// PortOne. A cancel that fails is tried again by the next notice or redirect (PortOne still
/// says paid then).
fn forged(
    pool: &DbPool,
    portone: &PortOne,
    row: &PaymentRow,
    found: &PortOnePayment,
) -> Result<Verified, VerifyError> {
    tracing::warn!(
        ours = row.amount,
        portone = found.amount.get(),
        "a paid amount differs from the order: flagged forged, cancelling at PortOne"
    );
    {
        let mut conn = connection(pool)?;
        diesel::update(
            payments::table
                .find(row.id)
                .filter(payments::status.eq_any([Status::Ready.as_str(), Status::Failed.as_str()])),
        )
        .set((
            payments::status.eq(Status::Forged.as_str()),
            payments::imp_uid.eq(&found.imp_uid),
            payments::fail_reason.eq("the paid amount differed from the order"),
            payments::updated_at.eq(now()),
        ))
        .execute(&mut *conn)
        .map_err(anyhow::Error::new)?;
    }
    let mut conn = connection(pool)?;
    let stored = outcome(&mut conn, row, false)?;
    drop(conn);
    if stored.status == Status::Forged {
        let cancel = CancelRequest {
            imp_uid: found.imp_uid.clone(),
            amount: None,
            checksum: Some(found.cancellable()),
            reason: "The paid amount did not match the order".to_owned(),
            refund: None,
        };
        if let Err(e) = portone.cancel(&cancel) {
            tracing::warn!(error = %e, "the forged payment's cancel did not go through");
            if e.is_result_unknown() {
                return Err(VerifyError::PortOne(e));
            }
        }
    }
    Ok(stored)
}
