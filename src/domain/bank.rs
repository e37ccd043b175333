//! Korean banks by their standard codes (the codes PortOne uses for virtual accounts and refund
//! accounts), and a bank account as a member types it for a payout.

use crate::domain::account::is_invisible_or_control;
use crate::domain::msg::Msg;

/// The banks a member may choose: (code, name).
pub const BANKS: [(&str, &str); 12] = [
    ("004", "KB국민은행"),
    ("088", "신한은행"),
    ("020", "우리은행"),
    ("081", "하나은행"),
    ("011", "NH농협은행"),
    ("003", "IBK기업은행"),
    ("090", "카카오뱅크"),
    ("092", "토스뱅크"),
    ("089", "케이뱅크"),
    ("023", "SC제일은행"),
    ("031", "iM뱅크(대구)"),
    ("071", "우체국"),
];

/// The name of a bank code, if it is one of [`BANKS`].
pub fn bank_name(code: &str) -> Option<&'static str> {
    BANKS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// Where a payout goes: a known bank, an account number (digits, hyphens allowed as typed)
/// and the holder's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankAccount {
    pub bank_code: String,
    /// Digits only.
    pub number: String,
    pub holder: String,
}

impl BankAccount {
    /// Every reason at once.
    pub fn parse(bank_code: &str, number: &str, holder: &str) -> Result<BankAccount, Vec<Msg>> {
        let mut errors = Vec::new();
        let bank_code = bank_code.trim();
        if bank_name(bank_code).is_none() {
            errors.push(Msg::new("err.bank.bank"));
        }
        let typed = number.trim();
        let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
        if typed.is_empty() {
            errors.push(Msg::new("err.bank.number_empty"));
        } else if !typed
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == ' ')
            || !(8..=20).contains(&digits.len())
        {
            errors.push(Msg::new("err.bank.number"));
        }
        let holder = holder.trim();
        if holder.is_empty() {
            errors.push(Msg::new("err.bank.holder_empty"));
        } else if holder.chars().count() > 30 || holder.chars().any(is_invisible_or_control) {
            errors.push(Msg::new("err.bank.holder"));
        }
        if errors.is_empty() {
            Ok(BankAccount {
                bank_code: bank_code.to_owned(),
                number: digits,
                holder: holder.to_owned(),
            })
        } else {
            Err(errors)
        }
    }

    /// The number with all but the last four digits hidden (`••••••5678`).
    pub fn masked_number(number: &str) -> String {
        let n = number.chars().count();
        let shown: String = number.chars().skip(n.saturating_sub(4)).collect();
        format!("{}{shown}", "•".repeat(n.saturating_sub(4)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_parsed_strictly() {
        let a = BankAccount::parse("088", " 110-123-456789 ", " 김이웃 ").unwrap();
        assert_eq!(
            (a.number.as_str(), a.holder.as_str()),
            ("110123456789", "김이웃")
        );
        assert_eq!(
            BankAccount::parse("999", "12345678", "x")
                .unwrap_err()
                .len(),
            1
        );
        assert!(BankAccount::parse("088", "1234", "x").is_err());
        assert!(BankAccount::parse("088", "12345678a", "x").is_err());
        assert!(BankAccount::parse("088", "12345678", "").is_err());
        assert!(BankAccount::parse("088", "12345678", "a\u{0}b").is_err());
        assert_eq!(BankAccount::parse("", "", "").unwrap_err().len(), 3);
        assert_eq!(BankAccount::masked_number("110123456789"), "••••••••6789");
    }
}
