//! Korean first, English too (issue 14 item 1, the foundation): the page's language comes from
//! the toggle's cookie, else the member's saved choice, else `Accept-Language`, else Korean;
//! `<html lang>` says which; money is written as each language writes it; the pages translated
//! so far show no missing key in either language.

use reqwest::StatusCode;

use crate::helpers::{both_databases, spawn_app, Browser, Db, Listing, TestApp};

both_databases!(
    a_visitor_who_sends_no_language_gets_korean,
    accept_language_chooses_english_by_its_q_values,
    the_toggle_sets_a_cookie_that_wins_over_accept_language_and_comes_back_to_the_page,
    a_members_choice_follows_them_to_a_new_browser_after_login,
    money_is_written_as_each_language_writes_it,
    a_hostile_language_in_the_cookie_or_the_form_is_ignored,
    the_translated_pages_show_no_missing_key_in_either_language,
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

fn location(r: &reqwest::Response) -> String {
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
