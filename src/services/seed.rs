//! `seed-demo`: demo neighbours with money in their wallets, and (once) a few auctions and
//! products, each with 1 to 4 pictures drawn by [`demo_art`] and stored through the same path
//! as an upload. Safe to run twice.

use diesel::prelude::*;

use crate::db::schema::{auctions, users};
use crate::db::DbConnection;
use crate::domain::image::Image;
use crate::domain::market::Quantity;
use crate::domain::{Description, DisplayName, Password, Title, TitleField, Username, Won};
use crate::services::accounts::{self, NewAccount, Role};
use crate::services::auctions::{self as auction_service, ListingDraft};
use crate::services::demo_art::{self, Subject};
use crate::services::images;
use crate::services::market::{self, NewProduct};
use crate::services::now;
use crate::services::reference::Reference;
use crate::services::wallet;

/// The demo password of every demo user (documented in the README; demo data only).
pub const DEMO_PASSWORD: &str = "neighbor-demo-2026";
pub const DEMO_DEPOSIT: i64 = 1_000_000;

pub const DEMO_USERS: &[(&str, &str, i64)] = &[
    ("alice", "앨리스 Alice", 3),
    ("bob", "밥 Bob", 8),
    ("carol", "캐롤 Carol", 13),
    ("dave", "데이브 Dave", 21),
    ("erin", "에린 Erin", 29),
];

/// What `seed-demo` added.
#[derive(Debug, Default)]
pub struct Seeded {
    pub users: Vec<String>,
    pub auctions: usize,
    pub products: usize,
}

/// Demo neighbours with money, then (once) a few auctions and market products.
pub fn seed_demo(
    conn: &mut DbConnection,
    uploads: &crate::services::images::Uploads,
) -> anyhow::Result<Seeded> {
    let users = seed_users(conn)?;
    let mut seeded = Seeded {
        users,
        ..Seeded::default()
    };
    let any_auction: i64 = auctions::table.count().get_result(conn)?;
    if any_auction > 0 {
        return Ok(seeded);
    }
    let id_of = |conn: &mut DbConnection, name: &str| -> anyhow::Result<i64> {
        Ok(users::table
            .filter(users::username.eq(name))
            .select(users::id)
            .first(conn)?)
    };
    let reference = Reference::load(conn)?;
    let at = now();
    let won = |n: i64| Won::new(n).unwrap_or(Won::ZERO);
    let listings = [
        (
            (Subject::Lamp, 3),
            "alice",
            "황동 스탠드 조명",
            "따뜻한 빛이 나와요. 거의 안 썼어요. 역삼동에서 직접 가져가세요.",
            2,
            3,
            10_000,
            None,
            3,
            false,
        ),
        (
            (Subject::Camera, 4),
            "bob",
            "필름 카메라 (35mm)",
            "잘 작동해요. 50mm 렌즈와 스트랩도 함께 드려요.",
            1,
            8,
            50_000,
            Some(150_000),
            2,
            true,
        ),
        (
            (Subject::Bicycle, 2),
            "carol",
            "로드 자전거 54cm",
            "올봄에 정비했고 타이어도 새로 갈았어요.",
            6,
            13,
            120_000,
            Some(300_000),
            5,
            true,
        ),
        (
            (Subject::Books, 1),
            "dave",
            "어린이 그림책 20권",
            "상태 좋은 그림책 한 상자예요.",
            4,
            21,
            5_000,
            None,
            1,
            false,
        ),
    ];
    for (art, seller, title, description, category, region, start, buy_now, days, national) in
        listings
    {
        let seller = id_of(conn, seller)?;
        let stored = images::store_all(uploads, &pictures(art)?)?;
        auction_service::create_listing_with(
            conn,
            &reference,
            seller,
            &ListingDraft {
                title: Title::parse(title, TitleField::Title).map_err(anyhow::Error::msg)?,
                description: Description::parse(description, false).map_err(anyhow::Error::msg)?,
                category_id: category,
                region_id: region,
                start_price: won(start),
                increment: crate::domain::auction::Increment::Fixed(won(1000)),
                reserve_price: None,
                buy_now_price: buy_now.map(won),
                starts_at: None,
                ends_at: at + chrono::Duration::days(days),
                is_national: national,
            },
            &stored,
            uploads.per_listing,
            at,
        )
        .map_err(|e| {
            images::remove_all(&uploads.dir, &stored);
            anyhow::anyhow!("{e}")
        })?;
        seeded.auctions += 1;
    }
    let products = [
        (
            (Subject::Plant, 2),
            "erin",
            "반려식물 삽수",
            "스킨답서스와 몬스테라 삽수, 뿌리 내렸어요.",
            3_000,
            3,
            9,
            29,
        ),
        (
            (Subject::Mug, 3),
            "alice",
            "수제 도자기 머그컵",
            "직접 만든 머그컵이에요. 한 개씩, 여러 개 있어요.",
            8_000,
            4,
            2,
            3,
        ),
    ];
    for (art, seller, name, description, price, quantity, category, region) in products {
        let seller = id_of(conn, seller)?;
        market::create_product(
            conn,
            uploads,
            seller,
            &NewProduct {
                name: Title::parse(name, TitleField::ProductName).map_err(anyhow::Error::msg)?,
                description: Description::parse(description, false).map_err(anyhow::Error::msg)?,
                price: won(price),
                quantity: Quantity::parse(&quantity.to_string()).map_err(anyhow::Error::msg)?,
                category_id: category,
                region_id: region,
            },
            &pictures(art)?,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        seeded.products += 1;
    }
    Ok(seeded)
}

/// `count` drawn pictures of `subject`, checked and thumbnailed like an upload.
fn pictures((subject, count): (Subject, usize)) -> anyhow::Result<Vec<Image>> {
    (0..count)
        .map(|view| {
            let bytes = demo_art::picture(subject, view)?;
            Image::parse(bytes).map_err(anyhow::Error::msg)
        })
        .collect()
}

fn seed_users(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let password =
        Password::parse_new(DEMO_PASSWORD, DEMO_PASSWORD, "").map_err(|e| anyhow::anyhow!(e))?;
    let hash = accounts::hash_password(&password)?;
    let mut created = Vec::new();
    for (name, display, region) in DEMO_USERS {
        let username = Username::parse(name).map_err(|e| anyhow::anyhow!(e))?;
        let exists: i64 = users::table
            .filter(users::username.eq(username.as_str()))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            continue;
        }
        let new = NewAccount {
            username,
            display_name: DisplayName::parse(display).map_err(|e| anyhow::anyhow!(e))?,
            region_id: *region,
            role: Role::Member,
        };
        let id = accounts::create_account(conn, &new, &hash).map_err(|e| anyhow::anyhow!(e))?;
        wallet::deposit(
            conn,
            id,
            Won::new(DEMO_DEPOSIT).unwrap_or(Won::ZERO),
            &format!("seed-demo:{name}"),
            Some("demo money".to_owned()),
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        created.push((*name).to_owned());
    }
    Ok(created)
}
