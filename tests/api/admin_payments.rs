//! `/admin/payments` (issue 11, item 6): every payment with its state, waiting ones first, a
//! re-check with PortOne that acts as a lost notice would (once), and the payouts to decide.

use neighborbid::config::{SIMULATOR_API_KEY, SIMULATOR_API_SECRET};
use reqwest::StatusCode;

use crate::helpers::{both_databases, spawn_app_with, Db, TestApp};
use crate::payments::{
    b_wallet, deposit, deposits, payment_status, start_card_topup, start_vbank_topup, vbank_of,
    wait_status,
};

both_databases!(
    an_admin_recheck_credits_a_deposit_whose_notice_was_lost_exactly_once,
    the_admin_payments_page_lists_waiting_payments_first_with_the_payouts_to_decide,
);

/// The merchant_uids in the order the admin page lists them, with their status.
fn listed(html: &str) -> Vec<(String, String)> {
    html.match_indices("class=\"payment status-")
        .map(|(at, _)| {
            let rest = &html[at..];
            let uid_at = rest.find("data-merchant-uid=\"").unwrap() + 19;
            let uid = &rest[uid_at..uid_at + rest[uid_at..].find('"').unwrap()];
            let st_at = rest.find("data-status=\"").unwrap() + 13;
            let st = &rest[st_at..st_at + rest[st_at..].find('"').unwrap()];
            (uid.to_owned(), st.to_owned())
        })
        .collect()
}

/// PortOne's next `count` API calls answer after our timeout (`mode=none` clears it).
async fn slow_lookups(app: &TestApp, mode: &str, count: &str) {
    let r = reqwest::Client::new()
        .post(app.url("/portone-sim/_sim/faults"))
        .form(&[
            ("imp_key", SIMULATOR_API_KEY),
            ("imp_secret", SIMULATOR_API_SECRET),
            ("mode", mode),
            ("delay_ms", "2000"),
            ("count", count),
        ])
        .send()
        .await
        .expect("fault");
    assert_eq!(r.status(), StatusCode::OK);
}

/// How our webhook answered the simulator's `paid` notice for `imp_uid`, once it has.
async fn paid_notice_answer(app: &TestApp, imp_uid: &str) -> Option<u64> {
    let text = reqwest::Client::new()
        .post(app.url("/portone-sim/_sim/webhooks"))
        .form(&[
            ("imp_key", SIMULATOR_API_KEY),
            ("imp_secret", SIMULATOR_API_SECRET),
        ])
        .send()
        .await
        .expect("webhook log")
        .text()
        .await
        .expect("body");
    let log: serde_json::Value = serde_json::from_str(&text).expect("json");
    log["response"]
        .as_array()?
        .iter()
        .find(|d| d["imp_uid"] == imp_uid && d["status"] == "paid")
        .and_then(|d| d["answered"].as_u64())
}

async fn an_admin_recheck_credits_a_deposit_whose_notice_was_lost_exactly_once(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.portone.timeout = std::time::Duration::from_millis(500)
    })
    .await;
    let member = app.sign_up("depositor").await;
    let admin = app.admin("auditor").await;
    let uid = start_vbank_topup(&app, &member, "40,000").await;
    let (imp_uid, _) = vbank_of(&app, &uid);
    // The deposit's notice arrives while PortOne's lookup times out: nothing changes, and the
    // simulator, unlike PortOne, does not send it again.
    slow_lookups(&app, "delay", "100").await;
    assert_eq!(deposit(&app, &imp_uid).await, StatusCode::OK);
    let mut answered = None;
    for _ in 0..100 {
        answered = paid_notice_answer(&app, &imp_uid).await;
        if answered.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        answered,
        Some(503),
        "our webhook answered 503 while PortOne was silent"
    );
    slow_lookups(&app, "none", "1").await;
    assert_eq!(
        payment_status(&app, &uid),
        "ready",
        "the lost notice credited nothing"
    );
    assert_eq!(b_wallet(&app, &member).await, 0);

    // A member may not ask for a re-check; an unknown order is 404.
    let path = format!("/admin/payments/{uid}/recheck");
    assert_eq!(
        app.post(&member, &path, &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    let r = app
        .post(&admin, "/admin/payments/topup_nosuch/recheck", &[])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let (_, page) = app.get_html(&admin, "/admin/payments").await;
    assert_eq!(listed(&page), vec![(uid.clone(), "ready".to_owned())]);
    for _ in 0..3 {
        let r = app.post(&admin, &path, &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    wait_status(&app, &uid, "paid").await;
    assert_eq!(b_wallet(&app, &member).await, 40_000, "credited once");
    assert_eq!(deposits(&app).len(), 1);
    let (_, page) = app.get_html(&admin, "/admin/payments").await;
    assert_eq!(listed(&page), vec![(uid, "paid".to_owned())]);
    app.assert_audit_clean();
}

async fn the_admin_payments_page_lists_waiting_payments_first_with_the_payouts_to_decide(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let member = app.funded("mixed", 60_000).await;
    let admin = app.admin("viewer").await;
    let paid = start_vbank_topup(&app, &member, "10000").await;
    let (imp_uid, _) = vbank_of(&app, &paid);
    assert_eq!(deposit(&app, &imp_uid).await, StatusCode::OK);
    wait_status(&app, &paid, "paid").await;
    let waiting = start_card_topup(&app, &member, "20000").await;
    // A card payment that never reached the checkout has nothing to look up.
    let r = app
        .post(&admin, &format!("/admin/payments/{waiting}/recheck"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, page) = app.get_html(&admin, "/admin/payments").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("never reached PortOne"),
        "the admin is told why"
    );
    assert_eq!(
        listed(&page),
        vec![
            (waiting.clone(), "ready".to_owned()),
            (paid.clone(), "paid".to_owned())
        ]
    );
    assert_eq!(
        payment_status(&app, &waiting),
        "ready",
        "the re-check changed nothing"
    );
    // A payout request shows up to be decided.
    let r = app
        .post(
            &member,
            "/wallet/payouts",
            &[
                ("amount", "5000"),
                ("bank_code", "004"),
                ("account_number", "12345678901"),
                ("account_holder", "Mixed"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_html(&admin, "/admin/payments").await;
    assert!(page.contains("12345678901") && page.contains("Mark transferred"));
    assert_eq!(
        app.get(&member, "/admin/payments").await.status(),
        StatusCode::FORBIDDEN
    );
    app.assert_audit_clean();
}
