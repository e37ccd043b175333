//! 1:1 chat (issue 14 item 3): "채팅하기 / Chat" on every auction and product opens one
//! conversation per (listing, neighbour) with the seller; messages are kept and shown in order
//! to both sides, live over the member socket; unread counts in `/chats` and the header; one
//! notification per conversation while unread; only the two sides (and an admin handling the
//! trade's dispute, reading only) see it; plain text, 1–1000 characters, rate-limited; blocks.

use std::time::Duration;

use diesel::prelude::*;
use reqwest::StatusCode;

use crate::helpers::{
    both_databases, connect_me_to, expect_frame, next_frame, spawn_app, spawn_app_with, Browser,
    Db, Listing, TestApp,
};
use crate::market::{act, list_product, trade_ids};

both_databases!(
    a_neighbour_opens_one_chat_per_listing_from_an_auction_and_a_product_even_when_asking_at_once,
    a_seller_cannot_chat_about_their_own_listing_and_a_visitor_sees_no_chat_button,
    messages_are_kept_and_shown_in_order_to_both_sides_and_listed_newest_first,
    unread_counts_in_the_list_and_the_header_go_up_and_down_and_one_notification_per_chat,
    a_third_person_cannot_read_or_write_a_chat_and_a_visitor_is_sent_to_log_in,
    an_admin_reads_the_chat_of_a_disputed_trade_but_not_of_an_undisputed_one_and_never_writes,
    hostile_messages_are_refused_with_the_reason_or_shown_as_plain_text,
    a_member_sending_messages_too_fast_is_told_to_wait_and_nothing_is_stored,
    a_blocked_member_can_neither_open_a_chat_nor_write_and_the_blocker_can_unblock,
    a_message_arrives_live_on_the_other_sides_open_chat_page_and_header,
    the_trade_and_its_buttons_show_at_the_top_of_the_chat_after_a_win_or_a_purchase,
    the_chat_pages_speak_korean,
    a_long_conversation_shows_its_newest_messages_and_the_older_ones_a_link_away,
    messages_sent_at_once_are_all_kept_and_make_one_notification,
);

// ---------------------------------------------------------------- helpers

/// "채팅하기" on `/auctions/{id}` or `/market/{id}` (`kind`: `auctions` or `market`): the
/// answer.
async fn open_chat(app: &TestApp, b: &Browser, kind: &str, id: i64) -> reqwest::Response {
    app.post(b, &format!("/{kind}/{id}/chat"), &[]).await
}

/// The chat id an open answered with (303 to `/chats/{id}`).
fn chat_id_of(r: &reqwest::Response) -> i64 {
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap();
    location
        .strip_prefix("/chats/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("a chat address: {location}"))
}

async fn chat_with(app: &TestApp, b: &Browser, kind: &str, id: i64) -> i64 {
    chat_id_of(&open_chat(app, b, kind, id).await)
}

async fn say(app: &TestApp, b: &Browser, chat: i64, body: &str) -> reqwest::Response {
    app.post(b, &format!("/chats/{chat}/messages"), &[("body", body)])
        .await
}

/// The bodies of the messages a chat page shows, in page order.
fn bodies(html: &str) -> Vec<String> {
    html.match_indices("<p class=\"chat-body\">")
        .map(|(at, m)| {
            let rest = &html[at + m.len()..];
            rest[..rest.find("</p>").unwrap()].to_owned()
        })
        .collect()
}

/// HTML with numeric character references (`&#60;`) written as named ones (`&lt;`), and
/// quotes as themselves: one spelling to look for, whichever the escaper chose.
fn named(html: &str) -> String {
    html.replace("&#60;", "&lt;")
        .replace("&#62;", "&gt;")
        .replace("&#38;", "&amp;")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
}

/// Messages stored in `chat`, oldest first: (sender, body).
fn stored(app: &TestApp, chat: i64) -> Vec<(i64, String)> {
    use neighborbid::db::schema::chat_messages as m;
    m::table
        .filter(m::chat_id.eq(chat))
        .order(m::id.asc())
        .select((m::sender_id, m::body))
        .load(&mut app.raw_connection())
        .expect("messages")
}

fn chat_count(app: &TestApp) -> i64 {
    use neighborbid::db::schema::chats as c;
    c::table
        .count()
        .get_result(&mut app.raw_connection())
        .expect("chats")
}

fn message_count(app: &TestApp) -> i64 {
    use neighborbid::db::schema::chat_messages as m;
    m::table
        .count()
        .get_result(&mut app.raw_connection())
        .expect("messages")
}

/// (read?) of each chat notification of `username`, oldest first.
fn chat_notes(app: &TestApp, username: &str) -> Vec<bool> {
    use neighborbid::db::schema::notifications as n;
    let user = app.user_id(username);
    n::table
        .filter(n::user_id.eq(user))
        .filter(n::kind.eq("chat_message"))
        .order(n::id.asc())
        .select(n::read_at.is_not_null())
        .load(&mut app.raw_connection())
        .expect("notifications")
}

/// The number a badge shows (`0` when hidden), found by its element id.
fn badge(html: &str, id: &str) -> i64 {
    let marker = format!("id=\"{id}\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{id} on the page"));
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    rest[start..start + rest[start..].find('<').unwrap()]
        .trim()
        .parse()
        .unwrap()
}

async fn header_chats(app: &TestApp, b: &Browser) -> i64 {
    let (_, html) = app.get_html(b, "/").await;
    badge(&html, "chat-unread-count")
}

/// The unread count `/chats` shows on the line of `chat` (0 when none).
async fn listed_unread(app: &TestApp, b: &Browser, chat: i64) -> i64 {
    let (status, html) = app.get_html(b, "/chats").await;
    assert_eq!(status, StatusCode::OK);
    let at = html
        .find(&format!("data-chat-id=\"{chat}\""))
        .unwrap_or_else(|| panic!("chat {chat} in /chats: {html}"));
    let line = &html[at..at + html[at..].find("</li>").unwrap()];
    match line.find("chat-unread") {
        Some(i) => {
            let rest = &line[i..];
            let start = rest.find('>').unwrap() + 1;
            rest[start..start + rest[start..].find('<').unwrap()]
                .parse()
                .unwrap()
        }
        None => 0,
    }
}

/// A seller with one auction and one product, and a neighbour.
async fn seller_and_neighbour(app: &TestApp) -> (Browser, Browser, i64, i64) {
    let seller = app.sign_up("seller").await;
    let neighbour = app.sign_up("minji").await;
    let auction = app.list(&seller, &Listing::new("Radio")).await;
    let product = list_product(app, &seller, "Kettle", "15000", "1").await;
    (seller, neighbour, auction, product)
}

// ---------------------------------------------------------------- opening

async fn a_neighbour_opens_one_chat_per_listing_from_an_auction_and_a_product_even_when_asking_at_once(
    db: Db,
) {
    let app = spawn_app(db).await;
    let (_seller, neighbour, auction, product) = seller_and_neighbour(&app).await;
    let (_, page) = app
        .get_html(&neighbour, &format!("/auctions/{auction}"))
        .await;
    assert!(
        page.contains(&format!("action=\"/auctions/{auction}/chat\"")),
        "the Chat button on the auction"
    );
    let (_, page) = app
        .get_html(&neighbour, &format!("/market/{product}"))
        .await;
    assert!(
        page.contains(&format!("action=\"/market/{product}/chat\"")),
        "the Chat button on the product"
    );

    let first = chat_with(&app, &neighbour, "auctions", auction).await;
    let again = chat_with(&app, &neighbour, "auctions", auction).await;
    assert_eq!(first, again, "the same conversation");
    let (status, page) = app.get_html(&neighbour, &format!("/chats/{first}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Radio"), "the listing at the top");

    // Eight opens of the product at once make one conversation.
    let token = app.csrf(&neighbour).await;
    let path = format!("/market/{product}/chat");
    let fields = [("csrf_token", token.as_str())];
    let opens = (0..8).map(|_| neighbour.post_raw(&path, &fields));
    let ids: Vec<i64> = futures_util::future::join_all(opens)
        .await
        .iter()
        .map(chat_id_of)
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_ne!(ids[0], first, "one per listing");
    assert_eq!(chat_count(&app), 2);

    // Unknown listings: 404, nothing made.
    assert_eq!(
        open_chat(&app, &neighbour, "auctions", 9999).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        open_chat(&app, &neighbour, "market", 9999).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(chat_count(&app), 2);
}

async fn a_seller_cannot_chat_about_their_own_listing_and_a_visitor_sees_no_chat_button(db: Db) {
    let app = spawn_app(db).await;
    let (seller, _neighbour, auction, product) = seller_and_neighbour(&app).await;
    let (_, page) = app.get_html(&seller, &format!("/auctions/{auction}")).await;
    assert!(!page.contains("/chat\""), "no Chat button for the seller");
    let r = open_chat(&app, &seller, "auctions", auction).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("This is your own listing"));
    let r = open_chat(&app, &seller, "market", product).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("This is your own listing"));
    assert_eq!(chat_count(&app), 0);

    let visitor = app.client();
    let (_, page) = app.get_html(&visitor, &format!("/market/{product}")).await;
    assert!(!page.contains("/chat\""), "no Chat button for a visitor");
    let token = app.csrf(&visitor).await;
    let r = visitor
        .post_raw(
            &format!("/market/{product}/chat"),
            &[("csrf_token", token.as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("/login"), "{location}");
    assert!(
        location.contains(&format!("market%2F{product}"))
            || location.contains(&format!("market/{product}")),
        "back to the product after logging in: {location}"
    );
    assert!(!location.contains("chat"), "{location}");
    assert_eq!(chat_count(&app), 0);
}

// ---------------------------------------------------------------- messages

async fn messages_are_kept_and_shown_in_order_to_both_sides_and_listed_newest_first(db: Db) {
    let app = spawn_app(db).await;
    let (seller, neighbour, auction, product) = seller_and_neighbour(&app).await;
    let chat = chat_with(&app, &neighbour, "market", product).await;
    let older = chat_with(&app, &neighbour, "auctions", auction).await;
    assert_eq!(
        say(&app, &neighbour, older, "About the radio")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    for (who, text) in [
        (&neighbour, "Hello, is the kettle still for sale?"),
        (&seller, "Yes, it is."),
        (&neighbour, "Great, see you at 6\nat the station"),
    ] {
        let r = say(&app, who, chat, text).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with(&format!("/chats/{chat}#message-")));
    }
    let want = vec![
        "Hello, is the kettle still for sale?".to_owned(),
        "Yes, it is.".to_owned(),
        "Great, see you at 6\nat the station".to_owned(),
    ];
    for b in [&seller, &neighbour] {
        let (status, page) = app.get_html(b, &format!("/chats/{chat}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(bodies(&page), want, "in order, line break kept");
    }
    let (_, page) = app.get_html(&seller, &format!("/chats/{chat}")).await;
    assert!(page.contains("class=\"chat-message mine\""));
    assert!(page.contains("class=\"chat-message theirs\""));
    let ids: Vec<i64> = stored(&app, chat).iter().map(|(s, _)| *s).collect();
    let (s, n) = (app.user_id("seller"), app.user_id("minji"));
    assert_eq!(ids, vec![n, s, n]);

    // /chats: newest activity first, with the other person linked and the last message.
    let (_, list) = app.get_html(&seller, "/chats").await;
    let kettle = list.find(&format!("data-chat-id=\"{chat}\"")).unwrap();
    let radio = list.find(&format!("data-chat-id=\"{older}\"")).unwrap();
    assert!(kettle < radio, "newest activity first");
    assert!(list.contains(&format!("href=\"/users/{n}\"")));
    assert!(list.contains("Kettle") && list.contains("Great, see you at 6"));
    let (_, list) = app.get_html(&neighbour, "/chats").await;
    assert!(list.contains(&format!("href=\"/users/{s}\"")));
}

async fn unread_counts_in_the_list_and_the_header_go_up_and_down_and_one_notification_per_chat(
    db: Db,
) {
    let app = spawn_app(db).await;
    let (seller, neighbour, auction, product) = seller_and_neighbour(&app).await;
    let chat = chat_with(&app, &neighbour, "market", product).await;
    assert_eq!(header_chats(&app, &seller).await, 0);
    say(&app, &neighbour, chat, "one").await;
    say(&app, &neighbour, chat, "two").await;
    assert_eq!(
        header_chats(&app, &seller).await,
        1,
        "one conversation unread"
    );
    assert_eq!(listed_unread(&app, &seller, chat).await, 2, "two messages");
    assert_eq!(
        header_chats(&app, &neighbour).await,
        0,
        "the writer has read their own"
    );
    assert_eq!(
        chat_notes(&app, "seller"),
        vec![false],
        "one notification for both"
    );

    // A second conversation with unread messages: two in the header.
    let other = chat_with(&app, &neighbour, "auctions", auction).await;
    say(&app, &neighbour, other, "three").await;
    assert_eq!(header_chats(&app, &seller).await, 2);

    // Reading one: its count and its notification go.
    app.get_html(&seller, &format!("/chats/{chat}")).await;
    assert_eq!(listed_unread(&app, &seller, chat).await, 0);
    assert_eq!(header_chats(&app, &seller).await, 1);
    assert_eq!(chat_notes(&app, "seller"), vec![true, false]);
    // The notification leads to the conversation.
    let (_, notes) = app.get_html(&seller, "/notifications").await;
    assert!(
        notes.contains("You have a new chat message about “Radio”"),
        "{notes}"
    );

    // A new message after reading: a new notification, the count up again.
    say(&app, &neighbour, chat, "four").await;
    assert_eq!(listed_unread(&app, &seller, chat).await, 1);
    assert_eq!(chat_notes(&app, "seller"), vec![true, false, false]);
    // The seller answers: the neighbour's count goes up.
    say(&app, &seller, chat, "five").await;
    assert_eq!(header_chats(&app, &neighbour).await, 1);
    assert_eq!(listed_unread(&app, &neighbour, chat).await, 1);
    assert_eq!(
        listed_unread(&app, &seller, chat).await,
        0,
        "answering reads it"
    );
    app.get_html(&seller, &format!("/chats/{other}")).await;
    assert_eq!(header_chats(&app, &seller).await, 0);
}

async fn a_third_person_cannot_read_or_write_a_chat_and_a_visitor_is_sent_to_log_in(db: Db) {
    let app = spawn_app(db).await;
    let (_seller, neighbour, _auction, product) = seller_and_neighbour(&app).await;
    let chat = chat_with(&app, &neighbour, "market", product).await;
    say(&app, &neighbour, chat, "A secret meeting place").await;
    let stranger = app.sign_up("stranger").await;
    let (status, page) = app.get_html(&stranger, &format!("/chats/{chat}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!page.contains("A secret meeting place"));
    assert!(page.contains("Only the two people in a conversation"));
    let r = say(&app, &stranger, chat, "let me in").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, list) = app.get_html(&stranger, "/chats").await;
    assert!(!list.contains(&format!("data-chat-id=\"{chat}\"")));
    // The stranger's socket hears nothing of it.
    let mut ws = connect_me_to(
        &stranger.base,
        &format!("/me/live?chat={chat}&after=0"),
        Some(&stranger.jar),
        Some(&stranger.base),
    )
    .await
    .expect("the member socket opens");
    expect_frame(&mut ws, "me", "unread-count").await;
    assert!(next_frame(&mut ws, Duration::from_millis(300))
        .await
        .is_none());

    // Unknown conversation: 404.
    assert_eq!(
        app.get(&stranger, "/chats/9999").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        say(&app, &stranger, 9999, "hello").await.status(),
        StatusCode::NOT_FOUND
    );
    // Logged out: to the login page.
    let visitor = app.client();
    for path in ["/chats".to_owned(), format!("/chats/{chat}")] {
        let r = app.get(&visitor, &path).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login"));
    }
    let r = say(&app, &visitor, chat, "hi").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));
    assert_eq!(stored(&app, chat).len(), 1, "nothing else stored");
}

async fn an_admin_reads_the_chat_of_a_disputed_trade_but_not_of_an_undisputed_one_and_never_writes(
    db: Db,
) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let buyer = app.funded("minji", 100_000).await;
    let mut listing = Listing::new("Lamp");
    listing.buy_now_price = "20000".into();
    let auction = app.list(&seller, &listing).await;
    let product = list_product(&app, &seller, "Kettle", "15000", "1").await;
    let quiet = chat_with(&app, &buyer, "market", product).await;
    say(&app, &buyer, quiet, "Nothing to see").await;
    assert_eq!(app.buy_now(&buyer, auction).await.0, StatusCode::SEE_OTHER);
    let chat = chat_with(&app, &buyer, "auctions", auction).await;
    say(&app, &buyer, chat, "It arrived broken").await;
    let admin = app.admin("boss").await;

    let (trade, _) = app.auction_trade(auction).unwrap();
    assert_eq!(
        app.get(&admin, &format!("/chats/{chat}")).await.status(),
        StatusCode::FORBIDDEN,
        "not disputed yet"
    );
    let r = app
        .post(
            &buyer,
            &format!("/trades/{trade}/dispute"),
            &[("reason", "It arrived broken")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let (_, disputes) = app.get_html(&admin, "/admin/disputes").await;
    assert!(
        disputes.contains(&format!("href=\"/chats/{chat}\"")),
        "the disputes page links the chat"
    );
    let (status, page) = app.get_html(&admin, &format!("/chats/{chat}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bodies(&page), vec!["It arrived broken".to_owned()]);
    assert!(page.contains("admins cannot write here"));
    assert!(!page.contains("id=\"chat-form\""), "no form for the admin");
    assert_eq!(
        say(&app, &admin, chat, "Admin here").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&admin, &format!("/chats/{quiet}")).await.status(),
        StatusCode::FORBIDDEN,
        "an undisputed trade's chat stays private"
    );
    assert_eq!(stored(&app, chat).len(), 1);
    // Reading as an admin marks nothing read for the seller.
    assert_eq!(header_chats(&app, &seller).await, 2);
    app.assert_audit_clean();
}

// ---------------------------------------------------------------- hostile input and limits

async fn hostile_messages_are_refused_with_the_reason_or_shown_as_plain_text(db: Db) {
    let app = spawn_app(db).await;
    let (seller, neighbour, _auction, product) = seller_and_neighbour(&app).await;
    let chat = chat_with(&app, &neighbour, "market", product).await;

    for (body, reason) in [
        ("", "Write a message first."),
        ("   \n\t  ", "Write a message first."),
        ("a\u{0}b", "control or invisible"),
    ] {
        let r = say(&app, &neighbour, chat, body).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body:?}");
        assert!(r.text().await.unwrap().contains(reason), "{body:?}");
    }
    let long = "가".repeat(1001);
    let r = say(&app, &neighbour, chat, &long).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("at most 1000 characters"));
    assert!(page.contains(&long), "what was written is kept in the form");
    // A body far past any message: refused, never a 5xx.
    let status = say(&app, &neighbour, chat, &"x".repeat(200_000))
        .await
        .status();
    assert!(status.is_client_error(), "{status}");
    assert_eq!(message_count(&app), 0, "nothing stored");
    assert_eq!(
        say(&app, &neighbour, chat, &"가".repeat(1000))
            .await
            .status(),
        StatusCode::SEE_OTHER,
        "1000 characters fit"
    );

    let script = "<script>alert('x')</script> & <b>bold</b>";
    assert_eq!(
        say(&app, &neighbour, chat, script).await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, page) = app.get_html(&seller, &format!("/chats/{chat}")).await;
    assert!(!page.contains("<script>alert"), "never raw HTML");
    assert!(
        named(&page)
            .contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"),
        "shown as text"
    );
    let (_, list) = app.get_html(&seller, "/chats").await;
    assert!(!list.contains("<script>alert"));

    // No CSRF token, or a forged one: refused, nothing stored.
    let before = message_count(&app);
    let r = neighbour
        .post_raw(&format!("/chats/{chat}/messages"), &[("body", "forged")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = neighbour
        .post_raw(
            &format!("/chats/{chat}/messages"),
            &[("body", "forged"), ("csrf_token", "nope")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Nonsense ids.
    for path in ["/chats/abc", "/chats/-1", "/chats/99999999999999999999"] {
        let status = app.get(&neighbour, path).await.status();
        assert!(status.is_client_error(), "{path}: {status}");
    }
    let r = app
        .post(&neighbour, &format!("/chats/{chat}/messages"), &[])
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "no body field"
    );
    assert_eq!(message_count(&app), before);
}

async fn a_member_sending_messages_too_fast_is_told_to_wait_and_nothing_is_stored(db: Db) {
    let app = spawn_app_with(db, |s| s.chat_messages_per_minute = 3).await;
    let (_seller, neighbour, auction, product) = seller_and_neighbour(&app).await;
    let chat = chat_with(&app, &neighbour, "market", product).await;
    let other = chat_with(&app, &neighbour, "auctions", auction).await;
    for text in ["one", "two"] {
        assert_eq!(
            say(&app, &neighbour, chat, text).await.status(),
            StatusCode::SEE_OTHER
        );
    }
    assert_eq!(
        say(&app, &neighbour, other, "three").await.status(),
        StatusCode::SEE_OTHER
    );
    // The fourth in a minute, in either conversation: 429 with the reason.
    for c in [chat, other] {
        let r = say(&app, &neighbour, c, "four").await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("You are sending messages too fast: at most 3 a minute"));
    }
    assert_eq!(message_count(&app), 3);
}

async fn a_blocked_member_can_neither_open_a_chat_nor_write_and_the_blocker_can_unblock(db: Db) {
    let app = spawn_app(db).await;
    let (seller, neighbour, auction, product) = seller_and_neighbour(&app).await;
    let chat = chat_with(&app, &neighbour, "market", product).await;
    say(&app, &neighbour, chat, "hello").await;
    app.get_html(&seller, &format!("/chats/{chat}")).await;
    let n = app.user_id("minji");

    // Without a token: refused.
    let r = seller.post_raw(&format!("/users/{n}/block"), &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, profile) = app.get_html(&seller, &format!("/users/{n}")).await;
    assert!(profile.contains(&format!("action=\"/users/{n}/block\"")));
    let r = app.post(&seller, &format!("/users/{n}/block"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], format!("/users/{n}").as_str());
    // Twice is the same.
    let r = app
        .post(
            &seller,
            &format!("/users/{n}/block"),
            &[("next", &format!("/chats/{chat}"))],
        )
        .await;
    assert_eq!(r.headers()["location"], format!("/chats/{chat}").as_str());
    let (_, profile) = app.get_html(&seller, &format!("/users/{n}")).await;
    assert!(profile.contains(&format!("action=\"/users/{n}/unblock\"")));

    // The blocked member: no new conversation, no message; the seller hears nothing.
    let r = open_chat(&app, &neighbour, "auctions", auction).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Sorry, this member does not take messages from you."));
    let r = say(&app, &neighbour, chat, "why?").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Sorry, this member does not take messages from you."));
    assert_eq!(stored(&app, chat).len(), 1);
    assert_eq!(chat_count(&app), 1);
    assert_eq!(
        chat_notes(&app, "seller"),
        vec![true],
        "no new notification"
    );
    assert_eq!(header_chats(&app, &seller).await, 0);
    // The blocker's page says so and offers to unblock (no form to write).
    let (_, page) = app.get_html(&seller, &format!("/chats/{chat}")).await;
    assert!(page.contains("You blocked this member"));
    assert!(page.contains(&format!("action=\"/users/{n}/unblock\"")));
    assert!(!page.contains("id=\"chat-form\""));
    // Blocking oneself, or nobody: refused.
    let s = app.user_id("seller");
    assert_eq!(
        app.post(&seller, &format!("/users/{s}/block"), &[])
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.post(&seller, "/users/9999/block", &[]).await.status(),
        StatusCode::NOT_FOUND
    );

    // Unblocked: they write again.
    let r = app.post(&seller, &format!("/users/{n}/unblock"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        say(&app, &neighbour, chat, "thanks").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_ne!(chat_with(&app, &neighbour, "auctions", auction).await, chat);
    assert_eq!(header_chats(&app, &seller).await, 1);
}

// ---------------------------------------------------------------- live

async fn a_message_arrives_live_on_the_other_sides_open_chat_page_and_header(db: Db) {
    let app = spawn_app(db).await;
    let (seller, neighbour, auction, product) = seller_and_neighbour(&app).await;
    let chat = chat_with(&app, &neighbour, "market", product).await;
    say(&app, &neighbour, chat, "first").await;
    let first = stored(&app, chat).len();
    assert_eq!(first, 1);

    // The seller's chat page is open (after the first message); a header elsewhere too.
    let mut page = connect_me_to(
        &seller.base,
        &format!("/me/live?chat={chat}&after=0"),
        Some(&seller.jar),
        Some(&seller.base),
    )
    .await
    .expect("the chat page's socket");
    // On opening: what the page did not have yet.
    expect_frame(&mut page, "chat", "first").await;
    let mut header = seller.me_ws().await;
    expect_frame(&mut header, "me", "unread-count").await;

    let r = app
        .post(
            &neighbour,
            &format!("/chats/{chat}/messages"),
            &[("body", "<i>live</i> one")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = expect_frame(&mut page, "chat", "live").await;
    assert!(
        named(&html).contains("&lt;i&gt;live&lt;/i&gt; one"),
        "{html}"
    );
    assert!(html.contains("chat-message theirs"), "{html}");
    // The page showed it: read, so the header shows no unread chat.
    expect_frame(&mut header, "me", "unread-count").await;
    assert_eq!(header_chats(&app, &seller).await, 0);

    // The script's way: 204, and the writer's own page gets it on its socket.
    let mut mine = connect_me_to(
        &neighbour.base,
        &format!("/me/live?chat={chat}&after=0"),
        Some(&neighbour.jar),
        Some(&neighbour.base),
    )
    .await
    .expect("the neighbour's chat page");
    expect_frame(&mut mine, "me", "unread-count").await;
    let token = app.csrf(&neighbour).await;
    let r = neighbour
        .client
        .post(neighbour.url(&format!("/chats/{chat}/messages")))
        .header("x-chat-fetch", "1")
        .form(&[("body", "by script"), ("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    expect_frame(&mut page, "chat", "by script").await;
    let html = expect_frame(&mut mine, "chat", "by script").await;
    assert!(html.contains("chat-message mine"), "{html}");

    // A message in another conversation (not on the open page): the header's chat badge
    // goes up live, and down once it is read.
    let other = chat_with(&app, &neighbour, "auctions", auction).await;
    let mut header = seller.me_ws().await;
    // On opening, the badge as it is now (a page rendered before it marked a chat read may
    // show an old count).
    expect_frame(&mut header, "chats", "hidden>0<").await;
    expect_frame(&mut header, "me", "unread-count").await;
    say(&app, &neighbour, other, "are you there?").await;
    expect_frame(&mut header, "chats", "class=\"unread-badge\">1<").await;
    assert!(
        next_frame(&mut page, Duration::from_millis(300))
            .await
            .is_none_or(|f| f["type"] != "chat"),
        "the open page shows only its own conversation"
    );
    app.get_html(&seller, &format!("/chats/{other}")).await;
    expect_frame(&mut header, "chats", "hidden>0<").await;
}

/// Two server processes on one PostgreSQL database: the seller's chat page is open on one; the
/// neighbour writes through the other (`NOTIFY user_events`, delivered on commit to every
/// process).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_message_reaches_the_other_side_through_another_server_process() {
    if !crate::helpers::postgres_or_skip(
        "a_chat_message_reaches_the_other_side_through_another_server_process",
    ) {
        return;
    }
    let app = spawn_app(Db::Postgres).await;
    let other = app.spawn_process().await;
    let (_seller, neighbour, _auction, product) = seller_and_neighbour(&app).await;
    let chat = chat_with(&app, &neighbour, "market", product).await;
    let there = other.browser();
    assert_eq!(
        there
            .log_in("seller", crate::helpers::PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let mut page = connect_me_to(
        &there.base,
        &format!("/me/live?chat={chat}&after=0"),
        Some(&there.jar),
        Some(&there.base),
    )
    .await
    .expect("the chat page's socket on the other process");
    expect_frame(&mut page, "me", "unread-count").await;
    assert_eq!(
        say(&app, &neighbour, chat, "across processes")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    expect_frame(&mut page, "chat", "across processes").await;
}

// ---------------------------------------------------------------- the trade at the top

async fn the_trade_and_its_buttons_show_at_the_top_of_the_chat_after_a_win_or_a_purchase(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let buyer = app.funded("minji", 100_000).await;
    let mut listing = Listing::new("Lamp");
    listing.buy_now_price = "20000".into();
    let auction = app.list(&seller, &listing).await;
    let chat = chat_with(&app, &buyer, "auctions", auction).await;
    let (_, page) = app.get_html(&buyer, &format!("/chats/{chat}")).await;
    assert!(!page.contains("id=\"chat-trade\""), "no trade yet");

    assert_eq!(app.buy_now(&buyer, auction).await.0, StatusCode::SEE_OTHER);
    let (trade, _) = app.auction_trade(auction).unwrap();
    let (_, page) = app.get_html(&buyer, &format!("/chats/{chat}")).await;
    let top = page
        .find("id=\"chat-trade\"")
        .expect("the trade at the top");
    assert!(top < page.find("id=\"chat-messages\"").unwrap());
    assert_eq!(
        trade_ids(&page, "confirm"),
        vec![trade],
        "the buyer may confirm"
    );
    let (_, page) = app.get_html(&seller, &format!("/chats/{chat}")).await;
    assert!(page.contains("id=\"chat-trade\""));
    assert!(trade_ids(&page, "confirm").is_empty(), "not the seller");
    // The button is the trade's own: it works from here.
    assert_eq!(
        act(&app, &buyer, trade, "confirm").await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, page) = app.get_html(&buyer, &format!("/chats/{chat}")).await;
    assert!(page.contains("data-trade-status=\"confirmed\""));

    // A market purchase: the seller approves from the chat.
    let product = list_product(&app, &seller, "Kettle", "15000", "1").await;
    let chat = chat_with(&app, &buyer, "market", product).await;
    let (_, page) = app.get_html(&buyer, &format!("/market/{product}")).await;
    let seen = crate::helpers::field_value(&page, "expected_price").unwrap();
    let r = app
        .post(
            &buyer,
            &format!("/market/{product}/buy"),
            &[("quantity", "1"), ("expected_price", &seen)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_html(&seller, &format!("/chats/{chat}")).await;
    let approve = trade_ids(&page, "approve");
    assert_eq!(approve.len(), 1, "the seller may approve from the chat");
    assert_eq!(
        act(&app, &seller, approve[0], "approve").await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, page) = app.get_html(&buyer, &format!("/chats/{chat}")).await;
    assert!(page.contains("data-trade-status=\"approved\""));
    app.assert_audit_clean();
}

async fn the_chat_pages_speak_korean(db: Db) {
    let app = spawn_app(db).await;
    let (seller, _neighbour, _auction, product) = seller_and_neighbour(&app).await;
    let korean = app.client_speaking(Some("ko"));
    korean.log_in("minji", crate::helpers::PASSWORD).await;
    let (_, page) = app.get_html(&korean, &format!("/market/{product}")).await;
    assert!(page.contains("채팅하기"));
    let chat = chat_with(&app, &korean, "market", product).await;
    let (_, page) = app.get_html(&korean, &format!("/chats/{chat}")).await;
    assert!(
        page.contains("보내기") && page.contains("차단하기"),
        "{page}"
    );
    let r = say(&app, &korean, chat, " ").await;
    assert!(r.text().await.unwrap().contains("메시지를 입력해 주세요."));
    let (_, list) = app.get_html(&korean, "/chats").await;
    assert!(list.contains("채팅"));
    let (_, page) = app.get_html(&seller, "/chats").await;
    assert!(page.contains("Chats"), "English for the English browser");
}

async fn a_long_conversation_shows_its_newest_messages_and_the_older_ones_a_link_away(db: Db) {
    let app = spawn_app_with(db, |s| s.chat_messages_per_minute = 100).await;
    let (_seller, neighbour, _auction, product) = seller_and_neighbour(&app).await;
    let chat = chat_with(&app, &neighbour, "market", product).await;
    let token = app.csrf(&neighbour).await;
    let path = format!("/chats/{chat}/messages");
    for i in 0..55 {
        let body = format!("message {i:02}");
        let r = neighbour
            .post_raw(
                &path,
                &[("body", body.as_str()), ("csrf_token", token.as_str())],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let (_, page) = app.get_html(&neighbour, &format!("/chats/{chat}")).await;
    let shown = bodies(&page);
    assert_eq!(shown.len(), 50);
    assert_eq!(shown[0], "message 05");
    assert_eq!(shown[49], "message 54");
    let at = page.find("class=\"chat-older\"").expect("an older link");
    let start = page[..at].rfind("href=\"").unwrap() + 6;
    let older = page[start..start + page[start..].find('"').unwrap()].to_owned();
    let (_, page) = app.get_html(&neighbour, &older).await;
    let shown = bodies(&page);
    assert_eq!(
        shown,
        (0..5)
            .map(|i| format!("message {i:02}"))
            .collect::<Vec<_>>()
    );
    assert!(!page.contains("class=\"chat-older\""), "nothing older");
    assert!(page.contains("class=\"chat-newest\""));
    assert!(
        page.contains("data-paged=\"1\""),
        "the socket leaves an older page alone"
    );
}

async fn messages_sent_at_once_are_all_kept_and_make_one_notification(db: Db) {
    let app = spawn_app(db).await;
    let (_seller, neighbour, _auction, product) = seller_and_neighbour(&app).await;
    let chat = chat_with(&app, &neighbour, "market", product).await;
    let token = app.csrf(&neighbour).await;
    let path = format!("/chats/{chat}/messages");
    let forms: Vec<[(&str, String); 2]> = (0..8)
        .map(|i| {
            [
                ("body", format!("at once {i}")),
                ("csrf_token", token.clone()),
            ]
        })
        .collect();
    let sends = forms
        .iter()
        .map(|f| neighbour.client.post(neighbour.url(&path)).form(f).send());
    for r in futures_util::future::join_all(sends).await {
        assert_eq!(r.unwrap().status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(stored(&app, chat).len(), 8);
    assert_eq!(chat_notes(&app, "seller"), vec![false], "one notification");
}
