//! Wallet top-ups by card through PortOne (DESIGN §8), against the built-in simulator: the
//! payment page, the simulator's checkout window, the browser's return (`/payments/complete`)
//! and PortOne's webhook (`/payments/webhook`). Whatever the caller says, only PortOne's own
//! answer credits, and exactly once.

use std::sync::Arc;
use std::time::Duration;

use neighborbid::config::{SIMULATOR_API_KEY, SIMULATOR_API_SECRET};
use neighborbid::portone::{PaymentStatus, PortOne};
use reqwest::StatusCode;

use crate::helpers::{
    both_databases, field_value, journal_rows, spawn_app, spawn_app_with, Browser, Db, TestApp,
};

both_databases!(
    a_card_top_up_paid_at_the_checkout_is_credited_once_with_one_journal_line,
    twenty_concurrent_completions_and_webhooks_for_one_payment_credit_it_once,
    a_declined_or_closed_checkout_credits_nothing_and_says_so,
    a_tampered_amount_is_never_credited_is_cancelled_at_portone_and_shown_as_forged,
    forged_webhooks_and_completions_credit_nothing_and_never_answer_5xx,
    a_webhook_for_a_merchant_uid_never_issued_is_404,
    while_portone_times_out_the_webhook_answers_503_and_a_later_completion_credits_once,
    card_top_ups_outside_the_limits_or_over_the_daily_cap_create_nothing,
    a_payment_page_is_its_owners_only,
    a_virtual_account_top_up_shows_the_account_and_is_credited_once_when_the_deposit_arrives,
    an_unpaid_virtual_account_past_its_deadline_is_voided_at_portone_and_shown_expired,
    a_virtual_account_needs_a_listed_bank_and_a_depositor,
    concurrent_top_ups_never_pass_the_daily_cap_together,
    a_virtual_account_portone_fails_to_open_is_closed_unpaid_and_never_shown,
);

/// The app's own PortOne client, pointed at the spawned app's simulator.
pub(crate) fn portone(app: &TestApp) -> Arc<PortOne> {
    Arc::new(PortOne::new(
        &app.url("/portone-sim"),
        SIMULATOR_API_KEY,
        SIMULATOR_API_SECRET,
        Duration::from_secs(10),
    ))
}

pub(crate) async fn portone_status(app: &TestApp, imp_uid: &str) -> (PaymentStatus, i64) {
    let (p, id) = (portone(app), imp_uid.to_owned());
    let payment = tokio::task::spawn_blocking(move || p.payment(&id))
        .await
        .expect("blocking")
        .expect("PortOne knows it");
    (payment.status, payment.cancel_amount.get())
}

pub(crate) fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a redirect")
        .to_owned()
}

/// `POST /wallet/top-up` by card; the new payment's `merchant_uid`.
pub(crate) async fn start_card_topup(app: &TestApp, b: &Browser, amount: &str) -> String {
    let r = app
        .post(
            b,
            "/wallet/top-up",
            &[("method", "card"), ("amount", amount)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    let uid = to
        .strip_prefix("/payments/")
        .expect("the payment page")
        .to_owned();
    assert!(uid.len() >= 32, "an unguessable merchant_uid: {uid}");
    uid
}

/// The payment page's checkout form, submitted to the simulator's window with `decision`;
/// `with_webhook: false` leaves out `notice_url`. The window's redirect back (path and query).
pub(crate) async fn checkout(
    app: &TestApp,
    b: &Browser,
    uid: &str,
    decision: &str,
    with_webhook: bool,
) -> String {
    let (status, page) = app.get_html(b, &format!("/payments/{uid}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains(&format!("data-merchant-uid=\"{uid}\"")),
        "{page}"
    );
    assert!(page.contains("action=\"/portone-sim/checkout\""), "{page}");
    let amount = field_value(&page, "amount").expect("amount");
    let name = field_value(&page, "name").expect("name");
    let redirect = field_value(&page, "m_redirect_url").expect("m_redirect_url");
    let notice = if with_webhook {
        field_value(&page, "notice_url").expect("notice_url")
    } else {
        String::new()
    };
    let query = serde_urlencoded::to_string([
        ("merchant_uid", uid),
        ("amount", &amount),
        ("name", &name),
        ("m_redirect_url", &redirect),
        ("notice_url", &notice),
    ])
    .expect("query");
    let (status, window) = app
        .get_html(b, &format!("/portone-sim/checkout?{query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{window}");
    let r = app
        .post(
            b,
            "/portone-sim/checkout",
            &[
                ("merchant_uid", uid),
                ("amount", &amount),
                ("name", &name),
                ("m_redirect_url", &redirect),
                ("notice_url", &notice),
                ("decision", decision),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let back = location(&r);
    assert!(back.starts_with("/payments/complete?"), "{back}");
    back
}

/// Pay `uid` at the simulator's checkout window directly, as a buyer who kept the window open
/// after the page stopped offering it (the purchase was cancelled or past its deadline): the
/// location it sends the browser back to.
pub(crate) async fn pay_at_the_window_anyway(
    app: &TestApp,
    b: &Browser,
    uid: &str,
    amount: &str,
    name: &str,
) -> String {
    let r = app
        .post(
            b,
            "/portone-sim/checkout",
            &[
                ("merchant_uid", uid),
                ("amount", amount),
                ("name", name),
                ("m_redirect_url", "/payments/complete"),
                ("notice_url", ""),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    location(&r)
}

pub(crate) fn imp_uid_of(back: &str) -> String {
    let query = back.split_once('?').expect("a query").1;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).expect("pairs");
    pairs
        .into_iter()
        .find(|(k, _)| k == "imp_uid")
        .map(|(_, v)| v)
        .expect("imp_uid")
}

/// The browser follows the window's redirect: 303 to the payment page.
pub(crate) async fn come_back(app: &TestApp, b: &Browser, back: &str, uid: &str) {
    let r = app.get(b, back).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{back}");
    assert_eq!(location(&r), format!("/payments/{uid}"));
}

pub(crate) async fn webhook_json(app: &TestApp, imp_uid: &str, merchant_uid: &str) -> StatusCode {
    reqwest::Client::new()
        .post(app.url("/payments/webhook"))
        .header("content-type", "application/json")
        .body(
            serde_json::json!({"imp_uid": imp_uid, "merchant_uid": merchant_uid, "status": "paid"})
                .to_string(),
        )
        .send()
        .await
        .expect("webhook")
        .status()
}

pub(crate) async fn webhook_form(app: &TestApp, imp_uid: &str, merchant_uid: &str) -> StatusCode {
    reqwest::Client::new()
        .post(app.url("/payments/webhook"))
        .form(&[
            ("imp_uid", imp_uid),
            ("merchant_uid", merchant_uid),
            ("status", "paid"),
        ])
        .send()
        .await
        .expect("webhook")
        .status()
}

/// The deposits in the journal: (user_id, delta, idempotency key).
pub(crate) fn deposits(app: &TestApp) -> Vec<(i64, i64, Option<String>)> {
    use diesel::prelude::*;
    use neighborbid::db::schema::ledger_entries::dsl as l;
    l::ledger_entries
        .filter(l::kind.eq("deposit"))
        .order(l::id.asc())
        .select((l::user_id, l::delta_balance, l::idempotency_key))
        .load(&mut app.raw_connection())
        .expect("deposits")
}

pub(crate) fn payment_status(app: &TestApp, uid: &str) -> String {
    use diesel::prelude::*;
    use neighborbid::db::schema::payments::dsl as p;
    p::payments
        .filter(p::merchant_uid.eq(uid))
        .select(p::status)
        .first(&mut app.raw_connection())
        .expect("payment")
}

async fn a_card_top_up_paid_at_the_checkout_is_credited_once_with_one_journal_line(db: Db) {
    let app = spawn_app(db).await;
    let b = app.sign_up("minji").await;
    let (_, wallet) = app.get_html(&b, "/wallet").await;
    assert!(wallet.contains("Top up by card"), "{wallet}");

    let uid = start_card_topup(&app, &b, "50,000").await;
    let (_, page) = app.get_html(&b, &format!("/payments/{uid}")).await;
    assert!(page.contains("data-amount=\"50000\""), "{page}");
    assert!(page.contains("Waiting for payment"), "{page}");
    assert!(
        page.match_indices("<script").all(|(at, _)| page[at..]
            .split('>')
            .next()
            .is_some_and(|tag| tag.contains(" src="))),
        "no inline script: {page}"
    );
    let back = checkout(&app, &b, &uid, "approve", true).await;
    let imp_uid = imp_uid_of(&back);
    come_back(&app, &b, &back, &uid).await;

    let (_, page) = app.get_html(&b, &format!("/payments/{uid}")).await;
    assert!(page.contains("Paid — added to your wallet"), "{page}");
    assert!(page.contains("PortOne receipt"), "{page}");
    assert!(
        !page.contains("action=\"/portone-sim/checkout\""),
        "no second checkout: {page}"
    );
    assert_eq!(b_wallet(&app, &b).await, 50_000);

    // The same return replayed, and the webhook again (JSON and form): nothing more.
    for _ in 0..3 {
        come_back(&app, &b, &back, &uid).await;
    }
    assert_eq!(webhook_json(&app, &imp_uid, &uid).await, StatusCode::OK);
    assert_eq!(webhook_form(&app, &imp_uid, &uid).await, StatusCode::OK);
    assert_eq!(b_wallet(&app, &b).await, 50_000);
    let user = app.user_id("minji");
    assert_eq!(deposits(&app), vec![(user, 50_000, Some(imp_uid))]);
    let (_, wallet) = app.get_html(&b, "/wallet").await;
    assert_eq!(journal_rows(&wallet), 1, "{wallet}");
    assert!(
        wallet.contains(&format!("data-merchant-uid=\"{uid}\"")),
        "{wallet}"
    );
    assert!(wallet.contains("Paid — added to your wallet"), "{wallet}");
    app.assert_audit_clean();
}

pub(crate) async fn b_wallet(app: &TestApp, b: &Browser) -> i64 {
    app.wallet(b).await.0
}

async fn twenty_concurrent_completions_and_webhooks_for_one_payment_credit_it_once(db: Db) {
    let app = spawn_app(db).await;
    let b = app.sign_up("minji").await;
    let uid = start_card_topup(&app, &b, "30000").await;
    let back = checkout(&app, &b, &uid, "approve", false).await;
    let imp_uid = imp_uid_of(&back);

    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (app, back, imp_uid, uid) = (app.clone(), back.clone(), imp_uid.clone(), uid.clone());
        let b = b.copy_cookies();
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
    assert_eq!(b_wallet(&app, &b).await, 30_000);
    assert_eq!(deposits(&app).len(), 1);
    assert_eq!(payment_status(&app, &uid), "paid");
    app.assert_audit_clean();
}

async fn a_declined_or_closed_checkout_credits_nothing_and_says_so(db: Db) {
    let app = spawn_app(db).await;
    let b = app.sign_up("minji").await;
    for decision in ["decline", "close"] {
        let uid = start_card_topup(&app, &b, "10000").await;
        let back = checkout(&app, &b, &uid, decision, true).await;
        let imp_uid = imp_uid_of(&back);
        come_back(&app, &b, &back, &uid).await;
        assert_eq!(webhook_json(&app, &imp_uid, &uid).await, StatusCode::OK);
        let (_, page) = app.get_html(&b, &format!("/payments/{uid}")).await;
        assert!(
            page.contains("Not paid — the payment was declined"),
            "{page}"
        );
        assert!(!page.contains("action=\"/portone-sim/checkout\""), "{page}");
        assert_eq!(payment_status(&app, &uid), "failed");
    }
    assert_eq!(b_wallet(&app, &b).await, 0);
    assert!(deposits(&app).is_empty());
    app.assert_audit_clean();
}

async fn a_tampered_amount_is_never_credited_is_cancelled_at_portone_and_shown_as_forged(db: Db) {
    let app = spawn_app(db).await;
    let b = app.sign_up("minji").await;
    let uid = start_card_topup(&app, &b, "20000").await;
    let back = checkout(&app, &b, &uid, "approve", false).await;
    let imp_uid = imp_uid_of(&back);
    // PortOne reports a paid amount other than ours (₩100 paid for a ₩20,000 order).
    let r = reqwest::Client::new()
        .post(app.url(&format!("/portone-sim/_sim/payments/{imp_uid}/amount")))
        .form(&[
            ("imp_key", SIMULATOR_API_KEY),
            ("imp_secret", SIMULATOR_API_SECRET),
            ("amount", "100"),
        ])
        .send()
        .await
        .expect("tamper");
    assert_eq!(r.status(), StatusCode::OK);

    come_back(&app, &b, &back, &uid).await;
    assert_eq!(webhook_json(&app, &imp_uid, &uid).await, StatusCode::OK);
    come_back(&app, &b, &back, &uid).await;
    assert_eq!(b_wallet(&app, &b).await, 0);
    assert!(deposits(&app).is_empty());
    assert_eq!(payment_status(&app, &uid), "forged");
    let (status, _) = portone_status(&app, &imp_uid).await;
    assert_eq!(
        status,
        PaymentStatus::Cancelled,
        "cancelled in full at PortOne"
    );
    let (_, page) = app.get_html(&b, &format!("/payments/{uid}")).await;
    assert!(page.contains("did not match the order"), "{page}");
    app.assert_audit_clean();
}

async fn forged_webhooks_and_completions_credit_nothing_and_never_answer_5xx(db: Db) {
    let app = spawn_app(db).await;
    let victim = app.sign_up("minji").await;
    let attacker = app.sign_up("mallory").await;
    let theirs = start_card_topup(&app, &victim, "40000").await;
    let mine = start_card_topup(&app, &attacker, "40000").await;
    let paid_back = checkout(&app, &victim, &theirs, "approve", false).await;
    let paid_imp = imp_uid_of(&paid_back);

    // An imp_uid PortOne never issued, for a real order.
    assert_eq!(
        webhook_json(&app, "imp_999999999999", &mine).await,
        StatusCode::NOT_FOUND
    );
    let r = app
        .get(
            &attacker,
            &format!("/payments/complete?imp_uid=imp_999999999999&merchant_uid={mine}"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Someone else's paid imp_uid claimed for the attacker's order: refused, nothing moves.
    assert_eq!(
        webhook_json(&app, &paid_imp, &mine).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        webhook_form(&app, &paid_imp, &mine).await,
        StatusCode::BAD_REQUEST
    );
    let r = app
        .get(
            &attacker,
            &format!("/payments/complete?imp_uid={paid_imp}&merchant_uid={mine}"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Garbage: ids that would leave the path, empty fields, bodies that are not notices.
    for (imp, merchant) in [
        ("../users/getToken", mine.as_str()),
        ("", mine.as_str()),
        (paid_imp.as_str(), ""),
    ] {
        let status = webhook_json(&app, imp, merchant).await;
        assert!(status.is_client_error(), "{imp:?} {merchant:?}: {status}");
    }
    for body in ["{", "[]", "null", "{\"imp_uid\": 5}"] {
        let r = reqwest::Client::new()
            .post(app.url("/payments/webhook"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("webhook");
        assert!(r.status().is_client_error(), "{body}: {}", r.status());
    }
    assert_eq!(b_wallet(&app, &attacker).await, 0);
    assert_eq!(payment_status(&app, &mine), "ready");
    assert!(
        deposits(&app).is_empty(),
        "the victim's payment is not credited by forged claims either"
    );

    // The victim's own return still credits the victim, once.
    come_back(&app, &victim, &paid_back, &theirs).await;
    assert_eq!(b_wallet(&app, &victim).await, 40_000);
    assert_eq!(b_wallet(&app, &attacker).await, 0);
    app.assert_audit_clean();
}

async fn a_webhook_for_a_merchant_uid_never_issued_is_404(db: Db) {
    let app = spawn_app(db).await;
    let b = app.sign_up("minji").await;
    let uid = start_card_topup(&app, &b, "10000").await;
    let back = checkout(&app, &b, &uid, "approve", false).await;
    let imp_uid = imp_uid_of(&back);
    for merchant in [
        "topup_00000000000000000000000000000000",
        "order-1",
        &"x".repeat(300),
    ] {
        assert_eq!(
            webhook_json(&app, &imp_uid, merchant).await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            webhook_form(&app, &imp_uid, merchant).await,
            StatusCode::NOT_FOUND
        );
    }
    assert!(deposits(&app).is_empty());
    app.assert_audit_clean();
}

async fn while_portone_times_out_the_webhook_answers_503_and_a_later_completion_credits_once(
    db: Db,
) {
    let app = spawn_app_with(db, |s| s.portone.timeout = Duration::from_millis(500)).await;
    let b = app.sign_up("minji").await;
    let uid = start_card_topup(&app, &b, "15000").await;
    let back = checkout(&app, &b, &uid, "approve", false).await;
    let imp_uid = imp_uid_of(&back);

    // PortOne's lookups answer after the timeout (twice), then normally.
    let r = reqwest::Client::new()
        .post(app.url("/portone-sim/_sim/faults"))
        .form(&[
            ("imp_key", SIMULATOR_API_KEY),
            ("imp_secret", SIMULATOR_API_SECRET),
            ("mode", "delay"),
            ("delay_ms", "2000"),
            ("count", "2"),
        ])
        .send()
        .await
        .expect("fault");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        webhook_json(&app, &imp_uid, &uid).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    // The browser's return while PortOne is silent: back to the page, nothing credited.
    come_back(&app, &b, &back, &uid).await;
    assert_eq!(b_wallet(&app, &b).await, 0);
    assert_eq!(payment_status(&app, &uid), "ready");
    assert!(deposits(&app).is_empty());

    come_back(&app, &b, &back, &uid).await;
    assert_eq!(webhook_json(&app, &imp_uid, &uid).await, StatusCode::OK);
    assert_eq!(b_wallet(&app, &b).await, 15_000);
    assert_eq!(deposits(&app).len(), 1);
    app.assert_audit_clean();
}

async fn card_top_ups_outside_the_limits_or_over_the_daily_cap_create_nothing(db: Db) {
    let app = spawn_app(db).await;
    let b = app.sign_up("minji").await;
    for amount in ["999", "2,000,001", "-5000", "abc", ""] {
        let r = app
            .post(
                &b,
                "/wallet/top-up",
                &[("method", "card"), ("amount", amount)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{amount:?}");
    }
    for amount in ["2,000,000", "2,000,000", "1,000,000"] {
        start_card_topup(&app, &b, amount).await;
    }
    let r = app
        .post(
            &b,
            "/wallet/top-up",
            &[("method", "card"), ("amount", "1000")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.expect("page");
    assert!(html.contains("within 24 hours"), "{html}");
    let (_, wallet) = app.get_html(&b, "/wallet").await;
    assert_eq!(
        wallet.matches("<tr class=\"payment ").count(),
        3,
        "{wallet}"
    );
    assert!(deposits(&app).is_empty());
    app.assert_audit_clean();
}

async fn a_payment_page_is_its_owners_only(db: Db) {
    let app = spawn_app(db).await;
    let owner = app.sign_up("minji").await;
    let other = app.sign_up("mallory").await;
    let uid = start_card_topup(&app, &owner, "10000").await;
    let (status, _) = app.get_html(&other, &format!("/payments/{uid}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get_html(&other, "/payments/topup_does_not_exist").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let r = app.get(&app.client(), &format!("/payments/{uid}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "anonymous: log in first");
    app.assert_audit_clean();
}

/// `POST /wallet/top-up` by virtual account; the new payment's `merchant_uid`.
pub(crate) async fn start_vbank_topup(app: &TestApp, b: &Browser, amount: &str) -> String {
    let r = app
        .post(
            b,
            "/wallet/top-up",
            &[
                ("method", "vbank"),
                ("amount", amount),
                ("bank_code", "088"),
                ("depositor", "김민지"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    location(&r)
        .strip_prefix("/payments/")
        .expect("the payment page")
        .to_owned()
}

/// The payment's (imp_uid, vbank_num) as stored.
pub(crate) fn vbank_of(app: &TestApp, uid: &str) -> (String, String) {
    use diesel::prelude::*;
    use neighborbid::db::schema::payments::dsl as p;
    let (imp, num): (Option<String>, Option<String>) = p::payments
        .filter(p::merchant_uid.eq(uid))
        .select((p::imp_uid, p::vbank_num))
        .first(&mut app.raw_connection())
        .expect("payment");
    (imp.expect("an imp_uid"), num.expect("an account number"))
}

pub(crate) async fn deposit(app: &TestApp, imp_uid: &str) -> StatusCode {
    reqwest::Client::new()
        .post(app.url(&format!("/portone-sim/_sim/vbanks/{imp_uid}/deposit")))
        .form(&[
            ("imp_key", SIMULATOR_API_KEY),
            ("imp_secret", SIMULATOR_API_SECRET),
        ])
        .send()
        .await
        .expect("deposit")
        .status()
}

/// Wait (bounded) until the payment's stored status is `want`.
pub(crate) async fn wait_status(app: &TestApp, uid: &str, want: &str) {
    for _ in 0..300 {
        if payment_status(app, uid) == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{uid} never became {want}: {}", payment_status(app, uid));
}

async fn a_virtual_account_top_up_shows_the_account_and_is_credited_once_when_the_deposit_arrives(
    db: Db,
) {
    let app = spawn_app(db).await;
    let b = app.sign_up("minji").await;
    let uid = start_vbank_topup(&app, &b, "70,000").await;
    let (imp_uid, number) = vbank_of(&app, &uid);
    let (status, page) = app.get_html(&b, &format!("/payments/{uid}")).await;
    assert_eq!(status, StatusCode::OK);
    for shown in [
        "신한은행",
        number.as_str(),
        "김민지",
        "Pay by",
        "data-amount=\"70000\"",
        "Waiting for payment",
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }
    let (_, wallet) = app.get_html(&b, "/wallet").await;
    assert!(
        wallet.contains(&format!("Pay into 신한은행 {number}")),
        "{wallet}"
    );
    assert_eq!(b_wallet(&app, &b).await, 0);

    // The deposit arrives: PortOne's webhook credits it.
    assert_eq!(deposit(&app, &imp_uid).await, StatusCode::OK);
    wait_status(&app, &uid, "paid").await;
    assert_eq!(b_wallet(&app, &b).await, 70_000);
    assert_eq!(webhook_json(&app, &imp_uid, &uid).await, StatusCode::OK);
    assert_eq!(webhook_form(&app, &imp_uid, &uid).await, StatusCode::OK);
    assert_eq!(b_wallet(&app, &b).await, 70_000);
    let user = app.user_id("minji");
    assert_eq!(deposits(&app), vec![(user, 70_000, Some(imp_uid))]);
    let (_, page) = app.get_html(&b, &format!("/payments/{uid}")).await;
    assert!(page.contains("Paid — added to your wallet"), "{page}");
    let (_, wallet) = app.get_html(&b, "/wallet").await;
    assert!(!wallet.contains("Pay into"), "{wallet}");
    app.assert_audit_clean();
}

async fn an_unpaid_virtual_account_past_its_deadline_is_voided_at_portone_and_shown_expired(
    db: Db,
) {
    let app = spawn_app_with(db, |s| s.portone.vbank_due = Duration::from_secs(2)).await;
    let b = app.sign_up("minji").await;
    let uid = start_vbank_topup(&app, &b, "25000").await;
    let (imp_uid, _) = vbank_of(&app, &uid);
    wait_status(&app, &uid, "expired").await;
    let (status, _) = portone_status(&app, &imp_uid).await;
    assert_eq!(status, PaymentStatus::Cancelled, "voided at PortOne");
    // A deposit after the deadline is refused by PortOne; a late notice credits nothing.
    assert!(deposit(&app, &imp_uid).await.is_client_error());
    assert_eq!(webhook_json(&app, &imp_uid, &uid).await, StatusCode::OK);
    assert_eq!(payment_status(&app, &uid), "expired");
    assert_eq!(b_wallet(&app, &b).await, 0);
    assert!(deposits(&app).is_empty());
    let (_, page) = app.get_html(&b, &format!("/payments/{uid}")).await;
    assert!(
        page.contains("Expired — the deadline passed unpaid"),
        "{page}"
    );
    app.assert_audit_clean();
}

async fn a_virtual_account_needs_a_listed_bank_and_a_depositor(db: Db) {
    let app = spawn_app(db).await;
    let b = app.sign_up("minji").await;
    let long = "가".repeat(21);
    for (bank, depositor) in [
        ("999", "김민지"),
        ("", "김민지"),
        ("088", ""),
        ("088", "   "),
        ("088", long.as_str()),
        ("088", "a\u{0}b"),
    ] {
        let r = app
            .post(
                &b,
                "/wallet/top-up",
                &[
                    ("method", "vbank"),
                    ("amount", "10000"),
                    ("bank_code", bank),
                    ("depositor", depositor),
                ],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bank:?} {depositor:?}"
        );
    }
    let (_, wallet) = app.get_html(&b, "/wallet").await;
    assert_eq!(
        wallet.matches("<tr class=\"payment ").count(),
        0,
        "{wallet}"
    );
    app.assert_audit_clean();
}

async fn concurrent_top_ups_never_pass_the_daily_cap_together(db: Db) {
    let app = Arc::new(spawn_app(db).await);
    let b = app.sign_up("minji").await;
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (app, b) = (app.clone(), b.copy_cookies());
        tasks.push(tokio::spawn(async move {
            app.post(
                &b,
                "/wallet/top-up",
                &[("method", "card"), ("amount", "1,000,000")],
            )
            .await
            .status()
        }));
    }
    let mut created = 0;
    for t in tasks {
        let status = t.await.expect("task");
        match status {
            StatusCode::SEE_OTHER => created += 1,
            StatusCode::UNPROCESSABLE_ENTITY => {}
            other => panic!("{other}"),
        }
    }
    assert_eq!(
        created, 5,
        "₩5,000,000 a day: five of ten ₩1,000,000 top-ups"
    );
    let (_, wallet) = app.get_html(&b, "/wallet").await;
    assert_eq!(
        wallet.matches("<tr class=\"payment ").count(),
        5,
        "{wallet}"
    );
    app.assert_audit_clean();
}

async fn a_virtual_account_portone_fails_to_open_is_closed_unpaid_and_never_shown(db: Db) {
    let app = spawn_app(db).await;
    let b = app.sign_up("minji").await;
    // PortOne answers 500 (result unknown) to the next call the top-up makes.
    let r = reqwest::Client::new()
        .post(app.url("/portone-sim/_sim/faults"))
        .form(&[
            ("imp_key", SIMULATOR_API_KEY),
            ("imp_secret", SIMULATOR_API_SECRET),
            ("mode", "error_before"),
        ])
        .send()
        .await
        .expect("fault");
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .post(
            &b,
            "/wallet/top-up",
            &[
                ("method", "vbank"),
                ("amount", "10000"),
                ("bank_code", "004"),
                ("depositor", "김민지"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let (_, wallet) = app.get_html(&b, "/wallet").await;
    assert!(!wallet.contains("Pay into"), "{wallet}");
    assert!(wallet.contains("Not paid"), "{wallet}");
    assert!(deposits(&app).is_empty());
    app.assert_audit_clean();
}
