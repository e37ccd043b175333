//! NeighborBid: a neighbourhood auction site and second-hand market, server-rendered in Rust.
//!
//! Data flows one way: `web` → `views`/`live`/`jobs` → `services` → `db`/`portone` → `domain`
//! (`domain` holds pure types and rules; `config` is read by all). No module imports one that
//! imports it back: `tests/layers.rs` reads `src/` and fails on a cycle or an upward import.

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
