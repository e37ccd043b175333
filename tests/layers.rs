//! The architecture, checked: reads every file under `src/` (the library, not the binaries),
//! follows its `crate::…` and `super::…` paths, and fails when
//! - two modules import each other, directly or around a longer loop (a parent mounting its own
//!   children — `mod.rs` naming its handlers in the routes — is not an import back), or
//! - a lower layer imports a higher one: `domain`/`config`/`telemetry` → `db`/`portone` → `services` →
//!   `views`/`live`/`jobs` → `web` → `startup`. A new top-level module must be given a layer here.
#![expect(
    clippy::expect_used,
    reason = "a test fails loudly on the first surprise"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layer of each top-level module: a module may import its own layer or lower ones.
fn layer(top: &str) -> Option<u8> {
    Some(match top {
        "domain" | "config" | "telemetry" => 0,
        "db" | "portone" => 1,
        "services" => 2,
        "views" | "live" | "jobs" => 3,
        "web" => 4,
        "startup" => 5,
        _ => return None,
    })
}

type Module = Vec<String>;

/// A source tree as (module path, text), e.g. (["web", "auctions"], "use crate::…").
struct Tree {
    files: BTreeMap<Module, String>,
}

impl Tree {
    fn read(src: &Path) -> Tree {
        let mut files = BTreeMap::new();
        let mut stack = vec![src.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read src") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    if path.file_name().is_some_and(|n| n == "bin") && dir == src {
                        continue; // binaries sit above everything
                    }
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let rel = path.strip_prefix(src).expect("under src");
                if rel == Path::new("main.rs") {
                    continue;
                }
                let mut module: Module = rel
                    .with_extension("")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if module.last().is_some_and(|l| l == "mod" || l == "lib") {
                    module.pop();
                }
                files.insert(module, std::fs::read_to_string(&path).expect("read file"));
            }
        }
        Tree { files }
    }

    /// Macros exported at the crate root (`crate::per_backend!`) belong to the file defining them.
    fn exported_macros(&self) -> BTreeMap<String, Module> {
        let mut out = BTreeMap::new();
        for (module, text) in &self.files {
            let mut rest = text.as_str();
            while let Some(at) = rest.find("macro_rules!") {
                rest = &rest[at + "macro_rules!".len()..];
                let name: String = rest
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.insert(name, module.clone());
            }
        }
        out
    }

    /// The module a path names: the longest prefix that is a file of the tree.
    fn resolve(&self, path: &[String], macros: &BTreeMap<String, Module>) -> Option<Module> {
        for len in (1..=path.len()).rev() {
            if self.files.contains_key(&path[..len]) {
                return Some(path[..len].to_vec());
            }
        }
        path.first().and_then(|first| macros.get(first).cloned())
    }

    /// Every module each module imports (edges from a parent to its own descendants left out).
    fn imports(&self) -> BTreeMap<Module, BTreeSet<Module>> {
        let macros = self.exported_macros();
        let mut graph = BTreeMap::new();
        for (module, text) in &self.files {
            let mut targets = BTreeSet::new();
            for path in paths(&code_only(text)) {
                let absolute: Module = match path.first().map(String::as_str) {
                    Some("crate") | Some("$crate") => path[1..].to_vec(),
                    Some("super") => {
                        let mut base = module.clone();
                        let mut rest = &path[..];
                        while rest.first().is_some_and(|s| s == "super") {
                            base.pop();
                            rest = &rest[1..];
                        }
                        base.extend(rest.iter().cloned());
                        base
                    }
                    _ => continue,
                };
                if let Some(target) = self.resolve(&absolute, &macros) {
                    let parent_to_child = target.starts_with(module);
                    if target != *module && !parent_to_child {
                        targets.insert(target);
                    }
                }
            }
            graph.insert(module.clone(), targets);
        }
        graph
    }
}

/// The text without comments and without `#[cfg(test)]` modules (whose `super` is the file).
fn code_only(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::…`, `$crate::…` and `super::…` path in the code, `use` groups expanded.
fn paths(code: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts = ["$crate::", "crate::", "super::"]
            .iter()
            .find(|p| matches_at(&chars, i, p));
        let boundary = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        match starts {
            Some(p) if boundary => {
                let (found, next) = parse_path(&chars, i, Vec::new());
                out.extend(found);
                i = next.max(i + p.len());
            }
            _ => i += 1,
        }
    }
    out
}

fn matches_at(chars: &[char], i: usize, pat: &str) -> bool {
    pat.chars()
        .enumerate()
        .all(|(k, c)| chars.get(i + k) == Some(&c))
}

/// Parse `a::b::{c, d::e}` at `i` with `prefix`; returns the full paths and where it ended.
fn parse_path(chars: &[char], mut i: usize, prefix: Vec<String>) -> (Vec<Vec<String>>, usize) {
    let mut path = prefix;
    loop {
        while chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        if chars.get(i) == Some(&'{') {
            let mut all = Vec::new();
            i += 1;
            loop {
                while chars.get(i).is_some_and(|c| c.is_whitespace() || *c == ',') {
                    i += 1;
                }
                match chars.get(i) {
                    Some('}') | None => return (all, i + 1),
                    _ => {
                        let (found, next) = parse_path(chars, i, path.clone());
                        all.extend(found);
                        i = next;
                        // Skip `as name` and anything else up to the next item.
                        while chars.get(i).is_some_and(|c| *c != ',' && *c != '}') {
                            i += 1;
                        }
                    }
                }
            }
        }
        let start = i;
        while chars
            .get(i)
            .is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
        {
            i += 1;
        }
        if i == start {
            return (vec![path], i);
        }
        path.push(chars[start..i].iter().collect());
        if matches_at(chars, i, "::") {
            i += 2;
        } else {
            return (vec![path], i);
        }
    }
}

/// One import cycle, if there is any, as a list of modules.
fn find_cycle(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &Module,
        graph: &BTreeMap<Module, BTreeSet<Module>>,
        marks: &mut BTreeMap<Module, Mark>,
        stack: &mut Vec<Module>,
    ) -> Option<Vec<Module>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = stack.iter().position(|m| m == node).expect("on the stack");
                let mut cycle = stack[from..].to_vec();
                cycle.push(node.clone());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.clone(), Mark::Open);
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(node.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut marks, &mut Vec::new()) {
            return Some(cycle);
        }
    }
    None
}

/// Every broken rule, in words.
fn violations(tree: &Tree) -> Vec<String> {
    let graph = tree.imports();
    let name = |m: &Module| {
        if m.is_empty() {
            "crate".to_owned()
        } else {
            m.join("::")
        }
    };
    let mut problems = Vec::new();
    if let Some(cycle) = find_cycle(&graph) {
        problems.push(format!(
            "import cycle: {}",
            cycle.iter().map(name).collect::<Vec<_>>().join(" → ")
        ));
    }
    // Top-level modules alone must not loop either (live → views → live through other files).
    let mut tops: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (from, targets) in &graph {
        for to in targets {
            if let (Some(a), Some(b)) = (from.first(), to.first()) {
                if a != b {
                    tops.entry(vec![a.clone()])
                        .or_default()
                        .insert(vec![b.clone()]);
                }
            }
        }
    }
    if let Some(cycle) = find_cycle(&tops) {
        problems.push(format!(
            "top-level import cycle: {}",
            cycle.iter().map(name).collect::<Vec<_>>().join(" → ")
        ));
    }
    for (from, targets) in &graph {
        let Some(top) = from.first() else { continue };
        let Some(own) = layer(top) else {
            problems.push(format!(
                "{} has no layer: give `{top}` one in tests/layers.rs",
                name(from)
            ));
            continue;
        };
        for to in targets {
            let Some(other) = to.first() else { continue };
            if let Some(theirs) = layer(other) {
                if theirs > own {
                    problems.push(format!(
                        "{} (layer {own}) imports {} (layer {theirs}), a higher layer",
                        name(from),
                        name(to)
                    ));
                }
            }
        }
    }
    problems
}

#[test]
fn no_module_imports_one_that_imports_it_back_and_layers_point_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let tree = Tree::read(&src);
    assert!(
        tree.files.len() > 30,
        "read only {} files from {}",
        tree.files.len(),
        src.display()
    );
    let graph = tree.imports();
    // The reader sees real imports: the web layer reaches the services.
    assert!(graph[&vec!["web".to_owned(), "wallet".to_owned()]]
        .iter()
        .any(|m| m.first().is_some_and(|t| t == "services")));
    let problems = violations(&tree);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn fake(files: &[(&str, &str)]) -> Tree {
    Tree {
        files: files
            .iter()
            .map(|(m, text)| {
                let module = if m.is_empty() {
                    vec![]
                } else {
                    m.split("::").map(str::to_owned).collect()
                };
                (module, (*text).to_owned())
            })
            .collect(),
    }
}

#[test]
fn the_checker_finds_a_two_file_cycle_through_a_use_group() {
    let tree = fake(&[
        ("", "pub mod db; pub mod services;"),
        ("db", "use crate::services::{wallet::{self, Row}};"),
        ("services", "pub mod wallet;"),
        ("services::wallet", "use crate::db::{lock, DbConnection};"),
    ]);
    let problems = violations(&tree);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("import cycle: db → services::wallet → db")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("db (layer 1) imports services::wallet (layer 2)")),
        "{problems:?}"
    );
}

#[test]
fn the_checker_finds_a_cycle_through_super_and_inline_paths_but_not_parent_to_child() {
    let tree = fake(&[
        (
            "web",
            "pub mod ctx; pub mod error; fn routes() { ctx::x(); }",
        ),
        ("web::ctx", "fn f() -> super::error::AppError { todo() }"),
        (
            "web::error",
            "// crate::web::nothing in a comment\nfn g() { crate::web::ctx::Ctx::anonymous(); }",
        ),
    ]);
    let problems = violations(&tree);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("web::ctx → web::error → web::ctx"));

    let fine = fake(&[
        ("web", "pub mod ctx; use crate::web::ctx::Ctx;"),
        (
            "web::ctx",
            "use crate::web::AppState; use crate::services::now;",
        ),
        ("services", "use crate::domain::Won;"),
        ("domain", ""),
    ]);
    assert_eq!(violations(&fine), Vec::<String>::new());
}

#[test]
fn the_checker_finds_an_upward_import_and_an_unplaced_module() {
    let tree = fake(&[
        ("domain", "use crate::db::DbConnection;"),
        ("db", ""),
        ("gadgets", "use crate::domain::Won;"),
    ]);
    let problems = violations(&tree);
    assert!(
        problems
            .iter()
            .any(|p| p == "domain (layer 0) imports db (layer 1), a higher layer"),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("gadgets has no layer")),
        "{problems:?}"
    );
}
