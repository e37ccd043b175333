//! The live panel of national auctions, over real WebSockets, on both databases.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use reqwest::StatusCode;

use crate::helpers::{
    both_databases, expect_frame, local_in, next_frame, postgres_or_skip, send_text, spawn_app,
    spawn_app_with, Db, Listing, PASSWORD,
};

both_databases!(
    every_watcher_receives_a_bid_placed_through_the_form,
    socket_bids_get_an_ack_or_the_broken_rule_and_the_outbid_bidder_is_told,
    bad_frames_get_an_error_frame_and_the_socket_stays_usable,
    only_same_origin_sockets_on_national_auctions_are_accepted,
    a_rolled_back_bid_pushes_nothing,
    closing_buying_now_and_cancelling_reach_every_watcher,
    a_silent_client_is_dropped,
    a_watcher_that_falls_behind_ends_with_the_latest_state,
    watchers_see_a_scheduled_auction_open,
);

async fn watchers_see_a_scheduled_auction_open(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("open_seller").await;
    let mut l = national("Opens soon");
    l.starts_at = local_in(2);
    let id = app.list(&seller, &l).await;
    let mut ws = app.ws(id, None).await;
    expect_frame(&mut ws, "state", "Opens in").await;
    // (A frame may come between: the panel is re-rendered when its watcher count changes.)
    let html = expect_frame(&mut ws, "state", "data-status=\"active\"").await;
    assert!(html.contains("Time left"), "{html}");
    assert_eq!(app.auction_row(id).0, "active");
}

fn national(title: &str) -> Listing {
    let mut l = Listing::new(title);
    l.national = true;
    l
}

async fn every_watcher_receives_a_bid_placed_through_the_form(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("nat_seller").await;
    let bidder = app.funded("nat_bidder", 100_000).await;
    let id = app.list(&seller, &national("Vintage radio")).await;
    let mut watchers = Vec::new();
    for _ in 0..20 {
        let mut ws = app.ws(id, None).await;
        expect_frame(&mut ws, "state", "₩10,000").await; // the snapshot on connect
        watchers.push(ws);
    }
    let (_, page) = app.get_html(&bidder, &format!("/auctions/{id}")).await;
    assert!(
        page.contains("data-live-url=\"/auctions/"),
        "the page carries the live panel"
    );
    assert!(page.contains("/static/js/live.js"));
    assert!(
        page.contains("id=\"auction-state\""),
        "the page renders the same partial"
    );

    // A maximum of ₩12,000 leads at the start price; watchers see the price, not the maximum.
    assert_eq!(app.bid(&bidder, id, 12_000).await.0, StatusCode::SEE_OTHER);
    for ws in &mut watchers {
        let html = expect_frame(ws, "state", "Neighbour nat_bidder").await;
        assert!(
            html.contains("id=\"auction-state\""),
            "a fragment of the page's own partial"
        );
        assert!(html.contains("₩10,000"), "the price");
        assert!(!html.contains("12,000"), "never the maximum: {html}");
        assert!(html.contains("data-min-bid=\"11000\""));
    }
    app.assert_audit_clean();
}

async fn socket_bids_get_an_ack_or_the_broken_rule_and_the_outbid_bidder_is_told(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("sock_seller").await;
    let first = app.sign_up("sock_first").await;
    let second = app.sign_up("sock_second").await;
    for c in [&first, &second] {
        assert_eq!(
            app.top_up(c, "100000").await.status(),
            StatusCode::SEE_OTHER
        );
    }
    let anon_client = app.client();
    let _ = seller;
    let id = app
        .list(&app.sign_up("sock_seller2").await, &national("Desk"))
        .await;

    let mut a = first.ws(id).await;
    let mut b = second.ws(id).await;
    let mut anon = anon_client.ws(id).await;
    for ws in [&mut a, &mut b, &mut anon] {
        expect_frame(ws, "state", "₩10,000").await;
    }

    send_text(&mut a, r#"{"type":"bid","amount":"10000"}"#).await;
    expect_frame(&mut a, "ack", "Your bid of ₩10,000 leads.").await;
    expect_frame(&mut b, "state", "₩10,000").await;
    assert_eq!(app.wallet(&first).await, (90_000, 10_000));

    // The same wording as the form.
    send_text(&mut b, r#"{"type":"bid","amount":"10500"}"#).await;
    expect_frame(&mut b, "error", "Bids go up in steps of ₩1,000").await;
    send_text(&mut b, r#"{"type":"bid","amount":"10000"}"#).await;
    expect_frame(&mut b, "error", "Your bid must be at least ₩11,000.").await;
    let (_, form_page) = app.bid(&second, id, 10_000).await;
    assert!(form_page.contains("Your bid must be at least ₩11,000."));
    send_text(&mut anon, r#"{"type":"bid","amount":"20000"}"#).await;
    expect_frame(&mut anon, "error", "Log in to bid.").await;

    send_text(&mut b, r#"{"type":"bid","amount":"15000"}"#).await;
    expect_frame(
        &mut b,
        "ack",
        "You lead at ₩11,000. Your maximum of ₩15,000 is held",
    )
    .await;
    expect_frame(
        &mut a,
        "outbid",
        "You were outbid: ₩10,000 was released to your wallet.",
    )
    .await;
    assert_eq!(app.wallet(&first).await, (100_000, 0));
    assert_eq!(app.wallet(&second).await, (85_000, 15_000));
    assert_eq!(app.auction_row(id).1, 11_000);
    // A lower maximum over the socket: accepted, outbid at once, told the new price.
    send_text(&mut a, r#"{"type":"bid","amount":"13000"}"#).await;
    expect_frame(
        &mut a,
        "outbid",
        "you were outbid at once. The price is now ₩14,000.",
    )
    .await;
    assert_eq!(app.wallet(&first).await, (100_000, 0));
    assert_eq!(app.wallet(&second).await, (85_000, 15_000));
    app.assert_audit_clean();
}

async fn bad_frames_get_an_error_frame_and_the_socket_stays_usable(db: Db) {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let app = spawn_app(db).await;
    let seller = app.sign_up("frame_seller").await;
    let bidder = app.sign_up("frame_bidder").await;
    assert_eq!(
        app.top_up(&bidder, "50000").await.status(),
        StatusCode::SEE_OTHER
    );
    let id = app.list(&seller, &national("Lamp")).await;
    let mut ws = bidder.ws(id).await;
    expect_frame(&mut ws, "state", "₩10,000").await;
    for bad in [
        "not json",
        "{}",
        r#"{"type":"dance"}"#,
        r#"{"type":"bid"}"#,
        r#"{"type":"bid","amount":12000}"#,
        "[1,2,3]",
    ] {
        send_text(&mut ws, bad).await;
        expect_frame(&mut ws, "error", "not understood").await;
    }
    for (amount, reason) in [
        ("abc", "whole number"),
        ("1e30", "whole number"),
        ("-5", "more than zero"),
        (&"9".repeat(500)[..], "far too large"),
    ] {
        send_text(&mut ws, &format!(r#"{{"type":"bid","amount":"{amount}"}}"#)).await;
        expect_frame(&mut ws, "error", reason).await;
    }
    ws.send(Message::binary(vec![0_u8, 159, 146, 150]))
        .await
        .unwrap();
    expect_frame(&mut ws, "error", "Send text frames").await;
    send_text(&mut ws, r#"{"type":"bid","amount":"10000"}"#).await;
    expect_frame(&mut ws, "ack", "Your bid of ₩10,000 leads.").await;
    assert_eq!(app.wallet(&bidder).await, (40_000, 10_000));
    app.assert_audit_clean();
}

async fn only_same_origin_sockets_on_national_auctions_are_accepted(db: Db) {
    use tokio_tungstenite::tungstenite::Error;
    let app = spawn_app(db).await;
    let seller = app.sign_up("origin_seller").await;
    let id = app.list(&seller, &national("Clock")).await;
    let local = app.list(&seller, &Listing::new("Local clock")).await;
    let status = |r: Result<_, Error>| match r {
        Err(Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => 101,
    };
    assert_eq!(
        status(app.ws_with(id, None, Some("http://evil.example")).await),
        403
    );
    assert_eq!(status(app.ws_with(id, None, None).await), 403);
    assert_eq!(
        status(app.ws_with(local, None, Some(&app.address)).await),
        404
    );
    assert_eq!(
        status(app.ws_with(987_654, None, Some(&app.address)).await),
        404
    );
    assert_eq!(status(app.ws_with(id, None, Some(&app.address)).await), 101);
}

async fn a_rolled_back_bid_pushes_nothing(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("rb_seller").await;
    let bidder = app.funded("rb_bidder", 100_000).await;
    let id = app.list(&seller, &national("Bike")).await;
    // Fault injection: the bid row of a ₩13,000 maximum fails to insert, after the wallet was written
    // (and, on PostgreSQL, after NOTIFY was sent inside the transaction).
    let mut conn = app.raw_connection();
    let trigger = match db {
        Db::Sqlite => "CREATE TRIGGER fail_bid BEFORE INSERT ON bids WHEN NEW.max_amount = 13000 \
                       BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        Db::Postgres => "CREATE FUNCTION fail_bid() RETURNS trigger AS $$ BEGIN \
                         IF NEW.max_amount = 13000 THEN RAISE EXCEPTION 'injected failure'; END IF; \
                         RETURN NEW; END; $$ LANGUAGE plpgsql; \
                         CREATE TRIGGER fail_bid BEFORE INSERT ON bids FOR EACH ROW EXECUTE FUNCTION fail_bid();",
    };
    conn.batch_execute(trigger).unwrap();
    let mut ws = app.ws(id, None).await;
    expect_frame(&mut ws, "state", "₩10,000").await;
    // The panel is re-rendered once when its watcher count changes (within a few seconds of
    // the socket joining): let that pass first, so what follows hears only the bid.
    while next_frame(&mut ws, Duration::from_millis(3000))
        .await
        .is_some()
    {}

    let (status, _) = app.bid(&bidder, id, 13_000).await;
    assert_eq!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "the injected failure"
    );
    assert!(
        next_frame(&mut ws, Duration::from_millis(1500))
            .await
            .is_none(),
        "nothing was pushed"
    );
    assert_eq!(
        app.wallet(&bidder).await,
        (100_000, 0),
        "the hold was rolled back"
    );
    assert_eq!(app.auction_row(id).4, 0);

    assert_eq!(app.bid(&bidder, id, 14_000).await.0, StatusCode::SEE_OTHER);
    let html = expect_frame(&mut ws, "state", "Neighbour rb_bidder").await;
    assert!(
        html.contains("₩10,000") && !html.contains("14,000"),
        "{html}"
    );
    assert_eq!(app.wallet(&bidder).await, (86_000, 14_000));
    app.assert_audit_clean();
}

async fn closing_buying_now_and_cancelling_reach_every_watcher(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("end_seller").await;
    let bidder = app.funded("end_bidder", 1_000_000).await;
    let admin = app.admin("end_admin").await;

    let mut ending = national("Ends soon");
    ending.ends_at = local_in(2);
    let closing = app.list(&seller, &ending).await;
    let mut buyable = national("Buy me");
    buyable.buy_now_price = "90000".into();
    let bought = app.list(&seller, &buyable).await;
    let cancelled = app.list(&seller, &national("Cancel me")).await;
    let mut w1 = app.ws(closing, None).await;
    let mut w2 = app.ws(bought, None).await;
    let mut w3 = app.ws(cancelled, None).await;
    for ws in [&mut w1, &mut w2, &mut w3] {
        expect_frame(ws, "state", "₩10,000").await;
    }
    assert_eq!(
        app.bid(&bidder, closing, 11_000).await.0,
        StatusCode::SEE_OTHER
    );
    expect_frame(&mut w1, "state", "Neighbour end_bidder").await;
    // The scheduler's close: the price, the start price here.
    expect_frame(&mut w1, "state", "Sold for <strong>₩10,000</strong>").await;

    assert_eq!(app.buy_now(&bidder, bought).await.0, StatusCode::SEE_OTHER);
    expect_frame(&mut w2, "state", "Sold for <strong>₩90,000</strong>").await;

    assert_eq!(
        app.bid(&bidder, cancelled, 10_000).await.0,
        StatusCode::SEE_OTHER
    );
    expect_frame(&mut w3, "state", "Neighbour end_bidder").await;
    app.post(&admin, &format!("/admin/auctions/{cancelled}/cancel"), &[])
        .await;
    expect_frame(&mut w3, "state", "was cancelled").await;
    app.assert_audit_clean();
}

async fn a_silent_client_is_dropped(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.ws_ping_interval = Duration::from_millis(200);
        s.ws_idle_timeout = Duration::from_millis(600);
    })
    .await;
    let seller = app.sign_up("quiet_seller").await;
    let id = app.list(&seller, &national("Quiet")).await;
    let mut ws = app.ws(id, None).await;
    // Not reading means not answering the server's pings.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // What the server sent before giving up is still buffered: read to the end. A socket the
    // server kept open would time out here (reading now would also answer its pings).
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the server closed the silent socket");
}

async fn a_watcher_that_falls_behind_ends_with_the_latest_state(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("lag_seller").await;
    let bidder = app.funded("lag_bidder", 10_000_000).await;
    let mut l = national("Busy");
    l.start_price = "1000".into();
    let id = app.list(&seller, &l).await;
    let mut ws = app.ws(id, None).await;
    expect_frame(&mut ws, "state", "₩1,000").await;
    // Two bidders take turns, each maximum one step over the other's: the price follows.
    let rival = app.funded("lag_rival", 10_000_000).await;
    let tokens = [app.csrf(&rival).await, app.csrf(&bidder).await];
    for i in 1..=80 {
        let who = if i % 2 == 0 { &rival } else { &bidder };
        let (status, _) = app
            .bid_with(who, &tokens[i % 2], id, &(i * 1000).to_string())
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    assert_eq!(app.auction_row(id).1, 80_000);
    // Read everything that arrived: the newest state must be the final one.
    let mut last = String::new();
    let mut frames = 0;
    while let Some(frame) = next_frame(&mut ws, Duration::from_millis(1500)).await {
        frames += 1;
        if frame["type"] == "state" {
            last = frame["html"].as_str().unwrap_or_default().to_owned();
        }
    }
    assert!(
        last.contains("₩80,000"),
        "the last state is the final price ({frames} frames)"
    );
    app.assert_audit_clean();
}

/// Two server processes on one PostgreSQL database: a bid on one reaches a watcher on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bid_on_one_process_reaches_a_watcher_on_another() {
    if !postgres_or_skip("a_bid_on_one_process_reaches_a_watcher_on_another") {
        return;
    }
    let app = spawn_app(Db::Postgres).await;
    let other = app.spawn_process().await;
    let seller = app.sign_up("proc_seller").await;
    let bidder = app.funded("proc_bidder", 100_000).await;
    let id = app.list(&seller, &national("Across processes")).await;

    // A watcher on the other process (its own Origin).
    let mut remote = other.browser().ws(id).await;
    let mut local = app.ws(id, None).await;
    expect_frame(&mut remote, "state", "₩10,000").await;
    expect_frame(&mut local, "state", "₩10,000").await;

    assert_eq!(app.bid(&bidder, id, 21_000).await.0, StatusCode::SEE_OTHER);
    expect_frame(&mut remote, "state", "Neighbour proc_bidder").await;
    expect_frame(&mut local, "state", "Neighbour proc_bidder").await;
    // And the other way round: a bid through the other process reaches this one's watcher.
    app.funded("proc_second", 100_000).await;
    let there = other.browser();
    assert_eq!(
        there.log_in("proc_second", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    // ₩30,000 beats the ₩21,000 maximum: the price is one step over it.
    assert_eq!(there.bid(id, 30_000).await.0, StatusCode::SEE_OTHER);
    expect_frame(&mut local, "state", "₩22,000").await;
    expect_frame(&mut remote, "state", "₩22,000").await;
    app.assert_audit_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_count_covers_every_server_process() {
    // Two processes on one PostgreSQL: a panel on either counts the watchers of both, and the
    // count follows a socket that leaves.
    if !postgres_or_skip("the_watcher_count_covers_every_server_process") {
        return;
    }
    let app = spawn_app(Db::Postgres).await;
    let other = app.spawn_process().await;
    let seller = app.sign_up("count_seller").await;
    let id = app.list(&seller, &national("Counted everywhere")).await;
    let mut local = app.ws(id, None).await;
    let mut remote = other.browser().ws(id).await;
    let mut second_remote = other.browser().ws(id).await;
    // Each process writes its count every few seconds and has every panel re-rendered when it
    // changes: both panels come to show all three watchers.
    expect_frame(&mut local, "state", "3 watching").await;
    expect_frame(&mut remote, "state", "3 watching").await;
    let (_, page) = app.get_html(&seller, &format!("/auctions/{id}")).await;
    assert!(page.contains("3 watching"), "{page}");
    drop(second_remote.close(None).await);
    expect_frame(&mut local, "state", "2 watching").await;
    expect_frame(&mut remote, "state", "2 watching").await;
}
