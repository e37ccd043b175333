//! Sessions end on the server: a copied cookie is worth nothing after logout, a password change
//! ends every other session (and their live sockets), and the password rules are the same at
//! sign-up and on change.

use std::time::Duration;

use reqwest::{Response, StatusCode};

use crate::helpers::{
    both_databases, close_code, expect_frame, send_text, spawn_app, spawn_app_with, Browser, Db,
    Listing, TestApp, PASSWORD,
};

both_databases!(
    a_cookie_replayed_after_logout_is_not_logged_in,
    logging_out_closes_the_live_socket_of_that_session_only,
    changing_the_password_ends_every_other_session,
    a_password_change_needs_the_current_password_and_a_strong_new_one,
    sign_up_refuses_common_and_guessable_passwords,
    expired_sessions_are_refused_and_their_rows_deleted_by_the_scheduler,
);

const NEW_PASSWORD: &str = "violet-harbour-93";

/// The answer to a request made without a standing session: 303 to the login page.
pub fn sent_to_login(r: &Response) -> bool {
    r.status() == StatusCode::SEE_OTHER
        && r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
}

/// Whether `b` is logged in, as the wallet page sees it.
pub async fn logged_in(app: &TestApp, b: &Browser) -> bool {
    let (status, html) = app.get_html(b, "/wallet").await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    status == StatusCode::OK && html.contains("Log out")
}

pub fn national(title: &str) -> Listing {
    let mut l = Listing::new(title);
    l.national = true;
    l
}

async fn a_cookie_replayed_after_logout_is_not_logged_in(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("replay_seller").await;
    let mut l = Listing::new("Rice cooker");
    l.buy_now_price = "50000".into();
    let id = app.list(&seller, &l).await;
    let victim = app.funded("replay_victim", 100_000).await;

    // What a thief takes: the cookie jar and a form's CSRF token. Each replay below uses a fresh
    // copy of exactly these cookies (a server answer must not tidy the thief's jar for them).
    let token = app.csrf(&victim).await;
    let stolen = victim.copy_cookies();
    assert!(
        logged_in(&app, &stolen.copy_cookies()).await,
        "the copy works while the session stands"
    );

    let r = app.post(&victim, "/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!logged_in(&app, &victim).await);

    let replay = || stolen.copy_cookies();
    assert!(sent_to_login(&app.get(&replay(), "/wallet").await));
    let (status, home) = app.get_html(&replay(), "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!home.contains("Log out"), "the header shows nobody");
    let bid = app
        .post_raw(
            &replay(),
            &format!("/auctions/{id}/bids"),
            &[("amount", "10000"), ("csrf_token", &token)],
        )
        .await;
    assert!(sent_to_login(&bid), "a replayed bid: {}", bid.status());
    let buy = app
        .post_raw(
            &replay(),
            &format!("/auctions/{id}/buy-now"),
            &[("csrf_token", &token)],
        )
        .await;
    assert!(sent_to_login(&buy), "a replayed buy-now: {}", buy.status());
    let top_up = app
        .post_raw(
            &replay(),
            "/wallet/top-up",
            &[
                ("amount", "5000"),
                ("method", "dev"),
                ("idempotency_key", &"r".repeat(32)),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert!(
        sent_to_login(&top_up),
        "a replayed top-up: {}",
        top_up.status()
    );

    // Nothing moved.
    let (status, price, leader, _, bids) = app.auction_row(id);
    assert_eq!(
        (status.as_str(), price, leader, bids),
        ("active", 10_000, None, 0)
    );
    assert!(app.holds().is_empty());
    let (again, r) = app.log_in("replay_victim", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.wallet(&again).await, (100_000, 0));
    app.assert_audit_clean();
}

async fn logging_out_closes_the_live_socket_of_that_session_only(db: Db) {
    // No periodic check in this test: only the logout itself can close the socket.
    let app = spawn_app_with(db, |s| {
        s.ws_session_check_interval = Duration::from_secs(3600);
    })
    .await;
    let seller = app.sign_up("sock_seller").await;
    let id = app.list(&seller, &national("Kettle")).await;
    let laptop = app.funded("sock_user", 100_000).await;
    let (phone, r) = app.log_in("sock_user", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mut on_laptop = app.ws(id, Some(&laptop.jar)).await;
    let mut on_phone = app.ws(id, Some(&phone.jar)).await;
    expect_frame(&mut on_laptop, "state", "₩10,000").await;
    expect_frame(&mut on_phone, "state", "₩10,000").await;

    let r = app.post(&laptop, "/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        close_code(&mut on_laptop, Duration::from_secs(5)).await,
        Some(1008),
        "the logged-out session's socket is closed with a policy-violation frame"
    );
    // The other session's socket stands, and still bids.
    send_text(&mut on_phone, r#"{"type":"bid","amount":"10000"}"#).await;
    expect_frame(&mut on_phone, "ack", "leads").await;
    assert_eq!(app.bid_amounts(id), vec![10_000]);
    app.assert_audit_clean();
}

async fn changing_the_password_ends_every_other_session(db: Db) {
    let app = spawn_app(db).await;
    let laptop = app.sign_up("hana").await;
    let (phone, r) = app.log_in("hana", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let copied = laptop.copy_cookies();
    let seller = app.sign_up("hana_seller").await;
    let id = app.list(&seller, &national("Lamp")).await;
    let mut phone_socket = app.ws(id, Some(&phone.jar)).await;
    expect_frame(&mut phone_socket, "state", "₩10,000").await;

    let r = app
        .post(
            &laptop,
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("new_password_confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/account/password");
    let (status, html) = app.get_html(&laptop, "/account/password").await;
    assert_eq!(status, StatusCode::OK, "the browser that changed it stays");
    assert!(
        html.contains("Your password was changed. 1 other session ended."),
        "{html}"
    );
    assert!(logged_in(&app, &laptop).await);

    assert!(sent_to_login(&app.get(&phone, "/wallet").await));
    assert!(
        !logged_in(&app, &copied).await,
        "a copy of the old cookie is dead"
    );
    assert_eq!(
        close_code(&mut phone_socket, Duration::from_secs(5)).await,
        Some(1008),
        "the other session's live socket is closed"
    );
    let (_, old) = app.log_in("hana", PASSWORD).await;
    assert_eq!(old.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, new) = app.log_in("hana", NEW_PASSWORD).await;
    assert_eq!(new.status(), StatusCode::SEE_OTHER);
}

async fn a_password_change_needs_the_current_password_and_a_strong_new_one(db: Db) {
    let app = spawn_app(db).await;
    let anon = app.client();
    let r = app.get(&anon, "/account/password").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=%2Faccount%2Fpassword");
    let valid = [
        ("current_password", PASSWORD),
        ("new_password", NEW_PASSWORD),
        ("new_password_confirm", NEW_PASSWORD),
    ];
    assert!(sent_to_login(
        &app.post(&anon, "/account/password", &valid).await
    ));

    let me = app.sign_up("dara").await;
    let (other, _) = app.log_in("dara", PASSWORD).await;
    let (status, page) = app.get_html(&me, "/account/password").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"current_password\"") && page.contains("name=\"csrf_token\""));

    let too_long = "long-winded-".repeat(12);
    for (current, new, confirm, reason) in [
        (
            "wrong-password-1",
            NEW_PASSWORD,
            NEW_PASSWORD,
            "current password is not right",
        ),
        (
            "",
            NEW_PASSWORD,
            NEW_PASSWORD,
            "Enter your current password",
        ),
        (PASSWORD, "password123", "password123", "too weak"),
        (PASSWORD, "1q2w3e4r5t", "1q2w3e4r5t", "too weak"),
        (PASSWORD, "iloveyou2", "iloveyou2", "too weak"),
        (
            PASSWORD,
            "dara2026dara",
            "dara2026dara",
            "contains your username",
        ),
        (PASSWORD, "short", "short", "at least 8 characters"),
        (PASSWORD, &too_long, &too_long, "at most 128 characters"),
        (PASSWORD, NEW_PASSWORD, "violet-harbour-94", "do not match"),
        (PASSWORD, PASSWORD, PASSWORD, "choose a different one"),
    ] {
        let r = app
            .post(
                &me,
                "/account/password",
                &[
                    ("current_password", current),
                    ("new_password", new),
                    ("new_password_confirm", confirm),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{reason}");
        let body = r.text().await.unwrap();
        assert!(body.contains(reason), "{reason}: {body}");
        assert!(body.contains("Change password"), "the form is shown again");
    }
    // Without the form's token: 403.
    let r = app.post_raw(&me, "/account/password", &valid).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Nothing changed: both sessions stand, the old password works, the new one does not.
    assert!(logged_in(&app, &me).await);
    assert!(logged_in(&app, &other).await);
    let (_, r) = app.log_in("dara", NEW_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, r) = app.log_in("dara", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn sign_up_refuses_common_and_guessable_passwords(db: Db) {
    let app = spawn_app(db).await;
    let client = app.client();
    for weak in [
        "iloveyou2",
        "dragon123",
        "P@ssw0rd!",
        "qwerty123456",
        "1qaz2wsx3edc",
        "Neighborbid2026",
    ] {
        let r = app
            .post(
                &client,
                "/signup",
                &[
                    ("username", "yuna"),
                    ("password", weak),
                    ("password_confirm", weak),
                    ("display_name", "Yuna"),
                    ("region_id", "3"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{weak}");
        assert!(r.text().await.unwrap().contains("too weak"), "{weak}");
    }
    let report = app.assert_audit_clean();
    assert!(
        report.contains("wallets checked: 0"),
        "nobody was created:\n{report}"
    );
}

/// An expired session is refused at once, and the scheduler deletes its row (on start, and
/// every ten minutes), so the table does not grow with every login ever made.
async fn expired_sessions_are_refused_and_their_rows_deleted_by_the_scheduler(db: Db) {
    use diesel::connection::SimpleConnection as _;
    use diesel::prelude::*;
    use neighborbid::db::schema::sessions::dsl as s;
    let mut app = crate::helpers::spawn_app(db).await;
    let member = app.sign_up("sleeper").await;
    let fresh = app.sign_up("awake").await;
    let count = |app: &crate::helpers::TestApp| -> i64 {
        s::sessions
            .count()
            .get_result(&mut app.raw_connection())
            .unwrap()
    };
    assert_eq!(count(&app), 2);
    let sleeper = app.user_id("sleeper");
    app.raw_connection()
        .batch_execute(&format!(
            "UPDATE sessions SET expires_at = '2000-01-01 00:00:00' WHERE user_id = {sleeper}"
        ))
        .unwrap();
    let r = app.get(&member, "/wallet").await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "an expired session is nobody"
    );
    app.restart().await;
    let mut left = count(&app);
    for _ in 0..50 {
        if left == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = count(&app);
    }
    assert_eq!(left, 1, "only the live session is left");
    assert_eq!(app.get(&fresh, "/wallet").await.status(), StatusCode::OK);
}
