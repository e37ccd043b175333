//! Admin: finding users, suspending and reactivating them. Suspending ends every session of
//! the user in the same transaction; the web layer then closes their live sockets.
//!
//! Admins cannot be suspended from the site (nor can anyone suspend themselves): admin
//! accounts are made at the command line, and a stolen admin session must not be able to lock
//! the other admins out.

use crate::domain::msg::Msg;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::users;
use crate::db::{like_pattern, lower, write_tx, DbConnection};
use crate::domain::UserId;
use crate::services::accounts::Role;
use crate::services::sessions;

type Backend = <DbConnection as Connection>::Backend;

/// One line of `/admin/users`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserLine {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub is_active: bool,
    pub created_at: NaiveDateTime,
}

impl UserLine {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin.as_str()
    }
}

fn matching<'a>(text: &str) -> users::BoxedQuery<'a, Backend> {
    let mut q = users::table.into_boxed();
    let text = text.trim();
    if !text.is_empty() {
        let pattern = like_pattern(text);
        q = q.filter(
            lower(users::username)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(users::display_name).like(pattern).escape('\\')),
        );
    }
    q
}

/// Users whose username or display name contains `text` (any case), oldest first: one page,
/// and how many match in all.
pub fn search(
    conn: &mut DbConnection,
    text: &str,
    page: i64,
    per_page: i64,
) -> QueryResult<(Vec<UserLine>, i64)> {
    let total: i64 = matching(text).count().get_result(conn)?;
    let lines = matching(text)
        .order(users::id.asc())
        .limit(per_page)
        .offset((page.max(1) - 1).saturating_mul(per_page))
        .select(UserLine::as_select())
        .load(conn)?;
    Ok((lines, total))
}

#[derive(Debug, thiserror::Error)]
pub enum SuspendError {
    #[error("There is no such user.")]
    NotFound,
    #[error("You cannot suspend your own account.")]
    OwnAccount,
    #[error("Administrators cannot be suspended from the site.")]
    Admin,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl SuspendError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.no_such_user"),
            Self::OwnAccount => Msg::new("err.suspend.own_account"),
            Self::Admin => Msg::new("err.suspend.admin"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(SuspendError);

#[derive(Debug, thiserror::Error)]
pub enum ReactivateError {
    #[error("There is no such user.")]
    NotFound,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl ReactivateError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.no_such_user"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(ReactivateError);

/// What a suspension or reactivation did.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub user_id: UserId,
    pub username: String,
    /// False when the user already was in the asked-for state (nothing changed).
    pub changed: bool,
    /// Sessions ended (suspension only).
    pub sessions_ended: usize,
}

/// Suspend a member: they cannot log in, and every session of theirs ends, in one
/// transaction. Suspending a suspended member changes nothing.
#[tracing::instrument(skip_all, fields(admin.id = admin_id, user.id = user_id))]
pub fn suspend(
    conn: &mut DbConnection,
    admin_id: UserId,
    user_id: UserId,
) -> Result<StatusChange, SuspendError> {
    if user_id == admin_id {
        return Err(SuspendError::OwnAccount);
    }
    write_tx(conn, |conn| {
        let (username, role, active) = lock_user(conn, user_id)?.ok_or(SuspendError::NotFound)?;
        if role == Role::Admin.as_str() {
            return Err(SuspendError::Admin);
        }
        if active {
            set_active(conn, user_id, false)?;
        }
        // Even when already suspended: no session of a suspended user may stand.
        let sessions_ended = sessions::end_all(conn, user_id)?;
        Ok(StatusChange {
            user_id,
            username,
            changed: active,
            sessions_ended,
        })
    })
}

/// Let a suspended user log in again (their old sessions stay ended).
#[tracing::instrument(skip_all, fields(user.id = user_id))]
pub fn reactivate(
    conn: &mut DbConnection,
    user_id: UserId,
) -> Result<StatusChange, ReactivateError> {
    write_tx(conn, |conn| {
        let (username, _, active) = lock_user(conn, user_id)?.ok_or(ReactivateError::NotFound)?;
        if !active {
            set_active(conn, user_id, true)?;
        }
        Ok(StatusChange {
            user_id,
            username,
            changed: !active,
            sessions_ended: 0,
        })
    })
}

fn lock_user(conn: &mut DbConnection, id: UserId) -> QueryResult<Option<(String, String, bool)>> {
    crate::first_for_update!(
        conn,
        users::table
            .find(id)
            .select((users::username, users::role, users::is_active))
    )
}

fn set_active(conn: &mut DbConnection, id: UserId, active: bool) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::is_active.eq(active))
        .execute(conn)
}
