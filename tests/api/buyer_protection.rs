//! Buyer protection (issue 13 item 6): a won auction or a buy-now becomes a trade; the
//! winner's money stays held until they confirm receipt (or the scheduler does after the
//! period) and only then is the seller paid. Either side may dispute before that; an admin
//! resolves at `/admin/disputes` by refunding the buyer or paying the seller, with a reason.
//! Market trades take the same path.

use std::time::Duration;

use neighborbid::portone::PaymentStatus;
use reqwest::StatusCode;

use crate::helpers::{
    both_databases, local_in, spawn_app, spawn_app_with, Browser, Db, Listing, TestApp,
};
use crate::market::{act, list_product, product_page, trade_ids};
use crate::payments::{checkout, come_back, imp_uid_of, location, payment_status, portone_status};

both_databases!(
    a_won_auction_pays_the_seller_only_when_the_winner_confirms_receipt,
    a_buy_now_is_held_until_the_buyer_confirms_receipt,
    an_unconfirmed_win_is_confirmed_by_the_scheduler_after_the_period_but_not_while_disputed,
    a_dispute_resolved_for_the_buyer_gives_the_held_money_back_and_both_read_why,
    a_dispute_resolved_for_the_seller_pays_the_seller_once,
    a_disputed_market_trade_paid_by_card_is_refunded_to_the_card,
    a_disputed_market_trade_paid_from_the_wallet_is_resolved_for_the_seller,
    strangers_and_members_cannot_dispute_or_resolve_what_is_not_theirs,
    a_confirm_racing_a_resolution_moves_the_money_exactly_once,
    each_side_of_an_auction_trade_is_told_of_its_confirmation_dispute_and_resolution,
);

// ---------------------------------------------------------------- helpers

/// A sold auction: `seller` lists it starting at `price`, `winner` bids `price` (a single
/// maximum prices at the start price) and wins at it when the scheduler closes it.
async fn won_auction(
    app: &TestApp,
    seller: &Browser,
    winner: &Browser,
    title: &str,
    price: i64,
) -> i64 {
    let mut l = Listing::new(title);
    l.start_price = price.to_string();
    l.ends_at = local_in(2);
    let id = app.list(seller, &l).await;
    assert_eq!(app.bid(winner, id, price).await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.wait_closed(id).await, "sold");
    id
}

fn trade_of(app: &TestApp, auction: i64) -> (i64, String) {
    app.auction_trade(auction).expect("the auction's trade")
}

fn trade_status(app: &TestApp, trade: i64) -> String {
    use diesel::prelude::*;
    use neighborbid::db::schema::trades::dsl as t;
    t::trades
        .find(trade)
        .select(t::status)
        .first(&mut app.raw_connection())
        .expect("trade")
}

/// (kind, delta_balance, delta_locked) of a member's journal, oldest first.
fn journal(app: &TestApp, username: &str) -> Vec<(String, i64, i64)> {
    use diesel::prelude::*;
    use neighborbid::db::schema::ledger_entries::dsl as l;
    let user = app.user_id(username);
    l::ledger_entries
        .filter(l::user_id.eq(user))
        .order(l::id.asc())
        .select((l::kind, l::delta_balance, l::delta_locked))
        .load(&mut app.raw_connection())
        .expect("journal")
}

fn count_kind(app: &TestApp, kind: &str) -> i64 {
    use diesel::prelude::*;
    use neighborbid::db::schema::ledger_entries::dsl as l;
    l::ledger_entries
        .filter(l::kind.eq(kind))
        .count()
        .get_result(&mut app.raw_connection())
        .expect("count")
}

/// The kinds of a member's notifications about trades, oldest first.
fn trade_notices(app: &TestApp, username: &str) -> Vec<String> {
    use diesel::prelude::*;
    use neighborbid::db::schema::notifications as n;
    n::table
        .filter(n::user_id.eq(app.user_id(username)))
        .filter(n::trade_id.is_not_null())
        .order(n::id.asc())
        .select(n::kind)
        .load(&mut app.raw_connection())
        .expect("notifications")
}

async fn dispute(app: &TestApp, b: &Browser, trade: i64, reason: &str) -> reqwest::Response {
    app.post(
        b,
        &format!("/trades/{trade}/dispute"),
        &[("reason", reason)],
    )
    .await
}

async fn resolve(
    app: &TestApp,
    b: &Browser,
    trade: i64,
    outcome: &str,
    reason: &str,
    key: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![("outcome", outcome), ("reason", reason)];
    if let Some(k) = key {
        form.push(("idempotency_key", k));
    }
    app.post(b, &format!("/admin/disputes/{trade}/resolve"), &form)
        .await
}

// ---------------------------------------------------------------- tests

async fn a_won_auction_pays_the_seller_only_when_the_winner_confirms_receipt(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let winner = app.funded("winner", 100_000).await;
    let other = app.funded("other", 100_000).await;
    let id = won_auction(&app, &seller, &winner, "Rice cooker", 30_000).await;

    // Sold, and nothing paid: the winner's money is held for the trade.
    let (trade, status) = trade_of(&app, id);
    assert_eq!(
        status, "approved",
        "waiting for the buyer to confirm receipt"
    );
    assert_eq!(app.wallet(&winner).await, (70_000, 30_000));
    assert_eq!(app.wallet(&seller).await, (0, 0));
    // Both sides read what happens next and when it is confirmed automatically.
    let (_, page) = app.get_html(&winner, &format!("/auctions/{id}")).await;
    assert!(
        page.contains("Your money is held until you confirm receipt"),
        "{page}"
    );
    assert!(
        page.contains("confirmed automatically on <span class=\"auto-confirm-at\">"),
        "{page}"
    );
    assert!(page.contains(&format!("action=\"/trades/{trade}/confirm\"")));
    let (_, page) = app.get_html(&seller, &format!("/auctions/{id}")).await;
    assert!(
        page.contains("The buyer&#39;s money is held until they confirm receipt"),
        "{page}"
    );
    assert!(
        !page.contains(&format!("action=\"/trades/{trade}/confirm\"")),
        "only the buyer confirms"
    );
    let (_, page) = app.get_html(&other, &format!("/auctions/{id}")).await;
    assert!(
        !page.contains("id=\"my-trade\""),
        "a third member sees no trade"
    );
    let (_, purchases) = app.get_html(&winner, "/me/purchases").await;
    assert!(
        purchases.contains(&format!("href=\"/auctions/{id}\"")),
        "{purchases}"
    );
    let (_, reservations) = app.get_html(&seller, "/me/reservations").await;
    assert!(
        reservations.contains("data-trade-status=\"approved\""),
        "{reservations}"
    );

    // The seller and a stranger cannot confirm on the buyer's behalf.
    assert_eq!(
        act(&app, &seller, trade, "confirm").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        act(&app, &other, trade, "confirm").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.wallet(&seller).await, (0, 0));

    let r = act(&app, &winner, trade, "confirm").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/auctions/{id}"));
    assert_eq!(trade_status(&app, trade), "confirmed");
    assert_eq!(app.wallet(&winner).await, (70_000, 0));
    assert_eq!(app.wallet(&seller).await, (30_000, 0));
    // The journal: the winner's bid hold paid out, the seller's sale proceeds, nothing else.
    assert_eq!(
        journal(&app, "winner"),
        [
            ("deposit".to_owned(), 100_000, 0),
            ("bid_hold".to_owned(), -30_000, 30_000),
            ("settle_out".to_owned(), 0, -30_000),
        ]
    );
    assert_eq!(
        journal(&app, "seller"),
        [("settle_in".to_owned(), 30_000, 0)]
    );
    // Confirming again changes nothing.
    assert_eq!(
        act(&app, &winner, trade, "confirm").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(app.wallet(&seller).await, (30_000, 0));
    let (_, page) = app.get_html(&winner, &format!("/auctions/{id}")).await;
    assert!(page.contains("the seller has been paid"), "{page}");
    app.assert_audit_clean();
}

async fn a_buy_now_is_held_until_the_buyer_confirms_receipt(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let leader = app.funded("leader", 100_000).await;
    let buyer = app.funded("buyer", 100_000).await;
    let mut l = Listing::new("Bicycle");
    l.buy_now_price = "80000".into();
    let id = app.list(&seller, &l).await;
    assert_eq!(app.bid(&leader, id, 20_000).await.0, StatusCode::SEE_OTHER);
    let (status, _) = app.buy_now(&buyer, id).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.auction_row(id).0, "sold");
    assert_eq!(
        app.wallet(&leader).await,
        (100_000, 0),
        "the outbid hold released"
    );
    assert_eq!(
        app.wallet(&buyer).await,
        (20_000, 80_000),
        "the whole price held"
    );
    assert_eq!(app.wallet(&seller).await, (0, 0), "not paid before receipt");
    let (trade, status) = trade_of(&app, id);
    assert_eq!(status, "approved");

    assert_eq!(
        app.confirm_auction_trade(&buyer, id).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(trade_status(&app, trade), "confirmed");
    assert_eq!(app.wallet(&buyer).await, (20_000, 0));
    assert_eq!(app.wallet(&seller).await, (80_000, 0));
    assert_eq!(count_kind(&app, "settle_in"), 1);
    app.assert_audit_clean();
}

async fn an_unconfirmed_win_is_confirmed_by_the_scheduler_after_the_period_but_not_while_disputed(
    db: Db,
) {
    let app = spawn_app_with(db, |s| s.market_auto_confirm = Duration::from_secs(4)).await;
    let seller = app.sign_up("seller").await;
    let forgetful = app.funded("forgetful", 50_000).await;
    let unhappy = app.funded("unhappy", 50_000).await;
    // Each starts at its winner's maximum: a single maximum prices at the start price.
    let mut l = Listing::new("Umbrella");
    l.ends_at = local_in(2);
    l.start_price = "12000".into();
    let quiet = app.list(&seller, &l).await;
    l.title = "Raincoat".into();
    l.start_price = "15000".into();
    let disputed = app.list(&seller, &l).await;
    assert_eq!(
        app.bid(&forgetful, quiet, 12_000).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.bid(&unhappy, disputed, 15_000).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.wait_closed(disputed).await, "sold");
    let (held, _) = trade_of(&app, disputed);
    assert_eq!(
        dispute(&app, &unhappy, held, "It arrived torn.")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.wait_closed(quiet).await, "sold");
    let (trade, _) = trade_of(&app, quiet);

    let mut status = String::new();
    for _ in 0..200 {
        status = trade_status(&app, trade);
        if status == "confirmed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "confirmed", "the scheduler confirmed it");
    assert_eq!(app.wallet(&forgetful).await, (38_000, 0));
    assert_eq!(
        trade_notices(&app, "forgetful"),
        vec!["trade_auto_confirmed"],
        "both sides are told the site confirmed it"
    );
    assert_eq!(
        trade_notices(&app, "seller"),
        vec!["trade_disputed", "trade_auto_confirmed"]
    );
    assert_eq!(
        app.wallet(&seller).await,
        (12_000, 0),
        "paid for the quiet one only"
    );
    // Well past the period, the disputed one still waits for an admin.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(trade_status(&app, held), "disputed");
    assert_eq!(app.wallet(&unhappy).await, (35_000, 15_000));
    assert_eq!(app.wallet(&seller).await, (12_000, 0));
    app.assert_audit_clean();
}

async fn a_dispute_resolved_for_the_buyer_gives_the_held_money_back_and_both_read_why(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin("boss").await;
    let seller = app.sign_up("seller").await;
    let buyer = app.funded("buyer", 50_000).await;
    let id = won_auction(&app, &seller, &buyer, "Lamp", 20_000).await;
    let (trade, _) = trade_of(&app, id);

    // An empty or overlong reason is refused and changes nothing.
    for reason in ["", "   ", &"x".repeat(1_001)] {
        let r = dispute(&app, &buyer, trade, reason).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(trade_status(&app, trade), "approved");

    let r = dispute(&app, &buyer, trade, "It never arrived.").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/auctions/{id}"));
    assert_eq!(trade_status(&app, trade), "disputed");
    // The buyer's side is given; the seller adds theirs.
    assert_eq!(
        dispute(&app, &buyer, trade, "Again.").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        dispute(&app, &seller, trade, "I left it at the door on Monday.")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let (status, page) = app.get_html(&admin, "/admin/disputes").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("id=\"dispute-{trade}\"")), "{page}");
    assert!(page.contains("It never arrived."));
    assert!(page.contains("I left it at the door on Monday."));
    // Both sides are named with a link to their profiles.
    for name in ["buyer", "seller"] {
        let id = app.user_id(name);
        assert!(page.contains(&format!("href=\"/users/{id}\" class=\"profile-link\"")));
    }
    let (_, dashboard) = app.get_html(&admin, "/admin").await;
    assert!(dashboard.contains("href=\"/admin/disputes\""));

    // The admin must write a reason and choose an outcome.
    for (outcome, reason) in [
        ("refund_buyer", ""),
        ("refund_buyer", "  "),
        ("both", "fine"),
        ("", "fine"),
    ] {
        let r = resolve(&app, &admin, trade, outcome, reason, None).await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{outcome:?} {reason:?}"
        );
    }
    assert_eq!(trade_status(&app, trade), "disputed");
    assert_eq!(app.wallet(&buyer).await, (30_000, 20_000));

    // Submitted twice with one form key: resolved once, both answers the same.
    let key = "resolve-key-0123456789abcdef";
    let why = "The courier confirms the parcel was lost.";
    let first = resolve(&app, &admin, trade, "refund_buyer", why, Some(key)).await;
    let second = resolve(&app, &admin, trade, "refund_buyer", why, Some(key)).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(second.status(), StatusCode::SEE_OTHER);
    assert_eq!(trade_status(&app, trade), "refunded");
    assert_eq!(app.wallet(&buyer).await, (50_000, 0), "the hold went back");
    assert_eq!(app.wallet(&seller).await, (0, 0));
    assert_eq!(
        journal(&app, "buyer").last().unwrap(),
        &("bid_release".to_owned(), 20_000, -20_000)
    );
    // Resolving again (another form), or confirming now, changes nothing.
    let r = resolve(&app, &admin, trade, "pay_seller", "Changed my mind.", None).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        act(&app, &buyer, trade, "confirm").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(app.wallet(&buyer).await, (50_000, 0));
    assert_eq!(app.wallet(&seller).await, (0, 0));
    assert_eq!(count_kind(&app, "bid_release"), 1);
    // Both sides read the decision and its reason; the admin's list is empty.
    for side in [&buyer, &seller] {
        let (_, page) = app.get_html(side, &format!("/auctions/{id}")).await;
        assert!(page.contains("An admin refunded the buyer"), "{page}");
        assert!(page.contains(why), "{page}");
    }
    let (_, page) = app.get_html(&admin, "/admin/disputes").await;
    assert!(page.contains("id=\"no-disputes\""), "{page}");
    app.assert_audit_clean();
}

async fn a_dispute_resolved_for_the_seller_pays_the_seller_once(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin("boss").await;
    let seller = app.sign_up("seller").await;
    let buyer = app.funded("buyer", 50_000).await;
    let id = won_auction(&app, &seller, &buyer, "Desk", 25_000).await;
    let (trade, _) = trade_of(&app, id);
    assert_eq!(
        dispute(
            &app,
            &seller,
            trade,
            "The buyer has had it for weeks and will not confirm."
        )
        .await
        .status(),
        StatusCode::SEE_OTHER
    );
    let why = "A photo from the buyer shows the desk at their home.";
    let r = resolve(&app, &admin, trade, "pay_seller", why, None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(trade_status(&app, trade), "confirmed");
    assert_eq!(app.wallet(&buyer).await, (25_000, 0));
    assert_eq!(app.wallet(&seller).await, (25_000, 0));
    assert_eq!(
        journal(&app, "seller"),
        [("settle_in".to_owned(), 25_000, 0)]
    );
    let r = resolve(&app, &admin, trade, "refund_buyer", "Or not.", None).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.wallet(&seller).await, (25_000, 0), "paid once");
    let (_, page) = app.get_html(&buyer, "/me/purchases").await;
    assert!(page.contains("An admin paid the seller"), "{page}");
    assert!(page.contains(why), "{page}");
    app.assert_audit_clean();
}

async fn a_disputed_market_trade_paid_by_card_is_refunded_to_the_card(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin("boss").await;
    let seller = app.sign_up("seller").await;
    let product = list_product(&app, &seller, "Brass lamp", "25000", "2").await;
    let buyer = app.sign_up("buyer").await;
    let (_, page) = app.get_html(&buyer, &format!("/market/{product}")).await;
    let seen = crate::helpers::field_value(&page, "expected_price").unwrap();
    let r = app
        .post(
            &buyer,
            &format!("/market/{product}/buy"),
            &[
                ("quantity", "1"),
                ("expected_price", &seen),
                ("pay_with", "card"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let uid = location(&r).trim_start_matches("/payments/").to_owned();
    let back = checkout(&app, &buyer, &uid, "approve", false).await;
    let imp_uid = imp_uid_of(&back);
    come_back(&app, &buyer, &back, &uid).await;
    assert_eq!(app.wallet(&buyer).await, (0, 25_000));
    let html = product_page(&app, &seller, product).await;
    let trade = trade_ids(&html, "approve")[0];
    assert_eq!(
        act(&app, &seller, trade, "approve").await.status(),
        StatusCode::SEE_OTHER
    );

    let r = dispute(&app, &buyer, trade, "The lamp does not light.").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/market/{product}"));
    let r = resolve(
        &app,
        &admin,
        trade,
        "refund_buyer",
        "The seller agrees it is broken.",
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(trade_status(&app, trade), "refunded");
    // Back to the card through the refund path every trade refund takes.
    let (status, cancelled) = portone_status(&app, &imp_uid).await;
    assert_eq!(status, PaymentStatus::Cancelled, "refunded at PortOne");
    assert_eq!(cancelled, 25_000);
    assert_eq!(payment_status(&app, &uid), "cancelled");
    assert_eq!(app.wallet(&buyer).await, (0, 0));
    assert_eq!(app.wallet(&seller).await, (0, 0));
    assert_eq!(count_kind(&app, "withdrawal"), 1);
    let html = product_page(&app, &buyer, product).await;
    assert!(html.contains("The seller agrees it is broken."), "{html}");
    app.assert_audit_clean();
}

async fn a_disputed_market_trade_paid_from_the_wallet_is_resolved_for_the_seller(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin("boss").await;
    let seller = app.sign_up("seller").await;
    let buyer = app.funded("buyer", 40_000).await;
    let product = list_product(&app, &seller, "Kettle", "15000", "1").await;
    let (_, page) = app.get_html(&buyer, &format!("/market/{product}")).await;
    let seen = crate::helpers::field_value(&page, "expected_price").unwrap();
    let r = app
        .post(
            &buyer,
            &format!("/market/{product}/buy"),
            &[("quantity", "1"), ("expected_price", &seen)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = product_page(&app, &seller, product).await;
    let trade = trade_ids(&html, "approve")[0];
    // Not yet agreed: nothing to dispute (the buyer can cancel, the seller reject).
    assert_eq!(
        dispute(&app, &buyer, trade, "Too slow.").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        act(&app, &seller, trade, "approve").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        dispute(
            &app,
            &seller,
            trade,
            "Delivered; the buyer does not answer."
        )
        .await
        .status(),
        StatusCode::SEE_OTHER
    );
    let html = product_page(&app, &buyer, product).await;
    assert!(
        html.contains("Delivered; the buyer does not answer."),
        "{html}"
    );
    let r = resolve(
        &app,
        &admin,
        trade,
        "pay_seller",
        "Delivery confirmed by photo.",
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(trade_status(&app, trade), "confirmed");
    assert_eq!(app.wallet(&buyer).await, (25_000, 0));
    assert_eq!(app.wallet(&seller).await, (15_000, 0));
    assert_eq!(count_kind(&app, "purchase_in"), 1);
    app.assert_audit_clean();
}

async fn strangers_and_members_cannot_dispute_or_resolve_what_is_not_theirs(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let buyer = app.funded("buyer", 50_000).await;
    let stranger = app.funded("stranger", 50_000).await;
    let anon = app.client();
    let id = won_auction(&app, &seller, &buyer, "Chair", 20_000).await;
    let (trade, _) = trade_of(&app, id);

    assert_eq!(
        dispute(&app, &stranger, trade, "Mine now.").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        dispute(&app, &stranger, trade, "").await.status(),
        StatusCode::NOT_FOUND,
        "an empty reason tells a stranger nothing about the trade"
    );
    assert_eq!(
        dispute(&app, &stranger, 987_654, "No such trade.")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let r = dispute(&app, &anon, trade, "Anonymous.").await;
    assert!(r.status() == StatusCode::SEE_OTHER || r.status() == StatusCode::FORBIDDEN);
    assert!(location(&r).starts_with("/login") || r.status() == StatusCode::FORBIDDEN);
    assert_eq!(trade_status(&app, trade), "approved");

    // Only admins see or resolve disputes, even the trade's own sides.
    assert_eq!(
        dispute(&app, &buyer, trade, "Broken.").await.status(),
        StatusCode::SEE_OTHER
    );
    for member in [&buyer, &seller, &stranger] {
        assert_eq!(
            app.get(member, "/admin/disputes").await.status(),
            StatusCode::FORBIDDEN
        );
        for outcome in ["refund_buyer", "pay_seller"] {
            let r = resolve(&app, member, trade, outcome, "I decide.", None).await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN);
        }
    }
    let r = app.get(&anon, "/admin/disputes").await;
    assert!(r.status() == StatusCode::SEE_OTHER || r.status() == StatusCode::FORBIDDEN);
    assert_eq!(trade_status(&app, trade), "disputed");
    assert_eq!(app.wallet(&buyer).await, (30_000, 20_000));
    assert_eq!(app.wallet(&seller).await, (0, 0));
    assert_eq!(app.wallet(&stranger).await, (50_000, 0));
    // An admin resolving a trade that does not exist: 404.
    let admin = app.admin("boss").await;
    let r = resolve(&app, &admin, 987_654, "pay_seller", "Nothing.", None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    app.assert_audit_clean();
}

async fn a_confirm_racing_a_resolution_moves_the_money_exactly_once(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin("boss").await;
    let seller = app.sign_up("seller").await;
    let buyer = app.funded("buyer", 1_000_000).await;
    let mut paid_seller = 0;
    let mut refunded = 0;
    for round in 0..4 {
        let price = 10_000 + round * 1_000;
        let outcome = if round % 2 == 0 {
            "refund_buyer"
        } else {
            "pay_seller"
        };
        let id = won_auction(&app, &seller, &buyer, &format!("Race {round}"), price).await;
        let (trade, _) = trade_of(&app, id);
        assert_eq!(
            dispute(&app, &buyer, trade, "Racing.").await.status(),
            StatusCode::SEE_OTHER
        );
        let (seller_before, buyer_before) = (app.wallet(&seller).await, app.wallet(&buyer).await);
        let (confirmed, resolved) = tokio::join!(
            act(&app, &buyer, trade, "confirm"),
            resolve(
                &app,
                &admin,
                trade,
                outcome,
                "Decided while the buyer confirmed.",
                None
            ),
        );
        let answers = [confirmed.status(), resolved.status()];
        assert_eq!(
            answers
                .iter()
                .filter(|s| **s == StatusCode::SEE_OTHER)
                .count(),
            1,
            "exactly one acts: {answers:?}"
        );
        assert!(
            answers.contains(&StatusCode::UNPROCESSABLE_ENTITY),
            "{answers:?}"
        );
        let (seller_after, buyer_after) = (app.wallet(&seller).await, app.wallet(&buyer).await);
        let to_seller = seller_after.0 - seller_before.0;
        let to_buyer = buyer_after.0 - buyer_before.0;
        assert_eq!(
            buyer_after.1,
            buyer_before.1 - price,
            "the hold is used once"
        );
        match trade_status(&app, trade).as_str() {
            "confirmed" => {
                assert_eq!((to_seller, to_buyer), (price, 0), "the seller paid once");
                paid_seller += 1;
            }
            "refunded" => {
                assert_eq!((to_seller, to_buyer), (0, price), "the buyer refunded once");
                refunded += 1;
            }
            other => panic!("the trade ended {other}"),
        }
    }
    assert_eq!(paid_seller + refunded, 4);
    assert_eq!(
        count_kind(&app, "settle_in") + count_kind(&app, "bid_release"),
        4
    );
    app.assert_audit_clean();
}

async fn each_side_of_an_auction_trade_is_told_of_its_confirmation_dispute_and_resolution(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin("boss").await;
    let seller = app.sign_up("seller").await;
    let buyer = app.funded("buyer", 100_000).await;
    let _stranger = app.funded("stranger", 100_000).await;

    // Confirmed by the buyer: the seller is told, the buyer (who acted) is not.
    let kept = won_auction(&app, &seller, &buyer, "Teapot", 20_000).await;
    assert_eq!(
        app.confirm_auction_trade(&buyer, kept).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(trade_notices(&app, "seller"), vec!["trade_confirmed"]);
    assert!(trade_notices(&app, "buyer").is_empty());

    // Disputed by the buyer: the seller is told; the seller's own side tells the buyer.
    let argued = won_auction(&app, &seller, &buyer, "Kettle", 30_000).await;
    let (trade, _) = trade_of(&app, argued);
    let r = dispute(&app, &buyer, trade, "The lid is cracked.").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        trade_notices(&app, "seller"),
        vec!["trade_confirmed", "trade_disputed"]
    );
    assert!(trade_notices(&app, "buyer").is_empty());
    let r = dispute(&app, &seller, trade, "It was whole when it left.").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(trade_notices(&app, "buyer"), vec!["trade_disputed"]);

    // Resolved: both sides are told once, and the notice leads to the auction's page.
    let r = resolve(
        &app,
        &admin,
        trade,
        "refund_buyer",
        "The photos show the crack.",
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        trade_notices(&app, "seller"),
        vec!["trade_confirmed", "trade_disputed", "trade_resolved"]
    );
    assert_eq!(
        trade_notices(&app, "buyer"),
        vec!["trade_disputed", "trade_resolved"]
    );
    assert!(trade_notices(&app, "stranger").is_empty());
    assert!(trade_notices(&app, "boss").is_empty());
    let (_, list) = app.get_html(&buyer, "/notifications").await;
    assert!(
        list.contains("An admin resolved the dispute on the trade of “Kettle”"),
        "{list}"
    );
    // Opening it leads to the auction's page.
    let newest: i64 = {
        use diesel::prelude::*;
        use neighborbid::db::schema::notifications as n;
        n::table
            .filter(n::user_id.eq(app.user_id("buyer")))
            .order(n::id.desc())
            .select(n::id)
            .first(&mut app.raw_connection())
            .expect("a notification")
    };
    let r = app.get(&buyer, &format!("/notifications/{newest}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/auctions/{argued}"));
    assert_eq!(app.wallet(&buyer).await, (80_000, 0));
    assert_eq!(app.wallet(&seller).await, (20_000, 0));
    app.assert_audit_clean();
}
