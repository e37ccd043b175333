//! What production does to a server: `SIGTERM` (drain and exit 0, sockets told "going away"),
//! `kill -9` (a restart finds every acknowledged bid and top-up), and a backup taken while bids
//! flow (restored, it audits clean and holds every bid acknowledged before it began).
//!
//! The server under test is the real binary in its own process (`spawn_process_with`); the
//! in-process app only prepares the members and auctions and runs the audit.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{
    both_databases, close_code, expect_frame, field_value, spawn_app, won_in, Browser, Db, Listing,
    TestApp, PASSWORD,
};

both_databases!(
    sigterm_under_load_closes_live_sockets_with_going_away_exits_zero_and_keeps_every_acknowledged_bid,
    ctrl_c_drains_like_sigterm_instead_of_dropping_the_live_sockets,
    a_bid_whose_request_is_in_flight_when_sigterm_arrives_is_answered_and_kept,
    a_server_killed_under_load_restarts_with_every_acknowledged_bid_and_top_up,
    a_backup_taken_while_bids_flow_restores_to_a_clean_audit_with_every_earlier_bid,
);

/// The shutdown timeout the server under test is given: generous, since the contract is only
/// that it exits within it.
const SHUTDOWN_TIMEOUT_SECS: u64 = 20;

/// How long the load runs before the fault.
const LOAD: Duration = Duration::from_millis(1500);

/// Bids each client saw acknowledged (303), shared with the test while they run.
type Acked = Arc<Mutex<Vec<i64>>>;

/// Clients bidding until told to stop, each on its own auction, one unit higher every time
/// (also after a refusal or a lost answer: an unacknowledged bid may have committed).
struct Bidders {
    stop: Arc<AtomicBool>,
    /// (auction, acknowledged amounts) per client.
    acked: Vec<(i64, Acked)>,
    /// Answers of 500 or more.
    server_errors: Arc<Mutex<Vec<u16>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Bidders {
    /// `clients[i]` (logged in) bids on `auctions[i]`.
    async fn start(clients: Vec<Browser>, auctions: &[i64]) -> Bidders {
        let stop = Arc::new(AtomicBool::new(false));
        let server_errors = Arc::new(Mutex::new(Vec::new()));
        let mut acked = Vec::new();
        let mut tasks = Vec::new();
        for (b, &id) in clients.into_iter().zip(auctions) {
            let token = b.csrf().await;
            let mine: Acked = Arc::default();
            acked.push((id, mine.clone()));
            let (stop, errors) = (stop.clone(), server_errors.clone());
            tasks.push(tokio::spawn(async move {
                let mut amount = 11_000_i64;
                while !stop.load(Ordering::Relaxed) {
                    let sent = b
                        .client
                        .post(b.url(&format!("/auctions/{id}/bids")))
                        .form(&[
                            ("amount", amount.to_string()),
                            ("csrf_token", token.clone()),
                        ])
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == StatusCode::SEE_OTHER => {
                            mine.lock().unwrap().push(amount)
                        }
                        Ok(r) if r.status().is_server_error() => {
                            errors.lock().unwrap().push(r.status().as_u16())
                        }
                        Ok(_) => {}
                        // The server is going or gone: the answer is unknown.
                        Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                    amount += 1_000;
                }
            }));
        }
        Bidders {
            stop,
            acked,
            server_errors,
            tasks,
        }
    }

    /// Acknowledged so far, per auction.
    fn snapshot(&self) -> Vec<(i64, Vec<i64>)> {
        self.acked
            .iter()
            .map(|(id, a)| (*id, a.lock().unwrap().clone()))
            .collect()
    }

    /// Stop and return every acknowledged bid, per auction.
    async fn finish(self) -> Vec<(i64, Vec<i64>)> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            t.await.unwrap();
        }
        let errors = self.server_errors.lock().unwrap().clone();
        assert!(errors.is_empty(), "answers of 5xx under load: {errors:?}");
        self.acked
            .iter()
            .map(|(id, a)| (*id, a.lock().unwrap().clone()))
            .collect()
    }
}

/// Every acknowledged bid is in the database behind `app`; returns how many there were.
fn assert_every_acknowledged_bid_present(app: &TestApp, acked: &[(i64, Vec<i64>)]) -> usize {
    let mut total = 0;
    for (id, amounts) in acked {
        // Each accepted bid left one row of its own, with the maximum that was entered.
        let stored: Vec<i64> = app.submissions(*id).into_iter().map(|(_, m)| m).collect();
        let missing: Vec<_> = amounts.iter().filter(|a| !stored.contains(a)).collect();
        assert!(
            missing.is_empty(),
            "auction {id}: acknowledged bids lost: {missing:?} (stored {} bids)",
            stored.len()
        );
        total += amounts.len();
    }
    total
}

/// A seller, `n` funded bidders and one auction each (the first national, for a live panel).
async fn bidders_and_auctions(app: &TestApp, prefix: &str, n: usize) -> (Vec<String>, Vec<i64>) {
    let seller = app.sign_up(&format!("{prefix}_seller")).await;
    let mut names = Vec::new();
    let mut auctions = Vec::new();
    for i in 0..n {
        let name = format!("{prefix}_bidder{i}");
        app.funded(&name, 100_000_000).await;
        names.push(name);
        let mut listing = Listing::new(&format!("{prefix} lot {i}"));
        listing.national = i == 0;
        auctions.push(app.list(&seller, &listing).await);
    }
    (names, auctions)
}

/// Log each member in on the server at `base`.
async fn logged_in(base: &str, names: &[String]) -> Vec<Browser> {
    let mut clients = Vec::new();
    for name in names {
        let b = Browser::new(base);
        assert_eq!(
            b.log_in(name, PASSWORD).await.status(),
            StatusCode::SEE_OTHER
        );
        clients.push(b);
    }
    clients
}

/// The auction page on a restarted server shows the price the database holds, and the
/// leader's maximum there is at least the highest acknowledged one.
async fn assert_pages_show_the_stored_prices(
    app: &TestApp,
    server: &Browser,
    acked: &[(i64, Vec<i64>)],
) {
    for (id, amounts) in acked {
        let (status, html) = server.get_html(&format!("/auctions/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        let shown = won_in(&html, "id=\"current-price\"").expect("a current price");
        assert_eq!(shown, app.auction_row(*id).1, "auction {id}");
        let highest = amounts.iter().max().copied().unwrap_or(10_000);
        let max = app.leader_max(*id).unwrap_or(0);
        assert!(
            max >= highest,
            "auction {id} leads with a maximum of ₩{max}, below the acknowledged ₩{highest}"
        );
    }
}

async fn sigterm_under_load_closes_live_sockets_with_going_away_exits_zero_and_keeps_every_acknowledged_bid(
    db: Db,
) {
    let app = spawn_app(db).await;
    let (names, auctions) = bidders_and_auctions(&app, "term", 3).await;
    let timeout = SHUTDOWN_TIMEOUT_SECS.to_string();
    let mut server = app
        .spawn_process_with(&[
            ("NEIGHBORBID_SHUTDOWN_TIMEOUT_SECS", &timeout),
            ("RUST_LOG", "info"),
        ])
        .await;
    let mut panel = server.browser().ws(auctions[0]).await;
    expect_frame(&mut panel, "state", "₩10,000").await;
    let bidders = Bidders::start(logged_in(&server.address, &names).await, &auctions).await;
    tokio::time::sleep(LOAD).await;
    let before = bidders.snapshot();
    assert!(
        before.iter().all(|(_, a)| !a.is_empty()),
        "every client had bids acknowledged before the signal: {before:?}"
    );

    server.signal("TERM");
    let sent = tokio::time::Instant::now();
    let code = close_code(&mut panel, Duration::from_secs(SHUTDOWN_TIMEOUT_SECS)).await;
    let closed_after = sent.elapsed();
    let status = server
        .wait_exit(Duration::from_secs(SHUTDOWN_TIMEOUT_SECS))
        .await;
    let exited_after = sent.elapsed();
    let acked = bidders.finish().await;
    let log = server.log();
    assert_eq!(
        code,
        Some(1001),
        "the live socket is closed with 'going away'; log:\n{log}"
    );
    let status = status.unwrap_or_else(|| {
        panic!("the server still runs {SHUTDOWN_TIMEOUT_SECS} s after SIGTERM; log:\n{log}")
    });
    assert!(status.success(), "exit status {status}; log:\n{log}");
    assert!(log.contains("SIGTERM received"), "{log}");
    println!(
        "{db:?}: socket closed {closed_after:?} and process exited {exited_after:?} after SIGTERM"
    );

    let total = assert_every_acknowledged_bid_present(&app, &acked);
    let restarted = app.spawn_process().await;
    assert_pages_show_the_stored_prices(&app, &restarted.browser(), &acked).await;
    println!("{db:?}: {total} acknowledged bids, all present after SIGTERM");
    app.assert_audit_clean();
}

/// A request the server has begun (its body still arriving) when `SIGTERM` comes is finished
/// and answered before the process exits.
async fn a_bid_whose_request_is_in_flight_when_sigterm_arrives_is_answered_and_kept(db: Db) {
    use reqwest::cookie::CookieStore as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let app = spawn_app(db).await;
    let (names, auctions) = bidders_and_auctions(&app, "flight", 1).await;
    let timeout = SHUTDOWN_TIMEOUT_SECS.to_string();
    let mut server = app
        .spawn_process_with(&[
            ("NEIGHBORBID_SHUTDOWN_TIMEOUT_SECS", &timeout),
            ("RUST_LOG", "info"),
        ])
        .await;
    let bidder = logged_in(&server.address, &names).await.remove(0);
    let token = bidder.csrf().await;
    let cookies = bidder
        .jar
        .cookies(&server.address.parse().unwrap())
        .unwrap();
    let host = server.address.trim_start_matches("http://").to_owned();
    let body = "amount=12000";
    let mut tcp = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST /auctions/{}/bids HTTP/1.1\r\nHost: {host}\r\nCookie: {}\r\n\
         X-CSRF-Token: {token}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\namount=1",
        auctions[0],
        cookies.to_str().unwrap(),
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    // The handler is now waiting for the rest of the form.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.signal("TERM");
    tokio::time::sleep(Duration::from_millis(500)).await;
    tcp.write_all(&body.as_bytes()["amount=1".len()..])
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        Duration::from_secs(SHUTDOWN_TIMEOUT_SECS),
        tcp.read_to_end(&mut answer),
    )
    .await;
    let answer = String::from_utf8_lossy(&answer);
    let status = server
        .wait_exit(Duration::from_secs(SHUTDOWN_TIMEOUT_SECS))
        .await;
    let log = server.log();
    assert!(
        answer.starts_with("HTTP/1.1 303"),
        "the bid in flight is answered: {answer:.300}\nlog:\n{log}"
    );
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}; log:\n{log}"
    );
    assert_eq!(
        app.submissions(auctions[0]),
        vec![(app.user_id(&names[0]), 12_000)]
    );
    app.assert_audit_clean();
}

/// actix's own handler dropped every connection on `SIGINT`; ours drains, as on `SIGTERM`.
async fn ctrl_c_drains_like_sigterm_instead_of_dropping_the_live_sockets(db: Db) {
    let app = spawn_app(db).await;
    let (_, auctions) = bidders_and_auctions(&app, "int", 1).await;
    let timeout = SHUTDOWN_TIMEOUT_SECS.to_string();
    let mut server = app
        .spawn_process_with(&[
            ("NEIGHBORBID_SHUTDOWN_TIMEOUT_SECS", &timeout),
            ("RUST_LOG", "info"),
        ])
        .await;
    let mut panel = server.browser().ws(auctions[0]).await;
    expect_frame(&mut panel, "state", "₩10,000").await;
    server.signal("INT");
    let code = close_code(&mut panel, Duration::from_secs(SHUTDOWN_TIMEOUT_SECS)).await;
    let status = server
        .wait_exit(Duration::from_secs(SHUTDOWN_TIMEOUT_SECS))
        .await;
    let log = server.log();
    assert_eq!(code, Some(1001), "log:\n{log}");
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}; log:\n{log}"
    );
    assert!(log.contains("SIGINT received"), "{log}");
}

async fn a_server_killed_under_load_restarts_with_every_acknowledged_bid_and_top_up(db: Db) {
    let app = spawn_app(db).await;
    let (names, auctions) = bidders_and_auctions(&app, "kill", 3).await;
    app.sign_up("kill_topper").await;
    let mut server = app
        .spawn_process_with(&[("NEIGHBORBID_DEV_TOPUP", "true")])
        .await;
    let mut panel = server.browser().ws(auctions[0]).await;
    expect_frame(&mut panel, "state", "₩10,000").await;
    let bidders = Bidders::start(logged_in(&server.address, &names).await, &auctions).await;

    // Top-ups through the wallet form, one after another: each 303 is an acknowledged payment.
    let topper = logged_in(&server.address, &["kill_topper".to_owned()])
        .await
        .remove(0);
    let stop = Arc::new(AtomicBool::new(false));
    let topped = Arc::new(Mutex::new(0_i64));
    let top_ups = {
        let (stop, topped) = (stop.clone(), topped.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let Ok(page) = topper.client.get(topper.url("/wallet")).send().await else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                let html = page.text().await.unwrap_or_default();
                let (Some(key), Some(token)) = (
                    field_value(&html, "idempotency_key"),
                    field_value(&html, "csrf_token"),
                ) else {
                    continue;
                };
                let sent = topper
                    .client
                    .post(topper.url("/wallet/top-up"))
                    .form(&[
                        ("amount", "1000"),
                        ("method", "dev"),
                        ("idempotency_key", &key),
                        ("csrf_token", &token),
                    ])
                    .send()
                    .await;
                if sent.is_ok_and(|r| r.status() == StatusCode::SEE_OTHER) {
                    *topped.lock().unwrap() += 1_000;
                }
            }
        })
    };

    tokio::time::sleep(LOAD).await;
    server.signal("KILL");
    let status = server.wait_exit(Duration::from_secs(5)).await;
    assert!(status.is_some(), "kill -9 ends the process");
    // The socket just drops: no close frame from a killed process.
    assert_eq!(close_code(&mut panel, Duration::from_secs(5)).await, None);
    stop.store(true, Ordering::Relaxed);
    top_ups.await.unwrap();
    let acked = bidders.finish().await;
    let topped = *topped.lock().unwrap();
    assert!(topped > 0, "some top-ups were acknowledged before the kill");

    // A restart on the same database finds everything that was acknowledged.
    let restarted = app.spawn_process().await;
    let total = assert_every_acknowledged_bid_present(&app, &acked);
    assert!(total > 0, "bids were acknowledged before the kill");
    assert_pages_show_the_stored_prices(&app, &restarted.browser(), &acked).await;
    let wallet = logged_in(&restarted.address, &["kill_topper".to_owned()])
        .await
        .remove(0)
        .wallet()
        .await;
    assert!(
        wallet.0 >= topped,
        "the wallet holds ₩{} after the restart, less than the ₩{topped} acknowledged",
        wallet.0
    );
    println!(
        "{db:?}: {total} acknowledged bids and ₩{topped} of acknowledged top-ups, all present after kill -9"
    );
    app.assert_audit_clean();
}

async fn a_backup_taken_while_bids_flow_restores_to_a_clean_audit_with_every_earlier_bid(db: Db) {
    let app = spawn_app(db).await;
    let (names, auctions) = bidders_and_auctions(&app, "bak", 3).await;
    let server = app.spawn_process().await;
    let bidders = Bidders::start(logged_in(&server.address, &names).await, &auctions).await;
    tokio::time::sleep(Duration::from_millis(800)).await;

    let before = bidders.snapshot();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(match db {
        Db::Sqlite => "site.db",
        Db::Postgres => "site.dump",
    });
    let path = file.to_str().unwrap().to_owned();
    let env = backup_env();
    let env = backup_env_ref(&env);
    let backup = tokio::task::block_in_place(|| app.cli(&["backup", &path], &env, None));
    // Bids go on while (and after) the backup runs.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let acked = bidders.finish().await;
    assert!(
        backup.status.success(),
        "backup: {}{}",
        String::from_utf8_lossy(&backup.stdout),
        String::from_utf8_lossy(&backup.stderr)
    );
    assert!(
        acked.iter().map(|(_, a)| a.len()).sum::<usize>()
            > before.iter().map(|(_, a)| a.len()).sum::<usize>(),
        "bids were acknowledged while and after the backup ran"
    );

    // A second backup to the same file is refused, and the first is left as it was.
    let size = std::fs::metadata(&file).unwrap().len();
    let again = app.cli(&["backup", &path], &env, None);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::metadata(&file).unwrap().len(), size);

    // Restore as the README says, into an empty database, and audit it there.
    let restored = app.empty_database_url();
    restore(&file, &restored);
    let audit = app.cli(&["audit"], &[("DATABASE_URL", &restored)], None);
    let report = String::from_utf8_lossy(&audit.stdout);
    assert!(
        audit.status.success() && report.contains("audit: CLEAN"),
        "the restored database audits clean:\n{report}{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    let url = neighborbid::config::DatabaseUrl::parse(&restored).unwrap();
    let mut conn = neighborbid::db::establish(&url).unwrap();
    let mut total = 0;
    for (id, amounts) in &before {
        use diesel::prelude::*;
        use neighborbid::db::schema::bids::dsl as b;
        // Each acknowledged bid's own row, with the maximum entered.
        let stored: Vec<i64> = b::bids
            .filter(b::auction_id.eq(id))
            .filter(b::is_auto.eq(false))
            .select(b::max_amount)
            .load::<Option<i64>>(&mut conn)
            .unwrap()
            .into_iter()
            .flatten()
            .collect();
        let missing: Vec<_> = amounts.iter().filter(|a| !stored.contains(a)).collect();
        assert!(
            missing.is_empty(),
            "auction {id}: bids acknowledged before the backup are missing from it: {missing:?}"
        );
        total += amounts.len();
    }
    println!("{db:?}: the backup holds all {total} bids acknowledged before it began");
    app.assert_audit_clean();
}

/// The site changes no durability setting of PostgreSQL, and says so at start-up when the
/// server runs without them (as the suite's throwaway cluster does, for speed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_on_a_postgres_that_may_lose_commits_warns_at_start_up() {
    if !crate::helpers::postgres_or_skip(
        "a_server_on_a_postgres_that_may_lose_commits_warns_at_start_up",
    ) {
        return;
    }
    let app = spawn_app(Db::Postgres).await;
    let server = app.spawn_process_with(&[("RUST_LOG", "warn")]).await;
    let log = server.log();
    for name in ["fsync", "synchronous_commit"] {
        assert!(
            log.contains(&format!("PostgreSQL runs with {name} = off")),
            "{log}"
        );
    }
}

/// `PATH` with PostgreSQL's own binaries first (the cluster's major version of `pg_dump`).
fn backup_env() -> Vec<(String, String)> {
    let bindir = pg_bindir();
    let path = std::env::var("PATH").unwrap_or_default();
    vec![("PATH".to_owned(), format!("{}:{path}", bindir.display()))]
}

fn backup_env_ref(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn pg_bindir() -> std::path::PathBuf {
    std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
        .map(|o| std::path::PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into())
}

/// Put the backup at `file` into the empty database `url`: SQLite, copy the file in place;
/// PostgreSQL, `pg_restore` into the empty database.
fn restore(file: &std::path::Path, url: &str) {
    if let Some(path) = url.strip_prefix("sqlite://") {
        std::fs::copy(file, path).unwrap();
        return;
    }
    let out = std::process::Command::new(pg_bindir().join("pg_restore"))
        .args(["--no-owner", "--exit-on-error", "--dbname", url])
        .arg(file)
        .output()
        .expect("run pg_restore");
    assert!(
        out.status.success(),
        "pg_restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
