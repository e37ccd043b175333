//! The `neighborbid` command: `serve` (default), `migrate`, `create-admin`, `audit`, `backup`,
//! `seed-demo`.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use diesel::prelude::*;

use neighborbid::config::Settings;
use neighborbid::db::{self, schema::regions};
use neighborbid::domain::{Password, Username};
use neighborbid::services::{accounts, audit, seed};
use neighborbid::startup::Application;

/// mimalloc returns freed memory to the system; with glibc's malloc every argon2 computation
/// (~19 MiB) stayed in the process (see docs/BENCHMARKS.md, "Login flood").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "neighborbid",
    version,
    about = "NeighborBid: a neighbourhood auction site"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site (the default): http://127.0.0.1:8080 unless NEIGHBORBID_BIND says otherwise.
    Serve,
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Create an admin account (or promote an existing one). The password is read from
    /// NEIGHBORBID_ADMIN_PASSWORD or, when unset, from the first line of standard input.
    CreateAdmin {
        /// The admin's username.
        username: String,
    },
    /// Check that every wallet matches its journal and no money was created or lost.
    /// Exits 0 when clean, 1 on any difference.
    Audit,
    /// Write a consistent copy of the database to PATH while the site runs (SQLite:
    /// `VACUUM INTO`; PostgreSQL: `pg_dump --format=custom`, which must be on PATH). Refuses to
    /// overwrite an existing file. README "Durability and backups" says how to restore.
    Backup {
        /// A file that does not exist yet.
        path: std::path::PathBuf,
    },
    /// Add demo neighbours with money in their wallets (safe to run twice).
    SeedDemo,
    /// Payments through PortOne.
    Payments {
        #[command(subcommand)]
        command: PaymentsCommand,
    },
}

#[derive(Subcommand)]
enum PaymentsCommand {
    /// Ask PortOne about every payment and refund not in a final state and settle each once;
    /// prints what it settled. With the built-in simulator, the running site (NEIGHBORBID_BIND)
    /// is asked.
    Reconcile,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    neighborbid::telemetry::init("info,actix_server=warn");
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => connect(&settings).map(|_| {
            println!(
                "database is up to date ({})",
                settings.database_url.redacted()
            );
            ExitCode::SUCCESS
        }),
        Command::CreateAdmin { username } => create_admin(&settings, &username),
        Command::Audit => run_audit(&settings),
        Command::Backup { path } => backup(&settings, &path),
        Command::SeedDemo => seed_demo(&settings),
        Command::Payments {
            command: PaymentsCommand::Reconcile,
        } => reconcile(&settings),
    };
    match result {
        Ok(code) => code,
        Err(e) => fail(&format!("{e:#}")),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {}", message.replace('\n', " "));
    ExitCode::FAILURE
}

/// The command line needs one connection, not a pool (whose background threads could still be
/// connecting when the command exits).
fn connect(settings: &Settings) -> anyhow::Result<db::DbConnection> {
    db::open(&settings.database_url)
}

fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    actix_web::rt::System::new().block_on(async move {
        let bind = settings.bind.clone();
        let db = settings.database_url.redacted();
        let timeout = settings.shutdown_timeout;
        let app = Application::build(settings).await?;
        // SIGTERM or SIGINT: drain and exit 0 (see `startup`); a second one: exit at once.
        let mut signal = neighborbid::startup::termination_signal()?;
        let stopper = app.stopper();
        actix_web::rt::spawn(async move {
            let name = signal.await;
            tracing::info!(
                "{name} received: shutting down (at most {} s; send it again to stop at once)",
                timeout.as_secs()
            );
            stopper.stop();
            signal = match neighborbid::startup::termination_signal() {
                Ok(again) => again,
                Err(_) => return,
            };
            let name = signal.await;
            tracing::warn!("{name} received again: exiting without waiting");
            std::process::exit(1);
        });
        let host = bind.rsplit_once(':').map_or(bind.as_str(), |(h, _)| h);
        tracing::info!(database = %db, "NeighborBid is listening on http://{host}:{}", app.port());
        app.run_until_stopped().await?;
        tracing::info!("NeighborBid has stopped");
        Ok(ExitCode::SUCCESS)
    })
}

fn create_admin(settings: &Settings, username: &str) -> anyhow::Result<ExitCode> {
    let username = Username::parse(username).map_err(|e| anyhow::anyhow!(e))?;
    let raw = match std::env::var("NEIGHBORBID_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            if std::io::stdin().is_terminal() {
                eprint!("Password for {username}: ");
                std::io::stderr().flush()?;
            }
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let password =
        Password::parse_new(&raw, &raw, username.as_str()).map_err(|e| anyhow::anyhow!(e))?;
    let mut conn = connect(settings)?;
    let region: i64 = regions::table
        .filter(regions::level.eq(3))
        .order(regions::id.asc())
        .select(regions::id)
        .first(&mut conn)?;
    let hash = accounts::hash_password(&password)?;
    match accounts::create_or_promote_admin(&mut conn, &username, &hash, region)
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        accounts::AdminOutcome::Created(id) => println!("created admin {username} (user {id})"),
        accounts::AdminOutcome::Promoted(id) => {
            println!(
                "{username} (user {id}) already existed and is now an admin; password unchanged"
            )
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_audit(settings: &Settings) -> anyhow::Result<ExitCode> {
    let mut conn = connect(settings)?;
    let report = audit::run(&mut conn)?;
    print!("{}", report.summary());
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn backup(settings: &Settings, path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let made = db::backup::run(&settings.database_url, path)?;
    println!(
        "backup of {} written to {} ({} bytes, {})",
        settings.database_url.redacted(),
        made.path.display(),
        made.bytes,
        made.method
    );
    Ok(ExitCode::SUCCESS)
}

fn reconcile(settings: &Settings) -> anyhow::Result<ExitCode> {
    let pool = db::connect_and_migrate(&settings.database_url, 2, None)?;
    let p = &settings.portone;
    let url = match &p.api_url {
        Some(url) => url.clone(),
        None => {
            let bind = settings.bind.replacen("0.0.0.0:", "127.0.0.1:", 1);
            format!("http://{bind}{}", neighborbid::web::portone_sim::PREFIX)
        }
    };
    let portone = neighborbid::portone::PortOne::new(&url, &p.api_key, &p.api_secret, p.timeout);
    let report = neighborbid::services::reconcile::run(
        &pool,
        &portone,
        neighborbid::services::refunds::refund_min_age(p.timeout),
    )?;
    print!("{}", report.summary());
    Ok(ExitCode::SUCCESS)
}

fn seed_demo(settings: &Settings) -> anyhow::Result<ExitCode> {
    let mut conn = connect(settings)?;
    let uploads = neighborbid::services::images::Uploads::new(settings);
    let seeded = seed::seed_demo(&mut conn, &uploads)?;
    if seeded.users.is_empty() {
        println!("demo users already present");
    } else {
        println!(
            "created demo users {} (password: {}), each with ₩{} in their wallet",
            seeded.users.join(", "),
            seed::DEMO_PASSWORD,
            neighborbid::domain::money::group_thousands(seed::DEMO_DEPOSIT)
        );
    }
    if seeded.auctions + seeded.products > 0 {
        println!(
            "listed {} auctions (two of them national) and {} market products",
            seeded.auctions, seeded.products
        );
    }
    Ok(ExitCode::SUCCESS)
}
