//! The scheduler inside the server: opens scheduled auctions at their start, closes due
//! auctions within about a second of their end, and confirms market trades whose
//! auto-confirm time has passed; each in its own transaction, so one failure never blocks
//! the others; now and then it also deletes expired session rows. Several processes may run it at once on PostgreSQL: a row another
//! process is closing is skipped (`FOR UPDATE SKIP LOCKED`).

pub mod payments;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::db::DbPool;
use crate::live::LiveHub;
use crate::services::bidding::{self, CloseError};
use crate::services::{market, now};

pub const TICK: Duration = Duration::from_millis(250);

/// How long a money form's one-time key is kept: a resubmission later than this acts again.
pub const ONCE_KEYS_KEPT: Duration = Duration::from_secs(24 * 60 * 60);

/// How often expired session rows and old one-time keys are deleted (and once when the
/// scheduler starts).
pub const PURGE_EVERY: Duration = Duration::from_secs(10 * 60);

/// Delete expired session rows and one-time keys older than a day.
fn purge(pool: &DbPool) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    let purged = crate::services::sessions::purge_expired(&mut conn, now())?;
    if purged > 0 {
        tracing::info!(purged, "expired sessions deleted");
    }
    let forgotten = crate::db::once::forget_older_than(&mut conn, ONCE_KEYS_KEPT)?;
    if forgotten > 0 {
        tracing::info!(forgotten, "old one-time keys deleted");
    }
    Ok(())
}

/// Stops the scheduler thread when dropped.
pub struct SchedulerGuard {
    stop: Arc<AtomicBool>,
}

impl Drop for SchedulerGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

pub fn spawn(pool: DbPool, live: Arc<LiveHub>) -> std::io::Result<SchedulerGuard> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::Builder::new()
        .name("scheduler".to_owned())
        .spawn(move || {
            let mut last_purge: Option<std::time::Instant> = None;
            while !flag.load(Ordering::Relaxed) {
                if let Err(e) = tick(&pool, &live) {
                    tracing::warn!(error = format!("{e:#}"), "scheduler tick failed");
                }
                if last_purge.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
                    match purge(&pool) {
                        Ok(()) => last_purge = Some(std::time::Instant::now()),
                        Err(e) => tracing::warn!(error = format!("{e:#}"), "session purge failed"),
                    }
                }
                std::thread::sleep(TICK);
            }
        })?;
    Ok(SchedulerGuard { stop })
}

/// One pass: activate due scheduled auctions, then close every due one.
pub fn tick(pool: &DbPool, live: &LiveHub) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    let at = now();
    for opened in bidding::activate_due(&mut conn, at)? {
        live.after_commit(opened);
    }
    for id in bidding::due_for_close(&mut conn, at, 200)? {
        match bidding::close_auction(&mut conn, id, now()) {
            Ok(closed) => {
                tracing::info!(
                    auction.id = id,
                    status = closed.status.as_str(),
                    "auction closed"
                );
                live.after_commit(closed.event);
            }
            Err(CloseError::AlreadyClosed | CloseError::Busy | CloseError::NotDue) => {}
            Err(e) => tracing::error!(auction.id = id, error = %e, "closing an auction failed"),
        }
    }
    let cancelled = market::cancel_unanswered_trades(&mut conn)?;
    if cancelled > 0 {
        tracing::info!(
            cancelled,
            "market trades cancelled: the seller did not answer in time"
        );
    }
    let confirmed = market::confirm_due_trades(&mut conn)?;
    if confirmed > 0 {
        tracing::info!(confirmed, "market trades confirmed automatically");
    }
    Ok(())
}
