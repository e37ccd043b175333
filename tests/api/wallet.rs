use futures_util::future::join_all;
use reqwest::StatusCode;

use crate::helpers::{both_databases, field_value, journal_rows, spawn_app, spawn_app_with, Db};

both_databases!(
    a_top_up_credits_the_wallet_and_writes_the_journal,
    a_double_submitted_top_up_credits_once,
    bad_top_up_amounts_are_refused_and_change_nothing,
    fifty_concurrent_top_ups_across_ten_users_leave_a_clean_audit,
    the_journal_is_paginated_newest_first,
    the_development_top_up_is_off_unless_switched_on,
    the_wallet_needs_a_login,
);

async fn a_top_up_credits_the_wallet_and_writes_the_journal(db: Db) {
    let app = spawn_app(db).await;
    let client = app.sign_up("saver").await;
    let r = app.top_up(&client, "12,000").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/wallet");
    let (_, html) = app.get_html(&client, "/wallet").await;
    assert!(
        html.contains("₩12,000 added to your wallet"),
        "flash shown once"
    );
    assert!(html.contains("+₩12,000"), "journal line");
    assert_eq!(journal_rows(&html), 1);
    assert_eq!(app.wallet(&client).await, (12_000, 0));
    let (_, home) = app.get_html(&client, "/").await;
    assert!(home.contains("₩12,000"), "the header shows the balance");
    assert!(
        !home.contains("added to your wallet"),
        "a flash is shown only once"
    );
    let report = app.assert_audit_clean();
    assert!(report.contains("deposits: ₩12,000"), "{report}");
}

async fn a_double_submitted_top_up_credits_once(db: Db) {
    let app = spawn_app(db).await;
    let client = app.sign_up("doubler").await;
    let (_, html) = app.get_html(&client, "/wallet").await;
    let key = field_value(&html, "idempotency_key").unwrap();
    let token = field_value(&html, "csrf_token").unwrap();
    let fields = [
        ("amount", "7000"),
        ("method", "dev"),
        ("idempotency_key", key.as_str()),
        ("csrf_token", token.as_str()),
    ];
    // The same form submitted eight times at once, then once more.
    let sends = (0..8).map(|_| app.post_raw(&client, "/wallet/top-up", &fields));
    for r in join_all(sends).await {
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let again = app.post_raw(&client, "/wallet/top-up", &fields).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.wallet(&client).await, (7_000, 0));
    let (_, html) = app.get_html(&client, "/wallet").await;
    assert_eq!(journal_rows(&html), 1);
    // A fresh form is a fresh top-up.
    assert_eq!(
        app.top_up(&client, "1000").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.wallet(&client).await, (8_000, 0));
    app.assert_audit_clean();
}

async fn bad_top_up_amounts_are_refused_and_change_nothing(db: Db) {
    let app = spawn_app(db).await;
    let client = app.sign_up("typo").await;
    let huge = "9".repeat(10 * 1024);
    let cases = [
        ("abc", "whole number"),
        ("-5000", "more than zero"),
        ("0", "more than zero"),
        ("", "Enter an amount"),
        ("10000001", "at most ₩10,000,000"),
        ("1e30", "whole number"),
        ("12.5", "whole number"),
        ("１２３", "whole number"),
        ("99999999999999999999999999999999", "at most ₩10,000,000"),
        (huge.as_str(), "at most ₩10,000,000"),
        ("5000; DROP TABLE wallets", "whole number"),
    ];
    for (amount, reason) in cases {
        let r = app.top_up(&client, amount).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{amount:.30}");
        let body = r.text().await.unwrap();
        assert!(
            body.contains(reason),
            "expected {reason:?} for {amount:.30}"
        );
    }
    // A missing or malformed idempotency key is refused too.
    let token = app.csrf(&client).await;
    let r = app
        .post_raw(
            &client,
            "/wallet/top-up",
            &[
                ("amount", "5000"),
                ("method", "dev"),
                ("idempotency_key", "x"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post_raw(
            &client,
            "/wallet/top-up",
            &[
                ("amount", "5000"),
                ("method", "dev"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    assert_eq!(app.wallet(&client).await, (0, 0));
    let (_, html) = app.get_html(&client, "/wallet").await;
    assert_eq!(journal_rows(&html), 0);
    let report = app.assert_audit_clean();
    assert!(report.contains("journal entries: 0"), "{report}");
}

async fn fifty_concurrent_top_ups_across_ten_users_leave_a_clean_audit(db: Db) {
    let app = spawn_app(db).await;
    let mut clients = Vec::new();
    for i in 0..10 {
        clients.push(app.sign_up(&format!("user{i}")).await);
    }
    // Five top-ups per user, all fifty in flight at once; user i tops up (i+1) × 1,000 each time.
    let tasks = (0..50).map(|n| {
        let i = n % 10;
        let client = clients[i].clone();
        let app = &app;
        async move {
            let amount = ((i + 1) * 1000).to_string();
            app.top_up(&client, &amount).await.status()
        }
    });
    let statuses = join_all(tasks).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::SEE_OTHER),
        "{statuses:?}"
    );
    let mut total = 0;
    for (i, client) in clients.iter().enumerate() {
        let expected = 5 * (i as i64 + 1) * 1000;
        assert_eq!(app.wallet(client).await, (expected, 0), "user{i}");
        total += expected;
    }
    let report = app.assert_audit_clean();
    assert!(report.contains("wallets checked: 10"), "{report}");
    assert!(report.contains("journal entries: 50"), "{report}");
    assert!(
        report.contains(&format!("deposits: ₩{},{:03}", total / 1000, total % 1000)),
        "{report}"
    );
}

async fn the_journal_is_paginated_newest_first(db: Db) {
    let app = spawn_app(db).await;
    let client = app.sign_up("pager").await;
    for amount in 1..=23 {
        assert_eq!(
            app.top_up(&client, &amount.to_string()).await.status(),
            StatusCode::SEE_OTHER
        );
    }
    let (_, first) = app.get_html(&client, "/wallet").await;
    assert_eq!(journal_rows(&first), 20);
    assert!(first.contains("Page 1 of 2"));
    let newest = first.find("+₩23").expect("newest entry on page 1");
    let older = first.find("+₩22").expect("next entry");
    assert!(newest < older, "newest first");
    let (_, second) = app.get_html(&client, "/wallet?page=2").await;
    assert_eq!(journal_rows(&second), 3);
    assert!(second.contains("+₩1<"));
    let (status, _) = app.get_html(&client, "/wallet?page=abc").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a bad page number shows the first page"
    );
    app.assert_audit_clean();
}

/// Without `NEIGHBORBID_DEV_TOPUP=true` (the default) nobody can mint money: no form, and a
/// hand-made `method=dev` POST is 403 with nothing credited, however it is dressed up.
async fn the_development_top_up_is_off_unless_switched_on(db: Db) {
    assert!(
        !neighborbid::config::Settings::with_data_dir(std::path::Path::new("/tmp")).dev_topup,
        "off by default"
    );
    let app = spawn_app_with(db, |s| s.dev_topup = false).await;
    let client = app.sign_up("nodev").await;
    let (_, html) = app.get_html(&client, "/wallet").await;
    assert!(
        !html.contains("name=\"method\" value=\"dev\""),
        "no development top-up form (the card top-up stays)"
    );
    assert!(!html.contains("Development mode"));
    for amount in ["5000", "10000000", "1"] {
        let key = "k".repeat(32);
        let r = app
            .post(
                &client,
                "/wallet/top-up",
                &[
                    ("amount", amount),
                    ("method", "dev"),
                    ("idempotency_key", &key),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{amount}");
    }
    // No method, or one that does not exist, is refused too.
    for method in ["", "DEV", "card\u{0}", "free"] {
        let r = app
            .post(
                &client,
                "/wallet/top-up",
                &[
                    ("amount", "5000"),
                    ("method", method),
                    ("idempotency_key", &"m".repeat(32)),
                ],
            )
            .await;
        assert!(r.status().is_client_error(), "{method:?}: {}", r.status());
    }
    assert_eq!(app.wallet(&client).await, (0, 0));
    let (_, html) = app.get_html(&client, "/wallet").await;
    assert_eq!(journal_rows(&html), 0);
    app.assert_audit_clean();

    // Switched on, the page says plainly that it is a development mode.
    let dev = spawn_app(db).await;
    let client = dev.sign_up("withdev").await;
    let (_, html) = dev.get_html(&client, "/wallet").await;
    assert!(html.contains("Development mode"), "{html}");
}

async fn the_wallet_needs_a_login(db: Db) {
    let app = spawn_app(db).await;
    let anon = app.client();
    let r = app.get(&anon, "/wallet").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=%2Fwallet");
    let r = app
        .post(
            &anon,
            "/wallet/top-up",
            &[("amount", "5000"), ("idempotency_key", &"k".repeat(32))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));
    app.assert_audit_clean();
}
