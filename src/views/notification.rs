//! Notifications as a member reads them: the one place their sentences are written (issue 14
//! translates them here), their links, and the header's fragments the per-member socket
//! pushes again (`/me/live`) — rendered by the same partials `base.html` includes.

use askama::Template;

use crate::domain::notification::NotificationKind as K;
use crate::domain::Won;
use crate::services::notify::Notification;
use crate::views::i18n::Tr;

/// The sentence for a notification (plain text; the template escapes it).
pub fn sentence(n: &Notification) -> String {
    let title = n.title.as_deref().unwrap_or("your item");
    let amount = n.amount().map_or_else(String::new, |a: Won| a.to_string());
    let Some(kind) = n.kind() else {
        return "Something happened on your account.".to_owned();
    };
    match kind {
        K::Outbid => format!(
            "You were outbid on “{title}”: the price is now {amount}. Your hold was released to your wallet."
        ),
        K::Won => format!(
            "You won “{title}” for {amount}. Your money is held until you confirm receipt."
        ),
        K::Sold => format!(
            "“{title}” sold for {amount}. You are paid when the buyer confirms receipt."
        ),
        K::NoSale => format!("“{title}” ended without bids; nothing was sold."),
        K::ReserveNotMet => format!(
            "“{title}” ended below your reserve price: the highest bid was {amount}, and nothing was sold."
        ),
        K::BidBelowReserve => format!(
            "“{title}” ended below the seller's reserve price: your bid of {amount} did not win, and its hold was released."
        ),
        K::EndingSoon => format!("“{title}” ends in less than 10 minutes. The price is {amount}."),
        K::TradeRequested => format!(
            "A neighbour wants to buy “{title}” for {amount}: approve or reject the request."
        ),
        K::TradeApproved => format!(
            "The seller approved your purchase of “{title}”. Confirm receipt once you have it."
        ),
        K::TradeRejected => format!(
            "The seller rejected your purchase of “{title}”; {amount} came back to you."
        ),
        K::TradeCancelled => format!("The purchase of “{title}” for {amount} was cancelled."),
        K::TradeConfirmed => format!(
            "The buyer confirmed receipt of “{title}”: {amount} is in your wallet."
        ),
        K::TradeAutoConfirmed => format!(
            "The trade of “{title}” for {amount} was confirmed automatically."
        ),
        K::TradeDisputed => format!("A dispute was opened on the trade of “{title}”."),
        K::TradeResolved => format!(
            "An admin resolved the dispute on the trade of “{title}”: the decision and its reason are on the trade."
        ),
        K::PaymentPaid => format!("Your payment of {amount} was received."),
        K::AccountIssued => format!(
            "A virtual account for {amount} was issued: pay into it before its deadline."
        ),
        K::PaymentExpired => format!("The virtual account for {amount} expired unpaid."),
        K::PaymentRefunded => format!("{amount} of your payment was refunded."),
        K::PayoutDone => format!("Your payout of {amount} was transferred to your bank account."),
        K::PayoutRejected => format!(
            "Your payout of {amount} was rejected; the money is back in your wallet."
        ),
        K::ReviewReceived => format!(
            "The other side of the trade of “{title}” reviewed you: see it on your profile."
        ),
        K::ChatMessage => format!("You have a new chat message about “{title}”."),
    }
}

/// The page a notification is about.
pub fn link(n: &Notification) -> String {
    if let Some(id) = n.chat_id {
        format!("/chats/{id}")
    } else if let Some(id) = n.auction_id {
        format!("/auctions/{id}")
    } else if let Some(id) = n.product_id {
        format!("/market/{id}")
    } else if let Some(uid) = &n.merchant_uid {
        format!("/payments/{}", urlencoding_path(uid))
    } else if n.payout_id.is_some() {
        "/wallet/payouts".to_owned()
    } else {
        "/notifications".to_owned()
    }
}

/// A `merchant_uid` as one path segment (ours are `[A-Za-z0-9_-]`; anything else is escaped).
fn urlencoding_path(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The figures of the header's live part.
#[derive(Debug, Clone, Copy)]
pub struct HeaderBar {
    pub unread: i64,
    pub balance: Won,
}

/// The header's live part: the unread badge and the available balance (`base.html` includes
/// the same partial).
#[derive(Template)]
#[template(path = "partials/_me_bar.html")]
pub struct MeBar {
    pub bar: HeaderBar,
    pub ctx: Tr,
}

/// A new notification, shown at the top of the page without a reload.
#[derive(Template)]
#[template(path = "partials/_me_toast.html")]
pub struct MeToast {
    pub id: i64,
    pub sentence: String,
}
