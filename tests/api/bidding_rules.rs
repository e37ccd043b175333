//! Bidding like an auction house (issue 13, items 2–4): the increment table by price band
//! (or the seller's fixed unit), a secret reserve price, and soft close — each rule written on
//! the auction page in one sentence, each extension pushed to watchers.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{
    both_databases, expect_frame, local_in, min_bid, spawn_app, spawn_app_with, Db, Listing,
    PASSWORD,
};

both_databases!(
    an_auction_on_the_increment_table_asks_for_the_step_of_its_price_band,
    an_auction_that_ends_below_its_reserve_sells_nothing_and_releases_the_hold,
    an_auction_that_reaches_its_reserve_sells_to_the_highest_bid,
    a_reserve_must_sit_between_the_start_and_the_buy_now_price,
    a_late_bid_moves_the_end_and_watchers_see_it_but_never_past_the_cap,
    a_local_auction_takes_bids_only_from_neighbours_of_its_district,
);

async fn an_auction_on_the_increment_table_asks_for_the_step_of_its_price_band(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let a = app.funded("alice", 500_000).await;
    let b = app.funded("bora", 500_000).await;
    let mut l = Listing::new("Piano stool");
    l.start_price = "48000".into();
    l.bid_unit = String::new();
    let id = app.list(&seller, &l).await;
    let (_, page) = app.get_html(&a, &format!("/auctions/{id}")).await;
    assert!(
        page.contains("Bids go up by the site&#39;s increment table: ₩1,000 below ₩50,000, ₩2,000 up to ₩200,000, ₩5,000 up to ₩1,000,000, ₩10,000 from ₩1,000,000."),
        "{page}"
    );
    assert_eq!(app.bid(&a, id, 48_000).await.0, StatusCode::SEE_OTHER);
    let (_, page) = app.get_html(&b, &format!("/auctions/{id}")).await;
    assert_eq!(min_bid(&page), Some(49_000), "₩1,000 below ₩50,000");
    assert_eq!(app.bid(&b, id, 49_000).await.0, StatusCode::SEE_OTHER);
    let (_, page) = app.get_html(&a, &format!("/auctions/{id}")).await;
    assert_eq!(
        min_bid(&page),
        Some(50_000),
        "49,000 is still in the first band"
    );
    assert_eq!(app.bid(&a, id, 50_000).await.0, StatusCode::SEE_OTHER);
    // From ₩50,000 the step is ₩2,000.
    let (status, body) = app.bid(&b, id, 51_000).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("at least ₩52,000"), "{body}");
    // No multiple rule with the table: ₩52,500 is fine.
    assert_eq!(app.bid(&b, id, 52_500).await.0, StatusCode::SEE_OTHER);
    // Proxy bidding: bora's maximum beats alice's ₩50,000 by one ₩2,000 step, not by all of it.
    assert_eq!(app.auction_row(id).1, 52_000);
    assert_eq!(app.bid_amounts(id), vec![48_000, 49_000, 50_000, 52_000]);
    let (ida, idb) = (app.user_id("alice"), app.user_id("bora"));
    assert_eq!(
        app.submissions(id),
        vec![(ida, 48_000), (idb, 49_000), (ida, 50_000), (idb, 52_500)]
    );
    // A fixed unit keeps its multiple rule and says so.
    let mut fixed = Listing::new("Desk lamp");
    fixed.bid_unit = "500".into();
    let lamp = app.list(&seller, &fixed).await;
    let (_, page) = app.get_html(&a, &format!("/auctions/{lamp}")).await;
    assert!(
        page.contains("Bids go up in steps of ₩500 (the seller&#39;s unit)."),
        "{page}"
    );
    let (status, body) = app.bid(&a, lamp, 10_250).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("₩500"), "{body}");
    app.assert_audit_clean();
}

async fn an_auction_that_ends_below_its_reserve_sells_nothing_and_releases_the_hold(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let bidder = app.funded("bidder", 100_000).await;
    let mut l = Listing::new("Oak table");
    l.reserve_price = "30000".into();
    l.ends_at = local_in(3);
    let id = app.list(&seller, &l).await;
    let (_, page) = app.get_html(&bidder, &format!("/auctions/{id}")).await;
    assert!(page.contains("secret reserve price"), "{page}");
    assert!(!page.contains("30,000"), "the reserve stays secret: {page}");
    assert_eq!(app.bid(&bidder, id, 20_000).await.0, StatusCode::SEE_OTHER);
    let (_, page) = app.get_html(&bidder, &format!("/auctions/{id}")).await;
    assert!(page.contains("Reserve not met"), "{page}");
    // A maximum below the reserve leaves the price at the start; the whole maximum is held.
    assert_eq!(app.auction_row(id).1, 10_000);
    assert_eq!(app.wallet(&bidder).await, (80_000, 20_000));
    assert_eq!(app.wait_closed(id).await, "reserve_not_met");
    assert_eq!(
        app.wallet(&bidder).await,
        (100_000, 0),
        "the hold is released"
    );
    assert_eq!(app.wallet(&seller).await, (0, 0), "nothing is paid");
    let (_, page) = app.get_html(&seller, &format!("/auctions/{id}")).await;
    assert!(
        page.contains("ended below the seller&#39;s reserve price"),
        "{page}"
    );
    assert!(
        page.contains("The highest bid was <strong>₩10,000</strong>"),
        "{page}"
    );
    assert_eq!(app.auction_row(id).3, None, "no winner");
    app.assert_audit_clean();
}

async fn an_auction_that_reaches_its_reserve_sells_to_the_highest_bid(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let bidder = app.funded("bidder", 100_000).await;
    let mut l = Listing::new("Oak chair");
    l.reserve_price = "15000".into();
    l.ends_at = local_in(3);
    let id = app.list(&seller, &l).await;
    assert_eq!(app.bid(&bidder, id, 14_000).await.0, StatusCode::SEE_OTHER);
    let (_, page) = app.get_html(&bidder, &format!("/auctions/{id}")).await;
    assert!(page.contains("Reserve not met"), "{page}");
    assert_eq!(app.bid(&bidder, id, 15_000).await.0, StatusCode::SEE_OTHER);
    let (_, page) = app.get_html(&bidder, &format!("/auctions/{id}")).await;
    assert!(page.contains("Reserve met"), "{page}");
    assert_eq!(app.wait_closed(id).await, "sold");
    assert_eq!(
        app.wallet(&bidder).await,
        (85_000, 15_000),
        "held for the trade"
    );
    assert_eq!(
        app.confirm_auction_trade(&bidder, id).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.wallet(&bidder).await, (85_000, 0));
    assert_eq!(app.wallet(&seller).await, (15_000, 0));
    app.assert_audit_clean();
}

async fn a_reserve_must_sit_between_the_start_and_the_buy_now_price(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    for (reserve, buy_now, reason) in [
        ("5000", "", "cannot be below the start price"),
        ("60000", "50000", "must be below the buy-now price"),
        ("abc", "", "Reserve price"),
    ] {
        let mut l = Listing::new("Bad reserve");
        l.reserve_price = reserve.into();
        l.buy_now_price = buy_now.into();
        let r = app.post_listing(&seller, &l, None).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{reserve}");
        let body = r.text().await.expect("body");
        assert!(body.contains(reason), "{reserve}: {body}");
    }
    let (_, page) = app.get_html(&seller, "/auctions").await;
    assert!(!page.contains("Bad reserve"), "nothing was listed");
}

async fn a_late_bid_moves_the_end_and_watchers_see_it_but_never_past_the_cap(db: Db) {
    // A 4-second window and a 6-second cap, so the rule plays out within the test.
    let app = spawn_app_with(db, |s| {
        s.soft_close = Duration::from_secs(4);
        s.soft_close_cap = Duration::from_secs(6);
    })
    .await;
    let seller = app.sign_up("seller").await;
    let a = app.funded("alice", 100_000).await;
    let b = app.funded("bora", 100_000).await;
    let mut l = Listing::new("Film camera");
    l.national = true;
    l.ends_at = local_in(3);
    let id = app.list(&seller, &l).await;
    let ends = |app: &crate::helpers::TestApp| -> chrono::NaiveDateTime {
        use diesel::prelude::*;
        use neighborbid::db::schema::auctions::dsl as au;
        au::auctions
            .find(id)
            .select(au::ends_at)
            .first(&mut app.raw_connection())
            .expect("ends_at")
    };
    let original = ends(&app);
    let (_, page) = app.get_html(&a, &format!("/auctions/{id}")).await;
    assert!(
        page.contains("Soft close: a bid in the last 4 seconds moves the end to 4 seconds after that bid, up to 6 seconds past the original end"),
        "{page}"
    );
    let mut watcher = b.ws(id).await;
    expect_frame(&mut watcher, "state", "₩10,000").await;
    // A bid less than the window before the end moves the end to 4 s after the bid.
    assert_eq!(app.bid(&a, id, 10_000).await.0, StatusCode::SEE_OTHER);
    let first = ends(&app);
    assert!(first > original, "moved: {original} → {first}");
    let html = expect_frame(&mut watcher, "state", "Extended 1 time").await;
    assert!(html.contains("by late bids"), "{html}");
    // Bids keep moving it, but never past original + 6 s.
    let mut amount = 11_000;
    let cap = original + chrono::Duration::seconds(6);
    while chrono::Utc::now().naive_utc() < cap - chrono::Duration::milliseconds(300) {
        let who = if amount % 2_000 == 0 { &a } else { &b };
        let (status, _) = app.bid(who, id, amount).await;
        if status != StatusCode::SEE_OTHER {
            break;
        }
        assert!(ends(&app) <= cap, "never past the cap");
        amount += 1_000;
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    assert_eq!(ends(&app), cap, "the last late bid reached the cap");
    let status = app.wait_closed(id).await;
    assert_eq!(status, "sold");
    assert!(
        chrono::Utc::now().naive_utc() >= cap,
        "closed only at the moved end"
    );
    app.assert_audit_clean();
}

async fn a_local_auction_takes_bids_only_from_neighbours_of_its_district(db: Db) {
    let app = spawn_app(db).await;
    // The seller lists in 역삼동 (강남구); 대치동 is in 강남구 too, 서교동 is in 마포구.
    let seller = app.sign_up("seller").await;
    let near = app.client();
    let far = app.client();
    for (b, name, region) in [(&near, "daechi", "5"), (&far, "seogyo", "8")] {
        let r = b
            .post(
                "/signup",
                &[
                    ("username", name),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                    ("display_name", name),
                    ("region_id", region),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{name}");
        assert_eq!(b.top_up("100000").await.status(), StatusCode::SEE_OTHER);
    }
    let mut l = Listing::new("Rice cooker");
    l.buy_now_price = "50000".into();
    let local = app.list(&seller, &l).await;
    // The one from elsewhere is told why, and refused with nothing moved.
    let (_, page) = app.get_html(&far, &format!("/auctions/{local}")).await;
    assert!(
        page.contains("This is a local auction for neighbours in 서울 › 강남구"),
        "{page}"
    );
    assert!(
        !page.contains("class=\"form inline-form bid-form\""),
        "no bid form: {page}"
    );
    let (status, body) = app.bid(&far, local, 10_000).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body.contains("only members whose neighbourhood is in 서울 › 강남구"),
        "{body}"
    );
    let (status, _) = app.buy_now(&far, local).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.wallet(&far).await, (100_000, 0));
    assert!(app.bid_amounts(local).is_empty());
    // A neighbour of the same district bids.
    assert_eq!(app.bid(&near, local, 10_000).await.0, StatusCode::SEE_OTHER);
    // A national auction is open to everyone.
    let mut n = Listing::new("Film camera");
    n.national = true;
    let national = app.list(&seller, &n).await;
    assert_eq!(
        app.bid(&far, national, 10_000).await.0,
        StatusCode::SEE_OTHER
    );
    app.assert_audit_clean();
}
