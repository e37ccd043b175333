//! Photo galleries: what the auction and product pages show, and the seller's photo forms —
//! move a photo (`POST /photos/{id}/move`, field `to` = `first`, `earlier` or `later`), delete
//! one (`POST /photos/{id}/delete`), and a product's photo page (`GET`/`POST
//! /market/{id}/photos`: its photos and more to add; an auction adds them on its edit form).
//! Plain forms: everything works without JavaScript.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::image::thumb_name;
use crate::domain::msg::Msg;
use crate::services::images::Uploads;
use crate::services::photos::{self, Move, Owner, Photo, PhotoError};
use crate::web::session::flash;
use crate::web::upload::{may_add_photos, read_multipart, upload_slot};
use crate::web::{db, render, see_other, AppError, AppState, Ctx, SessionUser};

/// The form field of an upload's photos (`<input type=file name=image multiple>`).
pub const FIELD: &str = "image";

/// One photo as a gallery shows it.
#[derive(Debug, Clone)]
pub struct GalleryPhoto {
    pub id: i64,
    /// `/uploads/…` of the photo and of its thumbnail.
    pub src: String,
    pub thumb: String,
    /// 1 for the first.
    pub n: usize,
}

/// A listing's photos, in order, as the pages show them.
pub fn gallery(photos: Vec<Photo>) -> Vec<GalleryPhoto> {
    photos
        .into_iter()
        .enumerate()
        .map(|(i, p)| GalleryPhoto {
            id: p.id,
            thumb: format!("/uploads/{}", thumb_name(&p.name)),
            src: format!("/uploads/{}", p.name),
            n: i + 1,
        })
        .collect()
}

/// Where the seller manages a listing's photos.
fn manage_url(owner: Owner) -> String {
    match owner {
        Owner::Auction(id) => format!("/auctions/{id}/edit#photos"),
        Owner::Product(id) => format!("/market/{id}/photos"),
    }
}

/// The reason a photo upload was refused, in the page's language.
pub fn photo_limit(max: u32) -> Msg {
    Msg::new("photos.limit").arg("n", max)
}

/// The move form.
#[derive(Debug, Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    pub to: String,
}

/// Move a photo first, earlier or later; the seller goes back to the photos.
#[tracing::instrument(skip_all, fields(user.id = user.id, photo.id = %path))]
pub async fn move_photo(
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<MoveForm>,
) -> Result<HttpResponse, AppError> {
    let photo_id = path.into_inner();
    let to = Move::parse(&form.to)
        .ok_or_else(|| AppError::BadRequest(Msg::new("photos.err_bad_move")))?;
    let seller = user.id;
    let owner = db(&state, move |conn| {
        photos::move_photo(conn, photo_id, seller, to)
    })
    .await
    .map_err(AppError::from)?;
    Ok(see_other(&manage_url(owner)))
}

/// Delete a photo (its files go once the deletion has committed).
#[tracing::instrument(skip_all, fields(user.id = user.id, photo.id = %path))]
pub async fn delete_photo(
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let photo_id = path.into_inner();
    let seller = user.id;
    let uploads = Uploads::new(&state.settings).dir;
    let owner = db(&state, move |conn| {
        photos::delete_photo(conn, &uploads, photo_id, seller)
    })
    .await
    .map_err(AppError::from)?;
    flash(&user.session, "info", Msg::new("photos.deleted"));
    Ok(see_other(&manage_url(owner)))
}

/// `/market/{id}/photos`: a product's photos for its seller (move, delete) and the form to add
/// more.
#[derive(Template)]
#[template(path = "market/photos.html")]
pub struct ProductPhotosPage {
    pub ctx: Ctx,
    pub errors: Vec<String>,
    pub product_id: i64,
    pub name: String,
    pub photos: Vec<GalleryPhoto>,
    pub max_photos: u32,
    /// The photos may still change (not sold out).
    pub editable: bool,
}

async fn product_photos_page(
    ctx: Ctx,
    state: &AppState,
    product_id: i64,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.id;
    let owner = Owner::Product(product_id);
    let (name, seller, list, editable) = db(state, move |conn| {
        use crate::db::schema::products;
        use diesel::prelude::*;
        let row: Option<(String, i64)> = products::table
            .find(product_id)
            .select((products::name, products::seller_id))
            .first(conn)
            .optional()?;
        let Some((name, seller)) = row else {
            return Ok(None);
        };
        let list = photos::list(conn, owner)?;
        let editable = photos::is_editable(conn, owner)?;
        Ok::<_, anyhow::Error>(Some((name, seller, list, editable)))
    })
    .await?
    .ok_or(AppError::NotFound)?;
    if seller != me {
        return Err(AppError::Forbidden(PhotoError::NotYours.msg()));
    }
    render(
        status,
        &ProductPhotosPage {
            ctx,
            errors,
            product_id,
            name,
            photos: gallery(list),
            max_photos: state.settings.photos_per_listing,
            editable,
        },
    )
}

pub async fn product_photos(
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    product_photos_page(ctx, &state, path.into_inner(), StatusCode::OK, vec![]).await
}

/// Add photos to a product: its seller only (checked before the upload is read), at most
/// `photos_per_listing` in all; an upload that would pass a limit, or holds one file that is
/// not a whole picture, is refused whole (422) and nothing is stored.
#[tracing::instrument(skip_all, fields(user.id = user.id, product.id = %path))]
pub async fn add_product_photos(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let product_id = path.into_inner();
    let owner = Owner::Product(product_id);
    let (seller, existing) = db(&state, move |conn| {
        Ok::<_, anyhow::Error>((photos::seller_of(conn, owner)?, photos::count(conn, owner)?))
    })
    .await?;
    if seller.ok_or(AppError::NotFound)? != user.id {
        return Err(AppError::Forbidden(PhotoError::NotYours.msg()));
    }
    let _slot = upload_slot(&state).await?;
    let mut form = read_multipart(payload).await?;
    let ctx = Ctx::load(&req).await?;
    let sent = form.file_count(FIELD);
    let max = state.settings.photos_per_listing;
    let refusal = if sent == 0 {
        Some(ctx.t("photos.choose"))
    } else if usize::try_from(existing).unwrap_or(usize::MAX) + sent > max as usize {
        Some(photo_limit(max).text(ctx.lang))
    } else if !may_add_photos(&state, user.id, sent).await? {
        Some(
            PhotoError::TooManyPhotos {
                per_day: state.settings.uploads_per_day,
            }
            .to_string(),
        )
    } else {
        None
    };
    if let Some(why) = refusal {
        return product_photos_page(
            ctx,
            &state,
            product_id,
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![why],
        )
        .await;
    }
    let images = match form.take_images(FIELD).await? {
        Ok(images) => images,
        Err(why) => {
            let why = why.text(ctx.lang);
            return product_photos_page(
                ctx,
                &state,
                product_id,
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![why],
            )
            .await;
        }
    };
    let uploads = Uploads::new(&state.settings);
    let seller = user.id;
    let result = db(&state, move |conn| {
        photos::add_photos(conn, &uploads, owner, seller, &images)
    })
    .await;
    match result {
        Ok(()) => {
            flash(&user.session, "success", Msg::new("photos.added"));
            Ok(see_other(&format!("/market/{product_id}/photos")))
        }
        Err(e) => {
            let why = match e {
                PhotoError::PhotoLimit { max } => vec![photo_limit(max).text(ctx.lang)],
                e => AppError::from(e).into_reasons(ctx.lang)?,
            };
            product_photos_page(
                ctx,
                &state,
                product_id,
                StatusCode::UNPROCESSABLE_ENTITY,
                why,
            )
            .await
        }
    }
}
