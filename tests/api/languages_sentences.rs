//! Every sentence built in Rust in the reader's language (issue 14 item 1): a refused bid, a
//! form's reasons, the error pages (404, 403, CSRF), a flash, the notifications (list and the
//! member socket's toast) and the live panel's refusals read in Korean for a Korean neighbour,
//! with money as `N원`; the same steps in English read exactly as before; no missing key shows
//! in either language.

use reqwest::StatusCode;

use crate::helpers::{
    both_databases, expect_frame, send_text, spawn_app, Browser, Db, Listing, TestApp,
};

both_databases!(
    a_refused_bid_reads_in_korean_with_the_amount_in_won_and_in_english_as_before,
    a_form_with_several_bad_fields_lists_every_reason_in_korean,
    error_pages_not_found_forbidden_and_an_expired_form_speak_korean,
    a_flash_after_a_successful_step_is_written_in_the_language_of_the_page_showing_it,
    notifications_and_their_live_toast_read_in_the_members_language,
    the_live_panel_refuses_in_the_sockets_language,
);

/// A missing key as rust-i18n shows it (`ko.err.something`, `en.flash.something`).
fn missing_keys(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for prefix in ["ko.", "en."] {
        for (i, _) in text.match_indices(prefix) {
            if text[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
            {
                continue;
            }
            let rest: String = text[i + 3..]
                .chars()
                .take_while(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '.'
                })
                .collect();
            if rest.contains('.') && rest.len() > 2 {
                found.push(format!("{prefix}{rest}"));
            }
        }
    }
    found
}

/// A sentence key left as it is (a key rust-i18n did not find reads as itself: `err.some.thing`).
fn raw_keys(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for prefix in [
        "err.", "flash.", "notice.", "words.", "rule.", "span.", "field.", "wait.",
    ] {
        for (i, _) in text.match_indices(prefix) {
            if text[..i].chars().next_back().is_some_and(|c| {
                c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' || c == '/'
            }) {
                continue;
            }
            let rest: String = text[i + prefix.len()..]
                .chars()
                .take_while(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '.'
                })
                .collect();
            if rest.len() > 2 {
                found.push(format!("{prefix}{rest}"));
            }
        }
    }
    found
}

fn assert_no_missing_key(text: &str) {
    let mut missing = missing_keys(text);
    missing.extend(raw_keys(text));
    assert!(
        missing.is_empty(),
        "missing keys {missing:?} in {text:.400}"
    );
}

/// A Korean neighbour: a browser asking for Korean, signed up (and so logged in).
async fn korean(app: &TestApp, username: &str) -> Browser {
    let b = app.client_speaking(Some("ko"));
    b.sign_up(username).await;
    b
}

/// Choose Korean with the header's toggle (the cookie the member's sockets follow too).
async fn toggle_korean(b: &Browser) {
    let r = b.post("/lang", &[("lang", "ko"), ("back", "/")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

fn national(title: &str) -> Listing {
    let mut l = Listing::new(title);
    l.national = true;
    l
}

async fn a_refused_bid_reads_in_korean_with_the_amount_in_won_and_in_english_as_before(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let id = app.list(&seller, &Listing::new("Lamp")).await;
    let minji = korean(&app, "minji").await;
    assert_eq!(minji.top_up("100000").await.status(), StatusCode::SEE_OTHER);
    let english = app.funded("jane", 100_000).await;

    // Too low: the same rule, each in its own language, money as each writes it.
    let (status, page) = minji.bid(id, 5_000).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("입찰가는 10,000원 이상이어야 해요."),
        "{page:.3000}"
    );
    assert!(!page.contains("Your bid must be"), "no English reason");
    // The page's rules, built in Rust, in Korean too.
    assert!(
        page.contains("입찰은 1,000원 단위로 올라가요(판매자가 정한 단위)."),
        "{page:.3000}"
    );
    assert!(page.contains("구매자 보호: 낙찰자의 돈은"), "{page:.3000}");
    assert_no_missing_key(&page);
    let (status, page) = app.bid(&english, id, 5_000).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("Your bid must be at least ₩10,000."),
        "{page:.3000}"
    );
    assert!(page.contains("Bids go up in steps of ₩1,000 (the seller&#39;s unit)."));
    assert_no_missing_key(&page);

    // Not a multiple of the unit; more than the wallet holds.
    let (status, page) = minji.bid(id, 10_500).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("입찰은 1,000원 단위로 올라가요: 1,000원의 배수로 입력해 주세요."),
        "{page:.3000}"
    );
    let (status, page) = minji.bid(id, 500_000).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("쓸 수 있는 돈은 100,000원인데 이 입찰에는 500,000원이 필요해요."),
        "{page:.3000}"
    );
    // A typed amount that is not one.
    let token = minji.csrf().await;
    let (status, page) = minji.bid_with(&token, id, "lots").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("금액은 12000이나 12,000처럼"), "{page:.3000}");
    let (_, page) = english.bid_with(&english.csrf().await, id, "lots").await;
    assert!(page.contains("Enter the amount as a whole number of won, like 12000 or 12,000."));

    // Nothing moved.
    assert!(app.bid_amounts(id).is_empty());
    assert_eq!(app.wallet(&english).await, (100_000, 0));
    app.assert_audit_clean();
}

async fn a_form_with_several_bad_fields_lists_every_reason_in_korean(db: Db) {
    let app = spawn_app(db).await;
    let fields = [
        ("username", "1x"),
        ("password", "short"),
        ("password_confirm", "other"),
        ("display_name", ""),
        ("region_id", ""),
    ];
    let minji = app.client_speaking(Some("ko"));
    let r = minji.post("/signup", &fields).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap_or_default();
    for reason in [
        "아이디는 3~20자로",
        "표시 이름을 입력해 주세요.",
        "비밀번호가 너무 약해요: 8자 이상으로 정해 주세요.",
        "목록에서 내 동네를 골라 주세요.",
    ] {
        assert!(page.contains(reason), "{reason} in {page:.4000}");
    }
    assert!(!page.contains("Enter a display name."));
    assert_no_missing_key(&page);

    let jane = app.client();
    let r = jane.post("/signup", &fields).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap_or_default();
    for reason in [
        "Username must be 3–20 characters: letters a–z, digits and _, starting with a letter.",
        "Enter a display name.",
        "Password is too weak: use at least 8 characters.",
        "Choose your neighbourhood from the list.",
    ] {
        assert!(page.contains(reason), "{reason} in {page:.4000}");
    }
    assert_no_missing_key(&page);

    // A listing with several bad fields, in Korean: every reason, money as 원.
    let seller = korean(&app, "seller").await;
    let mut l = Listing::new("");
    l.start_price = "abc".into();
    l.ends_at = "tomorrow".into();
    let r = seller.post_listing(&l, None).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap_or_default();
    for reason in [
        "제목을 입력해 주세요.",
        "시작가: 금액은 12000이나 12,000처럼 원 단위 숫자로 입력해 주세요.",
        "마감 시간: 2026-12-24T18:00처럼 날짜와 시간을 입력해 주세요.",
    ] {
        assert!(page.contains(reason), "{reason} in {page:.4000}");
    }
    assert_no_missing_key(&page);
    app.assert_audit_clean();
}

async fn error_pages_not_found_forbidden_and_an_expired_form_speak_korean(db: Db) {
    let app = spawn_app(db).await;
    let minji = korean(&app, "minji").await;
    let jane = app.sign_up("jane").await;

    // 404.
    let (status, page) = minji.get_html("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("페이지를 찾을 수 없어요"), "{page:.2000}");
    assert!(
        page.contains("이 주소에는 아무것도 없어요."),
        "{page:.2000}"
    );
    assert!(page.contains("<html lang=\"ko\""), "{page:.300}");
    assert!(!page.contains("Page not found"));
    assert_no_missing_key(&page);
    let (status, page) = minji.get_html("/auctions/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("페이지를 찾을 수 없어요"), "{page:.2000}");
    let (status, page) = jane.get_html("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Page not found"));
    assert!(page.contains(
        "There is nothing at this address. It may have been removed, or the link is wrong."
    ));
    assert_no_missing_key(&page);

    // 403: an admin page for a member.
    let (status, page) = minji.get_html("/admin/auctions").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("허용되지 않아요"), "{page:.2000}");
    assert!(
        page.contains("관리자만 볼 수 있는 페이지예요."),
        "{page:.2000}"
    );
    assert_no_missing_key(&page);
    let (status, page) = jane.get_html("/admin/auctions").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("Not allowed") && page.contains("This page is for administrators."));

    // A form without its token (refused before any handler): 403 in Korean, nothing changed.
    let seller = app.sign_up("seller").await;
    let id = app.list(&seller, &Listing::new("Lamp")).await;
    let r = minji
        .post_raw(&format!("/auctions/{id}/bids"), &[("amount", "20000")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let page = r.text().await.unwrap_or_default();
    assert!(page.contains("양식 만료"), "{page:.2000}");
    assert!(
        page.contains("보안 토큰이 없거나 오래됐어요"),
        "{page:.2000}"
    );
    assert!(!page.contains("Form expired"));
    assert_no_missing_key(&page);
    let r = jane
        .post_raw(
            &format!("/auctions/{id}/bids"),
            &[("amount", "20000"), ("csrf_token", "forged")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let page = r.text().await.unwrap_or_default();
    assert!(page.contains("Form expired"), "{page:.2000}");
    assert!(page.contains(
        "security token is missing or out of date. Go back, reload the page and try again."
    ));
    assert!(app.bid_amounts(id).is_empty());

    // The toggle's cookie wins over the header for an error page too.
    let (status, page) = minji.get_html("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let r = minji.post("/lang", &[("lang", "en"), ("back", "/")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, english_page) = minji.get_html("/no/such/page").await;
    assert!(page.contains("페이지를 찾을 수 없어요"));
    assert!(
        english_page.contains("Page not found"),
        "{english_page:.2000}"
    );
    app.assert_audit_clean();
}

async fn a_flash_after_a_successful_step_is_written_in_the_language_of_the_page_showing_it(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let id = app.list(&seller, &Listing::new("Lamp")).await;
    let minji = korean(&app, "minji").await;
    // The welcome flash after signing up shows on the next page.
    let (_, home) = minji.get_html("/").await;
    assert!(
        home.contains("NeighborBid에 오신 걸 환영해요! 지갑이 준비됐어요."),
        "{home:.3000}"
    );
    assert_no_missing_key(&home);
    assert_eq!(minji.top_up("50000").await.status(), StatusCode::SEE_OTHER);
    let (_, wallet) = minji.get_html("/wallet").await;
    assert!(
        wallet.contains("지갑에 50,000원을 충전했어요."),
        "{wallet:.3000}"
    );

    let (status, _) = minji.bid(id, 12_000).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = minji.get_html(&format!("/auctions/{id}")).await;
    assert!(
        page.contains("10,000원으로 최고 입찰자예요. 최대 12,000원이 보관되고, 그 금액까지 사이트가 대신 입찰해요."),
        "{page:.4000}"
    );
    assert_no_missing_key(&page);

    // The flash waits in the session as a sentence in no language: the page showing it decides.
    // (Bid in English, then switch to Korean with no page shown between.)
    let jane = app.funded("jane", 50_000).await;
    let token = jane.csrf().await;
    assert_eq!(
        jane.bid_with(&token, id, "11000").await.0,
        StatusCode::SEE_OTHER
    );
    let r = jane
        .post_raw(
            "/lang",
            &[("lang", "ko"), ("back", "/"), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = jane.get_html(&format!("/auctions/{id}")).await;
    assert!(
        page.contains(
            "다른 입찰자의 최대 금액이 더 높아서 바로 상위 입찰됐어요. 지금 가격은 12,000원이에요."
        ),
        "{page:.4000}"
    );
    let english = app.funded("bora", 50_000).await;
    assert_eq!(app.bid(&english, id, 20_000).await.0, StatusCode::SEE_OTHER);
    let (_, page) = english.get_html(&format!("/auctions/{id}")).await;
    assert!(
        page.contains(
            "You lead at ₩13,000. Your maximum of ₩20,000 is held; the site bids for you up to it."
        ),
        "{page:.4000}"
    );
    assert_no_missing_key(&page);
    app.assert_audit_clean();
}

async fn notifications_and_their_live_toast_read_in_the_members_language(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let id = app.list(&seller, &Listing::new("Radio")).await;
    let minji = korean(&app, "minji").await;
    assert_eq!(minji.top_up("100000").await.status(), StatusCode::SEE_OTHER);
    let jane = app.funded("jane", 100_000).await;
    let bora = app.funded("bora", 100_000).await;
    assert_eq!(minji.bid(id, 10_000).await.0, StatusCode::SEE_OTHER);
    toggle_korean(&minji).await;
    let mut ws = minji.me_ws().await;
    expect_frame(&mut ws, "me", "unread-count").await;

    assert_eq!(app.bid(&jane, id, 11_000).await.0, StatusCode::SEE_OTHER);
    let toast = expect_frame(
        &mut ws,
        "notification",
        "‘Radio’에 상위 입찰이 들어왔어요: 지금 가격은 11,000원이에요.",
    )
    .await;
    assert_no_missing_key(&toast);
    let (status, list) = minji.get_html("/notifications").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list.contains("‘Radio’에 상위 입찰이 들어왔어요: 지금 가격은 11,000원이에요. 보관된 돈은 지갑으로 돌려드렸어요."),
        "{list:.4000}"
    );
    assert!(!list.contains("You were outbid"));
    assert_no_missing_key(&list);

    // The same notice in English, word for word as before (list and toast).
    let mut theirs = jane.me_ws().await;
    expect_frame(&mut theirs, "me", "unread-count").await;
    assert_eq!(app.bid(&bora, id, 13_000).await.0, StatusCode::SEE_OTHER);
    let toast = expect_frame(
        &mut theirs,
        "notification",
        "You were outbid on “Radio”: the price is now ₩12,000. Your hold was released to your wallet.",
    )
    .await;
    assert_no_missing_key(&toast);
    let (_, list) = app.get_html(&jane, "/notifications").await;
    assert!(list.contains(
        "You were outbid on “Radio”: the price is now ₩12,000. Your hold was released to your wallet."
    ));
    app.assert_audit_clean();
}

async fn the_live_panel_refuses_in_the_sockets_language(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let id = app.list(&seller, &national("Desk")).await;
    let minji = korean(&app, "minji").await;
    assert_eq!(minji.top_up("100000").await.status(), StatusCode::SEE_OTHER);
    toggle_korean(&minji).await;
    let mut ws = minji.ws(id).await;
    expect_frame(&mut ws, "state", "").await;

    send_text(&mut ws, r#"{"type":"bid","amount":"5000"}"#).await;
    let refusal = expect_frame(&mut ws, "error", "입찰가는 10,000원 이상이어야 해요.").await;
    assert_no_missing_key(&refusal);
    send_text(&mut ws, r#"{"type":"bid","amount":"10500"}"#).await;
    expect_frame(&mut ws, "error", "1,000원의 배수로 입력해 주세요.").await;
    send_text(&mut ws, r#"{"type":"nonsense"}"#).await;
    expect_frame(&mut ws, "error", "메시지를 이해하지 못했어요.").await;
    send_text(&mut ws, r#"{"type":"bid","amount":"10000"}"#).await;
    expect_frame(&mut ws, "ack", "10,000원 입찰로 최고 입찰자예요.").await;

    // A visitor who chose Korean, not logged in.
    let visitor = app.client_speaking(Some("ko"));
    toggle_korean(&visitor).await;
    let mut anon = visitor.ws(id).await;
    expect_frame(&mut anon, "state", "").await;
    send_text(&mut anon, r#"{"type":"bid","amount":"20000"}"#).await;
    expect_frame(&mut anon, "error", "입찰하려면 로그인해 주세요.").await;

    // English, as before.
    let jane = app.funded("jane", 100_000).await;
    let mut theirs = jane.ws(id).await;
    expect_frame(&mut theirs, "state", "").await;
    send_text(&mut theirs, r#"{"type":"bid","amount":"10000"}"#).await;
    expect_frame(&mut theirs, "error", "Your bid must be at least ₩11,000.").await;
    let anon_en = app.client();
    let mut anon_en = anon_en.ws(id).await;
    expect_frame(&mut anon_en, "state", "").await;
    send_text(&mut anon_en, r#"{"type":"bid","amount":"20000"}"#).await;
    expect_frame(&mut anon_en, "error", "Log in to bid.").await;

    assert_eq!(app.bid_amounts(id), vec![10_000]);
    app.assert_audit_clean();
}
