//! List a product (with its photo) and change the price of the units still for sale.

use crate::domain::msg::Msg;
use diesel::prelude::*;

use crate::db::schema::{categories, products};
use crate::db::{write_tx, DbConnection};
use crate::domain::image::Image;
use crate::domain::market::{CategoryId, ProductId, ProductStatus, Quantity};
use crate::domain::{Description, RegionId, Title, UserId, Won};
use crate::services::now;

use super::*;

// ---------------------------------------------------------------- list a product

/// A product ready to list: every field already parsed.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub name: Title,
    pub description: Description,
    pub price: Won,
    pub quantity: Quantity,
    pub category_id: CategoryId,
    pub region_id: RegionId,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateProductError {
    #[error("Choose a category from the list.")]
    UnknownCategory,
    #[error("Choose a neighbourhood from the list.")]
    UnknownRegion,
    #[error("You can add at most {per_day} photos in 24 hours. List it without a photo, or try again later.")]
    TooManyPhotos { per_day: u32 },
    #[error("A listing can have at most {max} photos.")]
    PhotoLimit { max: u32 },
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl CreateProductError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::UnknownCategory => Msg::new("err.create_product.unknown_category"),
            Self::UnknownRegion => Msg::new("err.create_product.unknown_region"),
            Self::TooManyPhotos { per_day } => {
                Msg::new("err.too_many_photos").arg("per_day", per_day)
            }
            Self::PhotoLimit { max } => Msg::new("photos.limit").arg("n", max),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(CreateProductError);

/// List a product with its photos (in order). The images are stored under `uploads` first
/// (and counted against the seller's photos per 24 hours and [`Uploads::per_listing`] in the
/// same transaction) and removed again if the product cannot be created.
///
/// [`Uploads::per_listing`]: crate::services::images::Uploads::per_listing
#[tracing::instrument(skip_all, fields(user.id = seller_id))]
pub fn create_product(
    conn: &mut DbConnection,
    uploads: &crate::services::images::Uploads,
    seller_id: UserId,
    new: &NewProduct,
    images: &[Image],
) -> Result<ProductId, CreateProductError> {
    use crate::services::photos::{self, AddRefused, Owner};
    let stored = crate::services::images::store_all(uploads, images)?;
    let result = write_tx(conn, |conn| {
        let category: Option<i64> = categories::table
            .find(new.category_id)
            .select(categories::id)
            .first(conn)
            .optional()?;
        if category.is_none() {
            return Err(CreateProductError::UnknownCategory);
        }
        if !crate::services::reference::is_neighbourhood(conn, new.region_id)? {
            return Err(CreateProductError::UnknownRegion);
        }
        let at = now();
        let id: i64 = diesel::insert_into(products::table)
            .values((
                products::seller_id.eq(seller_id),
                products::name.eq(new.name.as_str()),
                products::description.eq(new.description.as_str()),
                products::price.eq(new.price.get()),
                products::quantity.eq(new.quantity.get()),
                products::units_left.eq(new.quantity.get()),
                products::status.eq(ProductStatus::OnSale.as_str()),
                products::category_id.eq(new.category_id),
                products::region_id.eq(new.region_id),
                products::created_at.eq(at),
                products::updated_at.eq(at),
            ))
            .returning(products::id)
            .get_result(conn)?;
        match photos::add(
            conn,
            Owner::Product(id),
            seller_id,
            &stored,
            uploads.per_listing,
            at,
        )? {
            Ok(()) => Ok(id),
            Err(AddRefused::PerDay { per_day }) => {
                Err(CreateProductError::TooManyPhotos { per_day })
            }
            Err(AddRefused::PerListing { max }) => Err(CreateProductError::PhotoLimit { max }),
        }
    });
    if result.is_err() {
        crate::services::images::remove_all(&uploads.dir, &stored);
    }
    result
}

// ---------------------------------------------------------------- change the price

#[derive(Debug, thiserror::Error)]
pub enum ChangePriceError {
    #[error("This product does not exist.")]
    NotFound,
    #[error("Only the seller can change the price.")]
    NotSeller,
    #[error("Every unit is sold; the price can no longer change.")]
    Completed,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl ChangePriceError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.no_such_product"),
            Self::NotSeller => Msg::new("err.change_price.not_seller"),
            Self::Completed => Msg::new("err.change_price.completed"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(ChangePriceError);

/// Set a new price for the units still to be sold; existing trades keep their price.
#[tracing::instrument(skip(conn), fields(user.id = seller_id, product.id = product_id))]
pub fn change_price(
    conn: &mut DbConnection,
    product_id: ProductId,
    seller_id: UserId,
    price: Won,
) -> Result<(), ChangePriceError> {
    write_tx(conn, |conn| {
        let product = lock_product(conn, product_id)?.ok_or(ChangePriceError::NotFound)?;
        if product.seller_id != seller_id {
            return Err(ChangePriceError::NotSeller);
        }
        if product.status() == ProductStatus::Completed {
            return Err(ChangePriceError::Completed);
        }
        diesel::update(products::table.find(product_id))
            .set((
                products::price.eq(price.get()),
                products::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    })
}
