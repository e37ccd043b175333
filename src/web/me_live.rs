//! `GET /me/live`: the per-member WebSocket. It keeps the header of every page live: after a
//! transaction that wrote the member a notification or moved their wallet commits, it pushes
//! the header's fragment again (unread badge and available balance, `partials/_me_bar.html`,
//! as `{"type":"me","html":…}`) and, for a notification newer than any the socket has shown, a
//! short notice (`{"type":"notification","html":…}`). It crosses processes on PostgreSQL the
//! way the live panel does: the signal is a `NOTIFY user_events` sent inside the transaction
//! ([`crate::db::signal_user`]), heard by every process's `LISTEN` thread.
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

use crate::live::Frame;
use crate::services::notify;
use crate::services::sessions::SessionKey;
use crate::views::notification::{sentence, HeaderBar, MeBar, MeToast};
use crate::web::auctions::live::{going_away, same_origin, send, session_ended, session_stands};
use crate::web::extract::live_session;
use crate::web::{db, session, AppError, AppState};

/// Largest frame a client may send (it has nothing to say but pongs).
const MAX_FRAME: usize = 1024;

pub async fn me_live(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if !same_origin(&req) {
        return Err(AppError::Forbidden(
            "Live updates are only for pages of this site.".to_owned(),
        ));
    }
    let key = match session::claim(&req.get_session()) {
        Some(key) if live_session(&state, key.clone()).await? => key,
        _ => {
            return Err(AppError::Forbidden(
                "Log in to get live notifications.".to_owned(),
            ))
        }
    };
    let ip = crate::web::ratelimit::ip_key(crate::web::client_ip::client_ip(&req));
    let slot = state.sockets.take(Some(key.user_id), &ip).ok_or_else(|| {
        AppError::TooMany(
            "Too many live connections are open from your account or address. Close a tab and try again."
                .to_owned(),
        )
    })?;
    let (response, ws, stream) = actix_ws::handle(&req, body)
        .map_err(|e| AppError::BadRequest(format!("This address takes a WebSocket: {e}")))?;
    // Subscribed before the first read, so nothing committed in between is missed.
    let rx = state.live.subscribe_member(key.user_id);
    actix_web::rt::spawn(async move {
        run(state, key, ws, stream, rx).await;
        drop(slot);
    });
    Ok(response)
}

/// What the header shows now, and the newest unread notification.
struct Figures {
    bar: String,
    newest: Option<(i64, String)>,
}

async fn figures(state: &AppState, user_id: i64) -> Option<Figures> {
    let loaded = db(state, move |conn| {
        let figures = notify::header_figures(conn, user_id)?;
        let newest = notify::newest_unread(conn, user_id)?;
        Ok::<_, anyhow::Error>(figures.map(|f| (f, newest)))
    })
    .await;
    match loaded {
        Ok(Some(((unread, balance), newest))) => Some(Figures {
            bar: MeBar {
                bar: HeaderBar { unread, balance },
            }
            .render()
            .unwrap_or_default(),
            newest: newest.map(|n| (n.id, sentence(&n))),
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

fn frame(kind: &str, html: &str) -> String {
    Frame {
        kind,
        html,
        at: None,
    }
    .to_json()
}

async fn run(
    state: web::Data<AppState>,
    key: SessionKey,
    mut ws: actix_ws::Session,
    stream: actix_ws::MessageStream,
    mut rx: tokio::sync::broadcast::Receiver<()>,
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
    let ok = match figures(&state, user_id).await {
        Some(f) => {
            shown = f.newest.map_or(0, |(id, _)| id);
            send(&mut ws, frame("me", &f.bar), idle_limit).await
        }
        None => false,
    };
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
                    let Some(f) = figures(&state, user_id).await else { continue };
                    let mut sent = send(&mut ws, frame("me", &f.bar), idle_limit).await;
                    if let Some((id, text)) = f.newest.filter(|(id, _)| *id > shown) {
                        shown = id;
                        let toast = MeToast { id, sentence: text }.render().unwrap_or_default();
                        sent = sent && send(&mut ws, frame("notification", &toast), idle_limit).await;
                    }
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
