//! Account input: usernames, display names and passwords, parsed at the edge.

use std::fmt;

use crate::domain::msg::Msg;

/// A login name: 3–20 characters, `a–z`, `0–9` and `_`, starting with a letter; stored lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(input: &str) -> Result<Username, Msg> {
        let s = input.trim();
        let len = s.chars().count();
        if len == 0 {
            return Err(Msg::new("err.account.username_empty"));
        }
        let ok = (3..=20).contains(&len)
            && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ok {
            Ok(Username(s.to_ascii_lowercase()))
        } else {
            Err(Msg::new("err.account.username_rule"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name neighbours see: 1–40 characters of any script, no control or invisible characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(input: &str) -> Result<DisplayName, Msg> {
        let s = input.trim();
        let len = s.chars().count();
        if len == 0 {
            return Err(Msg::new("err.account.display_name_empty"));
        }
        if len > 40 {
            return Err(Msg::new("err.account.display_name_too_long"));
        }
        if s.chars().any(is_invisible_or_control) {
            return Err(Msg::new("err.account.display_name_invisible"));
        }
        Ok(DisplayName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Control characters (Cc), format characters (Cf: zero-width, bidi overrides, BOM),
/// private-use characters and noncharacters: nothing a person's name needs.
pub fn is_invisible_or_control(c: char) -> bool {
    let u = c as u32;
    c.is_control()
        || matches!(u,
            0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180E
            | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164
            | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFFB
            | 0xE000..=0xF8FF | 0xFDD0..=0xFDEF
            | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF | 0xF0000..=0x10FFFF)
        || (u & 0xFFFE) == 0xFFFE
}

/// A password that passed the strength rules. Never logged: `Debug` hides it.
#[derive(Clone)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Words that make a password on this site guessable, whoever chooses it.
const SITE_WORDS: &[&str] = &["neighborbid", "neighbor", "neighbour", "bid", "auction"];

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;
    /// The least zxcvbn score a new password needs: 3 of 0–4, "safely unguessable"
    /// (zxcvbn estimates at least 10^8 guesses; its 30,000 most common passwords, keyboard
    /// walks like `1q2w3e4r`, repeats, dates and l33t variants all score lower).
    pub const MIN_SCORE: u8 = 3;

    /// Check a new password and its confirmation (sign-up and password change share this
    /// rule): 8–128 characters, not the username nor built on it, and strong enough by
    /// zxcvbn (which looks at the first 100 characters).
    pub fn parse_new(password: &str, confirm: &str, username: &str) -> Result<Password, Msg> {
        let len = password.chars().count();
        if len < Self::MIN_CHARS {
            return Err(Msg::new("err.account.password_short").arg("min", Self::MIN_CHARS));
        }
        if len > Self::MAX_CHARS {
            return Err(Msg::new("err.account.password_long").arg("max", Self::MAX_CHARS));
        }
        let username = username.trim().to_lowercase();
        if !username.is_empty() && password.to_lowercase().contains(&username) {
            return Err(Msg::new("err.account.password_has_username"));
        }
        let mut inputs: Vec<&str> = SITE_WORDS.to_vec();
        if !username.is_empty() {
            inputs.push(&username);
        }
        let estimate = zxcvbn::zxcvbn(password, &inputs);
        if u8::from(estimate.score()) < Self::MIN_SCORE {
            // zxcvbn's warning is English only: the English sentence quotes it, the Korean does not.
            let why = estimate
                .feedback()
                .and_then(|f| f.warning())
                .map(|w| w.to_string());
            return Err(match why {
                Some(why) => Msg::new("err.account.password_guessable_why").arg("why", why),
                None => Msg::new("err.account.password_guessable"),
            });
        }
        if password != confirm {
            return Err(Msg::new("err.account.password_mismatch"));
        }
        Ok(Password(password.to_owned()))
    }

    /// A password typed at login or by an admin tool, length-checked only.
    pub fn parse_any(password: &str) -> Option<Password> {
        let len = password.chars().count();
        (1..=Self::MAX_CHARS)
            .contains(&len)
            .then(|| Password(password.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_rule() {
        assert_eq!(Username::parse(" Alice_1 ").unwrap().as_str(), "alice_1");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("1abc").is_err());
        assert!(Username::parse("ali ce").is_err());
        assert!(Username::parse("앨리스").is_err());
        assert!(Username::parse(&"a".repeat(10_000)).is_err());
    }

    #[test]
    fn display_names_refuse_invisible_characters() {
        assert_eq!(DisplayName::parse(" 김민수 ").unwrap().as_str(), "김민수");
        assert!(DisplayName::parse("evil\u{202E}gnp.exe").is_err());
        assert!(DisplayName::parse("zero\u{200B}width").is_err());
        assert!(DisplayName::parse("bell\u{7}").is_err());
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"가".repeat(41)).is_err());
    }

    #[test]
    fn common_passwords_keyboard_walks_and_site_words_are_refused() {
        for weak in [
            "password",
            "password1",
            "password123",
            "12345678",
            "123456789",
            "1234567890",
            "qwerty123",
            "qwertyuiop",
            "11111111",
            "00000000",
            "iloveyou",
            "sunshine",
            "princess",
            "football",
            "baseball",
            "welcome1",
            "abc12345",
            "letmein1",
            "passw0rd",
            "neighborbid",
            "qwer1234",
            "asdf1234",
            "1q2w3e4r",
            "1q2w3e4r5t",
            "zxcvbnm1",
            "P@ssw0rd!",
            "iloveyou2",
            "dragon123",
            "Neighborbid2026",
            "monkey12",
            "abcdefgh",
            "aaaaaaaaaa",
            "qazwsxedc",
            "1qaz2wsx3edc",
        ] {
            assert!(
                Password::parse_new(weak, weak, "minji").is_err(),
                "{weak} must be refused"
            );
        }
        for strong in [
            "tulip-garden-42",
            "neighbor-demo-2026",
            "bench-password-2026",
            "correct horse battery staple",
            "김치찌개와 된장국 2026",
        ] {
            assert!(
                Password::parse_new(strong, strong, "minji").is_ok(),
                "{strong} must be accepted"
            );
        }
        // Only the first 100 characters are weighed: a long password is quick to check.
        let long: String = "the quiet heron crossed 7 frozen rice paddies before dawn, \
            counting pebbles & humming 42 forgotten songs to the moon"
            .to_owned();
        assert!(Password::parse_new(&long, &long, "minji").is_ok());
    }

    #[test]
    fn weak_and_mismatched_passwords_are_refused() {
        assert!(Password::parse_new("short", "short", "bob").is_err());
        assert!(Password::parse_new("password", "password", "bob").is_err());
        assert!(Password::parse_new("bobbobbob1", "bobbobbob1", "bob").is_err());
        assert!(Password::parse_new("aaaaaaaaaa", "aaaaaaaaaa", "x").is_err());
        assert!(Password::parse_new("tulip-garden-7", "tulip-garden-8", "bob").is_err());
        assert!(Password::parse_new("tulip-garden-7", "tulip-garden-7", "bob").is_ok());
    }
}
