//! Changing a password: the current one is required; the new hash replaces the old one and
//! every session of the user ends, except a fresh one for the browser that made the change.

use crate::domain::msg::Msg;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::users;
use crate::db::{write_tx, DbConnection};
use crate::domain::{Password, UserId};
use crate::services::accounts::{hash_password, verify_password};
use crate::services::sessions::{self, SessionKey};

#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    #[error("There is no such account.")]
    NotFound,
    #[error("Your current password is not right.")]
    WrongPassword,
    #[error("The new password is the one you have now; choose a different one.")]
    Unchanged,
    #[error("Your password was changed meanwhile. Reload the page and try again.")]
    ChangedMeanwhile,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl ChangePasswordError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.change_password.not_found"),
            Self::WrongPassword => Msg::new("err.change_password.wrong_password"),
            Self::Unchanged => Msg::new("err.change_password.unchanged"),
            Self::ChangedMeanwhile => Msg::new("err.change_password.changed_meanwhile"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(ChangePasswordError);

/// The stored hash of an active user, to check the current password against.
pub fn stored_hash(
    conn: &mut DbConnection,
    user_id: UserId,
) -> Result<String, ChangePasswordError> {
    users::table
        .find(user_id)
        .filter(users::is_active.eq(true))
        .select(users::password_hash)
        .first(conn)
        .optional()?
        .ok_or(ChangePasswordError::NotFound)
}

/// Check `current` against `stored` and hash `new`: two argon2 runs, CPU only (run them
/// bounded, off the pool, holding no connection). Returns the new hash.
pub fn check_and_hash(
    stored: &str,
    current: &Password,
    new: &Password,
) -> Result<String, ChangePasswordError> {
    if !verify_password(stored, current.expose()) {
        return Err(ChangePasswordError::WrongPassword);
    }
    if new.expose() == current.expose() {
        return Err(ChangePasswordError::Unchanged);
    }
    Ok(hash_password(new)?)
}

/// Store `new_hash` in place of the `old_hash` that was checked, end every session of the user
/// and start `new_session`, in one transaction. Returns how many sessions ended.
#[tracing::instrument(skip_all, fields(user.id = user_id))]
pub fn replace_password(
    conn: &mut DbConnection,
    user_id: UserId,
    old_hash: &str,
    new_hash: &str,
    new_session: &SessionKey,
    at: NaiveDateTime,
) -> Result<usize, ChangePasswordError> {
    write_tx(conn, |conn| {
        // Only over the hash that was verified: a change made meanwhile wins, this one stops.
        let updated = diesel::update(
            users::table
                .find(user_id)
                .filter(users::password_hash.eq(old_hash))
                .filter(users::is_active.eq(true)),
        )
        .set(users::password_hash.eq(new_hash))
        .execute(conn)?;
        if updated == 0 {
            return Err(ChangePasswordError::ChangedMeanwhile);
        }
        let ended = sessions::end_all(conn, user_id)?;
        sessions::insert(conn, new_session, at)?;
        Ok(ended)
    })
}
