//! Bid and buy now by form (the live panel's socket uses the same services: [`super::live`]).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::db::once::OnceKey;
use crate::domain::msg::Msg;
use crate::domain::{AmountError, Won};
use crate::services::bidding;
use crate::services::now;
use crate::web::auctions::show::show_page;
use crate::web::session::flash;
use crate::web::{db_once, see_other, AppError, AppState, SessionUser};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BidForm {
    pub amount: String,
    /// The form's one-time key: resubmitted after an unknown outcome, the bid acts once.
    pub idempotency_key: String,
}

/// What a placed bid came to, in words (the form's flash and the live panel's answer): the
/// flash kind and the sentence.
pub fn placed_words(placed: &bidding::BidPlaced) -> (&'static str, Msg) {
    let (price, max) = (placed.price, placed.maximum);
    if !placed.leads {
        ("info", Msg::new("flash.bid.outbid").arg("price", price))
    } else if price == max {
        ("success", Msg::new("flash.bid.leads").arg("max", max))
    } else {
        (
            "success",
            Msg::new("flash.bid.leads_at")
                .arg("price", price)
                .arg("max", max),
        )
    }
}

pub fn amount_reason(e: &AmountError) -> Msg {
    match e {
        AmountError::TooLarge(_) => Msg::new("err.amount.far_too_large"),
        other => other.msg(),
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
    let key = OnceKey::parse(bidder, "bid", &form.idempotency_key)
        .map(|k| k.for_request(&format!("{id}:{amount}")));
    let soft = super::soft_close(&state.settings);
    let result = db_once(&state, key.is_some(), move |conn| {
        bidding::place_bid(conn, id, bidder, amount, now(), soft, key.as_ref())
    })
    .await;
    match result {
        Ok(placed) => {
            let (kind, words) = placed_words(&placed);
            state.live.after_commit(placed.event);
            flash(&user.session, kind, words);
            Ok(see_other(&format!("/auctions/{id}")))
        }
        Err(e) => {
            let e = AppError::from(e);
            let (status, why) = e.refusal_msg().ok_or(e)?;
            show_page(&req, &state, id, status, Some(why), typed).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BuyNowForm {
    /// The buy-now price the buyer saw; a missing or different one is refused.
    pub expected_price: String,
    pub idempotency_key: String,
}

#[tracing::instrument(skip_all, fields(auction.id = *path, user.id = user.id))]
pub async fn buy_now(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<BuyNowForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let buyer = user.id;
    let expected = Won::parse(&form.expected_price).ok();
    let key = OnceKey::parse(buyer, "buy_now", &form.idempotency_key)
        .map(|k| k.for_request(&format!("{id}:{}", form.expected_price.trim())));
    let auto_confirm = state.settings.market_auto_confirm;
    let result = db_once(&state, key.is_some(), move |conn| {
        bidding::buy_now(conn, id, buyer, expected, now(), auto_confirm, key.as_ref())
    })
    .await;
    match result {
        Ok(bought) => {
            state.live.after_commit(bought.event.clone());
            flash(
                &user.session,
                "success",
                Msg::new("flash.bid.bought").arg("price", bought.price),
            );
            Ok(see_other(&format!("/auctions/{id}")))
        }
        Err(e) => {
            let e = AppError::from(e);
            let (status, why) = e.refusal_msg().ok_or(e)?;
            show_page(&req, &state, id, status, Some(why), String::new()).await
        }
    }
}
