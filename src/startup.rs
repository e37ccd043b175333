//! Build the application: data dir, secret key, pool + migrations, routes, server, and the
//! background jobs (the market scheduler) that run beside it; and stop it gracefully.
//!
//! Shutdown (`SIGTERM`/`SIGINT` in `main.rs`, or [`Stopper::stop`]): the listener stops
//! accepting, requests in flight finish (their transactions commit or roll back as they
//! would), idle keep-alive connections close, every live socket finishes what it is doing and
//! closes with "going away" (1001), the scheduler stops between two auctions; whatever is still
//! running after `Settings::shutdown_timeout` is dropped.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_session::config::PersistentSession;
use actix_session::storage::CookieSessionStore;
use actix_session::SessionMiddleware;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;
use tracing_actix_web::TracingLogger;

use crate::config::{Settings, MIN_SECRET_KEY_BYTES};
use crate::db::{self, DbPool};
use crate::services::reference::Reference;
use crate::web::ratelimit::{Limiter, LoginThrottle};
use crate::web::{self as site, AppState};

pub const SECRET_KEY_FILE: &str = "secret.key";

pub struct Application {
    port: u16,
    server: Server,
    pool: DbPool,
    scheduler: bool,
    /// Trades not confirmed by their buyer are confirmed this long after the sale.
    trade_auto_confirm: Duration,
    live: Arc<crate::live::LiveHub>,
    /// For the payments sweeper (expired virtual accounts).
    portone: Arc<crate::portone::PortOne>,
    shutdown_timeout: Duration,
}

/// Starts a graceful shutdown of one [`Application`] (cheap to clone, usable from any thread).
#[derive(Clone)]
pub struct Stopper {
    live: Arc<crate::live::LiveHub>,
}

impl Stopper {
    /// Begin the graceful shutdown; [`Application::run_until_stopped`] returns once it is done.
    pub fn stop(&self) {
        self.live.shut_down();
    }
}

/// Resolves once a shutdown has begun.
async fn shutdown_begun(mut rx: tokio::sync::watch::Receiver<bool>) {
    while !*rx.borrow_and_update() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

impl Application {
    /// Prepare everything and bind the listener; the server runs once awaited.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                settings.data_dir.display()
            )
        })?;
        let key = session_key(&settings)?;
        let url = settings.database_url.clone();
        let size = settings.db_pool_size;
        let counter = settings.query_counter.clone();
        let (pool, reference) = actix_web::rt::task::spawn_blocking(move || {
            let pool = db::connect_and_migrate(&url, size, counter)?;
            let mut conn = pool.get()?;
            let reference = Reference::load(&mut conn)?;
            match db::durability::warnings(&mut conn) {
                Ok(warnings) => warnings.iter().for_each(|w| tracing::warn!("{w}")),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the database's durability settings")
                }
            }
            drop(conn);
            Ok::<_, anyhow::Error>((pool, reference))
        })
        .await
        .context("database setup was interrupted")??;

        let listen_url = match &settings.database_url {
            crate::config::DatabaseUrl::Postgres(url) => Some(url.clone()),
            crate::config::DatabaseUrl::Sqlite(_) => None,
        };
        let live = crate::live::LiveHub::start(pool.clone(), settings.timezone, listen_url)?;
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let local = listener.local_addr()?;
        let port = local.port();
        let settings = Arc::new(settings);
        let (portone, portone_sim) = portone_client(&settings, local);
        let payments_client = portone.clone();
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            settings: settings.clone(),
            login_throttle: LoginThrottle::new(
                settings.login_attempts_per_ip,
                settings.login_attempts_per_username,
                settings.login_free_failures,
            ),
            signups_by_ip: Limiter::new(settings.signups_per_ip, Duration::from_secs(60 * 60)),
            passwords: site::passwords::PasswordWork::per_core(),
            reference: Arc::new(reference),
            sockets: site::sockets::SocketSlots::new(
                settings.ws_max_per_user,
                settings.ws_max_per_ip,
            ),
            live: live.clone(),
            upload_slots: Arc::new(tokio::sync::Semaphore::new(settings.upload_concurrency)),
            portone,
            portone_sim,
        });
        let secure = settings.is_https();
        let portone_sdk = !settings.portone.is_simulated() && !settings.portone.imp_code.is_empty();
        let simulated = settings.portone.is_simulated();
        let mut server = HttpServer::new(move || {
            let session = SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                .cookie_name("nb_session".to_owned())
                .cookie_secure(secure)
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Lax)
                .session_lifecycle(PersistentSession::default().session_ttl(
                    actix_web::cookie::time::Duration::days(
                        crate::services::sessions::SESSION_DAYS,
                    ),
                ))
                .build();
            App::new()
                .wrap(site::headers::security_headers(secure, portone_sdk))
                .wrap(from_fn(site::csrf::guard))
                .wrap(from_fn(site::lang::in_language))
                .wrap(session)
                .wrap(TracingLogger::default())
                .app_data(state.clone())
                .app_data(
                    web::FormConfig::default()
                        .limit(site::csrf::FORM_LIMIT)
                        .error_handler(site::error::form_error),
                )
                .app_data(web::PayloadConfig::default().limit(site::csrf::FORM_LIMIT))
                .app_data(web::QueryConfig::default().error_handler(site::error::query_error))
                .app_data(web::PathConfig::default().error_handler(site::error::path_error))
                .configure(site::routes)
                .configure(|cfg| {
                    if simulated {
                        site::portone_sim::routes(cfg);
                    }
                })
                .default_service(web::to(site::pages::not_found))
        })
        // Keep idle connections as long as browsers do (actix's default is 5 s): a client that
        // reuses a connection the server is closing at that moment gets a reset, and under load
        // a short window makes that race common.
        .keep_alive(Duration::from_secs(75))
        // Signals are `main.rs`'s business (SIGINT drains too, where actix would drop everything);
        // the server stops when the hub says the site is shutting down.
        .disable_signals()
        .shutdown_signal(shutdown_begun(live.watch_shutdown()))
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        .listen(listener)?;
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        let server = server.run();
        Ok(Application {
            port,
            server,
            pool,
            scheduler: settings.scheduler,
            trade_auto_confirm: settings.market_auto_confirm,
            live,
            portone: payments_client,
            shutdown_timeout: settings.shutdown_timeout,
        })
    }

    /// What stops this application gracefully (a signal handler holds one).
    pub fn stopper(&self) -> Stopper {
        Stopper {
            live: self.live.clone(),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serve (and run the scheduler) until the server stops or this future is dropped. After a
    /// [`Stopper::stop`] it returns once the server has drained and the background threads have
    /// stopped (each bounded by the shutdown timeout).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let scheduler = if self.scheduler {
            Some(crate::jobs::spawn(
                self.pool.clone(),
                self.live.clone(),
                self.trade_auto_confirm,
            )?)
        } else {
            None
        };
        let payments = if self.scheduler {
            Some(crate::jobs::payments::spawn(
                self.pool.clone(),
                self.portone.clone(),
                self.live.clone(),
            )?)
        } else {
            None
        };
        // The background threads stop as soon as the shutdown begins, while the server drains.
        let within = self.shutdown_timeout;
        let begun = shutdown_begun(self.live.watch_shutdown());
        let threads = tokio::spawn(async move {
            begun.await;
            tokio::task::spawn_blocking(move || {
                let scheduler = scheduler.is_none_or(|g| g.stop(within));
                let payments = payments.is_none_or(|g| g.stop(within));
                scheduler && payments
            })
            .await
        });
        let served = self.server.await;
        // Stopped through its `ServerHandle` rather than the hub: stop the rest now.
        self.live.shut_down();
        match threads.await {
            Ok(Ok(true)) => tracing::info!("the server and its background jobs have stopped"),
            _ => tracing::warn!(
                "a background job did not stop within the shutdown timeout; it is dropped"
            ),
        }
        served
    }
}

/// Wait for `SIGTERM` or `SIGINT` (Ctrl-C) and return its name. The handlers are installed
/// when this is called, before the returned future is first polled.
pub fn termination_signal(
) -> std::io::Result<impl std::future::Future<Output = &'static str> + Send + 'static> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        }
    })
}

/// The process's PortOne client and, without a real PortOne configured, the built-in
/// simulator it talks to. The simulator is reached at this process's own listener (a call to
/// itself should not go out through a proxy and back), e.g. `http://127.0.0.1:8080/portone-sim`.
fn portone_client(
    settings: &Settings,
    local: std::net::SocketAddr,
) -> (
    Arc<crate::portone::PortOne>,
    Option<Arc<site::portone_sim::state::Simulator>>,
) {
    let p = &settings.portone;
    match &p.api_url {
        Some(url) => (
            Arc::new(crate::portone::PortOne::new(
                url,
                &p.api_key,
                &p.api_secret,
                p.timeout,
            )),
            None,
        ),
        None => {
            let host = match local.ip() {
                ip if ip.is_unspecified() && ip.is_ipv6() => "[::1]".to_owned(),
                ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
                std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                std::net::IpAddr::V4(ip) => ip.to_string(),
            };
            let origin = format!("http://{host}:{}", local.port());
            let url = format!("{origin}{}", site::portone_sim::PREFIX);
            let site_origins = settings.public_url.iter().cloned().collect();
            tracing::info!(url = %url, "PortOne: the built-in simulator (no real PortOne configured)");
            (
                Arc::new(crate::portone::PortOne::new(
                    &url,
                    &p.api_key,
                    &p.api_secret,
                    p.timeout,
                )),
                Some(Arc::new(site::portone_sim::state::Simulator::new(
                    &p.api_key,
                    &p.api_secret,
                    &origin,
                    site_origins,
                ))),
            )
        }
    }
}

/// The session/CSRF key: `NEIGHBORBID_SECRET_KEY`, or one generated once into the data
/// directory (mode 0600) so a restart keeps everyone logged in.
pub fn session_key(settings: &Settings) -> anyhow::Result<Key> {
    if let Some(bytes) = &settings.secret_key {
        return Ok(Key::from(bytes));
    }
    let path = settings.data_dir.join(SECRET_KEY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() >= MIN_SECRET_KEY_BYTES => Ok(Key::from(&bytes)),
        Ok(_) => anyhow::bail!(
            "{} is shorter than {MIN_SECRET_KEY_BYTES} bytes; delete it to generate a new key",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = Key::generate();
            write_private(&path, key.master())?;
            tracing::info!(path = %path.display(), "generated a new session key");
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}
