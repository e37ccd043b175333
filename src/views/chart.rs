//! Server-drawn SVG charts: the arithmetic (linear scales, round ticks, time ticks) and the
//! view model `partials/_chart_svg.html` and `partials/_chart_rows.html` render. A chart holds
//! numbers and times only — the words around it (its heading, legend, table headers) are the
//! page's, in the page's language — so one rendering serves every watcher of a live auction.

use std::fmt::Write as _;

use askama::Template;
use chrono::{NaiveDate, NaiveDateTime, Offset as _, TimeZone as _};

use crate::domain::money::group_thousands;
use crate::services::charts::{Activity, DayTotal, Extension, PriceStep};

/// The drawing box in viewBox units; the SVG scales to its container's width (`width="100%"`),
/// so on a phone of 360 px its 400 units are drawn at about three quarters of their size.
pub const WIDTH: f64 = 400.0;
pub const HEIGHT: f64 = 200.0;
const TOP: f64 = 22.0;
const RIGHT: f64 = 18.0;
const BOTTOM: f64 = 26.0;
/// One character of a tick label (font size 13) in viewBox units, for the left margin.
const CHAR: f64 = 8.0;
/// At most this many intervals on a value axis, and ticks on a time axis.
const Y_INTERVALS: i64 = 4;
const X_TICKS: i64 = 4;
/// The narrowest time axis of a price chart, in milliseconds.
const MIN_SPAN_MS: i64 = 10_000;
/// Price steps and extension markers drawn at most (the newest): more dots than this do not
/// fit 400 units, and the live frame (pushed to every watcher) stays near 10 KB.
pub const MAX_POINTS: i64 = 60;

/// A round step for `span` split into at most `max_intervals` parts: 1, 2 or 5 × 10^k (≥ 1).
pub fn nice_step(span: i64, max_intervals: i64) -> i64 {
    let parts = max_intervals.max(1);
    let span = span.max(1);
    let raw = span / parts + i64::from(span % parts != 0);
    let mut magnitude: i64 = 1;
    while magnitude <= raw / 10 {
        magnitude = magnitude.saturating_mul(10);
    }
    [1, 2, 5, 10]
        .into_iter()
        .map(|m| magnitude.saturating_mul(m))
        .find(|step| *step >= raw)
        .unwrap_or(i64::MAX)
}

/// The round step after `step` (1 → 2 → 5 → 10 → 20 …).
fn next_step(step: i64) -> i64 {
    let mut magnitude: i64 = 1;
    while magnitude <= step / 10 {
        magnitude = magnitude.saturating_mul(10);
    }
    match step / magnitude {
        1 => magnitude.saturating_mul(2),
        2 => magnitude.saturating_mul(5),
        _ => magnitude.saturating_mul(10),
    }
}

/// A value axis over whole numbers: the data's range widened to round ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Axis {
    pub lo: i64,
    pub hi: i64,
    pub step: i64,
}

impl Axis {
    /// Round ticks covering `min..=max` in at most `max_intervals` intervals. One value gets a
    /// band around it (zero: `0..=1`); data that is never negative gets an axis that is not.
    pub fn covering(min: i64, max: i64, max_intervals: i64) -> Axis {
        let (mut min, mut max) = (min.min(max), min.max(max));
        let never_negative = min >= 0;
        if min == max {
            let pad = nice_step(min.saturating_abs() / 10, 1);
            min = min.saturating_sub(pad);
            max = max.saturating_add(pad);
            if never_negative {
                min = min.max(0);
            }
        }
        let mut step = nice_step(max.saturating_sub(min), max_intervals);
        loop {
            let lo = min.div_euclid(step).saturating_mul(step);
            let hi = max
                .div_euclid(step)
                .saturating_add(i64::from(max.rem_euclid(step) != 0))
                .saturating_mul(step);
            if (hi - lo) / step <= max_intervals.max(1) || step == i64::MAX {
                return Axis { lo, hi, step };
            }
            step = next_step(step);
        }
    }

    /// The ticks from `lo` to `hi`, every `step`.
    pub fn ticks(&self) -> Vec<i64> {
        let mut out = Vec::new();
        let mut v = self.lo;
        while v <= self.hi {
            out.push(v);
            match v.checked_add(self.step) {
                Some(next) => v = next,
                None => break,
            }
        }
        out
    }
}

/// Map `v` from `d0..d1` onto `r0..r1` (the middle when the domain is a point).
pub fn scale(v: f64, d0: f64, d1: f64, r0: f64, r1: f64) -> f64 {
    if (d1 - d0).abs() < f64::EPSILON {
        (r0 + r1) / 2.0
    } else {
        r0 + (v - d0) / (d1 - d0) * (r1 - r0)
    }
}

/// Steps a time axis may take, in seconds.
const TIME_STEPS: [i64; 21] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200,
    86_400, 172_800, 604_800, 2_592_000,
];

/// Round times inside `start..=end` (seconds since the epoch) at most `max_ticks` of them,
/// aligned in local time (`offset`: the zone's seconds east of UTC); and the step taken.
pub fn time_ticks(start: i64, end: i64, offset: i64, max_ticks: i64) -> (Vec<i64>, i64) {
    let span = (end - start).max(1);
    let step = TIME_STEPS
        .into_iter()
        .find(|s| span / s < max_ticks.max(1))
        .unwrap_or(2_592_000);
    let first = (start + offset).div_euclid(step) * step - offset;
    let first = if first < start { first + step } else { first };
    let mut out = Vec::new();
    let mut t = first;
    while t <= end {
        out.push(t);
        t += step;
    }
    (out, step)
}

/// A coordinate, written with one decimal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Px(pub f64);

impl std::fmt::Display for Px {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1}", self.0)
    }
}

pub struct Tick {
    pub at: Px,
    pub label: String,
}

/// A data point; `class` is `pt` (or `pt auto`: placed by the site for a leader's maximum;
/// `pt buy-now`). Its numbers are in the table (a title per dot would double the live frame).
pub struct Dot {
    pub x: Px,
    pub y: Px,
    pub class: &'static str,
}

pub struct Bar {
    pub x: Px,
    pub y: Px,
    pub w: Px,
    pub h: Px,
    /// `YYYY-MM-DD`, the day in the site's time zone.
    pub day: String,
    pub value: i64,
    pub title: String,
}

/// A vertical marker (a soft-close extension) at `x`.
pub struct Marker {
    pub x: Px,
    pub title: String,
}

/// A labelled point of the chart: the start price's line, the current price's label.
pub struct Label {
    pub x: Px,
    pub y: Px,
    pub text: String,
}

/// One drawn chart (line or bars) and the rows of its text fallback.
pub struct Chart {
    /// The `<svg>`'s id; the fallback rows are `{id}-rows`.
    pub id: String,
    /// The page element that names the chart in words (`aria-labelledby`, with the numbers).
    pub labelled_by: String,
    /// `line` or `bars` (a CSS class).
    pub kind: &'static str,
    /// The numbers in one line (the SVG's `<title>`): lowest → highest, or the total.
    pub summary: String,
    pub left: Px,
    pub right: Px,
    pub top: Px,
    pub bottom: Px,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    /// The step line's path (empty: none).
    pub line: String,
    pub dots: Vec<Dot>,
    pub bars: Vec<Bar>,
    pub markers: Vec<Marker>,
    /// The start price's line.
    pub level: Option<Label>,
    /// The newest value's label.
    pub last: Option<Label>,
    /// The data's lowest and highest value (`data-min`, `data-max`).
    pub data_min: i64,
    pub data_max: i64,
    /// The text fallback: one row of cells per point.
    pub rows: Vec<Vec<String>>,
}

/// The `<svg>` of a chart.
#[derive(Template)]
#[template(path = "partials/_chart_svg.html")]
pub struct ChartSvg<'a> {
    pub c: &'a Chart,
}

/// The `<tbody>` of a chart's text fallback.
#[derive(Template)]
#[template(path = "partials/_chart_rows.html")]
pub struct ChartRows<'a> {
    pub c: &'a Chart,
}

/// A live chart update: the `<svg>`, and the fallback rows inside a `<table>` (so they parse
/// as rows); the live panel puts each in place of the element with its id.
#[derive(Template)]
#[template(path = "partials/_chart_live.html")]
pub struct ChartLive<'a> {
    pub c: &'a Chart,
}

impl Chart {
    /// The `<svg>`, escaped (`{{ chart.svg()|safe }}`).
    pub fn svg(&self) -> String {
        ChartSvg { c: self }.render().unwrap_or_default()
    }

    /// The fallback table's `<tbody>`, escaped.
    pub fn rows_html(&self) -> String {
        ChartRows { c: self }.render().unwrap_or_default()
    }

    /// What the live panel pushes: the SVG and the fallback rows (each replaces the element
    /// of its id; the rows travel in a `<table>` so they parse as rows).
    pub fn live_html(&self) -> String {
        ChartLive { c: self }.render().unwrap_or_default()
    }

    fn value_axis(&mut self, axis: Axis) -> impl Fn(i64) -> f64 {
        let (top, bottom) = (self.top.0, self.bottom.0);
        let (lo, hi) = (axis.lo as f64, axis.hi as f64);
        self.y_ticks = axis
            .ticks()
            .into_iter()
            .map(|v| Tick {
                at: Px(scale(v as f64, lo, hi, bottom, top)),
                label: group_thousands(v),
            })
            .collect();
        move |v: i64| scale(v as f64, lo, hi, bottom, top)
    }

    fn frame(id: &str, labelled_by: &str, kind: &'static str, axis: Axis) -> Chart {
        let widest = axis
            .ticks()
            .iter()
            .map(|v| group_thousands(*v).len())
            .max()
            .unwrap_or(1);
        Chart {
            id: id.to_owned(),
            labelled_by: labelled_by.to_owned(),
            kind,
            summary: String::new(),
            left: Px(10.0 + CHAR * widest as f64),
            right: Px(WIDTH - RIGHT),
            top: Px(TOP),
            bottom: Px(HEIGHT - BOTTOM),
            y_ticks: Vec::new(),
            x_ticks: Vec::new(),
            line: String::new(),
            dots: Vec::new(),
            bars: Vec::new(),
            markers: Vec::new(),
            level: None,
            last: None,
            data_min: 0,
            data_max: 0,
            rows: Vec::new(),
        }
    }

    pub fn width(&self) -> Px {
        Px(WIDTH)
    }

    pub fn height(&self) -> Px {
        Px(HEIGHT)
    }
}

fn local(tz: chrono_tz::Tz, t: &NaiveDateTime, format: &str) -> String {
    t.and_utc().with_timezone(&tz).format(format).to_string()
}

/// An auction's price history: the public price after each accepted bid as a step line (one
/// dot per price step; the site's automatic bids for a leader's maximum marked `auto`), the
/// start price's line, the current price's label, and a marker wherever a late bid moved the
/// end. Only public prices go in: `steps` never carry a bidder's maximum.
pub fn price_chart(
    start_price: i64,
    steps: &[PriceStep],
    extensions: &[Extension],
    tz: chrono_tz::Tz,
) -> Chart {
    // One submission writes its rows at one instant: the price after it is its last row.
    let mut points: Vec<&PriceStep> = Vec::new();
    for s in steps {
        match points.last_mut() {
            Some(last) if last.at == s.at => *last = s,
            _ => points.push(s),
        }
    }
    let prices = points.iter().map(|p| p.amount).chain([start_price]);
    let (min, max) = (
        prices.clone().min().unwrap_or(start_price),
        prices.max().unwrap_or(start_price),
    );
    let axis = Axis::covering(min, max, Y_INTERVALS);
    let mut c = Chart::frame("price-chart-svg", "price-chart-title", "line", axis);
    c.data_min = min;
    c.data_max = max;
    let y = c.value_axis(axis);
    // Times in milliseconds: bids a moment apart are apart on the chart.
    let ms = |t: &NaiveDateTime| t.and_utc().timestamp_millis();
    let times = points
        .iter()
        .map(|p| ms(&p.at))
        .chain(extensions.iter().map(|e| ms(&e.at)));
    let (t0, t1) = match (times.clone().min(), times.max()) {
        (Some(a), Some(b)) => (a, b),
        _ => {
            let now = crate::services::now().and_utc().timestamp_millis();
            (now, now)
        }
    };
    // At least ten seconds across (a minute each side of a lone point), centred on the data.
    let (t0, t1) = if t1 == t0 {
        (t0 - 60_000, t1 + 60_000)
    } else if t1 - t0 < MIN_SPAN_MS {
        let pad = (MIN_SPAN_MS - (t1 - t0)) / 2;
        (t0 - pad, t1 + pad)
    } else {
        (t0, t1)
    };
    // A little room inside the box, so the first and last dots are whole.
    let (left, right) = (c.left.0 + 6.0, c.right.0 - 6.0);
    let x = |t: i64| scale(t as f64, t0 as f64, t1 as f64, left, right);
    let offset = i64::from(
        tz.offset_from_utc_datetime(
            &chrono::DateTime::from_timestamp_millis(t0)
                .unwrap_or_default()
                .naive_utc(),
        )
        .fix()
        .local_minus_utc(),
    );
    let (ticks, step) = time_ticks(
        t0.div_euclid(1000) + 1,
        t1.div_euclid(1000),
        offset,
        X_TICKS,
    );
    let format = if step < 60 {
        "%H:%M:%S"
    } else if step < 86_400 {
        "%H:%M"
    } else {
        "%m-%d"
    };
    c.x_ticks = ticks
        .into_iter()
        .filter_map(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| Tick {
            at: Px(x(t.timestamp_millis())),
            label: local(tz, &t.naive_utc(), format),
        })
        .collect();
    c.level = Some(Label {
        x: c.left,
        y: Px(y(start_price)),
        text: group_thousands(start_price),
    });
    let mut path = String::new();
    for (i, p) in points.iter().enumerate() {
        let (px, py) = (Px(x(ms(&p.at))), Px(y(p.amount)));
        let _ = if i == 0 {
            write!(path, "M{px} {py}")
        } else {
            write!(path, " H{px} V{py}")
        };
        let time = local(tz, &p.at, "%m-%d %H:%M:%S");
        c.dots.push(Dot {
            x: px,
            y: py,
            class: if p.buy_now {
                "pt buy-now"
            } else if p.auto {
                "pt auto"
            } else {
                "pt"
            },
        });
        let moved = extensions
            .iter()
            .rev()
            .find(|e| e.at == p.at)
            .map(|e| local(tz, &e.new_end_at, "%m-%d %H:%M:%S"))
            .unwrap_or_default();
        c.rows.push(vec![time, group_thousands(p.amount), moved]);
    }
    if !path.is_empty() {
        // The price holds from the last step on.
        let _ = write!(path, " H{}", Px(right));
    }
    if let Some(p) = points.last() {
        c.last = Some(Label {
            x: Px(x(ms(&p.at))),
            y: Px(y(p.amount)),
            text: group_thousands(p.amount),
        });
        c.summary = format!(
            "{} → {} ({})",
            group_thousands(start_price),
            group_thousands(p.amount),
            points.len()
        );
    } else {
        c.summary = group_thousands(start_price);
    }
    c.line = path;
    c.markers = extensions
        .iter()
        .map(|e| Marker {
            x: Px(x(ms(&e.at))),
            title: format!(
                "{} → {}",
                local(tz, &e.old_end_at, "%m-%d %H:%M:%S"),
                local(tz, &e.new_end_at, "%m-%d %H:%M:%S")
            ),
        })
        .collect();
    c
}

/// One bar per day (oldest first), labelled every week back from the newest day.
pub fn bar_chart(id: &str, labelled_by: &str, days: &[(NaiveDate, i64)]) -> Chart {
    let max = days.iter().map(|(_, v)| *v).max().unwrap_or(0).max(0);
    let axis = Axis::covering(0, max.max(1), Y_INTERVALS);
    let mut c = Chart::frame(id, labelled_by, "bars", axis);
    c.data_min = days.iter().map(|(_, v)| *v).min().unwrap_or(0);
    c.data_max = max;
    let y = c.value_axis(axis);
    let n = days.len().max(1) as f64;
    let slot = (c.right.0 - c.left.0) / n;
    let width = (slot * 0.7).max(1.0);
    let zero = y(0);
    for (i, (day, value)) in days.iter().enumerate() {
        let x = c.left.0 + slot * i as f64 + (slot - width) / 2.0;
        let top = y(*value);
        let label = day.format("%m-%d").to_string();
        if (days.len() - 1 - i) % 7 == 0 {
            c.x_ticks.push(Tick {
                at: Px(x + width / 2.0),
                label: label.clone(),
            });
        }
        c.bars.push(Bar {
            x: Px(x),
            y: Px(top.min(zero)),
            w: Px(width),
            h: Px((zero - top).abs()),
            day: day.format("%Y-%m-%d").to_string(),
            value: *value,
            title: format!("{label}: {}", group_thousands(*value)),
        });
        c.rows.push(vec![
            day.format("%Y-%m-%d").to_string(),
            group_thousands(*value),
        ]);
    }
    let total: i64 = days.iter().map(|(_, v)| *v).sum();
    c.summary = format!("Σ {}", group_thousands(total));
    c
}

/// One chart of the admin dashboard: its heading's translation key and the chart.
pub struct DailyChart {
    pub title_key: &'static str,
    /// Whether the values are won (the table's column says so).
    pub money: bool,
    pub chart: Chart,
}

/// The admin dashboard's charts of the site's last days: bids placed, sales (count and won),
/// top-ups and refunds (won).
pub fn activity_charts(a: &Activity) -> Vec<DailyChart> {
    let series = |values: &[DayTotal], pick: fn(&DayTotal) -> i64| -> Vec<(NaiveDate, i64)> {
        a.days
            .iter()
            .copied()
            .zip(values.iter().map(pick))
            .collect()
    };
    let count: fn(&DayTotal) -> i64 = |d| d.count;
    let won: fn(&DayTotal) -> i64 = |d| d.won;
    [
        ("chart-bids", "charts.bids", false, series(&a.bids, count)),
        (
            "chart-sales-count",
            "charts.sales_count",
            false,
            series(&a.sales, count),
        ),
        (
            "chart-sales-won",
            "charts.sales_won",
            true,
            series(&a.sales, won),
        ),
        (
            "chart-top-ups",
            "charts.top_ups",
            true,
            series(&a.top_ups, won),
        ),
        (
            "chart-refunds",
            "charts.refunds",
            true,
            series(&a.refunds, won),
        ),
    ]
    .into_iter()
    .map(|(id, title_key, money, days)| DailyChart {
        title_key,
        money,
        chart: bar_chart(id, &format!("{id}-heading"), &days),
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_step_is_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(3, 4), 1);
        assert_eq!(nice_step(12, 4), 5);
        assert_eq!(nice_step(4_000, 4), 1_000);
        assert_eq!(nice_step(4_001, 4), 2_000);
        assert_eq!(nice_step(9_000, 4), 5_000);
        assert_eq!(nice_step(0, 4), 1);
        assert_eq!(nice_step(100, 0), 100);
        assert_eq!(nice_step(i64::MAX, 1), i64::MAX);
        assert_eq!(next_step(1), 2);
        assert_eq!(next_step(2_000), 5_000);
        assert_eq!(next_step(5), 10);
    }

    #[test]
    fn an_axis_covers_its_data_with_round_bounds_and_few_ticks() {
        let a = Axis::covering(10_000, 14_000, 4);
        assert_eq!(
            a,
            Axis {
                lo: 10_000,
                hi: 14_000,
                step: 1_000
            }
        );
        assert_eq!(a.ticks(), vec![10_000, 11_000, 12_000, 13_000, 14_000]);
        let a = Axis::covering(10_500, 13_200, 4);
        assert!(a.lo <= 10_500 && a.hi >= 13_200, "{a:?}");
        assert_eq!(a.lo % a.step, 0);
        assert_eq!(a.hi % a.step, 0);
        assert!(a.ticks().len() <= 5, "{a:?}");
        // The data fills at least half of the axis.
        assert!((13_200 - 10_500) * 2 >= a.hi - a.lo, "{a:?}");
        // Reversed input is the same.
        assert_eq!(Axis::covering(13_200, 10_500, 4), a);
    }

    #[test]
    fn one_value_gets_a_band_and_money_never_a_negative_tick() {
        assert_eq!(
            Axis::covering(0, 0, 4),
            Axis {
                lo: 0,
                hi: 1,
                step: 1
            }
        );
        let a = Axis::covering(10_000, 10_000, 4);
        assert!(a.lo < 10_000 && a.hi > 10_000 && a.lo >= 0, "{a:?}");
        let a = Axis::covering(3, 3, 4);
        assert!(a.lo >= 0 && a.hi > 3, "{a:?}");
        let a = Axis::covering(-30, 70, 4);
        assert_eq!(a.ticks(), vec![-50, 0, 50, 100]);
    }

    #[test]
    fn counts_get_whole_ticks_from_zero() {
        let a = Axis::covering(0, 3, 4);
        assert_eq!(a.ticks(), vec![0, 1, 2, 3]);
        let a = Axis::covering(0, 7, 4);
        assert_eq!(a.ticks(), vec![0, 2, 4, 6, 8]);
    }

    #[test]
    fn a_scale_maps_ends_to_ends_and_a_point_to_the_middle() {
        assert!((scale(5.0, 0.0, 10.0, 100.0, 200.0) - 150.0).abs() < 1e-9);
        assert!((scale(0.0, 0.0, 10.0, 200.0, 100.0) - 200.0).abs() < 1e-9);
        assert!((scale(7.0, 7.0, 7.0, 0.0, 10.0) - 5.0).abs() < 1e-9);
    }

    #[test]
    fn time_ticks_fall_on_round_local_times_inside_the_range() {
        // 12:00:07 to 12:04:53 UTC in Seoul (+9): minute ticks.
        let start = 1_700_000_407;
        let end = start + 286;
        let (ticks, step) = time_ticks(start, end, 9 * 3600, 5);
        assert_eq!(step, 60);
        assert!(ticks
            .iter()
            .all(|t| (t + 9 * 3600) % 60 == 0 && *t >= start && *t <= end));
        assert!(!ticks.is_empty() && ticks.len() <= 5, "{ticks:?}");
        // A month: day ticks aligned to local midnight.
        let (ticks, step) = time_ticks(start, start + 30 * 86_400, 9 * 3600, 5);
        assert_eq!(step, 604_800);
        assert!(ticks.iter().all(|t| (t + 9 * 3600) % 86_400 == 0));
        // A zero-length range: at most one tick.
        assert!(time_ticks(start, start, 0, 5).0.len() <= 1);
    }

    #[test]
    fn a_price_chart_has_one_dot_per_submission_and_no_more() {
        let t = |s: i64| {
            chrono::DateTime::from_timestamp(1_700_000_000 + s, 0)
                .unwrap_or_default()
                .naive_utc()
        };
        let step = |s, amount, auto| PriceStep {
            at: t(s),
            amount,
            auto,
            buy_now: false,
        };
        // The second submission wrote two rows at one instant (the challenger, the leader's
        // automatic answer): one price step.
        let steps = [
            step(0, 10_000, false),
            step(5, 11_000, false),
            step(5, 12_000, true),
        ];
        let ext = [Extension {
            at: t(5),
            old_end_at: t(6),
            new_end_at: t(65),
        }];
        let c = price_chart(10_000, &steps, &ext, chrono_tz::Asia::Seoul);
        assert_eq!(c.dots.len(), 2);
        assert_eq!(c.dots[1].class, "pt auto");
        assert_eq!((c.data_min, c.data_max), (10_000, 12_000));
        assert_eq!(c.markers.len(), 1);
        assert_eq!(c.rows.len(), 2);
        assert!(!c.rows[1][2].is_empty(), "the moved end is in the row");
        assert_eq!(c.last.as_ref().map(|l| l.text.as_str()), Some("12,000"));
        let svg = c.svg();
        assert!(svg.contains("role=\"img\""), "{svg}");
        // Nothing is drawn outside the box.
        for d in &c.dots {
            assert!(d.x.0 >= c.left.0 && d.x.0 <= c.right.0);
            assert!(d.y.0 >= c.top.0 && d.y.0 <= c.bottom.0);
        }
        // No bids: the start price alone.
        let c = price_chart(10_000, &[], &[], chrono_tz::Asia::Seoul);
        assert!(c.dots.is_empty() && c.line.is_empty());
        assert!(!c.svg().is_empty());
    }

    #[test]
    fn a_bar_chart_has_a_bar_per_day_and_labels_every_week() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap_or_default();
        let days: Vec<(NaiveDate, i64)> = (1..=30).map(|d| (day(d), i64::from(d % 3))).collect();
        let c = bar_chart("bids", "bids-title", &days);
        assert_eq!(c.bars.len(), 30);
        assert_eq!(c.x_ticks.len(), 5);
        assert_eq!(c.x_ticks.last().map(|t| t.label.as_str()), Some("11-30"));
        assert!(c
            .bars
            .iter()
            .all(|b| b.h.0 >= 0.0 && b.y.0 + b.h.0 <= c.bottom.0 + 0.01));
        let empty: Vec<(NaiveDate, i64)> = (1..=30).map(|d| (day(d), 0)).collect();
        let c = bar_chart("bids", "bids-title", &empty);
        assert!(c.bars.iter().all(|b| b.h.0.abs() < 1e-9));
    }
}
