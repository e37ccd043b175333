//! Money: whole Korean won. KRW has no minor unit, so an `i64` of won is exact.

use std::fmt;

/// An amount of money in whole won, never negative.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Won(i64);

/// Why a typed amount was refused. The `Display` text is shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("Enter an amount.")]
    Empty,
    #[error("Enter the amount as a whole number of won, like 12000 or 12,000.")]
    NotANumber,
    #[error("The amount must be more than zero.")]
    NotPositive,
    #[error("The amount must be at least {0}.")]
    TooSmall(Won),
    #[error("The amount can be at most {0}.")]
    TooLarge(Won),
}

impl Won {
    pub const ZERO: Won = Won(0);
    /// The largest amount any single form accepts (₩1,000,000,000,000).
    pub const MAX_INPUT: Won = Won(1_000_000_000_000);

    /// `None` for negative values.
    pub const fn new(won: i64) -> Option<Won> {
        if won >= 0 {
            Some(Won(won))
        } else {
            None
        }
    }

    /// An amount read from the database, where a `CHECK (… >= 0)` keeps it non-negative; a
    /// negative value (which the schema refuses) reads as zero rather than panicking.
    pub const fn from_stored(won: i64) -> Won {
        if won >= 0 {
            Won(won)
        } else {
            Won(0)
        }
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Won) -> Option<Won> {
        self.0.checked_add(other.0).map(Won)
    }

    /// Parse what a user typed: digits with optional thousands separators and `₩`.
    /// Everything else (signs, decimals, exponents, spaces inside) is refused.
    pub fn parse(input: &str) -> Result<Won, AmountError> {
        let trimmed = input.trim();
        let trimmed = trimmed.strip_prefix('₩').unwrap_or(trimmed).trim_start();
        if trimmed.is_empty() {
            return Err(AmountError::Empty);
        }
        let (negative, digits) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let digits: String = digits.chars().filter(|c| *c != ',').collect();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AmountError::NotANumber);
        }
        if negative {
            return Err(AmountError::NotPositive);
        }
        let significant = digits.trim_start_matches('0');
        if significant.len() > 13 {
            return Err(AmountError::TooLarge(Won::MAX_INPUT));
        }
        let value: i64 = if significant.is_empty() {
            0
        } else {
            significant
                .parse()
                .map_err(|_| AmountError::TooLarge(Won::MAX_INPUT))?
        };
        if value == 0 {
            return Err(AmountError::NotPositive);
        }
        if value > Won::MAX_INPUT.0 {
            return Err(AmountError::TooLarge(Won::MAX_INPUT));
        }
        Ok(Won(value))
    }

    /// Parse and check the amount lies in `min..=max`.
    pub fn parse_within(input: &str, min: Won, max: Won) -> Result<Won, AmountError> {
        let w = Won::parse(input)?;
        if w < min {
            Err(AmountError::TooSmall(min))
        } else if w > max {
            Err(AmountError::TooLarge(max))
        } else {
            Ok(w)
        }
    }
}

/// `₩12,000`
impl fmt::Display for Won {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "₩{}", group_thousands(self.0))
    }
}

/// `12000` → `12,000`; `-5000` → `-5,000` (journal deltas can be negative).
pub fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A signed change of money for display: `+₩5,000` / `−₩5,000` / `₩0`.
pub fn format_delta(n: i64) -> String {
    match n.signum() {
        1 => format!("+₩{}", group_thousands(n)),
        -1 => format!("−₩{}", group_thousands(n.saturating_abs())),
        _ => "₩0".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn won_is_shown_with_thousands_separators() {
        assert_eq!(Won(12_000).to_string(), "₩12,000");
        assert_eq!(Won(0).to_string(), "₩0");
        assert_eq!(Won(999).to_string(), "₩999");
        assert_eq!(Won(1_000_000).to_string(), "₩1,000,000");
        assert_eq!(format_delta(-5000), "−₩5,000");
        assert_eq!(format_delta(5000), "+₩5,000");
    }

    #[test]
    fn typed_amounts_are_parsed_strictly() {
        assert_eq!(Won::parse("12000"), Ok(Won(12_000)));
        assert_eq!(Won::parse(" 12,000 "), Ok(Won(12_000)));
        assert_eq!(Won::parse("₩5,000"), Ok(Won(5_000)));
        assert_eq!(Won::parse(""), Err(AmountError::Empty));
        assert_eq!(Won::parse("abc"), Err(AmountError::NotANumber));
        assert_eq!(Won::parse("1e30"), Err(AmountError::NotANumber));
        assert_eq!(Won::parse("12.5"), Err(AmountError::NotANumber));
        assert_eq!(Won::parse("+5"), Err(AmountError::NotANumber));
        assert_eq!(Won::parse("-5"), Err(AmountError::NotPositive));
        assert_eq!(Won::parse("0"), Err(AmountError::NotPositive));
        assert_eq!(Won::parse("-0"), Err(AmountError::NotPositive));
        assert_eq!(
            Won::parse("1000000000000000000000000000000"),
            Err(AmountError::TooLarge(Won::MAX_INPUT))
        );
        assert_eq!(Won::parse("٣"), Err(AmountError::NotANumber));
        assert_eq!(
            Won::parse_within("10000001", Won(1), Won(10_000_000)),
            Err(AmountError::TooLarge(Won(10_000_000)))
        );
    }
}
