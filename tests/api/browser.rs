//! Two neighbours in two real browsers (headless Chromium) watch one national auction: one
//! bids in the live panel, the other's panel changes without a reload.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::StatusCode;

use crate::helpers::{both_databases, spawn_app, Db, Listing, TestApp, PASSWORD};

both_databases!(
    two_browsers_see_each_others_bids_without_reloading,
    a_card_top_up_runs_through_the_checkout_window_in_a_real_browser,
    an_outbid_neighbour_sees_the_badge_and_the_notification_without_reloading,
    a_watchlist_open_in_a_browser_follows_the_bids_and_its_pushed_star_still_works,
    a_gallery_thumbnail_brings_its_photo_into_view_without_a_script_of_ours,
    a_neighbour_and_a_seller_chat_in_two_phone_sized_browsers_and_see_messages_arrive_live,
);

pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// `None` (with a visible message) when Chromium is not installed, unless
/// `NEIGHBORBID_REQUIRE_BROWSER=1` (CI) says the test must run.
pub(crate) fn browser_available() -> bool {
    let present =
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !present {
        if std::env::var("NEIGHBORBID_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("Chromium is required (NEIGHBORBID_REQUIRE_BROWSER=1): apt-get install chromium chromium-driver");
        }
        eprintln!("SKIPPED browser test: install chromium and chromium-driver to run it");
    }
    present
}

pub(crate) struct Driver {
    child: Child,
    pub(crate) port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn start_driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver { child, port };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen");
}

pub(crate) async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    browser_sized(driver, profile, (1200, 900)).await
}

/// A browser whose window is `(width, height)` CSS pixels (390 × 844: a phone).
pub(crate) async fn browser_sized(
    driver: &Driver,
    profile: &std::path::Path,
    size: (u32, u32),
) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", format!("--window-size={},{}", size.0, size.1),
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    // Headless Chromium keeps a window at least 500 pixels wide: a phone's viewport is
    // emulated (the page's width, height and pixel ratio; nothing else changes).
    if size.0 < 500 {
        if let Some(options) = caps
            .get_mut("goog:chromeOptions")
            .and_then(|o| o.as_object_mut())
        {
            options.insert(
                "mobileEmulation".to_owned(),
                serde_json::json!({
                    "deviceMetrics": { "width": size.0, "height": size.1, "pixelRatio": 3.0 }
                }),
            );
        }
    }
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a browser session")
}

async fn log_in(app: &TestApp, b: &Client, username: &str) {
    log_in_as(app, b, username, PASSWORD).await;
}

/// Log in through the login form with `password` and wait for the header's wallet.
pub(crate) async fn log_in_as(app: &TestApp, b: &Client, username: &str, password: &str) {
    b.goto(&app.url("/login")).await.unwrap();
    b.find(Locator::Css("input[name=username]"))
        .await
        .unwrap()
        .send_keys(username)
        .await
        .unwrap();
    b.find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    b.find(Locator::Css("form.form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("a.wallet-chip"))
        .await
        .unwrap();
}

/// Wait (bounded) until the element's text contains `needle`.
pub(crate) async fn wait_text(b: &Client, css: &str, needle: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(el) = b.find(Locator::Css(css)).await {
            last = el.text().await.unwrap_or_default();
            if last.contains(needle) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never showed {needle:?} (last: {last:?})");
}

async fn bid_in_panel(b: &Client, amount: &str) {
    let input = b
        .find(Locator::Css("form.bid-form input[name=amount]"))
        .await
        .unwrap();
    input.clear().await.unwrap();
    input.send_keys(amount).await.unwrap();
    let typed = input.prop("value").await.unwrap().unwrap_or_default();
    assert_eq!(
        typed, amount,
        "the field holds what was typed (a live update must not refill it)"
    );
    b.find(Locator::Css("form.bid-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn two_browsers_see_each_others_bids_without_reloading(db: Db) {
    if !browser_available() {
        return;
    }
    let app = spawn_app(db).await;
    let seller = app.sign_up("b_seller").await;
    for name in ["b_minji", "b_jisoo"] {
        let c = app.sign_up(name).await;
        assert_eq!(
            app.top_up(&c, "100000").await.status(),
            StatusCode::SEE_OTHER
        );
    }
    let mut l = Listing::new("Film camera");
    l.national = true;
    let id = app.list(&seller, &l).await;

    let driver = start_driver().await;
    let profiles = tempfile::tempdir().unwrap();
    let a = browser(&driver, &profiles.path().join("a")).await;
    let b = browser(&driver, &profiles.path().join("b")).await;
    log_in(&app, &a, "b_minji").await;
    log_in(&app, &b, "b_jisoo").await;
    let page = app.url(&format!("/auctions/{id}"));
    a.goto(&page).await.unwrap();
    b.goto(&page).await.unwrap();
    wait_text(&a, "#live-status", "Live").await;
    wait_text(&b, "#live-status", "Live").await;
    wait_text(&b, "#current-price", "₩10,000").await;

    // Mark B's page: if it reloaded, the mark would be gone.
    b.execute("window.__still_here = true; return true;", vec![])
        .await
        .unwrap();

    // A maximum of ₩12,000 on a fresh auction leads at the start price.
    bid_in_panel(&a, "12000").await;
    wait_text(
        &a,
        "#live-notices",
        "You lead at ₩10,000. Your maximum of ₩12,000 is held",
    )
    .await;
    let seen = wait_text(&b, "#auction-state", "Neighbour b_minji").await;
    assert!(seen.contains("₩10,000"), "{seen}");
    assert!(
        !seen.contains("12,000"),
        "A's maximum is not shown to B: {seen}"
    );
    let still = b
        .execute("return window.__still_here === true;", vec![])
        .await
        .unwrap();
    assert_eq!(
        still,
        serde_json::json!(true),
        "B's panel changed without a reload"
    );

    // B's ₩15,000 beats it: the price goes one step over A's maximum, and A's whole hold
    // comes back.
    bid_in_panel(&b, "15000").await;
    wait_text(
        &b,
        "#live-notices",
        "You lead at ₩13,000. Your maximum of ₩15,000 is held",
    )
    .await;
    let seen = wait_text(&a, "#current-price", "₩13,000").await;
    assert!(!seen.contains("15,000"));
    wait_text(
        &a,
        "#live-notices",
        "You were outbid: ₩12,000 was released to your wallet.",
    )
    .await;
    let state = wait_text(&a, "#auction-state", "Neighbour b_jisoo").await;
    assert!(
        !state.contains("15,000"),
        "B's maximum is not shown to A: {state}"
    );
    if std::env::var("NEIGHBORBID_SCREENSHOT").is_ok() {
        std::fs::write("/tmp/neighborbid-live.png", a.screenshot().await.unwrap()).unwrap();
    }
    a.close().await.unwrap();
    b.close().await.unwrap();
    app.assert_audit_clean();
}

/// A neighbour tops up by card in Chromium: the wallet's form, the payment page, the
/// simulator's checkout window, and back to a paid page and a credited wallet.
async fn a_card_top_up_runs_through_the_checkout_window_in_a_real_browser(db: Db) {
    if !browser_available() {
        return;
    }
    let app = spawn_app(db).await;
    app.sign_up("c_minji").await;
    let driver = start_driver().await;
    let profiles = tempfile::tempdir().unwrap();
    let b = browser(&driver, &profiles.path().join("c")).await;
    log_in(&app, &b, "c_minji").await;

    b.goto(&app.url("/wallet")).await.unwrap();
    b.find(Locator::Css("#top-up-card input[name=amount]"))
        .await
        .unwrap()
        .send_keys("50000")
        .await
        .unwrap();
    b.find(Locator::Css("#top-up-card button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&b, ".payment-status", "Waiting for payment").await;
    b.find(Locator::Css("form[action='/portone-sim/checkout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("button[value=approve]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&b, ".payment-status", "Paid — added to your wallet").await;
    assert!(b
        .current_url()
        .await
        .unwrap()
        .path()
        .starts_with("/payments/topup_"));
    b.find(Locator::LinkText("PortOne receipt")).await.unwrap();
    b.goto(&app.url("/wallet")).await.unwrap();
    wait_text(&b, "#balance", "₩50,000").await;
    b.close().await.unwrap();
    let (c, r) = app.log_in("c_minji", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.wallet(&c).await, (50_000, 0));
    app.assert_audit_clean();
}

/// A neighbour outbid by another in a second browser sees the header's badge, the notice and
/// the released money appear without reloading (the member socket, `/me/live`). The auction is
/// local, so no live panel is open: only the member socket can tell A.
async fn an_outbid_neighbour_sees_the_badge_and_the_notification_without_reloading(db: Db) {
    if !browser_available() {
        return;
    }
    let app = spawn_app(db).await;
    let seller = app.sign_up("n_seller").await;
    for name in ["n_minji", "n_jisoo"] {
        let c = app.sign_up(name).await;
        assert_eq!(
            app.top_up(&c, "100000").await.status(),
            StatusCode::SEE_OTHER
        );
    }
    let id = app.list(&seller, &Listing::new("Record player")).await;

    let driver = start_driver().await;
    let profiles = tempfile::tempdir().unwrap();
    let a = browser(&driver, &profiles.path().join("a")).await;
    let b = browser(&driver, &profiles.path().join("b")).await;
    log_in(&app, &a, "n_minji").await;
    log_in(&app, &b, "n_jisoo").await;
    let page = app.url(&format!("/auctions/{id}"));
    a.goto(&page).await.unwrap();
    bid_in_panel(&a, "12000").await;
    wait_text(&a, "#wallet-balance", "₩88,000").await;
    // A waits on the auctions list with the member socket open.
    a.goto(&app.url("/auctions")).await.unwrap();
    a.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#me-toasts[data-live=on]"))
        .await
        .unwrap();
    a.execute("window.__still_here = true; return true;", vec![])
        .await
        .unwrap();

    b.goto(&page).await.unwrap();
    bid_in_panel(&b, "13000").await;
    wait_text(&b, "#wallet-balance", "₩87,000").await;

    wait_text(&a, "#unread-count", "1").await;
    wait_text(&a, "#me-toasts", "You were outbid on “Record player”").await;
    wait_text(&a, "#wallet-balance", "₩100,000").await;
    let still = a
        .execute("return window.__still_here === true;", vec![])
        .await
        .unwrap();
    assert_eq!(still, serde_json::json!(true), "A's page did not reload");
    if std::env::var("NEIGHBORBID_SCREENSHOT").is_ok() {
        std::fs::write("/tmp/neighborbid-notify.png", a.screenshot().await.unwrap()).unwrap();
    }
    // The notice links to the notification, which leads to the auction and is then read.
    a.find(Locator::Css("#me-toasts a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for _ in 0..100 {
        if a.current_url().await.unwrap().as_str() == page {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(a.current_url().await.unwrap().as_str(), page);
    // Read now: the badge is hidden (the socket may redraw the header meanwhile; look again).
    let mut shown = String::from("?");
    for _ in 0..100 {
        if let Ok(el) = a.find(Locator::Css("#unread-count")).await {
            if let Ok(text) = el.text().await {
                shown = text;
                if shown.is_empty() {
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(shown, "", "read: the badge is hidden");
    a.close().await.unwrap();
    b.close().await.unwrap();
    app.assert_audit_clean();
}

/// A member's watchlist open in a real browser: bids by others change the row's price and
/// leader without a reload (the member socket with `?watchlist=1`, `static/js/me.js`), and the
/// unstar button of a pushed row still works (it carries the member's CSRF token).
async fn a_watchlist_open_in_a_browser_follows_the_bids_and_its_pushed_star_still_works(db: Db) {
    if !browser_available() {
        return;
    }
    let app = spawn_app(db).await;
    let seller = app.sign_up("w_seller").await;
    let watcher = app.sign_up("w_watcher").await;
    let alice = app.funded("w_alice", 100_000).await;
    let bora = app.funded("w_bora", 100_000).await;
    let id = app.list(&seller, &Listing::new("Oak stool")).await;
    let r = app
        .post(
            &watcher,
            &format!("/auctions/{id}/watch"),
            &[("watch", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let driver = start_driver().await;
    let profiles = tempfile::tempdir().unwrap();
    let w = browser(&driver, &profiles.path().join("w")).await;
    log_in(&app, &w, "w_watcher").await;
    w.goto(&app.url("/me/watchlist")).await.unwrap();
    w.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#me-toasts[data-live=on]"))
        .await
        .unwrap();
    w.execute("window.__still_here = true; return true;", vec![])
        .await
        .unwrap();
    let row = format!("tr[data-auction-id=\"{id}\"]");
    wait_text(&w, &row, "no bids").await;

    assert_eq!(app.bid(&alice, id, 15_000).await.0, StatusCode::SEE_OTHER);
    wait_text(&w, &row, "Neighbour w_alice").await;
    assert_eq!(app.bid(&bora, id, 20_000).await.0, StatusCode::SEE_OTHER);
    let text = wait_text(&w, &row, "Neighbour w_bora").await;
    assert!(text.contains("₩16,000"), "{text}");
    let still = w
        .execute("return window.__still_here === true;", vec![])
        .await
        .unwrap();
    assert_eq!(
        still,
        serde_json::json!(true),
        "the watchlist did not reload"
    );

    // The pushed row's star unwatches.
    w.find(Locator::Css(&format!("{row} button.star")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&w, "main", "You are not watching any auction").await;
    w.close().await.unwrap();
    app.assert_audit_clean();
}

/// Photo galleries (issue 14 item 5): the page has no script of its own for the gallery; a
/// thumbnail is an anchor to its slide, and the browser scrolls the strip there.
async fn a_gallery_thumbnail_brings_its_photo_into_view_without_a_script_of_ours(db: Db) {
    if !browser_available() {
        return;
    }
    let app = spawn_app(db).await;
    let seller = app.sign_up("framer").await;
    let mut form = reqwest::multipart::Form::new()
        .text("csrf_token", app.csrf(&seller).await)
        .text("title", "Three views")
        .text("description", "A gallery")
        .text("category_id", "1")
        .text("region_id", "3")
        .text("start_price", "10000")
        .text("bid_unit", "1000")
        .text("ends_at", crate::helpers::local_in(7200));
    for w in [40, 50, 60] {
        form = form.part(
            "image",
            reqwest::multipart::Part::bytes(crate::uploads::png_of(w, 30)).file_name("p.png"),
        );
    }
    let r = app.post_multipart(&seller, "/auctions", form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = r.headers()["location"].to_str().unwrap().to_owned();

    let driver = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let b = browser(&driver, profile.path()).await;
    b.goto(&app.url(&page)).await.unwrap();
    let scripts = b
        .execute("return document.scripts.length;", vec![])
        .await
        .unwrap();
    assert_eq!(
        scripts,
        serde_json::json!(0),
        "no script on a local auction's page"
    );
    // Where slide 3 sits, relative to the strip's left edge (0: in view).
    let offset = "const m = document.querySelector('.gallery-main').getBoundingClientRect(); \
                  const s = document.getElementById('photo-3').getBoundingClientRect(); \
                  return Math.round(s.left - m.left);";
    let before = b.execute(offset, vec![]).await.unwrap();
    assert!(
        before.as_f64().unwrap() > 100.0,
        "slide 3 starts out of view: {before}"
    );
    b.find(Locator::Css(".gallery-thumbs a[href='#photo-3']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let mut last = serde_json::Value::Null;
    for _ in 0..50 {
        last = b.execute(offset, vec![]).await.unwrap();
        if last.as_f64().is_some_and(|x| x.abs() <= 2.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        last.as_f64().is_some_and(|x| x.abs() <= 2.0),
        "slide 3 is in view after its thumbnail is clicked: {last}"
    );
    b.close().await.unwrap();
}

/// Chat (issue 14 item 3) in two phone-sized Chromium windows (390 × 844): the neighbour opens
/// the chat from the product page, the seller opens it from `/chats`, and each sees the other's
/// message appear without reloading (the form is sent by `static/js/chat.js`, the message comes
/// back on the member socket, `static/js/me.js`).
async fn a_neighbour_and_a_seller_chat_in_two_phone_sized_browsers_and_see_messages_arrive_live(
    db: Db,
) {
    if !browser_available() {
        return;
    }
    let app = spawn_app(db).await;
    let seller = app.sign_up("c_seller").await;
    app.sign_up("c_minji").await;
    let product = crate::market::list_product(&app, &seller, "Rice cooker", "30000", "1").await;

    let driver = start_driver().await;
    let profiles = tempfile::tempdir().unwrap();
    let a = browser_sized(&driver, &profiles.path().join("a"), (390, 844)).await;
    let b = browser_sized(&driver, &profiles.path().join("b"), (390, 844)).await;
    log_in(&app, &a, "c_minji").await;
    log_in(&app, &b, "c_seller").await;
    let width = a
        .execute("return window.innerWidth;", vec![])
        .await
        .unwrap();
    assert!(
        width.as_i64().unwrap() <= 390,
        "a phone-sized window: {width}"
    );

    // The neighbour presses "Chat" on the product page.
    a.goto(&app.url(&format!("/market/{product}")))
        .await
        .unwrap();
    a.find(Locator::Css("form.chat-open-form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    a.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#chat-form"))
        .await
        .unwrap();
    let chat_url = a.current_url().await.unwrap().to_string();
    assert!(chat_url.contains("/chats/"), "{chat_url}");

    // The seller finds it in their chats.
    b.goto(&app.url("/chats")).await.unwrap();
    b.find(Locator::Css(".chat-line a.chat-title"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#chat-form"))
        .await
        .unwrap();
    assert_eq!(b.current_url().await.unwrap().to_string(), chat_url);
    for c in [&a, &b] {
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#me-toasts[data-live=on]"))
            .await
            .unwrap();
        c.execute("window.__still_here = true; return true;", vec![])
            .await
            .unwrap();
    }

    async fn write(c: &Client, text: &str) {
        c.find(Locator::Css("#chat-body"))
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
        c.find(Locator::Css("#chat-form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    write(&a, "Hello, is the rice cooker still for sale?").await;
    wait_text(
        &b,
        "#chat-messages",
        "Hello, is the rice cooker still for sale?",
    )
    .await;
    wait_text(
        &a,
        "#chat-messages .mine",
        "Hello, is the rice cooker still for sale?",
    )
    .await;
    write(&b, "Yes! Come by at six.").await;
    wait_text(&a, "#chat-messages .theirs", "Yes! Come by at six.").await;
    wait_text(&b, "#chat-messages .mine", "Yes! Come by at six.").await;
    let typed = a
        .find(Locator::Css("#chat-body"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(typed, "", "the sent message left the box");
    for c in [&a, &b] {
        let still = c
            .execute("return window.__still_here === true;", vec![])
            .await
            .unwrap();
        assert_eq!(still, serde_json::json!(true), "the page did not reload");
    }
    // Each message once, in order, on both pages.
    for c in [&a, &b] {
        let n = c
            .execute(
                "return document.querySelectorAll('#chat-messages [data-message-id]').length;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(n, serde_json::json!(2));
    }
    if std::env::var("NEIGHBORBID_SCREENSHOT").is_ok() {
        std::fs::write("/tmp/neighborbid-chat.png", a.screenshot().await.unwrap()).unwrap();
        b.goto(&app.url("/chats")).await.unwrap();
        std::fs::write("/tmp/neighborbid-chats.png", b.screenshot().await.unwrap()).unwrap();
    }
    a.close().await.unwrap();
    b.close().await.unwrap();
}
