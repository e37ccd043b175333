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
    /// Ended with bids, all below the seller's secret reserve: no sale, holds released.
    ReserveNotMet,
    Cancelled,
}

impl AuctionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AuctionStatus::Scheduled => "scheduled",
            AuctionStatus::Active => "active",
            AuctionStatus::Sold => "sold",
            AuctionStatus::NoBids => "no_bids",
            AuctionStatus::ReserveNotMet => "reserve_not_met",
            AuctionStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<AuctionStatus> {
        Some(match s {
            "scheduled" => AuctionStatus::Scheduled,
            "active" => AuctionStatus::Active,
            "sold" => AuctionStatus::Sold,
            "no_bids" => AuctionStatus::NoBids,
            "reserve_not_met" => AuctionStatus::ReserveNotMet,
            "cancelled" => AuctionStatus::Cancelled,
            _ => return None,
        })
    }

    /// Scheduled or active: not yet closed.
    pub fn is_open(self) -> bool {
        matches!(self, AuctionStatus::Scheduled | AuctionStatus::Active)
    }

    /// The translation key of [`Self::label`] (`locales/*.yml`).
    pub fn key(self) -> &'static str {
        match self {
            AuctionStatus::Scheduled => "status.scheduled",
            AuctionStatus::Active => "status.active",
            AuctionStatus::Sold => "status.sold",
            AuctionStatus::NoBids => "status.no_bids",
            AuctionStatus::ReserveNotMet => "status.reserve_not_met",
            AuctionStatus::Cancelled => "status.cancelled",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AuctionStatus::Scheduled => "Starts soon",
            AuctionStatus::Active => "Active",
            AuctionStatus::Sold => "Sold",
            AuctionStatus::NoBids => "Ended without bids",
            AuctionStatus::ReserveNotMet => "Ended — reserve not met",
            AuctionStatus::Cancelled => "Cancelled",
        }
    }
}

/// How much a bid must beat the price by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Increment {
    /// The site's published table: the step grows with the price ([`INCREMENT_TABLE`]).
    Table,
    /// The seller's own unit; bids are multiples of it.
    Fixed(Won),
}

/// The published increment table: below each bound (exclusive) a bid must beat the price by
/// the step; the last row has no bound.
pub const INCREMENT_TABLE: [(Option<i64>, i64); 4] = [
    (Some(50_000), 1_000),
    (Some(200_000), 2_000),
    (Some(1_000_000), 5_000),
    (None, 10_000),
];

impl Increment {
    /// The step above `price`.
    pub fn step(self, price: Won) -> Won {
        match self {
            Increment::Fixed(unit) => unit,
            Increment::Table => {
                let step = INCREMENT_TABLE
                    .iter()
                    .find(|(bound, _)| bound.is_none_or(|b| price.get() < b))
                    .map_or(10_000, |(_, step)| *step);
                Won::from_stored(step)
            }
        }
    }
}

/// The money side of an auction, as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct PriceState {
    pub start_price: Won,
    pub increment: Increment,
    pub buy_now_price: Option<Won>,
    pub current_price: Won,
    pub bid_count: i32,
}

impl PriceState {
    /// The first bid is at least the start price; every later one at least the price plus
    /// its increment.
    pub fn minimum_bid(&self) -> Won {
        if self.bid_count == 0 {
            self.start_price
        } else {
            self.current_price
                .checked_add(self.increment.step(self.current_price))
                .unwrap_or(self.current_price)
        }
    }

    /// Check an amount against the price rules (not time, seller or funds).
    pub fn check_amount(&self, amount: Won) -> Result<(), AmountRule> {
        if let Increment::Fixed(unit) = self.increment {
            if amount.get() % unit.get() != 0 {
                return Err(AmountRule::NotMultiple { unit });
            }
        }
        if amount < self.minimum_bid() {
            return Err(AmountRule::TooLow {
                minimum: self.minimum_bid(),
            });
        }
        Ok(())
    }

    /// The buy-now price while it is still offered: until the bids bring the price to it. A
    /// bid is a maximum, so it may exceed the buy-now price; the price it leads to may reach it.
    pub fn buy_now_offered(&self) -> Option<Won> {
        self.buy_now_price.filter(|b| self.current_price < *b)
    }
}

/// Soft close: a bid in the last `window` before the end moves the end to `window` after the
/// bid, but never past `cap` after the end the seller set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoftClose {
    pub window: chrono::Duration,
    pub cap: chrono::Duration,
}

impl SoftClose {
    /// The new end after a bid at `now`, when it moves: `ends_at` now, `original` the end the
    /// seller set (`None`: never moved yet).
    pub fn extended_end(
        &self,
        ends_at: NaiveDateTime,
        original: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> Option<NaiveDateTime> {
        if self.window <= chrono::Duration::zero() || ends_at - now > self.window {
            return None;
        }
        let hard_end = original.unwrap_or(ends_at) + self.cap;
        let wanted = (now + self.window).min(hard_end);
        (wanted > ends_at).then_some(wanted)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountRule {
    TooLow { minimum: Won },
    NotMultiple { unit: Won },
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
            increment: Increment::Fixed(won(1_000)),
            buy_now_price: Some(won(50_000)),
            current_price: won(if bids == 0 { 10_000 } else { 20_000 }),
            bid_count: bids,
        }
    }

    #[test]
    fn the_increment_table_steps_up_at_each_band_edge() {
        for (price, step) in [
            (1_000, 1_000),
            (49_999, 1_000),
            (50_000, 2_000),
            (199_999, 2_000),
            (200_000, 5_000),
            (999_999, 5_000),
            (1_000_000, 10_000),
            (90_000_000, 10_000),
        ] {
            assert_eq!(Increment::Table.step(won(price)), won(step), "at {price}");
        }
        assert_eq!(Increment::Fixed(won(500)).step(won(1_000_000)), won(500));
        let table = PriceState {
            start_price: won(10_000),
            increment: Increment::Table,
            buy_now_price: None,
            current_price: won(49_000),
            bid_count: 3,
        };
        assert_eq!(table.minimum_bid(), won(50_000));
        // No multiple rule with the table: any amount at or above the minimum.
        assert_eq!(table.check_amount(won(50_123)), Ok(()));
        let at_edge = PriceState {
            current_price: won(50_000),
            ..table
        };
        assert_eq!(at_edge.minimum_bid(), won(52_000));
    }

    fn at(secs: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + secs, 0)
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn soft_close_extends_a_late_bid_up_to_the_cap_and_never_an_early_one() {
        let rule = SoftClose {
            window: chrono::Duration::minutes(3),
            cap: chrono::Duration::minutes(60),
        };
        let end = at(3600);
        // More than the window before the end: no move.
        assert_eq!(rule.extended_end(end, None, at(3600 - 181)), None);
        // Exactly the window before: the end moves to now + window = the same instant: no move.
        assert_eq!(rule.extended_end(end, None, at(3600 - 180)), None);
        // One second before the end: now + 3 minutes.
        assert_eq!(rule.extended_end(end, None, at(3599)), Some(at(3599 + 180)));
        // Near the cap: never past original + 60 minutes.
        let original = end;
        let moved = at(3600 + 3590);
        assert_eq!(
            rule.extended_end(moved, Some(original), at(3600 + 3500)),
            Some(at(3600 + 3600))
        );
        // At the cap: no further move.
        let capped = at(3600 + 3600);
        assert_eq!(
            rule.extended_end(capped, Some(original), at(3600 + 3599)),
            None
        );
        // Switched off.
        let off = SoftClose {
            window: chrono::Duration::zero(),
            cap: chrono::Duration::minutes(60),
        };
        assert_eq!(off.extended_end(end, None, at(3599)), None);
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
    fn amounts_off_the_unit_are_refused_and_a_maximum_may_pass_buy_now() {
        assert_eq!(
            state(0).check_amount(won(10_500)),
            Err(AmountRule::NotMultiple { unit: won(1_000) })
        );
        assert_eq!(state(0).check_amount(won(49_000)), Ok(()));
        assert_eq!(state(0).check_amount(won(50_000)), Ok(()));
        assert_eq!(state(0).check_amount(won(80_000)), Ok(()));
    }

    #[test]
    fn buy_now_is_offered_until_the_price_reaches_it() {
        let mut s = state(3);
        assert_eq!(s.buy_now_offered(), Some(won(50_000)));
        s.current_price = won(49_000);
        assert_eq!(s.buy_now_offered(), Some(won(50_000)));
        s.current_price = won(50_000);
        assert_eq!(s.buy_now_offered(), None);
        s.buy_now_price = None;
        s.current_price = won(10_000);
        assert_eq!(s.buy_now_offered(), None);
    }
}
