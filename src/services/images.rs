//! Stored images (listing and product photos) under the data directory's `uploads/`.

use std::path::{Path, PathBuf};

use rand::RngCore;

use crate::domain::image::Image;

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
    Ok((name, path))
}
