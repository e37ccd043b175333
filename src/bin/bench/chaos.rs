//! `bench chaos`: a mixed, closed-loop workload against the real server binary in its own
//! process while faults are injected; every acknowledged operation is written down and compared
//! with the database at the end, and the audit is run.
//!
//! Acknowledged: a 303 for a form (bid, buy now, market buy, trade step, refund), and a payment
//! page that says "paid" for a card top-up. A well-behaved client resends the SAME form with the
//! SAME one-time key on a connection error or a 503 (bounded), so an acknowledgement is final.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use neighborbid::config::{DatabaseUrl, SIMULATOR_API_KEY, SIMULATOR_API_SECRET};
use neighborbid::db;
use neighborbid::db::schema::{auctions, bids, ledger_entries, payment_refunds, payments, trades};
use neighborbid::domain::{Description, DisplayName, Password, Title, TitleField, Username, Won};
use neighborbid::services::accounts::{self, NewAccount, Role};
use neighborbid::services::auctions::{self as auction_service, ListingDraft};
use neighborbid::services::images::Uploads;
use neighborbid::services::market::{create_product, NewProduct};
use neighborbid::services::reference::Reference;
use neighborbid::services::{now, wallet};

use super::{fresh_database, min_bid, tempfile_dir, Client, PASSWORD};

pub struct Options {
    pub seconds: Option<u64>,
    pub max_ops: Option<u64>,
    pub clients: usize,
    pub database_url: Option<String>,
    pub pg_restart: Option<String>,
    pub fault_every: f64,
    pub server: Option<std::path::PathBuf>,
    pub report: Option<std::path::PathBuf>,
}

/// The kinds of acknowledged operation.
const KINDS: [&str; 9] = [
    "bid",
    "buy_now",
    "market_buy",
    "approve",
    "reject",
    "confirm",
    "cancel",
    "top_up",
    "refund",
];

const FAULTS: [&str; 5] = [
    "kill_9",
    "sim_timeout",
    "duplicate_webhooks",
    "pg_terminate_backend",
    "pg_restart",
];

/// The server binary in its own process, restartable on the same port and database.
struct Server {
    bin: std::path::PathBuf,
    port: u16,
    env: Vec<(String, String)>,
    child: Mutex<Option<Child>>,
}

impl Server {
    fn spawn(&self) -> anyhow::Result<()> {
        let child = Command::new(&self.bin)
            .arg("serve")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("start {}", self.bin.display()))?;
        *self.child.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
        self.wait_healthy(Duration::from_secs(90))
    }

    fn wait_healthy(&self, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(mut c) = Client::connect(self.port) {
                if c.get("/healthz").map(|(s, _)| s == 200).unwrap_or(false) {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("the server did not become healthy within {within:?}")
    }

    fn kill_9(&self) {
        if let Some(mut child) = self.child.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait; the exit status.
    fn terminate(&self) -> anyhow::Result<std::process::ExitStatus> {
        let mut child = self
            .child
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .context("no server running")?;
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                bail!("the server did not exit within 60 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_9();
    }
}

#[derive(Default)]
struct Counters {
    ops: AtomicU64,
    status_503: AtomicU64,
    other_5xx: AtomicU64,
    connection_errors: AtomicU64,
    gave_up: AtomicU64,
}

#[derive(Default)]
struct Acks {
    /// (auction, bidder, amount)
    bids: Vec<(i64, i64, i64)>,
    /// (auction, buyer)
    buy_nows: Vec<(i64, i64)>,
    /// (buyer, product) per acknowledged purchase
    market_buys: Vec<(i64, i64)>,
    /// (trade, step)
    steps: Vec<(i64, &'static str)>,
    /// (merchant_uid, user)
    top_ups: Vec<(String, i64)>,
    /// merchant_uid per acknowledged refund
    refunds: Vec<String>,
    per_kind: HashMap<&'static str, u64>,
}

struct Shared {
    stop: AtomicBool,
    counters: Counters,
    acks: Mutex<Acks>,
    /// Short auctions still open: (id, buy-now price).
    short: Mutex<Vec<(i64, i64)>>,
    short_created: Mutex<Vec<(i64, chrono::NaiveDateTime)>>,
    /// Market products on sale: (id, price).
    products: Mutex<Vec<(i64, i64)>>,
    /// The server is down on purpose (between a kill -9 and its restart).
    max_ops: u64,
    deadline: Option<Instant>,
    last_5xx: Mutex<Option<String>>,
}

impl Shared {
    fn done(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
            || self.counters.ops.load(Ordering::Relaxed) >= self.max_ops
            || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    fn ack(&self, kind: &'static str, record: impl FnOnce(&mut Acks)) {
        let mut acks = self.acks.lock().unwrap_or_else(|e| e.into_inner());
        record(&mut acks);
        *acks.per_kind.entry(kind).or_default() += 1;
    }
}

/// A tiny xorshift: the workload's choices need no cryptography.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn new_key() -> String {
    neighborbid::web::session::new_token()
}

/// A logged-in member whose requests survive the server's restarts: on a connection error or a
/// 503 the same request is sent again (bounded), on a fresh connection with the same cookie.
struct Member {
    id: i64,
    client: Client,
    shared: Arc<Shared>,
}

impl Member {
    fn reconnect(&mut self) -> bool {
        match Client::connect(self.client.port) {
            Ok(mut c) => {
                c.cookie = std::mem::take(&mut self.client.cookie);
                c.csrf = std::mem::take(&mut self.client.csrf);
                self.client = c;
                true
            }
            Err(_) => false,
        }
    }

    /// GET with retries; None when the site stayed away.
    fn get(&mut self, path: &str) -> Option<(u16, String)> {
        for _ in 0..400 {
            match self.client.get(path) {
                Ok((503, _)) => std::thread::sleep(Duration::from_millis(100)),
                Ok(r) => {
                    if r.0 >= 500 {
                        self.five_xx(r.0, "GET", path, &r.1);
                    }
                    return Some(r);
                }
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(100));
                    self.reconnect();
                }
            }
            if self.shared.stop.load(Ordering::Relaxed) {
                return None;
            }
        }
        None
    }

    fn five_xx(&self, status: u16, method: &str, path: &str, body: &str) {
        self.shared
            .counters
            .other_5xx
            .fetch_add(1, Ordering::Relaxed);
        let snippet: String = body.chars().take(300).collect();
        eprintln!("chaos: {method} {path} answered {status}: {snippet}");
        *self
            .shared
            .last_5xx
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(format!("{method} {path} {status}"));
    }

    /// POST the same form until it is answered with something other than a 503 (bounded: about
    /// 40 s of retries). Counts operations, 503s, other 5xx and connection errors.
    fn post(&mut self, path: &str, form: &str) -> Option<(u16, String)> {
        let body = format!("{form}&csrf_token={}", self.client.csrf);
        for _ in 0..400 {
            match self.client.post(path, &body) {
                Ok((503, _)) => {
                    self.shared
                        .counters
                        .status_503
                        .fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(100));
                }
                Ok(r) => {
                    self.shared.counters.ops.fetch_add(1, Ordering::Relaxed);
                    if r.0 >= 500 {
                        self.five_xx(r.0, "POST", path, &r.1);
                    }
                    return Some(r);
                }
                Err(_) => {
                    self.shared
                        .counters
                        .connection_errors
                        .fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(100));
                    self.reconnect();
                }
            }
        }
        self.shared.counters.gave_up.fetch_add(1, Ordering::Relaxed);
        None
    }

    fn bid(&mut self, auction: i64) {
        let Some((200, page)) = self.get(&format!("/auctions/{auction}")) else {
            return;
        };
        let Some(amount) = min_bid(&page) else { return };
        let form = format!("amount={amount}&idempotency_key={}", new_key());
        if let Some((303, _)) = self.post(&format!("/auctions/{auction}/bids"), &form) {
            let id = self.id;
            self.shared
                .ack("bid", |a| a.bids.push((auction, id, amount)));
        }
    }

    fn buy_now(&mut self, rng: &mut Rng) {
        let pick = {
            let short = self.shared.short.lock().unwrap_or_else(|e| e.into_inner());
            if short.is_empty() {
                None
            } else {
                Some(short[rng.below(short.len() as u64) as usize])
            }
        };
        let Some((auction, price)) = pick else { return };
        let form = format!("expected_price={price}&idempotency_key={}", new_key());
        if let Some((303, _)) = self.post(&format!("/auctions/{auction}/buy-now"), &form) {
            let id = self.id;
            self.shared
                .ack("buy_now", |a| a.buy_nows.push((auction, id)));
        }
    }

    fn short_bid(&mut self, rng: &mut Rng) {
        let pick = {
            let short = self.shared.short.lock().unwrap_or_else(|e| e.into_inner());
            if short.is_empty() {
                None
            } else {
                Some(short[rng.below(short.len() as u64) as usize].0)
            }
        };
        if let Some(auction) = pick {
            self.bid(auction);
        }
    }

    fn market_buy(&mut self, rng: &mut Rng) {
        let pick = {
            let products = self
                .shared
                .products
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if products.is_empty() {
                None
            } else {
                Some(products[rng.below(products.len() as u64) as usize])
            }
        };
        let Some((product, price)) = pick else { return };
        let form = format!(
            "quantity=1&expected_price={price}&pay_with=wallet&idempotency_key={}",
            new_key()
        );
        if let Some((303, _)) = self.post(&format!("/market/{product}/buy"), &form) {
            let id = self.id;
            self.shared
                .ack("market_buy", |a| a.market_buys.push((id, product)));
        }
    }

    /// One step on a trade found on `page` (`/me/purchases` or `/me/reservations`).
    fn trade_step(&mut self, page: &str, steps: &[&'static str], rng: &mut Rng) {
        let Some((200, html)) = self.get(page) else {
            return;
        };
        let mut found: Vec<(i64, &'static str)> = Vec::new();
        for step in steps {
            let suffix = format!("/{step}\"");
            let mut rest = html.as_str();
            while let Some(at) = rest.find("action=\"/trades/") {
                rest = &rest[at + "action=\"/trades/".len()..];
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if rest[digits.len()..].starts_with(&suffix) {
                    if let Ok(id) = digits.parse() {
                        found.push((id, step));
                    }
                }
            }
        }
        if found.is_empty() {
            return;
        }
        let (trade, step) = found[rng.below(found.len() as u64) as usize];
        if let Some((303, _)) = self.post(&format!("/trades/{trade}/{step}"), "x=1") {
            self.shared.ack(step, |a| a.steps.push((trade, step)));
        }
    }

    /// A card top-up through the built-in simulator; acknowledged when the payment page says
    /// it is paid. Returns the merchant_uid when acknowledged.
    fn top_up(&mut self) -> Option<String> {
        let form = format!("method=card&amount=2000&idempotency_key={}", new_key());
        let (status, _) = self.post("/wallet/top-up", &form)?;
        if status != 303 {
            return None;
        }
        let uid = self
            .client
            .location
            .clone()?
            .strip_prefix("/payments/")?
            .to_owned();
        let (status, page) = self.get(&format!("/payments/{uid}"))?;
        if status != 200 || !page.contains("action=\"/portone-sim/checkout\"") {
            return None;
        }
        let field = |name: &str| super::field_value(&page, name);
        let (amount, name, redirect, notice) = (
            field("amount")?,
            field("name")?,
            field("m_redirect_url")?,
            field("notice_url")?,
        );
        let form = serde_urlencoded::to_string([
            ("merchant_uid", uid.as_str()),
            ("amount", &amount),
            ("name", &name),
            ("m_redirect_url", &redirect),
            ("notice_url", &notice),
            ("decision", "approve"),
        ])
        .ok()?;
        let (status, _) = self.post("/portone-sim/checkout", &form)?;
        if status == 303 {
            if let Some(back) = self.client.location.clone() {
                // The browser follows the window's redirect back to the site.
                let _ = self.get(&back);
            }
        }
        // The payment page (the webhook or the reconciler may settle it a little later).
        for _ in 0..30 {
            let (status, page) = self.get(&format!("/payments/{uid}"))?;
            if status == 200 && page.contains("data-status=\"paid\"") {
                let id = self.id;
                self.shared
                    .ack("top_up", |a| a.top_ups.push((uid.clone(), id)));
                return Some(uid);
            }
            if status == 200
                && (page.contains("data-status=\"failed\"")
                    || page.contains("data-status=\"cancelled\""))
            {
                return None;
            }
            if self.shared.done() {
                return None;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        None
    }

    fn refund(&mut self, uid: &str) {
        let form = format!("amount=1000&reason=chaos&idempotency_key={}", new_key());
        if let Some((303, _)) = self.post(&format!("/payments/{uid}/cancel"), &form) {
            let uid = uid.to_owned();
            self.shared.ack("refund", |a| a.refunds.push(uid));
        }
    }
}

fn log_in(port: u16, name: &str) -> anyhow::Result<Client> {
    for attempt in 0.. {
        match Client::log_in(port, name) {
            Ok(c) => return Ok(c),
            Err(e) if attempt < 50 => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => return Err(e),
        }
    }
    unreachable!()
}

fn retry<T>(mut f: impl FnMut() -> anyhow::Result<T>) -> anyhow::Result<T> {
    let mut last = None;
    for _ in 0..100 {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("retry")))
}

fn won(n: i64) -> Won {
    Won::new(n).unwrap_or(Won::ZERO)
}

fn create_auction(
    pool: &db::DbPool,
    seller: i64,
    title: &str,
    ends_in: chrono::Duration,
    buy_now: Option<i64>,
) -> anyhow::Result<(i64, chrono::NaiveDateTime)> {
    let mut conn = pool.get()?;
    let reference = Reference::load(&mut conn)?;
    let ends_at = now() + ends_in;
    let id = auction_service::create_listing(
        &mut conn,
        &reference,
        seller,
        &ListingDraft {
            title: Title::parse(title, TitleField::Title).map_err(anyhow::Error::msg)?,
            description: Description::parse("Chaos", false).map_err(anyhow::Error::msg)?,
            category_id: 1,
            region_id: 3,
            start_price: won(1000),
            // Short auctions ride the site's increment table (₩1,000 steps at these prices).
            increment: neighborbid::domain::auction::Increment::Table,
            buy_now_price: buy_now.map(won),
            reserve_price: None,
            starts_at: None,
            ends_at,
            is_national: false,
        },
        None,
        now(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((id, ends_at))
}

fn create_market_product(pool: &db::DbPool, uploads: &Uploads, seller: i64) -> anyhow::Result<i64> {
    let mut conn = pool.get()?;
    let id = create_product(
        &mut conn,
        uploads,
        seller,
        &NewProduct {
            name: Title::parse("Chaos apples", TitleField::ProductName)
                .map_err(anyhow::Error::msg)?,
            description: Description::parse("A box", false).map_err(anyhow::Error::msg)?,
            price: won(1000),
            quantity: neighborbid::domain::market::Quantity::parse("1000")
                .map_err(anyhow::Error::msg)?,
            category_id: 1,
            region_id: 3,
        },
        &[],
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(id)
}

fn post_anonymous(port: u16, path: &str, form: &str) -> anyhow::Result<u16> {
    let mut c = Client::connect(port)?;
    Ok(c.post(path, form)?.0)
}

pub fn run(o: Options) -> anyhow::Result<()> {
    let bin = match &o.server {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name("neighborbid"),
    };
    if !bin.exists() {
        bail!(
            "{} is missing: run cargo build --release --bins",
            bin.display()
        );
    }
    let dir = tempfile_dir()?;
    let url = fresh_database(o.database_url.as_deref(), &dir)?;
    let url_text = match &url {
        DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
        DatabaseUrl::Postgres(u) => u.clone(),
    };
    let pg = matches!(url, DatabaseUrl::Postgres(_));
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let unlimited = "1000000".to_owned();
    let env: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), url_text.clone()),
        ("NEIGHBORBID_BIND".into(), format!("127.0.0.1:{port}")),
        ("NEIGHBORBID_DATA_DIR".into(), dir.display().to_string()),
        ("NEIGHBORBID_DEV_TOPUP".into(), "true".into()),
        (
            "NEIGHBORBID_LOGIN_ATTEMPTS_PER_IP".into(),
            unlimited.clone(),
        ),
        (
            "NEIGHBORBID_LOGIN_ATTEMPTS_PER_USERNAME".into(),
            unlimited.clone(),
        ),
        ("NEIGHBORBID_LOGIN_FREE_FAILURES".into(), unlimited.clone()),
        ("NEIGHBORBID_SIGNUPS_PER_IP".into(), unlimited),
        ("NEIGHBORBID_PORTONE_TIMEOUT_SECS".into(), "1".into()),
        ("NEIGHBORBID_SHUTDOWN_TIMEOUT_SECS".into(), "10".into()),
        // Soft close at the scale of the 3-second auctions: a late bid moves the end by 1 s, at
        // most 4 s past the end the lister set (so every short auction still closes soon).
        ("NEIGHBORBID_SOFT_CLOSE_SECS".into(), "1".into()),
        ("NEIGHBORBID_SOFT_CLOSE_CAP_SECS".into(), "4".into()),
        ("RUST_LOG".into(), "error".into()),
    ];
    let server = Server {
        bin: bin.clone(),
        port,
        env: env.clone(),
        child: Mutex::new(None),
    };
    server.spawn()?;

    // Setup through the services: a seller, funded members, one long auction, products.
    let pool = db::connect_and_migrate(&url, 4, None)?;
    let hash = accounts::hash_password(&Password::parse_any(PASSWORD).context("password")?)?;
    let mut ids = Vec::new();
    {
        let mut conn = pool.get()?;
        let mut create = |name: &str| -> anyhow::Result<i64> {
            Ok(accounts::create_account(
                &mut conn,
                &NewAccount {
                    username: Username::parse(name).map_err(anyhow::Error::msg)?,
                    display_name: DisplayName::parse(name).map_err(anyhow::Error::msg)?,
                    region_id: 3,
                    role: Role::Member,
                },
                &hash,
            )?)
        };
        ids.push(create("seller")?);
        for i in 0..o.clients {
            ids.push(create(&format!("member{i}"))?);
        }
        for id in &ids[1..] {
            wallet::deposit(
                &mut conn,
                *id,
                won(1_000_000_000),
                &format!("chaos:{id}"),
                None,
            )?;
        }
    }
    let seller = ids[0];
    let (hot, _) = create_auction(&pool, seller, "Hot item", chrono::Duration::days(1), None)?;
    let uploads = Uploads {
        dir: dir.join("uploads"),
        per_day: 1000,
        per_listing: 10,
    };
    let first_product = create_market_product(&pool, &uploads, seller)?;

    let deadline = match (o.seconds, o.max_ops) {
        (Some(s), _) => Some(Instant::now() + Duration::from_secs(s)),
        (None, Some(_)) => None,
        (None, None) => Some(Instant::now() + Duration::from_secs(30)),
    };
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        counters: Counters::default(),
        acks: Mutex::new(Acks::default()),
        short: Mutex::new(Vec::new()),
        short_created: Mutex::new(Vec::new()),
        products: Mutex::new(vec![(first_product, 1000)]),
        max_ops: o.max_ops.unwrap_or(u64::MAX),
        deadline,
        last_5xx: Mutex::new(None),
    });
    let mut members = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let name = if i == 0 {
            "seller".to_owned()
        } else {
            format!("member{}", i - 1)
        };
        members.push(Member {
            id: *id,
            client: log_in(port, &name)?,
            shared: shared.clone(),
        });
    }
    let mut members = members.into_iter();
    let mut seller_member = members.next().context("the seller")?;
    println!(
        "chaos: {} clients, database {}, faults every {} s{}, server {}",
        o.clients,
        if pg { "PostgreSQL" } else { "SQLite" },
        o.fault_every,
        match (deadline, o.max_ops) {
            (Some(_), Some(n)) =>
                format!(", up to {} s or {n} operations", o.seconds.unwrap_or(30)),
            (Some(_), None) => format!(", {} s", o.seconds.unwrap_or(30)),
            (None, Some(n)) => format!(", {n} operations"),
            (None, None) => String::new(),
        },
        bin.display()
    );

    let faults: Mutex<HashMap<&'static str, u64>> = Mutex::new(HashMap::new());
    let fault_errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let started = Instant::now();
    let server_ref = &server;
    std::thread::scope(|s| {
        // Members: a closed loop of mixed operations.
        for (i, mut m) in members.enumerate() {
            s.spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((i as u64 + 1) * 0x1234_5678_9ABC));
                let mut paid: Vec<String> = Vec::new();
                while !m.shared.done() {
                    match rng.below(100) {
                        0..=29 => m.bid(hot),
                        30..=44 => m.short_bid(&mut rng),
                        45..=52 => m.buy_now(&mut rng),
                        53..=69 => m.market_buy(&mut rng),
                        70..=84 => m.trade_step("/me/purchases", &["confirm", "cancel"], &mut rng),
                        85..=92 => {
                            if let Some(uid) = m.top_up() {
                                paid.push(uid);
                            }
                        }
                        _ => {
                            if let Some(uid) = paid.get(rng.below(paid.len() as u64) as usize) {
                                let uid = uid.clone();
                                m.refund(&uid);
                            }
                        }
                    }
                }
            });
        }
        // The seller answers requests.
        let seller_shared = shared.clone();
        s.spawn(move || {
            let mut rng = Rng(0xDEAD_BEEF_1234_5678);
            while !seller_shared.done() {
                if rng.below(4) == 0 {
                    seller_member.trade_step("/me/reservations", &["reject"], &mut rng);
                } else {
                    seller_member.trade_step("/me/reservations", &["approve"], &mut rng);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        // The lister: short auctions ending within seconds, and fresh products.
        let (lister_shared, pool, uploads) = (shared.clone(), &pool, &uploads);
        s.spawn(move || {
            let mut n = 0u64;
            while !lister_shared.done() {
                n += 1;
                let price = 50_000 + (n as i64 % 10) * 1000;
                if let Ok((id, ends_at)) = create_auction(
                    pool,
                    seller,
                    &format!("Short item {n}"),
                    chrono::Duration::seconds(3),
                    Some(price),
                ) {
                    let mut short = lister_shared
                        .short
                        .lock()
                        .unwrap_or_else(|e| e.into_inner());
                    short.push((id, price));
                    if short.len() > 4 {
                        short.remove(0);
                    }
                    drop(short);
                    lister_shared
                        .short_created
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((id, ends_at));
                }
                if n % 5 == 0 {
                    if let Ok(id) = create_market_product(pool, uploads, seller) {
                        let mut products = lister_shared
                            .products
                            .lock()
                            .unwrap_or_else(|e| e.into_inner());
                        products.push((id, 1000));
                        if products.len() > 3 {
                            products.remove(0);
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(700));
            }
        });
        // Faults, rotating.
        let (fault_shared, faults, fault_errors) = (shared.clone(), &faults, &fault_errors);
        let (pg_restart, url_text, admin_url) = (
            o.pg_restart.clone(),
            url_text.clone(),
            o.database_url.clone(),
        );
        // Only the faults this run can inject take turns, so each comes round often.
        let applicable: Vec<&'static str> = FAULTS
            .iter()
            .copied()
            .filter(|k| match *k {
                "pg_terminate_backend" => pg,
                "pg_restart" => pg && o.pg_restart.is_some(),
                _ => true,
            })
            .collect();
        s.spawn(move || {
            let every = Duration::from_secs_f64(o.fault_every.max(0.5));
            let mut turn = 0usize;
            let mut next = Instant::now() + every;
            while !fault_shared.done() {
                if Instant::now() < next {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
                next = Instant::now() + every;
                let kind = applicable[turn % applicable.len()];
                turn += 1;
                let result: anyhow::Result<bool> = match kind {
                    "kill_9" => {
                        server_ref.kill_9();
                        std::thread::sleep(Duration::from_millis(300));
                        server_ref.spawn().map(|()| true)
                    }
                    "sim_timeout" => post_anonymous(
                        port,
                        "/portone-sim/_sim/faults",
                        &format!(
                            "imp_key={SIMULATOR_API_KEY}&imp_secret={SIMULATOR_API_SECRET}&mode=delay&delay_ms=1500&count=3"
                        ),
                    )
                    .map(|s| s == 200 || s == 204),
                    "duplicate_webhooks" => post_anonymous(
                        port,
                        "/portone-sim/_sim/webhook-faults",
                        &format!(
                            "imp_key={SIMULATOR_API_KEY}&imp_secret={SIMULATOR_API_SECRET}&copies=3&before_redirect=true"
                        ),
                    )
                    .map(|s| s == 200 || s == 204),
                    "pg_terminate_backend" => match &admin_url {
                        Some(admin) => terminate_backends(admin, &url_text).map(|_| true),
                        None => Ok(false),
                    },
                    "pg_restart" => match (&pg_restart, pg) {
                        (Some(cmd), true) => {
                            let status = Command::new("sh").args(["-c", cmd]).status();
                            match status {
                                Ok(st) if st.success() => Ok(true),
                                Ok(st) => Err(anyhow::anyhow!("--pg-restart exited {st}")),
                                Err(e) => Err(e.into()),
                            }
                        }
                        _ => Ok(false),
                    },
                    _ => Ok(false),
                };
                match result {
                    Ok(true) => {
                        *faults
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .entry(kind)
                            .or_default() += 1;
                    }
                    Ok(false) => {}
                    Err(e) => {
                        eprintln!("chaos: fault {kind} failed: {e:#}");
                        fault_errors
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(format!("{kind}: {e:#}"));
                    }
                }
            }
        });
    });
    let elapsed = started.elapsed();
    shared.stop.store(true, Ordering::Relaxed);

    // Bring the server back to health (a kill -9 may have been the last fault), let the
    // scheduler close what has ended, then stop it gracefully.
    let healthy = server.wait_healthy(Duration::from_secs(60)).is_ok();
    std::thread::sleep(Duration::from_secs(6));
    let exit = server.terminate()?;

    let acks = std::mem::take(&mut *shared.acks.lock().unwrap_or_else(|e| e.into_inner()));
    let mut conn = retry(|| Ok(pool.get()?))?;
    let lost = verify(&mut conn, &acks)?;
    let short_created = std::mem::take(
        &mut *shared
            .short_created
            .lock()
            .unwrap_or_else(|e| e.into_inner()),
    );
    let unclosed = unclosed_short_auctions(&mut conn, &short_created)?;
    drop(conn);
    drop(pool);

    let audit = Command::new(&bin)
        .arg("audit")
        .env("DATABASE_URL", &url_text)
        .env("NEIGHBORBID_DATA_DIR", &dir)
        .env("RUST_LOG", "error")
        .output()?;
    let audit_clean = audit.status.success();
    let audit_text = String::from_utf8_lossy(&audit.stdout).into_owned();

    let c = &shared.counters;
    let ops = c.ops.load(Ordering::Relaxed);
    let acknowledged: u64 = acks.per_kind.values().sum();
    let faults = faults.into_inner().unwrap_or_else(|e| e.into_inner());
    let fault_errors = fault_errors.into_inner().unwrap_or_else(|e| e.into_inner());
    let secs = elapsed.as_secs_f64();
    let per_kind: serde_json::Map<String, serde_json::Value> = KINDS
        .iter()
        .map(|k| {
            (
                (*k).to_owned(),
                acks.per_kind.get(k).copied().unwrap_or(0).into(),
            )
        })
        .collect();
    let faults_json: serde_json::Map<String, serde_json::Value> = FAULTS
        .iter()
        .map(|k| ((*k).to_owned(), faults.get(k).copied().unwrap_or(0).into()))
        .collect();
    let skipped: Vec<&str> = FAULTS
        .iter()
        .copied()
        .filter(|k| match *k {
            "pg_terminate_backend" => !pg,
            "pg_restart" => !pg || o.pg_restart.is_none(),
            _ => false,
        })
        .collect();
    let report = serde_json::json!({
        "database": if pg { "postgresql" } else { "sqlite" },
        "clients": o.clients,
        "seconds": secs,
        "operations": ops,
        "ops_per_second": ops as f64 / secs,
        "acknowledged": acknowledged,
        "acknowledged_by_kind": per_kind,
        "faults": faults_json,
        "faults_skipped": skipped,
        "fault_errors": fault_errors,
        "status_503": c.status_503.load(Ordering::Relaxed),
        "other_5xx": c.other_5xx.load(Ordering::Relaxed),
        "connection_errors": c.connection_errors.load(Ordering::Relaxed),
        "gave_up": c.gave_up.load(Ordering::Relaxed),
        "lost_acknowledgements": lost.len(),
        "lost_examples": lost.iter().take(20).collect::<Vec<_>>(),
        "short_auctions": short_created.len(),
        "short_auctions_left_open": unclosed,
        "healthy_at_end": healthy,
        "sigterm_exit_code": exit.code(),
        "audit_clean": audit_clean,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    print!("{audit_text}");
    if !skipped.is_empty() {
        println!(
            "faults skipped: {} (they need PostgreSQL and --pg-restart)",
            skipped.join(", ")
        );
    }
    println!(
        "note: the payment simulator lives in the server process, so a kill -9 forgets its \
         payments; the reconciler settles those as failed or refused."
    );
    if let Some(path) = &o.report {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(admin) = &o.database_url {
        let _ = drop_database(admin, &url_text);
    }
    let other = c.other_5xx.load(Ordering::Relaxed);
    if !lost.is_empty() || !audit_clean || other > 0 || !healthy || exit.code() != Some(0) {
        bail!(
            "chaos failed: {} lost acknowledgements, audit {}, {other} 5xx other than 503, healthy at the end: {healthy}, SIGTERM exit {:?}",
            lost.len(),
            if audit_clean { "clean" } else { "FAILED" },
            exit.code()
        );
    }
    Ok(())
}

fn db_name(url: &str) -> &str {
    url.rsplit_once('/').map_or(url, |(_, n)| n)
}

fn terminate_backends(admin: &str, app_url: &str) -> anyhow::Result<()> {
    let mut conn = diesel::PgConnection::establish(admin).context("admin connection")?;
    conn.batch_execute(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{}' AND pid <> pg_backend_pid()",
        db_name(app_url)
    ))?;
    Ok(())
}

fn drop_database(admin: &str, app_url: &str) -> anyhow::Result<()> {
    let mut conn = diesel::PgConnection::establish(admin)?;
    conn.batch_execute(&format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        db_name(app_url)
    ))?;
    Ok(())
}

/// Every acknowledgement against the database; the ones that are missing, in words.
fn verify(conn: &mut db::DbConnection, acks: &Acks) -> anyhow::Result<Vec<String>> {
    let mut lost = Vec::new();
    // Bids: every acknowledged submission left exactly one row of its own (not one the site
    // placed for a leader), carrying the maximum entered — as many rows as acknowledgements.
    let mut by_auction: HashMap<i64, HashMap<(i64, i64), usize>> = HashMap::new();
    for (auction, bidder, amount) in &acks.bids {
        *by_auction
            .entry(*auction)
            .or_default()
            .entry((*bidder, *amount))
            .or_default() += 1;
    }
    for (auction, wanted) in by_auction {
        let rows: Vec<(i64, Option<i64>)> = bids::table
            .filter(bids::auction_id.eq(auction))
            .filter(bids::is_auto.eq(false))
            .filter(bids::is_buy_now.eq(false))
            .select((bids::bidder_id, bids::max_amount))
            .load(conn)?;
        let mut have: HashMap<(i64, i64), usize> = HashMap::new();
        for (bidder, max) in rows {
            if let Some(max) = max {
                *have.entry((bidder, max)).or_default() += 1;
            }
        }
        for ((bidder, amount), n) in wanted {
            let found = have.get(&(bidder, amount)).copied().unwrap_or(0);
            if found < n {
                lost.push(format!(
                    "{n} bids of {amount} by {bidder} on auction {auction}, {found} rows"
                ));
            }
        }
    }
    // Buy-nows: sold to that buyer.
    for (auction, buyer) in &acks.buy_nows {
        let row: (String, Option<i64>) = auctions::table
            .find(auction)
            .select((auctions::status, auctions::winner_id))
            .first(conn)?;
        if row.0 != "sold" || row.1 != Some(*buyer) {
            lost.push(format!(
                "buy-now of auction {auction} by {buyer}: {} won by {:?}",
                row.0, row.1
            ));
        }
    }
    // Market buys: at least as many trades per (buyer, product) as acknowledged.
    let mut wanted: HashMap<(i64, i64), i64> = HashMap::new();
    for key in &acks.market_buys {
        *wanted.entry(*key).or_default() += 1;
    }
    for ((buyer, product), n) in wanted {
        let have: i64 = trades::table
            .filter(trades::buyer_id.eq(buyer))
            .filter(trades::product_id.eq(product))
            .count()
            .get_result(conn)?;
        if have < n {
            lost.push(format!(
                "{n} purchases of product {product} by {buyer}, {have} trades"
            ));
        }
    }
    // Trade steps: the status the step implies (an approved trade may since be confirmed).
    for (trade, step) in &acks.steps {
        let status: String = trades::table
            .find(trade)
            .select(trades::status)
            .first(conn)?;
        let ok = match *step {
            "approve" => status == "approved" || status == "confirmed",
            "reject" => status == "rejected",
            "confirm" => status == "confirmed",
            "cancel" => status == "cancelled",
            _ => true,
        };
        if !ok {
            lost.push(format!("{step} of trade {trade}: it is {status}"));
        }
    }
    // Top-ups: paid (or since refunded in part) and credited once, by PortOne's imp_uid.
    for (uid, user) in &acks.top_ups {
        let row: Option<(String, Option<String>, i64)> = payments::table
            .filter(payments::merchant_uid.eq(uid))
            .select((payments::status, payments::imp_uid, payments::user_id))
            .first(conn)
            .optional()?;
        let Some((status, imp_uid, owner)) = row else {
            lost.push(format!("top-up {uid}: no payment row"));
            continue;
        };
        let credited: i64 = match &imp_uid {
            Some(imp) => ledger_entries::table
                .filter(ledger_entries::idempotency_key.eq(imp))
                .filter(ledger_entries::user_id.eq(user))
                .count()
                .get_result(conn)?,
            None => 0,
        };
        if owner != *user || credited != 1 || !(status == "paid" || status.contains("cancel")) {
            lost.push(format!(
                "top-up {uid}: status {status}, credited {credited} times"
            ));
        }
    }
    // Refunds: recorded, at least as many as acknowledged per payment.
    let mut wanted: HashMap<&str, i64> = HashMap::new();
    for uid in &acks.refunds {
        *wanted.entry(uid.as_str()).or_default() += 1;
    }
    for (uid, n) in wanted {
        let have: i64 = payment_refunds::table
            .inner_join(payments::table.on(payments::id.eq(payment_refunds::payment_id)))
            .filter(payments::merchant_uid.eq(uid))
            .count()
            .get_result(conn)?;
        if have < n {
            lost.push(format!("{n} refunds of {uid}, {have} recorded"));
        }
    }
    Ok(lost)
}

/// Short auctions that ended more than 5 s before the end of the run and are still open.
fn unclosed_short_auctions(
    conn: &mut db::DbConnection,
    created: &[(i64, chrono::NaiveDateTime)],
) -> anyhow::Result<u64> {
    let cutoff = now() - chrono::Duration::seconds(5);
    let ids: Vec<i64> = created
        .iter()
        .filter(|(_, ends)| *ends < cutoff)
        .map(|(id, _)| *id)
        .collect();
    let mut open = 0;
    for chunk in ids.chunks(500) {
        let n: i64 = auctions::table
            .filter(auctions::id.eq_any(chunk))
            .filter(auctions::status.eq_any(["active", "scheduled"]))
            .count()
            .get_result(conn)?;
        open += n as u64;
    }
    Ok(open)
}
