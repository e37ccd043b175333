//! Profiles and reviews (issue 14 item 4): once a trade is confirmed, its buyer and its seller
//! may each review the other once (1–5 stars and a comment of at most 500 characters); the
//! reviews move the member's trust score on `/users/{id}`.

use reqwest::StatusCode;

use crate::helpers::{both_databases, field_value, spawn_app, Browser, Db, Listing, TestApp};
use crate::market::{act, list_product, product_page, trade_ids};

both_databases!(
    a_review_is_refused_before_the_trade_completes_and_accepted_once_after,
    ratings_out_of_range_and_long_comments_are_refused_and_nothing_is_written,
    the_profile_shows_completed_trades_listings_reviews_and_the_trust_score,
    a_comment_with_html_is_shown_as_text,
    a_member_changes_their_display_name_on_the_account_page,
    a_second_neighbourhood_change_within_a_week_is_refused,
    a_won_auction_is_reviewed_from_its_page_and_a_refunded_trade_never_is,
);

// ---------------------------------------------------------------- helpers

async fn buy(app: &TestApp, buyer: &Browser, product: i64) {
    let (_, page) = app.get_html(buyer, &format!("/market/{product}")).await;
    let seen = field_value(&page, "expected_price").unwrap();
    let r = app
        .post(
            buyer,
            &format!("/market/{product}/buy"),
            &[("quantity", "1"), ("expected_price", &seen)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// `buyer` buys one unit of `product` and the seller approves: the trade's id.
async fn approved_trade(app: &TestApp, seller: &Browser, buyer: &Browser, product: i64) -> i64 {
    buy(app, buyer, product).await;
    let html = product_page(app, seller, product).await;
    let trade = *trade_ids(&html, "approve").last().expect("a request");
    assert_eq!(
        act(app, seller, trade, "approve").await.status(),
        StatusCode::SEE_OTHER
    );
    trade
}

/// A trade of `product` the buyer confirmed.
async fn confirmed_trade(app: &TestApp, seller: &Browser, buyer: &Browser, product: i64) -> i64 {
    let trade = approved_trade(app, seller, buyer, product).await;
    assert_eq!(
        act(app, buyer, trade, "confirm").await.status(),
        StatusCode::SEE_OTHER
    );
    trade
}

async fn review(
    app: &TestApp,
    b: &Browser,
    trade: i64,
    rating: &str,
    comment: &str,
) -> reqwest::Response {
    app.post(
        b,
        &format!("/trades/{trade}/review"),
        &[("rating", rating), ("comment", comment)],
    )
    .await
}

/// (author, subject, rating, comment) of every review, oldest first.
fn reviews(app: &TestApp) -> Vec<(i64, i64, i32, String)> {
    use diesel::prelude::*;
    use neighborbid::db::schema::reviews as r;
    r::table
        .order(r::id.asc())
        .select((r::author_id, r::subject_id, r::rating, r::comment))
        .load(&mut app.raw_connection())
        .expect("reviews")
}

fn notices(app: &TestApp, username: &str, kind: &str) -> i64 {
    use diesel::prelude::*;
    use neighborbid::db::schema::notifications as n;
    n::table
        .filter(n::user_id.eq(app.user_id(username)))
        .filter(n::kind.eq(kind))
        .count()
        .get_result(&mut app.raw_connection())
        .expect("notifications")
}

/// The text of the element with `class="{class}"` on a page.
fn class_text(html: &str, class: &str) -> String {
    let marker = format!("class=\"{class}\">");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{class} on the page: {html}"));
    let rest = &html[at + marker.len()..];
    rest[..rest.find('<').unwrap()].trim().to_owned()
}

fn assert_refused(status: StatusCode) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

// ---------------------------------------------------------------- tests

async fn a_review_is_refused_before_the_trade_completes_and_accepted_once_after(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let buyer = app.funded("buyer", 40_000).await;
    let stranger = app.sign_up("stranger").await;
    let product = list_product(&app, &seller, "Kettle", "15000", "1").await;
    buy(&app, &buyer, product).await;
    let trade = trade_ids(&product_page(&app, &seller, product).await, "approve")[0];

    // Requested: not completed.
    let r = review(&app, &buyer, trade, "5", "Great").await;
    assert_refused(r.status());
    assert!(r.text().await.unwrap().contains("not completed yet"));
    // Approved: not completed.
    assert_eq!(
        act(&app, &seller, trade, "approve").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_refused(review(&app, &buyer, trade, "5", "Great").await.status());
    assert_refused(review(&app, &seller, trade, "5", "Great").await.status());
    // Disputed: not completed.
    let r = app
        .post(
            &seller,
            &format!("/trades/{trade}/dispute"),
            &[("reason", "The buyer does not answer.")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_refused(review(&app, &buyer, trade, "1", "Rude").await.status());
    // No review form on an open trade.
    assert!(trade_ids(&product_page(&app, &buyer, product).await, "review").is_empty());
    assert!(reviews(&app).is_empty());

    // The buyer confirms receipt after all: completed.
    assert_eq!(
        act(&app, &buyer, trade, "confirm").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        trade_ids(&product_page(&app, &buyer, product).await, "review"),
        [trade]
    );
    // A stranger may not review it, before or after.
    let r = review(&app, &stranger, trade, "1", "Never met them").await;
    assert!(
        [StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&r.status()),
        "{}",
        r.status()
    );
    let r = review(&app, &buyer, trade, "5", "Kind and on time.").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (seller_id, buyer_id) = (app.user_id("seller"), app.user_id("buyer"));
    assert_eq!(
        reviews(&app),
        [(buyer_id, seller_id, 5, "Kind and on time.".to_owned())]
    );
    assert_eq!(notices(&app, "seller", "review_received"), 1);
    // The notice opens the seller's own profile, where the review is.
    let note: i64 = {
        use diesel::prelude::*;
        use neighborbid::db::schema::notifications as n;
        n::table
            .filter(n::user_id.eq(seller_id))
            .filter(n::kind.eq("review_received"))
            .select(n::id)
            .first(&mut app.raw_connection())
            .expect("the notice")
    };
    let r = app.get(&seller, &format!("/notifications/{note}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        format!("/users/{seller_id}").as_str()
    );
    // Each side's trade lists name the other with a link to their profile.
    let (_, page) = app.get_html(&buyer, "/me/purchases").await;
    assert!(page.contains(&format!(
        "href=\"/users/{seller_id}\" class=\"profile-link\""
    )));
    let page = product_page(&app, &seller, product).await;
    assert!(page.contains(&format!(
        "href=\"/users/{buyer_id}\" class=\"profile-link\""
    )));
    // Once only.
    let r = review(&app, &buyer, trade, "1", "Changed my mind").await;
    assert_refused(r.status());
    assert!(r.text().await.unwrap().contains("already reviewed"));
    assert!(trade_ids(&product_page(&app, &buyer, product).await, "review").is_empty());
    // The other side may review too, once.
    assert_eq!(
        review(&app, &seller, trade, "4", "").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_refused(review(&app, &seller, trade, "4", "").await.status());
    assert_eq!(notices(&app, "buyer", "review_received"), 1);
    let r = review(&app, &stranger, trade, "1", "Never met them").await;
    assert!([StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&r.status()));
    // Garbage from a stranger learns nothing about the trade either.
    let r = review(&app, &stranger, trade, "x", "").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        review(&app, &buyer, 999_999, "5", "").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(reviews(&app).len(), 2);
    app.assert_audit_clean();
}

async fn ratings_out_of_range_and_long_comments_are_refused_and_nothing_is_written(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let buyer = app.funded("buyer", 40_000).await;
    let product = list_product(&app, &seller, "Kettle", "15000", "1").await;
    let trade = confirmed_trade(&app, &seller, &buyer, product).await;
    for bad in ["0", "6", "-1", "five", "", "4.5", "99999999999999999999"] {
        let r = review(&app, &buyer, trade, bad, "ok").await;
        assert_refused(r.status());
    }
    let long = "가".repeat(501);
    let r = review(&app, &buyer, trade, "5", &long).await;
    assert_refused(r.status());
    assert!(r.text().await.unwrap().contains("at most 500"));
    let r = app
        .post(
            &buyer,
            &format!("/trades/{trade}/review"),
            &[("comment", "no rating")],
        )
        .await;
    assert_refused(r.status());
    let r = review(&app, &buyer, trade, "5", "bidi \u{202E}evil").await;
    assert_refused(r.status());
    assert!(reviews(&app).is_empty());
    assert_eq!(notices(&app, "seller", "review_received"), 0);
    // Exactly 500 characters is fine.
    let full = "가".repeat(500);
    assert_eq!(
        review(&app, &buyer, trade, "3", &full).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(reviews(&app)[0].3, full);
    app.assert_audit_clean();
}

async fn the_profile_shows_completed_trades_listings_reviews_and_the_trust_score(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let alice = app.funded("alice", 100_000).await;
    let bob = app.funded("bob", 100_000).await;
    let visitor = app.client();
    let product = list_product(&app, &seller, "Chairs", "10000", "2").await;
    let t1 = confirmed_trade(&app, &seller, &alice, product).await;
    let t2 = confirmed_trade(&app, &seller, &bob, product).await;
    // An open (approved, unconfirmed) purchase does not count.
    let other = list_product(&app, &seller, "Lamp", "5000", "3").await;
    approved_trade(&app, &seller, &alice, other).await;
    let auction = app.list(&seller, &Listing::new("Old bicycle")).await;
    assert_eq!(
        review(&app, &alice, t1, "5", "Lovely chairs")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        review(&app, &bob, t2, "1", "Late").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        review(&app, &seller, t1, "4", "Quick payer").await.status(),
        StatusCode::SEE_OTHER
    );

    let seller_id = app.user_id("seller");
    let (status, page) = app.get_html(&visitor, &format!("/users/{seller_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(class_text(&page, "profile-name"), "Neighbour seller");
    assert!(!class_text(&page, "profile-neighbourhood").is_empty());
    assert_eq!(class_text(&page, "sales-count"), "2");
    assert_eq!(class_text(&page, "purchases-count"), "0");
    assert_eq!(class_text(&page, "reviews-count"), "2");
    // 36.5 + 0.5 (5★) − 1.0 (1★)
    assert_eq!(class_text(&page, "trust-score"), "36.0");
    assert!(page.contains("Every member starts at 36.5"), "{page}");
    assert!(page.contains(&format!("href=\"/auctions/{auction}\"")));
    assert!(page.contains(&format!("href=\"/market/{other}\"")));
    assert!(
        !page.contains(&format!("href=\"/market/{product}\"")),
        "sold out"
    );
    // Newest first.
    let (late, lovely) = (
        page.find("Late").unwrap(),
        page.find("Lovely chairs").unwrap(),
    );
    assert!(late < lovely);

    let alice_id = app.user_id("alice");
    let (_, page) = app.get_html(&visitor, &format!("/users/{alice_id}")).await;
    assert_eq!(class_text(&page, "purchases-count"), "1");
    assert_eq!(class_text(&page, "sales-count"), "0");
    assert_eq!(class_text(&page, "trust-score"), "36.7");
    assert!(page.contains("Quick payer"));

    for bad in ["/users/999999", "/users/abc", "/users/-1"] {
        let (status, _) = app.get_html(&visitor, bad).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
    }
    app.assert_audit_clean();
}

async fn a_comment_with_html_is_shown_as_text(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let buyer = app.funded("buyer", 40_000).await;
    let product = list_product(&app, &seller, "Kettle", "15000", "1").await;
    let trade = confirmed_trade(&app, &seller, &buyer, product).await;
    let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    assert_eq!(
        review(&app, &buyer, trade, "2", hostile).await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, page) = app
        .get_html(&app.client(), &format!("/users/{}", app.user_id("seller")))
        .await;
    assert!(!page.contains("<script>alert(1)"), "{page}");
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{page}"
    );
    app.assert_audit_clean();
}

// ---------------------------------------------------------------- the account page

/// Neighbourhoods other than the one `sign_up` picks.
fn other_neighbourhoods(app: &TestApp) -> Vec<i64> {
    use diesel::prelude::*;
    use neighborbid::db::schema::regions as r;
    r::table
        .filter(r::level.eq(3))
        .filter(r::id.ne(3))
        .order(r::id.asc())
        .select(r::id)
        .load(&mut app.raw_connection())
        .expect("regions")
}

fn region_of(app: &TestApp, username: &str) -> i64 {
    use diesel::prelude::*;
    use neighborbid::db::schema::users as u;
    u::table
        .find(app.user_id(username))
        .select(u::region_id)
        .first(&mut app.raw_connection())
        .expect("user")
}

async fn save_profile(app: &TestApp, b: &Browser, name: &str, region: i64) -> reqwest::Response {
    app.post(
        b,
        "/account",
        &[("display_name", name), ("region_id", &region.to_string())],
    )
    .await
}

async fn a_member_changes_their_display_name_on_the_account_page(db: Db) {
    let app = spawn_app(db).await;
    let me = app.sign_up("minji").await;
    let (status, page) = app.get_html(&me, "/account").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        field_value(&page, "display_name").as_deref(),
        Some("Neighbour minji")
    );
    let r = save_profile(&app, &me, "  민지네 가게 ", 3).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let profile = format!("/users/{}", app.user_id("minji"));
    let (_, page) = app.get_html(&app.client(), &profile).await;
    assert_eq!(class_text(&page, "profile-name"), "민지네 가게");
    // The sign-up rule: not empty, at most 40 characters, no invisible characters.
    let long = "a".repeat(41);
    for bad in [
        "",
        "   ",
        long.as_str(),
        "evil\u{202E}name",
        "<b>\u{200B}</b>",
    ] {
        let r = save_profile(&app, &me, bad, 3).await;
        assert_refused(r.status());
    }
    for bad in ["", "abc", "1", "999999"] {
        let r = app
            .post(
                &me,
                "/account",
                &[("display_name", "ok"), ("region_id", bad)],
            )
            .await;
        assert_refused(r.status());
    }
    let (_, page) = app.get_html(&app.client(), &profile).await;
    assert_eq!(class_text(&page, "profile-name"), "민지네 가게");
    assert_eq!(region_of(&app, "minji"), 3);
    // Not logged in: nothing to change.
    let r = save_profile(&app, &app.client(), "Intruder", 3).await;
    assert!(!r.status().is_server_error() && !r.status().is_success());
    if r.status() == StatusCode::SEE_OTHER {
        let to = r.headers()["location"].to_str().unwrap();
        assert!(to.starts_with("/login"), "{to}");
    }
    assert_eq!(
        class_text(
            &app.get_html(&app.client(), &profile).await.1,
            "profile-name"
        ),
        "민지네 가게"
    );
}

async fn a_second_neighbourhood_change_within_a_week_is_refused(db: Db) {
    let app = spawn_app(db).await;
    let me = app.sign_up("minji").await;
    let others = other_neighbourhoods(&app);
    assert!(others.len() >= 2, "the seed has neighbourhoods");
    // The first change is allowed.
    let r = save_profile(&app, &me, "Minji", others[0]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(region_of(&app, "minji"), others[0]);
    // Keeping it and changing the name is no neighbourhood change.
    let r = save_profile(&app, &me, "Minji K", others[0]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A second change within the week is refused with the date it is allowed again.
    let r = save_profile(&app, &me, "Minji K", others[1]).await;
    assert_refused(r.status());
    let page = r.text().await.unwrap();
    assert!(page.contains("less than a week ago"), "{page}");
    let next = (chrono::Utc::now() + chrono::Duration::days(7))
        .format("%Y-%m-%d")
        .to_string();
    assert!(page.contains(&next), "{page}");
    assert_eq!(region_of(&app, "minji"), others[0]);
    // A week later it is allowed again.
    {
        use diesel::prelude::*;
        use neighborbid::db::schema::users as u;
        let week_ago = chrono::Utc::now().naive_utc()
            - chrono::Duration::days(7)
            - chrono::Duration::minutes(1);
        diesel::update(u::table.find(app.user_id("minji")))
            .set(u::region_changed_at.eq(Some(week_ago)))
            .execute(&mut app.raw_connection())
            .unwrap();
    }
    let r = save_profile(&app, &me, "Minji K", others[1]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(region_of(&app, "minji"), others[1]);
}

// ---------------------------------------------------------------- auction trades

/// `seller` lists an auction at `price`; `winner` bids it and wins when the scheduler closes it.
async fn won_auction(app: &TestApp, seller: &Browser, winner: &Browser, title: &str) -> i64 {
    let mut l = Listing::new(title);
    l.start_price = "20000".into();
    l.ends_at = crate::helpers::local_in(2);
    let id = app.list(seller, &l).await;
    assert_eq!(app.bid(winner, id, 20_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.wait_closed(id).await, "sold");
    id
}

async fn a_won_auction_is_reviewed_from_its_page_and_a_refunded_trade_never_is(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin("boss").await;
    let seller = app.sign_up("seller").await;
    let winner = app.funded("winner", 50_000).await;
    let desk = won_auction(&app, &seller, &winner, "Desk").await;
    let lamp = won_auction(&app, &seller, &winner, "Lamp").await;
    let (desk_trade, _) = app.auction_trade(desk).unwrap();
    let (lamp_trade, _) = app.auction_trade(lamp).unwrap();

    // The auction's page links the seller's profile.
    let (_, page) = app.get_html(&winner, &format!("/auctions/{desk}")).await;
    assert!(page.contains(&format!("href=\"/users/{}\"", app.user_id("seller"))));
    assert!(trade_ids(&page, "review").is_empty());
    assert_refused(review(&app, &winner, desk_trade, "5", "").await.status());
    assert_eq!(
        act(&app, &winner, desk_trade, "confirm").await.status(),
        StatusCode::SEE_OTHER
    );
    for side in [&winner, &seller] {
        let (_, page) = app.get_html(side, &format!("/auctions/{desk}")).await;
        assert_eq!(trade_ids(&page, "review"), [desk_trade]);
    }
    assert_eq!(
        review(&app, &winner, desk_trade, "5", "Solid desk")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        review(&app, &seller, desk_trade, "5", "Paid at once")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );

    // Disputed and refunded to the buyer: never completed, never reviewed.
    let r = app
        .post(
            &winner,
            &format!("/trades/{lamp_trade}/dispute"),
            &[("reason", "It never came.")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .post(
            &admin,
            &format!("/admin/disputes/{lamp_trade}/resolve"),
            &[
                ("outcome", "refund_buyer"),
                ("reason", "No proof of delivery."),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_refused(review(&app, &winner, lamp_trade, "1", "").await.status());
    assert_refused(review(&app, &seller, lamp_trade, "1", "").await.status());
    assert_eq!(reviews(&app).len(), 2);

    let (_, page) = app
        .get_html(&app.client(), &format!("/users/{}", app.user_id("seller")))
        .await;
    assert_eq!(class_text(&page, "sales-count"), "1");
    assert_eq!(class_text(&page, "trust-score"), "37.0");
    app.assert_audit_clean();
}
