//! `Browser`: a browser-like HTTP client that knows the server it talks to, so the same helpers
//! work against the test app, a restarted app or a second server process. `TestApp` keeps the
//! `app.get(&browser, path)` form: the browser's cookies, sent to the app's current address.

use std::sync::Arc;

use reqwest::cookie::Jar;
use reqwest::multipart::{Form, Part};
use reqwest::{redirect, Client, Response, StatusCode};

use super::html::{csrf_meta, field_value, local_in, won_in};
use super::{TestApp, PASSWORD};

/// Its own cookie jar (handed to a WebSocket for the session cookie), no automatic redirects,
/// and `base` (`http://127.0.0.1:PORT`) that every path is joined to.
#[derive(Clone)]
pub struct Browser {
    pub client: Client,
    pub jar: Arc<Jar>,
    pub base: String,
}

impl Browser {
    /// A fresh client (no cookies) for the server at `base`. It asks for English
    /// (`Accept-Language: en`): the tests written before the site spoke Korean read English
    /// sentences; [`Browser::speaking`] chooses another header, or none.
    pub fn new(base: &str) -> Browser {
        Browser::speaking(base, Some("en"))
    }

    /// A fresh client sending this `Accept-Language` (or none).
    pub fn speaking(base: &str, accept_language: Option<&str>) -> Browser {
        let jar = Arc::new(Jar::default());
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(al) = accept_language {
            headers.insert("accept-language", al.parse().expect("a header value"));
        }
        let client = Client::builder()
            .cookie_provider(jar.clone())
            .default_headers(headers)
            .redirect(redirect::Policy::none())
            // Drop idle connections before the server's 5 s keep-alive does: reusing one the
            // server is closing at that moment fails with a reset under heavy load.
            .pool_idle_timeout(std::time::Duration::from_secs(3))
            .build()
            .expect("client");
        Browser {
            client,
            jar,
            base: base.to_owned(),
        }
    }

    /// A fresh client whose every request says it was forwarded for `client_ip`
    /// (`X-Forwarded-For`), as a proxy in front of the app would; the app believes it only when
    /// it trusts 127.0.0.1 (`settings.trusted_proxies`).
    pub fn forwarded_for(base: &str, client_ip: &str) -> Browser {
        let jar = Arc::new(Jar::default());
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "accept-language",
            reqwest::header::HeaderValue::from_static("en"),
        );
        headers.insert(
            "x-forwarded-for",
            client_ip.parse().expect("a header value"),
        );
        let client = Client::builder()
            .cookie_provider(jar.clone())
            .redirect(redirect::Policy::none())
            .default_headers(headers)
            .build()
            .expect("client");
        Browser {
            client,
            jar,
            base: base.to_owned(),
        }
    }

    /// The same client and cookies, talking to the server at `base` (cookies belong to the host,
    /// not the port, so a session on 127.0.0.1 goes along).
    pub fn at(&self, base: &str) -> Browser {
        Browser {
            base: base.to_owned(),
            ..self.clone()
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Another client holding a copy of this one's cookies as they are now (what a thief who
    /// copied the cookie jar has); the two go their own ways afterwards.
    pub fn copy_cookies(&self) -> Browser {
        use reqwest::cookie::CookieStore as _;
        let url: reqwest::Url = self.base.parse().expect("base url");
        let copy = Browser::new(&self.base);
        if let Some(header) = self.jar.cookies(&url) {
            for cookie in header.to_str().expect("cookie header").split("; ") {
                copy.jar.add_cookie_str(cookie, &url);
            }
        }
        copy
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_html(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        let status = r.status();
        (status, r.text().await.expect("body"))
    }

    /// The current CSRF token (every page carries it in a `<meta>`).
    pub async fn csrf(&self) -> String {
        let (_, html) = self.get_html("/").await;
        csrf_meta(&html).expect("a csrf-token meta")
    }

    /// POST a url-encoded form as given (no token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    /// POST a form with the current CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf().await;
        let mut all = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_raw(path, &all).await
    }

    /// POST a multipart form as given (the caller puts the `csrf_token` in it).
    pub async fn post_multipart(&self, path: &str, form: Form) -> Response {
        self.client
            .post(self.url(path))
            .multipart(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// Sign up (and so log in) a new member with `PASSWORD`.
    pub async fn sign_up(&self, username: &str) {
        let r = self
            .post(
                "/signup",
                &[
                    ("username", username),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                    ("display_name", &format!("Neighbour {username}")),
                    ("region_id", "3"),
                ],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "sign-up of {username}: {}",
            r.text().await.unwrap_or_default()
        );
    }

    pub async fn log_in(&self, username: &str, password: &str) -> Response {
        self.post("/login", &[("username", username), ("password", password)])
            .await
    }

    /// Top up through the wallet page's own form (with its idempotency key).
    pub async fn top_up(&self, amount: &str) -> Response {
        let (_, html) = self.get_html("/wallet").await;
        let key = field_value(&html, "idempotency_key").expect("an idempotency_key field");
        let token = field_value(&html, "csrf_token").expect("a csrf_token field");
        self.post_raw(
            "/wallet/top-up",
            &[
                ("amount", amount),
                ("method", "dev"),
                ("idempotency_key", &key),
                ("csrf_token", &token),
            ],
        )
        .await
    }

    /// Balance and locked as the wallet page shows them (`₩12,000` → 12000).
    pub async fn wallet(&self) -> (i64, i64) {
        let (status, html) = self.get_html("/wallet").await;
        assert_eq!(status, StatusCode::OK);
        (
            won_in(&html, "id=\"balance\"").expect("balance on the page"),
            won_in(&html, "id=\"locked\"").expect("locked on the page"),
        )
    }

    /// POST the multipart listing form; returns the response.
    pub async fn post_listing(&self, l: &Listing, image: Option<Vec<u8>>) -> Response {
        self.post_listing_to("/auctions", l, image).await
    }

    /// POST the listing form to `path` (`/auctions` or `/auctions/{id}/edit`).
    pub async fn post_listing_to(
        &self,
        path: &str,
        l: &Listing,
        image: Option<Vec<u8>>,
    ) -> Response {
        let token = self.csrf().await;
        let mut form = Form::new()
            .text("csrf_token", token)
            .text("title", l.title.clone())
            .text("description", format!("All about {}", l.title))
            .text("category_id", l.category_id.clone())
            .text("region_id", l.region_id.clone())
            .text("start_price", l.start_price.clone())
            .text("bid_unit", l.bid_unit.clone())
            .text("reserve_price", l.reserve_price.clone())
            .text("buy_now_price", l.buy_now_price.clone())
            .text("starts_at", l.starts_at.clone())
            .text("ends_at", l.ends_at.clone());
        if l.national {
            form = form.text("is_national", "on");
        }
        if let Some(bytes) = image {
            form = form.part("image", Part::bytes(bytes).file_name("photo.bin"));
        }
        self.post_multipart(path, form).await
    }

    /// List an auction and return its id.
    pub async fn list(&self, l: &Listing) -> i64 {
        let r = self.post_listing(l, None).await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "listing {}: {}",
            l.title,
            r.text().await.unwrap_or_default()
        );
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        location
            .trim_start_matches("/auctions/")
            .parse()
            .expect("an auction id")
    }

    /// POST a bid with a token fetched beforehand (`token`), returning the status and body.
    pub async fn bid_with(&self, token: &str, id: i64, amount: &str) -> (StatusCode, String) {
        let r = self
            .post_raw(
                &format!("/auctions/{id}/bids"),
                &[("amount", amount), ("csrf_token", token)],
            )
            .await;
        let status = r.status();
        (status, r.text().await.unwrap_or_default())
    }

    pub async fn bid(&self, id: i64, amount: i64) -> (StatusCode, String) {
        let token = self.csrf().await;
        self.bid_with(&token, id, &amount.to_string()).await
    }

    /// Buy now as a browser would: the price the page shows goes with the form.
    pub async fn buy_now(&self, id: i64) -> (StatusCode, String) {
        let (_, page) = self.get_html(&format!("/auctions/{id}")).await;
        let seen = field_value(&page, "expected_price").unwrap_or_default();
        let r = self
            .post(
                &format!("/auctions/{id}/buy-now"),
                &[("expected_price", seen.as_str())],
            )
            .await;
        let status = r.status();
        (status, r.text().await.unwrap_or_default())
    }
}

/// A listing as the form sends it; `Listing::new(...)` for the defaults.
#[derive(Clone)]
pub struct Listing {
    pub title: String,
    pub start_price: String,
    pub bid_unit: String,
    pub reserve_price: String,
    pub buy_now_price: String,
    pub starts_at: String,
    pub ends_at: String,
    pub category_id: String,
    pub region_id: String,
    pub national: bool,
}

impl Listing {
    /// ₩10,000 start, ₩1,000 steps, ending in an hour.
    pub fn new(title: &str) -> Listing {
        Listing {
            title: title.to_owned(),
            start_price: "10000".into(),
            bid_unit: "1000".into(),
            reserve_price: String::new(),
            buy_now_price: String::new(),
            starts_at: String::new(),
            ends_at: local_in(3600),
            category_id: "1".into(),
            region_id: "3".into(),
            national: false,
        }
    }
}

/// The browser helpers through the app: `b`'s cookies, sent to the app's current address (a
/// `restart` moves the app to a new port; browsers made before it still work here).
impl TestApp {
    /// A new browser-like client for this app: its own cookie jar, no automatic redirects.
    pub fn client(&self) -> Browser {
        Browser::new(&self.address)
    }

    /// A new client sending this `Accept-Language` (or none), instead of the default English.
    pub fn client_speaking(&self, accept_language: Option<&str>) -> Browser {
        Browser::speaking(&self.address, accept_language)
    }

    /// A new client whose requests carry `X-Forwarded-For: client_ip` (see
    /// [`Browser::forwarded_for`]).
    pub fn client_from(&self, client_ip: &str) -> Browser {
        Browser::forwarded_for(&self.address, client_ip)
    }

    fn on(&self, b: &Browser) -> Browser {
        b.at(&self.address)
    }

    pub async fn get(&self, b: &Browser, path: &str) -> Response {
        self.on(b).get(path).await
    }

    pub async fn get_html(&self, b: &Browser, path: &str) -> (StatusCode, String) {
        self.on(b).get_html(path).await
    }

    pub async fn csrf(&self, b: &Browser) -> String {
        self.on(b).csrf().await
    }

    pub async fn post_raw(&self, b: &Browser, path: &str, fields: &[(&str, &str)]) -> Response {
        self.on(b).post_raw(path, fields).await
    }

    pub async fn post(&self, b: &Browser, path: &str, fields: &[(&str, &str)]) -> Response {
        self.on(b).post(path, fields).await
    }

    pub async fn post_multipart(&self, b: &Browser, path: &str, form: Form) -> Response {
        self.on(b).post_multipart(path, form).await
    }

    /// Sign up (and so log in) a new member; returns their client.
    pub async fn sign_up(&self, username: &str) -> Browser {
        let b = self.client();
        b.sign_up(username).await;
        b
    }

    pub async fn log_in(&self, username: &str, password: &str) -> (Browser, Response) {
        let b = self.client();
        let r = b.log_in(username, password).await;
        (b, r)
    }

    /// A member with `money` in their wallet.
    pub async fn funded(&self, username: &str, money: i64) -> Browser {
        let b = self.sign_up(username).await;
        let mut left = money;
        while left > 0 {
            let step = left.min(10_000_000);
            assert_eq!(
                b.top_up(&step.to_string()).await.status(),
                StatusCode::SEE_OTHER
            );
            left -= step;
        }
        b
    }

    pub async fn top_up(&self, b: &Browser, amount: &str) -> Response {
        self.on(b).top_up(amount).await
    }

    pub async fn wallet(&self, b: &Browser) -> (i64, i64) {
        self.on(b).wallet().await
    }

    pub async fn post_listing(&self, b: &Browser, l: &Listing, image: Option<Vec<u8>>) -> Response {
        self.on(b).post_listing(l, image).await
    }

    pub async fn list(&self, b: &Browser, l: &Listing) -> i64 {
        self.on(b).list(l).await
    }

    pub async fn bid_with(
        &self,
        b: &Browser,
        token: &str,
        id: i64,
        amount: &str,
    ) -> (StatusCode, String) {
        self.on(b).bid_with(token, id, amount).await
    }

    pub async fn bid(&self, b: &Browser, id: i64, amount: i64) -> (StatusCode, String) {
        self.on(b).bid(id, amount).await
    }

    pub async fn buy_now(&self, b: &Browser, id: i64) -> (StatusCode, String) {
        self.on(b).buy_now(id).await
    }

    /// The winner of a sold auction confirms receipt of its trade (buyer protection: the
    /// seller is paid only then). The answer's status.
    pub async fn confirm_auction_trade(&self, buyer: &Browser, auction_id: i64) -> StatusCode {
        let (trade, _) = self
            .auction_trade(auction_id)
            .expect("a sold auction has a trade");
        self.post(buyer, &format!("/trades/{trade}/confirm"), &[])
            .await
            .status()
    }
}
