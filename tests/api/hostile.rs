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
    assert_eq!(app.wallet(&buyer).await, (60_000, 0));
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
