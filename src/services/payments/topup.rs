//! Wallet top-ups: by card through the checkout, or into a virtual account.

use crate::domain::msg::Msg;
use diesel::prelude::*;

use crate::db::once::{self, OnceKey};
use crate::db::schema::payments;
use crate::db::{lock_user, write_tx, DbPool};
use crate::domain::{AmountError, UserId, Won};
use crate::portone::PortOne;
use crate::services::now;

use super::vbank::{self, VbankOrder};
use super::{connection, new_uid, Status};

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

#[derive(Debug, thiserror::Error)]
pub enum TopUpError {
    #[error("{}", .0.text(crate::domain::lang::Lang::En))]
    Amount(Msg),
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

impl TopUpError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::Amount(why) => why.clone(),
            Self::DailyCap { left } => Msg::new("err.top_up.daily_cap")
                .arg("left", left)
                .arg("DAILY_CAP", DAILY_CAP),
            Self::NotAvailable => Msg::new("err.top_up.not_available"),
            Self::Bank => Msg::new("err.top_up.bank"),
            Self::Depositor => Msg::new("err.top_up.depositor"),
            Self::Refused(a0) => Msg::new("err.top_up.refused").arg("0", a0),
            Self::PortOneUnavailable => Msg::new("err.top_up.port_one_unavailable"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(TopUpError);

fn amount_reason(e: &AmountError) -> Msg {
    match e {
        AmountError::TooSmall(_) => Msg::new("err.top_up.too_small").arg("min", TOPUP_MIN),
        AmountError::TooLarge(_) => Msg::new("err.top_up.too_large").arg("max", TOPUP_MAX),
        other => other.msg(),
    }
}

/// 32 random hex digits behind `topup_`: nobody can guess another member's payment.
fn new_merchant_uid() -> String {
    new_uid("topup")
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
    key: Option<&OnceKey>,
) -> Result<String, TopUpError> {
    let amount = Won::parse_within(amount_text, TOPUP_MIN, TOPUP_MAX)
        .map_err(|e| TopUpError::Amount(amount_reason(&e)))?;
    if let TopUpMethod::Vbank {
        bank_code,
        depositor,
        ..
    } = how
    {
        if !vbank::valid_bank(bank_code) {
            return Err(TopUpError::Bank);
        }
        if !vbank::valid_depositor(depositor) {
            return Err(TopUpError::Depositor);
        }
    }
    let fresh_uid = new_merchant_uid();
    let (merchant_uid, replayed) = {
        let mut conn = connection(pool)?;
        write_tx(&mut conn, |conn| {
            once::run_flagged(conn, key, |conn| -> Result<String, TopUpError> {
                let uid = fresh_uid.clone();
                lock_user(conn, user_id)?;
                let at = now();
                let since = at - chrono::Duration::hours(24);
                let started: i64 = payments::table
                    .filter(payments::user_id.eq(user_id))
                    .filter(payments::created_at.gt(since))
                    .filter(
                        payments::status.eq_any([Status::Ready.as_str(), Status::Paid.as_str()]),
                    )
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
                Ok(uid)
            })
        })?
    };
    if replayed {
        // A resubmitted form: the payment it started the first time, nothing asked again.
        return Ok(merchant_uid);
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
        let order = VbankOrder {
            merchant_uid: &merchant_uid,
            amount,
            bank_code,
            depositor,
            due: *due,
            notice_url: notice_url.clone(),
            name: "NeighborBid wallet top-up",
        };
        if let Err(e) = vbank::issue(pool, portone, &order)? {
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
