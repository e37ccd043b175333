//! Photo galleries: up to `Settings::photos_per_listing` photos per auction or product, in
//! the seller's order. The first is the listing's cover (`auctions.image_name`,
//! `products.image_path`), kept in step by every transaction that adds, moves or deletes one.
//!
//! Adding happens inside the listing's own transaction ([`add`]); moving and deleting are use
//! cases of their own ([`move_photo`], [`delete_photo`]) that lock the listing row first, so
//! two of them at once cannot interleave, and follow the listing's edit rule (an auction with
//! a bid or closed, a sold-out product: locked).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{auctions, listing_photos, products};
use crate::db::{write_tx, DbConnection};
use crate::domain::auction::AuctionStatus;
use crate::domain::market::ProductStatus;
use crate::domain::msg::Msg;
use crate::domain::UserId;
use crate::first_for_update;
use crate::services::images::{self, StoredPhoto};

/// Whose photos: an auction or a market product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Auction(i64),
    Product(i64),
}

/// One photo of a gallery, in order.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = listing_photos)]
pub struct Photo {
    pub id: i64,
    pub auction_id: Option<i64>,
    pub product_id: Option<i64>,
    pub position: i32,
    pub name: String,
}

impl Photo {
    fn owner(&self) -> Option<Owner> {
        match (self.auction_id, self.product_id) {
            (Some(a), None) => Some(Owner::Auction(a)),
            (None, Some(p)) => Some(Owner::Product(p)),
            _ => None,
        }
    }
}

macro_rules! of_owner {
    ($owner:expr) => {{
        let q = listing_photos::table.into_boxed();
        match $owner {
            Owner::Auction(id) => q.filter(listing_photos::auction_id.eq(id)),
            Owner::Product(id) => q.filter(listing_photos::product_id.eq(id)),
        }
    }};
}

/// A listing's photos, first to last.
pub fn list(conn: &mut DbConnection, owner: Owner) -> QueryResult<Vec<Photo>> {
    of_owner!(owner)
        .order((listing_photos::position.asc(), listing_photos::id.asc()))
        .select(Photo::as_select())
        .load(conn)
}

/// How many photos a listing has (checked before an upload is decoded; [`add`] checks again
/// with the listing locked).
pub fn count(conn: &mut DbConnection, owner: Owner) -> QueryResult<i64> {
    of_owner!(owner).count().get_result(conn)
}

/// Why [`add`] kept none of the photos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddRefused {
    /// The listing would have more than `max` photos.
    PerListing { max: u32 },
    /// The seller would have added more than `per_day` photos in 24 hours.
    PerDay { per_day: u32 },
}

/// Append stored photos to a listing, inside the caller's transaction (which has locked the
/// listing row, or just inserted it): each is counted against the seller's photos per 24
/// hours, the listing may hold at most `max`, and the cover follows. `Ok(Err(_))`: a limit
/// would be passed; the caller rolls back, so none is kept.
pub fn add(
    conn: &mut DbConnection,
    owner: Owner,
    seller_id: UserId,
    photos: &[StoredPhoto],
    max: u32,
    now: NaiveDateTime,
) -> QueryResult<Result<(), AddRefused>> {
    if photos.is_empty() {
        return Ok(Ok(()));
    }
    let existing = list(conn, owner)?;
    if existing.len() + photos.len() > max as usize {
        return Ok(Err(AddRefused::PerListing { max }));
    }
    let after = existing.last().map_or(0, |p| p.position + 1);
    for (position, photo) in (after..).zip(photos) {
        if !images::record(conn, seller_id, photo, now)? {
            return Ok(Err(AddRefused::PerDay {
                per_day: photo.per_day,
            }));
        }
        let (auction_id, product_id) = match owner {
            Owner::Auction(id) => (Some(id), None),
            Owner::Product(id) => (None, Some(id)),
        };
        diesel::insert_into(listing_photos::table)
            .values((
                listing_photos::auction_id.eq(auction_id),
                listing_photos::product_id.eq(product_id),
                listing_photos::position.eq(position),
                listing_photos::name.eq(&photo.name),
                listing_photos::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    set_cover(conn, owner)?;
    Ok(Ok(()))
}

/// Remove every photo row of a listing (it is cancelled), inside the caller's transaction;
/// returns the file names, to delete once the transaction has committed.
pub fn take_all(conn: &mut DbConnection, owner: Owner) -> QueryResult<Vec<String>> {
    let names = list(conn, owner)?.into_iter().map(|p| p.name).collect();
    match owner {
        Owner::Auction(id) => {
            diesel::delete(listing_photos::table.filter(listing_photos::auction_id.eq(id)))
                .execute(conn)?
        }
        Owner::Product(id) => {
            diesel::delete(listing_photos::table.filter(listing_photos::product_id.eq(id)))
                .execute(conn)?
        }
    };
    set_cover(conn, owner)?;
    Ok(names)
}

/// The listing's cover: the name of its first photo, or none.
fn set_cover(conn: &mut DbConnection, owner: Owner) -> QueryResult<()> {
    let first = list(conn, owner)?.into_iter().next().map(|p| p.name);
    match owner {
        Owner::Auction(id) => diesel::update(auctions::table.find(id))
            .set(auctions::image_name.eq(first))
            .execute(conn)?,
        Owner::Product(id) => diesel::update(products::table.find(id))
            .set(products::image_path.eq(first))
            .execute(conn)?,
    };
    Ok(())
}

/// Where a photo goes in its gallery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    First,
    Earlier,
    Later,
}

impl Move {
    /// The form's `to` field: `first`, `earlier` or `later`.
    pub fn parse(s: &str) -> Option<Move> {
        match s.trim() {
            "first" => Some(Move::First),
            "earlier" => Some(Move::Earlier),
            "later" => Some(Move::Later),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("No such photo.")]
    NotFound,
    #[error("Only the seller can change these photos.")]
    NotYours,
    #[error("These photos cannot be changed any more: the listing already has bids, has ended or is sold out.")]
    Locked,
    #[error("A listing can have at most {max} photos.")]
    PhotoLimit { max: u32 },
    #[error("You can add at most {per_day} photos in 24 hours. Try again later.")]
    TooManyPhotos { per_day: u32 },
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
crate::unexpected_error!(PhotoError);

/// Lock the photo's listing row (first, as every use case on a listing does), check that
/// `seller_id` may change its photos, and return the photo's owner.
fn lock_for_change(
    conn: &mut DbConnection,
    photo_id: i64,
    seller_id: UserId,
) -> Result<Owner, PhotoError> {
    let owner = owner_of(conn, photo_id)?.ok_or(PhotoError::NotFound)?;
    lock_listing(conn, owner, seller_id)?;
    Ok(owner)
}

/// The seller of a listing (one query; checked before an upload is read).
pub fn seller_of(conn: &mut DbConnection, owner: Owner) -> QueryResult<Option<UserId>> {
    match owner {
        Owner::Auction(id) => auctions::table
            .find(id)
            .select(auctions::seller_id)
            .first(conn)
            .optional(),
        Owner::Product(id) => products::table
            .find(id)
            .select(products::seller_id)
            .first(conn)
            .optional(),
    }
}

/// Whether a listing's photos may still change: an auction without bids that is open, a
/// product not sold out.
pub fn is_editable(conn: &mut DbConnection, owner: Owner) -> QueryResult<bool> {
    Ok(match owner {
        Owner::Auction(id) => {
            let row: Option<(i32, String)> = auctions::table
                .find(id)
                .select((auctions::bid_count, auctions::status))
                .first(conn)
                .optional()?;
            row.is_some_and(|(bids, status)| {
                bids == 0 && AuctionStatus::parse(&status).is_some_and(|s| s.is_open())
            })
        }
        Owner::Product(id) => {
            let status: Option<String> = products::table
                .find(id)
                .select(products::status)
                .first(conn)
                .optional()?;
            status.is_some_and(|s| ProductStatus::parse(&s) != Some(ProductStatus::Completed))
        }
    })
}

/// Lock a listing row and check that `seller_id` may change its photos now.
fn lock_listing(
    conn: &mut DbConnection,
    owner: Owner,
    seller_id: UserId,
) -> Result<(), PhotoError> {
    let (seller, editable) = match owner {
        Owner::Auction(id) => {
            let (seller, bids, status): (i64, i32, String) = first_for_update!(
                conn,
                auctions::table.find(id).select((
                    auctions::seller_id,
                    auctions::bid_count,
                    auctions::status
                ))
            )?
            .ok_or(PhotoError::NotFound)?;
            let open = AuctionStatus::parse(&status).is_some_and(|s| s.is_open());
            (seller, bids == 0 && open)
        }
        Owner::Product(id) => {
            let (seller, status): (i64, String) = first_for_update!(
                conn,
                products::table
                    .find(id)
                    .select((products::seller_id, products::status))
            )?
            .ok_or(PhotoError::NotFound)?;
            (
                seller,
                ProductStatus::parse(&status) != Some(ProductStatus::Completed),
            )
        }
    };
    if seller != seller_id {
        return Err(PhotoError::NotYours);
    }
    if !editable {
        return Err(PhotoError::Locked);
    }
    Ok(())
}

/// Add photos after a listing's others (the product's photo page): stored first, then counted
/// and recorded with the listing locked; on any refusal nothing is kept, neither file nor row.
#[tracing::instrument(skip(conn, uploads, images), fields(user.id = seller_id))]
pub fn add_photos(
    conn: &mut DbConnection,
    uploads: &images::Uploads,
    owner: Owner,
    seller_id: UserId,
    images: &[crate::domain::image::Image],
) -> Result<(), PhotoError> {
    let stored = images::store_all(uploads, images)?;
    let now = crate::services::now();
    let result = write_tx(conn, |conn| {
        lock_listing(conn, owner, seller_id)?;
        match add(conn, owner, seller_id, &stored, uploads.per_listing, now)? {
            Ok(()) => Ok(()),
            Err(AddRefused::PerListing { max }) => Err(PhotoError::PhotoLimit { max }),
            Err(AddRefused::PerDay { per_day }) => Err(PhotoError::TooManyPhotos { per_day }),
        }
    });
    if result.is_err() {
        images::remove_all(&uploads.dir, &stored);
    }
    result
}

/// The owner of a photo (where to send the seller back to), without locking anything.
pub fn owner_of(conn: &mut DbConnection, photo_id: i64) -> QueryResult<Option<Owner>> {
    Ok(listing_photos::table
        .find(photo_id)
        .select(Photo::as_select())
        .first(conn)
        .optional()?
        .and_then(|p| p.owner()))
}

/// Move a photo first, one place earlier or one later; only the seller, only while the
/// listing may be edited. Returns the listing.
#[tracing::instrument(skip(conn), fields(photo.id = photo_id, user.id = seller_id))]
pub fn move_photo(
    conn: &mut DbConnection,
    photo_id: i64,
    seller_id: UserId,
    to: Move,
) -> Result<Owner, PhotoError> {
    write_tx(conn, |conn| {
        let owner = lock_for_change(conn, photo_id, seller_id)?;
        let mut order = list(conn, owner)?;
        let at = order
            .iter()
            .position(|p| p.id == photo_id)
            .ok_or(PhotoError::NotFound)?;
        match to {
            Move::First => {
                let photo = order.remove(at);
                order.insert(0, photo);
            }
            Move::Earlier if at > 0 => order.swap(at, at - 1),
            Move::Later if at + 1 < order.len() => order.swap(at, at + 1),
            Move::Earlier | Move::Later => {}
        }
        for (i, photo) in order.iter().enumerate() {
            let position = i32::try_from(i).unwrap_or(i32::MAX);
            if photo.position != position {
                diesel::update(listing_photos::table.find(photo.id))
                    .set(listing_photos::position.eq(position))
                    .execute(conn)?;
            }
        }
        set_cover(conn, owner)?;
        Ok(owner)
    })
}

/// Delete a photo (its files go once the deletion has committed); only the seller, only while
/// the listing may be edited. Returns the listing.
#[tracing::instrument(skip(conn, uploads), fields(photo.id = photo_id, user.id = seller_id))]
pub fn delete_photo(
    conn: &mut DbConnection,
    uploads: &std::path::Path,
    photo_id: i64,
    seller_id: UserId,
) -> Result<Owner, PhotoError> {
    let (owner, name) = write_tx(conn, |conn| {
        let owner = lock_for_change(conn, photo_id, seller_id)?;
        let name: String = listing_photos::table
            .find(photo_id)
            .select(listing_photos::name)
            .first(conn)?;
        diesel::delete(listing_photos::table.find(photo_id)).execute(conn)?;
        set_cover(conn, owner)?;
        Ok::<_, PhotoError>((owner, name))
    })?;
    images::remove(uploads, &name);
    Ok(owner)
}

impl PhotoError {
    /// The reason in the reader's language; `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("photos.err_not_found"),
            Self::NotYours => Msg::new("photos.err_not_yours"),
            Self::Locked => Msg::new("photos.err_locked"),
            Self::PhotoLimit { max } => Msg::new("photos.limit").arg("n", max),
            Self::TooManyPhotos { per_day } => {
                Msg::new("photos.err_per_day").arg("per_day", per_day)
            }
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
