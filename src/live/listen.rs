//! PostgreSQL `LISTEN auction_events` on a dedicated connection, feeding the relay. diesel's
//! notification iterator does not block, so the connection is polled every few milliseconds.

use std::sync::{mpsc, Weak};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;

use crate::live::LiveHub;
use crate::services::events::{AuctionEvent, CHANNEL};

const POLL: Duration = Duration::from_millis(3);

pub fn spawn(
    url: String,
    tx: mpsc::Sender<AuctionEvent>,
    hub: Weak<LiveHub>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("live-listen".to_owned())
        .spawn(move || {
            let mut backoff = Duration::from_millis(100);
            while hub.strong_count() > 0 {
                match listen(&url, &tx, &hub) {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::warn!(
                            error = format!("{e:#}"),
                            "LISTEN connection lost; reconnecting"
                        );
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
        })
        .map(|_| ())
}

fn listen(url: &str, tx: &mpsc::Sender<AuctionEvent>, hub: &Weak<LiveHub>) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(url)?;
    conn.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    loop {
        if hub.strong_count() == 0 {
            return Ok(());
        }
        let mut got = false;
        for n in conn.notifications_iter() {
            let n = n?;
            got = true;
            match serde_json::from_str::<AuctionEvent>(&n.payload) {
                Ok(event) => {
                    if tx.send(event).is_err() {
                        return Ok(());
                    }
                }
                Err(e) => tracing::warn!(error = %e, "unreadable auction event"),
            }
        }
        if !got {
            std::thread::sleep(POLL);
        }
    }
}
