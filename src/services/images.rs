//! Stored images (listing and product photos) under the data directory's `uploads/`.

use std::path::{Path, PathBuf};

use rand::RngCore;

use crate::domain::image::{thumb_name, Image};

/// Write an image under `uploads` with a random name; returns the name and the full path.
pub fn store(uploads: &Path, image: &Image) -> anyhow::Result<(String, PathBuf)> {
    use anyhow::Context as _;
    std::fs::create_dir_all(uploads)
        .with_context(|| format!("cannot create {}", uploads.display()))?;
    let mut bytes = [0_u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let stem: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let name = format!("{stem}.{}", image.kind.extension());
    let path = uploads.join(&name);
    std::fs::write(&path, &image.bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let thumb = uploads.join(thumb_name(&name));
    std::fs::write(&thumb, &image.thumbnail)
        .with_context(|| format!("cannot write {}", thumb.display()))?;
    Ok((name, path))
}

/// Remove a stored image and its thumbnail (when the transaction that would use them failed).
pub fn remove(uploads: &Path, name: &str) {
    for file in [name.to_owned(), thumb_name(name)] {
        if let Err(e) = std::fs::remove_file(uploads.join(&file)) {
            tracing::warn!(error = %e, "could not remove an unused upload");
        }
    }
}
