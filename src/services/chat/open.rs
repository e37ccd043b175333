//! Opening (or finding) the conversation about a listing with its seller.

use super::*;
use crate::db::write_tx;
use crate::domain::msg::Msg;
use crate::services::now;

#[derive(Debug, thiserror::Error)]
pub enum OpenChatError {
    #[error("No such listing.")]
    NotFound,
    #[error("This is your own listing: neighbours who write to you about it are in your chats.")]
    OwnListing,
    #[error("Sorry, this member does not take messages from you.")]
    Blocked,
    #[error("You blocked this member: unblock them on their profile to chat again.")]
    YouBlocked,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
crate::unexpected_error!(OpenChatError);

impl OpenChatError {
    /// The translation key of the reason shown to the member.
    pub fn key(&self) -> &'static str {
        match self {
            OpenChatError::OwnListing => "chat.error_own_listing",
            OpenChatError::Blocked => "chat.error_blocked",
            OpenChatError::YouBlocked => "chat.error_you_blocked",
            OpenChatError::NotFound | OpenChatError::Unexpected(_) => "chat.error_generic",
        }
    }

    /// The reason in the reader's language; `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        Msg::new(self.key())
    }
}

/// Open (or find) the conversation between `me` and the seller of `item`: created once, even
/// when several requests ask at the same moment (the unique indexes `chats_*_once`). Returns its
/// id.
#[tracing::instrument(skip(conn), fields(user.id = me))]
pub fn open(conn: &mut DbConnection, me: UserId, item: TradeItem) -> Result<i64, OpenChatError> {
    const SQL: &str = "INSERT INTO chats (product_id, auction_id, seller_id, neighbour_id, created_at, last_message_at) \
        VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING";
    write_tx(conn, |conn| {
        let listing = listing_info(conn, item)?.ok_or(OpenChatError::NotFound)?;
        let seller = listing.seller_id;
        if seller == me {
            return Err(OpenChatError::OwnListing);
        }
        if has_blocked(conn, seller, me)? {
            return Err(OpenChatError::Blocked);
        }
        if has_blocked(conn, me, seller)? {
            return Err(OpenChatError::YouBlocked);
        }
        let (product, auction) = match item {
            TradeItem::Product(p) => (Some(p), None),
            TradeItem::Auction(a) => (None, Some(a)),
        };
        let at = now();
        macro_rules! insert {
            ($c:expr, $sql:expr) => {
                diesel::sql_query($sql)
                    .bind::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>, _>(product)
                    .bind::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>, _>(auction)
                    .bind::<diesel::sql_types::BigInt, _>(seller)
                    .bind::<diesel::sql_types::BigInt, _>(me)
                    .bind::<diesel::sql_types::Timestamp, _>(at)
                    .execute($c)
            };
        }
        match conn {
            DbConnection::Pg(c) => insert!(c, SQL)?,
            DbConnection::Sqlite(c) => insert!(c, SQL.replace('$', "?"))?,
        };
        let query = chats::table
            .filter(chats::neighbour_id.eq(me))
            .select(chats::id);
        let id = match item {
            TradeItem::Product(p) => query.filter(chats::product_id.eq(p)).first(conn)?,
            TradeItem::Auction(a) => query.filter(chats::auction_id.eq(a)).first(conn)?,
        };
        Ok(id)
    })
}
