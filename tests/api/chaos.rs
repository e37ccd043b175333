//! The short chaos run (issue 12, "The fault workload"): `bench chaos` drives the real server
//! binary in its own process with a mixed workload (bids, buy-nows, short auctions closed by the
//! scheduler, market trades, card top-ups and refunds) while it kills and restarts the server,
//! delays the payment simulator past our timeout, duplicates webhooks and, on PostgreSQL,
//! terminates our connections and restarts the database. Correctness only: no acknowledged
//! operation is missing, the audit is clean, nothing answers a 5xx other than 503. Never a
//! duration.

use std::process::Command;

use crate::helpers::own_cluster;

/// `bench chaos` for about 30 s with `args`; its JSON report (the run's output on failure).
fn chaos(name: &str, args: &[&str]) -> serde_json::Value {
    let report = std::env::temp_dir().join(format!(
        "nb-chaos-{name}-{}.json",
        neighborbid::web::session::new_token()
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args([
            "chaos",
            "--seconds",
            "30",
            "--clients",
            "8",
            "--fault-every",
            "3",
        ])
        .arg("--server")
        .arg(env!("CARGO_BIN_EXE_neighborbid"))
        .arg("--report")
        .arg(&report)
        .args(args)
        .output()
        .expect("bench runs");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let json = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("no report ({e}); the run said:\n{text}"));
    let _ = std::fs::remove_file(&report);
    assert!(out.status.success(), "bench chaos failed:\n{text}");
    serde_json::from_str(&json).expect("a JSON report")
}

fn assert_correct(report: &serde_json::Value, faults: &[&str]) {
    let shown = serde_json::to_string_pretty(report).expect("json");
    assert_eq!(report["lost_acknowledgements"], 0, "{shown}");
    assert_eq!(report["audit_clean"], true, "{shown}");
    assert_eq!(report["other_5xx"], 0, "{shown}");
    assert_eq!(report["healthy_at_end"], true, "{shown}");
    assert_eq!(report["sigterm_exit_code"], 0, "{shown}");
    assert_eq!(report["short_auctions_left_open"], 0, "{shown}");
    assert_eq!(report["fault_errors"], serde_json::json!([]), "{shown}");
    for fault in faults {
        assert!(
            report["faults"][fault].as_u64().unwrap_or(0) >= 1,
            "{fault} was never injected: {shown}"
        );
    }
    for kind in [
        "bid",
        "buy_now",
        "market_buy",
        "approve",
        "reject",
        "confirm",
        "cancel",
        "top_up",
        "refund",
    ] {
        assert!(
            report["acknowledged_by_kind"][kind].as_u64().unwrap_or(0) > 0,
            "no {kind} was acknowledged: {shown}"
        );
    }
    assert!(
        report["short_auctions"].as_u64().unwrap_or(0) > 0,
        "{shown}"
    );
}

#[test]
fn a_short_chaos_run_on_sqlite_loses_no_acknowledged_operation_and_keeps_the_books() {
    let report = chaos("sqlite", &[]);
    assert_eq!(report["database"], "sqlite");
    assert_correct(&report, &["kill_9", "sim_timeout", "duplicate_webhooks"]);
}

#[test]
fn a_short_chaos_run_on_postgres_loses_no_acknowledged_operation_and_keeps_the_books() {
    // A cluster of this test's own: restarting the shared one would break the other tests.
    let Some(cluster) = own_cluster("a_short_chaos_run_on_postgres") else {
        return;
    };
    let server = format!("{}/postgres", cluster.base());
    let restart = cluster.restart_command();
    let report = chaos(
        "postgres",
        &["--database-url", &server, "--pg-restart", &restart],
    );
    assert_eq!(report["database"], "postgresql");
    assert_correct(
        &report,
        &[
            "kill_9",
            "sim_timeout",
            "duplicate_webhooks",
            "pg_terminate_backend",
            "pg_restart",
        ],
    );
}
