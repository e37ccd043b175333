//! A trade's steps: Buy (the price is held), the seller's Approve or Reject, the buyer's
//! Confirm (the seller is paid); and the seller changing the price of later trades.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::db::once::OnceKey;
use crate::db::DbConnection;
use crate::domain::bank::BankAccount;
use crate::domain::market::Reason;
use crate::domain::market::{parse_price, Quantity, TradeId};
use crate::domain::msg::Msg;
use crate::domain::review::{Rating, ReviewComment};
use crate::domain::Won;
use crate::services::market::{self as market_service, Confirmer, Decision, Order, TradeItem};
use crate::services::payments::{self as payments_service, CheckoutMethod};
use crate::services::refunds as refunds_service;
use crate::services::reviews as reviews_service;
use crate::web::market::show::{refused, show_page};
use crate::web::session::flash;
use crate::web::{db, db_once, retry_lost, see_other, AppError, AppState, Ctx, SessionUser};

// ---------------------------------------------------------------- buy

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BuyForm {
    pub quantity: String,
    /// The unit price the buyer saw.
    pub expected_price: String,
    /// `wallet` (or absent): held from the wallet; `card` or `vbank`: paid at checkout.
    pub pay_with: String,
    /// The form's one-time key: resubmitted after an unknown outcome, the purchase acts once.
    pub idempotency_key: String,
    /// `vbank`: the bank to open the virtual account at, and who transfers.
    pub bank_code: String,
    pub depositor: String,
    /// `vbank`: where the money goes back should the trade not go ahead.
    pub refund_bank: String,
    pub refund_account: String,
    pub refund_holder: String,
}

#[tracing::instrument(skip_all, fields(user.id = user.id, product.id = %path))]
pub async fn buy(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<BuyForm>,
) -> Result<HttpResponse, AppError> {
    let product_id = path.into_inner();
    let quantity = match Quantity::parse(&form.quantity) {
        Ok(q) => q,
        Err(why) => return refused(&req, &state, product_id, why).await,
    };
    let order = Order {
        quantity,
        expected_price: Won::parse(&form.expected_price).ok(),
    };
    let buyer = user.id;
    let respond_within = state.settings.market_respond_within;
    let key = OnceKey::parse(buyer, "market_buy", &form.idempotency_key).map(|k| {
        k.for_request(&format!(
            "{product_id}:{}:{}:{}",
            quantity.get(),
            form.expected_price.trim(),
            form.pay_with
        ))
    });
    match form.pay_with.as_str() {
        "" | "wallet" => {}
        "card" => {
            let method = CheckoutMethod::Card {
                within: state.settings.portone.card_due,
            };
            return buy_at_checkout(req, state, product_id, buyer, order, method, key).await;
        }
        "vbank" => {
            let refund_to = match BankAccount::parse(
                &form.refund_bank,
                &form.refund_account,
                &form.refund_holder,
            ) {
                Ok(account) => account,
                Err(reasons) => {
                    let why = market_service::BuyError::RefundAccount(reasons);
                    return refused(&req, &state, product_id, why.msg()).await;
                }
            };
            let method = CheckoutMethod::Vbank {
                bank_code: form.bank_code.trim().to_owned(),
                depositor: form.depositor.clone(),
                refund_to,
                due: state.settings.portone.vbank_due,
                notice_url: Some(crate::web::payments::notice_url(&state)),
            };
            return buy_at_checkout(req, state, product_id, buyer, order, method, key).await;
        }
        _ => return refused(&req, &state, product_id, Msg::new("err.market.pay_with")).await,
    }
    let result = db_once(&state, key.is_some(), move |conn| {
        market_service::buy(conn, product_id, buyer, order, respond_within, key.as_ref())
    })
    .await;
    match result {
        Ok(bought) => {
            let units = quantity.get();
            flash(
                &user.session,
                "success",
                Msg::new(if units == 1 {
                    "flash.market.asked.one"
                } else {
                    "flash.market.asked.other"
                })
                .arg("n", units)
                .arg("price", bought.price),
            );
            Ok(see_other(&format!("/market/{product_id}")))
        }
        Err(e) => {
            let why = AppError::from(e).into_msgs()?;
            refused(&req, &state, product_id, reasons(why)).await
        }
    }
}

/// `pay_with=card` or `vbank`: the trade waits for its payment (units reserved) and the buyer
/// goes to the payment page (the card checkout, or the virtual account to transfer to).
async fn buy_at_checkout(
    req: HttpRequest,
    state: web::Data<AppState>,
    product_id: i64,
    buyer: crate::domain::UserId,
    order: Order,
    method: CheckoutMethod,
    key: Option<OnceKey>,
) -> Result<HttpResponse, AppError> {
    if matches!(method, CheckoutMethod::Card { .. })
        && state.portone_sim.is_none()
        && state.settings.portone.imp_code.is_empty()
    {
        return refused(&req, &state, product_id, Msg::new("err.market.no_card")).await;
    }
    let (pool, portone) = (state.pool.clone(), state.portone.clone());
    let prepare = state.settings.portone.prepare;
    let respond_within = state.settings.market_respond_within;
    let span = tracing::Span::current();
    let started = web::block(move || {
        let _entered = span.enter();
        let purchase = payments_service::TradeCheckout {
            product_id,
            buyer_id: buyer,
            order,
            respond_within,
            method,
        };
        retry_lost(key.is_some(), || {
            payments_service::start_trade_payment(&pool, &portone, prepare, &purchase, key.as_ref())
        })
    })
    .await
    .map_err(|e| market_service::BuyError::Unexpected(anyhow::anyhow!("blocking task failed: {e}")))
    .and_then(|r| r);
    match started {
        Ok((merchant_uid, _)) => Ok(see_other(&format!("/payments/{merchant_uid}"))),
        Err(e) => {
            let why = AppError::from(e).into_msgs()?;
            refused(&req, &state, product_id, reasons(why)).await
        }
    }
}

/// Several reasons as one sentence for the page.
fn reasons(why: Vec<Msg>) -> Msg {
    Msg::new("err.reasons").arg("0", why)
}

/// After a reject or a cancel: a trade paid by card has its refund (held in the same
/// transaction) sent to PortOne now. A PortOne that does not answer leaves it pending for the
/// reconciler; nothing here changes what the step already did.
async fn send_card_refund(state: &AppState, trade_id: TradeId) {
    let (pool, portone) = (state.pool.clone(), state.portone.clone());
    let sent =
        web::block(move || refunds_service::send_trade_refund(&pool, &portone, trade_id)).await;
    match sent {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "a trade's card refund could not be sent"),
        Err(e) => tracing::warn!(error = %e, "a trade's card refund could not be sent"),
    }
}

// ---------------------------------------------------------------- change the price

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PriceForm {
    pub price: String,
}

#[tracing::instrument(skip_all, fields(user.id = user.id, product.id = %path))]
pub async fn change_price(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<PriceForm>,
) -> Result<HttpResponse, AppError> {
    let product_id = path.into_inner();
    let typed: String = form.price.chars().take(30).collect();
    let price = match parse_price(&form.price) {
        Ok(p) => p,
        Err(reason) => {
            let ctx = Ctx::load(&req).await?;
            return show_page(
                ctx,
                &state,
                product_id,
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![reason],
                typed,
            )
            .await;
        }
    };
    let seller = user.id;
    let result = db(&state, move |conn| {
        market_service::change_price(conn, product_id, seller, price)
    })
    .await;
    match result {
        Ok(()) => {
            flash(
                &user.session,
                "success",
                Msg::new("flash.market.price_changed").arg("price", price),
            );
            Ok(see_other(&format!("/market/{product_id}")))
        }
        Err(e) => {
            let why = AppError::from(e).into_msgs()?;
            refused(&req, &state, product_id, reasons(why)).await
        }
    }
}

// ---------------------------------------------------------------- trades

/// The product or auction a trade belongs to, for re-rendering its page with a reason.
async fn item_of(state: &AppState, trade_id: TradeId) -> Result<TradeItem, AppError> {
    db(state, move |conn| {
        market_service::item_of_trade(conn, trade_id).map_err(anyhow::Error::new)
    })
    .await?
    .ok_or(AppError::NotFound)
}

/// The page of `item` again, answered 422 with the reason a step was refused.
pub(crate) async fn refused_at(
    req: &HttpRequest,
    state: &AppState,
    item: TradeItem,
    why: Msg,
) -> Result<HttpResponse, AppError> {
    match item {
        TradeItem::Product(p) => refused(req, state, p, why).await,
        TradeItem::Auction(a) => {
            crate::web::auctions::show::show_page(
                req,
                state,
                a,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(why),
                String::new(),
            )
            .await
        }
    }
}

/// One step of a trade (approve, reject, confirm, cancel, dispute): run it, then back to the
/// product's or auction's page with `done` flashed, or the page again with the reason it was
/// refused.
async fn trade_step<E, F>(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    trade_id: TradeId,
    done: Msg,
    step: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce(&mut DbConnection) -> Result<TradeItem, E> + Send + 'static,
    E: From<anyhow::Error> + Send + 'static,
    AppError: From<E>,
{
    let done_step = db(&state, step).await;
    if done_step.is_ok() {
        send_card_refund(&state, trade_id).await;
    }
    answer(&req, &state, &user, trade_id, done, done_step).await
}

/// The answer to a trade's step: back to the product's or auction's page with `done` flashed,
/// or that page again (422) with the reason the step was refused.
async fn answer<E>(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    user: &SessionUser,
    trade_id: TradeId,
    done: Msg,
    result: Result<TradeItem, E>,
) -> Result<HttpResponse, AppError>
where
    AppError: From<E>,
{
    match result {
        Ok(item) => {
            flash(&user.session, "success", done);
            Ok(see_other(&item.path()))
        }
        Err(e) => {
            let why = AppError::from(e).into_msgs()?;
            let item = item_of(state, trade_id).await?;
            refused_at(req, state, item, reasons(why)).await
        }
    }
}

/// A trade's form refused before anything ran (its fields did not parse): the page again with
/// `why` — for the trade's two sides only; anyone else learns nothing about it (404).
async fn refused_form(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    trade_id: TradeId,
    me: i64,
    why: Msg,
) -> Result<HttpResponse, AppError> {
    let party = db(state, move |conn| {
        market_service::find_trade(conn, trade_id).map_err(anyhow::Error::new)
    })
    .await?
    .filter(|t| t.buyer_id == me || t.seller_id == me)
    .ok_or(AppError::NotFound)?;
    let item = TradeItem::of(&party).ok_or(AppError::NotFound)?;
    refused_at(req, state, item, why).await
}

async fn decide(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    trade_id: TradeId,
    decision: Decision,
) -> Result<HttpResponse, AppError> {
    let seller = user.id;
    let period = state.settings.market_auto_confirm;
    let done = Msg::new(match decision {
        Decision::Approve => "flash.trade.approved",
        Decision::Reject => "flash.trade.rejected",
    });
    trade_step(req, user, state, trade_id, done, move |conn| {
        market_service::decide(conn, trade_id, seller, decision, period).map(TradeItem::Product)
    })
    .await
}

#[tracing::instrument(skip_all, fields(user.id = user.id, trade.id = %path))]
pub async fn approve(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    decide(req, user, state, path.into_inner(), Decision::Approve).await
}

#[tracing::instrument(skip_all, fields(user.id = user.id, trade.id = %path))]
pub async fn reject(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    decide(req, user, state, path.into_inner(), Decision::Reject).await
}

#[tracing::instrument(skip_all, fields(user.id = user.id, trade.id = %path))]
pub async fn confirm(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let trade_id = path.into_inner();
    let buyer = user.id;
    let done = Msg::new("flash.trade.confirmed");
    trade_step(req, user, state, trade_id, done, move |conn| {
        market_service::confirm(conn, trade_id, Confirmer::Buyer(buyer))
    })
    .await
}

// ---------------------------------------------------------------- cancel

/// The buyer cancels a purchase the seller has not approved yet (also one still waiting for
/// its payment): the money goes back the way it came and the units go back on sale.
#[tracing::instrument(skip_all, fields(user.id = user.id, trade.id = %path))]
pub async fn cancel(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let trade_id = path.into_inner();
    let buyer = user.id;
    let (pool, portone) = (state.pool.clone(), state.portone.clone());
    let span = tracing::Span::current();
    let cancelled = web::block(move || {
        let _entered = span.enter();
        payments_service::cancel_purchase(&pool, &portone, trade_id, buyer)
    })
    .await
    .map_err(|e| {
        market_service::CancelTradeError::Unexpected(anyhow::anyhow!("blocking task failed: {e}"))
    })
    .and_then(|r| r);
    match cancelled {
        Ok(product_id) => {
            flash(&user.session, "success", Msg::new("flash.trade.cancelled"));
            Ok(see_other(&format!("/market/{product_id}")))
        }
        Err(e) => {
            let why = AppError::from(e).into_msgs()?;
            let item = item_of(&state, trade_id).await?;
            refused_at(&req, &state, item, reasons(why)).await
        }
    }
}

// ---------------------------------------------------------------- dispute

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DisputeForm {
    pub reason: String,
    /// The form's one-time key: a double submit opens the dispute once.
    pub idempotency_key: String,
}

/// The buyer or the seller disputes a trade waiting for receipt: the money stays held and
/// nothing is confirmed automatically until an admin decides.
#[tracing::instrument(skip_all, fields(user.id = user.id, trade.id = %path))]
pub async fn dispute(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<DisputeForm>,
) -> Result<HttpResponse, AppError> {
    let trade_id = path.into_inner();
    let me = user.id;
    let reason = match Reason::parse(&form.reason) {
        Ok(r) => r,
        Err(why) => return refused_form(&req, &state, trade_id, me, why).await,
    };
    let key = OnceKey::parse(me, "trade_dispute", &form.idempotency_key)
        .map(|k| k.for_request(&trade_id.to_string()));
    let done = Msg::new("flash.trade.disputed");
    let opened = db_once(&state, key.is_some(), move |conn| {
        market_service::open_dispute(conn, trade_id, me, &reason, key.as_ref())
    })
    .await;
    answer(&req, &state, &user, trade_id, done, opened).await
}

// ---------------------------------------------------------------- review

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReviewForm {
    /// 1 to 5.
    pub rating: String,
    pub comment: String,
}

/// The buyer or the seller of a confirmed trade reviews the other side, once.
#[tracing::instrument(skip_all, fields(user.id = user.id, trade.id = %path))]
pub async fn review(
    req: HttpRequest,
    user: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<ReviewForm>,
) -> Result<HttpResponse, AppError> {
    let trade_id = path.into_inner();
    let me = user.id;
    let parsed = Rating::parse(&form.rating)
        .and_then(|rating| ReviewComment::parse(&form.comment).map(|comment| (rating, comment)));
    let (rating, comment) = match parsed {
        Ok(valid) => valid,
        Err(why) => return refused_form(&req, &state, trade_id, me, why).await,
    };
    let reviewed = db(&state, move |conn| {
        reviews_service::leave_review(conn, trade_id, me, rating, &comment)
    })
    .await;
    let done = Msg::new("flash.trade.reviewed");
    answer(&req, &state, &user, trade_id, done, reviewed).await
}
