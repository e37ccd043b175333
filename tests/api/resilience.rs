//! The database going away and coming back (DESIGN.md §9, issue 12 items 1 and 2). PostgreSQL
//! only: an embedded SQLite file cannot go away from its own process.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection as _;
use futures_util::{SinkExt as _, Stream, StreamExt as _};
use neighborbid::config::DatabaseUrl;
use reqwest::StatusCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::helpers::{
    local_in, own_cluster, postgres_or_skip, spawn_app, spawn_app_with, Db, Listing, TestApp,
};

/// The longest any test here waits for the site to heal (generous: it asserts that it heals,
/// not how fast; the time is printed and measured in docs/BENCHMARKS.md).
const HEAL_BOUND: Duration = Duration::from_secs(30);

fn national(title: &str) -> Listing {
    let mut l = Listing::new(title);
    l.national = true;
    l
}

/// The frames a socket receives, `(type, html)`, read continuously by a task of their own
/// (so the server never finds the socket full while the test does something else).
type Frames = Arc<Mutex<Vec<(String, String)>>>;

fn record(
    mut stream: impl Stream<Item = Result<Message, WsError>> + Unpin + Send + 'static,
) -> Frames {
    let frames: Frames = Arc::default();
    let into = frames.clone();
    tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            if let Message::Text(t) = msg {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(t.as_str()) {
                    into.lock().unwrap().push((
                        v["type"].as_str().unwrap_or_default().to_owned(),
                        v["html"].as_str().unwrap_or_default().to_owned(),
                    ));
                }
            }
        }
    });
    frames
}

/// Wait (at most `wait`) until a frame of `kind` containing `needle` has arrived after the first
/// `from` frames; panics with what arrived otherwise.
async fn wait_for(
    frames: &Frames,
    from: usize,
    kind: &str,
    needle: &str,
    wait: Duration,
) -> String {
    let deadline = Instant::now() + wait;
    loop {
        {
            let seen = frames.lock().unwrap();
            if let Some((_, html)) = seen
                .iter()
                .skip(from)
                .find(|(k, html)| k == kind && html.contains(needle))
            {
                return html.clone();
            }
            if Instant::now() >= deadline {
                let tail: Vec<String> = seen
                    .iter()
                    .skip(from)
                    .rev()
                    .take(5)
                    .map(|(k, h)| format!("{k}: {h:.200}"))
                    .collect();
                panic!(
                    "no {kind} frame containing {needle:?} within {wait:?}; the last: {tail:#?}"
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A superuser connection to the app's cluster, and the app's database name.
fn cluster_admin(app: &TestApp) -> (diesel::PgConnection, String) {
    let DatabaseUrl::Postgres(url) = &app.settings.database_url else {
        panic!("a PostgreSQL app")
    };
    let (base, name) = url.rsplit_once('/').expect("a database name");
    let pg = <diesel::PgConnection as diesel::Connection>::establish(&format!("{base}/postgres"))
        .expect("connect to the cluster");
    (pg, name.to_owned())
}

/// Poll `/healthz` until it answers 200; how long that took.
async fn until_healthy(app: &TestApp) -> Duration {
    let client = app.client();
    let from = Instant::now();
    loop {
        let status = app.get(&client, "/healthz").await.status();
        if status == StatusCode::OK {
            return from.elapsed();
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "never a 500");
        assert!(
            from.elapsed() < HEAL_BOUND,
            "/healthz still answers {status} {HEAL_BOUND:?} after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn healthz_answers_503_while_postgres_refuses_connections_and_200_once_it_accepts_them_again()
{
    if !postgres_or_skip("healthz_answers_503_while_postgres_refuses_connections") {
        return;
    }
    let app = spawn_app(Db::Postgres).await;
    let client = app.client();
    // Every pooled connection has been used once, so every one is cut below.
    let mut warm = Vec::new();
    for _ in 0..8 {
        warm.push(app.get(&client, "/auctions"));
    }
    for r in futures_util::future::join_all(warm).await {
        assert_eq!(r.status(), StatusCode::OK);
    }
    assert_eq!(app.get(&client, "/healthz").await.status(), StatusCode::OK);

    let (mut pg, name) = cluster_admin(&app);
    pg.batch_execute(&format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
    ))
    .expect("cut the app's connections");
    for _ in 0..4 {
        let r = app.get(&client, "/healthz").await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            r.headers().get("retry-after").map(|v| v.to_str().unwrap()),
            Some("5")
        );
    }

    pg.batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .expect("allow connections again");
    let healed = until_healthy(&app).await;
    eprintln!(
        "healthz: 200 again {:.2} s after PostgreSQL accepted connections",
        healed.as_secs_f64()
    );
    for path in ["/auctions", "/market", "/"] {
        assert_eq!(
            app.get(&client, path).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
}

/// PostgreSQL ends every connection of ours but stays up (`pg_terminate_backend`, an idle-session
/// killer, a failover): the one request that finds a connection gone may answer 503, the
/// pool's other connections from before are checked before use, and every later request is
/// served.
#[tokio::test]
async fn when_postgres_ends_every_connection_of_ours_at_most_one_request_answers_503() {
    if !postgres_or_skip("when_postgres_ends_every_connection_of_ours") {
        return;
    }
    let app = spawn_app(Db::Postgres).await;
    let client = app.client();
    // Several pooled connections, all idle afterwards.
    let mut warm = Vec::new();
    for _ in 0..8 {
        warm.push(app.get(&client, "/auctions"));
    }
    for r in futures_util::future::join_all(warm).await {
        assert_eq!(r.status(), StatusCode::OK);
    }
    let (mut pg, name) = cluster_admin(&app);
    pg.batch_execute(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .expect("end the app's connections");

    let mut failed = Vec::new();
    for _ in 0..20 {
        let r = app.get(&client, "/auctions").await;
        match r.status() {
            StatusCode::OK => {}
            StatusCode::SERVICE_UNAVAILABLE => failed.push(r.status()),
            other => panic!("never {other}: {}", r.text().await.unwrap_or_default()),
        }
    }
    assert!(failed.len() <= 1, "{} requests answered 503", failed.len());
}

#[tokio::test]
async fn a_bid_committed_while_the_listen_connection_is_away_reaches_every_watcher_once_it_is_back()
{
    if !postgres_or_skip("a_bid_committed_while_the_listen_connection_is_away") {
        return;
    }
    let app = spawn_app(Db::Postgres).await;
    let seller = app.sign_up("gap_seller").await;
    let bidder = app.funded("gap_bidder", 1_000_000).await;
    let id = app.list(&seller, &national("Radio heard in the gap")).await;
    let (_, rx) = app.ws(id, None).await.split();
    let watched = record(rx);
    wait_for(&watched, 0, "state", "₩10,000", Duration::from_secs(5)).await;
    // The LISTEN connection is up: a bid arrives as usual.
    // A maximum of ₩12,000 leads at the start price.
    assert_eq!(app.bid(&bidder, id, 12_000).await.0, StatusCode::SEE_OTHER);
    wait_for(
        &watched,
        0,
        "state",
        "Neighbour gap_bidder",
        Duration::from_secs(5),
    )
    .await;
    let second = app.funded("gap_second", 1_000_000).await;

    // Cut only the LISTEN connection and keep it from coming back; the pool's stay.
    #[derive(diesel::QueryableByName)]
    struct Cut {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        cut: bool,
    }
    let (mut pg, name) = cluster_admin(&app);
    pg.batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .expect("refuse new connections");
    let cut: Vec<Cut> = diesel::RunQueryDsl::load(
        diesel::sql_query(format!(
            "SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity \
             WHERE datname = '{name}' \
               AND (application_name = 'neighborbid-listen' OR query LIKE 'LISTEN %')"
        )),
        &mut pg,
    )
    .expect("cut the LISTEN connection");
    assert_eq!(cut.len(), 1, "one LISTEN connection");
    assert!(cut[0].cut);
    let before = watched.lock().unwrap().len();
    // Committed while nobody listens: its NOTIFY is heard by no one. (Another bidder's
    // ₩13,000 beats the ₩12,000 maximum: the price becomes ₩13,000.)
    let token = second.csrf().await;
    assert_eq!(
        second.bid_with(&token, id, "13000").await.0,
        StatusCode::SEE_OTHER
    );

    pg.batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .expect("allow connections again");
    assert_eq!(app.auction_row(id).1, 13_000, "the bid committed");
    // Once the LISTEN connection is back, the watcher gets the auction as it is now.
    let html = wait_for(&watched, before, "state", "₩13,000", HEAL_BOUND).await;
    assert!(html.contains("data-min-bid=\"14000\""), "{html:.300}");
    app.assert_audit_clean();
}

/// One request of the load: when it started and ended, what it was, and its status.
struct Sent {
    began: Instant,
    ended: Instant,
    what: String,
    status: StatusCode,
    body: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgres_restart_under_load_answers_only_503_while_it_is_down_and_heals_without_our_restart(
) {
    if !postgres_or_skip("a_postgres_restart_under_load") {
        return;
    }
    // A cluster of this test's own: restarting the shared one would break the others.
    let Some(cluster) = own_cluster("a_postgres_restart_under_load") else {
        return;
    };
    let cluster = Arc::new(cluster);
    let url = cluster.fresh_database();
    let app = spawn_app_with(Db::Postgres, |s| {
        s.database_url = DatabaseUrl::Postgres(url);
        // The watcher below only reads; it must outlive the outage without answering pings.
        s.ws_idle_timeout = Duration::from_secs(600);
    })
    .await;
    let seller = app.sign_up("restart_seller").await;
    let id = app.list(&seller, &national("Restarted radio")).await;
    let (_, rx) = app.ws(id, None).await.split();
    let watched = record(rx);
    wait_for(&watched, 0, "state", "₩10,000", Duration::from_secs(5)).await;
    let socket_bidder = app.funded("restart_socket", 50_000_000).await;
    let (mut to_socket, from_socket) = socket_bidder.ws(id).await.split();
    let replies = record(from_socket);

    // A few concurrent bidders (each with its form token fetched beforehand) and readers.
    let next_amount = Arc::new(AtomicI64::new(11_000));
    let stop = Arc::new(AtomicBool::new(false));
    let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
    let mut load = Vec::new();
    for i in 0..3 {
        let b = app.funded(&format!("restart_bidder{i}"), 50_000_000).await;
        let token = b.csrf().await;
        let (next_amount, stop, sent) = (next_amount.clone(), stop.clone(), sent.clone());
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let amount = next_amount.fetch_add(1_000, Ordering::Relaxed).to_string();
                let began = Instant::now();
                let (status, body) = b.bid_with(&token, id, &amount).await;
                sent.lock().unwrap().push(Sent {
                    began,
                    ended: Instant::now(),
                    what: format!("bid {amount}"),
                    status,
                    body,
                });
                for path in [
                    format!("/auctions/{id}"),
                    "/wallet".to_owned(),
                    "/healthz".to_owned(),
                ] {
                    let began = Instant::now();
                    let r = b.get(&path).await;
                    let status = r.status();
                    let body = r.text().await.unwrap_or_default();
                    sent.lock().unwrap().push(Sent {
                        began,
                        ended: Instant::now(),
                        what: format!("GET {path}"),
                        status,
                        body,
                    });
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }
    let load_ok = |sent: &Mutex<Vec<Sent>>| {
        sent.lock()
            .unwrap()
            .iter()
            .filter(|s| s.status == StatusCode::SEE_OTHER)
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while load_ok(&sent) < 10 {
        assert!(
            Instant::now() < deadline,
            "bids go through before the restart"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // An auction that ends while PostgreSQL is down: the scheduler closes it once it is back.
    let mut short = Listing::new("Ends during the outage");
    short.ends_at = local_in(3);
    let closing = app.list(&seller, &short).await;
    assert_eq!(
        app.bid(&socket_bidder, closing, 10_000).await.0,
        StatusCode::SEE_OTHER
    );

    // PostgreSQL stops as an operator's restart stops it (every client disconnected).
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.stop("fast"))
        .await
        .unwrap()
        .expect("PostgreSQL stops");
    let down_from = Instant::now();

    // A bid over the live socket while it is down: "try again", not a generic error.
    let from = replies.lock().unwrap().len();
    to_socket
        .send(Message::text(r#"{"type":"bid","amount":"20000000"}"#))
        .await
        .unwrap();
    let retry = wait_for(
        &replies,
        from,
        "retry",
        "try again",
        Duration::from_secs(15),
    )
    .await;
    assert!(retry.contains("database"), "{retry}");
    // How long it stays down: 2 s unless NEIGHBORBID_TEST_OUTAGE_SECS says otherwise (to
    // measure healing after a longer outage, when every reconnection backoff is at its longest).
    let outage = std::env::var("NEIGHBORBID_TEST_OUTAGE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    tokio::time::sleep(Duration::from_secs(outage)).await;

    let down_until = Instant::now();
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.start())
        .await
        .unwrap()
        .expect("PostgreSQL starts again");
    let back_at = Instant::now();
    let healed = until_healthy(&app).await;

    // Afterwards bids succeed again, without a restart of ours.
    let ok_before = load_ok(&sent);
    let deadline = back_at + HEAL_BOUND;
    while load_ok(&sent) <= ok_before {
        assert!(
            Instant::now() < deadline,
            "bids succeed again after the restart"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first_bid_after = sent
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.ended >= back_at && s.status == StatusCode::SEE_OTHER)
        .map(|s| s.ended.duration_since(back_at))
        .min()
        .unwrap_or_default();
    eprintln!(
        "PostgreSQL down {:.1} s; back → /healthz 200 after {:.2} s, first bid accepted after {:.2} s",
        down_until.duration_since(down_from).as_secs_f64(),
        healed.as_secs_f64(),
        first_bid_after.as_secs_f64()
    );
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }

    // During the outage only 503s, with Retry-After on pages; never a 500 at any time.
    let sent = std::mem::take(&mut *sent.lock().unwrap());
    let mut during = 0;
    for s in &sent {
        assert!(
            [
                StatusCode::OK,
                StatusCode::SEE_OTHER,
                StatusCode::UNPROCESSABLE_ENTITY,
                StatusCode::SERVICE_UNAVAILABLE
            ]
            .contains(&s.status),
            "{} answered {}: {:.500}",
            s.what,
            s.status,
            s.body
        );
        if s.began >= down_from && s.ended <= down_until {
            during += 1;
            assert_eq!(
                s.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{} while PostgreSQL was down: {:.300}",
                s.what,
                s.body
            );
            if !s.what.contains("healthz") {
                assert!(
                    s.body.contains("database"),
                    "{} says why: {:.300}",
                    s.what,
                    s.body
                );
            }
        }
    }
    assert!(during > 0, "requests were made while PostgreSQL was down");

    // A watcher connected before the restart sees a bid made after it.
    let beaten = app.leader_max(id).expect("the load placed bids");
    let amount = beaten + 1_000_000;
    let from = watched.lock().unwrap().len();
    assert_eq!(
        app.bid(&socket_bidder, id, amount).await.0,
        StatusCode::SEE_OTHER
    );
    // Proxy bidding: the price goes one ₩1,000 step over the beaten maximum.
    assert_eq!(app.auction_row(id).1, beaten + 1_000);
    let shown = neighborbid::domain::Won::from_stored(beaten + 1_000).to_string();
    wait_for(&watched, from, "state", &shown, HEAL_BOUND).await;
    // The scheduler resumed by itself: the auction that ended during the outage is sold.
    assert_eq!(app.wait_closed(closing).await, "sold");
    assert_eq!(
        app.auction_row(closing).3,
        Some(app.user_id("restart_socket"))
    );
    let acked = replies
        .lock()
        .unwrap()
        .iter()
        .filter(|(k, _)| k == "ack")
        .count();
    assert_eq!(
        acked, 0,
        "the bid sent while the database was down was not placed"
    );
    assert!(!app
        .submissions(id)
        .iter()
        .any(|(_, max)| *max == 20_000_000));
    app.assert_audit_clean();
}
