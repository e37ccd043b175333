//! Payouts: PortOne collects money but does not pay sellers, so a member with money in their
//! wallet asks to be paid out to a bank account. The amount is held at once; an admin who has
//! made the bank transfer marks it transferred (the journal's `withdrawal`: the money leaves
//! the system), or rejects it (the hold is released). Each step is one transaction: the payout
//! row first, then the wallet (the global lock order: the thing, then wallets).

use crate::domain::msg::Msg;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::once::{self, OnceKey};
use crate::db::schema::{payouts, users};
use crate::db::{lock_wallets, write_tx, DbConnection};
use crate::domain::bank::BankAccount;
use crate::domain::notification::NotificationKind;
use crate::domain::{LedgerKind, UserId, Won};
use crate::first_for_update;
use crate::services::notify::Notice;
use crate::services::now;
use crate::services::wallet::{apply_movement, move_money, Movement};

/// The least and the most one payout request may ask for.
pub const MIN_PAYOUT: Won = match Won::new(1_000) {
    Some(w) => w,
    None => Won::ZERO,
};
pub const MAX_PAYOUT: Won = match Won::new(10_000_000) {
    Some(w) => w,
    None => Won::ZERO,
};

/// Where a payout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayoutStatus {
    Requested,
    Transferred,
    Rejected,
}

impl PayoutStatus {
    /// The translation key of the status as a person reads it.
    pub fn key(self) -> &'static str {
        match self {
            PayoutStatus::Requested => "words.payout.requested",
            PayoutStatus::Transferred => "words.payout.transferred",
            PayoutStatus::Rejected => "words.payout.rejected",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::Requested => "requested",
            PayoutStatus::Transferred => "transferred",
            PayoutStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<PayoutStatus> {
        [
            PayoutStatus::Requested,
            PayoutStatus::Transferred,
            PayoutStatus::Rejected,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    /// In words, for the member and the admin.
    pub fn label(self) -> &'static str {
        match self {
            PayoutStatus::Requested => "Requested — the amount is held until an admin transfers it",
            PayoutStatus::Transferred => "Transferred to your bank account",
            PayoutStatus::Rejected => "Rejected — the amount is back in your wallet",
        }
    }

    /// The translation key of [`Self::label`] (`locales/msg.*.yml`).
    pub fn label_key(self) -> &'static str {
        match self {
            PayoutStatus::Requested => "words.payout_status.1",
            PayoutStatus::Transferred => "words.payout_status.2",
            PayoutStatus::Rejected => "words.payout_status.3",
        }
    }
}

/// A payout row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = payouts)]
pub struct Payout {
    pub id: i64,
    pub user_id: i64,
    pub amount: i64,
    pub bank_code: String,
    pub account_number: String,
    pub account_holder: String,
    pub status: String,
    pub requested_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub note: Option<String>,
}

impl Payout {
    pub fn status(&self) -> PayoutStatus {
        PayoutStatus::parse(&self.status).unwrap_or(PayoutStatus::Requested)
    }

    pub fn amount(&self) -> Won {
        Won::from_stored(self.amount)
    }
}

fn reference(id: i64) -> String {
    format!("payout #{id}")
}

#[derive(Debug, thiserror::Error)]
pub enum RequestPayoutError {
    #[error("A payout must be at least {MIN_PAYOUT}.")]
    TooSmall,
    #[error("A payout can be at most {MAX_PAYOUT} at a time.")]
    TooLarge,
    #[error("You have {available} available; a payout can only come from available money.")]
    InsufficientFunds { available: Won },
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl RequestPayoutError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::TooSmall => {
                Msg::new("err.request_payout.too_small").arg("MIN_PAYOUT", MIN_PAYOUT)
            }
            Self::TooLarge => {
                Msg::new("err.request_payout.too_large").arg("MAX_PAYOUT", MAX_PAYOUT)
            }
            Self::InsufficientFunds { available } => {
                Msg::new("err.request_payout.insufficient_funds").arg("available", available)
            }
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(RequestPayoutError);

/// Ask to be paid `amount` into `account`: the amount moves from available to held in the same
/// transaction that records the request. Returns the payout's id.
#[tracing::instrument(skip(conn, account), fields(user.id = user_id, amount = amount.get()))]
pub fn request_payout(
    conn: &mut DbConnection,
    user_id: UserId,
    amount: Won,
    account: &BankAccount,
    key: Option<&OnceKey>,
) -> Result<i64, RequestPayoutError> {
    if amount < MIN_PAYOUT {
        return Err(RequestPayoutError::TooSmall);
    }
    if amount > MAX_PAYOUT {
        return Err(RequestPayoutError::TooLarge);
    }
    write_tx(conn, |conn| {
        once::run(conn, key, |conn| {
            let wallet = lock_wallets(conn, &[user_id])?
                .into_iter()
                .next()
                .ok_or_else(|| RequestPayoutError::Unexpected(anyhow::anyhow!("no wallet")))?;
            if wallet.balance < amount.get() {
                return Err(RequestPayoutError::InsufficientFunds {
                    available: Won::from_stored(wallet.balance),
                });
            }
            let id: i64 = diesel::insert_into(payouts::table)
                .values((
                    payouts::user_id.eq(user_id),
                    payouts::amount.eq(amount.get()),
                    payouts::bank_code.eq(&account.bank_code),
                    payouts::account_number.eq(&account.number),
                    payouts::account_holder.eq(&account.holder),
                    payouts::status.eq(PayoutStatus::Requested.as_str()),
                    payouts::requested_at.eq(now()),
                ))
                .returning(payouts::id)
                .get_result(conn)?;
            move_money(
                conn,
                user_id,
                LedgerKind::PayoutHold,
                -amount.get(),
                amount.get(),
                reference(id),
            )?;
            Ok(id)
        })
    })
}

/// What an admin decided about a payout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayoutDecision {
    /// The bank transfer was made: the held amount leaves the system as a withdrawal.
    Transferred,
    /// Not paid: the held amount goes back to the member's available money.
    Rejected,
}

#[derive(Debug, thiserror::Error)]
pub enum DecidePayoutError {
    #[error("No such payout.")]
    NotFound,
    #[error("This payout was already decided.")]
    AlreadyDecided,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl DecidePayoutError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.decide_payout.not_found"),
            Self::AlreadyDecided => Msg::new("err.decide_payout.already_decided"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(DecidePayoutError);

/// Mark a requested payout transferred or rejected, once; the money moves with the decision.
#[tracing::instrument(skip(conn, note), fields(payout.id = payout_id, user.id = admin_id))]
pub fn decide_payout(
    conn: &mut DbConnection,
    payout_id: i64,
    admin_id: UserId,
    decision: PayoutDecision,
    note: &str,
) -> Result<Payout, DecidePayoutError> {
    write_tx(conn, |conn| {
        let payout: Payout = first_for_update!(
            conn,
            payouts::table.find(payout_id).select(Payout::as_select())
        )?
        .ok_or(DecidePayoutError::NotFound)?;
        if payout.status() != PayoutStatus::Requested {
            return Err(DecidePayoutError::AlreadyDecided);
        }
        lock_wallets(conn, &[payout.user_id])?;
        let (status, movement) = match decision {
            PayoutDecision::Transferred => (
                PayoutStatus::Transferred,
                Movement {
                    user_id: payout.user_id,
                    kind: LedgerKind::Withdrawal,
                    delta_balance: 0,
                    delta_locked: -payout.amount,
                    reference: Some(reference(payout_id)),
                    idempotency_key: Some(format!("payout:{payout_id}")),
                },
            ),
            PayoutDecision::Rejected => (
                PayoutStatus::Rejected,
                Movement {
                    user_id: payout.user_id,
                    kind: LedgerKind::PayoutRelease,
                    delta_balance: payout.amount,
                    delta_locked: -payout.amount,
                    reference: Some(reference(payout_id)),
                    idempotency_key: None,
                },
            ),
        };
        apply_movement(conn, &movement)?;
        let kind = match status {
            PayoutStatus::Transferred => NotificationKind::PayoutDone,
            _ => NotificationKind::PayoutRejected,
        };
        let told = Notice::payout(kind, payout_id, payout.amount());
        crate::services::notify::notify(conn, payout.user_id, &told)?;
        let note = note.trim();
        diesel::update(payouts::table.find(payout_id))
            .set((
                payouts::status.eq(status.as_str()),
                payouts::decided_at.eq(now()),
                payouts::decided_by.eq(admin_id),
                payouts::note.eq((!note.is_empty()).then_some(note)),
            ))
            .execute(conn)?;
        Ok(Payout {
            status: status.as_str().to_owned(),
            ..payout
        })
    })
}

/// A member's payouts, newest first.
pub fn payouts_of(conn: &mut DbConnection, user_id: UserId) -> QueryResult<Vec<Payout>> {
    payouts::table
        .filter(payouts::user_id.eq(user_id))
        .order(payouts::id.desc())
        .limit(50)
        .select(Payout::as_select())
        .load(conn)
}

/// The admin's queue: requested payouts oldest first, then the newest decided ones, with the
/// member's username.
pub fn queue(conn: &mut DbConnection) -> QueryResult<Vec<(Payout, String)>> {
    let mut open: Vec<(Payout, String)> = payouts::table
        .inner_join(users::table.on(users::id.eq(payouts::user_id)))
        .filter(payouts::status.eq(PayoutStatus::Requested.as_str()))
        .order(payouts::id.asc())
        .limit(200)
        .select((Payout::as_select(), users::username))
        .load(conn)?;
    let decided: Vec<(Payout, String)> = payouts::table
        .inner_join(users::table.on(users::id.eq(payouts::user_id)))
        .filter(payouts::status.ne(PayoutStatus::Requested.as_str()))
        .order(payouts::id.desc())
        .limit(50)
        .select((Payout::as_select(), users::username))
        .load(conn)?;
    open.extend(decided);
    Ok(open)
}
