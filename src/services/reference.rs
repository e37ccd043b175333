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

impl Region {
    /// The name indented by level for a `<select>` (`서울`, `  강남구`, `    역삼동`).
    pub fn indented_name(&self) -> String {
        let indent = "\u{a0}\u{a0}".repeat(usize::try_from(self.level - 1).unwrap_or(0));
        format!("{indent}{}", self.name)
    }
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

/// Whether `id` is a neighbourhood (the level people and listings live at), in the caller's
/// transaction.
pub fn is_neighbourhood(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    let level: Option<i32> = regions::table
        .find(id)
        .select(regions::level)
        .first(conn)
        .optional()?;
    Ok(level == Some(3))
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

/// The seeded reference data, loaded once at start-up (it never changes while serving),
/// so list pages need no query for their filters.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    pub regions: Vec<Region>,
    pub categories: Vec<Category>,
}

impl Reference {
    pub fn load(conn: &mut DbConnection) -> QueryResult<Reference> {
        Ok(Reference {
            regions: all_regions(conn)?,
            categories: all_categories(conn)?,
        })
    }

    pub fn region(&self, id: i64) -> Option<&Region> {
        self.regions.iter().find(|r| r.id == id)
    }

    pub fn category(&self, id: i64) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    /// A region and every region below it (a district includes its neighbourhoods).
    pub fn with_descendants(&self, id: i64) -> Vec<i64> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            let parent = out[i];
            out.extend(
                self.regions
                    .iter()
                    .filter(|r| r.parent_id == Some(parent))
                    .map(|r| r.id),
            );
            i += 1;
        }
        out
    }

    /// The district a region lies in: a neighbourhood's parent, or the district itself.
    pub fn district_of(&self, id: i64) -> Option<&Region> {
        let region = self.region(id)?;
        match region.level {
            3 => region.parent_id.and_then(|p| self.region(p)),
            2 => Some(region),
            _ => None,
        }
    }

    pub fn region_name(&self, id: i64) -> String {
        self.region(id)
            .map(|r| r.full_name.clone())
            .unwrap_or_default()
    }

    pub fn category_name(&self, id: i64) -> String {
        self.category(id)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    }

    /// Neighbourhoods grouped under "city › district".
    pub fn neighbourhood_groups(&self) -> Vec<RegionGroup> {
        self.regions
            .iter()
            .filter(|r| r.level == 2)
            .map(|district| RegionGroup {
                label: district.full_name.clone(),
                regions: self
                    .regions
                    .iter()
                    .filter(|r| r.parent_id == Some(district.id))
                    .cloned()
                    .collect(),
            })
            .collect()
    }
}
