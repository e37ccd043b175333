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

/// How often expired session rows are deleted (and once when the scheduler starts).
pub const PURGE_EVERY: Duration = Duration::from_secs(10 * 60);

/// Delete expired session rows.
fn purge(pool: &DbPool) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    let purged = crate::services::sessions::purge_expired(&mut conn, now())?;
    if purged > 0 {
        tracing::info!(purged, "expired sessions deleted");
    }
    Ok(())
}

/// Stops the scheduler thread when dropped; [`SchedulerGuard::stop`] also waits for it.
pub struct SchedulerGuard {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SchedulerGuard {
    /// Ask the thread to stop (it finishes the transaction it is in, never starts another)
    /// and wait for it at most `within`; true when it has stopped.
    pub fn stop(mut self, within: Duration) -> bool {
        self.stop.store(true, Ordering::Relaxed);
        join_within(self.thread.take(), within)
    }
}

impl Drop for SchedulerGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Wait for a background thread to end, at most `within`.
pub(crate) fn join_within(thread: Option<std::thread::JoinHandle<()>>, within: Duration) -> bool {
    let Some(thread) = thread else { return true };
    let deadline = std::time::Instant::now() + within;
    while !thread.is_finished() {
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    thread.join().is_ok()
}

pub fn spawn(pool: DbPool, live: Arc<LiveHub>) -> std::io::Result<SchedulerGuard> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("scheduler".to_owned())
        .spawn(move || {
            let mut last_purge: Option<std::time::Instant> = None;
            let stopping = || flag.load(Ordering::Relaxed) || live.is_shutting_down();
            while !stopping() {
                if let Err(e) = tick(&pool, &live, &stopping) {
                    tracing::warn!(error = format!("{e:#}"), "scheduler tick failed");
                }
                if last_purge.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
                    match purge(&pool) {
                        Ok(()) => last_purge = Some(std::time::Instant::now()),
                        Err(e) => tracing::warn!(error = format!("{e:#}"), "session purge failed"),
                    }
                }
                // Sleep in short steps, so a shutdown does not wait out a whole tick.
                let until = std::time::Instant::now() + TICK;
                while !stopping() && std::time::Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(25));
                }
            }
        })?;
    Ok(SchedulerGuard {
        stop,
        thread: Some(thread),
    })
}

/// One pass: activate due scheduled auctions, then close every due one, each in its own
/// transaction. Once `stopping()` says so, it returns between two of them.
pub fn tick(pool: &DbPool, live: &LiveHub, stopping: &dyn Fn() -> bool) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    let at = now();
    for opened in bidding::activate_due(&mut conn, at)? {
        live.after_commit(opened);
    }
    for id in bidding::due_for_close(&mut conn, at, 200)? {
        if stopping() {
            return Ok(());
        }
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
    if stopping() {
        return Ok(());
    }
    let cancelled = market::cancel_unanswered_trades(&mut conn)?;
    if cancelled > 0 {
        tracing::info!(
            cancelled,
            "market trades cancelled: the seller did not answer in time"
        );
    }
    if stopping() {
        return Ok(());
    }
    let confirmed = market::confirm_due_trades(&mut conn)?;
    if confirmed > 0 {
        tracing::info!(confirmed, "market trades confirmed automatically");
    }
    Ok(())
}
