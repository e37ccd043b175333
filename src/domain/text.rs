//! Text that listings share: the one-line title (an auction's title, a product's name) and the
//! description. Parsed at the edge; the rules are the same for auctions and the market.

use crate::domain::account::is_invisible_or_control;
use crate::domain::money::group_thousands;
use crate::domain::msg::Msg;

/// A listing's one-line title: 1–100 characters, no control or invisible characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub const MAX_CHARS: usize = 100;

    /// `field` says which title it is (an auction's or a product's name), for the reasons.
    pub fn parse(input: &str, field: TitleField) -> Result<Title, Msg> {
        let s = input.trim();
        let len = s.chars().count();
        let (empty, too_long, invisible) = match field {
            TitleField::Title => (
                "err.text.title_empty",
                "err.text.title_too_long",
                "err.text.title_invisible",
            ),
            TitleField::ProductName => (
                "err.text.name_empty",
                "err.text.name_too_long",
                "err.text.name_invisible",
            ),
        };
        if len == 0 {
            return Err(Msg::new(empty));
        }
        if len > Self::MAX_CHARS {
            return Err(Msg::new(too_long).arg("max", Self::MAX_CHARS));
        }
        if s.chars().any(is_invisible_or_control) {
            return Err(Msg::new(invisible));
        }
        Ok(Title(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which one-line title a form asks for (the reasons name it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TitleField {
    /// An auction's title.
    Title,
    /// A product's name.
    ProductName,
}

/// A listing's description: up to 5,000 characters; line breaks and tabs allowed (`\r\n` is
/// kept as `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub const MAX_CHARS: usize = 5_000;

    /// `required`: whether an empty one is refused.
    pub fn parse(input: &str, required: bool) -> Result<Description, Msg> {
        let s = input.trim().replace("\r\n", "\n");
        if s.is_empty() && required {
            return Err(Msg::new("err.text.description_empty"));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(Msg::new("err.text.description_too_long").arg(
                "max",
                group_thousands(i64::try_from(Self::MAX_CHARS).unwrap_or(i64::MAX)),
            ));
        }
        if s.chars()
            .any(|c| !matches!(c, '\n' | '\r' | '\t') && is_invisible_or_control(c))
        {
            return Err(Msg::new("err.text.description_invisible"));
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
        let t = Title::parse("  Lamp  ", TitleField::Title).unwrap();
        assert_eq!(t.as_str(), "Lamp");
        assert_eq!(
            Title::parse(" ", TitleField::Title).map_err(|e| e.to_string()),
            Err("Enter a title.".to_owned())
        );
        assert!(Title::parse(&"가".repeat(101), TitleField::Title)
            .unwrap_err()
            .to_string()
            .contains("at most 100"));
        assert!(Title::parse("a\u{200b}b", TitleField::ProductName)
            .unwrap_err()
            .to_string()
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
        let d = Description::parse("one\r\ntwo\tthree", false).unwrap();
        assert_eq!(d.as_str(), "one\ntwo\tthree");
        assert_eq!(Description::parse("", false).unwrap().as_str(), "");
        assert_eq!(
            Description::parse("", true).map_err(|e| e.to_string()),
            Err("Describe the item.".to_owned())
        );
        assert!(Description::parse("a\u{0}b", false).is_err());
        assert!(Description::parse(&"x".repeat(5_001), false)
            .unwrap_err()
            .to_string()
            .contains("5,000"));
    }
}
