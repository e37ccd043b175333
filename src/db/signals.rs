//! Per-member signals ("your notifications or wallet changed"): sent inside a transaction and
//! heard only once it commits — PostgreSQL `NOTIFY` on [`USER_CHANNEL`] to every process, or on
//! SQLite kept on the connection until [`super::write_tx`] commits and then handed to the
//! pool's listener.

use diesel::prelude::*;
use diesel::Connection;

use super::{ConnectionWatch, DbConnection, DbPool};

/// The PostgreSQL channel of per-member signals: the payload is the member's id. Sent inside
/// the transaction (delivered only if it commits) by [`signal_user`].
pub const USER_CHANNEL: &str = "user_events";

/// The listener of a pool's per-member signals on SQLite (set once, by the live hub): called
/// after a transaction that signalled members has committed, with their ids.
#[derive(Default)]
pub struct UserSignals(std::sync::OnceLock<UserListener>);

/// Hears the ids of members signalled by a committed transaction.
type UserListener = Box<dyn Fn(&[i64]) + Send + Sync>;

impl std::fmt::Debug for UserSignals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserSignals")
    }
}

/// Have `listener` hear the members signalled by transactions on `pool`'s connections, once each
/// has committed (SQLite; on PostgreSQL the signals travel by `NOTIFY` on [`USER_CHANNEL`]).
/// Set once per pool; a second listener is ignored. (The pool's connections share one
/// [`UserSignals`]; it is reached through one of them.)
pub fn on_user_signals(
    pool: &DbPool,
    listener: impl Fn(&[i64]) + Send + Sync + 'static,
) -> Result<(), r2d2::Error> {
    let mut conn = pool.get()?;
    let conn: &mut DbConnection = &mut conn;
    if let Some(watch) = conn.instrumentation().downcast_mut::<ConnectionWatch>() {
        let _ = watch.user_signals.0.set(Box::new(listener));
    }
    Ok(())
}

/// Tell whoever shows `user_id`'s header (the per-member socket) that their notifications or
/// wallet changed, once the caller's transaction commits: PostgreSQL `NOTIFY` (delivered on
/// commit, to every process); SQLite keeps it on the connection until [`super::write_tx`] commits,
/// and forgets it on rollback. Call it inside a transaction.
pub fn signal_user(conn: &mut DbConnection, user_id: i64) -> QueryResult<()> {
    match conn {
        DbConnection::Pg(c) => {
            diesel::sql_query("SELECT pg_notify($1, $2)")
                .bind::<diesel::sql_types::Text, _>(USER_CHANNEL)
                .bind::<diesel::sql_types::Text, _>(user_id.to_string())
                .execute(c)?;
        }
        DbConnection::Sqlite(_) => {
            if let Some(watch) = conn.instrumentation().downcast_mut::<ConnectionWatch>() {
                if !watch.pending_users.contains(&user_id) {
                    watch.pending_users.push(user_id);
                }
            }
        }
    }
    Ok(())
}

/// After a commit (`committed`) hand the members signalled in it to the pool's listener;
/// after a rollback forget them.
pub(super) fn flush_user_signals(conn: &mut DbConnection, committed: bool) {
    let Some(watch) = conn.instrumentation().downcast_mut::<ConnectionWatch>() else {
        return;
    };
    if watch.pending_users.is_empty() {
        return;
    }
    let users = std::mem::take(&mut watch.pending_users);
    if committed {
        if let Some(listener) = watch.user_signals.0.get() {
            listener(&users);
        }
    }
}
