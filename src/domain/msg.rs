//! A sentence for a person in no language yet: a translation key (`locales/msg.*.yml`) and its
//! typed values. Use cases and handlers build one; whoever renders the page or notice knows the
//! reader's language and turns it into text there ([`Msg::text`]), so money is written `12,000원`
//! in Korean and `₩12,000` in English, and no lower layer has to know who reads.

use std::borrow::Cow;

use chrono::NaiveDateTime;

use crate::domain::lang::Lang;
use crate::domain::money::{AmountError, Won};

/// A translation key with its values (`%{name}` in the text). Serializable, so a flash waits
/// in the session as a sentence in no language and is written in the language of the page
/// that shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Msg {
    #[serde(rename = "k")]
    key: Cow<'static, str>,
    #[serde(rename = "a", default, skip_serializing_if = "Vec::is_empty")]
    args: Vec<(Cow<'static, str>, Arg)>,
}

/// A value in a sentence, written the reader's way.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Arg {
    Won(Won),
    Num(i64),
    /// Shown as it is (a name, a district, a title a member wrote).
    Text(String),
    /// A UTC time, written `YYYY-MM-DD HH:MM` (the sentence says `UTC`).
    Time(NaiveDateTime),
    /// A sentence inside a sentence, in the same language.
    Msg(Box<Msg>),
    /// Sentences inside a sentence, joined by a space.
    Msgs(Vec<Msg>),
}

impl Msg {
    pub fn new(key: &'static str) -> Msg {
        Msg {
            key: Cow::Borrowed(key),
            args: Vec::new(),
        }
    }

    /// With one more value: `%{name}` in the text is replaced by it.
    #[must_use]
    pub fn arg(mut self, name: &'static str, value: impl Into<Arg>) -> Msg {
        self.args.push((Cow::Borrowed(name), value.into()));
        self
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// The sentence in `lang`. A missing key reads as the key itself (`err.some.thing`), which
    /// `tests/locales.rs` and the page tests look for.
    pub fn text(&self, lang: Lang) -> String {
        let mut text = rust_i18n::t!(self.key.as_ref(), locale = lang.code()).into_owned();
        for (name, value) in &self.args {
            let value = match value {
                Arg::Won(w) => lang.money(*w),
                Arg::Num(n) => n.to_string(),
                Arg::Text(s) => s.clone(),
                Arg::Time(t) => t.format("%Y-%m-%d %H:%M").to_string(),
                Arg::Msg(m) => m.text(lang),
                Arg::Msgs(ms) => Msg::join(ms, lang),
            };
            text = text.replace(&format!("%{{{name}}}"), &value);
        }
        text
    }

    /// Each sentence in `lang` (a form's list of reasons).
    pub fn texts(msgs: &[Msg], lang: Lang) -> Vec<String> {
        msgs.iter().map(|m| m.text(lang)).collect()
    }

    /// Several sentences as one paragraph (a form's reasons), in `lang`.
    pub fn join(msgs: &[Msg], lang: Lang) -> String {
        msgs.iter()
            .map(|m| m.text(lang))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A refused amount's reason (here rather than in `money`, which `lang` and this module use).
impl AmountError {
    /// The reason in the reader's language.
    pub fn msg(&self) -> Msg {
        match self {
            AmountError::Empty => Msg::new("err.amount.empty"),
            AmountError::NotANumber => Msg::new("err.amount.not_a_number"),
            AmountError::NotPositive => Msg::new("err.amount.not_positive"),
            AmountError::TooSmall(min) => Msg::new("err.amount.too_small").arg("min", min),
            AmountError::TooLarge(max) => Msg::new("err.amount.too_large").arg("max", max),
        }
    }
}

/// The English text, for logs and the command line (a page uses [`Msg::text`]).
impl std::fmt::Display for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text(Lang::En))
    }
}

impl std::error::Error for Msg {}

impl From<Won> for Arg {
    fn from(w: Won) -> Arg {
        Arg::Won(w)
    }
}

impl From<&Won> for Arg {
    fn from(w: &Won) -> Arg {
        Arg::Won(*w)
    }
}

macro_rules! num_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(n: $t) -> Arg {
                Arg::Num(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
        impl From<&$t> for Arg {
            fn from(n: &$t) -> Arg {
                Arg::from(*n)
            }
        }
    )*};
}
num_arg!(i64, i32, u32, u64, usize);

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::Text(s.clone())
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_owned())
    }
}

impl From<NaiveDateTime> for Arg {
    fn from(t: NaiveDateTime) -> Arg {
        Arg::Time(t)
    }
}

impl From<&NaiveDateTime> for Arg {
    fn from(t: &NaiveDateTime) -> Arg {
        Arg::Time(*t)
    }
}

impl From<Vec<Msg>> for Arg {
    fn from(ms: Vec<Msg>) -> Arg {
        Arg::Msgs(ms)
    }
}

impl From<&Vec<Msg>> for Arg {
    fn from(ms: &Vec<Msg>) -> Arg {
        Arg::Msgs(ms.clone())
    }
}

impl From<&Msg> for Arg {
    fn from(m: &Msg) -> Arg {
        Arg::Msg(Box::new(m.clone()))
    }
}

impl From<Msg> for Arg {
    fn from(m: Msg) -> Arg {
        Arg::Msg(Box::new(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_writes_its_money_the_way_each_language_does() {
        let m =
            Msg::new("err.place_bid.too_low").arg("minimum", Won::new(11_000).unwrap_or_default());
        assert_eq!(m.text(Lang::Ko), "입찰가는 11,000원 이상이어야 해요.");
        assert_eq!(m.text(Lang::En), "Your bid must be at least ₩11,000.");
        assert_eq!(m.to_string(), "Your bid must be at least ₩11,000.");
    }

    #[test]
    fn sentences_nest_and_several_reasons_join_with_a_space() {
        let why = vec![Msg::new("err.bank.bank"), Msg::new("err.bank.number_empty")];
        let m = Msg::new("err.refund.refund_account").arg("0", why);
        assert_eq!(
            m.text(Lang::Ko),
            "가상계좌 환불에는 환불받을 계좌가 필요해요: 목록에서 은행을 골라 주세요. 계좌번호를 입력해 주세요."
        );
    }

    #[test]
    fn a_flash_survives_the_session_as_a_sentence_in_no_language() {
        let m = Msg::new("flash.wallet.added").arg("amount", Won::new(5_000).unwrap_or_default());
        let stored = serde_json::to_string(&m).unwrap_or_default();
        let back: Msg = serde_json::from_str(&stored).unwrap_or_else(|_| Msg::new("x"));
        assert_eq!(back, m);
        assert_eq!(back.text(Lang::Ko), "지갑에 5,000원을 충전했어요.");
    }

    #[test]
    fn a_missing_key_shows_as_the_key_itself() {
        // (`tests/locales.rs` fails on one; the page tests look for a key left on a page.)
        assert_eq!(
            Msg::new(concat!("err.", "no_such_key")).text(Lang::Ko),
            concat!("err.", "no_such_key")
        );
    }
}
