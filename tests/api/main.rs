//! Black-box tests: the real app on 127.0.0.1:0 with a fresh database per test, driven over
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on the first surprise"
)]
//! HTTP, each on SQLite and on PostgreSQL (see `helpers::both_databases!`).

mod helpers;

mod accounts;
mod admin_payments;
mod auctions;
mod audit;
mod bidding;
mod bidding_rules;
mod browser;
mod buyer_protection;
mod chaos;
mod charts;
mod chat;
mod checkout;
mod cli;
mod health;
mod hostile;
mod languages;
mod languages_sentences;
mod limits;
mod live;
mod market;
mod market_checkout;
mod market_vbank;
mod mobile;
mod notifications;
mod once;
mod payments;
mod payouts;
mod photos;
mod portone;
mod proxy;
mod refunds;
mod resilience;
mod reviews;
mod sessions;
mod shutdown;
mod suspension;
mod uploads;
mod wallet;
mod watchlist;
