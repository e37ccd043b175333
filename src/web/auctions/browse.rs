//! `/` and `/auctions`: the list of auctions with filters, sorts and pages.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::text::search_text;
use crate::domain::Won;
use crate::services::auctions::{self, ListFilter, Sort, PER_PAGE};
use crate::services::now;
use crate::services::reference::{Category, Region};
use crate::web::auctions::{opt_id, Card};
use crate::web::{db, page_number, render, AppError, AppState, Ctx, Pager};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BrowseQuery {
    pub q: String,
    pub region: String,
    pub category: String,
    pub scope: String,
    pub min_price: String,
    pub max_price: String,
    pub sort: String,
    pub status: String,
    pub page: String,
}

/// `/` and `/auctions`: filters, cards, pagination.
#[derive(Template)]
#[template(path = "auctions/list.html")]
pub struct ListPage {
    pub ctx: Ctx,
    pub cards: Vec<Card>,
    pub total: i64,
    pub pager: Pager,
    pub query: BrowseQuery,
    pub regions: Vec<Region>,
    pub categories: Vec<Category>,
    pub region_id: i64,
    pub category_id: i64,
    pub is_home: bool,
}

fn opt_price(s: &str) -> Option<i64> {
    Won::parse(s).ok().map(Won::get)
}

pub async fn browse(
    req: HttpRequest,
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<BrowseQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let reference = state.reference.clone();
    let region_id = opt_id(&query.region).filter(|id| reference.region(*id).is_some());
    let category_id = opt_id(&query.category);
    let page = page_number(&query.page);
    let text = search_text(&query.q);
    let filter = ListFilter {
        text,
        region_ids: region_id.map(|id| reference.with_descendants(id)),
        category_id,
        national: match query.scope.as_str() {
            "national" => Some(true),
            "local" => Some(false),
            _ => None,
        },
        min_price: opt_price(&query.min_price),
        max_price: opt_price(&query.max_price),
        ended: query.status == "ended",
        sort: Sort::parse(&query.sort),
        page,
    };
    let viewer = ctx.user.as_ref().map(|u| u.id);
    let (rows, total) = db(&state, move |conn| {
        auctions::browse_starred(conn, &filter, viewer).map_err(anyhow::Error::new)
    })
    .await?;
    let at = now();
    let pager = Pager::new(
        page,
        total,
        PER_PAGE,
        "/auctions",
        &[
            ("q", query.q.clone()),
            ("region", query.region.clone()),
            ("category", query.category.clone()),
            ("scope", query.scope.clone()),
            ("min_price", query.min_price.clone()),
            ("max_price", query.max_price.clone()),
            ("sort", query.sort.clone()),
            ("status", query.status.clone()),
        ],
    );
    let page_view = ListPage {
        cards: rows
            .iter()
            .map(|(a, watched)| Card {
                watched: *watched,
                ..Card::new(a, at)
            })
            .collect(),
        total,
        pager,
        regions: reference.regions.clone(),
        categories: reference.categories.clone(),
        region_id: region_id.unwrap_or(0),
        category_id: category_id.unwrap_or(0),
        is_home: req.path() == "/",
        query,
        ctx,
    };
    render(StatusCode::OK, &page_view)
}
