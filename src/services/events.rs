//! Events about committed changes to an auction, for live updates. On PostgreSQL they are sent
//! with `NOTIFY` inside the transaction that makes the change (delivered only if it commits).

use diesel::prelude::*;
use diesel::sql_types::Text;
use serde::{Deserialize, Serialize};

use crate::db::DbConnection;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "auction_events";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuctionEvent {
    pub auction_id: i64,
    /// A bidder whose hold this change released, and the amount.
    pub outbid: Option<(i64, i64)>,
    /// Microseconds since the epoch, taken inside the transaction.
    pub at: i64,
}

impl AuctionEvent {
    pub fn new(auction_id: i64, outbid: Option<(i64, i64)>) -> AuctionEvent {
        AuctionEvent {
            auction_id,
            outbid,
            at: chrono::Utc::now().timestamp_micros(),
        }
    }
}

/// Send the event inside the caller's transaction: `NOTIFY` on PostgreSQL (it travels only if
/// the transaction commits); nothing on SQLite, where the caller publishes after commit.
pub fn notify(conn: &mut DbConnection, event: &AuctionEvent) -> QueryResult<()> {
    if let DbConnection::Pg(c) = conn {
        let payload = serde_json::to_string(event)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(CHANNEL)
            .bind::<Text, _>(payload)
            .execute(c)?;
    }
    Ok(())
}
