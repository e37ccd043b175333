//! `seed-demo`: demo neighbours with money in their wallets. Safe to run twice.

use diesel::prelude::*;

use crate::db::schema::users;
use crate::db::DbConnection;
use crate::domain::{DisplayName, Password, Username, Won};
use crate::services::accounts::{self, NewAccount, Role};
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

/// Returns the usernames created now (existing ones are left alone).
pub fn seed_demo(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
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
