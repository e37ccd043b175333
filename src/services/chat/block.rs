//! Blocking and unblocking a member.

use super::*;
use crate::db::write_tx;
use crate::domain::msg::Msg;
use crate::services::now;

#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    #[error("No such member.")]
    NotFound,
    #[error("You cannot block yourself.")]
    Yourself,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
crate::unexpected_error!(BlockError);

impl BlockError {
    /// The reason in the reader's language; `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            BlockError::Yourself => Msg::new("chat.error_block_self"),
            BlockError::NotFound | BlockError::Unexpected(_) => Msg::new("chat.error_generic"),
        }
    }
}

/// `me` blocks (`block = true`) or unblocks `other`. Doing it twice changes nothing.
#[tracing::instrument(skip(conn), fields(user.id = me, other.id = other))]
pub fn set_block(
    conn: &mut DbConnection,
    me: UserId,
    other: UserId,
    block: bool,
) -> Result<(), BlockError> {
    if me == other {
        return Err(BlockError::Yourself);
    }
    let done = write_tx(conn, |conn| {
        let exists: bool =
            diesel::select(diesel::dsl::exists(users::table.find(other))).get_result(conn)?;
        if !exists {
            return Err(BlockError::NotFound);
        }
        let already = has_blocked(conn, me, other)?;
        if block && !already {
            diesel::insert_into(user_blocks::table)
                .values((
                    user_blocks::blocker_id.eq(me),
                    user_blocks::blocked_id.eq(other),
                    user_blocks::created_at.eq(now()),
                ))
                .execute(conn)?;
        } else if !block && already {
            diesel::delete(
                user_blocks::table
                    .filter(user_blocks::blocker_id.eq(me))
                    .filter(user_blocks::blocked_id.eq(other)),
            )
            .execute(conn)?;
        }
        Ok(())
    });
    match done {
        // The same block, inserted at the same moment by another request: done either way.
        Err(BlockError::Unexpected(e))
            if e.downcast_ref::<diesel::result::Error>()
                .is_some_and(crate::db::is_unique_violation) =>
        {
            Ok(())
        }
        other => other,
    }
}
