//! List an item: the new-listing and edit forms (multipart, with a photo), and cancel.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::domain::msg::Msg;
use crate::services::auctions::{self, ListingError};
use crate::services::bidding::{self, Canceller};
use crate::services::images::Uploads;
use crate::services::now;
use crate::web::session::flash;
use crate::web::upload::{may_add_photo, read_multipart, upload_slot};
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
            return Err(AppError::Forbidden(Msg::new(
                "err.listing.only_seller_edits",
            )));
        }
    }
    let _slot = upload_slot(&state).await?;
    let form = read_multipart(payload).await?;
    let fields = ListingFields::from_form(&form);
    let mut errors = Vec::new();
    let image = if form.files.contains_key("image") && !may_add_photo(&state, user.id).await? {
        let per_day = state.settings.uploads_per_day;
        errors.push(ListingError::TooManyPhotos { per_day }.msg());
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
                Msg::new(if edit_id.is_some() {
                    "flash.listing.updated"
                } else {
                    "flash.listing.listed"
                }),
            );
            Ok(see_other(&format!("/auctions/{id}")))
        }
        Err(e) => form_page(
            ctx,
            &state.reference,
            StatusCode::UNPROCESSABLE_ENTITY,
            AppError::from(e).into_msgs()?,
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
