//! Holes an attacker would try first (issue 10), each tried as the attacker would, on both
//! databases: nothing moves, nothing answers 5xx, and the audit is clean at the end.

use reqwest::StatusCode;

use crate::helpers::{
    both_databases, expect_frame, field_value, send_text, spawn_app, Db, Listing,
};

both_databases!(
    a_seller_switching_the_buy_now_price_after_the_page_loaded_moves_no_money,
    a_buy_now_without_the_price_the_buyer_saw_is_refused,
    a_price_switch_is_refused_on_the_live_panel_too,
    next_after_login_never_leaves_the_site_and_never_answers_5xx,
    a_nul_byte_in_any_text_field_gets_the_same_answer_on_both_databases_and_changes_nothing,
    every_page_carries_the_security_headers_and_no_inline_script,
    an_https_site_sends_secure_cookies_and_hsts,
    live_sockets_are_capped_per_user_and_per_address,
    a_live_message_over_16_kb_sent_in_pieces_is_refused_and_the_socket_closed,
    a_live_client_that_stops_reading_is_dropped,
);

async fn a_seller_switching_the_buy_now_price_after_the_page_loaded_moves_no_money(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("switcher").await;
    let buyer = app.funded("trusting", 200_000).await;
    let mut l = Listing::new("Bicycle");
    l.buy_now_price = "50000".into();
    let id = app.list(&seller, &l).await;

    // The buyer reads the page: ₩50,000.
    let (_, page) = app.get_html(&buyer, &format!("/auctions/{id}")).await;
    let seen = field_value(&page, "expected_price").expect("the buy-now form carries the price");
    assert_eq!(seen, "50000");
    let token = app.csrf(&buyer).await;

    // The seller raises the buy-now price before the buyer's POST arrives.
    l.buy_now_price = "150000".into();
    let r = seller
        .post_listing_to(&format!("/auctions/{id}/edit"), &l, None)
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the seller may edit before any bid"
    );

    let r = app
        .post_raw(
            &buyer,
            &format!("/auctions/{id}/buy-now"),
            &[
                ("expected_price", seen.as_str()),
                ("csrf_token", token.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("changed to ₩150,000"), "{body}");
    assert_eq!(app.wallet(&buyer).await, (200_000, 0), "nothing moved");
    assert_eq!(app.wallet(&seller).await, (0, 0));
    assert_eq!(app.auction_row(id).0, "active");

    // Seeing the new price and agreeing to it works.
    let (status, _) = app.buy_now(&buyer, id).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.wallet(&buyer).await,
        (50_000, 150_000),
        "held for the trade"
    );
    assert_eq!(
        app.confirm_auction_trade(&buyer, id).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.wallet(&buyer).await, (50_000, 0));
    assert_eq!(app.wallet(&seller).await, (150_000, 0));
    app.assert_audit_clean();
}

async fn a_buy_now_without_the_price_the_buyer_saw_is_refused(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("plainseller").await;
    let buyer = app.funded("hasty", 100_000).await;
    let mut l = Listing::new("Kettle");
    l.buy_now_price = "30000".into();
    let id = app.list(&seller, &l).await;
    for fields in [
        vec![],
        vec![("expected_price", "")],
        vec![("expected_price", "29999")],
        vec![("expected_price", "30001")],
        vec![("expected_price", "-30000")],
        vec![("expected_price", "3e4")],
        vec![("expected_price", "30000\u{0}")],
    ] {
        let r = app
            .post(&buyer, &format!("/auctions/{id}/buy-now"), &fields)
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(r.text().await.unwrap().contains("changed to ₩30,000"));
    }
    assert_eq!(app.wallet(&buyer).await, (100_000, 0));
    assert_eq!(app.auction_row(id).0, "active");
    app.assert_audit_clean();
}

async fn a_price_switch_is_refused_on_the_live_panel_too(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("liveswitch").await;
    let buyer = app.funded("livebuyer", 300_000).await;
    let mut l = Listing::new("Camera");
    l.national = true;
    l.buy_now_price = "80000".into();
    let id = app.list(&seller, &l).await;
    let mut ws = buyer.ws(id).await;
    expect_frame(&mut ws, "state", "").await;

    l.buy_now_price = "240000".into();
    let r = seller
        .post_listing_to(&format!("/auctions/{id}/edit"), &l, None)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    send_text(&mut ws, r#"{"type":"buy_now","expected_price":"80000"}"#).await;
    expect_frame(&mut ws, "error", "changed to ₩240,000").await;
    send_text(&mut ws, r#"{"type":"buy_now"}"#).await;
    expect_frame(&mut ws, "error", "changed to ₩240,000").await;
    assert_eq!(app.wallet(&buyer).await, (300_000, 0));
    assert_eq!(app.auction_row(id).0, "active");

    send_text(&mut ws, r#"{"type":"buy_now","expected_price":"240000"}"#).await;
    expect_frame(&mut ws, "ack", "You bought it for ₩240,000").await;
    assert_eq!(
        app.wallet(&buyer).await,
        (60_000, 240_000),
        "held until receipt is confirmed"
    );
    app.assert_audit_clean();
}

/// `next` values from an attacker's list: each as the query of the login page and as the
/// posted form field. Only a path on this site survives; everything else goes to `/`.
async fn next_after_login_never_leaves_the_site_and_never_answers_5xx(db: Db) {
    let app = spawn_app(db).await;
    app.sign_up("wanderer").await;
    // (as sent in the query string, as the browser posts it back, where login must land)
    let cases: &[(&str, &str, &str)] = &[
        ("/wallet", "/wallet", "/wallet"),
        (
            "/auctions%3Fq%3Dlamp",
            "/auctions?q=lamp",
            "/auctions?q=lamp",
        ),
        ("/%09/evil.example", "/\t/evil.example", "/"),
        ("/%0a", "/\n", "/"),
        ("/%0d%0aSet-Cookie:%20x=1", "/\r\nSet-Cookie: x=1", "/"),
        ("//evil.example", "//evil.example", "/"),
        ("/%5Cevil.example", "/\\evil.example", "/"),
        ("%5C%5Cevil.example", "\\\\evil.example", "/"),
        ("https://evil.example/", "https://evil.example/", "/"),
        ("javascript:alert(1)", "javascript:alert(1)", "/"),
        ("/%252F%252Fevil.example", "/%2F%2Fevil.example", "/"),
        ("/%2509/evil", "/%09/evil", "/"),
        ("/%00", "/\u{0}", "/"),
        ("/%E2%80%8B/evil.example", "/\u{200b}/evil.example", "/"),
        ("%20/wallet", " /wallet", "/"),
    ];
    for (query, posted, lands) in cases {
        let visitor = app.client();
        let (status, page) = app
            .get_html(&visitor, &format!("/login?next={query}"))
            .await;
        assert_eq!(status, StatusCode::OK, "GET /login?next={query}");
        let kept = field_value(&page, "next").unwrap_or_default();
        assert!(
            kept.is_empty() || (kept.starts_with('/') && !kept.contains("//")),
            "{query}: the form keeps {kept:?}"
        );
        let r = app
            .post(
                &visitor,
                "/login",
                &[
                    ("username", "wanderer"),
                    ("password", crate::helpers::PASSWORD),
                    ("next", posted),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "POST next={posted:?}");
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(location, *lands, "next={posted:?}");
    }
    // A failed login with a hostile next re-renders the form, never a 5xx.
    let visitor = app.client();
    let r = app
        .post(
            &visitor,
            "/login",
            &[
                ("username", "wanderer"),
                ("password", "wrong"),
                ("next", "/\n"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// PostgreSQL refuses NUL in text; SQLite stores it. Every text field, in the address and in
/// forms, must get an answer below 500 and create nothing on either database.
async fn a_nul_byte_in_any_text_field_gets_the_same_answer_on_both_databases_and_changes_nothing(
    db: Db,
) {
    use reqwest::multipart::Form;
    let app = spawn_app(db).await;
    let seller = app.funded("nulseller", 50_000).await;
    let buyer = app.funded("nulbuyer", 50_000).await;
    let auction = app.list(&seller, &Listing::new("Teapot")).await;
    let anon = app.client();
    for path in [
        "/?q=%00",
        "/auctions?q=a%00b",
        "/auctions?q=%00%00%00&region=%00&category=%00&scope=%00&sort=%00&min_price=%00&max_price=%00&status=%00&page=%00",
        "/market?q=%00",
        "/market?q=x%00&region=%00&category=%00&status=%00&page=%00",
        "/login?next=/%00",
        "/auctions/1%00",
        "/market/%00",
        "/uploads/%00.jpg",
    ] {
        for client in [&anon, &buyer] {
            let r = app.get(client, path).await;
            assert!(r.status().as_u16() < 500, "GET {path} → {}", r.status());
        }
    }
    let (status, found) = app.get_html(&anon, "/auctions?q=Teapot%00").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        found.contains("Teapot"),
        "a trailing NUL is dropped, the search still works"
    );

    let nul = "a\u{0}b";
    let posts: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "/signup",
            vec![
                ("username", nul),
                ("password", "tulip-garden-42"),
                ("password_confirm", "tulip-garden-42"),
                ("display_name", "x"),
                ("region_id", "3"),
            ],
        ),
        (
            "/signup",
            vec![
                ("username", "nuller"),
                ("password", "tulip-garden-42"),
                ("password_confirm", "tulip-garden-42"),
                ("display_name", nul),
                ("region_id", "3"),
            ],
        ),
        (
            "/signup",
            vec![
                ("username", "nuller2"),
                ("password", nul),
                ("password_confirm", nul),
                ("display_name", "x"),
                ("region_id", "\u{0}"),
            ],
        ),
        (
            "/login",
            vec![("username", nul), ("password", nul), ("next", nul)],
        ),
        (
            "/wallet/top-up",
            vec![
                ("amount", nul),
                ("method", "dev"),
                ("idempotency_key", "k0000000000000000000"),
            ],
        ),
        (
            "/wallet/top-up",
            vec![
                ("amount", "1000"),
                ("method", "dev"),
                ("idempotency_key", "k00000000000000000\u{0}0"),
            ],
        ),
        (
            "/wallet/top-up",
            vec![
                ("amount", "1000"),
                ("method", "d\u{0}ev"),
                ("idempotency_key", "k000000000000000000x"),
            ],
        ),
    ];
    for (path, fields) in &posts {
        let r = app.post(&buyer, path, fields).await;
        assert!(
            r.status().as_u16() < 500,
            "POST {path} {fields:?} → {}",
            r.status()
        );
    }
    let auction_posts = [
        (format!("/auctions/{auction}/bids"), vec![("amount", nul)]),
        (
            format!("/auctions/{auction}/buy-now"),
            vec![("expected_price", nul)],
        ),
        (
            "/market/1/buy".to_owned(),
            vec![("quantity", nul), ("expected_price", nul)],
        ),
    ];
    for (path, fields) in &auction_posts {
        let r = app.post(&buyer, path, fields).await;
        assert!(r.status().as_u16() < 500, "POST {path} → {}", r.status());
    }
    for field in [
        "title",
        "description",
        "category_id",
        "region_id",
        "start_price",
        "bid_unit",
        "buy_now_price",
        "starts_at",
        "ends_at",
    ] {
        let mut form = Form::new().text("csrf_token", app.csrf(&seller).await);
        for (name, value) in [
            ("title", "Lamp"),
            ("description", "Fine"),
            ("category_id", "1"),
            ("region_id", "3"),
            ("start_price", "1000"),
            ("bid_unit", "1000"),
            ("buy_now_price", ""),
            ("starts_at", ""),
            ("ends_at", &crate::helpers::local_in(3600)),
        ] {
            form = form.text(
                name,
                if name == field {
                    nul.to_owned()
                } else {
                    value.to_owned()
                },
            );
        }
        let r = seller.post_multipart("/auctions", form).await;
        assert!(
            r.status().as_u16() < 500 && r.status() != StatusCode::SEE_OTHER,
            "listing with NUL in {field} → {}",
            r.status()
        );
    }
    for field in [
        "name",
        "description",
        "price",
        "quantity",
        "category_id",
        "region_id",
    ] {
        let mut form = Form::new().text("csrf_token", app.csrf(&seller).await);
        for (name, value) in [
            ("name", "Mug"),
            ("description", "Blue"),
            ("price", "1000"),
            ("quantity", "1"),
            ("category_id", "1"),
            ("region_id", "3"),
        ] {
            form = form.text(
                name,
                if name == field {
                    nul.to_owned()
                } else {
                    value.to_owned()
                },
            );
        }
        let r = seller.post_multipart("/market/new", form).await;
        assert!(
            r.status().as_u16() < 500 && r.status() != StatusCode::SEE_OTHER,
            "product with NUL in {field} → {}",
            r.status()
        );
    }
    // Nothing was created or moved.
    let (_, market) = app.get_html(&anon, "/market").await;
    assert!(!market.contains("data-product="), "no product was created");
    let (_, list) = app.get_html(&anon, "/auctions").await;
    assert_eq!(
        list.matches("class=\"auction-card").count(),
        1,
        "only the teapot is listed"
    );
    assert_eq!(app.wallet(&buyer).await, (50_000, 0));
    assert_eq!(app.wallet(&seller).await, (50_000, 0));
    let (_, r) = app.log_in("nuller", "tulip-garden-42").await;
    assert_ne!(r.status(), StatusCode::SEE_OTHER, "no account was created");
    app.assert_audit_clean();
}

async fn every_page_carries_the_security_headers_and_no_inline_script(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.funded("headed", 10_000).await;
    let mut l = Listing::new("Lantern");
    l.national = true;
    let id = app.list(&seller, &l).await;
    let anon = app.client();
    let pages = [
        "/".to_owned(),
        "/auctions".to_owned(),
        format!("/auctions/{id}"),
        "/market".to_owned(),
        "/login".to_owned(),
        "/signup".to_owned(),
        "/wallet".to_owned(),
        "/auctions/new".to_owned(),
        "/no/such/page".to_owned(),
    ];
    for path in &pages {
        for client in [&anon, &seller] {
            let r = app.get(client, path).await;
            let h = r.headers().clone();
            let csp = h
                .get("content-security-policy")
                .unwrap_or_else(|| panic!("{path}: a CSP"))
                .to_str()
                .unwrap()
                .to_owned();
            assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
            assert!(
                !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
                "{csp}"
            );
            assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(h["referrer-policy"], "same-origin", "{path}");
            assert!(
                h.get("strict-transport-security").is_none(),
                "no HSTS over plain HTTP"
            );
            let body = r.text().await.unwrap();
            for (at, _) in body.match_indices("<script") {
                let tag = &body[at..at + body[at..].find('>').unwrap()];
                assert!(
                    tag.contains(" src=\"/static/"),
                    "{path}: an inline script: {tag}"
                );
            }
            assert!(
                !body.contains(" onclick=") && !body.contains(" onsubmit="),
                "{path}"
            );
        }
    }
    let r = app.get(&anon, "/static/js/live.js").await;
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
}

async fn an_https_site_sends_secure_cookies_and_hsts(db: Db) {
    let app = crate::helpers::spawn_app_with(db, |s| {
        s.public_url = Some("https://neighborbid.example".to_owned())
    })
    .await;
    let anon = app.client();
    let r = app.get(&anon, "/login").await;
    let hsts = r.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(hsts.starts_with("max-age=31536000"), "{hsts}");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("nb_session="))
        .expect("the session cookie is set on the login page");
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");

    let plain = spawn_app(db).await;
    let r = plain.get(&plain.client(), "/login").await;
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("nb_session="))
        .expect("a session cookie");
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP cannot use a Secure cookie: {cookie}"
    );
}

async fn watchers_on_the_page(app: &crate::helpers::TestApp, id: i64) -> String {
    let (_, page) = app
        .get_html(&app.client(), &format!("/auctions/{id}"))
        .await;
    let at = page.find("id=\"watchers\">").expect("the watcher count") + 14;
    page[at..at + page[at..].find(' ').unwrap()].to_owned()
}

async fn national(
    app: &crate::helpers::TestApp,
    seller: &crate::helpers::Browser,
    title: &str,
) -> i64 {
    let mut l = Listing::new(title);
    l.national = true;
    app.list(seller, &l).await
}

async fn live_sockets_are_capped_per_user_and_per_address(db: Db) {
    use tokio_tungstenite::tungstenite::Error;
    let app = crate::helpers::spawn_app_with(db, |s| {
        s.ws_max_per_user = 2;
        s.ws_max_per_ip = 3;
    })
    .await;
    let seller = app.sign_up("capseller").await;
    let member = app.sign_up("tabhoarder").await;
    let id = national(&app, &seller, "Telescope").await;
    let first = member.ws(id).await;
    let _second = member.ws(id).await;
    let refused =
        crate::helpers::connect(&member.base, id, Some(&member.jar), Some(&member.base)).await;
    match refused {
        Err(Error::Http(r)) => assert_eq!(r.status().as_u16(), 429),
        other => panic!("a third socket for one user: {:?}", other.map(|_| "opened")),
    }
    // Everyone here is 127.0.0.1: one anonymous watcher fills the address's three places.
    let anon = app.client();
    let _third = anon.ws(id).await;
    match crate::helpers::connect(&anon.base, id, None, Some(&anon.base)).await {
        Err(Error::Http(r)) => assert_eq!(r.status().as_u16(), 429),
        other => panic!(
            "a fourth socket from one address: {:?}",
            other.map(|_| "opened")
        ),
    }
    // Closing a socket gives its place back.
    drop(first);
    let mut reopened = None;
    for _ in 0..50 {
        if let Ok(ws) = crate::helpers::connect(&anon.base, id, None, Some(&anon.base)).await {
            reopened = Some(ws);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        reopened.is_some(),
        "the place of a closed socket is free again"
    );
}

async fn a_live_message_over_16_kb_sent_in_pieces_is_refused_and_the_socket_closed(db: Db) {
    use futures_util::SinkExt as _;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::Message;
    let app = spawn_app(db).await;
    let seller = app.sign_up("fragseller").await;
    let bidder = app.funded("fragger", 100_000).await;
    let id = national(&app, &seller, "Piano").await;
    let mut ws = bidder.ws(id).await;
    expect_frame(&mut ws, "state", "").await;
    // A valid bid, padded with 40 KB of JSON whitespace, in five pieces of 8 KB each.
    let mut message = br#"{"type":"bid","amount":"20000"}"#.to_vec();
    message.resize(40 * 1024, b' ');
    let pieces: Vec<&[u8]> = message.chunks(8 * 1024).collect();
    for (i, piece) in pieces.iter().enumerate() {
        let opcode = if i == 0 {
            OpCode::Data(Data::Text)
        } else {
            OpCode::Data(Data::Continue)
        };
        let frame = Frame::message(piece.to_vec(), opcode, i == pieces.len() - 1);
        if ws.send(Message::Frame(frame)).await.is_err() {
            break;
        }
    }
    // The server says why and closes; the bid never happened.
    let mut closed = false;
    for _ in 0..20 {
        match crate::helpers::next_frame(&mut ws, std::time::Duration::from_millis(500)).await {
            Some(f) if f["type"] == "error" => {}
            Some(f) if f["type"] == "ack" => panic!("an oversized message was acted on: {f}"),
            Some(_) => {}
            None => {
                closed = true;
                break;
            }
        }
    }
    assert!(closed, "the socket is closed");
    assert_eq!(app.auction_row(id).4, 0, "no bid was placed");
    assert_eq!(app.wallet(&bidder).await, (100_000, 0));
    app.assert_audit_clean();
}

/// A client that stops reading while the server has things to send fills its buffers; the
/// server's writes then wait, and the idle check must still drop it.
async fn a_live_client_that_stops_reading_is_dropped(db: Db) {
    use futures_util::SinkExt as _;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    use tokio_tungstenite::tungstenite::Message;
    let app = crate::helpers::spawn_app_with(db, |s| {
        s.ws_ping_interval = std::time::Duration::from_millis(200);
        s.ws_idle_timeout = std::time::Duration::from_secs(1);
    })
    .await;
    let seller = app.sign_up("slowseller").await;
    let id = national(&app, &seller, "Harp").await;
    assert_eq!(watchers_on_the_page(&app, id).await, "0");

    let addr = app.address.trim_start_matches("http://").to_owned();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(2048).unwrap();
    let tcp = socket.connect(addr.parse().unwrap()).await.unwrap();
    let mut request = format!("ws://{addr}/auctions/{id}/live")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", app.address.parse().unwrap());
    let (ws, _) = tokio_tungstenite::client_async(request, tcp).await.unwrap();
    let (mut sink, stream) = futures_util::StreamExt::split(ws);
    assert_eq!(watchers_on_the_page(&app, id).await, "1");
    // Flood the server with requests whose answers are never read.
    let flood = tokio::spawn(async move {
        for _ in 0..60_000 {
            if sink.send(Message::text("x")).await.is_err() {
                break;
            }
        }
        sink
    });
    let mut watchers = String::new();
    for _ in 0..200 {
        watchers = watchers_on_the_page(&app, id).await;
        if watchers == "0" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        watchers, "0",
        "the server let go of the socket that stopped reading"
    );
    flood.abort();
    drop(stream);
}
