//! What the market pages show: product cards with filters and pages, one product with its
//! trades, and a member's purchases and reservations.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{products, trades, users};
use crate::db::{like_pattern, lower, DbConnection};
use crate::domain::market::{CategoryId, ProductId, ProductStatus, TradeId, TradeStatus};
use crate::domain::{RegionId, UserId, Won};
use crate::services::reference::{Category, Reference, Region};

type Backend = <DbConnection as Connection>::Backend;
use super::*;

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
    /// The product's name, or the auction's title.
    pub product_name: String,
    pub buyer_name: String,
    pub seller_name: String,
    /// Paid (or to be paid) at checkout: the payment.
    pub payment: Option<CheckoutPayment>,
    /// Each side's reason, when the trade was disputed.
    pub disputes: Vec<super::DisputeNote>,
    /// Who already reviewed this trade (its buyer, its seller, both or neither).
    pub reviewers: Vec<UserId>,
}

/// A trade's payment at checkout (card or virtual account), as its pages show it.
#[derive(Debug, Clone)]
pub struct CheckoutPayment {
    pub merchant_uid: String,
    /// While unpaid: the deadline.
    pub pay_by: Option<NaiveDateTime>,
    /// `card` or `vbank`.
    pub method: String,
}

impl TradeView {
    pub fn price(&self) -> Won {
        Won::from_stored(self.trade.price)
    }

    pub fn status(&self) -> TradeStatus {
        self.trade.status().unwrap_or(TradeStatus::Requested)
    }
}

pub(super) fn trade_views(
    conn: &mut DbConnection,
    rows: Vec<TradeRow>,
) -> QueryResult<Vec<TradeView>> {
    let mut product_ids: Vec<i64> = rows.iter().filter_map(|t| t.product_id).collect();
    product_ids.sort_unstable();
    product_ids.dedup();
    let product_names: HashMap<i64, String> = products::table
        .filter(products::id.eq_any(product_ids))
        .select((products::id, products::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let auction_ids: Vec<i64> = rows.iter().filter_map(|t| t.auction_id).collect();
    let auction_titles: HashMap<i64, String> = {
        use crate::db::schema::auctions;
        auctions::table
            .filter(auctions::id.eq_any(auction_ids))
            .select((auctions::id, auctions::title))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect()
    };
    let people: Vec<i64> = rows
        .iter()
        .flat_map(|t| [t.buyer_id, t.seller_id])
        .collect();
    let names = user_names(conn, &people)?;
    let trade_ids: Vec<i64> = rows.iter().map(|t| t.id).collect();
    let mut disputes = super::dispute_notes(conn, &trade_ids)?;
    let mut reviewers: HashMap<i64, Vec<UserId>> = HashMap::new();
    for (trade, author) in crate::services::reviews::reviewers_of(conn, &trade_ids)? {
        reviewers.entry(trade).or_default().push(author);
    }
    let checkout: HashMap<i64, CheckoutPayment> = {
        use crate::db::schema::payments;
        payments::table
            .filter(payments::trade_id.eq_any(trade_ids))
            .select((
                payments::trade_id,
                payments::merchant_uid,
                payments::pay_by,
                payments::method,
            ))
            .load::<(Option<i64>, String, Option<NaiveDateTime>, String)>(conn)?
            .into_iter()
            .filter_map(|(id, merchant_uid, pay_by, method)| {
                id.map(|id| {
                    (
                        id,
                        CheckoutPayment {
                            merchant_uid,
                            pay_by,
                            method,
                        },
                    )
                })
            })
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|trade| TradeView {
            payment: checkout.get(&trade.id).cloned(),
            product_name: match (trade.product_id, trade.auction_id) {
                (Some(p), _) => product_names.get(&p).cloned(),
                (None, Some(a)) => auction_titles.get(&a).cloned(),
                (None, None) => None,
            }
            .unwrap_or_default(),
            disputes: disputes.remove(&trade.id).unwrap_or_default(),
            reviewers: reviewers.remove(&trade.id).unwrap_or_default(),
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

/// The product or auction a trade belongs to.
pub fn item_of_trade(
    conn: &mut DbConnection,
    trade_id: TradeId,
) -> QueryResult<Option<super::TradeItem>> {
    Ok(super::find_trade(conn, trade_id)?
        .as_ref()
        .and_then(super::TradeItem::of))
}

/// The trade of a sold auction, for its buyer or its seller (nobody else sees it).
pub fn auction_trade_for(
    conn: &mut DbConnection,
    auction_id: i64,
    viewer: UserId,
) -> QueryResult<Option<TradeView>> {
    let rows: Vec<TradeRow> = trades::table
        .filter(trades::auction_id.eq(auction_id))
        .filter(trades::buyer_id.eq(viewer).or(trades::seller_id.eq(viewer)))
        .select(TradeRow::as_select())
        .load(conn)?;
    Ok(trade_views(conn, rows)?.into_iter().next())
}

/// The newest trade of `item` between `buyer` and `seller` (the chat page shows it at the top).
pub fn trade_between(
    conn: &mut DbConnection,
    item: super::TradeItem,
    buyer: UserId,
    seller: UserId,
) -> QueryResult<Option<TradeView>> {
    let query = trades::table
        .filter(trades::buyer_id.eq(buyer))
        .filter(trades::seller_id.eq(seller))
        .order(trades::id.desc())
        .limit(1)
        .select(TradeRow::as_select());
    let rows: Vec<TradeRow> = match item {
        super::TradeItem::Product(p) => query.filter(trades::product_id.eq(p)).load(conn)?,
        super::TradeItem::Auction(a) => query.filter(trades::auction_id.eq(a)).load(conn)?,
    };
    Ok(trade_views(conn, rows)?.into_iter().next())
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
