//! The audit: proves the wallets match the journal and that money was neither created nor lost.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::{read_tx, DbConnection};
use crate::domain::money::group_thousands;
use crate::per_backend;

#[derive(Debug, Clone, QueryableByName)]
struct WalletSums {
    #[diesel(sql_type = BigInt)]
    user_id: i64,
    #[diesel(sql_type = Text)]
    username: String,
    #[diesel(sql_type = BigInt)]
    balance: i64,
    #[diesel(sql_type = BigInt)]
    locked: i64,
    #[diesel(sql_type = BigInt)]
    journal_balance: i64,
    #[diesel(sql_type = BigInt)]
    journal_locked: i64,
}

#[derive(Debug, Clone, QueryableByName)]
struct Totals {
    #[diesel(sql_type = BigInt)]
    deposits: i64,
    #[diesel(sql_type = BigInt)]
    withdrawals: i64,
    #[diesel(sql_type = BigInt)]
    entries: i64,
}

#[derive(Debug, Clone, QueryableByName)]
struct Orphan {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    username: String,
}

const WALLET_SUMS: &str = "\
SELECT w.user_id AS user_id, u.username AS username, w.balance AS balance, w.locked AS locked, \
       CAST(COALESCE(SUM(l.delta_balance), 0) AS BIGINT) AS journal_balance, \
       CAST(COALESCE(SUM(l.delta_locked), 0) AS BIGINT) AS journal_locked \
FROM wallets w JOIN users u ON u.id = w.user_id \
LEFT JOIN ledger_entries l ON l.user_id = w.user_id \
GROUP BY w.user_id, u.username, w.balance, w.locked ORDER BY w.user_id";

const TOTALS: &str = "\
SELECT CAST(COALESCE(SUM(CASE WHEN kind = 'deposit' THEN delta_balance + delta_locked ELSE 0 END), 0) AS BIGINT) AS deposits, \
       CAST(COALESCE(SUM(CASE WHEN kind = 'withdrawal' THEN -(delta_balance + delta_locked) ELSE 0 END), 0) AS BIGINT) AS withdrawals, \
       CAST(COUNT(*) AS BIGINT) AS entries \
FROM ledger_entries";

#[derive(Debug, Clone, QueryableByName)]
struct Promised {
    #[diesel(sql_type = BigInt)]
    user_id: i64,
    #[diesel(sql_type = BigInt)]
    promised: i64,
}

/// What each leader of an open auction has promised: their whole maximum (proxy bidding), or
/// the price for a lead from before maximums were kept. Their wallet must hold at least that.
const PROMISED: &str = "\
SELECT leader_id AS user_id, CAST(SUM(COALESCE(leader_max, current_price)) AS BIGINT) AS promised \
FROM auctions WHERE status IN ('scheduled', 'active') AND leader_id IS NOT NULL \
GROUP BY leader_id ORDER BY leader_id";

const USERS_WITHOUT_WALLET: &str = "\
SELECT u.id AS id, u.username AS username FROM users u \
LEFT JOIN wallets w ON w.user_id = u.id WHERE w.user_id IS NULL ORDER BY u.id";

/// What the audit found.
#[derive(Debug, Clone)]
pub struct AuditReport {
    pub wallets_checked: usize,
    pub journal_entries: i64,
    pub total_balance: i64,
    pub total_locked: i64,
    pub deposits: i64,
    pub withdrawals: i64,
    /// One sentence per difference, naming the wallet.
    pub problems: Vec<String>,
}

impl AuditReport {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// The money in the system according to the wallets.
    pub fn total_held(&self) -> i64 {
        self.total_balance.saturating_add(self.total_locked)
    }

    /// A plain-text summary (the CLI prints it).
    pub fn summary(&self) -> String {
        let mut out = format!(
            "wallets checked: {}\njournal entries: {}\nbalance (available): ₩{}\nlocked (held): ₩{}\n\
             deposits: ₩{}\nwithdrawals: ₩{}\ndeposits − withdrawals: ₩{}\n",
            self.wallets_checked,
            self.journal_entries,
            group_thousands(self.total_balance),
            group_thousands(self.total_locked),
            group_thousands(self.deposits),
            group_thousands(self.withdrawals),
            group_thousands(self.deposits.saturating_sub(self.withdrawals)),
        );
        if self.is_clean() {
            out.push_str(
                "audit: CLEAN — every wallet matches its journal and no won was created or lost\n",
            );
        } else {
            out.push_str(&format!(
                "audit: FAILED — {} problem(s)\n",
                self.problems.len()
            ));
            for p in &self.problems {
                out.push_str("  - ");
                out.push_str(p);
                out.push('\n');
            }
        }
        out
    }
}

/// Run every check over one consistent snapshot of the database.
#[tracing::instrument(skip_all)]
pub fn run(conn: &mut DbConnection) -> anyhow::Result<AuditReport> {
    read_tx(conn, |conn| {
        let sums: Vec<WalletSums> =
            per_backend!(conn, c => diesel::sql_query(WALLET_SUMS).load(c))?;
        let totals: Totals = per_backend!(conn, c => diesel::sql_query(TOTALS).get_result(c))?;
        let orphans: Vec<Orphan> =
            per_backend!(conn, c => diesel::sql_query(USERS_WITHOUT_WALLET).load(c))?;
        let promised: Vec<Promised> = per_backend!(conn, c => diesel::sql_query(PROMISED).load(c))?;

        let mut problems = Vec::new();
        let (mut total_balance, mut total_locked) = (0_i64, 0_i64);
        for w in &sums {
            let who = format!("wallet of {} (user {})", w.username, w.user_id);
            if w.balance != w.journal_balance {
                problems.push(format!(
                    "{who}: balance is ₩{} but its journal sums to ₩{}",
                    group_thousands(w.balance),
                    group_thousands(w.journal_balance)
                ));
            }
            if w.locked != w.journal_locked {
                problems.push(format!(
                    "{who}: locked is ₩{} but its journal sums to ₩{}",
                    group_thousands(w.locked),
                    group_thousands(w.journal_locked)
                ));
            }
            if w.balance < 0 || w.locked < 0 {
                problems.push(format!("{who}: negative balance or locked amount"));
            }
            total_balance = total_balance.saturating_add(w.balance);
            total_locked = total_locked.saturating_add(w.locked);
        }
        // The site can always pay what a leader's maximum promised: it is held (other holds,
        // e.g. market purchases, only add to `locked`).
        for p in &promised {
            let w = sums.iter().find(|w| w.user_id == p.user_id);
            let locked = w.map_or(0, |w| w.locked);
            if locked < p.promised {
                let who = w.map_or_else(
                    || format!("user {}", p.user_id),
                    |w| format!("wallet of {} (user {})", w.username, w.user_id),
                );
                problems.push(format!(
                    "{who}: holds ₩{} but leads open auctions with maximums of ₩{}",
                    group_thousands(locked),
                    group_thousands(p.promised)
                ));
            }
        }
        for o in &orphans {
            problems.push(format!("user {} (id {}) has no wallet", o.username, o.id));
        }
        let expected = totals.deposits.saturating_sub(totals.withdrawals);
        let held = total_balance.saturating_add(total_locked);
        if held != expected {
            problems.push(format!(
                "all wallets together hold ₩{} but deposits − withdrawals is ₩{}",
                group_thousands(held),
                group_thousands(expected)
            ));
        }
        Ok(AuditReport {
            wallets_checked: sums.len(),
            journal_entries: totals.entries,
            total_balance,
            total_locked,
            deposits: totals.deposits,
            withdrawals: totals.withdrawals,
            problems,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::TOTALS;
    use crate::domain::LedgerKind;

    /// The totals query spells the two kinds that cross the system's edge; they must be the
    /// names the journal stores.
    #[test]
    fn the_totals_query_names_the_stored_deposit_and_withdrawal_kinds() {
        for kind in [LedgerKind::Deposit, LedgerKind::Withdrawal] {
            assert!(TOTALS.contains(&format!("kind = '{}'", kind.as_str())));
        }
    }
}
