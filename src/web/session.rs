//! What the session cookie carries: the user id and the token of their server-side session
//! (see [`crate::services::sessions`]), the CSRF token, one-shot flash messages. The cookie's
//! claim is believed only once the sessions table agrees ([`crate::web::extract`]).

use actix_session::Session;

use crate::domain::lang::Lang;
use crate::domain::msg::Msg;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::services::now;
use crate::services::sessions::{self, SessionKey};
use crate::web::{db, AppError, AppState};

const USER_ID: &str = "uid";
const TOKEN: &str = "sid";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";

/// What the cookie claims: a user and the token of one login. Not yet checked.
pub fn claim(session: &Session) -> Option<SessionKey> {
    let user_id = session.get::<i64>(USER_ID).ok().flatten()?;
    let token = session.get::<String>(TOKEN).ok().flatten()?;
    Some(SessionKey::new(user_id, token))
}

/// Whether the cookie names a user at all (checked or not, ended or not).
pub fn names_a_user(session: &Session) -> bool {
    session.contains_key(USER_ID)
}

/// Log a user in: a new row in the sessions table, then a new session id (against fixation)
/// carrying the user and the row's token.
pub async fn log_in(state: &AppState, session: &Session, user_id: i64) -> Result<(), AppError> {
    let key = SessionKey::new(user_id, new_token());
    let row = key.clone();
    db(state, move |conn| sessions::start(conn, &row, now())).await?;
    adopt(session, &key)
}

/// Put a session that was started on the server into the cookie, as a new session id with a
/// new CSRF token.
pub fn adopt(session: &Session, key: &SessionKey) -> Result<(), AppError> {
    session.renew();
    let stored = session
        .insert(USER_ID, key.user_id)
        .and_then(|()| session.insert(TOKEN, key.token()))
        .and_then(|()| session.insert(CSRF, new_token()));
    stored.map_err(|e| AppError::Internal(anyhow::Error::new(e)))
}

/// Log out: end the session on the server (its cookie, wherever copied, is then worth
/// nothing), then clear the cookie. When the server cannot be told, the cookie stays and the
/// error is answered: a logout that only forgot the cookie here would be a false promise.
pub async fn log_out(state: &AppState, session: &Session) -> Result<(), AppError> {
    if let Some(key) = claim(session) {
        let user_id = key.user_id;
        db(state, move |conn| sessions::end(conn, &key)).await?;
        state.live.sessions_ended(user_id);
    }
    session.purge();
    Ok(())
}

/// Drop a claim the server no longer honours (ended, expired, suspended), keeping the CSRF
/// token so the page being rendered can still post its forms (the log-in form).
pub fn forget(session: &Session) {
    session.remove(USER_ID);
    session.remove(TOKEN);
}

/// 32 random bytes, hex.
pub fn new_token() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The session's CSRF token, created on first use.
pub fn csrf_token(session: &Session) -> String {
    if let Some(t) = session.get::<String>(CSRF).ok().flatten() {
        return t;
    }
    let t = new_token();
    if let Err(e) = session.insert(CSRF, &t) {
        tracing::warn!(error = %e, "could not store the CSRF token");
    }
    t
}

pub fn stored_csrf_token(session: &Session) -> Option<String> {
    session.get::<String>(CSRF).ok().flatten()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    /// `success`, `info` or `error`.
    pub kind: String,
    pub message: String,
}

/// At most this many flashes wait in the session: a client that never reads a page (a
/// script posting bids) must not grow the cookie past the 4 KB a browser keeps.
const MAX_FLASHES: usize = 3;

/// A flash as it waits in the session: its kind and a sentence in no language yet.
#[derive(serde::Serialize, serde::Deserialize)]
struct Waiting {
    kind: String,
    msg: Msg,
}

pub fn flash(session: &Session, kind: &str, message: Msg) {
    let mut list: Vec<Waiting> = session.get(FLASH).ok().flatten().unwrap_or_default();
    if list.len() >= MAX_FLASHES {
        list.drain(..=list.len() - MAX_FLASHES);
    }
    list.push(Waiting {
        kind: kind.to_owned(),
        msg: message,
    });
    if let Err(e) = session.insert(FLASH, list) {
        tracing::warn!(error = %e, "could not store a flash message");
    }
}

/// The waiting flashes, written in `lang` (the language of the page showing them).
pub fn take_flashes(session: &Session, lang: Lang) -> Vec<Flash> {
    session
        .remove_as::<Vec<Waiting>>(FLASH)
        .and_then(Result::ok)
        .unwrap_or_default()
        .into_iter()
        .map(|w| Flash {
            kind: w.kind,
            message: w.msg.text(lang),
        })
        .collect()
}
