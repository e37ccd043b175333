//! The member socket's part in chat (`/me/live?chat={id}&after={last}`, opened by an open chat
//! page): it pushes every message of that conversation after `after` as
//! `{"type":"chat","chat":id,"html":…}` (rendered by `partials/_chat_message.html`, the page's
//! own partial), on opening and after each committed change signalled to the member — in any
//! process on PostgreSQL, since the signal is the per-member `NOTIFY user_events`. Messages
//! shown on an open page count as read. Only a side of the conversation is followed; any
//! other id is ignored.

use askama::Template;

use crate::services::chat as chat_service;
use crate::views::chat::{ChatBadge, MessageFragment, MessageLine};
use crate::views::i18n::Tr;
use crate::web::sockets::send;
use crate::web::{db, AppState};

/// The conversation an open chat page follows, and the newest message it has.
#[derive(Debug, Clone, Copy)]
pub struct ChatFollow {
    pub chat: i64,
    pub last: i64,
}

impl ChatFollow {
    /// `chat=ID&after=N` from the socket's query string (`None` without a chat).
    pub fn from_query(query: &str) -> Option<ChatFollow> {
        let mut chat = None;
        let mut last = 0;
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("chat", v)) => chat = v.parse::<i64>().ok().filter(|c| *c > 0),
                Some(("after", v)) => last = v.parse::<i64>().unwrap_or(0).max(0),
                _ => {}
            }
        }
        chat.map(|chat| ChatFollow { chat, last })
    }

    /// Kept only when `user_id` is a side of the conversation.
    pub async fn checked(self, state: &AppState, user_id: i64) -> Option<ChatFollow> {
        let chat = self.chat;
        let side = db(state, move |conn| {
            chat_service::is_side_of(conn, user_id, chat).map_err(anyhow::Error::new)
        })
        .await;
        match side {
            Ok(true) => Some(self),
            Ok(false) => None,
            Err(e) => {
                tracing::warn!(
                    user.id = user_id,
                    error = format!("{e:#}"),
                    "chat check failed"
                );
                None
            }
        }
    }

    /// Push every message after the last one the page has (a batch at a time), and mark them
    /// read; `false` when the socket is gone.
    pub async fn push_new(
        &mut self,
        state: &AppState,
        ws: &mut actix_ws::Session,
        user_id: i64,
        tr: Tr,
        limit: std::time::Duration,
    ) -> bool {
        loop {
            match self.push_batch(state, ws, user_id, tr, limit).await {
                Some(n) if n >= chat_service::MESSAGES_PER_PAGE => {}
                Some(_) => return true,
                None => return false,
            }
        }
    }

    /// One batch of [`push_new`]: how many were pushed (`None`: the socket is gone).
    async fn push_batch(
        &mut self,
        state: &AppState,
        ws: &mut actix_ws::Session,
        user_id: i64,
        tr: Tr,
        limit: std::time::Duration,
    ) -> Option<i64> {
        let (chat, after) = (self.chat, self.last);
        let loaded = db(state, move |conn| {
            let messages = chat_service::messages_after(conn, user_id, chat, after)?;
            if let Some(last) = messages.last() {
                chat_service::mark_seen(conn, user_id, chat, last.id)?;
            }
            Ok::<_, anyhow::Error>(messages)
        })
        .await;
        let messages = match loaded {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(
                    user.id = user_id,
                    error = format!("{e:#}"),
                    "chat messages failed"
                );
                return Some(0);
            }
        };
        for m in &messages {
            let line = MessageLine::new(m, user_id, tr);
            let html = MessageFragment { m: &line }.render().unwrap_or_default();
            let frame = serde_json::to_string(&ChatFrame {
                kind: "chat",
                chat,
                html: &html,
            })
            .unwrap_or_else(|_| "{}".to_owned());
            if !send(ws, frame, limit).await {
                return None;
            }
            self.last = m.id;
        }
        Some(i64::try_from(messages.len()).unwrap_or(i64::MAX))
    }
}

/// A message for an open chat page.
#[derive(serde::Serialize)]
struct ChatFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    chat: i64,
    html: &'a str,
}

/// The header's unread-chats badge (`{"type":"chats","html":…}`).
pub fn badge_html(unread_chats: i64) -> String {
    ChatBadge { unread_chats }.render().unwrap_or_default()
}
