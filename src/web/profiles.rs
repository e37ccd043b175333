//! `/users/{id}`: a member's public profile (display name, neighbourhood, member since,
//! completed trades, active listings, reviews received and the trust score).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::review::{trust_step, TRUST_MAX, TRUST_MIN, TRUST_START};
use crate::services::reviews::{self as reviews_service, ListingLine, REVIEWS_PER_PAGE};
use crate::web::{db, page_number, render, AppError, AppState, Ctx, Pager};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    pub page: String,
}

pub struct ReviewShown {
    pub author_url: String,
    pub author_name: String,
    pub stars: String,
    pub rating: i32,
    pub comment: String,
    pub at: crate::views::i18n::Moment,
}

/// One line of the score's formula: how much a review of so many stars moves it.
pub struct Step {
    pub stars: i32,
    pub step: String,
    pub received: i64,
}

/// A member's public profile, with a page of the reviews they received (newest first).
#[derive(Template)]
#[template(path = "users/profile.html")]
pub struct ProfilePage {
    pub ctx: Ctx,
    pub id: i64,
    pub display_name: String,
    pub neighbourhood: String,
    pub member_since: String,
    /// The same day as the page's language writes it.
    pub member_since_text: String,
    pub sales: i64,
    pub purchases: i64,
    pub auctions: Vec<ListingLine>,
    pub products: Vec<ListingLine>,
    pub trust: String,
    pub start: String,
    pub min: String,
    pub max: String,
    pub steps: Vec<Step>,
    pub reviews_total: i64,
    pub reviews: Vec<ReviewShown>,
    pub pager: Pager,
    /// The viewer is logged in and not this member: they may block or unblock them.
    pub can_block: bool,
    /// The viewer blocked this member.
    pub blocked: bool,
}

fn one_decimal(x: f64) -> String {
    format!("{x:.1}")
}

pub async fn show(
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let page = page_number(&query.page);
    let viewer = ctx.user.as_ref().map(|u| u.id).filter(|v| *v != id);
    let (profile, blocked) = db(&state, move |conn| {
        let profile = reviews_service::profile(conn, id, page)?;
        let blocked = match viewer {
            Some(v) => crate::services::chat::has_blocked(conn, v, id)?,
            None => false,
        };
        Ok::<_, anyhow::Error>((profile, blocked))
    })
    .await?;
    let profile = profile.ok_or(AppError::NotFound)?;
    let reviews = profile
        .reviews
        .iter()
        .map(|r| ReviewShown {
            author_url: format!("/users/{}", r.author_id),
            author_name: r.author_name.clone(),
            stars: "★".repeat(usize::try_from(r.rating).unwrap_or(0)),
            rating: r.rating,
            comment: r.comment.clone(),
            at: ctx.moment(&r.created_at),
        })
        .collect();
    let steps = (1..=5)
        .rev()
        .map(|stars| Step {
            stars,
            step: format!("{:+.1}", trust_step(stars)),
            received: profile.rating_counts[usize::try_from(stars - 1).unwrap_or(0)],
        })
        .collect();
    let pager = Pager::new(
        page,
        profile.reviews_total,
        REVIEWS_PER_PAGE,
        &format!("/users/{id}"),
        &[],
    );
    let page = ProfilePage {
        id,
        display_name: profile.display_name,
        neighbourhood: state.reference.region_name(profile.region_id),
        member_since: profile
            .member_since
            .and_utc()
            .with_timezone(&ctx.tz)
            .format("%Y-%m-%d")
            .to_string(),
        member_since_text: ctx.date(&profile.member_since),
        sales: profile.sales,
        purchases: profile.purchases,
        auctions: profile.auctions,
        products: profile.products,
        trust: one_decimal(profile.trust),
        start: one_decimal(TRUST_START),
        min: one_decimal(TRUST_MIN),
        max: one_decimal(TRUST_MAX),
        steps,
        reviews_total: profile.reviews_total,
        reviews,
        pager,
        can_block: viewer.is_some(),
        blocked,
        ctx,
    };
    render(StatusCode::OK, &page)
}
