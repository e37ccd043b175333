//! Reading values out of pages (and writing the one form value that needs a format).

/// The CSRF token in a page's `<meta name="csrf-token" content="…">` (every page carries it).
pub fn csrf_meta(html: &str) -> Option<String> {
    let marker = "name=\"csrf-token\" content=\"";
    let at = html.find(marker)? + marker.len();
    Some(html[at..at + html[at..].find('"')?].to_owned())
}

/// The `value` of the first `<input name="NAME" … value="…">` in a page.
pub fn field_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[at..];
    let v = rest.find("value=\"")? + 7;
    let end = rest[v..].find('"')?;
    Some(rest[v..v + end].to_owned())
}

/// The first `₩1,234` after `marker`, as a number.
pub fn won_in(html: &str, marker: &str) -> Option<i64> {
    let at = html.find(marker)?;
    let rest = &html[at..];
    let start = rest.find('₩')? + '₩'.len_utf8();
    let digits: String = rest[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(|c| *c != ',')
        .collect();
    digits.parse().ok()
}

/// Number of `<tr class="kind-…">` journal rows on a wallet page.
pub fn journal_rows(html: &str) -> usize {
    html.matches("<tr class=\"kind-").count()
}

/// `data-min-bid` of an auction page.
pub fn min_bid(html: &str) -> Option<i64> {
    let at = html.find("data-min-bid=\"")? + "data-min-bid=\"".len();
    html[at..at + html[at..].find('"')?].parse().ok()
}

/// A time `secs` from now, as the listing form takes it (site time zone, with seconds).
pub fn local_in(secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(secs))
        .with_timezone(&chrono_tz::Asia::Seoul)
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}
