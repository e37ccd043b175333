//! List an item: the new-listing and edit forms (multipart, with a photo), and cancel.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;

use crate::domain::auction::parse_local;
use crate::domain::{Description, Title, Won};
use crate::services::auctions::{self, Auction, ListingDraft, ListingError};
use crate::services::bidding::{self, Canceller};
use crate::services::images::Uploads;
use crate::services::now;
use crate::services::reference::{Category, Reference, RegionGroup};
use crate::web::auctions::bid::amount_reason;
use crate::web::auctions::opt_id;
use crate::web::session::flash;
use crate::web::upload::{may_add_photo, read_multipart, upload_slot, MultipartForm};
use crate::web::{db, render, see_other, AppError, AppState, Ctx, SessionUser};

/// The listing form's fields, as typed (re-shown on 422).
#[derive(Debug, Default, Clone)]
pub struct ListingFields {
    pub title: String,
    pub description: String,
    pub category_id: String,
    pub region_id: String,
    pub start_price: String,
    pub bid_unit: String,
    pub buy_now_price: String,
    pub starts_at: String,
    pub ends_at: String,
    pub is_national: bool,
}

impl ListingFields {
    fn from_form(form: &MultipartForm) -> Self {
        let clip = |name: &str, max: usize| form.text(name).chars().take(max).collect::<String>();
        ListingFields {
            title: clip("title", 200),
            description: clip("description", 6000),
            category_id: clip("category_id", 20),
            region_id: clip("region_id", 20),
            start_price: clip("start_price", 30),
            bid_unit: clip("bid_unit", 30),
            buy_now_price: clip("buy_now_price", 30),
            starts_at: clip("starts_at", 30),
            ends_at: clip("ends_at", 30),
            is_national: matches!(
                form.text("is_national").as_str(),
                "on" | "true" | "1" | "yes"
            ),
        }
    }

    fn from_auction(a: &Auction, tz: chrono_tz::Tz) -> Self {
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
            bid_unit: a.bid_unit.to_string(),
            buy_now_price: a.buy_now_price.map(|p| p.to_string()).unwrap_or_default(),
            starts_at: local(&a.starts_at),
            ends_at: local(&a.ends_at),
            is_national: a.is_national,
        }
    }

    /// Parse into a draft; every reason at once.
    fn parse(&self, tz: chrono_tz::Tz, default_region: i64) -> Result<ListingDraft, Vec<String>> {
        let mut errors = Vec::new();
        let title = Title::parse(&self.title, "title", "Enter a title.")
            .map_err(|e| errors.push(e))
            .ok();
        let description = Description::parse(&self.description, Some("Describe the item."))
            .map_err(|e| errors.push(e))
            .ok();
        let category_id = opt_id(&self.category_id);
        if category_id.is_none() {
            errors.push("Choose a category from the list.".to_owned());
        }
        let region_id = if self.region_id.trim().is_empty() {
            Some(default_region)
        } else {
            opt_id(&self.region_id)
        };
        if region_id.is_none() {
            errors.push("Choose a neighbourhood from the list.".to_owned());
        }
        let mut money = |label: &str, raw: &str| match Won::parse(raw) {
            Ok(w) => Some(w),
            Err(e) => {
                errors.push(format!("{label}: {}", amount_reason(&e)));
                None
            }
        };
        let start_price = money("Start price", &self.start_price);
        let bid_unit = if self.bid_unit.trim().is_empty() {
            Won::new(1000)
        } else {
            money("Bid unit", &self.bid_unit)
        };
        let buy_now_price = if self.buy_now_price.trim().is_empty() {
            Some(None)
        } else {
            money("Buy-now price", &self.buy_now_price).map(Some)
        };
        let mut time = |label: &str, raw: &str| match parse_local(raw, tz) {
            Some(t) => Some(t),
            None => {
                errors.push(format!(
                    "{label}: enter a date and time like 2026-12-24T18:00."
                ));
                None
            }
        };
        let starts_at = if self.starts_at.trim().is_empty() {
            Some(None)
        } else {
            time("Start time", &self.starts_at).map(Some)
        };
        let ends_at = if self.ends_at.trim().is_empty() {
            errors.push("Choose when the auction ends.".to_owned());
            None
        } else {
            time("End time", &self.ends_at)
        };
        match (
            title,
            description,
            category_id,
            region_id,
            start_price,
            bid_unit,
            buy_now_price,
            starts_at,
            ends_at,
        ) {
            (
                Some(title),
                Some(description),
                Some(category_id),
                Some(region_id),
                Some(start_price),
                Some(bid_unit),
                Some(buy_now_price),
                Some(starts_at),
                Some(ends_at),
            ) if errors.is_empty() => Ok(ListingDraft {
                title,
                description,
                category_id,
                region_id,
                start_price,
                bid_unit,
                buy_now_price,
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
    pub has_image: bool,
}

fn form_page(
    ctx: Ctx,
    reference: &Reference,
    status: StatusCode,
    errors: Vec<String>,
    f: ListingFields,
    edit_id: Option<i64>,
    has_image: bool,
) -> Result<HttpResponse, AppError> {
    render(
        status,
        &ListingFormPage {
            ctx,
            errors,
            region_id: f.region_id.trim().parse().unwrap_or(0),
            f,
            groups: reference.neighbourhood_groups(),
            categories: reference.categories.clone(),
            edit_id,
            has_image,
        },
    )
}

pub async fn new_form(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let user = ctx.require_user()?;
    let fields = ListingFields {
        region_id: user.region_id.to_string(),
        bid_unit: "1000".to_owned(),
        ..ListingFields::default()
    };
    form_page(
        ctx,
        &state.reference,
        StatusCode::OK,
        vec![],
        fields,
        None,
        false,
    )
}

async fn save_listing(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: Multipart,
    edit_id: Option<i64>,
) -> Result<HttpResponse, AppError> {
    let ctx = Ctx::load(&req).await?;
    let user = ctx.require_user()?.clone();
    // Whose listing it is, before a byte of the upload is read.
    if let Some(id) = edit_id {
        let seller = db(&state, move |conn| {
            auctions::seller_of(conn, id).map_err(anyhow::Error::new)
        })
        .await?
        .ok_or(AppError::NotFound)?;
        if seller != user.id {
            return Err(AppError::Forbidden(
                "Only the seller can edit this listing.".to_owned(),
            ));
        }
    }
    let _slot = upload_slot(&state).await?;
    let form = read_multipart(payload).await?;
    let fields = ListingFields::from_form(&form);
    let mut errors = Vec::new();
    let image = if form.files.contains_key("image") && !may_add_photo(&state, user.id).await? {
        let per_day = state.settings.uploads_per_day;
        errors.push(ListingError::TooManyPhotos { per_day }.to_string());
        None
    } else {
        match form.image("image").await? {
            Some(Ok(image)) => Some(image),
            Some(Err(why)) => {
                errors.push(why);
                None
            }
            None => None,
        }
    };
    let draft = match fields.parse(state.settings.timezone, user.region_id) {
        Ok(d) => Some(d),
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    if let (Some(draft), true) = (&draft, errors.is_empty()) {
        errors = auctions::check_draft(draft, &state.reference, now());
    }
    let Some(draft) = draft.filter(|_| errors.is_empty()) else {
        return form_page(
            ctx,
            &state.reference,
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
            fields,
            edit_id,
            false,
        );
    };

    let uploads = Uploads::new(&state.settings);
    let reference = state.reference.clone();
    let seller = user.id;
    let result = db(&state, move |conn| {
        auctions::save_listing(
            conn,
            &reference,
            &uploads,
            seller,
            edit_id,
            &draft,
            image.as_ref(),
        )
    })
    .await;
    match result {
        Ok(id) => {
            flash(
                &ctx_session(&req),
                "success",
                if edit_id.is_some() {
                    "Your listing was updated."
                } else {
                    "Your auction is listed."
                },
            );
            Ok(see_other(&format!("/auctions/{id}")))
        }
        Err(e) => form_page(
            ctx,
            &state.reference,
            StatusCode::UNPROCESSABLE_ENTITY,
            AppError::from(e).into_reasons()?,
            fields,
            edit_id,
            false,
        ),
    }
}

fn ctx_session(req: &HttpRequest) -> actix_session::Session {
    use actix_session::SessionExt as _;
    req.get_session()
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    save_listing(req, state, payload, None).await
}

pub async fn edit_form(
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user_id = ctx.require_user()?.id;
    let id = path.into_inner();
    let a = db(&state, move |conn| {
        auctions::find(conn, id).map_err(anyhow::Error::new)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    if a.seller_id != user_id {
        return Err(AppError::Forbidden(
            "Only the seller can edit this listing.".to_owned(),
        ));
    }
    let mut errors = vec![];
    if a.bid_count > 0 || !a.status().is_open() {
        errors.push(ListingError::Locked.to_string());
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let fields = ListingFields::from_auction(&a, ctx.tz);
    form_page(
        ctx,
        &state.reference,
        status,
        errors,
        fields,
        Some(id),
        a.image_name.is_some(),
    )
}

pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    save_listing(req, state, payload, Some(path.into_inner())).await
}

/// The seller cancels a listing that has no bids.
pub async fn cancel(
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let seller = user.id;
    let uploads = state.settings.data_dir.join("uploads");
    let result = db(&state, move |conn| {
        bidding::cancel_auction(conn, &uploads, id, Canceller::Seller(seller), now())
    })
    .await;
    match result {
        Ok(cancelled) => {
            state.live.after_commit(cancelled.event);
            flash(&user.session, "info", "Your listing was cancelled.");
            Ok(see_other("/me/listings"))
        }
        Err(e) => {
            let why = AppError::from(e).into_reasons()?.join(" ");
            flash(&user.session, "error", why);
            Ok(see_other(&format!("/auctions/{id}")))
        }
    }
}
