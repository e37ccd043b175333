//! The listing form's fields as typed, their parsing into a draft (every reason at once), and
//! the page that shows the form (new and edit).

use crate::domain::auction::parse_local;
use crate::domain::auction::Increment;
use crate::domain::msg::Msg;
use crate::domain::{Description, Title, TitleField, Won};
use crate::services::auctions::{Auction, ListingDraft};
use crate::services::reference::{Category, RegionGroup};
use crate::web::auctions::bid::amount_reason;
use crate::web::auctions::opt_id;
use crate::web::upload::MultipartForm;
use crate::web::{render, AppError, Ctx};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;
use chrono::NaiveDateTime;

#[derive(Debug, Default, Clone)]
pub struct ListingFields {
    pub title: String,
    pub description: String,
    pub category_id: String,
    pub region_id: String,
    pub start_price: String,
    pub bid_unit: String,
    pub buy_now_price: String,
    pub reserve_price: String,
    pub starts_at: String,
    pub ends_at: String,
    pub is_national: bool,
}

impl ListingFields {
    pub(crate) fn from_form(form: &MultipartForm) -> Self {
        let clip = |name: &str, max: usize| form.text(name).chars().take(max).collect::<String>();
        ListingFields {
            title: clip("title", 200),
            description: clip("description", 6000),
            category_id: clip("category_id", 20),
            region_id: clip("region_id", 20),
            start_price: clip("start_price", 30),
            bid_unit: clip("bid_unit", 30),
            buy_now_price: clip("buy_now_price", 30),
            reserve_price: clip("reserve_price", 30),
            starts_at: clip("starts_at", 30),
            ends_at: clip("ends_at", 30),
            is_national: matches!(
                form.text("is_national").as_str(),
                "on" | "true" | "1" | "yes"
            ),
        }
    }

    pub(crate) fn from_auction(a: &Auction, tz: chrono_tz::Tz) -> Self {
        let local = |t: &NaiveDateTime| {
            t.and_utc()
                .with_timezone(&tz)
                .format("%Y-%m-%dT%H:%M")
                .to_string()
        };
        ListingFields {
            title: a.title.clone(),
            description: a.description.clone(),
            category_id: a.category_id.to_string(),
            region_id: a.region_id.to_string(),
            start_price: a.start_price.to_string(),
            bid_unit: if a.increment_table {
                String::new()
            } else {
                a.bid_unit.to_string()
            },
            buy_now_price: a.buy_now_price.map(|p| p.to_string()).unwrap_or_default(),
            reserve_price: a.reserve_price.map(|p| p.to_string()).unwrap_or_default(),
            starts_at: local(&a.starts_at),
            ends_at: local(&a.ends_at),
            is_national: a.is_national,
        }
    }

    /// Parse into a draft; every reason at once.
    pub(crate) fn parse(
        &self,
        tz: chrono_tz::Tz,
        default_region: i64,
    ) -> Result<ListingDraft, Vec<Msg>> {
        let mut errors = Vec::new();
        let title = Title::parse(&self.title, TitleField::Title)
            .map_err(|e| errors.push(e))
            .ok();
        let description = Description::parse(&self.description, true)
            .map_err(|e| errors.push(e))
            .ok();
        let category_id = opt_id(&self.category_id);
        if category_id.is_none() {
            errors.push(Msg::new("err.create_product.unknown_category"));
        }
        let region_id = if self.region_id.trim().is_empty() {
            Some(default_region)
        } else {
            opt_id(&self.region_id)
        };
        if region_id.is_none() {
            errors.push(Msg::new("err.create_product.unknown_region"));
        }
        let mut money = |label: &'static str, raw: &str| match Won::parse(raw) {
            Ok(w) => Some(w),
            Err(e) => {
                errors.push(
                    Msg::new("err.field")
                        .arg("field", Msg::new(label))
                        .arg("why", amount_reason(&e)),
                );
                None
            }
        };
        let start_price = money("field.start_price", &self.start_price);
        // No unit: the site's increment table.
        let increment = if self.bid_unit.trim().is_empty() {
            Some(Increment::Table)
        } else {
            money("field.bid_unit", &self.bid_unit).map(Increment::Fixed)
        };
        let buy_now_price = if self.buy_now_price.trim().is_empty() {
            Some(None)
        } else {
            money("field.buy_now_price", &self.buy_now_price).map(Some)
        };
        let reserve_price = if self.reserve_price.trim().is_empty() {
            Some(None)
        } else {
            money("field.reserve_price", &self.reserve_price).map(Some)
        };
        let mut time = |label: &'static str, raw: &str| match parse_local(raw, tz) {
            Some(t) => Some(t),
            None => {
                errors.push(Msg::new("err.field_time").arg("field", Msg::new(label)));
                None
            }
        };
        let starts_at = if self.starts_at.trim().is_empty() {
            Some(None)
        } else {
            time("field.start_time", &self.starts_at).map(Some)
        };
        let ends_at = if self.ends_at.trim().is_empty() {
            errors.push(Msg::new("err.listing.choose_end"));
            None
        } else {
            time("field.end_time", &self.ends_at)
        };
        match (
            title,
            description,
            category_id,
            region_id,
            start_price,
            increment,
            (buy_now_price, reserve_price),
            starts_at,
            ends_at,
        ) {
            (
                Some(title),
                Some(description),
                Some(category_id),
                Some(region_id),
                Some(start_price),
                Some(increment),
                (Some(buy_now_price), Some(reserve_price)),
                Some(starts_at),
                Some(ends_at),
            ) if errors.is_empty() => Ok(ListingDraft {
                title,
                description,
                category_id,
                region_id,
                start_price,
                increment,
                buy_now_price,
                reserve_price,
                starts_at,
                ends_at,
                is_national: self.is_national,
            }),
            _ => Err(errors),
        }
    }
}

/// The new-listing and edit-listing form.
#[derive(Template)]
#[template(path = "auctions/form.html")]
pub struct ListingFormPage {
    pub ctx: Ctx,
    pub errors: Vec<String>,
    pub f: ListingFields,
    pub groups: Vec<RegionGroup>,
    /// The neighbourhood selected in the form (0: none).
    pub region_id: i64,
    pub categories: Vec<Category>,
    /// `Some(id)` when editing.
    pub edit_id: Option<i64>,
    /// The listing's photos, in order (editing), with their move and delete forms.
    pub photos: Vec<crate::web::photos::GalleryPhoto>,
    /// Photos a listing may have.
    pub max_photos: u32,
}

pub(crate) fn form_page(
    ctx: Ctx,
    state: &crate::web::AppState,
    status: StatusCode,
    errors: Vec<Msg>,
    f: ListingFields,
    edit_id: Option<i64>,
    photos: Vec<crate::web::photos::GalleryPhoto>,
) -> Result<HttpResponse, AppError> {
    render(
        status,
        &ListingFormPage {
            errors: Msg::texts(&errors, ctx.lang),
            ctx,
            region_id: f.region_id.trim().parse().unwrap_or(0),
            f,
            groups: state.reference.neighbourhood_groups(),
            categories: state.reference.categories.clone(),
            edit_id,
            photos,
            max_photos: state.settings.photos_per_listing,
        },
    )
}
