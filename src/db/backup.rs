//! `neighborbid backup PATH`: a consistent copy of the database while the site runs.
//!
//! - SQLite: `VACUUM INTO`, which reads the whole database inside one read transaction (one
//!   snapshot: every transaction committed before it began, none after) and writes a compact
//!   copy; writers go on meanwhile (WAL).
//! - PostgreSQL: `pg_dump --format=custom`, run when it is on `PATH` (one snapshot as well);
//!   otherwise the error names the exact command to run.
//!
//! A backup never overwrites: the file is created first (`create_new`), so an existing one —
//! perhaps the last good backup — is refused and left alone.

use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context as _;
use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::config::DatabaseUrl;

/// What a backup wrote.
#[derive(Debug)]
pub struct Backup {
    pub path: PathBuf,
    pub bytes: u64,
    /// How it was made (`VACUUM INTO` or `pg_dump --format=custom`).
    pub method: &'static str,
}

/// Write a consistent copy of the database at `url` to `path`, which must not exist.
pub fn run(url: &DatabaseUrl, path: &Path) -> anyhow::Result<Backup> {
    if let DatabaseUrl::Sqlite(db) = url {
        // Never create an empty database where the site's should be.
        if !db.is_file() {
            anyhow::bail!("there is no SQLite database at {}", db.display());
        }
    }
    reserve(path)?;
    let made = match url {
        DatabaseUrl::Sqlite(db) => vacuum_into(db, path).map(|()| "VACUUM INTO"),
        DatabaseUrl::Postgres(url) => pg_dump(url, path).map(|()| "pg_dump --format=custom"),
    };
    match made {
        Ok(method) => Ok(Backup {
            path: path.to_path_buf(),
            bytes: std::fs::metadata(path)?.len(),
            method,
        }),
        Err(e) => {
            // The file is ours (created above): leave nothing half-written behind.
            let _ = std::fs::remove_file(path);
            Err(e)
        }
    }
}

/// Create `path` empty, or refuse when it exists.
fn reserve(path: &Path) -> anyhow::Result<()> {
    match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => anyhow::bail!(
            "{} already exists; a backup never overwrites a file, so give it a new name",
            path.display()
        ),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

fn vacuum_into(db: &Path, path: &Path) -> anyhow::Result<()> {
    let mut conn = match super::establish(&DatabaseUrl::Sqlite(db.to_path_buf()))? {
        super::DbConnection::Sqlite(c) => c,
        super::DbConnection::Pg(_) => anyhow::bail!("expected an SQLite connection"),
    };
    let target = path
        .to_str()
        .context("the backup path is not UTF-8; choose another")?;
    // The file exists (empty, reserved above): SQLite writes into an empty file.
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(target)
        .execute(&mut conn)
        .context("VACUUM INTO failed")?;
    Ok(())
}

/// The pieces of a `postgres://user:password@host/db` URL that `pg_dump` takes: the URL
/// without its password, and the password (percent-decoded) for `PGPASSWORD`, so it never
/// appears on a command line other users can read.
fn split_password(url: &str) -> (String, Option<String>) {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return (url.to_owned(), None);
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return (url.to_owned(), None);
    };
    let userinfo = &rest[..at];
    let Some((user, password)) = userinfo.split_once(':') else {
        return (url.to_owned(), None);
    };
    let bare = format!("{}{user}{}", &url[..scheme_end], &rest[at..]);
    (bare, Some(percent_decode(password)))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let (h, l) = (hex(h).unwrap_or(0), hex(l).unwrap_or(0));
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `pg_dump` command line for `url` into `path` (without the password).
pub fn pg_dump_args(url: &str, path: &Path) -> Vec<String> {
    let (bare, _) = split_password(url);
    vec![
        "--format=custom".to_owned(),
        "--no-password".to_owned(),
        format!("--file={}", path.display()),
        format!("--dbname={bare}"),
    ]
}

fn pg_dump(url: &str, path: &Path) -> anyhow::Result<()> {
    let (_, password) = split_password(url);
    let args = pg_dump_args(url, path);
    let mut cmd = Command::new("pg_dump");
    cmd.args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(p) = &password {
        cmd.env("PGPASSWORD", p);
    }
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let shown = args
                .iter()
                .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
                .collect::<Vec<_>>()
                .join(" ");
            let env = if password.is_some() {
                "PGPASSWORD=… "
            } else {
                ""
            };
            anyhow::bail!(
                "pg_dump is not on PATH (install the PostgreSQL client of the server's major version); \
                 make the backup with: {env}pg_dump {shown}"
            );
        }
        Err(e) => return Err(e).context("cannot run pg_dump"),
    };
    if !out.status.success() {
        anyhow::bail!(
            "pg_dump failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_goes_to_the_environment_not_the_command_line() {
        assert_eq!(
            split_password("postgres://bob:p%40ss%3Aw@db.local:5432/nb?sslmode=require"),
            (
                "postgres://bob@db.local:5432/nb?sslmode=require".to_owned(),
                Some("p@ss:w".to_owned())
            )
        );
        assert_eq!(
            split_password("postgres://bob@db.local/nb"),
            ("postgres://bob@db.local/nb".to_owned(), None)
        );
        assert_eq!(
            split_password("postgresql://db.local/nb?user=x@y"),
            ("postgresql://db.local/nb?user=x@y".to_owned(), None)
        );
        let args = pg_dump_args("postgres://bob:hunter2@h/nb", Path::new("/tmp/x.dump"));
        assert!(!args.join(" ").contains("hunter2"), "{args:?}");
    }
}
