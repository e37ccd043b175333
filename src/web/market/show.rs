//! `/market/{id}`: one product, Buy, and the trades between the viewer and the seller.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::domain::msg::Msg;
use crate::services::market::{self as market_service};
use crate::web::market::{ProductView, TradeLine};
use crate::web::{db, render, AppError, AppState, Ctx};

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
    /// Banks a virtual account can be opened at, and banks a refund can go to.
    pub vbank_banks: Vec<(&'static str, &'static str)>,
    pub refund_banks: &'static [(&'static str, &'static str)],
    pub vbank_hours: u64,
    /// The product's photos, first to last (the gallery).
    pub photos: Vec<crate::web::photos::GalleryPhoto>,
}

pub(crate) async fn show_page(
    ctx: Ctx,
    state: &AppState,
    product_id: i64,
    status: StatusCode,
    errors: Vec<Msg>,
    price_input: String,
) -> Result<HttpResponse, AppError> {
    let viewer = ctx.user.as_ref().map(|u| u.id);
    let reference = state.reference.clone();
    let (detail, photos) = db(state, move |conn| {
        let Some(detail) = market_service::product_detail(conn, &reference, product_id, viewer)?
        else {
            return Ok(None);
        };
        let photos = crate::services::photos::list(
            conn,
            crate::services::photos::Owner::Product(product_id),
        )?;
        Ok::<_, anyhow::Error>(Some((detail, photos)))
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
            errors: Msg::texts(&errors, ctx.lang),
            ctx,
            product,
            trades,
            is_seller,
            my_trade,
            can_buy,
            price_input,
            vbank_banks: crate::services::payments::vbank_banks(),
            refund_banks: &crate::domain::bank::BANKS,
            vbank_hours: state.settings.portone.vbank_due.as_secs() / 3600,
            photos: crate::web::photos::gallery(photos),
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
pub(crate) async fn refused(
    req: &HttpRequest,
    state: &AppState,
    product_id: i64,
    reason: Msg,
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
