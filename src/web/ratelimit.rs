//! Per-client limits, kept in this process (with several server processes each keeps its own):
//!
//! - [`Limiter`]: attempts per key in a sliding window (sign-ups per client address);
//! - [`LoginThrottle`]: failed logins, counted per (username, client address) with growing
//!   delays, per client address, and per username from everywhere (a much higher ceiling).
//!   Successful logins are never counted, and one clears its pair's failures.
//!
//! Client addresses are keyed by [`ip_key`].

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// More keys than this in one map and the stale ones are dropped.
const MAX_KEYS: usize = 100_000;

/// Attempts per key within the last `span`.
struct Window {
    max: u32,
    span: Duration,
    hits: HashMap<String, VecDeque<Instant>>,
}

impl Window {
    fn new(max: u32, span: Duration) -> Self {
        Window {
            max,
            span,
            hits: HashMap::new(),
        }
    }

    /// How long `key` must wait before one more attempt fits; `None` when it fits now.
    fn wait(&mut self, key: &str, now: Instant) -> Option<Duration> {
        let span = self.span;
        let queue = self.hits.get_mut(key)?;
        while queue
            .front()
            .is_some_and(|t| now.duration_since(*t) >= span)
        {
            queue.pop_front();
        }
        if queue.len() < self.max as usize {
            return None;
        }
        let oldest = queue.front().copied().unwrap_or(now);
        Some(span.saturating_sub(now.duration_since(oldest)))
    }

    fn record(&mut self, key: &str, now: Instant) {
        if self.hits.len() >= MAX_KEYS {
            let span = self.span;
            self.hits
                .retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < span));
        }
        self.hits.entry(key.to_owned()).or_default().push_back(now);
    }

    /// Take back the attempt recorded for `key` at `at`.
    fn unrecord(&mut self, key: &str, at: Instant) {
        if let Some(queue) = self.hits.get_mut(key) {
            if let Some(i) = queue.iter().rposition(|t| *t == at) {
                queue.remove(i);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// At most `max` attempts per key in any `window`.
pub struct Limiter {
    window: Mutex<Window>,
}

impl Limiter {
    pub fn new(max: u32, window: Duration) -> Self {
        Limiter {
            window: Mutex::new(Window::new(max, window)),
        }
    }

    /// Record an attempt for `key`; `Err(wait)` when the key is over its limit
    /// (the refused attempt is not counted).
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut window = lock(&self.window);
        if let Some(wait) = window.wait(key, now) {
            return Err(wait);
        }
        window.record(key, now);
        Ok(())
    }
}

/// Failed logins from one client address in a minute (`login_attempts_per_ip` of them).
pub const LOGIN_IP_WINDOW: Duration = Duration::from_secs(60);
/// Failed logins for one username from everywhere in 15 minutes (the ceiling).
pub const LOGIN_USERNAME_WINDOW: Duration = Duration::from_secs(15 * 60);
/// The longest a (username, address) pair is made to wait between attempts.
pub const LOGIN_MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// A pair with no failure for this long starts again from zero.
pub const LOGIN_FORGET_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The delay a pair waits after its `failures`-th failure: none for the first `free` ones, then
/// 1 s, 2 s, 4 s … up to [`LOGIN_MAX_DELAY`].
pub fn login_delay(failures: u32, free: u32) -> Duration {
    if failures < free {
        return Duration::ZERO;
    }
    let doublings = (failures - free).min(30);
    Duration::from_secs(1_u64 << doublings).min(LOGIN_MAX_DELAY)
}

/// One username's failures from one address.
struct Pair {
    failures: u32,
    last: Instant,
}

struct LoginCounts {
    by_ip: Window,
    by_username: Window,
    by_pair: HashMap<(String, String), Pair>,
}

/// See the module. Use: [`LoginThrottle::begin`] before checking the password (it may refuse
/// with the time to wait), then [`LoginThrottle::failed`] or [`LoginThrottle::succeeded`].
pub struct LoginThrottle {
    free_failures: u32,
    counts: Mutex<LoginCounts>,
}

/// A login attempt let through, counted as a failure until it is known to have succeeded
/// (so parallel attempts cannot slip past the limits while their passwords are checked).
#[must_use = "tell the throttle how the attempt ended"]
pub struct LoginAttempt {
    ip: String,
    username: String,
    at: Instant,
}

impl LoginThrottle {
    /// `per_ip` failures per address per minute, `per_username` failures per username per
    /// 15 minutes from all addresses, `free_failures` per (username, address) before delays.
    pub fn new(per_ip: u32, per_username: u32, free_failures: u32) -> Self {
        LoginThrottle {
            free_failures,
            counts: Mutex::new(LoginCounts {
                by_ip: Window::new(per_ip, LOGIN_IP_WINDOW),
                by_username: Window::new(per_username, LOGIN_USERNAME_WINDOW),
                by_pair: HashMap::new(),
            }),
        }
    }

    /// May `username` try a password from `ip` (an [`ip_key`]) now? `Err(wait)` when not (the
    /// refused attempt is not counted).
    pub fn begin(&self, ip: &str, username: &str) -> Result<LoginAttempt, Duration> {
        let now = Instant::now();
        let mut c = lock(&self.counts);
        let pair_key = (username.to_owned(), ip.to_owned());
        let pair_wait = c.by_pair.get(&pair_key).and_then(|p| {
            if now.duration_since(p.last) >= LOGIN_FORGET_AFTER {
                return None;
            }
            let until = p.last + login_delay(p.failures, self.free_failures);
            (until > now).then(|| until - now)
        });
        let waits = [
            c.by_ip.wait(ip, now),
            c.by_username.wait(username, now),
            pair_wait,
        ];
        if let Some(wait) = waits.into_iter().flatten().max() {
            return Err(wait);
        }
        c.by_ip.record(ip, now);
        c.by_username.record(username, now);
        if c.by_pair.len() >= MAX_KEYS {
            prune_pairs(&mut c.by_pair, now);
        }
        let pair = c.by_pair.entry(pair_key).or_insert(Pair {
            failures: 0,
            last: now,
        });
        if now.duration_since(pair.last) >= LOGIN_FORGET_AFTER {
            pair.failures = 0;
        }
        pair.failures = pair.failures.saturating_add(1);
        pair.last = now;
        Ok(LoginAttempt {
            ip: ip.to_owned(),
            username: username.to_owned(),
            at: now,
        })
    }

    /// The password was wrong (or the account unknown or inactive): the attempt stays counted,
    /// and the pair's delay runs from now.
    pub fn failed(&self, attempt: LoginAttempt) {
        let now = Instant::now();
        let mut c = lock(&self.counts);
        if let Some(pair) = c.by_pair.get_mut(&(attempt.username, attempt.ip)) {
            pair.last = pair.last.max(now);
        }
    }

    /// The password was right: the attempt is not counted anywhere, and this username's
    /// failures from this address are forgotten. (The per-username ceiling keeps other
    /// addresses' failures: a distributed attack gets no fresh guesses when the owner logs in.)
    pub fn succeeded(&self, attempt: LoginAttempt) {
        let mut c = lock(&self.counts);
        c.by_ip.unrecord(&attempt.ip, attempt.at);
        c.by_username.unrecord(&attempt.username, attempt.at);
        c.by_pair.remove(&(attempt.username, attempt.ip));
    }
}

/// Drop forgotten pairs; when that is not enough, the older half.
fn prune_pairs(pairs: &mut HashMap<(String, String), Pair>, now: Instant) {
    pairs.retain(|_, p| now.duration_since(p.last) < LOGIN_FORGET_AFTER);
    if pairs.len() >= MAX_KEYS / 2 {
        let mut lasts: Vec<Instant> = pairs.values().map(|p| p.last).collect();
        let mid = lasts.len() / 2;
        let (_, median, _) = lasts.select_nth_unstable(mid);
        let median = *median;
        pairs.retain(|_, p| p.last > median);
    }
}

/// The key a client address is counted under: the address itself for IPv4, its /64 network for
/// IPv6 (one subscriber usually holds a whole /64, so counting single addresses would give them
/// billions of fresh counters).
pub fn ip_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
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

    #[test]
    fn ipv6_clients_are_counted_per_64_network() {
        let a = ip_key("2001:db8:1:2::1".parse().unwrap());
        let b = ip_key("2001:db8:1:2:ffff::9".parse().unwrap());
        let c = ip_key("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(ip_key("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1");
    }

    #[test]
    fn login_delays_double_after_the_free_failures_up_to_the_cap() {
        let secs = |f| login_delay(f, 3).as_secs();
        assert_eq!([secs(0), secs(1), secs(2)], [0, 0, 0]);
        assert_eq!([secs(3), secs(4), secs(5), secs(6)], [1, 2, 4, 8]);
        assert_eq!(secs(13), 900);
        assert_eq!(secs(u32::MAX), 900);
    }

    #[test]
    fn attempts_in_flight_count_until_they_succeed() {
        let t = LoginThrottle::new(100, 100, 2);
        let first = t.begin("ip", "bob").unwrap();
        let second = t.begin("ip", "bob").unwrap();
        // Two in flight: a third must wait, whatever their passwords turn out to be.
        assert!(t.begin("ip", "bob").is_err());
        assert!(t.begin("other-ip", "bob").is_ok());
        t.succeeded(first);
        t.failed(second);
        // A success clears the pair, the later failure included.
        assert!(t.begin("ip", "bob").is_ok());
    }

    #[test]
    fn the_ceilings_count_failures_only() {
        let t = LoginThrottle::new(2, 3, 100);
        for _ in 0..5 {
            let a = t.begin("ip", "bob").unwrap();
            t.succeeded(a);
        }
        let a = t.begin("ip", "bob").unwrap();
        t.failed(a);
        let a = t.begin("ip", "carol").unwrap();
        t.failed(a);
        assert!(
            t.begin("ip", "dave").is_err(),
            "two failures from this address"
        );
        let a = t.begin("ip2", "bob").unwrap();
        t.failed(a);
        let a = t.begin("ip3", "bob").unwrap();
        t.failed(a);
        assert!(t.begin("ip4", "bob").is_err(), "three failures for bob");
    }
}
