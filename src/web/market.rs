//! The fixed-price market pages: the list, one product, the new-product form (multipart, with
//! an optional image), Buy, the seller's Approve/Reject, the buyer's Confirm, "my purchases",
//! "my reservations", and the uploaded images.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::image::thumb_name;
use crate::domain::market::{
    parse_price, ProductDescription, ProductName, ProductStatus, Quantity, TradeId, TradeStatus,
};
use crate::domain::{UserId, Won};
use crate::services::market::{
    self as market_service, Confirmer, CreateProductError, Decision, NewProduct, ProductCard,
    ProductFilter, TradeView,
};
use crate::services::reference::{Category, Region, RegionGroup};
use crate::web::error::urlencode;
use crate::web::session::flash;
use crate::web::upload::{read_multipart, MultipartForm};
use crate::web::{db, page_number, render, see_other, AppError, AppState, Ctx, SessionUser};

/// Products on one page of `/market`.
pub const PER_PAGE: i64 = 12;

// ---------------------------------------------------------------- shown on pages

/// A product as the list and the product page show it.
pub struct ProductView {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub price: Won,
    pub quantity: i32,
    pub units_left: i32,
    pub status: &'static str,
    pub status_label: &'static str,
    pub seller_id: UserId,
    pub seller_name: String,
    pub region_name: String,
    pub category_name: String,
    pub image_url: Option<String>,
    pub thumb_url: Option<String>,
    pub listed_at: String,
}

impl ProductView {
    fn new(ctx: &Ctx, card: ProductCard) -> ProductView {
        let status = card.product.status();
        let price = card.product.price();
        let p = card.product;
        ProductView {
            id: p.id,
            name: p.name,
            description: p.description,
            price,
            quantity: p.quantity,
            units_left: p.units_left,
            status: status.as_str(),
            status_label: status.label(),
            seller_id: p.seller_id,
            seller_name: card.seller_name,
            region_name: card.region_name,
            category_name: card.category_name,
            thumb_url: p
                .image_path
                .as_deref()
                .map(|name| format!("/uploads/{}", thumb_name(name))),
            image_url: p.image_path.map(|name| format!("/uploads/{name}")),
            listed_at: ctx.time(&p.created_at),
        }
    }
}

/// A trade as the product page and the "my trades" pages show it, with the buttons the
/// viewer may press.
pub struct TradeLine {
    pub id: i64,
    pub product_id: i64,
    pub product_name: String,
    pub buyer_name: String,
    pub seller_name: String,
    /// `Buying` or `Selling`, from the viewer's side.
    pub role: &'static str,
    pub price: Won,
    pub status: &'static str,
    pub status_label: &'static str,
    pub requested_at: String,
    pub approved_at: Option<String>,
    pub confirmed_at: Option<String>,
    pub auto_confirm_at: Option<String>,
    pub can_decide: bool,
    pub can_confirm: bool,
}

impl TradeLine {
    fn new(ctx: &Ctx, viewer: UserId, t: TradeView) -> TradeLine {
        let status = t.status();
        let price = t.price();
        let is_seller = t.trade.seller_id == viewer;
        let is_buyer = t.trade.buyer_id == viewer;
        TradeLine {
            id: t.trade.id,
            product_id: t.trade.product_id,
            product_name: t.product_name,
            buyer_name: t.buyer_name,
            seller_name: t.seller_name,
            role: if is_seller { "Selling" } else { "Buying" },
            price,
            status: status.as_str(),
            status_label: status.label(),
            requested_at: ctx.time(&t.trade.created_at),
            approved_at: t.trade.approved_at.as_ref().map(|at| ctx.time(at)),
            confirmed_at: t.trade.confirmed_at.as_ref().map(|at| ctx.time(at)),
            auto_confirm_at: (status == TradeStatus::Approved)
                .then_some(t.trade.auto_confirm_at)
                .flatten()
                .map(|at| ctx.time(&at)),
            can_decide: is_seller && status == TradeStatus::Requested,
            can_confirm: is_buyer && status == TradeStatus::Approved,
        }
    }
}

// ---------------------------------------------------------------- the list

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub q: String,
    pub region: String,
    pub category: String,
    pub status: String,
    pub page: String,
}

/// `/market`: products newest first, with filters (text, region, category, status) and pages.
#[derive(Template)]
#[template(path = "market/list.html")]
pub struct ListPage {
    pub ctx: Ctx,
    pub products: Vec<ProductView>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub q: String,
    pub region_id: i64,
    pub category_id: i64,
    pub status: String,
    pub regions: Vec<Region>,
    pub categories: Vec<Category>,
    pub statuses: Vec<(&'static str, &'static str)>,
}

impl ListPage {
    /// The query string of another page with the same filters.
    pub fn page_query(&self, page: &i64) -> String {
        let mut parts = Vec::new();
        if !self.q.is_empty() {
            parts.push(format!("q={}", urlencode(&self.q)));
        }
        if self.region_id > 0 {
            parts.push(format!("region={}", self.region_id));
        }
        if self.category_id > 0 {
            parts.push(format!("category={}", self.category_id));
        }
        if !self.status.is_empty() {
            parts.push(format!("status={}", urlencode(&self.status)));
        }
        parts.push(format!("page={page}"));
        parts.join("&")
    }

    /// `서울 › 강남구` indented by level for the region `<select>`.
    pub fn region_label(&self, r: &Region) -> String {
        let indent = "\u{a0}\u{a0}".repeat(usize::try_from(r.level - 1).unwrap_or(0));
        format!("{indent}{}", r.name)
    }
}

#[tracing::instrument(skip_all)]
pub async fn list(
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let q: String = query.q.trim().chars().take(100).collect();
    let region_id = query.region.trim().parse::<i64>().ok().filter(|r| *r > 0);
    let category_id = query.category.trim().parse::<i64>().ok().filter(|c| *c > 0);
    let status = ProductStatus::parse(query.status.trim());
    let page = page_number(&query.page);
    let filter = ProductFilter {
        text: (!q.is_empty()).then(|| q.clone()),
        region_id,
        category_id,
        status,
    };
    let reference = state.reference.clone();
    let found = db(&state, move |conn| {
        market_service::list_products(conn, &reference, &filter, page, PER_PAGE)
            .map_err(anyhow::Error::new)
    })
    .await?;
    let pages = ((found.total + PER_PAGE - 1) / PER_PAGE).max(1);
    let products = found
        .cards
        .into_iter()
        .map(|c| ProductView::new(&ctx, c))
        .collect();
    render(
        StatusCode::OK,
        &ListPage {
            ctx,
            products,
            total: found.total,
            page,
            pages,
            q,
            region_id: region_id.unwrap_or(0),
            category_id: category_id.unwrap_or(0),
            status: status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            regions: found.regions,
            categories: found.categories,
            statuses: ProductStatus::ALL
                .iter()
                .map(|s| (s.as_str(), s.label()))
                .collect(),
        },
    )
}

// ---------------------------------------------------------------- one product

/// `/market/{id}`: the product, its status and units left, Buy for neighbours, and the trades
/// between the viewer and the seller (all of them for the seller).
#[derive(Template)]
#[template(path = "market/show.html")]
pub struct ShowPage {
    pub ctx: Ctx,
    pub product: ProductView,
    pub trades: Vec<TradeLine>,
    pub errors: Vec<String>,
    pub is_seller: bool,
    /// The viewer's own trade for this product (a buyer has at most one).
    pub my_trade: Option<TradeLine>,
    pub can_buy: bool,
    pub price_input: String,
}

async fn show_page(
    ctx: Ctx,
    state: &AppState,
    product_id: i64,
    status: StatusCode,
    errors: Vec<String>,
    price_input: String,
) -> Result<HttpResponse, AppError> {
    let viewer = ctx.user.as_ref().map(|u| u.id);
    let reference = state.reference.clone();
    let detail = db(state, move |conn| {
        market_service::product_detail(conn, &reference, product_id, viewer)
            .map_err(anyhow::Error::new)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    let product = ProductView::new(&ctx, detail.card);
    let is_seller = viewer == Some(product.seller_id);
    let mut trades: Vec<TradeLine> = detail
        .trades
        .into_iter()
        .map(|t| TradeLine::new(&ctx, viewer.unwrap_or(0), t))
        .collect();
    let my_trade = if is_seller { None } else { trades.pop() };
    let can_buy = !is_seller && my_trade.is_none() && product.units_left > 0;
    let price_input = if price_input.is_empty() {
        product.price.get().to_string()
    } else {
        price_input
    };
    render(
        status,
        &ShowPage {
            ctx,
            product,
            trades,
            errors,
            is_seller,
            my_trade,
            can_buy,
            price_input,
        },
    )
}

pub async fn show(
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    show_page(
        ctx,
        &state,
        path.into_inner(),
        StatusCode::OK,
        vec![],
        String::new(),
    )
    .await
}

/// Re-render the product page with the reason an action was refused.
async fn refused(
    req: &HttpRequest,
    state: &AppState,
    product_id: i64,
    reason: String,
) -> Result<HttpResponse, AppError> {
    let ctx = Ctx::load(req).await?;
    show_page(
        ctx,
        state,
        product_id,
        StatusCode::UNPROCESSABLE_ENTITY,
        vec![reason],
        String::new(),
    )
    .await
}

// ---------------------------------------------------------------- buy

#[tracing::instrument(skip_all, fields(user.id = user.id, product.id = %path))]
pub async fn buy(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let product_id = path.into_inner();
    let buyer = user.id;
    let result = db(&state, move |conn| {
        market_service::buy(conn, product_id, buyer)
    })
    .await;
    match result {
        Ok(bought) => {
            flash(
                &user.session,
                "success",
                format!(
                    "You asked to buy one unit for {}. The amount is held in your wallet until you confirm receipt.",
                    bought.price
                ),
            );
            Ok(see_other(&format!("/market/{product_id}")))
        }
        Err(e) => {
            let why = AppError::from(e).into_reasons()?;
            refused(&req, &state, product_id, why.join(" ")).await
        }
    }
}

// ---------------------------------------------------------------- change the price

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PriceForm {
    pub price: String,
}

#[tracing::instrument(skip_all, fields(user.id = user.id, product.id = %path))]
pub async fn change_price(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<PriceForm>,
) -> Result<HttpResponse, AppError> {
    let product_id = path.into_inner();
    let typed: String = form.price.chars().take(30).collect();
    let price = match parse_price(&form.price) {
        Ok(p) => p,
        Err(reason) => {
            let ctx = Ctx::load(&req).await?;
            return show_page(
                ctx,
                &state,
                product_id,
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![reason],
                typed,
            )
            .await;
        }
    };
    let seller = user.id;
    let result = db(&state, move |conn| {
        market_service::change_price(conn, product_id, seller, price)
    })
    .await;
    match result {
        Ok(()) => {
            flash(
                &user.session,
                "success",
                format!("The price is now {price}. Trades already started keep their price."),
            );
            Ok(see_other(&format!("/market/{product_id}")))
        }
        Err(e) => {
            let why = AppError::from(e).into_reasons()?;
            refused(&req, &state, product_id, why.join(" ")).await
        }
    }
}

// ---------------------------------------------------------------- trades

/// The product a trade belongs to, for re-rendering its page with a reason.
async fn product_of(state: &AppState, trade_id: TradeId) -> Result<i64, AppError> {
    db(state, move |conn| {
        market_service::product_of_trade(conn, trade_id).map_err(anyhow::Error::new)
    })
    .await?
    .ok_or(AppError::NotFound)
}

async fn decide(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    trade_id: TradeId,
    decision: Decision,
) -> Result<HttpResponse, AppError> {
    let seller = user.id;
    let period = state.settings.market_auto_confirm;
    let result = db(&state, move |conn| {
        market_service::decide(conn, trade_id, seller, decision, period)
    })
    .await;
    match result {
        Ok(product_id) => {
            let message = match decision {
                Decision::Approve => {
                    "Trade approved. Hand the item over; the buyer confirms receipt, or the trade is confirmed automatically."
                }
                Decision::Reject => {
                    "Trade rejected. The buyer's money is released and the unit is back on sale."
                }
            };
            flash(&user.session, "success", message);
            Ok(see_other(&format!("/market/{product_id}")))
        }
        Err(e) => {
            let why = AppError::from(e).into_reasons()?;
            let product_id = product_of(&state, trade_id).await?;
            refused(&req, &state, product_id, why.join(" ")).await
        }
    }
}

#[tracing::instrument(skip_all, fields(user.id = user.id, trade.id = %path))]
pub async fn approve(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    decide(req, user, state, path.into_inner(), Decision::Approve).await
}

#[tracing::instrument(skip_all, fields(user.id = user.id, trade.id = %path))]
pub async fn reject(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    decide(req, user, state, path.into_inner(), Decision::Reject).await
}

#[tracing::instrument(skip_all, fields(user.id = user.id, trade.id = %path))]
pub async fn confirm(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let trade_id = path.into_inner();
    let buyer = user.id;
    let result = db(&state, move |conn| {
        market_service::confirm(conn, trade_id, Confirmer::Buyer(buyer))
    })
    .await;
    match result {
        Ok(product_id) => {
            flash(
                &user.session,
                "success",
                "Receipt confirmed. The seller has been paid.",
            );
            Ok(see_other(&format!("/market/{product_id}")))
        }
        Err(e) => {
            let why = AppError::from(e).into_reasons()?;
            let product_id = product_of(&state, trade_id).await?;
            refused(&req, &state, product_id, why.join(" ")).await
        }
    }
}

// ---------------------------------------------------------------- my trades

/// `/me/purchases`: every trade where I am the buyer, with the price at purchase time.
#[derive(Template)]
#[template(path = "market/purchases.html")]
pub struct PurchasesPage {
    pub ctx: Ctx,
    pub trades: Vec<TradeLine>,
}

pub async fn purchases(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.id;
    let rows = db(&state, move |conn| {
        market_service::purchases(conn, me).map_err(anyhow::Error::new)
    })
    .await?;
    let trades = rows
        .into_iter()
        .map(|t| TradeLine::new(&ctx, me, t))
        .collect();
    render(StatusCode::OK, &PurchasesPage { ctx, trades })
}

/// `/me/reservations`: trades in progress where I am the buyer or the seller.
#[derive(Template)]
#[template(path = "market/reservations.html")]
pub struct ReservationsPage {
    pub ctx: Ctx,
    pub trades: Vec<TradeLine>,
}

pub async fn reservations(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.id;
    let rows = db(&state, move |conn| {
        market_service::reservations(conn, me).map_err(anyhow::Error::new)
    })
    .await?;
    let trades = rows
        .into_iter()
        .map(|t| TradeLine::new(&ctx, me, t))
        .collect();
    render(StatusCode::OK, &ReservationsPage { ctx, trades })
}

// ---------------------------------------------------------------- list a product

/// The new-product form, blank or re-rendered with the reasons it was refused.
#[derive(Template)]
#[template(path = "market/new.html")]
pub struct NewPage {
    pub ctx: Ctx,
    pub errors: Vec<String>,
    pub form: ProductForm,
    pub category_id: i64,
    pub region_id: i64,
    pub categories: Vec<Category>,
    pub groups: Vec<RegionGroup>,
}

/// What the new-product form sent (multipart: `name`, `description`, `price`, `quantity`,
/// `category_id`, `region_id`, `image`).
#[derive(Debug, Default)]
pub struct ProductForm {
    pub name: String,
    pub description: String,
    pub price: String,
    pub quantity: String,
    pub category_id: String,
    pub region_id: String,
    pub image: Option<Vec<u8>>,
    pub image_too_large: bool,
}

impl ProductForm {
    /// The typed values, clipped, for re-rendering (a 10 KB name is not echoed back whole).
    fn clipped(&self) -> ProductForm {
        let clip = |s: &str, n: usize| s.chars().take(n).collect::<String>();
        ProductForm {
            name: clip(&self.name, 120),
            description: clip(&self.description, 5_100),
            price: clip(&self.price, 30),
            quantity: clip(&self.quantity, 10),
            ..ProductForm::default()
        }
    }
}

impl From<&MultipartForm> for ProductForm {
    fn from(form: &MultipartForm) -> Self {
        ProductForm {
            name: form.text("name"),
            description: form.text("description"),
            price: form.text("price"),
            quantity: form.text("quantity"),
            category_id: form.text("category_id"),
            region_id: form.text("region_id"),
            image: form.files.get("image").cloned(),
            image_too_large: form.too_large.contains("image"),
        }
    }
}

async fn new_page(
    ctx: Ctx,
    state: &AppState,
    status: StatusCode,
    errors: Vec<String>,
    form: ProductForm,
) -> Result<HttpResponse, AppError> {
    let user_region = ctx.require_user()?.region_id;
    let categories = state.reference.categories.clone();
    let groups = state.reference.neighbourhood_groups();
    let category_id = form.category_id.trim().parse().unwrap_or(0);
    let region_id = form.region_id.trim().parse().unwrap_or(user_region);
    render(
        status,
        &NewPage {
            ctx,
            errors,
            form: form.clipped(),
            category_id,
            region_id,
            categories,
            groups,
        },
    )
}

pub async fn new_form(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let form = ProductForm {
        quantity: "1".to_owned(),
        ..ProductForm::default()
    };
    new_page(ctx, &state, StatusCode::OK, vec![], form).await
}

#[tracing::instrument(skip_all, fields(user.id = user.id))]
pub async fn create(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let form = ProductForm::from(&read_multipart(payload).await?);
    let mut errors = Vec::new();
    let name = ProductName::parse(&form.name)
        .map_err(|e| errors.push(e))
        .ok();
    let description = ProductDescription::parse(&form.description)
        .map_err(|e| errors.push(e))
        .ok();
    let price = parse_price(&form.price).map_err(|e| errors.push(e)).ok();
    let quantity = Quantity::parse(&form.quantity)
        .map_err(|e| errors.push(e))
        .ok();
    let category_id = form.category_id.trim().parse::<i64>().ok();
    if category_id.is_none() {
        errors.push(CreateProductError::UnknownCategory.to_string());
    }
    let region_id = form.region_id.trim().parse::<i64>().ok();
    if region_id.is_none() {
        errors.push(CreateProductError::UnknownRegion.to_string());
    }
    let image = if form.image_too_large {
        errors.push("The image can be at most 5 MB.".to_owned());
        None
    } else {
        match crate::web::upload::parse_image(form.image.clone()).await? {
            Some(Err(e)) => {
                errors.push(e);
                None
            }
            other => other.and_then(Result::ok),
        }
    };

    if let (Some(name), Some(description), Some(price), Some(quantity), Some(c), Some(r)) =
        (name, description, price, quantity, category_id, region_id)
    {
        if errors.is_empty() {
            let new = NewProduct {
                name,
                description,
                price,
                quantity,
                category_id: c,
                region_id: r,
            };
            let uploads = state.settings.data_dir.join("uploads");
            let seller = user.id;
            let result = db(&state, move |conn| {
                market_service::create_product(conn, &uploads, seller, &new, image.as_ref())
            })
            .await;
            match result {
                Ok(id) => {
                    flash(&user.session, "success", "Your product is listed.");
                    return Ok(see_other(&format!("/market/{id}")));
                }
                Err(e) => errors.extend(AppError::from(e).into_reasons()?),
            }
        }
    }
    if form.image.is_some() || form.image_too_large {
        errors.push(
            "Choose the image again: files are not kept when the form is refused.".to_owned(),
        );
    }
    let ctx = Ctx::load(&req).await?;
    new_page(ctx, &state, StatusCode::UNPROCESSABLE_ENTITY, errors, form).await
}
