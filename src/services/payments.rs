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

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::RngCore;

use crate::db::schema::payments;
use crate::db::{is_unique_violation, lock_user, lock_wallets, write_tx, DbConnection, DbPool};
use crate::domain::{AmountError, LedgerKind, UserId, Won};
use crate::portone::{
    CancelRequest, Payment as PortOnePayment, PaymentStatus, PortOne, PortOneError, VbankRequest,
};
use crate::services::market;
use crate::services::now;
use crate::services::wallet::{apply_movement, Movement};

const fn won(n: i64) -> Won {
    match Won::new(n) {
        Some(w) => w,
        None => Won::ZERO,
    }
}

/// The smallest top-up by card.
pub const TOPUP_MIN: Won = won(1_000);
/// The largest top-up by card, at a time.
pub const TOPUP_MAX: Won = won(2_000_000);
/// The most one member may start topping up within 24 hours (paid and still open payments).
pub const DAILY_CAP: Won = won(5_000_000);

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
    pub const fn words(self) -> &'static str {
        match self {
            Status::Ready => "Waiting for payment",
            Status::Paid => "Paid — added to your wallet",
            Status::Failed => "Not paid — the payment was declined, closed or could not be started",
            Status::Cancelled => "Cancelled — nothing was charged",
            Status::Expired => "Expired — the deadline passed unpaid",
            Status::Forged => {
                "Stopped — the amount paid did not match the order; nothing was added and the payment was cancelled"
            }
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
}

impl PaymentRow {
    pub fn status(&self) -> Status {
        Status::parse(&self.status)
    }

    /// The state in words for its owner: a paid payment cancelled afterwards was refunded in
    /// full (its money went back), not "nothing was charged".
    pub fn words(&self) -> &'static str {
        match self.status() {
            Status::Cancelled if self.paid_at.is_some() && self.purpose == "trade" => {
                "Refunded in full — the purchase did not go ahead and the whole amount went back to your card"
            }
            Status::Cancelled if self.paid_at.is_some() => {
                "Refunded in full — the whole top-up went back to your card or account"
            }
            Status::Ready if self.purpose == "trade" => "Waiting for your card payment",
            Status::Paid if self.purpose == "trade" => {
                "Paid — the amount is held in your wallet for your purchase until you confirm receipt"
            }
            Status::Expired if self.purpose == "trade" => {
                "Expired — the card payment's deadline passed unpaid; the purchase was cancelled and nothing was charged"
            }
            Status::Failed if self.purpose == "trade" => {
                "Not paid — the card payment was declined or closed; the purchase was cancelled"
            }
            other => other.words(),
        }
    }

    pub fn amount(&self) -> Won {
        Won::new(self.amount).unwrap_or(Won::ZERO)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TopUpError {
    #[error("{0}")]
    Amount(String),
    #[error("You can top up at most {DAILY_CAP} within 24 hours; {left} is left for now.")]
    DailyCap { left: Won },
    #[error("Card payments are not available on this site.")]
    NotAvailable,
    #[error("Choose one of the listed banks.")]
    Bank,
    #[error("Give the depositor's name (1 to 20 characters).")]
    Depositor,
    #[error("PortOne refused the payment: {0}")]
    Refused(String),
    #[error("PortOne could not be reached to register the payment. Try again in a moment.")]
    PortOneUnavailable,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
crate::unexpected_error!(TopUpError);

fn amount_reason(e: &AmountError) -> String {
    match e {
        AmountError::TooSmall(_) => format!("A top-up must be at least {TOPUP_MIN}."),
        AmountError::TooLarge(_) => format!("A single top-up can be at most {TOPUP_MAX}."),
        other => other.to_string(),
    }
}

/// 32 random hex digits behind `topup_`: nobody can guess another member's payment.
fn new_merchant_uid() -> String {
    new_uid("topup")
}

fn new_uid(prefix: &str) -> String {
    let mut bytes = [0_u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}_{hex}")
}

/// How long a buyer has to pay a market purchase by card.
pub const TRADE_CARD_DEADLINE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// A market purchase to be paid by card.
#[derive(Debug, Clone, Copy)]
pub struct TradeCheckout {
    pub product_id: i64,
    pub buyer_id: UserId,
    pub order: market::Order,
    /// The seller's time to answer, from the payment.
    pub respond_within: std::time::Duration,
    /// The buyer's time to pay.
    pub pay_within: std::time::Duration,
}

/// Start a market purchase paid by card: in one transaction the trade (`awaiting_payment`,
/// its units reserved) and its payment (purpose `trade`, the whole price, due within
/// `pay_within`); then the amount is registered with PortOne when `prepare` is on. Gives the
/// `merchant_uid` for the payment page. A prepare that fails closes the payment and cancels
/// the trade (the units go back on sale).
#[tracing::instrument(skip_all, fields(user.id = purchase.buyer_id, product.id = purchase.product_id))]
pub fn start_trade_payment(
    pool: &DbPool,
    portone: &PortOne,
    prepare: bool,
    purchase: &TradeCheckout,
) -> Result<(String, market::Bought), market::BuyError> {
    let TradeCheckout {
        product_id,
        buyer_id,
        order,
        respond_within,
        pay_within,
    } = *purchase;
    let merchant_uid = new_uid("trade");
    let pay_within = chrono::Duration::from_std(pay_within)
        .map_err(|e| market::BuyError::Unexpected(anyhow::anyhow!("payment deadline: {e}")))?;
    let bought = {
        let mut conn = connection(pool)?;
        write_tx(
            &mut conn,
            |conn| -> Result<market::Bought, market::BuyError> {
                let bought =
                    market::reserve_for_card(conn, product_id, buyer_id, order, respond_within)?;
                let at = now();
                diesel::insert_into(payments::table)
                    .values((
                        payments::merchant_uid.eq(&merchant_uid),
                        payments::user_id.eq(buyer_id),
                        payments::amount.eq(bought.price.get()),
                        payments::method.eq("card"),
                        payments::purpose.eq("trade"),
                        payments::status.eq(Status::Ready.as_str()),
                        payments::trade_id.eq(Some(bought.trade_id)),
                        payments::pay_by.eq(Some(at + pay_within)),
                        payments::created_at.eq(at),
                        payments::updated_at.eq(at),
                    ))
                    .execute(conn)?;
                Ok(bought)
            },
        )?
    };
    if prepare {
        if let Err(e) = portone.prepare(&merchant_uid, bought.price) {
            tracing::warn!(error = %e, "PortOne prepare failed; the purchase is cancelled");
            close_unpaid_trade(
                pool,
                &merchant_uid,
                Status::Failed,
                "PortOne could not register the payment",
            )?;
            return Err(market::BuyError::PaymentUnavailable);
        }
    }
    Ok((merchant_uid, bought))
}

/// A trade payment that will not be paid (declined, closed, never registered, past its
/// deadline): in one transaction it is closed as `status` and its trade, still waiting,
/// cancelled with its units back on sale. True when it was closed now.
fn close_unpaid_trade(
    pool: &DbPool,
    merchant_uid: &str,
    status: Status,
    reason: &str,
) -> anyhow::Result<bool> {
    let mut conn = connection(pool)?;
    write_tx(&mut conn, |conn| -> Result<bool, anyhow::Error> {
        let Some(row) = by_merchant_uid(conn, merchant_uid)? else {
            return Ok(false);
        };
        let Some(trade_id) = row.trade_id else {
            return Ok(false);
        };
        market::lock_trade_product(conn, trade_id)?;
        let closed = diesel::update(
            payments::table
                .find(row.id)
                .filter(payments::status.eq(Status::Ready.as_str())),
        )
        .set((
            payments::status.eq(status.as_str()),
            payments::fail_reason.eq(reason),
            payments::updated_at.eq(now()),
        ))
        .execute(conn)?;
        if closed == 0 {
            return Ok(false);
        }
        market::card_unpaid(conn, trade_id)?;
        Ok(true)
    })
}

/// Market card payments past their deadline: asked at PortOne once more when we know the
/// `imp_uid` (a payment that arrived is settled as paid), otherwise closed `expired` and the
/// trade cancelled, its units back on sale. A PortOne that does not answer leaves the payment
/// for the next round. The number expired.
pub fn expire_due_trade_payments(pool: &DbPool, portone: &PortOne) -> anyhow::Result<usize> {
    let due: Vec<PaymentRow> = {
        let mut conn = connection(pool)?;
        payments::table
            .filter(payments::purpose.eq("trade"))
            .filter(payments::status.eq(Status::Ready.as_str()))
            .filter(payments::pay_by.lt(now()))
            .order(payments::id.asc())
            .limit(50)
            .select(PaymentRow::as_select())
            .load(&mut *conn)?
    };
    let mut expired = 0;
    for row in due {
        if let Some(imp_uid) = row.imp_uid.clone() {
            match portone.payment(&imp_uid) {
                Ok(found) if found.merchant_uid == row.merchant_uid => {
                    if found.status == PaymentStatus::Paid {
                        settle(pool, portone, &row, &found).map_err(|e| anyhow::anyhow!("{e}"))?;
                        continue;
                    }
                }
                Ok(_) => {
                    tracing::error!("PortOne has another order for a trade payment: left alone");
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "an overdue trade payment could not be looked up");
                    continue;
                }
            }
        }
        if close_unpaid_trade(
            pool,
            &row.merchant_uid,
            Status::Expired,
            "the card payment's deadline passed unpaid",
        )? {
            expired += 1;
            tracing::info!(trade.id = row.trade_id, "unpaid market purchase cancelled");
        }
    }
    Ok(expired)
}

fn connection(
    pool: &DbPool,
) -> Result<r2d2::PooledConnection<crate::db::ConnectionManager>, anyhow::Error> {
    crate::db::checkout(pool).map_err(|e| anyhow::Error::new(e).context("no database connection"))
}

/// The banks a virtual account can be opened at (PortOne's `vbank_code`s; the names are
/// [`crate::domain::bank::BANKS`]'s).
pub const VBANK_CODES: [&str; 7] = ["004", "088", "020", "081", "011", "003", "090"];

/// (code, name) of every bank a virtual account can be opened at.
pub fn vbank_banks() -> Vec<(&'static str, &'static str)> {
    crate::domain::bank::BANKS
        .iter()
        .copied()
        .filter(|(code, _)| VBANK_CODES.contains(code))
        .collect()
}

/// How a top-up is paid.
#[derive(Debug, Clone)]
pub enum TopUpMethod {
    /// Through the checkout window.
    Card,
    /// Into a virtual account issued at `bank_code` for `depositor`, open for `due`;
    /// PortOne's deposit notice goes to `notice_url`.
    Vbank {
        bank_code: String,
        depositor: String,
        due: std::time::Duration,
        notice_url: Option<String>,
    },
}

impl TopUpMethod {
    const fn as_str(&self) -> &'static str {
        match self {
            TopUpMethod::Card => "card",
            TopUpMethod::Vbank { .. } => "vbank",
        }
    }
}

/// Start a top-up of `amount_text` for `user_id`: check the limits, create the payment
/// (`ready`), register its amount with PortOne when `prepare` is on, issue the virtual account
/// for `vbank`, and give its `merchant_uid`. A PortOne call that fails leaves the payment
/// `failed` (never paid).
#[tracing::instrument(skip(pool, portone, how), fields(user.id = user_id))]
pub fn start_topup(
    pool: &DbPool,
    portone: &PortOne,
    prepare: bool,
    user_id: UserId,
    amount_text: &str,
    how: &TopUpMethod,
) -> Result<String, TopUpError> {
    let amount = Won::parse_within(amount_text, TOPUP_MIN, TOPUP_MAX)
        .map_err(|e| TopUpError::Amount(amount_reason(&e)))?;
    if let TopUpMethod::Vbank {
        bank_code,
        depositor,
        ..
    } = how
    {
        if !VBANK_CODES.contains(&bank_code.as_str()) {
            return Err(TopUpError::Bank);
        }
        let n = depositor.trim().chars().count();
        if !(1..=20).contains(&n) || depositor.chars().any(char::is_control) {
            return Err(TopUpError::Depositor);
        }
    }
    let merchant_uid = new_merchant_uid();
    {
        let mut conn = connection(pool)?;
        let uid = merchant_uid.clone();
        write_tx(&mut conn, |conn| {
            lock_user(conn, user_id)?;
            let at = now();
            let since = at - chrono::Duration::hours(24);
            let started: i64 = payments::table
                .filter(payments::user_id.eq(user_id))
                .filter(payments::created_at.gt(since))
                .filter(payments::status.eq_any([Status::Ready.as_str(), Status::Paid.as_str()]))
                .select(payments::amount)
                .load::<i64>(conn)?
                .iter()
                .sum();
            if started.saturating_add(amount.get()) > DAILY_CAP.get() {
                return Err(TopUpError::DailyCap {
                    left: Won::new(DAILY_CAP.get().saturating_sub(started).max(0))
                        .unwrap_or(Won::ZERO),
                });
            }
            diesel::insert_into(payments::table)
                .values((
                    payments::merchant_uid.eq(&uid),
                    payments::user_id.eq(user_id),
                    payments::amount.eq(amount.get()),
                    payments::method.eq(how.as_str()),
                    payments::purpose.eq("topup"),
                    payments::status.eq(Status::Ready.as_str()),
                    payments::created_at.eq(at),
                    payments::updated_at.eq(at),
                ))
                .execute(conn)?;
            Ok(())
        })?;
    }
    if prepare {
        if let Err(e) = portone.prepare(&merchant_uid, amount) {
            tracing::warn!(error = %e, "PortOne prepare failed; the payment is closed unpaid");
            close_unissued(
                pool,
                &merchant_uid,
                "PortOne could not register the payment",
            )?;
            return Err(TopUpError::PortOneUnavailable);
        }
    }
    if let TopUpMethod::Vbank {
        bank_code,
        depositor,
        due,
        notice_url,
    } = how
    {
        let deadline = chrono::Utc::now()
            + chrono::Duration::from_std(*due).unwrap_or(chrono::Duration::hours(24));
        let request = VbankRequest {
            merchant_uid: merchant_uid.clone(),
            amount,
            vbank_code: bank_code.clone(),
            vbank_due: deadline.timestamp(),
            vbank_holder: depositor.trim().to_owned(),
            name: Some("NeighborBid wallet top-up".to_owned()),
            buyer_name: None,
            notice_url: notice_url.clone(),
            channel_key: None,
        };
        match portone.issue_vbank(&request) {
            Ok(issued) => {
                let due_at = chrono::DateTime::from_timestamp(issued.vbank_date, 0)
                    .filter(|_| issued.vbank_date > 0)
                    .unwrap_or(deadline)
                    .naive_utc();
                let mut conn = connection(pool)?;
                diesel::update(payments::table.filter(payments::merchant_uid.eq(&merchant_uid)))
                    .set((
                        payments::imp_uid.eq(&issued.imp_uid),
                        payments::vbank_code.eq(issued.vbank_code.as_deref().or(Some(bank_code))),
                        payments::vbank_name.eq(issued.vbank_name.as_deref()),
                        payments::vbank_num.eq(issued.vbank_num.as_deref()),
                        payments::vbank_holder.eq(issued.vbank_holder.as_deref()),
                        payments::vbank_due.eq(Some(due_at)),
                        payments::updated_at.eq(now()),
                    ))
                    .execute(&mut *conn)
                    .map_err(anyhow::Error::new)?;
            }
            Err(e) => {
                tracing::warn!(error = %e, "PortOne did not issue the virtual account");
                close_unissued(
                    pool,
                    &merchant_uid,
                    "PortOne did not issue the virtual account",
                )?;
                return Err(if e.is_result_unknown() {
                    TopUpError::PortOneUnavailable
                } else {
                    TopUpError::Refused(e.to_string())
                });
            }
        }
    }
    Ok(merchant_uid)
}

/// A payment PortOne never took up: closed as `failed` with `reason`.
fn close_unissued(pool: &DbPool, merchant_uid: &str, reason: &str) -> Result<(), TopUpError> {
    let mut conn = connection(pool)?;
    diesel::update(
        payments::table
            .filter(payments::merchant_uid.eq(merchant_uid))
            .filter(payments::status.eq(Status::Ready.as_str())),
    )
    .set((
        payments::status.eq(Status::Failed.as_str()),
        payments::fail_reason.eq(reason),
        payments::updated_at.eq(now()),
    ))
    .execute(&mut *conn)
    .map_err(anyhow::Error::new)?;
    Ok(())
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

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// No payment of ours has this `merchant_uid`.
    #[error("There is no such payment.")]
    UnknownMerchantUid,
    /// PortOne does not know this `imp_uid`.
    #[error("PortOne does not know that payment.")]
    UnknownPayment,
    /// The caller's `merchant_uid` is not the one PortOne has for this `imp_uid`.
    #[error("That payment does not belong to this order.")]
    Mismatch,
    /// PortOne did not answer (timeout, 5xx, lost connection) or answered something unusable:
    /// nothing changed; ask again later.
    #[error("PortOne could not be reached; the payment will be checked again.")]
    PortOne(PortOneError),
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
crate::unexpected_error!(VerifyError);

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub merchant_uid: String,
    pub owner: UserId,
    pub status: Status,
    /// True when this call credited the wallet (false when already credited or not paid).
    pub credited: bool,
}

/// THE verification: the redirect, the callback and the webhook all come here. `imp_uid` is
/// looked up at PortOne; `claimed_merchant_uid` (what the caller said) must be ours and must be
/// the one PortOne has for it. Then PortOne's status decides.
#[tracing::instrument(skip(pool, portone))]
pub fn verify(
    pool: &DbPool,
    portone: &PortOne,
    imp_uid: &str,
    claimed_merchant_uid: &str,
) -> Result<Verified, VerifyError> {
    let claimed = {
        let mut conn = connection(pool)?;
        by_merchant_uid(&mut conn, claimed_merchant_uid)?
    };
    if claimed.is_none() {
        return Err(VerifyError::UnknownMerchantUid);
    }
    let found = portone.payment(imp_uid).map_err(|e| match e {
        PortOneError::NotFound { .. } => VerifyError::UnknownPayment,
        e => VerifyError::PortOne(e),
    })?;
    if found.imp_uid != imp_uid || found.merchant_uid != claimed_merchant_uid {
        tracing::warn!(
            portone_merchant_uid = %found.merchant_uid,
            "a payment notice named another order than PortOne has: ignored"
        );
        return Err(VerifyError::Mismatch);
    }
    let row = {
        let mut conn = connection(pool)?;
        by_merchant_uid(&mut conn, &found.merchant_uid)?.ok_or(VerifyError::UnknownMerchantUid)?
    };
    settle(pool, portone, &row, &found)
}

/// Act on PortOne's word about one of our payments (already matched to `row`).
fn settle(
    pool: &DbPool,
    portone: &PortOne,
    row: &PaymentRow,
    found: &PortOnePayment,
) -> Result<Verified, VerifyError> {
    let mut conn = connection(pool)?;
    let (row, found) = (row.clone(), found.clone());
    match found.status {
        PaymentStatus::Paid if found.amount.get() != row.amount => {
            drop(conn);
            forged(pool, portone, &row, &found)
        }
        PaymentStatus::Paid => {
            let verified = credit(&mut conn, &row, &found)?;
            drop(conn);
            if row.purpose == "trade"
                && !verified.credited
                && matches!(verified.status, Status::Expired | Status::Failed)
                && found.cancellable().get() > 0
            {
                // Paid at PortOne after its trade was closed (past the deadline): nothing was
                // credited or held, so the whole payment goes back to the card.
                tracing::warn!(
                    "a trade payment arrived after its trade closed: cancelled at PortOne"
                );
                let cancel = CancelRequest {
                    imp_uid: found.imp_uid.clone(),
                    amount: None,
                    checksum: Some(found.cancellable()),
                    reason: "Paid after the purchase's deadline: the purchase was cancelled"
                        .to_owned(),
                    refund: None,
                };
                if let Err(e) = portone.cancel(&cancel) {
                    tracing::warn!(error = %e, "the late trade payment's cancel did not go through");
                    if e.is_result_unknown() {
                        return Err(VerifyError::PortOne(e));
                    }
                }
            }
            Ok(verified)
        }
        PaymentStatus::Failed | PaymentStatus::Cancelled => {
            let status = if found.status == PaymentStatus::Failed {
                Status::Failed
            } else {
                Status::Cancelled
            };
            let reason = found
                .fail_reason
                .clone()
                .or_else(|| found.cancel_reason.clone());
            if row.purpose == "trade" {
                diesel::update(payments::table.find(row.id))
                    .filter(payments::status.eq(Status::Ready.as_str()))
                    .set(payments::imp_uid.eq(&found.imp_uid))
                    .execute(&mut *conn)
                    .map_err(anyhow::Error::new)?;
                close_unpaid_trade(
                    pool,
                    &row.merchant_uid,
                    status,
                    reason.as_deref().unwrap_or("the card payment was not made"),
                )?;
                return outcome(&mut conn, &row, false);
            }
            diesel::update(
                payments::table
                    .find(row.id)
                    .filter(payments::status.eq(Status::Ready.as_str())),
            )
            .set((
                payments::status.eq(status.as_str()),
                payments::imp_uid.eq(&found.imp_uid),
                payments::fail_reason.eq(reason),
                payments::updated_at.eq(now()),
            ))
            .execute(&mut *conn)
            .map_err(anyhow::Error::new)?;
            outcome(&mut conn, &row, false)
        }
        PaymentStatus::Ready | PaymentStatus::Other => outcome(&mut conn, &row, false),
    }
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

/// The payment's state as stored now.
fn outcome(
    conn: &mut DbConnection,
    row: &PaymentRow,
    credited: bool,
) -> Result<Verified, VerifyError> {
    let status: String = payments::table
        .find(row.id)
        .select(payments::status)
        .first(conn)
        .map_err(anyhow::Error::new)?;
    Ok(Verified {
        merchant_uid: row.merchant_uid.clone(),
        owner: row.user_id,
        status: Status::parse(&status),
        credited,
    })
}

/// Paid with our amount: mark it paid and credit the wallet, in one transaction, once.
fn credit(
    conn: &mut DbConnection,
    row: &PaymentRow,
    found: &PortOnePayment,
) -> Result<Verified, VerifyError> {
    // A trade's payment is credited only while it waits (a failed one cancelled its trade).
    let open: &[&str] = if row.trade_id.is_some() {
        &[Status::Ready.as_str()]
    } else {
        &[Status::Ready.as_str(), Status::Failed.as_str()]
    };
    let result = write_tx(conn, |conn| -> Result<bool, VerifyError> {
        if let Some(trade_id) = row.trade_id {
            // The product first, then wallets: every market use case's lock order.
            market::lock_trade_product(conn, trade_id)?;
        }
        lock_wallets(conn, &[row.user_id])?;
        let at = now();
        let updated = diesel::update(
            payments::table
                .find(row.id)
                .filter(payments::status.eq_any(open)),
        )
        .set((
            payments::status.eq(Status::Paid.as_str()),
            payments::imp_uid.eq(&found.imp_uid),
            payments::receipt_url.eq(found.receipt_url.as_deref()),
            payments::fail_reason.eq(None::<String>),
            payments::paid_at.eq(Some(at)),
            payments::updated_at.eq(at),
        ))
        .execute(conn)?;
        if updated == 0 {
            // Already paid (credited then), or closed as forged/cancelled/expired.
            return Ok(false);
        }
        apply_movement(
            conn,
            &Movement {
                user_id: row.user_id,
                kind: LedgerKind::Deposit,
                delta_balance: row.amount,
                delta_locked: 0,
                reference: Some(format!("card payment {}", row.merchant_uid)),
                idempotency_key: Some(found.imp_uid.clone()),
            },
        )?;
        if let Some(trade_id) = row.trade_id {
            // The same transaction holds the price for the trade and hands it to the seller.
            if !market::card_paid(conn, trade_id, row.amount)? {
                tracing::warn!(
                    trade.id = trade_id,
                    "a trade paid after it closed: the deposit stays in the wallet"
                );
            }
        }
        Ok(true)
    });
    let credited = match result {
        Ok(credited) => credited,
        Err(VerifyError::Unexpected(e))
            if e.downcast_ref::<diesel::result::Error>()
                .is_some_and(is_unique_violation) =>
        {
            false
        }
        Err(e) => return Err(e),
    };
    if credited {
        tracing::info!(amount = row.amount, "payment credited");
    }
    outcome(conn, row, credited)
}

/// PortOne's amount is not ours: never credited; flagged `forged` and cancelled in full at
/// PortOne. A cancel that fails is tried again by the next notice or redirect (PortOne still
/// says paid then).
fn forged(
    pool: &DbPool,
    portone: &PortOne,
    row: &PaymentRow,
    found: &PortOnePayment,
) -> Result<Verified, VerifyError> {
    tracing::warn!(
        ours = row.amount,
        portone = found.amount.get(),
        "a paid amount differs from the order: flagged forged, cancelling at PortOne"
    );
    {
        let mut conn = connection(pool)?;
        diesel::update(
            payments::table
                .find(row.id)
                .filter(payments::status.eq_any([Status::Ready.as_str(), Status::Failed.as_str()])),
        )
        .set((
            payments::status.eq(Status::Forged.as_str()),
            payments::imp_uid.eq(&found.imp_uid),
            payments::fail_reason.eq("the paid amount differed from the order"),
            payments::updated_at.eq(now()),
        ))
        .execute(&mut *conn)
        .map_err(anyhow::Error::new)?;
    }
    let mut conn = connection(pool)?;
    let stored = outcome(&mut conn, row, false)?;
    drop(conn);
    if stored.status == Status::Forged {
        let cancel = CancelRequest {
            imp_uid: found.imp_uid.clone(),
            amount: None,
            checksum: Some(found.cancellable()),
            reason: "The paid amount did not match the order".to_owned(),
            refund: None,
        };
        if let Err(e) = portone.cancel(&cancel) {
            tracing::warn!(error = %e, "the forged payment's cancel did not go through");
            if e.is_result_unknown() {
                return Err(VerifyError::PortOne(e));
            }
        }
    }
    Ok(stored)
}

/// Virtual accounts past their deadline: asked at PortOne once more (a deposit that arrived
/// is credited), otherwise voided there (`DELETE /vbanks/{imp_uid}`) and marked `expired`. A
/// PortOne that does not answer leaves the payment for the next round. The number expired.
pub fn expire_due_vbanks(pool: &DbPool, portone: &PortOne) -> anyhow::Result<usize> {
    let due: Vec<PaymentRow> = {
        let mut conn = connection(pool)?;
        payments::table
            .filter(payments::method.eq("vbank"))
            .filter(payments::status.eq(Status::Ready.as_str()))
            .filter(payments::vbank_due.lt(now()))
            .filter(payments::imp_uid.is_not_null())
            .order(payments::id.asc())
            .limit(50)
            .select(PaymentRow::as_select())
            .load(&mut *conn)?
    };
    let mut expired = 0;
    for row in due {
        let Some(imp_uid) = row.imp_uid.clone() else {
            continue;
        };
        let found = match portone.payment(&imp_uid) {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "an overdue virtual account could not be looked up");
                continue;
            }
        };
        if found.merchant_uid != row.merchant_uid {
            tracing::error!("PortOne has another order for this virtual account: left alone");
            continue;
        }
        match found.status {
            PaymentStatus::Paid => {
                settle(pool, portone, &row, &found).map_err(|e| anyhow::anyhow!("{e}"))?;
                continue;
            }
            PaymentStatus::Ready | PaymentStatus::Other => {
                if let Err(e) = portone.revoke_vbank(&imp_uid) {
                    tracing::warn!(error = %e, "an overdue virtual account could not be voided");
                    continue;
                }
            }
            PaymentStatus::Cancelled | PaymentStatus::Failed => {}
        }
        let mut conn = connection(pool)?;
        expired += diesel::update(
            payments::table
                .find(row.id)
                .filter(payments::status.eq(Status::Ready.as_str())),
        )
        .set((
            payments::status.eq(Status::Expired.as_str()),
            payments::updated_at.eq(now()),
        ))
        .execute(&mut *conn)?;
    }
    Ok(expired)
}
