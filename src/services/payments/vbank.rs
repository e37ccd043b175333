//! Virtual accounts: issued at PortOne, voided past their deadline.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::payments;
use crate::db::DbPool;
use crate::domain::Won;
use crate::portone::{PortOne, PortOneError, VbankRequest};
use crate::services::now;

use super::connection;

/// The banks a virtual account can be opened at (PortOne's `vbank_code`s; the names are
/// [`crate::domain::bank::BANKS`]'s).
pub const VBANK_CODES: [&str; 7] = ["004", "088", "020", "081", "011", "003", "090"];

/// (code, name) of every bank a virtual account can be opened at.
pub fn vbank_banks() -> Vec<(&'static str, &'static str)> {
    crate::domain::bank::BANKS
        .iter()
        .copied()
        .filter(|(code, _)| VBANK_CODES.contains(code))
        .collect()
}

/// A bank code a virtual account can be opened at.
pub(super) fn valid_bank(code: &str) -> bool {
    VBANK_CODES.contains(&code)
}

/// A depositor's name: 1 to 20 characters, no control characters.
pub(super) fn valid_depositor(name: &str) -> bool {
    let n = name.trim().chars().count();
    (1..=20).contains(&n) && !name.chars().any(char::is_control)
}

/// A virtual account to open for one of our payments.
pub(super) struct VbankOrder<'a> {
    pub merchant_uid: &'a str,
    pub amount: Won,
    pub bank_code: &'a str,
    pub depositor: &'a str,
    /// Open for this long.
    pub due: std::time::Duration,
    /// Where PortOne sends the deposit notice.
    pub notice_url: Option<String>,
    /// The order's name, as the bank shows it.
    pub name: &'a str,
}

/// Ask PortOne to open the virtual account and record it (number, holder, deadline) on the
/// payment. The inner error is PortOne's (refused, or no answer); the deadline PortOne gave on
/// success.
pub(super) fn issue(
    pool: &DbPool,
    portone: &PortOne,
    order: &VbankOrder<'_>,
) -> anyhow::Result<Result<NaiveDateTime, PortOneError>> {
    let deadline = chrono::Utc::now()
        + chrono::Duration::from_std(order.due).unwrap_or(chrono::Duration::hours(24));
    let request = VbankRequest {
        merchant_uid: order.merchant_uid.to_owned(),
        amount: order.amount,
        vbank_code: order.bank_code.to_owned(),
        vbank_due: deadline.timestamp(),
        vbank_holder: order.depositor.trim().to_owned(),
        name: Some(order.name.to_owned()),
        buyer_name: None,
        notice_url: order.notice_url.clone(),
        channel_key: None,
    };
    let issued = match portone.issue_vbank(&request) {
        Ok(issued) => issued,
        Err(e) => return Ok(Err(e)),
    };
    let due_at = chrono::DateTime::from_timestamp(issued.vbank_date, 0)
        .filter(|_| issued.vbank_date > 0)
        .unwrap_or(deadline)
        .naive_utc();
    let mut conn = connection(pool)?;
    crate::db::write_tx(&mut conn, |conn| -> anyhow::Result<()> {
        let owners: Vec<i64> =
            diesel::update(payments::table.filter(payments::merchant_uid.eq(order.merchant_uid)))
                .set((
                    payments::imp_uid.eq(&issued.imp_uid),
                    payments::vbank_code.eq(issued.vbank_code.as_deref().or(Some(order.bank_code))),
                    payments::vbank_name.eq(issued.vbank_name.as_deref()),
                    payments::vbank_num.eq(issued.vbank_num.as_deref()),
                    payments::vbank_holder.eq(issued.vbank_holder.as_deref()),
                    payments::vbank_due.eq(Some(due_at)),
                    payments::updated_at.eq(now()),
                ))
                .returning(payments::user_id)
                .get_results(conn)?;
        for owner in owners {
            let told = crate::services::notify::Notice::payment(
                crate::domain::notification::NotificationKind::AccountIssued,
                order.merchant_uid,
                Some(order.amount),
            );
            crate::services::notify::notify(conn, owner, &told)?;
        }
        Ok(())
    })?;
    Ok(Ok(due_at))
}
