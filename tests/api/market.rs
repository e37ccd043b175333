use std::time::Duration;

use futures_util::future::join_all;
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};

use crate::helpers::{
    both_databases, field_value, spawn_app, spawn_app_with, Browser, Db, TestApp,
};

both_databases!(
    three_neighbours_buy_three_lamps_through_the_pages,
    fifty_buyers_at_once_for_three_units_make_exactly_three_trades,
    two_buyers_confirming_the_last_two_units_at_once_complete_the_product,
    a_rejected_trade_releases_the_hold_and_returns_the_unit,
    a_price_change_does_not_change_existing_trades,
    purchases_that_break_a_rule_are_refused_with_the_reason,
    someone_elses_trade_is_forbidden,
    anonymous_visitors_can_browse_but_not_buy,
    bad_product_input_is_refused_with_reasons_and_creates_nothing,
    the_scheduler_confirms_an_approved_trade_after_the_period,
    the_market_list_filters_and_paginates,
    product_images_are_stored_and_served_by_safe_names_only,
    the_database_itself_allows_one_trade_per_buyer_per_product,
    a_seller_switching_the_price_after_the_page_loaded_moves_no_money,
    a_buyer_asks_for_several_units_in_one_trade_and_no_more_than_are_left,
    a_buyer_cancels_a_request_before_approval_and_gets_the_money_back,
    the_scheduler_cancels_a_request_the_seller_never_answered,
);

// ---------------------------------------------------------------- helpers

use crate::auctions::PNG;

/// POST the multipart new-product form: defaults for every field not given.
async fn post_product(
    app: &TestApp,
    client: &Browser,
    fields: &[(&str, &str)],
    image: Option<(&str, Vec<u8>)>,
) -> Response {
    let token = app.csrf(client).await;
    let defaults = [
        ("name", "Brass desk lamp"),
        ("description", "Works well, warm light."),
        ("price", "12000"),
        ("quantity", "1"),
        ("category_id", "2"),
        ("region_id", "3"),
    ];
    let mut form = Form::new().text("csrf_token", token);
    for (name, value) in defaults {
        let value = fields
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(value, |(_, v)| *v);
        form = form.text(name, value.to_owned());
    }
    if let Some((file_name, bytes)) = image {
        form = form.part("image", Part::bytes(bytes).file_name(file_name.to_owned()));
    }
    app.post_multipart(client, "/market/new", form).await
}

/// List a product and return its id.
pub(crate) async fn list_product(
    app: &TestApp,
    client: &Browser,
    name: &str,
    price: &str,
    quantity: &str,
) -> i64 {
    let r = post_product(
        app,
        client,
        &[("name", name), ("price", price), ("quantity", quantity)],
        None,
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    location
        .strip_prefix("/market/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("a product address: {location}"))
}

/// A member with money in their wallet.
async fn member_with(app: &TestApp, username: &str, amount: &str) -> Browser {
    let client = app.sign_up(username).await;
    if amount != "0" {
        assert_eq!(
            app.top_up(&client, amount).await.status(),
            StatusCode::SEE_OTHER
        );
    }
    client
}

pub(crate) async fn product_page(app: &TestApp, client: &Browser, id: i64) -> String {
    let (status, html) = app.get_html(client, &format!("/market/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    html
}

/// The value of `attr="…"` right after `marker`.
fn attr_after(html: &str, marker: &str, attr: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} on the page"));
    let rest = &html[at..];
    let start = rest.find(&format!("{attr}=\"")).expect("the attribute") + attr.len() + 2;
    rest[start..start + rest[start..].find('"').unwrap()].to_owned()
}

/// Status and units left as the product page shows them.
pub(crate) async fn product_state(app: &TestApp, client: &Browser, id: i64) -> (String, i64) {
    let html = product_page(app, client, id).await;
    (
        attr_after(&html, "id=\"status\"", "data-status"),
        attr_after(&html, "id=\"units-left\"", "data-units-left")
            .parse()
            .unwrap(),
    )
}

/// Ids of the trades a page offers `action` (`approve`, `reject`, `confirm`) for.
pub(crate) fn trade_ids(html: &str, action: &str) -> Vec<i64> {
    let suffix = format!("/{action}\"");
    html.match_indices("action=\"/trades/")
        .filter_map(|(at, m)| {
            let rest = &html[at + m.len()..];
            let end = rest.find('"')?;
            let path = &rest[..end + 1];
            path.ends_with(&suffix)
                .then(|| path[..path.len() - suffix.len()].parse().ok())
                .flatten()
        })
        .collect()
}

/// Buy one unit as a browser would: the unit price on the page goes with the form.
async fn buy(app: &TestApp, client: &Browser, product: i64) -> Response {
    buy_units(app, client, product, "1").await
}

async fn buy_units(app: &TestApp, client: &Browser, product: i64, quantity: &str) -> Response {
    let (_, page) = app.get_html(client, &format!("/market/{product}")).await;
    let seen = field_value(&page, "expected_price").unwrap_or_default();
    app.post(
        client,
        &format!("/market/{product}/buy"),
        &[("quantity", quantity), ("expected_price", seen.as_str())],
    )
    .await
}

pub(crate) async fn act(app: &TestApp, client: &Browser, trade: i64, action: &str) -> Response {
    app.post(client, &format!("/trades/{trade}/{action}"), &[])
        .await
}

/// Approve every requested trade of a product as its seller; returns their ids.
async fn approve_all(app: &TestApp, seller: &Browser, product: i64) -> Vec<i64> {
    let html = product_page(app, seller, product).await;
    let ids = trade_ids(&html, "approve");
    for id in &ids {
        assert_eq!(
            act(app, seller, *id, "approve").await.status(),
            StatusCode::SEE_OTHER
        );
    }
    ids
}

/// The buyer's own trade id, from the Confirm button on the product page.
async fn my_confirmable_trade(app: &TestApp, buyer: &Browser, product: i64) -> i64 {
    let html = product_page(app, buyer, product).await;
    let ids = trade_ids(&html, "confirm");
    assert_eq!(ids.len(), 1, "one Confirm button for the buyer");
    ids[0]
}

fn count_products(html: &str) -> usize {
    html.matches("data-product=\"").count()
}

// ---------------------------------------------------------------- tests

async fn three_neighbours_buy_three_lamps_through_the_pages(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("lampseller").await;
    let lamp = list_product(&app, &seller, "Brass desk lamp", "12,000", "3").await;

    let (_, list) = app.get_html(&app.client(), "/market").await;
    assert!(list.contains("Brass desk lamp"), "listed");
    assert!(list.contains("₩12,000"));
    assert!(list.contains("3 of 3 left"));

    let mut buyers = Vec::new();
    for name in ["minsu", "jiwoo", "seoyeon"] {
        let buyer = member_with(&app, name, "50000").await;
        let r = buy(&app, &buyer, lamp).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], format!("/market/{lamp}").as_str());
        assert_eq!(
            app.wallet(&buyer).await,
            (38_000, 12_000),
            "{name}: price held"
        );
        buyers.push(buyer);
    }
    assert_eq!(
        product_state(&app, &seller, lamp).await,
        ("reserved".to_owned(), 0)
    );
    let (_, list) = app.get_html(&app.client(), "/market").await;
    assert!(list.contains("0 of 3 left"), "the list shows units left");
    assert!(list.contains("data-status=\"reserved\""));

    // The seller sees all three trades and approves them.
    let html = product_page(&app, &seller, lamp).await;
    assert_eq!(html.matches("class=\"trade\"").count(), 3);
    let approved = approve_all(&app, &seller, lamp).await;
    assert_eq!(approved.len(), 3);
    let html = product_page(&app, &buyers[0], lamp).await;
    assert!(
        html.contains("Confirmed automatically at"),
        "the buyer is told when"
    );
    let (_, reservations) = app.get_html(&buyers[0], "/me/reservations").await;
    assert!(reservations.contains("Brass desk lamp"));
    assert!(reservations.contains("₩12,000"));

    for (i, buyer) in buyers.iter().enumerate() {
        let trade = my_confirmable_trade(&app, buyer, lamp).await;
        let r = act(&app, buyer, trade, "confirm").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.wallet(buyer).await, (38_000, 0), "buyer {i} paid");
    }
    assert_eq!(app.wallet(&seller).await, (36_000, 0), "the seller is paid");
    assert_eq!(
        product_state(&app, &seller, lamp).await,
        ("completed".to_owned(), 0)
    );
    let (_, purchases) = app.get_html(&buyers[1], "/me/purchases").await;
    assert!(purchases.contains("Brass desk lamp"));
    assert!(purchases.contains("data-trade-status=\"confirmed\""));
    assert!(purchases.contains("₩12,000"));
    let (_, reservations) = app.get_html(&seller, "/me/reservations").await;
    assert!(reservations.contains("Nothing in progress"));
    let (_, wallet) = app.get_html(&seller, "/wallet").await;
    assert_eq!(wallet.matches("<tr class=\"kind-purchase_in\"").count(), 3);
    app.assert_audit_clean();
}

async fn fifty_buyers_at_once_for_three_units_make_exactly_three_trades(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("popular").await;
    let product = list_product(&app, &seller, "Concert ticket", "10000", "3").await;
    let buyers = join_all((0..50).map(|i| {
        let app = &app;
        async move { member_with(app, &format!("fan{i}"), "20000").await }
    }))
    .await;
    // Every form is loaded first, then all fifty presses go out at once.
    let tokens = join_all(buyers.iter().map(|b| app.csrf(b))).await;
    let path = format!("/market/{product}/buy");
    let presses = buyers.iter().zip(&tokens).map(|(b, t)| {
        let (app, path) = (&app, &path);
        async move {
            let fields = [
                ("quantity", "1"),
                ("expected_price", "10000"),
                ("csrf_token", t.as_str()),
            ];
            app.post_raw(b, path, &fields).await
        }
    });
    let responses = join_all(presses).await;
    let mut won = Vec::new();
    let mut refused = 0;
    for (i, r) in responses.into_iter().enumerate() {
        match r.status() {
            StatusCode::SEE_OTHER => won.push(i),
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert!(r.text().await.unwrap().contains("No unit is left"));
                refused += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(won.len(), 3, "exactly three trades");
    assert_eq!(refused, 47);
    assert_eq!(
        product_state(&app, &seller, product).await,
        ("reserved".to_owned(), 0)
    );
    let html = product_page(&app, &seller, product).await;
    assert_eq!(html.matches("class=\"trade\"").count(), 3);
    for (i, b) in buyers.iter().enumerate() {
        let expected = if won.contains(&i) {
            (10_000, 10_000)
        } else {
            (20_000, 0)
        };
        assert_eq!(app.wallet(b).await, expected, "fan{i}");
    }
    app.assert_audit_clean();
}

async fn two_buyers_confirming_the_last_two_units_at_once_complete_the_product(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("twinseller").await;
    let a = member_with(&app, "twin_a", "30000").await;
    let b = member_with(&app, "twin_b", "30000").await;
    for round in 0..3 {
        let product = list_product(&app, &seller, &format!("Chair {round}"), "5000", "2").await;
        assert_eq!(buy(&app, &a, product).await.status(), StatusCode::SEE_OTHER);
        assert_eq!(buy(&app, &b, product).await.status(), StatusCode::SEE_OTHER);
        assert_eq!(approve_all(&app, &seller, product).await.len(), 2);
        let ta = my_confirmable_trade(&app, &a, product).await;
        let tb = my_confirmable_trade(&app, &b, product).await;
        let (token_a, token_b) = (app.csrf(&a).await, app.csrf(&b).await);
        let (pa, pb) = (
            format!("/trades/{ta}/confirm"),
            format!("/trades/{tb}/confirm"),
        );
        let fa = [("csrf_token", token_a.as_str())];
        let fb = [("csrf_token", token_b.as_str())];
        let (ra, rb) = tokio::join!(app.post_raw(&a, &pa, &fa), app.post_raw(&b, &pb, &fb));
        assert_eq!(ra.status(), StatusCode::SEE_OTHER);
        assert_eq!(rb.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            product_state(&app, &seller, product).await,
            ("completed".to_owned(), 0),
            "round {round}"
        );
    }
    assert_eq!(app.wallet(&a).await, (15_000, 0));
    assert_eq!(app.wallet(&b).await, (15_000, 0));
    assert_eq!(app.wallet(&seller).await, (30_000, 0));
    app.assert_audit_clean();
}

async fn a_rejected_trade_releases_the_hold_and_returns_the_unit(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("picky").await;
    let product = list_product(&app, &seller, "Bookshelf", "30000", "1").await;
    let buyer = member_with(&app, "hopeful", "40000").await;
    assert_eq!(
        buy(&app, &buyer, product).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.wallet(&buyer).await, (10_000, 30_000));
    assert_eq!(
        product_state(&app, &seller, product).await,
        ("reserved".to_owned(), 0)
    );
    let html = product_page(&app, &seller, product).await;
    let ids = trade_ids(&html, "reject");
    assert_eq!(ids.len(), 1);
    let r = act(&app, &seller, ids[0], "reject").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.wallet(&buyer).await,
        (40_000, 0),
        "the hold is released"
    );
    assert_eq!(
        product_state(&app, &seller, product).await,
        ("on_sale".to_owned(), 1),
        "the unit is back on sale"
    );
    let (_, wallet) = app.get_html(&buyer, "/wallet").await;
    assert!(wallet.contains("kind-purchase_release"));
    // Rejecting again, approving or confirming a rejected trade is refused.
    let r = act(&app, &seller, ids[0], "reject").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("no longer waiting"));
    let r = act(&app, &buyer, ids[0], "confirm").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The rejected buyer is told they cannot ask again; another neighbour can buy.
    let html = product_page(&app, &buyer, product).await;
    assert!(html.contains("cannot buy this product again"));
    let r = buy(&app, &buyer, product).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.wallet(&buyer).await, (40_000, 0));
    let other = member_with(&app, "second", "30000").await;
    assert_eq!(
        buy(&app, &other, product).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.wallet(&other).await, (0, 30_000));
    app.assert_audit_clean();
}

async fn a_price_change_does_not_change_existing_trades(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("repricer").await;
    let product = list_product(&app, &seller, "Rice cooker", "20000", "2").await;
    let early = member_with(&app, "early", "50000").await;
    assert_eq!(
        buy(&app, &early, product).await.status(),
        StatusCode::SEE_OTHER
    );
    let r = app
        .post(
            &seller,
            &format!("/market/{product}/price"),
            &[("price", "25,000")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = product_page(&app, &seller, product).await;
    assert!(html.contains("id=\"price\">₩25,000"));
    // A bad new price is refused; a neighbour cannot change the price.
    let r = app
        .post(
            &seller,
            &format!("/market/{product}/price"),
            &[("price", "0")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("more than zero"));
    let r = app
        .post(
            &early,
            &format!("/market/{product}/price"),
            &[("price", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let late = member_with(&app, "late", "50000").await;
    assert_eq!(
        buy(&app, &late, product).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.wallet(&early).await,
        (30_000, 20_000),
        "held at the old price"
    );
    assert_eq!(
        app.wallet(&late).await,
        (25_000, 25_000),
        "held at the new price"
    );
    let (_, purchases) = app.get_html(&early, "/me/purchases").await;
    assert!(purchases.contains("₩20,000") && !purchases.contains("₩25,000"));
    approve_all(&app, &seller, product).await;
    for buyer in [&early, &late] {
        let trade = my_confirmable_trade(&app, buyer, product).await;
        assert_eq!(
            act(&app, buyer, trade, "confirm").await.status(),
            StatusCode::SEE_OTHER
        );
    }
    assert_eq!(app.wallet(&early).await, (30_000, 0));
    assert_eq!(app.wallet(&late).await, (25_000, 0));
    assert_eq!(app.wallet(&seller).await, (45_000, 0));
    let r = app
        .post(
            &seller,
            &format!("/market/{product}/price"),
            &[("price", "1000")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "sold out");
    app.assert_audit_clean();
}

async fn purchases_that_break_a_rule_are_refused_with_the_reason(db: Db) {
    let app = spawn_app(db).await;
    let seller = member_with(&app, "ruleseller", "100000").await;
    let product = list_product(&app, &seller, "Bicycle", "80,000", "1").await;

    let poor = member_with(&app, "poor", "79999").await;
    let r = buy(&app, &poor, product).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("Not enough money"), "insufficient funds");
    assert!(body.contains("₩80,000") && body.contains("₩79,999"));
    assert_eq!(app.wallet(&poor).await, (79_999, 0));

    let r = buy(&app, &seller, product).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("your own product"));
    assert_eq!(app.wallet(&seller).await, (100_000, 0));

    let rich = member_with(&app, "rich", "200000").await;
    assert_eq!(
        buy(&app, &rich, product).await.status(),
        StatusCode::SEE_OTHER
    );
    let r = buy(&app, &rich, product).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("already have a trade"));

    let late = member_with(&app, "toolate", "200000").await;
    let r = buy(&app, &late, product).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("No unit is left"));
    assert_eq!(app.wallet(&late).await, (200_000, 0));

    // A second press by the same buyer on a product with units left.
    let plenty = list_product(&app, &seller, "Socks", "1000", "10").await;
    assert_eq!(
        buy(&app, &rich, plenty).await.status(),
        StatusCode::SEE_OTHER
    );
    let r = buy(&app, &rich, plenty).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("already have a trade"));
    assert_eq!(app.wallet(&rich).await, (119_000, 81_000));
    assert_eq!(product_state(&app, &rich, plenty).await.1, 9);

    let r = buy(&app, &rich, 999_999).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    app.assert_audit_clean();
}

async fn someone_elses_trade_is_forbidden(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("owner").await;
    let buyer = member_with(&app, "buyer", "10000").await;
    let stranger = member_with(&app, "stranger", "10000").await;
    let product = list_product(&app, &seller, "Kettle", "4000", "2").await;
    assert_eq!(
        buy(&app, &buyer, product).await.status(),
        StatusCode::SEE_OTHER
    );
    let html = product_page(&app, &seller, product).await;
    let trade = trade_ids(&html, "approve")[0];

    // Only the seller decides; only the buyer confirms.
    for (who, action) in [
        (&buyer, "approve"),
        (&buyer, "reject"),
        (&stranger, "approve"),
        (&stranger, "reject"),
    ] {
        let r = act(&app, who, trade, action).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{action}");
    }
    let r = act(&app, &buyer, trade, "confirm").await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "not approved yet"
    );
    assert!(r.text().await.unwrap().contains("waiting for the seller"));
    assert_eq!(
        act(&app, &seller, trade, "approve").await.status(),
        StatusCode::SEE_OTHER
    );
    for who in [&seller, &stranger] {
        let r = act(&app, who, trade, "confirm").await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(
        act(&app, &stranger, 987_654, "confirm").await.status(),
        StatusCode::NOT_FOUND
    );
    // A stranger sees no trade on the product page; the buyer sees only their own.
    let html = product_page(&app, &stranger, product).await;
    assert!(!html.contains("/trades/"));
    assert!(!html.contains("Neighbour buyer"));
    assert_eq!(app.wallet(&buyer).await, (6_000, 4_000));
    assert_eq!(app.wallet(&seller).await, (0, 0));
    let r = act(&app, &buyer, trade, "confirm").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = act(&app, &buyer, trade, "confirm").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "only once");
    assert_eq!(app.wallet(&seller).await, (4_000, 0));
    app.assert_audit_clean();
}

async fn anonymous_visitors_can_browse_but_not_buy(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("shopkeeper").await;
    let product = list_product(&app, &seller, "Garden chair", "7000", "1").await;
    let anon = app.client();
    let (status, list) = app.get_html(&anon, "/market").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("Garden chair"));
    let (status, page) = app.get_html(&anon, &format!("/market/{product}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Log in to buy"));
    assert!(!page.contains(&format!("/market/{product}/buy")));

    let r = buy(&app, &anon, product).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));
    for path in ["/market/new", "/me/purchases", "/me/reservations"] {
        let r = app.get(&anon, path).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login"));
    }
    let r = post_product(&app, &anon, &[("name", "Sneaky")], None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));
    let (_, list) = app.get_html(&anon, "/market").await;
    assert!(!list.contains("Sneaky"));
    assert_eq!(
        product_state(&app, &anon, product).await,
        ("on_sale".to_owned(), 1)
    );
    // Missing products and malformed ids are 404, never 500.
    for path in ["/market/999999", "/market/abc", "/market/-1"] {
        assert_eq!(
            app.get(&anon, path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    app.assert_audit_clean();
}

async fn bad_product_input_is_refused_with_reasons_and_creates_nothing(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("careless").await;
    let long_name = "x".repeat(10 * 1024);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("price", "abc")], "whole number"),
        (vec![("price", "0")], "more than zero"),
        (vec![("price", "-5000")], "more than zero"),
        (vec![("price", "")], "Enter a price"),
        (vec![("price", "12.5")], "whole number"),
        (
            vec![("price", "99999999999999999999999999")],
            "at most ₩1,000,000,000",
        ),
        (vec![("price", "1000000001")], "at most ₩1,000,000,000"),
        (vec![("quantity", "0")], "quantity"),
        (vec![("quantity", "-3")], "quantity"),
        (vec![("quantity", "two")], "quantity"),
        (vec![("quantity", "1001")], "quantity"),
        (vec![("name", "")], "Enter a name"),
        (vec![("name", long_name.as_str())], "at most 100 characters"),
        (vec![("name", "evil\u{202E}name")], "invisible"),
        (vec![("category_id", "999")], "category"),
        (vec![("category_id", "lamps")], "category"),
        (vec![("region_id", "999")], "neighbourhood"),
        (vec![("region_id", "1")], "neighbourhood"),
    ];
    for (fields, reason) in &cases {
        let r = post_product(&app, &seller, fields, None).await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fields:.60?}"
        );
        let body = r.text().await.unwrap();
        assert!(
            body.contains(reason),
            "expected {reason:?} for {fields:.60?}"
        );
        assert!(
            body.contains("enctype=\"multipart/form-data\""),
            "the form again"
        );
        assert!(body.len() < 40_000, "a long input is not echoed back whole");
    }
    // Several mistakes at once are all named.
    let r = post_product(
        &app,
        &seller,
        &[("price", "free"), ("quantity", "0"), ("name", " ")],
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("whole number") && body.contains("quantity") && body.contains("Enter a name")
    );
    // Files that are not pictures, whatever their name says.
    for (file, bytes) in [
        (
            "lamp.png",
            b"<html><script>alert(1)</script></html>".to_vec(),
        ),
        ("lamp.gif", b"GIF89a\x01\x00\x01\x00".to_vec()),
        ("lamp.jpg", b"MZ\x90\x00 not a jpeg".to_vec()),
    ] {
        let r = post_product(&app, &seller, &[], Some((file, bytes))).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{file}");
        assert!(r.text().await.unwrap().contains("JPEG, PNG or WebP"));
    }
    let mut big = PNG.to_vec();
    big.resize(5 * 1024 * 1024 + 10, 0);
    let r = post_product(&app, &seller, &[], Some(("big.png", big))).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("at most 5 MB"));

    let (_, list) = app.get_html(&seller, "/market").await;
    assert_eq!(count_products(&list), 0, "nothing was created");
    let uploads = app.settings.data_dir.join("uploads");
    let stored = std::fs::read_dir(&uploads).map_or(0, |d| d.count());
    assert_eq!(stored, 0, "no file was kept");
    app.assert_audit_clean();
}

async fn the_scheduler_confirms_an_approved_trade_after_the_period(db: Db) {
    let app = spawn_app_with(db, |s| s.market_auto_confirm = Duration::from_secs(1)).await;
    let seller = app.sign_up("patient").await;
    let buyer = member_with(&app, "forgetful", "10000").await;
    let product = list_product(&app, &seller, "Umbrella", "3000", "1").await;
    let untouched = list_product(&app, &seller, "Raincoat", "2000", "1").await;
    assert_eq!(
        buy(&app, &buyer, product).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        buy(&app, &buyer, untouched).await.status(),
        StatusCode::SEE_OTHER
    );
    approve_all(&app, &seller, product).await;
    let html = product_page(&app, &buyer, product).await;
    assert!(html.contains("Confirmed automatically at"));

    let mut state = String::new();
    for _ in 0..150 {
        state = product_state(&app, &seller, product).await.0;
        if state == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, "completed", "the scheduler confirmed the trade");
    assert_eq!(app.wallet(&seller).await, (3_000, 0));
    assert_eq!(app.wallet(&buyer).await, (5_000, 2_000));
    // A trade the seller has not approved is never confirmed by the clock.
    assert_eq!(
        product_state(&app, &seller, untouched).await,
        ("reserved".to_owned(), 0)
    );
    let (_, purchases) = app.get_html(&buyer, "/me/purchases").await;
    assert_eq!(
        purchases.matches("data-trade-status=\"confirmed\"").count(),
        1
    );
    assert_eq!(
        purchases.matches("data-trade-status=\"requested\"").count(),
        1
    );
    app.assert_audit_clean();
}

async fn the_market_list_filters_and_paginates(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("bigseller").await;
    // 14 books in 역삼동 (region 3), one lamp in 서교동 (region 8), one sold-out plant.
    for i in 0..14 {
        let r = post_product(
            &app,
            &seller,
            &[
                ("name", &format!("Novel volume {i:02}")),
                ("category_id", "4"),
            ],
            None,
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let r = post_product(
        &app,
        &seller,
        &[
            ("name", "Reading LAMP 100%"),
            ("region_id", "8"),
            ("category_id", "2"),
        ],
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let plant = list_product(&app, &seller, "Monstera", "9000", "1").await;
    let buyer = member_with(&app, "plantlover", "9000").await;
    assert_eq!(
        buy(&app, &buyer, plant).await.status(),
        StatusCode::SEE_OTHER
    );

    let anon = app.client();
    let (_, first) = app.get_html(&anon, "/market").await;
    assert_eq!(count_products(&first), 12);
    assert!(first.contains("16 products"));
    assert!(first.contains("Page 1 of 2"));
    assert!(
        first.find("Monstera").unwrap() < first.find("Novel volume 13").unwrap(),
        "newest first"
    );
    let (_, second) = app.get_html(&anon, "/market?page=2").await;
    assert_eq!(count_products(&second), 4);
    assert!(second.contains("Novel volume 00"));

    let (_, books) = app.get_html(&anon, "/market?category=4").await;
    assert!(books.contains("14 products"));
    assert!(!books.contains("Monstera"));
    let (_, books2) = app.get_html(&anon, "/market?category=4&page=2").await;
    assert_eq!(count_products(&books2), 2);
    let newer = ["category=4&#38;page=1", "category=4&amp;page=1"];
    assert!(
        newer.iter().any(|link| books2.contains(link)),
        "the pager keeps the filter"
    );

    let (_, seogyo) = app.get_html(&anon, "/market?region=8").await;
    assert_eq!(count_products(&seogyo), 1);
    assert!(seogyo.contains("Reading LAMP"));
    let (_, mapo) = app.get_html(&anon, "/market?region=7").await;
    assert_eq!(
        count_products(&mapo),
        1,
        "a district includes its neighbourhoods"
    );

    let (_, text) = app.get_html(&anon, "/market?q=lamp").await;
    assert_eq!(count_products(&text), 1, "case-insensitive text search");
    let (_, pct) = app.get_html(&anon, "/market?q=100%25").await;
    assert_eq!(count_products(&pct), 1);
    let (_, wildcard) = app.get_html(&anon, "/market?q=%25").await;
    assert_eq!(count_products(&wildcard), 1, "% is taken literally");
    let (_, volume) = app.get_html(&anon, "/market?q=volume+1").await;
    assert_eq!(count_products(&volume), 4);

    let (_, reserved) = app.get_html(&anon, "/market?status=reserved").await;
    assert_eq!(count_products(&reserved), 1);
    assert!(reserved.contains("Monstera"));
    let (_, on_sale) = app
        .get_html(&anon, "/market?status=on_sale&region=3&q=novel")
        .await;
    assert!(on_sale.contains("14 products"));

    for path in [
        "/market?page=abc",
        "/market?region=x&category=y&status=nonsense",
        "/market?page=999",
    ] {
        let (status, _) = app.get_html(&anon, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    app.assert_audit_clean();
}

async fn product_images_are_stored_and_served_by_safe_names_only(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("photographer").await;
    let r = post_product(
        &app,
        &seller,
        &[("name", "Camera")],
        Some(("x.gif", PNG.to_vec())),
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "recognised by its bytes, not its name"
    );
    let id: i64 = r.headers()["location"].to_str().unwrap()["/market/".len()..]
        .parse()
        .unwrap();
    let html = product_page(&app, &app.client(), id).await;
    let src = attr_after(&html, "class=\"product-image\"", "src");
    assert!(
        src.starts_with("/uploads/") && src.ends_with(".png"),
        "{src}"
    );
    let r = app.get(&app.client(), &src).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let served = image::load_from_memory(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(
        (served.width(), served.height()),
        (2, 2),
        "the photo, re-encoded"
    );

    // An empty file input is "no image".
    let r = post_product(
        &app,
        &seller,
        &[("name", "No photo")],
        Some(("", Vec::new())),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    std::fs::write(app.settings.data_dir.join("uploads").join("notes.txt"), "x").unwrap();
    for path in [
        "/uploads/secret.key",
        "/uploads/..%2Fsecret.key",
        "/uploads/notes.txt",
        "/uploads/0123456789abcdef0123456789abcdef.png",
        "/uploads/0123456789ABCDEF0123456789ABCDEF.png",
    ] {
        assert_eq!(
            app.get(&app.client(), path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    app.assert_audit_clean();
}

async fn the_database_itself_allows_one_trade_per_buyer_per_product(db: Db) {
    use diesel::connection::SimpleConnection as _;
    let app = spawn_app(db).await;
    let seller = app.sign_up("constrained").await; // user 1
    let buyer = member_with(&app, "duplicate", "5000").await; // user 2
    let product = list_product(&app, &seller, "Vase", "1000", "5").await;
    assert_eq!(
        buy(&app, &buyer, product).await.status(),
        StatusCode::SEE_OTHER
    );
    // Even a write that skips the service cannot add a second trade for the same buyer.
    let mut conn = app.raw_connection();
    let err = conn
        .batch_execute(&format!(
            "INSERT INTO trades (product_id, buyer_id, seller_id, price, status, created_at) \
             VALUES ({product}, 2, 1, 1000, 'requested', '2026-01-01 00:00:00')"
        ))
        .expect_err("UNIQUE (product_id, buyer_id)");
    assert!(err.to_string().to_lowercase().contains("unique"), "{err}");
    let html = product_page(&app, &seller, product).await;
    assert_eq!(html.matches("class=\"trade\"").count(), 1);
    assert_eq!(app.wallet(&buyer).await, (4_000, 1_000));
    app.assert_audit_clean();
}

async fn a_seller_switching_the_price_after_the_page_loaded_moves_no_money(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("pricey").await;
    let buyer = member_with(&app, "careful_buyer", "100000").await;
    let product = list_product(&app, &seller, "Record player", "20000", "2").await;
    let page = product_page(&app, &buyer, product).await;
    let seen = field_value(&page, "expected_price").expect("the buy form carries the price");
    assert_eq!(seen, "20000");
    // Between the page load and the POST, the seller triples the price.
    let r = app
        .post(
            &seller,
            &format!("/market/{product}/price"),
            &[("price", "60000")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let path = format!("/market/{product}/buy");
    for fields in [
        vec![("quantity", "1"), ("expected_price", seen.as_str())],
        vec![("quantity", "1")],
        vec![("quantity", "1"), ("expected_price", "")],
        vec![("quantity", "1"), ("expected_price", "60,001")],
    ] {
        let r = app.post(&buyer, &path, &fields).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        let body = r.text().await.unwrap();
        assert!(body.contains("price changed to ₩60,000"), "{body}");
    }
    assert_eq!(app.wallet(&buyer).await, (100_000, 0), "nothing was held");
    assert_eq!(
        product_state(&app, &seller, product).await,
        ("on_sale".to_owned(), 2)
    );
    // Agreeing to the new price works.
    assert_eq!(
        buy(&app, &buyer, product).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.wallet(&buyer).await, (40_000, 60_000));
    app.assert_audit_clean();
}

async fn a_buyer_asks_for_several_units_in_one_trade_and_no_more_than_are_left(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("bulk").await;
    let buyer = member_with(&app, "bulkbuyer", "100000").await;
    let late = member_with(&app, "latebuyer", "100000").await;
    let product = list_product(&app, &seller, "Canned tuna", "3000", "5").await;
    for bad in ["0", "-1", "1001", "abc", "", "2.5", "6", "99999999999"] {
        let r = buy_units(&app, &buyer, product, bad).await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "quantity {bad:?}"
        );
    }
    assert_eq!(app.wallet(&buyer).await, (100_000, 0));
    assert_eq!(
        buy_units(&app, &buyer, product, "4").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.wallet(&buyer).await,
        (88_000, 12_000),
        "4 × ₩3,000 held"
    );
    assert_eq!(
        product_state(&app, &seller, product).await,
        ("on_sale".to_owned(), 1)
    );
    let r = buy_units(&app, &late, product, "2").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Only 1 left"));
    assert_eq!(app.wallet(&late).await, (100_000, 0));
    // Rejecting the trade puts all four units back.
    let html = product_page(&app, &seller, product).await;
    let trade = trade_ids(&html, "reject")[0];
    assert_eq!(
        act(&app, &seller, trade, "reject").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.wallet(&buyer).await, (100_000, 0));
    assert_eq!(
        product_state(&app, &seller, product).await,
        ("on_sale".to_owned(), 5)
    );
    app.assert_audit_clean();
}

async fn a_buyer_cancels_a_request_before_approval_and_gets_the_money_back(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("slowseller").await;
    let buyer = member_with(&app, "changedmind", "50000").await;
    let stranger = member_with(&app, "meddler", "50000").await;
    let product = list_product(&app, &seller, "Guitar", "40000", "1").await;
    let other = list_product(&app, &seller, "Amp", "5000", "1").await;
    assert_eq!(
        buy(&app, &buyer, product).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        buy(&app, &buyer, other).await.status(),
        StatusCode::SEE_OTHER
    );
    let page = product_page(&app, &buyer, product).await;
    assert!(
        page.contains("The seller has until"),
        "the deadline is shown"
    );
    let trade = trade_ids(&page, "cancel")[0];
    // Nobody but the buyer may cancel it.
    for who in [&stranger, &seller] {
        let r = act(&app, who, trade, "cancel").await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(
        act(&app, &buyer, trade, "cancel").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.wallet(&buyer).await,
        (45_000, 5_000),
        "the guitar's hold came back"
    );
    assert_eq!(
        product_state(&app, &seller, product).await,
        ("on_sale".to_owned(), 1)
    );
    // Twice is refused; an approved trade cannot be cancelled by the buyer.
    let r = act(&app, &buyer, trade, "cancel").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    approve_all(&app, &seller, other).await;
    let page = product_page(&app, &buyer, other).await;
    assert!(
        trade_ids(&page, "cancel").is_empty(),
        "no cancel button once approved"
    );
    let approved = my_confirmable_trade(&app, &buyer, other).await;
    let r = act(&app, &buyer, approved, "cancel").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.wallet(&buyer).await, (45_000, 5_000));
    app.assert_audit_clean();
}

async fn the_scheduler_cancels_a_request_the_seller_never_answered(db: Db) {
    let app = spawn_app_with(db, |s| s.market_respond_within = Duration::from_secs(1)).await;
    let seller = app.sign_up("absent").await;
    let buyer = member_with(&app, "waiting", "30000").await;
    let product = list_product(&app, &seller, "Desk", "25000", "1").await;
    let answered = list_product(&app, &seller, "Chair", "5000", "1").await;
    assert_eq!(
        buy(&app, &buyer, product).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        buy(&app, &buyer, answered).await.status(),
        StatusCode::SEE_OTHER
    );
    approve_all(&app, &seller, answered).await;
    let mut state = (String::new(), 0);
    for _ in 0..150 {
        state = product_state(&app, &seller, product).await;
        if state.0 == "on_sale" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, ("on_sale".to_owned(), 1), "the unit is back on sale");
    assert_eq!(
        app.wallet(&buyer).await,
        (25_000, 5_000),
        "only the desk's hold came back"
    );
    let (_, purchases) = app.get_html(&buyer, "/me/purchases").await;
    assert_eq!(
        purchases.matches("data-trade-status=\"cancelled\"").count(),
        1
    );
    assert_eq!(
        purchases.matches("data-trade-status=\"approved\"").count(),
        1
    );
    app.assert_audit_clean();
}
