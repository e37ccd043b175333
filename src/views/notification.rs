//! Notifications as a member reads them: the one place their sentences are written (issue 14
//! translates them here), their links, and the header's fragments the per-member socket
//! pushes again (`/me/live`) — rendered by the same partials `base.html` includes.

use askama::Template;

use crate::domain::lang::Lang;
use crate::domain::msg::{Arg, Msg};
use crate::domain::notification::NotificationKind as K;
use crate::domain::Won;
use crate::services::notify::Notification;
use crate::views::i18n::Tr;

/// The sentence for a notification in the reader's language (plain text; the template
/// escapes it).
pub fn sentence(n: &Notification, lang: Lang) -> String {
    let title = match &n.title {
        Some(t) => Arg::from(t),
        None => Arg::from(Msg::new("notice.your_item")),
    };
    let amount = n.amount().map_or_else(|| Arg::from(""), Arg::from);
    let Some(kind) = n.kind() else {
        return Msg::new("notice.unknown").text(lang);
    };
    let key = match kind {
        K::Outbid => "notice.outbid",
        K::Won => "notice.won",
        K::Sold => "notice.sold",
        K::NoSale => "notice.no_sale",
        K::ReserveNotMet => "notice.reserve_not_met",
        K::BidBelowReserve => "notice.bid_below_reserve",
        K::EndingSoon => "notice.ending_soon",
        K::TradeRequested => "notice.trade_requested",
        K::TradeApproved => "notice.trade_approved",
        K::TradeRejected => "notice.trade_rejected",
        K::TradeCancelled => "notice.trade_cancelled",
        K::TradeConfirmed => "notice.trade_confirmed",
        K::TradeAutoConfirmed => "notice.trade_auto_confirmed",
        K::TradeDisputed => "notice.trade_disputed",
        K::TradeResolved => "notice.trade_resolved",
        K::PaymentPaid => "notice.payment_paid",
        K::AccountIssued => "notice.account_issued",
        K::PaymentExpired => "notice.payment_expired",
        K::PaymentRefunded => "notice.payment_refunded",
        K::PayoutDone => "notice.payout_done",
        K::PayoutRejected => "notice.payout_rejected",
        K::ReviewReceived => "notice.review_received",
        K::ChatMessage => "notice.chat_message",
    };
    Msg::new(key)
        .arg("title", title)
        .arg("amount", amount)
        .text(lang)
}

/// The page a notification is about.
pub fn link(n: &Notification) -> String {
    if n.kind() == Some(K::ReviewReceived) {
        // "See it on your profile": the review is on the reader's own page.
        format!("/users/{}", n.user_id)
    } else if let Some(id) = n.chat_id {
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
