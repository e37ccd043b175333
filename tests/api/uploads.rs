//! Hostile uploads: image bombs, photos that would reveal where a neighbour lives.

use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};

use crate::helpers::{both_databases, spawn_app, Browser, Db, Listing, TestApp};

both_databases!(
    a_picture_declaring_twelve_thousand_by_eleven_thousand_pixels_is_refused_before_decoding,
    photos_are_stored_and_served_without_exif_or_gps_and_upright,
);

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
