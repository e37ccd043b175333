//! The watchlist (issue 13 item 8): auctions a member starred. A star is a row in `watchlist`;
//! watching is free (no money moves) and says nothing to the seller.

use crate::domain::msg::Msg;
use diesel::prelude::*;

use crate::db::schema::{auctions, users, watchlist};
use crate::db::{is_unique_violation, write_tx, DbConnection};
use crate::domain::UserId;
use crate::services::auctions::Auction;
use crate::services::now;

/// The most auctions `/me/watchlist` shows (the newest stars first).
pub const SHOWN: i64 = 200;

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("No such auction.")]
    NotFound,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl WatchError {
    /// The reason in the reader's language (`locales/msg.*.yml`); `#[error]` is the log's English.
    pub fn msg(&self) -> Msg {
        match self {
            Self::NotFound => Msg::new("err.no_such_auction"),
            Self::Unexpected(_) => Msg::new("err.internal"),
        }
    }
}
crate::unexpected_error!(WatchError);

/// Star (`watch = true`) or unstar an auction; `None` turns the star over. Returns whether the
/// member watches it now. Starring twice or unstarring an auction not starred changes nothing.
#[tracing::instrument(skip(conn), fields(user.id = user_id, auction.id = auction_id))]
pub fn set_watch(
    conn: &mut DbConnection,
    user_id: UserId,
    auction_id: i64,
    watch: Option<bool>,
) -> Result<bool, WatchError> {
    write_tx(conn, |conn| {
        let exists: Option<i64> = auctions::table
            .find(auction_id)
            .select(auctions::id)
            .first(conn)
            .optional()?;
        if exists.is_none() {
            return Err(WatchError::NotFound);
        }
        let mine = watchlist::table
            .filter(watchlist::user_id.eq(user_id))
            .filter(watchlist::auction_id.eq(auction_id));
        let watching: i64 = mine.count().get_result(conn)?;
        let want = watch.unwrap_or(watching == 0);
        if want && watching == 0 {
            let inserted = diesel::insert_into(watchlist::table)
                .values((
                    watchlist::user_id.eq(user_id),
                    watchlist::auction_id.eq(auction_id),
                    watchlist::created_at.eq(now()),
                ))
                .execute(conn);
            match inserted {
                // Another request of the same member starred it first: starred either way.
                Err(e) if is_unique_violation(&e) => {}
                other => {
                    other?;
                }
            }
        } else if !want && watching > 0 {
            diesel::delete(mine).execute(conn)?;
        }
        Ok(want)
    })
}

/// Whether the member watches the auction.
pub fn is_watching(conn: &mut DbConnection, user_id: UserId, auction_id: i64) -> QueryResult<bool> {
    let n: i64 = watchlist::table
        .filter(watchlist::user_id.eq(user_id))
        .filter(watchlist::auction_id.eq(auction_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// One watched auction and the display name of its leader (when it has one).
pub struct Watched {
    pub auction: Auction,
    pub leader_name: Option<String>,
}

/// The member's watched auctions as they are now, newest star first (at most [`SHOWN`]).
pub fn watchlist_of(conn: &mut DbConnection, user_id: UserId) -> QueryResult<Vec<Watched>> {
    let list: Vec<Auction> = watchlist::table
        .inner_join(auctions::table)
        .filter(watchlist::user_id.eq(user_id))
        .order((watchlist::created_at.desc(), watchlist::auction_id.desc()))
        .limit(SHOWN)
        .select(Auction::as_select())
        .load(conn)?;
    let leader_ids: Vec<i64> = list.iter().filter_map(|a| a.leader_id).collect();
    let names: Vec<(i64, String)> = if leader_ids.is_empty() {
        Vec::new()
    } else {
        users::table
            .filter(users::id.eq_any(&leader_ids))
            .select((users::id, users::display_name))
            .load(conn)?
    };
    Ok(list
        .into_iter()
        .map(|a| Watched {
            leader_name: a.leader_id.and_then(|l| {
                names
                    .iter()
                    .find(|(id, _)| *id == l)
                    .map(|(_, n)| n.clone())
            }),
            auction: a,
        })
        .collect())
}

/// The ids of the auctions [`watchlist_of`] shows (the member's socket follows them).
pub fn watched_ids(conn: &mut DbConnection, user_id: UserId) -> QueryResult<Vec<i64>> {
    watchlist::table
        .filter(watchlist::user_id.eq(user_id))
        .order((watchlist::created_at.desc(), watchlist::auction_id.desc()))
        .limit(SHOWN)
        .select(watchlist::auction_id)
        .load(conn)
}
