//! Multipart forms (listing and product photos): read with `actix-multipart`, each text field
//! capped at 64 KB and each file at [`Image::MAX_BYTES`] (a larger file is noted, not kept),
//! the whole body at the route's limit (413), at most 40 fields. Handlers call it only after
//! checking who is asking: until then the body stays unread.

use std::collections::{HashMap, HashSet};

use actix_multipart::Multipart;
use futures_util::StreamExt;

use crate::domain::image::Image;
use crate::domain::msg::Msg;
use crate::web::AppError;

/// Largest text field kept.
pub const TEXT_FIELD_LIMIT: usize = 64 * 1024;

/// A read multipart form: text fields, non-empty files (several may share a name: an
/// `<input type=file multiple>`), and the names under which a file was too large.
#[derive(Debug, Default)]
pub struct MultipartForm {
    pub fields: HashMap<String, String>,
    pub files: HashMap<String, Vec<Vec<u8>>>,
    pub too_large: HashSet<String>,
}

impl MultipartForm {
    pub fn text(&self, name: &str) -> String {
        self.fields.get(name).cloned().unwrap_or_default()
    }

    /// How many files were sent as `name` (counting a too-large one as one).
    pub fn file_count(&self, name: &str) -> usize {
        self.files.get(name).map_or(0, Vec::len) + usize::from(self.too_large.contains(name))
    }

    /// Every image sent as `name`, in order (taken out of the form), checked and thumbnailed
    /// on the blocking pool one after the other: `Err(reason)` as soon as one is too large or
    /// not a whole JPEG, PNG or WebP (then none is kept); an empty list when none was chosen.
    pub async fn take_images(&mut self, name: &str) -> Result<Result<Vec<Image>, Msg>, AppError> {
        if self.too_large.contains(name) {
            return Ok(Err(Msg::new("err.image.too_big")));
        }
        let mut images = Vec::new();
        for bytes in self.files.remove(name).into_iter().flatten() {
            match parse_image(Some(bytes)).await? {
                Some(Ok(image)) => images.push(image),
                Some(Err(why)) => return Ok(Err(why)),
                None => {}
            }
        }
        Ok(Ok(images))
    }
}

/// A slot to read and decode one upload: at most `Settings::upload_concurrency` at once in
/// this process. Waits up to `Settings::upload_wait` (the body meanwhile stays unread in the
/// socket), then answers 503. Hold it until the photo is stored.
pub async fn upload_slot(
    state: &crate::web::AppState,
) -> Result<tokio::sync::OwnedSemaphorePermit, AppError> {
    let acquire = state.upload_slots.clone().acquire_owned();
    match tokio::time::timeout(state.settings.upload_wait, acquire).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(closed)) => Err(AppError::Internal(anyhow::Error::new(closed))),
        Err(_elapsed) => Err(AppError::Busy),
    }
}

/// Whether a member may add `count` more photos now (one query), checked before decoding
/// them; the service counts them again, in the transaction that saves them.
pub async fn may_add_photos(
    state: &crate::web::AppState,
    user_id: i64,
    count: usize,
) -> Result<bool, AppError> {
    let per_day = i64::from(state.settings.uploads_per_day);
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    let added = crate::web::db(state, move |conn| {
        crate::services::images::added_in_last_day(conn, user_id, crate::services::now())
            .map_err(anyhow::Error::new)
    })
    .await?;
    Ok(added.saturating_add(count) <= per_day)
}

/// [`Image::parse`] (decoding and scaling: CPU-heavy) off the async workers.
pub async fn parse_image(bytes: Option<Vec<u8>>) -> Result<Option<Result<Image, Msg>>, AppError> {
    let Some(bytes) = bytes else { return Ok(None) };
    actix_web::web::block(move || Image::parse(bytes))
        .await
        .map(Some)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("image check failed: {e}")))
}

/// Most fields a form may send (ours have a dozen).
const MAX_FIELDS: usize = 40;

fn unreadable(e: actix_multipart::MultipartError) -> AppError {
    match e {
        // The route's body limit, enforced on the stream (see `web::csrf`).
        actix_multipart::MultipartError::Payload(actix_web::error::PayloadError::Overflow) => {
            AppError::PayloadTooLarge
        }
        e => AppError::BadRequest(Msg::new("err.form_unreadable").arg("0", e.to_string())),
    }
}

/// Read every field of a multipart body.
pub async fn read_multipart(mut payload: Multipart) -> Result<MultipartForm, AppError> {
    let mut form = MultipartForm::default();
    let mut count = 0;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(unreadable)?;
        count += 1;
        if count > MAX_FIELDS {
            return Err(AppError::BadRequest(Msg::new("err.form_too_many_fields")));
        }
        let name = field.name().unwrap_or_default().to_owned();
        let is_file = field
            .content_disposition()
            .is_some_and(|d| d.get_filename().is_some());
        let limit = if is_file {
            Image::MAX_BYTES
        } else {
            TEXT_FIELD_LIMIT
        };
        let mut bytes = Vec::new();
        let mut over = false;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(unreadable)?;
            if bytes.len() + chunk.len() > limit {
                over = true;
            } else {
                bytes.extend_from_slice(&chunk);
            }
        }
        if is_file {
            if over {
                form.too_large.insert(name);
            } else if !bytes.is_empty() {
                form.files.entry(name).or_default().push(bytes);
            }
        } else {
            form.fields
                .insert(name, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    Ok(form)
}
