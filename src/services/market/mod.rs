//! The fixed-price market: listing products ([`catalog`]), a trade's steps ([`steps`]: buy —
//! the price held from the buyer's wallet —, the seller's approval or rejection, the buyer's
//! cancel before approval, the confirmation that pays the seller) and the queries the pages
//! show ([`queries`]). The rows and the money moves they share live here.
//!
//! Every use case that writes is one [`write_tx`] that locks the product row first and then
//! the wallets it touches in ascending user id (DESIGN.md §4).

mod catalog;
mod protection;
mod queries;
mod steps;

pub use catalog::*;
pub use protection::*;
pub use queries::*;
pub use steps::*;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{products, trades};
use crate::db::DbConnection;
use crate::domain::market::{ProductId, ProductStatus, TradeId, TradeStatus};
use crate::domain::{LedgerKind, UserId, Won};
use crate::services::now;
use crate::services::wallet::move_money;

// ---------------------------------------------------------------- rows

/// A product row as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = products)]
pub struct ProductRow {
    pub id: i64,
    pub seller_id: i64,
    pub name: String,
    pub description: String,
    pub price: i64,
    pub quantity: i32,
    pub units_left: i32,
    pub status: String,
    pub category_id: i64,
    pub region_id: i64,
    pub image_path: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ProductRow {
    pub fn price(&self) -> Won {
        Won::from_stored(self.price)
    }

    pub fn status(&self) -> ProductStatus {
        ProductStatus::parse(&self.status).unwrap_or(ProductStatus::OnSale)
    }
}

/// A trade row as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = trades)]
pub struct TradeRow {
    pub id: i64,
    /// A market trade's product (empty for an auction's trade).
    pub product_id: Option<i64>,
    pub buyer_id: i64,
    pub seller_id: i64,
    pub price: i64,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub approved_at: Option<NaiveDateTime>,
    pub confirmed_at: Option<NaiveDateTime>,
    pub auto_confirm_at: Option<NaiveDateTime>,
    /// Units in this trade; `price` is what all of them cost together.
    pub quantity: i32,
    /// The seller must approve or reject by then, or the trade is cancelled.
    pub respond_by: Option<NaiveDateTime>,
    pub cancelled_at: Option<NaiveDateTime>,
    /// A won auction's trade: the auction (empty for a market trade).
    pub auction_id: Option<i64>,
    pub disputed_at: Option<NaiveDateTime>,
    /// An admin's decision on a dispute (`refund_buyer` or `pay_seller`) and why.
    pub resolution: Option<String>,
    pub resolution_reason: Option<String>,
    pub resolved_by: Option<i64>,
    pub resolved_at: Option<NaiveDateTime>,
}

impl TradeRow {
    pub fn status(&self) -> Option<TradeStatus> {
        TradeStatus::parse(&self.status)
    }
}

/// Lock one product row for the rest of the transaction (the first lock of every market
/// use case). PostgreSQL: `SELECT … FOR UPDATE`; SQLite: `BEGIN IMMEDIATE` already holds
/// the database's write lock.
pub(super) fn lock_product(
    conn: &mut DbConnection,
    id: ProductId,
) -> QueryResult<Option<ProductRow>> {
    crate::first_for_update!(
        conn,
        products::table.find(id).select(ProductRow::as_select())
    )
}

pub fn find_trade(conn: &mut DbConnection, id: TradeId) -> QueryResult<Option<TradeRow>> {
    trades::table
        .find(id)
        .select(TradeRow::as_select())
        .first(conn)
        .optional()
}

/// A trade and its product, the product row locked first (the global lock order) and the trade
/// read again under that lock: every change to a trade holds its product's lock.
pub(super) fn lock_trade(
    conn: &mut DbConnection,
    id: TradeId,
) -> QueryResult<Option<(ProductRow, TradeRow)>> {
    // An auction's trade has no product: none of the market's own steps applies to it.
    let Some(product_id) = find_trade(conn, id)?.and_then(|t| t.product_id) else {
        return Ok(None);
    };
    let Some(product) = lock_product(conn, product_id)? else {
        return Ok(None);
    };
    Ok(find_trade(conn, id)?.map(|trade| (product, trade)))
}

/// Store `units_left` and the status that follows from it and the product's open trades.
pub(super) fn update_units_and_status(
    conn: &mut DbConnection,
    product_id: ProductId,
    units_left: i32,
) -> QueryResult<ProductStatus> {
    let open: i64 = trades::table
        .filter(trades::product_id.eq(product_id))
        .filter(trades::status.eq_any(TradeStatus::OPEN))
        .count()
        .get_result(conn)?;
    let status = ProductStatus::follow(units_left, open);
    diesel::update(products::table.find(product_id))
        .set((
            products::units_left.eq(units_left),
            products::status.eq(status.as_str()),
            products::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(status)
}

pub(super) fn trade_reference(id: TradeId) -> String {
    format!("trade #{id}")
}

// ---------------------------------------------------------------- the money moves of a trade

/// Buy: the price moves from the buyer's available money to their held money.
pub(super) fn hold(
    conn: &mut DbConnection,
    trade: TradeId,
    buyer: UserId,
    price: i64,
) -> QueryResult<()> {
    let reference = trade_reference(trade);
    move_money(
        conn,
        buyer,
        LedgerKind::PurchaseHold,
        -price,
        price,
        reference,
    )
}

/// Reject (or cancel) before approval: the held price goes back to the buyer.
pub(super) fn release(
    conn: &mut DbConnection,
    trade: TradeId,
    buyer: UserId,
    price: i64,
) -> QueryResult<()> {
    let reference = trade_reference(trade);
    move_money(
        conn,
        buyer,
        LedgerKind::PurchaseRelease,
        price,
        -price,
        reference,
    )
}

/// Confirm: the held price leaves the buyer and arrives in the seller's balance.
pub(super) fn pay_seller(
    conn: &mut DbConnection,
    trade: TradeId,
    buyer: UserId,
    seller: UserId,
    price: i64,
) -> QueryResult<()> {
    let reference = trade_reference(trade);
    move_money(
        conn,
        buyer,
        LedgerKind::PurchaseOut,
        0,
        -price,
        reference.clone(),
    )?;
    move_money(conn, seller, LedgerKind::PurchaseIn, price, 0, reference)
}

/// Inside a reject's or a cancel's transaction, right after the hold went back to the buyer:
/// a trade paid by card returns the money the way it came. The same amount is held again
/// (`refund_hold`) under a pending refund of its payment, which `services::refunds` then asks
/// PortOne to cancel (settled as `withdrawal` once PortOne confirms). Nothing for a trade
/// paid from the wallet, or whose payment already has a refund. True when a refund is now held.
pub(super) fn hold_card_refund(conn: &mut DbConnection, trade: TradeId) -> QueryResult<bool> {
    use crate::db::schema::{payment_refunds, payments};
    let paid: Option<(i64, i64, i64, String)> = payments::table
        .filter(payments::trade_id.eq(trade))
        .filter(payments::purpose.eq("trade"))
        .filter(payments::status.eq("paid"))
        .select((
            payments::id,
            payments::user_id,
            payments::amount,
            payments::merchant_uid,
        ))
        .first(conn)
        .optional()?;
    let Some((payment_id, buyer, amount, merchant_uid)) = paid else {
        return Ok(false);
    };
    let earlier: i64 = payment_refunds::table
        .filter(payment_refunds::payment_id.eq(payment_id))
        .count()
        .get_result(conn)?;
    if earlier > 0 {
        return Ok(false);
    }
    diesel::insert_into(payment_refunds::table)
        .values((
            payment_refunds::payment_id.eq(payment_id),
            payment_refunds::user_id.eq(buyer),
            payment_refunds::amount.eq(amount),
            payment_refunds::checksum.eq(amount),
            payment_refunds::reason.eq(format!(
                "{} did not go ahead: paid back to the card",
                trade_reference(trade)
            )),
            payment_refunds::status.eq("pending"),
            payment_refunds::created_at.eq(now()),
        ))
        .execute(conn)?;
    move_money(
        conn,
        buyer,
        LedgerKind::RefundHold,
        -amount,
        amount,
        format!("refund of payment {merchant_uid}"),
    )?;
    Ok(true)
}

/// Lock the product of `trade` (the first lock of a transaction that then touches the trade
/// and wallets, as every market use case does).
pub fn lock_trade_product(conn: &mut DbConnection, trade: TradeId) -> QueryResult<()> {
    if let Some(product_id) = find_trade(conn, trade)?.and_then(|t| t.product_id) {
        lock_product(conn, product_id)?;
    }
    Ok(())
}
