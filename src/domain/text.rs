//! Text that listings share: the one-line title (an auction's title, a product's name) and the
//! description. Parsed at the edge; the rules are the same for auctions and the market.

use crate::domain::account::is_invisible_or_control;
use crate::domain::money::group_thousands;

/// A listing's one-line title: 1–100 characters, no control or invisible characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub const MAX_CHARS: usize = 100;

    /// `field` names the field in the reasons ("title", "product name"); `when_empty` is the
    /// sentence shown for an empty one.
    pub fn parse(input: &str, field: &str, when_empty: &str) -> Result<Title, String> {
        let s = input.trim();
        let len = s.chars().count();
        if len == 0 {
            return Err(when_empty.to_owned());
        }
        if len > Self::MAX_CHARS {
            return Err(format!(
                "The {field} can be at most {} characters.",
                Self::MAX_CHARS
            ));
        }
        if s.chars().any(is_invisible_or_control) {
            return Err(format!(
                "The {field} may not contain control or invisible characters."
            ));
        }
        Ok(Title(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A listing's description: up to 5,000 characters; line breaks and tabs allowed (`\r\n` is
/// kept as `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub const MAX_CHARS: usize = 5_000;

    /// `required`: the sentence shown when it is empty, or `None` when it may be.
    pub fn parse(input: &str, required: Option<&str>) -> Result<Description, String> {
        let s = input.trim().replace("\r\n", "\n");
        if s.is_empty() {
            if let Some(why) = required {
                return Err(why.to_owned());
            }
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(format!(
                "The description can be at most {} characters.",
                group_thousands(i64::try_from(Self::MAX_CHARS).unwrap_or(i64::MAX))
            ));
        }
        if s.chars()
            .any(|c| !matches!(c, '\n' | '\r' | '\t') && is_invisible_or_control(c))
        {
            return Err(
                "The description may not contain control or invisible characters.".to_owned(),
            );
        }
        Ok(Description(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a search box sent, made safe for either database: control and invisible characters
/// (a NUL byte, which PostgreSQL refuses in text) become spaces, runs of space fold, and at
/// most 100 characters are kept. `None` when nothing is left to search for.
pub fn search_text(input: &str) -> Option<String> {
    let cleaned: String = input
        .chars()
        .map(|c| if is_invisible_or_control(c) { ' ' } else { c })
        .collect();
    let folded = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    let kept: String = folded.chars().take(100).collect();
    let kept = kept.trim_end().to_owned();
    (!kept.is_empty()).then_some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_trimmed_and_bounded_and_free_of_invisible_characters() {
        let t = Title::parse("  Lamp  ", "title", "Enter a title.").unwrap();
        assert_eq!(t.as_str(), "Lamp");
        assert_eq!(
            Title::parse(" ", "title", "Enter a title."),
            Err("Enter a title.".to_owned())
        );
        assert!(Title::parse(&"가".repeat(101), "title", "x")
            .unwrap_err()
            .contains("at most 100"));
        assert!(Title::parse("a\u{200b}b", "product name", "x")
            .unwrap_err()
            .contains("product name may not contain"));
    }

    #[test]
    fn search_text_drops_nul_and_control_characters() {
        assert_eq!(search_text("\u{0}"), None);
        assert_eq!(search_text("  a\u{0}b  "), Some("a b".to_owned()));
        assert_eq!(
            search_text("lamp\u{200b}\t\nshade"),
            Some("lamp shade".to_owned())
        );
        assert_eq!(search_text(&"가".repeat(300)).unwrap().chars().count(), 100);
    }

    #[test]
    fn descriptions_keep_line_breaks_and_may_be_required() {
        let d = Description::parse("one\r\ntwo\tthree", None).unwrap();
        assert_eq!(d.as_str(), "one\ntwo\tthree");
        assert_eq!(Description::parse("", None).unwrap().as_str(), "");
        assert_eq!(
            Description::parse("", Some("Describe the item.")),
            Err("Describe the item.".to_owned())
        );
        assert!(Description::parse("a\u{0}b", None).is_err());
        assert!(Description::parse(&"x".repeat(5_001), None)
            .unwrap_err()
            .contains("5,000"));
    }
}
