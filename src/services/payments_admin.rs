//! What admins see of payments: every payment with its state, the ones that need a look first
//! (forged, then still waiting), and a re-check with PortOne through the one verification
//! function ([`crate::services::payments::verify`]).

use crate::domain::msg::Msg;
use diesel::prelude::*;

use crate::db::schema::{payment_refunds, payments, users};
use crate::db::{DbConnection, DbPool};
use crate::portone::PortOne;
use crate::services::payments::{verify, PaymentRow, Status, Verified, VerifyError};

/// How many payments the admin page lists.
pub const LISTED: i64 = 200;

/// Why a payment needs an admin's eye beyond its own state: one of its refunds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundFlag {
    /// PortOne's cancellable amount differed from ours: a cancel our records missed.
    Mismatch,
    /// A refund waits for PortOne's answer (held; the reconciler settles it).
    Pending,
}

impl RefundFlag {
    /// The translation key of the state in words (`locales/msg.*.yml`).
    pub fn words_key(self) -> &'static str {
        match self {
            RefundFlag::Mismatch => "words.payment_flag.1",
            RefundFlag::Pending => "words.payment_flag.2",
        }
    }
}

/// Payments with their owner's username and any refund flag: forged payments and flagged
/// refunds first, then waiting ones, then the rest, newest first within each.
pub fn overview(
    conn: &mut DbConnection,
) -> QueryResult<Vec<(PaymentRow, String, Option<RefundFlag>)>> {
    let rows: Vec<(PaymentRow, String)> = payments::table
        .inner_join(users::table.on(users::id.eq(payments::user_id)))
        .order(payments::id.desc())
        .limit(LISTED)
        .select((PaymentRow::as_select(), users::username))
        .load(conn)?;
    let flagged: Vec<(i64, String)> = payment_refunds::table
        .filter(payment_refunds::status.eq_any(["mismatch", "pending"]))
        .select((payment_refunds::payment_id, payment_refunds::status))
        .load(conn)?;
    let flag_of = |id: i64| {
        let mut flag = None;
        for (_, status) in flagged.iter().filter(|(p, _)| *p == id) {
            flag = match (flag, status.as_str()) {
                (_, "mismatch") | (Some(RefundFlag::Mismatch), _) => Some(RefundFlag::Mismatch),
                _ => Some(RefundFlag::Pending),
            };
        }
        flag
    };
    let mut rows: Vec<(PaymentRow, String, Option<RefundFlag>)> = rows
        .into_iter()
        .map(|(p, u)| {
            let flag = flag_of(p.id);
            (p, u, flag)
        })
        .collect();
    rows.sort_by_key(|(p, _, flag)| match (p.status(), flag) {
        (Status::Forged, _) | (_, Some(RefundFlag::Mismatch)) => 0,
        (Status::Ready, _) | (_, Some(RefundFlag::Pending)) => 1,
        _ => 2,
    });
    Ok(rows)
}

#[derive(Debug, thiserror::Error)]
pub enum RecheckError {
    #[error("No such payment.")]
    NotFound,
    #[error("This payment never reached PortOne's checkout (it has no imp_uid), so there is nothing to look up yet.")]
    NoImpUid,
    #[error(transparent)]
    Verify(VerifyError),
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl RecheckError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.recheck.not_found"),
            Self::NoImpUid => Msg::new("err.recheck.no_imp_uid"),
            Self::Verify(e) => e.msg(),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(RecheckError);

/// Ask PortOne again about one payment and act on its answer exactly as a webhook would.
pub fn recheck(
    pool: &DbPool,
    portone: &PortOne,
    merchant_uid: &str,
) -> Result<Verified, RecheckError> {
    let imp_uid: Option<Option<String>> = {
        let mut conn = crate::db::checkout(pool)
            .map_err(|e| anyhow::Error::new(e).context("no database connection"))?;
        payments::table
            .filter(payments::merchant_uid.eq(merchant_uid))
            .select(payments::imp_uid)
            .first(&mut conn)
            .optional()?
    };
    let imp_uid = imp_uid
        .ok_or(RecheckError::NotFound)?
        .ok_or(RecheckError::NoImpUid)?;
    verify(pool, portone, &imp_uid, merchant_uid).map_err(RecheckError::Verify)
}
