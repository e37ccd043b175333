//! `spawn_app` and friends. PostgreSQL: a throwaway cluster started once per test binary from
//! the system's binaries (`pg_config --bindir`), or `TEST_DATABASE_URL`; a fresh database per test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use actix_web::dev::ServerHandle;
use diesel::connection::SimpleConnection;
use diesel::Connection;
use neighborbid::config::{DatabaseUrl, Settings};
use neighborbid::startup::Application;
use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::{redirect, Client, Response, StatusCode};

pub const PASSWORD: &str = "tulip-garden-42";

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

// ---------------------------------------------------------------- PostgreSQL cluster

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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start_cluster() -> Result<PgServer, String> {
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
    let port = free_port();
    let opts = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off -c max_connections=500 -c shared_buffers=128MB",
        dir.display()
    );
    let start = pg_command(&bindir.join("pg_ctl"), root)
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.join("server.log"))
        .args(["-w", "-t", "60", "-o", &opts, "start"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("pg_ctl could not start: {e}"))?;
    if !start.status.success() {
        let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
        return Err(format!("PostgreSQL did not start: {log}"));
    }
    // Stop and delete the cluster when this test process ends, however it ends.
    let stop = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {runas}{pg_ctl} -D {data} -m immediate stop >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        runas = if root { "runuser -u postgres -- " } else { "" },
        pg_ctl = bindir.join("pg_ctl").display(),
        data = data.display(),
        dir = dir.display(),
    );
    Command::new("sh")
        .args(["-c", &stop])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the cluster watchdog: {e}"))?;
    Ok(PgServer {
        base: format!("postgres://postgres@127.0.0.1:{port}"),
    })
}

fn fresh_postgres_database() -> String {
    let server = pg_server().as_ref().expect("PostgreSQL available");
    let name = format!(
        "nb_test_{}",
        neighborbid::web::session::new_token()
            .get(..16)
            .unwrap_or("x")
    );
    let mut admin = diesel::PgConnection::establish(&format!("{}/postgres", server.base))
        .expect("connect to the test cluster");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create a test database");
    format!("{}/{name}", server.base)
}

// ---------------------------------------------------------------- the app

pub struct TestApp {
    pub address: String,
    pub settings: Settings,
    handle: ServerHandle,
    _data_dir: tempfile::TempDir,
}

/// Spawn the app with test defaults (a high per-IP login limit: every client is 127.0.0.1).
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
    if db == Db::Postgres {
        settings.database_url = DatabaseUrl::Postgres(fresh_postgres_database());
    }
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

    /// A browser-like client: its own cookie jar, no automatic redirects.
    pub fn client(&self) -> Client {
        self.client_with_jar().0
    }

    /// A client and its cookie jar (to hand the session cookie to a WebSocket).
    pub fn client_with_jar(&self) -> (Client, Arc<Jar>) {
        let jar = Arc::new(Jar::default());
        let client = Client::builder()
            .cookie_provider(jar.clone())
            .redirect(redirect::Policy::none())
            .build()
            .expect("client");
        (client, jar)
    }

    pub async fn get(&self, client: &Client, path: &str) -> Response {
        client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_html(&self, client: &Client, path: &str) -> (StatusCode, String) {
        let r = self.get(client, path).await;
        let status = r.status();
        (status, r.text().await.expect("body"))
    }

    /// The client's current CSRF token (every page carries it in a `<meta>`).
    pub async fn csrf(&self, client: &Client) -> String {
        let (_, html) = self.get_html(client, "/").await;
        let marker = "name=\"csrf-token\" content=\"";
        let at = html.find(marker).expect("a csrf-token meta") + marker.len();
        html[at..at + html[at..].find('"').expect("end of token")].to_owned()
    }

    /// POST a url-encoded form as given (no token added).
    pub async fn post_raw(&self, client: &Client, path: &str, fields: &[(&str, &str)]) -> Response {
        client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    /// POST a form with the client's CSRF token.
    pub async fn post(&self, client: &Client, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf(client).await;
        let mut all = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_raw(client, path, &all).await
    }

    /// Sign up (and so log in) a new member; returns their client.
    pub async fn sign_up(&self, username: &str) -> Client {
        self.sign_up_with_jar(username).await.0
    }

    pub async fn sign_up_with_jar(&self, username: &str) -> (Client, Arc<Jar>) {
        let (client, jar) = self.client_with_jar();
        let r = self
            .post(
                &client,
                "/signup",
                &[
                    ("username", username),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                    ("display_name", &format!("Neighbour {username}")),
                    ("region_id", "3"),
                ],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "sign-up of {username}: {}",
            r.text().await.unwrap_or_default()
        );
        (client, jar)
    }

    pub async fn log_in(&self, username: &str, password: &str) -> (Client, Response) {
        let client = self.client();
        let r = self
            .post(
                &client,
                "/login",
                &[("username", username), ("password", password)],
            )
            .await;
        (client, r)
    }

    /// Top up through the wallet page's own form (with its idempotency key).
    pub async fn top_up(&self, client: &Client, amount: &str) -> Response {
        let (_, html) = self.get_html(client, "/wallet").await;
        let key = field_value(&html, "idempotency_key").expect("an idempotency_key field");
        let token = field_value(&html, "csrf_token").expect("a csrf_token field");
        self.post_raw(
            client,
            "/wallet/top-up",
            &[
                ("amount", amount),
                ("idempotency_key", &key),
                ("csrf_token", &token),
            ],
        )
        .await
    }

    /// Balance and locked as the wallet page shows them (`₩12,000` → 12000).
    pub async fn wallet(&self, client: &Client) -> (i64, i64) {
        let (status, html) = self.get_html(client, "/wallet").await;
        assert_eq!(status, StatusCode::OK);
        (
            won_in(&html, "id=\"balance\"").expect("balance on the page"),
            won_in(&html, "id=\"locked\"").expect("locked on the page"),
        )
    }

    /// Run the real binary against this app's database.
    pub fn cli(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
        use std::io::Write as _;
        let url = match &self.settings.database_url {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(u) => u.clone(),
        };
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_neighborbid"));
        cmd.args(args)
            .env("DATABASE_URL", url)
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
    pub async fn admin(&self, username: &str) -> Client {
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

    /// A direct connection to this app's database (for tampering tests only).
    pub fn raw_connection(&self) -> neighborbid::db::DbConnection {
        neighborbid::db::establish(&self.settings.database_url).expect("connect")
    }
}

/// The `value` of the first `<input name="NAME" … value="…">` in a page.
pub fn field_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[at..];
    let v = rest.find("value=\"")? + 7;
    let end = rest[v..].find('"')?;
    Some(rest[v..v + end].to_owned())
}

/// The first `₩1,234` after `marker`, as a number.
pub fn won_in(html: &str, marker: &str) -> Option<i64> {
    let at = html.find(marker)?;
    let rest = &html[at..];
    let start = rest.find('₩')? + '₩'.len_utf8();
    let digits: String = rest[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(|c| *c != ',')
        .collect();
    digits.parse().ok()
}

/// Number of `<tr class="kind-…">` journal rows on a wallet page.
pub fn journal_rows(html: &str) -> usize {
    html.matches("<tr class=\"kind-").count()
}

// ---------------------------------------------------------------- auctions

/// A time `secs` from now, as the listing form takes it (site time zone, with seconds).
pub fn local_in(secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(secs))
        .with_timezone(&chrono_tz::Asia::Seoul)
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// A listing as the form sends it; `Listing::new(...).fields()` for the defaults.
#[derive(Clone)]
pub struct Listing {
    pub title: String,
    pub start_price: String,
    pub bid_unit: String,
    pub buy_now_price: String,
    pub starts_at: String,
    pub ends_at: String,
    pub category_id: String,
    pub region_id: String,
    pub national: bool,
}

impl Listing {
    /// ₩10,000 start, ₩1,000 steps, ending in an hour.
    pub fn new(title: &str) -> Listing {
        Listing {
            title: title.to_owned(),
            start_price: "10000".into(),
            bid_unit: "1000".into(),
            buy_now_price: String::new(),
            starts_at: String::new(),
            ends_at: local_in(3600),
            category_id: "1".into(),
            region_id: "3".into(),
            national: false,
        }
    }
}

impl TestApp {
    /// POST the multipart listing form; returns the response.
    pub async fn post_listing(
        &self,
        client: &Client,
        l: &Listing,
        image: Option<Vec<u8>>,
    ) -> Response {
        let token = self.csrf(client).await;
        let mut form = reqwest::multipart::Form::new()
            .text("csrf_token", token)
            .text("title", l.title.clone())
            .text("description", format!("All about {}", l.title))
            .text("category_id", l.category_id.clone())
            .text("region_id", l.region_id.clone())
            .text("start_price", l.start_price.clone())
            .text("bid_unit", l.bid_unit.clone())
            .text("buy_now_price", l.buy_now_price.clone())
            .text("starts_at", l.starts_at.clone())
            .text("ends_at", l.ends_at.clone());
        if l.national {
            form = form.text("is_national", "on");
        }
        if let Some(bytes) = image {
            form = form.part(
                "image",
                reqwest::multipart::Part::bytes(bytes).file_name("photo.bin"),
            );
        }
        client
            .post(self.url("/auctions"))
            .multipart(form)
            .send()
            .await
            .expect("POST /auctions")
    }

    /// List an auction and return its id.
    pub async fn list(&self, client: &Client, l: &Listing) -> i64 {
        let r = self.post_listing(client, l, None).await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "listing {}: {}",
            l.title,
            r.text().await.unwrap_or_default()
        );
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        location
            .trim_start_matches("/auctions/")
            .parse()
            .expect("an auction id")
    }

    /// A member with `money` in their wallet.
    pub async fn funded(&self, username: &str, money: i64) -> Client {
        let client = self.sign_up(username).await;
        let mut left = money;
        while left > 0 {
            let step = left.min(10_000_000);
            assert_eq!(
                self.top_up(&client, &step.to_string()).await.status(),
                StatusCode::SEE_OTHER
            );
            left -= step;
        }
        client
    }

    /// POST a bid with a token fetched beforehand (`token`), returning the status and body.
    pub async fn bid_with(
        &self,
        client: &Client,
        token: &str,
        id: i64,
        amount: &str,
    ) -> (StatusCode, String) {
        let r = self
            .post_raw(
                client,
                &format!("/auctions/{id}/bids"),
                &[("amount", amount), ("csrf_token", token)],
            )
            .await;
        let status = r.status();
        (status, r.text().await.unwrap_or_default())
    }

    pub async fn bid(&self, client: &Client, id: i64, amount: i64) -> (StatusCode, String) {
        let token = self.csrf(client).await;
        self.bid_with(client, &token, id, &amount.to_string()).await
    }

    pub async fn buy_now(&self, client: &Client, id: i64) -> (StatusCode, String) {
        let r = self
            .post(client, &format!("/auctions/{id}/buy-now"), &[])
            .await;
        let status = r.status();
        (status, r.text().await.unwrap_or_default())
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

/// `data-min-bid` of an auction page.
pub fn min_bid(html: &str) -> Option<i64> {
    let at = html.find("data-min-bid=\"")? + "data-min-bid=\"".len();
    html[at..at + html[at..].find('"')?].parse().ok()
}

// ---------------------------------------------------------------- live panel

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl TestApp {
    /// Open an auction's live socket with this site's `Origin` and the jar's session cookie.
    pub async fn ws(&self, id: i64, jar: Option<&Jar>) -> Ws {
        let origin = self.address.clone();
        self.ws_with(id, jar, Some(&origin))
            .await
            .expect("the socket opens")
    }

    pub async fn ws_with(
        &self,
        id: i64,
        jar: Option<&Jar>,
        origin: Option<&str>,
    ) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!(
            "{}/auctions/{id}/live",
            self.address.replace("http://", "ws://")
        );
        let mut request = url.into_client_request()?;
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().expect("origin"));
        }
        if let Some(cookies) = jar.and_then(|j| j.cookies(&self.address.parse().expect("url"))) {
            request.headers_mut().insert(
                "cookie",
                cookies.to_str().expect("cookie").parse().expect("cookie"),
            );
        }
        tokio_tungstenite::connect_async(request)
            .await
            .map(|(ws, _)| ws)
    }
}

/// The next JSON text frame, or `None` after `wait` (or when the socket ends).
pub async fn next_frame(ws: &mut Ws, wait: std::time::Duration) -> Option<serde_json::Value> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next()).await.ok()??;
        match msg.ok()? {
            Message::Text(t) => return serde_json::from_str(t.as_str()).ok(),
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

/// Wait (at most 5 s) for a frame of `kind` whose HTML contains `needle`; panics otherwise.
pub async fn expect_frame(ws: &mut Ws, kind: &str, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut seen = Vec::new();
    while let Some(frame) = next_frame(
        ws,
        deadline.saturating_duration_since(tokio::time::Instant::now()),
    )
    .await
    {
        let html = frame["html"].as_str().unwrap_or_default().to_owned();
        if frame["type"] == kind && html.contains(needle) {
            return html;
        }
        seen.push(format!("{}: {:.200}", frame["type"], html));
    }
    panic!("no {kind} frame containing {needle:?} within 5 s; saw {seen:#?}");
}

/// Send a JSON (or any) text frame.
pub async fn send_text(ws: &mut Ws, text: &str) {
    use futures_util::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::text(text))
        .await
        .expect("send");
}

/// A second server: the real binary in its own OS process, on this app's database.
pub struct ChildServer {
    pub address: String,
    child: std::process::Child,
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestApp {
    pub async fn spawn_process(&self) -> ChildServer {
        let port = free_port();
        let url = match &self.settings.database_url {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(u) => u.clone(),
        };
        let data = tempfile::Builder::new()
            .prefix("nb-proc-")
            .tempdir()
            .expect("dir")
            .keep();
        let child = Command::new(env!("CARGO_BIN_EXE_neighborbid"))
            .arg("serve")
            .env("DATABASE_URL", url)
            .env("NEIGHBORBID_DATA_DIR", &data)
            .env("NEIGHBORBID_BIND", format!("127.0.0.1:{port}"))
            .env("NEIGHBORBID_WORKERS", "2")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a second server");
        let server = ChildServer {
            address: format!("http://127.0.0.1:{port}"),
            child,
        };
        let client = self.client();
        for _ in 0..200 {
            if let Ok(r) = client
                .get(format!("{}/healthz", server.address))
                .send()
                .await
            {
                if r.status() == StatusCode::OK {
                    return server;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the second server did not start");
    }
}
