//! Uploaded images: recognised by their bytes, at most 5 MB and 40 megapixels (read from the
//! header before decoding), re-encoded without metadata, stored under random names.

use crate::domain::msg::Msg;

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

/// An uploaded image that passed the checks: a known kind, at most [`Image::MAX_BYTES`] and
/// [`Image::MAX_SIDE`] × [`Image::MAX_SIDE`] / [`Image::MAX_PIXELS`], that decodes as a whole
/// picture. `bytes` is not what was sent but the picture re-encoded (turned upright first), so
/// no metadata of the upload survives: no EXIF (GPS position, camera, time), no XMP, no
/// comments, nothing appended. With its list-page thumbnail (JPEG, at most
/// [`Image::THUMB_SIZE`] pixels on its longer side).
#[derive(Clone)]
pub struct Image {
    /// The kind stored (a WebP upload is stored as JPEG, or PNG when it has transparency).
    pub kind: ImageKind,
    pub bytes: Vec<u8>,
    pub thumbnail: Vec<u8>,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Image({:?}, {} bytes)", self.kind, self.bytes.len())
    }
}

impl Image {
    pub const MAX_BYTES: usize = 5 * 1024 * 1024;
    pub const THUMB_SIZE: u32 = 480;
    /// The longest side accepted, in pixels (a small file can declare a huge picture).
    pub const MAX_SIDE: u32 = 8_000;
    /// The most pixels accepted: 40 megapixels.
    pub const MAX_PIXELS: u64 = 40_000_000;
    /// The most memory the decoder may take for one picture (a 40-megapixel RGBA picture
    /// needs 160 MB).
    const MAX_DECODE_BYTES: u64 = 192 * 1024 * 1024;
    /// Quality of a re-encoded JPEG original.
    const JPEG_QUALITY: u8 = 90;

    /// Check an upload, re-encode it without its metadata, and render its thumbnail. The
    /// dimensions are read from the header and checked before anything is decoded.
    /// CPU-heavy: call it off the async workers.
    pub fn parse(bytes: Vec<u8>) -> Result<Image, Msg> {
        if bytes.len() > Self::MAX_BYTES {
            return Err(Msg::new("err.image.too_big"));
        }
        let kind = ImageKind::sniff(&bytes).ok_or_else(|| Msg::new("err.image.kind"))?;
        let unreadable = |_| Msg::new("err.image.unreadable");
        let (width, height) = header_dimensions(&bytes, kind).map_err(unreadable)?;
        check_dimensions(width, height)?;
        let picture = decode(&bytes, kind).map_err(|e| match e {
            image::ImageError::Limits(_) => too_large(width, height),
            other => unreadable(other),
        })?;
        drop(bytes);
        let thumbnail = thumbnail(&picture).map_err(unreadable)?;
        let (kind, bytes) = reencode(picture, kind).map_err(unreadable)?;
        Ok(Image {
            kind,
            bytes,
            thumbnail,
        })
    }
}

impl ImageKind {
    fn format(self) -> image::ImageFormat {
        match self {
            ImageKind::Jpeg => image::ImageFormat::Jpeg,
            ImageKind::Png => image::ImageFormat::Png,
            ImageKind::Webp => image::ImageFormat::WebP,
        }
    }
}

/// The width and height the picture declares, from its header alone (nothing is decoded).
fn header_dimensions(bytes: &[u8], kind: ImageKind) -> image::ImageResult<(u32, u32)> {
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), kind.format());
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(Image::MAX_DECODE_BYTES);
    reader.limits(limits);
    reader.into_dimensions()
}

/// At most [`Image::MAX_SIDE`] a side and [`Image::MAX_PIXELS`] in all.
pub fn check_dimensions(width: u32, height: u32) -> Result<(), Msg> {
    let pixels = u64::from(width) * u64::from(height);
    if width > Image::MAX_SIDE || height > Image::MAX_SIDE || pixels > Image::MAX_PIXELS {
        return Err(too_large(width, height));
    }
    if pixels == 0 {
        return Err(Msg::new("err.image.no_pixels"));
    }
    Ok(())
}

fn too_large(width: u32, height: u32) -> Msg {
    Msg::new("err.image.too_large")
        .arg("width", width)
        .arg("height", height)
}

/// Decode within the limits, and turn the picture upright as its EXIF orientation says (the
/// orientation is dropped with the rest of the metadata).
fn decode(bytes: &[u8], kind: ImageKind) -> image::ImageResult<image::DynamicImage> {
    use image::ImageDecoder as _;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(Image::MAX_SIDE);
    limits.max_image_height = Some(Image::MAX_SIDE);
    limits.max_alloc = Some(Image::MAX_DECODE_BYTES);
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), kind.format());
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder()?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    limits.reserve(decoder.total_bytes())?;
    let mut picture = image::DynamicImage::from_decoder(decoder)?;
    picture.apply_orientation(orientation);
    Ok(picture)
}

/// The picture encoded afresh: PNG stays PNG; JPEG and WebP become JPEG (PNG when they have
/// transparency). The encoders write pixels only.
fn reencode(
    picture: image::DynamicImage,
    sent: ImageKind,
) -> image::ImageResult<(ImageKind, Vec<u8>)> {
    let mut out = Vec::new();
    if sent == ImageKind::Png || picture.has_alpha() {
        picture.write_with_encoder(image::codecs::png::PngEncoder::new(&mut out))?;
        Ok((ImageKind::Png, out))
    } else {
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, Image::JPEG_QUALITY)
            .encode_image(&picture.into_rgb8())?;
        Ok((ImageKind::Jpeg, out))
    }
}

fn thumbnail(picture: &image::DynamicImage) -> image::ImageResult<Vec<u8>> {
    let size = Image::THUMB_SIZE;
    let small = if picture.width() > size || picture.height() > size {
        picture.thumbnail(size, size)
    } else {
        picture.clone()
    };
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&small.to_rgb8())?;
    Ok(out)
}

/// The thumbnail's stored name for a stored image name (`<stem>.thumb.jpg`).
pub fn thumb_name(name: &str) -> String {
    let stem = name.split('.').next().unwrap_or(name);
    format!("{stem}.thumb.jpg")
}

/// Stored upload names: 32 lowercase hex characters and a known extension. Anything else is
/// never looked up on disk.
pub fn is_safe_upload_name(name: &str) -> Option<ImageKind> {
    let (stem, ext) = name.split_once('.')?;
    let ext = if ext == "thumb.jpg" { "jpg" } else { ext };
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

    /// A whole 2×2 PNG.
    const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x02\x00\x00\x00\x02\x08\x06\x00\x00\x00\x72\xb6\x0d\x24\x00\x00\x00\x11\x49\x44\x41\x54\x78\x9c\x63\xf8\xdf\xc0\xf0\x1f\x84\x19\x60\x0c\x00\x5a\xca\x09\xf9\xef\xae\x6a\xa1\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

    #[test]
    fn images_are_recognised_by_their_bytes_and_must_decode() {
        let image = Image::parse(PNG.to_vec()).unwrap();
        assert_eq!(image.kind, ImageKind::Png);
        assert!(
            image.thumbnail.starts_with(&[0xFF, 0xD8, 0xFF]),
            "a JPEG thumbnail"
        );
        assert!(Image::parse(b"\x89PNG\r\n\x1a\n no picture".to_vec()).is_err());
        assert!(Image::parse(b"GIF89a".to_vec()).is_err());
        assert!(Image::parse(vec![0xFF; Image::MAX_BYTES + 1]).is_err());
        assert_eq!(
            thumb_name("0123456789abcdef0123456789abcdef.png"),
            "0123456789abcdef0123456789abcdef.thumb.jpg"
        );
        assert_eq!(
            is_safe_upload_name("0123456789abcdef0123456789abcdef.thumb.jpg"),
            Some(ImageKind::Jpeg)
        );
    }

    #[test]
    fn pictures_over_8000_pixels_a_side_or_40_megapixels_are_refused() {
        assert!(check_dimensions(8_000, 5_000).is_ok());
        assert!(check_dimensions(8_001, 10).is_err());
        assert!(check_dimensions(10, 8_001).is_err());
        assert!(check_dimensions(7_000, 7_000).is_err(), "49 megapixels");
        assert!(check_dimensions(0, 10).is_err());
        assert!(check_dimensions(12_000, 11_000)
            .unwrap_err()
            .to_string()
            .contains("12000 × 11000"));
    }
}
