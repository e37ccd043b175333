//! `/uploads/{name}`: stored photos of auctions and products, from one neutral place.

use actix_web::{web, HttpResponse};

use crate::domain::image::is_safe_upload_name;
use crate::web::{AppError, AppState};

/// A stored photo and its thumbnail (only names we generated).
pub async fn image(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let name = path.into_inner();
    let kind = is_safe_upload_name(&name).ok_or(AppError::NotFound)?;
    let file = state.settings.data_dir.join("uploads").join(&name);
    let bytes = web::block(move || std::fs::read(file))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
        .map_err(|_| AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(kind.content_type())
        .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
}
