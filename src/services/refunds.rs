//! Refunds of unspent top-ups through PortOne's cancel (DESIGN §8 step 3).
//!
//! A refund is a `payment_refunds` row. The money rule: the wallet debit is held first
//! (available → held, `refund_hold`) in the transaction that records the pending refund with
//! its amount and the `checksum` we send (what we believe is still cancellable: paid − refunded).
//! Then PortOne is asked to cancel. Confirmed → one transaction settles it: held → out as the
//! journal's `withdrawal` (the audit's Σ wallets = deposits − withdrawals holds), and the
//! payment is `cancelled` once fully refunded. Refused → the hold is released with PortOne's
//! reason. No answer (timeout, 5xx: "result unknown") → the refund stays pending and held;
//! [`reconcile_refunds`] settles it later by looking the payment up at PortOne, exactly once.
//! A PortOne whose cancelled amount is not ours means our records missed a cancel: nothing is
//! executed, the refund is kept as `mismatch` (flagged for admins) and the hold released.

use crate::domain::msg::Msg;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::once::{self, OnceKey};
use crate::db::schema::{payment_refunds, payments};
use crate::db::{lock_wallets, write_tx, DbConnection, DbPool};
use crate::domain::bank::BankAccount;
use crate::domain::{LedgerKind, UserId, Won};
use crate::first_for_update;
use crate::portone::{CancelRequest, Payment as PortOnePayment, PortOne, RefundAccount};
use crate::services::now;
use crate::services::payments::{PaymentRow, Status};
use crate::services::wallet::{apply_movement, Movement};

/// Where a refund stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundStatus {
    /// Held in the wallet; PortOne's answer is not known yet.
    Pending,
    /// Refunded by PortOne: the money left the wallet.
    Done,
    /// PortOne refused: the held amount is back in the wallet.
    Refused,
    /// PortOne's records showed a cancel ours did not: nothing refunded, flagged for admins.
    Mismatch,
}

impl RefundStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Done => "done",
            RefundStatus::Refused => "refused",
            RefundStatus::Mismatch => "mismatch",
        }
    }

    pub fn parse(stored: &str) -> RefundStatus {
        [
            RefundStatus::Pending,
            RefundStatus::Done,
            RefundStatus::Refused,
            RefundStatus::Mismatch,
        ]
        .into_iter()
        .find(|s| s.as_str() == stored)
        .unwrap_or(RefundStatus::Pending)
    }

    /// In words, for the owner.
    /// The translation key of the state in words (`locales/msg.*.yml`).
    pub const fn words_key(self) -> &'static str {
        match self {
            RefundStatus::Pending => "words.refund_status.1",
            RefundStatus::Done => "words.refund_status.2",
            RefundStatus::Refused => "words.refund_status.3",
            RefundStatus::Mismatch => "words.refund_status.4",
        }
    }
}

/// One refund as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = payment_refunds)]
pub struct RefundRow {
    pub id: i64,
    pub payment_id: i64,
    pub user_id: i64,
    pub amount: i64,
    pub checksum: i64,
    pub reason: String,
    pub status: String,
    pub fail_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub settled_at: Option<NaiveDateTime>,
}

impl RefundRow {
    pub fn status(&self) -> RefundStatus {
        RefundStatus::parse(&self.status)
    }

    pub fn amount(&self) -> Won {
        Won::from_stored(self.amount)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("There is no such payment.")]
    NotFound,
    #[error("Only a paid top-up can be refunded.")]
    NotPaid,
    #[error("A refund of this payment is still pending; wait until it is settled.")]
    Pending,
    #[error("This payment is held for an admin's review (PortOne's records differ from ours); it cannot be refunded here.")]
    Flagged,
    #[error("Nothing of this payment can be refunded now.")]
    NothingRefundable,
    #[error(
        "Give the amount in won (a whole number), or leave it empty to refund all that can be."
    )]
    Amount,
    #[error("At most {refundable} can be refunded now (what is left of the payment, and no more than your available balance).")]
    TooMuch { refundable: Won },
    #[error("A virtual-account refund needs the account to refund to: {}", Msg::join(.0, crate::domain::lang::Lang::En))]
    RefundAccount(Vec<Msg>),
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl RefundError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.no_such_payment"),
            Self::NotPaid => Msg::new("err.refund.not_paid"),
            Self::Pending => Msg::new("err.refund.pending"),
            Self::Flagged => Msg::new("err.refund.flagged"),
            Self::NothingRefundable => Msg::new("err.refund.nothing_refundable"),
            Self::Amount => Msg::new("err.refund.amount"),
            Self::TooMuch { refundable } => {
                Msg::new("err.refund.too_much").arg("refundable", refundable)
            }
            Self::RefundAccount(a0) => Msg::new("err.refund.refund_account").arg("0", a0),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(RefundError);

/// What the owner typed into the refund form.
#[derive(Debug, Clone, Default)]
pub struct RefundForm {
    /// Empty: everything refundable.
    pub amount: String,
    pub reason: String,
    pub refund_bank: String,
    pub refund_account: String,
    pub refund_holder: String,
}

fn connection(
    pool: &DbPool,
) -> Result<r2d2::PooledConnection<crate::db::ConnectionManager>, anyhow::Error> {
    crate::db::checkout(pool).map_err(|e| anyhow::Error::new(e).context("no database connection"))
}

/// What was refunded of `payment_id` (settled refunds only).
fn refunded(conn: &mut DbConnection, payment_id: i64) -> QueryResult<i64> {
    Ok(payment_refunds::table
        .filter(payment_refunds::payment_id.eq(payment_id))
        .filter(payment_refunds::status.eq(RefundStatus::Done.as_str()))
        .select(payment_refunds::amount)
        .load::<i64>(conn)?
        .iter()
        .sum())
}

/// A payment's refunds, newest first.
pub fn refunds_of(conn: &mut DbConnection, payment_id: i64) -> QueryResult<Vec<RefundRow>> {
    payment_refunds::table
        .filter(payment_refunds::payment_id.eq(payment_id))
        .order(payment_refunds::id.desc())
        .select(RefundRow::as_select())
        .load(conn)
}

/// What the owner can refund of `row` now: `min(paid − refunded, available balance)`, zero
/// while a refund is pending, once one was flagged (mismatch), or the payment is not paid.
pub fn refundable(conn: &mut DbConnection, row: &PaymentRow) -> QueryResult<Won> {
    if row.status() != Status::Paid || row.purpose != "topup" {
        return Ok(Won::ZERO);
    }
    let open: i64 = payment_refunds::table
        .filter(payment_refunds::payment_id.eq(row.id))
        .filter(payment_refunds::status.eq_any([
            RefundStatus::Pending.as_str(),
            RefundStatus::Mismatch.as_str(),
        ]))
        .count()
        .get_result(conn)?;
    if open > 0 {
        return Ok(Won::ZERO);
    }
    let left = row.amount.saturating_sub(refunded(conn, row.id)?);
    let available: i64 = crate::db::schema::wallets::table
        .find(row.user_id)
        .select(crate::db::schema::wallets::balance)
        .first::<i64>(conn)
        .optional()?
        .unwrap_or(0);
    Ok(Won::from_stored(left.min(available).max(0)))
}

/// What [`request_refund`] ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefundOutcome {
    pub refund_id: i64,
    pub status: RefundStatus,
}

/// The owner asks for `form.amount` of `merchant_uid` back. Held, asked of PortOne, settled
/// (see the module's doc). Someone else's payment is [`RefundError::NotFound`].
#[tracing::instrument(skip(pool, portone, form), fields(user.id = user_id))]
pub fn request_refund(
    pool: &DbPool,
    portone: &PortOne,
    user_id: UserId,
    merchant_uid: &str,
    form: &RefundForm,
    key: Option<&OnceKey>,
) -> Result<RefundOutcome, RefundError> {
    let amount_text = form.amount.trim();
    let asked = if amount_text.is_empty() {
        None
    } else {
        Some(Won::parse(amount_text).map_err(|_| RefundError::Amount)?)
    };
    let reason = {
        let r = form.reason.trim();
        if r.is_empty() || r.chars().count() > 200 || r.chars().any(char::is_control) {
            "Unspent wallet money refunded at the owner's request".to_owned()
        } else {
            r.to_owned()
        }
    };
    let mut conn = connection(pool)?;
    // What the transaction held, for the call to PortOne after it (not when replayed).
    let mut held = None;
    let (refund_id, replayed) = write_tx(&mut conn, |conn| {
        once::run_flagged(conn, key, |conn| -> Result<i64, RefundError> {
            let payment: PaymentRow = first_for_update!(
                conn,
                payments::table
                    .filter(payments::merchant_uid.eq(merchant_uid))
                    .filter(payments::user_id.eq(user_id))
                    .select(PaymentRow::as_select())
            )?
            .ok_or(RefundError::NotFound)?;
            if payment.status() != Status::Paid || payment.purpose != "topup" {
                return Err(RefundError::NotPaid);
            }
            let Some(_) = payment.imp_uid.as_ref() else {
                return Err(RefundError::NotPaid);
            };
            let open: Vec<String> = payment_refunds::table
                .filter(payment_refunds::payment_id.eq(payment.id))
                .filter(payment_refunds::status.eq_any([
                    RefundStatus::Pending.as_str(),
                    RefundStatus::Mismatch.as_str(),
                ]))
                .select(payment_refunds::status)
                .load(conn)?;
            if open.iter().any(|s| s == RefundStatus::Pending.as_str()) {
                return Err(RefundError::Pending);
            }
            if !open.is_empty() {
                return Err(RefundError::Flagged);
            }
            let refund_to = if payment.method == "vbank" {
                let account = BankAccount::parse(
                    form.refund_bank.trim(),
                    form.refund_account.trim(),
                    form.refund_holder.trim(),
                )
                .map_err(RefundError::RefundAccount)?;
                Some(RefundAccount {
                    holder: account.holder,
                    bank: account.bank_code,
                    account: account.number,
                    tel: None,
                })
            } else {
                None
            };
            let checksum = payment.amount.saturating_sub(refunded(conn, payment.id)?);
            let wallet = lock_wallets(conn, &[user_id])?
                .into_iter()
                .next()
                .ok_or_else(|| RefundError::Unexpected(anyhow::anyhow!("no wallet")))?;
            let refundable = checksum.min(wallet.balance).max(0);
            let amount = asked.map_or(refundable, Won::get);
            if refundable == 0 {
                return Err(RefundError::NothingRefundable);
            }
            if amount > refundable || amount <= 0 {
                return Err(RefundError::TooMuch {
                    refundable: Won::from_stored(refundable),
                });
            }
            let id: i64 = diesel::insert_into(payment_refunds::table)
                .values((
                    payment_refunds::payment_id.eq(payment.id),
                    payment_refunds::user_id.eq(user_id),
                    payment_refunds::amount.eq(amount),
                    payment_refunds::checksum.eq(checksum),
                    payment_refunds::reason.eq(&reason),
                    payment_refunds::status.eq(RefundStatus::Pending.as_str()),
                    payment_refunds::created_at.eq(now()),
                    // Sent right after this commits, by this request.
                    payment_refunds::sent_at.eq(Some(now())),
                ))
                .returning(payment_refunds::id)
                .get_result(conn)?;
            apply_movement(
                conn,
                &Movement {
                    user_id,
                    kind: LedgerKind::RefundHold,
                    delta_balance: -amount,
                    delta_locked: amount,
                    reference: Some(reference(&payment.merchant_uid)),
                    idempotency_key: None,
                },
            )?;
            held = Some((payment, amount, checksum, refund_to));
            Ok(id)
        })
    })?;
    if replayed {
        // A resubmitted form: the refund it asked for the first time, as it stands now.
        let status = current(&mut conn, refund_id)?;
        return Ok(RefundOutcome { refund_id, status });
    }
    drop(conn);
    let (payment, amount, checksum, refund_to) =
        held.ok_or_else(|| RefundError::Unexpected(anyhow::anyhow!("a refund without its hold")))?;
    let request = CancelRequest {
        imp_uid: payment.imp_uid.clone().unwrap_or_default(),
        amount: Some(Won::from_stored(amount)),
        checksum: Some(Won::from_stored(checksum)),
        reason,
        refund: refund_to,
    };
    let status = execute(pool, portone, refund_id, &request, checksum)?;
    Ok(RefundOutcome { refund_id, status })
}

/// Ask PortOne to carry out a held refund (`request`, with the `checksum` we believe) and
/// settle it from the answer: confirmed → done; refused → released (as `mismatch`, flagged, when
/// PortOne's cancellable amount is not ours); no answer → left pending for the reconciler.
fn execute(
    pool: &DbPool,
    portone: &PortOne,
    refund_id: i64,
    request: &CancelRequest,
    checksum: i64,
) -> Result<RefundStatus, RefundError> {
    let status = match portone.cancel(request) {
        Ok(_) => settle_done(pool, refund_id)?,
        Err(e) if e.is_result_unknown() => {
            tracing::warn!(error = %e, "a refund's cancel got no answer: left pending for the reconciler");
            RefundStatus::Pending
        }
        Err(e) => {
            // PortOne said no. Did our records miss a cancel (the checksum's mismatch)?
            let theirs = portone.payment(&request.imp_uid).ok();
            match theirs {
                Some(found) if found.cancellable().get() != checksum => {
                    tracing::error!(
                        ours = checksum,
                        portone = found.cancellable().get(),
                        "PortOne's cancellable amount differs from ours: refund not executed, flagged"
                    );
                    release(
                        pool,
                        refund_id,
                        RefundStatus::Mismatch,
                        &format!(
                            "PortOne has {} left to cancel, our records {}",
                            found.cancellable(),
                            Won::from_stored(checksum)
                        ),
                    )?
                }
                _ => release(pool, refund_id, RefundStatus::Refused, &e.to_string())?,
            }
        }
    };
    Ok(status)
}

/// A market trade paid at checkout that did not go ahead (rejected, or cancelled before
/// approval): its refund, held by the reject's or cancel's transaction, is sent to PortOne now
/// (cancel of the whole payment, with its checksum; to the buyer's refund account for a
/// virtual account) and settled from the answer. `None` when the trade was not paid at
/// checkout or has no refund waiting.
#[tracing::instrument(skip(pool, portone))]
pub fn send_trade_refund(
    pool: &DbPool,
    portone: &PortOne,
    trade_id: i64,
) -> Result<Option<RefundStatus>, RefundError> {
    let pending: Option<(RefundRow, PaymentRow)> = {
        let mut conn = connection(pool)?;
        payment_refunds::table
            .inner_join(payments::table.on(payments::id.eq(payment_refunds::payment_id)))
            .filter(payments::trade_id.eq(trade_id))
            .filter(payment_refunds::status.eq(RefundStatus::Pending.as_str()))
            .select((RefundRow::as_select(), PaymentRow::as_select()))
            .first(&mut *conn)
            .optional()?
    };
    let Some((refund, payment)) = pending else {
        return Ok(None);
    };
    send(pool, portone, &refund, &payment, Sending::Once).map(Some)
}

/// How a held refund reaches PortOne.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sending {
    /// Only if nobody sent it yet (claimed by setting `sent_at`): the page that held it and the
    /// payments job may both try; one sends.
    Once,
    /// Again: PortOne's record just showed that the cancel did not happen.
    Again,
}

fn send(
    pool: &DbPool,
    portone: &PortOne,
    refund: &RefundRow,
    payment: &PaymentRow,
    how: Sending,
) -> Result<RefundStatus, RefundError> {
    if how == Sending::Once {
        let mut conn = connection(pool)?;
        let claimed = diesel::update(
            payment_refunds::table
                .find(refund.id)
                .filter(payment_refunds::sent_at.is_null())
                .filter(payment_refunds::status.eq(RefundStatus::Pending.as_str())),
        )
        .set(payment_refunds::sent_at.eq(Some(now())))
        .execute(&mut *conn)?;
        if claimed == 0 {
            return current(&mut conn, refund.id);
        }
    }
    let request = CancelRequest {
        imp_uid: payment.imp_uid.clone().unwrap_or_default(),
        amount: Some(refund.amount()),
        checksum: Some(Won::from_stored(refund.checksum)),
        reason: refund.reason.clone(),
        // A purchase paid into a virtual account goes back to the account its buyer gave.
        refund: payment.refund_account(),
    };
    execute(pool, portone, refund.id, &request, refund.checksum)
}

/// Trade refunds held without a page to send them (the scheduler cancelled a trade its seller
/// never answered): sent now, each once. The number sent.
pub fn send_unsent_trade_refunds(pool: &DbPool, portone: &PortOne) -> anyhow::Result<usize> {
    let unsent: Vec<(RefundRow, PaymentRow)> = {
        let mut conn = connection(pool)?;
        payment_refunds::table
            .inner_join(payments::table.on(payments::id.eq(payment_refunds::payment_id)))
            .filter(payments::purpose.eq("trade"))
            .filter(payment_refunds::status.eq(RefundStatus::Pending.as_str()))
            .filter(payment_refunds::sent_at.is_null())
            .order(payment_refunds::id.asc())
            .limit(50)
            .select((RefundRow::as_select(), PaymentRow::as_select()))
            .load(&mut *conn)?
    };
    let mut sent = 0;
    for (refund, payment) in unsent {
        match send(pool, portone, &refund, &payment, Sending::Once) {
            Ok(_) => sent += 1,
            Err(e) => tracing::warn!(error = %e, "a held trade refund could not be sent"),
        }
    }
    Ok(sent)
}

fn reference(merchant_uid: &str) -> String {
    format!("refund of payment {merchant_uid}")
}

/// Lock the refund (and then its payment); `None` unless it is still pending.
fn pending_refund(conn: &mut DbConnection, refund_id: i64) -> QueryResult<Option<RefundRow>> {
    let refund: Option<RefundRow> = first_for_update!(
        conn,
        payment_refunds::table
            .find(refund_id)
            .select(RefundRow::as_select())
    )?;
    Ok(refund.filter(|r| r.status() == RefundStatus::Pending))
}

/// PortOne refunded it: held → out (`withdrawal`), the payment `cancelled` once fully
/// refunded. Once only: a refund no longer pending is left alone.
fn settle_done(pool: &DbPool, refund_id: i64) -> Result<RefundStatus, RefundError> {
    let mut conn = connection(pool)?;
    write_tx(&mut conn, |conn| -> Result<RefundStatus, RefundError> {
        let Some(refund) = pending_refund(conn, refund_id)? else {
            return current(conn, refund_id);
        };
        let payment: PaymentRow = payments::table
            .find(refund.payment_id)
            .select(PaymentRow::as_select())
            .first(conn)?;
        lock_wallets(conn, &[refund.user_id])?;
        apply_movement(
            conn,
            &Movement {
                user_id: refund.user_id,
                kind: LedgerKind::Withdrawal,
                delta_balance: 0,
                delta_locked: -refund.amount,
                reference: Some(reference(&payment.merchant_uid)),
                idempotency_key: Some(format!("refund:{refund_id}")),
            },
        )?;
        let at = now();
        diesel::update(payment_refunds::table.find(refund_id))
            .set((
                payment_refunds::status.eq(RefundStatus::Done.as_str()),
                payment_refunds::settled_at.eq(Some(at)),
            ))
            .execute(conn)?;
        if refunded(conn, payment.id)? >= payment.amount {
            diesel::update(payments::table.find(payment.id))
                .set((
                    payments::status.eq(Status::Cancelled.as_str()),
                    payments::updated_at.eq(at),
                ))
                .execute(conn)?;
        }
        let told = crate::services::notify::Notice::payment(
            crate::domain::notification::NotificationKind::PaymentRefunded,
            &payment.merchant_uid,
            Some(Won::from_stored(refund.amount)),
        );
        crate::services::notify::notify(conn, refund.user_id, &told)?;
        tracing::info!(amount = refund.amount, "refund settled");
        Ok(RefundStatus::Done)
    })
}

/// Not refunded: held → available, the refund closed as `status` with `why`. Once only.
fn release(
    pool: &DbPool,
    refund_id: i64,
    status: RefundStatus,
    why: &str,
) -> Result<RefundStatus, RefundError> {
    let mut conn = connection(pool)?;
    write_tx(&mut conn, |conn| -> Result<RefundStatus, RefundError> {
        let Some(refund) = pending_refund(conn, refund_id)? else {
            return current(conn, refund_id);
        };
        let merchant_uid: String = payments::table
            .find(refund.payment_id)
            .select(payments::merchant_uid)
            .first(conn)?;
        lock_wallets(conn, &[refund.user_id])?;
        apply_movement(
            conn,
            &Movement {
                user_id: refund.user_id,
                kind: LedgerKind::RefundRelease,
                delta_balance: refund.amount,
                delta_locked: -refund.amount,
                reference: Some(reference(&merchant_uid)),
                idempotency_key: None,
            },
        )?;
        diesel::update(payment_refunds::table.find(refund_id))
            .set((
                payment_refunds::status.eq(status.as_str()),
                payment_refunds::fail_reason.eq(why),
                payment_refunds::settled_at.eq(Some(now())),
            ))
            .execute(conn)?;
        Ok(status)
    })
}

fn current(conn: &mut DbConnection, refund_id: i64) -> Result<RefundStatus, RefundError> {
    let status: String = payment_refunds::table
        .find(refund_id)
        .select(payment_refunds::status)
        .first(conn)?;
    Ok(RefundStatus::parse(&status))
}

/// Settle one pending refund from PortOne's record of the payment: our cancel went through
/// (PortOne's cancellable = checksum − amount) → done; it did not (= checksum) → released as
/// refused; anything else → mismatch (flagged, released).
fn settle_from(
    pool: &DbPool,
    portone: &PortOne,
    refund: &RefundRow,
    found: &PortOnePayment,
) -> Result<RefundStatus, RefundError> {
    let theirs = found.cancellable().get();
    if theirs == refund.checksum && found.status == crate::portone::PaymentStatus::Paid {
        let payment: PaymentRow = {
            let mut conn = connection(pool)?;
            payments::table
                .find(refund.payment_id)
                .select(PaymentRow::as_select())
                .first(&mut *conn)?
        };
        if payment.purpose == "trade" {
            // A trade that did not go ahead pays back to the card, never into the wallet:
            // the cancel that did not happen (or was never sent) is sent now.
            return send(pool, portone, refund, &payment, Sending::Again);
        }
    }
    if theirs == refund.checksum - refund.amount {
        settle_done(pool, refund.id)
    } else if theirs == refund.checksum {
        release(
            pool,
            refund.id,
            RefundStatus::Refused,
            "PortOne did not carry out the refund",
        )
    } else {
        tracing::error!(
            ours = refund.checksum,
            portone = theirs,
            "a pending refund does not match PortOne's records: flagged"
        );
        release(
            pool,
            refund.id,
            RefundStatus::Mismatch,
            &format!(
                "PortOne has {} left to cancel, our records {}",
                found.cancellable(),
                Won::from_stored(refund.checksum)
            ),
        )
    }
}

/// How old a pending refund must be before the reconciler settles it: past every PortOne call
/// its request could still be making (a token, the cancel, a renewed token and the cancel
/// again, then the lookup), each bounded by `timeout`.
pub fn refund_min_age(timeout: std::time::Duration) -> std::time::Duration {
    timeout.saturating_mul(5) + std::time::Duration::from_secs(1)
}

/// One settled refund, as the reconciler reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciled {
    pub merchant_uid: String,
    pub amount: Won,
    pub status: RefundStatus,
}

/// Pending refunds older than `min_age` (so never one whose cancel is still on its way) are
/// looked up at PortOne and settled, each exactly once. A PortOne that does not answer leaves
/// them pending for the next run.
pub fn reconcile_refunds(
    pool: &DbPool,
    portone: &PortOne,
    min_age: std::time::Duration,
) -> anyhow::Result<Vec<Reconciled>> {
    let before = now() - chrono::Duration::from_std(min_age).unwrap_or(chrono::Duration::zero());
    let pending: Vec<(RefundRow, String, Option<String>)> = {
        let mut conn = connection(pool)?;
        payment_refunds::table
            .inner_join(payments::table.on(payments::id.eq(payment_refunds::payment_id)))
            .filter(payment_refunds::status.eq(RefundStatus::Pending.as_str()))
            .filter(payment_refunds::created_at.lt(before))
            .order(payment_refunds::id.asc())
            .limit(100)
            .select((
                RefundRow::as_select(),
                payments::merchant_uid,
                payments::imp_uid,
            ))
            .load(&mut *conn)?
    };
    let mut settled = Vec::new();
    for (refund, merchant_uid, imp_uid) in pending {
        let Some(imp_uid) = imp_uid else { continue };
        let found = match portone.payment(&imp_uid) {
            Ok(found) if found.merchant_uid == merchant_uid => found,
            Ok(_) => {
                tracing::error!("PortOne has another order for a refunded payment: left alone");
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "a pending refund could not be looked up");
                continue;
            }
        };
        let status =
            settle_from(pool, portone, &refund, &found).map_err(|e| anyhow::anyhow!("{e}"))?;
        settled.push(Reconciled {
            merchant_uid,
            amount: refund.amount(),
            status,
        });
    }
    Ok(settled)
}
