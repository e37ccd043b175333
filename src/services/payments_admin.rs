//! What admins see of payments: every payment with its state, the ones that need a look first
//! (forged, then still waiting), and a re-check with PortOne through the one verification
//! function ([`crate::services::payments::verify`]).

use diesel::prelude::*;

use crate::db::schema::{payments, users};
use crate::db::{DbConnection, DbPool};
use crate::portone::PortOne;
use crate::services::payments::{verify, PaymentRow, Status, Verified, VerifyError};

/// How many payments the admin page lists.
pub const LISTED: i64 = 200;

/// Payments with their owner's username: forged first, then waiting ones, then the rest,
/// newest first within each.
pub fn overview(conn: &mut DbConnection) -> QueryResult<Vec<(PaymentRow, String)>> {
    let mut rows: Vec<(PaymentRow, String)> = payments::table
        .inner_join(users::table.on(users::id.eq(payments::user_id)))
        .order(payments::id.desc())
        .limit(LISTED)
        .select((PaymentRow::as_select(), users::username))
        .load(conn)?;
    rows.sort_by_key(|(p, _)| match p.status() {
        Status::Forged => 0,
        Status::Ready => 1,
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
crate::unexpected_error!(RecheckError);

/// Ask PortOne again about one payment and act on its answer exactly as a webhook would.
pub fn recheck(
    pool: &DbPool,
    portone: &PortOne,
    merchant_uid: &str,
) -> Result<Verified, RecheckError> {
    let imp_uid: Option<Option<String>> = {
        let mut conn = pool
            .get()
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
