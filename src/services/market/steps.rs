//! A trade's steps: buy, the seller's decision, the buyer's cancel before approval (or the
//! scheduler's, when the seller never answered). The confirmation that pays the seller, and
//! disputes, are buyer protection's ([`super::protection`]), shared with auctions.

use crate::domain::msg::Msg;
use std::time::Duration;

use diesel::prelude::*;

use crate::db::once::{self, OnceKey};
use crate::db::schema::trades;
use crate::db::{is_unique_violation, lock_wallets, write_tx, DbConnection};
use crate::domain::market::{ProductId, Quantity, TradeId, TradeStatus};
use crate::domain::notification::NotificationKind;
use crate::domain::{UserId, Won};
use crate::services::notify::{self, Notice};
use crate::services::now;

use super::*;

// ---------------------------------------------------------------- buy

#[derive(Debug, thiserror::Error)]
pub enum BuyError {
    #[error("This product does not exist.")]
    NotFound,
    #[error("You cannot buy your own product.")]
    OwnProduct,
    #[error("You already have a trade for this product: each neighbour can have one.")]
    AlreadyBought,
    #[error("No unit is left: every unit is already reserved or sold.")]
    SoldOut,
    #[error("Only {left} left: ask for at most {left}.")]
    NotEnoughUnits { left: i32 },
    #[error("The price changed to {price} a unit. Check it and buy again if you still want it.")]
    PriceChanged { price: Won },
    #[error("Not enough money in your wallet: the price is {price} and you have {available} available. Top up your wallet first.")]
    InsufficientFunds { price: Won, available: Won },
    #[error("The payment could not be started just now (PortOne did not answer). Nothing was reserved; try again in a moment.")]
    PaymentUnavailable,
    #[error("PortOne refused the payment: {0}. Nothing was reserved.")]
    PaymentRefused(String),
    #[error("Choose one of the listed banks for the virtual account.")]
    VbankBank,
    #[error("Give the depositor's name for the virtual account (1 to 20 characters).")]
    Depositor,
    #[error("A virtual-account purchase needs the account to refund to, should the trade not go ahead: {}", Msg::join(.0, crate::domain::lang::Lang::En))]
    RefundAccount(Vec<Msg>),
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl BuyError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.no_such_product"),
            Self::OwnProduct => Msg::new("err.buy.own_product"),
            Self::AlreadyBought => Msg::new("err.buy.already_bought"),
            Self::SoldOut => Msg::new("err.buy.sold_out"),
            Self::NotEnoughUnits { left } => Msg::new("err.buy.not_enough_units").arg("left", left),
            Self::PriceChanged { price } => Msg::new("err.buy.price_changed").arg("price", price),
            Self::InsufficientFunds { price, available } => Msg::new("err.buy.insufficient_funds")
                .arg("price", price)
                .arg("available", available),
            Self::PaymentUnavailable => Msg::new("err.buy.payment_unavailable"),
            Self::PaymentRefused(a0) => Msg::new("err.buy.payment_refused").arg("0", a0),
            Self::VbankBank => Msg::new("err.buy.vbank_bank"),
            Self::Depositor => Msg::new("err.buy.depositor"),
            Self::RefundAccount(a0) => Msg::new("err.buy.refund_account").arg("0", a0),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(BuyError);

/// What a purchase started.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct Bought {
    pub trade_id: TradeId,
    pub price: Won,
}

/// What a buyer asks for: how many units, and the unit price they saw.
#[derive(Debug, Clone, Copy)]
pub struct Order {
    pub quantity: Quantity,
    /// The unit price on the page the buyer pressed Buy on; a missing or different one is
    /// refused under the product's lock, so a seller cannot switch the price mid-purchase.
    pub expected_price: Option<Won>,
}

/// Start a trade for `order.quantity` units at today's price, holding the whole amount from
/// the buyer's wallet. The seller has `respond_within` to approve or reject it.
#[tracing::instrument(skip(conn), fields(user.id = buyer_id, product.id = product_id))]
pub fn buy(
    conn: &mut DbConnection,
    product_id: ProductId,
    buyer_id: UserId,
    order: Order,
    respond_within: Duration,
    key: Option<&OnceKey>,
) -> Result<Bought, BuyError> {
    let respond_within = chrono::TimeDelta::from_std(respond_within)
        .map_err(|e| BuyError::Unexpected(anyhow::anyhow!("response period: {e}")))?;
    let result = write_tx(conn, |conn| {
        once::run(conn, key, |conn| {
            let (product, price) = checked_order(conn, product_id, buyer_id, order)?;
            let wallet = lock_wallets(conn, &[buyer_id])?
                .into_iter()
                .next()
                .ok_or_else(|| BuyError::Unexpected(anyhow::anyhow!("the buyer has no wallet")))?;
            if wallet.balance < price.get() {
                return Err(BuyError::InsufficientFunds {
                    price,
                    available: Won::from_stored(wallet.balance),
                });
            }
            let at = now();
            let quantity = order.quantity.get();
            let trade_id: i64 = diesel::insert_into(trades::table)
                .values((
                    trades::product_id.eq(product_id),
                    trades::buyer_id.eq(buyer_id),
                    trades::seller_id.eq(product.seller_id),
                    trades::price.eq(price.get()),
                    trades::status.eq(TradeStatus::Requested.as_str()),
                    trades::created_at.eq(at),
                    trades::quantity.eq(quantity),
                    trades::respond_by.eq(at + respond_within),
                ))
                .returning(trades::id)
                .get_result(conn)?;
            hold(conn, trade_id, buyer_id, price.get())?;
            update_units_and_status(conn, product_id, product.units_left - quantity)?;
            let requested = trade_notice(
                NotificationKind::TradeRequested,
                trade_id,
                &product,
                price.get(),
            );
            notify::notify(conn, product.seller_id, &requested)?;
            Ok(Bought { trade_id, price })
        })
    });
    unique_means_already_bought(result)
}

fn unique_means_already_bought<T>(result: Result<T, BuyError>) -> Result<T, BuyError> {
    match result {
        // The UNIQUE (product_id, buyer_id) constraint is the last guard.
        Err(BuyError::Unexpected(e))
            if e.downcast_ref::<diesel::result::Error>()
                .is_some_and(is_unique_violation) =>
        {
            Err(BuyError::AlreadyBought)
        }
        other => other,
    }
}

/// Lock the product and check `order` against it: the product, its units and its price.
/// Gives the product and the whole price.
fn checked_order(
    conn: &mut DbConnection,
    product_id: ProductId,
    buyer_id: UserId,
    order: Order,
) -> Result<(ProductRow, Won), BuyError> {
    let product = lock_product(conn, product_id)?.ok_or(BuyError::NotFound)?;
    if product.seller_id == buyer_id {
        return Err(BuyError::OwnProduct);
    }
    let existing: i64 = trades::table
        .filter(trades::product_id.eq(product_id))
        .filter(trades::buyer_id.eq(buyer_id))
        .count()
        .get_result(conn)?;
    if existing > 0 {
        return Err(BuyError::AlreadyBought);
    }
    if product.units_left <= 0 {
        return Err(BuyError::SoldOut);
    }
    let unit_price = product.price();
    if order.expected_price != Some(unit_price) {
        return Err(BuyError::PriceChanged { price: unit_price });
    }
    let quantity = order.quantity.get();
    if quantity > product.units_left {
        return Err(BuyError::NotEnoughUnits {
            left: product.units_left,
        });
    }
    // At most ₩1,000,000,000 × 1,000: far inside i64.
    let price = Won::from_stored(unit_price.get().saturating_mul(i64::from(quantity)));
    Ok((product, price))
}

// ---------------------------------------------------------------- buy by card

/// Inside the caller's transaction (the payment's row is written in the same one): start a
/// trade for `order` that waits for a card payment. Nothing moves in the wallet; the units are
/// reserved. The seller's time to answer (`respond_within`) starts once it is paid
/// ([`card_paid`]).
pub fn reserve_for_card(
    conn: &mut DbConnection,
    product_id: ProductId,
    buyer_id: UserId,
    order: Order,
    respond_within: Duration,
) -> Result<Bought, BuyError> {
    let respond_within = chrono::TimeDelta::from_std(respond_within)
        .map_err(|e| BuyError::Unexpected(anyhow::anyhow!("response period: {e}")))?;
    let inner = |conn: &mut DbConnection| -> Result<Bought, BuyError> {
        let (product, price) = checked_order(conn, product_id, buyer_id, order)?;
        let at = now();
        let quantity = order.quantity.get();
        // respond_by holds the seller's period from now; card_paid moves it to start at payment.
        let trade_id: i64 = diesel::insert_into(trades::table)
            .values((
                trades::product_id.eq(product_id),
                trades::buyer_id.eq(buyer_id),
                trades::seller_id.eq(product.seller_id),
                trades::price.eq(price.get()),
                trades::status.eq(TradeStatus::AwaitingPayment.as_str()),
                trades::created_at.eq(at),
                trades::quantity.eq(quantity),
                trades::respond_by.eq(at + respond_within),
            ))
            .returning(trades::id)
            .get_result(conn)?;
        update_units_and_status(conn, product_id, product.units_left - quantity)?;
        Ok(Bought { trade_id, price })
    };
    unique_means_already_bought(inner(conn))
}

/// Inside the caller's transaction (the one that recorded the card's deposit): the trade's
/// card payment of `amount` arrived in the buyer's wallet. A trade still waiting for it holds
/// the price (available → held) and goes to the seller (`requested`, with the seller's whole
/// time to answer from now). True when it did; false when the trade no longer waits (the
/// deposit then stays in the wallet).
pub fn card_paid(conn: &mut DbConnection, trade_id: TradeId, amount: i64) -> QueryResult<bool> {
    let Some((product, trade)) = lock_trade(conn, trade_id)? else {
        return Ok(false);
    };
    let product_id = product.id;
    if trade.status() != Some(TradeStatus::AwaitingPayment) || trade.price != amount {
        return Ok(false);
    }
    let at = now();
    let period = trade
        .respond_by
        .map_or(chrono::TimeDelta::hours(72), |by| by - trade.created_at);
    diesel::update(trades::table.find(trade_id))
        .set((
            trades::status.eq(TradeStatus::Requested.as_str()),
            trades::respond_by.eq(at + period),
        ))
        .execute(conn)?;
    hold(conn, trade_id, trade.buyer_id, trade.price)?;
    update_units_and_status(conn, product_id, product.units_left)?;
    let requested = trade_notice(
        NotificationKind::TradeRequested,
        trade_id,
        &product,
        trade.price,
    );
    notify::notify(conn, trade.seller_id, &requested)?;
    Ok(true)
}

/// Inside the caller's transaction (the one that closed its payment unpaid): a trade still
/// waiting for its card payment is cancelled and its units go back on sale. Nothing moved in
/// a wallet, so nothing moves back. True when it was cancelled now.
pub fn card_unpaid(conn: &mut DbConnection, trade_id: TradeId) -> QueryResult<bool> {
    let Some((product, trade)) = lock_trade(conn, trade_id)? else {
        return Ok(false);
    };
    let product_id = product.id;
    if trade.status() != Some(TradeStatus::AwaitingPayment) {
        return Ok(false);
    }
    diesel::update(trades::table.find(trade_id))
        .set((
            trades::status.eq(TradeStatus::Cancelled.as_str()),
            trades::cancelled_at.eq(now()),
        ))
        .execute(conn)?;
    update_units_and_status(conn, product_id, product.units_left + trade.quantity)?;
    Ok(true)
}

// ---------------------------------------------------------------- the seller decides

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("This trade does not exist.")]
    NotFound,
    #[error("Only the seller can approve or reject this trade.")]
    NotSeller,
    #[error("This trade is no longer waiting for your decision.")]
    NotRequested,
    #[error("The buyer has not paid yet: you can approve or reject once the payment arrives.")]
    NotPaid,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl DecideError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.no_such_trade"),
            Self::NotSeller => Msg::new("err.decide.not_seller"),
            Self::NotRequested => Msg::new("err.decide.not_requested"),
            Self::NotPaid => Msg::new("err.decide.not_paid"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(DecideError);

/// The seller approves a requested trade (the auto-confirm clock starts) or rejects it (the
/// hold goes back to the buyer and the unit back on sale). Returns the product's id.
#[tracing::instrument(skip(conn, auto_confirm), fields(user.id = seller_id, trade.id = trade_id))]
pub fn decide(
    conn: &mut DbConnection,
    trade_id: TradeId,
    seller_id: UserId,
    decision: Decision,
    auto_confirm: Duration,
) -> Result<ProductId, DecideError> {
    let period = chrono::TimeDelta::from_std(auto_confirm)
        .map_err(|e| DecideError::Unexpected(anyhow::anyhow!("auto-confirm period: {e}")))?;
    write_tx(conn, |conn| {
        let (product, trade) = lock_trade(conn, trade_id)?.ok_or(DecideError::NotFound)?;
        let product_id = product.id;
        if trade.seller_id != seller_id {
            return Err(DecideError::NotSeller);
        }
        match trade.status() {
            Some(TradeStatus::Requested) => {}
            Some(TradeStatus::AwaitingPayment) => return Err(DecideError::NotPaid),
            _ => return Err(DecideError::NotRequested),
        }
        let at = now();
        match decision {
            Decision::Approve => {
                diesel::update(trades::table.find(trade_id))
                    .set((
                        trades::status.eq(TradeStatus::Approved.as_str()),
                        trades::approved_at.eq(at),
                        trades::auto_confirm_at.eq(at + period),
                    ))
                    .execute(conn)?;
                update_units_and_status(conn, product_id, product.units_left)?;
                let approved = trade_notice(
                    NotificationKind::TradeApproved,
                    trade_id,
                    &product,
                    trade.price,
                );
                notify::notify(conn, trade.buyer_id, &approved)?;
            }
            Decision::Reject => {
                lock_wallets(conn, &[trade.buyer_id])?;
                diesel::update(trades::table.find(trade_id))
                    .set(trades::status.eq(TradeStatus::Rejected.as_str()))
                    .execute(conn)?;
                release(conn, trade_id, trade.buyer_id, trade.price)?;
                hold_card_refund(conn, trade_id)?;
                update_units_and_status(conn, product_id, product.units_left + trade.quantity)?;
                let rejected = trade_notice(
                    NotificationKind::TradeRejected,
                    trade_id,
                    &product,
                    trade.price,
                );
                notify::notify(conn, trade.buyer_id, &rejected)?;
            }
        }
        Ok(product_id)
    })
}

// ---------------------------------------------------------------- cancel before approval

/// Who cancels a requested trade: its buyer, or the scheduler once the seller's time to
/// answer has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeCanceller {
    Buyer(UserId),
    Scheduler,
}

#[derive(Debug, thiserror::Error)]
pub enum CancelTradeError {
    #[error("This trade does not exist.")]
    NotFound,
    #[error("Only the buyer can cancel this trade.")]
    NotBuyer,
    #[error("The seller has already answered: this trade can no longer be cancelled.")]
    NotRequested,
    #[error("This purchase is waiting for its payment: cancel it from its product page.")]
    AwaitingPayment,
    #[error("PortOne could not be reached to stop the payment, so nothing was cancelled. Try again in a moment.")]
    PaymentUnavailable,
    #[error("The seller still has time to answer.")]
    NotDue,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl CancelTradeError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.no_such_trade"),
            Self::NotBuyer => Msg::new("err.cancel_trade.not_buyer"),
            Self::NotRequested => Msg::new("err.cancel_trade.not_requested"),
            Self::AwaitingPayment => Msg::new("err.cancel_trade.awaiting_payment"),
            Self::PaymentUnavailable => Msg::new("err.cancel_trade.payment_unavailable"),
            Self::NotDue => Msg::new("err.cancel_trade.not_due"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(CancelTradeError);

/// Cancel a trade the seller has not approved: the hold goes back to the buyer and the units
/// back on sale, in one transaction. Returns the product's id.
#[tracing::instrument(skip(conn), fields(trade.id = trade_id))]
pub fn cancel_trade(
    conn: &mut DbConnection,
    trade_id: TradeId,
    by: TradeCanceller,
) -> Result<ProductId, CancelTradeError> {
    write_tx(conn, |conn| {
        let (product, trade) = lock_trade(conn, trade_id)?.ok_or(CancelTradeError::NotFound)?;
        let product_id = product.id;
        let at = now();
        match by {
            TradeCanceller::Buyer(user) if user != trade.buyer_id => {
                return Err(CancelTradeError::NotBuyer)
            }
            TradeCanceller::Buyer(_) => {}
            TradeCanceller::Scheduler => {
                if trade.respond_by.is_none_or(|due| due > at) {
                    return Err(CancelTradeError::NotDue);
                }
            }
        }
        match trade.status() {
            Some(TradeStatus::Requested) => {}
            Some(TradeStatus::AwaitingPayment) => return Err(CancelTradeError::AwaitingPayment),
            _ => return Err(CancelTradeError::NotRequested),
        }
        lock_wallets(conn, &[trade.buyer_id])?;
        diesel::update(trades::table.find(trade_id))
            .set((
                trades::status.eq(TradeStatus::Cancelled.as_str()),
                trades::cancelled_at.eq(at),
            ))
            .execute(conn)?;
        release(conn, trade_id, trade.buyer_id, trade.price)?;
        hold_card_refund(conn, trade_id)?;
        update_units_and_status(conn, product_id, product.units_left + trade.quantity)?;
        // The buyer cancelled: the seller hears of it; the site cancelled: both do.
        let cancelled = trade_notice(
            NotificationKind::TradeCancelled,
            trade_id,
            &product,
            trade.price,
        );
        if by == TradeCanceller::Scheduler {
            notify::notify(conn, trade.buyer_id, &cancelled)?;
        }
        notify::notify(conn, trade.seller_id, &cancelled)?;
        Ok(product_id)
    })
}

/// Cancel every requested trade whose seller let the time to answer pass (the scheduler).
pub fn cancel_unanswered_trades(conn: &mut DbConnection) -> anyhow::Result<usize> {
    let due: Vec<i64> = trades::table
        .filter(trades::status.eq(TradeStatus::Requested.as_str()))
        .filter(trades::respond_by.le(now()))
        .order(trades::respond_by.asc())
        .limit(100)
        .select(trades::id)
        .load(conn)?;
    let mut cancelled = 0;
    for id in due {
        match cancel_trade(conn, id, TradeCanceller::Scheduler) {
            Ok(_) => {
                cancelled += 1;
                tracing::info!(trade.id = id, "unanswered trade cancelled");
            }
            // The seller answered, or the buyer cancelled, in the meantime.
            Err(
                CancelTradeError::NotRequested
                | CancelTradeError::AwaitingPayment
                | CancelTradeError::NotDue
                | CancelTradeError::NotFound,
            ) => {}
            Err(e) => return Err(anyhow::Error::new(e)),
        }
    }
    Ok(cancelled)
}

/// A notification about trade `trade_id` of `product` at `price`.
fn trade_notice(
    kind: NotificationKind,
    trade_id: TradeId,
    product: &ProductRow,
    price: i64,
) -> Notice {
    Notice::trade(
        kind,
        trade_id,
        product.id,
        &product.name,
        Some(Won::from_stored(price)),
    )
}
