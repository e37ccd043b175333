//! A market purchase paid by card at checkout (DESIGN §8, issue 11 item 3), against the
//! built-in simulator: the trade waits for the payment with its units reserved; PortOne's
//! "paid" records the deposit and the purchase hold in one transaction, exactly once; an
//! unpaid one (declined, or past its deadline) cancels the trade; a trade paid by card that
//! does not go ahead is refunded to the card through PortOne's cancel.

use std::sync::Arc;
use std::time::Duration;

use neighborbid::portone::PaymentStatus;
use reqwest::StatusCode;

use crate::helpers::{
    both_databases, field_value, spawn_app, spawn_app_with, Browser, Db, TestApp,
};
use crate::market::{act, list_product, product_page, product_state, trade_ids};
use crate::payments::{
    checkout, come_back, deposits, imp_uid_of, location, pay_at_the_window_anyway, payment_status,
    portone_status, wait_status, webhook_form, webhook_json,
};

both_databases!(
    a_purchase_paid_by_card_goes_to_the_seller_and_pays_them_on_confirmation,
    twenty_concurrent_completions_and_webhooks_record_one_deposit_and_one_hold,
    a_declined_card_payment_cancels_the_trade_and_puts_the_units_back_on_sale,
    a_card_payment_past_its_deadline_cancels_the_trade_and_moves_nothing,
    a_trade_paid_by_card_and_rejected_or_cancelled_is_refunded_to_the_card,
    paying_from_the_wallet_is_unchanged_and_other_choices_are_refused,
    a_card_payment_whose_return_was_lost_is_found_by_its_order_at_the_deadline_and_not_cancelled,
);

/// `POST /market/{product}/buy` with `pay_with` (None: left out).
async fn buy_with(
    app: &TestApp,
    b: &Browser,
    product: i64,
    quantity: &str,
    pay_with: Option<&str>,
) -> reqwest::Response {
    let (_, page) = app.get_html(b, &format!("/market/{product}")).await;
    let seen = field_value(&page, "expected_price").unwrap_or_default();
    let mut form = vec![("quantity", quantity), ("expected_price", seen.as_str())];
    if let Some(p) = pay_with {
        form.push(("pay_with", p));
    }
    app.post(b, &format!("/market/{product}/buy"), &form).await
}

/// Buy by card: the payment page's `merchant_uid`.
async fn buy_by_card(app: &TestApp, b: &Browser, product: i64, quantity: &str) -> String {
    let r = buy_with(app, b, product, quantity, Some("card")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    let uid = to
        .strip_prefix("/payments/")
        .unwrap_or_else(|| panic!("the payment page: {to}"))
        .to_owned();
    assert!(uid.len() >= 32, "an unguessable merchant_uid: {uid}");
    uid
}

fn ledger_count(app: &TestApp, kind: &str) -> usize {
    use diesel::prelude::*;
    use neighborbid::db::schema::ledger_entries::dsl as l;
    l::ledger_entries
        .filter(l::kind.eq(kind))
        .count()
        .get_result::<i64>(&mut app.raw_connection())
        .expect("count") as usize
}

fn trade_statuses(app: &TestApp) -> Vec<String> {
    use diesel::prelude::*;
    use neighborbid::db::schema::trades::dsl as t;
    t::trades
        .order(t::id.asc())
        .select(t::status)
        .load(&mut app.raw_connection())
        .expect("trades")
}

fn payment_rows(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use neighborbid::db::schema::payments::dsl as p;
    p::payments
        .count()
        .get_result(&mut app.raw_connection())
        .expect("payments")
}

/// A paid card purchase: seller, buyer (empty wallet), product, payment, imp_uid.
async fn paid_purchase(app: &TestApp) -> (Browser, Browser, i64, String, String) {
    let seller = app.sign_up("seller").await;
    let product = list_product(app, &seller, "Brass lamp", "25000", "2").await;
    let buyer = app.sign_up("buyer").await;
    let uid = buy_by_card(app, &buyer, product, "1").await;
    let back = checkout(app, &buyer, &uid, "approve", false).await;
    let imp_uid = imp_uid_of(&back);
    come_back(app, &buyer, &back, &uid).await;
    (seller, buyer, product, uid, imp_uid)
}

async fn a_purchase_paid_by_card_goes_to_the_seller_and_pays_them_on_confirmation(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let product = list_product(&app, &seller, "Brass lamp", "25000", "2").await;
    let buyer = app.sign_up("buyer").await;
    let uid = buy_by_card(&app, &buyer, product, "1").await;
    assert!(uid.starts_with("trade_"), "{uid}");
    // Waiting for the payment: the unit is reserved, nothing moved, the page says so.
    assert_eq!(product_state(&app, &seller, product).await.1, 1);
    assert_eq!(trade_statuses(&app), ["awaiting_payment"]);
    let html = product_page(&app, &buyer, product).await;
    assert!(html.contains("Waiting for your card payment"), "{html}");
    assert!(
        html.contains("class=\"muted pay-by\""),
        "the deadline: {html}"
    );
    assert!(html.contains(&format!("/payments/{uid}")), "{html}");
    let (_, page) = app.get_html(&buyer, &format!("/payments/{uid}")).await;
    assert!(page.contains("Market purchase"), "{page}");
    assert!(page.contains("Waiting for your card payment"), "{page}");
    assert!(page.contains("class=\"pay-by\""), "the deadline: {page}");
    let seller_html = product_page(&app, &seller, product).await;
    assert!(
        trade_ids(&seller_html, "approve").is_empty(),
        "nothing to approve before payment"
    );
    assert_eq!(app.wallet(&buyer).await, (0, 0));

    let back = checkout(&app, &buyer, &uid, "approve", true).await;
    come_back(&app, &buyer, &back, &uid).await;
    assert_eq!(payment_status(&app, &uid), "paid");
    assert_eq!(trade_statuses(&app), ["requested"]);
    assert_eq!(
        app.wallet(&buyer).await,
        (0, 25_000),
        "the card's money is held"
    );
    let (_, page) = app.get_html(&buyer, &format!("/payments/{uid}")).await;
    assert!(
        page.contains("held in your wallet for your purchase"),
        "{page}"
    );

    let seller_html = product_page(&app, &seller, product).await;
    let ids = trade_ids(&seller_html, "approve");
    assert_eq!(ids.len(), 1);
    assert_eq!(
        act(&app, &seller, ids[0], "approve").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        act(&app, &buyer, ids[0], "confirm").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(trade_statuses(&app), ["confirmed"]);
    assert_eq!(app.wallet(&seller).await, (25_000, 0), "the seller is paid");
    assert_eq!(
        app.wallet(&buyer).await,
        (0, 0),
        "the buyer's wallet is back to 0 net"
    );
    assert_eq!(deposits(&app).len(), 1);
    assert_eq!(ledger_count(&app, "purchase_hold"), 1);
    app.assert_audit_clean();
}

async fn twenty_concurrent_completions_and_webhooks_record_one_deposit_and_one_hold(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let product = list_product(&app, &seller, "Brass lamp", "25000", "2").await;
    let buyer = app.sign_up("buyer").await;
    let uid = buy_by_card(&app, &buyer, product, "2").await;
    let back = checkout(&app, &buyer, &uid, "approve", false).await;
    let imp_uid = imp_uid_of(&back);
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (app, back, imp_uid, uid) = (app.clone(), back.clone(), imp_uid.clone(), uid.clone());
        let b = buyer.copy_cookies();
        tasks.push(tokio::spawn(async move {
            match i % 3 {
                0 => app.get(&b, &back).await.status(),
                1 => webhook_json(&app, &imp_uid, &uid).await,
                _ => webhook_form(&app, &imp_uid, &uid).await,
            }
        }));
    }
    for t in tasks {
        let status = t.await.expect("task");
        assert!(
            status == StatusCode::OK || status == StatusCode::SEE_OTHER,
            "{status}"
        );
    }
    assert_eq!(app.wallet(&buyer).await, (0, 50_000));
    assert_eq!(deposits(&app).len(), 1);
    assert_eq!(ledger_count(&app, "purchase_hold"), 1);
    assert_eq!(trade_statuses(&app), ["requested"]);
    assert_eq!(product_state(&app, &seller, product).await.1, 0);
    app.assert_audit_clean();
}

async fn a_declined_card_payment_cancels_the_trade_and_puts_the_units_back_on_sale(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let product = list_product(&app, &seller, "Brass lamp", "25000", "1").await;
    let buyer = app.sign_up("buyer").await;
    let uid = buy_by_card(&app, &buyer, product, "1").await;
    assert_eq!(
        product_state(&app, &seller, product).await,
        ("reserved".to_owned(), 0)
    );
    // Nobody else can take the reserved unit meanwhile.
    let other = app.funded("other", 50_000).await;
    let deposits_before = deposits(&app).len();
    assert_eq!(
        buy_with(&app, &other, product, "1", Some("card"))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let back = checkout(&app, &buyer, &uid, "decline", true).await;
    let imp_uid = imp_uid_of(&back);
    come_back(&app, &buyer, &back, &uid).await;
    assert_eq!(webhook_json(&app, &imp_uid, &uid).await, StatusCode::OK);
    assert_eq!(payment_status(&app, &uid), "failed");
    assert_eq!(trade_statuses(&app), ["cancelled"]);
    assert_eq!(
        product_state(&app, &seller, product).await,
        ("on_sale".to_owned(), 1),
        "the unit is back on sale"
    );
    assert_eq!(app.wallet(&buyer).await, (0, 0));
    assert_eq!(deposits(&app).len(), deposits_before, "nothing credited");
    let (_, page) = app.get_html(&buyer, &format!("/payments/{uid}")).await;
    assert!(page.contains("the purchase was cancelled"), "{page}");
    // The unit can be bought by someone else now.
    assert_eq!(
        buy_with(&app, &other, product, "1", None).await.status(),
        StatusCode::SEE_OTHER
    );
    app.assert_audit_clean();
}

async fn a_card_payment_past_its_deadline_cancels_the_trade_and_moves_nothing(db: Db) {
    let app = spawn_app_with(db, |s| s.portone.card_due = Duration::from_secs(1)).await;
    let seller = app.sign_up("seller").await;
    let product = list_product(&app, &seller, "Brass lamp", "25000", "3").await;
    let buyer = app.sign_up("buyer").await;
    let uid = buy_by_card(&app, &buyer, product, "2").await;
    assert_eq!(product_state(&app, &seller, product).await.1, 1);
    wait_status(&app, &uid, "expired").await;
    assert_eq!(trade_statuses(&app), ["cancelled"]);
    assert_eq!(
        product_state(&app, &seller, product).await,
        ("on_sale".to_owned(), 3),
        "the units are back on sale"
    );
    assert_eq!(app.wallet(&buyer).await, (0, 0));
    assert!(deposits(&app).is_empty());
    let (_, page) = app.get_html(&buyer, &format!("/payments/{uid}")).await;
    assert!(page.contains("deadline passed unpaid"), "{page}");
    // Paid at the checkout after the deadline anyway: nothing credited or held, and the whole
    // payment goes back to the card.
    let back = pay_at_the_window_anyway(&app, &buyer, &uid, "50000", "Brass lamp").await;
    let imp_uid = imp_uid_of(&back);
    come_back(&app, &buyer, &back, &uid).await;
    assert_eq!(payment_status(&app, &uid), "expired");
    let (status, cancelled) = portone_status(&app, &imp_uid).await;
    assert_eq!(
        status,
        PaymentStatus::Cancelled,
        "the late payment is cancelled at PortOne"
    );
    assert_eq!(cancelled, 50_000);
    assert_eq!(app.wallet(&buyer).await, (0, 0));
    assert!(deposits(&app).is_empty());
    assert_eq!(trade_statuses(&app), ["cancelled"]);
    app.assert_audit_clean();
}

async fn a_trade_paid_by_card_and_rejected_or_cancelled_is_refunded_to_the_card(db: Db) {
    let app = spawn_app(db).await;
    let (seller, buyer, product, uid, imp_uid) = paid_purchase(&app).await;
    assert_eq!(app.wallet(&buyer).await, (0, 25_000));
    let html = product_page(&app, &seller, product).await;
    let ids = trade_ids(&html, "reject");
    assert_eq!(ids.len(), 1);
    assert_eq!(
        act(&app, &seller, ids[0], "reject").await.status(),
        StatusCode::SEE_OTHER
    );
    let (status, cancelled) = portone_status(&app, &imp_uid).await;
    assert_eq!(status, PaymentStatus::Cancelled, "refunded at PortOne");
    assert_eq!(cancelled, 25_000);
    assert_eq!(payment_status(&app, &uid), "cancelled");
    assert_eq!(
        app.wallet(&buyer).await,
        (0, 0),
        "the wallet ends where it started"
    );
    assert_eq!(product_state(&app, &seller, product).await.1, 2);
    let (_, page) = app.get_html(&buyer, &format!("/payments/{uid}")).await;
    assert!(page.contains("went back to your card"), "{page}");
    // Rejecting again refunds nothing more.
    assert_eq!(
        act(&app, &seller, ids[0], "reject").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(ledger_count(&app, "withdrawal"), 1);

    // The buyer cancels a second card purchase before approval: refunded the same way.
    let second = app.sign_up("second").await;
    let uid2 = buy_by_card(&app, &second, product, "1").await;
    let back = checkout(&app, &second, &uid2, "approve", false).await;
    let imp2 = imp_uid_of(&back);
    come_back(&app, &second, &back, &uid2).await;
    assert_eq!(app.wallet(&second).await, (0, 25_000));
    let html = product_page(&app, &second, product).await;
    let ids = trade_ids(&html, "cancel");
    assert_eq!(ids.len(), 1);
    // The seller cannot cancel the buyer's trade.
    assert_eq!(
        act(&app, &seller, ids[0], "cancel").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        act(&app, &second, ids[0], "cancel").await.status(),
        StatusCode::SEE_OTHER
    );
    let (status, cancelled) = portone_status(&app, &imp2).await;
    assert_eq!(status, PaymentStatus::Cancelled);
    assert_eq!(cancelled, 25_000);
    assert_eq!(app.wallet(&second).await, (0, 0));
    assert_eq!(ledger_count(&app, "withdrawal"), 2);
    assert_eq!(deposits(&app).len(), 2);
    app.assert_audit_clean();
}

async fn paying_from_the_wallet_is_unchanged_and_other_choices_are_refused(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let product = list_product(&app, &seller, "Brass lamp", "10000", "5").await;
    let html = product_page(&app, &app.funded("looker", 10_000).await, product).await;
    assert!(html.contains("name=\"pay_with\" value=\"card\""), "{html}");
    for (name, pay_with) in [("absent", None), ("wallet", Some("wallet"))] {
        let b = app.funded(name, 30_000).await;
        let r = buy_with(&app, &b, product, "1", pay_with).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), format!("/market/{product}"));
        assert_eq!(app.wallet(&b).await, (20_000, 10_000));
    }
    assert_eq!(payment_rows(&app), 0, "no payment for a wallet purchase");
    // Anything else, and card purchases breaking a rule, create nothing.
    let b = app.funded("hostile", 30_000).await;
    for pay_with in ["vbank ", "CARD", "points", "card\u{0}"] {
        let r = buy_with(&app, &b, product, "1", Some(pay_with)).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{pay_with:?}");
    }
    for quantity in ["0", "99", "-1", "x"] {
        let r = buy_with(&app, &b, product, quantity, Some("card")).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{quantity}");
    }
    let r = buy_with(&app, &seller, product, "1", Some("card")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "own product");
    let r = app
        .post(
            &b,
            &format!("/market/{product}/buy"),
            &[
                ("quantity", "1"),
                ("expected_price", "1"),
                ("pay_with", "card"),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a changed price"
    );
    assert_eq!(payment_rows(&app), 0);
    assert_eq!(app.wallet(&b).await, (30_000, 0));
    assert_eq!(product_state(&app, &seller, product).await.1, 3);
    app.assert_audit_clean();
}

async fn a_card_payment_whose_return_was_lost_is_found_by_its_order_at_the_deadline_and_not_cancelled(
    db: Db,
) {
    // Paid at the checkout, but neither the browser's return nor a webhook ever reached us:
    // at the deadline the sweeper asks PortOne by merchant_uid (`/payments/find/…/paid`) and
    // settles it as paid instead of cancelling a purchase the buyer paid for.
    let app = spawn_app_with(db, |s| s.portone.card_due = Duration::from_secs(2)).await;
    let seller = app.sign_up("seller").await;
    let product = list_product(&app, &seller, "Brass lamp", "25000", "1").await;
    let buyer = app.sign_up("buyer").await;
    let uid = buy_by_card(&app, &buyer, product, "1").await;
    let back = checkout(&app, &buyer, &uid, "approve", false).await;
    let imp_uid = imp_uid_of(&back);
    assert_eq!(payment_status(&app, &uid), "ready", "the return never came");
    wait_status(&app, &uid, "paid").await;
    assert_eq!(trade_statuses(&app), ["requested"]);
    assert_eq!(app.wallet(&buyer).await, (0, 25_000));
    let buyer_id = app.user_id("buyer");
    assert_eq!(
        deposits(&app),
        vec![(buyer_id, 25_000, Some(imp_uid.clone()))]
    );
    assert_eq!(portone_status(&app, &imp_uid).await.0, PaymentStatus::Paid);
    app.assert_audit_clean();
}
