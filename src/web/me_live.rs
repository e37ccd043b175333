//! `GET /me/live`: the per-member WebSocket. It keeps the header of every page live: after a
//! transaction that wrote the member a notification or moved their wallet commits, it pushes
//! the header's fragment again (unread badge and available balance, `partials/_me_bar.html`,
//! as `{"type":"me","html":…}`) and, for a notification newer than any the socket has shown, a
//! short notice (`{"type":"notification","html":…}`). It crosses processes on PostgreSQL the
//! way the live panel does: the signal is a `NOTIFY user_events` sent inside the transaction
//! ([`crate::db::signal_user`]), heard by every process's `LISTEN` thread.
//!
//! Opened from `/me/watchlist` (`/me/live?watchlist=1`), it also keeps that page's rows live:
//! it reads the member's watched auctions once, watches them quietly (they do not count as
//! watchers on the auction pages, [`crate::live::LiveHub::watch_quietly`]), pushes every row as
//! it is now, then a row again after each committed change to one of them (in any process on
//! PostgreSQL), as `{"type":"watch","auction":id,"html":…}`, rendered by the page's own row
//! partial. Auctions starred or unstarred meanwhile are followed from the next page load.
//!
//! Opened from a chat page (`/me/live?chat={id}&after={last}`), it also pushes that
//! conversation's new messages (see [`crate::web::chats::live`]); on every page it keeps the
//! header's unread-chats badge live (`{"type":"chats","html":…}`).
//!
//! Only for logged-in members (403 otherwise), only from pages of this site (`Origin`), within
//! the same per-member and per-address socket limits as the live panel; the session is checked
//! like the live panel's (periodically and when this process ends one of the member's sessions).

use std::time::Instant;

use actix_session::SessionExt;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::AggregatedMessage;
use askama::Template;
use futures_util::StreamExt;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use std::sync::Arc;

use crate::domain::msg::Msg;
use crate::live::{Frame, LiveUpdate, QuietWatch};
use crate::services::sessions::SessionKey;
use crate::services::watchlist;
use crate::services::{notify, now};
use crate::views::i18n::Tr;
use crate::views::notification::{sentence, HeaderBar, MeBar, MeToast};
use crate::views::watchlist::{WatchRow, WatchRowFragment};
use crate::web::chats::live::{badge_html, ChatFollow};
use crate::web::extract::live_session;
use crate::web::sockets::{going_away, same_origin, send, session_ended, session_stands};
use crate::web::{db, session, AppError, AppState};

/// Largest frame a client may send (it has nothing to say but pongs).
const MAX_FRAME: usize = 1024;

pub async fn me_live(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if !same_origin(&req) {
        return Err(AppError::Forbidden(Msg::new("err.live.same_site")));
    }
    let key = match session::claim(&req.get_session()) {
        Some(key) if live_session(&state, key.clone()).await? => key,
        _ => {
            return Err(AppError::Forbidden(Msg::new(
                "err.live.log_in_notifications",
            )))
        }
    };
    let ip = crate::web::ratelimit::ip_key(crate::web::client_ip::client_ip(&req));
    let slot = state
        .sockets
        .take(Some(key.user_id), &ip)
        .ok_or_else(|| AppError::TooMany(Msg::new("err.live.too_many")))?;
    let (response, ws, stream) = actix_ws::handle(&req, body).map_err(|e| {
        AppError::BadRequest(Msg::new("err.live.websocket").arg("0", e.to_string()))
    })?;
    let watchlist = req
        .query_string()
        .split('&')
        .any(|pair| pair == "watchlist=1")
        .then(|| session::csrf_token(&req.get_session()));
    let tr = Tr::new(
        crate::web::lang::for_socket(&req, &state, Some(&key)).await,
        state.settings.timezone,
    );
    let chat = ChatFollow::from_query(req.query_string());
    // Subscribed before the first read, so nothing committed in between is missed.
    let rx = state.live.subscribe_member(key.user_id);
    actix_web::rt::spawn(async move {
        run(state, key, tr, ws, stream, rx, watchlist, chat).await;
        drop(slot);
    });
    Ok(response)
}

/// What the header shows now, and the newest unread notification.
struct Figures {
    bar: String,
    /// The header's unread-chats badge.
    chats: String,
    newest: Option<(i64, String)>,
}

async fn figures(state: &AppState, user_id: i64, tr: Tr) -> Option<Figures> {
    let loaded = db(state, move |conn| {
        let figures = notify::header_figures(conn, user_id)?;
        let newest = notify::newest_unread(conn, user_id)?;
        let chats = crate::services::chat::unread_chats(conn, user_id)?;
        Ok::<_, anyhow::Error>(figures.map(|f| (f, newest, chats)))
    })
    .await;
    match loaded {
        Ok(Some(((unread, balance), newest, chats))) => Some(Figures {
            chats: badge_html(chats),
            bar: MeBar {
                bar: HeaderBar { unread, balance },
                ctx: tr,
            }
            .render()
            .unwrap_or_default(),
            newest: newest.map(|n| (n.id, sentence(&n, tr.lang))),
        }),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(
                user.id = user_id,
                error = format!("{e:#}"),
                "member figures failed"
            );
            None
        }
    }
}

/// A watchlist row for the page (`{"type":"watch","auction":…,"html":…}`).
#[derive(serde::Serialize)]
struct WatchFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    auction: i64,
    html: &'a str,
}

fn watch_frame(row: &WatchRow, csrf_token: &str, tr: Tr) -> String {
    let html = WatchRowFragment {
        row,
        csrf_token,
        ctx: tr,
    }
    .render()
    .unwrap_or_default();
    serde_json::to_string(&WatchFrame {
        kind: "watch",
        auction: row.id,
        html: &html,
    })
    .unwrap_or_else(|_| "{}".to_owned())
}

/// The member's watched auctions, watched quietly from now on (`None`: the database failed).
async fn follow_watchlist(state: &AppState, user_id: i64) -> Option<QuietWatch> {
    let ids = db(state, move |conn| {
        watchlist::watched_ids(conn, user_id).map_err(anyhow::Error::new)
    })
    .await;
    match ids {
        Ok(ids) => Some(state.live.watch_quietly(ids)),
        Err(e) => {
            tracing::warn!(
                user.id = user_id,
                error = format!("{e:#}"),
                "watchlist failed"
            );
            None
        }
    }
}

/// Every watched row as it is now (on opening, and after falling behind).
async fn watch_rows(state: &AppState, user_id: i64) -> Option<Vec<WatchRow>> {
    let loaded = db(state, move |conn| {
        watchlist::watchlist_of(conn, user_id).map_err(anyhow::Error::new)
    })
    .await;
    match loaded {
        Ok(list) => {
            let at = now();
            Some(
                list.iter()
                    .map(|w| WatchRow::from_watched(w, user_id, at))
                    .collect(),
            )
        }
        Err(e) => {
            tracing::warn!(
                user.id = user_id,
                error = format!("{e:#}"),
                "watchlist failed"
            );
            None
        }
    }
}

/// Push the rows of the auctions `quiet` follows; `false` when the socket is gone.
async fn push_rows(
    ws: &mut actix_ws::Session,
    rows: Vec<WatchRow>,
    quiet: &QuietWatch,
    csrf_token: &str,
    tr: Tr,
    limit: std::time::Duration,
) -> bool {
    for row in rows.iter().filter(|r| quiet.wants(r.id)) {
        if !send(ws, watch_frame(row, csrf_token, tr), limit).await {
            return false;
        }
    }
    true
}

/// The next update of a quietly watched auction (never, without a watchlist).
async fn next_quiet(
    quiet: &mut Option<(QuietWatch, String)>,
) -> Result<Arc<LiveUpdate>, RecvError> {
    match quiet {
        Some((q, _)) => q.rx.recv().await,
        None => std::future::pending().await,
    }
}

fn frame(kind: &str, html: &str) -> String {
    Frame {
        kind,
        html,
        at: None,
    }
    .to_json()
}

#[allow(
    clippy::too_many_arguments,
    reason = "the socket's own parts, each taken once when it opens"
)]
async fn run(
    state: web::Data<AppState>,
    key: SessionKey,
    tr: Tr,
    mut ws: actix_ws::Session,
    stream: actix_ws::MessageStream,
    mut rx: tokio::sync::broadcast::Receiver<()>,
    watchlist: Option<String>,
    chat: Option<ChatFollow>,
) {
    let mut stream = stream
        .max_frame_size(MAX_FRAME)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME);
    let user_id = key.user_id;
    let user = Some(key);
    let idle_limit = state.settings.ws_idle_timeout;
    let ping_every = state.settings.ws_ping_interval;
    let mut ping = actix_web::rt::time::interval(ping_every);
    let check_every = state.settings.ws_session_check_interval;
    let mut check =
        actix_web::rt::time::interval_at(tokio::time::Instant::now() + check_every, check_every);
    let mut ended = state.live.watch_sessions();
    let mut shutdown = state.live.watch_shutdown();
    let mut last_heard = Instant::now();
    let mut close_reason = None;

    // The newest notification this socket has shown (or found unread when it opened).
    let mut shown = 0_i64;
    // The unread-chats badge as last pushed: pushed again only when it changes.
    let mut chats_shown = String::new();
    let ok = match figures(&state, user_id, tr).await {
        Some(f) => {
            shown = f.newest.map_or(0, |(id, _)| id);
            // The chats badge first (the page may show one from before it marked a
            // conversation read), then the header as every socket starts.
            let sent = send(&mut ws, frame("chats", &f.chats), idle_limit).await;
            chats_shown = f.chats;
            sent && send(&mut ws, frame("me", &f.bar), idle_limit).await
        }
        None => false,
    };
    // An open chat page: what came after the page was rendered, then each new message.
    let mut chat = match chat {
        Some(c) if ok => c.checked(&state, user_id).await,
        _ => None,
    };
    let ok = match chat.as_mut() {
        Some(c) => c.push_new(&state, &mut ws, user_id, tr, idle_limit).await,
        None => ok,
    };
    // The watchlist: followed first, then read, so a change committed in between is pushed.
    let mut quiet: Option<(QuietWatch, String)> = None;
    let mut ok = ok;
    if let (true, Some(csrf_token)) = (ok, watchlist) {
        if let Some(q) = follow_watchlist(&state, user_id).await {
            if let Some(rows) = watch_rows(&state, user_id).await {
                ok = push_rows(&mut ws, rows, &q, &csrf_token, tr, idle_limit).await;
            }
            quiet = Some((q, csrf_token));
        }
    }
    if ok {
        loop {
            tokio::select! {
                _ = shutdown.wait_for(|down| *down) => {
                    close_reason = Some(going_away());
                    break;
                }
                msg = stream.next() => {
                    last_heard = Instant::now();
                    let keep = match msg {
                        Some(Ok(AggregatedMessage::Ping(bytes))) => {
                            matches!(tokio::time::timeout(idle_limit, ws.pong(&bytes)).await, Ok(Ok(())))
                        }
                        Some(Ok(AggregatedMessage::Pong(_) | AggregatedMessage::Text(_) | AggregatedMessage::Binary(_))) => true,
                        Some(Ok(AggregatedMessage::Close(_))) | None | Some(Err(_)) => false,
                    };
                    if !keep {
                        break;
                    }
                }
                changed = rx.recv() => {
                    match changed {
                        Ok(()) | Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => break,
                    }
                    // A burst of changes is one read.
                    while let Ok(()) | Err(TryRecvError::Lagged(_)) = rx.try_recv() {}
                    // The open chat first: its messages shown count as read before the header
                    // is drawn again.
                    if let Some(c) = chat.as_mut() {
                        if !c.push_new(&state, &mut ws, user_id, tr, idle_limit).await {
                            break;
                        }
                    }
                    let Some(f) = figures(&state, user_id, tr).await else { continue };
                    let mut sent = send(&mut ws, frame("me", &f.bar), idle_limit).await;
                    if sent && f.chats != chats_shown {
                        sent = send(&mut ws, frame("chats", &f.chats), idle_limit).await;
                        chats_shown = f.chats;
                    }
                    if let Some((id, text)) = f.newest.filter(|(id, _)| *id > shown) {
                        shown = id;
                        let toast = MeToast { id, sentence: text }.render().unwrap_or_default();
                        sent = sent && send(&mut ws, frame("notification", &toast), idle_limit).await;
                    }
                    if !sent {
                        break;
                    }
                }
                update = next_quiet(&mut quiet) => {
                    let Some((q, csrf_token)) = quiet.as_ref() else { continue };
                    let sent = match update {
                        Ok(update) if q.wants(update.state.id) => {
                            let row = WatchRow::from_state(&update.state, user_id);
                            send(&mut ws, watch_frame(&row, csrf_token, tr), idle_limit).await
                        }
                        Ok(_) => true,
                        // Fell behind: every row as it is now.
                        Err(RecvError::Lagged(_)) => match watch_rows(&state, user_id).await {
                            Some(rows) => push_rows(&mut ws, rows, q, csrf_token, tr, idle_limit).await,
                            None => true,
                        },
                        Err(RecvError::Closed) => false,
                    };
                    if !sent {
                        break;
                    }
                }
                _ = ping.tick() => {
                    let pinged = matches!(tokio::time::timeout(idle_limit, ws.ping(b"nb")).await, Ok(Ok(())));
                    if last_heard.elapsed() > idle_limit || !pinged {
                        break;
                    }
                }
                _ = check.tick() => {
                    if !session_stands(&state, user.as_ref()).await {
                        close_reason = Some(session_ended());
                        break;
                    }
                }
                who = ended.recv() => {
                    let mine = match who {
                        Ok(uid) => uid == user_id,
                        Err(RecvError::Lagged(_)) => true,
                        Err(RecvError::Closed) => break,
                    };
                    if mine && !session_stands(&state, user.as_ref()).await {
                        close_reason = Some(session_ended());
                        break;
                    }
                }
            }
        }
    }
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), ws.close(close_reason)).await;
}
