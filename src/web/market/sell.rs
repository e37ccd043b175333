//! List a product: the new-product form (multipart, with an optional photo).

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::domain::market::{parse_price, Quantity};
use crate::domain::msg::Msg;
use crate::domain::{Description, Title, TitleField};
use crate::services::market::{self as market_service, CreateProductError, NewProduct};
use crate::services::reference::{Category, RegionGroup};
use crate::web::session::flash;
use crate::web::upload::{read_multipart, MultipartForm};
use crate::web::{db, render, see_other, AppError, AppState, Ctx, SessionUser};

// ---------------------------------------------------------------- list a product

/// The new-product form, blank or re-rendered with the reasons it was refused.
#[derive(Template)]
#[template(path = "market/new.html")]
pub struct NewPage {
    pub ctx: Ctx,
    pub errors: Vec<String>,
    pub form: ProductForm,
    pub category_id: i64,
    pub region_id: i64,
    pub categories: Vec<Category>,
    pub groups: Vec<RegionGroup>,
    /// Photos a product may have.
    pub max_photos: u32,
}

/// What the new-product form sent (multipart: `name`, `description`, `price`, `quantity`,
/// `category_id`, `region_id`, `image`).
#[derive(Debug, Default)]
pub struct ProductForm {
    pub name: String,
    pub description: String,
    pub price: String,
    pub quantity: String,
    pub category_id: String,
    pub region_id: String,
    /// How many photos were sent.
    pub photos_sent: usize,
}

impl ProductForm {
    /// The typed values, clipped, for re-rendering (a 10 KB name is not echoed back whole).
    fn clipped(&self) -> ProductForm {
        let clip = |s: &str, n: usize| s.chars().take(n).collect::<String>();
        ProductForm {
            name: clip(&self.name, 120),
            description: clip(&self.description, 5_100),
            price: clip(&self.price, 30),
            quantity: clip(&self.quantity, 10),
            ..ProductForm::default()
        }
    }
}

impl From<&MultipartForm> for ProductForm {
    fn from(form: &MultipartForm) -> Self {
        ProductForm {
            name: form.text("name"),
            description: form.text("description"),
            price: form.text("price"),
            quantity: form.text("quantity"),
            category_id: form.text("category_id"),
            region_id: form.text("region_id"),
            photos_sent: form.file_count(crate::web::photos::FIELD),
        }
    }
}

async fn new_page(
    ctx: Ctx,
    state: &AppState,
    status: StatusCode,
    errors: Vec<Msg>,
    form: ProductForm,
) -> Result<HttpResponse, AppError> {
    let user_region = ctx.require_user()?.region_id;
    let categories = state.reference.categories.clone();
    let groups = state.reference.neighbourhood_groups();
    let category_id = form.category_id.trim().parse().unwrap_or(0);
    let region_id = form.region_id.trim().parse().unwrap_or(user_region);
    render(
        status,
        &NewPage {
            errors: Msg::texts(&errors, ctx.lang),
            ctx,
            form: form.clipped(),
            category_id,
            region_id,
            categories,
            groups,
            max_photos: state.settings.photos_per_listing,
        },
    )
}

pub async fn new_form(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let form = ProductForm {
        quantity: "1".to_owned(),
        ..ProductForm::default()
    };
    new_page(ctx, &state, StatusCode::OK, vec![], form).await
}

#[tracing::instrument(skip_all, fields(user.id = user.id))]
pub async fn create(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let _slot = crate::web::upload::upload_slot(&state).await?;
    let mut multipart = read_multipart(payload).await?;
    let form = ProductForm::from(&multipart);
    let mut errors = Vec::new();
    let name = Title::parse(&form.name, TitleField::ProductName)
        .map_err(|e| errors.push(e))
        .ok();
    let description = Description::parse(&form.description, false)
        .map_err(|e| errors.push(e))
        .ok();
    let price = parse_price(&form.price).map_err(|e| errors.push(e)).ok();
    let quantity = Quantity::parse(&form.quantity)
        .map_err(|e| errors.push(e))
        .ok();
    let category_id = form.category_id.trim().parse::<i64>().ok();
    if category_id.is_none() {
        errors.push(CreateProductError::UnknownCategory.msg());
    }
    let region_id = form.region_id.trim().parse::<i64>().ok();
    if region_id.is_none() {
        errors.push(CreateProductError::UnknownRegion.msg());
    }
    let max = state.settings.photos_per_listing;
    let images = if form.photos_sent == 0 {
        vec![]
    } else if form.photos_sent > max as usize {
        errors.push(crate::web::photos::photo_limit(max));
        vec![]
    } else if !crate::web::upload::may_add_photos(&state, user.id, form.photos_sent).await? {
        let per_day = state.settings.uploads_per_day;
        errors.push(CreateProductError::TooManyPhotos { per_day }.msg());
        vec![]
    } else {
        match multipart.take_images(crate::web::photos::FIELD).await? {
            Ok(images) => images,
            Err(e) => {
                errors.push(e);
                vec![]
            }
        }
    };
    drop(multipart);

    if let (Some(name), Some(description), Some(price), Some(quantity), Some(c), Some(r)) =
        (name, description, price, quantity, category_id, region_id)
    {
        if errors.is_empty() {
            let new = NewProduct {
                name,
                description,
                price,
                quantity,
                category_id: c,
                region_id: r,
            };
            let uploads = crate::services::images::Uploads::new(&state.settings);
            let seller = user.id;
            let result = db(&state, move |conn| {
                market_service::create_product(conn, &uploads, seller, &new, &images)
            })
            .await;
            match result {
                Ok(id) => {
                    flash(&user.session, "success", Msg::new("flash.market.listed"));
                    return Ok(see_other(&format!("/market/{id}")));
                }
                Err(e) => errors.extend(AppError::from(e).into_msgs()?),
            }
        }
    }
    if form.photos_sent > 0 {
        errors.push(Msg::new("err.image.choose_again"));
    }
    let ctx = Ctx::load(&req).await?;
    new_page(ctx, &state, StatusCode::UNPROCESSABLE_ENTITY, errors, form).await
}
