//! Password hashing and verification off the actix workers, a few at a time.
//!
//! One argon2id computation takes about 19 MiB and tens of milliseconds. A login flood would
//! otherwise run one per blocking thread at once (hundreds of them, gigabytes of memory); here at
//! most one per core runs, the rest wait their turn without holding memory or a database
//! connection.

use std::sync::Arc;

use actix_web::web;
use tokio::sync::Semaphore;

use crate::web::AppError;

pub struct PasswordWork {
    permits: Arc<Semaphore>,
}

impl PasswordWork {
    /// At most `concurrency` (≥ 1) computations at once.
    pub fn new(concurrency: usize) -> Self {
        PasswordWork {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// One at a time per core.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Run `f` (a hash or a verification) on the blocking pool once a slot is free. The slot is
    /// held by the blocking task itself, so a client that hangs up mid-way does not free it
    /// while the computation still runs.
    pub async fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| AppError::Internal(anyhow::Error::new(e)))?;
        let span = tracing::Span::current();
        web::block(move || {
            let _entered = span.enter();
            let out = f();
            drop(permit);
            out
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// Counts the computations running at once and remembers the most.
    #[derive(Default)]
    struct Gauge {
        now: AtomicUsize,
        most: AtomicUsize,
    }

    impl Gauge {
        fn work(&self, for_how_long: Duration) {
            let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(for_how_long);
            self.now.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[actix_web::test]
    async fn no_more_computations_run_at_once_than_the_bound() {
        let work = Arc::new(PasswordWork::new(2));
        let gauge = Arc::new(Gauge::default());
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (work, gauge) = (work.clone(), gauge.clone());
                actix_web::rt::spawn(async move {
                    work.run(move || gauge.work(Duration::from_millis(20)))
                        .await
                })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap().is_ok());
        }
        assert_eq!(gauge.most.load(Ordering::SeqCst), 2);
    }

    #[actix_web::test]
    async fn a_caller_that_goes_away_keeps_its_slot_until_the_computation_ends() {
        let work = Arc::new(PasswordWork::new(1));
        let gauge = Arc::new(Gauge::default());
        let first = {
            let (work, gauge) = (work.clone(), gauge.clone());
            actix_web::rt::spawn(async move {
                work.run(move || gauge.work(Duration::from_millis(300)))
                    .await
            })
        };
        // Let the first computation start, then drop its caller (a client hanging up).
        while gauge.now.load(Ordering::SeqCst) == 0 {
            actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        }
        first.abort();
        let second = gauge.clone();
        work.run(move || second.work(Duration::from_millis(1)))
            .await
            .unwrap();
        assert_eq!(gauge.most.load(Ordering::SeqCst), 1);
    }
}
