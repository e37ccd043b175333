//! Where to go after logging in (`next=`): only a path on this site. Anything else — another
//! host (`//evil.example`, `/\\evil`, `/\t/evil` that a browser turns into `//evil`), a
//! scheme, a control character before or after percent-decoding — sends the user to `/`.

/// The longest `next` kept.
const MAX_LEN: usize = 2048;

/// `next` as a safe redirect target on this site, or `None`. The result is a valid
/// `Location` header value: characters outside visible ASCII are percent-encoded.
pub fn safe_next(next: &str) -> Option<String> {
    if next.len() > MAX_LEN || !acceptable(next) {
        return None;
    }
    let decoded = percent_decode(next);
    if !acceptable(&decoded) {
        return None;
    }
    Some(encode_non_ascii(next))
}

/// The path part of a same-site URL (a `Referer`), for `next=`; `None` for anything else.
pub fn local_path(url: &str) -> Option<String> {
    let path = match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            &rest[rest.find('/')?..]
        }
        None => url,
    };
    safe_next(path)
}

fn acceptable(path: &str) -> bool {
    path.starts_with('/')
        && !path.contains("//")
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control() || is_invisible(c))
}

/// Characters a browser may drop or render as nothing (so `/\u{200b}/evil` is refused too).
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

/// `%XX` → the byte; anything malformed is kept as it is.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode_non_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_graphic() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_kept() {
        for ok in [
            "/",
            "/wallet",
            "/auctions?q=lamp&page=2",
            "/market/3#trades",
            "/a:b",
        ] {
            assert_eq!(safe_next(ok).as_deref(), Some(ok), "{ok}");
        }
        assert_eq!(safe_next("/검색").as_deref(), Some("/%EA%B2%80%EC%83%89"));
    }

    #[test]
    fn anything_that_could_leave_the_site_is_refused() {
        for bad in [
            "",
            "wallet",
            "//evil.example",
            "/\t/evil.example",
            "/\\evil.example",
            "\\\\evil",
            "https://evil.example",
            "javascript:alert(1)",
            "/%09/evil.example",
            "/%0a",
            "/%2F%2Fevil.example",
            "/%5Cevil",
            "/\n",
            "/\u{0}",
            "/\u{200b}/evil",
            "/%E2%80%8B/evil",
            " /wallet",
            "/a\rb",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
        assert_eq!(safe_next(&format!("/{}", "a".repeat(3000))), None);
    }
}
