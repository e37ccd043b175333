//! The market scheduler: about once a second, confirm the approved trades whose auto-confirm
//! time has passed. Each trade is confirmed in its own transaction on the blocking pool, by
//! the same service the buyer's Confirm button calls; several processes may run it at once.

use std::time::Duration;

use crate::db::DbPool;
use crate::services::market;

/// How often the scheduler looks for due trades.
pub const TICK: Duration = Duration::from_secs(1);

/// Run forever (the caller drops the future to stop it).
pub async fn run(pool: DbPool) {
    loop {
        actix_web::rt::time::sleep(TICK).await;
        let pool = pool.clone();
        let result = actix_web::rt::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            market::confirm_due_trades(&mut conn)
        })
        .await;
        match result {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(confirmed = n, "market scheduler confirmed due trades"),
            Ok(Err(e)) => tracing::warn!(error = format!("{e:#}"), "market scheduler failed"),
            Err(e) => tracing::warn!(error = %e, "market scheduler task failed"),
        }
    }
}
