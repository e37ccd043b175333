//! Server-side sessions. The session cookie (signed and encrypted) carries the user id and a
//! random token; the `sessions` table holds one row per login, keyed by the token's SHA-256, so
//! the server can end a session: logging out deletes its row, suspending a user or changing a
//! password deletes all of that user's rows. Every request checks the row — in the same query
//! that loads the user for a page ([`crate::services::accounts::current_user`]), or alone
//! ([`is_live`]) for a form post or a live-panel socket.

use std::fmt;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::{sessions, users};
use crate::db::{write_tx, DbConnection};
use crate::domain::UserId;

/// How long a login lasts, here and in the cookie.
pub const SESSION_DAYS: i64 = 14;

/// What a session cookie claims: a user, and the token of one login of theirs. Believed only
/// once the table agrees ([`is_live`]).
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKey {
    pub user_id: UserId,
    token: String,
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionKey")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

impl SessionKey {
    pub fn new(user_id: UserId, token: String) -> SessionKey {
        SessionKey { user_id, token }
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// The row's id: the token's SHA-256 in hex (a copy of the table gives no usable token).
    pub fn row_id(&self) -> String {
        Sha256::digest(self.token.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Record a new login (and forget this user's expired ones).
#[tracing::instrument(skip_all, fields(user.id = key.user_id))]
pub fn start(conn: &mut DbConnection, key: &SessionKey, at: NaiveDateTime) -> anyhow::Result<()> {
    write_tx(conn, |conn| insert(conn, key, at))
}

/// [`start`] inside the caller's transaction.
pub fn insert(conn: &mut DbConnection, key: &SessionKey, at: NaiveDateTime) -> anyhow::Result<()> {
    diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq(key.user_id))
            .filter(sessions::expires_at.le(at)),
    )
    .execute(conn)?;
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(key.row_id()),
            sessions::user_id.eq(key.user_id),
            sessions::created_at.eq(at),
            sessions::expires_at.eq(at + chrono::Duration::days(SESSION_DAYS)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Log out: end this one session (nothing happens when it has already ended).
#[tracing::instrument(skip_all, fields(user.id = key.user_id))]
pub fn end(conn: &mut DbConnection, key: &SessionKey) -> anyhow::Result<()> {
    write_tx(conn, |conn| {
        diesel::delete(
            sessions::table
                .filter(sessions::id.eq(key.row_id()))
                .filter(sessions::user_id.eq(key.user_id)),
        )
        .execute(conn)?;
        Ok(())
    })
}

/// End every session of a user, inside the caller's transaction (suspension, password change).
/// Returns how many there were.
pub fn end_all(conn: &mut DbConnection, user_id: UserId) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)
}

/// Delete every session row that expired before `at` (the scheduler, now and then): an expired
/// row is already refused by [`is_live`]; this keeps the table from growing. Returns how many.
pub fn purge_expired(conn: &mut DbConnection, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(at))).execute(conn)
}

/// Whether the session still stands: its row exists and has not expired, and its user is
/// active. One query over two primary keys.
pub fn is_live(conn: &mut DbConnection, key: &SessionKey, at: NaiveDateTime) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        sessions::table
            .inner_join(users::table)
            .filter(sessions::id.eq(key.row_id()))
            .filter(sessions::user_id.eq(key.user_id))
            .filter(sessions::expires_at.gt(at))
            .filter(users::is_active.eq(true)),
    ))
    .get_result(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_id_is_the_tokens_sha256_and_debug_hides_the_token() {
        let key = SessionKey::new(7, "abc".to_owned());
        assert_eq!(
            key.row_id(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(!format!("{key:?}").contains("abc"));
    }
}
