//! One pager for every paged list (auctions, market, wallet journal): the page numbers and the
//! links to the neighbouring pages, shown by `partials/_pager.html`.

/// Where a paged list stands, and the addresses of the pages before and after.
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `path` with the query `filters` (empty values left out) and `page=N`.
    pub fn new(
        page: i64,
        total: i64,
        per_page: i64,
        path: &str,
        filters: &[(&str, String)],
    ) -> Pager {
        let pages = ((total + per_page - 1) / per_page.max(1)).max(1);
        let link = |p: i64| {
            let mut pairs: Vec<(&str, String)> = filters
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .cloned()
                .collect();
            pairs.push(("page", p.to_string()));
            format!(
                "{path}?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            )
        };
        Pager {
            page,
            pages,
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        }
    }
}

/// A `?page=` value: a bad or missing one is the first page.
pub fn page_number(raw: &str) -> i64 {
    raw.trim().parse::<i64>().unwrap_or(1).clamp(1, 1_000_000)
}
