//! Placing a proxy (maximum) bid: the rules, the holds, the price the site bids for the leader.

use super::*;
use crate::domain::msg::Msg;

/// Why a bid was refused. The text is what the bidder reads, on the page or the socket.
#[derive(Debug, thiserror::Error)]
pub enum PlaceBidError {
    #[error("No such auction.")]
    NotFound,
    #[error("Bidding has not started yet.")]
    NotStarted,
    #[error("This auction has ended.")]
    Ended,
    #[error("You cannot bid on your own auction.")]
    OwnAuction,
    #[error("{}", neighbours_only(.district))]
    NotNeighbour { district: String },
    #[error("Your bid must be at least {minimum}.")]
    TooLow { minimum: Won },
    #[error("You already lead with a maximum of {max}: to raise it, enter more than {max}.")]
    MaxNotHigher { max: Won },
    #[error("Bids go up in steps of {unit}: enter a whole multiple of {unit}.")]
    NotMultiple { unit: Won },
    #[error(
        "You have {available} available, but this bid needs {needed}. Top up your wallet first."
    )]
    InsufficientFunds { available: Won, needed: Won },
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl PlaceBidError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.no_such_auction"),
            Self::NotStarted => Msg::new("err.place_bid.not_started"),
            Self::Ended => Msg::new("err.auction_ended"),
            Self::OwnAuction => Msg::new("err.place_bid.own_auction"),
            Self::NotNeighbour { district } => {
                Msg::new("err.neighbours_only").arg("district", district)
            }
            Self::TooLow { minimum } => Msg::new("err.place_bid.too_low").arg("minimum", minimum),
            Self::MaxNotHigher { max } => Msg::new("err.place_bid.max_not_higher").arg("max", max),
            Self::NotMultiple { unit } => Msg::new("err.place_bid.not_multiple").arg("unit", unit),
            Self::InsufficientFunds { available, needed } => {
                Msg::new("err.place_bid.insufficient_funds")
                    .arg("available", available)
                    .arg("needed", needed)
            }
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(PlaceBidError);

impl From<AmountRule> for PlaceBidError {
    fn from(rule: AmountRule) -> Self {
        match rule {
            AmountRule::TooLow { minimum } => PlaceBidError::TooLow { minimum },
            AmountRule::NotMultiple { unit } => PlaceBidError::NotMultiple { unit },
        }
    }
}

/// What a committed bid changed (for flashes and live updates).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct BidPlaced {
    /// For the live panel, once committed (it names the outbid bidder and the released hold).
    pub event: AuctionEvent,
    /// Whether the bidder leads now (false: an earlier maximum was higher — outbid at once).
    pub leads: bool,
    /// The auction's price after the bid.
    pub price: Won,
    /// The bidder's maximum.
    pub maximum: Won,
}

/// Check that the auction takes bids now: open status and inside its time window.
fn check_open(a: &Auction, now: NaiveDateTime) -> Result<(), PlaceBidError> {
    if !a.status().is_open() {
        return Err(PlaceBidError::Ended);
    }
    match window(a.starts_at, a.ends_at, now) {
        Window::NotStarted => Err(PlaceBidError::NotStarted),
        Window::Ended => Err(PlaceBidError::Ended),
        Window::Open => Ok(()),
    }
}

/// The rules that need no money, checked on an auction row as read.
fn check_bid_rules(
    a: &Auction,
    bidder_id: UserId,
    amount: Won,
    now: NaiveDateTime,
) -> Result<(), PlaceBidError> {
    check_open(a, now)?;
    if a.seller_id == bidder_id {
        return Err(PlaceBidError::OwnAuction);
    }
    a.prices().check_amount(amount)?;
    Ok(())
}

/// Place a bid of `amount`. Releases the outbid leader's hold and holds the new amount, in
/// one transaction with the bid row and the auction's new price.
///
/// The rules are first checked on a plain read, so a bid that cannot win (most of them on a
/// busy auction) is refused without taking locks: the price only rises, so a bid too low now
/// is too low under the lock too. Every rule is checked again under the lock.
#[tracing::instrument(skip(conn), fields(auction.id = auction_id, user.id = bidder_id))]
pub fn place_bid(
    conn: &mut DbConnection,
    auction_id: i64,
    bidder_id: UserId,
    amount: Won,
    now: NaiveDateTime,
    soft_close: SoftClose,
    key: Option<&OnceKey>,
) -> Result<BidPlaced, PlaceBidError> {
    // A resubmitted form gets its first outcome, not the refusal that outcome causes now.
    if let Some(done) = once::replay::<_, PlaceBidError>(conn, key)? {
        return Ok(done);
    }
    let seen = crate::services::auctions::find(conn, auction_id)?.ok_or(PlaceBidError::NotFound)?;
    if let Err(refused) = check_bid_rules(&seen, bidder_id, amount, now) {
        return once::replay::<_, PlaceBidError>(conn, key)?.ok_or(refused);
    }
    // Where a member lives does not change with the bid: checked once, before the locks.
    if let Err(district) = check_neighbour(conn, &seen, bidder_id)? {
        return Err(PlaceBidError::NotNeighbour { district });
    }
    write_tx(conn, |conn| {
        once::run(conn, key, |conn| {
            let a = lock_auction(conn, auction_id)?.ok_or(PlaceBidError::NotFound)?;
            check_bid_rules(&a, bidder_id, amount, now)?;

            let step = |p: i64| a.prices().increment.step(Won::from_stored(p)).get();
            let reserve = |price: i64, max: i64| match a.reserve_price {
                // A maximum at or above the reserve lifts the price to it at once.
                Some(r) if max >= r && price < r => r,
                _ => price,
            };
            let x = amount.get();
            let held = a.held();
            let mut ids = vec![bidder_id];
            ids.extend(a.leader_id);
            let wallets = lock_wallets(conn, &ids)?;
            let mine = wallet(&wallets, bidder_id)?;
            // What the bidder must have: the whole maximum (a leader raising it, the difference).
            let own_hold = if a.leader_id == Some(bidder_id) {
                held
            } else {
                0
            };
            if mine.balance + own_hold < x {
                return Err(PlaceBidError::InsufficientFunds {
                    available: Won::from_stored(mine.balance + own_hold),
                    needed: amount,
                });
            }
            // The history rows this submission writes, oldest first: (bidder, the bid as
            // everyone sees it, the maximum entered — on the submission's own row only). Every
            // accepted submission writes exactly one row of its own; rows the site places for
            // a leader's maximum are marked automatic. The leader's row is always the newest.
            let mut rows: Vec<(UserId, i64, Option<i64>)> = Vec::new();
            let (leader, leader_max, price, outbid) = match a.leader_id {
                None => {
                    hold(conn, auction_id, bidder_id, x)?;
                    let price = reserve(a.current_price, x);
                    rows.push((bidder_id, price, Some(x)));
                    (bidder_id, x, price, None)
                }
                Some(l) if l == bidder_id => {
                    if x <= held {
                        return Err(PlaceBidError::MaxNotHigher {
                            max: Won::from_stored(held),
                        });
                    }
                    // Raising one's own maximum moves only the difference; the price stays
                    // (unless the new maximum reaches the reserve).
                    hold(conn, auction_id, bidder_id, x - held)?;
                    let price = reserve(a.current_price, x);
                    rows.push((bidder_id, price, Some(x)));
                    (bidder_id, x, price, None)
                }
                Some(l) if x > held => {
                    // The challenger's maximum beats the leader's: the site bids only as much
                    // as needed, one increment over the old maximum (capped at the new one).
                    release(conn, auction_id, l, held)?;
                    hold(conn, auction_id, bidder_id, x)?;
                    let price = reserve(x.min(held + step(held)), x);
                    if held > a.current_price {
                        // The site had bid the old leader's maximum in full.
                        rows.push((l, held, None));
                    }
                    rows.push((bidder_id, price, Some(x)));
                    (bidder_id, x, price, Some((l, held)))
                }
                Some(l) => {
                    // The leader's maximum holds (an equal one too: the earlier leads). The
                    // site raises the leader's bid just past the challenger's, capped at the
                    // leader's maximum.
                    let price = reserve(held.min(x + step(x)), held);
                    rows.push((bidder_id, x, Some(x)));
                    rows.push((l, price, None));
                    (l, held, price, None)
                }
            };
            let event = AuctionEvent::new(auction_id, outbid);
            // Sent before the writes: PostgreSQL delivers it only if everything below commits.
            events::notify(conn, &event)?;
            // The displaced leader is told the price that beat them.
            notify::outbid(
                conn,
                outbid.map(|(l, _)| l),
                auction_id,
                &a.title,
                Won::from_stored(price),
            )?;
            for (who, at, max) in &rows {
                let entry = Entry {
                    amount: *at,
                    max_amount: *max,
                    is_buy_now: false,
                };
                record_bid(conn, auction_id, *who, entry, now)?;
            }
            diesel::update(auctions::table.find(auction_id))
                .set((
                    auctions::current_price.eq(price),
                    auctions::leader_id.eq(Some(leader)),
                    auctions::leader_max.eq(Some(leader_max)),
                    auctions::bid_count
                        .eq(auctions::bid_count + i32::try_from(rows.len()).unwrap_or(0)),
                    auctions::status.eq(AuctionStatus::Active.as_str()),
                    auctions::updated_at.eq(now),
                ))
                .execute(conn)?;
            // Soft close: a bid that changed the price or the leader in the last minutes moves
            // the end (pushed to watchers with the rest of the state once this commits).
            let changed = price != a.current_price || a.leader_id != Some(leader);
            if let Some(new_end) = changed
                .then(|| soft_close.extended_end(a.ends_at, a.original_ends_at, now))
                .flatten()
            {
                diesel::update(auctions::table.find(auction_id))
                    .set((
                        auctions::ends_at.eq(new_end),
                        auctions::original_ends_at
                            .eq(Some(a.original_ends_at.unwrap_or(a.ends_at))),
                        auctions::extensions.eq(auctions::extensions + 1),
                    ))
                    .execute(conn)?;
                // Recorded for the price chart's markers, in the same transaction.
                diesel::insert_into(auction_extensions::table)
                    .values((
                        auction_extensions::auction_id.eq(auction_id),
                        auction_extensions::at.eq(now),
                        auction_extensions::old_end_at.eq(a.ends_at),
                        auction_extensions::new_end_at.eq(new_end),
                    ))
                    .execute(conn)?;
            }
            Ok(BidPlaced {
                event,
                leads: leader == bidder_id,
                price: Won::from_stored(price),
                maximum: amount,
            })
        })
    })
}
