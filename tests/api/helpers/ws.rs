//! The live panel's WebSocket: open it (as the app, or as a `Browser` on any server), read
//! frames, send frames.

use std::time::Duration;

use reqwest::cookie::{CookieStore, Jar};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error, Message};

use super::{Browser, TestApp};

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Open an auction's live socket on the server at `base` (`http://…`), sending `origin` and the
/// jar's cookies for `base`.
pub async fn connect(
    base: &str,
    id: i64,
    jar: Option<&Jar>,
    origin: Option<&str>,
) -> Result<Ws, Error> {
    let url = format!("{}/auctions/{id}/live", base.replace("http://", "ws://"));
    let mut request = url.into_client_request()?;
    // English, like `Browser::new` (the socket's notices follow the `lang` cookie first: a
    // browser that chose Korean with the toggle gets Korean).
    request
        .headers_mut()
        .insert("accept-language", "en".parse().expect("header"));
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().expect("origin"));
    }
    if let Some(cookies) = jar.and_then(|j| j.cookies(&base.parse().expect("url"))) {
        request.headers_mut().insert(
            "cookie",
            cookies.to_str().expect("cookie").parse().expect("cookie"),
        );
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| ws)
}

impl TestApp {
    /// Open an auction's live socket with this site's `Origin` and the jar's session cookie.
    pub async fn ws(&self, id: i64, jar: Option<&Jar>) -> Ws {
        let origin = self.address.clone();
        self.ws_with(id, jar, Some(&origin))
            .await
            .expect("the socket opens")
    }

    pub async fn ws_with(
        &self,
        id: i64,
        jar: Option<&Jar>,
        origin: Option<&str>,
    ) -> Result<Ws, Error> {
        connect(&self.address, id, jar, origin).await
    }
}

impl Browser {
    /// Open an auction's live socket on this browser's server, as a page of it would: that
    /// server's `Origin`, this browser's cookies.
    pub async fn ws(&self, id: i64) -> Ws {
        connect(&self.base, id, Some(&self.jar), Some(&self.base))
            .await
            .expect("the socket opens")
    }
}

/// Open the member socket (`/me/live`) on the server at `base`, sending `origin` and the jar's
/// cookies for `base`.
pub async fn connect_me(base: &str, jar: Option<&Jar>, origin: Option<&str>) -> Result<Ws, Error> {
    connect_me_to(base, "/me/live", jar, origin).await
}

/// Open the member socket at `path` (`/me/live?watchlist=1`: as the watchlist page opens it).
pub async fn connect_me_to(
    base: &str,
    path: &str,
    jar: Option<&Jar>,
    origin: Option<&str>,
) -> Result<Ws, Error> {
    let url = format!("{}{path}", base.replace("http://", "ws://"));
    let mut request = url.into_client_request()?;
    // English, like `Browser::new` (the socket's notices follow the `lang` cookie first: a
    // browser that chose Korean with the toggle gets Korean).
    request
        .headers_mut()
        .insert("accept-language", "en".parse().expect("header"));
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().expect("origin"));
    }
    if let Some(cookies) = jar.and_then(|j| j.cookies(&base.parse().expect("url"))) {
        request.headers_mut().insert(
            "cookie",
            cookies.to_str().expect("cookie").parse().expect("cookie"),
        );
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| ws)
}

impl Browser {
    /// Open this member's socket (`/me/live`) on this browser's server, as a page would.
    pub async fn me_ws(&self) -> Ws {
        connect_me(&self.base, Some(&self.jar), Some(&self.base))
            .await
            .expect("the member socket opens")
    }

    /// Open this member's socket as `/me/watchlist` does (its rows kept live).
    pub async fn watchlist_ws(&self) -> Ws {
        connect_me_to(
            &self.base,
            "/me/live?watchlist=1",
            Some(&self.jar),
            Some(&self.base),
        )
        .await
        .expect("the watchlist socket opens")
    }
}

/// The next JSON text frame, or `None` after `wait` (or when the socket ends).
pub async fn next_frame(ws: &mut Ws, wait: Duration) -> Option<serde_json::Value> {
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next()).await.ok()??;
        match msg.ok()? {
            Message::Text(t) => return serde_json::from_str(t.as_str()).ok(),
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

/// Wait (at most 5 s) for a frame of `kind` whose HTML contains `needle`; panics otherwise.
pub async fn expect_frame(ws: &mut Ws, kind: &str, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut seen = Vec::new();
    while let Some(frame) = next_frame(
        ws,
        deadline.saturating_duration_since(tokio::time::Instant::now()),
    )
    .await
    {
        let html = frame["html"].as_str().unwrap_or_default().to_owned();
        if frame["type"] == kind && html.contains(needle) {
            return html;
        }
        seen.push(format!("{}: {:.200}", frame["type"], html));
    }
    panic!("no {kind} frame containing {needle:?} within 5 s; saw {seen:#?}");
}

/// Send a JSON (or any) text frame.
pub async fn send_text(ws: &mut Ws, text: &str) {
    use futures_util::SinkExt;
    ws.send(Message::text(text)).await.expect("send");
}

/// Read until the server closes the socket (at most `wait`): the close frame's code, `Some(1005)`
/// for a close frame without one, `None` when the socket stayed open or just dropped.
pub async fn close_code(ws: &mut Ws, wait: Duration) -> Option<u16> {
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await.ok()?? {
            Ok(Message::Close(frame)) => return Some(frame.map_or(1005, |f| f.code.into())),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}
