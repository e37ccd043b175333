//! The command line: help, clear errors for bad database URLs, matching migration trees.

use std::process::Command;

fn neighborbid(dir: &std::path::Path, database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_neighborbid"))
        .args(args)
        .current_dir(dir)
        .env("DATABASE_URL", database_url)
        .env("NEIGHBORBID_DATA_DIR", dir.join("data"))
        .output()
        .expect("run neighborbid")
}

#[test]
fn help_lists_every_subcommand() {
    let out = Command::new(env!("CARGO_BIN_EXE_neighborbid"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in [
        "serve",
        "migrate",
        "create-admin",
        "audit",
        "seed-demo",
        "payments",
    ] {
        assert!(text.contains(sub), "{sub} missing from:\n{text}");
    }
}

#[test]
fn a_database_url_of_unknown_form_is_a_one_line_error_and_creates_no_file() {
    let dir = tempfile::tempdir().unwrap();
    for url in [
        "host=localhost port=5432",
        "mysql://root@localhost/nb",
        "neighborbid.db",
    ] {
        let out = neighborbid(dir.path(), url, &["migrate"]);
        assert!(!out.status.success(), "{url}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(
            err.contains("DATABASE_URL must start with sqlite:// or postgres://"),
            "{err}"
        );
        assert!(!err.contains("panicked"));
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "no file may be created: {left:?}");
}

#[test]
fn an_unreachable_postgres_server_is_a_one_line_error_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://nb:s3cret-pw@127.0.0.1:{port}/nb");
    let out = neighborbid(dir.path(), &url, &["audit"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains("cannot connect to the database"), "{err}");
    assert!(
        err.contains("Connection refused") || err.contains("connection refused"),
        "{err}"
    );
    assert!(!err.contains("s3cret-pw"), "no secrets in errors: {err}");
    assert!(!err.contains("panicked"));
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "no SQLite file may be created: {left:?}");
}

#[test]
fn both_migration_trees_have_the_same_migrations() {
    let names = |backend: &str| {
        let mut v: Vec<String> = std::fs::read_dir(format!(
            "{}/migrations/{backend}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| {
            for f in ["up.sql", "down.sql"] {
                assert!(
                    e.path().join(f).is_file(),
                    "{backend}/{:?} lacks {f}",
                    e.file_name()
                );
            }
            e.file_name().to_string_lossy().into_owned()
        })
        .collect();
        v.sort();
        v
    };
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names("postgres"));
}
