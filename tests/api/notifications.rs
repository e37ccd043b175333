//! The notification centre (issue 13 item 7): written in the transaction of the event that
//! causes it, to the right member only; `/notifications` paged newest first; opening one marks
//! it read; "mark all read"; the header's badge; the member socket pushing badge and balance
//! after commit; "ending in 10 minutes" once per member and auction, even with two schedulers.

use std::time::Duration;

use diesel::prelude::*;
use reqwest::StatusCode;

use crate::helpers::{
    both_databases, connect_me, expect_frame, local_in, next_frame, spawn_app, spawn_app_with,
    Browser, Db, Listing, TestApp,
};
use crate::market::{act, list_product, product_page, trade_ids};
use crate::payments::{
    checkout, come_back, deposit, start_card_topup, start_vbank_topup, vbank_of, wait_status,
};

both_databases!(
    a_bidder_outbid_by_another_is_told_once_and_sees_the_badge_and_the_link,
    the_close_tells_the_winner_the_seller_and_the_bidder_below_the_reserve_and_nobody_else,
    buying_now_tells_the_buyer_the_seller_and_the_displaced_leader,
    ending_soon_reaches_each_bidder_and_watcher_once_but_not_the_seller_or_strangers,
    two_server_processes_tell_each_member_that_an_auction_ends_soon_once,
    market_trades_tell_the_other_side_at_each_step,
    a_rejected_trade_tells_the_buyer_and_the_site_tells_both_sides_when_it_acts,
    a_paid_top_up_and_a_transferred_payout_are_told_to_their_member,
    a_virtual_account_is_told_when_issued_paid_refunded_or_expired,
    notifications_are_paged_newest_first_and_read_one_by_one_or_all_at_once,
    nobody_opens_another_members_notification_or_marks_all_read_without_a_csrf_token,
    the_member_socket_pushes_the_badge_and_the_balance_when_another_member_outbids,
    the_member_socket_is_only_for_logged_in_members_on_pages_of_this_site,
);

/// The kinds of a member's notifications, oldest first.
fn kinds(app: &TestApp, username: &str) -> Vec<String> {
    use neighborbid::db::schema::notifications as n;
    n::table
        .filter(n::user_id.eq(app.user_id(username)))
        .order(n::id.asc())
        .select(n::kind)
        .load(&mut app.raw_connection())
        .expect("notifications")
}

/// [`kinds`] without "ending soon" (a short test auction may also be about to end).
fn kinds_but_ending(app: &TestApp, username: &str) -> Vec<String> {
    kinds(app, username)
        .into_iter()
        .filter(|k| k != "ending_soon")
        .collect()
}

/// The ids of a member's notifications, newest first.
fn ids(app: &TestApp, username: &str) -> Vec<i64> {
    use neighborbid::db::schema::notifications as n;
    n::table
        .filter(n::user_id.eq(app.user_id(username)))
        .order(n::id.desc())
        .select(n::id)
        .load(&mut app.raw_connection())
        .expect("notifications")
}

/// The header's unread count on a page.
fn badge(html: &str) -> i64 {
    let at = html.find("id=\"unread-count\"").expect("the unread badge");
    let rest = &html[at..];
    let start = rest.find('>').expect("badge text") + 1;
    let end = rest.find('<').expect("badge end");
    rest[start..end].trim().parse().expect("a number")
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn unread(app: &TestApp, b: &Browser) -> i64 {
    let (_, html) = app.get_html(b, "/notifications").await;
    badge(&html)
}

async fn a_bidder_outbid_by_another_is_told_once_and_sees_the_badge_and_the_link(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let alice = app.funded("alice", 100_000).await;
    let bora = app.funded("bora", 100_000).await;
    let _stranger = app.funded("stranger", 100_000).await;
    let id = app.list(&seller, &Listing::new("Brass lamp")).await;

    assert_eq!(app.bid(&alice, id, 10_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(unread(&app, &alice).await, 0, "a leading bid tells nobody");
    // Bora's maximum beats alice's by more than a step: the price is one step over hers.
    assert_eq!(app.bid(&bora, id, 12_000).await.0, StatusCode::SEE_OTHER);
    // Raising one's own lead tells nobody either.
    assert_eq!(app.bid(&bora, id, 13_000).await.0, StatusCode::SEE_OTHER);

    assert_eq!(kinds(&app, "alice"), vec!["outbid"]);
    for nobody in ["bora", "seller", "stranger"] {
        assert!(kinds(&app, nobody).is_empty(), "{nobody}");
    }
    let (_, html) = app.get_html(&alice, &format!("/auctions/{id}")).await;
    assert_eq!(badge(&html), 1, "every page's header shows it");
    let (status, list) = app.get_html(&alice, "/notifications").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list.contains("You were outbid on “Brass lamp”: the price is now ₩11,000."),
        "{list}"
    );
    let note = ids(&app, "alice")[0];
    assert!(
        list.contains(&format!("href=\"/notifications/{note}\"")),
        "{list}"
    );
    let r = app.get(&alice, &format!("/notifications/{note}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/auctions/{id}"));
    assert_eq!(unread(&app, &alice).await, 0, "opening it marked it read");
    // Opening it again still leads there.
    let r = app.get(&alice, &format!("/notifications/{note}")).await;
    assert_eq!(location(&r), format!("/auctions/{id}"));
    app.assert_audit_clean();
}

async fn the_close_tells_the_winner_the_seller_and_the_bidder_below_the_reserve_and_nobody_else(
    db: Db,
) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let winner = app.funded("winner", 100_000).await;
    let low = app.funded("low", 100_000).await;
    let mut sold = Listing::new("Sold chair");
    sold.ends_at = local_in(3);
    // Each starts at its bidder's maximum: a single maximum prices at the start price.
    sold.start_price = "15000".into();
    let sold = app.list(&seller, &sold).await;
    let mut unsold = Listing::new("Lonely chair");
    unsold.ends_at = local_in(3);
    let unsold = app.list(&seller, &unsold).await;
    let mut reserve = Listing::new("Reserved chair");
    reserve.ends_at = local_in(3);
    reserve.reserve_price = "50000".into();
    reserve.start_price = "20000".into();
    let reserve = app.list(&seller, &reserve).await;
    assert_eq!(
        app.bid(&winner, sold, 15_000).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.bid(&low, reserve, 20_000).await.0,
        StatusCode::SEE_OTHER
    );

    assert_eq!(app.wait_closed(sold).await, "sold");
    assert_eq!(app.wait_closed(unsold).await, "no_bids");
    assert_eq!(app.wait_closed(reserve).await, "reserve_not_met");

    assert_eq!(kinds_but_ending(&app, "winner"), vec!["won"]);
    assert_eq!(kinds_but_ending(&app, "low"), vec!["bid_below_reserve"]);
    let mut told_seller = kinds_but_ending(&app, "seller");
    told_seller.sort();
    assert_eq!(told_seller, vec!["no_sale", "reserve_not_met", "sold"]);
    let (_, list) = app.get_html(&seller, "/notifications").await;
    assert!(list.contains("“Sold chair” sold for ₩15,000."), "{list}");
    assert!(list.contains("“Lonely chair” ended without bids"), "{list}");
    assert!(
        list.contains(
            "“Reserved chair” ended below your reserve price: the highest bid was ₩20,000"
        ),
        "{list}"
    );
    let (_, list) = app.get_html(&winner, "/notifications").await;
    assert!(list.contains("You won “Sold chair” for ₩15,000."), "{list}");
    app.assert_audit_clean();
}

async fn buying_now_tells_the_buyer_the_seller_and_the_displaced_leader(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let leader = app.funded("leader", 100_000).await;
    let buyer = app.funded("buyer", 100_000).await;
    let mut l = Listing::new("Bike");
    l.buy_now_price = "40000".into();
    let id = app.list(&seller, &l).await;
    assert_eq!(app.bid(&leader, id, 12_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.buy_now(&buyer, id).await.0, StatusCode::SEE_OTHER);
    assert_eq!(kinds(&app, "leader"), vec!["outbid"]);
    assert_eq!(kinds(&app, "buyer"), vec!["won"]);
    assert_eq!(kinds(&app, "seller"), vec!["sold"]);
    app.assert_audit_clean();
}

async fn ending_soon_reaches_each_bidder_and_watcher_once_but_not_the_seller_or_strangers(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let bidder = app.funded("bidder", 100_000).await;
    let watcher = app.sign_up("watcher").await;
    let _stranger = app.sign_up("stranger").await;
    let mut l = Listing::new("Clock");
    l.ends_at = local_in(5 * 60);
    let id = app.list(&seller, &l).await;
    let far = app.list(&seller, &Listing::new("Far clock")).await;
    assert_eq!(app.bid(&bidder, id, 10_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.bid(&bidder, far, 10_000).await.0, StatusCode::SEE_OTHER);
    let r = app
        .post(
            &watcher,
            &format!("/auctions/{id}/watch"),
            &[("watch", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The seller watching their own auction is still not told.
    app.post(
        &seller,
        &format!("/auctions/{id}/watch"),
        &[("watch", "on")],
    )
    .await;

    for _ in 0..100 {
        if kinds(&app, "bidder").len() == 1 && kinds(&app, "watcher").len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Several more passes of the scheduler (every 2 s) tell nobody again.
    tokio::time::sleep(Duration::from_millis(4_500)).await;
    assert_eq!(
        kinds(&app, "bidder"),
        vec!["ending_soon"],
        "once, and not for the far one"
    );
    assert_eq!(kinds(&app, "watcher"), vec!["ending_soon"]);
    assert!(kinds(&app, "seller").is_empty());
    assert!(kinds(&app, "stranger").is_empty());
    let (_, list) = app.get_html(&watcher, "/notifications").await;
    assert!(
        list.contains("“Clock” ends in less than 10 minutes"),
        "{list}"
    );
}

async fn two_server_processes_tell_each_member_that_an_auction_ends_soon_once(db: Db) {
    let app = spawn_app(db).await;
    let other = app.spawn_process().await;
    let seller = app.sign_up("seller").await;
    let mut ids = Vec::new();
    for i in 0..4 {
        let mut l = Listing::new(&format!("Clock {i}"));
        l.ends_at = local_in(9 * 60);
        ids.push(app.list(&seller, &l).await);
    }
    let mut names = Vec::new();
    for i in 0..6 {
        let name = format!("watcher{i}");
        let b = app.sign_up(&name).await;
        for id in &ids {
            app.post(&b, &format!("/auctions/{id}/watch"), &[("watch", "on")])
                .await;
        }
        names.push(name);
    }
    let all = |app: &TestApp| names.iter().map(|n| kinds(app, n).len()).sum::<usize>();
    for _ in 0..100 {
        if all(&app) >= names.len() * ids.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(4_500)).await;
    for n in &names {
        assert_eq!(
            kinds(&app, n).len(),
            ids.len(),
            "{n}: once per auction; {}",
            other.log()
        );
    }
}

async fn market_trades_tell_the_other_side_at_each_step(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let buyer = app.funded("buyer", 100_000).await;
    let quitter = app.funded("quitter", 100_000).await;
    let product = list_product(&app, &seller, "Rice cooker", "30000", "2").await;
    for b in [&buyer, &quitter] {
        let page = product_page(&app, b, product).await;
        let seen = crate::helpers::field_value(&page, "expected_price").unwrap_or_default();
        let r = app
            .post(
                b,
                &format!("/market/{product}/buy"),
                &[("quantity", "1"), ("expected_price", seen.as_str())],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(
        kinds(&app, "seller"),
        vec!["trade_requested", "trade_requested"]
    );
    assert!(kinds(&app, "buyer").is_empty());
    // The quitter cancels: the seller hears of it.
    let html = product_page(&app, &quitter, product).await;
    let mine = trade_ids(&html, "cancel")[0];
    assert_eq!(
        act(&app, &quitter, mine, "cancel").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        kinds(&app, "seller"),
        vec!["trade_requested", "trade_requested", "trade_cancelled"]
    );
    assert!(kinds(&app, "quitter").is_empty());
    // The seller approves: the buyer hears of it.
    let html = product_page(&app, &seller, product).await;
    let trade = trade_ids(&html, "approve")[0];
    assert_eq!(
        act(&app, &seller, trade, "approve").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(kinds(&app, "buyer"), vec!["trade_approved"]);
    // The buyer confirms: the seller hears of it.
    assert_eq!(
        act(&app, &buyer, trade, "confirm").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        kinds(&app, "seller"),
        vec![
            "trade_requested",
            "trade_requested",
            "trade_cancelled",
            "trade_confirmed"
        ]
    );
    assert_eq!(kinds(&app, "buyer"), vec!["trade_approved"]);
    let (_, list) = app.get_html(&seller, "/notifications").await;
    assert!(
        list.contains("The buyer confirmed receipt of “Rice cooker”: ₩30,000 is in your wallet."),
        "{list}"
    );
    let note = ids(&app, "seller")[0];
    let r = app.get(&seller, &format!("/notifications/{note}")).await;
    assert_eq!(location(&r), format!("/market/{product}"));
    app.assert_audit_clean();
}

/// Buy one unit as the product page offers it.
async fn buy_one(app: &TestApp, b: &Browser, product: i64) {
    let page = product_page(app, b, product).await;
    let seen = crate::helpers::field_value(&page, "expected_price").unwrap_or_default();
    let r = app
        .post(
            b,
            &format!("/market/{product}/buy"),
            &[("quantity", "1"), ("expected_price", seen.as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// Wait (bounded) until the member has `n` notifications.
async fn wait_for(app: &TestApp, username: &str, n: usize) {
    for _ in 0..150 {
        if kinds(app, username).len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_rejected_trade_tells_the_buyer_and_the_site_tells_both_sides_when_it_acts(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.market_auto_confirm = Duration::from_secs(1);
        s.market_respond_within = Duration::from_secs(4);
    })
    .await;
    let seller = app.sign_up("seller").await;
    let buyer = app.funded("buyer", 100_000).await;
    let rejected = list_product(&app, &seller, "Lamp", "1000", "1").await;
    let confirmed = list_product(&app, &seller, "Desk", "2000", "1").await;
    let ignored = list_product(&app, &seller, "Chair", "3000", "1").await;
    for p in [rejected, confirmed, ignored] {
        buy_one(&app, &buyer, p).await;
    }
    let html = product_page(&app, &seller, rejected).await;
    let trade = trade_ids(&html, "reject")[0];
    assert_eq!(
        act(&app, &seller, trade, "reject").await.status(),
        StatusCode::SEE_OTHER
    );
    let html = product_page(&app, &seller, confirmed).await;
    let trade = trade_ids(&html, "approve")[0];
    assert_eq!(
        act(&app, &seller, trade, "approve").await.status(),
        StatusCode::SEE_OTHER
    );
    // The scheduler confirms the approved one after 1 s and cancels the unanswered one after 4 s.
    wait_for(&app, "buyer", 4).await;
    wait_for(&app, "seller", 5).await;
    let mut told_buyer = kinds(&app, "buyer");
    told_buyer.sort();
    assert_eq!(
        told_buyer,
        vec![
            "trade_approved",
            "trade_auto_confirmed",
            "trade_cancelled",
            "trade_rejected"
        ]
    );
    let mut told_seller = kinds(&app, "seller");
    told_seller.sort();
    assert_eq!(
        told_seller,
        vec![
            "trade_auto_confirmed",
            "trade_cancelled",
            "trade_requested",
            "trade_requested",
            "trade_requested"
        ]
    );
    app.assert_audit_clean();
}

async fn a_paid_top_up_and_a_transferred_payout_are_told_to_their_member(db: Db) {
    let app = spawn_app(db).await;
    let member = app.sign_up("minji").await;
    let _other = app.funded("other", 10_000).await;
    let uid = start_card_topup(&app, &member, "50,000").await;
    assert!(kinds(&app, "minji").is_empty(), "nothing paid yet");
    let back = checkout(&app, &member, &uid, "approve", true).await;
    come_back(&app, &member, &back, &uid).await;
    // The webhook and the return both settle it: told once.
    assert_eq!(kinds(&app, "minji"), vec!["payment_paid"]);
    let note = ids(&app, "minji")[0];
    let r = app.get(&member, &format!("/notifications/{note}")).await;
    assert_eq!(location(&r), format!("/payments/{uid}"));

    let admin = app.admin("treasurer").await;
    let r = app
        .post(
            &member,
            "/wallet/payouts",
            &[
                ("amount", "30,000"),
                ("bank_code", "088"),
                ("account_number", "110-123-456789"),
                ("account_holder", "김이웃"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let payout: i64 = {
        use neighborbid::db::schema::payouts as p;
        p::table
            .select(p::id)
            .first(&mut app.raw_connection())
            .expect("a payout")
    };
    let r = app
        .post(
            &admin,
            &format!("/admin/payouts/{payout}/transfer"),
            &[("note", "done")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(kinds(&app, "minji"), vec!["payment_paid", "payout_done"]);
    assert!(kinds(&app, "other").is_empty());
    assert!(kinds(&app, "treasurer").is_empty());
    let (_, list) = app.get_html(&member, "/notifications").await;
    assert!(
        list.contains("Your payout of ₩30,000 was transferred to your bank account."),
        "{list}"
    );
    app.assert_audit_clean();
}

async fn a_virtual_account_is_told_when_issued_paid_refunded_or_expired(db: Db) {
    let app = spawn_app_with(db, |s| s.portone.vbank_due = Duration::from_secs(3)).await;
    let member = app.sign_up("minji").await;
    let uid = start_vbank_topup(&app, &member, "70,000").await;
    assert_eq!(kinds(&app, "minji"), vec!["account_issued"]);
    let (imp_uid, _) = vbank_of(&app, &uid);
    assert_eq!(deposit(&app, &imp_uid).await, StatusCode::OK);
    wait_status(&app, &uid, "paid").await;
    assert_eq!(kinds(&app, "minji"), vec!["account_issued", "payment_paid"]);
    // A refund of part of it, back to a refund account.
    let r = app
        .post(
            &member,
            &format!("/payments/{uid}/cancel"),
            &[
                ("amount", "20,000"),
                ("reason", "not needed"),
                ("refund_bank", "088"),
                ("refund_account", "110-123-456789"),
                ("refund_holder", "김민지"),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    assert_eq!(
        kinds(&app, "minji"),
        vec!["account_issued", "payment_paid", "payment_refunded"]
    );
    // Another account left unpaid expires at its deadline (3 s here).
    let unpaid = start_vbank_topup(&app, &member, "10,000").await;
    wait_status(&app, &unpaid, "expired").await;
    assert_eq!(
        kinds(&app, "minji"),
        vec![
            "account_issued",
            "payment_paid",
            "payment_refunded",
            "account_issued",
            "payment_expired"
        ]
    );
    let (_, list) = app.get_html(&member, "/notifications").await;
    assert!(
        list.contains("₩20,000 of your payment was refunded."),
        "{list}"
    );
    assert!(
        list.contains("The virtual account for ₩10,000 expired unpaid."),
        "{list}"
    );
    app.assert_audit_clean();
}

async fn notifications_are_paged_newest_first_and_read_one_by_one_or_all_at_once(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let alice = app.funded("alice", 10_000_000).await;
    let bora = app.funded("bora", 10_000_000).await;
    let id = app.list(&seller, &Listing::new("Painting")).await;
    // Alice bids, Bora outbids: 22 times Alice is outbid.
    let mut price = 10_000;
    for _ in 0..22 {
        assert_eq!(app.bid(&alice, id, price).await.0, StatusCode::SEE_OTHER);
        assert_eq!(
            app.bid(&bora, id, price + 1_000).await.0,
            StatusCode::SEE_OTHER
        );
        price += 2_000;
    }
    assert_eq!(kinds(&app, "alice").len(), 22);
    let (_, page1) = app.get_html(&alice, "/notifications").await;
    assert_eq!(page1.matches("data-notification-id=").count(), 20);
    assert_eq!(badge(&page1), 22);
    let newest = page1.find("the price is now ₩53,000").expect("the newest");
    let older = page1
        .find("the price is now ₩51,000")
        .expect("an older one");
    assert!(newest < older, "newest first");
    assert!(page1.contains("href=\"/notifications?page=2\""), "{page1}");
    let (_, page2) = app.get_html(&alice, "/notifications?page=2").await;
    assert_eq!(page2.matches("data-notification-id=").count(), 2);
    assert!(
        page2.contains("the price is now ₩11,000"),
        "the oldest: {page2}"
    );
    // A hostile page number is the first or an empty page, never an error.
    for q in ["0", "-3", "abc", "999999999999"] {
        let (status, _) = app
            .get_html(&alice, &format!("/notifications?page={q}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{q}");
    }
    // Opening one reads only that one.
    let one = ids(&app, "alice")[5];
    app.get(&alice, &format!("/notifications/{one}")).await;
    assert_eq!(unread(&app, &alice).await, 21);
    let r = app.post(&alice, "/notifications/read-all", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/notifications");
    assert_eq!(unread(&app, &alice).await, 0);
    let (_, page) = app.get_html(&alice, "/notifications").await;
    assert!(!page.contains("Mark all read"), "nothing left to mark");
    app.assert_audit_clean();
}

async fn nobody_opens_another_members_notification_or_marks_all_read_without_a_csrf_token(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let alice = app.funded("alice", 100_000).await;
    let bora = app.funded("bora", 100_000).await;
    let id = app.list(&seller, &Listing::new("Vase")).await;
    app.bid(&alice, id, 10_000).await;
    app.bid(&bora, id, 11_000).await;
    let note = ids(&app, "alice")[0];

    let r = app.get(&bora, &format!("/notifications/{note}")).await;
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "someone else's is missing"
    );
    for path in [
        "/notifications/999999",
        "/notifications/-1",
        "/notifications/abc",
    ] {
        let r = app.get(&bora, path).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let visitor = app.client();
    for path in [
        "/notifications".to_owned(),
        format!("/notifications/{note}"),
    ] {
        let r = app.get(&visitor, &path).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(location(&r).starts_with("/login"), "{path}");
    }
    let r = app.post(&visitor, "/notifications/read-all", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/login"));
    let r = app.post_raw(&alice, "/notifications/read-all", &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post_raw(
            &alice,
            "/notifications/read-all",
            &[("csrf_token", "forged")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Bora marking all of hers read leaves Alice's alone.
    app.post(&bora, "/notifications/read-all", &[]).await;
    assert_eq!(unread(&app, &alice).await, 1, "still unread");
    let (_, list) = app.get_html(&bora, "/notifications").await;
    assert!(!list.contains("Vase"), "Bora sees none of Alice's: {list}");
}

async fn the_member_socket_pushes_the_badge_and_the_balance_when_another_member_outbids(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let alice = app.funded("alice", 100_000).await;
    let bora = app.funded("bora", 100_000).await;
    let id = app.list(&seller, &Listing::new("Radio")).await;
    app.bid(&alice, id, 10_000).await;
    let mut ws = alice.me_ws().await;
    let first = expect_frame(&mut ws, "me", "id=\"unread-count\"").await;
    assert!(first.contains("hidden>0<"), "nothing unread yet: {first}");
    assert!(first.contains("₩90,000"), "the available balance: {first}");

    assert_eq!(app.bid(&bora, id, 11_000).await.0, StatusCode::SEE_OTHER);
    let bar = expect_frame(&mut ws, "me", "class=\"unread-badge\">1<").await;
    assert!(bar.contains("₩100,000"), "the released hold is back: {bar}");
    let toast = expect_frame(&mut ws, "notification", "You were outbid on “Radio”").await;
    let note = ids(&app, "alice")[0];
    assert!(
        toast.contains(&format!("href=\"/notifications/{note}\"")),
        "{toast}"
    );

    // A top-up moves the balance: pushed too, with no notification.
    alice.top_up("5000").await;
    expect_frame(&mut ws, "me", "₩105,000").await;
    // Reading it elsewhere clears the badge here.
    app.post(&alice, "/notifications/read-all", &[]).await;
    expect_frame(&mut ws, "me", "hidden>0<").await;
    // Bora's socket heard none of it.
    let mut theirs = bora.me_ws().await;
    expect_frame(&mut theirs, "me", "hidden>0<").await;
    assert!(next_frame(&mut theirs, Duration::from_millis(300))
        .await
        .is_none());
}

async fn the_member_socket_is_only_for_logged_in_members_on_pages_of_this_site(db: Db) {
    let app = spawn_app(db).await;
    let alice = app.sign_up("alice").await;
    let visitor = app.client();
    app.get(&visitor, "/").await;
    assert!(
        connect_me(&app.address, Some(&visitor.jar), Some(&app.address))
            .await
            .is_err()
    );
    assert!(connect_me(&app.address, None, Some(&app.address))
        .await
        .is_err());
    assert!(
        connect_me(&app.address, Some(&alice.jar), Some("http://evil.example"))
            .await
            .is_err()
    );
    assert!(connect_me(&app.address, Some(&alice.jar), None)
        .await
        .is_err());
    let mut ws = alice.me_ws().await;
    expect_frame(&mut ws, "me", "unread-count").await;
    // Logged out: the next request with that cookie is nobody, and the socket is refused.
    let copy = alice.copy_cookies();
    app.post(&alice, "/logout", &[]).await;
    assert!(
        connect_me(&app.address, Some(&copy.jar), Some(&app.address))
            .await
            .is_err()
    );
}

/// Two server processes on one PostgreSQL database: a member's socket on one hears of an outbid
/// placed through the other (`NOTIFY user_events`, delivered on commit to every process).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_member_socket_hears_of_a_bid_placed_through_another_server_process() {
    if !crate::helpers::postgres_or_skip(
        "the_member_socket_hears_of_a_bid_placed_through_another_server_process",
    ) {
        return;
    }
    let app = spawn_app(Db::Postgres).await;
    let other = app.spawn_process().await;
    let seller = app.sign_up("seller").await;
    let alice = app.funded("alice", 100_000).await;
    app.funded("bora", 100_000).await;
    let id = app.list(&seller, &Listing::new("Kettle")).await;
    assert_eq!(app.bid(&alice, id, 10_000).await.0, StatusCode::SEE_OTHER);

    // Alice's header is open on the other process; Bora bids through this one.
    let there = other.browser();
    assert_eq!(
        there
            .log_in("alice", crate::helpers::PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let mut remote = there.me_ws().await;
    expect_frame(&mut remote, "me", "₩90,000").await;
    let bora = app.client();
    bora.log_in("bora", crate::helpers::PASSWORD).await;
    assert_eq!(app.bid(&bora, id, 11_000).await.0, StatusCode::SEE_OTHER);
    expect_frame(&mut remote, "me", "class=\"unread-badge\">1<").await;
    expect_frame(&mut remote, "notification", "You were outbid on “Kettle”").await;

    // And the other way round: Alice's socket here, Bora's bid through the other process.
    let mut local = alice.me_ws().await;
    expect_frame(&mut local, "me", "₩100,000").await;
    assert_eq!(app.bid(&alice, id, 12_000).await.0, StatusCode::SEE_OTHER);
    let bora_there = other.browser();
    bora_there.log_in("bora", crate::helpers::PASSWORD).await;
    assert_eq!(bora_there.bid(id, 13_000).await.0, StatusCode::SEE_OTHER);
    expect_frame(&mut local, "me", "class=\"unread-badge\">2<").await;
    app.assert_audit_clean();
}
