//! `neighborbid payments reconcile`: every payment not in a final state is asked about at
//! PortOne once more and settled through the one path that settles it: ready payments PortOne
//! knows (an `imp_uid`) older than their checkout window through [`payments::verify`], virtual
//! accounts past their deadline through [`payments::expire_due_vbanks`], and pending refunds
//! through [`refunds::reconcile_refunds`]. Each settles exactly once: a second run finds nothing.

use std::time::Duration;

use diesel::prelude::*;

use crate::db::schema::payments as payments_table;
use crate::db::DbPool;
use crate::portone::PortOne;
use crate::services::now;
use crate::services::payments::{self, Status};
use crate::services::refunds::{self, Reconciled};

/// A card checkout left open longer than this is asked about at PortOne.
pub const CHECKOUT_WINDOW: Duration = Duration::from_secs(15 * 60);

/// What one run settled.
#[derive(Debug, Default)]
pub struct Report {
    /// Ready payments that PortOne now reports in another state: (merchant_uid, new status).
    pub payments: Vec<(String, Status)>,
    /// Virtual accounts expired.
    pub vbanks_expired: usize,
    /// Pending refunds settled.
    pub refunds: Vec<Reconciled>,
}

impl Report {
    /// One line per thing settled, then a total.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for (uid, status) in &self.payments {
            out.push_str(&format!("payment {uid}: {}\n", status.as_str()));
        }
        for r in &self.refunds {
            out.push_str(&format!(
                "refund of {} for payment {}: {}\n",
                r.amount,
                r.merchant_uid,
                r.status.as_str()
            ));
        }
        out.push_str(&format!(
            "settled {} payments, {} refunds; expired {} virtual accounts\n",
            self.payments.len(),
            self.refunds.len(),
            self.vbanks_expired
        ));
        out
    }
}

/// Run once. `refund_min_age`: a pending refund younger than this may still have its cancel on
/// the way and is left for the next run.
pub fn run(pool: &DbPool, portone: &PortOne, refund_min_age: Duration) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let before = now() - chrono::Duration::from_std(CHECKOUT_WINDOW)?;
    let stale: Vec<(String, String)> = {
        let mut conn = pool.get()?;
        payments_table::table
            .filter(payments_table::status.eq(Status::Ready.as_str()))
            .filter(payments_table::method.eq("card"))
            .filter(payments_table::created_at.lt(before))
            .filter(payments_table::imp_uid.is_not_null())
            .order(payments_table::id.asc())
            .limit(100)
            .select((
                payments_table::merchant_uid,
                payments_table::imp_uid.assume_not_null(),
            ))
            .load(&mut *conn)?
    };
    for (merchant_uid, imp_uid) in stale {
        match payments::verify(pool, portone, &imp_uid, &merchant_uid) {
            Ok(v) if v.status != Status::Ready => report.payments.push((merchant_uid, v.status)),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "a stale payment could not be verified"),
        }
    }
    report.vbanks_expired = payments::expire_due_vbanks(pool, portone)?;
    payments::expire_due_trade_payments(pool, portone)?;
    report.refunds = refunds::reconcile_refunds(pool, portone, refund_min_age)?;
    Ok(report)
}
