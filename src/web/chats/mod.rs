//! 1:1 chat pages: `/chats` (the member's conversations, newest activity first) and
//! `/chats/{id}` (the listing, the trade between the two if any, the messages and a plain form).
//! The actions (open from a listing, send, block) are in [`actions`]; the member socket's part
//! (new messages pushed to an open page) in [`live`].

pub mod actions;
pub mod live;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::services::chat::{self as chat_service, Reader, ViewChatError, PER_PAGE};
use crate::views::chat::MessageLine;
use crate::web::market::TradeLine;
use crate::web::{db, page_number, render, AppError, AppState, Ctx, Pager};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub page: String,
}

/// One conversation in `/chats`.
pub struct ChatListLine {
    pub id: i64,
    pub title: String,
    pub thumb_url: Option<String>,
    pub other_id: i64,
    pub other_name: String,
    pub last_body: Option<String>,
    pub at: String,
    pub unread: i64,
}

/// `/chats`: the member's conversations, newest activity first, with each one's listing, the
/// other person, the last message and how many messages are unread.
#[derive(Template)]
#[template(path = "chats/list.html")]
pub struct ChatListPage {
    pub ctx: Ctx,
    pub lines: Vec<ChatListLine>,
    pub pager: Pager,
}

pub async fn list(
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.id;
    let page = page_number(&query.page);
    let (rows, total) = db(&state, move |conn| {
        chat_service::page_of(conn, me, page).map_err(anyhow::Error::new)
    })
    .await?;
    let lines = rows
        .into_iter()
        .map(|c| ChatListLine {
            id: c.id,
            title: c
                .listing
                .as_ref()
                .map_or_else(|| ctx.t("chat.listing_gone"), |l| l.title.clone()),
            thumb_url: c.listing.and_then(|l| l.thumb_url),
            other_id: c.other_id,
            other_name: c.other_name,
            last_body: c.last_body,
            at: ctx.time(&c.last_message_at),
            unread: c.unread,
        })
        .collect();
    let pager = Pager::new(page, total, PER_PAGE, "/chats", &[]);
    render(StatusCode::OK, &ChatListPage { ctx, lines, pager })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShowQuery {
    /// Show the messages before this one (the "older" link).
    pub before: String,
}

/// `/chats/{id}`: the listing at the top, the trade between the two and its buttons when there
/// is one, the messages oldest first, and the form (for the two sides; an admin handling the
/// dispute only reads).
#[derive(Template)]
#[template(path = "chats/show.html")]
pub struct ChatPage {
    pub ctx: Ctx,
    pub id: i64,
    pub admin_reading: bool,
    pub title: String,
    pub listing_url: Option<String>,
    pub thumb_url: Option<String>,
    pub other_id: i64,
    pub other_name: String,
    /// `chat.seller` or `chat.neighbour`: the other person's part.
    pub other_role: &'static str,
    pub trade: Option<TradeLine>,
    pub messages: Vec<MessageLine>,
    /// The "older messages" link, when there are older ones.
    pub older_url: Option<String>,
    /// An older page is shown (a link back to the newest).
    pub paged: bool,
    /// The newest message shown (the member socket sends what comes after).
    pub last_id: i64,
    pub errors: Vec<String>,
    /// What the member wrote, when it was refused.
    pub body: String,
    pub i_blocked: bool,
    pub they_blocked: bool,
}

/// Render `/chats/{id}` (also with a refused message's reason and text).
pub(crate) async fn chat_page(
    ctx: Ctx,
    state: &AppState,
    id: i64,
    before: Option<i64>,
    status: StatusCode,
    errors: Vec<String>,
    body: String,
) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?;
    let (me, is_admin) = (me.id, me.is_admin);
    let view = match db(state, move |conn| {
        chat_service::view(conn, me, is_admin, id, before)
    })
    .await
    {
        Ok(v) => v,
        Err(e @ ViewChatError::NotAllowed) => return Err(AppError::Forbidden(e.msg())),
        Err(e) => return Err(e.into()),
    };
    let admin_reading = view.reader == Reader::Admin;
    // An admin reads it as the neighbour does: the seller's messages on the left.
    let reader = if admin_reading {
        view.chat.neighbour_id
    } else {
        me
    };
    let messages: Vec<MessageLine> = view
        .messages
        .iter()
        .map(|m| MessageLine::new(m, reader, ctx.tr()))
        .collect();
    let other_id = view.chat.other(reader);
    let (other_name, other_role) = if other_id == view.chat.seller_id {
        (view.seller_name.clone(), "chat.seller")
    } else {
        (view.neighbour_name.clone(), "chat.neighbour")
    };
    let older_url = view
        .has_older
        .then(|| {
            messages
                .first()
                .map(|m| format!("/chats/{id}?before={}", m.id))
        })
        .flatten();
    let page = ChatPage {
        id,
        admin_reading,
        title: view
            .listing
            .as_ref()
            .map_or_else(|| ctx.t("chat.listing_gone"), |l| l.title.clone()),
        listing_url: view.listing.as_ref().map(|l| l.item.path()),
        thumb_url: view.listing.and_then(|l| l.thumb_url),
        other_id,
        other_name,
        other_role,
        trade: view.trade.map(|t| TradeLine::new(&ctx, me, t)),
        last_id: messages.last().map_or(0, |m| m.id),
        messages,
        older_url,
        paged: before.is_some(),
        errors,
        body,
        i_blocked: view.i_blocked,
        they_blocked: view.they_blocked,
        ctx,
    };
    render(status, &page)
}

pub async fn show(
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, AppError> {
    let before = query.before.trim().parse::<i64>().ok().filter(|b| *b > 0);
    chat_page(
        ctx,
        &state,
        path.into_inner(),
        before,
        StatusCode::OK,
        vec![],
        String::new(),
    )
    .await
}
