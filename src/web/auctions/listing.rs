//! List an item: the new-listing and edit forms (multipart, with a photo), and cancel.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::domain::msg::Msg;
use crate::services::auctions::{self, ListingError};
use crate::services::bidding::{self, Canceller};
use crate::services::images::Uploads;
use crate::services::now;
use crate::services::photos::{self, Owner};
use crate::web::photos::{gallery, photo_limit, GalleryPhoto, FIELD};
use crate::web::session::flash;
use crate::web::upload::{may_add_photos, read_multipart, upload_slot};
use crate::web::{db, see_other, AppError, AppState, Ctx, SessionUser};

/// The listing form's fields, as typed (re-shown on 422).
use crate::web::auctions::listing_form::{form_page, ListingFields};
pub async fn new_form(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let user = ctx.require_user()?;
    let fields = ListingFields {
        region_id: user.region_id.to_string(),
        bid_unit: "1000".to_owned(),
        ..ListingFields::default()
    };
    form_page(ctx, &state, StatusCode::OK, vec![], fields, None, vec![])
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
            return Err(AppError::Forbidden(Msg::new(
                "err.listing.only_seller_edits",
            )));
        }
    }
    let _slot = upload_slot(&state).await?;
    let mut form = read_multipart(payload).await?;
    let fields = ListingFields::from_form(&form);
    let mut errors = Vec::new();
    let sent = form.file_count(FIELD);
    let max = state.settings.photos_per_listing;
    let existing = match edit_id {
        Some(id) if sent > 0 => {
            db(&state, move |conn| {
                photos::count(conn, Owner::Auction(id)).map_err(anyhow::Error::new)
            })
            .await?
        }
        _ => 0,
    };
    let images = if sent == 0 {
        vec![]
    } else if usize::try_from(existing).unwrap_or(usize::MAX) + sent > max as usize {
        errors.push(photo_limit(max));
        vec![]
    } else if !may_add_photos(&state, user.id, sent).await? {
        let per_day = state.settings.uploads_per_day;
        errors.push(ListingError::TooManyPhotos { per_day }.msg());
        vec![]
    } else {
        match form.take_images(FIELD).await? {
            Ok(images) => images,
            Err(why) => {
                errors.push(why);
                vec![]
            }
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
        let current = current_photos(&state, edit_id).await?;
        return form_page(
            ctx,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
            fields,
            edit_id,
            current,
        );
    };

    let uploads = Uploads::new(&state.settings);
    let reference = state.reference.clone();
    let seller = user.id;
    let result = db(&state, move |conn| {
        auctions::save_listing(conn, &reference, &uploads, seller, edit_id, &draft, &images)
    })
    .await;
    match result {
        Ok(id) => {
            flash(
                &ctx_session(&req),
                "success",
                Msg::new(if edit_id.is_some() {
                    "flash.listing.updated"
                } else {
                    "flash.listing.listed"
                }),
            );
            Ok(see_other(&format!("/auctions/{id}")))
        }
        Err(e) => {
            let reasons = AppError::from(e).into_msgs()?;
            let current = current_photos(&state, edit_id).await?;
            form_page(
                ctx,
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                reasons,
                fields,
                edit_id,
                current,
            )
        }
    }
}

/// The photos an edited listing has (none for a new one).
async fn current_photos(
    state: &AppState,
    edit_id: Option<i64>,
) -> Result<Vec<GalleryPhoto>, AppError> {
    let Some(id) = edit_id else {
        return Ok(vec![]);
    };
    let list = db(state, move |conn| {
        photos::list(conn, Owner::Auction(id)).map_err(anyhow::Error::new)
    })
    .await?;
    Ok(gallery(list))
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
        return Err(AppError::Forbidden(Msg::new(
            "err.listing.only_seller_edits",
        )));
    }
    let mut errors = vec![];
    if a.bid_count > 0 || !a.status().is_open() {
        errors.push(ListingError::Locked.msg());
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let fields = ListingFields::from_auction(&a, ctx.tz);
    let current = current_photos(&state, Some(id)).await?;
    form_page(ctx, &state, status, errors, fields, Some(id), current)
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
            flash(&user.session, "info", Msg::new("flash.listing.cancelled"));
            Ok(see_other("/me/listings"))
        }
        Err(e) => {
            let why = AppError::from(e).into_msgs()?;
            flash(
                &user.session,
                "error",
                Msg::new("err.reasons").arg("0", why),
            );
            Ok(see_other(&format!("/auctions/{id}")))
        }
    }
}
