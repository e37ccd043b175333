//! The bottom navigation bar of small screens (`partials/_tabbar.html`): which of its five tabs
//! the page belongs to, so the bar marks it `aria-current="page"`.

use crate::web::Ctx;

/// One tab of the bottom bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Home,
    Market,
    Chats,
    Notifications,
    Me,
    /// A page of none of them (admin, payments, the checkout simulator).
    None,
}

impl Tab {
    /// The tab a path (with or without its query) belongs to.
    pub fn of(path: &str) -> Tab {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let under = |prefix: &str| {
            path == prefix
                || path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        };
        if path == "/" || under("/auctions") {
            Tab::Home
        } else if under("/market") {
            Tab::Market
        } else if under("/chats") {
            Tab::Chats
        } else if under("/notifications") {
            Tab::Notifications
        } else if under("/account")
            || under("/me")
            || under("/wallet")
            || path == "/login"
            || path == "/signup"
        {
            Tab::Me
        } else {
            Tab::None
        }
    }
}

impl Ctx {
    /// Is `tab` (`home`, `market`, `chats`, `notifications`, `me`) this page's tab?
    pub fn on_tab(&self, tab: &str) -> bool {
        let here = Tab::of(&self.path);
        here != Tab::None
            && match tab {
                "home" => here == Tab::Home,
                "market" => here == Tab::Market,
                "chats" => here == Tab::Chats,
                "notifications" => here == Tab::Notifications,
                "me" => here == Tab::Me,
                _ => false,
            }
    }
}

impl Ctx {
    /// The floating "sell" button of small screens, on the two lists a member sells from:
    /// `auction` on the home page and the auction list, `product` on the market list, else
    /// empty (and never for a visitor, whose header offers sign-up instead).
    pub fn fab(&self) -> &'static str {
        if self.user.is_none() {
            return "";
        }
        match self.path.split(['?', '#']).next().unwrap_or("") {
            "/" | "/auctions" => "auction",
            "/market" => "product",
            _ => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Tab;

    #[test]
    fn each_page_belongs_to_its_tab() {
        for (path, tab) in [
            ("/", Tab::Home),
            ("/?page=2", Tab::Home),
            ("/auctions?q=lamp&scope=local", Tab::Home),
            ("/auctions/12", Tab::Home),
            ("/market", Tab::Market),
            ("/market/3", Tab::Market),
            ("/chats/7", Tab::Chats),
            ("/notifications", Tab::Notifications),
            ("/account", Tab::Me),
            ("/account/password", Tab::Me),
            ("/me/bids", Tab::Me),
            ("/wallet/payouts", Tab::Me),
            ("/login", Tab::Me),
            ("/admin", Tab::None),
            ("/marketplace", Tab::None),
            ("/payments/topup_1", Tab::None),
        ] {
            assert_eq!(Tab::of(path), tab, "{path}");
        }
    }
}
