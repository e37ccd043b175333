use reqwest::StatusCode;

use crate::helpers::{both_databases, spawn_app, spawn_app_with, Db, PASSWORD};

both_databases!(
    a_neighbour_can_sign_up_and_is_logged_in_with_an_empty_wallet,
    a_taken_username_is_refused_with_422,
    weak_or_mismatched_passwords_are_refused_with_422,
    bad_sign_up_input_is_refused_and_creates_nobody,
    a_neighbour_can_log_in_and_log_out,
    a_session_survives_a_restart_with_the_kept_key,
    posts_without_a_valid_csrf_token_are_refused_with_403,
    login_attempts_are_rate_limited_per_username,
    login_attempts_are_rate_limited_per_ip,
    admin_pages_are_for_admins_only,
    create_admin_reads_the_password_from_standard_input,
);

async fn a_neighbour_can_sign_up_and_is_logged_in_with_an_empty_wallet(db: Db) {
    let app = spawn_app(db).await;
    let client = app.sign_up("minji").await;
    let (status, home) = app.get_html(&client, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        home.contains("Neighbour minji"),
        "the header shows who is logged in"
    );
    assert!(home.contains("Log out"));
    assert_eq!(app.wallet(&client).await, (0, 0));
    let (_, wallet) = app.get_html(&client, "/wallet").await;
    assert!(wallet.contains("₩0"));
    app.assert_audit_clean();
}

async fn a_taken_username_is_refused_with_422(db: Db) {
    let app = spawn_app(db).await;
    app.sign_up("alice").await;
    let client = app.client();
    let r = app
        .post(
            &client,
            "/signup",
            &[
                ("username", "Alice"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
                ("display_name", "Another Alice"),
                ("region_id", "3"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("That username is taken"), "{body}");
    assert!(
        body.contains("Another Alice"),
        "the form keeps what was typed"
    );
}

async fn weak_or_mismatched_passwords_are_refused_with_422(db: Db) {
    let app = spawn_app(db).await;
    let client = app.client();
    for (password, confirm, reason) in [
        ("short", "short", "too weak"),
        ("password", "password", "too weak"),
        ("tulip-garden-1", "tulip-garden-2", "do not match"),
    ] {
        let r = app
            .post(
                &client,
                "/signup",
                &[
                    ("username", "bora"),
                    ("password", password),
                    ("password_confirm", confirm),
                    ("display_name", "Bora"),
                    ("region_id", "3"),
                ],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{password}/{confirm}"
        );
        let body = r.text().await.unwrap();
        assert!(body.contains(reason), "expected {reason:?} in the page");
    }
    let (_, r) = app.log_in("bora", "tulip-garden-1").await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "no account was created"
    );
}

async fn bad_sign_up_input_is_refused_and_creates_nobody(db: Db) {
    let app = spawn_app(db).await;
    let client = app.client();
    let long = "a".repeat(10 * 1024);
    let cases: Vec<(String, String, String, &str)> = vec![
        (long.clone(), "Long".into(), "3".into(), "Username must be"),
        (
            "앨리스".into(),
            "Alice".into(),
            "3".into(),
            "Username must be",
        ),
        ("ab".into(), "Ab".into(), "3".into(), "Username must be"),
        (
            "rtl_user".into(),
            "evil\u{202E}gnp.exe".into(),
            "3".into(),
            "direction-changing",
        ),
        (
            "zw_user".into(),
            "zero\u{200B}width".into(),
            "3".into(),
            "invisible",
        ),
        (
            "ctl_user".into(),
            "bell\u{7}name".into(),
            "3".into(),
            "control",
        ),
        ("long_name".into(), long.clone(), "3".into(), "at most 40"),
        (
            "blank_name".into(),
            "   ".into(),
            "3".into(),
            "Enter a display name",
        ),
        (
            "no_region".into(),
            "Nobody".into(),
            "".into(),
            "neighbourhood",
        ),
        (
            "bad_region".into(),
            "Nobody".into(),
            "9999".into(),
            "neighbourhood",
        ),
        (
            "district".into(),
            "Nobody".into(),
            "2".into(),
            "neighbourhood",
        ),
        (
            "text_region".into(),
            "Nobody".into(),
            "강남".into(),
            "neighbourhood",
        ),
    ];
    for (username, display, region, reason) in &cases {
        let r = app
            .post(
                &client,
                "/signup",
                &[
                    ("username", username),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                    ("display_name", display),
                    ("region_id", region),
                ],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{username:.20}/{display:.20}/{region}"
        );
        let body = r.text().await.unwrap();
        assert!(
            body.contains(reason),
            "expected {reason:?} for {username:.20}/{display:.20}"
        );
        assert!(
            !body.contains(&long),
            "a 10 KB input is not echoed back whole"
        );
    }
    let report = app.assert_audit_clean();
    assert!(
        report.contains("wallets checked: 0"),
        "nobody was created:\n{report}"
    );
}

async fn a_neighbour_can_log_in_and_log_out(db: Db) {
    let app = spawn_app(db).await;
    app.sign_up("jisoo").await;

    let (_, wrong) = app.log_in("jisoo", "not-the-password").await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("Wrong username or password"));
    let (_, nobody) = app.log_in("nobody_here", PASSWORD).await;
    assert_eq!(nobody.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let (client, ok) = app.log_in("JiSoo", PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get(&client, "/wallet").await.status(), StatusCode::OK);

    // Log-out is a POST; a GET changes nothing.
    assert_ne!(
        app.get(&client, "/logout").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.get(&client, "/wallet").await.status(), StatusCode::OK);
    let r = app.post(&client, "/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.get(&client, "/wallet").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=%2Fwallet");
}

async fn a_session_survives_a_restart_with_the_kept_key(db: Db) {
    let mut app = spawn_app(db).await;
    let client = app.sign_up("restarter").await;
    let key = app.settings.data_dir.join("secret.key");
    let meta = std::fs::metadata(&key).expect("the generated key is kept in the data dir");
    assert_eq!(meta.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    app.restart().await;
    let (status, html) = app.get_html(&client, "/wallet").await;
    assert_eq!(status, StatusCode::OK, "still logged in after the restart");
    assert!(html.contains("Neighbour restarter"));
}

async fn posts_without_a_valid_csrf_token_are_refused_with_403(db: Db) {
    let app = spawn_app(db).await;
    let client = app.sign_up("careful").await;
    let key = "k".repeat(32);
    for token in [None, Some(""), Some("0123456789abcdef")] {
        let mut fields = vec![
            ("amount", "5000"),
            ("method", "dev"),
            ("idempotency_key", key.as_str()),
        ];
        if let Some(t) = token {
            fields.push(("csrf_token", t));
        }
        let r = app.post_raw(&client, "/wallet/top-up", &fields).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "token {token:?}");
        assert!(r.text().await.unwrap().contains("Form expired"));
    }
    let r = app.post_raw(&client, "/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A token from another session is no good either.
    let stranger = app.client();
    let foreign = app.csrf(&stranger).await;
    let r = app
        .post_raw(
            &client,
            "/wallet/top-up",
            &[
                ("amount", "5000"),
                ("method", "dev"),
                ("idempotency_key", &key),
                ("csrf_token", &foreign),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.wallet(&client).await, (0, 0), "nothing was credited");
    let r = app
        .post_raw(
            &app.client(),
            "/login",
            &[("username", "careful"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    app.assert_audit_clean();
}

async fn login_attempts_are_rate_limited_per_username(db: Db) {
    let app = spawn_app_with(db, |s| s.login_attempts_per_username = 3).await;
    app.sign_up("target").await;
    app.sign_up("bystander").await;
    for _ in 0..3 {
        let (_, r) = app.log_in("target", "guess-guess-guess").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (_, r) = app.log_in("TARGET", PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().await.unwrap().contains("Too many login attempts"));
    let (_, r) = app.log_in("bystander", PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "other usernames are not affected"
    );
}

async fn login_attempts_are_rate_limited_per_ip(db: Db) {
    let app = spawn_app_with(db, |s| s.login_attempts_per_ip = 4).await;
    app.sign_up("victim").await;
    for name in ["a_one", "a_two", "a_three", "a_four"] {
        let (_, r) = app.log_in(name, "whatever-password").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (_, r) = app.log_in("victim", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn admin_pages_are_for_admins_only(db: Db) {
    let app = spawn_app(db).await;
    let anon = app.get(&app.client(), "/admin").await;
    assert_eq!(anon.status(), StatusCode::SEE_OTHER);
    assert_eq!(anon.headers()["location"], "/login?next=%2Fadmin");

    let member = app.sign_up("member").await;
    for path in ["/admin", "/admin/audit"] {
        let r = app.get(&member, path).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(r.text().await.unwrap().contains("Not allowed"));
    }

    let admin = app.admin("root_admin").await;
    let (status, html) = app.get_html(&admin, "/admin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Clean"));
    let (status, html) = app.get_html(&admin, "/admin/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("CLEAN"));
    assert!(html.contains("Wallets checked"));
    app.assert_audit_clean();
}

async fn create_admin_reads_the_password_from_standard_input(db: Db) {
    let app = spawn_app(db).await;
    let out = app.cli(
        &["create-admin", "boss"],
        &[],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin boss"));
    let (client, r) = app.log_in("boss", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get(&client, "/admin").await.status(), StatusCode::OK);

    let weak = app.cli(&["create-admin", "weakling"], &[], Some("123\n"));
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("too weak"));
    app.assert_audit_clean();
}
