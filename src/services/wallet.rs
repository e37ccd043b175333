//! Wallets and the journal. Every movement of money goes through [`apply_movement`], which
//! changes the wallet row and appends the matching ledger entry in the caller's transaction.

use crate::domain::msg::Msg;
use diesel::prelude::*;

use crate::db::schema::{ledger_entries, wallets};
use crate::db::{is_unique_violation, lock_wallets, write_tx, DbConnection};
use crate::domain::{LedgerKind, UserId, Won};
use crate::services::now;

/// One movement: the wallet's change and why.
#[derive(Debug, Clone)]
pub struct Movement {
    pub user_id: UserId,
    pub kind: LedgerKind,
    pub delta_balance: i64,
    pub delta_locked: i64,
    pub reference: Option<String>,
    pub idempotency_key: Option<String>,
}

/// Change one wallet and append its journal entry. The caller holds the wallet's lock and has
/// checked that neither column goes below zero (the database `CHECK` is the last guard).
pub fn apply_movement(conn: &mut DbConnection, m: &Movement) -> QueryResult<()> {
    let at = now();
    let updated = diesel::update(wallets::table.find(m.user_id))
        .set((
            wallets::balance.eq(wallets::balance + m.delta_balance),
            wallets::locked.eq(wallets::locked + m.delta_locked),
            wallets::updated_at.eq(at),
        ))
        .execute(conn)?;
    if updated != 1 {
        return Err(diesel::result::Error::NotFound);
    }
    diesel::insert_into(ledger_entries::table)
        .values((
            ledger_entries::user_id.eq(m.user_id),
            ledger_entries::kind.eq(m.kind.as_str()),
            ledger_entries::delta_balance.eq(m.delta_balance),
            ledger_entries::delta_locked.eq(m.delta_locked),
            ledger_entries::reference.eq(m.reference.as_deref()),
            ledger_entries::idempotency_key.eq(m.idempotency_key.as_deref()),
            ledger_entries::created_at.eq(at),
        ))
        .execute(conn)?;
    // The member's header (wallet balance) is pushed once this commits.
    crate::db::signal_user(conn, m.user_id)
}

/// One movement between or inside wallets (no idempotency key): `kind`, the two deltas, and
/// what it refers to (`auction #7`, `trade #3`). The caller holds the wallet's lock.
pub fn move_money(
    conn: &mut DbConnection,
    user_id: UserId,
    kind: LedgerKind,
    delta_balance: i64,
    delta_locked: i64,
    reference: String,
) -> QueryResult<()> {
    apply_movement(
        conn,
        &Movement {
            user_id,
            kind,
            delta_balance,
            delta_locked,
            reference: Some(reference),
            idempotency_key: None,
        },
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepositOutcome {
    /// The money was credited now.
    Credited,
    /// This idempotency key was already used: nothing moved.
    AlreadyApplied,
}

#[derive(Debug, thiserror::Error)]
pub enum DepositError {
    #[error("This wallet does not exist.")]
    NoWallet,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl DepositError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NoWallet => Msg::new("err.deposit.no_wallet"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(DepositError);

/// Credit `amount` to a wallet once per idempotency key (a double-submitted form, a repeated
/// gateway notice). The key is stored unique on the journal.
#[tracing::instrument(skip(conn, idempotency_key), fields(user.id = user_id, amount = amount.get()))]
pub fn deposit(
    conn: &mut DbConnection,
    user_id: UserId,
    amount: Won,
    idempotency_key: &str,
    reference: Option<String>,
) -> Result<DepositOutcome, DepositError> {
    let result = write_tx(conn, |conn| {
        if lock_wallets(conn, &[user_id])?.is_empty() {
            return Err(DepositError::NoWallet);
        }
        let used: i64 = ledger_entries::table
            .filter(ledger_entries::idempotency_key.eq(idempotency_key))
            .count()
            .get_result(conn)?;
        if used > 0 {
            return Ok(DepositOutcome::AlreadyApplied);
        }
        apply_movement(
            conn,
            &Movement {
                user_id,
                kind: LedgerKind::Deposit,
                delta_balance: amount.get(),
                delta_locked: 0,
                reference: reference.clone(),
                idempotency_key: Some(idempotency_key.to_owned()),
            },
        )?;
        Ok(DepositOutcome::Credited)
    });
    match result {
        Err(DepositError::Unexpected(e))
            if e.downcast_ref::<diesel::result::Error>()
                .is_some_and(is_unique_violation) =>
        {
            Ok(DepositOutcome::AlreadyApplied)
        }
        other => other,
    }
}

/// One journal line as the wallet page shows it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ledger_entries)]
pub struct LedgerEntry {
    pub id: i64,
    pub kind: String,
    pub delta_balance: i64,
    pub delta_locked: i64,
    pub reference: Option<String>,
    pub created_at: chrono::NaiveDateTime,
}

/// A page of a wallet's journal, newest first, and the number of entries in all.
pub fn journal_page(
    conn: &mut DbConnection,
    user_id: UserId,
    page: i64,
    per_page: i64,
) -> QueryResult<(Vec<LedgerEntry>, i64)> {
    let total: i64 = ledger_entries::table
        .filter(ledger_entries::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    let rows = ledger_entries::table
        .filter(ledger_entries::user_id.eq(user_id))
        .order(ledger_entries::id.desc())
        .limit(per_page)
        .offset((page.max(1) - 1).saturating_mul(per_page))
        .select(LedgerEntry::as_select())
        .load(conn)?;
    Ok((rows, total))
}
