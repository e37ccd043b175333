//! Stored images (listing and product photos) under the data directory's `uploads/`, and the
//! count of photos each member added, for the cap per 24 hours.

use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::RngCore;

use crate::config::Settings;
use crate::db::schema::uploads;
use crate::db::{lock_user, DbConnection};
use crate::domain::image::{thumb_name, Image};
use crate::domain::UserId;

/// Where photos are stored and how many a member may add in any 24 hours.
#[derive(Debug, Clone)]
pub struct Uploads {
    pub dir: PathBuf,
    pub per_day: u32,
    /// Photos one listing or product may have.
    pub per_listing: u32,
}

impl Uploads {
    pub fn new(settings: &Settings) -> Uploads {
        Uploads {
            dir: settings.data_dir.join("uploads"),
            per_day: settings.uploads_per_day,
            per_listing: settings.photos_per_listing,
        }
    }
}

/// A photo just written under `uploads/`, not yet counted: the transaction that uses it
/// counts it with [`record`].
#[derive(Debug, Clone)]
pub struct StoredPhoto {
    pub name: String,
    pub per_day: u32,
}

/// Write an image under `uploads` with a random name, and its thumbnail.
pub fn store(uploads: &Uploads, image: &Image) -> anyhow::Result<StoredPhoto> {
    use anyhow::Context as _;
    let dir = &uploads.dir;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut bytes = [0_u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let stem: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let name = format!("{stem}.{}", image.kind.extension());
    let path = dir.join(&name);
    std::fs::write(&path, &image.bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let thumb = dir.join(thumb_name(&name));
    std::fs::write(&thumb, &image.thumbnail)
        .with_context(|| format!("cannot write {}", thumb.display()))?;
    Ok(StoredPhoto {
        name,
        per_day: uploads.per_day,
    })
}

/// Write several images (one upload's photos, in order); when one cannot be written, those
/// already written are removed again and nothing is left behind.
pub fn store_all(uploads: &Uploads, images: &[Image]) -> anyhow::Result<Vec<StoredPhoto>> {
    let mut stored = Vec::with_capacity(images.len());
    for image in images {
        match store(uploads, image) {
            Ok(photo) => stored.push(photo),
            Err(e) => {
                remove_all(&uploads.dir, &stored);
                return Err(e);
            }
        }
    }
    Ok(stored)
}

/// Remove stored photos whose transaction did not commit.
pub fn remove_all(dir: &Path, photos: &[StoredPhoto]) {
    for photo in photos {
        remove(dir, &photo.name);
    }
}

/// Remove a stored image and its thumbnail (unused after a failed transaction, replaced, or
/// its listing cancelled).
pub fn remove(dir: &Path, name: &str) {
    for file in [name.to_owned(), thumb_name(name)] {
        if let Err(e) = std::fs::remove_file(dir.join(&file)) {
            tracing::warn!(error = %e, "could not remove an upload");
        }
    }
}

/// Photos `user_id` added in the 24 hours before `now`.
pub fn added_in_last_day(
    conn: &mut DbConnection,
    user_id: UserId,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    uploads::table
        .filter(uploads::user_id.eq(user_id))
        .filter(uploads::created_at.gt(now - Duration::hours(24)))
        .count()
        .get_result(conn)
}

/// Count `photo` for `user_id` inside the caller's transaction: `false` (nothing written) when
/// they already added `per_day` photos in the last 24 hours. Their row is locked first, so
/// two uploads at once cannot both take the last place.
pub fn record(
    conn: &mut DbConnection,
    user_id: UserId,
    photo: &StoredPhoto,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    lock_user(conn, user_id)?;
    if added_in_last_day(conn, user_id, now)? >= i64::from(photo.per_day) {
        return Ok(false);
    }
    diesel::insert_into(uploads::table)
        .values((
            uploads::user_id.eq(user_id),
            uploads::name.eq(&photo.name),
            uploads::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(true)
}
