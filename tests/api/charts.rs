//! SVG charts (issue 14 item 6): the auction page's price history (public prices only, a
//! marker where a late bid moved the end), pushed live on national auctions; the admin
//! dashboard's bars of the last 30 days.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{
    both_databases, expect_frame, field_value, local_in, spawn_app, spawn_app_with, Browser, Db,
    Listing, TestApp,
};
use crate::market::{act, list_product, product_page, trade_ids};
use crate::payments::{checkout, come_back, payment_status, start_card_topup};

both_databases!(
    the_price_chart_has_a_dot_per_price_step_and_labels_its_lowest_and_highest_price,
    no_bidders_maximum_appears_in_the_chart_or_its_live_frame,
    a_late_bid_that_moves_the_end_is_marked_once_and_an_early_bid_not_at_all,
    watchers_of_a_national_auction_see_the_chart_grow_after_each_bid,
    the_admin_dashboard_charts_todays_bids_sales_top_ups_and_refunds,
    an_empty_site_draws_every_chart_without_errors,
    a_chart_open_in_a_browser_grows_with_each_bid_without_reloading,
    a_new_watcher_count_resends_the_state_but_not_the_unchanged_chart,
);

/// The `<svg id="ID" …>…</svg>` in a page or fragment.
fn svg<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<svg id=\"{id}\""))
        .unwrap_or_else(|| panic!("no chart {id} in {html}"));
    let end = html[start..].find("</svg>").expect("the chart ends") + start + 6;
    &html[start..end]
}

/// The value of `attr="…"` on the chart's `<svg>` element.
fn attr(svg: &str, attr: &str) -> String {
    let marker = format!(" {attr}=\"");
    let at = svg
        .find(&marker)
        .unwrap_or_else(|| panic!("{attr} in {svg}"))
        + marker.len();
    svg[at..at + svg[at..].find('"').expect("closed")].to_owned()
}

/// Every text of `<text class="CLASS" …>TEXT</text>`.
fn texts(svg: &str, class: &str) -> Vec<String> {
    svg.match_indices(&format!("<text class=\"{class}\""))
        .map(|(at, _)| {
            let rest = &svg[at..];
            let open = rest.find('>').expect("tag ends") + 1;
            rest[open..rest.find("</text>").expect("text ends")].to_owned()
        })
        .collect()
}

fn won(label: &str) -> i64 {
    label.replace(',', "").parse().expect("a number")
}

/// A chart must be drawable: no NaN or infinite coordinate ever reaches the SVG.
fn assert_drawable(svg: &str) {
    for bad in ["NaN", "inf"] {
        assert!(!svg.contains(bad), "{bad} in {svg}");
    }
    assert!(svg.contains("role=\"img\""), "{svg}");
    assert!(svg.contains("viewBox=\"0 0 400.0 200.0\""), "{svg}");
}

fn national(title: &str) -> Listing {
    let mut l = Listing::new(title);
    l.national = true;
    l
}

async fn the_price_chart_has_a_dot_per_price_step_and_labels_its_lowest_and_highest_price(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let alice = app.funded("alice", 100_000).await;
    let bora = app.funded("bora", 100_000).await;
    let id = app.list(&seller, &Listing::new("Film camera")).await;
    // ₩10,000; bora's ₩12,000 beats it by one step (₩11,000); alice's ₩15,000 maximum beats
    // bora's: the site bids bora's ₩12,000 in full, then alice leads at ₩13,000 — one
    // submission, two history rows, one price step.
    for (who, amount) in [(&alice, 10_000), (&bora, 12_000), (&alice, 15_000)] {
        assert_eq!(app.bid(who, id, amount).await.0, StatusCode::SEE_OTHER);
    }
    assert_eq!(app.bid_amounts(id), vec![10_000, 11_000, 12_000, 13_000]);
    let (status, page) = app
        .get_html(&app.client(), &format!("/auctions/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let chart = svg(&page, "price-chart-svg");
    assert_drawable(chart);
    assert_eq!(chart.matches("<circle class=\"pt").count(), 3, "{chart}");
    assert_eq!(attr(chart, "data-points"), "3");
    assert_eq!(attr(chart, "data-min"), "10000", "the start price");
    assert_eq!(attr(chart, "data-max"), "13000", "the current price");
    assert_eq!(texts(chart, "current-label"), vec!["13,000"]);
    assert_eq!(
        texts(chart, "level-label"),
        vec!["10,000"],
        "the start price"
    );
    // The value axis: round ticks from at most the lowest to at least the highest price.
    let ticks: Vec<i64> = texts(chart, "y-tick").iter().map(|t| won(t)).collect();
    assert!(ticks.len() >= 2, "{ticks:?}");
    assert!(
        ticks[0] <= 10_000 && *ticks.last().unwrap() >= 13_000,
        "{ticks:?}"
    );
    assert!(ticks.windows(2).all(|w| w[1] > w[0]), "{ticks:?}");
    // Named by the page's heading and its numbers; the same points as a table.
    assert!(chart.contains("aria-labelledby=\"price-chart-title price-chart-svg-title\""));
    assert!(
        page.contains("<h2 id=\"price-chart-title\">Price history</h2>"),
        "{page}"
    );
    let rows = &page[page.find("id=\"price-chart-svg-rows\"").expect("the table")..];
    let rows = &rows[..rows.find("</tbody>").unwrap()];
    assert_eq!(rows.matches("<tr>").count(), 3, "{rows}");
    assert!(
        rows.contains("13,000") && !rows.contains("15,000"),
        "{rows}"
    );
    // In Korean, the words around the chart are Korean; the chart itself is the same.
    let (_, ko) = app
        .get_html(&app.client_speaking(Some("ko")), &format!("/auctions/{id}"))
        .await;
    assert!(ko.contains("가격 변화"), "{ko}");
    assert_eq!(attr(svg(&ko, "price-chart-svg"), "data-points"), "3");
    app.assert_audit_clean();
}

async fn no_bidders_maximum_appears_in_the_chart_or_its_live_frame(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let alice = app.funded("alice", 1_000_000).await;
    let bora = app.funded("bora", 100_000).await;
    let chul = app.funded("chul", 100_000).await;
    let id = app.list(&seller, &national("Record player")).await;
    let mut watcher = app.ws(id, None).await;
    expect_frame(&mut watcher, "chart", "data-points=\"0\"").await;
    assert_eq!(app.bid(&bora, id, 11_000).await.0, StatusCode::SEE_OTHER);
    // alice's proxy bid: a ₩987,000 maximum, a ₩12,000 price.
    assert_eq!(app.bid(&alice, id, 987_000).await.0, StatusCode::SEE_OTHER);
    // chul tries ₩20,000: the site answers for alice at ₩21,000.
    assert_eq!(app.bid(&chul, id, 20_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.auction_row(id).1, 21_000);
    assert_eq!(app.leader_max(id), Some(987_000), "the maximum is stored");
    let frame = expect_frame(&mut watcher, "chart", "data-max=\"21000\"").await;
    let secret = ["987,000", "987000", "987.0"];
    for s in secret {
        assert!(!frame.contains(s), "{s} in the live chart: {frame}");
    }
    for viewer in [&app.client(), &bora, &chul, &alice, &seller] {
        let (_, page) = app.get_html(viewer, &format!("/auctions/{id}")).await;
        let chart = svg(&page, "price-chart-svg");
        let rows = &page[page.find("id=\"price-chart-svg-rows\"").unwrap()..];
        let rows = &rows[..rows.find("</tbody>").unwrap()];
        for s in secret {
            assert!(!chart.contains(s), "{s} in the chart: {chart}");
            assert!(!rows.contains(s), "{s} in the chart's table: {rows}");
        }
        // The automatic bid for alice is marked as such.
        assert_eq!(
            chart.matches("<circle class=\"pt auto\"").count(),
            1,
            "{chart}"
        );
        assert_eq!(attr(chart, "data-max"), "21000");
    }
    app.assert_audit_clean();
}

async fn a_late_bid_that_moves_the_end_is_marked_once_and_an_early_bid_not_at_all(db: Db) {
    // A 60-second window: an auction ending in 20 seconds is in it; one ending in an hour not.
    let app = spawn_app_with(db, |s| {
        s.soft_close = Duration::from_secs(60);
        s.soft_close_cap = Duration::from_secs(600);
    })
    .await;
    let seller = app.sign_up("seller").await;
    let alice = app.funded("alice", 100_000).await;
    let bora = app.funded("bora", 100_000).await;
    let mut late = national("Late lamp");
    late.ends_at = local_in(20);
    let late = app.list(&seller, &late).await;
    let early = app.list(&seller, &national("Early lamp")).await;
    let mut watcher = app.ws(late, None).await;
    expect_frame(&mut watcher, "chart", "data-markers=\"0\"").await;
    for id in [late, early] {
        assert_eq!(app.bid(&alice, id, 10_000).await.0, StatusCode::SEE_OTHER);
    }
    let frame = expect_frame(&mut watcher, "chart", "data-markers=\"1\"").await;
    assert_eq!(
        frame.matches("class=\"marker extension\"").count(),
        1,
        "{frame}"
    );
    let (_, page) = app.get_html(&bora, &format!("/auctions/{late}")).await;
    let chart = svg(&page, "price-chart-svg");
    assert_eq!(attr(chart, "data-markers"), "1");
    assert_eq!(
        chart.matches("class=\"marker extension\"").count(),
        1,
        "{chart}"
    );
    let (_, page) = app.get_html(&bora, &format!("/auctions/{early}")).await;
    let chart = svg(&page, "price-chart-svg");
    assert_eq!(attr(chart, "data-markers"), "0");
    assert!(!chart.contains("marker extension"), "{chart}");
    // Recorded in the bid's transaction: the end it had and the end it got.
    let rows = extensions(&app);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let (auction, old_end, new_end) = rows[0];
    assert_eq!(auction, late);
    assert!(new_end > old_end, "{rows:?}");
    let ends_at: chrono::NaiveDateTime = {
        use diesel::prelude::*;
        use neighborbid::db::schema::auctions::dsl as a;
        a::auctions
            .find(late)
            .select(a::ends_at)
            .first(&mut app.raw_connection())
            .unwrap()
    };
    assert_eq!(ends_at, new_end);
    // A bid that changes nothing (the leader raising their own maximum) moves nothing more.
    assert_eq!(app.bid(&alice, late, 30_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(extensions(&app).len(), 1);
    app.assert_audit_clean();
}

/// Every extension recorded: (auction, old end, new end).
fn extensions(app: &TestApp) -> Vec<(i64, chrono::NaiveDateTime, chrono::NaiveDateTime)> {
    use diesel::prelude::*;
    use neighborbid::db::schema::auction_extensions::dsl as e;
    e::auction_extensions
        .order(e::id.asc())
        .select((e::auction_id, e::old_end_at, e::new_end_at))
        .load(&mut app.raw_connection())
        .unwrap()
}

async fn watchers_of_a_national_auction_see_the_chart_grow_after_each_bid(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let alice = app.funded("alice", 100_000).await;
    let bora = app.funded("bora", 100_000).await;
    let id = app.list(&seller, &national("Typewriter")).await;
    let mut ws = app.ws(id, None).await;
    // The snapshot on connect: the state, then the chart without points.
    expect_frame(&mut ws, "state", "₩10,000").await;
    let first = expect_frame(&mut ws, "chart", "data-points=\"0\"").await;
    assert!(first.contains("id=\"price-chart-svg-rows\""), "{first}");
    assert_eq!(app.bid(&alice, id, 10_000).await.0, StatusCode::SEE_OTHER);
    let grown = expect_frame(&mut ws, "chart", "data-points=\"1\"").await;
    assert!(grown.contains("data-live-part"), "{grown}");
    assert_drawable(svg(&grown, "price-chart-svg"));
    // A bid over the socket grows it too.
    let mut bidder = bora.ws(id).await;
    crate::helpers::send_text(
        &mut bidder,
        r#"{"type":"bid","amount":"12000","key":"00112233445566778899aabbccddeeff"}"#,
    )
    .await;
    expect_frame(&mut bidder, "ack", "").await;
    let grown = expect_frame(&mut ws, "chart", "data-points=\"2\"").await;
    let chart = svg(&grown, "price-chart-svg");
    assert_eq!(attr(chart, "data-max"), "11000");
    assert_eq!(texts(chart, "current-label"), vec!["11,000"]);
    // Language-neutral: numbers and times, no words of either language.
    for word in ["Price", "Bid", "Start", "가격", "입찰", "시작"] {
        assert!(!grown.contains(word), "{word} in {grown}");
    }
    app.assert_audit_clean();
}

async fn a_new_watcher_count_resends_the_state_but_not_the_unchanged_chart(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let alice = app.funded("alice", 100_000).await;
    let id = app.list(&seller, &national("Sewing machine")).await;
    assert_eq!(app.bid(&alice, id, 10_000).await.0, StatusCode::SEE_OTHER);
    let mut first = app.ws(id, None).await;
    expect_frame(&mut first, "chart", "data-points=\"1\"").await;
    let _second = app.ws(id, None).await;
    // Within a few seconds the panel is re-rendered for its new watcher count: the state
    // comes again, the chart (unchanged) does not.
    let mut frames = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
    let mut seen_two = false;
    while let Some(frame) = crate::helpers::next_frame(
        &mut first,
        if seen_two {
            Duration::from_millis(1000)
        } else {
            deadline.saturating_duration_since(tokio::time::Instant::now())
        },
    )
    .await
    {
        let html = frame["html"].as_str().unwrap_or_default().to_owned();
        seen_two |= frame["type"] == "state" && html.contains("2 watching");
        frames.push(frame["type"].as_str().unwrap_or_default().to_owned());
    }
    assert!(seen_two, "the count reached the panel: {frames:?}");
    assert!(!frames.iter().any(|t| t == "chart"), "{frames:?}");
    // A bid changes it: then it comes.
    let bora = app.funded("bora", 100_000).await;
    assert_eq!(app.bid(&bora, id, 11_000).await.0, StatusCode::SEE_OTHER);
    expect_frame(&mut first, "chart", "data-points=\"2\"").await;
    app.assert_audit_clean();
}

/// A card top-up of `amount` paid through the PortOne simulator; its merchant_uid.
async fn paid_card_topup(app: &TestApp, b: &Browser, amount: &str) -> String {
    let uid = start_card_topup(app, b, amount).await;
    let back = checkout(app, b, &uid, "approve", false).await;
    come_back(app, b, &back, &uid).await;
    assert_eq!(payment_status(app, &uid), "paid");
    uid
}

/// Today's bar of an admin chart: (day, value).
fn todays_bar(page: &str, id: &str) -> (String, i64) {
    let chart = svg(page, id);
    assert_drawable(chart);
    assert_eq!(chart.matches("<rect class=\"bar\"").count(), 30, "{chart}");
    let last = chart.rfind("<rect class=\"bar\"").unwrap();
    let bar = &chart[last..];
    (
        attr(bar, "data-day"),
        attr(bar, "data-value").parse().unwrap(),
    )
}

/// The sum of every bar of an admin chart.
fn all_bars(page: &str, id: &str) -> i64 {
    let chart = svg(page, id);
    chart
        .match_indices("<rect class=\"bar\"")
        .map(|(at, _)| attr(&chart[at..], "data-value").parse::<i64>().unwrap())
        .sum()
}

async fn the_admin_dashboard_charts_todays_bids_sales_top_ups_and_refunds(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin("root").await;
    let seller = app.sign_up("seller").await;
    let alice = app.funded("alice", 100_000).await;
    let bora = app.funded("bora", 100_000).await;
    // A top-up through PortOne of ₩50,000, ₩20,000 of it refunded.
    let minji = app.sign_up("minji").await;
    let uid = paid_card_topup(&app, &minji, "50000").await;
    let r = app
        .post(
            &minji,
            &format!("/payments/{uid}/cancel"),
            &[("amount", "20000"), ("reason", "not needed")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.wallet(&minji).await, (30_000, 0));
    // A bid, then bora buys the auction now for ₩30,000.
    let mut l = Listing::new("Desk fan");
    l.buy_now_price = "30000".into();
    let id = app.list(&seller, &l).await;
    assert_eq!(app.bid(&alice, id, 10_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.buy_now(&bora, id).await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.auction_row(id).0, "sold");
    // A market trade of ₩12,000: bought, approved, confirmed.
    let lamp = list_product(&app, &seller, "Brass desk lamp", "12000", "1").await;
    let page = product_page(&app, &bora, lamp).await;
    let seen = field_value(&page, "expected_price").unwrap();
    let r = app
        .post(
            &bora,
            &format!("/market/{lamp}/buy"),
            &[("quantity", "1"), ("expected_price", &seen)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let trade = trade_ids(&product_page(&app, &seller, lamp).await, "approve")[0];
    assert_eq!(
        act(&app, &seller, trade, "approve").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        act(&app, &bora, trade, "confirm").await.status(),
        StatusCode::SEE_OTHER
    );

    let (status, page) = app.get_html(&admin, "/admin").await;
    assert_eq!(status, StatusCode::OK);
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Seoul)
        .format("%Y-%m-%d")
        .to_string();
    for (chart, want) in [
        ("chart-bids", 1),
        ("chart-sales-count", 2),
        ("chart-sales-won", 42_000),
        ("chart-top-ups", 50_000),
        ("chart-refunds", 20_000),
    ] {
        assert_eq!(todays_bar(&page, chart), (today.clone(), want), "{chart}");
        assert_eq!(
            all_bars(&page, chart),
            want,
            "{chart}: nothing on other days"
        );
    }
    assert!(
        page.contains("<h3 id=\"chart-bids-heading\">Bids placed per day</h3>"),
        "{page}"
    );
    assert!(page.contains("id=\"chart-refunds-rows\""), "{page}");
    // Admins only: a member is refused, a visitor sent to log in; neither sees a number.
    let (status, body) = app.get_html(&alice, "/admin").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!body.contains("chart-bids"), "{body}");
    let r = app.get(&app.client(), "/admin").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The words around the charts in Korean.
    app.post(&admin, "/lang", &[("lang", "ko"), ("back", "/admin")])
        .await;
    let (_, ko) = app.get_html(&admin, "/admin").await;
    assert!(ko.contains("하루 입찰 수"), "{ko}");
    assert_eq!(todays_bar(&ko, "chart-top-ups").1, 50_000);
    app.assert_audit_clean();
}

async fn an_empty_site_draws_every_chart_without_errors(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin("root").await;
    let (status, page) = app.get_html(&admin, "/admin").await;
    assert_eq!(status, StatusCode::OK);
    for chart in [
        "chart-bids",
        "chart-sales-count",
        "chart-sales-won",
        "chart-top-ups",
        "chart-refunds",
    ] {
        assert_eq!(todays_bar(&page, chart).1, 0);
        assert_eq!(all_bars(&page, chart), 0);
    }
    // An auction nobody bid on: the start price alone, no line, no dots.
    let seller = app.sign_up("seller").await;
    let id = app.list(&seller, &Listing::new("Quiet chair")).await;
    let (status, page) = app
        .get_html(&app.client(), &format!("/auctions/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let chart = svg(&page, "price-chart-svg");
    assert_drawable(chart);
    assert_eq!(attr(chart, "data-points"), "0");
    assert!(!chart.contains("<path"), "{chart}");
    assert_eq!(texts(chart, "level-label"), vec!["10,000"]);
    app.assert_audit_clean();
}

async fn a_chart_open_in_a_browser_grows_with_each_bid_without_reloading(db: Db) {
    use crate::browser::{browser, browser_available, start_driver};
    if !browser_available() {
        return;
    }
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let alice = app.funded("alice", 100_000).await;
    let bora = app.funded("bora", 100_000).await;
    let id = app.list(&seller, &national("Desk clock")).await;
    let driver = start_driver().await;
    let profiles = tempfile::tempdir().unwrap();
    let b = browser(&driver, &profiles.path().join("watcher")).await;
    // A phone's width: the chart fits it.
    b.set_window_size(360, 800).await.unwrap();
    b.goto(&app.url(&format!("/auctions/{id}"))).await.unwrap();
    let read = |script: &'static str| {
        let b = b.clone();
        async move { b.execute(script, vec![]).await.unwrap() }
    };
    let chart_state = "var s = document.getElementById('price-chart-svg'); \
        var rows = document.querySelectorAll('#price-chart-svg-rows tr').length; \
        return s ? [s.getAttribute('data-points'), rows, window.__still_here === true, \
        Math.round(s.getBoundingClientRect().width), document.documentElement.clientWidth] : null;";
    let wait_for = |points: &'static str| async move {
        let mut last = serde_json::Value::Null;
        for _ in 0..100 {
            last = read(chart_state).await;
            if last[0] == points {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the chart never showed {points} points (last: {last})");
    };
    let first = wait_for("0").await;
    assert_eq!(first[1], 0, "{first}");
    // Live: the socket is up.
    for _ in 0..100 {
        let status = read("return document.getElementById('live-status').className;").await;
        if status.as_str().unwrap_or_default().contains("live") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    read("window.__still_here = true; return true;").await;
    assert_eq!(app.bid(&alice, id, 10_000).await.0, StatusCode::SEE_OTHER);
    let one = wait_for("1").await;
    assert_eq!(one[1], 1, "one row in the table: {one}");
    assert_eq!(app.bid(&bora, id, 14_000).await.0, StatusCode::SEE_OTHER);
    let two = wait_for("2").await;
    assert_eq!(two[1], 2, "{two}");
    assert_eq!(two[2], true, "the page was not reloaded: {two}");
    // The SVG is no wider than the phone's screen.
    let (svg_width, screen) = (two[3].as_i64().unwrap(), two[4].as_i64().unwrap());
    assert!(svg_width > 0 && svg_width <= screen, "{two}");
    if std::env::var("NEIGHBORBID_SCREENSHOT").is_ok() {
        let chart = b
            .find(fantoccini::Locator::Css("section.price-chart"))
            .await
            .unwrap();
        std::fs::write(
            "/tmp/neighborbid-price-chart.png",
            chart.screenshot().await.unwrap(),
        )
        .unwrap();
    }
    b.close().await.unwrap();
    app.assert_audit_clean();
}
