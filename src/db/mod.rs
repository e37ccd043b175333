//! The database: one connection type over SQLite and PostgreSQL, the pool, migrations and
//! transactions. This is the one place where the two backends differ.

pub mod backup;
pub mod durability;
pub mod once;
pub mod schema;
mod signals;

use signals::flush_user_signals;
pub use signals::{on_user_signals, signal_user, UserSignals, USER_CHANNEL};

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// How many times a pooled connection was found gone (shared by the pool's connections).
    losses: Arc<AtomicU64>,
    /// Who hears, after commit, of members whose notifications or wallet changed (SQLite).
    user_signals: Arc<UserSignals>,
}

/// What every pooled connection watches of its own queries (diesel instrumentation): whether
/// one failed because the connection is gone, so the pool discards it when it comes back
/// instead of handing a dead connection to the next request; and, in benchmarks, how many
/// queries ran.
///
/// When one connection is found gone, the others opened before are likely gone too (a
/// database restart ends them all): each of them is checked with `SELECT 1` the next time it is
/// checked out ([`checkout`]), once, so a dead one is passed over instead of failing a request.
struct ConnectionWatch {
    lost: bool,
    query_counter: Option<Arc<AtomicU64>>,
    /// The pool's count of connections found gone, shared.
    losses: Arc<AtomicU64>,
    /// That count when this connection was last known to work (opened or checked).
    known_good_at: u64,
    /// Members signalled in the transaction under way ([`signal_user`], SQLite).
    pending_users: Vec<i64>,
    user_signals: Arc<UserSignals>,
}

impl ConnectionWatch {
    /// Whether a connection was found gone since this one was last known to work.
    fn suspect(&self) -> bool {
        self.losses.load(Ordering::Relaxed) != self.known_good_at
    }
}

impl diesel::connection::Instrumentation for ConnectionWatch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => {
                if let Some(counter) = &self.query_counter {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }
            InstrumentationEvent::FinishQuery { error: Some(e), .. }
                if !self.lost && is_connection_lost(e) =>
            {
                self.lost = true;
                self.losses.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        let mut conn = establish(&self.url).map_err(diesel::r2d2::Error::ConnectionError)?;
        conn.set_instrumentation(ConnectionWatch {
            lost: false,
            query_counter: self.query_counter.clone(),
            losses: self.losses.clone(),
            known_good_at: self.losses.load(Ordering::Relaxed),
            pending_users: Vec::new(),
            user_signals: self.user_signals.clone(),
        });
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    /// Checked each time a connection comes back to the pool (cheap, no round trip): broken
    /// when its thread panicked, when diesel's transaction manager is broken or still inside a
    /// transaction (a failed `ROLLBACK`), or when one of its queries found the connection gone
    /// (a database restart, `pg_terminate_backend`, a network cut). A broken connection is
    /// closed and r2d2 opens a new one; without this check, every connection the database
    /// dropped stayed in the pool and failed every request until our restart.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::r2d2::R2D2Connection as _;
        std::thread::panicking()
            || conn.is_broken()
            || conn
                .instrumentation()
                .downcast_ref::<ConnectionWatch>()
                .is_some_and(|watch| watch.lost)
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

/// How long a request waits for a connection when the pool holds none at all (every one was
/// found broken and none could be opened again): the database is away, so say so soon.
pub const POOL_WAIT_WHILE_AWAY: Duration = Duration::from_secs(1);

/// The pool's own checkout timeout (for `pool.get()` in the background jobs). r2d2 also waits
/// at most half of it between two attempts to reopen a connection while the database is away,
/// so it bounds how long after the database comes back the pool has a connection again.
pub const POOL_RECONNECT_WINDOW: Duration = Duration::from_secs(2);

/// A pooled connection for a request: wait up to [`POOL_WAIT`] while the pool has connections
/// (all busy), only [`POOL_WAIT_WHILE_AWAY`] when it has none (the database is away). A
/// connection opened before another was found gone is checked first (`SELECT 1`, once): a dead
/// one is thrown away and the next one taken, within the same wait.
pub fn checkout(pool: &DbPool) -> Result<r2d2::PooledConnection<ConnectionManager>, r2d2::Error> {
    let deadline = std::time::Instant::now() + POOL_WAIT;
    // Decided before each wait: checking may have thrown every connection away.
    let wait = || {
        let now = std::time::Instant::now();
        let until = if pool.state().connections == 0 {
            deadline.min(now + POOL_WAIT_WHILE_AWAY)
        } else {
            deadline
        };
        until.saturating_duration_since(now)
    };
    for _ in 0..pool.max_size() {
        let mut conn = pool.get_timeout(wait())?;
        if checked(&mut conn) {
            return Ok(conn);
        }
        // Dead: its failed `SELECT 1` marked it lost, so dropping it closes it.
    }
    pool.get_timeout(wait())
}

/// Whether a checked-out connection may be used: yes unless it is suspect (see
/// [`ConnectionWatch`]) and fails a `SELECT 1`.
fn checked(conn: &mut DbConnection) -> bool {
    let suspect = conn
        .instrumentation()
        .downcast_ref::<ConnectionWatch>()
        .is_some_and(ConnectionWatch::suspect);
    if !suspect {
        return true;
    }
    let losses_before = conn
        .instrumentation()
        .downcast_ref::<ConnectionWatch>()
        .map_or(0, |w| w.losses.load(Ordering::Relaxed));
    if conn.batch_execute("SELECT 1").is_err() {
        return false;
    }
    if let Some(watch) = conn.instrumentation().downcast_mut::<ConnectionWatch>() {
        watch.known_good_at = losses_before;
    }
    true
}

/// What the pool reports of its attempts to connect: while the database is away r2d2 retries
/// about once a second per missing connection, and logged each failure (hundreds of lines per
/// outage). This logs the first failure, then nothing until a connection succeeds again.
#[derive(Debug, Default, Clone)]
struct PoolLog {
    failing: Arc<AtomicBool>,
}

impl r2d2::HandleError<diesel::r2d2::Error> for PoolLog {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        if !self.failing.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                error = one_line(&error.to_string()),
                "cannot open a database connection; retrying until it can"
            );
        }
    }
}

impl r2d2::HandleEvent for PoolLog {
    fn handle_acquire(&self, _: r2d2::event::AcquireEvent) {
        if self.failing.swap(false, Ordering::Relaxed) {
            tracing::info!("database connections open again");
        }
    }
}

/// Connect once (to report a clear error), migrate, and build the pool.
pub fn connect_and_migrate(
    url: &DatabaseUrl,
    pool_size: u32,
    query_counter: Option<Arc<AtomicU64>>,
) -> anyhow::Result<DbPool> {
    drop(open(url)?);
    let log = PoolLog::default();
    r2d2::Pool::builder()
        .max_size(pool_size)
        .min_idle(Some(1))
        // No `SELECT 1` before every check-out: it doubled the round trips of a request.
        // Broken connections are found without a round trip instead (`has_broken`).
        .test_on_check_out(false)
        // Requests wait through `checkout` (POOL_WAIT); this short default bounds r2d2's pause
        // between reconnection attempts (half of it), so the site heals within about a second
        // of the database coming back.
        .connection_timeout(POOL_RECONNECT_WINDOW)
        .error_handler(Box::new(log.clone()))
        .event_handler(Box::new(log))
        .build(ConnectionManager {
            url: url.clone(),
            query_counter,
            losses: Arc::default(),
            user_signals: Arc::default(),
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
/// or refused, a broken transaction manager) rather than that the request was wrong: such a
/// request may succeed later. Causes that reached us only as text (an error formatted into
/// another) are recognised by their words.
pub fn is_unavailable(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.downcast_ref::<r2d2::Error>().is_some()
            || cause.downcast_ref::<ConnectionError>().is_some()
            || cause.downcast_ref::<diesel::r2d2::Error>().is_some()
            || cause
                .downcast_ref::<DieselError>()
                .is_some_and(is_connection_lost)
            || says_connection_lost(&cause.to_string())
    })
}

/// A query failed because its connection is gone (server restarted, network cut), or diesel
/// can no longer tell the state of its transaction (a `ROLLBACK` or `COMMIT` that failed).
pub fn is_connection_lost(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => true,
        DieselError::BrokenTransactionManager => true,
        DieselError::RollbackErrorOnCommit {
            rollback_error,
            commit_error,
        } => is_connection_lost(commit_error) || is_connection_lost(rollback_error),
        DieselError::DatabaseError(_, info) => says_connection_lost(info.message()),
        _ => false,
    }
}

/// The words PostgreSQL and libpq use when a connection is gone or cannot be made.
fn says_connection_lost(message: &str) -> bool {
    const PHRASES: [&str; 11] = [
        "server closed the connection",
        "no connection to the server",
        "terminating connection",
        "connection to server",
        "could not receive data",
        "could not send data",
        "could not connect to server",
        "the database system is starting up",
        "the database system is shutting down",
        "the database system is in recovery mode",
        "transaction manager is broken",
    ];
    let m = message.to_ascii_lowercase();
    PHRASES.iter().any(|p| m.contains(p))
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
    flush_user_signals(conn, false);
    match body(conn) {
        Ok(value) => {
            let committed =
                <DbConnection as Connection>::TransactionManager::commit_transaction(conn);
            flush_user_signals(conn, committed.is_ok());
            committed?;
            Ok(value)
        }
        Err(e) => {
            flush_user_signals(conn, false);
            if let Err(rollback) =
                <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)
            {
                // Expected when the connection itself was lost (the pool then discards it);
                // the transaction's own error is what the caller sees.
                if is_connection_lost(&rollback) {
                    tracing::warn!(error = %rollback, "rollback failed: the connection is gone");
                } else {
                    tracing::error!(error = %rollback, "rollback failed");
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::DatabaseErrorInformation;

    #[derive(Debug)]
    struct Said(&'static str);

    impl DatabaseErrorInformation for Said {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn said(kind: DatabaseErrorKind, message: &'static str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(Said(message)))
    }

    #[test]
    fn a_lost_or_broken_connection_counts_as_the_database_being_away() {
        let away = [
            said(DatabaseErrorKind::Unknown, "no connection to the server\n"),
            said(
                DatabaseErrorKind::Unknown,
                "server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally",
            ),
            said(
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
            said(DatabaseErrorKind::Unknown, "FATAL:  the database system is starting up"),
            said(DatabaseErrorKind::ClosedConnection, "anything"),
            DieselError::BrokenTransactionManager,
            DieselError::RollbackErrorOnCommit {
                rollback_error: Box::new(DieselError::BrokenTransactionManager),
                commit_error: Box::new(said(
                    DatabaseErrorKind::Unknown,
                    "server closed the connection unexpectedly",
                )),
            },
        ];
        for e in away {
            let text = e.to_string();
            assert!(is_connection_lost(&e), "{text}");
            assert!(
                is_unavailable(&anyhow::Error::new(e).context("placing a bid")),
                "{text}"
            );
        }
        let said_in_words = anyhow::anyhow!("commit failed: The transaction manager is broken");
        assert!(is_unavailable(&said_in_words));
        let refused = ConnectionError::BadConnection("connection refused".into());
        assert!(is_unavailable(&anyhow::Error::new(refused)));
    }

    #[test]
    fn a_request_the_database_refused_is_not_the_database_being_away() {
        let refused = [
            said(
                DatabaseErrorKind::UniqueViolation,
                "duplicate key value violates unique constraint",
            ),
            said(
                DatabaseErrorKind::SerializationFailure,
                "could not serialize access",
            ),
            DieselError::NotFound,
        ];
        for e in refused {
            let text = e.to_string();
            assert!(!is_connection_lost(&e), "{text}");
            assert!(!is_unavailable(&anyhow::Error::new(e)), "{text}");
        }
        assert!(!is_unavailable(&anyhow::anyhow!("the bid is too low")));
    }
}
