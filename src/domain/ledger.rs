//! Kinds of journal entry. Deposits and withdrawals are the only ones that bring money into or
//! take it out of the system; every other kind moves money between or inside wallets.

/// Why a wallet changed, as the journal stores it (`ledger_entries.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerKind {
    /// Money in through a payment (or the development top-up).
    Deposit,
    /// Money out to the owner (refund, payout).
    Withdrawal,
    /// A leading bid: available → held.
    BidHold,
    /// Outbid, cancelled or lost: held → available.
    BidRelease,
    /// The winner's hold leaves their wallet…
    SettleOut,
    /// …and arrives in the seller's balance.
    SettleIn,
    /// Buy in the market: the price moves from the buyer's balance to their held money.
    PurchaseHold,
    /// Rejected or cancelled before approval: the held price goes back to the buyer.
    PurchaseRelease,
    /// Confirmed: the held price leaves the buyer's wallet…
    PurchaseOut,
    /// …and arrives in the seller's balance.
    PurchaseIn,
    /// A payout requested: available → held until an admin transfers or rejects it.
    PayoutHold,
    /// A payout rejected: held → available.
    PayoutRelease,
    /// A refund of a top-up asked of PortOne: available → held until PortOne answers.
    RefundHold,
    /// A refund PortOne refused (or one our records could not back): held → available.
    RefundRelease,
}

impl LedgerKind {
    pub const ALL: [LedgerKind; 14] = [
        LedgerKind::Deposit,
        LedgerKind::Withdrawal,
        LedgerKind::BidHold,
        LedgerKind::BidRelease,
        LedgerKind::SettleOut,
        LedgerKind::SettleIn,
        LedgerKind::PurchaseHold,
        LedgerKind::PurchaseRelease,
        LedgerKind::PurchaseOut,
        LedgerKind::PurchaseIn,
        LedgerKind::PayoutHold,
        LedgerKind::PayoutRelease,
        LedgerKind::RefundHold,
        LedgerKind::RefundRelease,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            LedgerKind::Deposit => "deposit",
            LedgerKind::Withdrawal => "withdrawal",
            LedgerKind::BidHold => "bid_hold",
            LedgerKind::BidRelease => "bid_release",
            LedgerKind::SettleOut => "settle_out",
            LedgerKind::SettleIn => "settle_in",
            LedgerKind::PurchaseHold => "purchase_hold",
            LedgerKind::PurchaseRelease => "purchase_release",
            LedgerKind::PurchaseOut => "purchase_out",
            LedgerKind::PurchaseIn => "purchase_in",
            LedgerKind::PayoutHold => "payout_hold",
            LedgerKind::PayoutRelease => "payout_release",
            LedgerKind::RefundHold => "refund_hold",
            LedgerKind::RefundRelease => "refund_release",
        }
    }

    pub fn parse(stored: &str) -> Option<LedgerKind> {
        LedgerKind::ALL.into_iter().find(|k| k.as_str() == stored)
    }

    /// What the wallet page calls it.
    pub const fn label(self) -> &'static str {
        match self {
            LedgerKind::Deposit => "Top-up",
            LedgerKind::Withdrawal => "Withdrawn (payout or refund)",
            LedgerKind::BidHold => "Bid hold",
            LedgerKind::BidRelease => "Bid released",
            LedgerKind::SettleOut => "Paid for a won auction",
            LedgerKind::SettleIn | LedgerKind::PurchaseIn => "Sale proceeds",
            LedgerKind::PurchaseHold => "Purchase hold",
            LedgerKind::PurchaseRelease => "Purchase released",
            LedgerKind::PurchaseOut => "Purchase paid",
            LedgerKind::PayoutHold => "Payout requested (held)",
            LedgerKind::PayoutRelease => "Payout rejected (released)",
            LedgerKind::RefundHold => "Refund requested (held)",
            LedgerKind::RefundRelease => "Refund not made (released)",
        }
    }

    /// The translation key of [`Self::label`] (`locales/msg.*.yml`).
    pub const fn label_key(self) -> &'static str {
        match self {
            LedgerKind::Deposit => "words.ledger.1",
            LedgerKind::Withdrawal => "words.ledger.2",
            LedgerKind::BidHold => "words.ledger.3",
            LedgerKind::BidRelease => "words.ledger.4",
            LedgerKind::SettleOut => "words.ledger.5",
            LedgerKind::SettleIn | LedgerKind::PurchaseIn => "words.ledger.6",
            LedgerKind::PurchaseHold => "words.ledger.7",
            LedgerKind::PurchaseRelease => "words.ledger.8",
            LedgerKind::PurchaseOut => "words.ledger.9",
            LedgerKind::PayoutHold => "words.ledger.10",
            LedgerKind::PayoutRelease => "words.ledger.11",
            LedgerKind::RefundHold => "words.ledger.12",
            LedgerKind::RefundRelease => "words.ledger.13",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_stored_name() {
        for k in LedgerKind::ALL {
            assert_eq!(LedgerKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(LedgerKind::parse("gift"), None);
    }
}
