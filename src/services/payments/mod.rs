//! Payments through PortOne v1 (DESIGN §8): card top-ups of the wallet.
//!
//! A top-up is a `payments` row (an unguessable `merchant_uid`, the owner, the amount) that
//! PortOne is told about with prepare. Whatever brings news of it (the browser's redirect, a
//! callback, PortOne's webhook) ends in [`verify`]: it asks PortOne (`GET /payments/{imp_uid}`),
//! never the caller, checks the `merchant_uid` and the amount against ours, and acts on
//! PortOne's status. A paid one is credited in one transaction with the payment's own row,
//! with the `imp_uid` as the journal's unique idempotency key: exactly once, however the
//! redirect and the webhooks race. A paid amount other than ours is never credited: the
//! payment is flagged `forged` and cancelled in full at PortOne. A PortOne that does not answer
//! ("result unknown") changes nothing.

mod checkout;
mod expiry;
mod topup;
mod unpaid;
mod vbank;
mod verify;

pub use checkout::{cancel_purchase, start_trade_payment, CheckoutMethod, TradeCheckout};
pub use expiry::{expire_due_trade_payments, expire_due_vbanks};
pub use topup::{start_topup, TopUpError, TopUpMethod, DAILY_CAP, TOPUP_MAX, TOPUP_MIN};
pub use vbank::{vbank_banks, VBANK_CODES};
pub use verify::{verify, Verified, VerifyError};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::RngCore;

use crate::db::schema::payments;
use crate::db::{DbConnection, DbPool};
use crate::domain::{UserId, Won};

/// A payment's state on our side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Created; waiting for the checkout (or, for a virtual account, the deposit).
    Ready,
    /// PortOne says paid and the wallet was credited.
    Paid,
    /// The checkout was declined or closed.
    Failed,
    /// Cancelled at PortOne before it was paid.
    Cancelled,
    /// Its deadline passed unpaid.
    Expired,
    /// PortOne's amount differed from ours: nothing credited, cancelled at PortOne.
    Forged,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Ready => "ready",
            Status::Paid => "paid",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
            Status::Expired => "expired",
            Status::Forged => "forged",
        }
    }

    pub fn parse(stored: &str) -> Status {
        [
            Status::Ready,
            Status::Paid,
            Status::Failed,
            Status::Cancelled,
            Status::Expired,
            Status::Forged,
        ]
        .into_iter()
        .find(|s| s.as_str() == stored)
        .unwrap_or(Status::Ready)
    }

    /// The state in words, for its owner.
    /// The translation key of the state in words (`locales/msg.*.yml`).
    pub const fn words_key(self) -> &'static str {
        match self {
            Status::Ready => "words.payment_status.1",
            Status::Paid => "words.payment_status.2",
            Status::Failed => "words.payment_status.3",
            Status::Cancelled => "words.payment_status.4",
            Status::Expired => "words.payment_status.5",
            Status::Forged => "words.payment_status.6",
        }
    }
}

/// One payment as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    pub id: i64,
    pub merchant_uid: String,
    pub user_id: i64,
    pub amount: i64,
    pub method: String,
    pub purpose: String,
    pub status: String,
    pub imp_uid: Option<String>,
    pub receipt_url: Option<String>,
    pub fail_reason: Option<String>,
    pub vbank_code: Option<String>,
    pub vbank_name: Option<String>,
    pub vbank_num: Option<String>,
    pub vbank_holder: Option<String>,
    pub vbank_due: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub paid_at: Option<NaiveDateTime>,
    /// The market trade a `trade` payment pays for.
    pub trade_id: Option<i64>,
    /// A trade payment's deadline: unpaid past it, the trade is cancelled.
    pub pay_by: Option<NaiveDateTime>,
    /// A market purchase paid into a virtual account: where its refund goes.
    pub refund_bank: Option<String>,
    pub refund_account: Option<String>,
    pub refund_holder: Option<String>,
}

impl PaymentRow {
    pub fn status(&self) -> Status {
        Status::parse(&self.status)
    }

    /// The state in words for its owner: a paid payment cancelled afterwards was refunded in
    /// full (its money went back), not "nothing was charged".
    /// The translation key of the state in words (`locales/msg.*.yml`).
    pub fn words_key(&self) -> &'static str {
        let trade = self.purpose == "trade";
        let vbank = self.method == "vbank";
        match self.status() {
            Status::Cancelled if self.paid_at.is_some() && trade && vbank => {
                "words.payment_words.1"
            }
            Status::Cancelled if self.paid_at.is_some() && trade => "words.payment_words.2",
            Status::Cancelled if self.paid_at.is_some() => "words.payment_words.3",
            Status::Cancelled if trade => "words.payment_words.4",
            Status::Ready if trade && vbank => "words.payment_words.5",
            Status::Ready if trade => "words.payment_words.6",
            Status::Paid if trade => "words.payment_words.7",
            Status::Expired if trade && vbank => "words.payment_words.8",
            Status::Expired if trade => "words.payment_words.9",
            Status::Failed if trade && vbank => "words.payment_words.10",
            Status::Failed if trade => "words.payment_words.11",
            other => other.words_key(),
        }
    }

    pub fn amount(&self) -> Won {
        Won::new(self.amount).unwrap_or(Won::ZERO)
    }

    /// A market purchase paid into a virtual account: the account its buyer gave for a
    /// refund (PortOne cancels a virtual-account payment only to an account).
    pub fn refund_account(&self) -> Option<crate::portone::RefundAccount> {
        match (&self.refund_bank, &self.refund_account, &self.refund_holder) {
            (Some(bank), Some(account), Some(holder)) if self.method == "vbank" => {
                Some(crate::portone::RefundAccount {
                    holder: holder.clone(),
                    bank: bank.clone(),
                    account: account.clone(),
                    tel: None,
                })
            }
            _ => None,
        }
    }
}

fn new_uid(prefix: &str) -> String {
    let mut bytes = [0_u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}_{hex}")
}

fn connection(
    pool: &DbPool,
) -> Result<r2d2::PooledConnection<crate::db::ConnectionManager>, anyhow::Error> {
    crate::db::checkout(pool).map_err(|e| anyhow::Error::new(e).context("no database connection"))
}

/// One of `user_id`'s payments by its `merchant_uid` (anyone else's is not found).
pub fn find_own(
    conn: &mut DbConnection,
    user_id: UserId,
    merchant_uid: &str,
) -> QueryResult<Option<PaymentRow>> {
    payments::table
        .filter(payments::merchant_uid.eq(merchant_uid))
        .filter(payments::user_id.eq(user_id))
        .select(PaymentRow::as_select())
        .first(conn)
        .optional()
}

/// A member's newest payments.
pub fn recent(
    conn: &mut DbConnection,
    user_id: UserId,
    limit: i64,
) -> QueryResult<Vec<PaymentRow>> {
    payments::table
        .filter(payments::user_id.eq(user_id))
        .order(payments::id.desc())
        .limit(limit)
        .select(PaymentRow::as_select())
        .load(conn)
}

fn by_merchant_uid(conn: &mut DbConnection, merchant_uid: &str) -> QueryResult<Option<PaymentRow>> {
    if merchant_uid.is_empty() || merchant_uid.len() > 64 {
        return Ok(None);
    }
    payments::table
        .filter(payments::merchant_uid.eq(merchant_uid))
        .select(PaymentRow::as_select())
        .first(conn)
        .optional()
}
