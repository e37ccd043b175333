//! Per-client limits: sign-ups per address, the client address behind a trusted proxy
//! (`X-Forwarded-For`), and login throttling. Every test client connects from 127.0.0.1, so
//! different clients are simulated by trusting 127.0.0.1 as a proxy and sending
//! `X-Forwarded-For`.

use neighborbid::config::TrustedProxies;
use reqwest::{Response, StatusCode};

use crate::helpers::{both_databases, spawn_app_with, Browser, Db, TestApp, PASSWORD};

both_databases!(
    sign_ups_over_the_limit_are_refused_with_429_and_create_nothing,
    a_forged_forwarded_for_changes_nothing_without_a_trusted_proxy,
    behind_a_trusted_proxy_each_forwarded_address_counts_separately,
    an_attacker_failing_from_one_address_does_not_lock_the_owner_out_from_another,
    successful_logins_are_never_counted,
    each_further_failure_from_one_address_waits_twice_as_long,
    the_per_username_ceiling_still_stops_a_distributed_attack,
    a_successful_login_clears_the_failures_from_its_address,
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

/// Post the login form with a token fetched beforehand (so nothing else happens between two
/// attempts); returns the status and `Retry-After` in seconds.
async fn try_login(
    b: &Browser,
    token: &str,
    username: &str,
    password: &str,
) -> (StatusCode, Option<u64>, String) {
    let r = b
        .post_raw(
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("csrf_token", token),
            ],
        )
        .await;
    let status = r.status();
    let wait = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (status, wait, r.text().await.unwrap())
}

/// A client at `ip` (through the trusted loopback proxy) and its CSRF token.
async fn client_at(app: &TestApp, ip: &str) -> (Browser, String) {
    let b = app.client_from(ip);
    let token = b.csrf().await;
    (b, token)
}

async fn an_attacker_failing_from_one_address_does_not_lock_the_owner_out_from_another(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.trusted_proxies = trust_loopback();
        s.login_free_failures = 2;
        s.login_attempts_per_username = 5;
    })
    .await;
    app.sign_up("owner").await;
    let (attacker, token) = client_at(&app, "203.0.113.66").await;
    let mut statuses = Vec::new();
    for i in 0..10 {
        let (status, _, _) =
            try_login(&attacker, &token, "owner", &format!("guess-{i}-guess")).await;
        statuses.push(status);
    }
    assert_eq!(&statuses[..2], [StatusCode::UNPROCESSABLE_ENTITY; 2]);
    assert!(
        statuses[2..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "after two failures the attacker waits: {statuses:?}"
    );
    let (status, wait, _) = try_login(&attacker, &token, "owner", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "even with the right password"
    );
    assert!(wait.is_some());

    let (owner, token) = client_at(&app, "198.51.100.20").await;
    let (status, _, body) = try_login(&owner, &token, "owner", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the owner is not locked out: {body}"
    );
    assert_eq!(app.get(&owner, "/wallet").await.status(), StatusCode::OK);
}

async fn successful_logins_are_never_counted(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.login_free_failures = 2;
        s.login_attempts_per_username = 3;
        s.login_attempts_per_ip = 3;
    })
    .await;
    app.sign_up("regular").await;
    for _ in 0..8 {
        let (_, r) = app.log_in("regular", PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let (_, r) = app.log_in("regular", "not-the-password").await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "one failure is just a failure"
    );
    let (_, r) = app.log_in("regular", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn each_further_failure_from_one_address_waits_twice_as_long(db: Db) {
    let app = spawn_app_with(db, |s| s.login_free_failures = 2).await;
    app.sign_up("patient").await;
    let b = app.client();
    let token = b.csrf().await;
    for _ in 0..2 {
        let (status, _, _) = try_login(&b, &token, "patient", "wrong-password-1").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let mut waits = Vec::new();
    loop {
        let (status, wait, body) = try_login(&b, &token, "patient", "wrong-password-1").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        let wait = wait.expect("Retry-After");
        let said = if wait == 1 {
            "Wait 1 second ".to_owned()
        } else {
            format!("Wait {wait} seconds")
        };
        assert!(body.contains(&said), "the page says how long: {said}");
        waits.push(wait);
        if waits.len() == 3 {
            break;
        }
        // Wait it out: the next failure is let through, and counted.
        tokio::time::sleep(std::time::Duration::from_millis(wait * 1000 + 200)).await;
        let (status, _, _) = try_login(&b, &token, "patient", "wrong-password-1").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(waits, [1, 2, 4]);
}

async fn the_per_username_ceiling_still_stops_a_distributed_attack(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.trusted_proxies = trust_loopback();
        s.login_free_failures = 3;
        s.login_attempts_per_username = 4;
    })
    .await;
    app.sign_up("famous").await;
    app.sign_up("bystander").await;
    for i in 1..=4 {
        let (b, token) = client_at(&app, &format!("203.0.113.{i}")).await;
        let (status, _, _) = try_login(&b, &token, "famous", "botnet-guess-1").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    for (ip, password) in [
        ("203.0.113.5", "botnet-guess-2"),
        ("198.51.100.7", PASSWORD),
    ] {
        let (b, token) = client_at(&app, ip).await;
        let (status, wait, body) = try_login(&b, &token, "famous", password).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{ip}");
        assert!(wait.is_some());
        assert!(body.contains("Too many login attempts"));
    }
    let (b, token) = client_at(&app, "203.0.113.1").await;
    let (status, _, _) = try_login(&b, &token, "bystander", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "other usernames are not affected"
    );
}

async fn a_successful_login_clears_the_failures_from_its_address(db: Db) {
    let app = spawn_app_with(db, |s| s.login_free_failures = 2).await;
    app.sign_up("forgetful").await;
    let b = app.client();
    let token = b.csrf().await;
    for _ in 0..2 {
        let (status, _, _) = try_login(&b, &token, "forgetful", "wrong-password-1").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (status, wait, _) = try_login(&b, &token, "forgetful", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(std::time::Duration::from_millis(wait.unwrap() * 1000 + 200)).await;
    let (status, _, _) = try_login(&b, &token, "forgetful", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // Two more mistakes are free again (without the reset the next would wait 2 s).
    let b = app.client();
    let token = b.csrf().await;
    for _ in 0..2 {
        let (status, _, _) = try_login(&b, &token, "forgetful", "wrong-password-1").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (status, wait, _) = try_login(&b, &token, "forgetful", "wrong-password-1").await;
    assert_eq!((status, wait), (StatusCode::TOO_MANY_REQUESTS, Some(1)));
}
