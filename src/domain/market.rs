//! The fixed-price market: product input parsed at the edge, product and trade statuses,
//! and uploaded images recognised by their first bytes. No I/O.

use std::fmt;

use crate::domain::msg::Msg;
use crate::domain::{AmountError, Won};

pub type ProductId = i64;
pub type TradeId = i64;
pub type CategoryId = i64;

/// How many units are for sale: 1 to 1,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(i32);

impl Quantity {
    pub const MAX: i32 = 1_000;

    pub fn parse(input: &str) -> Result<Quantity, Msg> {
        let reason = || Msg::new("err.market.quantity").arg("max", group(1_000));
        let s = input.trim();
        if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(reason());
        }
        match s.parse::<i32>() {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Quantity(n)),
            _ => Err(reason()),
        }
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

/// The price of one unit: ₩1 to ₩1,000,000,000.
pub const MAX_PRICE: Won = match Won::new(1_000_000_000) {
    Some(w) => w,
    None => Won::ZERO,
};

pub fn parse_price(input: &str) -> Result<Won, Msg> {
    Won::parse(input)
        .and_then(|w| {
            if w > MAX_PRICE {
                Err(AmountError::TooLarge(MAX_PRICE))
            } else {
                Ok(w)
            }
        })
        .map_err(|e| match e {
            AmountError::Empty => Msg::new("err.market.price_empty"),
            AmountError::NotPositive => Msg::new("err.market.price_not_positive"),
            AmountError::TooLarge(_) => {
                Msg::new("err.market.price_too_large").arg("max", MAX_PRICE)
            }
            other => Msg::new("err.market.price").arg("why", other.msg()),
        })
}

fn group(n: usize) -> String {
    crate::domain::money::group_thousands(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A product's status follows its units and trades (see [`ProductStatus::follow`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductStatus {
    OnSale,
    Reserved,
    Completed,
}

impl ProductStatus {
    pub const ALL: [ProductStatus; 3] = [
        ProductStatus::OnSale,
        ProductStatus::Reserved,
        ProductStatus::Completed,
    ];

    /// `on_sale` while units remain; `reserved` when none remains and some trade is still
    /// open (requested or approved); `completed` when every unit's trade is confirmed.
    pub fn follow(units_left: i32, open_trades: i64) -> ProductStatus {
        if units_left > 0 {
            ProductStatus::OnSale
        } else if open_trades > 0 {
            ProductStatus::Reserved
        } else {
            ProductStatus::Completed
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::OnSale => "on_sale",
            ProductStatus::Reserved => "reserved",
            ProductStatus::Completed => "completed",
        }
    }

    pub fn parse(s: &str) -> Option<ProductStatus> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            ProductStatus::OnSale => "On sale",
            ProductStatus::Reserved => "Reserved",
            ProductStatus::Completed => "Completed",
        }
    }

    /// The translation key of [`Self::label`] (`locales/msg.*.yml`).
    pub fn label_key(self) -> &'static str {
        match self {
            ProductStatus::OnSale => "words.product_status.1",
            ProductStatus::Reserved => "words.product_status.2",
            ProductStatus::Completed => "words.product_status.3",
        }
    }
}

impl fmt::Display for ProductStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A trade: requested by the buyer (money held), approved or rejected by the seller,
/// confirmed by the buyer (or automatically) when the money goes to the seller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeStatus {
    /// Paid by card: waiting for the payment (its units reserved) until its deadline.
    AwaitingPayment,
    Requested,
    Approved,
    Rejected,
    Confirmed,
    /// Ended before approval: by the buyer, or by the scheduler when the seller never answered.
    Cancelled,
    /// Waiting for receipt, and one side opened a dispute: the money stays held (never
    /// confirmed automatically) until an admin resolves it or the buyer confirms receipt.
    Disputed,
    /// A dispute resolved for the buyer: the held money went back to them.
    Refunded,
}

impl TradeStatus {
    pub const OPEN: [&'static str; 4] = ["awaiting_payment", "requested", "approved", "disputed"];

    pub fn as_str(self) -> &'static str {
        match self {
            TradeStatus::AwaitingPayment => "awaiting_payment",
            TradeStatus::Requested => "requested",
            TradeStatus::Approved => "approved",
            TradeStatus::Rejected => "rejected",
            TradeStatus::Confirmed => "confirmed",
            TradeStatus::Cancelled => "cancelled",
            TradeStatus::Disputed => "disputed",
            TradeStatus::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<TradeStatus> {
        [
            TradeStatus::AwaitingPayment,
            TradeStatus::Requested,
            TradeStatus::Approved,
            TradeStatus::Rejected,
            TradeStatus::Confirmed,
            TradeStatus::Cancelled,
            TradeStatus::Disputed,
            TradeStatus::Refunded,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            TradeStatus::AwaitingPayment => "Waiting for your card payment",
            TradeStatus::Requested => "Waiting for the seller",
            TradeStatus::Approved => "Waiting for the buyer to confirm receipt",
            TradeStatus::Rejected => "Rejected",
            TradeStatus::Confirmed => "Confirmed — the seller is paid",
            TradeStatus::Cancelled => "Cancelled",
            TradeStatus::Disputed => "Disputed — an admin will decide",
            TradeStatus::Refunded => "Refunded to the buyer",
        }
    }

    /// The translation key of [`Self::label`] (`locales/msg.*.yml`).
    pub fn label_key(self) -> &'static str {
        match self {
            TradeStatus::AwaitingPayment => "words.trade_status.1",
            TradeStatus::Requested => "words.trade_status.2",
            TradeStatus::Approved => "words.trade_status.3",
            TradeStatus::Rejected => "words.trade_status.4",
            TradeStatus::Confirmed => "words.trade_status.5",
            TradeStatus::Cancelled => "words.trade_status.6",
            TradeStatus::Disputed => "words.trade_status.7",
            TradeStatus::Refunded => "words.trade_status.8",
        }
    }
}

/// How an admin resolves a dispute (the form's `outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Resolution {
    /// The held money goes back to the buyer (a card or virtual-account payment: to where it came from).
    RefundBuyer,
    /// The held money goes to the seller, as a confirmation would.
    PaySeller,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::RefundBuyer => "refund_buyer",
            Resolution::PaySeller => "pay_seller",
        }
    }

    pub fn parse(s: &str) -> Option<Resolution> {
        [Resolution::RefundBuyer, Resolution::PaySeller]
            .into_iter()
            .find(|r| r.as_str() == s.trim())
    }

    /// What the trade pages say the admin decided.
    pub fn label(self) -> &'static str {
        match self {
            Resolution::RefundBuyer => "An admin refunded the buyer",
            Resolution::PaySeller => "An admin paid the seller",
        }
    }

    /// The translation key of [`Self::label`] (`locales/msg.*.yml`).
    pub fn label_key(self) -> &'static str {
        match self {
            Resolution::RefundBuyer => "words.resolution.1",
            Resolution::PaySeller => "words.resolution.2",
        }
    }
}

/// Why a side disputes a trade, or why an admin resolved it the way they did: 1 to 1,000
/// characters of plain text (line breaks allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason(String);

impl Reason {
    pub const MAX_CHARS: usize = 1_000;

    pub fn parse(input: &str) -> Result<Reason, Msg> {
        let s = input.trim().replace("\r\n", "\n");
        let len = s.chars().count();
        if len == 0 {
            return Err(Msg::new("err.market.reason_empty"));
        }
        if len > Self::MAX_CHARS {
            return Err(Msg::new("err.market.reason_too_long").arg("max", group(Self::MAX_CHARS)));
        }
        if s.chars()
            .any(|c| c != '\n' && c != '\t' && crate::domain::account::is_invisible_or_control(c))
        {
            return Err(Msg::new("err.market.reason_invisible"));
        }
        Ok(Reason(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_input_is_parsed_strictly() {
        assert_eq!(Quantity::parse("3").unwrap().get(), 3);
        for bad in ["0", "-1", "1.5", "", "1001", "99999999999999", "three"] {
            assert!(Quantity::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_price("12,000").unwrap().get(), 12_000);
        for bad in ["0", "-5", "abc", "1000000001", "99999999999999999999999"] {
            assert!(parse_price(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reasons_and_outcomes_are_parsed_strictly() {
        assert_eq!(
            Reason::parse("  it broke \r\n twice ").unwrap().as_str(),
            "it broke \n twice"
        );
        for bad in ["", "   ", "a\u{0}b", &"x".repeat(1_001)] {
            assert!(Reason::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Resolution::parse("pay_seller"), Some(Resolution::PaySeller));
        assert_eq!(
            Resolution::parse("refund_buyer"),
            Some(Resolution::RefundBuyer)
        );
        assert_eq!(Resolution::parse("both"), None);
        for st in ["disputed", "refunded"] {
            assert_eq!(TradeStatus::parse(st).map(TradeStatus::as_str), Some(st));
        }
    }

    #[test]
    fn status_follows_units_and_open_trades() {
        assert_eq!(ProductStatus::follow(1, 5), ProductStatus::OnSale);
        assert_eq!(ProductStatus::follow(0, 1), ProductStatus::Reserved);
        assert_eq!(ProductStatus::follow(0, 0), ProductStatus::Completed);
    }
}
