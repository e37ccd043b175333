//! What a notification is about: its kind. The sentence a member reads is written when it is
//! shown (`views::notification`), from the kind and the ids, title and amount stored with it.

/// Every kind of notification, as stored in `notifications.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    /// Another bid (or a buy-now) took the lead from you; your hold was released.
    Outbid,
    /// You won an auction (at its close, or by buying it now).
    Won,
    /// Your auction sold (at its close, or bought now).
    Sold,
    /// Your auction ended without bids.
    NoSale,
    /// Your auction ended below your reserve (amount: the highest bid).
    ReserveNotMet,
    /// The auction you led ended below the seller's reserve; your hold was released.
    BidBelowReserve,
    /// An auction you bid on or watch ends within ten minutes.
    EndingSoon,
    /// Market: a buyer asked for your product (to the seller).
    TradeRequested,
    /// Market: the seller approved your purchase (to the buyer).
    TradeApproved,
    /// Market: the seller rejected your purchase; your money came back (to the buyer).
    TradeRejected,
    /// Market: a purchase was cancelled (to the other side, or to both when the site did it).
    TradeCancelled,
    /// Market: the buyer confirmed receipt and you were paid (to the seller).
    TradeConfirmed,
    /// Market: a trade was confirmed automatically (to both sides).
    TradeAutoConfirmed,
    /// A dispute was opened on a trade (to the other side).
    TradeDisputed,
    /// An admin resolved a trade's dispute (to both sides).
    TradeResolved,
    /// A payment was paid (a top-up credited, or a purchase paid).
    PaymentPaid,
    /// A virtual account was issued: pay into it before the deadline.
    AccountIssued,
    /// A virtual account's deadline passed unpaid.
    PaymentExpired,
    /// A payment (or part of it) was refunded.
    PaymentRefunded,
    /// A payout was transferred to your bank account.
    PayoutDone,
    /// A payout was rejected; the money is back in your wallet.
    PayoutRejected,
    /// The other side of a completed trade reviewed you.
    ReviewReceived,
    /// A neighbour (or the seller) wrote to you in a chat about a listing; one per conversation
    /// while it is unread.
    ChatMessage,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 23] = [
        Self::Outbid,
        Self::Won,
        Self::Sold,
        Self::NoSale,
        Self::ReserveNotMet,
        Self::BidBelowReserve,
        Self::EndingSoon,
        Self::TradeRequested,
        Self::TradeApproved,
        Self::TradeRejected,
        Self::TradeCancelled,
        Self::TradeConfirmed,
        Self::TradeAutoConfirmed,
        Self::TradeDisputed,
        Self::TradeResolved,
        Self::PaymentPaid,
        Self::AccountIssued,
        Self::PaymentExpired,
        Self::PaymentRefunded,
        Self::PayoutDone,
        Self::PayoutRejected,
        Self::ReviewReceived,
        Self::ChatMessage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Outbid => "outbid",
            Self::Won => "won",
            Self::Sold => "sold",
            Self::NoSale => "no_sale",
            Self::ReserveNotMet => "reserve_not_met",
            Self::BidBelowReserve => "bid_below_reserve",
            Self::EndingSoon => "ending_soon",
            Self::TradeRequested => "trade_requested",
            Self::TradeApproved => "trade_approved",
            Self::TradeRejected => "trade_rejected",
            Self::TradeCancelled => "trade_cancelled",
            Self::TradeConfirmed => "trade_confirmed",
            Self::TradeAutoConfirmed => "trade_auto_confirmed",
            Self::TradeDisputed => "trade_disputed",
            Self::TradeResolved => "trade_resolved",
            Self::PaymentPaid => "payment_paid",
            Self::AccountIssued => "account_issued",
            Self::PaymentExpired => "payment_expired",
            Self::PaymentRefunded => "payment_refunded",
            Self::PayoutDone => "payout_done",
            Self::PayoutRejected => "payout_rejected",
            Self::ReviewReceived => "review_received",
            Self::ChatMessage => "chat_message",
        }
    }

    pub fn parse(s: &str) -> Option<NotificationKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_stored_name() {
        for k in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(NotificationKind::parse("nonsense"), None);
    }
}
