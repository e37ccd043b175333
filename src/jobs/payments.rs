//! The payments sweeper: once a second, virtual accounts past their deadline are voided at
//! PortOne and marked expired (a deposit that arrived in time is credited instead), market
//! purchases unpaid past their deadline are cancelled, refunds of trades the scheduler
//! cancelled are sent, and refunds left pending by a PortOne that did not answer are settled
//! from its records. Its own
//! thread, because it waits on PortOne (up to its timeout) and must not hold up auctions.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::db::DbPool;
use crate::live::LiveHub;
use crate::portone::PortOne;
use crate::services::{payments, refunds};

pub const TICK: Duration = Duration::from_secs(1);
/// Pending refunds at least this old are settled by the sweeper (the command
/// `neighborbid payments reconcile` settles them sooner, past their calls' timeouts).
pub const REFUND_MIN_AGE: Duration = Duration::from_secs(5 * 60);

/// Stops the sweeper thread when dropped; [`PaymentsGuard::stop`] also waits for it.
pub struct PaymentsGuard {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PaymentsGuard {
    /// Ask the thread to stop after its current step and wait for it at most `within` (a call
    /// to PortOne may take up to its timeout); true when it has stopped.
    pub fn stop(mut self, within: Duration) -> bool {
        self.stop.store(true, Ordering::Relaxed);
        super::join_within(self.thread.take(), within)
    }
}

impl Drop for PaymentsGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Start the sweeper; it stops when its guard says so or once the site starts shutting down.
pub fn spawn(
    pool: DbPool,
    portone: Arc<PortOne>,
    live: Arc<LiveHub>,
) -> std::io::Result<PaymentsGuard> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("payments".to_owned())
        .spawn(move || {
            let mut outage = super::Outage::new("payments sweeper", TICK);
            while !flag.load(Ordering::Relaxed) && !live.is_shutting_down() {
                let mut away: Option<anyhow::Error> = None;
                match payments::expire_due_vbanks(&pool, &portone) {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(expired = n, "virtual accounts expired"),
                    Err(e) if crate::db::is_unavailable(&e) => away = Some(e),
                    Err(e) => tracing::warn!(error = format!("{e:#}"), "payments sweep failed"),
                }
                if away.is_none() {
                    match payments::expire_due_trade_payments(&pool, &portone) {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(cancelled = n, "unpaid market purchases cancelled"),
                        Err(e) if crate::db::is_unavailable(&e) => away = Some(e),
                        Err(e) => {
                            tracing::warn!(error = format!("{e:#}"), "trade payment sweep failed")
                        }
                    }
                }
                if away.is_none() {
                    match refunds::send_unsent_trade_refunds(&pool, &portone) {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(refunds = n, "held trade refunds sent"),
                        Err(e) if crate::db::is_unavailable(&e) => away = Some(e),
                        Err(e) => {
                            tracing::warn!(error = format!("{e:#}"), "trade refund send failed")
                        }
                    }
                }
                if away.is_none() {
                    match refunds::reconcile_refunds(&pool, &portone, REFUND_MIN_AGE) {
                        Ok(settled) if settled.is_empty() => {}
                        Ok(settled) => {
                            tracing::info!(refunds = settled.len(), "pending refunds settled")
                        }
                        Err(e) if crate::db::is_unavailable(&e) => away = Some(e),
                        Err(e) => {
                            tracing::warn!(error = format!("{e:#}"), "refund reconcile failed")
                        }
                    }
                }
                match away {
                    Some(e) => outage.failed(&e),
                    None => outage.passed(),
                }
                // Sleep in short steps, so a shutdown does not wait out a whole pause.
                let until = std::time::Instant::now() + outage.pause();
                while !flag.load(Ordering::Relaxed)
                    && !live.is_shutting_down()
                    && std::time::Instant::now() < until
                {
                    std::thread::sleep(Duration::from_millis(25));
                }
            }
        })?;
    Ok(PaymentsGuard {
        stop,
        thread: Some(thread),
    })
}
