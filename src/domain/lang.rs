//! The site's languages (Korean first, English too) and `Accept-Language` negotiation. Pure:
//! the web layer decides which source (cookie, saved profile, header) is asked first.

use std::fmt;

use crate::domain::money::{format_delta, group_thousands, Won};

/// A language the site speaks. Korean is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ko,
    En,
}

impl Lang {
    /// Exactly `ko` or `en` (a cookie, a form field, the saved profile); anything else is `None`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "ko" => Some(Lang::Ko),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The BCP 47 code (`<html lang>`, the cookie, `users.locale`, the translation files).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
        }
    }

    /// The other language (the header's toggle offers it).
    pub fn other(self) -> Lang {
        match self {
            Lang::Ko => Lang::En,
            Lang::En => Lang::Ko,
        }
    }

    /// The best of `ko`/`en` an `Accept-Language` header asks for, by q-value (the first listed
    /// wins a tie; `q=0` refuses); `None` when it names neither (or `*` only).
    pub fn negotiate(header: &str) -> Option<Lang> {
        let mut best: Option<(Lang, u16)> = None;
        for part in header.split(',').take(32) {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
            let Some(lang) = Lang::parse(&primary) else {
                continue;
            };
            let mut q = 1000u16;
            for p in pieces {
                let p = p.trim();
                if let Some(v) = p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")) {
                    q = parse_q(v.trim()).unwrap_or(0);
                }
            }
            if q > 0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((lang, q));
            }
        }
        best.map(|(l, _)| l)
    }

    /// Money as this language writes it: `12,000원` (ko), `₩12,000` (en).
    pub fn money(self, w: Won) -> String {
        match self {
            Lang::Ko => format!("{}원", group_thousands(w.get())),
            Lang::En => w.to_string(),
        }
    }

    /// A signed change of money as a journal line shows it: `+12,000원` / `−12,000원` / `0원`
    /// in Korean, `+₩12,000` / `−₩12,000` / `₩0` in English.
    pub fn money_delta(self, n: i64) -> String {
        match self {
            Lang::Ko => match n.signum() {
                1 => format!("+{}원", group_thousands(n)),
                -1 => format!("−{}원", group_thousands(n.saturating_abs())),
                _ => "0원".to_owned(),
            },
            Lang::En => format_delta(n),
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A q-value (`0`, `0.5`, `1.000`) in thousandths; `None` when malformed.
fn parse_q(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: u16 = match int {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let mut thousandths = 0u16;
    for (i, c) in frac.chars().enumerate() {
        thousandths += (c as u16 - b'0' as u16) * [100, 10, 1][i];
    }
    let q = whole + thousandths;
    (q <= 1000).then_some(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_is_negotiated_by_q_value() {
        assert_eq!(Lang::negotiate("en-US,en;q=0.9"), Some(Lang::En));
        assert_eq!(Lang::negotiate("ko;q=0.1, en;q=0.9"), Some(Lang::En));
        assert_eq!(Lang::negotiate("ko-KR,ko;q=0.9,en;q=0.8"), Some(Lang::Ko));
        assert_eq!(Lang::negotiate("fr, de;q=0.5"), None);
        assert_eq!(Lang::negotiate("en;q=0, ko;q=0.2"), Some(Lang::Ko));
        assert_eq!(Lang::negotiate("en;q=abc"), None);
        assert_eq!(Lang::negotiate("*"), None);
        assert_eq!(Lang::negotiate(""), None);
    }

    #[test]
    fn money_is_written_the_way_each_language_writes_it() {
        let w = Won::new(12_000).unwrap();
        assert_eq!(Lang::Ko.money(w), "12,000원");
        assert_eq!(Lang::En.money(w), "₩12,000");
        assert_eq!(Lang::Ko.money_delta(-12_000), "−12,000원");
        assert_eq!(Lang::Ko.money_delta(3_000), "+3,000원");
        assert_eq!(Lang::Ko.money_delta(0), "0원");
        assert_eq!(Lang::En.money_delta(-12_000), "−₩12,000");
    }
}
