//! The translation files (`locales/ko.yml` and `en.yml`, and each area's `locales/<area>.ko.yml`
//! and `<area>.en.yml`) hold the same keys in both languages, no key is defined twice, and every
//! key a template asks for (`ctx.t("…")`, `ctx.t_n("…", …)`, `ctx.t_ab("…", …)`,
//! `ctx.t_count("…", …)`) is in both.
//! (The page tests in `tests/api/languages.rs` catch a key the handlers build at run time.)
//! The sentences built in Rust (`locales/msg.ko.yml`, `locales/msg.en.yml`: errors, flashes,
//! notices) are checked the same way: the same keys in both, and every key literal in `src/`
//! (`Msg::new("err.…")`) present.

use std::collections::BTreeSet;
use std::path::Path;

/// Every translation file: (area, language, file name), `ko.yml` being area "".
fn files() -> Vec<(String, String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
        let name = entry
            .unwrap_or_else(|e| panic!("{e}"))
            .file_name()
            .to_string_lossy()
            .into_owned();
        let Some(stem) = name.strip_suffix(".yml") else {
            panic!("locales/{name}: only .yml files belong there");
        };
        let (area, lang) = stem.rsplit_once('.').unwrap_or(("", stem));
        assert!(
            lang == "ko" || lang == "en",
            "locales/{name}: the language (ko or en) ends the name"
        );
        out.push((area.to_owned(), lang.to_owned(), name));
    }
    out.sort();
    out
}

/// Every key of one language, over all its files; a key defined twice fails.
fn all_keys(lang: &str) -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    for (_, l, file) in files() {
        if l != lang {
            continue;
        }
        for key in keys(&file) {
            assert!(all.insert(key.clone()), "{key} is defined twice ({file})");
        }
    }
    all
}

fn keys(file: &str) -> BTreeSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("locales")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
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
    let files = files();
    assert!(files.len() >= 4, "{files:?}");
    for (area, lang, file) in &files {
        let other = if lang == "ko" { "en" } else { "ko" };
        let twin = if area.is_empty() {
            format!("{other}.yml")
        } else {
            format!("{area}.{other}.yml")
        };
        let mine = keys(file);
        assert!(!mine.is_empty(), "{file} is empty");
        let theirs = keys(&twin);
        let missing: Vec<_> = mine.difference(&theirs).collect();
        assert!(missing.is_empty(), "missing in {twin}: {missing:?}");
    }
    let (ko, en) = (all_keys("ko"), all_keys("en"));
    assert_eq!(ko, en);
}

#[test]
fn every_key_a_template_asks_for_is_translated() {
    let ko = all_keys("ko");
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
            ("ctx.t_ab(\"", false),
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

#[test]
fn the_sentences_built_in_rust_hold_the_same_keys_in_both_languages() {
    let ko = keys("msg.ko.yml");
    let en = keys("msg.en.yml");
    assert!(ko.len() > 200, "msg.ko.yml has {} keys", ko.len());
    let only_ko: Vec<_> = ko.difference(&en).collect();
    let only_en: Vec<_> = en.difference(&ko).collect();
    assert!(only_ko.is_empty(), "missing in msg.en.yml: {only_ko:?}");
    assert!(only_en.is_empty(), "missing in msg.ko.yml: {only_en:?}");
}

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
            out.push((path.display().to_string(), text));
        }
    }
}

/// Every `"err.…"`, `"flash.…"`, `"notice.…"`, `"words.…"`, `"wait.…"`, `"field.…"`,
/// `"rule.…"`, `"span.…"` and `"status.…"` literal in `src/` is a key both languages hold (a typo would show on the page as
/// `ko.err.…`).
#[test]
fn every_key_the_rust_code_asks_for_is_translated() {
    let mut known = keys("msg.ko.yml");
    known.extend(keys("ko.yml"));
    let mut known_en = keys("msg.en.yml");
    known_en.extend(keys("en.yml"));
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let prefixes = [
        "err.", "flash.", "notice.", "words.", "wait.", "field.", "status.", "rule.", "span.",
    ];
    let mut asked = 0;
    for (file, text) in &files {
        for (i, _) in text.match_indices('"') {
            let rest = &text[i + 1..];
            let Some(end) = rest.find('"') else { continue };
            let lit = &rest[..end];
            let is_key = prefixes.iter().any(|p| lit.starts_with(p))
                && lit.len() > 4
                && lit
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
            if !is_key {
                continue;
            }
            asked += 1;
            assert!(
                known.contains(lit),
                "{file} asks for `{lit}`, which Korean lacks"
            );
            assert!(
                known_en.contains(lit),
                "{file} asks for `{lit}`, which English lacks"
            );
        }
    }
    assert!(asked > 250, "the scan found the key literals ({asked})");
}
