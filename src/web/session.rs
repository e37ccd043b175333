//! What the session cookie carries: the user id, the CSRF token, one-shot flash messages.

use actix_session::Session;
use rand::RngCore;
use serde::{Deserialize, Serialize};

const USER_ID: &str = "uid";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";

pub fn user_id(session: &Session) -> Option<i64> {
    session.get::<i64>(USER_ID).ok().flatten()
}

/// Log a user in: a new session id (against fixation), then the user id.
pub fn log_in(session: &Session, user_id: i64) -> Result<(), anyhow::Error> {
    session.renew();
    session.insert(USER_ID, user_id)?;
    session.insert(CSRF, new_token())?;
    Ok(())
}

pub fn log_out(session: &Session) {
    session.purge();
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

pub fn flash(session: &Session, kind: &str, message: impl Into<String>) {
    let mut list: Vec<Flash> = session.get(FLASH).ok().flatten().unwrap_or_default();
    if list.len() >= MAX_FLASHES {
        list.drain(..=list.len() - MAX_FLASHES);
    }
    list.push(Flash {
        kind: kind.to_owned(),
        message: message.into(),
    });
    if let Err(e) = session.insert(FLASH, list) {
        tracing::warn!(error = %e, "could not store a flash message");
    }
}

pub fn take_flashes(session: &Session) -> Vec<Flash> {
    session
        .remove_as::<Vec<Flash>>(FLASH)
        .and_then(Result::ok)
        .unwrap_or_default()
}
