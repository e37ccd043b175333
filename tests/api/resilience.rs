//! The database going away and coming back (DESIGN.md §9, issue 12 items 1 and 2). PostgreSQL
//! only: an embedded SQLite file cannot go away from its own process.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection as _;
use neighborbid::config::DatabaseUrl;
use reqwest::StatusCode;

use crate::helpers::{postgres_or_skip, spawn_app, Db, TestApp};

/// The longest any test here waits for the site to heal (generous: it asserts that it heals,
/// not how fast; the time is printed and measured in docs/BENCHMARKS.md).
const HEAL_BOUND: Duration = Duration::from_secs(30);

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
