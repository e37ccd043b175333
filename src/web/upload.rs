//! Multipart forms (already buffered and size-limited by the CSRF guard) and image uploads.

use std::collections::HashMap;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::image::ImageKind;

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
}
