//! One-time keys on money forms (issue 12 item 3, DESIGN §9): a form sent again with its key —
//! after a lost answer, a double click, a connection cut during `COMMIT` — returns the first
//! outcome and never acts twice; the same key with other values is another intent. Each page
//! renders a fresh key into every money form.

use futures_util::future::join_all;
use reqwest::StatusCode;

use crate::helpers::{
    both_databases, expect_frame, field_value, postgres_or_skip, send_text, spawn_app,
    spawn_app_with, Browser, CommitCutter, Db, Listing, TestApp,
};
use crate::market::list_product;
use crate::payments::{checkout, come_back, location};

both_databases!(
    every_money_form_carries_a_fresh_one_time_key,
    a_bid_sent_again_with_its_key_acts_once_and_answers_as_the_first_time,
    twenty_concurrent_submissions_of_one_bid_form_place_one_bid,
    the_same_key_with_another_amount_is_a_new_bid,
    buy_now_purchase_top_up_refund_and_payout_sent_twice_act_once,
    a_live_bid_sent_again_with_its_key_after_a_lost_answer_acts_once,
);

const KEY: &str = "0123456789abcdef0123456789abcdef";

/// The bids an auction accepted: (bidder, maximum entered), one row of its own each (rows the
/// site placed for a leader's maximum are not submissions).
fn bids_of(app: &TestApp, auction: i64) -> Vec<(i64, i64)> {
    app.submissions(auction)
}

fn count(app: &TestApp, table: &str) -> i64 {
    use diesel::prelude::*;
    use neighborbid::db::schema::{payments, payouts, trades};
    let mut conn = app.raw_connection();
    match table {
        "payments" => payments::table.count().get_result(&mut conn),
        "payouts" => payouts::table.count().get_result(&mut conn),
        "trades" => trades::table.count().get_result(&mut conn),
        other => panic!("{other}"),
    }
    .expect("count")
}

async fn national_auction(app: &TestApp, seller: &Browser, buy_now: &str) -> i64 {
    let mut l = Listing::new("Film camera");
    l.national = true;
    l.buy_now_price = buy_now.to_owned();
    app.list(seller, &l).await
}

/// POST `fields` plus a CSRF token to `path`, `times` times one after the other (as a browser
/// resending a form whose answer was lost): the statuses and `Location`s.
async fn send_again(
    app: &TestApp,
    b: &Browser,
    path: &str,
    fields: &[(&str, &str)],
    times: usize,
) -> Vec<(StatusCode, String)> {
    let token = app.csrf(b).await;
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("csrf_token", token.as_str()));
    let mut answers = Vec::new();
    for _ in 0..times {
        let r = app.post_raw(b, path, &form).await;
        let status = r.status();
        let to = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = r.text().await.unwrap_or_default();
        assert!(!status.is_server_error(), "{path}: {status} {body}");
        answers.push((status, to));
    }
    answers
}

async fn every_money_form_carries_a_fresh_one_time_key(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let buyer = app.funded("buyer", 500_000).await;
    let auction = national_auction(&app, &seller, "90000").await;
    let product = list_product(&app, &seller, "Rice cooker", "40000", "2").await;
    let mut seen = Vec::new();
    for path in [
        format!("/auctions/{auction}"),
        format!("/market/{product}"),
        "/wallet".to_owned(),
        "/wallet/payouts".to_owned(),
    ] {
        let (_, first) = app.get_html(&buyer, &path).await;
        let (_, again) = app.get_html(&buyer, &path).await;
        let a = field_value(&first, "idempotency_key").unwrap_or_else(|| panic!("{path}: {first}"));
        let b = field_value(&again, "idempotency_key").expect("key");
        assert!(a.len() >= 32, "{path}: {a}");
        assert_ne!(a, b, "{path}: a fresh key each time the page is shown");
        seen.push(a);
    }
    let (_, auction_page) = app.get_html(&buyer, &format!("/auctions/{auction}")).await;
    assert_eq!(
        auction_page.matches("name=\"idempotency_key\"").count(),
        2,
        "the bid and the buy-now forms"
    );
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 4);
}

async fn a_bid_sent_again_with_its_key_acts_once_and_answers_as_the_first_time(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let bidder = app.funded("bidder", 100_000).await;
    let auction = national_auction(&app, &seller, "").await;
    let path = format!("/auctions/{auction}/bids");
    let answers = send_again(
        &app,
        &bidder,
        &path,
        &[("amount", "15000"), ("idempotency_key", KEY)],
        3,
    )
    .await;
    for (status, to) in &answers {
        assert_eq!(*status, StatusCode::SEE_OTHER);
        assert_eq!(to, &format!("/auctions/{auction}"));
    }
    let me = app.user_id("bidder");
    assert_eq!(bids_of(&app, auction), vec![(me, 15_000)], "one bid");
    assert_eq!(app.wallet(&bidder).await, (85_000, 15_000), "held once");
    assert_eq!(
        app.auction_row(auction),
        ("active".to_owned(), 10_000, Some(me), None, 1),
        "a first bid prices at the start price"
    );
    // Without a key the same resubmission is a new bid and is refused (already leading).
    let token = app.csrf(&bidder).await;
    let r = app
        .post_raw(
            &bidder,
            &path,
            &[("amount", "15000"), ("csrf_token", token.as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A key that is not one (too short) is ignored, not an error: the resubmission is judged
    // as a new bid (and refused: it does not beat the price).
    let r = app
        .post_raw(
            &bidder,
            &path,
            &[
                ("amount", "15000"),
                ("idempotency_key", "short"),
                ("csrf_token", token.as_str()),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "still leading"
    );
    assert_eq!(bids_of(&app, auction).len(), 1);
    app.assert_audit_clean();
}

async fn twenty_concurrent_submissions_of_one_bid_form_place_one_bid(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let bidder = app.funded("bidder", 100_000).await;
    let auction = national_auction(&app, &seller, "").await;
    let path = format!("/auctions/{auction}/bids");
    let token = app.csrf(&bidder).await;
    let form = [
        ("amount", "20000"),
        ("idempotency_key", KEY),
        ("csrf_token", token.as_str()),
    ];
    let sends = (0..20).map(|_| app.post_raw(&bidder, &path, &form));
    let statuses: Vec<StatusCode> = join_all(sends).await.iter().map(|r| r.status()).collect();
    assert!(
        statuses.iter().all(|s| *s == StatusCode::SEE_OTHER),
        "every one answers as the first did: {statuses:?}"
    );
    let me = app.user_id("bidder");
    assert_eq!(bids_of(&app, auction), vec![(me, 20_000)]);
    assert_eq!(app.wallet(&bidder).await, (80_000, 20_000));
    app.assert_audit_clean();
}

async fn the_same_key_with_another_amount_is_a_new_bid(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let first = app.funded("first", 100_000).await;
    let second = app.funded("second", 100_000).await;
    let auction = national_auction(&app, &seller, "").await;
    let path = format!("/auctions/{auction}/bids");
    send_again(
        &app,
        &first,
        &path,
        &[("amount", "12000"), ("idempotency_key", KEY)],
        1,
    )
    .await;
    // Outbid, the first bidder raises with the same (stale) key: a new intent, placed.
    send_again(
        &app,
        &second,
        &path,
        &[("amount", "13000"), ("idempotency_key", KEY)],
        1,
    )
    .await;
    let answers = send_again(
        &app,
        &first,
        &path,
        &[("amount", "14000"), ("idempotency_key", KEY)],
        2,
    )
    .await;
    assert!(
        answers.iter().all(|(s, _)| *s == StatusCode::SEE_OTHER),
        "{answers:?}"
    );
    let (a, b) = (app.user_id("first"), app.user_id("second"));
    assert_eq!(
        bids_of(&app, auction),
        vec![(a, 12_000), (b, 13_000), (a, 14_000)]
    );
    assert_eq!(app.wallet(&first).await, (86_000, 14_000));
    assert_eq!(app.wallet(&second).await, (100_000, 0));
    assert_eq!(app.auction_row(auction).1, 14_000, "one step over ₩13,000");
    app.assert_audit_clean();
}

async fn buy_now_purchase_top_up_refund_and_payout_sent_twice_act_once(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let buyer = app.funded("buyer", 300_000).await;

    // Buy now.
    let auction = national_auction(&app, &seller, "90000").await;
    let answers = send_again(
        &app,
        &buyer,
        &format!("/auctions/{auction}/buy-now"),
        &[("expected_price", "90000"), ("idempotency_key", KEY)],
        2,
    )
    .await;
    assert!(
        answers.iter().all(|(s, _)| *s == StatusCode::SEE_OTHER),
        "{answers:?}"
    );
    assert_eq!(app.wallet(&buyer).await, (210_000, 90_000), "held once");
    assert_eq!(count(&app, "trades"), 1, "one trade");
    assert_eq!(
        app.confirm_auction_trade(&buyer, auction).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.wallet(&buyer).await, (210_000, 0), "paid once");

    // A market purchase from the wallet.
    let product = list_product(&app, &seller, "Rice cooker", "40000", "3").await;
    let answers = send_again(
        &app,
        &buyer,
        &format!("/market/{product}/buy"),
        &[
            ("quantity", "1"),
            ("expected_price", "40000"),
            ("pay_with", "wallet"),
            ("idempotency_key", KEY),
        ],
        2,
    )
    .await;
    assert!(
        answers.iter().all(|(s, _)| *s == StatusCode::SEE_OTHER),
        "{answers:?}"
    );
    assert_eq!(count(&app, "trades"), 2, "the auction's trade and this one");
    assert_eq!(app.wallet(&buyer).await, (170_000, 40_000), "held once");

    // A card top-up: the same payment page both times, one payment.
    let answers = send_again(
        &app,
        &buyer,
        "/wallet/top-up",
        &[
            ("amount", "30000"),
            ("method", "card"),
            ("idempotency_key", KEY),
        ],
        2,
    )
    .await;
    assert_eq!(answers[0].0, StatusCode::SEE_OTHER);
    assert_eq!(answers[0], answers[1], "the same payment page");
    assert_eq!(count(&app, "payments"), 1);
    let uid = answers[0].1.trim_start_matches("/payments/").to_owned();
    let back = checkout(&app, &buyer, &uid, "approve", false).await;
    come_back(&app, &buyer, &back, &uid).await;
    assert_eq!(app.wallet(&buyer).await, (200_000, 40_000));

    // A refund of part of it.
    let answers = send_again(
        &app,
        &buyer,
        &format!("/payments/{uid}/cancel"),
        &[("amount", "10000"), ("idempotency_key", KEY)],
        2,
    )
    .await;
    assert!(
        answers.iter().all(|(s, _)| *s == StatusCode::SEE_OTHER),
        "{answers:?}"
    );
    assert_eq!(app.wallet(&buyer).await, (190_000, 40_000), "refunded once");

    // A payout.
    let answers = send_again(
        &app,
        &buyer,
        "/wallet/payouts",
        &[
            ("amount", "50000"),
            ("bank_code", "004"),
            ("account_number", "123-456-789012"),
            ("account_holder", "김구매"),
            ("idempotency_key", KEY),
        ],
        2,
    )
    .await;
    assert!(
        answers.iter().all(|(s, _)| *s == StatusCode::SEE_OTHER),
        "{answers:?}"
    );
    assert_eq!(count(&app, "payouts"), 1);
    assert_eq!(app.wallet(&buyer).await, (140_000, 90_000), "held once");
    app.assert_audit_clean();
}

#[tokio::test]
async fn a_bid_whose_connection_is_cut_during_commit_is_placed_once_and_answered_as_placed() {
    // PostgreSQL only: the proxy cuts the app's connection right after it sent COMMIT, so the
    // bid commits but the app never hears so. It tries again on a fresh connection, finds the
    // key with its outcome, and answers as placed — one bid, one hold.
    if !postgres_or_skip("a_bid_whose_connection_is_cut_during_commit") {
        return;
    }
    let cutter = std::sync::Arc::new(std::sync::Mutex::new(None::<CommitCutter>));
    let slot = cutter.clone();
    let app = spawn_app_with(Db::Postgres, move |s| {
        let neighborbid::config::DatabaseUrl::Postgres(url) = &s.database_url else {
            panic!("a PostgreSQL URL");
        };
        let proxy = CommitCutter::start(url);
        s.database_url = neighborbid::config::DatabaseUrl::Postgres(proxy.url.clone());
        *slot.lock().expect("slot") = Some(proxy);
    })
    .await;
    let cutter = cutter.lock().expect("slot").clone().expect("the proxy");
    let seller = app.sign_up("seller").await;
    let bidder = app.funded("bidder", 100_000).await;
    let auction = national_auction(&app, &seller, "").await;
    let token = app.csrf(&bidder).await;
    cutter.arm(KEY);
    let r = app
        .post_raw(
            &bidder,
            &format!("/auctions/{auction}/bids"),
            &[
                ("amount", "25000"),
                ("idempotency_key", KEY),
                ("csrf_token", token.as_str()),
            ],
        )
        .await;
    assert_eq!(cutter.cuts(), 1, "the connection was cut during COMMIT");
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "answered as placed");
    assert_eq!(location(&r), format!("/auctions/{auction}"));
    let me = app.user_id("bidder");
    assert_eq!(bids_of(&app, auction), vec![(me, 25_000)], "placed once");
    assert_eq!(app.wallet(&bidder).await, (75_000, 25_000));
    // The same form once more (the user pressed again): still one bid.
    let r = app
        .post_raw(
            &bidder,
            &format!("/auctions/{auction}/bids"),
            &[
                ("amount", "25000"),
                ("idempotency_key", KEY),
                ("csrf_token", token.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(bids_of(&app, auction).len(), 1);
    app.assert_audit_clean();
}

async fn a_live_bid_sent_again_with_its_key_after_a_lost_answer_acts_once(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let bidder = app.funded("bidder", 100_000).await;
    let auction = national_auction(&app, &seller, "").await;
    let frame = format!(r#"{{"type":"bid","amount":"15000","key":"{KEY}"}}"#);
    // The answer to the first send is "lost": the socket closes before it is read.
    let mut first = bidder.ws(auction).await;
    expect_frame(&mut first, "state", "₩10,000").await;
    send_text(&mut first, &frame).await;
    let placed = "You lead at ₩10,000. Your maximum of ₩15,000 is held";
    expect_frame(&mut first, "ack", placed).await;
    drop(first);
    // Sent again on a new socket with the same key: the first outcome, not "already leading".
    let mut again = bidder.ws(auction).await;
    expect_frame(&mut again, "state", "Neighbour bidder").await;
    send_text(&mut again, &frame).await;
    expect_frame(&mut again, "ack", placed).await;
    let me = app.user_id("bidder");
    assert_eq!(bids_of(&app, auction), vec![(me, 15_000)]);
    assert_eq!(app.wallet(&bidder).await, (85_000, 15_000));
    assert_eq!(app.auction_row(auction).1, 10_000);
    // A new key is a new bid (refused here: it does not raise the maximum).
    send_text(
        &mut again,
        r#"{"type":"bid","amount":"15000","key":"fedcba9876543210fedcba9876543210"}"#,
    )
    .await;
    expect_frame(
        &mut again,
        "error",
        "You already lead with a maximum of ₩15,000",
    )
    .await;
    assert_eq!(bids_of(&app, auction).len(), 1);
    app.assert_audit_clean();
}
