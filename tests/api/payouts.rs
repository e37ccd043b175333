//! Payouts (issue 11, item 5): a member asks to be paid out to a bank account, the amount is
//! held; an admin marks it transferred (the money leaves as a withdrawal) or rejects it (held →
//! available). Every test ends with the audit (Σ wallets = deposits − withdrawals).

use futures_util::future::join_all;
use reqwest::StatusCode;

use crate::helpers::{both_databases, spawn_app, Browser, Db, TestApp};

both_databases!(
    a_member_is_paid_out_once_an_admin_marks_the_transfer,
    a_rejected_payout_comes_back_and_each_payout_is_decided_once,
    payout_requests_that_break_a_rule_change_nothing,
    members_and_visitors_cannot_decide_payouts,
    twenty_payout_requests_at_once_never_overdraw_the_wallet,
);

async fn request(app: &TestApp, member: &Browser, amount: &str) -> reqwest::Response {
    app.post(
        member,
        "/wallet/payouts",
        &[
            ("amount", amount),
            ("bank_code", "088"),
            ("account_number", "110-123-456789"),
            ("account_holder", "김이웃"),
        ],
    )
    .await
}

/// The ids of the payouts a page lists, with their status.
fn payouts_on(html: &str) -> Vec<(i64, String)> {
    html.match_indices("data-payout=\"")
        .map(|(at, m)| {
            let rest = &html[at + m.len()..];
            let id = rest[..rest.find('"').unwrap()].parse().unwrap();
            let s = &rest[rest.find("data-payout-status=\"").unwrap() + 20..];
            (id, s[..s.find('"').unwrap()].to_owned())
        })
        .collect()
}

async fn a_member_is_paid_out_once_an_admin_marks_the_transfer(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.funded("earner", 100_000).await;
    let admin = app.admin("treasurer").await;
    let r = request(&app, &seller, "30,000").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.wallet(&seller).await, (70_000, 30_000), "held at once");
    let (_, mine) = app.get_html(&seller, "/wallet/payouts").await;
    assert_eq!(payouts_on(&mine).len(), 1);
    assert!(
        mine.contains("••••••••6789"),
        "the member's own page masks the number"
    );

    let (status, queue) = app.get_html(&admin, "/admin/payouts").await;
    assert_eq!(status, StatusCode::OK);
    let (id, state) = payouts_on(&queue)[0].clone();
    assert_eq!(state, "requested");
    assert!(queue.contains("110123456789") && queue.contains("신한은행"));
    let r = app
        .post(
            &admin,
            &format!("/admin/payouts/{id}/transfer"),
            &[("note", "이체 완료")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.wallet(&seller).await,
        (70_000, 0),
        "the held amount left"
    );
    let (_, wallet) = app.get_html(&seller, "/wallet").await;
    assert!(
        wallet.contains("Withdrawn (payout or refund)"),
        "the journal says so"
    );
    let (_, mine) = app.get_html(&seller, "/wallet/payouts").await;
    assert_eq!(payouts_on(&mine)[0].1, "transferred");
    let report = app.assert_audit_clean();
    assert!(report.contains("withdrawals: ₩30,000"), "{report}");
}

async fn a_rejected_payout_comes_back_and_each_payout_is_decided_once(db: Db) {
    let app = spawn_app(db).await;
    let member = app.funded("hopeful", 50_000).await;
    let admin = app.admin("careful").await;
    assert_eq!(
        request(&app, &member, "20000").await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, queue) = app.get_html(&admin, "/admin/payouts").await;
    let id = payouts_on(&queue)[0].0;
    let r = app
        .post(
            &admin,
            &format!("/admin/payouts/{id}/reject"),
            &[("note", "name mismatch")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.wallet(&member).await, (50_000, 0), "released");
    // A second decision, either way, changes nothing.
    for action in ["transfer", "reject"] {
        let r = app
            .post(&admin, &format!("/admin/payouts/{id}/{action}"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, page) = app.get_html(&admin, "/admin/payouts").await;
        assert!(
            page.contains("already decided"),
            "{action}: the admin is told"
        );
    }
    assert_eq!(app.wallet(&member).await, (50_000, 0));
    let (_, mine) = app.get_html(&member, "/wallet/payouts").await;
    assert_eq!(payouts_on(&mine)[0].1, "rejected");
    assert!(mine.contains("name mismatch"));
    let r = app
        .post(&admin, "/admin/payouts/999999/transfer", &[])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    app.assert_audit_clean();
}

async fn payout_requests_that_break_a_rule_change_nothing(db: Db) {
    let app = spawn_app(db).await;
    let member = app.funded("rulebreaker", 50_000).await;
    let good = [
        ("amount", "10000"),
        ("bank_code", "004"),
        ("account_number", "12345678901"),
        ("account_holder", "Kim"),
    ];
    let cases: Vec<(&str, &str, &str)> = vec![
        ("amount", "50001", "available"),
        ("amount", "999", "at least"),
        ("amount", "10000001", "at most"),
        ("amount", "-5000", "more than zero"),
        ("amount", "1e4", "whole number"),
        ("amount", "", "Enter an amount"),
        ("bank_code", "999", "Choose a bank"),
        ("bank_code", "", "Choose a bank"),
        ("account_number", "1234", "8 to 20 digits"),
        ("account_number", "12345678x", "8 to 20 digits"),
        ("account_number", "1234567\u{0}8", "8 to 20 digits"),
        ("account_holder", "", "holder"),
        ("account_holder", "a\u{0}b", "control"),
    ];
    for (field, value, reason) in cases {
        let fields: Vec<(&str, &str)> = good
            .iter()
            .map(|(k, v)| (*k, if *k == field { value } else { *v }))
            .collect();
        let r = app.post(&member, "/wallet/payouts", &fields).await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value:?}"
        );
        let body = r.text().await.unwrap();
        assert!(body.contains(reason), "{field}={value:?}: {reason}");
    }
    assert_eq!(app.wallet(&member).await, (50_000, 0));
    let (_, mine) = app.get_html(&member, "/wallet/payouts").await;
    assert!(payouts_on(&mine).is_empty(), "no payout was recorded");
    app.assert_audit_clean();
}

async fn members_and_visitors_cannot_decide_payouts(db: Db) {
    let app = spawn_app(db).await;
    let member = app.funded("claimant", 40_000).await;
    let other = app.funded("sneaky", 10_000).await;
    let admin = app.admin("boss").await;
    assert_eq!(
        request(&app, &member, "40000").await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, queue) = app.get_html(&admin, "/admin/payouts").await;
    let id = payouts_on(&queue)[0].0;
    for who in [&member, &other] {
        assert_eq!(
            app.get(who, "/admin/payouts").await.status(),
            StatusCode::FORBIDDEN
        );
        for action in ["transfer", "reject"] {
            let r = app
                .post(who, &format!("/admin/payouts/{id}/{action}"), &[])
                .await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{action}");
        }
    }
    let visitor = app.client();
    assert_eq!(
        app.get(&visitor, "/wallet/payouts").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.get(&visitor, "/admin/payouts").await.status(),
        StatusCode::SEE_OTHER
    );
    // Another member's payouts are not on my page.
    let (_, theirs) = app.get_html(&other, "/wallet/payouts").await;
    assert!(payouts_on(&theirs).is_empty());
    assert_eq!(
        app.wallet(&member).await,
        (0, 40_000),
        "still held, undecided"
    );
    app.assert_audit_clean();
}

async fn twenty_payout_requests_at_once_never_overdraw_the_wallet(db: Db) {
    let app = spawn_app(db).await;
    let member = app.funded("greedy", 100_000).await;
    let token = app.csrf(&member).await;
    let fields = [
        ("amount", "10000"),
        ("bank_code", "090"),
        ("account_number", "3333-01-1234567"),
        ("account_holder", "Greedy"),
        ("csrf_token", token.as_str()),
    ];
    let sends = (0..20).map(|_| app.post_raw(&member, "/wallet/payouts", &fields));
    let statuses: Vec<u16> = join_all(sends)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 422).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(app.wallet(&member).await, (0, 100_000));
    let (_, mine) = app.get_html(&member, "/wallet/payouts").await;
    assert_eq!(payouts_on(&mine).len(), 10);
    app.assert_audit_clean();
}
