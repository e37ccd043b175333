//! A market purchase paid into a virtual account, and the buyer's cancel before payment
//! (DESIGN §8, issue 11 item 3), against the built-in simulator: the trade waits for the
//! transfer with its units reserved; the deposit's notice records the deposit and the hold in
//! one transaction; a trade that does not go ahead is refunded to the account the buyer gave;
//! an account unpaid at its deadline is voided at PortOne and its units go back on sale.

use std::time::Duration;

use neighborbid::portone::PaymentStatus;
use reqwest::StatusCode;

use crate::helpers::{
    both_databases, field_value, spawn_app, spawn_app_with, Browser, Db, TestApp,
};
use crate::market::{act, list_product, product_page, product_state};
use crate::payments::{
    come_back, deposit, deposits, imp_uid_of, location, pay_at_the_window_anyway, payment_status,
    portone_status, vbank_of, wait_status,
};

both_databases!(
    a_purchase_paid_into_a_virtual_account_waits_for_the_transfer_then_pays_the_seller,
    a_rejected_virtual_account_purchase_is_refunded_to_the_account_the_buyer_gave,
    an_unpaid_virtual_account_purchase_is_voided_at_its_deadline_and_its_units_go_back_on_sale,
    a_buyer_cancels_a_purchase_still_waiting_for_its_payment_and_nothing_can_be_paid_after,
    a_virtual_account_purchase_needs_a_bank_a_depositor_and_a_refund_account,
    a_paid_trade_the_seller_never_answers_is_refunded_by_portone_without_waiting_for_the_reconciler,
    an_unpaid_purchase_cannot_be_approved_or_confirmed_and_says_why,
);

const REFUND: [(&str, &str); 3] = [
    ("refund_bank", "088"),
    ("refund_account", "110-123-456789"),
    ("refund_holder", "김민지"),
];

/// `POST /market/{product}/buy` by virtual account with `extra` fields (overriding the
/// defaults: bank 088, depositor 김민지, the refund account above).
async fn buy_by_vbank_with(
    app: &TestApp,
    b: &Browser,
    product: i64,
    quantity: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let (_, page) = app.get_html(b, &format!("/market/{product}")).await;
    let seen = field_value(&page, "expected_price").unwrap_or_default();
    let mut form: Vec<(&str, &str)> = vec![
        ("quantity", quantity),
        ("expected_price", seen.as_str()),
        ("pay_with", "vbank"),
        ("bank_code", "088"),
        ("depositor", "김민지"),
    ];
    form.extend(REFUND);
    for (k, v) in extra {
        form.retain(|(key, _)| key != k);
        form.push((k, v));
    }
    app.post(b, &format!("/market/{product}/buy"), &form).await
}

/// Buy by virtual account: the payment page's `merchant_uid`.
async fn buy_by_vbank(app: &TestApp, b: &Browser, product: i64, quantity: &str) -> String {
    let r = buy_by_vbank_with(app, b, product, quantity, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    to.strip_prefix("/payments/")
        .unwrap_or_else(|| panic!("the payment page: {to}"))
        .to_owned()
}

fn trade_rows(app: &TestApp) -> Vec<(i64, String)> {
    use diesel::prelude::*;
    use neighborbid::db::schema::trades::dsl as t;
    t::trades
        .order(t::id.asc())
        .select((t::id, t::status))
        .load(&mut app.raw_connection())
        .expect("trades")
}

fn statuses(app: &TestApp) -> Vec<String> {
    trade_rows(app).into_iter().map(|(_, s)| s).collect()
}

fn counts(app: &TestApp) -> (i64, i64) {
    use diesel::prelude::*;
    use neighborbid::db::schema::{payments, trades};
    let mut conn = app.raw_connection();
    (
        payments::table
            .count()
            .get_result(&mut conn)
            .expect("payments"),
        trades::table.count().get_result(&mut conn).expect("trades"),
    )
}

/// Wait (bounded) until the trades are `want`.
async fn wait_trades(app: &TestApp, want: &[&str]) {
    for _ in 0..300 {
        if statuses(app) == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("trades never became {want:?}: {:?}", statuses(app));
}

/// A listed product and a buyer who paid for one unit into a virtual account:
/// (seller, buyer, product, merchant_uid, imp_uid).
async fn paid_by_transfer(app: &TestApp) -> (Browser, Browser, i64, String, String) {
    let seller = app.sign_up("seller").await;
    let product = list_product(app, &seller, "Rice cooker", "40000", "2").await;
    let buyer = app.sign_up("buyer").await;
    let uid = buy_by_vbank(app, &buyer, product, "1").await;
    let (imp_uid, _) = vbank_of(app, &uid);
    assert_eq!(deposit(app, &imp_uid).await, StatusCode::OK);
    wait_status(app, &uid, "paid").await;
    (seller, buyer, product, uid, imp_uid)
}

async fn a_purchase_paid_into_a_virtual_account_waits_for_the_transfer_then_pays_the_seller(
    db: Db,
) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let product = list_product(&app, &seller, "Rice cooker", "40000", "3").await;
    let buyer = app.sign_up("buyer").await;
    let uid = buy_by_vbank(&app, &buyer, product, "2").await;
    assert!(uid.starts_with("trade_") && uid.len() >= 32, "{uid}");
    let (imp_uid, number) = vbank_of(&app, &uid);
    // Waiting for the transfer: the units are reserved, nothing moved, both pages say so.
    assert_eq!(statuses(&app), ["awaiting_payment"]);
    assert_eq!(product_state(&app, &seller, product).await.1, 1);
    let (status, page) = app.get_html(&buyer, &format!("/payments/{uid}")).await;
    assert_eq!(status, StatusCode::OK);
    for shown in [
        "Market purchase",
        "신한은행",
        number.as_str(),
        "data-amount=\"80000\"",
        "Waiting for your transfer into the virtual account",
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }
    let html = product_page(&app, &buyer, product).await;
    assert!(
        html.contains("Waiting for your transfer into the virtual account"),
        "{html}"
    );
    assert!(html.contains("The account to transfer to"), "{html}");
    assert_eq!(app.wallet(&buyer).await, (0, 0));

    // The transfer arrives: PortOne's notice records the deposit and the hold, once.
    assert_eq!(deposit(&app, &imp_uid).await, StatusCode::OK);
    wait_status(&app, &uid, "paid").await;
    assert_eq!(statuses(&app), ["requested"]);
    assert_eq!(
        app.wallet(&buyer).await,
        (0, 80_000),
        "held for the purchase"
    );
    let buyer_id = app.user_id("buyer");
    assert_eq!(deposits(&app), vec![(buyer_id, 80_000, Some(imp_uid))]);

    let trade = trade_rows(&app)[0].0;
    assert_eq!(
        act(&app, &seller, trade, "approve").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        act(&app, &buyer, trade, "confirm").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(statuses(&app), ["confirmed"]);
    assert_eq!(app.wallet(&buyer).await, (0, 0));
    assert_eq!(app.wallet(&seller).await, (80_000, 0), "the seller is paid");
    app.assert_audit_clean();
}

async fn a_rejected_virtual_account_purchase_is_refunded_to_the_account_the_buyer_gave(db: Db) {
    let app = spawn_app(db).await;
    let (seller, buyer, product, uid, imp_uid) = paid_by_transfer(&app).await;
    let trade = trade_rows(&app)[0].0;
    assert_eq!(
        act(&app, &seller, trade, "reject").await.status(),
        StatusCode::SEE_OTHER
    );
    // PortOne refunds a virtual account only to an account: the one the buyer gave.
    wait_status(&app, &uid, "cancelled").await;
    let (status, cancelled) = portone_status(&app, &imp_uid).await;
    assert_eq!(status, PaymentStatus::Cancelled);
    assert_eq!(cancelled, 40_000);
    assert_eq!(statuses(&app), ["rejected"]);
    assert_eq!(app.wallet(&buyer).await, (0, 0), "the money left by refund");
    assert_eq!(
        product_state(&app, &seller, product).await,
        ("on_sale".to_owned(), 2)
    );
    let (_, page) = app.get_html(&buyer, &format!("/payments/{uid}")).await;
    assert!(page.contains("refund account you gave"), "{page}");
    app.assert_audit_clean();
}

async fn an_unpaid_virtual_account_purchase_is_voided_at_its_deadline_and_its_units_go_back_on_sale(
    db: Db,
) {
    let app = spawn_app_with(db, |s| s.portone.vbank_due = Duration::from_secs(2)).await;
    let seller = app.sign_up("seller").await;
    let product = list_product(&app, &seller, "Rice cooker", "40000", "2").await;
    let buyer = app.sign_up("buyer").await;
    let uid = buy_by_vbank(&app, &buyer, product, "2").await;
    let (imp_uid, _) = vbank_of(&app, &uid);
    assert_eq!(product_state(&app, &seller, product).await.1, 0);
    wait_status(&app, &uid, "expired").await;
    assert_eq!(statuses(&app), ["cancelled"]);
    let (status, _) = portone_status(&app, &imp_uid).await;
    assert_eq!(status, PaymentStatus::Cancelled, "voided at PortOne");
    assert!(
        deposit(&app, &imp_uid).await.is_client_error(),
        "nothing can be paid into a voided account"
    );
    assert_eq!(
        product_state(&app, &seller, product).await,
        ("on_sale".to_owned(), 2),
        "the units are back on sale"
    );
    assert_eq!(app.wallet(&buyer).await, (0, 0));
    assert!(deposits(&app).is_empty());
    let (_, page) = app.get_html(&buyer, &format!("/payments/{uid}")).await;
    assert!(
        page.contains("no transfer arrived before the deadline"),
        "{page}"
    );
    app.assert_audit_clean();
}

async fn a_buyer_cancels_a_purchase_still_waiting_for_its_payment_and_nothing_can_be_paid_after(
    db: Db,
) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let lamp = list_product(&app, &seller, "Brass lamp", "25000", "1").await;
    let cooker = list_product(&app, &seller, "Rice cooker", "40000", "1").await;
    let buyer = app.sign_up("buyer").await;

    // By virtual account: cancelled, the account is voided at PortOne.
    let vbank_uid = buy_by_vbank(&app, &buyer, cooker, "1").await;
    let (vbank_imp, _) = vbank_of(&app, &vbank_uid);
    let html = product_page(&app, &buyer, cooker).await;
    assert!(
        html.contains("Cancel request"),
        "the buyer may cancel: {html}"
    );
    let trade = trade_rows(&app)[0].0;
    // Not the buyer: refused, nothing changes.
    let other = app.sign_up("other").await;
    assert_eq!(
        act(&app, &other, trade, "cancel").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(statuses(&app), ["awaiting_payment"]);
    assert_eq!(
        act(&app, &buyer, trade, "cancel").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(statuses(&app), ["cancelled"]);
    assert_eq!(payment_status(&app, &vbank_uid), "cancelled");
    assert_eq!(
        portone_status(&app, &vbank_imp).await.0,
        PaymentStatus::Cancelled
    );
    assert!(deposit(&app, &vbank_imp).await.is_client_error());
    assert_eq!(
        product_state(&app, &seller, cooker).await,
        ("on_sale".to_owned(), 1)
    );
    let (_, page) = app
        .get_html(&buyer, &format!("/payments/{vbank_uid}"))
        .await;
    assert!(page.contains("cancelled before it was paid"), "{page}");

    // By card: cancelled before paying; a checkout completed afterwards anyway is cancelled
    // back to the card, nothing is credited or held.
    let r = app
        .post(
            &buyer,
            &format!("/market/{lamp}/buy"),
            &[
                ("quantity", "1"),
                ("expected_price", "25000"),
                ("pay_with", "card"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let card_uid = location(&r).trim_start_matches("/payments/").to_owned();
    let card_trade = trade_rows(&app)[1].0;
    assert_eq!(
        act(&app, &buyer, card_trade, "cancel").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(statuses(&app), ["cancelled", "cancelled"]);
    assert_eq!(payment_status(&app, &card_uid), "cancelled");
    let (_, page) = app.get_html(&buyer, &format!("/payments/{card_uid}")).await;
    assert!(
        !page.contains("action=\"/portone-sim/checkout\""),
        "no checkout for a cancelled purchase: {page}"
    );
    let back = pay_at_the_window_anyway(&app, &buyer, &card_uid, "25000", "Brass lamp").await;
    let card_imp = imp_uid_of(&back);
    come_back(&app, &buyer, &back, &card_uid).await;
    assert_eq!(payment_status(&app, &card_uid), "cancelled");
    let (status, cancelled) = portone_status(&app, &card_imp).await;
    assert_eq!(
        status,
        PaymentStatus::Cancelled,
        "the late payment went back"
    );
    assert_eq!(cancelled, 25_000);
    assert_eq!(app.wallet(&buyer).await, (0, 0));
    assert!(deposits(&app).is_empty());
    assert_eq!(
        product_state(&app, &seller, lamp).await,
        ("on_sale".to_owned(), 1)
    );
    app.assert_audit_clean();
}

async fn a_virtual_account_purchase_needs_a_bank_a_depositor_and_a_refund_account(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let product = list_product(&app, &seller, "Rice cooker", "40000", "2").await;
    let buyer = app.sign_up("buyer").await;
    let cases: [(&[(&str, &str)], &str); 6] = [
        (&[("bank_code", "999")], "Choose one of the listed banks"),
        (&[("bank_code", "")], "Choose one of the listed banks"),
        (&[("depositor", "")], "depositor"),
        (&[("depositor", "x\u{7}y")], "depositor"),
        (&[("refund_bank", "")], "refund"),
        (&[("refund_account", "abc")], "refund"),
    ];
    for (extra, reason) in cases {
        let r = buy_by_vbank_with(&app, &buyer, product, "1", extra).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{extra:?}");
        let body = r.text().await.expect("body");
        assert!(body.contains(reason), "{extra:?} → {reason}: {body}");
    }
    assert_eq!(counts(&app), (0, 0), "nothing was created");
    assert_eq!(
        product_state(&app, &seller, product).await,
        ("on_sale".to_owned(), 2)
    );
    app.assert_audit_clean();
}

async fn a_paid_trade_the_seller_never_answers_is_refunded_by_portone_without_waiting_for_the_reconciler(
    db: Db,
) {
    // The reconciler settles pending refunds only after five minutes; the payments job sends
    // a refund the scheduler held at once.
    let app = spawn_app_with(db, |s| s.market_respond_within = Duration::from_secs(2)).await;
    let (seller, buyer, product, uid, imp_uid) = paid_by_transfer(&app).await;
    wait_trades(&app, &["cancelled"]).await;
    wait_status(&app, &uid, "cancelled").await;
    let (status, cancelled) = portone_status(&app, &imp_uid).await;
    assert_eq!(status, PaymentStatus::Cancelled);
    assert_eq!(cancelled, 40_000);
    assert_eq!(app.wallet(&buyer).await, (0, 0));
    assert_eq!(
        product_state(&app, &seller, product).await,
        ("on_sale".to_owned(), 2)
    );
    app.assert_audit_clean();
}

async fn an_unpaid_purchase_cannot_be_approved_or_confirmed_and_says_why(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let product = list_product(&app, &seller, "Rice cooker", "40000", "2").await;
    let buyer = app.sign_up("buyer").await;
    buy_by_vbank(&app, &buyer, product, "1").await;
    let trade = trade_rows(&app)[0].0;
    for (who, action, reason) in [
        (&seller, "approve", "has not paid yet"),
        (&seller, "reject", "has not paid yet"),
        (&buyer, "confirm", "not paid yet"),
    ] {
        let r = act(&app, who, trade, action).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{action}");
        let body = r.text().await.expect("body");
        assert!(body.contains(reason), "{action}: {body}");
    }
    assert_eq!(statuses(&app), ["awaiting_payment"]);
    assert_eq!(app.wallet(&buyer).await, (0, 0));
    app.assert_audit_clean();
}
