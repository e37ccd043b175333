//! PostgreSQL for the tests: a throwaway cluster started once per test binary from the system's
//! binaries (`pg_config --bindir`), or `TEST_DATABASE_URL`; a fresh database per test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use diesel::connection::SimpleConnection;
use diesel::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Generate `on_sqlite` and `on_postgres` tests for each async test function `f(Db)`.
macro_rules! both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                super::$name($crate::helpers::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                if $crate::helpers::postgres_or_skip(stringify!($name)) {
                    super::$name($crate::helpers::Db::Postgres).await
                }
            }
        }
    )*};
}
pub(crate) use both_databases;

struct PgServer {
    /// `postgres://user@host:port` without a database name.
    base: String,
}

static PG: OnceLock<Result<PgServer, String>> = OnceLock::new();

fn pg_server() -> &'static Result<PgServer, String> {
    PG.get_or_init(|| match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            let base = match url.rfind('/') {
                Some(i) if i > "postgres://".len() => url[..i].to_owned(),
                _ => url.clone(),
            };
            Ok(PgServer { base })
        }
        _ => start_cluster(),
    })
}

/// True when PostgreSQL tests can run; prints a visible SKIPPED line otherwise, and panics
/// when `NEIGHBORBID_REQUIRE_PG=1` (CI) says they must run.
pub fn postgres_or_skip(test: &str) -> bool {
    match pg_server() {
        Ok(_) => true,
        Err(why) => {
            if std::env::var("NEIGHBORBID_REQUIRE_PG").is_ok_and(|v| v == "1") {
                panic!("PostgreSQL is required (NEIGHBORBID_REQUIRE_PG=1) but unavailable: {why}");
            }
            eprintln!("SKIPPED {test} on PostgreSQL: {why}");
            false
        }
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A command run as the `postgres` user when we are root (initdb refuses root).
fn pg_command(bin: &Path, root: bool) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

fn start_cluster() -> Result<PgServer, String> {
    let cluster = Cluster::create()?;
    cluster.start()?;
    let base = cluster.base();
    // The shared cluster lives as long as this test process (its watchdog stops it).
    std::mem::forget(cluster);
    Ok(PgServer { base })
}

/// A throwaway PostgreSQL cluster of the system's binaries, run as `postgres` when we are root.
/// A watchdog stops and deletes it when this test process ends, however it ends; a test that
/// owns one (to stop and start it) stops and deletes it when dropped.
pub struct Cluster {
    bindir: PathBuf,
    dir: PathBuf,
    port: u16,
    root: bool,
}

impl Cluster {
    /// `initdb` a new cluster on a free port (not started).
    pub fn create() -> Result<Cluster, String> {
        let out = Command::new("pg_config")
            .arg("--bindir")
            .output()
            .map_err(|e| {
                format!("pg_config not found ({e}); install postgresql-15 or set TEST_DATABASE_URL")
            })?;
        let bindir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        let initdb = bindir.join("initdb");
        if !initdb.exists() {
            return Err(format!(
                "{} does not exist; install postgresql-15",
                initdb.display()
            ));
        }
        let root = is_root();
        let dir = tempfile::Builder::new()
            .prefix("nb-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?
            .keep();
        if root {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .map_err(|e| e.to_string())?;
            if !ok.success() {
                return Err("cannot chown the cluster directory to postgres".into());
            }
        }
        let data = dir.join("data");
        let init = pg_command(&initdb, root)
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ])
            .output()
            .map_err(|e| format!("initdb could not start: {e}"))?;
        if !init.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&init.stderr)
            ));
        }
        let cluster = Cluster {
            bindir,
            dir,
            port: super::free_port(),
            root,
        };
        // Stop and delete the cluster when this test process ends, however it ends.
        let stop = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {runas}{pg_ctl} -D {data} -m immediate stop >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            runas = if root { "runuser -u postgres -- " } else { "" },
            pg_ctl = cluster.bindir.join("pg_ctl").display(),
            data = data.display(),
            dir = cluster.dir.display(),
        );
        Command::new("sh")
            .args(["-c", &stop])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start the cluster watchdog: {e}"))?;
        Ok(cluster)
    }

    /// `postgres://postgres@127.0.0.1:PORT` without a database name.
    pub fn base(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    fn pg_ctl(&self) -> Command {
        let mut c = pg_command(&self.bindir.join("pg_ctl"), self.root);
        c.arg("-D").arg(self.dir.join("data"));
        c
    }

    /// Start the server and wait until it accepts connections (on the same port every time).
    pub fn start(&self) -> Result<(), String> {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=500 -c shared_buffers=128MB",
            self.port,
            self.dir.display()
        );
        let start = self
            .pg_ctl()
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &opts, "start"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("pg_ctl could not start: {e}"))?;
        if !start.status.success() {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            return Err(format!("PostgreSQL did not start: {log}"));
        }
        Ok(())
    }

    /// Stop the server in `mode` (`fast`: disconnect every client and shut down cleanly, as a
    /// restart by an operator does; `immediate`: as a crash) and wait until it has stopped.
    pub fn stop(&self, mode: &str) -> Result<(), String> {
        let out = self
            .pg_ctl()
            .args(["-w", "-t", "60", "-m", mode, "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("pg_ctl could not run: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "pg_ctl stop failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }

    /// A shell command that restarts this cluster as an operator would (`pg_ctl restart -m
    /// fast`, as `postgres` when we are root) and waits until it accepts connections again.
    pub fn restart_command(&self) -> String {
        format!(
            "{runas}{pg_ctl} -D {data} -l {log} -w -t 60 -m fast restart >/dev/null",
            runas = if self.root {
                "runuser -u postgres -- "
            } else {
                ""
            },
            pg_ctl = self.bindir.join("pg_ctl").display(),
            data = self.dir.join("data").display(),
            log = self.dir.join("server.log").display(),
        )
    }

    /// A new, empty database on this cluster; its URL.
    pub fn fresh_database(&self) -> String {
        create_database(&self.base())
    }
}

/// A cluster a test owns is stopped and deleted with it.
pub struct OwnedCluster(pub Cluster);

impl Drop for OwnedCluster {
    fn drop(&mut self) {
        let _ = self.0.stop("immediate");
        let _ = std::fs::remove_dir_all(&self.0.dir);
    }
}

impl std::ops::Deref for OwnedCluster {
    type Target = Cluster;
    fn deref(&self) -> &Cluster {
        &self.0
    }
}

/// A started cluster of the test's own (to stop and start without disturbing other tests), or
/// `None` (with a visible SKIPPED line) when PostgreSQL's binaries are not here, e.g. when the
/// tests run against `TEST_DATABASE_URL`; a failure when `NEIGHBORBID_REQUIRE_PG=1`.
pub fn own_cluster(test: &str) -> Option<OwnedCluster> {
    let started = Cluster::create().and_then(|cluster| {
        let owned = OwnedCluster(cluster);
        owned.start().map(|()| owned)
    });
    match started {
        Ok(owned) => Some(owned),
        Err(why) => {
            if std::env::var("NEIGHBORBID_REQUIRE_PG").is_ok_and(|v| v == "1") {
                panic!("a PostgreSQL cluster of the test's own is required: {why}");
            }
            eprintln!("SKIPPED {test}: no PostgreSQL cluster of its own: {why}");
            None
        }
    }
}

/// A new, empty database on the cluster; its URL.
pub(super) fn fresh_postgres_database() -> String {
    let server = pg_server().as_ref().expect("PostgreSQL available");
    create_database(&server.base)
}

fn create_database(base: &str) -> String {
    let name = format!(
        "nb_test_{}",
        neighborbid::web::session::new_token()
            .get(..16)
            .unwrap_or("x")
    );
    let mut admin = diesel::PgConnection::establish(&format!("{base}/postgres"))
        .expect("connect to the test cluster");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create a test database");
    format!("{base}/{name}")
}
