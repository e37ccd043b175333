//! Korean first, English too (issue 14 item 1, the foundation): the page's language comes from
//! the toggle's cookie, else the member's saved choice, else `Accept-Language`, else Korean;
//! `<html lang>` says which; money is written as each language writes it; the pages translated
//! so far show no missing key in either language.

use reqwest::StatusCode;

use crate::helpers::{
    both_databases, expect_frame, field_value, spawn_app, Browser, Db, Listing, TestApp,
};

both_databases!(
    a_visitor_who_sends_no_language_gets_korean,
    accept_language_chooses_english_by_its_q_values,
    the_toggle_sets_a_cookie_that_wins_over_accept_language_and_comes_back_to_the_page,
    a_members_choice_follows_them_to_a_new_browser_after_login,
    money_is_written_as_each_language_writes_it,
    a_hostile_language_in_the_cookie_or_the_form_is_ignored,
    the_translated_pages_show_no_missing_key_in_either_language,
    every_page_speaks_korean_and_english_with_no_missing_key_or_stray_english,
    each_live_socket_gets_its_fragments_in_its_own_language,
    a_korean_neighbour_finds_asks_wins_chats_and_reviews_without_a_word_of_english,
);

/// `<html lang="…">` of a page.
fn html_lang(html: &str) -> &str {
    let start = html.find("<html lang=\"").expect("an <html lang>") + 12;
    let end = start + html[start..].find('"').expect("a closing quote");
    &html[start..end]
}

/// A missing key as rust-i18n shows it: `ko.some.key` / `en.some.key` (the locale, a dot, then
/// the dotted key), not preceded by a letter or digit.
fn missing_keys(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for prefix in ["ko.", "en."] {
        for (i, _) in html.match_indices(prefix) {
            if html[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
            {
                continue;
            }
            let rest: String = html[i + 3..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_' || *c == '.')
                .collect();
            if rest.contains('.') && rest.len() > 2 {
                found.push(format!("{prefix}{rest}"));
            }
        }
    }
    found
}

async fn page(b: &Browser, path: &str) -> String {
    let (status, html) = b.get_html(path).await;
    assert_eq!(status, StatusCode::OK, "{path}");
    html
}

async fn toggle(app: &TestApp, b: &Browser, lang: &str, back: &str) -> reqwest::Response {
    app.post(b, "/lang", &[("lang", lang), ("back", back)])
        .await
}

pub(crate) fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn a_visitor_who_sends_no_language_gets_korean(db: Db) {
    let app = spawn_app(db).await;
    let html = page(&app.client_speaking(None), "/").await;
    assert_eq!(html_lang(&html), "ko");
    assert!(html.contains("경매"), "Korean navigation");
    assert!(html.contains("이웃의 물건에 입찰하세요."), "Korean hero");
    assert!(!html.contains("Bid on your neighbours"));
    // A language the site does not speak falls back to Korean too.
    let html = page(&app.client_speaking(Some("fr-FR, de;q=0.8")), "/auctions").await;
    assert_eq!(html_lang(&html), "ko");
}

async fn accept_language_chooses_english_by_its_q_values(db: Db) {
    let app = spawn_app(db).await;
    for header in ["en-US,en;q=0.9", "ko;q=0.1, en;q=0.9", "EN"] {
        let html = page(&app.client_speaking(Some(header)), "/").await;
        assert_eq!(html_lang(&html), "en", "{header}");
        assert!(html.contains("Bid on your neighbours"), "{header}");
    }
    for header in ["ko-KR,ko;q=0.9,en;q=0.8", "en;q=0, ko;q=0.5"] {
        let html = page(&app.client_speaking(Some(header)), "/").await;
        assert_eq!(html_lang(&html), "ko", "{header}");
    }
}

async fn the_toggle_sets_a_cookie_that_wins_over_accept_language_and_comes_back_to_the_page(
    db: Db,
) {
    let app = spawn_app(db).await;
    let b = app.client_speaking(Some("en-US,en;q=0.9"));
    assert_eq!(html_lang(&page(&b, "/auctions").await), "en");
    // The header offers the other language.
    assert!(page(&b, "/auctions").await.contains("action=\"/lang\""));

    let r = toggle(&app, &b, "ko", "/auctions?sort=newest").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/auctions?sort=newest");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("lang="))
        .expect("a lang cookie")
        .to_owned();
    assert!(cookie.starts_with("lang=ko"), "{cookie}");
    let html = page(&b, "/auctions?sort=newest").await;
    assert_eq!(
        html_lang(&html),
        "ko",
        "the cookie wins over Accept-Language"
    );
    assert!(html.contains("마감 임박순"));

    // And back.
    toggle(&app, &b, "en", "/").await;
    assert_eq!(html_lang(&page(&b, "/").await), "en");

    // Without a CSRF token the toggle changes nothing.
    let r = app
        .post_raw(&b, "/lang", &[("lang", "ko"), ("next", "/")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(html_lang(&page(&b, "/").await), "en");

    // On a page answered to a POST (a refused bid), the toggle comes back to a page one can
    // GET, not to the POST-only address.
    let seller = app.sign_up("seller").await;
    let id = app.list(&seller, &Listing::new("Lamp")).await;
    let bidder = app.funded("bidder", 50_000).await;
    let (status, html) = app.bid(&bidder, id, 1).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let back = crate::helpers::field_value(&html, "back").expect("the toggle's back");
    assert!(!back.ends_with("/bids"), "{back}");

    // `back` off the site goes home.
    for next in ["https://evil.example/", "//evil.example", "/\\evil.example"] {
        let r = toggle(&app, &b, "ko", next).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(location(&r), "/", "{next}");
    }
}

async fn a_members_choice_follows_them_to_a_new_browser_after_login(db: Db) {
    let app = spawn_app(db).await;
    let b = app.sign_up("minji").await;
    assert_eq!(html_lang(&page(&b, "/").await), "en");
    toggle(&app, &b, "ko", "/").await;
    assert_eq!(html_lang(&page(&b, "/").await), "ko");

    // A new browser (new cookie jar) that asks for English: Korean once she logs in.
    let (other, r) = app.log_in("minji", crate::helpers::PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = page(&other, "/").await;
    assert_eq!(html_lang(&html), "ko", "her saved choice follows her");
    assert!(html.contains("로그아웃"));

    // Logged out, the new browser goes back to its Accept-Language.
    app.post(&other, "/logout", &[]).await;
    assert_eq!(html_lang(&page(&other, "/").await), "en");

    // A member who never toggled keeps following Accept-Language.
    let fresh = app.sign_up("jisoo").await;
    assert_eq!(html_lang(&page(&fresh, "/").await), "en");
}

async fn money_is_written_as_each_language_writes_it(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let mut l = Listing::new("자전거");
    l.start_price = "12000".into();
    l.buy_now_price = "50000".into();
    let id = app.list(&seller, &l).await;

    let ko = app.client_speaking(Some("ko"));
    let en = app.client_speaking(Some("en"));
    let list_ko = page(&ko, "/auctions").await;
    let list_en = page(&en, "/auctions").await;
    assert!(list_ko.contains("12,000원"), "the Korean card");
    assert!(!list_ko.contains("₩12,000"));
    assert!(list_en.contains("₩12,000"), "the English card");
    assert!(!list_en.contains("12,000원"));

    let show_ko = page(&ko, &format!("/auctions/{id}")).await;
    let show_en = page(&en, &format!("/auctions/{id}")).await;
    assert!(show_ko.contains("시작가 12,000원."), "the Korean rule");
    assert!(
        show_en.contains("Bids start at ₩12,000."),
        "the English rule"
    );
    assert!(
        show_ko.contains("즉시 구매(50,000원)"),
        "the Korean buy-now rule"
    );
    assert!(
        show_en.contains("Buy now (₩50,000)"),
        "the English buy-now rule"
    );
    // A member who can bid sees the button in their language.
    let buyer = app.funded("buyer", 100_000).await;
    toggle(&app, &buyer, "ko", "/").await;
    assert!(page(&buyer, &format!("/auctions/{id}"))
        .await
        .contains("50,000원에 즉시 구매"));
}

async fn a_hostile_language_in_the_cookie_or_the_form_is_ignored(db: Db) {
    let app = spawn_app(db).await;
    let b = app.sign_up("mallory").await;
    for hostile in [
        "fr",
        "",
        "KO",
        "ko\"><script>alert(1)</script>",
        "../../etc/passwd",
        "en; DROP TABLE users",
        &"k".repeat(5000),
    ] {
        let r = toggle(&app, &b, hostile, "/").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{hostile:.40}");
        assert!(
            !r.headers()
                .get_all("set-cookie")
                .iter()
                .any(|c| c.to_str().unwrap_or("").starts_with("lang=")),
            "no cookie for {hostile:.40}"
        );
        let html = page(&b, "/").await;
        assert_eq!(html_lang(&html), "en", "unchanged by {hostile:.40}");
        assert!(!html.contains("<script>alert(1)"));
    }
    let saved: Option<String> = {
        use diesel::prelude::*;
        use neighborbid::db::schema::users;
        users::table
            .filter(users::username.eq("mallory"))
            .select(users::locale)
            .first(&mut app.raw_connection())
            .expect("mallory")
    };
    assert_eq!(saved, None, "nothing saved");

    // A hostile cookie (set by hand) is ignored: Accept-Language decides, no 5xx.
    let url: reqwest::Url = app.address.parse().expect("url");
    for cookie in [
        "lang=fr",
        "lang=%00",
        "lang=ko%22%3E%3Cscript%3E",
        "lang=",
        "lang=enn",
    ] {
        let v = app.client_speaking(Some("en"));
        v.jar.add_cookie_str(cookie, &url);
        let (status, html) = v.get_html("/auctions").await;
        assert_eq!(status, StatusCode::OK, "{cookie}");
        assert_eq!(html_lang(&html), "en", "{cookie}");
        let v = app.client_speaking(None);
        v.jar.add_cookie_str(cookie, &url);
        assert_eq!(html_lang(&page(&v, "/").await), "ko", "{cookie}");
    }
    // A hostile Accept-Language too.
    for header in [
        "ko;q=2",
        "en;q=-1",
        "en;q=0.0001",
        ";;;,,,",
        "en;q=NaN",
        &"en-".repeat(300),
    ] {
        let v = app.client_speaking(Some(header));
        let (status, _) = v.get_html("/").await;
        assert_eq!(status, StatusCode::OK, "{header:.40}");
    }
}

async fn the_translated_pages_show_no_missing_key_in_either_language(db: Db) {
    // The detector finds what rust-i18n shows for a missing key, and nothing in plain text.
    assert_eq!(missing_keys("<p>ko.list.nothing</p>"), ["ko.list.nothing"]);
    assert_eq!(missing_keys("<a>en.auction.gone</a>"), ["en.auction.gone"]);
    assert!(missing_keys("Open. Seen. token.ko.x /static/js/live.js").is_empty());
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let mut l = Listing::new("Lamp");
    l.buy_now_price = "90000".into();
    l.reserve_price = "20000".into();
    let id = app.list(&seller, &l).await;
    let bidder = app.funded("bidder", 100_000).await;
    app.bid(&bidder, id, 11_000).await;
    let paths = [
        "/".to_owned(),
        "/auctions".to_owned(),
        "/auctions?q=nothing-matches".to_owned(),
        format!("/auctions/{id}"),
    ];
    for lang in ["ko", "en"] {
        for (who, b) in [
            ("visitor", app.client_speaking(None)),
            ("seller", seller.clone()),
            ("bidder", bidder.clone()),
        ] {
            toggle(&app, &b, lang, "/").await;
            for path in &paths {
                let html = page(&b, path).await;
                assert_eq!(html_lang(&html), lang, "{who} {path}");
                let missing = missing_keys(&html);
                assert!(missing.is_empty(), "{who} {lang} {path}: {missing:?}");
            }
        }
    }
}

// ------------------------------------------------------------ every page, both languages

/// Every GET route of `src/web/mod.rs` (and the simulator's pages), and how the page test
/// covers it. Routes that answer something other than an HTML page are listed with why.
const NOT_PAGES: &[(&str, &str)] = &[
    (
        "/auctions/{id}/live",
        "WebSocket (tested below: each socket in its own language)",
    ),
    ("/me/live", "WebSocket (tested below)"),
    (
        "/notifications/{id}",
        "marks read, 303 to the item (checked: 303)",
    ),
    (
        "/payments/complete",
        "PortOne's redirect back, 303 to the payment page",
    ),
    ("/static/css/site.css", "stylesheet"),
    (
        "/static/js/live.js",
        "script (its words come from data-t-* attributes)",
    ),
    ("/static/js/me.js", "script"),
    ("/static/js/checkout.js", "script"),
    ("/uploads/{name}", "an image"),
    ("/healthz", "JSON for the load balancer"),
    (
        "/portone-sim/payments/…",
        "the simulator's JSON API (PortOne's, English by contract)",
    ),
];

/// Words allowed on a Korean page: brand and product names, file formats, the toggle's own
/// label, a setting's name, the site's time zone, the audit's status words (machine-read).
const ALLOWED: &[&str] = &[
    "NeighborBid",
    "Neighbor",
    "Bid",
    "PortOne",
    "English",
    "JPEG",
    "PNG",
    "WebP",
    "Asia",
    "Seoul",
    "NEIGHBORBID_DEV_TOPUP",
    "true",
    "CLEAN",
    "FAILED",
    "NH농협은행",
    "KB국민은행",
    "SC제일은행",
    "IBK기업은행",
    "KEB",
];

/// Sentences built in Rust that helper (b) of issue 14 is translating at the same time
/// (flashes, notifications, rule sentences, why one cannot bid, payment state words): still
/// English on this branch. Each entry marks an element (a piece of its opening tag) whose
/// whole content the scan skips; the lead empties this list after merging both branches.
/// Elements whose whole content the scan skips (a piece of their opening tag, and why). Empty
/// since every sentence built in Rust is translated too: a new entry needs a reason.
const LEFTOVERS_B: &[(&str, &str)] = &[];

/// `html` without the elements `LEFTOVERS_B` marks.
fn without_leftovers(html: &str) -> String {
    let mut html = html.to_owned();
    for (marker, _) in LEFTOVERS_B {
        while let Some(at) = html.find(marker) {
            let start = html[..at].rfind('<').unwrap_or(at);
            let name: String = html[start + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            let close = format!("</{name}>");
            let end = html[at..]
                .find(&close)
                .map_or(html.len(), |e| at + e + close.len());
            html.replace_range(start..end, " ");
        }
    }
    html
}

/// What people typed (test data): removed before the scan.
const USER_TEXT: &[&str] = &["All about"];

/// Visible text and the human-read attributes of a page, without scripts and styles.
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    // Drop <script>…</script> and <style>…</style>.
    let mut cleaned = String::new();
    while let Some(start) = rest.find("<script").or_else(|| rest.find("<style")) {
        let (tag_end, close) = if rest[start..].starts_with("<script") {
            (start, "</script>")
        } else {
            (start, "</style>")
        };
        cleaned.push_str(&rest[..tag_end]);
        rest = match rest[tag_end..].find(close) {
            Some(e) => &rest[tag_end + e + close.len()..],
            None => "",
        };
    }
    cleaned.push_str(rest);
    let mut in_tag = false;
    let mut tag = String::new();
    for c in cleaned.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                tag.clear();
                out.push(' ');
            }
            (true, '>') => {
                in_tag = false;
                for attr in ["placeholder=\"", "title=\"", "aria-label=\"", "alt=\""] {
                    for (i, _) in tag.match_indices(attr) {
                        let v = &tag[i + attr.len()..];
                        out.push(' ');
                        out.push_str(&v[..v.find('"').unwrap_or(v.len())]);
                        out.push(' ');
                    }
                }
                // A button's value is what it says only for <input type=submit>.
                if tag.starts_with("input") && tag.contains("type=\"submit\"") {
                    if let Some(v) = field_attr(&tag, "value") {
                        out.push_str(&format!(" {v} "));
                    }
                }
            }
            (true, c) => tag.push(c),
            (false, c) => out.push(c),
        }
    }
    out.replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2F;", "/")
}

fn field_attr(tag: &str, name: &str) -> Option<String> {
    let at = tag.find(&format!("{name}=\""))? + name.len() + 2;
    Some(tag[at..at + tag[at..].find('"')?].to_owned())
}

/// English words (3+ letters, only letters) left on a Korean page once the allowed words,
/// the leftovers of helper (b) and what people typed are taken out.
fn stray_english(html: &str, typed: &[String]) -> Vec<String> {
    let mut text = visible_text(&without_leftovers(html));
    for s in USER_TEXT {
        text = text.replace(s, " ");
    }
    for s in typed {
        text = text.replace(s.as_str(), " ");
    }
    let mut found = Vec::new();
    for token in text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')) {
        let token = token.trim_matches('-');
        if token.chars().filter(|c| c.is_ascii_alphabetic()).count() < 3
            || !token.chars().all(|c| c.is_ascii_alphabetic() || c == '-')
            || ALLOWED.contains(&token)
        {
            continue;
        }
        found.push(token.to_owned());
    }
    found.sort();
    found.dedup();
    found
}

/// A member with a Korean display name.
async fn neighbour(app: &TestApp, username: &str, name: &str, money: &str) -> Browser {
    let b = signed_up(app.client(), username, name).await;
    if money != "0" {
        assert_eq!(b.top_up(money).await.status(), StatusCode::SEE_OTHER);
    }
    b
}

/// `b` signed up as `username` with the display name `name` (and logged in).
async fn signed_up(b: Browser, username: &str, name: &str) -> Browser {
    let r = b
        .post(
            "/signup",
            &[
                ("username", username),
                ("password", crate::helpers::PASSWORD),
                ("password_confirm", crate::helpers::PASSWORD),
                ("display_name", name),
                ("region_id", "3"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-up of {username}");
    b
}

/// The same session in a fresh client sending this `Accept-Language`, and with a `lang`
/// cookie when `cookie` says which.
fn same_session(b: &Browser, accept: &str, cookie: Option<&str>) -> Browser {
    use reqwest::cookie::CookieStore as _;
    let url: reqwest::Url = b.base.parse().expect("base url");
    let copy = Browser::speaking(&b.base, Some(accept));
    if let Some(header) = b.jar.cookies(&url) {
        for c in header.to_str().expect("cookie header").split("; ") {
            if !c.starts_with("lang=") {
                copy.jar.add_cookie_str(c, &url);
            }
        }
    }
    if let Some(lang) = cookie {
        copy.jar.add_cookie_str(&format!("lang={lang}"), &url);
    }
    copy
}

/// A Korean product (multipart form as the page sends it).
async fn product(app: &TestApp, seller: &Browser, name: &str, quantity: &str) -> i64 {
    let token = app.csrf(seller).await;
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token)
        .text("name", name.to_owned())
        .text("description", "상태 좋아요. 역삼역에서 직거래해요.")
        .text("price", "12000")
        .text("quantity", quantity.to_owned())
        .text("category_id", "2")
        .text("region_id", "3");
    let r = app.post_multipart(seller, "/market/new", form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    location(&r)
        .strip_prefix("/market/")
        .and_then(|id| id.parse().ok())
        .expect("a product address")
}

async fn buy_one(app: &TestApp, buyer: &Browser, product: i64) {
    let (_, page) = app.get_html(buyer, &format!("/market/{product}")).await;
    let seen = field_value(&page, "expected_price").expect("the price field");
    let r = app
        .post(
            buyer,
            &format!("/market/{product}/buy"),
            &[("quantity", "1"), ("expected_price", &seen)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn every_page_speaks_korean_and_english_with_no_missing_key_or_stray_english(db: Db) {
    // The scan finds English and leaves Korean, brands and codes alone.
    assert_eq!(
        stray_english(
            "<p>입찰하기 Place bid</p><script>var x = 'Hello';</script>",
            &[]
        ),
        ["Place", "bid"]
    );
    assert!(stray_english(
        "<p title=\"관심\">NeighborBid 12,000원 nb_7f3a9c 2026-11-30</p>",
        &[]
    )
    .is_empty());
    assert_eq!(
        stray_english("<input placeholder=\"Search\">", &[]),
        ["Search"]
    );
    // Rust-built sentences are scanned like the rest.
    assert_eq!(
        stray_english(
            "<p class=\"cannot-bid\">Log in to bid. <a href=\"/login\">로그인</a></p>",
            &[]
        ),
        ["Log", "bid"]
    );

    let app = spawn_app(db).await;
    let seller = neighbour(&app, "seller", "김판매", "0").await;
    let buyer = neighbour(&app, "buyer", "이구매", "300000").await;
    let bidder = neighbour(&app, "bidder", "박입찰", "300000").await;
    let admin = app.admin("boss").await;

    // An open national auction with bids (one outbid: a notification), watched.
    let mut open = Listing::new("접이식 자전거");
    open.buy_now_price = "90000".into();
    open.reserve_price = "20000".into();
    open.national = true;
    let open_id = app.list(&seller, &open).await;
    app.bid(&bidder, open_id, 11_000).await;
    app.bid(&buyer, open_id, 14_000).await;
    let r = app
        .post(
            &bidder,
            &format!("/auctions/{open_id}/watch"),
            &[("watch", "on"), ("next", "/")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // An auction without bids the seller may still edit.
    let quiet_id = app.list(&seller, &Listing::new("원목 의자")).await;
    // A won auction (buy now) whose trade is confirmed and reviewed.
    let mut sold = Listing::new("책상 스탠드");
    sold.buy_now_price = "30000".into();
    let sold_id = app.list(&seller, &sold).await;
    let (status, _) = app.buy_now(&buyer, sold_id).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.confirm_auction_trade(&buyer, sold_id).await,
        StatusCode::SEE_OTHER
    );
    let (trade, _) = app.auction_trade(sold_id).expect("a trade");
    let r = app
        .post(
            &buyer,
            &format!("/trades/{trade}/review"),
            &[("rating", "5"), ("comment", "친절하고 물건도 좋아요!")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A market product: one purchase approved (waiting for receipt), one disputed.
    let lamp = product(&app, &seller, "유리 조명", "3").await;
    buy_one(&app, &buyer, lamp).await;
    buy_one(&app, &bidder, lamp).await;
    let (_, page) = app.get_html(&seller, &format!("/market/{lamp}")).await;
    let requested = crate::market::trade_ids(&page, "approve");
    assert_eq!(requested.len(), 2);
    for t in &requested {
        let r = app
            .post(&seller, &format!("/trades/{t}/approve"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let disputed = requested[1];
    let r = app
        .post(
            &bidder,
            &format!("/trades/{disputed}/dispute"),
            &[("reason", "받은 조명이 깨져 있었어요.")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A chat about the lamp: the buyer asks, the seller answers.
    let r = app.post(&buyer, &format!("/market/{lamp}/chat"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let chat_url = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(chat_url.starts_with("/chats/"), "{chat_url}");
    for (who, text) in [
        (&buyer, "내일 저녁에 가지러 가도 될까요?"),
        (&seller, "네, 7시 이후에 오세요."),
    ] {
        let r = app
            .post(who, &format!("{chat_url}/messages"), &[("body", text)])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    // A payout request, a card payment waiting at checkout, a virtual account waiting.
    let r = app
        .post(
            &seller,
            "/wallet/payouts",
            &[
                ("amount", "10000"),
                ("bank_code", "088"),
                ("account_number", "110-123-456789"),
                ("account_holder", "김판매"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let card_uid = crate::payments::start_card_topup(&app, &buyer, "20000").await;
    let vbank_uid = crate::payments::start_vbank_topup(&app, &buyer, "20000").await;
    let (imp_uid, _) = crate::payments::vbank_of(&app, &vbank_uid);
    let (_, pay_page) = app.get_html(&buyer, &format!("/payments/{card_uid}")).await;
    let checkout_query = serde_urlencoded::to_string([
        ("merchant_uid", card_uid.as_str()),
        ("amount", &field_value(&pay_page, "amount").expect("amount")),
        ("name", &field_value(&pay_page, "name").expect("name")),
        (
            "m_redirect_url",
            &field_value(&pay_page, "m_redirect_url").expect("m_redirect_url"),
        ),
        (
            "notice_url",
            &field_value(&pay_page, "notice_url").expect("notice"),
        ),
    ])
    .expect("query");
    let seller_id = app.user_id("seller");
    let buyer_id = app.user_id("buyer");
    let note = {
        use diesel::prelude::*;
        use neighborbid::db::schema::notifications as n;
        n::table
            .filter(n::user_id.eq(bidder_id(&app)))
            .select(n::id)
            .first::<i64>(&mut app.raw_connection())
            .expect("the outbid notification")
    };

    // What people typed, taken out before the scan (usernames are ASCII by rule; the card
    // payment's name is PortOne's, an internal label).
    let typed: Vec<String> = [
        "seller",
        "buyer",
        "bidder",
        "boss",
        "NeighborBid wallet top-up",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();

    let anyone: Vec<String> = vec![
        "/".into(),
        "/auctions".into(),
        "/auctions?q=없는물건".into(),
        format!("/auctions/{open_id}"),
        format!("/auctions/{sold_id}"),
        "/market".into(),
        format!("/market/{lamp}"),
        format!("/users/{seller_id}"),
        format!("/users/{buyer_id}"),
    ];
    // A logged-in member is sent on from these (303).
    let visitor_only: Vec<String> = vec!["/login".into(), "/signup".into()];
    let members: Vec<String> = vec![
        "/auctions/new".into(),
        "/me/listings".into(),
        "/me/bids".into(),
        "/me/watchlist".into(),
        "/notifications".into(),
        "/wallet".into(),
        "/wallet/payouts".into(),
        "/market/new".into(),
        "/me/purchases".into(),
        "/me/reservations".into(),
        "/account".into(),
        "/account/password".into(),
        "/chats".into(),
    ];
    let seller_only: Vec<String> = vec![
        format!("/auctions/{quiet_id}/edit"),
        format!("/market/{lamp}/photos"),
        chat_url.clone(),
    ];
    let buyer_only: Vec<String> = vec![
        format!("/payments/{card_uid}"),
        format!("/payments/{vbank_uid}"),
        format!("/portone-sim/checkout?{checkout_query}"),
        format!("/portone-sim/bank/{imp_uid}"),
        chat_url.clone(),
    ];
    let admin_only: Vec<String> = [
        "/admin",
        "/admin/audit",
        "/admin/auctions",
        "/admin/users",
        "/admin/payments",
        "/admin/payouts",
        "/admin/disputes",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();

    let visitor = app.client_speaking(None);
    let who: Vec<(&str, &Browser, Vec<&String>)> = vec![
        (
            "visitor",
            &visitor,
            anyone.iter().chain(&visitor_only).collect(),
        ),
        (
            "seller",
            &seller,
            anyone.iter().chain(&members).chain(&seller_only).collect(),
        ),
        (
            "buyer",
            &buyer,
            anyone.iter().chain(&members).chain(&buyer_only).collect(),
        ),
        ("bidder", &bidder, members.iter().collect()),
        ("admin", &admin, admin_only.iter().collect()),
    ];
    let mut pages = 0;
    let mut strays: Vec<String> = Vec::new();
    for (name, b, paths) in &who {
        for lang in ["ko", "en"] {
            let other = if lang == "ko" { "en" } else { "ko" };
            // By Accept-Language, and by the toggle's cookie against the other language.
            for (how, client) in [
                ("Accept-Language", same_session(b, lang, None)),
                ("cookie", same_session(b, other, Some(lang))),
            ] {
                for path in paths {
                    let (status, html) = client.get_html(path).await;
                    assert_eq!(status, StatusCode::OK, "{name} {lang} by {how}: {path}");
                    assert_eq!(html_lang(&html), lang, "{name} by {how}: {path}");
                    let missing = missing_keys(&html);
                    assert!(missing.is_empty(), "{name} {lang} {path}: {missing:?}");
                    if lang == "ko" {
                        let stray = stray_english(&html, &typed);
                        if !stray.is_empty() {
                            strays.push(format!("{name} {path}: {stray:?}"));
                        }
                        if html.contains('₩') {
                            strays.push(format!("{name} {path}: money written with ₩"));
                        }
                    } else {
                        assert!(
                            !html.contains("12,000원"),
                            "{name} {path}: Korean money on an English page"
                        );
                    }
                    pages += 1;
                }
            }
        }
    }
    strays.dedup();
    assert!(
        strays.is_empty(),
        "English on Korean pages:\n{}",
        strays.join("\n")
    );
    assert!(pages > 150, "{pages} pages fetched");

    // The routes that are not pages answer as they should, in no language.
    let r = same_session(&bidder, "ko", None)
        .get(&format!("/notifications/{note}"))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // An error page says which language it is in and shows no missing key.
    for lang in ["ko", "en"] {
        let (status, html) = app
            .client_speaking(Some(lang))
            .get_html("/auctions/999999")
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(missing_keys(&html).is_empty(), "{lang}: {html}");
    }
    assert!(NOT_PAGES.len() >= 10);
    app.assert_audit_clean();
}

fn bidder_id(app: &TestApp) -> i64 {
    app.user_id("bidder")
}

async fn each_live_socket_gets_its_fragments_in_its_own_language(db: Db) {
    let app = spawn_app(db).await;
    let seller = neighbour(&app, "seller", "김판매", "0").await;
    let bidder = neighbour(&app, "bidder", "박입찰", "100000").await;
    let mut l = Listing::new("전기 자전거");
    l.national = true;
    let id = app.list(&seller, &l).await;
    let url: reqwest::Url = app.address.parse().expect("url");

    // Two visitors on the same auction: one chose Korean with the toggle, one sends English.
    let ko = app.client_speaking(Some("en"));
    ko.jar.add_cookie_str("lang=ko", &url);
    let en = app.client_speaking(Some("en"));
    let mut ko_ws = ko.ws(id).await;
    let mut en_ws = en.ws(id).await;
    let first_ko = expect_frame(&mut ko_ws, "state", "현재가").await;
    assert!(!first_ko.contains("Current price"), "{first_ko}");
    let first_en = expect_frame(&mut en_ws, "state", "Current price").await;
    assert!(!first_en.contains("현재가"), "{first_en}");

    // A bid: the same change, each in its own language and money.
    app.bid(&bidder, id, 12_000).await;
    // (One bidder's maximum of 12,000: the price stays at the start, 10,000.)
    let ko_frame = expect_frame(&mut ko_ws, "state", "입찰 1건").await;
    assert!(ko_frame.contains("10,000원"), "{ko_frame}");
    assert!(
        ko_frame.contains("방금 전"),
        "the bid's time, relative: {ko_frame}"
    );
    assert!(!ko_frame.contains("₩10,000"), "{ko_frame}");
    let en_frame = expect_frame(&mut en_ws, "state", "1 bid").await;
    assert!(en_frame.contains("₩10,000"), "{en_frame}");
    assert!(en_frame.contains("just now"), "{en_frame}");
    assert!(missing_keys(&ko_frame).is_empty() && missing_keys(&en_frame).is_empty());

    // The member socket: a member who saved Korean gets the header in Korean even though the
    // socket's request asks for English; one who did not gets English.
    toggle(&app, &bidder, "ko", "/").await;
    let saved = same_session(&bidder, "en", None);
    let mut me = saved.me_ws().await;
    let bar = expect_frame(&mut me, "me", "알림").await;
    assert!(
        bar.contains("88,000원"),
        "the wallet chip in Korean money: {bar}"
    );
    // Her watchlist's rows too.
    let r = app
        .post(
            &bidder,
            &format!("/auctions/{id}/watch"),
            &[("watch", "on"), ("next", "/")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mut rows = saved.watchlist_ws().await;
    let row = expect_frame(&mut rows, "watch", "관심 해제").await;
    assert!(
        row.contains("10,000원") && !row.contains("Unwatch"),
        "{row}"
    );
    let mut me_en = seller.me_ws().await;
    let bar = expect_frame(&mut me_en, "me", "Notifications").await;
    assert!(bar.contains("₩0"), "{bar}");
    app.assert_audit_clean();
}

/// The issue's own test of done: a Korean neighbour (a browser that sends nothing but Korean)
/// finds a listing, asks the seller a question, wins it, chats about the pickup, confirms
/// receipt and leaves a review, and no page on the way, nor any answer to a mistake, shows an
/// English word, a missing key or English money.
async fn a_korean_neighbour_finds_asks_wins_chats_and_reviews_without_a_word_of_english(db: Db) {
    let app = spawn_app(db).await;
    let seller = signed_up(app.client_speaking(Some("ko")), "seller", "김판매").await;
    let me = signed_up(app.client_speaking(Some("ko")), "buyer", "이구매").await;
    assert_eq!(me.top_up("100000").await.status(), StatusCode::SEE_OTHER);
    let typed: Vec<String> = ["seller", "buyer"].map(str::to_owned).into();
    let mut seen = 0;
    let mut look = |path: &str, html: &str| {
        assert_eq!(html_lang(html), "ko", "{path}");
        let missing = missing_keys(html);
        assert!(missing.is_empty(), "{path}: {missing:?}");
        let stray = stray_english(html, &typed);
        assert!(stray.is_empty(), "English on {path}: {stray:?}");
        if let Some(at) = html.find('₩') {
            let from = html[..at]
                .char_indices()
                .rev()
                .nth(80)
                .map_or(0, |(i, _)| i);
            panic!(
                "{path}: money written the English way: …{}",
                &html[from..at + 20]
            );
        }
        seen += 1;
    };

    let mut l = Listing::new("캠핑 의자 두 개");
    l.ends_at = crate::helpers::local_in(10);
    let id = app.list(&seller, &l).await;
    // Find it by searching.
    let (status, html) = me.get_html("/auctions?q=캠핑").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("/auctions/{id}")), "found by search");
    look("/auctions?q=캠핑", &html);
    let (_, html) = me.get_html(&format!("/auctions/{id}")).await;
    look("the auction", &html);
    // Ask the seller a question.
    let r = app.post(&me, &format!("/auctions/{id}/chat"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let chat = r.headers()["location"].to_str().unwrap().to_owned();
    let r = app
        .post(
            &me,
            &format!("{chat}/messages"),
            &[("body", "접으면 크기가 얼마나 되나요?")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = seller.get_html(&chat).await;
    assert!(html.contains("접으면 크기가 얼마나 되나요?"));
    look("the seller's chat", &html);
    let r = app
        .post(
            &seller,
            &format!("{chat}/messages"),
            &[("body", "가방 크기 정도예요.")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A mistake first (too low), then the bid.
    let (status, html) = app.bid(&me, id, 1).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    look("a refused bid", &html);
    let (status, _) = app.bid(&me, id, 10_000).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = me.get_html(&format!("/auctions/{id}")).await;
    look("the auction after the bid (its flash)", &html);
    // Won when it ends; the chat shows the trade and its buttons.
    assert_eq!(app.wait_closed(id).await, "sold");
    let (_, html) = me.get_html(&chat).await;
    assert!(
        html.contains("chat-trade"),
        "the trade at the top of the chat"
    );
    look("the chat after the win", &html);
    let r = app
        .post(
            &me,
            &format!("{chat}/messages"),
            &[("body", "내일 저녁 7시에 받으러 갈게요.")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for path in ["/notifications", "/chats", "/me/bids", "/wallet"] {
        let (status, html) = me.get_html(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        look(path, &html);
    }
    // Picked up: confirm receipt, then review the seller.
    assert_eq!(
        app.confirm_auction_trade(&me, id).await,
        StatusCode::SEE_OTHER
    );
    let (trade, status) = app.auction_trade(id).expect("a trade");
    assert_eq!(status, "confirmed");
    let r = app
        .post(
            &me,
            &format!("/trades/{trade}/review"),
            &[("rating", "5"), ("comment", "친절하게 설명해 주셨어요.")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let seller_id = app.user_id("seller");
    let (_, html) = me.get_html(&format!("/users/{seller_id}")).await;
    assert!(html.contains("친절하게 설명해 주셨어요."));
    look("the seller's profile with the review", &html);
    // A second review is refused, in Korean.
    let r = app
        .post(
            &me,
            &format!("/trades/{trade}/review"),
            &[("rating", "1"), ("comment", "다시")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    look("a second review", &r.text().await.unwrap());
    assert!(seen >= 12, "{seen} pages read");
    app.assert_audit_clean();
}
