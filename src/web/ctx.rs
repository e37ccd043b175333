//! [`Ctx`]: what every page needs to render its layout (user, CSRF token, time zone, flashes).
//! It is plain data; building it from a request ([`crate::web::extract`]) is separate, so the
//! error page can render one without a request and without knowing any extractor.

use actix_session::Session;
use chrono::NaiveDateTime;

use crate::domain::auction::AuctionStatus;
use crate::domain::lang::Lang;
use crate::domain::Won;
use crate::services::accounts::CurrentUser;
use crate::web::session::{self, Flash};

/// The context of one page.
pub struct Ctx {
    pub user: Option<CurrentUser>,
    pub csrf_token: String,
    pub tz: chrono_tz::Tz,
    pub path: String,
    /// The page's language ([`crate::web::lang::negotiate`]).
    pub lang: Lang,
    /// Where the language toggle comes back to: this page when it was a GET, else the page the
    /// form was sent from (a form answered with its errors has a POST-only address).
    pub back: String,
    pub(crate) session: Option<Session>,
}

impl Ctx {
    /// For pages rendered without a request (an error page from `ResponseError`), in English;
    /// `web::lang::in_language` renders it again in the request's language.
    pub fn anonymous() -> Ctx {
        Ctx::anonymous_in(Lang::En)
    }

    /// For a page rendered without a request's session (error pages), in `lang`.
    pub fn anonymous_in(lang: Lang) -> Ctx {
        Ctx {
            user: None,
            csrf_token: String::new(),
            tz: chrono_tz::Asia::Seoul,
            path: "/".to_owned(),
            lang,
            back: "/".to_owned(),
            session: None,
        }
    }

    /// Flash messages, shown once (called by the layout while rendering).
    pub fn take_flashes(&self) -> Vec<Flash> {
        self.session
            .as_ref()
            .map(|s| session::take_flashes(s, self.lang))
            .unwrap_or_default()
    }

    /// A fresh one-time key for a money form (`partials/_once.html`): the form sent twice with it
    /// acts once.
    pub fn fresh_key(&self) -> String {
        crate::db::once::fresh_key()
    }

    /// The header's live figures (unread notifications, available money) of the logged-in member.
    pub fn header_bar(&self) -> Option<crate::views::notification::HeaderBar> {
        self.user
            .as_ref()
            .map(|u| crate::views::notification::HeaderBar {
                unread: u.unread,
                balance: u.balance,
            })
    }

    /// The text of a translation key in the page's language (`{{ ctx.t("nav.auctions") }}`).
    /// A missing key shows as `ko.nav.auctions`, never as an error.
    pub fn t(&self, key: &str) -> String {
        rust_i18n::t!(key, locale = self.lang.code()).into_owned()
    }

    /// Money as the page's language writes it: `12,000원` (ko), `₩12,000` (en).
    pub fn money(&self, w: &Won) -> String {
        self.lang.money(*w)
    }

    /// A key's text with `%{n}` replaced (`{{ ctx.t_n("list.min_price", x) }}`).
    pub fn t_n(&self, key: &str, n: impl std::fmt::Display) -> String {
        self.t(key).replace("%{n}", &n.to_string())
    }

    /// A count: `{key}.one` when it is 1, else `{key}.other`, with `%{n}` replaced.
    pub fn t_count(&self, key: &str, n: impl std::fmt::Display) -> String {
        let n = n.to_string();
        let form = if n == "1" { "one" } else { "other" };
        self.t(&format!("{key}.{form}")).replace("%{n}", &n)
    }

    /// An auction's status in the page's language.
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
    pub fn time_left(&self, secs: i64) -> String {
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
        self.t(key)
            .replace("%{a}", &a.to_string())
            .replace("%{b}", &b.to_string())
    }

    /// A list card's time or state line.
    pub fn card_time(&self, card: &crate::web::auctions::Card) -> String {
        match (card.open, card.not_started) {
            (true, true) => self.t("time.starts_soon"),
            (true, false) => self.time_left(card.secs_left),
            (false, _) => self.status(&card.status),
        }
    }

    /// A stored UTC time in the site's time zone.
    pub fn time(&self, utc: &NaiveDateTime) -> String {
        utc.and_utc()
            .with_timezone(&self.tz)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }
}
