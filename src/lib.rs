//! NeighborBid: a neighbourhood auction site and second-hand market, server-rendered in Rust.
//!
//! Data flows one way: `web` → `services` → `db`. `domain` holds pure types and rules.

pub mod config;
pub mod db;
pub mod domain;
pub mod jobs;
pub mod live;
pub mod services;
pub mod startup;
pub mod telemetry;
pub mod web;
