//! A small sliding-window limiter for login attempts (per IP and per username).
//! In-process: with several server processes each keeps its own counts.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Limiter {
    max: u32,
    window: Duration,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

const MAX_KEYS: usize = 100_000;

impl Limiter {
    pub fn new(max: u32, window: Duration) -> Self {
        Limiter {
            max,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Record an attempt for `key`; `Err(wait)` when the key is over its limit
    /// (the refused attempt is not counted).
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut hits = match self.hits.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if hits.len() >= MAX_KEYS {
            let window = self.window;
            hits.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let queue = hits.entry(key.to_owned()).or_default();
        while queue
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            queue.pop_front();
        }
        if queue.len() >= self.max as usize {
            let oldest = queue.front().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        queue.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_over_the_limit_are_refused() {
        let l = Limiter::new(3, Duration::from_secs(60));
        assert!(l.check("a").is_ok());
        assert!(l.check("a").is_ok());
        assert!(l.check("a").is_ok());
        assert!(l.check("a").is_err());
        assert!(l.check("b").is_ok());
    }
}
