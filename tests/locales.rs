//! The translation files (`locales/ko.yml`, `locales/en.yml`) hold the same keys, and every key
//! a template asks for (`ctx.t("…")`, `ctx.t_n("…", …)`, `ctx.t_count("…", …)`) is in both.
//! (The page tests in `tests/api/languages.rs` catch a key the handlers build at run time.)

use std::collections::BTreeSet;
use std::path::Path;

/// The keys of `ko.yml` (say) and of every `<area>.ko.yml` beside it.
fn keys(file: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
    let mut all = keys_of(&dir.join(file));
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.ends_with(&format!(".{file}")) {
            all.extend(keys_of(&path));
        }
    }
    all
}

fn keys_of(path: &Path) -> BTreeSet<String> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{file}: {e}"));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("_version") && !l.trim().is_empty())
        .map(|l| {
            let (key, value) = l
                .split_once(": ")
                .unwrap_or_else(|| panic!("{file}: not `key: \"text\"`: {l}"));
            assert!(
                value.starts_with('"') && value.ends_with('"') && value.len() > 2,
                "{file}: {key} has no text"
            );
            key.to_owned()
        })
        .collect()
}

fn templates(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.is_dir() {
            templates(&path, out);
        } else if path.extension().is_some_and(|e| e == "html") {
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
            out.push((path.display().to_string(), text));
        }
    }
}

#[test]
fn korean_and_english_hold_the_same_keys() {
    let ko = keys("ko.yml");
    let en = keys("en.yml");
    assert!(!ko.is_empty());
    let only_ko: Vec<_> = ko.difference(&en).collect();
    let only_en: Vec<_> = en.difference(&ko).collect();
    assert!(only_ko.is_empty(), "missing in en.yml: {only_ko:?}");
    assert!(only_en.is_empty(), "missing in ko.yml: {only_en:?}");
}

#[test]
fn every_key_a_template_asks_for_is_translated() {
    let ko = keys("ko.yml");
    let mut files = Vec::new();
    templates(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
        &mut files,
    );
    let mut asked = 0;
    for (file, text) in &files {
        for (call, plural) in [
            ("ctx.t(\"", false),
            ("ctx.t_n(\"", false),
            ("ctx.t_count(\"", true),
        ] {
            for (i, _) in text.match_indices(call) {
                let rest = &text[i + call.len()..];
                let key = &rest[..rest.find('"').unwrap_or_else(|| panic!("{file}: open key"))];
                asked += 1;
                let wanted: Vec<String> = if plural {
                    vec![format!("{key}.one"), format!("{key}.other")]
                } else {
                    vec![key.to_owned()]
                };
                for k in wanted {
                    assert!(
                        ko.contains(&k),
                        "{file} asks for `{k}`, which locales/ lacks"
                    );
                }
            }
        }
    }
    assert!(asked > 50, "the scan found the template calls ({asked})");
}
