//! The watchlist (issue 13 item 8): a star on every card and auction page, `/me/watchlist`
//! with the auctions as they are now.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{
    both_databases, expect_frame, local_in, next_frame, postgres_or_skip, spawn_app, Db, Listing,
    TestApp,
};

both_databases!(
    a_member_stars_an_auction_and_finds_it_on_the_watchlist_as_it_is_now,
    the_star_works_from_the_list_and_turns_over_without_a_state,
    nobody_stars_a_missing_auction_or_without_a_login_or_a_csrf_token,
    the_open_watchlist_shows_each_bid_and_the_sale_without_a_reload,
    an_open_watchlist_does_not_count_as_a_watcher_on_the_auction_page,
    the_watchlist_socket_pushes_rows_only_for_the_auctions_its_member_watches,
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

async fn star(app: &TestApp, who: &crate::helpers::Browser, id: i64) {
    let r = app
        .post(who, &format!("/auctions/{id}/watch"), &[("watch", "on")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// The watchlist row of auction `id` in a page (`<tr …>` to `</tr>`).
fn page_row(html: &str, id: i64) -> String {
    let start = html
        .find(&format!("<tr class=\"watch-row\" data-auction-id=\"{id}\""))
        .unwrap_or_else(|| panic!("no row for {id}: {html}"));
    let end = start + html[start..].find("</tr>").expect("row end") + "</tr>".len();
    html[start..end].to_owned()
}

/// The row without its time left (which moves between two renders).
fn without_time_left(row: &str) -> String {
    let start = row.find("<span class=\"state\">").expect("state cell");
    let end = start + row[start..].find("</td>").expect("cell end");
    format!("{}{}", &row[..start], &row[end..])
}

/// Watch frames read (at most 5 s) until one for `id` whose HTML contains `needle`: the
/// auctions of the frames read before it, and the matching frame's HTML.
async fn watch_frames_until(
    ws: &mut crate::helpers::Ws,
    id: i64,
    needle: &str,
) -> (Vec<i64>, String) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut before = Vec::new();
    while let Some(frame) = next_frame(
        ws,
        deadline.saturating_duration_since(tokio::time::Instant::now()),
    )
    .await
    {
        if frame["type"] != "watch" {
            continue;
        }
        let auction = frame["auction"].as_i64().expect("auction id");
        let html = frame["html"].as_str().unwrap_or_default().to_owned();
        if auction == id && html.contains(needle) {
            return (before, html);
        }
        before.push(auction);
    }
    panic!("no watch frame for {id} containing {needle:?} within 5 s; saw rows of {before:?}");
}

async fn the_open_watchlist_shows_each_bid_and_the_sale_without_a_reload(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let watcher = app.sign_up("watcher").await;
    let alice = app.funded("alice", 100_000).await;
    let bora = app.funded("bora", 100_000).await;
    let mut listing = Listing::new("Walnut desk");
    listing.ends_at = local_in(8);
    let id = app.list(&seller, &listing).await;
    star(&app, &watcher, id).await;

    let (_, page) = app.get_html(&watcher, "/me/watchlist").await;
    assert!(page.contains("id=\"watchlist\""), "{page}");
    let mut ws = watcher.watchlist_ws().await;
    // On opening, the row as it is now.
    let (_, html) = watch_frames_until(&mut ws, id, "no bids").await;
    assert!(html.contains("data-price=\"10000\""), "{html}");

    // A first maximum prices at the start price; the leader is named.
    assert_eq!(app.bid(&alice, id, 15_000).await.0, StatusCode::SEE_OTHER);
    let (_, html) = watch_frames_until(&mut ws, id, "Neighbour alice").await;
    assert!(html.contains("data-price=\"10000\""), "{html}");
    assert!(html.contains("next bid from ₩11,000"), "{html}");
    // Bora's ₩20,000 beats Alice's ₩15,000 maximum: one step over it.
    assert_eq!(app.bid(&bora, id, 20_000).await.0, StatusCode::SEE_OTHER);
    let (_, pushed) = watch_frames_until(&mut ws, id, "Neighbour bora").await;
    assert!(pushed.contains("data-price=\"16000\""), "{pushed}");
    assert!(pushed.contains("₩16,000"), "{pushed}");
    // The pushed row is the row a reload shows (the same partial, the same CSRF token).
    let (_, page) = app.get_html(&watcher, "/me/watchlist").await;
    assert_eq!(
        without_time_left(&pushed),
        without_time_left(&page_row(&page, id))
    );

    // The close: sold, no next bid.
    assert_eq!(app.wait_closed(id).await, "sold");
    let (_, html) = watch_frames_until(&mut ws, id, "data-status=\"sold\"").await;
    assert!(html.contains("Sold"), "{html}");
    assert!(html.contains("₩16,000"), "{html}");
    assert!(!html.contains("next bid from"), "{html}");
    app.assert_audit_clean();
}

async fn an_open_watchlist_does_not_count_as_a_watcher_on_the_auction_page(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let watcher = app.sign_up("watcher").await;
    let alice = app.funded("alice", 100_000).await;
    let mut listing = Listing::new("Counted lamp");
    listing.national = true;
    let id = app.list(&seller, &listing).await;
    star(&app, &watcher, id).await;

    // One panel open on the auction page.
    let mut panel = app.ws(id, None).await;
    let (_, page) = app.get_html(&seller, &format!("/auctions/{id}")).await;
    assert!(page.contains("1 watching"), "{page}");
    // Two watchlists open on it (two tabs).
    let mut list = watcher.watchlist_ws().await;
    let mut second = watcher.watchlist_ws().await;
    watch_frames_until(&mut list, id, "no bids").await;
    watch_frames_until(&mut second, id, "no bids").await;

    assert_eq!(app.bid(&alice, id, 12_000).await.0, StatusCode::SEE_OTHER);
    watch_frames_until(&mut list, id, "Neighbour alice").await;
    watch_frames_until(&mut second, id, "Neighbour alice").await;
    // The panel still counts one watcher, and so does the page.
    let state = expect_frame(&mut panel, "state", "Neighbour alice").await;
    assert!(state.contains("1 watching"), "{state}");
    let (_, page) = app.get_html(&seller, &format!("/auctions/{id}")).await;
    assert!(page.contains("1 watching"), "{page}");
    assert!(!page.contains("3 watching"), "{page}");
    app.assert_audit_clean();
}

async fn the_watchlist_socket_pushes_rows_only_for_the_auctions_its_member_watches(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let watcher = app.sign_up("watcher").await;
    let other = app.sign_up("other").await;
    let alice = app.funded("alice", 100_000).await;
    let watched = app.list(&seller, &Listing::new("Watched radio")).await;
    let unwatched = app.list(&seller, &Listing::new("Unwatched radio")).await;
    star(&app, &watcher, watched).await;
    star(&app, &other, unwatched).await;

    let mut ws = watcher.watchlist_ws().await;
    watch_frames_until(&mut ws, watched, "no bids").await;
    // Another member follows the other auction in the same process: its changes are rendered
    // for them, on the channel every watchlist of the process shares.
    let mut others = other.watchlist_ws().await;
    watch_frames_until(&mut others, unwatched, "no bids").await;
    // Without `?watchlist=1` (any other page), no rows at all.
    let mut header = watcher.me_ws().await;
    // A hostile query asks for nothing more.
    let mut odd = crate::helpers::connect_me_to(
        &app.address,
        "/me/live?watchlist=0&watchlist[]=1&auction=2",
        Some(&watcher.jar),
        Some(&app.address),
    )
    .await
    .expect("the socket opens");

    // A bid on the auction this member does not watch, then one on the one they watch.
    assert_eq!(
        app.bid(&alice, unwatched, 11_000).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.bid(&alice, watched, 11_000).await.0,
        StatusCode::SEE_OTHER
    );
    let (before, html) = watch_frames_until(&mut ws, watched, "Neighbour alice").await;
    assert!(
        !before.contains(&unwatched),
        "a row of an auction not watched was pushed: {before:?}"
    );
    assert!(!html.contains("Unwatched radio"), "{html}");
    let (before, _) = watch_frames_until(&mut others, unwatched, "Neighbour alice").await;
    assert!(!before.contains(&watched), "{before:?}");
    // Nothing more comes for the other auction.
    while let Some(frame) = next_frame(&mut ws, Duration::from_millis(500)).await {
        assert_ne!(frame["type"], "watch", "{frame}");
    }
    for socket in [&mut header, &mut odd] {
        while let Some(frame) = next_frame(socket, Duration::from_millis(300)).await {
            assert_ne!(frame["type"], "watch", "{frame}");
        }
    }
    app.assert_audit_clean();
}

/// Two server processes on one PostgreSQL database: a watchlist open on one shows a bid placed
/// through the other (the `LISTEN` thread feeds every process's relay).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watchlist_socket_hears_of_a_bid_placed_through_another_server_process() {
    if !postgres_or_skip(
        "the_watchlist_socket_hears_of_a_bid_placed_through_another_server_process",
    ) {
        return;
    }
    let app = spawn_app(Db::Postgres).await;
    let other = app.spawn_process().await;
    let seller = app.sign_up("seller").await;
    let watcher = app.sign_up("watcher").await;
    app.funded("alice", 100_000).await;
    let bora = app.funded("bora", 100_000).await;
    let id = app.list(&seller, &Listing::new("Copper pot")).await;
    star(&app, &watcher, id).await;

    let mut local = watcher.watchlist_ws().await;
    watch_frames_until(&mut local, id, "no bids").await;
    let alice_there = other.browser();
    assert_eq!(
        alice_there
            .log_in("alice", crate::helpers::PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(alice_there.bid(id, 15_000).await.0, StatusCode::SEE_OTHER);
    let (_, html) = watch_frames_until(&mut local, id, "Neighbour alice").await;
    assert!(html.contains("data-price=\"10000\""), "{html}");

    // And the other way round: the watchlist there, Bora's bid here.
    let watcher_there = other.browser();
    assert_eq!(
        watcher_there
            .log_in("watcher", crate::helpers::PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let mut remote = watcher_there.watchlist_ws().await;
    watch_frames_until(&mut remote, id, "Neighbour alice").await;
    assert_eq!(app.bid(&bora, id, 20_000).await.0, StatusCode::SEE_OTHER);
    let (_, html) = watch_frames_until(&mut remote, id, "Neighbour bora").await;
    assert!(html.contains("data-price=\"16000\""), "{html}");
    watch_frames_until(&mut local, id, "Neighbour bora").await;
    app.assert_audit_clean();
}
