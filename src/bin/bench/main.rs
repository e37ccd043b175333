//! `bench`: load scenarios against a real server on a fresh database, loopback only.
//!
//! ```sh
//! cargo build --release --bins
//! target/release/bench hot-auction --clients 100 --bids 10
//! target/release/bench hot-auction --clients 100 --bids 50 --database-url postgres://postgres@127.0.0.1:5433/postgres
//! target/release/bench fan-out --watchers 1000 --rate 1000 --seconds 10
//! target/release/bench idle-sockets --count 10000
//! target/release/bench login-flood --logins 100 --rounds 3
//! target/release/bench chaos --seconds 30
//! target/release/bench chaos --max-ops 1000000 --database-url postgres://postgres@127.0.0.1:5433/postgres \
//!     --pg-restart 'runuser -u postgres -- pg_ctl -D /tmp/pgb restart -m fast -w'
//! ```
//! With `--database-url` a fresh database is created on that PostgreSQL server for the run.

mod chaos;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use diesel::connection::SimpleConnection;
use diesel::Connection;

use neighborbid::config::{DatabaseUrl, Settings};
use neighborbid::db;
use neighborbid::domain::{Description, DisplayName, Password, Title, TitleField, Username, Won};
use neighborbid::services::accounts::{self, NewAccount, Role};
use neighborbid::services::auctions::{self, ListingDraft};
use neighborbid::services::reference::Reference;
use neighborbid::services::{audit, now, wallet};
use neighborbid::startup::Application;

#[derive(Parser)]
#[command(
    name = "bench",
    about = "NeighborBid load scenarios (loopback only, bounded)"
)]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// C clients bid K times each, closed loop, on one auction.
    HotAuction {
        #[arg(long, default_value_t = 100)]
        clients: usize,
        #[arg(long, default_value_t = 10)]
        bids: usize,
        /// A PostgreSQL server URL; a fresh database is created on it. Default: SQLite in a temp dir.
        #[arg(long)]
        database_url: Option<String>,
        /// Server worker threads (default: one per core).
        #[arg(long, default_value_t = 0)]
        workers: usize,
        #[arg(long, default_value_t = 32)]
        pool_size: u32,
    },
    /// W watchers on one national auction while bidders bid at a steady rate; reports the delay
    /// from commit to every watcher and the sustained bids/s.
    FanOut {
        #[arg(long, default_value_t = 1000)]
        watchers: usize,
        /// Bids per second to offer (all bidders together).
        #[arg(long, default_value_t = 1000)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 48)]
        bidders: usize,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Open N idle live-panel sockets to a server in its own process and report its memory.
    IdleSockets {
        #[arg(long, default_value_t = 10_000)]
        count: usize,
    },
    /// Fire N logins at once (each an argon2 verification) at a server in its own process,
    /// R rounds, and report its memory before, at the peak and after each round.
    LoginFlood {
        #[arg(long, default_value_t = 100)]
        logins: usize,
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// The server binary (default: `neighborbid` next to this bench binary).
        #[arg(long)]
        server: Option<std::path::PathBuf>,
    },
    /// A mixed workload (bids, buy-nows, short auctions closing, market trades, card top-ups,
    /// refunds) against the server binary in its own process while faults are injected
    /// (kill -9 and restart, PostgreSQL connections terminated, a PostgreSQL restart, payment
    /// timeouts, duplicate webhooks). Every acknowledged operation is checked against the
    /// database at the end and the audit is run; exits non-zero on any loss, a failed audit or
    /// a 5xx other than 503.
    Chaos {
        /// Stop after this many seconds (default 30, or no time limit with --max-ops).
        #[arg(long)]
        seconds: Option<u64>,
        /// Stop after this many operations (POSTs answered).
        #[arg(long)]
        max_ops: Option<u64>,
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// A PostgreSQL server URL; a fresh database is created on it. Default: SQLite.
        #[arg(long)]
        database_url: Option<String>,
        /// A shell command that restarts that PostgreSQL (without it, that fault is skipped).
        #[arg(long)]
        pg_restart: Option<String>,
        /// Seconds between two faults.
        #[arg(long, default_value_t = 4.0)]
        fault_every: f64,
        /// The server binary (default: `neighborbid` next to this bench binary).
        #[arg(long)]
        server: Option<std::path::PathBuf>,
        /// Write the report as JSON to this file.
        #[arg(long)]
        report: Option<std::path::PathBuf>,
    },
}

const PASSWORD: &str = "bench-password-2026";

fn main() -> anyhow::Result<()> {
    neighborbid::telemetry::init("warn");
    match Cli::parse().scenario {
        Scenario::HotAuction {
            clients,
            bids,
            database_url,
            workers,
            pool_size,
        } => hot_auction(clients, bids, database_url, workers, pool_size),
        Scenario::FanOut {
            watchers,
            rate,
            seconds,
            bidders,
            database_url,
        } => fan_out(watchers, rate, seconds, bidders, database_url),
        Scenario::IdleSockets { count } => idle_sockets(count),
        Scenario::LoginFlood {
            logins,
            rounds,
            server,
        } => login_flood(logins, rounds, server),
        Scenario::Chaos {
            seconds,
            max_ops,
            clients,
            database_url,
            pg_restart,
            fault_every,
            server,
            report,
        } => chaos::run(chaos::Options {
            seconds,
            max_ops,
            clients,
            database_url,
            pg_restart,
            fault_every,
            server,
            report,
        }),
    }
}

/// A fresh database: a temp SQLite file, or a new database on the given PostgreSQL server.
fn fresh_database(url: Option<&str>, dir: &std::path::Path) -> anyhow::Result<DatabaseUrl> {
    let Some(url) = url else {
        return Ok(DatabaseUrl::Sqlite(dir.join("bench.db")));
    };
    let name = format!("nb_bench_{}", std::process::id());
    let mut admin = diesel::PgConnection::establish(url).context("connect to PostgreSQL")?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))?;
    admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
    let base = url.rsplit_once('/').map_or(url, |(b, _)| b);
    Ok(DatabaseUrl::Postgres(format!("{base}/{name}")))
}

/// Start the server on its own thread; returns its port.
fn start_server(settings: Settings) -> anyhow::Result<u16> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match Application::build(settings).await {
                Ok(app) => {
                    let _ = tx.send(Ok(app.port()));
                    let _ = app.run_until_stopped().await;
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
    });
    rx.recv_timeout(Duration::from_secs(120))
        .context("the server did not start")?
}

/// A fresh server with `clients` funded bidders logged in over HTTP and one auction.
struct Setup {
    port: u16,
    auction: i64,
    sessions: Vec<Client>,
    pool: db::DbPool,
    url: DatabaseUrl,
    dir: std::path::PathBuf,
}

fn setup(
    clients: usize,
    database_url: Option<String>,
    workers: usize,
    pool_size: u32,
    national: bool,
) -> anyhow::Result<Setup> {
    let dir = tempfile_dir()?;
    let url = fresh_database(database_url.as_deref(), &dir)?;
    let mut settings = Settings::with_data_dir(&dir);
    settings.database_url = url.clone();
    settings.bind = "127.0.0.1:0".to_owned();
    settings.workers = workers;
    settings.db_pool_size = pool_size;
    settings.login_attempts_per_ip = 1_000_000;
    // Every simulated watcher connects from 127.0.0.1: the per-address socket cap (100 by
    // default, a defence against one client holding many) would refuse the fan-out's watchers.
    settings.ws_max_per_ip = 1_000_000;
    let port = start_server(settings)?;

    // Users and the auction through the services (setup is not what we measure).
    let pool = db::connect_and_migrate(&url, 4, None)?;
    let mut conn = pool.get()?;
    let password = Password::parse_any(PASSWORD).context("password")?;
    let hash = accounts::hash_password(&password)?;
    let create = |conn: &mut db::DbConnection, name: &str| -> anyhow::Result<i64> {
        let id = accounts::create_account(
            conn,
            &NewAccount {
                username: Username::parse(name).map_err(anyhow::Error::msg)?,
                display_name: DisplayName::parse(name).map_err(anyhow::Error::msg)?,
                region_id: 3,
                role: Role::Member,
            },
            &hash,
        )?;
        Ok(id)
    };
    let seller = create(&mut conn, "seller")?;
    let mut names = Vec::new();
    for i in 0..clients {
        let name = format!("bidder{i}");
        let id = create(&mut conn, &name)?;
        wallet::deposit(
            &mut conn,
            id,
            Won::new(1_000_000_000).unwrap_or(Won::ZERO),
            &format!("bench:{id}"),
            None,
        )?;
        names.push(name);
    }
    let reference = Reference::load(&mut conn)?;
    let auction = auctions::create_listing(
        &mut conn,
        &reference,
        seller,
        &ListingDraft {
            title: Title::parse("Hot item", TitleField::Title).map_err(anyhow::Error::msg)?,
            description: Description::parse("Benchmark", false).map_err(anyhow::Error::msg)?,
            category_id: 1,
            region_id: 3,
            start_price: Won::new(1000).unwrap_or(Won::ZERO),
            increment: neighborbid::domain::auction::Increment::Fixed(
                Won::new(1000).unwrap_or(Won::ZERO),
            ),
            reserve_price: None,
            buy_now_price: None,
            starts_at: None,
            ends_at: now() + chrono::Duration::days(1),
            is_national: national,
        },
        None,
        now(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    drop(conn);

    // Log every client in over HTTP (argon2 verify each), in parallel.
    let sessions: Vec<anyhow::Result<Client>> = std::thread::scope(|s| {
        let handles: Vec<_> = names
            .iter()
            .map(|name| s.spawn(move || Client::log_in(port, name)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("panic"))))
            .collect()
    });
    let sessions = sessions.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Setup {
        port,
        auction,
        sessions,
        pool,
        url,
        dir,
    })
}

fn hot_auction(
    clients: usize,
    bids: usize,
    database_url: Option<String>,
    workers: usize,
    pool_size: u32,
) -> anyhow::Result<()> {
    let Setup {
        auction,
        sessions,
        pool,
        url,
        dir,
        ..
    } = setup(clients, database_url, workers, pool_size, false)?;
    println!(
        "hot-auction: {clients} clients x {bids} bids, database {}, server workers {}",
        match &url {
            DatabaseUrl::Sqlite(_) => "SQLite".to_owned(),
            DatabaseUrl::Postgres(_) => "PostgreSQL".to_owned(),
        },
        if workers == 0 {
            "one per core".to_owned()
        } else {
            workers.to_string()
        }
    );
    let started = Instant::now();
    let results: Vec<anyhow::Result<Vec<(Duration, u16)>>> = std::thread::scope(|s| {
        let handles: Vec<_> = sessions
            .into_iter()
            .map(|mut c| {
                s.spawn(move || {
                    let mut out = Vec::with_capacity(bids);
                    let mut next: i64 = 1000;
                    for _ in 0..bids {
                        let t = Instant::now();
                        let (status, body) = c.post(
                            &format!("/auctions/{auction}/bids"),
                            &format!("amount={next}&csrf_token={}", c.csrf),
                        )?;
                        out.push((t.elapsed(), status));
                        next = match status {
                            303 => next + 1000,
                            422 => min_bid(&body).unwrap_or(next + 1000),
                            other => bail!("unexpected status {other}"),
                        };
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("panic"))))
            .collect()
    });
    let elapsed = started.elapsed();
    let mut all = Vec::new();
    for r in results {
        all.extend(r?);
    }
    let attempts = all.len();
    let accepted = all.iter().filter(|(_, s)| *s == 303).count();
    let mut lat: Vec<Duration> = all.iter().map(|(d, _)| *d).collect();
    lat.sort_unstable();
    let pct = |p: f64| lat[((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1];
    let secs = elapsed.as_secs_f64();
    println!(
        "attempts: {attempts} in {secs:.2} s = {:.0} attempts/s",
        attempts as f64 / secs
    );
    println!(
        "accepted: {accepted} = {:.0} accepted/s",
        accepted as f64 / secs
    );
    println!(
        "latency: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(pct(0.50)),
        ms(pct(0.90)),
        ms(pct(0.99)),
        ms(*lat.last().unwrap_or(&Duration::ZERO))
    );
    finish(&pool, &dir)
}

/// Print the audit; remove the temp dir; fail when the audit does.
fn finish(pool: &db::DbPool, dir: &std::path::Path) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    let report = audit::run(&mut conn)?;
    print!("{}", report.summary());
    let _ = std::fs::remove_dir_all(dir);
    if report.is_clean() {
        Ok(())
    } else {
        bail!("the audit failed")
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Open a live socket (with this site's Origin); returns it after its first frame.
fn watch(port: u16, auction: i64) -> anyhow::Result<tungstenite::WebSocket<TcpStream>> {
    use tungstenite::client::IntoClientRequest;
    let stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_nodelay(true)?;
    let mut request =
        format!("ws://127.0.0.1:{port}/auctions/{auction}/live").into_client_request()?;
    request
        .headers_mut()
        .insert("origin", format!("http://127.0.0.1:{port}").parse()?);
    let (mut ws, _) =
        tungstenite::client(request, stream).map_err(|e| anyhow::anyhow!("handshake: {e}"))?;
    loop {
        if let tungstenite::Message::Text(_) = ws.read()? {
            return Ok(ws);
        }
    }
}

fn fan_out(
    watchers: usize,
    rate: u64,
    seconds: u64,
    bidders: usize,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
    use std::sync::Arc;

    let Setup {
        port,
        auction,
        sessions,
        pool,
        url,
        dir,
    } = setup(bidders, database_url, 0, 32, true)?;
    let done = Arc::new(AtomicBool::new(false));
    let mut sockets = Vec::with_capacity(watchers);
    for _ in 0..watchers {
        sockets.push(watch(port, auction)?);
    }
    let handles: Vec<_> = sockets
        .into_iter()
        .map(|mut ws| {
            let done = done.clone();
            std::thread::spawn(move || {
                let mut delays = Vec::new();
                let _ = ws
                    .get_mut()
                    .set_read_timeout(Some(Duration::from_millis(300)));
                loop {
                    match ws.read() {
                        Ok(tungstenite::Message::Text(t)) => {
                            let got = chrono::Utc::now().timestamp_micros();
                            // `at` is the frame's last field: read just that.
                            let text = t.as_str();
                            if let Some(at) = text.rfind("\"at\":").and_then(|i| {
                                text[i + 5..].trim_end_matches('}').parse::<i64>().ok()
                            }) {
                                delays.push(u64::try_from(got - at).unwrap_or(0));
                            }
                        }
                        Ok(_) => {}
                        Err(tungstenite::Error::Io(e))
                            if e.kind() == std::io::ErrorKind::WouldBlock
                                || e.kind() == std::io::ErrorKind::TimedOut =>
                        {
                            if done.load(Ordering::Relaxed) {
                                break;
                            }
                        }
                        Err(_) => break,
                    }
                }
                delays
            })
        })
        .collect();
    println!(
        "fan-out: {watchers} watchers, {bidders} bidders offering {rate} bids/s for {seconds} s, database {}",
        match &url { DatabaseUrl::Sqlite(_) => "SQLite", DatabaseUrl::Postgres(_) => "PostgreSQL" }
    );
    let next = Arc::new(AtomicI64::new(1000));
    let accepted = Arc::new(AtomicUsize::new(0));
    let attempts = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let interval = Duration::from_secs_f64(bidders as f64 / rate as f64);
    std::thread::scope(|s| {
        for (i, mut c) in sessions.into_iter().enumerate() {
            let (next, accepted, attempts) = (next.clone(), accepted.clone(), attempts.clone());
            s.spawn(move || {
                let mut due = started + interval.mul_f64(i as f64 / bidders as f64);
                while Instant::now() < deadline {
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    due += interval;
                    let amount = next.fetch_add(1000, Ordering::SeqCst);
                    attempts.fetch_add(1, Ordering::Relaxed);
                    match c.post(
                        &format!("/auctions/{auction}/bids"),
                        &format!("amount={amount}&csrf_token={}", c.csrf),
                    ) {
                        Ok((303, _)) => {
                            accepted.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        Err(e) => eprintln!("bid failed: {e}"),
                    }
                }
            });
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(1));
    done.store(true, Ordering::Relaxed);
    let mut delays: Vec<u64> = Vec::new();
    let mut per_watcher = Vec::new();
    for h in handles {
        let d = h.join().unwrap_or_default();
        per_watcher.push(d.len());
        delays.extend(d);
    }
    delays.sort_unstable();
    let (attempts, accepted) = (
        attempts.load(Ordering::Relaxed),
        accepted.load(Ordering::Relaxed),
    );
    println!(
        "bids: {attempts} offered = {:.0}/s, {accepted} accepted = {:.0}/s",
        attempts as f64 / elapsed,
        accepted as f64 / elapsed
    );
    println!(
        "frames delivered: {} ({:.0}/s), per watcher min {} max {}",
        delays.len(),
        delays.len() as f64 / elapsed,
        per_watcher.iter().min().unwrap_or(&0),
        per_watcher.iter().max().unwrap_or(&0)
    );
    println!(
        "commit → watcher delay: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&delays, 0.50) as f64 / 1000.0,
        percentile(&delays, 0.90) as f64 / 1000.0,
        percentile(&delays, 0.99) as f64 / 1000.0,
        delays.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    finish(&pool, &dir)
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("VmRSS")
}

/// The real server binary in its own process on a fresh SQLite database; stopped (and its
/// directory removed) when dropped.
struct ChildServer {
    child: std::process::Child,
    port: u16,
    dir: std::path::PathBuf,
    pool: db::DbPool,
}

impl ChildServer {
    fn start(server_bin: Option<std::path::PathBuf>, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        let server_bin = match server_bin {
            Some(path) => path,
            None => std::env::current_exe()?.with_file_name("neighborbid"),
        };
        if !server_bin.exists() {
            bail!(
                "{} is missing: run cargo build --release --bins",
                server_bin.display()
            );
        }
        let dir = tempfile_dir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let db = dir.join("child.db");
        let child = std::process::Command::new(&server_bin)
            .arg("serve")
            .env("DATABASE_URL", format!("sqlite://{}", db.display()))
            .env("NEIGHBORBID_DATA_DIR", &dir)
            .env("NEIGHBORBID_BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .spawn()?;
        let mut up = false;
        for _ in 0..200 {
            if let Ok(mut c) = Client::connect(port) {
                if c.get("/healthz").map(|(s, _)| s == 200).unwrap_or(false) {
                    up = true;
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Own the child (and the directory) from here on, so an early return stops it.
        let stop = |mut child: std::process::Child| {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&dir);
        };
        if !up {
            stop(child);
            bail!("the server did not start");
        }
        match db::connect_and_migrate(&DatabaseUrl::Sqlite(db.clone()), 2, None) {
            Ok(pool) => Ok(ChildServer {
                child,
                port,
                dir,
                pool,
            }),
            Err(e) => {
                stop(child);
                Err(e)
            }
        }
    }

    fn rss_kib(&self) -> anyhow::Result<u64> {
        rss_kib(self.child.id())
    }

    /// Members with `PASSWORD`, created in the server's database directly; their ids.
    fn members(&self, names: &[String]) -> anyhow::Result<Vec<i64>> {
        let mut conn = self.pool.get()?;
        let hash = accounts::hash_password(&Password::parse_any(PASSWORD).context("pw")?)?;
        names
            .iter()
            .map(|name| {
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
            })
            .collect()
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn idle_sockets(count: usize) -> anyhow::Result<()> {
    let server = ChildServer::start(
        None,
        &[
            ("NEIGHBORBID_WS_IDLE_SECS", "3600"),
            ("NEIGHBORBID_WS_PING_SECS", "60"),
        ],
    )?;
    let port = server.port;
    let seller = server
        .members(&["seller".to_owned()])?
        .into_iter()
        .next()
        .context("the seller")?;
    let mut conn = server.pool.get()?;
    let reference = Reference::load(&mut conn)?;
    let won = |n| Won::new(n).unwrap_or(Won::ZERO);
    let auction = auctions::create_listing(
        &mut conn,
        &reference,
        seller,
        &ListingDraft {
            title: Title::parse("Idle", TitleField::Title).map_err(anyhow::Error::msg)?,
            description: Description::parse("Idle sockets", false).map_err(anyhow::Error::msg)?,
            category_id: 1,
            region_id: 3,
            start_price: won(1000),
            increment: neighborbid::domain::auction::Increment::Fixed(won(1000)),
            reserve_price: None,
            buy_now_price: None,
            starts_at: None,
            ends_at: now() + chrono::Duration::days(1),
            is_national: true,
        },
        None,
        now(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    drop(conn);
    // Warm the server (pool, one socket) before the baseline.
    drop(watch(port, auction)?);
    std::thread::sleep(Duration::from_millis(500));
    let before = server.rss_kib()?;
    let started = Instant::now();
    let mut sockets = Vec::with_capacity(count);
    for _ in 0..count {
        sockets.push(watch(port, auction)?);
    }
    let opened = started.elapsed();
    std::thread::sleep(Duration::from_secs(2));
    let after = server.rss_kib()?;
    println!(
        "idle-sockets: {count} live-panel sockets opened in {:.1} s",
        opened.as_secs_f64()
    );
    println!(
        "server RSS: {:.1} MiB before, {:.1} MiB with {count} idle sockets ({:.1} KiB per socket)",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        after.saturating_sub(before) as f64 / count as f64
    );
    drop(sockets);
    Ok(())
}

/// `logins` members' browsers hold the login form; all post it at once (each an argon2
/// verification on the server), `rounds` times. Reports the server's RSS before, its peak while
/// the logins run (sampled every 5 ms) and 3 s after each round. Every member logs in from
/// 127.0.0.1, so the per-address login limits are raised for the run.
fn login_flood(
    logins: usize,
    rounds: usize,
    server: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Arc, Barrier};

    let unlimited = "1000000";
    let server = ChildServer::start(
        server,
        &[
            ("NEIGHBORBID_LOGIN_ATTEMPTS_PER_IP", unlimited),
            ("NEIGHBORBID_LOGIN_ATTEMPTS_PER_USERNAME", unlimited),
            ("NEIGHBORBID_LOGIN_FREE_FAILURES", unlimited),
            ("NEIGHBORBID_SIGNUPS_PER_IP", unlimited),
        ],
    )?;
    let port = server.port;
    let names: Vec<String> = (0..logins).map(|i| format!("flooder{i}")).collect();
    server.members(&names)?;
    // Warm the server (pool, templates, one verification) before the baseline.
    Client::log_in(port, &names[0])?;
    std::thread::sleep(Duration::from_secs(1));
    let before = server.rss_kib()?;
    println!(
        "login-flood: {logins} parallel logins x {rounds} rounds, server RSS before {:.1} MiB",
        before as f64 / 1024.0
    );
    for round in 1..=rounds {
        let done = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let sampler = {
            let (done, peak, pid) = (done.clone(), peak.clone(), server.child.id());
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    if let Ok(kib) = rss_kib(pid) {
                        peak.fetch_max(kib, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        let barrier = Barrier::new(logins);
        let started = Instant::now();
        let results: Vec<anyhow::Result<Duration>> = std::thread::scope(|s| {
            let handles: Vec<_> = names
                .iter()
                .map(|name| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        let ready = (|| -> anyhow::Result<Client> {
                            let mut c = Client::connect(port)?;
                            let (_, page) = c.get("/login")?;
                            c.csrf = meta_token(&page).context("csrf token")?;
                            Ok(c)
                        })();
                        barrier.wait();
                        let mut c = ready?;
                        let t = Instant::now();
                        let body =
                            format!("username={name}&password={PASSWORD}&csrf_token={}", c.csrf);
                        let (status, _) = c.post("/login", &body)?;
                        if status != 303 {
                            bail!("login answered {status}");
                        }
                        Ok(t.elapsed())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("panic"))))
                .collect()
        });
        let elapsed = started.elapsed();
        done.store(true, Ordering::Relaxed);
        let _ = sampler.join();
        let mut lat = Vec::with_capacity(logins);
        let mut failed = 0;
        for r in results {
            match r {
                Ok(d) => lat.push(d),
                Err(e) => {
                    failed += 1;
                    if failed == 1 {
                        eprintln!("a login failed: {e:#}");
                    }
                }
            }
        }
        lat.sort_unstable();
        let pct = |p: f64| {
            lat.get(((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len().max(1)) - 1)
                .copied()
                .unwrap_or(Duration::ZERO)
        };
        std::thread::sleep(Duration::from_secs(3));
        let after = server.rss_kib()?;
        println!(
            "round {round}: {} logged in, {failed} failed, in {:.2} s (p50 {:.0} ms, max {:.0} ms); \
             server RSS peak {:.1} MiB, 3 s after {:.1} MiB",
            lat.len(),
            elapsed.as_secs_f64(),
            ms(pct(0.5)),
            ms(pct(1.0)),
            peak.load(Ordering::Relaxed).max(after) as f64 / 1024.0,
            after as f64 / 1024.0
        );
        if failed > 0 {
            bail!("{failed} logins failed");
        }
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("nb-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn min_bid(html: &str) -> Option<i64> {
    let at = html.find("data-min-bid=\"")? + "data-min-bid=\"".len();
    html[at..at + html[at..].find('"')?].parse().ok()
}

/// A tiny keep-alive HTTP/1.1 client with one cookie (the session), enough for the bench.
struct Client {
    port: u16,
    stream: BufReader<TcpStream>,
    cookie: String,
    csrf: String,
    /// The last response's `Location` header.
    location: Option<String>,
}

impl Client {
    fn connect(port: u16) -> anyhow::Result<Client> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        Ok(Client {
            port,
            stream: BufReader::new(stream),
            cookie: String::new(),
            csrf: String::new(),
            location: None,
        })
    }

    fn log_in(port: u16, username: &str) -> anyhow::Result<Client> {
        let mut c = Client::connect(port)?;
        let (_, page) = c.get("/login")?;
        c.csrf = meta_token(&page).context("csrf token")?;
        let (status, _) = c.post(
            "/login",
            &format!(
                "username={username}&password={PASSWORD}&csrf_token={}",
                c.csrf
            ),
        )?;
        if status != 303 {
            bail!("login of {username} answered {status}");
        }
        let (_, page) = c.get("/")?;
        c.csrf = meta_token(&page).context("csrf token after login")?;
        Ok(c)
    }

    fn get(&mut self, path: &str) -> anyhow::Result<(u16, String)> {
        self.request(&format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nCookie: {}\r\n\r\n",
            self.port, self.cookie
        ))
    }

    fn post(&mut self, path: &str, body: &str) -> anyhow::Result<(u16, String)> {
        self.request(&format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nCookie: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            self.port,
            self.cookie,
            body.len()
        ))
    }

    fn request(&mut self, raw: &str) -> anyhow::Result<(u16, String)> {
        self.stream.get_mut().write_all(raw.as_bytes())?;
        let mut line = String::new();
        self.stream.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .context("status line")?
            .parse()?;
        let mut length = 0;
        self.location = None;
        loop {
            line.clear();
            self.stream.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (name, value) = l.split_once(':').unwrap_or((l, ""));
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse()?,
                "location" => self.location = Some(value.to_owned()),
                "set-cookie" => {
                    if let Some(pair) = value.split(';').next() {
                        self.cookie = pair.to_owned();
                    }
                }
                _ => {}
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body)?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

fn meta_token(html: &str) -> Option<String> {
    let marker = "name=\"csrf-token\" content=\"";
    let at = html.find(marker)? + marker.len();
    Some(html[at..at + html[at..].find('"')?].to_owned())
}

/// The value of the form field `name` (`name="…" value="…"`), HTML entities for `&` undone.
fn field_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html.find(&marker)? + marker.len();
    let raw = &html[at..at + html[at..].find('"')?];
    Some(
        raw.replace("&#x2F;", "/")
            .replace("&#47;", "/")
            .replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}
