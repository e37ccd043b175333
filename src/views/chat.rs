//! Chat messages as a page shows them: the page (`templates/chats/show.html`) and the member
//! socket's push (`/me/live?chat=…`) render the same partial, `partials/_chat_message.html`.

use askama::Template;

use crate::domain::UserId;
use crate::services::chat::Message;
use crate::views::i18n::{Moment, Tr};

/// One message, from the reader's side.
#[derive(Debug, Clone)]
pub struct MessageLine {
    pub id: i64,
    /// Written by the reader (shown on the right).
    pub mine: bool,
    /// Plain text: the template escapes it; line breaks are kept by the stylesheet.
    pub body: String,
    /// When it was sent: relative ("3분 전"), with the full time in the reader's language.
    pub at: Moment,
}

impl MessageLine {
    pub fn new(m: &Message, reader: UserId, tr: Tr) -> MessageLine {
        MessageLine {
            id: m.id,
            mine: m.sender_id == reader,
            body: m.body.clone(),
            at: tr.moment(&m.created_at),
        }
    }
}

/// One message pushed to an open chat page.
#[derive(Template)]
#[template(path = "partials/_chat_message.html")]
pub struct MessageFragment<'a> {
    pub m: &'a MessageLine,
}

/// The header's unread-chats badge, pushed again when it changes (`base.html` renders the same
/// partial).
#[derive(Template)]
#[template(path = "partials/_chat_badge.html")]
pub struct ChatBadge {
    pub unread_chats: i64,
}
