//! One-time keys of money forms (issue 12, DESIGN §9). A form carries a random key; the use
//! case runs through [`run`] inside its own write transaction, which claims the key first and
//! stores the outcome with it before the commit. So the key and the effect commit together or
//! not at all: a resubmission after an unknown outcome (a connection cut during `COMMIT`, a
//! response lost on the way) finds the key and returns the first outcome without acting again,
//! and a resubmission of a form whose first attempt rolled back acts as the first time.
//!
//! Two submissions racing with one key: PostgreSQL's unique index makes the second `INSERT`
//! wait for the first transaction, then skip (`ON CONFLICT DO NOTHING`); its next statement
//! sees the committed outcome. SQLite runs one writer at a time.

use diesel::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::db::schema::once_keys;
use crate::db::DbConnection;

/// A form's one-time key, for one member and one kind of form (a key used on two kinds of
/// form is two keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnceKey {
    pub user_id: i64,
    pub scope: &'static str,
    pub key: String,
}

impl OnceKey {
    /// The key the form sent: 16 to 64 letters, digits, `-` or `_`. Anything else (or no key:
    /// a client that does not send one) means the submission is not deduplicated.
    pub fn parse(user_id: i64, scope: &'static str, raw: &str) -> Option<OnceKey> {
        let raw = raw.trim();
        ((16..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| OnceKey {
            user_id,
            scope,
            key: raw.to_owned(),
        })
    }
}

impl OnceKey {
    /// The same key sent with other values (another amount, another auction) is another
    /// intent: the request's own values become part of the key.
    #[must_use]
    pub fn for_request(mut self, values: &str) -> OnceKey {
        self.key.push('|');
        self.key.push_str(values);
        self
    }
}

/// A fresh key for a form: 32 random hex digits.
pub fn fresh_key() -> String {
    use rand::RngCore;
    let mut bytes = [0_u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Inside the caller's write transaction: `act` once per key. Without a key, `act` runs as is.
/// With one already stored (committed by an earlier submission), its outcome is returned and
/// `act` does not run. Otherwise the key is claimed, `act` runs, and its outcome is stored;
/// an `act` that fails rolls the caller's transaction back, and the key with it.
pub fn run<T, E>(
    conn: &mut DbConnection,
    key: Option<&OnceKey>,
    act: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    T: Serialize + DeserializeOwned,
    E: From<diesel::result::Error> + From<anyhow::Error>,
{
    run_flagged(conn, key, act).map(|(outcome, _)| outcome)
}

/// [`run`], and whether the outcome is an earlier submission's (true: `act` did not run, so
/// neither must whatever follows the transaction, such as a call to PortOne).
pub fn run_flagged<T, E>(
    conn: &mut DbConnection,
    key: Option<&OnceKey>,
    act: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<(T, bool), E>
where
    T: Serialize + DeserializeOwned,
    E: From<diesel::result::Error> + From<anyhow::Error>,
{
    let Some(k) = key else {
        return act(conn).map(|outcome| (outcome, false));
    };
    let claimed = crate::per_backend!(conn, c => diesel::insert_into(once_keys::table)
        .values((
            once_keys::user_id.eq(k.user_id),
            once_keys::scope.eq(k.scope),
            once_keys::once_key.eq(&k.key),
            once_keys::created_at.eq(chrono::Utc::now().naive_utc()),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    if claimed == 0 {
        let outcome = replay::<T, E>(conn, Some(k))?
            .ok_or_else(|| E::from(anyhow::anyhow!("a one-time key without its outcome")))?;
        return Ok((outcome, true));
    }
    let outcome = act(conn)?;
    let json = serde_json::to_string(&outcome)
        .map_err(|e| E::from(anyhow::Error::new(e).context("an outcome to store")))?;
    diesel::update(once_keys::table.find((k.user_id, k.scope, &k.key)))
        .set(once_keys::outcome.eq(Some(json)))
        .execute(conn)?;
    Ok((outcome, false))
}

/// The outcome stored with `key` by an earlier submission, if any (a plain read, for a use
/// case that checks its rules before its transaction: a resubmission must get its first
/// outcome, not a refusal that the first outcome caused).
pub fn replay<T, E>(conn: &mut DbConnection, key: Option<&OnceKey>) -> Result<Option<T>, E>
where
    T: DeserializeOwned,
    E: From<diesel::result::Error> + From<anyhow::Error>,
{
    let Some(k) = key else {
        return Ok(None);
    };
    let stored: Option<Option<String>> = once_keys::table
        .find((k.user_id, k.scope, &k.key))
        .select(once_keys::outcome)
        .first::<Option<String>>(conn)
        .optional()?;
    let Some(json) = stored.flatten() else {
        return Ok(None);
    };
    tracing::info!(
        scope = k.scope,
        "a resubmitted form: its first outcome returned"
    );
    serde_json::from_str(&json)
        .map(Some)
        .map_err(|e| E::from(anyhow::Error::new(e).context("a stored outcome")))
}

/// Forget keys older than `age` (the scheduler, once in a while). The number forgotten.
pub fn forget_older_than(conn: &mut DbConnection, age: std::time::Duration) -> QueryResult<usize> {
    let before = chrono::Utc::now().naive_utc()
        - chrono::Duration::from_std(age).unwrap_or(chrono::Duration::days(1));
    diesel::delete(once_keys::table.filter(once_keys::created_at.lt(before))).execute(conn)
}
