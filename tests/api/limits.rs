//! Per-client limits: sign-ups per address, the client address behind a trusted proxy
//! (`X-Forwarded-For`), and login throttling. Every test client connects from 127.0.0.1, so
//! different clients are simulated by trusting 127.0.0.1 as a proxy and sending
//! `X-Forwarded-For`.

use neighborbid::config::TrustedProxies;
use reqwest::{Response, StatusCode};

use crate::helpers::{both_databases, spawn_app_with, Browser, Db, PASSWORD};

both_databases!(
    sign_ups_over_the_limit_are_refused_with_429_and_create_nothing,
    a_forged_forwarded_for_changes_nothing_without_a_trusted_proxy,
    behind_a_trusted_proxy_each_forwarded_address_counts_separately,
);

fn trust_loopback() -> TrustedProxies {
    TrustedProxies::parse("127.0.0.1").unwrap()
}

async fn sign_up_form(b: &Browser, username: &str, password: &str) -> Response {
    b.post(
        "/signup",
        &[
            ("username", username),
            ("password", password),
            ("password_confirm", password),
            ("display_name", &format!("Neighbour {username}")),
            ("region_id", "3"),
        ],
    )
    .await
}

async fn sign_ups_over_the_limit_are_refused_with_429_and_create_nothing(db: Db) {
    let app = spawn_app_with(db, |s| s.signups_per_ip = 2).await;
    // A form with a mistake costs no password hash and does not count.
    let r = sign_up_form(&app.client(), "early", "password").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.sign_up("first").await;
    app.sign_up("second").await;

    let r = sign_up_form(&app.client(), "third", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1, "Retry-After: {wait}");
    let body = r.text().await.unwrap();
    assert!(body.contains("Too many sign-ups"), "{body}");
    assert!(
        body.contains("Neighbour third"),
        "the form keeps what was typed"
    );

    let (_, r) = app.log_in("third", PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "nobody was created"
    );
    let report = app.assert_audit_clean();
    assert!(report.contains("wallets checked: 2"), "{report}");
}

async fn a_forged_forwarded_for_changes_nothing_without_a_trusted_proxy(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.signups_per_ip = 1;
        s.login_attempts_per_ip = 2;
    })
    .await;
    app.client_from("203.0.113.1").sign_up("first").await;
    let r = sign_up_form(&app.client_from("203.0.113.2"), "second", PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a new X-Forwarded-For is not a new client"
    );

    for forged in ["198.51.100.1", "198.51.100.2"] {
        let r = app
            .client_from(forged)
            .log_in("first", "not-the-password")
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let r = app
        .client_from("198.51.100.3")
        .log_in("first", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    app.assert_audit_clean();
}

async fn behind_a_trusted_proxy_each_forwarded_address_counts_separately(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.trusted_proxies = trust_loopback();
        s.signups_per_ip = 1;
        s.login_attempts_per_ip = 2;
    })
    .await;
    let (a, b) = ("203.0.113.1", "203.0.113.2");
    app.client_from(a).sign_up("first").await;
    let r = sign_up_form(&app.client_from(a), "second", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    app.client_from(b).sign_up("second").await;

    for _ in 0..2 {
        let r = app.client_from(a).log_in("first", "not-the-password").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let r = app.client_from(a).log_in("first", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Only the right-most address is the proxy's word; what the client wrote left of it is not.
    let r = app
        .client_from(&format!("198.51.100.99, {a}"))
        .log_in("first", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let r = app.client_from(b).log_in("first", PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "another address is not limited"
    );
    app.assert_audit_clean();
}
