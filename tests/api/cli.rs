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
        "backup",
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
fn a_postgres_backup_without_pg_dump_names_the_command_to_run_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("site.dump");
    let out = Command::new(env!("CARGO_BIN_EXE_neighborbid"))
        .args(["backup", target.to_str().unwrap()])
        .current_dir(dir.path())
        .env("DATABASE_URL", "postgres://nb:s3cret-pw@db.local:5432/nb")
        .env("NEIGHBORBID_DATA_DIR", dir.path().join("data"))
        .env("PATH", "")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains("pg_dump is not on PATH"), "{err}");
    assert!(
        err.contains("pg_dump '--format=custom' '--no-password'")
            && err.contains("'--dbname=postgres://nb@db.local:5432/nb'"),
        "{err}"
    );
    assert!(!err.contains("s3cret-pw"), "no secrets in errors: {err}");
    assert!(
        !target.exists(),
        "nothing is left where the backup was to go"
    );
}

#[test]
fn a_backup_never_overwrites_a_file_and_never_creates_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("site.db");
    let url = format!("sqlite://{}", db.display());
    // No database yet: refused, and none is created.
    let out = neighborbid(dir.path(), &url, &["backup", "copy.db"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no SQLite database"));
    assert!(!db.exists() && !dir.path().join("copy.db").exists());
    // With one: a copy, then a refusal to write over it (the file is left as it was).
    assert!(neighborbid(dir.path(), &url, &["migrate"]).status.success());
    std::fs::write(dir.path().join("precious.db"), b"the last good backup").unwrap();
    let out = neighborbid(dir.path(), &url, &["backup", "precious.db"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        std::fs::read(dir.path().join("precious.db")).unwrap(),
        b"the last good backup"
    );
    let out = neighborbid(dir.path(), &url, &["backup", "copy.db"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = format!("sqlite://{}", dir.path().join("copy.db").display());
    let audit = neighborbid(dir.path(), &copy, &["audit"]);
    assert!(String::from_utf8_lossy(&audit.stdout).contains("audit: CLEAN"));
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
