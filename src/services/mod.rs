//! Use cases. Each one that writes is one transaction ([`crate::db::write_tx`]) that takes its
//! locks in the one global order; each takes `&mut DbConnection` so callers can compose them.

pub mod accounts;
pub mod auctions;
pub mod audit;
pub mod bidding;
pub mod charts;
pub mod chat;
pub mod demo_art;
pub mod events;
pub mod images;
pub mod market;
pub mod notify;
pub mod password;
pub mod payments;
pub mod payments_admin;
pub mod payouts;
pub mod photos;
pub mod presence;
pub mod reconcile;
pub mod reference;
pub mod refunds;
pub mod reviews;
pub mod seed;
pub mod sessions;
pub mod users;
pub mod wallet;
pub mod watchlist;

use diesel::result::Error as DieselError;

/// For use cases with no expected failure: any database error is unexpected.
impl crate::db::TxError for anyhow::Error {
    fn database_error(&self) -> Option<&DieselError> {
        self.downcast_ref()
    }
}

/// Implement `From<diesel::result::Error>` and [`crate::db::TxError`] for a use-case error enum
/// that has an `Unexpected(anyhow::Error)` arm (and at least one other).
#[macro_export]
macro_rules! unexpected_error {
    ($t:ty) => {
        impl From<diesel::result::Error> for $t {
            fn from(e: diesel::result::Error) -> Self {
                Self::Unexpected(anyhow::Error::new(e))
            }
        }
        impl From<anyhow::Error> for $t {
            fn from(e: anyhow::Error) -> Self {
                Self::Unexpected(e)
            }
        }
        impl $crate::db::TxError for $t {
            fn database_error(&self) -> Option<&diesel::result::Error> {
                match self {
                    Self::Unexpected(e) => e.downcast_ref(),
                    _ => None,
                }
            }
        }
    };
}

/// The current time as stored: UTC without an offset.
pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}
