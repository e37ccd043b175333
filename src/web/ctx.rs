//! [`Ctx`]: what every page needs to render its layout (user, CSRF token, time zone, flashes).
//! It is plain data; building it from a request ([`crate::web::extract`]) is separate, so the
//! error page can render one without a request and without knowing any extractor.

use actix_session::Session;
use chrono::NaiveDateTime;

use crate::services::accounts::CurrentUser;
use crate::web::session::{self, Flash};

/// The context of one page.
pub struct Ctx {
    pub user: Option<CurrentUser>,
    pub csrf_token: String,
    pub tz: chrono_tz::Tz,
    pub path: String,
    pub(crate) session: Option<Session>,
}

impl Ctx {
    /// For pages rendered without a request (error pages).
    pub fn anonymous() -> Ctx {
        Ctx {
            user: None,
            csrf_token: String::new(),
            tz: chrono_tz::Asia::Seoul,
            path: "/".to_owned(),
            session: None,
        }
    }

    /// Flash messages, shown once (called by the layout while rendering).
    pub fn take_flashes(&self) -> Vec<Flash> {
        self.session
            .as_ref()
            .map(session::take_flashes)
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

    /// A stored UTC time in the site's time zone.
    pub fn time(&self, utc: &NaiveDateTime) -> String {
        utc.and_utc()
            .with_timezone(&self.tz)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }
}
