//! PostgreSQL `LISTEN auction_events` (and `user_events`, the per-member signals) on a
//! dedicated connection, feeding the relay (and the members' sockets). diesel's
//! notification iterator does not block, so the connection is polled every few milliseconds.
//!
//! The connection can be lost (a database restart, `pg_terminate_backend`, a network cut):
//! the thread reconnects with a backoff that starts again from its shortest pause after every
//! successful connection, and once listening again it asks the relay to send every watched
//! auction's current state to its watchers, because whatever committed while nobody listened
//! was never heard.

use std::sync::{mpsc, Weak};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;

use crate::db::USER_CHANNEL;
use crate::live::LiveHub;
use crate::services::events::{AuctionEvent, CHANNEL};

const POLL: Duration = Duration::from_millis(3);

/// The first pause after a lost connection; it doubles on each failed attempt up to
/// [`BACKOFF_MAX`], and starts again here after every successful connection.
pub const BACKOFF_MIN: Duration = Duration::from_millis(100);
pub const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// A quiet connection is probed this often: a peer that vanished without closing the socket
/// (a network cut) is noticed by the probe, not by the next notification, which never comes.
const PROBE_EVERY: Duration = Duration::from_secs(5);

/// The pause before the next connection attempt, doubling from [`BACKOFF_MIN`] to [`BACKOFF_MAX`].
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: BACKOFF_MIN }
    }
}

impl Backoff {
    /// The pause to take now; the following one is twice as long (at most the maximum).
    pub fn pause(&mut self) -> Duration {
        let pause = self.next;
        self.next = (self.next * 2).min(BACKOFF_MAX);
        pause
    }

    /// A connection succeeded: the next loss starts again from the shortest pause.
    pub fn reset(&mut self) {
        self.next = BACKOFF_MIN;
    }
}

pub fn spawn(
    url: String,
    tx: mpsc::Sender<AuctionEvent>,
    hub: Weak<LiveHub>,
) -> std::io::Result<()> {
    let url = with_application_name(&url);
    std::thread::Builder::new()
        .name("live-listen".to_owned())
        .spawn(move || {
            let mut backoff = Backoff::default();
            let mut connected_before = false;
            // Whether the last attempt failed: a loss is logged once, not every attempt.
            let mut failing = false;
            while hub.strong_count() > 0 {
                let mut on_listening = || {
                    backoff.reset();
                    failing = false;
                    if connected_before {
                        tracing::info!("LISTEN connection back; resynchronising watchers");
                        if let Some(hub) = hub.upgrade() {
                            hub.resync();
                            hub.resync_members();
                        }
                    }
                    connected_before = true;
                };
                match listen(&url, &tx, &hub, &mut on_listening) {
                    Ok(()) => return,
                    Err(e) => {
                        if failing {
                            tracing::debug!(error = format!("{e:#}"), "LISTEN reconnection failed");
                        } else {
                            tracing::warn!(
                                error = format!("{e:#}"),
                                "LISTEN connection lost; reconnecting"
                            );
                        }
                        failing = true;
                        std::thread::sleep(backoff.pause());
                    }
                }
            }
        })
        .map(|_| ())
}

/// The name the `LISTEN` connection shows in `pg_stat_activity.application_name`.
pub const APPLICATION_NAME: &str = "neighborbid-listen";

/// The URL with `application_name` set (unless it sets one), so an operator (or a test) can
/// tell the `LISTEN` connection from the pool's.
fn with_application_name(url: &str) -> String {
    if url.contains("application_name=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&application_name={APPLICATION_NAME}")
    } else {
        format!("{url}?application_name={APPLICATION_NAME}")
    }
}

fn listen(
    url: &str,
    tx: &mpsc::Sender<AuctionEvent>,
    hub: &Weak<LiveHub>,
    on_listening: &mut dyn FnMut(),
) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(url)?;
    conn.batch_execute(&format!("LISTEN {CHANNEL}; LISTEN {USER_CHANNEL}"))?;
    on_listening();
    let mut last_heard = Instant::now();
    loop {
        if hub.strong_count() == 0 {
            return Ok(());
        }
        let mut got = false;
        for n in conn.notifications_iter() {
            let n = n?;
            got = true;
            if n.channel == USER_CHANNEL {
                match (n.payload.parse::<i64>(), hub.upgrade()) {
                    (Ok(user_id), Some(hub)) => hub.member_changed(user_id),
                    (Ok(_), None) => return Ok(()),
                    (Err(e), _) => tracing::warn!(error = %e, "unreadable member event"),
                }
                continue;
            }
            match serde_json::from_str::<AuctionEvent>(&n.payload) {
                Ok(event) => {
                    if tx.send(event).is_err() {
                        return Ok(());
                    }
                }
                Err(e) => tracing::warn!(error = %e, "unreadable auction event"),
            }
        }
        if got {
            last_heard = Instant::now();
        } else {
            if last_heard.elapsed() >= PROBE_EVERY {
                // LISTEN again (a no-op when listening): a round trip that keeps
                // `pg_stat_activity.query` naming what this connection is for.
                conn.batch_execute(&format!("LISTEN {CHANNEL}"))?;
                last_heard = Instant::now();
            }
            std::thread::sleep(POLL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_maximum_and_starts_again_after_a_success() {
        let mut b = Backoff::default();
        let pauses: Vec<_> = (0..7).map(|_| b.pause()).collect();
        assert_eq!(pauses[0], BACKOFF_MIN);
        assert_eq!(pauses[1], BACKOFF_MIN * 2);
        assert_eq!(pauses[6], BACKOFF_MAX);
        b.reset();
        assert_eq!(b.pause(), BACKOFF_MIN);
    }

    #[test]
    fn the_listen_connection_names_itself() {
        assert_eq!(
            with_application_name("postgres://u@h:5432/db"),
            "postgres://u@h:5432/db?application_name=neighborbid-listen"
        );
        assert_eq!(
            with_application_name("postgres://u@h/db?sslmode=disable"),
            "postgres://u@h/db?sslmode=disable&application_name=neighborbid-listen"
        );
        assert_eq!(
            with_application_name("postgres://u@h/db?application_name=x"),
            "postgres://u@h/db?application_name=x"
        );
    }
}
