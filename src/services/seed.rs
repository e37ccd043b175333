//! `seed-demo`: demo neighbours with money in their wallets. Safe to run twice.

use diesel::prelude::*;

use crate::db::schema::{auctions, users};
use crate::db::DbConnection;
use crate::domain::market::Quantity;
use crate::domain::{Description, DisplayName, Password, Title, TitleField, Username, Won};
use crate::services::accounts::{self, NewAccount, Role};
use crate::services::auctions::{self as auction_service, ListingDraft};
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
            "alice",
            "Brass desk lamp",
            "Warm light, barely used. Pick up in 역삼동.",
            2,
            3,
            10_000,
            None,
            3,
            false,
        ),
        (
            "bob",
            "Film camera (35 mm)",
            "Works well, with a 50 mm lens and strap.",
            1,
            8,
            50_000,
            Some(150_000),
            2,
            true,
        ),
        (
            "carol",
            "Road bike, 54 cm",
            "Serviced this spring; new tyres.",
            6,
            13,
            120_000,
            Some(300_000),
            5,
            true,
        ),
        (
            "dave",
            "Children's books (20)",
            "A box of picture books in good condition.",
            4,
            21,
            5_000,
            None,
            1,
            false,
        ),
    ];
    for (seller, title, description, category, region, start, buy_now, days, national) in listings {
        let seller = id_of(conn, seller)?;
        auction_service::create_listing(
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
            None,
            at,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        seeded.auctions += 1;
    }
    let products = [
        (
            "erin",
            "Houseplant cuttings",
            "Pothos and monstera cuttings, rooted.",
            3_000,
            3,
            9,
            29,
        ),
        (
            "alice",
            "Ceramic mugs",
            "Handmade, set of one; several available.",
            8_000,
            4,
            2,
            3,
        ),
    ];
    for (seller, name, description, price, quantity, category, region) in products {
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
            None,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        seeded.products += 1;
    }
    Ok(seeded)
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
