//! Settings from the environment. Secrets are never printed: `Debug` redacts them.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Where the data lives. The backend is chosen from the URL scheme, never by trial.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// Parse `sqlite://PATH`, `sqlite:PATH`, `postgres://…` or `postgresql://…`.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(raw.to_owned()));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"));
        match path {
            Some(p) if !p.is_empty() => Ok(DatabaseUrl::Sqlite(PathBuf::from(p))),
            _ => Err(ConfigError(format!(
                "DATABASE_URL must start with sqlite:// or postgres:// (got a value starting with {:?})",
                scheme_of(raw)
            ))),
        }
    }

    /// A form safe for logs and error messages: no password.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(url) => redact_postgres(url),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn scheme_of(raw: &str) -> String {
    match raw.find("://") {
        Some(i) => raw[..i + 3].to_owned(),
        None => raw.chars().take(12).collect(),
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact_postgres(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return "postgres://…".to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.rfind('@') else {
        return url.split('?').next().unwrap_or(url).to_owned();
    };
    let userinfo = &rest[..at];
    let user = userinfo.split(':').next().unwrap_or("");
    let host = rest[at + 1..].split('?').next().unwrap_or("");
    let masked = if userinfo.contains(':') {
        format!("{user}:***")
    } else {
        user.to_owned()
    };
    format!("{}{}@{}", &url[..scheme_end + 3], masked, host)
}

/// `NEIGHBORBID_TRUSTED_PROXIES`: the proxies whose `X-Forwarded-For` is believed, as addresses
/// or CIDR ranges. Empty (the default): the client is always the socket's peer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// Comma-separated addresses (`10.0.0.7`, `::1`) and ranges (`10.0.0.0/8`, `fd00::/8`).
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let mut nets = Vec::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let net = match entry.parse::<ipnet::IpNet>() {
                Ok(net) => net.trunc(),
                Err(_) => entry.parse::<IpAddr>().map(ipnet::IpNet::from).map_err(|_| {
                    ConfigError(format!(
                        "NEIGHBORBID_TRUSTED_PROXIES: {entry:?} is not an IP address or a CIDR range (e.g. 10.0.0.0/8)"
                    ))
                })?,
            };
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let canonical = ip.to_canonical();
        self.0
            .iter()
            .any(|net| net.contains(&canonical) || net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Every setting of the application. Built from the environment by [`Settings::from_env`],
/// or field by field (tests do this: no global configuration).
#[derive(Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub bind: String,
    pub data_dir: PathBuf,
    /// `NEIGHBORBID_SECRET_KEY`; when `None` a key is generated once into the data dir.
    pub secret_key: Option<Vec<u8>>,
    pub timezone: chrono_tz::Tz,
    /// The free development top-up (`method=dev`): off unless `NEIGHBORBID_DEV_TOPUP=true`.
    pub dev_topup: bool,
    /// Failed logins allowed per client IP per minute.
    pub login_attempts_per_ip: u32,
    /// Failed logins allowed per username per 15 minutes from all addresses together: the
    /// ceiling against a distributed attack (one address is slowed down long before).
    pub login_attempts_per_username: u32,
    /// Failed logins per (username, client IP) before each further attempt from there must
    /// wait: 1 s, 2 s, 4 s … up to 15 minutes. A successful login clears them.
    pub login_free_failures: u32,
    /// Sign-ups that pass the form checks (each costs a password hash) allowed per client IP
    /// per hour.
    pub signups_per_ip: u32,
    /// Proxies whose `X-Forwarded-For` names the client (see `web::client_ip`).
    pub trusted_proxies: TrustedProxies,
    pub db_pool_size: u32,
    /// actix worker threads (0 = one per core).
    pub workers: usize,
    /// On `SIGTERM`/`SIGINT`, how long requests still in flight may take to finish before the
    /// server drops them and exits (`NEIGHBORBID_SHUTDOWN_TIMEOUT_SECS`).
    pub shutdown_timeout: std::time::Duration,
    /// Mark cookies `Secure` (set when served over HTTPS; implied by an `https://` public URL).
    pub secure_cookies: bool,
    /// `NEIGHBORBID_PUBLIC_URL`: the address people reach the site at (`https://…` in
    /// production); `None` means `http://BIND`. An `https://` one turns on `Secure` cookies and
    /// HSTS.
    pub public_url: Option<String>,
    /// How often the server pings a live-panel socket.
    pub ws_ping_interval: std::time::Duration,
    /// A live-panel socket silent for this long is dropped (and one that does not take what is
    /// sent to it for this long).
    pub ws_idle_timeout: std::time::Duration,
    /// Live sockets one logged-in user may hold open at once (per process).
    pub ws_max_per_user: usize,
    /// Live sockets one client address may hold open at once (per process).
    pub ws_max_per_ip: usize,
    /// How often a logged-in live-panel socket checks that its session still stands (ended
    /// by another process, or straight in the database); this process's own logouts,
    /// password changes and suspensions reach its sockets at once.
    pub ws_session_check_interval: std::time::Duration,
    /// Run the scheduler (opens and closes auctions on time) in this process.
    pub scheduler: bool,
    /// Tests: count every SQL statement the app's pool runs.
    pub query_counter: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    /// How long after the seller's approval a market trade is confirmed automatically
    /// when the buyer has not confirmed receipt (`NEIGHBORBID_MARKET_AUTO_CONFIRM_SECS`).
    pub market_auto_confirm: std::time::Duration,
    /// How long a seller has to approve or reject a requested trade before the scheduler
    /// cancels it and releases the buyer's money (`NEIGHBORBID_MARKET_RESPOND_SECS`).
    pub market_respond_within: std::time::Duration,
    /// Soft close: a bid this close to an auction's end moves the end to this long after the
    /// bid (`NEIGHBORBID_SOFT_CLOSE_SECS`; 0 turns it off).
    pub soft_close: std::time::Duration,
    /// Soft close: the latest an end can move to, after the end the seller set
    /// (`NEIGHBORBID_SOFT_CLOSE_CAP_SECS`).
    pub soft_close_cap: std::time::Duration,
    /// Photo uploads read and decoded at once by this process (`NEIGHBORBID_UPLOAD_CONCURRENCY`).
    pub upload_concurrency: usize,
    /// How long an upload waits for one of those slots before it is answered 503.
    pub upload_wait: std::time::Duration,
    /// Photos a member may add in any 24 hours (`NEIGHBORBID_UPLOADS_PER_DAY`).
    pub uploads_per_day: u32,
    /// Photos one listing or product may have (`NEIGHBORBID_PHOTOS_PER_LISTING`).
    pub photos_per_listing: u32,
    /// Chat messages a member may send in any minute (`NEIGHBORBID_CHAT_MESSAGES_PER_MINUTE`).
    pub chat_messages_per_minute: u32,
    /// How PortOne v1 is reached (`NEIGHBORBID_PORTONE_*`, DESIGN §8).
    pub portone: PortOneSettings,
}

/// The built-in simulator's `imp_key` (used when no real PortOne keys are configured).
pub const SIMULATOR_API_KEY: &str = "neighborbid-simulator-key";
/// The built-in simulator's `imp_secret`.
pub const SIMULATOR_API_SECRET: &str = "neighborbid-simulator-secret";
/// The built-in simulator's store code (`IMP.init`).
pub const SIMULATOR_IMP_CODE: &str = "imp00000000";
/// PortOne's own API, used when keys are given without `NEIGHBORBID_PORTONE_API_URL`.
pub const PORTONE_PRODUCTION_URL: &str = "https://api.iamport.kr";

/// A virtual account waits 24 hours for its deposit unless configured otherwise.
pub const DEFAULT_VBANK_DUE_SECS: u64 = 24 * 60 * 60;
/// A market purchase paid by card: 15 minutes to pay.
pub const DEFAULT_CARD_DUE_SECS: u64 = 15 * 60;
const MAX_VBANK_DUE_SECS: u64 = 30 * 24 * 60 * 60;

/// `NEIGHBORBID_PORTONE_*`: the PortOne v1 account. `api_url: None` means the built-in
/// simulator (served by this app under `/portone-sim`) with its own key and secret; `Debug`
/// never prints the key or the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct PortOneSettings {
    /// `None`: the built-in simulator.
    pub api_url: Option<String>,
    pub api_key: String,
    pub api_secret: String,
    /// The store code for the browser SDK (`IMP.init`).
    pub imp_code: String,
    /// The PG passed to `IMP.request_pay`.
    pub pg: String,
    /// Pre-register amounts with `POST /payments/prepare`.
    pub prepare: bool,
    /// The longest any one call to PortOne may take; past it the result is unknown.
    pub timeout: std::time::Duration,
    /// How long a virtual account waits for its deposit (`NEIGHBORBID_PORTONE_VBANK_DUE_SECS`).
    pub vbank_due: std::time::Duration,
    /// How long a market purchase paid by card waits for its payment
    /// (`NEIGHBORBID_PORTONE_CARD_DUE_SECS`); past it the trade is cancelled.
    pub card_due: std::time::Duration,
}

impl PortOneSettings {
    /// The built-in simulator, with its own key, secret and store code.
    pub fn simulator() -> Self {
        PortOneSettings {
            api_url: None,
            api_key: SIMULATOR_API_KEY.to_owned(),
            api_secret: SIMULATOR_API_SECRET.to_owned(),
            imp_code: SIMULATOR_IMP_CODE.to_owned(),
            pg: "html5_inicis".to_owned(),
            prepare: true,
            timeout: std::time::Duration::from_secs(10),
            vbank_due: std::time::Duration::from_secs(DEFAULT_VBANK_DUE_SECS),
            card_due: std::time::Duration::from_secs(DEFAULT_CARD_DUE_SECS),
        }
    }

    /// True when the built-in simulator stands in for PortOne.
    pub fn is_simulated(&self) -> bool {
        self.api_url.is_none()
    }
}

impl fmt::Debug for PortOneSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortOneSettings")
            .field(
                "api_url",
                &self.api_url.as_deref().unwrap_or("<built-in simulator>"),
            )
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("imp_code", &self.imp_code)
            .field("pg", &self.pg)
            .field("prepare", &self.prepare)
            .field("timeout", &self.timeout)
            .field("vbank_due", &self.vbank_due)
            .field("card_due", &self.card_due)
            .finish()
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &self.database_url)
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<from environment>"),
            )
            .field("timezone", &self.timezone)
            .field("dev_topup", &self.dev_topup)
            .field("login_attempts_per_ip", &self.login_attempts_per_ip)
            .field(
                "login_attempts_per_username",
                &self.login_attempts_per_username,
            )
            .field("login_free_failures", &self.login_free_failures)
            .field("signups_per_ip", &self.signups_per_ip)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("db_pool_size", &self.db_pool_size)
            .field("workers", &self.workers)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("secure_cookies", &self.secure_cookies)
            .field("public_url", &self.public_url)
            .field("scheduler", &self.scheduler)
            .field("market_auto_confirm", &self.market_auto_confirm)
            .field("market_respond_within", &self.market_respond_within)
            .field("soft_close", &self.soft_close)
            .field("soft_close_cap", &self.soft_close_cap)
            .field("upload_concurrency", &self.upload_concurrency)
            .field("uploads_per_day", &self.uploads_per_day)
            .field("photos_per_listing", &self.photos_per_listing)
            .field("chat_messages_per_minute", &self.chat_messages_per_minute)
            .field("portone", &self.portone)
            .finish_non_exhaustive()
    }
}

pub const MIN_SECRET_KEY_BYTES: usize = 64;
/// How long a graceful shutdown waits for requests in flight: 30 seconds.
pub const DEFAULT_SHUTDOWN_TIMEOUT_SECS: u64 = 30;
/// The longest shutdown timeout accepted: 10 minutes.
const MAX_SHUTDOWN_TIMEOUT_SECS: u64 = 10 * 60;
/// The default market auto-confirm period: 7 days.
pub const DEFAULT_MARKET_AUTO_CONFIRM_SECS: u64 = 7 * 24 * 60 * 60;
/// The default time a seller has to answer a requested trade: 72 hours.
pub const DEFAULT_MARKET_RESPOND_SECS: u64 = 72 * 60 * 60;
/// Soft close: three minutes.
pub const DEFAULT_SOFT_CLOSE_SECS: u64 = 3 * 60;
/// Soft close: an end moves at most an hour past the end the seller set.
pub const DEFAULT_SOFT_CLOSE_CAP_SECS: u64 = 60 * 60;
/// The longest soft-close window or cap a site may set: a day.
const MAX_SOFT_CLOSE_SECS: u64 = 24 * 60 * 60;
/// The longest auto-confirm period accepted: 365 days.
pub const MAX_MARKET_AUTO_CONFIRM_SECS: u64 = 365 * 24 * 60 * 60;

impl Settings {
    /// Defaults for a data directory: SQLite file inside it, everything else as documented.
    pub fn with_data_dir(data_dir: &Path) -> Self {
        Settings {
            database_url: DatabaseUrl::Sqlite(data_dir.join("neighborbid.db")),
            bind: "127.0.0.1:8080".to_owned(),
            data_dir: data_dir.to_path_buf(),
            secret_key: None,
            timezone: chrono_tz::Asia::Seoul,
            dev_topup: false,
            login_attempts_per_ip: 30,
            login_attempts_per_username: 100,
            login_free_failures: 5,
            signups_per_ip: 10,
            trusted_proxies: TrustedProxies::default(),
            db_pool_size: 16,
            workers: 0,
            shutdown_timeout: std::time::Duration::from_secs(DEFAULT_SHUTDOWN_TIMEOUT_SECS),
            secure_cookies: false,
            public_url: None,
            scheduler: true,
            query_counter: None,
            ws_ping_interval: std::time::Duration::from_secs(10),
            ws_idle_timeout: std::time::Duration::from_secs(30),
            ws_max_per_user: 8,
            ws_max_per_ip: 100,
            ws_session_check_interval: std::time::Duration::from_secs(5),
            market_auto_confirm: std::time::Duration::from_secs(DEFAULT_MARKET_AUTO_CONFIRM_SECS),
            market_respond_within: std::time::Duration::from_secs(DEFAULT_MARKET_RESPOND_SECS),
            soft_close: std::time::Duration::from_secs(DEFAULT_SOFT_CLOSE_SECS),
            soft_close_cap: std::time::Duration::from_secs(DEFAULT_SOFT_CLOSE_CAP_SECS),
            upload_concurrency: 2,
            upload_wait: std::time::Duration::from_secs(10),
            uploads_per_day: 20,
            photos_per_listing: 10,
            chat_messages_per_minute: 20,
            portone: PortOneSettings::simulator(),
        }
    }

    /// Served over HTTPS: the public URL says so (or `NEIGHBORBID_SECURE_COOKIES` was set).
    pub fn is_https(&self) -> bool {
        self.secure_cookies
            || self
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
    }

    /// Read every `NEIGHBORBID_*` variable and `DATABASE_URL`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let data_dir = PathBuf::from(
            get("NEIGHBORBID_DATA_DIR")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "./data".to_owned()),
        );
        let mut s = Settings::with_data_dir(&data_dir);
        if let Some(url) = get("DATABASE_URL").filter(|s| !s.is_empty()) {
            s.database_url = DatabaseUrl::parse(&url)?;
        }
        if let Some(bind) = get("NEIGHBORBID_BIND").filter(|s| !s.is_empty()) {
            s.bind = bind;
        }
        if let Some(key) = get("NEIGHBORBID_SECRET_KEY").filter(|s| !s.is_empty()) {
            if key.len() < MIN_SECRET_KEY_BYTES {
                return Err(ConfigError(format!(
                    "NEIGHBORBID_SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes (it has {})",
                    key.len()
                )));
            }
            s.secret_key = Some(key.into_bytes());
        }
        if let Some(tz) = get("NEIGHBORBID_TIMEZONE").filter(|s| !s.is_empty()) {
            s.timezone = tz.parse().map_err(|_| {
                ConfigError(format!(
                    "NEIGHBORBID_TIMEZONE {tz:?} is not an IANA time zone name (e.g. Asia/Seoul)"
                ))
            })?;
        }
        if let Some(v) = get("NEIGHBORBID_DEV_TOPUP") {
            s.dev_topup = parse_bool("NEIGHBORBID_DEV_TOPUP", &v)?;
        }
        if let Some(v) = get("NEIGHBORBID_SECURE_COOKIES") {
            s.secure_cookies = parse_bool("NEIGHBORBID_SECURE_COOKIES", &v)?;
        }
        if let Some(url) = get("NEIGHBORBID_PUBLIC_URL").filter(|s| !s.trim().is_empty()) {
            let url = url.trim().trim_end_matches('/').to_owned();
            if !(url.starts_with("https://") || url.starts_with("http://"))
                || url.contains(char::is_whitespace)
            {
                return Err(ConfigError(
                    "NEIGHBORBID_PUBLIC_URL must be an http:// or https:// address".to_owned(),
                ));
            }
            s.public_url = Some(url);
        }
        if let Some(v) = get("NEIGHBORBID_WS_PING_SECS") {
            s.ws_ping_interval =
                std::time::Duration::from_secs(parse_num("NEIGHBORBID_WS_PING_SECS", &v)?);
        }
        if let Some(v) = get("NEIGHBORBID_WS_IDLE_SECS") {
            s.ws_idle_timeout =
                std::time::Duration::from_secs(parse_num("NEIGHBORBID_WS_IDLE_SECS", &v)?);
        }
        if let Some(v) = get("NEIGHBORBID_WS_SESSION_CHECK_SECS") {
            s.ws_session_check_interval =
                std::time::Duration::from_secs(parse_num("NEIGHBORBID_WS_SESSION_CHECK_SECS", &v)?);
        }
        if let Some(v) = get("NEIGHBORBID_SCHEDULER") {
            s.scheduler = parse_bool("NEIGHBORBID_SCHEDULER", &v)?;
        }
        if let Some(v) = get("NEIGHBORBID_LOGIN_ATTEMPTS_PER_IP") {
            s.login_attempts_per_ip = parse_num("NEIGHBORBID_LOGIN_ATTEMPTS_PER_IP", &v)?;
        }
        if let Some(v) = get("NEIGHBORBID_LOGIN_ATTEMPTS_PER_USERNAME") {
            s.login_attempts_per_username =
                parse_num("NEIGHBORBID_LOGIN_ATTEMPTS_PER_USERNAME", &v)?;
        }
        if let Some(v) = get("NEIGHBORBID_LOGIN_FREE_FAILURES") {
            s.login_free_failures = parse_num("NEIGHBORBID_LOGIN_FREE_FAILURES", &v)?;
        }
        if let Some(v) = get("NEIGHBORBID_SIGNUPS_PER_IP") {
            s.signups_per_ip = parse_num("NEIGHBORBID_SIGNUPS_PER_IP", &v)?;
        }
        if let Some(v) = get("NEIGHBORBID_TRUSTED_PROXIES") {
            s.trusted_proxies = TrustedProxies::parse(&v)?;
        }
        if let Some(v) = get("NEIGHBORBID_DB_POOL_SIZE") {
            s.db_pool_size = parse_num("NEIGHBORBID_DB_POOL_SIZE", &v)?;
        }
        if let Some(v) = get("NEIGHBORBID_MARKET_AUTO_CONFIRM_SECS") {
            let secs: u64 = parse_num("NEIGHBORBID_MARKET_AUTO_CONFIRM_SECS", &v)?;
            if secs > MAX_MARKET_AUTO_CONFIRM_SECS {
                return Err(ConfigError(format!(
                    "NEIGHBORBID_MARKET_AUTO_CONFIRM_SECS can be at most {MAX_MARKET_AUTO_CONFIRM_SECS} (365 days)"
                )));
            }
            s.market_auto_confirm = std::time::Duration::from_secs(secs);
        }
        for (name, field) in [
            ("NEIGHBORBID_SOFT_CLOSE_SECS", &mut s.soft_close),
            ("NEIGHBORBID_SOFT_CLOSE_CAP_SECS", &mut s.soft_close_cap),
        ] {
            if let Some(v) = get(name) {
                // 0 is allowed: no soft close (the window) or no extension (the cap).
                let secs: u64 = v.trim().parse().map_err(|_| {
                    ConfigError(format!(
                        "{name} must be a whole number of seconds (0 or more)"
                    ))
                })?;
                if secs > MAX_SOFT_CLOSE_SECS {
                    return Err(ConfigError(format!(
                        "{name} can be at most {MAX_SOFT_CLOSE_SECS} (a day)"
                    )));
                }
                *field = std::time::Duration::from_secs(secs);
            }
        }
        if let Some(v) = get("NEIGHBORBID_MARKET_RESPOND_SECS") {
            let secs: u64 = parse_num("NEIGHBORBID_MARKET_RESPOND_SECS", &v)?;
            if secs == 0 || secs > MAX_MARKET_AUTO_CONFIRM_SECS {
                return Err(ConfigError(format!(
                    "NEIGHBORBID_MARKET_RESPOND_SECS must be from 1 to {MAX_MARKET_AUTO_CONFIRM_SECS} (365 days)"
                )));
            }
            s.market_respond_within = std::time::Duration::from_secs(secs);
        }
        if let Some(v) = get("NEIGHBORBID_WS_MAX_PER_USER") {
            s.ws_max_per_user = parse_num::<u32>("NEIGHBORBID_WS_MAX_PER_USER", &v)? as usize;
        }
        if let Some(v) = get("NEIGHBORBID_WS_MAX_PER_IP") {
            s.ws_max_per_ip = parse_num::<u32>("NEIGHBORBID_WS_MAX_PER_IP", &v)? as usize;
        }
        if let Some(v) = get("NEIGHBORBID_UPLOAD_CONCURRENCY") {
            s.upload_concurrency = parse_num::<u32>("NEIGHBORBID_UPLOAD_CONCURRENCY", &v)? as usize;
        }
        if let Some(v) = get("NEIGHBORBID_UPLOADS_PER_DAY") {
            s.uploads_per_day = parse_num("NEIGHBORBID_UPLOADS_PER_DAY", &v)?;
        }
        if let Some(v) = get("NEIGHBORBID_PHOTOS_PER_LISTING") {
            s.photos_per_listing = parse_num("NEIGHBORBID_PHOTOS_PER_LISTING", &v)?;
        }
        if let Some(v) = get("NEIGHBORBID_CHAT_MESSAGES_PER_MINUTE") {
            s.chat_messages_per_minute = parse_num("NEIGHBORBID_CHAT_MESSAGES_PER_MINUTE", &v)?;
        }
        s.portone = portone_from_lookup(&get)?;
        if let Some(v) = get("NEIGHBORBID_WORKERS") {
            s.workers = parse_num::<u32>("NEIGHBORBID_WORKERS", &v)? as usize;
        }
        if let Some(v) = get("NEIGHBORBID_SHUTDOWN_TIMEOUT_SECS") {
            let secs: u64 = parse_num("NEIGHBORBID_SHUTDOWN_TIMEOUT_SECS", &v)?;
            if secs > MAX_SHUTDOWN_TIMEOUT_SECS {
                return Err(ConfigError(format!(
                    "NEIGHBORBID_SHUTDOWN_TIMEOUT_SECS can be at most {MAX_SHUTDOWN_TIMEOUT_SECS} (10 minutes)"
                )));
            }
            s.shutdown_timeout = std::time::Duration::from_secs(secs);
        }
        Ok(s)
    }
}

/// `NEIGHBORBID_PORTONE_*`. No URL and no keys: the simulator. Keys without a URL: PortOne
/// itself. A URL without keys is refused (it would fail at the first payment).
fn portone_from_lookup(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<PortOneSettings, ConfigError> {
    let mut p = PortOneSettings::simulator();
    let set = |name: &str| {
        get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let url = set("NEIGHBORBID_PORTONE_API_URL");
    let key = set("NEIGHBORBID_PORTONE_API_KEY");
    let secret = set("NEIGHBORBID_PORTONE_API_SECRET");
    match (url, key, secret) {
        (None, None, None) => {}
        (url, Some(key), Some(secret)) => {
            let url = url
                .unwrap_or_else(|| PORTONE_PRODUCTION_URL.to_owned())
                .trim_end_matches('/')
                .to_owned();
            if !(url.starts_with("https://") || url.starts_with("http://"))
                || url.contains(char::is_whitespace)
            {
                return Err(ConfigError(
                    "NEIGHBORBID_PORTONE_API_URL must be an http:// or https:// address".to_owned(),
                ));
            }
            p.api_url = Some(url);
            p.api_key = key;
            p.api_secret = secret;
            p.imp_code = String::new();
        }
        _ => return Err(ConfigError(
            "NEIGHBORBID_PORTONE_API_KEY and NEIGHBORBID_PORTONE_API_SECRET must be set together \
                 (and are required with NEIGHBORBID_PORTONE_API_URL); set none of them for the \
                 built-in simulator"
                .to_owned(),
        )),
    }
    if let Some(code) = set("NEIGHBORBID_PORTONE_IMP_CODE") {
        p.imp_code = code;
    } else if !p.is_simulated() {
        return Err(ConfigError(
            "NEIGHBORBID_PORTONE_IMP_CODE (the store code, impXXXXXXXX) is required with real PortOne keys"
                .to_owned(),
        ));
    }
    if let Some(pg) = set("NEIGHBORBID_PORTONE_PG") {
        p.pg = pg;
    }
    if let Some(v) = get("NEIGHBORBID_PORTONE_PREPARE") {
        p.prepare = parse_bool("NEIGHBORBID_PORTONE_PREPARE", &v)?;
    }
    if let Some(v) = get("NEIGHBORBID_PORTONE_TIMEOUT_SECS") {
        let secs: u64 = parse_num("NEIGHBORBID_PORTONE_TIMEOUT_SECS", &v)?;
        if secs == 0 || secs > 120 {
            return Err(ConfigError(
                "NEIGHBORBID_PORTONE_TIMEOUT_SECS must be from 1 to 120".to_owned(),
            ));
        }
        p.timeout = std::time::Duration::from_secs(secs);
    }
    if let Some(v) = get("NEIGHBORBID_PORTONE_VBANK_DUE_SECS") {
        let secs: u64 = parse_num("NEIGHBORBID_PORTONE_VBANK_DUE_SECS", &v)?;
        if !(60..=MAX_VBANK_DUE_SECS).contains(&secs) {
            return Err(ConfigError(
                "NEIGHBORBID_PORTONE_VBANK_DUE_SECS must be from 60 to 2592000 (30 days)"
                    .to_owned(),
            ));
        }
        p.vbank_due = std::time::Duration::from_secs(secs);
    }
    if let Some(v) = get("NEIGHBORBID_PORTONE_CARD_DUE_SECS") {
        let secs: u64 = parse_num("NEIGHBORBID_PORTONE_CARD_DUE_SECS", &v)?;
        if !(60..=86_400).contains(&secs) {
            return Err(ConfigError(
                "NEIGHBORBID_PORTONE_CARD_DUE_SECS must be from 60 to 86400 (24 hours)".to_owned(),
            ));
        }
        p.card_due = std::time::Duration::from_secs(secs);
    }
    Ok(p)
}

fn parse_bool(name: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError(format!("{name} must be true or false"))),
    }
}

fn parse_num<T: std::str::FromStr + PartialOrd + From<u8>>(
    name: &str,
    v: &str,
) -> Result<T, ConfigError> {
    match v.trim().parse::<T>() {
        Ok(n) if n >= T::from(1) => Ok(n),
        _ => Err(ConfigError(format!("{name} must be a whole number ≥ 1"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_passwords_are_redacted() {
        let u =
            DatabaseUrl::parse("postgres://bob:hunter2@db.local:5432/nb?sslmode=disable").unwrap();
        let shown = u.redacted();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(shown, "postgres://bob:***@db.local:5432/nb");
    }

    #[test]
    fn unknown_schemes_are_refused() {
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("host=localhost port=5432").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("data/x.db"))
        );
    }

    #[test]
    fn the_market_auto_confirm_period_comes_from_the_environment() {
        let default = Settings::from_lookup(|_| None).unwrap();
        assert_eq!(
            default.market_auto_confirm,
            std::time::Duration::from_secs(7 * 24 * 60 * 60)
        );
        let set = Settings::from_lookup(|n| {
            (n == "NEIGHBORBID_MARKET_AUTO_CONFIRM_SECS").then(|| "90".to_owned())
        })
        .unwrap();
        assert_eq!(set.market_auto_confirm, std::time::Duration::from_secs(90));
        for bad in ["0", "-1", "soon", "99999999999"] {
            assert!(Settings::from_lookup(|n| {
                (n == "NEIGHBORBID_MARKET_AUTO_CONFIRM_SECS").then(|| bad.to_owned())
            })
            .is_err());
        }
    }

    #[test]
    fn the_upload_concurrency_comes_from_the_environment() {
        assert_eq!(
            Settings::from_lookup(|_| None).unwrap().upload_concurrency,
            2
        );
        let set = Settings::from_lookup(|n| {
            (n == "NEIGHBORBID_UPLOAD_CONCURRENCY").then(|| "6".to_owned())
        })
        .unwrap();
        assert_eq!(set.upload_concurrency, 6);
        assert_eq!(Settings::from_lookup(|_| None).unwrap().uploads_per_day, 20);
        let set =
            Settings::from_lookup(|n| (n == "NEIGHBORBID_UPLOADS_PER_DAY").then(|| "3".to_owned()))
                .unwrap();
        assert_eq!(set.uploads_per_day, 3);
        assert!(Settings::from_lookup(|n| {
            (n == "NEIGHBORBID_UPLOAD_CONCURRENCY").then(|| "0".to_owned())
        })
        .is_err());
    }

    #[test]
    fn login_and_sign_up_limits_come_from_the_environment() {
        let default = Settings::from_lookup(|_| None).unwrap();
        assert_eq!(
            (
                default.login_attempts_per_ip,
                default.login_attempts_per_username,
                default.login_free_failures,
                default.signups_per_ip
            ),
            (30, 100, 5, 10)
        );
        let set = Settings::from_lookup(|n| match n {
            "NEIGHBORBID_LOGIN_FREE_FAILURES" => Some("3".to_owned()),
            "NEIGHBORBID_SIGNUPS_PER_IP" => Some("2".to_owned()),
            _ => None,
        })
        .unwrap();
        assert_eq!((set.login_free_failures, set.signups_per_ip), (3, 2));
        for name in [
            "NEIGHBORBID_LOGIN_FREE_FAILURES",
            "NEIGHBORBID_SIGNUPS_PER_IP",
        ] {
            assert!(Settings::from_lookup(|n| (n == name).then(|| "0".to_owned())).is_err());
        }
    }

    #[test]
    fn trusted_proxies_are_addresses_and_ranges() {
        let default = Settings::from_lookup(|_| None).unwrap();
        assert!(
            default.trusted_proxies.is_empty(),
            "nobody is trusted by default"
        );
        let t = TrustedProxies::parse(" 10.0.0.0/8, 192.168.1.7 ,fd00::/8,, ::1").unwrap();
        for yes in [
            "10.1.2.3",
            "192.168.1.7",
            "fd12::1",
            "::1",
            "::ffff:10.9.9.9",
        ] {
            assert!(t.contains(yes.parse().unwrap()), "{yes}");
        }
        for no in ["11.0.0.1", "192.168.1.8", "fe80::1", "127.0.0.1"] {
            assert!(!t.contains(no.parse().unwrap()), "{no}");
        }
        for bad in ["10.0.0.0/33", "proxy.local", "10.0.0", "*"] {
            let err = Settings::from_lookup(|n| {
                (n == "NEIGHBORBID_TRUSTED_PROXIES").then(|| bad.to_owned())
            })
            .unwrap_err();
            assert!(
                err.0.contains("NEIGHBORBID_TRUSTED_PROXIES"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn the_shutdown_timeout_comes_from_the_environment() {
        assert_eq!(
            Settings::from_lookup(|_| None).unwrap().shutdown_timeout,
            std::time::Duration::from_secs(30)
        );
        let set = Settings::from_lookup(|n| {
            (n == "NEIGHBORBID_SHUTDOWN_TIMEOUT_SECS").then(|| "5".to_owned())
        })
        .unwrap();
        assert_eq!(set.shutdown_timeout, std::time::Duration::from_secs(5));
        for bad in ["0", "-3", "soon", "601"] {
            assert!(Settings::from_lookup(|n| {
                (n == "NEIGHBORBID_SHUTDOWN_TIMEOUT_SECS").then(|| bad.to_owned())
            })
            .is_err());
        }
    }

    #[test]
    fn short_secret_keys_are_refused() {
        let err =
            Settings::from_lookup(|n| (n == "NEIGHBORBID_SECRET_KEY").then(|| "short".to_owned()))
                .unwrap_err();
        assert!(err.0.contains("at least 64 bytes"));
    }

    #[test]
    fn without_portone_keys_the_simulator_is_used_and_with_them_portone_itself() {
        let sim = Settings::from_lookup(|_| None).unwrap().portone;
        assert!(sim.is_simulated());
        assert_eq!(sim.api_key, SIMULATOR_API_KEY);
        assert!(sim.prepare);

        let env = |extra: &'static [(&'static str, &'static str)]| {
            move |n: &str| {
                extra
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let real = Settings::from_lookup(env(&[
            ("NEIGHBORBID_PORTONE_API_KEY", "key-abc"),
            ("NEIGHBORBID_PORTONE_API_SECRET", "secret-xyz"),
            ("NEIGHBORBID_PORTONE_IMP_CODE", "imp12345678"),
            ("NEIGHBORBID_PORTONE_PREPARE", "false"),
            ("NEIGHBORBID_PORTONE_TIMEOUT_SECS", "5"),
        ]))
        .unwrap();
        assert_eq!(
            real.portone.api_url.as_deref(),
            Some(PORTONE_PRODUCTION_URL)
        );
        assert!(!real.portone.prepare);
        assert_eq!(real.portone.timeout, std::time::Duration::from_secs(5));
        let shown = format!("{real:?}");
        assert!(
            !shown.contains("key-abc") && !shown.contains("secret-xyz"),
            "{shown}"
        );

        for bad in [
            &[("NEIGHBORBID_PORTONE_API_URL", "https://api.iamport.kr")][..],
            &[("NEIGHBORBID_PORTONE_API_KEY", "key-abc")][..],
            &[
                ("NEIGHBORBID_PORTONE_API_KEY", "key-abc"),
                ("NEIGHBORBID_PORTONE_API_SECRET", "secret-xyz"),
            ][..],
            &[
                ("NEIGHBORBID_PORTONE_API_URL", "ftp://x"),
                ("NEIGHBORBID_PORTONE_API_KEY", "key-abc"),
                ("NEIGHBORBID_PORTONE_API_SECRET", "secret-xyz"),
                ("NEIGHBORBID_PORTONE_IMP_CODE", "imp12345678"),
            ][..],
        ] {
            let err = Settings::from_lookup(|n| {
                bad.iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| (*v).to_owned())
            })
            .unwrap_err();
            assert!(err.0.contains("NEIGHBORBID_PORTONE"), "{bad:?}: {err}");
            assert!(!err.0.contains("secret-xyz"), "{err}");
        }
    }
}
