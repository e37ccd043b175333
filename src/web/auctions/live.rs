//! `GET /auctions/{id}/live`: the WebSocket of a national auction's live panel.
//!
//! Server → client frames: `{"type":"state","html":…}` (the auction's state partial), each
//! followed by `{"type":"chart","html":…}` (the price chart's SVG and table rows), and
//! `{"type":"ack"|"error"|"retry"|"outbid","html":…}` notices (`retry`: the database is away,
//! nothing was done, send it again in a few seconds). Client → server frames:
//! `{"type":"bid","amount":"12000"}` and `{"type":"buy_now"}`. Bids go through the same
//! service as the form; anonymous visitors may watch but not bid.
//!
//! A logged-in socket's session is checked (one indexed query) on every incoming message,
//! every `ws_session_check_interval`, and at once when this process ends a session of its user
//! (logout, password change, suspension): once the session has ended the socket is closed
//! with a policy-violation close frame (1008).
//!
//! When the server shuts down (`SIGTERM`/`SIGINT`) every socket finishes the message it is
//! handling (a bid in flight commits and is answered), then closes with "going away" (1001),
//! so the browser knows to reconnect and the server need not wait out its shutdown timeout.

use std::time::Instant;

use actix_session::SessionExt;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::AggregatedMessage;
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::db::once::OnceKey;
use crate::domain::lang::Lang;
use crate::domain::msg::Msg;
use crate::domain::Won;
use crate::live::{chart_frame, notice_frame, state_frame};
use crate::services::bidding;
use crate::services::sessions::SessionKey;
use crate::services::{auctions, now};
use crate::views::auction::load_state;
use crate::views::i18n::Tr;
use crate::web::extract::live_session;
use crate::web::sockets::{going_away, same_origin, send, session_ended, session_stands};
use crate::web::{db, session, AppError, AppState};

/// Largest frame a client may send.
const MAX_FRAME: usize = 16 * 1024;

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Bid {
        amount: String,
        /// A one-time key for this bid: sent again after a lost answer, it acts once.
        #[serde(default)]
        key: String,
    },
    BuyNow {
        /// The buy-now price the buyer saw.
        #[serde(default)]
        expected_price: String,
        #[serde(default)]
        key: String,
    },
}

pub async fn live(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    if !same_origin(&req) {
        return Err(AppError::Forbidden(Msg::new("err.live.same_site")));
    }
    let id = path.into_inner();
    let national = db(&state, move |conn| {
        auctions::find(conn, id)
            .map(|a| a.map(|a| a.is_national))
            .map_err(anyhow::Error::new)
    })
    .await?;
    if national != Some(true) {
        return Err(AppError::NotFound);
    }
    // A session that no longer stands watches as an anonymous visitor.
    let user = match session::claim(&req.get_session()) {
        Some(key) if live_session(&state, key.clone()).await? => Some(key),
        _ => None,
    };
    let ip = crate::web::ratelimit::ip_key(crate::web::client_ip::client_ip(&req));
    let slot = state
        .sockets
        .take(user.as_ref().map(|k| k.user_id), &ip)
        .ok_or_else(|| AppError::TooMany(Msg::new("err.live.too_many")))?;
    let (response, ws, stream) = actix_ws::handle(&req, body).map_err(|e| {
        AppError::BadRequest(Msg::new("err.live.websocket").arg("0", e.to_string()))
    })?;
    let lang = crate::web::lang::for_socket(&req, &state, user.as_ref()).await;
    let rx = state.live.subscribe(id);
    actix_web::rt::spawn(async move {
        run(state, id, user, lang, ws, stream, rx).await;
        drop(slot);
    });
    Ok(response)
}

/// The auction's state frame (in `lang`) and price chart frame as committed now (`None`: gone
/// or unreadable).
async fn snapshot(state: &AppState, id: i64, lang: Lang) -> Option<(String, String)> {
    let tz = state.settings.timezone;
    let live = state.live.clone();
    let loaded = db(state, move |conn| {
        let watchers = live.watchers_everywhere(conn, id);
        load_state(conn, id, tz, watchers)
    })
    .await;
    match loaded {
        Ok(Some(s)) => Some((state_frame(&s, None, Tr::new(lang, tz)), chart_frame(&s))),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(
                auction.id = id,
                error = format!("{e:#}"),
                "live snapshot failed"
            );
            None
        }
    }
}

async fn run(
    state: web::Data<AppState>,
    id: i64,
    user: Option<SessionKey>,
    lang: Lang,
    mut ws: actix_ws::Session,
    stream: actix_ws::MessageStream,
    mut rx: tokio::sync::broadcast::Receiver<std::sync::Arc<crate::live::LiveUpdate>>,
) {
    // One message may be at most MAX_FRAME, whether it comes as one frame or in pieces.
    let mut stream = stream
        .max_frame_size(MAX_FRAME)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME);
    let ping_every = state.settings.ws_ping_interval;
    let idle_limit = state.settings.ws_idle_timeout;
    let mut ping = actix_web::rt::time::interval(ping_every);
    let mut last_heard = Instant::now();
    let user_id = user.as_ref().map(|k| k.user_id);
    let check_every = state.settings.ws_session_check_interval;
    let mut check =
        actix_web::rt::time::interval_at(tokio::time::Instant::now() + check_every, check_every);
    let mut ended = state.live.watch_sessions();
    let mut shutdown = state.live.watch_shutdown();
    let mut close_reason = None;

    // The chart this socket shows: an update that leaves it as it is (a watcher count) sends
    // only the state.
    let mut shown_chart = String::new();
    let ok = match snapshot(&state, id, lang).await {
        Some((frame, chart)) => {
            shown_chart.clone_from(&chart);
            send(&mut ws, frame, idle_limit).await && send(&mut ws, chart, idle_limit).await
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
                    let message = matches!(
                        msg,
                        Some(Ok(AggregatedMessage::Text(_) | AggregatedMessage::Binary(_)))
                    );
                    if message && !session_stands(&state, user.as_ref()).await {
                        close_reason = Some(session_ended());
                        break;
                    }
                    let keep = match msg {
                        Some(Ok(AggregatedMessage::Text(text))) => {
                            let reply = handle_frame(&state, id, user_id, lang, &text).await;
                            send(&mut ws, reply, idle_limit).await
                        }
                        Some(Ok(AggregatedMessage::Binary(_))) => send(
                            &mut ws,
                            notice_frame("error", "error", &Msg::new("err.live.text_frames").text(lang)),
                            idle_limit,
                        )
                        .await,
                        Some(Ok(AggregatedMessage::Ping(bytes))) => {
                            matches!(tokio::time::timeout(idle_limit, ws.pong(&bytes)).await, Ok(Ok(())))
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => true,
                        Some(Ok(AggregatedMessage::Close(_))) | None => false,
                        Some(Err(e)) => {
                            // A protocol error (e.g. an oversized frame): say so, then close.
                            let _ = send(&mut ws, notice_frame("error", "error", &Msg::new("err.live.unreadable").arg("0", e.to_string()).text(lang)), idle_limit).await;
                            false
                        }
                    };
                    if !keep {
                        break;
                    }
                }
                update = rx.recv() => {
                    let frames = match update {
                        Ok(update) => {
                            let mut frames = vec![update.frame(lang).to_owned()];
                            if update.chart != shown_chart {
                                shown_chart.clone_from(&update.chart);
                                frames.push(update.chart.clone());
                            }
                            if let Some((_, amount)) = update.outbid.iter().rev().find(|(u, _)| Some(*u) == user_id) {
                                frames.push(notice_frame("outbid", "outbid", &outbid_message(*amount).text(lang)));
                            }
                            frames
                        }
                        Err(RecvError::Lagged(_)) => match snapshot(&state, id, lang).await {
                            Some((frame, chart)) => {
                                shown_chart.clone_from(&chart);
                                vec![frame, chart]
                            }
                            None => Vec::new(),
                        },
                        Err(RecvError::Closed) => break,
                    };
                    let mut sent = true;
                    for f in frames {
                        sent = sent && send(&mut ws, f, idle_limit).await;
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
                _ = check.tick(), if user.is_some() => {
                    if !session_stands(&state, user.as_ref()).await {
                        close_reason = Some(session_ended());
                        break;
                    }
                }
                who = ended.recv(), if user.is_some() => {
                    let mine = match who {
                        Ok(uid) => Some(uid) == user_id,
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

pub fn outbid_message(amount: Won) -> Msg {
    Msg::new("notice.live.outbid").arg("amount", amount)
}

async fn handle_frame(
    state: &web::Data<AppState>,
    id: i64,
    user_id: Option<i64>,
    lang: Lang,
    text: &str,
) -> String {
    let frame = match serde_json::from_str::<ClientFrame>(text) {
        Ok(f) => f,
        Err(_) => {
            return notice_frame(
                "error",
                "error",
                &Msg::new("err.live.not_understood").text(lang),
            )
        }
    };
    let Some(user) = user_id else {
        return notice_frame("error", "error", &Msg::new("err.live.log_in").text(lang));
    };
    match frame {
        ClientFrame::Bid { amount, key } => {
            let amount = match Won::parse(&amount) {
                Ok(a) => a,
                Err(e) => {
                    return notice_frame(
                        "error",
                        "error",
                        &super::bid::amount_reason(&e).text(lang),
                    )
                }
            };
            let key =
                OnceKey::parse(user, "bid", &key).map(|k| k.for_request(&format!("{id}:{amount}")));
            let soft = super::soft_close(&state.settings);
            match db(state, move |conn| {
                bidding::place_bid(conn, id, user, amount, now(), soft, key.as_ref())
            })
            .await
            {
                Ok(placed) => {
                    let (kind, words) = super::bid::placed_words(&placed);
                    state.live.after_commit(placed.event);
                    let frame = if placed.leads { "ack" } else { "outbid" };
                    notice_frame(frame, kind, &words.text(lang))
                }
                Err(e) => refusal_frame(e.into(), lang),
            }
        }
        ClientFrame::BuyNow {
            expected_price,
            key,
        } => {
            let key = OnceKey::parse(user, "buy_now", &key)
                .map(|k| k.for_request(&format!("{id}:{expected_price}")));
            let expected = Won::parse(&expected_price).ok();
            let auto_confirm = state.settings.market_auto_confirm;
            match db(state, move |conn| {
                bidding::buy_now(conn, id, user, expected, now(), auto_confirm, key.as_ref())
            })
            .await
            {
                Ok(bought) => {
                    let price = bought.price;
                    state.live.after_commit(bought.event);
                    let words = Msg::new("notice.live.bought").arg("price", price);
                    notice_frame("ack", "success", &words.text(lang))
                }
                Err(e) => refusal_frame(e.into(), lang),
            }
        }
    }
}

/// A refused socket request, worded as the page would word it (the same mapping as HTTP). What
/// a 503 would answer (the database is away) is a `retry` frame: nothing was done, send it
/// again in a few seconds.
fn refusal_frame(e: AppError, lang: Lang) -> String {
    e.log();
    let message = e.title_and_message(lang).1;
    if matches!(e, AppError::Unavailable(_) | AppError::Busy) {
        notice_frame("retry", "retry", &message)
    } else {
        notice_frame("error", "error", &message)
    }
}
