//! The app under test: `spawn_app` runs it on 127.0.0.1:0 with its own data directory and a
//! fresh database; `TestApp` restarts it, runs the command line (and the audit) against its
//! database, and reads that database directly.

use std::process::{Command, Output, Stdio};

use actix_web::dev::ServerHandle;
use neighborbid::config::{DatabaseUrl, Settings};
use neighborbid::startup::Application;
use reqwest::StatusCode;

use super::pg::{fresh_postgres_database, Db};
use super::{Browser, PASSWORD};

pub struct TestApp {
    /// `http://127.0.0.1:PORT`; a `restart` changes it.
    pub address: String,
    pub settings: Settings,
    handle: ServerHandle,
    _data_dir: tempfile::TempDir,
}

/// Spawn the app with test defaults (high per-IP limits: every client is 127.0.0.1).
pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

pub async fn spawn_app_with(db: Db, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        neighborbid::telemetry::init("info");
    }
    let data_dir = tempfile::Builder::new()
        .prefix("nb-test-")
        .tempdir()
        .expect("temp dir");
    let mut settings = Settings::with_data_dir(data_dir.path());
    settings.bind = "127.0.0.1:0".to_owned();
    settings.workers = 2;
    settings.db_pool_size = 8;
    settings.login_attempts_per_ip = 100_000;
    settings.login_attempts_per_username = 1_000;
    settings.login_free_failures = 1_000;
    settings.signups_per_ip = 100_000;
    if db == Db::Postgres {
        settings.database_url = DatabaseUrl::Postgres(fresh_postgres_database());
    }
    // Tests fund wallets through the development top-up (off by default).
    settings.dev_topup = true;
    // Auctions in tests end seconds after their last bids: soft close is off unless a test
    // turns it on.
    settings.soft_close = std::time::Duration::ZERO;
    tweak(&mut settings);
    let (address, handle) = start(settings.clone()).await;
    TestApp {
        address,
        settings,
        handle,
        _data_dir: data_dir,
    }
}

async fn start(settings: Settings) -> (String, ServerHandle) {
    let app = Application::build(settings).await.expect("the app starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    (address, handle)
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Stop the server and start a new one on the same data directory and database.
    pub async fn restart(&mut self) {
        self.handle.stop(true).await;
        let (address, handle) = start(self.settings.clone()).await;
        self.address = address;
        self.handle = handle;
    }

    /// This app's database as the binary's `DATABASE_URL`.
    pub(super) fn database_url(&self) -> String {
        match &self.settings.database_url {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(u) => u.clone(),
        }
    }

    /// A new, empty database of this app's kind (a new SQLite file in its data directory, or a
    /// new database on the test cluster), as a `DATABASE_URL`: somewhere to restore a backup.
    pub fn empty_database_url(&self) -> String {
        match &self.settings.database_url {
            DatabaseUrl::Sqlite(_) => {
                let name = format!(
                    "restored-{}.db",
                    neighborbid::web::session::new_token()
                        .get(..12)
                        .unwrap_or("x")
                );
                format!("sqlite://{}", self.settings.data_dir.join(name).display())
            }
            DatabaseUrl::Postgres(_) => fresh_postgres_database(),
        }
    }

    // ------------------------------------------------------------ the command line

    /// Run the real binary against this app's database.
    pub fn cli(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
        use std::io::Write as _;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_neighborbid"));
        cmd.args(args)
            .env("DATABASE_URL", self.database_url())
            .env("NEIGHBORBID_DATA_DIR", &self.settings.data_dir)
            .env("RUST_LOG", "warn")
            .env_remove("NEIGHBORBID_ADMIN_PASSWORD")
            .envs(env.iter().copied())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run neighborbid");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("write stdin");
        }
        child.wait_with_output().expect("neighborbid finished")
    }

    /// `neighborbid audit`: (clean?, printed report).
    pub fn audit(&self) -> (bool, String) {
        let out = self.cli(&["audit"], &[], None);
        let text = format!(
            "{}{}(exit: {})",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            out.status
        );
        (out.status.success(), text)
    }

    /// Assert the audit is clean and return its report.
    pub fn assert_audit_clean(&self) -> String {
        let (clean, text) = self.audit();
        assert!(clean, "the audit must be clean:\n{text}");
        assert!(text.contains("audit: CLEAN"), "{text}");
        text
    }

    /// Create an admin with the CLI and return a logged-in client.
    pub async fn admin(&self, username: &str) -> Browser {
        let out = self.cli(
            &["create-admin", username],
            &[("NEIGHBORBID_ADMIN_PASSWORD", PASSWORD)],
            None,
        );
        assert!(
            out.status.success(),
            "create-admin: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (client, r) = self.log_in(username, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        client
    }

    // ------------------------------------------------------------ the database, directly

    /// A direct connection to this app's database (for tampering tests only).
    pub fn raw_connection(&self) -> neighborbid::db::DbConnection {
        neighborbid::db::establish(&self.settings.database_url).expect("connect")
    }

    /// The auction's row: (status, current_price, leader_id, winner_id, bid_count).
    pub fn auction_row(&self, id: i64) -> (String, i64, Option<i64>, Option<i64>, i32) {
        use diesel::prelude::*;
        use neighborbid::db::schema::auctions::dsl as a;
        a::auctions
            .find(id)
            .select((
                a::status,
                a::current_price,
                a::leader_id,
                a::winner_id,
                a::bid_count,
            ))
            .first(&mut self.raw_connection())
            .expect("auction row")
    }

    /// Every bid amount of an auction in the order they were recorded.
    pub fn bid_amounts(&self, id: i64) -> Vec<i64> {
        use diesel::prelude::*;
        use neighborbid::db::schema::bids::dsl as b;
        b::bids
            .filter(b::auction_id.eq(id))
            .order(b::id.asc())
            .select(b::amount)
            .load(&mut self.raw_connection())
            .expect("bids")
    }

    /// Every row of an auction's bid history in the order recorded: (bidder, amount as shown,
    /// maximum entered — on a submission's own row only, is the row one the site placed).
    pub fn bid_rows(&self, id: i64) -> Vec<(i64, i64, Option<i64>, bool)> {
        use diesel::prelude::*;
        use neighborbid::db::schema::bids::dsl as b;
        b::bids
            .filter(b::auction_id.eq(id))
            .order(b::id.asc())
            .select((b::bidder_id, b::amount, b::max_amount, b::is_auto))
            .load(&mut self.raw_connection())
            .expect("bids")
    }

    /// The bid submissions an auction accepted, in order: (bidder, the maximum they entered).
    /// Each accepted submission leaves exactly one row of its own (not automatic, not buy-now).
    pub fn submissions(&self, id: i64) -> Vec<(i64, i64)> {
        use diesel::prelude::*;
        use neighborbid::db::schema::bids::dsl as b;
        b::bids
            .filter(b::auction_id.eq(id))
            .filter(b::is_auto.eq(false))
            .filter(b::is_buy_now.eq(false))
            .order(b::id.asc())
            .select((b::bidder_id, b::max_amount))
            .load::<(i64, Option<i64>)>(&mut self.raw_connection())
            .expect("bids")
            .into_iter()
            .map(|(bidder, max)| (bidder, max.expect("a submission row carries its maximum")))
            .collect()
    }

    /// The leader's maximum (proxy bidding), held in full.
    pub fn leader_max(&self, id: i64) -> Option<i64> {
        use diesel::prelude::*;
        use neighborbid::db::schema::auctions::dsl as a;
        a::auctions
            .find(id)
            .select(a::leader_max)
            .first(&mut self.raw_connection())
            .expect("auction row")
    }

    /// (user_id, balance, locked) of every wallet with money held.
    pub fn holds(&self) -> Vec<(i64, i64, i64)> {
        use diesel::prelude::*;
        use neighborbid::db::schema::wallets::dsl as w;
        w::wallets
            .filter(w::locked.ne(0))
            .select((w::user_id, w::balance, w::locked))
            .load(&mut self.raw_connection())
            .expect("wallets")
    }

    pub fn user_id(&self, username: &str) -> i64 {
        use diesel::prelude::*;
        use neighborbid::db::schema::users::dsl as u;
        u::users
            .filter(u::username.eq(username))
            .select(u::id)
            .first(&mut self.raw_connection())
            .expect("user")
    }

    /// The trade a sold auction became: (trade id, status).
    pub fn auction_trade(&self, auction_id: i64) -> Option<(i64, String)> {
        use diesel::prelude::*;
        use neighborbid::db::schema::trades::dsl as t;
        t::trades
            .filter(t::auction_id.eq(auction_id))
            .select((t::id, t::status))
            .first(&mut self.raw_connection())
            .optional()
            .expect("trade")
    }

    /// Wait (bounded) until the auction is no longer open.
    pub async fn wait_closed(&self, id: i64) -> String {
        for _ in 0..200 {
            let (status, ..) = self.auction_row(id);
            if status != "active" && status != "scheduled" {
                return status;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("auction {id} was not closed within 10 s");
    }
}
