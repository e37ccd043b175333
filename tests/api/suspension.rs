//! Admins suspend and reactivate users: a suspended user's sessions end and their live sockets
//! close, they cannot log in, bid, buy or list — checked on every request and every socket
//! message — and members cannot reach any of it.

use std::time::Duration;

use reqwest::multipart::Form;
use reqwest::{Response, StatusCode};

use crate::helpers::{
    both_databases, close_code, expect_frame, send_text, spawn_app, spawn_app_with, Browser, Db,
    Listing, TestApp, PASSWORD,
};
use crate::sessions::{logged_in, national, sent_to_login};

both_databases!(
    members_get_403_on_the_admin_user_routes,
    admins_find_users_by_search_and_page_through_them,
    a_suspended_user_is_refused_on_every_request_until_reactivated,
    an_admin_cannot_suspend_themselves_or_another_admin,
    a_suspended_users_live_socket_is_closed_at_once,
    a_socket_whose_session_ended_elsewhere_is_closed_by_the_periodic_check,
    a_socket_message_after_the_session_ended_closes_the_socket_and_does_nothing,
);

async fn suspend(app: &TestApp, admin: &Browser, id: i64) -> Response {
    app.post(admin, &format!("/admin/users/{id}/suspend"), &[])
        .await
}

async fn reactivate(app: &TestApp, admin: &Browser, id: i64) -> Response {
    app.post(admin, &format!("/admin/users/{id}/reactivate"), &[])
        .await
}

/// The rows of `/admin/users`: (id, username, active).
fn rows(html: &str) -> Vec<(i64, String, bool)> {
    html.split("<tr id=\"user-")
        .skip(1)
        .map(|row| {
            let id = row[..row.find('"').unwrap()].parse().unwrap();
            let name_at = row.find("data-username=\"").unwrap() + 15;
            let name = &row[name_at..];
            let name = name[..name.find('"').unwrap()].to_owned();
            let head = &row[..row.find('>').unwrap()];
            (id, name, head.contains("data-active=\"true\""))
        })
        .collect()
}

/// A user suspended straight in the database, as another server process would leave it: this
/// process hears nothing of it.
fn suspend_behind_the_servers_back(app: &TestApp, username: &str) {
    use diesel::prelude::*;
    use neighborbid::db::schema::users::dsl as u;
    let changed = diesel::update(u::users.filter(u::username.eq(username)))
        .set(u::is_active.eq(false))
        .execute(&mut app.raw_connection())
        .unwrap();
    assert_eq!(changed, 1);
}

/// (auctions, products) in the database.
fn listings_count(app: &TestApp) -> (i64, i64) {
    use diesel::prelude::*;
    use neighborbid::db::schema::{auctions, products};
    let mut conn = app.raw_connection();
    (
        auctions::table.count().get_result(&mut conn).unwrap(),
        products::table.count().get_result(&mut conn).unwrap(),
    )
}

async fn members_get_403_on_the_admin_user_routes(db: Db) {
    let app = spawn_app(db).await;
    let target = app.sign_up("target_one").await;
    let member = app.sign_up("nosy_member").await;
    let id = app.user_id("target_one");

    for path in ["/admin/users", "/admin/users?q=target&page=2"] {
        let r = app.get(&member, path).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(r.text().await.unwrap().contains("Not allowed"));
    }
    for r in [
        suspend(&app, &member, id).await,
        reactivate(&app, &member, id).await,
    ] {
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    let anon = app.client();
    let r = app.get(&anon, "/admin/users").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=%2Fadmin%2Fusers");
    assert!(sent_to_login(&suspend(&app, &anon, id).await));

    assert!(
        logged_in(&app, &target).await,
        "nothing happened to the target"
    );
    let (_, r) = app.log_in("target_one", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn admins_find_users_by_search_and_page_through_them(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin("chief").await;
    for i in 1..=22 {
        app.sign_up(&format!("page_user_{i:02}")).await;
    }

    let (status, first) = app.get_html(&admin, "/admin/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        first.contains("<span id=\"user-total\">23</span>"),
        "{first}"
    );
    assert!(first.contains("Page 1 of 2"));
    let page1 = rows(&first);
    assert_eq!(page1.len(), 20);
    let (_, second) = app.get_html(&admin, "/admin/users?page=2").await;
    let page2 = rows(&second);
    assert_eq!(page2.len(), 3);
    let mut ids: Vec<i64> = page1.iter().chain(&page2).map(|r| r.0).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 23, "every user once, on one page or the other");

    let found = |html: &str| -> Vec<String> { rows(html).into_iter().map(|r| r.1).collect() };
    let (_, html) = app.get_html(&admin, "/admin/users?q=PAGE_USER_07").await;
    assert_eq!(found(&html), vec!["page_user_07"], "any case, by username");
    let (_, html) = app
        .get_html(&admin, "/admin/users?q=Neighbour%20page_user_1")
        .await;
    assert_eq!(found(&html).len(), 10, "by display name: 10 to 19");
    let (_, html) = app.get_html(&admin, "/admin/users?q=page_user").await;
    assert!(
        ["&amp;", "&#38;"]
            .iter()
            .any(|amp| html.contains(&format!("href=\"/admin/users?q=page_user{amp}page=2\""))),
        "paging keeps the search"
    );
    let (_, html) = app
        .get_html(&admin, "/admin/users?q=page_user&page=2")
        .await;
    assert_eq!(found(&html).len(), 2);

    // What a hostile admin form could send: wildcards are literal, nothing breaks.
    for (q, expected) in [("%25", 0), ("_", 22), ("'%20OR%201=1%20--", 0)] {
        let (status, html) = app.get_html(&admin, &format!("/admin/users?q={q}")).await;
        assert_eq!(status, StatusCode::OK, "{q}");
        assert!(
            html.contains(&format!("<span id=\"user-total\">{expected}</span>")),
            "{q}"
        );
    }
    let long = "a".repeat(5000);
    for path in [
        format!("/admin/users?q={long}"),
        "/admin/users?page=-5".to_owned(),
        "/admin/users?page=abc".to_owned(),
        "/admin/users?page=999999999999".to_owned(),
    ] {
        let r = app.get(&admin, &path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path:.60}");
    }
}

async fn a_suspended_user_is_refused_on_every_request_until_reactivated(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin("warden").await;
    let seller = app.sign_up("honest_seller").await;
    let mut l = Listing::new("Bicycle");
    l.buy_now_price = "60000".into();
    let auction = app.list(&seller, &l).await;
    let token = app.csrf(&seller).await;
    let product_form = |token: &str| {
        Form::new()
            .text("csrf_token", token.to_owned())
            .text("name", "Desk lamp")
            .text("description", "Warm light.")
            .text("price", "12000")
            .text("quantity", "1")
            .text("category_id", "2")
            .text("region_id", "3")
    };
    let r = app
        .post_multipart(&seller, "/market/new", product_form(&token))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let product: i64 = r.headers()["location"].to_str().unwrap()["/market/".len()..]
        .parse()
        .unwrap();

    let bad = app.funded("mallory", 200_000).await;
    let (bad_phone, _) = app.log_in("mallory", PASSWORD).await;
    let token = app.csrf(&bad).await;
    let kept = bad.copy_cookies();
    let uid = app.user_id("mallory");

    let r = suspend(&app, &admin, uid).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/admin/users?q=mallory");
    let (_, html) = app.get_html(&admin, &location).await;
    assert!(
        html.contains("mallory is suspended; 2 sessions ended."),
        "{html}"
    );
    assert_eq!(rows(&html), vec![(uid, "mallory".to_owned(), false)]);

    // Both sessions are refused on their next GET…
    for b in [&bad, &bad_phone] {
        assert!(sent_to_login(&app.get(&b.copy_cookies(), "/wallet").await));
        assert!(!logged_in(&app, b).await);
    }
    // …and POST, with the cookie and token they had: bid, buy now, buy, list, sell, top up.
    let replay = || kept.copy_cookies();
    let posts = [
        (
            format!("/auctions/{auction}/bids"),
            vec![("amount", "10000")],
        ),
        (format!("/auctions/{auction}/buy-now"), vec![]),
        (format!("/market/{product}/buy"), vec![]),
        (
            "/wallet/top-up".to_owned(),
            vec![
                ("amount", "5000"),
                ("method", "dev"),
                ("idempotency_key", "suspended-key-0123456789"),
            ],
        ),
    ];
    for (path, mut fields) in posts {
        fields.push(("csrf_token", &token));
        let r = app.post_raw(&replay(), &path, &fields).await;
        assert!(sent_to_login(&r), "{path}: {}", r.status());
    }
    let listing = Form::new()
        .text("csrf_token", token.clone())
        .text("title", "Stolen goods")
        .text("description", "Cheap")
        .text("category_id", "1")
        .text("region_id", "3")
        .text("start_price", "10000")
        .text("bid_unit", "1000")
        .text("buy_now_price", "")
        .text("starts_at", "")
        .text("ends_at", crate::helpers::local_in(3600));
    let r = app.post_multipart(&replay(), "/auctions", listing).await;
    assert!(sent_to_login(&r), "listing: {}", r.status());
    let r = app
        .post_multipart(&replay(), "/market/new", product_form(&token))
        .await;
    assert!(sent_to_login(&r), "new product: {}", r.status());

    // Nothing moved, nothing was listed, and the right password does not log them in.
    let (status, _, leader, _, bids) = app.auction_row(auction);
    assert_eq!((status.as_str(), leader, bids), ("active", None, 0));
    assert!(app.holds().is_empty());
    assert_eq!(listings_count(&app), (1, 1));
    let (_, r) = app.log_in("mallory", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Wrong username or password"));

    // Suspending again changes nothing.
    let r = suspend(&app, &admin, uid).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_html(&admin, "/admin/users?q=mallory").await;
    assert!(html.contains("mallory was already suspended."));

    // Reactivated: they log in again; the old sessions stay ended.
    let r = reactivate(&app, &admin, uid).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_html(&admin, "/admin/users?q=mallory").await;
    assert!(html.contains("mallory can log in again."));
    assert_eq!(rows(&html), vec![(uid, "mallory".to_owned(), true)]);
    assert!(!logged_in(&app, &replay()).await);
    let (back, r) = app.log_in("mallory", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.wallet(&back).await, (200_000, 0));
    app.assert_audit_clean();
}

async fn an_admin_cannot_suspend_themselves_or_another_admin(db: Db) {
    let app = spawn_app(db).await;
    let first = app.admin("boss_one").await;
    let second = app.admin("boss_two").await;
    let me = app.user_id("boss_one");
    let them = app.user_id("boss_two");

    let r = suspend(&app, &first, me).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("You cannot suspend your own account."));
    let r = suspend(&app, &first, them).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Administrators cannot be suspended from the site."));
    for path in [
        "/admin/users/999999/suspend",
        "/admin/users/999999/reactivate",
        "/admin/users/abc/suspend",
        "/admin/users/-1/suspend",
    ] {
        let r = app.post(&first, path, &[]).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    for admin in [&first, &second] {
        assert_eq!(app.get(admin, "/admin").await.status(), StatusCode::OK);
    }
    let (_, html) = app.get_html(&first, "/admin/users").await;
    assert!(rows(&html).iter().all(|r| r.2), "everyone is still active");
    assert!(
        !html.contains(&format!("/admin/users/{me}/suspend"))
            && !html.contains(&format!("/admin/users/{them}/suspend")),
        "no Suspend button for admins"
    );
}

async fn a_suspended_users_live_socket_is_closed_at_once(db: Db) {
    // No periodic check in this test: only the suspension itself can close the socket.
    let app = spawn_app_with(db, |s| {
        s.ws_session_check_interval = Duration::from_secs(3600);
    })
    .await;
    let admin = app.admin("sock_admin").await;
    let seller = app.sign_up("sock_seller").await;
    let id = app.list(&seller, &national("Record player")).await;
    let bad = app.funded("sock_mallory", 100_000).await;
    let mut socket = app.ws(id, Some(&bad.jar)).await;
    let mut watcher = app.ws(id, None).await;
    expect_frame(&mut socket, "state", "₩10,000").await;
    expect_frame(&mut watcher, "state", "₩10,000").await;

    let r = suspend(&app, &admin, app.user_id("sock_mallory")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        close_code(&mut socket, Duration::from_secs(5)).await,
        Some(1008),
        "closed with a policy-violation frame"
    );

    // An anonymous watcher is untouched; the dead cookie reconnects as one and cannot bid.
    let bidder = app.funded("honest_bidder", 100_000).await;
    assert_eq!(app.bid(&bidder, id, 10_000).await.0, StatusCode::SEE_OTHER);
    expect_frame(&mut watcher, "state", "₩10,000").await;
    let mut again = app.ws(id, Some(&bad.jar)).await;
    expect_frame(&mut again, "state", "₩10,000").await;
    send_text(&mut again, r#"{"type":"bid","amount":"20000"}"#).await;
    expect_frame(&mut again, "error", "Log in to bid").await;
    assert_eq!(app.bid_amounts(id), vec![10_000]);
    app.assert_audit_clean();
}

async fn a_socket_whose_session_ended_elsewhere_is_closed_by_the_periodic_check(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.ws_session_check_interval = Duration::from_millis(200);
    })
    .await;
    let seller = app.sign_up("far_seller").await;
    let id = app.list(&seller, &national("Typewriter")).await;
    let user = app.sign_up("far_user").await;
    let mut socket = app.ws(id, Some(&user.jar)).await;
    expect_frame(&mut socket, "state", "₩10,000").await;

    suspend_behind_the_servers_back(&app, "far_user");
    assert_eq!(
        close_code(&mut socket, Duration::from_secs(5)).await,
        Some(1008),
        "the idle socket is closed by the periodic check"
    );
}

async fn a_socket_message_after_the_session_ended_closes_the_socket_and_does_nothing(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.ws_session_check_interval = Duration::from_secs(3600);
    })
    .await;
    let seller = app.sign_up("msg_seller").await;
    let id = app.list(&seller, &national("Camera")).await;
    let user = app.funded("msg_user", 100_000).await;
    let mut socket = app.ws(id, Some(&user.jar)).await;
    expect_frame(&mut socket, "state", "₩10,000").await;

    suspend_behind_the_servers_back(&app, "msg_user");
    send_text(&mut socket, r#"{"type":"bid","amount":"10000"}"#).await;
    assert_eq!(
        close_code(&mut socket, Duration::from_secs(5)).await,
        Some(1008),
        "the message is refused and the socket closed"
    );
    assert!(app.bid_amounts(id).is_empty(), "no bid was recorded");
    assert!(app.holds().is_empty(), "nothing was held");
    app.assert_audit_clean();
}
