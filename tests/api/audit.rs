use diesel::RunQueryDsl;
use reqwest::StatusCode;

use crate::helpers::{both_databases, spawn_app, Db};

both_databases!(
    a_wallet_changed_directly_in_the_database_fails_the_audit,
    a_journal_total_that_does_not_match_deposits_fails_the_audit,
    the_journal_cannot_be_updated_or_deleted,
    seed_demo_creates_funded_neighbours_and_keeps_the_audit_clean,
);

async fn a_wallet_changed_directly_in_the_database_fails_the_audit(db: Db) {
    let app = spawn_app(db).await;
    let client = app.sign_up("honest").await;
    let victim = app.sign_up("tampered").await;
    app.top_up(&client, "5000").await;
    app.top_up(&victim, "5000").await;
    app.assert_audit_clean();

    let mut conn = app.raw_connection();
    diesel::sql_query(
        "UPDATE wallets SET balance = balance + 1 WHERE user_id = (SELECT id FROM users WHERE username = 'tampered')",
    )
    .execute(&mut conn)
    .unwrap();

    let (clean, text) = app.audit();
    assert!(!clean, "the audit must fail:\n{text}");
    assert!(text.contains("FAILED"), "{text}");
    assert!(
        text.contains("wallet of tampered"),
        "names the wallet:\n{text}"
    );
    assert!(!text.contains("wallet of honest"), "{text}");

    let admin = app.admin("auditor").await;
    let (status, html) = app.get_html(&admin, "/admin/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("FAILED"));
    assert!(html.contains("wallet of tampered"));
}

async fn a_journal_total_that_does_not_match_deposits_fails_the_audit(db: Db) {
    let app = spawn_app(db).await;
    let client = app.sign_up("minted").await;
    app.top_up(&client, "5000").await;
    // Money out of nowhere: a wallet and a matching non-deposit journal line, both forged.
    let mut conn = app.raw_connection();
    diesel::sql_query("UPDATE wallets SET balance = balance + 999")
        .execute(&mut conn)
        .unwrap();
    diesel::sql_query(
        "INSERT INTO ledger_entries (user_id, kind, delta_balance, delta_locked, created_at) \
         SELECT user_id, 'settle_in', 999, 0, updated_at FROM wallets",
    )
    .execute(&mut conn)
    .unwrap();
    let (clean, text) = app.audit();
    assert!(!clean, "{text}");
    assert!(text.contains("deposits − withdrawals is ₩5,000"), "{text}");
}

async fn the_journal_cannot_be_updated_or_deleted(db: Db) {
    let app = spawn_app(db).await;
    let client = app.sign_up("ledgerly").await;
    app.top_up(&client, "5000").await;
    let mut conn = app.raw_connection();
    let update =
        diesel::sql_query("UPDATE ledger_entries SET delta_balance = 1").execute(&mut conn);
    assert!(update.is_err(), "ledger rows are never updated");
    let delete = diesel::sql_query("DELETE FROM ledger_entries").execute(&mut conn);
    assert!(delete.is_err(), "ledger rows are never deleted");
    assert_eq!(app.wallet(&client).await, (5000, 0));
    app.assert_audit_clean();
}

async fn seed_demo_creates_funded_neighbours_and_keeps_the_audit_clean(db: Db) {
    let app = spawn_app(db).await;
    for _ in 0..2 {
        let out = app.cli(&["seed-demo"], &[], None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (client, r) = app
        .log_in("alice", neighborbid::services::seed::DEMO_PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.wallet(&client).await, (1_000_000, 0));
    let report = app.assert_audit_clean();
    assert!(
        report.contains("wallets checked: 5"),
        "seeding twice adds nobody twice:\n{report}"
    );
    let (_, list) = app.get_html(&client, "/auctions").await;
    assert!(list.contains("4 auctions"), "seeded once, not twice");
    assert!(list.contains("필름 카메라"));
    let (_, market) = app.get_html(&client, "/market").await;
    assert!(market.contains("반려식물 삽수"));
}
