//! Writing a message: rate-limited, refused across a block, the other side told once.

use super::*;
use crate::db::write_tx;
use crate::domain::chat::ChatBody;
use crate::domain::msg::Msg;
use crate::services::notify::{self, Notice};
use crate::services::now;

#[derive(Debug, thiserror::Error)]
pub enum SendMessageError {
    #[error("No such conversation.")]
    NotFound,
    #[error("Only the two people in a conversation can read and write it.")]
    NotAllowed,
    #[error("Sorry, this member does not take messages from you.")]
    Blocked,
    #[error("You blocked this member: unblock them on their profile to chat again.")]
    YouBlocked,
    #[error("You are sending messages too fast: at most {per_minute} a minute. Wait a moment and try again.")]
    TooFast { per_minute: u32 },
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
crate::unexpected_error!(SendMessageError);

impl SendMessageError {
    /// The translation key of the reason shown to the member (`%{n}`: the limit).
    pub fn key(&self) -> &'static str {
        match self {
            SendMessageError::Blocked => "chat.error_blocked",
            SendMessageError::YouBlocked => "chat.error_you_blocked",
            SendMessageError::TooFast { .. } => "chat.error_too_fast",
            SendMessageError::NotAllowed => "chat.error_not_allowed",
            SendMessageError::NotFound | SendMessageError::Unexpected(_) => "chat.error_generic",
        }
    }

    /// The reason in the reader's language; `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            SendMessageError::TooFast { per_minute } => Msg::new(self.key()).arg("n", per_minute),
            _ => Msg::new(self.key()),
        }
    }
}

/// `me` writes `body` in conversation `id`. At most `per_minute` messages a minute per member.
/// The other side is told with one notification per conversation while it is unread. Both
/// sides' pages hear of it after commit.
#[tracing::instrument(skip(conn, body), fields(user.id = me, chat.id = id))]
pub fn send(
    conn: &mut DbConnection,
    me: UserId,
    id: i64,
    body: &ChatBody,
    per_minute: u32,
) -> Result<Message, SendMessageError> {
    write_tx(conn, |conn| {
        // The conversation's row first: its sends (and their one notification) go one at a time.
        let chat: ChatRow =
            crate::first_for_update!(conn, chats::table.find(id).select(ChatRow::as_select()))?
                .ok_or(SendMessageError::NotFound)?;
        if !chat.is_side(me) {
            return Err(SendMessageError::NotAllowed);
        }
        let other = chat.other(me);
        if has_blocked(conn, other, me)? {
            return Err(SendMessageError::Blocked);
        }
        if has_blocked(conn, me, other)? {
            return Err(SendMessageError::YouBlocked);
        }
        // The member's row: their sends in different conversations count one at a time.
        crate::db::lock_user(conn, me)?;
        let at = now();
        let recent: i64 = chat_messages::table
            .filter(chat_messages::sender_id.eq(me))
            .filter(chat_messages::created_at.gt(at - chrono::TimeDelta::minutes(1)))
            .count()
            .get_result(conn)?;
        if recent >= i64::from(per_minute) {
            return Err(SendMessageError::TooFast { per_minute });
        }
        let message_id: i64 = diesel::insert_into(chat_messages::table)
            .values((
                chat_messages::chat_id.eq(id),
                chat_messages::sender_id.eq(me),
                chat_messages::body.eq(body.as_str()),
                chat_messages::created_at.eq(at),
            ))
            .returning(chat_messages::id)
            .get_result(conn)?;
        let message = Message {
            id: message_id,
            chat_id: id,
            sender_id: me,
            body: body.as_str().to_owned(),
            created_at: at,
        };
        let update = diesel::update(chats::table.find(id));
        if me == chat.seller_id {
            update
                .set((
                    chats::last_message_id.eq(message.id),
                    chats::last_message_at.eq(at),
                    chats::seller_read_id.eq(message.id),
                ))
                .execute(conn)?;
        } else {
            update
                .set((
                    chats::last_message_id.eq(message.id),
                    chats::last_message_at.eq(at),
                    chats::neighbour_read_id.eq(message.id),
                ))
                .execute(conn)?;
        }
        let told: bool =
            diesel::select(diesel::dsl::exists(unread_chat_notes(id, other))).get_result(conn)?;
        if !told {
            let title = match chat.item() {
                Some(item) => listing_info(conn, item)?.map(|l| l.title),
                None => None,
            };
            notify::notify(
                conn,
                other,
                &Notice::chat(id, title.as_deref().unwrap_or("")),
            )?;
        } else {
            crate::db::signal_user(conn, other)?;
        }
        crate::db::signal_user(conn, me)?;
        Ok(message)
    })
}
