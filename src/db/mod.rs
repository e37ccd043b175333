//! The database: one connection type over SQLite and PostgreSQL, the pool, migrations and
//! transactions. This is the one place where the two backends differ.

pub mod backup;
pub mod durability;
pub mod schema;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::InstrumentationEvent;

use anyhow::Context as _;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseUrl;

/// One connection type for both backends.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type DbPool = r2d2::Pool<ConnectionManager>;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Run `$body` with `$c` bound to the inner connection of whichever backend this is.
/// The body is type-checked once per backend, so backend-only DSL (`for_update`) works.
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Pg($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}

/// Open one connection, choosing the backend from the URL scheme (never by trial:
/// diesel's `MultiConnection::establish` falls through to SQLite and hides the real error).
pub fn establish(url: &DatabaseUrl) -> Result<DbConnection, ConnectionError> {
    match url {
        DatabaseUrl::Postgres(u) => PgConnection::establish(u).map(DbConnection::Pg),
        DatabaseUrl::Sqlite(path) => {
            let path = path.to_str().ok_or_else(|| {
                ConnectionError::InvalidConnectionUrl("the SQLite path is not UTF-8".into())
            })?;
            let mut c = SqliteConnection::establish(path)?;
            // busy_timeout first: switching to WAL needs the lock another process may hold.
            // synchronous = FULL: every COMMIT waits for the WAL to reach the disk, so an
            // acknowledged bid or payment survives an OS crash or power loss too (NORMAL keeps
            // commits across a crash of this process only). It costs one fdatasync per write
            // transaction (~0.16 ms on our disk; README, "Crashes").
            c.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
            )
            .map_err(ConnectionError::CouldntSetupConfiguration)?;
            Ok(DbConnection::Sqlite(c))
        }
    }
}

/// r2d2 manager that picks the backend from the URL scheme.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    query_counter: Option<Arc<AtomicU64>>,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        let mut conn = establish(&self.url).map_err(diesel::r2d2::Error::ConnectionError)?;
        if let Some(counter) = &self.query_counter {
            let counter = counter.clone();
            conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
                if matches!(event, InstrumentationEvent::StartQuery { .. }) {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// One migrated connection (for the command line), with a one-line error naming the problem.
pub fn open(url: &DatabaseUrl) -> anyhow::Result<DbConnection> {
    if let DatabaseUrl::Sqlite(path) = url {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the directory {}", dir.display()))?;
        }
    }
    let mut conn = establish(url).map_err(|e| {
        anyhow::anyhow!(
            "cannot connect to the database at {}: {}",
            url.redacted(),
            one_line(&e.to_string())
        )
    })?;
    run_migrations(&mut conn)?;
    Ok(conn)
}

/// The longest a request waits for a pooled connection before the database counts as away.
pub const POOL_WAIT: Duration = Duration::from_secs(10);

/// Connect once (to report a clear error), migrate, and build the pool.
pub fn connect_and_migrate(
    url: &DatabaseUrl,
    pool_size: u32,
    query_counter: Option<Arc<AtomicU64>>,
) -> anyhow::Result<DbPool> {
    drop(open(url)?);
    r2d2::Pool::builder()
        .max_size(pool_size)
        .min_idle(Some(1))
        // No `SELECT 1` before every check-out: it doubled the round trips of a request.
        .test_on_check_out(false)
        // A request waits at most this long for a connection, then answers 503 (not a 30 s hang).
        .connection_timeout(POOL_WAIT)
        .build(ConnectionManager {
            url: url.clone(),
            query_counter,
        })
        .with_context(|| format!("cannot open a connection pool to {}", url.redacted()))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Apply pending migrations. On PostgreSQL an advisory lock keeps several starting
/// processes from migrating at once.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<()> {
    match conn {
        DbConnection::Pg(c) => {
            c.batch_execute("SELECT pg_advisory_lock(724365001)")?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|_| ())
                .map_err(|e| anyhow::anyhow!("migration failed: {e}"));
            c.batch_execute("SELECT pg_advisory_unlock(724365001)")?;
            result
        }
        DbConnection::Sqlite(c) => {
            // One write transaction around all of them: a second process starting at the same
            // moment waits, then finds nothing pending (each migration becomes a savepoint).
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
            match c.run_pending_migrations(SQLITE_MIGRATIONS) {
                Ok(_) => Ok(AnsiTransactionManager::commit_transaction(c)?),
                Err(e) => {
                    let _ = AnsiTransactionManager::rollback_transaction(c);
                    Err(anyhow::anyhow!("migration failed: {e}"))
                }
            }
        }
    }
}

/// Errors that can tell whether the database asked us to try again
/// (PostgreSQL serialization failure or deadlock; SQLite busy).
pub trait TxError: From<DieselError> {
    fn database_error(&self) -> Option<&DieselError>;

    fn is_retryable(&self) -> bool {
        self.database_error().is_some_and(is_retryable)
    }
}

pub fn is_retryable(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        DieselError::DatabaseError(_, info) => {
            let m = info.message();
            m.contains("deadlock detected")
                || m.contains("database is locked")
                || m.contains("could not serialize")
        }
        _ => false,
    }
}

/// Whether an error means the database is away (no pooled connection in time, a connection lost
/// or refused) rather than that the request was wrong: such a request may succeed later.
pub fn is_unavailable(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.downcast_ref::<r2d2::Error>().is_some()
            || cause.downcast_ref::<ConnectionError>().is_some()
            || cause.downcast_ref::<diesel::r2d2::Error>().is_some()
            || cause
                .downcast_ref::<DieselError>()
                .is_some_and(is_connection_lost)
    })
}

/// A query failed because its connection is gone (server restarted, network cut).
pub fn is_connection_lost(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        DieselError::BrokenTransactionManager => true,
        DieselError::DatabaseError(_, info) => {
            let m = info.message();
            m.contains("server closed the connection")
                || m.contains("no connection to the server")
                || m.contains("terminating connection")
                || m.contains("connection to server")
                || m.contains("could not receive data")
                || m.contains("could not send data")
        }
        _ => false,
    }
}

pub fn is_unique_violation(e: &DieselError) -> bool {
    matches!(
        e,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

const MAX_TX_ATTEMPTS: u32 = 5;

/// Serialises this process's SQLite write transactions (see [`write_tx`]). Other processes on
/// the same file still wait through `busy_timeout`.
static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Run `body` as one write transaction that takes its locks up front:
/// SQLite `BEGIN IMMEDIATE` (the write lock before the first read), PostgreSQL
/// `READ COMMITTED` with `SELECT … FOR UPDATE` inside. Retried a bounded number of
/// times when the database reports a serialization failure or deadlock.
pub fn write_tx<T, E, F>(conn: &mut DbConnection, mut body: F) -> Result<T, E>
where
    E: TxError,
    F: FnMut(&mut DbConnection) -> Result<T, E>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = {
            // One writer at a time in this process on SQLite: waiting on a mutex wakes the next
            // writer at once, where SQLite's busy handler sleeps in steps of up to 100 ms.
            let _writer = matches!(conn, DbConnection::Sqlite(_)).then(|| {
                SQLITE_WRITER
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            });
            run_tx(
                conn,
                "BEGIN IMMEDIATE",
                "BEGIN ISOLATION LEVEL READ COMMITTED",
                &mut body,
            )
        };
        match result {
            Err(e) if attempt < MAX_TX_ATTEMPTS && e.is_retryable() => {
                tracing::debug!(attempt, "transaction retried");
                std::thread::sleep(Duration::from_millis(2 * u64::from(attempt)));
            }
            other => return other,
        }
    }
}

/// Run `body` as a read-only transaction over one consistent snapshot.
pub fn read_tx<T, E, F>(conn: &mut DbConnection, mut body: F) -> Result<T, E>
where
    E: TxError,
    F: FnMut(&mut DbConnection) -> Result<T, E>,
{
    run_tx(
        conn,
        "BEGIN DEFERRED",
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        &mut body,
    )
}

fn run_tx<T, E, F>(
    conn: &mut DbConnection,
    sqlite_begin: &str,
    pg_begin: &str,
    body: &mut F,
) -> Result<T, E>
where
    E: TxError,
    F: FnMut(&mut DbConnection) -> Result<T, E>,
{
    match conn {
        DbConnection::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, sqlite_begin)?,
        DbConnection::Pg(c) => AnsiTransactionManager::begin_transaction_sql(c, pg_begin)?,
    }
    match body(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) =
                <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)
            {
                tracing::error!(error = %rollback, "rollback failed");
            }
            Err(e)
        }
    }
}

/// A wallet row as locked and read inside a transaction.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = schema::wallets)]
pub struct WalletRow {
    pub user_id: i64,
    pub balance: i64,
    pub locked: i64,
}

/// Lock the wallet rows of `user_ids` in ascending id order (the global lock order),
/// after the caller has locked its auction or product row. On SQLite the transaction
/// already holds the database write lock, so this is a plain read.
pub fn lock_wallets(conn: &mut DbConnection, user_ids: &[i64]) -> QueryResult<Vec<WalletRow>> {
    use schema::wallets::dsl as w;
    let mut ids = user_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    match conn {
        DbConnection::Pg(c) => w::wallets
            .filter(w::user_id.eq_any(&ids))
            .order(w::user_id.asc())
            .for_update()
            .select(WalletRow::as_select())
            .load(c),
        DbConnection::Sqlite(c) => w::wallets
            .filter(w::user_id.eq_any(&ids))
            .order(w::user_id.asc())
            .select(WalletRow::as_select())
            .load(c),
    }
}

/// Lock a user's row against another transaction doing the same (PostgreSQL
/// `FOR NO KEY UPDATE`, which foreign-key checks do not wait for), to make a per-user count
/// and the insert it allows one step. On SQLite the transaction already holds the write lock.
pub fn lock_user(conn: &mut DbConnection, user_id: i64) -> QueryResult<()> {
    use schema::users::dsl as u;
    if let DbConnection::Pg(c) = conn {
        u::users
            .find(user_id)
            .select(u::id)
            .for_no_key_update()
            .first::<i64>(c)?;
    }
    Ok(())
}

/// Load the row of `$query` (by unique key) and lock it: `SELECT … FOR UPDATE` on PostgreSQL (with
/// `skip_locked`, rows another transaction holds are passed over); a plain read on SQLite,
/// whose `BEGIN IMMEDIATE` already holds the database write lock. The query is written once
/// and type-checked per backend.
#[macro_export]
macro_rules! first_for_update {
    ($conn:expr, $query:expr) => {
        match $conn {
            $crate::db::DbConnection::Pg(c) => $query.for_update().first(c).optional(),
            $crate::db::DbConnection::Sqlite(c) => $query.first(c).optional(),
        }
    };
    (skip_locked, $conn:expr, $query:expr) => {
        match $conn {
            $crate::db::DbConnection::Pg(c) => {
                $query.for_update().skip_locked().first(c).optional()
            }
            $crate::db::DbConnection::Sqlite(c) => $query.first(c).optional(),
        }
    };
}

diesel::define_sql_function! {
    /// SQL `lower(text)`, the same on both backends (text search ignores case).
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// `%text%` for `LIKE … ESCAPE '\'`, lower-cased, with the user's `%`, `_` and `\` taken
/// literally.
pub fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}
