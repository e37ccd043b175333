//! Auction rules that need no database: statuses, the minimum next bid, amount checks.

use chrono::NaiveDateTime;
use chrono::TimeZone as _;

use crate::domain::Won;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuctionStatus {
    Scheduled,
    Active,
    Sold,
    NoBids,
    Cancelled,
}

impl AuctionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AuctionStatus::Scheduled => "scheduled",
            AuctionStatus::Active => "active",
            AuctionStatus::Sold => "sold",
            AuctionStatus::NoBids => "no_bids",
            AuctionStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<AuctionStatus> {
        Some(match s {
            "scheduled" => AuctionStatus::Scheduled,
            "active" => AuctionStatus::Active,
            "sold" => AuctionStatus::Sold,
            "no_bids" => AuctionStatus::NoBids,
            "cancelled" => AuctionStatus::Cancelled,
            _ => return None,
        })
    }

    /// Scheduled or active: not yet closed.
    pub fn is_open(self) -> bool {
        matches!(self, AuctionStatus::Scheduled | AuctionStatus::Active)
    }

    pub fn label(self) -> &'static str {
        match self {
            AuctionStatus::Scheduled => "Starts soon",
            AuctionStatus::Active => "Active",
            AuctionStatus::Sold => "Sold",
            AuctionStatus::NoBids => "Ended without bids",
            AuctionStatus::Cancelled => "Cancelled",
        }
    }
}

/// The money side of an auction, as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct PriceState {
    pub start_price: Won,
    pub bid_unit: Won,
    pub buy_now_price: Option<Won>,
    pub current_price: Won,
    pub bid_count: i32,
}

impl PriceState {
    /// The first bid is at least the start price; every later one at least current + unit.
    pub fn minimum_bid(&self) -> Won {
        if self.bid_count == 0 {
            self.start_price
        } else {
            self.current_price
                .checked_add(self.bid_unit)
                .unwrap_or(self.current_price)
        }
    }

    /// Check an amount against the price rules (not time, seller or funds).
    pub fn check_amount(&self, amount: Won) -> Result<(), AmountRule> {
        if amount.get() % self.bid_unit.get() != 0 {
            return Err(AmountRule::NotMultiple {
                unit: self.bid_unit,
            });
        }
        if amount < self.minimum_bid() {
            return Err(AmountRule::TooLow {
                minimum: self.minimum_bid(),
            });
        }
        if let Some(buy_now) = self.buy_now_price {
            if amount >= buy_now {
                return Err(AmountRule::UseBuyNow { buy_now });
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountRule {
    TooLow { minimum: Won },
    NotMultiple { unit: Won },
    UseBuyNow { buy_now: Won },
}

/// Where an auction stands in time, by server time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    NotStarted,
    Open,
    Ended,
}

pub fn window(starts_at: NaiveDateTime, ends_at: NaiveDateTime, now: NaiveDateTime) -> Window {
    if now < starts_at {
        Window::NotStarted
    } else if now < ends_at {
        Window::Open
    } else {
        Window::Ended
    }
}

/// "2d 4h left", "12m 5s left", "ended".
pub fn time_left(ends_at: NaiveDateTime, now: NaiveDateTime) -> String {
    let secs = (ends_at - now).num_seconds();
    if secs <= 0 {
        return "ended".to_owned();
    }
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    if d > 0 {
        format!("{d}d {h}h left")
    } else if h > 0 {
        format!("{h}h {m}m left")
    } else if m > 0 {
        format!("{m}m {s}s left")
    } else {
        format!("{s}s left")
    }
}

/// `YYYY-MM-DDTHH:MM` (or with seconds) in the site's time zone → stored UTC.
pub fn parse_local(raw: &str, tz: chrono_tz::Tz) -> Option<NaiveDateTime> {
    let raw = raw.trim();
    let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.naive_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn won(n: i64) -> Won {
        Won::new(n).unwrap()
    }

    fn state(bids: i32) -> PriceState {
        PriceState {
            start_price: won(10_000),
            bid_unit: won(1_000),
            buy_now_price: Some(won(50_000)),
            current_price: won(if bids == 0 { 10_000 } else { 20_000 }),
            bid_count: bids,
        }
    }

    #[test]
    fn the_first_bid_may_equal_the_start_price_later_ones_add_a_unit() {
        assert_eq!(state(0).minimum_bid(), won(10_000));
        assert_eq!(state(0).check_amount(won(10_000)), Ok(()));
        assert_eq!(state(3).minimum_bid(), won(21_000));
        assert_eq!(
            state(3).check_amount(won(20_000)),
            Err(AmountRule::TooLow {
                minimum: won(21_000)
            })
        );
    }

    #[test]
    fn amounts_off_the_unit_and_at_buy_now_are_refused() {
        assert_eq!(
            state(0).check_amount(won(10_500)),
            Err(AmountRule::NotMultiple { unit: won(1_000) })
        );
        assert_eq!(
            state(0).check_amount(won(50_000)),
            Err(AmountRule::UseBuyNow {
                buy_now: won(50_000)
            })
        );
        assert_eq!(state(0).check_amount(won(49_000)), Ok(()));
    }
}
