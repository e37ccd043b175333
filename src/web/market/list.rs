//! `/market`: products newest first, with filters and pages.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::market::ProductStatus;
use crate::domain::text::search_text;
use crate::services::market::{self as market_service, ProductFilter};
use crate::services::reference::{Category, Region};
use crate::web::market::{ProductView, PER_PAGE};
use crate::web::{db, page_number, render, AppError, AppState, Ctx, Pager};

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
    pub pager: Pager,
    pub q: String,
    pub region_id: i64,
    pub category_id: i64,
    pub status: String,
    pub regions: Vec<Region>,
    pub categories: Vec<Category>,
    pub statuses: Vec<(&'static str, String)>,
}

#[tracing::instrument(skip_all)]
pub async fn list(
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let q = search_text(&query.q).unwrap_or_default();
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
    let status_name = status.map(|s| s.as_str().to_owned()).unwrap_or_default();
    let id_or_empty = |id: Option<i64>| id.map(|i| i.to_string()).unwrap_or_default();
    let pager = Pager::new(
        page,
        found.total,
        PER_PAGE,
        "/market",
        &[
            ("q", q.clone()),
            ("region", id_or_empty(region_id)),
            ("category", id_or_empty(category_id)),
            ("status", status_name.clone()),
        ],
    );
    let products = found
        .cards
        .into_iter()
        .map(|c| ProductView::new(&ctx, c))
        .collect();
    let statuses = ProductStatus::ALL
        .iter()
        .map(|s| (s.as_str(), ctx.t(s.label_key())))
        .collect();
    render(
        StatusCode::OK,
        &ListPage {
            ctx,
            products,
            total: found.total,
            pager,
            q,
            region_id: region_id.unwrap_or(0),
            category_id: category_id.unwrap_or(0),
            status: status_name,
            regions: found.regions,
            categories: found.categories,
            statuses,
        },
    )
}
