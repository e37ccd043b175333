//! What every live socket shares (the auction panel's and the member's `/me/live`): how many
//! one user and one client address may hold open in this process (a slot is taken before the
//! WebSocket handshake and given back when the socket's task ends), the origin check, the
//! session check, the close frames, and sending with a time limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::http::header;
use actix_web::HttpRequest;

use crate::services::sessions::SessionKey;
use crate::web::extract::live_session;
use crate::web::AppState;

/// The open-socket counts, per `user:ID` and `ip:ADDR`.
pub struct SocketSlots {
    counts: Mutex<HashMap<String, usize>>,
    per_user: usize,
    per_ip: usize,
}

/// One open socket's place; dropping it frees the place.
pub struct SocketSlot {
    slots: Arc<SocketSlots>,
    keys: Vec<String>,
}

impl SocketSlots {
    pub fn new(per_user: usize, per_ip: usize) -> Arc<SocketSlots> {
        Arc::new(SocketSlots {
            counts: Mutex::new(HashMap::new()),
            per_user,
            per_ip,
        })
    }

    /// A place for one more socket of `user` (when logged in) from `ip`, or `None` when either
    /// already holds its most.
    pub fn take(self: &Arc<Self>, user: Option<i64>, ip: &str) -> Option<SocketSlot> {
        let mut wanted = vec![(format!("ip:{ip}"), self.per_ip)];
        if let Some(id) = user {
            wanted.push((format!("user:{id}"), self.per_user));
        }
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if wanted
            .iter()
            .any(|(key, max)| counts.get(key).copied().unwrap_or(0) >= *max)
        {
            return None;
        }
        for (key, _) in &wanted {
            *counts.entry(key.clone()).or_insert(0) += 1;
        }
        Some(SocketSlot {
            slots: self.clone(),
            keys: wanted.into_iter().map(|(k, _)| k).collect(),
        })
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut counts = self
            .slots
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for key in &self.keys {
            if let Some(n) = counts.get_mut(key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    counts.remove(key);
                }
            }
        }
    }
}

/// Only pages of this site may open the socket: `Origin` must name the host the request came to.
pub fn same_origin(req: &HttpRequest) -> bool {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let info = req.connection_info();
    let host = info.host();
    origin == format!("http://{host}") || origin == format!("https://{host}")
}

/// Whether a logged-in socket may go on. A database that cannot answer ends nothing (the
/// next check decides); an anonymous socket has nothing to check.
pub async fn session_stands(state: &AppState, user: Option<&SessionKey>) -> bool {
    let Some(key) = user else { return true };
    match live_session(state, key.clone()).await {
        Ok(live) => live,
        Err(e) => {
            e.log();
            true
        }
    }
}

/// The close frame for a socket whose session has ended.
pub fn session_ended() -> actix_ws::CloseReason {
    actix_ws::CloseReason {
        code: actix_ws::CloseCode::Policy,
        description: Some("Your session has ended. Log in again.".to_owned()),
    }
}

/// The close frame for every socket when the server shuts down.
pub fn going_away() -> actix_ws::CloseReason {
    actix_ws::CloseReason {
        code: actix_ws::CloseCode::Away,
        description: Some("The server is restarting. Reconnect in a moment.".to_owned()),
    }
}

/// Send one frame; a client that does not take it within `limit` (its buffers full because it
/// stopped reading) counts as gone, so a slow reader cannot hold the socket open forever.
pub async fn send(ws: &mut actix_ws::Session, frame: String, limit: std::time::Duration) -> bool {
    matches!(
        tokio::time::timeout(limit, ws.text(frame)).await,
        Ok(Ok(()))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_per_user_and_per_address_and_given_back() {
        let slots = SocketSlots::new(2, 3);
        let a = slots.take(Some(1), "10.0.0.1").unwrap();
        let b = slots.take(Some(1), "10.0.0.1").unwrap();
        assert!(
            slots.take(Some(1), "10.0.0.2").is_none(),
            "the user has two"
        );
        let c = slots.take(None, "10.0.0.1").unwrap();
        assert!(
            slots.take(Some(2), "10.0.0.1").is_none(),
            "the address has three"
        );
        drop(a);
        assert!(slots.take(Some(2), "10.0.0.1").is_some());
        drop((b, c));
        assert!(slots.counts.lock().unwrap().is_empty());
    }
}
