//! 1:1 chat: a message's body, parsed at the edge. Plain text: it is shown escaped, line breaks
//! kept.

use crate::domain::account::is_invisible_or_control;

/// A message's body: 1–1000 characters after trimming, line breaks and tabs allowed (`\r\n`
/// is kept as `\n`), no other control or invisible characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatBody(String);

/// Why a body was refused (the page says it in the reader's language).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChatBodyError {
    #[error("Write a message first.")]
    Empty,
    #[error("A message can be at most 1000 characters.")]
    TooLong,
    #[error("A message may not contain control or invisible characters.")]
    Invisible,
}

impl ChatBodyError {
    /// The translation key of the reason.
    pub fn key(self) -> &'static str {
        match self {
            ChatBodyError::Empty => "chat.error_empty",
            ChatBodyError::TooLong => "chat.error_too_long",
            ChatBodyError::Invisible => "chat.error_invisible",
        }
    }
}

impl ChatBody {
    pub const MAX_CHARS: usize = 1000;

    pub fn parse(input: &str) -> Result<ChatBody, ChatBodyError> {
        let s = input.trim().replace("\r\n", "\n");
        if s.is_empty() {
            return Err(ChatBodyError::Empty);
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(ChatBodyError::TooLong);
        }
        if s.chars()
            .any(|c| !matches!(c, '\n' | '\t') && is_invisible_or_control(c))
        {
            return Err(ChatBodyError::Invisible);
        }
        Ok(ChatBody(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_trimmed_and_kept_within_a_thousand_characters() {
        assert_eq!(
            ChatBody::parse("  hi \r\n there ").unwrap().as_str(),
            "hi \n there"
        );
        assert_eq!(ChatBody::parse(" \n ").unwrap_err(), ChatBodyError::Empty);
        assert!(ChatBody::parse(&"가".repeat(1000)).is_ok());
        assert_eq!(
            ChatBody::parse(&"가".repeat(1001)).unwrap_err(),
            ChatBodyError::TooLong
        );
        assert_eq!(
            ChatBody::parse("a\u{0}b").unwrap_err(),
            ChatBodyError::Invisible
        );
    }
}
