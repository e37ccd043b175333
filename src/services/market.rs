//! The fixed-price market: listing products, buying one unit (the price held from the buyer's
//! wallet), the seller's approval or rejection, the buyer's confirmation (or the scheduler's,
//! after the auto-confirm period) that pays the seller, and the queries the pages show.
//!
//! Every use case that writes is one [`write_tx`] that locks the product row first and then
//! the wallets it touches in ascending user id (DESIGN.md §4).

use std::collections::HashMap;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{categories, products, trades, users};
use crate::db::{is_unique_violation, like_pattern, lock_wallets, lower, write_tx, DbConnection};
use crate::domain::image::Image;
use crate::domain::market::{CategoryId, ProductId, ProductStatus, Quantity, TradeId, TradeStatus};
use crate::domain::{Description, LedgerKind, RegionId, Title, UserId, Won};
use crate::services::now;
use crate::services::reference::{Category, Reference, Region};
use crate::services::wallet::move_money;

/// Journal kinds of the market.
type Backend = <DbConnection as Connection>::Backend;

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
    pub product_id: i64,
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
}

impl TradeRow {
    pub fn status(&self) -> Option<TradeStatus> {
        TradeStatus::parse(&self.status)
    }
}

/// Lock one product row for the rest of the transaction (the first lock of every market
/// use case). PostgreSQL: `SELECT … FOR UPDATE`; SQLite: `BEGIN IMMEDIATE` already holds
/// the database's write lock.
fn lock_product(conn: &mut DbConnection, id: ProductId) -> QueryResult<Option<ProductRow>> {
    crate::first_for_update!(
        conn,
        products::table.find(id).select(ProductRow::as_select())
    )
}

fn find_trade(conn: &mut DbConnection, id: TradeId) -> QueryResult<Option<TradeRow>> {
    trades::table
        .find(id)
        .select(TradeRow::as_select())
        .first(conn)
        .optional()
}

/// Store `units_left` and the status that follows from it and the product's open trades.
fn update_units_and_status(
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

fn trade_reference(id: TradeId) -> String {
    format!("trade #{id}")
}

// ---------------------------------------------------------------- the money moves of a trade

/// Buy: the price moves from the buyer's available money to their held money.
fn hold(conn: &mut DbConnection, trade: TradeId, buyer: UserId, price: i64) -> QueryResult<()> {
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
fn release(conn: &mut DbConnection, trade: TradeId, buyer: UserId, price: i64) -> QueryResult<()> {
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
fn pay_seller(
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

// ---------------------------------------------------------------- list a product

/// A product ready to list: every field already parsed.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub name: Title,
    pub description: Description,
    pub price: Won,
    pub quantity: Quantity,
    pub category_id: CategoryId,
    pub region_id: RegionId,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateProductError {
    #[error("Choose a category from the list.")]
    UnknownCategory,
    #[error("Choose a neighbourhood from the list.")]
    UnknownRegion,
    #[error("You can add at most {per_day} photos in 24 hours. List it without a photo, or try again later.")]
    TooManyPhotos { per_day: u32 },
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
crate::unexpected_error!(CreateProductError);

/// List a product. The image, when there is one, is stored under `uploads` first (and
/// counted against the seller's photos per 24 hours in the same transaction) and removed again
/// if the product cannot be created.
#[tracing::instrument(skip_all, fields(user.id = seller_id))]
pub fn create_product(
    conn: &mut DbConnection,
    uploads: &crate::services::images::Uploads,
    seller_id: UserId,
    new: &NewProduct,
    image: Option<&Image>,
) -> Result<ProductId, CreateProductError> {
    let stored = match image {
        Some(img) => Some(crate::services::images::store(uploads, img)?),
        None => None,
    };
    let result = write_tx(conn, |conn| {
        let category: Option<i64> = categories::table
            .find(new.category_id)
            .select(categories::id)
            .first(conn)
            .optional()?;
        if category.is_none() {
            return Err(CreateProductError::UnknownCategory);
        }
        if !crate::services::reference::is_neighbourhood(conn, new.region_id)? {
            return Err(CreateProductError::UnknownRegion);
        }
        let at = now();
        if let Some(photo) = &stored {
            if !crate::services::images::record(conn, seller_id, photo, at)? {
                return Err(CreateProductError::TooManyPhotos {
                    per_day: photo.per_day,
                });
            }
        }
        let id: i64 = diesel::insert_into(products::table)
            .values((
                products::seller_id.eq(seller_id),
                products::name.eq(new.name.as_str()),
                products::description.eq(new.description.as_str()),
                products::price.eq(new.price.get()),
                products::quantity.eq(new.quantity.get()),
                products::units_left.eq(new.quantity.get()),
                products::status.eq(ProductStatus::OnSale.as_str()),
                products::category_id.eq(new.category_id),
                products::region_id.eq(new.region_id),
                products::image_path.eq(stored.as_ref().map(|p| p.name.as_str())),
                products::created_at.eq(at),
                products::updated_at.eq(at),
            ))
            .returning(products::id)
            .get_result(conn)?;
        Ok(id)
    });
    if result.is_err() {
        if let Some(photo) = &stored {
            crate::services::images::remove(&uploads.dir, &photo.name);
        }
    }
    result
}

// ---------------------------------------------------------------- change the price

#[derive(Debug, thiserror::Error)]
pub enum ChangePriceError {
    #[error("This product does not exist.")]
    NotFound,
    #[error("Only the seller can change the price.")]
    NotSeller,
    #[error("Every unit is sold; the price can no longer change.")]
    Completed,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
crate::unexpected_error!(ChangePriceError);

/// Set a new price for the units still to be sold; existing trades keep their price.
#[tracing::instrument(skip(conn), fields(user.id = seller_id, product.id = product_id))]
pub fn change_price(
    conn: &mut DbConnection,
    product_id: ProductId,
    seller_id: UserId,
    price: Won,
) -> Result<(), ChangePriceError> {
    write_tx(conn, |conn| {
        let product = lock_product(conn, product_id)?.ok_or(ChangePriceError::NotFound)?;
        if product.seller_id != seller_id {
            return Err(ChangePriceError::NotSeller);
        }
        if product.status() == ProductStatus::Completed {
            return Err(ChangePriceError::Completed);
        }
        diesel::update(products::table.find(product_id))
            .set((
                products::price.eq(price.get()),
                products::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    })
}

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
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
crate::unexpected_error!(BuyError);

/// What a purchase started.
#[derive(Debug, Clone, Copy)]
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
) -> Result<Bought, BuyError> {
    let respond_within = chrono::TimeDelta::from_std(respond_within)
        .map_err(|e| BuyError::Unexpected(anyhow::anyhow!("response period: {e}")))?;
    let result = write_tx(conn, |conn| {
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
        Ok(Bought { trade_id, price })
    });
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
    #[error(transparent)]
    Unexpected(anyhow::Error),
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
        let product_id = find_trade(conn, trade_id)?
            .ok_or(DecideError::NotFound)?
            .product_id;
        let product = lock_product(conn, product_id)?.ok_or(DecideError::NotFound)?;
        // Read again under the product's lock: every change to a trade holds it.
        let trade = find_trade(conn, trade_id)?.ok_or(DecideError::NotFound)?;
        if trade.seller_id != seller_id {
            return Err(DecideError::NotSeller);
        }
        if trade.status() != Some(TradeStatus::Requested) {
            return Err(DecideError::NotRequested);
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
            }
            Decision::Reject => {
                lock_wallets(conn, &[trade.buyer_id])?;
                diesel::update(trades::table.find(trade_id))
                    .set(trades::status.eq(TradeStatus::Rejected.as_str()))
                    .execute(conn)?;
                release(conn, trade_id, trade.buyer_id, trade.price)?;
                update_units_and_status(conn, product_id, product.units_left + trade.quantity)?;
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
    #[error("The seller still has time to answer.")]
    NotDue,
    #[error(transparent)]
    Unexpected(anyhow::Error),
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
        let product_id = find_trade(conn, trade_id)?
            .ok_or(CancelTradeError::NotFound)?
            .product_id;
        let product = lock_product(conn, product_id)?.ok_or(CancelTradeError::NotFound)?;
        let trade = find_trade(conn, trade_id)?.ok_or(CancelTradeError::NotFound)?;
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
        if trade.status() != Some(TradeStatus::Requested) {
            return Err(CancelTradeError::NotRequested);
        }
        lock_wallets(conn, &[trade.buyer_id])?;
        diesel::update(trades::table.find(trade_id))
            .set((
                trades::status.eq(TradeStatus::Cancelled.as_str()),
                trades::cancelled_at.eq(at),
            ))
            .execute(conn)?;
        release(conn, trade_id, trade.buyer_id, trade.price)?;
        update_units_and_status(conn, product_id, product.units_left + trade.quantity)?;
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
                | CancelTradeError::NotDue
                | CancelTradeError::NotFound,
            ) => {}
            Err(e) => return Err(anyhow::Error::new(e)),
        }
    }
    Ok(cancelled)
}

// ---------------------------------------------------------------- confirm receipt

/// Who confirms: the buyer, or the scheduler once the auto-confirm time has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmer {
    Buyer(UserId),
    Scheduler,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error("This trade does not exist.")]
    NotFound,
    #[error("Only the buyer can confirm this trade.")]
    NotBuyer,
    #[error("This trade is waiting for the seller's approval; it can be confirmed once approved.")]
    NotApproved,
    #[error("This trade is already settled.")]
    Settled,
    #[error("This trade is not due for automatic confirmation yet.")]
    NotDue,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
crate::unexpected_error!(ConfirmError);

/// Confirm receipt of an approved trade: the held price leaves the buyer's locked money and
/// arrives in the seller's balance. Returns the product's id.
#[tracing::instrument(skip(conn), fields(trade.id = trade_id))]
pub fn confirm(
    conn: &mut DbConnection,
    trade_id: TradeId,
    by: Confirmer,
) -> Result<ProductId, ConfirmError> {
    write_tx(conn, |conn| {
        let product_id = find_trade(conn, trade_id)?
            .ok_or(ConfirmError::NotFound)?
            .product_id;
        let product = lock_product(conn, product_id)?.ok_or(ConfirmError::NotFound)?;
        let trade = find_trade(conn, trade_id)?.ok_or(ConfirmError::NotFound)?;
        let at = now();
        match by {
            Confirmer::Buyer(user) if user != trade.buyer_id => return Err(ConfirmError::NotBuyer),
            Confirmer::Buyer(_) => {}
            Confirmer::Scheduler => {
                if trade.auto_confirm_at.is_none_or(|due| due > at) {
                    return Err(ConfirmError::NotDue);
                }
            }
        }
        match trade.status() {
            Some(TradeStatus::Approved) => {}
            Some(TradeStatus::Requested) => return Err(ConfirmError::NotApproved),
            _ => return Err(ConfirmError::Settled),
        }
        lock_wallets(conn, &[trade.buyer_id, trade.seller_id])?;
        diesel::update(trades::table.find(trade_id))
            .set((
                trades::status.eq(TradeStatus::Confirmed.as_str()),
                trades::confirmed_at.eq(at),
            ))
            .execute(conn)?;
        pay_seller(conn, trade_id, trade.buyer_id, trade.seller_id, trade.price)?;
        update_units_and_status(conn, product_id, product.units_left)?;
        Ok(product_id)
    })
}

/// Confirm every approved trade whose auto-confirm time has passed, each in its own
/// transaction. Returns how many were confirmed now.
#[tracing::instrument(skip_all)]
pub fn confirm_due_trades(conn: &mut DbConnection) -> anyhow::Result<usize> {
    let due: Vec<i64> = trades::table
        .filter(trades::status.eq(TradeStatus::Approved.as_str()))
        .filter(trades::auto_confirm_at.le(now()))
        .order(trades::auto_confirm_at.asc())
        .limit(100)
        .select(trades::id)
        .load(conn)?;
    let mut confirmed = 0;
    for id in due {
        match confirm(conn, id, Confirmer::Scheduler) {
            Ok(_) => {
                confirmed += 1;
                tracing::info!(trade.id = id, "trade confirmed automatically");
            }
            // The buyer confirmed it in the meantime.
            Err(ConfirmError::Settled | ConfirmError::NotDue | ConfirmError::NotFound) => {}
            Err(e) => return Err(anyhow::Error::new(e)),
        }
    }
    Ok(confirmed)
}

// ---------------------------------------------------------------- what the pages show

/// A product with the names the pages show.
#[derive(Debug, Clone)]
pub struct ProductCard {
    pub product: ProductRow,
    pub seller_name: String,
    pub region_name: String,
    pub category_name: String,
}

/// The list's filters, already parsed.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    pub text: Option<String>,
    pub region_id: Option<RegionId>,
    pub category_id: Option<CategoryId>,
    pub status: Option<ProductStatus>,
}

fn filtered<'a>(
    filter: &ProductFilter,
    regions_in: Option<Vec<RegionId>>,
) -> products::BoxedQuery<'a, Backend> {
    let mut q = products::table.into_boxed();
    if let Some(text) = filter.text.as_deref() {
        let pattern = like_pattern(text);
        q = q.filter(
            lower(products::name)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(products::description).like(pattern).escape('\\')),
        );
    }
    if let Some(ids) = regions_in {
        q = q.filter(products::region_id.eq_any(ids));
    }
    if let Some(c) = filter.category_id {
        q = q.filter(products::category_id.eq(c));
    }
    if let Some(s) = filter.status {
        q = q.filter(products::status.eq(s.as_str()));
    }
    q
}

/// The names of users, by id.
fn user_names(conn: &mut DbConnection, ids: &[UserId]) -> QueryResult<HashMap<UserId, String>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

fn cards(
    conn: &mut DbConnection,
    rows: Vec<ProductRow>,
    regions: &[Region],
    categories: &[Category],
) -> QueryResult<Vec<ProductCard>> {
    let sellers: Vec<i64> = rows.iter().map(|p| p.seller_id).collect();
    let names = user_names(conn, &sellers)?;
    Ok(rows
        .into_iter()
        .map(|product| ProductCard {
            seller_name: names.get(&product.seller_id).cloned().unwrap_or_default(),
            region_name: regions
                .iter()
                .find(|r| r.id == product.region_id)
                .map(|r| r.full_name.clone())
                .unwrap_or_default(),
            category_name: categories
                .iter()
                .find(|c| c.id == product.category_id)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            product,
        })
        .collect())
}

/// One page of the market, newest first, and the number of products matching in all,
/// with the regions and categories the filter form offers.
pub struct ProductPage {
    pub cards: Vec<ProductCard>,
    pub total: i64,
    pub regions: Vec<Region>,
    pub categories: Vec<Category>,
}

pub fn list_products(
    conn: &mut DbConnection,
    reference: &Reference,
    filter: &ProductFilter,
    page: i64,
    per_page: i64,
) -> QueryResult<ProductPage> {
    let (regions, categories) = (&reference.regions, &reference.categories);
    let regions_in = filter.region_id.map(|r| reference.with_descendants(r));
    let total: i64 = filtered(filter, regions_in.clone())
        .count()
        .get_result(conn)?;
    let rows = filtered(filter, regions_in)
        .order(products::id.desc())
        .limit(per_page)
        .offset((page.max(1) - 1).saturating_mul(per_page))
        .select(ProductRow::as_select())
        .load(conn)?;
    let cards = cards(conn, rows, regions, categories)?;
    Ok(ProductPage {
        cards,
        total,
        regions: regions.clone(),
        categories: categories.clone(),
    })
}

/// A trade with the names the pages show.
#[derive(Debug, Clone)]
pub struct TradeView {
    pub trade: TradeRow,
    pub product_name: String,
    pub buyer_name: String,
    pub seller_name: String,
}

impl TradeView {
    pub fn price(&self) -> Won {
        Won::from_stored(self.trade.price)
    }

    pub fn status(&self) -> TradeStatus {
        self.trade.status().unwrap_or(TradeStatus::Requested)
    }
}

fn trade_views(conn: &mut DbConnection, rows: Vec<TradeRow>) -> QueryResult<Vec<TradeView>> {
    let mut product_ids: Vec<i64> = rows.iter().map(|t| t.product_id).collect();
    product_ids.sort_unstable();
    product_ids.dedup();
    let product_names: HashMap<i64, String> = products::table
        .filter(products::id.eq_any(product_ids))
        .select((products::id, products::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let people: Vec<i64> = rows
        .iter()
        .flat_map(|t| [t.buyer_id, t.seller_id])
        .collect();
    let names = user_names(conn, &people)?;
    Ok(rows
        .into_iter()
        .map(|trade| TradeView {
            product_name: product_names
                .get(&trade.product_id)
                .cloned()
                .unwrap_or_default(),
            buyer_name: names.get(&trade.buyer_id).cloned().unwrap_or_default(),
            seller_name: names.get(&trade.seller_id).cloned().unwrap_or_default(),
            trade,
        })
        .collect())
}

/// One product's page: the product, and the trades the viewer may see (the seller sees
/// every trade of the product; a buyer sees their own).
pub struct ProductDetail {
    pub card: ProductCard,
    pub trades: Vec<TradeView>,
}

pub fn product_detail(
    conn: &mut DbConnection,
    reference: &Reference,
    product_id: ProductId,
    viewer: Option<UserId>,
) -> QueryResult<Option<ProductDetail>> {
    let Some(row) = products::table
        .find(product_id)
        .select(ProductRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let seller_id = row.seller_id;
    let card = cards(conn, vec![row], &reference.regions, &reference.categories)?
        .into_iter()
        .next()
        .ok_or(diesel::result::Error::NotFound)?;
    let trades = match viewer {
        Some(v) if v == seller_id => trades::table
            .filter(trades::product_id.eq(product_id))
            .order(trades::id.asc())
            .select(TradeRow::as_select())
            .load(conn)?,
        Some(v) => trades::table
            .filter(trades::product_id.eq(product_id))
            .filter(trades::buyer_id.eq(v))
            .select(TradeRow::as_select())
            .load(conn)?,
        None => Vec::new(),
    };
    let trades = trade_views(conn, trades)?;
    Ok(Some(ProductDetail { card, trades }))
}

/// The product a trade belongs to.
pub fn product_of_trade(
    conn: &mut DbConnection,
    trade_id: TradeId,
) -> QueryResult<Option<ProductId>> {
    trades::table
        .find(trade_id)
        .select(trades::product_id)
        .first(conn)
        .optional()
}

/// Most trades a "my trades" page lists.
pub const MY_TRADES_LIMIT: i64 = 200;

/// Every trade where `user` is the buyer, newest first.
pub fn purchases(conn: &mut DbConnection, user: UserId) -> QueryResult<Vec<TradeView>> {
    let rows = trades::table
        .filter(trades::buyer_id.eq(user))
        .order(trades::id.desc())
        .limit(MY_TRADES_LIMIT)
        .select(TradeRow::as_select())
        .load(conn)?;
    trade_views(conn, rows)
}

/// Trades in progress (requested or approved) where `user` is the buyer or the seller.
pub fn reservations(conn: &mut DbConnection, user: UserId) -> QueryResult<Vec<TradeView>> {
    let rows = trades::table
        .filter(trades::buyer_id.eq(user).or(trades::seller_id.eq(user)))
        .filter(trades::status.eq_any(TradeStatus::OPEN))
        .order(trades::id.desc())
        .limit(MY_TRADES_LIMIT)
        .select(TradeRow::as_select())
        .load(conn)?;
    trade_views(conn, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(like_pattern("Lamp"), "%lamp%");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
