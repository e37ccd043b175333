//! Hostile uploads and bodies: image bombs, photos that would reveal where a neighbour lives,
//! big bodies sent by people who are not logged in.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::cookie::CookieStore as _;
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};

use crate::helpers::{both_databases, spawn_app, spawn_app_with, Browser, Db, Listing, TestApp};

both_databases!(
    a_picture_declaring_twelve_thousand_by_eleven_thousand_pixels_is_refused_before_decoding,
    photos_are_stored_and_served_without_exif_or_gps_and_upright,
    twenty_anonymous_six_megabyte_posts_at_once_are_refused_before_their_bodies_are_read,
    a_small_form_over_64_kb_is_refused_with_413_and_changes_nothing,
    editing_someone_elses_listing_with_a_photo_is_refused_before_the_upload_is_read,
    uploads_beyond_the_concurrency_bound_are_answered_503_without_being_read,
    deleted_and_cancelled_listing_photos_are_deleted_from_the_uploads_folder,
    photos_past_the_daily_cap_are_refused_with_422_even_when_sent_at_once,
);

const SIX_MB: usize = 6 * 1024 * 1024;

async fn a_picture_declaring_twelve_thousand_by_eleven_thousand_pixels_is_refused_before_decoding(
    db: Db,
) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("bomber").await;
    let bomb = png_declaring(12_000, 11_000);
    assert!(bomb.len() < 1024, "a tiny file: {} bytes", bomb.len());

    let r = app
        .post_listing(&seller, &Listing::new("Huge"), Some(bomb.clone()))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("12000 × 11000") && body.contains("8,000 pixels a side"),
        "the reason is the declared size: {body}"
    );
    let r = post_product(&app, &seller, "Huge", Some(bomb)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("12000 × 11000"));

    // One side too long, or too many pixels in all, whatever the file size.
    for (w, h) in [(8_001, 8), (7_000, 7_000)] {
        let r = app
            .post_listing(&seller, &Listing::new("Long"), Some(png_declaring(w, h)))
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{w}×{h}");
        assert!(r.text().await.unwrap().contains("40 megapixels"));
    }

    let (_, list) = app.get_html(&app.client(), "/auctions").await;
    assert!(list.contains("0 auctions"), "nothing was created");
    let (_, market) = app.get_html(&app.client(), "/market").await;
    assert!(!market.contains("Huge"), "no product was created");
    assert!(stored_files(&app).is_empty(), "no file was kept");
    assert_eq!(
        app.get(&seller, "/healthz").await.status(),
        StatusCode::OK,
        "the server still answers"
    );
    // And a real photo still goes through.
    let r = app
        .post_listing(&seller, &Listing::new("Small"), Some(png_of(40, 30)))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.assert_audit_clean();
}

async fn photos_are_stored_and_served_without_exif_or_gps_and_upright(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("homeowner").await;
    // 40 × 20 pixels, with EXIF saying "rotate 90°" and where it was taken.
    let sent = jpeg_with_gps_exif(40, 20);
    assert!(contains(&sent, b"Exif\0\0") && contains(&sent, GPS_LATITUDE));

    let r = app
        .post_listing(&seller, &Listing::new("Garden bench"), Some(sent.clone()))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let r = post_product(&app, &seller, "Garden table", Some(sent)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let anon = app.client();
    let (_, page) = app.get_html(&anon, &location).await;
    let original = uploads_in(&page);
    let (_, list) = app.get_html(&anon, "/").await;
    let thumbnails = uploads_in(&list);
    let (_, market) = app.get_html(&anon, "/market").await;
    let product_photos = uploads_in(&market);
    assert!(!original.is_empty() && !thumbnails.is_empty() && !product_photos.is_empty());
    for url in original.iter().chain(&thumbnails).chain(&product_photos) {
        let r = app.get(&anon, url).await;
        assert_eq!(r.status(), StatusCode::OK, "{url}");
        let bytes = r.bytes().await.unwrap();
        assert_no_metadata(&bytes, url);
    }
    for (name, bytes) in stored_files(&app) {
        assert_no_metadata(&bytes, &name);
    }
    // Turned upright as the EXIF said before it was dropped: 20 wide, 40 high.
    let r = app.get(&anon, &original[0]).await;
    let stored = image::load_from_memory(&r.bytes().await.unwrap()).unwrap();
    assert_eq!((stored.width(), stored.height()), (20, 40));
    app.assert_audit_clean();
}

async fn twenty_anonymous_six_megabyte_posts_at_once_are_refused_before_their_bodies_are_read(
    db: Db,
) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("target").await;
    let id = app.list(&seller, &Listing::new("Bicycle")).await;
    let server = app.spawn_process().await;
    let pid = server.pid();
    // Warm the server up, then take the baseline: every worker has served a page, and forty
    // pages at once have grown the blocking pool's threads (and their allocator heaps) to what
    // the hostile requests below will use, so what is measured is what their bodies cost.
    for _ in 0..8 {
        assert_eq!(server.browser().get("/").await.status(), StatusCode::OK);
    }
    let browser = server.browser();
    let warm = futures_util::future::join_all((0..40).map(|_| browser.get("/"))).await;
    assert!(warm.iter().all(|r| r.status() == StatusCode::OK));
    let before = proc_status_kb(pid, "VmRSS");
    reset_peak_rss(pid);

    let paths = [
        "/auctions".to_owned(),
        "/market/new".to_owned(),
        format!("/auctions/{id}/edit"),
        format!("/auctions/{id}/bids"),
        "/wallet/top-up".to_owned(),
        "/login".to_owned(),
        "/signup".to_owned(),
        "/logout".to_owned(),
    ];
    // No cookie at all: refused before a byte of the body is read.
    let statuses = hostile_posts(&server.address, &paths, None, None, 20).await;
    assert!(
        statuses.iter().all(|s| *s == 403),
        "every POST without a session is refused with 403: {statuses:?}"
    );
    // A session but nobody logged in, and its real token: refused after the token, or at once
    // for a declared length over a small form's limit.
    let visitor = server.browser();
    let (_, html) = visitor.get_html("/").await;
    let token = crate::helpers::field_value(&html, "csrf_token")
        .or_else(|| meta_csrf(&html))
        .expect("a token");
    let cookie = visitor
        .jar
        .cookies(&server.address.parse().unwrap())
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    let statuses = hostile_posts(&server.address, &paths, Some(&cookie), Some(&token), 20).await;
    assert!(
        statuses.iter().all(|s| [303, 400, 403, 413].contains(s)),
        "every POST of a visitor who is not logged in is refused: {statuses:?}"
    );

    let peak = proc_status_kb(pid, "VmHWM");
    let after = proc_status_kb(pid, "VmRSS");
    eprintln!("server RSS: {before} kB before, peak {peak} kB, {after} kB after (40 × 6 MB sent)");
    // Buffering them would cost 240 MB (the old code's peak grew 107–122 MB); what is left is
    // 40 connections' own buffers and the allocator's pages, measured at 11–23 MB.
    assert!(
        peak.saturating_sub(before) < 48 * 1024,
        "forty 6 MB bodies must not be buffered: RSS {before} kB → peak {peak} kB"
    );
    assert_eq!(
        server.browser().get("/healthz").await.status(),
        StatusCode::OK
    );
    let (_, list) = app.get_html(&app.client(), "/auctions").await;
    assert!(list.contains("1 auction"), "nothing was created");
    assert_eq!(app.auction_row(id).4, 0, "no bid was placed");
    app.assert_audit_clean();
}

async fn a_small_form_over_64_kb_is_refused_with_413_and_changes_nothing(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller64").await;
    let id = app.list(&seller, &Listing::new("Kettle")).await;
    let bidder = app.funded("bidder64", 100_000).await;
    let token = app.csrf(&bidder).await;
    let padding = "x".repeat(70 * 1024);

    // Url-encoded: the amount is fine, the body is not.
    let r = app
        .post_raw(
            &bidder,
            &format!("/auctions/{id}/bids"),
            &[
                ("amount", "10000"),
                ("csrf_token", &token),
                ("note", &padding),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Multipart to a small form gets a small form's limit too, not an upload's.
    let form = Form::new()
        .text("csrf_token", token.clone())
        .text("amount", "10000")
        .text("note", padding.clone());
    let r = app
        .post_multipart(&bidder, &format!("/auctions/{id}/bids"), form)
        .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let form = Form::new()
        .text("csrf_token", token.clone())
        .text("amount", "5000")
        .text("method", "dev")
        .text("note", padding.clone());
    let r = app.post_multipart(&bidder, "/wallet/top-up", form).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // An upload over the upload limit, declared or streamed in chunks, is refused too.
    let cookie = bidder
        .jar
        .cookies(&app.address.parse().unwrap())
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for framing in [Framing::Length, Framing::Chunked] {
        let status = tokio::task::spawn_blocking({
            let (address, cookie, token) = (app.address.clone(), cookie.clone(), token.clone());
            move || {
                hostile_post(
                    &address,
                    "/auctions",
                    Some(&cookie),
                    Some(&token),
                    framing,
                    neighborbid::web::csrf::MULTIPART_LIMIT + 512 * 1024,
                )
            }
        })
        .await
        .unwrap();
        assert_eq!(status, 413, "{framing:?}");
    }

    assert_eq!(app.auction_row(id).4, 0, "no bid was placed");
    assert_eq!(app.wallet(&bidder).await, (100_000, 0));
    let (_, list) = app.get_html(&app.client(), "/auctions").await;
    assert!(list.contains("1 auction"), "nothing was created");
    // A form of ordinary size still works.
    assert_eq!(app.bid(&bidder, id, 10_000).await.0, StatusCode::SEE_OTHER);
    app.assert_audit_clean();
}

async fn editing_someone_elses_listing_with_a_photo_is_refused_before_the_upload_is_read(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("owner").await;
    let id = app.list(&seller, &Listing::new("Rocking chair")).await;
    let stranger = app.sign_up("intruder").await;
    let token = app.csrf(&stranger).await;
    let cookie = session_cookie(&app, &stranger);

    // The upload declares 4 MB but only its first kilobyte is ever sent: the answer must come
    // without the rest.
    let edit = StalledPost::start(
        &app.address,
        &format!("/auctions/{id}/edit"),
        &cookie,
        &token,
        4 * 1024 * 1024,
    );
    assert_eq!(edit.status().await, 403);
    let missing = StalledPost::start(
        &app.address,
        "/auctions/999999/edit",
        &cookie,
        &token,
        4 * 1024 * 1024,
    );
    assert_eq!(missing.status().await, 404);

    // A whole edit by the stranger, with a real photo, changes nothing either.
    let form = Form::new()
        .text("csrf_token", token)
        .text("title", "Mine now")
        .text("description", "Taken over")
        .text("category_id", "1")
        .text("region_id", "3")
        .text("start_price", "10000")
        .text("ends_at", crate::helpers::local_in(7200))
        .part("image", Part::bytes(png_of(20, 20)).file_name("x.png"));
    let r = app
        .post_multipart(&stranger, &format!("/auctions/{id}/edit"), form)
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, page) = app
        .get_html(&app.client(), &format!("/auctions/{id}"))
        .await;
    assert!(page.contains("Rocking chair") && !page.contains("Mine now"));
    assert!(stored_files(&app).is_empty(), "no file was kept");
    app.assert_audit_clean();
}

async fn uploads_beyond_the_concurrency_bound_are_answered_503_without_being_read(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.upload_concurrency = 1;
        s.upload_wait = Duration::ZERO;
    })
    .await;
    let slow = app.sign_up("slowpoke").await;
    let other = app.sign_up("hurried").await;
    let token = app.csrf(&slow).await;
    let cookie = session_cookie(&app, &slow);

    // The one slot is taken by an upload that never finishes.
    let stalled = StalledPost::start(&app.address, "/auctions", &cookie, &token, 4 * 1024 * 1024);
    let mut untitled = Listing::new("");
    untitled.title = String::new();
    let mut busy = None;
    for _ in 0..200 {
        // Until the stalled upload holds the slot this form is read and refused (422).
        let r = app
            .post_listing(&other, &untitled, Some(png_of(8, 8)))
            .await;
        if r.status() == StatusCode::SERVICE_UNAVAILABLE {
            busy = Some(r);
            break;
        }
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let Some(busy) = busy else {
        // Say what became of the upload that should hold the slot (0: still no answer).
        panic!(
            "a second upload is answered 503 while the only slot is taken; the stalled upload \
             was answered {}",
            stalled.status().await
        );
    };
    assert!(busy.headers().contains_key("retry-after"));
    let r = post_product(&app, &other, "Lamp", Some(png_of(8, 8))).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);

    // The stalled upload gives up: the slot is free again.
    drop(stalled);
    let mut listed = false;
    for _ in 0..200 {
        let r = app
            .post_listing(&other, &Listing::new("Sofa"), Some(png_of(8, 8)))
            .await;
        if r.status() == StatusCode::SEE_OTHER {
            listed = true;
            break;
        }
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(listed, "the slot is released when an upload ends");
    let (_, list) = app.get_html(&app.client(), "/auctions").await;
    assert!(
        list.contains("1 auction"),
        "only the last listing was created"
    );
    app.assert_audit_clean();
}

async fn deleted_and_cancelled_listing_photos_are_deleted_from_the_uploads_folder(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("tidy").await;
    let anon = app.client();
    let r = app
        .post_listing(&seller, &Listing::new("Desk"), Some(png_of(30, 20)))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id: i64 = r.headers()["location"].to_str().unwrap()["/auctions/".len()..]
        .parse()
        .unwrap();
    let first = stored_names(&app);
    assert_eq!(first.len(), 2, "the photo and its thumbnail: {first:?}");

    let edit = |image: Option<Vec<u8>>| {
        let seller = seller.clone();
        let app = &app;
        async move {
            let mut form = Form::new()
                .text("csrf_token", app.csrf(&seller).await)
                .text("title", "Desk, oak")
                .text("description", "Solid")
                .text("category_id", "1")
                .text("region_id", "3")
                .text("start_price", "10000")
                .text("ends_at", crate::helpers::local_in(7200));
            if let Some(bytes) = image {
                form = form.part("image", Part::bytes(bytes).file_name("new.png"));
            }
            app.post_multipart(&seller, &format!("/auctions/{id}/edit"), form)
                .await
                .status()
        }
    };
    // A new photo on the edit form is added to the gallery; deleting the first one removes its
    // files, and they are no longer served.
    assert_eq!(edit(Some(png_of(20, 30))).await, StatusCode::SEE_OTHER);
    let both = stored_names(&app);
    assert_eq!(both.len(), 4, "{both:?}");
    let (_, page) = app.get_html(&anon, &format!("/auctions/{id}")).await;
    let at = page.find("data-photo=\"").unwrap() + "data-photo=\"".len();
    let first_photo = &page[at..at + page[at..].find('"').unwrap()];
    let r = app
        .post(&seller, &format!("/photos/{first_photo}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let second = stored_names(&app);
    assert_eq!(second.len(), 2, "{second:?}");
    assert!(
        second.iter().all(|n| !first.contains(n)),
        "the old files are gone"
    );
    for name in &first {
        assert_eq!(
            app.get(&anon, &format!("/uploads/{name}")).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    // An edit without a photo keeps the current ones.
    assert_eq!(edit(None).await, StatusCode::SEE_OTHER);
    assert_eq!(stored_names(&app), second);

    // Cancelled by the seller: the photo goes with it.
    let r = app
        .post(&seller, &format!("/auctions/{id}/cancel"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.auction_row(id).0, "cancelled");
    assert!(stored_names(&app).is_empty(), "{:?}", stored_names(&app));
    let (status, page) = app.get_html(&anon, &format!("/auctions/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(uploads_in(&page).is_empty(), "no broken photo on the page");

    // Cancelled by an admin, with a hold released: the photo goes too.
    let r = app
        .post_listing(&seller, &Listing::new("Lamp"), Some(png_of(10, 10)))
        .await;
    let lamp: i64 = r.headers()["location"].to_str().unwrap()["/auctions/".len()..]
        .parse()
        .unwrap();
    let bidder = app.funded("eager", 50_000).await;
    assert_eq!(
        app.bid(&bidder, lamp, 10_000).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(stored_names(&app).len(), 2);
    let admin = app.admin("root").await;
    let r = app
        .post(&admin, &format!("/admin/auctions/{lamp}/cancel"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.auction_row(lamp).0, "cancelled");
    assert!(stored_names(&app).is_empty(), "{:?}", stored_names(&app));
    assert_eq!(app.wallet(&bidder).await, (50_000, 0));
    app.assert_audit_clean();
}

async fn photos_past_the_daily_cap_are_refused_with_422_even_when_sent_at_once(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.uploads_per_day = 3;
        s.upload_concurrency = 8;
    })
    .await;
    let seller = app.sign_up("shutterbug").await;
    let photo = || Some(png_of(12, 12));
    let mut ids = vec![];
    for title in ["One", "Two"] {
        let r = app
            .post_listing(&seller, &Listing::new(title), photo())
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        ids.push(r.headers()["location"].to_str().unwrap().to_owned());
    }
    let r = post_product(&app, &seller, "Three", photo()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let files = stored_names(&app);
    assert_eq!(files.len(), 6);

    // The fourth photo in 24 hours: a listing, a product, or a new photo on an edit.
    let r = app
        .post_listing(&seller, &Listing::new("Four"), photo())
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("at most 3 photos in 24 hours"));
    let r = post_product(&app, &seller, "Five", photo()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("at most 3 photos in 24 hours"));
    let form = Form::new()
        .text("csrf_token", app.csrf(&seller).await)
        .text("title", "One, again")
        .text("description", "New photo")
        .text("category_id", "1")
        .text("region_id", "3")
        .text("start_price", "10000")
        .text("ends_at", crate::helpers::local_in(7200))
        .part("image", Part::bytes(png_of(9, 9)).file_name("again.png"));
    let r = app
        .post_multipart(&seller, &format!("{}/edit", ids[0]), form)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stored_names(&app), files, "no file was added or removed");
    let (_, list) = app.get_html(&app.client(), "/auctions").await;
    assert!(list.contains("2 auctions") && !list.contains("Four"));
    let (_, market) = app.get_html(&app.client(), "/market").await;
    assert!(!market.contains("Five"));
    // Without a photo a listing still goes through.
    let r = app
        .post_listing(&seller, &Listing::new("Plain"), None)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Six photos sent at once by a neighbour with the same cap: exactly three are kept.
    let rival = app.sign_up("burst").await;
    let mut tasks = vec![];
    for i in 0..6 {
        let (app_url, rival) = (app.address.clone(), rival.clone());
        tasks.push(tokio::spawn(async move {
            rival
                .at(&app_url)
                .post_listing(&Listing::new(&format!("Burst {i}")), Some(png_of(10, 10)))
                .await
                .status()
        }));
    }
    let mut statuses = vec![];
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let listed = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    assert_eq!((listed, refused), (3, 3), "{statuses:?}");
    assert_eq!(
        stored_names(&app).len(),
        files.len() + 6,
        "three more photos"
    );
    app.assert_audit_clean();
}

// ---------------------------------------------------------------- helpers

/// POST the new-product form with an optional photo.
pub async fn post_product(
    app: &TestApp,
    client: &Browser,
    name: &str,
    image: Option<Vec<u8>>,
) -> Response {
    let token = app.csrf(client).await;
    let mut form = Form::new()
        .text("csrf_token", token)
        .text("name", name.to_owned())
        .text("description", "Sturdy.")
        .text("price", "12000")
        .text("quantity", "1")
        .text("category_id", "2")
        .text("region_id", "3");
    if let Some(bytes) = image {
        form = form.part("image", Part::bytes(bytes).file_name("photo.jpg"));
    }
    app.post_multipart(client, "/market/new", form).await
}

/// Every file under the data directory's `uploads/`: (name, bytes).
pub fn stored_files(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    let dir = app.settings.data_dir.join("uploads");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return vec![];
    };
    entries
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// The names of the files under `uploads/`, sorted.
pub fn stored_names(app: &TestApp) -> Vec<String> {
    let mut names: Vec<String> = stored_files(app).into_iter().map(|(n, _)| n).collect();
    names.sort();
    names
}

/// Every `/uploads/…` address in a page, in order.
pub fn uploads_in(html: &str) -> Vec<String> {
    html.match_indices("/uploads/")
        .map(|(at, _)| {
            let rest = &html[at..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// No EXIF, no GPS, and (for a JPEG) no APP1 segment at all.
fn assert_no_metadata(bytes: &[u8], what: &str) {
    assert!(!contains(bytes, b"Exif"), "{what} carries EXIF");
    assert!(
        !contains(bytes, GPS_LATITUDE),
        "{what} carries the latitude"
    );
    if bytes.starts_with(&[0xFF, 0xD8]) {
        assert!(
            !jpeg_markers(bytes).contains(&0xE1),
            "{what} has an APP1 segment"
        );
    }
}

/// The markers of a JPEG's segments before the image data.
fn jpeg_markers(bytes: &[u8]) -> Vec<u8> {
    let mut markers = vec![];
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xFF {
        let marker = bytes[at + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        at += 2 + len;
    }
    markers
}

/// A real `w` × `h` PNG.
pub fn png_of(w: u32, h: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A tiny PNG whose header declares `w` × `h` pixels (its data is for 2 × 2).
pub fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    let mut png = png_of(2, 2);
    // Signature (8), IHDR length (4), "IHDR" (4), then width and height.
    assert_eq!(&png[12..16], b"IHDR");
    png[16..20].copy_from_slice(&w.to_be_bytes());
    png[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFF_u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The GPS latitude 37° 29′ 50.12″ as EXIF rationals (little-endian), as it sits in the file.
const GPS_LATITUDE: &[u8] = &[
    37, 0, 0, 0, 1, 0, 0, 0, 29, 0, 0, 0, 1, 0, 0, 0, 0x94, 0x13, 0, 0, 100, 0, 0, 0,
];

/// A `w` × `h` JPEG with an APP1 Exif segment: orientation 6 (rotate 90° to view) and a GPS
/// IFD with latitude 37° 29′ 50.12″ N, longitude 127° 2′ 28.68″ E (역삼동).
pub fn jpeg_with_gps_exif(w: u32, h: u32) -> Vec<u8> {
    let picture =
        image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8 * 6, y as u8 * 12, 60]));
    let mut jpeg = std::io::Cursor::new(Vec::new());
    picture
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .unwrap();
    let jpeg = jpeg.into_inner();

    let mut tiff: Vec<u8> = b"II\x2a\x00".to_vec();
    tiff.extend(8_u32.to_le_bytes());
    let entry = |tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        tiff.extend(tag.to_le_bytes());
        tiff.extend(kind.to_le_bytes());
        tiff.extend(count.to_le_bytes());
        tiff.extend(value);
    };
    // IFD0 at 8: orientation, GPS pointer.
    let gps_ifd: u32 = 8 + 2 + 2 * 12 + 4;
    tiff.extend(2_u16.to_le_bytes());
    entry(&mut tiff, 0x0112, 3, 1, [6, 0, 0, 0]);
    entry(&mut tiff, 0x8825, 4, 1, gps_ifd.to_le_bytes());
    tiff.extend(0_u32.to_le_bytes());
    // GPS IFD: N, latitude, E, longitude; the rationals after it.
    let data: u32 = gps_ifd + 2 + 4 * 12 + 4;
    tiff.extend(4_u16.to_le_bytes());
    entry(&mut tiff, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut tiff, 0x0002, 5, 3, data.to_le_bytes());
    entry(&mut tiff, 0x0003, 2, 2, *b"E\0\0\0");
    entry(&mut tiff, 0x0004, 5, 3, (data + 24).to_le_bytes());
    tiff.extend(0_u32.to_le_bytes());
    assert_eq!(tiff.len() as u32, data);
    tiff.extend(GPS_LATITUDE);
    for (n, d) in [(127_u32, 1_u32), (2, 1), (2868, 100)] {
        tiff.extend(n.to_le_bytes());
        tiff.extend(d.to_le_bytes());
    }

    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
    out.extend(app1);
    out.extend(&jpeg[2..]);
    out
}

// ---------------------------------------------------------------- hand-written requests

/// How a hand-written request frames its body.
#[derive(Debug, Clone, Copy)]
pub enum Framing {
    Length,
    Chunked,
}

/// `count` hostile 6 MB multipart POSTs at once, to `paths` in turn, half with a declared
/// length and half chunked; their status codes.
async fn hostile_posts(
    address: &str,
    paths: &[String],
    cookie: Option<&str>,
    token: Option<&str>,
    count: usize,
) -> Vec<u16> {
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let address = address.to_owned();
            let path = paths[i % paths.len()].clone();
            let cookie = cookie.map(str::to_owned);
            let token = token.map(str::to_owned);
            let framing = if i % 2 == 0 {
                Framing::Length
            } else {
                Framing::Chunked
            };
            tokio::task::spawn_blocking(move || {
                hostile_post(
                    &address,
                    &path,
                    cookie.as_deref(),
                    token.as_deref(),
                    framing,
                    SIX_MB,
                )
            })
        })
        .collect();
    let mut statuses = vec![];
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses
}

/// A multipart POST written by hand: the headers, then `size` bytes of body (a `csrf_token`
/// field when `token` is given, then one big file) pushed as fast as the server takes them,
/// while this thread waits for the answer. Returns the status code (0: no answer).
pub fn hostile_post(
    address: &str,
    path: &str,
    cookie: Option<&str>,
    token: Option<&str>,
    framing: Framing,
    size: usize,
) -> u16 {
    let host = address.trim_start_matches("http://").to_owned();
    let stream = TcpStream::connect(&host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let boundary = "hostile0boundary";
    let mut head = format!("--{boundary}\r\n");
    if let Some(token) = token {
        head += &format!(
            "Content-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n--{boundary}\r\n"
        );
    }
    head += "Content-Disposition: form-data; name=\"image\"; filename=\"big.png\"\r\nContent-Type: image/png\r\n\r\n";
    let tail = format!("\r\n--{boundary}--\r\n");
    let filler = size - head.len() - tail.len();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
    );
    if let Some(cookie) = cookie {
        request += &format!("Cookie: {cookie}\r\n");
    }
    match framing {
        Framing::Length => request += &format!("Content-Length: {size}\r\n\r\n"),
        Framing::Chunked => request += "Transfer-Encoding: chunked\r\n\r\n",
    }

    let answered = Arc::new(AtomicBool::new(false));
    let mut writer = stream.try_clone().unwrap();
    let writer = std::thread::spawn({
        let answered = answered.clone();
        move || {
            const PIECE: usize = 64 * 1024;
            let zeros = vec![0_u8; PIECE];
            let mut pieces: Vec<&[u8]> = vec![head.as_bytes()];
            pieces.extend(std::iter::repeat_n(&zeros[..], filler / PIECE));
            pieces.push(&zeros[..filler % PIECE]);
            pieces.push(tail.as_bytes());
            if writer.write_all(request.as_bytes()).is_err() {
                return;
            }
            for piece in pieces {
                if answered.load(Ordering::SeqCst) {
                    return;
                }
                let sent = match framing {
                    Framing::Length => writer.write_all(piece),
                    Framing::Chunked => writer
                        .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
                        .and_then(|()| writer.write_all(piece))
                        .and_then(|()| writer.write_all(b"\r\n")),
                };
                if sent.is_err() {
                    return;
                }
            }
            if let Framing::Chunked = framing {
                let _ = writer.write_all(b"0\r\n\r\n");
            }
        }
    });
    let mut reader = stream;
    let mut answer = Vec::new();
    let mut buf = [0_u8; 256];
    while answer.len() < 12 {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    answered.store(true, Ordering::SeqCst);
    let _ = reader.shutdown(Shutdown::Both);
    writer.join().unwrap();
    std::str::from_utf8(answer.get(9..12).unwrap_or_default())
        .ok()
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// A `/proc/PID/status` figure in kB (`VmRSS`, `VmHWM`).
fn proc_status_kb(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{key} in /proc/{pid}/status"))
}

/// Reset the process's peak RSS (`VmHWM`) to its current RSS.
fn reset_peak_rss(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
}

fn meta_csrf(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf-token\" content=\"")? + "name=\"csrf-token\" content=\"".len();
    Some(html[at..at + html[at..].find('"')?].to_owned())
}

/// The session cookie of a client, as a `Cookie` header value.
fn session_cookie(app: &TestApp, client: &Browser) -> String {
    client
        .jar
        .cookies(&app.address.parse().unwrap())
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned()
}

/// A multipart upload that declares `size` bytes but sends only its `csrf_token` field and
/// the first kilobyte of a photo, then waits; dropping it closes the connection.
pub struct StalledPost {
    stream: TcpStream,
}

impl StalledPost {
    pub fn start(address: &str, path: &str, cookie: &str, token: &str, size: usize) -> Self {
        let host = address.trim_start_matches("http://");
        let mut stream = TcpStream::connect(host).unwrap();
        let boundary = "stalled0boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .into_bytes();
        body.extend(png_of(2, 2));
        body.resize(body.len() + 1024, 0);
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {size}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body).unwrap();
        StalledPost { stream }
    }

    /// The status of the answer (0: none within 30 s, or the connection closed first).
    pub async fn status(self) -> u16 {
        let mut stream = self.stream;
        tokio::task::spawn_blocking(move || {
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            let mut answer = Vec::new();
            let mut buf = [0_u8; 256];
            while answer.len() < 12 {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => answer.extend_from_slice(&buf[..n]),
                }
            }
            std::str::from_utf8(answer.get(9..12).unwrap_or_default())
                .ok()
                .and_then(|code| code.parse().ok())
                .unwrap_or(0)
        })
        .await
        .unwrap()
    }
}
