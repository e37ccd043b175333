//! Photo galleries (issue 14 item 5): up to 10 photos per listing, in the seller's order, the
//! first on the card; reorder and delete by the seller only, not once the listing is locked;
//! an upload that would pass the limit, or holds one file that is not a picture, stores nothing.

use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};

use crate::helpers::{both_databases, spawn_app_with, Browser, Db, TestApp};
use crate::uploads::{png_of, stored_names};

both_databases!(
    ten_photos_sent_at_once_show_in_order_and_the_first_is_the_card_thumbnail,
    an_eleventh_photo_is_refused_with_422_and_nothing_is_stored,
    moving_a_photo_changes_the_gallery_order_and_the_card_thumbnail,
    deleting_a_photo_removes_it_and_its_files,
    a_stranger_cannot_move_or_delete_photos_and_nothing_changes,
    photos_are_locked_after_the_first_bid,
    one_file_that_is_not_a_picture_refuses_the_whole_upload,
    seed_demo_listings_have_drawn_photos_served_as_valid_images,
    uploads_sent_at_once_cannot_take_a_listing_past_ten_photos,
);

async fn app(db: Db) -> TestApp {
    spawn_app_with(db, |s| {
        s.uploads_per_day = 200;
        s.upload_concurrency = 4;
    })
    .await
}

/// `n` distinct small PNGs: photo `i` is `10 + i` pixels wide (how the tests tell them apart).
fn photos(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| png_of(10 + i as u32, 8)).collect()
}

/// The width a stored PNG declares (its IHDR).
fn png_width(bytes: &[u8]) -> u32 {
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
    u32::from_be_bytes(bytes[16..20].try_into().unwrap())
}

fn listing_form(token: String, title: &str, files: &[Vec<u8>]) -> Form {
    let mut form = Form::new()
        .text("csrf_token", token)
        .text("title", title.to_owned())
        .text("description", "In the gallery")
        .text("category_id", "1")
        .text("region_id", "3")
        .text("start_price", "10000")
        .text("bid_unit", "1000")
        .text("ends_at", crate::helpers::local_in(7200));
    for (i, bytes) in files.iter().enumerate() {
        form = form.part(
            "image",
            Part::bytes(bytes.clone()).file_name(format!("p{i}.png")),
        );
    }
    form
}

async fn post_listing(app: &TestApp, seller: &Browser, path: &str, files: &[Vec<u8>]) -> Response {
    let form = listing_form(app.csrf(seller).await, "Gallery desk", files);
    app.post_multipart(seller, path, form).await
}

async fn list_with(app: &TestApp, seller: &Browser, files: &[Vec<u8>]) -> i64 {
    let r = post_listing(app, seller, "/auctions", files).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    r.headers()["location"].to_str().unwrap()["/auctions/".len()..]
        .parse()
        .unwrap()
}

async fn post_product(app: &TestApp, seller: &Browser, files: &[Vec<u8>]) -> Response {
    let mut form = Form::new()
        .text("csrf_token", app.csrf(seller).await)
        .text("name", "Gallery mug")
        .text("description", "Handmade")
        .text("price", "8000")
        .text("quantity", "1")
        .text("category_id", "2")
        .text("region_id", "3");
    for (i, bytes) in files.iter().enumerate() {
        form = form.part(
            "image",
            Part::bytes(bytes.clone()).file_name(format!("m{i}.png")),
        );
    }
    app.post_multipart(seller, "/market/new", form).await
}

/// The photos of a page's gallery, first to last (`/uploads/…` of each large photo).
fn gallery(html: &str) -> Vec<String> {
    html.split("class=\"gallery-slide\"")
        .skip(1)
        .map(|slide| {
            let at = slide.find("src=\"").unwrap() + 5;
            slide[at..at + slide[at..].find('"').unwrap()].to_owned()
        })
        .collect()
}

/// The photo ids of a gallery, first to last.
fn gallery_ids(html: &str) -> Vec<i64> {
    html.split("class=\"gallery-slide\"")
        .skip(1)
        .map(|slide| {
            let at = slide.find("data-photo=\"").unwrap() + 12;
            slide[at..at + slide[at..].find('"').unwrap()]
                .parse()
                .unwrap()
        })
        .collect()
}

/// The widths of a gallery's photos, first to last, fetched as anyone would.
async fn gallery_widths(app: &TestApp, path: &str) -> Vec<u32> {
    let anon = app.client();
    let (status, html) = app.get_html(&anon, path).await;
    assert_eq!(status, StatusCode::OK);
    let mut widths = vec![];
    for src in gallery(&html) {
        let r = app.get(&anon, &src).await;
        assert_eq!(r.status(), StatusCode::OK, "{src}");
        widths.push(png_width(&r.bytes().await.unwrap()));
    }
    widths
}

/// The thumbnail the list page's card of `href` shows.
fn card_thumb(list: &str, href: &str) -> Option<String> {
    let card = list.split(&format!("href=\"{href}\"")).nth(1)?;
    let card = &card[..card.find("</a>").unwrap()];
    let at = card.find("/uploads/")?;
    Some(card[at..at + card[at..].find('"').unwrap()].to_owned())
}

fn thumb_of(src: &str) -> String {
    let stem = src.rsplit_once('.').unwrap().0;
    format!("{stem}.thumb.jpg")
}

async fn ten_photos_sent_at_once_show_in_order_and_the_first_is_the_card_thumbnail(db: Db) {
    let app = app(db).await;
    let seller = app.sign_up("gallerist").await;
    let id = list_with(&app, &seller, &photos(10)).await;
    let path = format!("/auctions/{id}");
    assert_eq!(
        gallery_widths(&app, &path).await,
        (10..20).collect::<Vec<u32>>(),
        "the ten photos, in the order they were sent"
    );
    assert_eq!(stored_names(&app).len(), 20, "each photo and its thumbnail");
    let (_, page) = app.get_html(&app.client(), &path).await;
    let first = gallery(&page)[0].clone();
    assert!(page.contains("alt=\"Gallery desk (1/10)\""), "alt text");
    let (_, list) = app.get_html(&app.client(), "/auctions").await;
    assert_eq!(card_thumb(&list, &path), Some(thumb_of(&first)));

    // A market product too.
    let r = post_product(&app, &seller, &photos(10)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let product = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        gallery_widths(&app, &product).await,
        (10..20).collect::<Vec<u32>>()
    );
    let (_, page) = app.get_html(&app.client(), &product).await;
    let first = gallery(&page)[0].clone();
    let (_, market) = app.get_html(&app.client(), "/market").await;
    assert_eq!(card_thumb(&market, &product), Some(thumb_of(&first)));

    // A listing without photos shows a drawing, not a glyph.
    let plain = list_with(&app, &seller, &[]).await;
    let (_, page) = app
        .get_html(&app.client(), &format!("/auctions/{plain}"))
        .await;
    assert!(
        page.contains("<svg class=\"no-photo\""),
        "an inline drawing"
    );
    assert!(!page.contains("🏷"));
}

async fn an_eleventh_photo_is_refused_with_422_and_nothing_is_stored(db: Db) {
    let app = app(db).await;
    let seller = app.sign_up("collector").await;
    let anon = app.client();

    // Eleven in one request: refused whole, no listing, no file.
    let r = post_listing(&app, &seller, "/auctions", &photos(11)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("at most 10 photos"));
    assert!(stored_names(&app).is_empty());
    let (_, list) = app.get_html(&anon, "/auctions").await;
    assert!(!list.contains("Gallery desk"), "no listing was created");
    let r = post_product(&app, &seller, &photos(11)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("at most 10 photos"));
    assert!(stored_names(&app).is_empty());

    // Ten, then one more on the edit form: refused, nothing added, the listing unchanged.
    let id = list_with(&app, &seller, &photos(10)).await;
    let before = stored_names(&app);
    let (_, page) = app.get_html(&anon, &format!("/auctions/{id}")).await;
    let gallery_before = gallery(&page);
    let form = listing_form(app.csrf(&seller).await, "Renamed desk", &[png_of(40, 8)]);
    let r = app
        .post_multipart(&seller, &format!("/auctions/{id}/edit"), form)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("at most 10 photos"));
    assert_eq!(stored_names(&app), before, "no file added");
    let (_, page) = app.get_html(&anon, &format!("/auctions/{id}")).await;
    assert_eq!(gallery(&page), gallery_before, "no photo added");
    assert!(page.contains("Gallery desk") && !page.contains("Renamed desk"));

    // A product with ten refuses an eleventh on its photo page.
    let r = post_product(&app, &seller, &photos(10)).await;
    let product = r.headers()["location"].to_str().unwrap().to_owned();
    let before = stored_names(&app);
    let form = Form::new()
        .text("csrf_token", app.csrf(&seller).await)
        .part("image", Part::bytes(png_of(40, 8)).file_name("x.png"));
    let r = app
        .post_multipart(&seller, &format!("{product}/photos"), form)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("at most 10 photos"));
    assert_eq!(stored_names(&app), before);
    assert_eq!(gallery_widths(&app, &product).await.len(), 10);

    // With nine, one more goes through, on either page.
    let nine = list_with(&app, &seller, &photos(9)).await;
    let form = listing_form(app.csrf(&seller).await, "Gallery desk", &[png_of(40, 8)]);
    let r = app
        .post_multipart(&seller, &format!("/auctions/{nine}/edit"), form)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let widths = gallery_widths(&app, &format!("/auctions/{nine}")).await;
    assert_eq!(widths.len(), 10);
    assert_eq!(widths[9], 40, "added after the others");
}

async fn moving_a_photo_changes_the_gallery_order_and_the_card_thumbnail(db: Db) {
    let app = app(db).await;
    let seller = app.sign_up("arranger").await;
    let id = list_with(&app, &seller, &photos(3)).await;
    let path = format!("/auctions/{id}");
    let (_, page) = app.get_html(&app.client(), &path).await;
    let ids = gallery_ids(&page);
    assert_eq!(ids.len(), 3);
    // The edit page offers the forms.
    let (_, edit) = app.get_html(&seller, &format!("{path}/edit")).await;
    assert!(edit.contains(&format!("action=\"/photos/{}/move\"", ids[2])));
    assert!(edit.contains("multiple"));

    let r = app
        .post(
            &seller,
            &format!("/photos/{}/move", ids[2]),
            &[("to", "first")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(gallery_widths(&app, &path).await, vec![12, 10, 11]);
    let (_, page) = app.get_html(&app.client(), &path).await;
    let (_, list) = app.get_html(&app.client(), "/auctions").await;
    assert_eq!(card_thumb(&list, &path), Some(thumb_of(&gallery(&page)[0])));

    let r = app
        .post(
            &seller,
            &format!("/photos/{}/move", ids[2]),
            &[("to", "later")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(gallery_widths(&app, &path).await, vec![10, 12, 11]);
    let r = app
        .post(
            &seller,
            &format!("/photos/{}/move", ids[1]),
            &[("to", "earlier")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(gallery_widths(&app, &path).await, vec![10, 11, 12]);
    // Moving the first earlier changes nothing; a made-up direction is refused.
    let r = app
        .post(
            &seller,
            &format!("/photos/{}/move", ids[0]),
            &[("to", "earlier")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .post(
            &seller,
            &format!("/photos/{}/move", ids[0]),
            &[("to", "-1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(gallery_widths(&app, &path).await, vec![10, 11, 12]);
    let (_, list) = app.get_html(&app.client(), "/auctions").await;
    let (_, page) = app.get_html(&app.client(), &path).await;
    assert_eq!(card_thumb(&list, &path), Some(thumb_of(&gallery(&page)[0])));

    // A product's photos move the same way, from its photo page.
    let r = post_product(&app, &seller, &photos(2)).await;
    let product = r.headers()["location"].to_str().unwrap().to_owned();
    let (status, manage) = app.get_html(&seller, &format!("{product}/photos")).await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = app.get_html(&app.client(), &product).await;
    let pids = gallery_ids(&page);
    assert!(manage.contains(&format!("action=\"/photos/{}/move\"", pids[1])));
    let r = app
        .post(
            &seller,
            &format!("/photos/{}/move", pids[1]),
            &[("to", "first")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(gallery_widths(&app, &product).await, vec![11, 10]);
    let (_, page) = app.get_html(&app.client(), &product).await;
    let (_, market) = app.get_html(&app.client(), "/market").await;
    assert_eq!(
        card_thumb(&market, &product),
        Some(thumb_of(&gallery(&page)[0]))
    );
}

async fn deleting_a_photo_removes_it_and_its_files(db: Db) {
    let app = app(db).await;
    let seller = app.sign_up("pruner").await;
    let id = list_with(&app, &seller, &photos(2)).await;
    let path = format!("/auctions/{id}");
    let (_, page) = app.get_html(&app.client(), &path).await;
    let (ids, srcs) = (gallery_ids(&page), gallery(&page));
    let r = app
        .post(&seller, &format!("/photos/{}/delete", ids[0]), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(gallery_widths(&app, &path).await, vec![11]);
    assert_eq!(
        stored_names(&app).len(),
        2,
        "the other photo and its thumbnail"
    );
    for gone in [srcs[0].clone(), thumb_of(&srcs[0])] {
        assert_eq!(
            app.get(&app.client(), &gone).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    let (_, list) = app.get_html(&app.client(), "/auctions").await;
    assert_eq!(card_thumb(&list, &path), Some(thumb_of(&srcs[1])));
    // The last one: the card falls back to the drawing.
    let r = app
        .post(&seller, &format!("/photos/{}/delete", ids[1]), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(stored_names(&app).is_empty());
    let (_, list) = app.get_html(&app.client(), "/auctions").await;
    assert_eq!(card_thumb(&list, &path), None);
    // Deleting it again: there is no such photo.
    let r = app
        .post(&seller, &format!("/photos/{}/delete", ids[1]), &[])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn a_stranger_cannot_move_or_delete_photos_and_nothing_changes(db: Db) {
    let app = app(db).await;
    let seller = app.sign_up("owner").await;
    let stranger = app.sign_up("meddler").await;
    let id = list_with(&app, &seller, &photos(3)).await;
    let path = format!("/auctions/{id}");
    let (_, page) = app.get_html(&app.client(), &path).await;
    let ids = gallery_ids(&page);
    let files = stored_names(&app);

    let r = app
        .post(
            &stranger,
            &format!("/photos/{}/move", ids[2]),
            &[("to", "first")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post(&stranger, &format!("/photos/{}/delete", ids[0]), &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Not logged in: to the login page.
    let anon = app.client();
    let r = app
        .post(&anon, &format!("/photos/{}/delete", ids[0]), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));
    // The seller's own session without the form's token: refused by the CSRF check.
    let r = app
        .post_raw(&seller, &format!("/photos/{}/delete", ids[0]), &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post_raw(
            &seller,
            &format!("/photos/{}/move", ids[2]),
            &[("to", "first"), ("csrf_token", "forged")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A stranger cannot add to someone's product, nor open its photo page; the body is unread.
    let r = post_product(&app, &seller, &photos(1)).await;
    let product = r.headers()["location"].to_str().unwrap().to_owned();
    let files_with_product = stored_names(&app);
    let (status, _) = app.get_html(&stranger, &format!("{product}/photos")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let form = Form::new()
        .text("csrf_token", app.csrf(&stranger).await)
        .part("image", Part::bytes(png_of(30, 8)).file_name("x.png"));
    let r = app
        .post_multipart(&stranger, &format!("{product}/photos"), form)
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(stored_names(&app), files_with_product);

    assert_eq!(gallery_widths(&app, &path).await, vec![10, 11, 12]);
    assert!(files.iter().all(|f| files_with_product.contains(f)));
    let r = app.get(&app.client(), "/photos/1/move").await;
    assert!(!r.status().is_server_error());
}

async fn photos_are_locked_after_the_first_bid(db: Db) {
    let app = app(db).await;
    let seller = app.sign_up("lockedin").await;
    let id = list_with(&app, &seller, &photos(2)).await;
    let path = format!("/auctions/{id}");
    let (_, page) = app.get_html(&app.client(), &path).await;
    let ids = gallery_ids(&page);
    let bidder = app.funded("firstbid", 50_000).await;
    assert_eq!(app.bid(&bidder, id, 10_000).await.0, StatusCode::SEE_OTHER);
    let files = stored_names(&app);

    let r = app
        .post(
            &seller,
            &format!("/photos/{}/move", ids[1]),
            &[("to", "first")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("cannot be changed any more"));
    let r = app
        .post(&seller, &format!("/photos/{}/delete", ids[0]), &[])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let form = listing_form(app.csrf(&seller).await, "Gallery desk", &[png_of(40, 8)]);
    let r = app
        .post_multipart(&seller, &format!("/auctions/{id}/edit"), form)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stored_names(&app), files, "nothing added or removed");
    assert_eq!(gallery_widths(&app, &path).await, vec![10, 11]);
    app.assert_audit_clean();
}

async fn one_file_that_is_not_a_picture_refuses_the_whole_upload(db: Db) {
    let app = app(db).await;
    let seller = app.sign_up("careful").await;
    let mut files = photos(3);
    files.insert(1, b"#!/bin/sh\necho not a picture\n".to_vec());
    let r = post_listing(&app, &seller, "/auctions", &files).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("JPEG, PNG or WebP"));
    let r = post_product(&app, &seller, &files).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A PNG cut short, among good ones.
    let mut cut = photos(2);
    let broken = png_of(50, 50);
    cut.push(broken[..broken.len() / 2].to_vec());
    let r = post_listing(&app, &seller, "/auctions", &cut).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(stored_names(&app).is_empty(), "nothing stored");
    let (_, list) = app.get_html(&app.client(), "/auctions").await;
    assert!(!list.contains("Gallery desk"));

    // On an edit, and on a product's photo page: the gallery stays as it was.
    let id = list_with(&app, &seller, &photos(1)).await;
    let before = stored_names(&app);
    let form = listing_form(app.csrf(&seller).await, "Gallery desk", &files);
    let r = app
        .post_multipart(&seller, &format!("/auctions/{id}/edit"), form)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stored_names(&app), before);
    assert_eq!(
        gallery_widths(&app, &format!("/auctions/{id}")).await,
        vec![10]
    );
    let r = post_product(&app, &seller, &photos(1)).await;
    let product = r.headers()["location"].to_str().unwrap().to_owned();
    let before = stored_names(&app);
    let mut form = Form::new().text("csrf_token", app.csrf(&seller).await);
    for f in &files {
        form = form.part("image", Part::bytes(f.clone()).file_name("f.png"));
    }
    let r = app
        .post_multipart(&seller, &format!("{product}/photos"), form)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stored_names(&app), before);
    assert_eq!(gallery_widths(&app, &product).await, vec![10]);
}

async fn seed_demo_listings_have_drawn_photos_served_as_valid_images(db: Db) {
    let app = app(db).await;
    let out = app.cli(&["seed-demo"], &[], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let anon = app.client();
    let mut pages = vec![];
    for list in ["/auctions", "/market"] {
        let (_, html) = app.get_html(&anon, list).await;
        let prefix = if list == "/auctions" {
            "/auctions/"
        } else {
            "/market/"
        };
        for part in html.split(&format!("href=\"{prefix}")).skip(1) {
            let id: String = part.chars().take_while(char::is_ascii_digit).collect();
            if !id.is_empty() && !pages.contains(&format!("{prefix}{id}")) {
                pages.push(format!("{prefix}{id}"));
                let thumb = card_thumb(&html, &format!("{prefix}{id}"));
                assert!(thumb.is_some(), "the card of {prefix}{id} has a photo");
            }
        }
    }
    assert!(pages.len() >= 6, "{pages:?}");
    for page in pages {
        let (_, html) = app.get_html(&anon, &page).await;
        let srcs = gallery(&html);
        assert!((1..=4).contains(&srcs.len()), "{page}: {srcs:?}");
        for src in srcs.iter().flat_map(|s| [s.clone(), thumb_of(s)]) {
            let r = app.get(&anon, &src).await;
            assert_eq!(r.status(), StatusCode::OK, "{src}");
            let bytes = r.bytes().await.unwrap();
            let picture = image::load_from_memory(&bytes).expect("a valid picture");
            assert!(picture.width() >= 100 && picture.height() >= 75, "{src}");
        }
    }
    app.assert_audit_clean();
}

async fn uploads_sent_at_once_cannot_take_a_listing_past_ten_photos(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.uploads_per_day = 200;
        s.upload_concurrency = 8;
    })
    .await;
    let seller = app.sign_up("rusher").await;
    let id = list_with(&app, &seller, &photos(6)).await;
    // Four edits at once, two photos each: only two fit.
    let mut tasks = vec![];
    for i in 0..4_u32 {
        let (address, seller) = (app.address.clone(), seller.clone());
        let token = app.csrf(&seller).await;
        tasks.push(tokio::spawn(async move {
            let files = vec![png_of(50 + i, 8), png_of(60 + i, 8)];
            let form = listing_form(token, "Gallery desk", &files);
            seller
                .at(&address)
                .post_multipart(&format!("/auctions/{id}/edit"), form)
                .await
                .status()
        }));
    }
    let mut statuses = vec![];
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let ok = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    assert_eq!((ok, refused), (2, 2), "{statuses:?}");
    assert_eq!(
        gallery_widths(&app, &format!("/auctions/{id}")).await.len(),
        10
    );
    assert_eq!(
        stored_names(&app).len(),
        20,
        "no file of a refused upload is left"
    );
}
