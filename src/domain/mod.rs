//! Pure types and rules: no I/O. Input is parsed into these at the edge.

pub mod account;
pub mod auction;
pub mod bank;
pub mod chat;
pub mod image;
pub mod lang;
pub mod ledger;
pub mod market;
pub mod money;
pub mod msg;
pub mod notification;
pub mod review;
pub mod text;

pub use account::{DisplayName, Password, Username};
pub use ledger::LedgerKind;
pub use money::{AmountError, Won};
pub use text::{Description, Title, TitleField};

/// Whole-number ids of users (and their wallets, which share the user's id).
pub type UserId = i64;
pub type RegionId = i64;
