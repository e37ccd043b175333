//! Refunds of unspent top-ups (`POST /payments/{merchant_uid}/cancel`, DESIGN §8 step 3) and
//! `neighborbid payments reconcile`, against the built-in simulator. The money is held before
//! PortOne is asked, leaves as a `withdrawal` only when PortOne confirms, and is never lost or
//! doubled when PortOne does not answer.

use std::time::Duration;

use neighborbid::config::{SIMULATOR_API_KEY, SIMULATOR_API_SECRET};
use neighborbid::portone::PaymentStatus;
use reqwest::StatusCode;

use crate::helpers::{both_databases, spawn_app, spawn_app_with, Browser, Db, TestApp};
use crate::payments::{
    b_wallet, checkout, come_back, deposit, imp_uid_of, location, payment_status, portone_status,
    start_card_topup, start_vbank_topup, vbank_of, wait_status,
};

both_databases!(
    a_card_top_up_is_refunded_in_part_then_in_full_and_the_owner_sees_each_state,
    a_refund_above_what_is_refundable_is_422_and_moves_nothing,
    someone_elses_payment_cannot_be_refunded_and_is_404,
    a_virtual_account_refund_needs_a_valid_refund_account,
    a_cancel_made_behind_our_back_is_not_executed_is_flagged_and_the_hold_released,
    a_refund_whose_cancel_times_out_stays_held_until_reconcile_settles_it_exactly_once,
    ten_concurrent_full_refunds_of_one_payment_refund_it_once,
);

/// A paid card top-up of `amount`; its (merchant_uid, imp_uid).
async fn paid_card_topup(app: &TestApp, b: &Browser, amount: &str) -> (String, String) {
    let uid = start_card_topup(app, b, amount).await;
    let back = checkout(app, b, &uid, "approve", false).await;
    come_back(app, b, &back, &uid).await;
    assert_eq!(payment_status(app, &uid), "paid");
    (uid, imp_uid_of(&back))
}

async fn refund(
    app: &TestApp,
    b: &Browser,
    uid: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    app.post(b, &format!("/payments/{uid}/cancel"), fields)
        .await
}

/// The journal's entries of `kind`: (user, Δbalance, Δheld).
fn entries(app: &TestApp, kind: &str) -> Vec<(i64, i64, i64)> {
    use diesel::prelude::*;
    use neighborbid::db::schema::ledger_entries::dsl as l;
    l::ledger_entries
        .filter(l::kind.eq(kind))
        .order(l::id.asc())
        .select((l::user_id, l::delta_balance, l::delta_locked))
        .load(&mut app.raw_connection())
        .expect("entries")
}

/// The refunds as stored: (amount, status).
fn refunds(app: &TestApp) -> Vec<(i64, String)> {
    use diesel::prelude::*;
    use neighborbid::db::schema::payment_refunds::dsl as r;
    r::payment_refunds
        .order(r::id.asc())
        .select((r::amount, r::status))
        .load(&mut app.raw_connection())
        .expect("refunds")
}

async fn page(app: &TestApp, b: &Browser, uid: &str) -> String {
    let (status, page) = app.get_html(b, &format!("/payments/{uid}")).await;
    assert_eq!(status, StatusCode::OK);
    page
}

async fn a_card_top_up_is_refunded_in_part_then_in_full_and_the_owner_sees_each_state(db: Db) {
    let app = spawn_app(db).await;
    let b = app.sign_up("minji").await;
    let (uid, imp_uid) = paid_card_topup(&app, &b, "50000").await;
    let shown = page(&app, &b, &uid).await;
    assert!(shown.contains("data-refundable=\"50000\""), "{shown}");
    assert!(
        shown.contains(&format!("action=\"/payments/{uid}/cancel\"")),
        "{shown}"
    );

    let r = refund(
        &app,
        &b,
        &uid,
        &[("amount", "20,000"), ("reason", "not needed")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/payments/{uid}"));
    assert_eq!(app.wallet(&b).await, (30_000, 0));
    assert_eq!(
        portone_status(&app, &imp_uid).await,
        (PaymentStatus::Paid, 20_000)
    );
    let shown = page(&app, &b, &uid).await;
    assert!(
        shown.contains("Refunded — the money was returned"),
        "{shown}"
    );
    assert!(shown.contains("data-refundable=\"30000\""), "{shown}");
    assert_eq!(payment_status(&app, &uid), "paid");

    // Empty amount: everything still refundable.
    let r = refund(&app, &b, &uid, &[("amount", "")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.wallet(&b).await, (0, 0));
    assert_eq!(
        portone_status(&app, &imp_uid).await,
        (PaymentStatus::Cancelled, 50_000)
    );
    assert_eq!(payment_status(&app, &uid), "cancelled");
    let shown = page(&app, &b, &uid).await;
    assert!(shown.contains("Refunded in full"), "{shown}");
    assert!(
        !shown.contains("refund-form"),
        "nothing left to refund: {shown}"
    );
    let user = app.user_id("minji");
    assert_eq!(
        entries(&app, "withdrawal"),
        vec![(user, 0, -20_000), (user, 0, -30_000)]
    );
    assert_eq!(entries(&app, "refund_hold").len(), 2);
    let (_, wallet) = app.get_html(&b, "/wallet").await;
    assert!(wallet.contains("Refund requested (held)"), "{wallet}");
    // The wallet's list of payments says what happened, in the same words as the page.
    assert!(wallet.contains("Refunded in full"), "{wallet}");
    assert!(!wallet.contains("nothing was charged"), "{wallet}");

    // Nothing more can be refunded.
    let r = refund(&app, &b, &uid, &[("amount", "1000")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.wallet(&b).await, (0, 0));
    app.assert_audit_clean();
}

async fn a_refund_above_what_is_refundable_is_422_and_moves_nothing(db: Db) {
    let app = spawn_app(db).await;
    let b = app.sign_up("minji").await;
    let (uid, imp_uid) = paid_card_topup(&app, &b, "50000").await;
    for amount in [
        "60000",
        "50001",
        "-5",
        "0",
        "abc",
        "99999999999999999999999",
        "1e5",
    ] {
        let r = refund(&app, &b, &uid, &[("amount", amount)]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{amount}");
    }
    let r = refund(&app, &b, &uid, &[("amount", "60000")]).await;
    let body = r.text().await.expect("body");
    assert!(
        body.contains("At most ₩50,000 can be refunded now"),
        "{body}"
    );
    assert_eq!(app.wallet(&b).await, (50_000, 0));
    assert_eq!(
        portone_status(&app, &imp_uid).await,
        (PaymentStatus::Paid, 0)
    );

    // ₩30,000 held for a payout: only ₩20,000 is available to refund.
    let r = app
        .post(
            &b,
            "/wallet/payouts",
            &[
                ("amount", "30000"),
                ("bank_code", "004"),
                ("account_number", "12345678901"),
                ("account_holder", "김민지"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.wallet(&b).await, (20_000, 30_000));
    let r = refund(&app, &b, &uid, &[("amount", "30000")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page(&app, &b, &uid)
        .await
        .contains("data-refundable=\"20000\""));
    assert_eq!(app.wallet(&b).await, (20_000, 30_000));
    assert_eq!(
        portone_status(&app, &imp_uid).await,
        (PaymentStatus::Paid, 0)
    );
    assert!(refunds(&app).is_empty());
    assert!(entries(&app, "withdrawal").is_empty());

    let r = refund(&app, &b, &uid, &[("amount", "20000")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.wallet(&b).await, (0, 30_000));
    assert_eq!(
        portone_status(&app, &imp_uid).await,
        (PaymentStatus::Paid, 20_000)
    );
    app.assert_audit_clean();
}

async fn someone_elses_payment_cannot_be_refunded_and_is_404(db: Db) {
    let app = spawn_app(db).await;
    let b = app.sign_up("minji").await;
    let (uid, imp_uid) = paid_card_topup(&app, &b, "50000").await;
    let other = app.sign_up("jisoo").await;
    let r = refund(&app, &other, &uid, &[("amount", "")]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = refund(&app, &other, "topup_00000000000000000000000000000000", &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app
        .post(
            &app.client(),
            &format!("/payments/{uid}/cancel"),
            &[("amount", "")],
        )
        .await;
    assert!(!r.status().is_success() && !r.status().is_server_error());
    assert_eq!(app.wallet(&b).await, (50_000, 0));
    assert_eq!(
        portone_status(&app, &imp_uid).await,
        (PaymentStatus::Paid, 0)
    );
    assert!(refunds(&app).is_empty());
    app.assert_audit_clean();
}

async fn a_virtual_account_refund_needs_a_valid_refund_account(db: Db) {
    let app = spawn_app(db).await;
    let b = app.sign_up("minji").await;
    let uid = start_vbank_topup(&app, &b, "40000").await;
    let (imp_uid, _) = vbank_of(&app, &uid);
    assert_eq!(deposit(&app, &imp_uid).await, StatusCode::OK);
    wait_status(&app, &uid, "paid").await;
    assert_eq!(b_wallet(&app, &b).await, 40_000);
    let shown = page(&app, &b, &uid).await;
    assert!(shown.contains("name=\"refund_account\""), "{shown}");

    for (bank, account, holder) in [
        ("", "", ""),
        ("999", "12345678901", "김민지"),
        ("004", "12ab", "김민지"),
        ("004", "12345678901", ""),
        ("004", "12345678901", "a\u{0}b"),
    ] {
        let r = refund(
            &app,
            &b,
            &uid,
            &[
                ("amount", "10000"),
                ("refund_bank", bank),
                ("refund_account", account),
                ("refund_holder", holder),
            ],
        )
        .await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bank} {account}"
        );
    }
    assert_eq!(app.wallet(&b).await, (40_000, 0));
    assert_eq!(portone_status(&app, &imp_uid).await.1, 0);

    let r = refund(
        &app,
        &b,
        &uid,
        &[
            ("amount", ""),
            ("refund_bank", "004"),
            ("refund_account", "123-4567-8901"),
            ("refund_holder", "김민지"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.wallet(&b).await, (0, 0));
    assert_eq!(
        portone_status(&app, &imp_uid).await,
        (PaymentStatus::Cancelled, 40_000)
    );
    assert_eq!(payment_status(&app, &uid), "cancelled");
    app.assert_audit_clean();
}

async fn a_cancel_made_behind_our_back_is_not_executed_is_flagged_and_the_hold_released(db: Db) {
    let app = spawn_app(db).await;
    let b = app.sign_up("minji").await;
    let (uid, imp_uid) = paid_card_topup(&app, &b, "50000").await;
    let r = reqwest::Client::new()
        .post(app.url(&format!("/portone-sim/_sim/payments/{imp_uid}/cancel")))
        .form(&[
            ("imp_key", SIMULATOR_API_KEY),
            ("imp_secret", SIMULATOR_API_SECRET),
        ])
        .send()
        .await
        .expect("console cancel");
    assert_eq!(r.status(), StatusCode::OK);

    let r = refund(&app, &b, &uid, &[("amount", "10000")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.wallet(&b).await, (50_000, 0), "the hold is released");
    assert_eq!(refunds(&app), vec![(10_000, "mismatch".to_owned())]);
    assert!(entries(&app, "withdrawal").is_empty());
    assert_eq!(entries(&app, "refund_release").len(), 1);
    assert_eq!(
        portone_status(&app, &imp_uid).await,
        (PaymentStatus::Cancelled, 50_000),
        "nothing more was cancelled"
    );
    let shown = page(&app, &b, &uid).await;
    assert!(shown.contains("records differ from ours"), "{shown}");
    assert!(
        !shown.contains("refund-form"),
        "flagged: no more refunds until an admin looks: {shown}"
    );
    let r = refund(&app, &b, &uid, &[("amount", "10000")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.wallet(&b).await, (50_000, 0));
    assert_eq!(refunds(&app).len(), 1);
    // Admins see it flagged, first on the payments page.
    let other = app.sign_up("other").await;
    let (later, _) = paid_card_topup(&app, &other, "10000").await;
    let admin = app.admin("auditor").await;
    let (_, listed) = app.get_html(&admin, "/admin/payments").await;
    let first = listed
        .find("data-merchant-uid=\"")
        .map(|at| &listed[at + 19..at + 19 + uid.len()]);
    assert_eq!(
        first,
        Some(uid.as_str()),
        "the flagged payment is listed first"
    );
    assert!(listed.contains("refund stopped"), "{listed}");
    assert!(listed.contains(&later));
    app.assert_audit_clean();
}

async fn a_refund_whose_cancel_times_out_stays_held_until_reconcile_settles_it_exactly_once(
    db: Db,
) {
    let app = spawn_app_with(db, |s| s.portone.timeout = Duration::from_secs(1)).await;
    let b = app.sign_up("minji").await;
    let (uid, imp_uid) = paid_card_topup(&app, &b, "50000").await;
    // The cancel is carried out at PortOne, but its answer comes after our timeout.
    let r = reqwest::Client::new()
        .post(app.url("/portone-sim/_sim/faults"))
        .form(&[
            ("imp_key", SIMULATOR_API_KEY),
            ("imp_secret", SIMULATOR_API_SECRET),
            ("mode", "delay"),
            ("delay_ms", "3000"),
            ("count", "1"),
        ])
        .send()
        .await
        .expect("fault");
    assert_eq!(r.status(), StatusCode::OK);
    let r = refund(&app, &b, &uid, &[("amount", "20000")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.wallet(&b).await, (30_000, 20_000), "held, not lost");
    assert_eq!(refunds(&app), vec![(20_000, "pending".to_owned())]);
    assert!(entries(&app, "withdrawal").is_empty());
    let shown = page(&app, &b, &uid).await;
    assert!(shown.contains("Refund pending"), "{shown}");
    assert!(
        !shown.contains("refund-form"),
        "one refund at a time: {shown}"
    );
    // A second refund while one is pending: refused, nothing moves.
    let r = refund(&app, &b, &uid, &[("amount", "1000")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.wallet(&b).await, (30_000, 20_000));

    // The reconciler leaves a refund alone while its cancel may still be on the way
    // (5 × the 1 s timeout + 1 s), then settles it from PortOne's record.
    let bind = app.address.trim_start_matches("http://").to_owned();
    let env = [
        ("NEIGHBORBID_BIND", bind.as_str()),
        ("NEIGHBORBID_PORTONE_TIMEOUT_SECS", "1"),
    ];
    tokio::time::sleep(Duration::from_millis(6_500)).await;
    let app_ref = &app;
    let out = tokio::task::block_in_place(|| app_ref.cli(&["payments", "reconcile"], &env, None));
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{printed} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        printed.contains(&format!("refund of ₩20,000 for payment {uid}: done")),
        "{printed}"
    );
    assert_eq!(app.wallet(&b).await, (30_000, 0));
    assert_eq!(refunds(&app), vec![(20_000, "done".to_owned())]);
    let user = app.user_id("minji");
    assert_eq!(entries(&app, "withdrawal"), vec![(user, 0, -20_000)]);

    // A second run changes nothing.
    let out = tokio::task::block_in_place(|| app_ref.cli(&["payments", "reconcile"], &env, None));
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{printed}");
    assert!(
        printed.contains("settled 0 payments, 0 refunds"),
        "{printed}"
    );
    assert_eq!(app.wallet(&b).await, (30_000, 0));
    assert_eq!(entries(&app, "withdrawal").len(), 1);
    assert_eq!(
        portone_status(&app, &imp_uid).await,
        (PaymentStatus::Paid, 20_000)
    );
    let shown = page(&app, &b, &uid).await;
    assert!(
        shown.contains("Refunded — the money was returned"),
        "{shown}"
    );
    app.assert_audit_clean();
}

async fn ten_concurrent_full_refunds_of_one_payment_refund_it_once(db: Db) {
    let app = spawn_app(db).await;
    let b = app.sign_up("minji").await;
    let (uid, imp_uid) = paid_card_topup(&app, &b, "50000").await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (app, uid) = (app.clone(), uid.clone());
        let b = b.copy_cookies();
        tasks.push(tokio::spawn(async move {
            refund(&app, &b, &uid, &[("amount", "50000")])
                .await
                .status()
        }));
    }
    let mut refunded = 0;
    for t in tasks {
        let status = t.await.expect("task");
        assert!(
            status == StatusCode::SEE_OTHER || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{status}"
        );
        if status == StatusCode::SEE_OTHER {
            refunded += 1;
        }
    }
    assert_eq!(refunded, 1);
    assert_eq!(app.wallet(&b).await, (0, 0));
    assert_eq!(refunds(&app), vec![(50_000, "done".to_owned())]);
    assert_eq!(entries(&app, "withdrawal").len(), 1);
    assert_eq!(
        portone_status(&app, &imp_uid).await,
        (PaymentStatus::Cancelled, 50_000)
    );
    app.assert_audit_clean();
}
