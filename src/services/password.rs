//! Changing a password: the current one is required; the new hash replaces the old one and
//! every session of the user ends, except a fresh one for the browser that made the change.

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
crate::unexpected_error!(ChangePasswordError);

/// Check `current`, store the hash of `new`, end every session of the user and start
/// `new_session` in their place, in one transaction. Slow on purpose (two argon2 runs, both
/// before the transaction): call it on the blocking pool.
#[tracing::instrument(skip_all, fields(user.id = user_id))]
pub fn change_password(
    conn: &mut DbConnection,
    user_id: UserId,
    current: &Password,
    new: &Password,
    new_session: &SessionKey,
    at: NaiveDateTime,
) -> Result<usize, ChangePasswordError> {
    let old_hash: String = users::table
        .find(user_id)
        .filter(users::is_active.eq(true))
        .select(users::password_hash)
        .first(conn)
        .optional()?
        .ok_or(ChangePasswordError::NotFound)?;
    if !verify_password(&old_hash, current.expose()) {
        return Err(ChangePasswordError::WrongPassword);
    }
    if new.expose() == current.expose() {
        return Err(ChangePasswordError::Unchanged);
    }
    let new_hash = hash_password(new)?;
    write_tx(conn, |conn| {
        // Only over the hash that was verified: a change made meanwhile wins, this one stops.
        let updated = diesel::update(
            users::table
                .find(user_id)
                .filter(users::password_hash.eq(&old_hash))
                .filter(users::is_active.eq(true)),
        )
        .set(users::password_hash.eq(&new_hash))
        .execute(conn)?;
        if updated == 0 {
            return Err(ChangePasswordError::ChangedMeanwhile);
        }
        let ended = sessions::end_all(conn, user_id)?;
        sessions::insert(conn, new_session, at)?;
        Ok(ended)
    })
}
