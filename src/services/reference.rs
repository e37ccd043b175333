//! Seeded reference data: the region tree and the categories.

use diesel::prelude::*;

use crate::db::schema::{categories, regions};
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = regions)]
pub struct Region {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub level: i32,
    pub full_name: String,
}

/// Neighbourhoods grouped under "city › district", for a `<select>` with option groups.
#[derive(Debug, Clone)]
pub struct RegionGroup {
    pub label: String,
    pub regions: Vec<Region>,
}

pub fn all_regions(conn: &mut DbConnection) -> QueryResult<Vec<Region>> {
    regions::table
        .order(regions::id.asc())
        .select(Region::as_select())
        .load(conn)
}

pub fn neighbourhood_groups(conn: &mut DbConnection) -> QueryResult<Vec<RegionGroup>> {
    let all = all_regions(conn)?;
    let mut groups: Vec<RegionGroup> = Vec::new();
    for district in all.iter().filter(|r| r.level == 2) {
        groups.push(RegionGroup {
            label: district.full_name.clone(),
            regions: all
                .iter()
                .filter(|r| r.parent_id == Some(district.id))
                .cloned()
                .collect(),
        });
    }
    Ok(groups)
}

pub fn find_region(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Region>> {
    regions::table
        .find(id)
        .select(Region::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = categories)]
pub struct Category {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

pub fn all_categories(conn: &mut DbConnection) -> QueryResult<Vec<Category>> {
    categories::table
        .order(categories::id.asc())
        .select(Category::as_select())
        .load(conn)
}
