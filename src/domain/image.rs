//! Uploaded images: recognised by their bytes, at most 5 MB, stored under random names.

/// The kinds of image the site accepts (listing and product photos), recognised by magic bytes (never by the name or
/// the declared content type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Webp,
}

impl ImageKind {
    pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageKind::Jpeg)
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(ImageKind::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageKind::Webp)
        } else {
            None
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "jpg",
            ImageKind::Png => "png",
            ImageKind::Webp => "webp",
        }
    }

    pub fn from_extension(ext: &str) -> Option<ImageKind> {
        match ext {
            "jpg" => Some(ImageKind::Jpeg),
            "png" => Some(ImageKind::Png),
            "webp" => Some(ImageKind::Webp),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::Webp => "image/webp",
        }
    }
}

/// An uploaded image that passed the checks: a known kind, at most [`Image::MAX_BYTES`].
#[derive(Clone)]
pub struct Image {
    pub kind: ImageKind,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Image({:?}, {} bytes)", self.kind, self.bytes.len())
    }
}

impl Image {
    pub const MAX_BYTES: usize = 5 * 1024 * 1024;

    pub fn parse(bytes: Vec<u8>) -> Result<Image, String> {
        if bytes.len() > Self::MAX_BYTES {
            return Err("The image can be at most 5 MB.".to_owned());
        }
        match ImageKind::sniff(&bytes) {
            Some(kind) => Ok(Image { kind, bytes }),
            None => Err("The image must be a JPEG, PNG or WebP picture.".to_owned()),
        }
    }
}

/// Stored upload names: 32 lowercase hex characters and a known extension. Anything else is
/// never looked up on disk.
pub fn is_safe_upload_name(name: &str) -> Option<ImageKind> {
    let (stem, ext) = name.split_once('.')?;
    (stem.len() == 32
        && stem
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then_some(())?;
    ImageKind::from_extension(ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_generated_names_are_served() {
        assert_eq!(
            is_safe_upload_name("0123456789abcdef0123456789abcdef.png"),
            Some(ImageKind::Png)
        );
        assert_eq!(is_safe_upload_name("../secret.key"), None);
        assert_eq!(
            is_safe_upload_name("0123456789abcdef0123456789abcdef.exe"),
            None
        );
        assert_eq!(
            is_safe_upload_name("0123456789ABCDEF0123456789abcdef.png"),
            None
        );
    }

    #[test]
    fn images_are_recognised_by_their_bytes() {
        assert_eq!(
            Image::parse(b"\x89PNG\r\n\x1a\n rest".to_vec())
                .map(|i| i.kind)
                .ok(),
            Some(ImageKind::Png)
        );
        assert!(Image::parse(b"GIF89a".to_vec()).is_err());
        assert!(Image::parse(vec![0xFF; Image::MAX_BYTES + 1]).is_err());
    }
}
