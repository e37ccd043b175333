//! Whether the database keeps what it acknowledged: PostgreSQL settings that would let an
//! answered commit vanish in a crash are reported at start-up (the site never changes them).

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::DbConnection;

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

/// One line per PostgreSQL setting that weakens durability (`fsync`, `synchronous_commit`,
/// `full_page_writes` off); none on SQLite, whose connections set their own (`db::establish`).
pub fn warnings(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    let DbConnection::Pg(c) = conn else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for name in ["fsync", "synchronous_commit", "full_page_writes"] {
        let setting: Setting = diesel::sql_query("SELECT current_setting($1) AS value")
            .bind::<Text, _>(name)
            .get_result(c)?;
        if setting.value == "off" {
            out.push(format!(
                "PostgreSQL runs with {name} = off: a crash of the database server can lose \
                 bids and payments the site has already acknowledged; turn it on for a real site"
            ));
        }
    }
    Ok(out)
}
