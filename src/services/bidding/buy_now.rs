//! Buying at the buy-now price: the auction ends at once and becomes a trade.

use super::*;
use crate::domain::msg::Msg;

#[derive(Debug, thiserror::Error)]
pub enum BuyNowError {
    #[error("No such auction.")]
    NotFound,
    #[error("This auction has no buy-now price.")]
    NoBuyNow,
    #[error("The buy-now price changed to {price}. Check it and buy again if you still want it.")]
    PriceChanged { price: Won },
    #[error("The bids have reached the buy-now price (the price is {price}): buy now is no longer offered, bid instead.")]
    PriceReached { price: Won },
    #[error("Buy now opens when the auction starts.")]
    NotStarted,
    #[error("This auction has ended.")]
    Ended,
    #[error("You cannot buy your own item.")]
    OwnAuction,
    #[error("{}", neighbours_only(.district))]
    NotNeighbour { district: String },
    #[error(
        "You have {available} available, but buying now costs {needed}. Top up your wallet first."
    )]
    InsufficientFunds { available: Won, needed: Won },
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl BuyNowError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.no_such_auction"),
            Self::NoBuyNow => Msg::new("err.buy_now.no_buy_now"),
            Self::PriceChanged { price } => {
                Msg::new("err.buy_now.price_changed").arg("price", price)
            }
            Self::PriceReached { price } => {
                Msg::new("err.buy_now.price_reached").arg("price", price)
            }
            Self::NotStarted => Msg::new("err.buy_now.not_started"),
            Self::Ended => Msg::new("err.auction_ended"),
            Self::OwnAuction => Msg::new("err.buy_now.own_auction"),
            Self::NotNeighbour { district } => {
                Msg::new("err.neighbours_only").arg("district", district)
            }
            Self::InsufficientFunds { available, needed } => {
                Msg::new("err.buy_now.insufficient_funds")
                    .arg("available", available)
                    .arg("needed", needed)
            }
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(BuyNowError);

/// What a committed buy-now changed.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Bought {
    pub price: Won,
    pub event: AuctionEvent,
}

/// Buy at the buy-now price: the leader's hold is released (or topped up, when the buyer
/// leads), the whole price is held from the buyer, and the auction is sold. The seller is paid
/// once the buyer confirms receipt: the sale becomes a trade ([`market::open_auction_trade`]).
#[tracing::instrument(skip(conn), fields(auction.id = auction_id, user.id = buyer_id))]
pub fn buy_now(
    conn: &mut DbConnection,
    auction_id: i64,
    buyer_id: UserId,
    expected_price: Option<Won>,
    now: NaiveDateTime,
    auto_confirm: std::time::Duration,
    key: Option<&OnceKey>,
) -> Result<Bought, BuyNowError> {
    write_tx(conn, |conn| {
        once::run(conn, key, |conn| {
            let a = lock_auction(conn, auction_id)?.ok_or(BuyNowError::NotFound)?;
            let price = a.buy_now().ok_or(BuyNowError::NoBuyNow)?;
            if !a.status().is_open() {
                return Err(BuyNowError::Ended);
            }
            match window(a.starts_at, a.ends_at, now) {
                Window::NotStarted => return Err(BuyNowError::NotStarted),
                Window::Ended => return Err(BuyNowError::Ended),
                Window::Open => {}
            }
            if a.seller_id == buyer_id {
                return Err(BuyNowError::OwnAuction);
            }
            if a.prices().buy_now_offered().is_none() {
                return Err(BuyNowError::PriceReached {
                    price: a.current_price(),
                });
            }
            if let Err(district) = check_neighbour(conn, &a, buyer_id)? {
                return Err(BuyNowError::NotNeighbour { district });
            }
            // The price the buyer agreed to, compared under the lock: a seller cannot switch it
            // between the buyer reading the page and the buyer's POST arriving.
            if expected_price != Some(price) {
                return Err(BuyNowError::PriceChanged { price });
            }
            // The seller's wallet is not touched: they are paid when the trade is confirmed.
            let mut ids = vec![buyer_id];
            ids.extend(a.leader_id);
            let wallets = lock_wallets(conn, &ids)?;
            let buyer = wallet(&wallets, buyer_id)?;
            let buyer_leads = a.leader_id == Some(buyer_id);
            let own_hold = if buyer_leads { a.held() } else { 0 };
            if buyer.balance + own_hold < price.get() {
                return Err(BuyNowError::InsufficientFunds {
                    available: Won::from_stored(buyer.balance + own_hold),
                    needed: price,
                });
            }
            let event = AuctionEvent::new(
                auction_id,
                a.leader_id
                    .filter(|l| *l != buyer_id)
                    .map(|l| (l, a.held())),
            );
            events::notify(conn, &event)?;
            let displaced = a.leader_id.filter(|l| *l != buyer_id);
            notify::outbid(conn, displaced, auction_id, &a.title, price)?;
            notify::auction_ended(conn, &a, Some(buyer_id), AuctionStatus::Sold, price)?;
            if let Some(leader) = a.leader_id.filter(|l| *l != buyer_id) {
                release(conn, auction_id, leader, a.held())?;
            }
            // The buyer's own hold (when leading) counts: the rest of the price is held now,
            // or what their maximum held beyond the price comes back.
            if own_hold < price.get() {
                hold(conn, auction_id, buyer_id, price.get() - own_hold)?;
            } else if own_hold > price.get() {
                release(conn, auction_id, buyer_id, own_hold - price.get())?;
            }
            market::open_auction_trade(
                conn,
                auction_id,
                buyer_id,
                a.seller_id,
                price.get(),
                now,
                auto_confirm,
            )?;
            let entry = Entry {
                amount: price.get(),
                max_amount: None,
                is_buy_now: true,
            };
            record_bid(conn, auction_id, buyer_id, entry, now)?;
            diesel::update(auctions::table.find(auction_id))
                .set((
                    auctions::current_price.eq(price.get()),
                    auctions::leader_id.eq(Some(buyer_id)),
                    auctions::leader_max.eq(None::<i64>),
                    auctions::winner_id.eq(Some(buyer_id)),
                    auctions::bid_count.eq(auctions::bid_count + 1),
                    auctions::status.eq(AuctionStatus::Sold.as_str()),
                    auctions::closed_at.eq(Some(now)),
                    auctions::updated_at.eq(now),
                ))
                .execute(conn)?;
            Ok(Bought { price, event })
        })
    })
}
