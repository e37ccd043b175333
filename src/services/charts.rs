//! What the charts read: an auction's public price steps and soft-close extensions, and the
//! site's activity per day (bids, sales, top-ups, refunds) for the admin dashboard.

use chrono::{NaiveDate, NaiveDateTime, TimeZone as _};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Timestamp};

use crate::db::schema::{auction_extensions, bids};
use crate::db::{read_tx, DbConnection};
use crate::domain::auction::AuctionStatus;
use crate::domain::market::TradeStatus;

/// One row of an auction's history as everyone sees it: the public price, never the
/// maximum the bidder entered.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct PriceStep {
    pub at: NaiveDateTime,
    pub amount: i64,
    /// Placed by the site for the leader's maximum.
    pub auto: bool,
    pub buy_now: bool,
}

/// A late bid moved the auction's end from `old_end_at` to `new_end_at` at `at`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Extension {
    pub at: NaiveDateTime,
    pub old_end_at: NaiveDateTime,
    pub new_end_at: NaiveDateTime,
}

/// The newest `limit` history rows of an auction, oldest first (public prices only).
pub fn price_steps(
    conn: &mut DbConnection,
    auction_id: i64,
    limit: i64,
) -> QueryResult<Vec<PriceStep>> {
    let mut rows: Vec<PriceStep> = bids::table
        .filter(bids::auction_id.eq(auction_id))
        .order(bids::id.desc())
        .limit(limit)
        .select((
            bids::created_at,
            bids::amount,
            bids::is_auto,
            bids::is_buy_now,
        ))
        .load(conn)?;
    rows.reverse();
    Ok(rows)
}

/// The newest `limit` extensions of an auction, oldest first.
pub fn extensions(
    conn: &mut DbConnection,
    auction_id: i64,
    limit: i64,
) -> QueryResult<Vec<Extension>> {
    let mut rows: Vec<Extension> = auction_extensions::table
        .filter(auction_extensions::auction_id.eq(auction_id))
        .order(auction_extensions::id.desc())
        .limit(limit)
        .select((
            auction_extensions::at,
            auction_extensions::old_end_at,
            auction_extensions::new_end_at,
        ))
        .load(conn)?;
    rows.reverse();
    Ok(rows)
}

/// One day's total of a series: how many, and how much money.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayTotal {
    pub count: i64,
    pub won: i64,
}

/// The site's activity per day, oldest day first, one entry per day in every series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// The days, in the site's time zone.
    pub days: Vec<NaiveDate>,
    /// Bids members placed (not the site's automatic ones, not purchases).
    pub bids: Vec<DayTotal>,
    /// Auctions won (closed sold, or bought now) and market trades completed (confirmed).
    pub sales: Vec<DayTotal>,
    /// Top-ups paid through PortOne.
    pub top_ups: Vec<DayTotal>,
    /// Refunds of top-ups PortOne confirmed.
    pub refunds: Vec<DayTotal>,
}

#[derive(QueryableByName)]
struct DayRow {
    #[diesel(sql_type = Integer)]
    day: i32,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    won: i64,
}

/// The UTC instants at which the site's days begin: `days + 1` of them, the first day's
/// midnight to the midnight after `today`. A midnight a clock change skips starts its day at
/// the first local time that exists.
pub fn day_bounds(tz: chrono_tz::Tz, today: NaiveDate, days: u32) -> Vec<NaiveDateTime> {
    let first = today - chrono::Days::new(u64::from(days.saturating_sub(1)));
    (0..=days)
        .map(|i| {
            let day = first + chrono::Days::new(u64::from(i));
            let midnight = day.and_time(chrono::NaiveTime::MIN);
            (0..=3)
                .find_map(|h| {
                    tz.from_local_datetime(&(midnight + chrono::Duration::hours(h)))
                        .earliest()
                })
                .map_or(midnight, |t| t.naive_utc())
        })
        .collect()
}

/// The last `days` days up to `today` (in `tz`): one grouped query per series, each day found
/// in the database by comparing with the day bounds (exact in any time zone, on both backends).
#[tracing::instrument(skip(conn))]
pub fn daily_activity(
    conn: &mut DbConnection,
    tz: chrono_tz::Tz,
    today: NaiveDate,
    days: u32,
) -> anyhow::Result<Activity> {
    let bounds = day_bounds(tz, today, days.max(1));
    let list: Vec<NaiveDate> = bounds
        .iter()
        .take(bounds.len() - 1)
        .map(|t| t.and_utc().with_timezone(&tz).date_naive())
        .collect();
    let bids_placed = "SELECT created_at AS at, CAST(0 AS BIGINT) AS won FROM bids \
                       WHERE NOT is_auto AND NOT is_buy_now";
    let sales = format!(
        "SELECT closed_at AS at, current_price AS won FROM auctions \
         WHERE status = '{sold}' AND closed_at IS NOT NULL \
         UNION ALL \
         SELECT confirmed_at AS at, price AS won FROM trades \
         WHERE auction_id IS NULL AND status = '{confirmed}' AND confirmed_at IS NOT NULL",
        sold = AuctionStatus::Sold.as_str(),
        confirmed = TradeStatus::Confirmed.as_str(),
    );
    let top_ups = "SELECT paid_at AS at, amount AS won FROM payments \
                   WHERE purpose = 'topup' AND paid_at IS NOT NULL";
    let refunds = format!(
        "SELECT settled_at AS at, amount AS won FROM payment_refunds \
         WHERE status = '{done}' AND settled_at IS NOT NULL",
        done = crate::services::refunds::RefundStatus::Done.as_str(),
    );
    read_tx(conn, |conn| {
        Ok::<_, anyhow::Error>(Activity {
            bids: per_day(conn, bids_placed, &bounds)?,
            sales: per_day(conn, &sales, &bounds)?,
            top_ups: per_day(conn, top_ups, &bounds)?,
            refunds: per_day(conn, &refunds, &bounds)?,
            days: list.clone(),
        })
    })
}

/// Count and sum `source` (rows of `at`, `won`) per day between `bounds`: one query.
fn per_day(
    conn: &mut DbConnection,
    source: &str,
    bounds: &[NaiveDateTime],
) -> QueryResult<Vec<DayTotal>> {
    let days = bounds.len().saturating_sub(1);
    let mut out = vec![DayTotal::default(); days];
    if days == 0 {
        return Ok(out);
    }
    // The binds in the order their placeholders appear: the inner bounds in the CASE, then
    // the outer two in the WHERE.
    let mut binds: Vec<NaiveDateTime> = bounds[1..days].to_vec();
    binds.push(bounds[0]);
    binds.push(bounds[days]);
    let sql = |numbered: bool| {
        let mut n = 0;
        let mut p = || {
            n += 1;
            if numbered {
                format!("${n}")
            } else {
                "?".to_owned()
            }
        };
        let mut case = String::from("CASE");
        for i in 0..days - 1 {
            case.push_str(&format!(" WHEN at < {} THEN {i}", p()));
        }
        case.push_str(&format!(" ELSE {} END", days - 1));
        format!(
            "SELECT {case} AS day, CAST(COUNT(*) AS BIGINT) AS n, \
             CAST(COALESCE(SUM(won), 0) AS BIGINT) AS won \
             FROM ({source}) s WHERE at >= {} AND at < {} GROUP BY 1",
            p(),
            p()
        )
    };
    let rows: Vec<DayRow> = match conn {
        DbConnection::Pg(c) => {
            let mut q = diesel::sql_query(sql(true)).into_boxed::<diesel::pg::Pg>();
            for b in &binds {
                q = q.bind::<Timestamp, _>(*b);
            }
            q.load(c)?
        }
        DbConnection::Sqlite(c) => {
            let mut q = diesel::sql_query(sql(false)).into_boxed::<diesel::sqlite::Sqlite>();
            for b in &binds {
                q = q.bind::<Timestamp, _>(*b);
            }
            q.load(c)?
        }
    };
    for r in rows {
        if let Some(slot) = usize::try_from(r.day).ok().and_then(|d| out.get_mut(d)) {
            *slot = DayTotal {
                count: r.n,
                won: r.won,
            };
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap_or_default()
    }

    #[test]
    fn seoul_days_begin_at_three_in_the_afternoon_utc() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default();
        let b = day_bounds(chrono_tz::Asia::Seoul, today, 30);
        assert_eq!(b.len(), 31);
        assert_eq!(b[0], at("2026-10-31 15:00:00"), "1 November, Seoul");
        assert_eq!(b[30], at("2026-11-30 15:00:00"), "the midnight after today");
    }

    #[test]
    fn a_day_a_clock_change_shortens_or_lengthens_has_its_true_length() {
        // New York: clocks go back on 1 November 2026 (a 25-hour day) and forward on
        // 8 March 2026 (a 23-hour day).
        let tz = chrono_tz::America::New_York;
        let b = day_bounds(
            tz,
            NaiveDate::from_ymd_opt(2026, 11, 2).unwrap_or_default(),
            3,
        );
        let hours: Vec<i64> = b.windows(2).map(|w| (w[1] - w[0]).num_hours()).collect();
        assert_eq!(hours, vec![24, 25, 24]);
        let b = day_bounds(
            tz,
            NaiveDate::from_ymd_opt(2026, 3, 9).unwrap_or_default(),
            3,
        );
        let hours: Vec<i64> = b.windows(2).map(|w| (w[1] - w[0]).num_hours()).collect();
        assert_eq!(hours, vec![24, 23, 24]);
    }

    #[test]
    fn a_midnight_the_clock_skips_starts_its_day_at_the_first_hour_there_is() {
        // Santiago: on 6 September 2026 clocks go from 00:00 straight to 01:00.
        let tz = chrono_tz::America::Santiago;
        let b = day_bounds(
            tz,
            NaiveDate::from_ymd_opt(2026, 9, 6).unwrap_or_default(),
            1,
        );
        assert_eq!(b.len(), 2);
        assert!(b[1] > b[0], "{b:?}");
        assert_eq!(
            b[0].and_utc().with_timezone(&tz).date_naive(),
            NaiveDate::from_ymd_opt(2026, 9, 6).unwrap_or_default()
        );
    }
}
