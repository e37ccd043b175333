//! Helpers for the black-box tests, by concern:
//!
//! - `app`: `spawn_app` and `TestApp` (restart, the command line and the audit, direct reads
//!   of its database);
//! - `client`: `Browser`, a cookie-keeping HTTP client that knows its server's base URL, with
//!   the form helpers (CSRF token, sign-up, top-up, listing, bidding); `TestApp` offers the
//!   same as `app.get(&browser, path)`;
//! - `pg`: the throwaway PostgreSQL cluster, `Db` and `both_databases!`, and `own_cluster`
//!   (a cluster of one test's own, to stop and start);
//! - `html`: values read out of pages;
//! - `ws`: the live panel's WebSocket;
//! - `cutter`: a proxy in front of PostgreSQL that cuts a connection during `COMMIT`;
//! - `process`: the real binary as a second server process (`ChildServer`).

mod app;
mod client;
mod cutter;
mod html;
mod pg;
mod process;
mod ws;

use std::net::TcpListener;

pub use app::{spawn_app, spawn_app_with, TestApp};
pub use client::{Browser, Listing};
pub use cutter::CommitCutter;
pub use html::{field_value, journal_rows, local_in, min_bid, won_in};
pub(crate) use pg::both_databases;
pub use pg::{own_cluster, postgres_or_skip, Db};
pub use ws::{
    close_code, connect, connect_me, connect_me_to, expect_frame, next_frame, send_text, Ws,
};

/// Every test member's password.
pub const PASSWORD: &str = "tulip-garden-42";

/// A port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
