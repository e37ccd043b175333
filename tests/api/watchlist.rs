//! The watchlist (issue 13 item 8): a star on every card and auction page, `/me/watchlist`
//! with the auctions as they are now.

use reqwest::StatusCode;

use crate::helpers::{both_databases, spawn_app, Db, Listing};

both_databases!(
    a_member_stars_an_auction_and_finds_it_on_the_watchlist_as_it_is_now,
    the_star_works_from_the_list_and_turns_over_without_a_state,
    nobody_stars_a_missing_auction_or_without_a_login_or_a_csrf_token,
);

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn watch_rows(app: &crate::helpers::TestApp) -> i64 {
    use diesel::prelude::*;
    neighborbid::db::schema::watchlist::table
        .count()
        .get_result(&mut app.raw_connection())
        .expect("count")
}

async fn a_member_stars_an_auction_and_finds_it_on_the_watchlist_as_it_is_now(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let watcher = app.sign_up("watcher").await;
    let bidder = app.funded("bidder", 100_000).await;
    let id = app.list(&seller, &Listing::new("Brass lamp")).await;
    let page = format!("/auctions/{id}");

    let (_, html) = app.get_html(&watcher, &page).await;
    assert!(html.contains("☆ Watch"), "{html}");
    let (_, html) = app.get_html(&watcher, "/me/watchlist").await;
    assert!(!html.contains("Brass lamp"), "{html}");

    let r = app
        .post(
            &watcher,
            &format!("/auctions/{id}/watch"),
            &[("watch", "on"), ("next", &page)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), page);
    let (_, html) = app.get_html(&watcher, &page).await;
    assert!(html.contains("★ Watching"), "{html}");
    // Starring again keeps one star.
    let r = app
        .post(
            &watcher,
            &format!("/auctions/{id}/watch"),
            &[("watch", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(watch_rows(&app), 1);

    // A first maximum of ₩12,000 prices at the start price (proxy bidding).
    assert_eq!(app.bid(&bidder, id, 12_000).await.0, StatusCode::SEE_OTHER);
    let (status, html) = app.get_html(&watcher, "/me/watchlist").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Brass lamp"), "{html}");
    assert!(
        html.contains(&format!("data-auction-id=\"{id}\" data-price=\"10000\"")),
        "{html}"
    );
    assert!(
        html.contains("Neighbour bidder"),
        "the leader is named: {html}"
    );
    assert!(html.contains("Active"), "{html}");
    // Someone else's watchlist is their own.
    let (_, html) = app.get_html(&bidder, "/me/watchlist").await;
    assert!(!html.contains("Brass lamp"), "{html}");

    let r = app
        .post(
            &watcher,
            &format!("/auctions/{id}/watch"),
            &[("watch", "off"), ("next", "/me/watchlist")],
        )
        .await;
    assert_eq!(location(&r), "/me/watchlist");
    let (_, html) = app.get_html(&watcher, "/me/watchlist").await;
    assert!(!html.contains("Brass lamp"), "{html}");
    assert_eq!(watch_rows(&app), 0);
    app.assert_audit_clean();
}

async fn the_star_works_from_the_list_and_turns_over_without_a_state(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let watcher = app.sign_up("watcher").await;
    let id = app.list(&seller, &Listing::new("Garden chair")).await;
    let (_, html) = app.get_html(&watcher, "/auctions").await;
    let form = format!("action=\"/auctions/{id}/watch\"");
    assert!(html.contains(&form), "every card has a star: {html}");
    assert!(html.contains("aria-pressed=\"false\""), "{html}");
    // No `watch` field: the star turns over, and the next= keeps the list page.
    let r = app
        .post(
            &watcher,
            &format!("/auctions/{id}/watch"),
            &[("next", "/auctions?sort=new")],
        )
        .await;
    assert_eq!(location(&r), "/auctions?sort=new");
    let (_, html) = app.get_html(&watcher, "/auctions").await;
    assert!(html.contains("aria-pressed=\"true\""), "{html}");
    app.post(&watcher, &format!("/auctions/{id}/watch"), &[])
        .await;
    let (_, html) = app.get_html(&watcher, "/auctions").await;
    assert!(html.contains("aria-pressed=\"false\""), "{html}");
    // A visitor sees no star to press.
    let (_, html) = app.get_html(&app.client(), "/auctions").await;
    assert!(!html.contains(&form), "{html}");
    // A next= to another site goes to the auction instead.
    let r = app
        .post(
            &watcher,
            &format!("/auctions/{id}/watch"),
            &[("next", "//evil.example/")],
        )
        .await;
    assert_eq!(location(&r), format!("/auctions/{id}"));
}

async fn nobody_stars_a_missing_auction_or_without_a_login_or_a_csrf_token(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let watcher = app.sign_up("watcher").await;
    let id = app.list(&seller, &Listing::new("Tea set")).await;

    let r = app
        .post(&watcher, "/auctions/999999/watch", &[("watch", "on")])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app
        .post(&watcher, "/auctions/-1/watch", &[("watch", "on")])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app
        .post(&watcher, "/auctions/abc/watch", &[("watch", "on")])
        .await;
    assert!(r.status().is_client_error(), "{}", r.status());

    let visitor = app.client();
    let r = app
        .post(
            &visitor,
            &format!("/auctions/{id}/watch"),
            &[("watch", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/login"), "{}", location(&r));
    let r = app.get(&visitor, "/me/watchlist").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/login"), "{}", location(&r));

    let r = app
        .post_raw(
            &watcher,
            &format!("/auctions/{id}/watch"),
            &[("watch", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post_raw(
            &watcher,
            &format!("/auctions/{id}/watch"),
            &[("watch", "on"), ("csrf_token", "forged")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(watch_rows(&app), 0, "nothing was starred");
}
