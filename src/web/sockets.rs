//! How many live sockets one user and one client address may hold open in this process. A slot
//! is taken before the WebSocket handshake and given back when the socket's task ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

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
