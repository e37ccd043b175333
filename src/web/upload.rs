//! Multipart forms (already buffered and size-limited by the CSRF guard) and image uploads.

use std::collections::HashMap;
use std::path::Path;

use rand::RngCore;

/// Largest image accepted.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// A parsed multipart form: text fields and at most the files that were sent.
#[derive(Debug, Default)]
pub struct MultipartForm {
    pub fields: HashMap<String, String>,
    pub files: HashMap<String, Vec<u8>>,
}

impl MultipartForm {
    pub fn text(&self, name: &str) -> String {
        self.fields.get(name).cloned().unwrap_or_default()
    }

    /// A non-empty uploaded file.
    pub fn file(&self, name: &str) -> Option<&[u8]> {
        self.files
            .get(name)
            .map(Vec::as_slice)
            .filter(|b| !b.is_empty())
    }
}

/// Parse a `multipart/form-data` body. `None` when it is not one.
pub fn parse_multipart(content_type: &str, body: &[u8]) -> Option<MultipartForm> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))?
        .trim_matches('"');
    if boundary.is_empty() {
        return None;
    }
    let delimiter = format!("--{boundary}");
    let mut form = MultipartForm::default();
    let mut rest = &body[find(body, delimiter.as_bytes())? + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            break;
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let header_end = find(rest, b"\r\n\r\n")?;
        let headers = std::str::from_utf8(&rest[..header_end]).ok()?;
        let content = &rest[header_end + 4..];
        let next = find(content, format!("\r\n{delimiter}").as_bytes())?;
        let value = &content[..next];
        rest = &content[next + 2 + delimiter.len()..];

        let disposition = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?;
        let name = param(disposition, "name")?;
        if param(disposition, "filename").is_some() {
            form.files.insert(name, value.to_vec());
        } else {
            form.fields
                .insert(name, String::from_utf8_lossy(value).into_owned());
        }
    }
    Some(form)
}

fn param(header: &str, key: &str) -> Option<String> {
    header.split(';').map(str::trim).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The image kinds we keep, recognised by their first bytes (never by name or header).
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

    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::Webp => "image/webp",
        }
    }

    fn from_extension(ext: &str) -> Option<ImageKind> {
        match ext {
            "jpg" => Some(ImageKind::Jpeg),
            "png" => Some(ImageKind::Png),
            "webp" => Some(ImageKind::Webp),
            _ => None,
        }
    }
}

/// Check an uploaded image; the reason is shown to the user.
pub fn check_image(bytes: &[u8]) -> Result<ImageKind, String> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err("The image can be at most 5 MB.".to_owned());
    }
    ImageKind::sniff(bytes).ok_or_else(|| "The image must be a JPEG, PNG or WebP file.".to_owned())
}

/// Store an image under `dir` with a random name; returns the name.
pub fn store_image(dir: &Path, bytes: &[u8], kind: ImageKind) -> std::io::Result<String> {
    std::fs::create_dir_all(dir)?;
    let mut raw = [0_u8; 16];
    rand::rng().fill_bytes(&mut raw);
    let stem: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let name = format!("{stem}.{}", kind.extension());
    std::fs::write(dir.join(&name), bytes)?;
    Ok(name)
}

/// A stored image name we generated (32 hex digits and a known extension); `None` otherwise,
/// so a request can never reach another path.
pub fn stored_name(name: &str) -> Option<ImageKind> {
    let (stem, ext) = name.split_once('.')?;
    (stem.len() == 32
        && stem
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
    .then_some(())
    .and_then(|()| ImageKind::from_extension(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_fields_and_files_are_parsed() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nLamp \xEB\x9E\xA8\xED\x94\x84\r\n--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\x00\x01\r\n--XyZ--\r\n";
        let form = parse_multipart("multipart/form-data; boundary=XyZ", body).unwrap();
        assert_eq!(form.text("title"), "Lamp 램프");
        assert_eq!(
            ImageKind::sniff(form.file("image").unwrap()),
            Some(ImageKind::Png)
        );
        assert_eq!(form.text("missing"), "");
    }

    #[test]
    fn only_generated_names_are_served() {
        assert_eq!(
            stored_name("0123456789abcdef0123456789abcdef.png"),
            Some(ImageKind::Png)
        );
        assert_eq!(stored_name("../secret.key"), None);
        assert_eq!(stored_name("0123456789abcdef0123456789abcdef.exe"), None);
        assert_eq!(stored_name("0123456789ABCDEF0123456789abcdef.png"), None);
    }
}
