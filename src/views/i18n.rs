//! The words of a page or a live fragment in one language ([`Tr`]): translation keys, money,
//! dates in the site's time zone and relative times ("3분 전"). A page's context
//! (`web::ctx::Ctx`) hands its calls to one of these; a live fragment, rendered once per
//! language for every watcher, carries one itself, so the partial a page includes and the
//! fragment a socket pushes are the same template with the same calls.

use chrono::NaiveDateTime;

use crate::domain::auction::AuctionStatus;
use crate::domain::lang::Lang;
use crate::domain::Won;

/// One language and the site's time zone.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
    pub tz: chrono_tz::Tz,
}

/// Every language the site speaks, in the order live fragments are rendered.
pub const LANGS: [Lang; 2] = [Lang::Ko, Lang::En];

/// The index of a language in [`LANGS`] (a live update holds one frame per language).
pub fn lang_index(lang: Lang) -> usize {
    match lang {
        Lang::Ko => 0,
        Lang::En => 1,
    }
}

/// A count of seconds, however many references askama wraps it in.
pub trait Secs {
    fn secs(&self) -> i64;
}

impl Secs for i64 {
    fn secs(&self) -> i64 {
        *self
    }
}

impl<T: Secs + ?Sized> Secs for &T {
    fn secs(&self) -> i64 {
        (**self).secs()
    }
}

/// A past moment as a page shows it: `<time datetime="{{ m.iso }}" title="{{ m.full }}">{{ m.ago }}</time>`.
/// Displayed alone, it is the full date and time.
#[derive(Debug, Clone)]
pub struct Moment {
    pub iso: String,
    pub full: String,
    pub ago: String,
}

impl std::fmt::Display for Moment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.full)
    }
}

impl Tr {
    pub fn new(lang: Lang, tz: chrono_tz::Tz) -> Tr {
        Tr { lang, tz }
    }

    /// The text of a translation key (`{{ ctx.t("nav.auctions") }}`). A missing key shows as
    /// `ko.nav.auctions`, never as an error.
    pub fn t(&self, key: &str) -> String {
        // A key chosen at run time (`tk`) that no file holds shows as `ko.some.key`, which the
        // page tests look for (`t!` would show the bare key).
        crate::_rust_i18n_try_translate(self.lang.code(), key).map_or_else(
            || format!("{}.{key}", self.lang.code()),
            std::borrow::Cow::into_owned,
        )
    }

    /// The text of `{prefix}.{code}`: a stored code's words (`ctx.tk("trade_status", t.status)`).
    pub fn tk(&self, prefix: &str, code: &str) -> String {
        self.t(&format!("{prefix}.{code}"))
    }

    /// A category's name: the seeded categories (migration `foundation`) by their slug's key
    /// (`category.furniture`); any other shows its stored name.
    pub fn category(&self, name: &str) -> String {
        let slug = match name {
            "Electronics" => "electronics",
            "Furniture & interior" => "furniture",
            "Home appliances" => "appliances",
            "Books" => "books",
            "Clothing" => "clothing",
            "Sports & leisure" => "sports",
            "Kids & baby" => "kids",
            "Hobbies & games" => "hobby",
            "Plants" => "plants",
            "Other" => "other",
            _ => return name.to_owned(),
        };
        self.tk("category", slug)
    }

    /// A journal line's reference as stored (`auction #7`, `trade #3`, `payout #2`,
    /// `card payment …`, `refund of payment …`, `development top-up`: written once, in
    /// English, by the use case that moved the money) in the page's language; anything else
    /// as stored.
    pub fn reference(&self, stored: &str) -> String {
        const KNOWN: [(&str, &str); 7] = [
            ("auction #", "ref.auction"),
            ("trade #", "ref.trade"),
            ("payout #", "ref.payout"),
            ("card payment ", "ref.card_payment"),
            ("virtual account payment ", "ref.vbank_payment"),
            ("refund of payment ", "ref.refund"),
            ("development top-up", "ref.dev_topup"),
        ];
        for (prefix, key) in KNOWN {
            if let Some(rest) = stored.strip_prefix(prefix) {
                return self.t_n(key, rest);
            }
        }
        stored.to_owned()
    }

    /// A key's text with `%{n}` replaced.
    pub fn t_n(&self, key: &str, n: impl std::fmt::Display) -> String {
        self.t(key).replace("%{n}", &n.to_string())
    }

    /// A key's text with `%{a}` and `%{b}` replaced.
    pub fn t_ab(&self, key: &str, a: impl std::fmt::Display, b: impl std::fmt::Display) -> String {
        self.t(key)
            .replace("%{a}", &a.to_string())
            .replace("%{b}", &b.to_string())
    }

    /// A count: `{key}.one` when it is 1, else `{key}.other`, with `%{n}` replaced.
    pub fn t_count(&self, key: &str, n: impl std::fmt::Display) -> String {
        let n = n.to_string();
        let form = if n == "1" { "one" } else { "other" };
        self.t(&format!("{key}.{form}")).replace("%{n}", &n)
    }

    /// Money as the language writes it: `12,000원` (ko), `₩12,000` (en).
    pub fn money(&self, w: &Won) -> String {
        self.lang.money(*w)
    }

    /// An auction's status.
    pub fn status(&self, st: &AuctionStatus) -> String {
        self.t(match st {
            AuctionStatus::Scheduled => "status.scheduled",
            AuctionStatus::Active => "status.active",
            AuctionStatus::Sold => "status.sold",
            AuctionStatus::NoBids => "status.no_bids",
            AuctionStatus::ReserveNotMet => "status.reserve_not_met",
            AuctionStatus::Cancelled => "status.cancelled",
        })
    }

    /// How long is left (`2d 4h left` / `2일 4시간 남음`), `ended` at zero.
    pub fn time_left(&self, secs: impl Secs) -> String {
        let secs = secs.secs();
        if secs <= 0 {
            return self.t("time.ended");
        }
        let (d, h, m, s) = (
            secs / 86_400,
            secs % 86_400 / 3600,
            secs % 3600 / 60,
            secs % 60,
        );
        let (key, a, b) = if d > 0 {
            ("time.left_dh", d, h)
        } else if h > 0 {
            ("time.left_hm", h, m)
        } else if m > 0 {
            ("time.left_ms", m, s)
        } else {
            ("time.left_s", s, 0)
        };
        self.t_ab(key, a, b)
    }

    /// How long until something starts (`2d 4h` / `2일 4시간`): [`Tr::time_left`] without
    /// "left".
    pub fn duration(&self, secs: impl Secs) -> String {
        self.time_left(secs)
            .replace(&self.t("time.left_suffix"), "")
    }

    /// A stored UTC time in the site's time zone, as the language writes a date and time:
    /// `2026년 11월 30일 14:05` (ko), `30 Nov 2026 14:05` (en).
    pub fn time(&self, utc: &NaiveDateTime) -> String {
        let local = utc.and_utc().with_timezone(&self.tz);
        match self.lang {
            Lang::Ko => local.format("%Y년 %-m월 %-d일 %H:%M").to_string(),
            Lang::En => local.format("%-d %b %Y %H:%M").to_string(),
        }
    }

    /// A day in the site's time zone: `2026년 11월 30일` (ko), `30 Nov 2026` (en).
    pub fn date(&self, utc: &NaiveDateTime) -> String {
        let local = utc.and_utc().with_timezone(&self.tz);
        match self.lang {
            Lang::Ko => local.format("%Y년 %-m월 %-d일").to_string(),
            Lang::En => local.format("%-d %b %Y").to_string(),
        }
    }

    /// The machine-readable moment for `<time datetime="…">` (with the site's offset).
    pub fn iso(&self, utc: &NaiveDateTime) -> String {
        utc.and_utc()
            .with_timezone(&self.tz)
            .format("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    }

    /// A past moment: its `datetime`, its full time and how long ago.
    pub fn moment(&self, utc: &NaiveDateTime) -> Moment {
        Moment {
            iso: self.iso(utc),
            full: self.time(utc),
            ago: self.ago(utc),
        }
    }

    /// How long ago, from now: `방금 전` / `just now`, `3분 전` / `3 minutes ago`, hours, days
    /// (up to a week), then the date and time ([`Tr::time`]).
    pub fn ago(&self, utc: &NaiveDateTime) -> String {
        self.ago_from(utc, &crate::services::now())
    }

    /// [`Tr::ago`] as seen at `now` (tested at its boundaries).
    pub fn ago_from(&self, utc: &NaiveDateTime, now: &NaiveDateTime) -> String {
        let secs = (*now - *utc).num_seconds();
        if secs < 60 {
            // Also a moment a little in the future (clocks of two processes).
            if secs > -60 {
                return self.t("ago.just_now");
            }
            return self.time(utc);
        }
        let (key, n) = if secs < 3600 {
            ("ago.minutes", secs / 60)
        } else if secs < 86_400 {
            ("ago.hours", secs / 3600)
        } else if secs < 7 * 86_400 {
            ("ago.days", secs / 86_400)
        } else {
            return self.time(utc);
        };
        self.t_count(key, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(h: u32, m: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 30)
            .and_then(|d| d.and_hms_opt(h, m, s))
            .expect("a time")
    }

    fn secs_before(now: NaiveDateTime, secs: i64) -> NaiveDateTime {
        now - chrono::Duration::seconds(secs)
    }

    #[test]
    fn a_key_no_file_holds_shows_as_its_language_and_key() {
        let seoul = chrono_tz::Asia::Seoul;
        assert_eq!(
            Tr::new(Lang::Ko, seoul).tk("trade_status", "nonsense"),
            "ko.trade_status.nonsense"
        );
        assert_eq!(Tr::new(Lang::En, seoul).t("nav.auctions"), "Auctions");
        assert_eq!(Tr::new(Lang::Ko, seoul).t("nav.auctions"), "경매");
    }

    #[test]
    fn relative_times_change_unit_at_their_boundaries() {
        let ko = Tr::new(Lang::Ko, chrono_tz::Asia::Seoul);
        let en = Tr::new(Lang::En, chrono_tz::Asia::Seoul);
        let now = at(12, 0, 0);
        let cases: [(i64, &str, &str); 14] = [
            (0, "방금 전", "just now"),
            (59, "방금 전", "just now"),
            (-30, "방금 전", "just now"),
            (60, "1분 전", "1 minute ago"),
            (119, "1분 전", "1 minute ago"),
            (120, "2분 전", "2 minutes ago"),
            (3599, "59분 전", "59 minutes ago"),
            (3600, "1시간 전", "1 hour ago"),
            (7200, "2시간 전", "2 hours ago"),
            (86_399, "23시간 전", "23 hours ago"),
            (86_400, "1일 전", "1 day ago"),
            (2 * 86_400, "2일 전", "2 days ago"),
            (7 * 86_400 - 1, "6일 전", "6 days ago"),
            // A week or more: the date, in Seoul (UTC+9).
            (7 * 86_400, "2026년 11월 23일 21:00", "23 Nov 2026 21:00"),
        ];
        for (secs, k, e) in cases {
            let then = secs_before(now, secs);
            assert_eq!(ko.ago_from(&then, &now), k, "{secs}s");
            assert_eq!(en.ago_from(&then, &now), e, "{secs}s");
        }
        // Far in the future: the date, not "just now".
        let later = secs_before(now, -3600);
        assert_eq!(en.ago_from(&later, &now), "30 Nov 2026 22:00");
    }

    #[test]
    fn journal_references_are_written_in_the_pages_language() {
        let ko = Tr::new(Lang::Ko, chrono_tz::Asia::Seoul);
        let en = Tr::new(Lang::En, chrono_tz::Asia::Seoul);
        assert_eq!(ko.reference("auction #7"), "경매 #7");
        assert_eq!(en.reference("auction #7"), "auction #7");
        assert_eq!(ko.reference("development top-up"), "개발용 충전");
        assert_eq!(
            en.reference("refund of payment topup_1"),
            "refund of payment topup_1"
        );
        assert_eq!(ko.reference("something else"), "something else");
    }

    #[test]
    fn dates_are_written_per_language_in_the_sites_time_zone() {
        let t = at(5, 5, 0); // 14:05 in Seoul
        let ko = Tr::new(Lang::Ko, chrono_tz::Asia::Seoul);
        let en = Tr::new(Lang::En, chrono_tz::Asia::Seoul);
        assert_eq!(ko.time(&t), "2026년 11월 30일 14:05");
        assert_eq!(en.time(&t), "30 Nov 2026 14:05");
        assert_eq!(ko.date(&t), "2026년 11월 30일");
        assert_eq!(en.date(&t), "30 Nov 2026");
        assert_eq!(en.iso(&t), "2026-11-30T14:05:00+09:00");
        let utc = Tr::new(Lang::En, chrono_tz::UTC);
        assert_eq!(utc.time(&t), "30 Nov 2026 05:05");
        // Just before midnight UTC is the next day in Seoul.
        assert_eq!(ko.date(&at(23, 30, 0)), "2026년 12월 1일");
    }
}
