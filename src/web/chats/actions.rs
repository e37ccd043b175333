//! Chat actions: "채팅하기 / Chat" on an auction or a product (`POST /auctions/{id}/chat`,
//! `POST /market/{id}/chat`), a message (`POST /chats/{id}/messages`), and blocking a member
//! (`POST /users/{id}/block`, `/unblock`). Every form carries the CSRF token (checked by the
//! middleware) and works without JavaScript; with it, the chat form is sent by `fetch` with
//! `X-Chat-Fetch: 1` and answered 204, the message arriving on the member socket.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::domain::chat::ChatBody;
use crate::services::chat::{self as chat_service, BlockError, OpenChatError, SendMessageError};
use crate::services::market::TradeItem;
use crate::web::chats::chat_page;
use crate::web::{db, see_other, AppError, AppState, Ctx};

/// The logged-in member's id, or to the login page and then back to `page` (the page the
/// form was on: a POST address is no place to come back to).
fn signed_in(ctx: &Ctx, page: &str) -> Result<i64, AppError> {
    ctx.user
        .as_ref()
        .map(|u| u.id)
        .ok_or_else(|| AppError::LoginRequired {
            next: page.to_owned(),
        })
}

/// Open (or find) the conversation with the listing's seller and go to it; a refusal shows
/// the listing's page again with the reason (422).
async fn open(
    req: HttpRequest,
    ctx: Ctx,
    state: web::Data<AppState>,
    item: TradeItem,
) -> Result<HttpResponse, AppError> {
    let me = signed_in(&ctx, &item.path())?;
    match db(&state, move |conn| chat_service::open(conn, me, item)).await {
        Ok(id) => Ok(see_other(&format!("/chats/{id}"))),
        Err(e @ (OpenChatError::NotFound | OpenChatError::Unexpected(_))) => Err(AppError::from(e)),
        Err(refused) => {
            let reason = refused.msg();
            match item {
                TradeItem::Auction(id) => {
                    crate::web::auctions::show::show_page(
                        &req,
                        &state,
                        id,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Some(reason),
                        String::new(),
                    )
                    .await
                }
                TradeItem::Product(id) => {
                    crate::web::market::show::refused(&req, &state, id, reason).await
                }
            }
        }
    }
}

/// `POST /auctions/{id}/chat`.
#[tracing::instrument(skip_all, fields(auction.id = *path))]
pub async fn open_auction(
    req: HttpRequest,
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    open(req, ctx, state, TradeItem::Auction(path.into_inner())).await
}

/// `POST /market/{id}/chat`.
#[tracing::instrument(skip_all, fields(product.id = *path))]
pub async fn open_product(
    req: HttpRequest,
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    open(req, ctx, state, TradeItem::Product(path.into_inner())).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MessageForm {
    pub body: String,
}

/// `POST /chats/{id}/messages`: 303 back to the conversation (204 to the page's script); a
/// refused message shows the page again with the reason and the text (422, or 429 when too
/// fast), nothing stored.
#[tracing::instrument(skip_all, fields(chat.id = *path))]
pub async fn send(
    req: HttpRequest,
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<MessageForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let me = signed_in(&ctx, &format!("/chats/{id}"))?;
    let text = form.into_inner().body;
    let refused = |ctx: Ctx, status, reason: String, text: String| {
        let state = state.clone();
        async move { chat_page(ctx, &state, id, None, status, vec![reason], text).await }
    };
    let body = match ChatBody::parse(&text) {
        Ok(body) => body,
        Err(e) => {
            let reason = ctx.t(e.key());
            return refused(ctx, StatusCode::UNPROCESSABLE_ENTITY, reason, text).await;
        }
    };
    let per_minute = state.settings.chat_messages_per_minute;
    match db(&state, move |conn| {
        chat_service::send(conn, me, id, &body, per_minute)
    })
    .await
    {
        Ok(message) => {
            if req.headers().contains_key("x-chat-fetch") {
                Ok(HttpResponse::NoContent().finish())
            } else {
                Ok(see_other(&format!("/chats/{id}#message-{}", message.id)))
            }
        }
        Err(e @ SendMessageError::NotAllowed) => Err(AppError::Forbidden(e.msg())),
        Err(e @ (SendMessageError::NotFound | SendMessageError::Unexpected(_))) => {
            Err(AppError::from(e))
        }
        Err(e @ SendMessageError::TooFast { per_minute }) => {
            let reason = ctx.t_n(e.key(), per_minute);
            refused(ctx, StatusCode::TOO_MANY_REQUESTS, reason, text).await
        }
        Err(e) => {
            let reason = ctx.t(e.key());
            refused(ctx, StatusCode::UNPROCESSABLE_ENTITY, reason, text).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BlockForm {
    /// Where to go back to (a path on this site); the member's profile otherwise.
    pub next: String,
}

async fn set_block(
    ctx: Ctx,
    state: web::Data<AppState>,
    other: i64,
    next: &str,
    block: bool,
) -> Result<HttpResponse, AppError> {
    let me = signed_in(&ctx, &format!("/users/{other}"))?;
    match db(&state, move |conn| {
        chat_service::set_block(conn, me, other, block)
    })
    .await
    {
        Ok(()) => Ok(see_other(
            &crate::web::next::safe_next(next).unwrap_or_else(|| format!("/users/{other}")),
        )),
        Err(e @ BlockError::Yourself) => Err(AppError::Rejected(e.msg())),
        Err(e) => Err(AppError::from(e)),
    }
}

/// `POST /users/{id}/block`.
#[tracing::instrument(skip_all, fields(other.id = *path))]
pub async fn block(
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<BlockForm>,
) -> Result<HttpResponse, AppError> {
    set_block(ctx, state, path.into_inner(), &form.next, true).await
}

/// `POST /users/{id}/unblock`.
#[tracing::instrument(skip_all, fields(other.id = *path))]
pub async fn unblock(
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<BlockForm>,
) -> Result<HttpResponse, AppError> {
    set_block(ctx, state, path.into_inner(), &form.next, false).await
}
