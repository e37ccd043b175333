//! Live updates for national auctions: per-auction channels in this process, fed by one relay
//! that renders each committed change once (from the same partial the page uses) and hands it
//! to every local watcher.
//!
//! Where events come from: on SQLite (one process) the web layer and the scheduler call
//! [`LiveHub::after_commit`] once the transaction has committed. On PostgreSQL the services
//! send `NOTIFY auction_events` inside the transaction (delivered only on commit) and every
//! process `LISTEN`s ([`listen`]), so a change made in any process reaches the watchers of all.

pub mod listen;

use std::collections::HashMap;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use askama::Template;
use serde::Serialize;
use tokio::sync::{broadcast, watch};

use crate::db::DbPool;
use crate::domain::lang::Lang;
use crate::domain::Won;
use crate::services::events::AuctionEvent;
use crate::views::auction::{load_state, AuctionState, StateFragment};
use crate::views::i18n::{lang_index, Tr, LANGS};

/// The relay sends at most one snapshot per this interval; changes committed meanwhile are all
/// in the next one (a burst of a thousand bids a second becomes fifty frames per watcher).
const MIN_GAP: Duration = Duration::from_millis(20);

/// Updates a watcher may fall behind by before it is resynchronised with a snapshot.
const CHANNEL_CAPACITY: usize = 32;

/// One committed change, rendered once for every watcher of the auction.
pub struct LiveUpdate {
    /// The `state` frame (JSON text) every watcher gets, rendered once per language
    /// ([`crate::views::i18n::LANGS`] order); each socket sends the one in its language.
    pub frames: [String; 2],
    /// The `chart` frame (JSON text): the price chart, language-neutral, sent after the state.
    pub chart: String,
    /// Bidders whose hold was released by this change, and how much.
    pub outbid: Vec<(i64, Won)>,
    /// The state the frame was rendered from (the watchlists render their rows from it).
    pub state: Arc<AuctionState>,
}

impl LiveUpdate {
    /// The `state` frame in a watcher's language.
    pub fn frame(&self, lang: Lang) -> &str {
        &self.frames[lang_index(lang)]
    }
}

impl std::fmt::Debug for LiveUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveUpdate")
            .field("auction", &self.state.id)
            .field("outbid", &self.outbid)
            .finish_non_exhaustive()
    }
}

/// Updates a watchlist socket may fall behind by before it reads its rows again (one channel
/// carries every quietly watched auction of the process).
const QUIET_CAPACITY: usize = 256;

/// The per-auction channels of this process, and the relay's queue.
pub struct LiveHub {
    channels: Mutex<HashMap<i64, broadcast::Sender<Arc<LiveUpdate>>>>,
    queue: Mutex<mpsc::Sender<AuctionEvent>>,
    /// On PostgreSQL the `LISTEN` thread feeds the relay; publishing after commit would double it.
    via_notify: bool,
    /// Users some of whose sessions ended in this process (logout, password change,
    /// suspension): their sockets check their own session at once.
    sessions_ended: broadcast::Sender<i64>,
    /// Becomes `true` once the server starts shutting down: every socket closes with "going
    /// away" (1001) and the scheduler stops between two auctions.
    shutting_down: watch::Sender<bool>,
    /// This process's name in the shared watcher counts ([`crate::services::presence`]).
    process: String,
    /// Per-member channels of this process's `/me/live` sockets: a message means "your
    /// notifications or wallet changed; read them again".
    members: Mutex<HashMap<i64, broadcast::Sender<()>>>,
    /// Auctions watched quietly (the members' watchlists) and by how many sockets: the relay
    /// renders them too, but they are not in any panel's watcher count.
    quiet: Mutex<HashMap<i64, usize>>,
    /// Every update of a quietly watched auction; each socket keeps those it asked for.
    quiet_tx: broadcast::Sender<Arc<LiveUpdate>>,
}

/// A socket's quiet interest in some auctions ([`LiveHub::watch_quietly`]): its updates arrive
/// on [`QuietWatch::rx`]; dropping it ends the interest.
pub struct QuietWatch {
    hub: std::sync::Weak<LiveHub>,
    ids: std::collections::HashSet<i64>,
    pub rx: broadcast::Receiver<Arc<LiveUpdate>>,
}

impl QuietWatch {
    /// Whether this socket asked for the auction.
    pub fn wants(&self, auction_id: i64) -> bool {
        self.ids.contains(&auction_id)
    }
}

impl Drop for QuietWatch {
    fn drop(&mut self) {
        let Some(hub) = self.hub.upgrade() else {
            return;
        };
        let mut quiet = lock(&hub.quiet);
        for id in &self.ids {
            if let Some(n) = quiet.get_mut(id) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    quiet.remove(id);
                }
            }
        }
    }
}

/// How often this process writes its watcher counts for the others (and reads theirs into
/// the panels it renders).
const PRESENCE_EVERY: Duration = Duration::from_secs(2);
/// Written at least this often even when nothing changed, so the rows stay fresh.
const PRESENCE_HEARTBEAT: Duration = Duration::from_secs(5);

/// What a frame to the browser looks like: `{"type": …, "html": …, "at": …}`.
#[derive(Serialize)]
pub struct Frame<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub html: &'a str,
    /// Microseconds since the epoch when the change committed (benchmarks read it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
}

impl Frame<'_> {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}

/// A short message for one watcher (ack, refusal, "you were outbid").
#[derive(Template)]
#[template(path = "partials/_live_notice.html")]
pub struct NoticeFragment<'a> {
    pub kind: &'a str,
    pub message: &'a str,
}

pub fn notice_frame(frame_type: &str, kind: &str, message: &str) -> String {
    let html = NoticeFragment { kind, message }
        .render()
        .unwrap_or_else(|_| String::new());
    Frame {
        kind: frame_type,
        html: &html,
        at: None,
    }
    .to_json()
}

pub fn state_frame(state: &AuctionState, at: Option<i64>, ctx: Tr) -> String {
    let html = StateFragment { state, ctx }.render().unwrap_or_default();
    Frame {
        kind: "state",
        html: &html,
        at,
    }
    .to_json()
}

/// The price chart's live update: `{"type":"chart","html":…}`, the chart's SVG and its text
/// fallback's rows, each put in place of the element with its id (numbers and times only).
pub fn chart_frame(state: &AuctionState) -> String {
    let html = state.chart.live_html();
    Frame {
        kind: "chart",
        html: &html,
        at: None,
    }
    .to_json()
}

impl LiveHub {
    /// Start the relay thread (and, on PostgreSQL, the `LISTEN` thread).
    pub fn start(
        pool: DbPool,
        tz: chrono_tz::Tz,
        listen_url: Option<String>,
    ) -> std::io::Result<Arc<LiveHub>> {
        let (tx, rx) = mpsc::channel::<AuctionEvent>();
        let hub = Arc::new(LiveHub {
            channels: Mutex::new(HashMap::new()),
            queue: Mutex::new(tx.clone()),
            via_notify: listen_url.is_some(),
            sessions_ended: broadcast::channel(CHANNEL_CAPACITY).0,
            shutting_down: watch::channel(false).0,
            process: crate::db::once::fresh_key(),
            members: Mutex::new(HashMap::new()),
            quiet: Mutex::new(HashMap::new()),
            quiet_tx: broadcast::channel(QUIET_CAPACITY).0,
        });
        // SQLite: members signalled by a transaction are heard here once it commits (on
        // PostgreSQL they come through `LISTEN user_events`).
        let weak = Arc::downgrade(&hub);
        crate::db::on_user_signals(&pool, move |ids| {
            if let Some(hub) = weak.upgrade() {
                for id in ids {
                    hub.member_changed(*id);
                }
            }
        })
        .map_err(std::io::Error::other)?;
        let weak = Arc::downgrade(&hub);
        let relay_pool = pool.clone();
        std::thread::Builder::new()
            .name("live-relay".to_owned())
            .spawn(move || relay(weak, rx, relay_pool, tz))?;
        let weak = Arc::downgrade(&hub);
        std::thread::Builder::new()
            .name("live-presence".to_owned())
            .spawn(move || presence(weak, pool))?;
        if let Some(url) = listen_url {
            listen::spawn(url, tx, Arc::downgrade(&hub))?;
        }
        Ok(hub)
    }

    /// Watch an auction.
    pub fn subscribe(&self, auction_id: i64) -> broadcast::Receiver<Arc<LiveUpdate>> {
        let mut channels = lock(&self.channels);
        channels
            .entry(auction_id)
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }

    /// Watch auctions without being counted as a watcher (a member's watchlist): the relay
    /// renders their changes (made in this process or, on PostgreSQL, any other) and sends
    /// them on the returned receiver, among those of other quiet sockets.
    pub fn watch_quietly(self: &Arc<Self>, ids: impl IntoIterator<Item = i64>) -> QuietWatch {
        let ids: std::collections::HashSet<i64> = ids.into_iter().collect();
        // Subscribed before the interest is registered: nothing rendered for it is missed.
        let rx = self.quiet_tx.subscribe();
        let mut quiet = lock(&self.quiet);
        for id in &ids {
            *quiet.entry(*id).or_insert(0) += 1;
        }
        QuietWatch {
            hub: Arc::downgrade(self),
            ids,
            rx,
        }
    }

    /// Whether some socket of this process watches the auction quietly.
    fn quietly_watched(&self, auction_id: i64) -> bool {
        lock(&self.quiet).contains_key(&auction_id)
    }

    /// Hear of changes to a member's notifications or wallet (their `/me/live` socket).
    pub fn subscribe_member(&self, user_id: i64) -> broadcast::Receiver<()> {
        lock(&self.members)
            .entry(user_id)
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }

    /// A member's notifications or wallet changed (a committed transaction said so): their
    /// sockets in this process read them again.
    pub fn member_changed(&self, user_id: i64) {
        let mut members = lock(&self.members);
        if let Some(tx) = members.get(&user_id) {
            if tx.send(()).is_err() {
                members.remove(&user_id);
            }
        }
    }

    /// Every member socket of this process reads its figures again (after the `LISTEN`
    /// connection came back).
    pub fn resync_members(&self) {
        let mut members = lock(&self.members);
        members.retain(|_, tx| tx.send(()).is_ok());
    }

    /// How many sockets watch the auction: this process's, live, plus what the other server
    /// processes wrote in the last seconds.
    pub fn watchers_everywhere(
        &self,
        conn: &mut crate::db::DbConnection,
        auction_id: i64,
    ) -> usize {
        let others = crate::services::presence::others(conn, &self.process, auction_id)
            .unwrap_or_else(|e| {
                tracing::debug!(error = %e, "other processes' watchers unknown");
                0
            });
        self.watchers(auction_id) + others
    }

    /// How many sockets of this process watch the auction.
    pub fn watchers(&self, auction_id: i64) -> usize {
        lock(&self.channels)
            .get(&auction_id)
            .map_or(0, broadcast::Sender::receiver_count)
    }

    /// Call once a transaction that ended sessions of `user_id` has committed: this process's
    /// sockets of that user check their session now. (Other processes' sockets find out at
    /// their next periodic check.)
    pub fn sessions_ended(&self, user_id: i64) {
        let _ = self.sessions_ended.send(user_id);
    }

    /// Hear of [`LiveHub::sessions_ended`].
    pub fn watch_sessions(&self) -> broadcast::Receiver<i64> {
        self.sessions_ended.subscribe()
    }

    /// The server is shutting down: tell every socket and the scheduler (once; later calls do
    /// nothing more).
    pub fn shut_down(&self) {
        self.shutting_down.send_replace(true);
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.shutting_down.borrow()
    }

    /// Hear of [`LiveHub::shut_down`]: the value turns `true` once.
    pub fn watch_shutdown(&self) -> watch::Receiver<bool> {
        self.shutting_down.subscribe()
    }

    /// Call once a transaction that changed an auction has committed.
    pub fn after_commit(&self, event: AuctionEvent) {
        if !self.via_notify {
            self.enqueue(event);
        }
    }

    /// Send every auction watched in this process its current state (after the `LISTEN`
    /// connection came back: what committed while nobody listened was never announced).
    pub fn resync(&self) {
        let mut watched: Vec<i64> = lock(&self.channels)
            .iter()
            .filter(|(_, tx)| tx.receiver_count() > 0)
            .map(|(id, _)| *id)
            .collect();
        watched.extend(lock(&self.quiet).keys().copied());
        watched.sort_unstable();
        watched.dedup();
        tracing::info!(auctions = watched.len(), "live panels resynchronised");
        for auction_id in watched {
            self.enqueue(AuctionEvent::new(auction_id, None));
        }
    }

    pub(crate) fn enqueue(&self, event: AuctionEvent) {
        if lock(&self.queue).send(event).is_err() {
            tracing::warn!("the live relay has stopped");
        }
    }

    fn sender(&self, auction_id: i64) -> Option<broadcast::Sender<Arc<LiveUpdate>>> {
        let mut channels = lock(&self.channels);
        match channels.get(&auction_id) {
            Some(tx) if tx.receiver_count() > 0 => Some(tx.clone()),
            Some(_) => {
                channels.remove(&auction_id);
                None
            }
            None => None,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// How soon the relay tries again to render a snapshot it could not (the database was away).
const RETRY_SNAPSHOT: Duration = Duration::from_millis(250);

/// Take events off the queue; render each watched auction once per batch (a burst of bids
/// becomes one snapshot) and hand it to its watchers. A snapshot that cannot be rendered (the
/// database is away) is tried again later rather than dropped, so its watchers still get it.
fn relay(
    hub: std::sync::Weak<LiveHub>,
    rx: mpsc::Receiver<AuctionEvent>,
    pool: DbPool,
    tz: chrono_tz::Tz,
) {
    let mut last_flush = std::time::Instant::now() - MIN_GAP;
    // Auctions whose snapshot failed: their watchers are still owed one.
    let mut owed: HashMap<i64, (Vec<(i64, Won)>, i64)> = HashMap::new();
    loop {
        let first = if owed.is_empty() {
            match rx.recv() {
                Ok(event) => Some(event),
                Err(_) => return,
            }
        } else {
            match rx.recv_timeout(RETRY_SNAPSHOT) {
                Ok(event) => Some(event),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        };
        let Some(hub) = hub.upgrade() else { return };
        // Gather the burst: at most one snapshot per MIN_GAP, holding every change since.
        let since = last_flush.elapsed();
        if since < MIN_GAP {
            std::thread::sleep(MIN_GAP - since);
        }
        last_flush = std::time::Instant::now();
        let mut batch: Vec<AuctionEvent> = first.into_iter().collect();
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
            if batch.len() >= 1024 {
                break;
            }
        }
        let retrying: std::collections::HashSet<i64> = owed.keys().copied().collect();
        let mut by_auction = std::mem::take(&mut owed);
        for e in batch {
            let entry = by_auction.entry(e.auction_id).or_insert((Vec::new(), e.at));
            if let Some((user, amount)) = e.outbid {
                entry.0.push((user, Won::from_stored(amount)));
            }
            entry.1 = entry.1.min(e.at);
        }
        for (auction_id, (outbid, at)) in by_auction {
            let tx = hub.sender(auction_id);
            let quiet = hub.quietly_watched(auction_id);
            if tx.is_none() && !quiet {
                continue;
            }
            let state = match pool.get() {
                Ok(mut conn) => {
                    let watchers = hub.watchers_everywhere(&mut conn, auction_id);
                    load_state(&mut conn, auction_id, tz, watchers)
                }
                Err(e) => Err(anyhow::Error::new(e)),
            };
            match state {
                Ok(Some(state)) => {
                    let update = Arc::new(LiveUpdate {
                        frames: LANGS.map(|lang| state_frame(&state, Some(at), Tr::new(lang, tz))),
                        // Only the panels show the chart (a watchlist row does not).
                        chart: if tx.is_some() {
                            chart_frame(&state)
                        } else {
                            String::new()
                        },
                        outbid,
                        state: Arc::new(state),
                    });
                    if quiet {
                        let _ = hub.quiet_tx.send(Arc::clone(&update));
                    }
                    if let Some(tx) = tx {
                        let _ = tx.send(update);
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    if !retrying.contains(&auction_id) {
                        tracing::warn!(
                            auction.id = auction_id,
                            error = format!("{e:#}"),
                            "live snapshot failed"
                        );
                    }
                    if crate::db::is_unavailable(&e) {
                        owed.insert(auction_id, (outbid, at));
                    }
                }
            }
        }
    }
}

/// Every [`PRESENCE_EVERY`]: write this process's watcher counts for the other processes, and
/// when a count changed, have every process re-render that auction's panel (on PostgreSQL a
/// `NOTIFY`, which reaches this process too; on SQLite the local relay). On the way out the
/// counts are removed. A database that is away is tried again at the next round.
fn presence(hub: std::sync::Weak<LiveHub>, pool: DbPool) {
    let mut last: HashMap<i64, i32> = HashMap::new();
    let mut written = std::time::Instant::now() - PRESENCE_HEARTBEAT;
    loop {
        std::thread::sleep(PRESENCE_EVERY);
        let Some(hub) = hub.upgrade() else { return };
        let counts: HashMap<i64, i32> = lock(&hub.channels)
            .iter()
            .map(|(id, tx)| (*id, i32::try_from(tx.receiver_count()).unwrap_or(i32::MAX)))
            .filter(|(_, n)| *n > 0)
            .collect();
        if hub.is_shutting_down() {
            if let Ok(mut conn) = pool.get() {
                let _ = crate::services::presence::forget(&mut conn, &hub.process);
            }
            return;
        }
        let changed: Vec<i64> = counts
            .iter()
            .filter(|(id, n)| last.get(id) != Some(n))
            .map(|(id, _)| *id)
            .chain(last.keys().filter(|id| !counts.contains_key(id)).copied())
            .collect();
        // Nothing watched here, now or before: nothing to write (no idle writes).
        if counts.is_empty() && last.is_empty() {
            continue;
        }
        if changed.is_empty() && written.elapsed() < PRESENCE_HEARTBEAT {
            continue;
        }
        let Ok(mut conn) = pool.get() else { continue };
        let rows: Vec<(i64, i32)> = counts.iter().map(|(id, n)| (*id, *n)).collect();
        if let Err(e) = crate::services::presence::publish(&mut conn, &hub.process, &rows) {
            tracing::debug!(error = format!("{e:#}"), "watcher counts not written");
            continue;
        }
        written = std::time::Instant::now();
        for auction_id in changed {
            let event = AuctionEvent::new(auction_id, None);
            if hub.via_notify {
                let _ = crate::services::events::notify(&mut conn, &event);
            } else {
                hub.enqueue(event);
            }
        }
        last = counts;
    }
}
