//! The scheduler inside the server: opens scheduled auctions at their start, closes due
//! auctions within about a second of their end (a sale becomes a trade), and confirms trades
//! (market and auction) whose auto-confirm time has passed; each in its own transaction, so one
//! failure never blocks the others; every couple of seconds it tells the bidders and watchers
//! of auctions about to end; now and then it also deletes expired session rows. Several processes may run it at once on PostgreSQL: a row another
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

/// How often the scheduler looks for auctions about to end ("ending in 10 minutes").
pub const ENDING_SOON_EVERY: Duration = Duration::from_secs(2);

/// Tell the bidders and watchers of auctions ending within ten minutes, once each (the
/// database decides who was told already, so several processes may run this at once).
fn ending_soon(pool: &DbPool) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    let told = crate::services::notify::notify_ending_soon(&mut conn, now())?;
    if told > 0 {
        tracing::info!(told, "members told an auction ends within ten minutes");
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

/// `auto_confirm`: how long after its close an auction's trade waits for the buyer.
pub fn spawn(
    pool: DbPool,
    live: Arc<LiveHub>,
    auto_confirm: Duration,
) -> std::io::Result<SchedulerGuard> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("scheduler".to_owned())
        .spawn(move || {
            let mut last_purge: Option<std::time::Instant> = None;
            let mut last_ending_soon: Option<std::time::Instant> = None;
            let mut outage = Outage::new("scheduler", TICK);
            let stopping = || flag.load(Ordering::Relaxed) || live.is_shutting_down();
            while !stopping() {
                match tick(&pool, &live, auto_confirm, &stopping) {
                    Ok(()) => outage.passed(),
                    Err(e) => outage.failed(&e),
                }
                if !outage.is_on()
                    && !stopping()
                    && last_ending_soon.is_none_or(|at| at.elapsed() >= ENDING_SOON_EVERY)
                {
                    last_ending_soon = Some(std::time::Instant::now());
                    if let Err(e) = ending_soon(&pool) {
                        outage.failed(&e);
                    }
                }
                if !outage.is_on() && last_purge.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
                    match purge(&pool) {
                        Ok(()) => last_purge = Some(std::time::Instant::now()),
                        Err(e) => tracing::warn!(error = format!("{e:#}"), "session purge failed"),
                    }
                }
                // Sleep in short steps, so a shutdown does not wait out a whole pause.
                let until = std::time::Instant::now() + outage.pause();
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

/// The longest pause of a background loop while the database is away: it resumes at most
/// this long after the database is back.
pub const OUTAGE_PAUSE_MAX: Duration = Duration::from_secs(2);

/// A background loop's view of the database being away: while it is, passes come less often
/// (the pause doubles from the loop's tick up to [`OUTAGE_PAUSE_MAX`]) and it is logged once
/// when it begins and once when it ends, not on every pass. Other failures are logged as they
/// come.
#[derive(Debug)]
pub struct Outage {
    job: &'static str,
    tick: Duration,
    since: Option<std::time::Instant>,
    pause: Duration,
}

impl Outage {
    pub fn new(job: &'static str, tick: Duration) -> Outage {
        Outage {
            job,
            tick,
            since: None,
            pause: tick,
        }
    }

    /// Whether the database is away as far as this loop knows.
    pub fn is_on(&self) -> bool {
        self.since.is_some()
    }

    /// A pass went through: an outage, if there was one, is over.
    pub fn passed(&mut self) {
        if let Some(since) = self.since.take() {
            tracing::info!(
                job = self.job,
                seconds = since.elapsed().as_secs_f64(),
                "database back; resuming"
            );
        }
        self.pause = self.tick;
    }

    /// A pass failed: the database being away starts (or continues) an outage; anything else
    /// is logged.
    pub fn failed(&mut self, e: &anyhow::Error) {
        if !crate::db::is_unavailable(e) {
            tracing::warn!(job = self.job, error = format!("{e:#}"), "pass failed");
            return;
        }
        if self.since.is_none() {
            tracing::warn!(
                job = self.job,
                error = format!("{e:#}"),
                "database unavailable; waiting for it"
            );
            self.since = Some(std::time::Instant::now());
            self.pause = self.tick;
        } else {
            self.pause = (self.pause * 2).min(OUTAGE_PAUSE_MAX.max(self.tick));
        }
    }

    /// How long to sleep before the next pass.
    pub fn pause(&self) -> Duration {
        self.pause
    }
}

/// One pass: activate due scheduled auctions, then close every due one, each in its own
/// transaction. Once `stopping()` says so, it returns between two of them.
pub fn tick(
    pool: &DbPool,
    live: &LiveHub,
    auto_confirm: Duration,
    stopping: &dyn Fn() -> bool,
) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    let at = now();
    for opened in bidding::activate_due(&mut conn, at)? {
        live.after_commit(opened);
    }
    for id in bidding::due_for_close(&mut conn, at, 200)? {
        if stopping() {
            return Ok(());
        }
        match bidding::close_auction(&mut conn, id, now(), auto_confirm) {
            Ok(closed) => {
                tracing::info!(
                    auction.id = id,
                    status = closed.status.as_str(),
                    "auction closed"
                );
                live.after_commit(closed.event);
            }
            Err(CloseError::AlreadyClosed | CloseError::Busy | CloseError::NotDue) => {}
            // The database went away mid-pass: end the pass, the loop waits for it.
            Err(CloseError::Unexpected(e)) if crate::db::is_unavailable(&e) => return Err(e),
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
        tracing::info!(confirmed, "trades confirmed automatically");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn away() -> anyhow::Error {
        anyhow::Error::new(diesel::result::Error::BrokenTransactionManager)
    }

    #[test]
    fn while_the_database_is_away_passes_slow_down_and_resume_at_the_tick_once_it_is_back() {
        let mut outage = Outage::new("test", TICK);
        outage.failed(&away());
        assert!(outage.is_on());
        assert_eq!(outage.pause(), TICK);
        for _ in 0..10 {
            outage.failed(&away());
        }
        assert_eq!(outage.pause(), OUTAGE_PAUSE_MAX);
        outage.passed();
        assert!(!outage.is_on());
        assert_eq!(outage.pause(), TICK);
    }

    #[test]
    fn a_failure_that_is_not_the_database_being_away_is_no_outage() {
        let mut outage = Outage::new("test", TICK);
        outage.failed(&anyhow::anyhow!("a rule broke"));
        assert!(!outage.is_on());
        assert_eq!(outage.pause(), TICK);
    }
}
