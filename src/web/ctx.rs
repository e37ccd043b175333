//! [`Ctx`]: what every page needs to render its layout (user, CSRF token, time zone, flashes).
//! It is plain data; building it from a request ([`crate::web::extract`]) is separate, so the
//! error page can render one without a request and without knowing any extractor.

use actix_session::Session;
use chrono::NaiveDateTime;

use crate::domain::auction::AuctionStatus;
use crate::domain::lang::Lang;
use crate::domain::Won;
use crate::services::accounts::CurrentUser;
use crate::views::i18n::{Secs, Tr};
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

    /// The page's language and time zone, for a partial rendered alone (a live fragment).
    pub fn tr(&self) -> Tr {
        Tr::new(self.lang, self.tz)
    }

    /// The logged-in member's conversations with unseen messages (the header's chat badge).
    pub fn unread_chats(&self) -> i64 {
        self.user.as_ref().map_or(0, |u| u.unread_chats)
    }

    /// The text of a translation key in the page's language (`{{ ctx.t("nav.auctions") }}`).
    /// A missing key shows as `ko.nav.auctions`, never as an error.
    pub fn t(&self, key: &str) -> String {
        self.tr().t(key)
    }

    /// The text of `{prefix}.{code}`: a stored code's words (`ctx.tk("trade_status", t.status)`).
    pub fn tk(&self, prefix: &str, code: &str) -> String {
        self.tr().tk(prefix, code)
    }

    /// A journal line's stored reference in the page's language.
    pub fn reference(&self, stored: &str) -> String {
        self.tr().reference(stored)
    }

    /// A category's name in the page's language.
    pub fn category(&self, name: &str) -> String {
        self.tr().category(name)
    }

    /// Money as the page's language writes it: `12,000원` (ko), `₩12,000` (en).
    pub fn money(&self, w: &Won) -> String {
        self.tr().money(w)
    }

    /// A key's text with `%{n}` replaced (`{{ ctx.t_n("list.min_price", x) }}`).
    pub fn t_n(&self, key: &str, n: impl std::fmt::Display) -> String {
        self.tr().t_n(key, n)
    }

    /// A key's text with `%{a}` and `%{b}` replaced.
    pub fn t_ab(&self, key: &str, a: impl std::fmt::Display, b: impl std::fmt::Display) -> String {
        self.tr().t_ab(key, a, b)
    }

    /// A count: `{key}.one` when it is 1, else `{key}.other`, with `%{n}` replaced.
    pub fn t_count(&self, key: &str, n: impl std::fmt::Display) -> String {
        self.tr().t_count(key, n)
    }

    /// An auction's status in the page's language.
    pub fn status(&self, st: &AuctionStatus) -> String {
        self.tr().status(st)
    }

    /// How long is left (`2d 4h left` / `2일 4시간 남음`), `ended` at zero.
    pub fn time_left(&self, secs: impl Secs) -> String {
        self.tr().time_left(secs)
    }

    /// How long until something starts (`2d 4h` / `2일 4시간`).
    pub fn duration(&self, secs: impl Secs) -> String {
        self.tr().duration(secs)
    }

    /// A list card's time or state line.
    pub fn card_time(&self, card: &crate::web::auctions::Card) -> String {
        match (card.open, card.not_started) {
            (true, true) => self.t("time.starts_soon"),
            (true, false) => self.time_left(card.secs_left),
            (false, _) => self.status(&card.status),
        }
    }

    /// A stored UTC time in the site's time zone, as the page's language writes it
    /// (`2026년 11월 30일 14:05`, `30 Nov 2026 14:05`).
    pub fn time(&self, utc: &NaiveDateTime) -> String {
        self.tr().time(utc)
    }

    /// A day in the site's time zone (`2026년 11월 30일`, `30 Nov 2026`).
    pub fn date(&self, utc: &NaiveDateTime) -> String {
        self.tr().date(utc)
    }

    /// `<time datetime="…">`'s value.
    pub fn iso(&self, utc: &NaiveDateTime) -> String {
        self.tr().iso(utc)
    }

    /// A past moment for `<time datetime title>` with how long ago.
    pub fn moment(&self, utc: &NaiveDateTime) -> crate::views::i18n::Moment {
        self.tr().moment(utc)
    }

    /// How long ago (`3분 전`, `3 minutes ago`; the date after a week).
    pub fn ago(&self, utc: &NaiveDateTime) -> String {
        self.tr().ago(utc)
    }
}
