//! The PortOne v1 client against the app's built-in simulator (`/portone-sim`): tokens cached
//! and renewed, prepare, the checkout window, virtual accounts, cancels with checksums, and a
//! timeout reported as "result unknown". The client is the one the app uses, built here against
//! the spawned app's address with the simulator's key and secret.

use std::sync::Arc;
use std::time::Duration;

use neighborbid::config::{SIMULATOR_API_KEY, SIMULATOR_API_SECRET};
use neighborbid::domain::Won;
use neighborbid::portone::{
    CancelRequest, Payment, PaymentStatus, PortOne, PortOneError, RefundAccount, VbankRequest,
};
use reqwest::StatusCode;

use crate::helpers::{both_databases, spawn_app, Db, TestApp};

both_databases!(
    the_client_keeps_one_token_and_renews_it_when_portone_answers_401,
    a_prepared_and_approved_payment_reads_back_paid_with_the_prepared_amount,
    the_payment_window_refuses_an_amount_other_than_the_prepared_one,
    a_declined_or_closed_checkout_reads_back_failed_and_never_paid,
    a_virtual_account_is_issued_ready_with_its_number_and_voided_as_cancelled,
    a_partial_then_a_full_cancel_with_checksums_leaves_the_payment_cancelled,
    a_cancel_with_a_stale_checksum_or_over_the_remaining_amount_is_refused_and_changes_nothing,
    a_virtual_account_payment_is_refunded_only_with_a_refund_account,
    a_call_that_times_out_is_result_unknown_and_not_a_refusal,
    an_unknown_imp_uid_gets_portones_documented_not_found_answer,
    the_simulator_api_refuses_callers_without_a_valid_token_or_key,
    the_checkout_window_is_a_csrf_checked_form_that_only_redirects_within_the_site,
    an_answer_later_than_the_timeout_is_result_unknown_though_portone_acted,
    a_500_from_portone_is_result_unknown_and_the_next_call_is_answered,
    a_forged_amount_and_a_cancel_behind_our_back_show_in_the_lookup,
    webhooks_carry_imp_uid_merchant_uid_and_status_to_this_site_only,
    duplicate_webhooks_can_arrive_before_the_browser_comes_back,
    the_bank_page_shows_a_virtual_account_and_its_deposit_button_pays_it_once,
    a_token_with_under_a_minute_left_is_renewed_before_it_is_used,
    a_payment_is_found_by_its_merchant_uid_and_an_order_never_paid_is_not_found,
);

fn won(n: i64) -> Won {
    Won::new(n).expect("a non-negative amount")
}

/// The app's own client, pointed at the spawned app's simulator.
fn client(app: &TestApp) -> Arc<PortOne> {
    Arc::new(PortOne::new(
        &app.url("/portone-sim"),
        SIMULATOR_API_KEY,
        SIMULATOR_API_SECRET,
        Duration::from_secs(10),
    ))
}

/// Run a blocking client call off the test's async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("the blocking call")
}

/// A simulator control (`/portone-sim/_sim/…`) with the key and secret; (status, JSON).
async fn control(app: &TestApp, path: &str, secret: &str) -> (StatusCode, serde_json::Value) {
    control_with(app, path, secret, &[]).await
}

/// A simulator control with more fields.
async fn control_with(
    app: &TestApp,
    path: &str,
    secret: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, serde_json::Value) {
    let mut form = vec![("imp_key", SIMULATOR_API_KEY), ("imp_secret", secret)];
    form.extend_from_slice(fields);
    let r = reqwest::Client::new()
        .post(app.url(&format!("/portone-sim/_sim/{path}")))
        .form(&form)
        .send()
        .await
        .expect("control");
    let status = r.status();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).expect("JSON envelope"))
}

async fn token_requests(app: &TestApp) -> u64 {
    let (status, body) = control(app, "stats", SIMULATOR_API_SECRET).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["response"]["token_requests"]
        .as_u64()
        .expect("a count")
}

/// The buyer's side of the payment window: open it, then approve/decline/close. Returns the
/// redirect's query pairs.
async fn checkout(
    app: &TestApp,
    merchant_uid: &str,
    amount: i64,
    decision: &str,
) -> Vec<(String, String)> {
    let b = app.client();
    let amount = amount.to_string();
    let query = serde_urlencoded::to_string([
        ("merchant_uid", merchant_uid),
        ("amount", amount.as_str()),
        ("name", "Wallet top-up"),
        ("m_redirect_url", "/payments/complete"),
    ])
    .expect("query");
    let (status, html) = app
        .get_html(&b, &format!("/portone-sim/checkout?{query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Approve the payment"), "{html}");
    let r = app
        .post(
            &b,
            "/portone-sim/checkout",
            &[
                ("merchant_uid", merchant_uid),
                ("amount", &amount),
                ("name", "Wallet top-up"),
                ("m_redirect_url", "/payments/complete"),
                ("decision", decision),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a redirect")
        .to_owned();
    let (path, query) = location.split_once('?').expect("a query");
    assert_eq!(path, "/payments/complete");
    serde_urlencoded::from_str(query).expect("pairs")
}

fn pair<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("{name} in {pairs:?}"))
}

/// Prepare, approve at the checkout, and read it back: a paid payment's `imp_uid`.
async fn paid(app: &TestApp, pay: &Arc<PortOne>, merchant_uid: &str, amount: i64) -> Payment {
    let (p, m) = (pay.clone(), merchant_uid.to_owned());
    blocking(move || p.prepare(&m, won(amount)))
        .await
        .expect("prepare");
    let pairs = checkout(app, merchant_uid, amount, "approve").await;
    let imp_uid = pair(&pairs, "imp_uid").to_owned();
    let p = pay.clone();
    let payment = blocking(move || p.payment(&imp_uid)).await.expect("lookup");
    assert_eq!(payment.status, PaymentStatus::Paid);
    payment
}

async fn the_client_keeps_one_token_and_renews_it_when_portone_answers_401(db: Db) {
    let app = spawn_app(db).await;
    let pay = client(&app);
    assert_eq!(token_requests(&app).await, 0);

    let p = pay.clone();
    blocking(move || {
        p.prepare("order-token-1", won(1000))?;
        p.prepare("order-token-2", won(2000))?;
        p.payment("imp_000000000001")
            .map(|_| ())
            .or_else(|e| match e {
                PortOneError::NotFound { .. } => Ok(()),
                e => Err(e),
            })
    })
    .await
    .expect("three calls");
    assert_eq!(
        token_requests(&app).await,
        1,
        "three calls share one cached token"
    );

    // PortOne forgets every token (as when one expires): the next call gets 401, the client
    // takes a new token and the call succeeds.
    let (status, _) = control(&app, "expire-tokens", SIMULATOR_API_SECRET).await;
    assert_eq!(status, StatusCode::OK);
    let p = pay.clone();
    let prepared = blocking(move || p.prepare("order-token-3", won(3000)))
        .await
        .expect("the call succeeds after the 401");
    assert_eq!(prepared.amount, won(3000));
    assert_eq!(token_requests(&app).await, 2, "one renewal, no more");
}

async fn a_prepared_and_approved_payment_reads_back_paid_with_the_prepared_amount(db: Db) {
    let app = spawn_app(db).await;
    let pay = client(&app);
    let p = pay.clone();
    let prepared = blocking(move || p.prepare("order-paid-1", won(15_000)))
        .await
        .expect("prepare");
    assert_eq!(prepared.merchant_uid, "order-paid-1");
    assert_eq!(prepared.amount, won(15_000));

    let pairs = checkout(&app, "order-paid-1", 15_000, "approve").await;
    assert_eq!(pair(&pairs, "merchant_uid"), "order-paid-1");
    assert_eq!(pair(&pairs, "imp_success"), "true");
    let imp_uid = pair(&pairs, "imp_uid").to_owned();
    assert!(imp_uid.starts_with("imp_"), "{imp_uid}");

    let p = pay.clone();
    let id = imp_uid.clone();
    let payment = blocking(move || p.payment(&id)).await.expect("lookup");
    assert_eq!(payment.imp_uid, imp_uid);
    assert_eq!(payment.merchant_uid, "order-paid-1");
    assert_eq!(payment.status, PaymentStatus::Paid);
    assert!(payment.paid_at > 0, "{payment:?}");
    assert_eq!(payment.failed_at, 0);
    assert_eq!(payment.cancelled_at, 0);
    assert_eq!(payment.amount, won(15_000));
    assert_eq!(payment.cancel_amount, Won::ZERO);

    // A merchant_uid is prepared once; a second prepare is PortOne saying no.
    let p = pay.clone();
    let again = blocking(move || p.prepare("order-paid-1", won(1))).await;
    assert!(
        matches!(again, Err(PortOneError::Rejected { .. })),
        "{again:?}"
    );
    // A paid order cannot be paid again.
    let b = app.client();
    let (status, html) = app
        .get_html(
            &b,
            "/portone-sim/checkout?merchant_uid=order-paid-1&amount=15000&m_redirect_url=/x",
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!html.contains("Approve the payment"), "{html}");
}

async fn the_payment_window_refuses_an_amount_other_than_the_prepared_one(db: Db) {
    let app = spawn_app(db).await;
    let pay = client(&app);
    let p = pay.clone();
    blocking(move || p.prepare("order-forged-1", won(50_000)))
        .await
        .expect("prepare");
    let b = app.client();
    let (status, html) = app
        .get_html(
            &b,
            "/portone-sim/checkout?merchant_uid=order-forged-1&amount=100&m_redirect_url=/payments/complete",
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("differs"), "{html}");
    assert!(!html.contains("Approve the payment"), "{html}");
    // Posting the approval anyway (a forged form) is refused and records nothing.
    let r = app
        .post(
            &b,
            "/portone-sim/checkout",
            &[
                ("merchant_uid", "order-forged-1"),
                ("amount", "100"),
                ("m_redirect_url", "/payments/complete"),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.headers().get("location").is_none());
}

async fn a_declined_or_closed_checkout_reads_back_failed_and_never_paid(db: Db) {
    let app = spawn_app(db).await;
    let pay = client(&app);
    for (order, decision) in [("order-declined", "decline"), ("order-closed", "close")] {
        let p = pay.clone();
        blocking(move || p.prepare(order, won(8_000)))
            .await
            .expect("prepare");
        let pairs = checkout(&app, order, 8_000, decision).await;
        assert_eq!(pair(&pairs, "imp_success"), "false");
        assert!(!pair(&pairs, "error_msg").is_empty());
        let imp_uid = pair(&pairs, "imp_uid").to_owned();
        let p = pay.clone();
        let payment = blocking(move || p.payment(&imp_uid)).await.expect("lookup");
        assert_eq!(payment.status, PaymentStatus::Failed, "{decision}");
        assert!(payment.failed_at > 0);
        assert_eq!(payment.paid_at, 0, "never paid");
        assert!(payment.fail_reason.is_some());
        // A failed payment cannot be refunded.
        let p = pay.clone();
        let id = payment.imp_uid.clone();
        let refused = blocking(move || {
            p.cancel(&CancelRequest {
                imp_uid: id,
                amount: None,
                checksum: None,
                reason: "refund".to_owned(),
                refund: None,
            })
        })
        .await;
        assert!(
            matches!(refused, Err(PortOneError::Rejected { .. })),
            "{refused:?}"
        );
    }
}

fn vbank(merchant_uid: &str, amount: i64) -> VbankRequest {
    VbankRequest {
        merchant_uid: merchant_uid.to_owned(),
        amount: won(amount),
        vbank_code: "004".to_owned(),
        vbank_due: chrono::Utc::now().timestamp() + 24 * 60 * 60,
        vbank_holder: "네이버비드".to_owned(),
        name: Some("Wallet top-up".to_owned()),
        buyer_name: None,
        notice_url: None,
        channel_key: None,
    }
}

async fn a_virtual_account_is_issued_ready_with_its_number_and_voided_as_cancelled(db: Db) {
    let app = spawn_app(db).await;
    let pay = client(&app);
    let request = vbank("order-vbank-1", 30_000);
    let due = request.vbank_due;
    let p = pay.clone();
    let issued = blocking(move || p.issue_vbank(&request))
        .await
        .expect("issue");
    assert_eq!(issued.status, PaymentStatus::Ready);
    assert_eq!(issued.pay_method.as_deref(), Some("vbank"));
    assert_eq!(issued.amount, won(30_000));
    assert!(
        issued.vbank_num.as_deref().is_some_and(|n| !n.is_empty()),
        "{issued:?}"
    );
    assert_eq!(issued.vbank_code.as_deref(), Some("004"));
    assert_eq!(issued.vbank_holder.as_deref(), Some("네이버비드"));
    assert_eq!(issued.vbank_date, due);
    assert!(issued.vbank_issued_at > 0);
    assert_eq!(issued.paid_at, 0, "0 means not yet");

    let p = pay.clone();
    let id = issued.imp_uid.clone();
    let looked_up = blocking(move || p.payment(&id)).await.expect("lookup");
    assert_eq!(looked_up, issued);

    let p = pay.clone();
    let id = issued.imp_uid.clone();
    let voided = blocking(move || p.revoke_vbank(&id)).await.expect("void");
    assert_eq!(voided.status, PaymentStatus::Cancelled);
    assert!(voided.cancelled_at > 0);
    // Voided once; a second void is refused (no longer `ready`), and so is a deposit.
    let p = pay.clone();
    let id = issued.imp_uid.clone();
    let again = blocking(move || p.revoke_vbank(&id)).await;
    assert!(
        matches!(again, Err(PortOneError::Rejected { .. })),
        "{again:?}"
    );
    let (status, body) = control(
        &app,
        &format!("vbanks/{}/deposit", issued.imp_uid),
        SIMULATOR_API_SECRET,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let p = pay.clone();
    let id = issued.imp_uid.clone();
    let after = blocking(move || p.payment(&id)).await.expect("lookup");
    assert_eq!(after.status, PaymentStatus::Cancelled);
    assert_eq!(after.paid_at, 0);

    // A deadline already past is refused.
    let mut late = vbank("order-vbank-2", 1_000);
    late.vbank_due = chrono::Utc::now().timestamp() - 1;
    let p = pay.clone();
    let refused = blocking(move || p.issue_vbank(&late)).await;
    assert!(
        matches!(refused, Err(PortOneError::Rejected { .. })),
        "{refused:?}"
    );
}

fn cancel(imp_uid: &str, amount: Option<i64>, checksum: i64) -> CancelRequest {
    CancelRequest {
        imp_uid: imp_uid.to_owned(),
        amount: amount.map(won),
        checksum: Some(won(checksum)),
        reason: "refund to the wallet's owner".to_owned(),
        refund: None,
    }
}

async fn a_partial_then_a_full_cancel_with_checksums_leaves_the_payment_cancelled(db: Db) {
    let app = spawn_app(db).await;
    let pay = client(&app);
    let payment = paid(&app, &pay, "order-cancel-1", 10_000).await;
    assert_eq!(payment.cancellable(), won(10_000));

    let p = pay.clone();
    let id = payment.imp_uid.clone();
    let partly = blocking(move || p.cancel(&cancel(&id, Some(3_000), 10_000)))
        .await
        .expect("partial cancel");
    assert_eq!(
        partly.status,
        PaymentStatus::Paid,
        "a partial cancel stays paid"
    );
    assert_eq!(partly.cancel_amount, won(3_000));
    assert_eq!(partly.cancellable(), won(7_000));
    assert_eq!(partly.cancelled_at, 0);
    assert_eq!(partly.cancel_history.len(), 1);
    assert_eq!(partly.cancel_history[0].amount, won(3_000));

    // The rest: no amount means everything still cancellable.
    let p = pay.clone();
    let id = payment.imp_uid.clone();
    let fully = blocking(move || p.cancel(&cancel(&id, None, 7_000)))
        .await
        .expect("full cancel");
    assert_eq!(fully.status, PaymentStatus::Cancelled);
    assert_eq!(fully.cancel_amount, won(10_000));
    assert!(fully.cancelled_at > 0);
    assert_eq!(fully.cancel_history.len(), 2);

    let p = pay.clone();
    let id = payment.imp_uid.clone();
    let looked_up = blocking(move || p.payment(&id)).await.expect("lookup");
    assert_eq!(looked_up, fully);
    // Nothing left: another cancel is refused.
    let p = pay.clone();
    let id = payment.imp_uid.clone();
    let again = blocking(move || p.cancel(&cancel(&id, Some(1), 0))).await;
    assert!(
        matches!(again, Err(PortOneError::Rejected { .. })),
        "{again:?}"
    );
}

async fn a_cancel_with_a_stale_checksum_or_over_the_remaining_amount_is_refused_and_changes_nothing(
    db: Db,
) {
    let app = spawn_app(db).await;
    let pay = client(&app);
    let payment = paid(&app, &pay, "order-cancel-2", 10_000).await;
    let id = payment.imp_uid.clone();

    let attempts = [
        cancel(&id, Some(1_000), 9_000), // our books say less is left than PortOne's
        cancel(&id, Some(1_000), 10_001), // … or more
        cancel(&id, Some(10_001), 10_000), // more than was paid
    ];
    for attempt in attempts {
        let p = pay.clone();
        let shown = format!("{attempt:?}");
        let r = blocking(move || p.cancel(&attempt)).await;
        assert!(
            matches!(r, Err(PortOneError::Rejected { .. })),
            "{shown}: {r:?}"
        );
    }
    let p = pay.clone();
    let i = id.clone();
    let unchanged = blocking(move || p.payment(&i)).await.expect("lookup");
    assert_eq!(unchanged, payment, "refused cancels change nothing");

    let p = pay.clone();
    let i = id.clone();
    blocking(move || p.cancel(&cancel(&i, Some(4_000), 10_000)))
        .await
        .expect("a partial cancel");
    // 6,000 remain: 7,000 is over it even with the right checksum.
    let p = pay.clone();
    let i = id.clone();
    let over = blocking(move || p.cancel(&cancel(&i, Some(7_000), 6_000))).await;
    assert!(
        matches!(over, Err(PortOneError::Rejected { .. })),
        "{over:?}"
    );
    let p = pay.clone();
    let i = id.clone();
    let after = blocking(move || p.payment(&i)).await.expect("lookup");
    assert_eq!(after.cancel_amount, won(4_000));
    assert_eq!(after.status, PaymentStatus::Paid);
}

async fn a_virtual_account_payment_is_refunded_only_with_a_refund_account(db: Db) {
    let app = spawn_app(db).await;
    let pay = client(&app);
    let p = pay.clone();
    let issued = blocking(move || p.issue_vbank(&vbank("order-vbank-refund", 20_000)))
        .await
        .expect("issue");
    let (status, body) = control(
        &app,
        &format!("vbanks/{}/deposit", issued.imp_uid),
        SIMULATOR_API_SECRET,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let p = pay.clone();
    let id = issued.imp_uid.clone();
    let deposited = blocking(move || p.payment(&id)).await.expect("lookup");
    assert_eq!(deposited.status, PaymentStatus::Paid);
    assert!(deposited.paid_at > 0);

    let p = pay.clone();
    let id = issued.imp_uid.clone();
    let without = blocking(move || p.cancel(&cancel(&id, Some(5_000), 20_000))).await;
    assert!(
        matches!(without, Err(PortOneError::Rejected { .. })),
        "{without:?}"
    );
    let p = pay.clone();
    let id = issued.imp_uid.clone();
    let refunded = blocking(move || {
        let mut c = cancel(&id, Some(5_000), 20_000);
        c.refund = Some(RefundAccount {
            holder: "홍길동".to_owned(),
            bank: "088".to_owned(),
            account: "110123456789".to_owned(),
            tel: Some("01012345678".to_owned()),
        });
        p.cancel(&c)
    })
    .await
    .expect("refund with an account");
    assert_eq!(refunded.cancel_amount, won(5_000));
}

async fn a_call_that_times_out_is_result_unknown_and_not_a_refusal(db: Db) {
    let app = spawn_app(db).await;
    // A server that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_url = format!("http://{}", silent.local_addr().expect("addr"));
    let r = blocking(move || {
        let slow = PortOne::new(
            &silent_url,
            SIMULATOR_API_KEY,
            SIMULATOR_API_SECRET,
            Duration::from_millis(300),
        );
        slow.prepare("order-timeout-1", won(1_000))
    })
    .await;
    assert!(matches!(r, Err(PortOneError::Timeout)), "{r:?}");
    assert!(r.as_ref().is_err_and(PortOneError::is_result_unknown));
    drop(silent);

    // Nobody listening at all: unreachable, also result unknown.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead_url = format!("http://{}", dead.local_addr().expect("addr"));
    drop(dead);
    let r = blocking(move || {
        PortOne::new(&dead_url, "k", "s", Duration::from_secs(2)).payment("imp_1")
    })
    .await;
    assert!(matches!(r, Err(PortOneError::Unreachable(_))), "{r:?}");
    assert!(r.as_ref().is_err_and(PortOneError::is_result_unknown));

    // The same call against the real simulator is answered (the fault was the address).
    let pay = client(&app);
    blocking(move || pay.prepare("order-timeout-1", won(1_000)))
        .await
        .expect("prepare");
}

async fn an_unknown_imp_uid_gets_portones_documented_not_found_answer(db: Db) {
    let app = spawn_app(db).await;
    let pay = client(&app);
    let p = pay.clone();
    let r = blocking(move || p.payment("imp_999999999999")).await;
    assert!(matches!(r, Err(PortOneError::NotFound { .. })), "{r:?}");
    assert!(!r.as_ref().is_err_and(PortOneError::is_result_unknown));
    let p = pay.clone();
    let r = blocking(move || p.revoke_vbank("imp_999999999999")).await;
    assert!(matches!(r, Err(PortOneError::NotFound { .. })), "{r:?}");

    // On the wire: HTTP 404 and the envelope with a non-zero code and no response.
    let token = token(&app).await;
    let r = reqwest::Client::new()
        .get(app.url("/portone-sim/payments/imp_999999999999"))
        .header("Authorization", &token)
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value =
        serde_json::from_str(&r.text().await.expect("body")).expect("JSON");
    assert_ne!(body["code"], 0, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(body["response"].is_null(), "{body}");
}

/// A token straight from `POST /users/getToken` (JSON body, as PortOne accepts).
async fn token(app: &TestApp) -> String {
    let r = reqwest::Client::new()
        .post(app.url("/portone-sim/users/getToken"))
        .header("Content-Type", "application/json")
        .body(
            serde_json::json!({"imp_key": SIMULATOR_API_KEY, "imp_secret": SIMULATOR_API_SECRET})
                .to_string(),
        )
        .send()
        .await
        .expect("getToken");
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value =
        serde_json::from_str(&r.text().await.expect("body")).expect("JSON");
    assert_eq!(body["code"], 0, "{body}");
    let now = body["response"]["now"].as_i64().expect("now");
    let expired_at = body["response"]["expired_at"].as_i64().expect("expired_at");
    assert!(expired_at > now, "{body}");
    body["response"]["access_token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

async fn the_simulator_api_refuses_callers_without_a_valid_token_or_key(db: Db) {
    let app = spawn_app(db).await;
    let http = reqwest::Client::new();
    let prepare = app.url("/portone-sim/payments/prepare");
    for auth in [
        None,
        Some("wrong-token"),
        Some("Bearer wrong-token"),
        Some(""),
    ] {
        let mut request = http
            .post(&prepare)
            .form(&[("merchant_uid", "order-hostile-1"), ("amount", "1000")]);
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        let r = request.send().await.expect("POST");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        let body: serde_json::Value =
            serde_json::from_str(&r.text().await.expect("body")).expect("JSON");
        assert_ne!(body["code"], 0);
        assert!(body["response"].is_null());
    }
    // A wrong secret gets no token, and the client reports it as such.
    let r = http
        .post(app.url("/portone-sim/users/getToken"))
        .form(&[("imp_key", SIMULATOR_API_KEY), ("imp_secret", "guess")])
        .send()
        .await
        .expect("getToken");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let wrong = PortOne::new(
        &app.url("/portone-sim"),
        SIMULATOR_API_KEY,
        "guess",
        Duration::from_secs(5),
    );
    let r = blocking(move || wrong.prepare("order-hostile-1", won(1_000))).await;
    assert!(matches!(r, Err(PortOneError::Unauthorized)), "{r:?}");
    // The controls want the secret too.
    let (status, _) = control(&app, "expire-tokens", "guess").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(token_requests(&app).await, 0, "no token was handed out");

    // A raw token and `Bearer TOKEN` both work; a form body works as well as JSON.
    let token = token(&app).await;
    for (i, auth) in [token.clone(), format!("Bearer {token}")]
        .into_iter()
        .enumerate()
    {
        let r = http
            .post(&prepare)
            .header("Authorization", auth)
            .form(&[
                ("merchant_uid", format!("order-ok-{i}")),
                ("amount", "1000".to_owned()),
            ])
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), StatusCode::OK);
        let body: serde_json::Value =
            serde_json::from_str(&r.text().await.expect("body")).expect("JSON");
        assert_eq!(body["code"], 0, "{body}");
        assert_eq!(body["response"]["amount"], 1000, "{body}");
    }
    // A body that is neither JSON nor a form PortOne understands: a 4xx envelope, never 5xx.
    let r = http
        .post(&prepare)
        .header("Authorization", &token)
        .header("Content-Type", "application/json")
        .body("{\"merchant_uid\": 1, \"amount\": -5}")
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

async fn the_checkout_window_is_a_csrf_checked_form_that_only_redirects_within_the_site(db: Db) {
    let app = spawn_app(db).await;
    let pay = client(&app);
    let p = pay.clone();
    blocking(move || p.prepare("order-window-1", won(5_000)))
        .await
        .expect("prepare");
    let b = app.client();
    // Open redirects are refused: the window only sends the browser back into this site.
    for target in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
    ] {
        let query = serde_urlencoded::to_string([
            ("merchant_uid", "order-window-1"),
            ("amount", "5000"),
            ("m_redirect_url", target),
        ])
        .expect("query");
        let (status, _) = app
            .get_html(&b, &format!("/portone-sim/checkout?{query}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{target}");
        let r = app
            .post(
                &b,
                "/portone-sim/checkout",
                &[
                    ("merchant_uid", "order-window-1"),
                    ("amount", "5000"),
                    ("m_redirect_url", target),
                    ("decision", "approve"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{target}");
        assert!(r.headers().get("location").is_none());
    }
    // Without the session's CSRF token the approval is refused before it is read.
    let r = app
        .post_raw(
            &b,
            "/portone-sim/checkout",
            &[
                ("merchant_uid", "order-window-1"),
                ("amount", "5000"),
                ("m_redirect_url", "/payments/complete"),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Nothing was paid: the genuine approval still goes through, once.
    let pairs = checkout(&app, "order-window-1", 5_000, "approve").await;
    assert_eq!(pair(&pairs, "imp_success"), "true");
    // The page works under the site's CSP: no inline script at all.
    let query = "merchant_uid=order-window-2&amount=5000&m_redirect_url=/payments/complete";
    let r = app.get(&b, &format!("/portone-sim/checkout?{query}")).await;
    let csp = r
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .expect("a CSP")
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = r.text().await.expect("body");
    assert!(
        !html.contains("<script>") && !html.contains("onclick"),
        "{html}"
    );
}

async fn an_answer_later_than_the_timeout_is_result_unknown_though_portone_acted(db: Db) {
    let app = spawn_app(db).await;
    let impatient = Arc::new(PortOne::new(
        &app.url("/portone-sim"),
        SIMULATOR_API_KEY,
        SIMULATOR_API_SECRET,
        Duration::from_millis(400),
    ));
    // Take the token first, so the delay hits the prepare itself.
    let p = impatient.clone();
    let r = blocking(move || p.payment("imp_000000000001")).await;
    assert!(matches!(r, Err(PortOneError::NotFound { .. })), "{r:?}");
    let (status, body) = control_with(
        &app,
        "faults",
        SIMULATOR_API_SECRET,
        &[("mode", "delay"), ("delay_ms", "1500"), ("count", "1")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let p = impatient.clone();
    let r = blocking(move || p.prepare("order-late-1", won(9_000))).await;
    assert!(matches!(r, Err(PortOneError::Timeout)), "{r:?}");
    assert!(r.as_ref().is_err_and(PortOneError::is_result_unknown));
    // PortOne did register it: preparing again is refused as already registered.
    let pay = client(&app);
    let again = blocking(move || pay.prepare("order-late-1", won(9_000))).await;
    assert!(
        matches!(again, Err(PortOneError::Rejected { .. })),
        "{again:?}"
    );
}

async fn a_500_from_portone_is_result_unknown_and_the_next_call_is_answered(db: Db) {
    let app = spawn_app(db).await;
    let pay = client(&app);
    let payment = paid(&app, &pay, "order-500-1", 6_000).await;
    for mode in ["error", "error_before"] {
        let (status, _) =
            control_with(&app, "faults", SIMULATOR_API_SECRET, &[("mode", mode)]).await;
        assert_eq!(status, StatusCode::OK);
        let p = pay.clone();
        let id = payment.imp_uid.clone();
        let r = blocking(move || p.payment(&id)).await;
        assert!(
            matches!(r, Err(PortOneError::ServerError { status: 500 })),
            "{mode}: {r:?}"
        );
        assert!(r.as_ref().is_err_and(PortOneError::is_result_unknown));
    }
    // `error` did the work before failing, `error_before` did not: a cancel shows it.
    let (status, _) =
        control_with(&app, "faults", SIMULATOR_API_SECRET, &[("mode", "error")]).await;
    assert_eq!(status, StatusCode::OK);
    let p = pay.clone();
    let id = payment.imp_uid.clone();
    let r = blocking(move || p.cancel(&cancel(&id, Some(1_000), 6_000))).await;
    assert!(matches!(r, Err(PortOneError::ServerError { .. })), "{r:?}");
    let p = pay.clone();
    let id = payment.imp_uid.clone();
    let after = blocking(move || p.payment(&id))
        .await
        .expect("answered again");
    assert_eq!(after.cancel_amount, won(1_000), "the cancel was done");
    // Bad fault settings are refused.
    let (status, _) = control_with(
        &app,
        "faults",
        SIMULATOR_API_SECRET,
        &[("mode", "delay"), ("delay_ms", "3600000")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = control_with(&app, "faults", "guess", &[("mode", "error_before")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn a_forged_amount_and_a_cancel_behind_our_back_show_in_the_lookup(db: Db) {
    let app = spawn_app(db).await;
    let pay = client(&app);
    let payment = paid(&app, &pay, "order-forged-2", 10_000).await;
    let (status, body) = control_with(
        &app,
        &format!("payments/{}/amount", payment.imp_uid),
        SIMULATOR_API_SECRET,
        &[("amount", "100")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let p = pay.clone();
    let id = payment.imp_uid.clone();
    let forged = blocking(move || p.payment(&id)).await.expect("lookup");
    assert_eq!(forged.status, PaymentStatus::Paid);
    assert_eq!(forged.amount, won(100), "the lookup tells the truth");

    let other = paid(&app, &pay, "order-console-1", 4_000).await;
    let (status, body) = control(
        &app,
        &format!("payments/{}/cancel", other.imp_uid),
        SIMULATOR_API_SECRET,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let p = pay.clone();
    let id = other.imp_uid.clone();
    let cancelled = blocking(move || p.payment(&id)).await.expect("lookup");
    assert_eq!(cancelled.status, PaymentStatus::Cancelled);
    assert_eq!(cancelled.cancel_amount, won(4_000));
    // Our books still say 4,000 is cancellable; PortOne refuses: nothing is left to cancel.
    let p = pay.clone();
    let id = other.imp_uid.clone();
    let r = blocking(move || p.cancel(&cancel(&id, None, 4_000))).await;
    assert!(matches!(r, Err(PortOneError::Rejected { .. })), "{r:?}");
}

/// The webhooks the simulator has sent so far.
async fn deliveries(app: &TestApp) -> Vec<serde_json::Value> {
    let (status, body) = control(app, "webhooks", SIMULATOR_API_SECRET).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["response"].as_array().expect("a list").clone()
}

/// Wait (a bounded number of polls) until `n` webhooks for `imp_uid` have been sent.
async fn deliveries_for(app: &TestApp, imp_uid: &str, n: usize) -> Vec<serde_json::Value> {
    for _ in 0..200 {
        let found: Vec<_> = deliveries(app)
            .await
            .into_iter()
            .filter(|d| d["imp_uid"] == imp_uid)
            .collect();
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "{n} webhooks for {imp_uid} never came: {:?}",
        deliveries(app).await
    );
}

async fn webhooks_carry_imp_uid_merchant_uid_and_status_to_this_site_only(db: Db) {
    let app = spawn_app(db).await;
    let pay = client(&app);
    let p = pay.clone();
    blocking(move || p.prepare("order-hook-1", won(12_000)))
        .await
        .expect("prepare");
    // The checkout names the webhook address; approving sends `paid` there.
    let b = app.client();
    let query = "merchant_uid=order-hook-1&amount=12000&m_redirect_url=/payments/complete\
                 &notice_url=/payments/webhook";
    let (status, html) = app
        .get_html(&b, &format!("/portone-sim/checkout?{query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("value=\"/payments/webhook\""), "{html}");
    let r = app
        .post(
            &b,
            "/portone-sim/checkout",
            &[
                ("merchant_uid", "order-hook-1"),
                ("amount", "12000"),
                ("m_redirect_url", "/payments/complete"),
                ("notice_url", "/payments/webhook"),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(location.split_once('?').expect("query").1).expect("pairs");
    let imp_uid = pair(&pairs, "imp_uid").to_owned();
    let sent = deliveries_for(&app, &imp_uid, 1).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["merchant_uid"], "order-hook-1");
    assert_eq!(sent[0]["status"], "paid");
    assert_eq!(sent[0]["url"], app.url("/payments/webhook"));
    assert!(sent[0]["answered"].is_u64(), "this site answered: {sent:?}");

    // A virtual account: `ready` when issued, `paid` when paid into.
    let mut request = vbank("order-hook-2", 7_000);
    request.notice_url = Some(app.url("/payments/webhook"));
    let p = pay.clone();
    let issued = blocking(move || p.issue_vbank(&request))
        .await
        .expect("issue");
    let (status, _) = control(
        &app,
        &format!("vbanks/{}/deposit", issued.imp_uid),
        SIMULATOR_API_SECRET,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let sent = deliveries_for(&app, &issued.imp_uid, 2).await;
    let statuses: Vec<_> = sent.iter().map(|d| d["status"].clone()).collect();
    assert!(
        statuses.contains(&"ready".into()) && statuses.contains(&"paid".into()),
        "{sent:?}"
    );

    // Nobody else: a notice_url on another host is refused, at the checkout and by POST /vbanks.
    for outside in [
        "https://evil.example/hook",
        "//evil.example/hook",
        "http://169.254.169.254/",
    ] {
        let query = serde_urlencoded::to_string([
            ("merchant_uid", "order-hook-3"),
            ("amount", "1000"),
            ("m_redirect_url", "/payments/complete"),
            ("notice_url", outside),
        ])
        .expect("query");
        let (status, _) = app
            .get_html(&b, &format!("/portone-sim/checkout?{query}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{outside}");
        let mut request = vbank("order-hook-4", 1_000);
        request.notice_url = Some(outside.to_owned());
        let p = pay.clone();
        let r = blocking(move || p.issue_vbank(&request)).await;
        assert!(
            matches!(r, Err(PortOneError::Rejected { .. })),
            "{outside}: {r:?}"
        );
    }
}

async fn duplicate_webhooks_can_arrive_before_the_browser_comes_back(db: Db) {
    let app = spawn_app(db).await;
    let pay = client(&app);
    let (status, body) = control_with(
        &app,
        "webhook-faults",
        SIMULATOR_API_SECRET,
        &[("copies", "3"), ("before_redirect", "true")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let p = pay.clone();
    blocking(move || p.prepare("order-dup-1", won(3_000)))
        .await
        .expect("prepare");
    let b = app.client();
    let r = app
        .post(
            &b,
            "/portone-sim/checkout",
            &[
                ("merchant_uid", "order-dup-1"),
                ("amount", "3000"),
                ("m_redirect_url", "/payments/complete"),
                ("notice_url", "/payments/webhook"),
                ("decision", "decline"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(location.split_once('?').expect("query").1).expect("pairs");
    let imp_uid = pair(&pairs, "imp_uid");
    // Already sent, all three, when the redirect arrives: no waiting.
    let sent: Vec<_> = deliveries(&app)
        .await
        .into_iter()
        .filter(|d| d["imp_uid"] == imp_uid)
        .collect();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(sent.iter().all(|d| d["status"] == "failed"), "{sent:?}");

    let (status, _) = control_with(
        &app,
        "webhook-faults",
        SIMULATOR_API_SECRET,
        &[("copies", "9")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn the_bank_page_shows_a_virtual_account_and_its_deposit_button_pays_it_once(db: Db) {
    let app = spawn_app(db).await;
    let pay = client(&app);
    let p = pay.clone();
    let issued = blocking(move || p.issue_vbank(&vbank("order-bank-1", 25_000)))
        .await
        .expect("issue");
    let number = issued.vbank_num.clone().expect("a number");
    let page = format!("/portone-sim/bank/{}", issued.imp_uid);
    let b = app.client();
    let (status, html) = app.get_html(&b, &page).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains(&number) && html.contains("KB국민은행"),
        "{html}"
    );
    assert!(html.contains("data-status=\"ready\""), "{html}");
    assert!(html.contains("data-amount=\"25000\""), "{html}");

    let deposit = format!("{page}/deposit");
    // Without the session's token, nothing happens.
    let r = app.post_raw(&b, &deposit, &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.post(&b, &deposit, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], page.as_str());
    let p = pay.clone();
    let id = issued.imp_uid.clone();
    let paid = blocking(move || p.payment(&id)).await.expect("lookup");
    assert_eq!(paid.status, PaymentStatus::Paid);
    assert!(paid.paid_at > 0);
    assert_eq!(paid.amount, won(25_000));
    // Paid once: no button, and a second deposit is refused.
    let (_, html) = app.get_html(&b, &page).await;
    assert!(html.contains("data-status=\"paid\""), "{html}");
    assert!(!html.contains(&format!("action=\"{deposit}\"")), "{html}");
    let r = app.post(&b, &deposit, &[]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Only virtual accounts the simulator issued have a page.
    let card = paid_card(&app, &pay).await;
    for other in ["imp_999999999999".to_owned(), card] {
        let (status, _) = app
            .get_html(&b, &format!("/portone-sim/bank/{other}"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{other}");
        let r = app
            .post(&b, &format!("/portone-sim/bank/{other}/deposit"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{other}");
    }
}

async fn paid_card(app: &TestApp, pay: &Arc<PortOne>) -> String {
    paid(app, pay, "order-bank-card", 1_000).await.imp_uid
}

async fn a_token_with_under_a_minute_left_is_renewed_before_it_is_used(db: Db) {
    let app = spawn_app(db).await;
    // PortOne hands out tokens with 45 seconds to live: each is under the 60-second margin.
    let (status, body) = control_with(
        &app,
        "token-lifetime",
        SIMULATOR_API_SECRET,
        &[("secs", "45")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pay = client(&app);
    let p = pay.clone();
    blocking(move || {
        p.prepare("order-short-1", won(1_000))?;
        p.prepare("order-short-2", won(1_000))?;
        p.prepare("order-short-3", won(1_000))
    })
    .await
    .expect("three calls");
    assert_eq!(
        token_requests(&app).await,
        3,
        "a token under a minute from expiry is renewed before each call"
    );
    // Long-lived tokens again: the next one is kept.
    let (status, _) = control_with(
        &app,
        "token-lifetime",
        SIMULATOR_API_SECRET,
        &[("secs", "1800")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let p = pay.clone();
    blocking(move || {
        p.prepare("order-short-4", won(1_000))?;
        p.prepare("order-short-5", won(1_000))
    })
    .await
    .expect("two calls");
    assert_eq!(token_requests(&app).await, 4);
    let (status, _) = control_with(
        &app,
        "token-lifetime",
        SIMULATOR_API_SECRET,
        &[("secs", "0")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn a_payment_is_found_by_its_merchant_uid_and_an_order_never_paid_is_not_found(db: Db) {
    let app = spawn_app(db).await;
    let pay = client(&app);
    let found_paid = paid(&app, &pay, "order_find_1", 12_000).await;
    let p = pay.clone();
    let found = blocking(move || p.paid_for_order("order_find_1"))
        .await
        .expect("found by merchant_uid");
    assert_eq!(found.imp_uid, found_paid.imp_uid);
    assert_eq!(found.merchant_uid, "order_find_1");
    assert_eq!(found.status, PaymentStatus::Paid);
    assert_eq!(found.amount, won(12_000));
    // Prepared but never paid (a declined checkout): no *paid* payment for the order.
    let p = pay.clone();
    blocking(move || p.prepare("order_find_2", won(5_000)))
        .await
        .expect("prepare");
    checkout(&app, "order_find_2", 5_000, "decline").await;
    let p = pay.clone();
    let r = blocking(move || p.paid_for_order("order_find_2")).await;
    assert!(matches!(r, Err(PortOneError::NotFound { .. })), "{r:?}");
    // The unfiltered lookup finds the failed one.
    let token = token(&app).await;
    let r = reqwest::Client::new()
        .get(app.url("/portone-sim/payments/find/order_find_2"))
        .header("Authorization", &token)
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value =
        serde_json::from_str(&r.text().await.expect("body")).expect("JSON");
    assert_eq!(body["code"], 0, "{body}");
    assert_eq!(body["response"]["status"], "failed", "{body}");
    let p = pay.clone();
    let r = blocking(move || p.paid_for_order("order_never_issued")).await;
    assert!(matches!(r, Err(PortOneError::NotFound { .. })), "{r:?}");
}
