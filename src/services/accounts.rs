//! Accounts: sign-up (user and wallet in one transaction), login lookup, admins.

use crate::domain::msg::Msg;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{sessions, users, wallets};
use crate::db::{is_unique_violation, write_tx, DbConnection};
use crate::domain::lang::Lang;
use crate::domain::{DisplayName, Password, RegionId, UserId, Username, Won};
use crate::services::now;
use crate::services::sessions::SessionKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Member,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
        }
    }
}

pub struct NewAccount {
    pub username: Username,
    pub display_name: DisplayName,
    pub region_id: RegionId,
    pub role: Role,
}

#[derive(Debug, thiserror::Error)]
pub enum SignUpError {
    #[error("That username is taken; choose another.")]
    UsernameTaken,
    #[error("Choose your neighbourhood from the list.")]
    UnknownRegion,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl SignUpError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::UsernameTaken => Msg::new("err.sign_up.username_taken"),
            Self::UnknownRegion => Msg::new("err.choose_neighbourhood"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(SignUpError);

/// argon2id with the crate's recommended parameters and a fresh salt. Slow on purpose (and
/// about 19 MiB): call it on the blocking pool, a few at a time.
pub fn hash_password(password: &Password) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

/// A real hash of a throwaway password, made once: verifying against it when a username does
/// not exist makes a failed login take as long as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        Argon2::default()
            .hash_password(b"no such user here")
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Check a password against what login found for a username (`find_login`): the user's id when
/// the account exists, is active and the password is right. The work is the same in every case
/// (an unknown username is checked against a dummy hash, an inactive account is checked too), so
/// timing tells nothing. Slow on purpose and no database: run it on the blocking pool, a few at
/// a time.
pub fn check_password(found: Option<&LoginRow>, password: &Password) -> Option<UserId> {
    match found {
        Some(r) => {
            let right = verify_password(&r.password_hash, password.expose());
            (right && r.is_active).then_some(r.id)
        }
        None => {
            let _ = verify_password(dummy_hash(), password.expose());
            None
        }
    }
}

/// Constant-work check of a password against a stored PHC string.
pub fn verify_password(stored_hash: &str, password: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), stored_hash)
        .is_ok()
}

/// Create a user and their empty wallet in one transaction.
#[tracing::instrument(skip_all, fields(user.name = %new.username))]
pub fn create_account(
    conn: &mut DbConnection,
    new: &NewAccount,
    password_hash: &str,
) -> Result<UserId, SignUpError> {
    let result = write_tx(conn, |conn| {
        if !crate::services::reference::is_neighbourhood(conn, new.region_id)? {
            return Err(SignUpError::UnknownRegion);
        }
        let at = now();
        let id: i64 = diesel::insert_into(users::table)
            .values((
                users::username.eq(new.username.as_str()),
                users::password_hash.eq(password_hash),
                users::display_name.eq(new.display_name.as_str()),
                users::region_id.eq(new.region_id),
                users::role.eq(new.role.as_str()),
                users::is_active.eq(true),
                users::created_at.eq(at),
            ))
            .returning(users::id)
            .get_result(conn)?;
        diesel::insert_into(wallets::table)
            .values((
                wallets::user_id.eq(id),
                wallets::balance.eq(0_i64),
                wallets::locked.eq(0_i64),
                wallets::updated_at.eq(at),
            ))
            .execute(conn)?;
        Ok(id)
    });
    match result {
        Err(SignUpError::Unexpected(e))
            if e.downcast_ref::<diesel::result::Error>()
                .is_some_and(is_unique_violation) =>
        {
            Err(SignUpError::UsernameTaken)
        }
        other => other,
    }
}

/// What login needs to know about a username.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct LoginRow {
    pub id: i64,
    pub password_hash: String,
    pub is_active: bool,
}

pub fn find_login(conn: &mut DbConnection, username: &Username) -> QueryResult<Option<LoginRow>> {
    users::table
        .filter(users::username.eq(username.as_str()))
        .select(LoginRow::as_select())
        .first(conn)
        .optional()
}

/// The logged-in user as every page shows them: name, role and wallet.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub region_id: RegionId,
    pub balance: Won,
    pub locked: Won,
    /// Unread notifications (the header's badge).
    pub unread: i64,
    /// The language they chose with the header's toggle (`users.locale`), if any.
    pub locale: Option<Lang>,
    /// Conversations with a message they have not seen (the header's chat badge).
    pub unread_chats: i64,
}

#[derive(Queryable)]
struct UserWalletRow {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    region_id: i64,
    balance: i64,
    locked: i64,
    unread: Option<i64>,
    locale: Option<String>,
    unread_chats: Option<i64>,
}

/// The user a session cookie claims, with their wallet — `None` when that session has ended
/// or expired, or the user is suspended. One query: session row, user and wallet (and the
/// unread notifications).
pub fn current_user(
    conn: &mut DbConnection,
    key: &SessionKey,
    at: NaiveDateTime,
) -> QueryResult<Option<CurrentUser>> {
    let row: Option<UserWalletRow> = sessions::table
        .inner_join(users::table.inner_join(wallets::table))
        .filter(sessions::id.eq(key.row_id()))
        .filter(sessions::user_id.eq(key.user_id))
        .filter(sessions::expires_at.gt(at))
        .filter(users::is_active.eq(true))
        .select((
            users::id,
            users::username,
            users::display_name,
            users::role,
            users::region_id,
            wallets::balance,
            wallets::locked,
            // The header's unread count, in the same query (the partial index
            // `notifications_unread_idx`).
            crate::db::schema::notifications::table
                .filter(crate::db::schema::notifications::user_id.eq(key.user_id))
                .filter(crate::db::schema::notifications::read_at.is_null())
                .count()
                .single_value(),
            users::locale,
            // The header's unread chats, in the same query (`chats_*_idx`).
            {
                use crate::db::schema::chats as c;
                c::table
                    .filter(
                        c::seller_id
                            .eq(key.user_id)
                            .and(c::last_message_id.gt(c::seller_read_id))
                            .or(c::neighbour_id
                                .eq(key.user_id)
                                .and(c::last_message_id.gt(c::neighbour_read_id))),
                    )
                    .count()
                    .single_value()
            },
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|r| CurrentUser {
        id: r.id,
        username: r.username,
        display_name: r.display_name,
        is_admin: r.role == Role::Admin.as_str(),
        region_id: r.region_id,
        balance: Won::from_stored(r.balance),
        locked: Won::from_stored(r.locked),
        unread: r.unread.unwrap_or(0),
        locale: r.locale.as_deref().and_then(Lang::parse),
        unread_chats: r.unread_chats.unwrap_or(0),
    }))
}

/// Save the language a member chose with the header's toggle (it follows them to a new
/// browser).
pub fn set_locale(conn: &mut DbConnection, user: UserId, lang: Lang) -> QueryResult<()> {
    diesel::update(users::table.find(user))
        .set(users::locale.eq(Some(lang.code())))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
pub enum AdminOutcome {
    Created(UserId),
    Promoted(UserId),
}

/// `create-admin`: a new admin account, or an existing account promoted to admin.
pub fn create_or_promote_admin(
    conn: &mut DbConnection,
    username: &Username,
    password_hash: &str,
    region_id: RegionId,
) -> Result<AdminOutcome, SignUpError> {
    let existing: Option<i64> = users::table
        .filter(users::username.eq(username.as_str()))
        .select(users::id)
        .first(conn)
        .optional()?;
    if let Some(id) = existing {
        write_tx(conn, |conn| {
            diesel::update(users::table.find(id))
                .set(users::role.eq(Role::Admin.as_str()))
                .execute(conn)
                .map_err(SignUpError::from)
        })?;
        return Ok(AdminOutcome::Promoted(id));
    }
    let display_name = DisplayName::parse(username.as_str())
        .map_err(|e| SignUpError::Unexpected(anyhow::anyhow!(e)))?;
    create_account(
        conn,
        &NewAccount {
            username: username.clone(),
            display_name,
            region_id,
            role: Role::Admin,
        },
        password_hash,
    )
    .map(AdminOutcome::Created)
}

/// How often a member may move to another neighbourhood.
pub const REGION_CHANGE_EVERY: chrono::Duration = chrono::Duration::days(7);

#[derive(Debug, thiserror::Error)]
pub enum UpdateProfileError {
    #[error("No such account.")]
    NotFound,
    #[error("Choose your neighbourhood from the list.")]
    NotNeighbourhood,
    #[error("You changed your neighbourhood less than a week ago; you can change it again after {} UTC.", .next.format("%Y-%m-%d %H:%M"))]
    RegionTooSoon { next: NaiveDateTime },
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl UpdateProfileError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.update_profile.not_found"),
            Self::NotNeighbourhood => Msg::new("err.choose_neighbourhood"),
            Self::RegionTooSoon { next } => {
                Msg::new("err.update_profile.region_too_soon").arg("next", next)
            }
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(UpdateProfileError);

/// The member changes their display name and neighbourhood. The neighbourhood may change at
/// most once every [`REGION_CHANGE_EVERY`]; keeping the same one is no change.
#[tracing::instrument(skip(conn, display_name), fields(user.id = user_id))]
pub fn update_profile(
    conn: &mut DbConnection,
    user_id: UserId,
    display_name: &DisplayName,
    region_id: RegionId,
) -> Result<(), UpdateProfileError> {
    write_tx(conn, |conn| {
        let (current, changed_at): (i64, Option<NaiveDateTime>) = users::table
            .find(user_id)
            .select((users::region_id, users::region_changed_at))
            .first(conn)
            .optional()?
            .ok_or(UpdateProfileError::NotFound)?;
        let at = now();
        if region_id != current {
            if !crate::services::reference::is_neighbourhood(conn, region_id)? {
                return Err(UpdateProfileError::NotNeighbourhood);
            }
            if let Some(next) = changed_at.map(|t| t + REGION_CHANGE_EVERY) {
                if at < next {
                    return Err(UpdateProfileError::RegionTooSoon { next });
                }
            }
            diesel::update(users::table.find(user_id))
                .set((
                    users::region_id.eq(region_id),
                    users::region_changed_at.eq(Some(at)),
                ))
                .execute(conn)?;
        }
        diesel::update(users::table.find(user_id))
            .set(users::display_name.eq(display_name.as_str()))
            .execute(conn)?;
        Ok(())
    })
}
