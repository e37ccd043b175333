//! Live-panel watcher counts shared between server processes (issue 13 item 9). Each process
//! writes, every few seconds, how many of its sockets watch each auction; a panel shows its own
//! process's live count plus what the others wrote recently. A process that died stops
//! counting once its rows are older than [`FRESH`].

use std::time::Duration;

use diesel::prelude::*;

use crate::db::schema::live_watchers;
use crate::db::{write_tx, DbConnection};
use crate::services::now;

/// Rows older than this are a process that stopped writing (it died, or lost its database).
pub const FRESH: Duration = Duration::from_secs(15);

/// Replace this process's counts with `counts` ((auction, watchers), watchers > 0).
pub fn publish(
    conn: &mut DbConnection,
    process: &str,
    counts: &[(i64, i32)],
) -> anyhow::Result<()> {
    let at = now();
    write_tx(conn, |conn| -> anyhow::Result<()> {
        diesel::delete(live_watchers::table.filter(live_watchers::process.eq(process)))
            .execute(conn)?;
        for (auction_id, watchers) in counts.iter().filter(|(_, w)| *w > 0) {
            diesel::insert_into(live_watchers::table)
                .values((
                    live_watchers::process.eq(process),
                    live_watchers::auction_id.eq(auction_id),
                    live_watchers::watchers.eq(watchers),
                    live_watchers::seen_at.eq(at),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// How many sockets of the other processes watch `auction_id` (recent rows only).
pub fn others(conn: &mut DbConnection, process: &str, auction_id: i64) -> QueryResult<usize> {
    let fresh_after =
        now() - chrono::Duration::from_std(FRESH).unwrap_or(chrono::Duration::seconds(15));
    let counts: Vec<i32> = live_watchers::table
        .filter(live_watchers::auction_id.eq(auction_id))
        .filter(live_watchers::process.ne(process))
        .filter(live_watchers::seen_at.gt(fresh_after))
        .select(live_watchers::watchers)
        .load(conn)?;
    Ok(counts
        .into_iter()
        .map(|c| usize::try_from(c).unwrap_or(0))
        .sum())
}

/// Forget this process's counts (it is shutting down) and any row gone stale long ago.
pub fn forget(conn: &mut DbConnection, process: &str) -> QueryResult<usize> {
    let long_ago =
        now() - chrono::Duration::from_std(FRESH * 20).unwrap_or(chrono::Duration::minutes(5));
    diesel::delete(
        live_watchers::table.filter(
            live_watchers::process
                .eq(process)
                .or(live_watchers::seen_at.lt(long_ago)),
        ),
    )
    .execute(conn)
}
