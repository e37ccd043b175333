//! The fixed-price market, one file per page or use case: [`list`], [`show`], [`trade`] (buy,
//! approve, reject, confirm, change the price), [`mine`] (purchases, reservations) and [`sell`]
//! (the new-product form). What several of them show lives here.

pub mod list;
pub mod mine;
pub mod sell;
pub mod show;
pub mod trade;

use crate::domain::image::thumb_name;
use crate::domain::market::Resolution;
use crate::domain::market::TradeStatus;
use crate::domain::{UserId, Won};
use crate::services::market::{ProductCard, TradeItem, TradeView};
use crate::views::i18n::Moment;
use crate::web::Ctx;

/// Products on one page of `/market`.
pub const PER_PAGE: i64 = 12;

// ---------------------------------------------------------------- shown on pages

/// A product as the list and the product page show it.
pub struct ProductView {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub price: Won,
    pub quantity: i32,
    pub units_left: i32,
    pub status: &'static str,
    pub status_label: String,
    pub seller_id: UserId,
    pub seller_name: String,
    pub region_name: String,
    pub category_name: String,
    pub image_url: Option<String>,
    pub thumb_url: Option<String>,
    pub listed_at: String,
}

impl ProductView {
    pub fn new(ctx: &Ctx, card: ProductCard) -> ProductView {
        let status = card.product.status();
        let price = card.product.price();
        let p = card.product;
        ProductView {
            id: p.id,
            name: p.name,
            description: p.description,
            price,
            quantity: p.quantity,
            units_left: p.units_left,
            status: status.as_str(),
            status_label: ctx.t(status.label_key()),
            seller_id: p.seller_id,
            seller_name: card.seller_name,
            region_name: card.region_name,
            category_name: card.category_name,
            thumb_url: p
                .image_path
                .as_deref()
                .map(|name| format!("/uploads/{}", thumb_name(name))),
            image_url: p.image_path.map(|name| format!("/uploads/{name}")),
            listed_at: ctx.time(&p.created_at),
        }
    }
}

/// A trade as the product page and the "my trades" pages show it, with the buttons the
/// viewer may press.
pub struct TradeLine {
    pub id: i64,
    /// The product's or the auction's page.
    pub item_url: String,
    /// `Auction` or `Market`.
    pub item_kind: &'static str,
    pub product_name: String,
    pub buyer_name: String,
    pub seller_name: String,
    /// `Buying` or `Selling`, from the viewer's side.
    pub role: &'static str,
    pub price: Won,
    pub status: &'static str,
    pub status_label: &'static str,
    pub requested_at: Moment,
    pub approved_at: Option<String>,
    pub confirmed_at: Option<String>,
    pub auto_confirm_at: Option<String>,
    pub quantity: i32,
    /// While requested: when the trade is cancelled if the seller has not answered.
    pub respond_by: Option<String>,
    pub can_decide: bool,
    pub can_confirm: bool,
    pub can_cancel: bool,
    /// The viewer is the buyer or the seller of a trade waiting for receipt (or disputed by
    /// the other side only).
    pub can_dispute: bool,
    /// Each side's reason, once disputed.
    pub disputes: Vec<DisputeLine>,
    /// An admin's decision (`refund_buyer`, `pay_seller`; the page writes it) and the reason they wrote.
    pub resolution: Option<&'static str>,
    pub resolution_reason: Option<String>,
    pub resolved_at: Option<String>,
    /// The buyer's payment page, while paid or to be paid at checkout.
    pub payment_url: Option<String>,
    /// While waiting for the payment: its deadline.
    pub pay_by: Option<String>,
    /// `card` or `vbank` for a trade paid at checkout; empty when paid from the wallet.
    pub payment_method: String,
    /// The viewer is a side of this confirmed trade and has not reviewed it yet.
    pub can_review: bool,
    /// The viewer already reviewed this trade.
    pub reviewed: bool,
    /// The other side's profile.
    pub other_url: String,
}

/// One side's reason in a dispute, as the trade pages show it.
pub struct DisputeLine {
    /// `Buyer` or `Seller`.
    pub side: &'static str,
    pub name: String,
    pub reason: String,
    pub at: Moment,
}

impl TradeLine {
    pub fn new(ctx: &Ctx, viewer: UserId, t: TradeView) -> TradeLine {
        let status = t.status();
        let price = t.price();
        let is_seller = t.trade.seller_id == viewer;
        let is_buyer = t.trade.buyer_id == viewer;
        let item = TradeItem::of(&t.trade);
        let disputes: Vec<DisputeLine> = t
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
            .collect();
        let my_side_given = t.disputes.iter().any(|d| d.user_id == viewer);
        let reviewed = t.reviewers.contains(&viewer);
        let other = if is_seller {
            t.trade.buyer_id
        } else {
            t.trade.seller_id
        };
        TradeLine {
            id: t.trade.id,
            can_review: (is_buyer || is_seller) && status == TradeStatus::Confirmed && !reviewed,
            reviewed: (is_buyer || is_seller) && reviewed,
            other_url: format!("/users/{other}"),
            item_url: item.map(TradeItem::path).unwrap_or_default(),
            item_kind: match item {
                Some(TradeItem::Auction(_)) => "Auction",
                _ => "Market",
            },
            can_dispute: (is_buyer || is_seller)
                && match status {
                    TradeStatus::Approved => true,
                    TradeStatus::Disputed => !my_side_given,
                    _ => false,
                },
            disputes,
            resolution: t
                .trade
                .resolution
                .as_deref()
                .and_then(Resolution::parse)
                .map(Resolution::as_str),
            resolution_reason: t.trade.resolution_reason.clone(),
            resolved_at: t.trade.resolved_at.as_ref().map(|at| ctx.time(at)),
            product_name: t.product_name,
            buyer_name: t.buyer_name,
            seller_name: t.seller_name,
            // A code the templates compare (`Selling`/`Buying`), not shown as it is.
            role: if is_seller { "Selling" } else { "Buying" },
            price,
            status: status.as_str(),
            status_label: status.label(),
            requested_at: ctx.moment(&t.trade.created_at),
            approved_at: t.trade.approved_at.as_ref().map(|at| ctx.time(at)),
            confirmed_at: t.trade.confirmed_at.as_ref().map(|at| ctx.time(at)),
            auto_confirm_at: (status == TradeStatus::Approved)
                .then_some(t.trade.auto_confirm_at)
                .flatten()
                .map(|at| ctx.time(&at)),
            quantity: t.trade.quantity,
            respond_by: (status == TradeStatus::Requested)
                .then_some(t.trade.respond_by)
                .flatten()
                .map(|at| ctx.time(&at)),
            can_decide: is_seller && status == TradeStatus::Requested,
            can_confirm: is_buyer
                && matches!(status, TradeStatus::Approved | TradeStatus::Disputed),
            can_cancel: is_buyer
                && matches!(
                    status,
                    TradeStatus::Requested | TradeStatus::AwaitingPayment
                ),
            payment_url: t
                .payment
                .as_ref()
                .filter(|_| is_buyer)
                .map(|p| format!("/payments/{}", p.merchant_uid)),
            pay_by: (status == TradeStatus::AwaitingPayment)
                .then(|| t.payment.as_ref().and_then(|p| p.pay_by))
                .flatten()
                .map(|at| ctx.time(&at)),
            payment_method: t
                .payment
                .as_ref()
                .map(|p| p.method.clone())
                .unwrap_or_default(),
        }
    }
}
