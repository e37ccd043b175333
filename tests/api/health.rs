use reqwest::StatusCode;

use crate::helpers::{both_databases, spawn_app, Db};

both_databases!(
    healthz_answers_ok_when_the_database_answers,
    unknown_pages_get_the_templated_not_found_page,
    anonymous_visitors_see_the_front_page_with_log_in_and_sign_up,
);

async fn healthz_answers_ok_when_the_database_answers(db: Db) {
    let app = spawn_app(db).await;
    let (status, body) = app.get_html(&app.client(), "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "ok");
}

async fn unknown_pages_get_the_templated_not_found_page(db: Db) {
    let app = spawn_app(db).await;
    let (status, body) = app.get_html(&app.client(), "/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("Page not found"), "{body}");
    assert!(body.contains("site-header"), "the 404 page uses the layout");
}

async fn anonymous_visitors_see_the_front_page_with_log_in_and_sign_up(db: Db) {
    let app = spawn_app(db).await;
    let (status, body) = app.get_html(&app.client(), "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("href=\"/login\""));
    assert!(body.contains("href=\"/signup\""));
    assert!(!body.contains("Log out"));
}

/// The database going away is a 503 with `Retry-After` and words on the page, never a 500.
/// PostgreSQL only: an embedded SQLite file cannot refuse its own process.
#[tokio::test]
async fn while_postgres_refuses_connections_pages_answer_503_with_retry_after() {
    use diesel::connection::SimpleConnection as _;
    if !crate::helpers::postgres_or_skip("while_postgres_refuses_connections") {
        return;
    }
    let app = spawn_app(Db::Postgres).await;
    let client = app.client();
    assert_eq!(app.get(&client, "/auctions").await.status(), StatusCode::OK);

    // Refuse new connections to the app's database and cut every open one.
    let neighborbid::config::DatabaseUrl::Postgres(url) = &app.settings.database_url else {
        panic!("a PostgreSQL app")
    };
    let (base, name) = url.rsplit_once('/').expect("a database name");
    let mut pg =
        <diesel::PgConnection as diesel::Connection>::establish(&format!("{base}/postgres"))
            .expect("connect to the cluster");
    pg.batch_execute(&format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
    ))
    .expect("cut the app's connections");

    for path in ["/auctions", "/market", "/auctions/1", "/healthz"] {
        let r = app.get(&client, path).await;
        let status = r.status();
        let retry_after = r.headers().get("retry-after").cloned();
        let body = r.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {body}");
        if path != "/healthz" {
            assert_eq!(
                retry_after.as_ref().map(|v| v.to_str().unwrap()),
                Some("5"),
                "{path}"
            );
            assert!(body.contains("database"), "{path} says why: {body}");
        }
    }

    pg.batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .expect("allow connections again");
}
