//! `/admin/disputes`: the trades a buyer or a seller disputed, with both sides' reasons; an
//! admin resolves each by refunding the buyer or paying the seller, with a written reason both
//! sides then read on their trade pages.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::once::OnceKey;
use crate::domain::market::{Reason, Resolution};
use crate::domain::msg::Msg;
use crate::services::market::{self as market_service, TradeItem};
use crate::services::refunds as refunds_service;
use crate::web::market::DisputeLine;
use crate::web::session::flash;
use crate::web::{db, db_once, render, see_other, AppError, AppState, Ctx};

/// Every open dispute, oldest first, with a resolve form each.
#[derive(Template)]
#[template(path = "admin/disputes.html")]
pub struct DisputesPage {
    pub ctx: Ctx,
    pub lines: Vec<DisputeRow>,
    pub error: Option<String>,
}

/// One disputed trade as the admin sees it.
pub struct DisputeRow {
    pub id: i64,
    pub item_url: String,
    /// `Auction` or `Market`.
    pub item_kind: &'static str,
    pub item_name: String,
    pub buyer_id: i64,
    pub buyer_name: String,
    pub seller_id: i64,
    pub seller_name: String,
    pub price: crate::domain::Won,
    /// `card` or `vbank` when the buyer paid at checkout (a refund goes back there).
    pub payment_method: String,
    pub disputed_at: String,
    pub reasons: Vec<DisputeLine>,
    /// The two sides' chat about the listing, when they had one (the admin may read it).
    pub chat_id: Option<i64>,
}

pub async fn list(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    disputes_page(ctx, &state, StatusCode::OK, None).await
}

async fn disputes_page(
    ctx: Ctx,
    state: &AppState,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    ctx.require_admin()?;
    let rows = db(state, move |conn| {
        let rows = market_service::open_disputes(conn)?;
        rows.into_iter()
            .map(|t| {
                let chat = crate::services::chat::chat_of_trade(conn, &t.trade)?;
                Ok((t, chat))
            })
            .collect::<Result<Vec<_>, diesel::result::Error>>()
            .map_err(anyhow::Error::new)
    })
    .await?;
    let lines = rows
        .into_iter()
        .map(|(t, chat_id)| {
            let item = TradeItem::of(&t.trade);
            DisputeRow {
                id: t.trade.id,
                item_url: item.map(TradeItem::path).unwrap_or_default(),
                item_kind: match item {
                    Some(TradeItem::Auction(_)) => "Auction",
                    _ => "Market",
                },
                price: t.price(),
                payment_method: t
                    .payment
                    .as_ref()
                    .map(|p| p.method.clone())
                    .unwrap_or_default(),
                disputed_at: t
                    .trade
                    .disputed_at
                    .as_ref()
                    .map(|at| ctx.time(at))
                    .unwrap_or_default(),
                reasons: t
                    .disputes
                    .iter()
                    .map(|d| DisputeLine {
                        side: if d.user_id == t.trade.buyer_id {
                            "Buyer"
                        } else {
                            "Seller"
                        },
                        name: d.name.clone(),
                        reason: d.reason.clone(),
                        at: ctx.moment(&d.at),
                    })
                    .collect(),
                chat_id,
                item_name: t.product_name,
                buyer_id: t.trade.buyer_id,
                buyer_name: t.buyer_name,
                seller_id: t.trade.seller_id,
                seller_name: t.seller_name,
            }
        })
        .collect();
    render(status, &DisputesPage { ctx, lines, error })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResolveForm {
    /// `refund_buyer` or `pay_seller`.
    pub outcome: String,
    pub reason: String,
    /// The form's one-time key: a double submit resolves once.
    pub idempotency_key: String,
}

/// Resolve one dispute: the held money goes to the buyer (back the way it came) or the seller.
#[tracing::instrument(skip_all, fields(trade.id = *path))]
pub async fn resolve(
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<ResolveForm>,
) -> Result<HttpResponse, AppError> {
    let admin = ctx.require_admin()?.id;
    let trade_id = path.into_inner();
    let Some(outcome) = Resolution::parse(&form.outcome) else {
        let why = Msg::new("err.dispute.choose_outcome").text(ctx.lang);
        return disputes_page(ctx, &state, StatusCode::UNPROCESSABLE_ENTITY, Some(why)).await;
    };
    let reason = match Reason::parse(&form.reason) {
        Ok(r) => r,
        Err(why) => {
            let why = Msg::new("err.dispute.resolve_reason")
                .arg("id", trade_id)
                .arg("why", why)
                .text(ctx.lang);
            return disputes_page(ctx, &state, StatusCode::UNPROCESSABLE_ENTITY, Some(why)).await;
        }
    };
    let key = OnceKey::parse(admin, "dispute_resolve", &form.idempotency_key)
        .map(|k| k.for_request(&format!("{trade_id}:{}", outcome.as_str())));
    let result = db_once(&state, key.is_some(), move |conn| {
        market_service::resolve_dispute(conn, trade_id, admin, outcome, &reason, key.as_ref())
    })
    .await;
    match result {
        Ok(resolved) => {
            if resolved.card_refund {
                let (pool, portone) = (state.pool.clone(), state.portone.clone());
                let sent = web::block(move || {
                    refunds_service::send_trade_refund(&pool, &portone, trade_id)
                })
                .await;
                if let Ok(Err(e)) = sent {
                    tracing::warn!(error = %e, "a disputed trade's refund could not be sent yet");
                }
            }
            let done = match resolved.outcome {
                Resolution::RefundBuyer if resolved.card_refund => {
                    Msg::new("flash.admin.refunded_card").arg("id", trade_id)
                }
                Resolution::RefundBuyer => Msg::new("flash.admin.refunded").arg("id", trade_id),
                Resolution::PaySeller => Msg::new("flash.admin.seller_paid").arg("id", trade_id),
            };
            flash(&session, "success", done);
            Ok(see_other("/admin/disputes"))
        }
        Err(e) => {
            let why = AppError::from(e).into_reasons(ctx.lang)?;
            disputes_page(
                ctx,
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(why.join(" ")),
            )
            .await
        }
    }
}
