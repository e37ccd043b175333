//! Listings: create, validate, browse, look, edit, cancel, admin tools.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use reqwest::StatusCode;

use crate::helpers::{both_databases, local_in, spawn_app, spawn_app_with, Db, Listing};

both_databases!(
    a_seller_lists_an_auction_with_a_photo_and_everyone_can_see_it,
    listing_input_is_checked_with_every_reason_and_creates_nothing,
    the_list_page_filters_sorts_and_paginates,
    the_list_page_costs_the_same_queries_for_one_or_sixty_listings,
    a_listing_can_be_edited_or_cancelled_only_while_it_has_no_bids,
    a_scheduled_auction_opens_at_its_start,
    admins_close_past_end_auctions_and_cancel_any_with_holds_released,
    get_requests_change_nothing,
);

/// A whole 2×2 PNG.
pub const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x02\x00\x00\x00\x02\x08\x06\x00\x00\x00\x72\xb6\x0d\x24\x00\x00\x00\x11\x49\x44\x41\x54\x78\x9c\x63\xf8\xdf\xc0\xf0\x1f\x84\x19\x60\x0c\x00\x5a\xca\x09\xf9\xef\xae\x6a\xa1\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

async fn a_seller_lists_an_auction_with_a_photo_and_everyone_can_see_it(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let mut l = Listing::new("Brass desk lamp");
    l.buy_now_price = "50000".into();
    l.national = true;
    let r = app.post_listing(&seller, &l, Some(PNG.to_vec())).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();

    let anon = app.client();
    let (status, page) = app.get_html(&anon, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Brass desk lamp"));
    assert!(page.contains("National"));
    assert!(page.contains("₩10,000"), "current price");
    assert!(page.contains("Neighbour seller"), "seller shown");
    assert!(
        page.contains("Log in to bid"),
        "anonymous visitors see why they cannot bid"
    );
    assert!(
        page.contains("Buy now (₩50,000)"),
        "the buy-now rule is on the page"
    );
    let img_at = page.find("/uploads/").expect("the photo is shown");
    let img = &page[img_at..img_at + page[img_at..].find('"').unwrap()];
    let photo = app.get(&anon, img).await;
    assert_eq!(photo.status(), StatusCode::OK);
    assert_eq!(photo.headers()["content-type"], "image/png");
    let served = image::load_from_memory(&photo.bytes().await.unwrap()).unwrap();
    assert_eq!(
        (served.width(), served.height()),
        (2, 2),
        "the photo, re-encoded"
    );
    assert_eq!(
        app.get(&anon, "/uploads/..%2Fsecret.key").await.status(),
        StatusCode::NOT_FOUND
    );

    let (_, list) = app.get_html(&anon, "/").await;
    assert!(list.contains("Brass desk lamp"));
    let at = list
        .find("class=\"thumb\"><img src=\"")
        .expect("the card has a thumbnail")
        + "class=\"thumb\"><img src=\"".len();
    let thumb_url = &list[at..at + list[at..].find('"').unwrap()];
    assert!(thumb_url.ends_with(".thumb.jpg"), "{thumb_url}");
    let thumb = app.get(&anon, thumb_url).await;
    assert_eq!(thumb.status(), StatusCode::OK);
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    assert!(
        thumb
            .bytes()
            .await
            .unwrap()
            .starts_with(&[0xFF, 0xD8, 0xFF]),
        "a real JPEG"
    );
    let (_, seller_page) = app.get_html(&seller, &location).await;
    assert!(seller_page.contains("This is your auction"));
    let (_, mine) = app.get_html(&seller, "/me/listings").await;
    assert!(mine.contains("Brass desk lamp") && mine.contains("Active"));
}

async fn listing_input_is_checked_with_every_reason_and_creates_nothing(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("fussy").await;
    let bad = |f: &dyn Fn(&mut Listing)| {
        let mut l = Listing::new("Chair");
        f(&mut l);
        l
    };
    let cases: Vec<(Listing, Vec<&str>)> = vec![
        (
            bad(&|l| {
                l.title = String::new();
                l.start_price = "abc".into();
            }),
            vec![
                "Enter a title",
                "Start price: Enter the amount as a whole number",
            ],
        ),
        (
            bad(&|l| l.start_price = "-5".into()),
            vec!["more than zero"],
        ),
        (
            bad(&|l| l.start_price = "1e30".into()),
            vec!["whole number"],
        ),
        (
            bad(&|l| l.start_price = "99999999999999999999999".into()),
            vec!["far too large"],
        ),
        (
            bad(&|l| l.start_price = "10500".into()),
            vec!["multiple of the bid unit"],
        ),
        (
            bad(&|l| l.buy_now_price = "10000".into()),
            vec!["above the start price"],
        ),
        (
            bad(&|l| l.ends_at = local_in(31 * 86_400)),
            vec!["at most 30 days"],
        ),
        (bad(&|l| l.ends_at = local_in(-60)), vec!["in the future"]),
        (
            bad(&|l| {
                l.starts_at = local_in(7200);
                l.ends_at = local_in(3600);
            }),
            vec!["after the start"],
        ),
        (
            bad(&|l| l.ends_at = "tomorrow".into()),
            vec!["End time: enter a date"],
        ),
        (
            bad(&|l| l.category_id = "999".into()),
            vec!["Choose a category"],
        ),
        (
            bad(&|l| l.region_id = "2".into()),
            vec!["Choose a neighbourhood"],
        ),
        (
            bad(&|l| l.title = "x".repeat(10 * 1024)),
            vec!["at most 100 characters"],
        ),
        (
            bad(&|l| l.title = "evil\u{202E}txt".into()),
            vec!["invisible"],
        ),
    ];
    for (listing, reasons) in &cases {
        let r = app.post_listing(&seller, listing, None).await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{:.30}",
            listing.title
        );
        let body = r.text().await.unwrap();
        for reason in reasons {
            assert!(
                body.contains(reason),
                "expected {reason:?} for {:.30}",
                listing.title
            );
        }
    }
    let r = app
        .post_listing(
            &seller,
            &Listing::new("Fake PNG"),
            Some(b"\x89PNG\r\n\x1a\n but no picture".to_vec()),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("could not be read"));
    let r = app
        .post_listing(
            &seller,
            &Listing::new("Not an image"),
            Some(b"GIF89a not allowed".to_vec()),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("JPEG, PNG or WebP"));
    let big = [PNG, &vec![0_u8; 5 * 1024 * 1024]].concat();
    let r = app
        .post_listing(&seller, &Listing::new("Too big"), Some(big))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("at most 5 MB"));

    let (_, list) = app.get_html(&app.client(), "/auctions").await;
    assert!(list.contains("0 auctions"), "nothing was created");
    // Anonymous visitors are sent to log in, and a url-encoded post is a bad request, not a 500.
    let anon = app.client();
    assert_eq!(
        app.get(&anon, "/auctions/new").await.status(),
        StatusCode::SEE_OTHER
    );
    let r = app.post(&seller, "/auctions", &[("title", "x")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

async fn the_list_page_filters_sorts_and_paginates(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("lister").await;
    // 22 listings in 역삼동 (강남구), prices 10,000..; one in 서교동 (마포구), one national.
    for i in 0..22 {
        let mut l = Listing::new(&format!("Gangnam item {i:02}"));
        l.start_price = format!("{}", 10_000 + i * 1000);
        l.ends_at = local_in(3600 + i * 60);
        app.list(&seller, &l).await;
    }
    let mut mapo = Listing::new("Mapo bicycle");
    mapo.region_id = "8".into();
    mapo.category_id = "6".into();
    app.list(&seller, &mapo).await;
    let mut national = Listing::new("National camera");
    national.national = true;
    national.start_price = "500000".into();
    app.list(&seller, &national).await;

    let anon = app.client();
    let (_, page1) = app.get_html(&anon, "/auctions").await;
    assert!(page1.contains("24 auctions"));
    assert_eq!(page1.matches("class=\"auction-card\"").count(), 20);
    assert!(page1.contains("Page 1 of 2"));
    let (_, page2) = app.get_html(&anon, "/auctions?page=2").await;
    assert_eq!(page2.matches("class=\"auction-card\"").count(), 4);

    let count = |html: &str| html.matches("class=\"auction-card\"").count();
    let (_, gangnam) = app.get_html(&anon, "/auctions?region=2").await;
    assert!(
        gangnam.contains("23 auctions"),
        "a district includes its neighbourhoods"
    );
    let (_, mapo_only) = app.get_html(&anon, "/auctions?region=7").await;
    assert_eq!(count(&mapo_only), 1);
    assert!(mapo_only.contains("Mapo bicycle"));
    let (_, seoul) = app.get_html(&anon, "/auctions?region=1").await;
    assert!(
        seoul.contains("24 auctions"),
        "a city includes everything under it"
    );
    let (_, sports) = app.get_html(&anon, "/auctions?category=6").await;
    assert_eq!(count(&sports), 1);
    let (_, nat) = app.get_html(&anon, "/auctions?scope=national").await;
    assert_eq!(count(&nat), 1);
    assert!(nat.contains("National camera"));
    let (_, local) = app.get_html(&anon, "/auctions?scope=local").await;
    assert!(local.contains("23 auctions"));
    let (_, text) = app.get_html(&anon, "/auctions?q=BICYCLE").await;
    assert_eq!(count(&text), 1, "text search ignores case");
    let (_, wild) = app.get_html(&anon, "/auctions?q=%25").await;
    assert_eq!(count(&wild), 0, "a % in the text is literal");
    let (_, range) = app
        .get_html(&anon, "/auctions?min_price=12000&max_price=14000")
        .await;
    assert_eq!(count(&range), 3);
    let (_, up) = app.get_html(&anon, "/auctions?sort=price_up").await;
    assert!(up.find("Gangnam item 00").unwrap() < up.find("Gangnam item 05").unwrap());
    let (_, down) = app.get_html(&anon, "/auctions?sort=price_down").await;
    assert!(down.find("National camera").unwrap() < down.find("Gangnam item 21").unwrap());
    let (_, newest) = app.get_html(&anon, "/auctions?sort=newest").await;
    assert!(newest.find("National camera").unwrap() < newest.find("Mapo bicycle").unwrap());
    let (_, ending) = app.get_html(&anon, "/auctions").await;
    assert!(ending.find("Gangnam item 00").unwrap() < ending.find("Gangnam item 03").unwrap());
    for odd in [
        "/auctions?page=-3",
        "/auctions?region=abc&category=%00",
        "/auctions?min_price=1e30&sort=drop",
        "/auctions?page=99999999999999999999",
    ] {
        assert_eq!(app.get(&anon, odd).await.status(), StatusCode::OK, "{odd}");
    }
}

async fn the_list_page_costs_the_same_queries_for_one_or_sixty_listings(db: Db) {
    let counter = Arc::new(AtomicU64::new(0));
    let c = counter.clone();
    let app = spawn_app_with(db, move |s| {
        s.query_counter = Some(c);
        s.scheduler = false;
    })
    .await;
    let seller = app.sign_up("many").await;
    let anon = app.client();
    app.get(&anon, "/").await; // a session for the anonymous client
    let measure = || async {
        let before = counter.load(Ordering::SeqCst);
        let (status, html) = app.get_html(&anon, "/auctions").await;
        assert_eq!(status, StatusCode::OK);
        (
            counter.load(Ordering::SeqCst) - before,
            html.matches("class=\"auction-card\"").count(),
        )
    };
    app.list(&seller, &Listing::new("Only one")).await;
    let (one, cards) = measure().await;
    assert_eq!(cards, 1);
    for i in 1..60 {
        app.list(&seller, &Listing::new(&format!("Item {i}"))).await;
    }
    let (sixty, cards) = measure().await;
    assert_eq!(cards, 20);
    assert_eq!(
        one, sixty,
        "queries must not grow with the listings on the page"
    );
    assert!(sixty <= 3, "at most 3 queries, got {sixty}");
    // Logged in, the page also loads the user's header: still at most 3.
    let before = counter.load(Ordering::SeqCst);
    app.get(&seller, "/auctions").await;
    assert!(counter.load(Ordering::SeqCst) - before <= 3);
}

async fn a_listing_can_be_edited_or_cancelled_only_while_it_has_no_bids(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("editor").await;
    let bidder = app.funded("bidder", 100_000).await;
    let stranger = app.sign_up("stranger").await;
    let id = app.list(&seller, &Listing::new("Old title")).await;

    assert_eq!(
        app.get(&stranger, &format!("/auctions/{id}/edit"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let token = app.csrf(&seller).await;
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token)
        .text("title", "New title")
        .text("description", "Better words")
        .text("category_id", "2")
        .text("region_id", "4")
        .text("start_price", "20000")
        .text("bid_unit", "2000")
        .text("ends_at", local_in(7200));
    let r = app
        .post_multipart(&seller, &format!("/auctions/{id}/edit"), form)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app
        .get_html(&app.client(), &format!("/auctions/{id}"))
        .await;
    assert!(page.contains("New title") && page.contains("₩20,000"));

    let r = app
        .post(&stranger, &format!("/auctions/{id}/cancel"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.bid(&bidder, id, 20_000).await.0, StatusCode::SEE_OTHER);
    let (status, body) = app.get_html(&seller, &format!("/auctions/{id}/edit")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("already has bids"));
    let r = app
        .post(&seller, &format!("/auctions/{id}/cancel"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.auction_row(id).0,
        "active",
        "a listing with bids is not cancelled by its seller"
    );

    let fresh = app.list(&seller, &Listing::new("Unwanted")).await;
    assert_eq!(
        app.post(&seller, &format!("/auctions/{fresh}/cancel"), &[])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.auction_row(fresh).0, "cancelled");
    let (_, page) = app
        .get_html(&app.client(), &format!("/auctions/{fresh}"))
        .await;
    assert!(page.contains("was cancelled"));
    app.assert_audit_clean();
}

async fn a_scheduled_auction_opens_at_its_start(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("early").await;
    let bidder = app.funded("eager", 100_000).await;
    let mut l = Listing::new("Starts soon");
    l.starts_at = local_in(2);
    let id = app.list(&seller, &l).await;
    assert_eq!(app.auction_row(id).0, "scheduled");
    let (status, body) = app.bid(&bidder, id, 10_000).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Bidding has not started yet"));
    assert_eq!(app.wallet(&bidder).await, (100_000, 0));
    let mut opened = false;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if app.auction_row(id).0 == "active" {
            opened = true;
            break;
        }
    }
    assert!(opened, "the scheduler opens the auction at its start");
    assert_eq!(app.bid(&bidder, id, 10_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.wallet(&bidder).await, (90_000, 10_000));
    app.assert_audit_clean();
}

async fn admins_close_past_end_auctions_and_cancel_any_with_holds_released(db: Db) {
    let app = spawn_app_with(db, |s| s.scheduler = false).await;
    let seller = app.sign_up("vendor").await;
    let bidder = app.funded("holder", 100_000).await;
    let admin = app.admin("chief").await;
    let member = app.sign_up("plain").await;
    assert_eq!(
        app.get(&member, "/admin/auctions").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(&member, "/admin/auctions/1/close", &[])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    let mut short = Listing::new("Short one");
    short.ends_at = local_in(2);
    let short_id = app.list(&seller, &short).await;
    let long_id = app.list(&seller, &Listing::new("Long one")).await;
    assert_eq!(
        app.bid(&bidder, short_id, 10_000).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.bid(&bidder, long_id, 20_000).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.wallet(&bidder).await, (70_000, 30_000));

    // Not yet past its end: Close refuses.
    app.post(&admin, &format!("/admin/auctions/{short_id}/close"), &[])
        .await;
    assert_eq!(app.auction_row(short_id).0, "active");
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (_, page) = app.get_html(&admin, "/admin/auctions").await;
    assert!(
        page.contains(&format!("/admin/auctions/{short_id}/close")),
        "listed as past its end"
    );
    let r = app
        .post(&admin, &format!("/admin/auctions/{short_id}/close"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.auction_row(short_id).0, "sold");
    // Closing twice changes nothing.
    app.post(&admin, &format!("/admin/auctions/{short_id}/close"), &[])
        .await;
    let (_, page) = app.get_html(&admin, "/admin/auctions").await;
    assert!(page.contains("already closed"));
    // Buyer protection: the sale is a trade; the seller is paid once the winner confirms.
    assert_eq!(app.wallet(&seller).await, (0, 0), "not paid at the close");
    assert_eq!(app.wallet(&bidder).await, (70_000, 30_000), "still held");
    assert_eq!(
        app.confirm_auction_trade(&bidder, short_id).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.wallet(&seller).await, (10_000, 0));

    let r = app
        .post(&admin, &format!("/admin/auctions/{long_id}/cancel"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.auction_row(long_id).0, "cancelled");
    assert_eq!(
        app.wallet(&bidder).await,
        (90_000, 0),
        "the hold was released"
    );
    let (_, mine) = app.get_html(&bidder, "/me/bids").await;
    assert!(mine.contains("bid-state-won") && mine.contains("bid-state-cancelled"));
    app.assert_audit_clean();
}

async fn get_requests_change_nothing(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("quiet").await;
    let bidder = app.funded("looker", 50_000).await;
    let id = app.list(&seller, &Listing::new("Look only")).await;
    for path in [
        format!("/auctions/{id}/bids"),
        format!("/auctions/{id}/buy-now"),
        format!("/auctions/{id}/cancel"),
        format!("/admin/auctions/{id}/close"),
    ] {
        let r = app.get(&bidder, &path).await;
        assert!(r.status().is_client_error(), "GET {path} → {}", r.status());
    }
    assert_eq!(
        app.auction_row(id),
        ("active".to_owned(), 10_000, None, None, 0)
    );
    assert_eq!(app.wallet(&bidder).await, (50_000, 0));
    assert_eq!(
        app.get(&bidder, "/auctions/999999").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&bidder, "/auctions/abc").await.status(),
        StatusCode::NOT_FOUND
    );
    app.assert_audit_clean();
}
