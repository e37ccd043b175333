//! Auction pages: browse, look, list (create/edit/cancel), bid, buy now, my listings, my bids,
//! and the live panel's socket ([`live`]).

pub mod live;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{NaiveDateTime, TimeZone as _};
use serde::Deserialize;

use crate::domain::account::is_invisible_or_control;
use crate::domain::auction::{time_left, window, AuctionStatus, Window};
use crate::domain::image::{is_safe_upload_name, thumb_name};
use crate::domain::{AmountError, Won};
use crate::services::auctions::{
    self, Auction, ListFilter, ListingDraft, ListingError, Sort, PER_PAGE,
};
use crate::services::bidding::{self, Canceller};
use crate::services::reference::{Category, Reference, RegionGroup};
use crate::services::{images, now};
use crate::views::auction::{load_auction_and_state, AuctionState};
use crate::web::session::flash;
use crate::web::upload::{read_multipart, MultipartForm};
use crate::web::{db, page_number, render, see_other, AppError, AppState, Ctx, SessionUser};

// ------------------------------------------------------------------ browse

/// One card on a list page.
pub struct Card {
    pub id: i64,
    pub title: String,
    pub image: Option<String>,
    pub is_national: bool,
    pub price: Won,
    pub bid_count: i32,
    pub time_left: String,
    pub status_label: &'static str,
    pub open: bool,
}

impl Card {
    fn new(a: &Auction, at: NaiveDateTime) -> Card {
        let status = a.status();
        Card {
            id: a.id,
            title: a.title.clone(),
            image: a.image_name.as_deref().map(thumb_name),
            is_national: a.is_national,
            price: a.current_price(),
            bid_count: a.bid_count,
            time_left: match (status.is_open(), window(a.starts_at, a.ends_at, at)) {
                (true, Window::NotStarted) => "starts soon".to_owned(),
                (true, _) => time_left(a.ends_at, at),
                (false, _) => status.label().to_owned(),
            },
            status_label: status.label(),
            open: status.is_open(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BrowseQuery {
    pub q: String,
    pub region: String,
    pub category: String,
    pub scope: String,
    pub min_price: String,
    pub max_price: String,
    pub sort: String,
    pub status: String,
    pub page: String,
}

/// `/` and `/auctions`: filters, cards, pagination.
#[derive(Template)]
#[template(path = "auctions/list.html")]
pub struct ListPage {
    pub ctx: Ctx,
    pub cards: Vec<Card>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub query: BrowseQuery,
    pub regions: Vec<(i64, String, i32)>,
    pub categories: Vec<Category>,
    pub region_id: i64,
    pub category_id: i64,
    pub prev_link: Option<String>,
    pub next_link: Option<String>,
    pub is_home: bool,
}

fn opt_id(s: &str) -> Option<i64> {
    s.trim().parse::<i64>().ok().filter(|n| *n > 0)
}

fn opt_price(s: &str) -> Option<i64> {
    Won::parse(s).ok().map(Won::get)
}

pub async fn browse(
    req: HttpRequest,
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<BrowseQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let reference = state.reference.clone();
    let region_id = opt_id(&query.region).filter(|id| reference.region(*id).is_some());
    let category_id = opt_id(&query.category);
    let page = page_number(&query.page);
    let text = query.q.trim();
    let filter = ListFilter {
        text: (!text.is_empty()).then(|| text.chars().take(100).collect()),
        region_ids: region_id.map(|id| reference.with_descendants(id)),
        category_id,
        national: match query.scope.as_str() {
            "national" => Some(true),
            "local" => Some(false),
            _ => None,
        },
        min_price: opt_price(&query.min_price),
        max_price: opt_price(&query.max_price),
        ended: query.status == "ended",
        sort: Sort::parse(&query.sort),
        page,
    };
    let (rows, total) = db(&state, move |conn| {
        auctions::browse(conn, &filter).map_err(anyhow::Error::new)
    })
    .await?;
    let at = now();
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let link = |p: i64| {
        let mut pairs: Vec<(&str, String)> = vec![
            ("q", query.q.clone()),
            ("region", query.region.clone()),
            ("category", query.category.clone()),
            ("scope", query.scope.clone()),
            ("min_price", query.min_price.clone()),
            ("max_price", query.max_price.clone()),
            ("sort", query.sort.clone()),
            ("status", query.status.clone()),
        ];
        pairs.retain(|(_, v)| !v.is_empty());
        pairs.push(("page", p.to_string()));
        format!(
            "/auctions?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    };
    let page_view = ListPage {
        cards: rows.iter().map(|a| Card::new(a, at)).collect(),
        total,
        page,
        pages,
        regions: reference
            .regions
            .iter()
            .map(|r| (r.id, r.full_name.clone(), r.level))
            .collect(),
        categories: reference.categories.clone(),
        region_id: region_id.unwrap_or(0),
        category_id: category_id.unwrap_or(0),
        prev_link: (page > 1).then(|| link(page - 1)),
        next_link: (page < pages).then(|| link(page + 1)),
        is_home: req.path() == "/",
        query,
        ctx,
    };
    render(StatusCode::OK, &page_view)
}

// ------------------------------------------------------------------ detail

/// `/auctions/{id}`: everything about one auction and, for those who may, the bid form
/// (national auctions add the live panel).
#[derive(Template)]
#[template(path = "auctions/show.html")]
pub struct ShowPage {
    pub ctx: Ctx,
    pub a: Auction,
    pub state: AuctionState,
    pub region_name: String,
    pub category_name: String,
    pub bid_unit: Won,
    pub start_price: Won,
    pub buy_now: Option<Won>,
    /// Why the viewer cannot bid (`None`: the form is shown).
    pub cannot_bid: Option<String>,
    pub is_seller: bool,
    pub is_winner: bool,
    pub is_leader: bool,
    pub can_edit: bool,
    pub error: Option<String>,
    pub amount: String,
}

async fn show_page(
    req: &HttpRequest,
    state: &AppState,
    id: i64,
    status: StatusCode,
    error: Option<String>,
    amount: String,
) -> Result<HttpResponse, AppError> {
    let ctx = Ctx::load(req).await?;
    let tz = state.settings.timezone;
    let watchers = state.live.watchers(id);
    let (a, auction_state) = db(state, move |conn| {
        load_auction_and_state(conn, id, tz, watchers)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    let st = a.status();
    let win = window(a.starts_at, a.ends_at, now());
    let viewer = ctx.user.as_ref().map(|u| u.id);
    let is_seller = viewer == Some(a.seller_id);
    let cannot_bid = if !st.is_open() || win == Window::Ended {
        Some("This auction has ended.".to_owned())
    } else if win == Window::NotStarted {
        Some(format!("Bidding opens at {}.", ctx.time(&a.starts_at)))
    } else if viewer.is_none() {
        Some("Log in to bid.".to_owned())
    } else if is_seller {
        Some("This is your auction: you cannot bid on it.".to_owned())
    } else {
        None
    };
    let page = ShowPage {
        region_name: state.reference.region_name(a.region_id),
        category_name: state.reference.category_name(a.category_id),
        bid_unit: Won::from_stored(a.bid_unit),
        start_price: Won::from_stored(a.start_price),
        buy_now: a.buy_now(),
        cannot_bid,
        is_seller,
        is_winner: viewer.is_some() && a.winner_id == viewer,
        is_leader: viewer.is_some() && a.leader_id == viewer,
        can_edit: is_seller && a.bid_count == 0 && st.is_open(),
        error,
        amount,
        state: auction_state,
        a,
        ctx,
    };
    render(status, &page)
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    show_page(
        &req,
        &state,
        path.into_inner(),
        StatusCode::OK,
        None,
        String::new(),
    )
    .await
}

// ------------------------------------------------------------------ bid and buy now

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BidForm {
    pub amount: String,
}

pub fn amount_reason(e: &AmountError) -> String {
    match e {
        AmountError::TooLarge(_) => "That amount is far too large.".to_owned(),
        other => other.to_string(),
    }
}

#[tracing::instrument(skip_all, fields(auction.id = *path, user.id = user.id))]
pub async fn bid(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<BidForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let typed: String = form.amount.chars().take(30).collect();
    let amount = match Won::parse(&form.amount) {
        Ok(a) => a,
        Err(e) => {
            return show_page(
                &req,
                &state,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(amount_reason(&e)),
                typed,
            )
            .await
        }
    };
    let bidder = user.id;
    let result = db(&state, move |conn| {
        bidding::place_bid(conn, id, bidder, amount, now())
    })
    .await;
    match result {
        Ok(placed) => {
            state.live.after_commit(placed.event);
            flash(
                &user.session,
                "success",
                format!("Your bid of {amount} leads."),
            );
            Ok(see_other(&format!("/auctions/{id}")))
        }
        Err(e) => {
            let e = AppError::from(e);
            let (status, why) = e.refusal().ok_or(e)?;
            show_page(&req, &state, id, status, Some(why), typed).await
        }
    }
}

#[tracing::instrument(skip_all, fields(auction.id = *path, user.id = user.id))]
pub async fn buy_now(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let buyer = user.id;
    let result = db(&state, move |conn| bidding::buy_now(conn, id, buyer, now())).await;
    match result {
        Ok(bought) => {
            state.live.after_commit(bought.event.clone());
            flash(
                &user.session,
                "success",
                format!(
                    "You bought it for {}. The seller has been paid.",
                    bought.price
                ),
            );
            Ok(see_other(&format!("/auctions/{id}")))
        }
        Err(e) => {
            let e = AppError::from(e);
            let (status, why) = e.refusal().ok_or(e)?;
            show_page(&req, &state, id, status, Some(why), String::new()).await
        }
    }
}

// ------------------------------------------------------------------ create and edit

/// The listing form's fields, as typed (re-shown on 422).
#[derive(Debug, Default, Clone)]
pub struct ListingFields {
    pub title: String,
    pub description: String,
    pub category_id: String,
    pub region_id: String,
    pub start_price: String,
    pub bid_unit: String,
    pub buy_now_price: String,
    pub starts_at: String,
    pub ends_at: String,
    pub is_national: bool,
}

impl ListingFields {
    fn from_form(form: &MultipartForm) -> Self {
        let clip = |name: &str, max: usize| form.text(name).chars().take(max).collect::<String>();
        ListingFields {
            title: clip("title", 200),
            description: clip("description", 6000),
            category_id: clip("category_id", 20),
            region_id: clip("region_id", 20),
            start_price: clip("start_price", 30),
            bid_unit: clip("bid_unit", 30),
            buy_now_price: clip("buy_now_price", 30),
            starts_at: clip("starts_at", 30),
            ends_at: clip("ends_at", 30),
            is_national: matches!(
                form.text("is_national").as_str(),
                "on" | "true" | "1" | "yes"
            ),
        }
    }

    fn from_auction(a: &Auction, tz: chrono_tz::Tz) -> Self {
        let local = |t: &NaiveDateTime| {
            t.and_utc()
                .with_timezone(&tz)
                .format("%Y-%m-%dT%H:%M")
                .to_string()
        };
        ListingFields {
            title: a.title.clone(),
            description: a.description.clone(),
            category_id: a.category_id.to_string(),
            region_id: a.region_id.to_string(),
            start_price: a.start_price.to_string(),
            bid_unit: a.bid_unit.to_string(),
            buy_now_price: a.buy_now_price.map(|p| p.to_string()).unwrap_or_default(),
            starts_at: local(&a.starts_at),
            ends_at: local(&a.ends_at),
            is_national: a.is_national,
        }
    }

    /// Parse into a draft; every reason at once.
    fn parse(&self, tz: chrono_tz::Tz, default_region: i64) -> Result<ListingDraft, Vec<String>> {
        let mut errors = Vec::new();
        let title = self.title.trim().to_owned();
        if title.is_empty() {
            errors.push("Enter a title.".to_owned());
        } else if title.chars().count() > 100 {
            errors.push("The title can be at most 100 characters.".to_owned());
        } else if title.chars().any(is_invisible_or_control) {
            errors.push("The title may not contain control or invisible characters.".to_owned());
        }
        let description = self.description.trim().replace("\r\n", "\n");
        if description.is_empty() {
            errors.push("Describe the item.".to_owned());
        } else if description.chars().count() > 5000 {
            errors.push("The description can be at most 5,000 characters.".to_owned());
        } else if description
            .chars()
            .any(|c| c != '\n' && c != '\t' && is_invisible_or_control(c))
        {
            errors.push(
                "The description may not contain control or invisible characters.".to_owned(),
            );
        }
        let category_id = opt_id(&self.category_id);
        if category_id.is_none() {
            errors.push("Choose a category from the list.".to_owned());
        }
        let region_id = if self.region_id.trim().is_empty() {
            Some(default_region)
        } else {
            opt_id(&self.region_id)
        };
        if region_id.is_none() {
            errors.push("Choose a neighbourhood from the list.".to_owned());
        }
        let mut money = |label: &str, raw: &str| match Won::parse(raw) {
            Ok(w) => Some(w),
            Err(e) => {
                errors.push(format!("{label}: {}", amount_reason(&e)));
                None
            }
        };
        let start_price = money("Start price", &self.start_price);
        let bid_unit = if self.bid_unit.trim().is_empty() {
            Won::new(1000)
        } else {
            money("Bid unit", &self.bid_unit)
        };
        let buy_now_price = if self.buy_now_price.trim().is_empty() {
            Some(None)
        } else {
            money("Buy-now price", &self.buy_now_price).map(Some)
        };
        let mut time = |label: &str, raw: &str| match parse_local(raw, tz) {
            Some(t) => Some(t),
            None => {
                errors.push(format!(
                    "{label}: enter a date and time like 2026-12-24T18:00."
                ));
                None
            }
        };
        let starts_at = if self.starts_at.trim().is_empty() {
            Some(None)
        } else {
            time("Start time", &self.starts_at).map(Some)
        };
        let ends_at = if self.ends_at.trim().is_empty() {
            errors.push("Choose when the auction ends.".to_owned());
            None
        } else {
            time("End time", &self.ends_at)
        };
        match (
            category_id,
            region_id,
            start_price,
            bid_unit,
            buy_now_price,
            starts_at,
            ends_at,
        ) {
            (
                Some(category_id),
                Some(region_id),
                Some(start_price),
                Some(bid_unit),
                Some(buy_now_price),
                Some(starts_at),
                Some(ends_at),
            ) if errors.is_empty() => Ok(ListingDraft {
                title,
                description,
                category_id,
                region_id,
                start_price,
                bid_unit,
                buy_now_price,
                starts_at,
                ends_at,
                is_national: self.is_national,
            }),
            _ => Err(errors),
        }
    }
}

/// `YYYY-MM-DDTHH:MM` (or with seconds) in the site's time zone → stored UTC.
pub fn parse_local(raw: &str, tz: chrono_tz::Tz) -> Option<NaiveDateTime> {
    let raw = raw.trim();
    let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.naive_utc())
}

/// The new-listing and edit-listing form.
#[derive(Template)]
#[template(path = "auctions/form.html")]
pub struct ListingFormPage {
    pub ctx: Ctx,
    pub errors: Vec<String>,
    pub f: ListingFields,
    pub groups: Vec<RegionGroup>,
    /// The neighbourhood selected in the form (0: none).
    pub region_id: i64,
    pub categories: Vec<Category>,
    /// `Some(id)` when editing.
    pub edit_id: Option<i64>,
    pub has_image: bool,
}

fn form_page(
    ctx: Ctx,
    reference: &Reference,
    status: StatusCode,
    errors: Vec<String>,
    f: ListingFields,
    edit_id: Option<i64>,
    has_image: bool,
) -> Result<HttpResponse, AppError> {
    render(
        status,
        &ListingFormPage {
            ctx,
            errors,
            region_id: f.region_id.trim().parse().unwrap_or(0),
            f,
            groups: reference.neighbourhood_groups(),
            categories: reference.categories.clone(),
            edit_id,
            has_image,
        },
    )
}

pub async fn new_form(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let user = ctx.require_user()?;
    let fields = ListingFields {
        region_id: user.region_id.to_string(),
        bid_unit: "1000".to_owned(),
        ..ListingFields::default()
    };
    form_page(
        ctx,
        &state.reference,
        StatusCode::OK,
        vec![],
        fields,
        None,
        false,
    )
}

async fn save_listing(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: Multipart,
    edit_id: Option<i64>,
) -> Result<HttpResponse, AppError> {
    let ctx = Ctx::load(&req).await?;
    let user = ctx.require_user()?.clone();
    let form = read_multipart(payload).await?;
    let fields = ListingFields::from_form(&form);
    let mut errors = Vec::new();
    let image = match form.image("image").await? {
        Some(Ok(image)) => Some(image),
        Some(Err(why)) => {
            errors.push(why);
            None
        }
        None => None,
    };
    let draft = match fields.parse(state.settings.timezone, user.region_id) {
        Ok(d) => Some(d),
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    if let (Some(draft), true) = (&draft, errors.is_empty()) {
        errors = auctions::check_draft(draft, &state.reference, now());
    }
    let Some(draft) = draft.filter(|_| errors.is_empty()) else {
        return form_page(
            ctx,
            &state.reference,
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
            fields,
            edit_id,
            false,
        );
    };

    let uploads = state.settings.data_dir.join("uploads");
    let reference = state.reference.clone();
    let seller = user.id;
    let result = db(&state, move |conn| {
        let name = match &image {
            Some(image) => Some(
                images::store(&uploads, image)
                    .map_err(ListingError::Unexpected)?
                    .0,
            ),
            None => None,
        };
        let outcome = match edit_id {
            None => {
                auctions::create_listing(conn, &reference, seller, &draft, name.as_deref(), now())
            }
            Some(id) => {
                auctions::edit_listing(conn, &reference, id, seller, &draft, name.as_deref(), now())
                    .map(|()| id)
            }
        };
        if outcome.is_err() {
            if let Some(n) = &name {
                images::remove(&uploads, n);
            }
        }
        outcome
    })
    .await;
    match result {
        Ok(id) => {
            flash(
                &ctx_session(&req),
                "success",
                if edit_id.is_some() {
                    "Your listing was updated."
                } else {
                    "Your auction is listed."
                },
            );
            Ok(see_other(&format!("/auctions/{id}")))
        }
        Err(e) => form_page(
            ctx,
            &state.reference,
            StatusCode::UNPROCESSABLE_ENTITY,
            AppError::from(e).into_reasons()?,
            fields,
            edit_id,
            false,
        ),
    }
}

fn ctx_session(req: &HttpRequest) -> actix_session::Session {
    use actix_session::SessionExt as _;
    req.get_session()
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    save_listing(req, state, payload, None).await
}

pub async fn edit_form(
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user_id = ctx.require_user()?.id;
    let id = path.into_inner();
    let a = db(&state, move |conn| {
        auctions::find(conn, id).map_err(anyhow::Error::new)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    if a.seller_id != user_id {
        return Err(AppError::Forbidden(
            "Only the seller can edit this listing.".to_owned(),
        ));
    }
    let mut errors = vec![];
    if a.bid_count > 0 || !a.status().is_open() {
        errors.push(ListingError::Locked.to_string());
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let fields = ListingFields::from_auction(&a, ctx.tz);
    form_page(
        ctx,
        &state.reference,
        status,
        errors,
        fields,
        Some(id),
        a.image_name.is_some(),
    )
}

pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    save_listing(req, state, payload, Some(path.into_inner())).await
}

/// The seller cancels a listing that has no bids.
pub async fn cancel(
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let seller = user.id;
    let result = db(&state, move |conn| {
        bidding::cancel_auction(conn, id, Canceller::Seller(seller), now())
    })
    .await;
    match result {
        Ok(cancelled) => {
            state.live.after_commit(cancelled.event);
            flash(&user.session, "info", "Your listing was cancelled.");
            Ok(see_other("/me/listings"))
        }
        Err(e) => {
            let why = AppError::from(e).into_reasons()?.join(" ");
            flash(&user.session, "error", why);
            Ok(see_other(&format!("/auctions/{id}")))
        }
    }
}

// ------------------------------------------------------------------ my pages

pub struct ListingRow {
    pub card: Card,
    pub can_edit: bool,
    pub winner_paid: Option<Won>,
}

/// `/me/listings`: the seller's auctions.
#[derive(Template)]
#[template(path = "auctions/my_listings.html")]
pub struct MyListingsPage {
    pub ctx: Ctx,
    pub rows: Vec<ListingRow>,
}

pub async fn my_listings(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let id = ctx.require_user()?.id;
    let list = db(&state, move |conn| {
        auctions::listings_of(conn, id).map_err(anyhow::Error::new)
    })
    .await?;
    let at = now();
    let rows = list
        .iter()
        .map(|a| ListingRow {
            card: Card::new(a, at),
            can_edit: a.bid_count == 0 && a.status().is_open(),
            winner_paid: (a.status() == AuctionStatus::Sold).then(|| a.current_price()),
        })
        .collect();
    render(StatusCode::OK, &MyListingsPage { ctx, rows })
}

pub struct MyBidRow {
    pub card: Card,
    pub my_top: Won,
    /// leading, outbid, won, lost, cancelled
    pub state: &'static str,
}

/// `/me/bids`: every auction I bid on, as leading, outbid, won or lost.
#[derive(Template)]
#[template(path = "auctions/my_bids.html")]
pub struct MyBidsPage {
    pub ctx: Ctx,
    pub rows: Vec<MyBidRow>,
}

pub async fn my_bids(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.id;
    let list = db(&state, move |conn| {
        auctions::bids_of(conn, me).map_err(anyhow::Error::new)
    })
    .await?;
    let at = now();
    let rows = list
        .iter()
        .map(|(a, top)| MyBidRow {
            card: Card::new(a, at),
            my_top: Won::from_stored(*top),
            state: match a.status() {
                AuctionStatus::Scheduled | AuctionStatus::Active if a.leader_id == Some(me) => {
                    "leading"
                }
                AuctionStatus::Scheduled | AuctionStatus::Active => "outbid",
                AuctionStatus::Sold if a.winner_id == Some(me) => "won",
                AuctionStatus::Cancelled => "cancelled",
                _ => "lost",
            },
        })
        .collect();
    render(StatusCode::OK, &MyBidsPage { ctx, rows })
}

/// `/uploads/{name}`: a stored listing image (only names we generated).
pub async fn image(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let name = path.into_inner();
    let kind = is_safe_upload_name(&name).ok_or(AppError::NotFound)?;
    let file = state.settings.data_dir.join("uploads").join(&name);
    let bytes = web::block(move || std::fs::read(file))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
        .map_err(|_| AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(kind.content_type())
        .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
}
