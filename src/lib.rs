//! NeighborBid: a neighbourhood auction site and second-hand market, server-rendered in Rust.
//!
//! Data flows one way: `web` → `views`/`live`/`jobs` → `services` → `db`/`portone` → `domain`
//! (`domain` holds pure types and rules; `config` is read by all). No module imports one that
//! imports it back: `tests/layers.rs` reads `src/` and fails on a cycle or an upward import.

// The translations (`locales/ko.yml`, `locales/en.yml`), embedded at compile time. No fallback
// language: a missing key shows as `ko.some.key` on the page, which the tests look for.
rust_i18n::i18n!("locales");

pub mod config;
pub mod db;
pub mod domain;
pub mod jobs;
pub mod live;
pub mod portone;
pub mod services;
pub mod startup;
pub mod telemetry;
pub mod views;
pub mod web;
