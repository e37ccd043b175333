//! Profiles and reviews (issue 14 item 4). Once a trade is confirmed (the buyer confirmed
//! receipt, it was confirmed automatically, or an admin resolved its dispute by paying the
//! seller — all end `confirmed`; a refunded trade never is), its buyer and its seller may each
//! leave one review of the other: 1 to 5 stars and a comment. A member's reviews move their
//! trust score ([`crate::domain::review::trust_score`]), shown on `/users/{id}`.

use crate::domain::msg::Msg;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{auctions, products, reviews, trades, users};
use crate::db::{is_unique_violation, read_tx, write_tx, DbConnection};
use crate::domain::auction::AuctionStatus;
use crate::domain::market::{ProductStatus, TradeId, TradeStatus};
use crate::domain::notification::NotificationKind;
use crate::domain::review::{trust_score, Rating, ReviewComment};
use crate::domain::{UserId, Won};
use crate::services::market::{find_trade, TradeItem};
use crate::services::notify::{self, Notice};
use crate::services::now;

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("This trade does not exist.")]
    NotFound,
    #[error("Only the buyer and the seller of a trade can review it.")]
    NotParty,
    #[error("This trade is not completed yet: a review can be left once it is confirmed.")]
    NotCompleted,
    #[error("You have already reviewed this trade.")]
    AlreadyReviewed,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl ReviewError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.no_such_trade"),
            Self::NotParty => Msg::new("err.review.not_party"),
            Self::NotCompleted => Msg::new("err.review.not_completed"),
            Self::AlreadyReviewed => Msg::new("err.review.already_reviewed"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(ReviewError);

/// `author` reviews the other side of a confirmed trade, once. Returns the trade's item (whose
/// page shows the trade). The other side is told in the same transaction.
#[tracing::instrument(skip(conn, comment), fields(trade.id = trade_id, user.id = author))]
pub fn leave_review(
    conn: &mut DbConnection,
    trade_id: TradeId,
    author: UserId,
    rating: Rating,
    comment: &ReviewComment,
) -> Result<TradeItem, ReviewError> {
    write_tx(conn, |conn| {
        let trade = find_trade(conn, trade_id)?.ok_or(ReviewError::NotFound)?;
        let item = TradeItem::of(&trade).ok_or(ReviewError::NotFound)?;
        let subject = if trade.buyer_id == author {
            trade.seller_id
        } else if trade.seller_id == author {
            trade.buyer_id
        } else {
            return Err(ReviewError::NotParty);
        };
        if trade.status() != Some(TradeStatus::Confirmed) {
            return Err(ReviewError::NotCompleted);
        }
        let inserted = diesel::insert_into(reviews::table)
            .values((
                reviews::trade_id.eq(trade.id),
                reviews::author_id.eq(author),
                reviews::subject_id.eq(subject),
                reviews::rating.eq(rating.get()),
                reviews::comment.eq(comment.as_str()),
                reviews::created_at.eq(now()),
            ))
            .execute(conn);
        match inserted {
            Err(e) if is_unique_violation(&e) => return Err(ReviewError::AlreadyReviewed),
            other => {
                other?;
            }
        }
        let kind = NotificationKind::ReviewReceived;
        let notice = match item {
            TradeItem::Product(p) => {
                let name: String = products::table.find(p).select(products::name).first(conn)?;
                Notice::trade(kind, trade.id, p, &name, None)
            }
            TradeItem::Auction(a) => {
                let title: String = auctions::table
                    .find(a)
                    .select(auctions::title)
                    .first(conn)?;
                Notice::auction_trade(kind, trade.id, a, &title, None)
            }
        };
        notify::notify(conn, subject, &notice)?;
        Ok(item)
    })
}

/// The authors who reviewed each of these trades (for the trade pages' review forms).
pub fn reviewers_of(
    conn: &mut DbConnection,
    trade_ids: &[TradeId],
) -> QueryResult<Vec<(TradeId, UserId)>> {
    if trade_ids.is_empty() {
        return Ok(vec![]);
    }
    reviews::table
        .filter(reviews::trade_id.eq_any(trade_ids))
        .select((reviews::trade_id, reviews::author_id))
        .load(conn)
}

/// Reviews a profile shows per page.
pub const REVIEWS_PER_PAGE: i64 = 20;
/// Active listings a profile shows (of each kind, newest first).
pub const LISTINGS_SHOWN: i64 = 50;

/// One review as a profile shows it.
pub struct ReviewLine {
    pub author_id: UserId,
    pub author_name: String,
    pub rating: i32,
    pub comment: String,
    pub created_at: NaiveDateTime,
}

/// One active listing (an open auction or a product on sale).
pub struct ListingLine {
    pub url: String,
    pub title: String,
    pub price: Won,
}

/// A member's public profile.
pub struct Profile {
    pub id: UserId,
    pub display_name: String,
    pub region_id: i64,
    pub member_since: NaiveDateTime,
    pub sales: i64,
    pub purchases: i64,
    pub auctions: Vec<ListingLine>,
    pub products: Vec<ListingLine>,
    /// How many reviews of 1, 2, 3, 4 and 5 stars the member received.
    pub rating_counts: [i64; 5],
    pub trust: f64,
    pub reviews_total: i64,
    pub reviews: Vec<ReviewLine>,
}

/// A member's profile with the `page`th page of their reviews (newest first); `None` when no
/// such member exists.
pub fn profile(
    conn: &mut DbConnection,
    id: UserId,
    page: i64,
) -> Result<Option<Profile>, ReviewError> {
    read_tx(conn, |conn| {
        let Some((display_name, region_id, member_since)) = users::table
            .find(id)
            .select((users::display_name, users::region_id, users::created_at))
            .first::<(String, i64, NaiveDateTime)>(conn)
            .optional()?
        else {
            return Ok(None);
        };
        let confirmed = TradeStatus::Confirmed.as_str();
        let sales: i64 = trades::table
            .filter(trades::seller_id.eq(id))
            .filter(trades::status.eq(confirmed))
            .count()
            .get_result(conn)?;
        let purchases: i64 = trades::table
            .filter(trades::buyer_id.eq(id))
            .filter(trades::status.eq(confirmed))
            .count()
            .get_result(conn)?;
        let open = [
            AuctionStatus::Scheduled.as_str(),
            AuctionStatus::Active.as_str(),
        ];
        let auctions = auctions::table
            .filter(auctions::seller_id.eq(id))
            .filter(auctions::status.eq_any(open))
            .order(auctions::id.desc())
            .limit(LISTINGS_SHOWN)
            .select((auctions::id, auctions::title, auctions::current_price))
            .load::<(i64, String, i64)>(conn)?
            .into_iter()
            .map(|(a, title, price)| ListingLine {
                url: format!("/auctions/{a}"),
                title,
                price: Won::from_stored(price),
            })
            .collect();
        let products = products::table
            .filter(products::seller_id.eq(id))
            .filter(products::status.eq(ProductStatus::OnSale.as_str()))
            .order(products::id.desc())
            .limit(LISTINGS_SHOWN)
            .select((products::id, products::name, products::price))
            .load::<(i64, String, i64)>(conn)?
            .into_iter()
            .map(|(p, title, price)| ListingLine {
                url: format!("/market/{p}"),
                title,
                price: Won::from_stored(price),
            })
            .collect();
        let mut rating_counts = [0i64; 5];
        let by_rating: Vec<(i32, i64)> = reviews::table
            .filter(reviews::subject_id.eq(id))
            .group_by(reviews::rating)
            .select((reviews::rating, diesel::dsl::count_star()))
            .load(conn)?;
        for (stars, n) in by_rating {
            if let Some(slot) = usize::try_from(stars - 1)
                .ok()
                .and_then(|i| rating_counts.get_mut(i))
            {
                *slot = n;
            }
        }
        let reviews_total = rating_counts.iter().sum();
        let offset = (page.max(1) - 1).saturating_mul(REVIEWS_PER_PAGE);
        let reviews = reviews::table
            .inner_join(users::table.on(users::id.eq(reviews::author_id)))
            .filter(reviews::subject_id.eq(id))
            .order(reviews::id.desc())
            .limit(REVIEWS_PER_PAGE)
            .offset(offset)
            .select((
                reviews::author_id,
                users::display_name,
                reviews::rating,
                reviews::comment,
                reviews::created_at,
            ))
            .load::<(i64, String, i32, String, NaiveDateTime)>(conn)?
            .into_iter()
            .map(
                |(author_id, author_name, rating, comment, created_at)| ReviewLine {
                    author_id,
                    author_name,
                    rating,
                    comment,
                    created_at,
                },
            )
            .collect();
        Ok(Some(Profile {
            id,
            display_name,
            region_id,
            member_since,
            sales,
            purchases,
            auctions,
            products,
            trust: trust_score(rating_counts),
            rating_counts,
            reviews_total,
            reviews,
        }))
    })
}
