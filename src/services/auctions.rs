//! Listings: create, edit, browse, look, and the "my listings / my bids" pages.

use crate::domain::msg::Msg;
use chrono::{Duration, NaiveDateTime};

use diesel::prelude::*;

use crate::db::schema::{auctions, bids, users};
use crate::db::{like_pattern, lower, write_tx, DbConnection};
use crate::domain::auction::{AuctionStatus, Increment, PriceState};
use crate::domain::image::Image;
use crate::domain::{Description, Title, UserId, Won};
use crate::first_for_update;
use crate::services::images::{self, StoredPhoto, Uploads};
use crate::services::photos::{self, AddRefused, Owner};
use crate::services::reference::Reference;

/// The longest an auction may run ahead of now.
pub const MAX_AHEAD_DAYS: i64 = 30;

/// A whole auction row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = auctions)]
pub struct Auction {
    pub id: i64,
    pub seller_id: i64,
    pub title: String,
    pub description: String,
    pub category_id: i64,
    pub region_id: i64,
    pub image_name: Option<String>,
    pub start_price: i64,
    pub bid_unit: i64,
    pub buy_now_price: Option<i64>,
    pub current_price: i64,
    pub leader_id: Option<i64>,
    pub bid_count: i32,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub is_national: bool,
    pub status: String,
    pub winner_id: Option<i64>,
    pub closed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Bids go up by the site's increment table (true) or by `bid_unit`.
    pub increment_table: bool,
    /// The secret lowest price the seller will sell at, if any.
    pub reserve_price: Option<i64>,
    /// The end the seller set, once a late bid has moved `ends_at` (soft close).
    pub original_ends_at: Option<NaiveDateTime>,
    /// How many times a late bid moved the end.
    pub extensions: i32,
    /// The leader's maximum (proxy bidding), held in full; `None`: the hold is the price.
    pub leader_max: Option<i64>,
}

impl Auction {
    pub fn status(&self) -> AuctionStatus {
        AuctionStatus::parse(&self.status).unwrap_or(AuctionStatus::Cancelled)
    }

    pub fn prices(&self) -> PriceState {
        PriceState {
            start_price: Won::from_stored(self.start_price),
            increment: if self.increment_table {
                Increment::Table
            } else {
                Increment::Fixed(Won::from_stored(self.bid_unit))
            },
            buy_now_price: self.buy_now_price.map(Won::from_stored),
            current_price: Won::from_stored(self.current_price),
            bid_count: self.bid_count,
        }
    }

    /// What the leader has held: their whole maximum.
    pub fn held(&self) -> i64 {
        self.leader_max.unwrap_or(self.current_price)
    }

    pub fn current_price(&self) -> Won {
        Won::from_stored(self.current_price)
    }

    pub fn buy_now(&self) -> Option<Won> {
        self.buy_now_price.map(Won::from_stored)
    }
}

/// A listing as typed, already parsed into domain values by the web layer.
#[derive(Debug, Clone)]
pub struct ListingDraft {
    pub title: Title,
    pub description: Description,
    pub category_id: i64,
    pub region_id: i64,
    pub start_price: Won,
    /// The site's increment table, or the seller's fixed unit.
    pub increment: Increment,
    pub buy_now_price: Option<Won>,
    /// The secret lowest price the seller will sell at.
    pub reserve_price: Option<Won>,
    /// `None`: now.
    pub starts_at: Option<NaiveDateTime>,
    pub ends_at: NaiveDateTime,
    pub is_national: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    #[error("{}", Msg::join(.0, crate::domain::lang::Lang::En))]
    Invalid(Vec<Msg>),
    #[error("This listing cannot be changed: it already has bids or has ended.")]
    Locked,
    #[error("This listing is not yours.")]
    NotYours,
    #[error("No such listing.")]
    NotFound,
    #[error("You can add at most {per_day} photos in 24 hours. List it without a photo, or try again later.")]
    TooManyPhotos { per_day: u32 },
    #[error("A listing can have at most {max} photos.")]
    PhotoLimit { max: u32 },
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl ListingError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::Invalid(reasons) => Msg::new("err.reasons").arg("0", reasons.clone()),
            Self::Locked => Msg::new("err.listing.locked"),
            Self::NotYours => Msg::new("err.listing.not_yours"),
            Self::NotFound => Msg::new("err.listing.not_found"),
            Self::TooManyPhotos { per_day } => {
                Msg::new("err.too_many_photos").arg("per_day", per_day)
            }
            Self::PhotoLimit { max } => Msg::new("photos.limit").arg("n", max),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(ListingError);

/// Every rule a listing must keep; all reasons at once.
pub fn check_draft(draft: &ListingDraft, reference: &Reference, now: NaiveDateTime) -> Vec<Msg> {
    let mut errors = Vec::new();
    if reference.category(draft.category_id).is_none() {
        errors.push(Msg::new("err.create_product.unknown_category"));
    }
    if reference
        .region(draft.region_id)
        .is_none_or(|r| r.level != 3)
    {
        errors.push(Msg::new("err.create_product.unknown_region"));
    }
    if let Increment::Fixed(unit) = draft.increment {
        if draft.start_price.get() % unit.get() != 0 {
            errors.push(Msg::new("err.listing.start_not_multiple").arg("unit", unit));
        }
    }
    if let Some(reserve) = draft.reserve_price {
        if reserve < draft.start_price {
            errors.push(Msg::new("err.listing.reserve_below_start"));
        }
        if draft.buy_now_price.is_some_and(|b| reserve >= b) {
            errors.push(Msg::new("err.listing.reserve_above_buy_now"));
        }
    }
    if let Some(buy_now) = draft.buy_now_price {
        if buy_now <= draft.start_price {
            errors.push(Msg::new("err.listing.buy_now_below_start"));
        }
    }
    let starts = draft.starts_at.unwrap_or(now);
    if draft.ends_at <= starts {
        errors.push(Msg::new("err.listing.ends_before_start"));
    }
    if draft.ends_at <= now {
        errors.push(Msg::new("err.listing.ends_in_past"));
    }
    if draft.ends_at > now + Duration::days(MAX_AHEAD_DAYS) {
        errors.push(Msg::new("err.listing.ends_too_far").arg("days", MAX_AHEAD_DAYS));
    }
    errors
}

/// Create (`edit: None`) or edit a listing with its new photos: the images, when there are
/// some, are stored under `uploads` first (and counted against the seller's photos per 24
/// hours and the listing's [`Uploads::per_listing`] in the listing's transaction) and removed
/// again if the listing cannot be saved. An edit adds its photos after the ones the listing
/// has. Returns the auction's id.
pub fn save_listing(
    conn: &mut DbConnection,
    reference: &Reference,
    uploads: &Uploads,
    seller_id: UserId,
    edit: Option<i64>,
    draft: &ListingDraft,
    images: &[Image],
) -> Result<i64, ListingError> {
    let now = crate::services::now();
    let stored = images::store_all(uploads, images)?;
    let max = uploads.per_listing;
    let result = match edit {
        None => create_listing_with(conn, reference, seller_id, draft, &stored, max, now),
        Some(id) => {
            edit_listing(conn, reference, id, seller_id, draft, &stored, max, now).map(|()| id)
        }
    };
    if result.is_err() {
        images::remove_all(&uploads.dir, &stored);
    }
    result
}

/// Add the listing's new photos (inside the listing's transaction).
fn add_photos(
    conn: &mut DbConnection,
    auction_id: i64,
    seller_id: UserId,
    stored: &[StoredPhoto],
    max: u32,
    now: NaiveDateTime,
) -> Result<(), ListingError> {
    match photos::add(
        conn,
        Owner::Auction(auction_id),
        seller_id,
        stored,
        max,
        now,
    )? {
        Ok(()) => Ok(()),
        Err(AddRefused::PerDay { per_day }) => Err(ListingError::TooManyPhotos { per_day }),
        Err(AddRefused::PerListing { max }) => Err(ListingError::PhotoLimit { max }),
    }
}

/// [`create_listing_with`] at most one photo (the site's default gallery size is plenty).
#[tracing::instrument(skip_all, fields(user.id = seller_id))]
pub fn create_listing(
    conn: &mut DbConnection,
    reference: &Reference,
    seller_id: UserId,
    draft: &ListingDraft,
    photo: Option<&StoredPhoto>,
    now: NaiveDateTime,
) -> Result<i64, ListingError> {
    let stored: Vec<StoredPhoto> = photo.into_iter().cloned().collect();
    create_listing_with(conn, reference, seller_id, draft, &stored, u32::MAX, now)
}

/// Create a listing with its photos (in order, at most `max`): `scheduled` when it starts in
/// the future, `active` otherwise.
#[tracing::instrument(skip_all, fields(user.id = seller_id))]
pub fn create_listing_with(
    conn: &mut DbConnection,
    reference: &Reference,
    seller_id: UserId,
    draft: &ListingDraft,
    stored: &[StoredPhoto],
    max: u32,
    now: NaiveDateTime,
) -> Result<i64, ListingError> {
    let errors = check_draft(draft, reference, now);
    if !errors.is_empty() {
        return Err(ListingError::Invalid(errors));
    }
    let starts_at = draft.starts_at.filter(|s| *s > now).unwrap_or(now);
    let status = if starts_at > now {
        AuctionStatus::Scheduled
    } else {
        AuctionStatus::Active
    };
    write_tx(conn, |conn| {
        let id: i64 = diesel::insert_into(auctions::table)
            .values((
                auctions::seller_id.eq(seller_id),
                auctions::title.eq(draft.title.as_str()),
                auctions::description.eq(draft.description.as_str()),
                auctions::category_id.eq(draft.category_id),
                auctions::region_id.eq(draft.region_id),
                auctions::start_price.eq(draft.start_price.get()),
                auctions::bid_unit.eq(unit_of(draft.increment)),
                auctions::increment_table.eq(draft.increment == Increment::Table),
                auctions::buy_now_price.eq(draft.buy_now_price.map(Won::get)),
                auctions::reserve_price.eq(draft.reserve_price.map(Won::get)),
                auctions::current_price.eq(draft.start_price.get()),
                auctions::bid_count.eq(0),
                auctions::starts_at.eq(starts_at),
                auctions::ends_at.eq(draft.ends_at),
                auctions::is_national.eq(draft.is_national),
                auctions::status.eq(status.as_str()),
                auctions::created_at.eq(now),
                auctions::updated_at.eq(now),
            ))
            .returning(auctions::id)
            .get_result(conn)?;
        add_photos(conn, id, seller_id, stored, max, now)?;
        Ok(id)
    })
}

/// Edit a listing and add `stored` after its photos (at most `max` in all): only its seller,
/// only while it has no bids and is open.
#[tracing::instrument(skip_all, fields(auction.id = auction_id, user.id = seller_id))]
#[expect(
    clippy::too_many_arguments,
    reason = "one use case's inputs, all needed"
)]
pub fn edit_listing(
    conn: &mut DbConnection,
    reference: &Reference,
    auction_id: i64,
    seller_id: UserId,
    draft: &ListingDraft,
    stored: &[StoredPhoto],
    max: u32,
    now: NaiveDateTime,
) -> Result<(), ListingError> {
    let errors = check_draft(draft, reference, now);
    if !errors.is_empty() {
        return Err(ListingError::Invalid(errors));
    }
    write_tx(conn, |conn| {
        let a: Auction = first_for_update!(
            conn,
            auctions::table
                .find(auction_id)
                .select(Auction::as_select())
        )?
        .ok_or(ListingError::NotFound)?;
        if a.seller_id != seller_id {
            return Err(ListingError::NotYours);
        }
        if a.bid_count > 0 || !a.status().is_open() {
            return Err(ListingError::Locked);
        }
        add_photos(conn, auction_id, seller_id, stored, max, now)?;
        let starts_at = draft.starts_at.filter(|s| *s > now).unwrap_or(now);
        let status = if starts_at > now {
            AuctionStatus::Scheduled
        } else {
            AuctionStatus::Active
        };
        diesel::update(auctions::table.find(auction_id))
            .set((
                auctions::title.eq(draft.title.as_str()),
                auctions::description.eq(draft.description.as_str()),
                auctions::category_id.eq(draft.category_id),
                auctions::region_id.eq(draft.region_id),
                auctions::start_price.eq(draft.start_price.get()),
                auctions::bid_unit.eq(unit_of(draft.increment)),
                auctions::increment_table.eq(draft.increment == Increment::Table),
                auctions::buy_now_price.eq(draft.buy_now_price.map(Won::get)),
                auctions::reserve_price.eq(draft.reserve_price.map(Won::get)),
                auctions::current_price.eq(draft.start_price.get()),
                auctions::starts_at.eq(starts_at),
                auctions::ends_at.eq(draft.ends_at),
                auctions::is_national.eq(draft.is_national),
                auctions::status.eq(status.as_str()),
                auctions::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// The stored `bid_unit`: the seller's unit, or the table's first step (unused then).
fn unit_of(increment: Increment) -> i64 {
    match increment {
        Increment::Fixed(unit) => unit.get(),
        Increment::Table => 1_000,
    }
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Auction>> {
    auctions::table
        .find(id)
        .select(Auction::as_select())
        .first(conn)
        .optional()
}

/// The seller of an auction (one query; checked before an edit's upload is read).
pub fn seller_of(conn: &mut DbConnection, id: i64) -> QueryResult<Option<UserId>> {
    auctions::table
        .find(id)
        .select(auctions::seller_id)
        .first(conn)
        .optional()
}

/// An auction and its seller's display name, in one query.
pub fn find_with_seller(
    conn: &mut DbConnection,
    id: i64,
) -> QueryResult<Option<(Auction, String)>> {
    auctions::table
        .inner_join(users::table.on(users::id.eq(auctions::seller_id)))
        .filter(auctions::id.eq(id))
        .select((Auction::as_select(), users::display_name))
        .first(conn)
        .optional()
}

/// One line of an auction's bid history.
#[derive(Debug, Clone, Queryable)]
pub struct BidLine {
    pub amount: i64,
    pub is_buy_now: bool,
    pub bidder_id: i64,
    pub bidder_name: String,
    pub created_at: NaiveDateTime,
    /// Placed by the site for the leader's maximum (proxy bidding), not typed by them.
    pub is_auto: bool,
}

/// The newest `limit` bids of an auction, newest first.
pub fn bid_history(
    conn: &mut DbConnection,
    auction_id: i64,
    limit: i64,
) -> QueryResult<Vec<BidLine>> {
    bids::table
        .inner_join(users::table)
        .filter(bids::auction_id.eq(auction_id))
        .order(bids::id.desc())
        .limit(limit)
        .select((
            bids::amount,
            bids::is_buy_now,
            bids::bidder_id,
            users::display_name,
            bids::created_at,
            bids::is_auto,
        ))
        .load(conn)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    EndingSoon,
    Newest,
    PriceUp,
    PriceDown,
}

impl Sort {
    pub fn parse(s: &str) -> Sort {
        match s {
            "newest" => Sort::Newest,
            "price_up" => Sort::PriceUp,
            "price_down" => Sort::PriceDown,
            _ => Sort::EndingSoon,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::EndingSoon => "ending",
            Sort::Newest => "newest",
            Sort::PriceUp => "price_up",
            Sort::PriceDown => "price_down",
        }
    }
}

/// What the browse page asks for.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub text: Option<String>,
    /// The chosen region and every region under it.
    pub region_ids: Option<Vec<i64>>,
    pub category_id: Option<i64>,
    pub national: Option<bool>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// Open (scheduled or active) auctions, or closed ones.
    pub ended: bool,
    pub sort: Sort,
    pub page: i64,
}

pub const PER_PAGE: i64 = 20;

macro_rules! filtered {
    ($f:expr) => {{
        let f: &ListFilter = $f;
        let mut q = auctions::table.into_boxed();
        q = if f.ended {
            q.filter(auctions::status.eq_any(["sold", "no_bids", "cancelled"]))
        } else {
            q.filter(auctions::status.eq_any(["scheduled", "active"]))
        };
        if let Some(text) = &f.text {
            q = q.filter(lower(auctions::title).like(like_pattern(text)).escape('\\'));
        }
        if let Some(ids) = &f.region_ids {
            q = q.filter(auctions::region_id.eq_any(ids.clone()));
        }
        if let Some(c) = f.category_id {
            q = q.filter(auctions::category_id.eq(c));
        }
        if let Some(n) = f.national {
            q = q.filter(auctions::is_national.eq(n));
        }
        if let Some(min) = f.min_price {
            q = q.filter(auctions::current_price.ge(min));
        }
        if let Some(max) = f.max_price {
            q = q.filter(auctions::current_price.le(max));
        }
        q
    }};
}

/// One page of listings and the number of matches: two queries, whatever the page holds.
pub fn browse(conn: &mut DbConnection, f: &ListFilter) -> QueryResult<(Vec<Auction>, i64)> {
    let (rows, total) = browse_starred(conn, f, None)?;
    Ok((rows.into_iter().map(|(a, _)| a).collect(), total))
}

/// [`browse`], each listing with whether `viewer` watches it (the star on its card), in the
/// same two queries.
pub fn browse_starred(
    conn: &mut DbConnection,
    f: &ListFilter,
    viewer: Option<UserId>,
) -> QueryResult<(Vec<(Auction, bool)>, i64)> {
    use crate::db::schema::watchlist;
    let total: i64 = filtered!(f).count().get_result(conn)?;
    // No member has id 0: a visitor watches nothing.
    let starred = diesel::dsl::exists(
        watchlist::table
            .filter(watchlist::auction_id.eq(auctions::id))
            .filter(watchlist::user_id.eq(viewer.unwrap_or(0))),
    );
    let mut q = filtered!(f).select((Auction::as_select(), starred));
    q = match f.sort {
        Sort::EndingSoon if f.ended => q.order((auctions::ends_at.desc(), auctions::id.desc())),
        Sort::EndingSoon => q.order((auctions::ends_at.asc(), auctions::id.asc())),
        Sort::Newest => q.order(auctions::id.desc()),
        Sort::PriceUp => q.order((auctions::current_price.asc(), auctions::id.asc())),
        Sort::PriceDown => q.order((auctions::current_price.desc(), auctions::id.desc())),
    };
    let rows = q
        .limit(PER_PAGE)
        .offset((f.page.max(1) - 1).saturating_mul(PER_PAGE))
        .load(conn)?;
    Ok((rows, total))
}

/// A seller's listings, newest first.
pub fn listings_of(conn: &mut DbConnection, seller_id: UserId) -> QueryResult<Vec<Auction>> {
    auctions::table
        .filter(auctions::seller_id.eq(seller_id))
        .order(auctions::id.desc())
        .select(Auction::as_select())
        .load(conn)
}

/// Every auction a user bid on, with the most they offered (their highest maximum, or their
/// highest bid where no maximum was kept), newest auction first. For the user's own eyes only.
pub fn bids_of(conn: &mut DbConnection, user_id: UserId) -> QueryResult<Vec<(Auction, i64)>> {
    let mine: Vec<(i64, Option<i64>, Option<i64>)> = bids::table
        .filter(bids::bidder_id.eq(user_id))
        .group_by(bids::auction_id)
        .select((
            bids::auction_id,
            diesel::dsl::max(bids::amount),
            diesel::dsl::max(bids::max_amount),
        ))
        .load(conn)?;
    let mine: Vec<(i64, Option<i64>)> = mine
        .into_iter()
        .map(|(id, bid, max)| (id, bid.max(max)))
        .collect();
    let ids: Vec<i64> = mine.iter().map(|(id, _)| *id).collect();
    let list = auctions::table
        .filter(auctions::id.eq_any(&ids))
        .order(auctions::id.desc())
        .select(Auction::as_select())
        .load(conn)?;
    Ok(list
        .into_iter()
        .map(|a| {
            let top = mine
                .iter()
                .find(|(id, _)| *id == a.id)
                .and_then(|(_, m)| *m)
                .unwrap_or(0);
            (a, top)
        })
        .collect())
}

/// Open auctions whose end has passed (the admin's Close list), soonest first.
pub fn past_end(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Auction>> {
    auctions::table
        .filter(auctions::status.eq_any(["scheduled", "active"]))
        .filter(auctions::ends_at.le(now))
        .order(auctions::ends_at.asc())
        .limit(limit)
        .select(Auction::as_select())
        .load(conn)
}

/// Open auctions, ending soonest first (the admin's Cancel list).
pub fn open_auctions(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<Auction>> {
    auctions::table
        .filter(auctions::status.eq_any(["scheduled", "active"]))
        .order(auctions::ends_at.asc())
        .limit(limit)
        .select(Auction::as_select())
        .load(conn)
}
