//! Configuration: built-in defaults, then a TOML file, then `BASCULE_*` environment variables
//! (nested keys with `__`, e.g. `BASCULE_BANK__SORT_CODE`), then command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bascule_domain::Reauthentication;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration is invalid: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Pretty in a terminal, JSON otherwise.
    #[default]
    Auto,
    Json,
    Pretty,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BankConfig {
    pub name: String,
    /// The sort code of the accounts this bank opens.
    pub sort_code: String,
    /// The bank's organisation id in the Open Banking Directory: the `aud` TPPs put in their
    /// registration requests.
    pub organisation_id: String,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Config {
    /// Where the server listens (HTTPS only).
    pub listen: SocketAddr,
    /// The address TPPs and customers use, for links and (later) the issuer.
    pub public_url: Option<String>,
    /// Certificates, the SQLite database and the demo's TPP files live here.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; defaults to `bascule.db` in the data directory.
    pub database_url: Option<String>,
    pub database_max_connections: u32,
    pub bank: BankConfig,
    /// Host names and IPs the server certificate covers.
    pub server_hosts: Vec<String>,
    /// PEM files of roots trusted for client certificates (e.g. the Open Banking Directory's).
    pub client_ca_files: Vec<PathBuf>,
    /// The server's own certificate chain and key (PEM). When absent, the sandbox CA issues one.
    pub server_certificate_file: Option<PathBuf>,
    pub server_key_file: Option<PathBuf>,
    /// Sandbox mode: the sandbox directory runs, its CA is trusted for TPP certificates, and
    /// sandbox conveniences are on. Never for a production bank.
    pub sandbox: bool,
    /// How old a software statement may be at registration, in seconds.
    pub ssa_max_age_seconds: i64,
    /// Access tokens live this long (seconds); refresh tokens live as long as their consent.
    pub access_token_lifetime_seconds: i64,
    /// Issue a new refresh token at every refresh.
    pub rotate_refresh_tokens: bool,
    /// Sandbox: the customer a headless approval acts for when the request names none.
    pub sandbox_customer_id: Option<String>,
    pub log_format: LogFormat,
    pub log_level: String,
    /// How long in-flight requests may take to finish at shutdown.
    pub shutdown_drain_seconds: u64,
    /// How often the ledger's daily jobs are checked (they are idempotent).
    pub jobs_interval_seconds: u64,
    /// How often revocations made on another node or by the CLI are reloaded (seconds).
    pub revocation_refresh_seconds: u64,
    /// How long an approval request waits for the customer's app (seconds).
    pub approval_request_lifetime_seconds: i64,
    /// `bank_sca_every_90_days`: account access is suspended 90 days after the customer's last
    /// strong authentication until they refresh it in the app (PSD2 RTS Art. 10);
    /// `tpp_reconfirms` (the default, UK SCA-RTS Art. 10A since 2022): never suspended at 90
    /// days, access ends at the consent's ExpirationDateTime.
    pub reauthentication: Reauthentication,
    /// How often the reminder job looks for connections 30 days before suspension or expiry.
    pub reminders_interval_seconds: u64,
    /// How often the event workers look for due pushes and new ledger changes (milliseconds):
    /// the delay from a change to its push is at most about this.
    pub events_interval_ms: u64,
    /// How long a failing push is retried before the event waits for polling (seconds).
    pub event_retry_period_seconds: u64,
    /// The first retry's delay (milliseconds); each next one doubles, up to
    /// `event_max_backoff_ms`.
    pub event_first_backoff_ms: u64,
    /// The longest delay between two pushes of one event (milliseconds).
    pub event_max_backoff_ms: u64,
    /// How long a node owns the events it claimed: a dead node's are retried after this.
    pub event_lease_seconds: u64,
    /// Requests one personal API token may make per minute (per node).
    pub personal_rate_limit_per_minute: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            public_url: None,
            data_dir: PathBuf::from("bascule-data"),
            database_url: None,
            database_max_connections: 16,
            bank: BankConfig {
                name: "Bascule Demo Bank".into(),
                sort_code: "04-99-99".into(),
                organisation_id: "0015800001BASCULE".into(),
            },
            server_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            client_ca_files: Vec::new(),
            server_certificate_file: None,
            server_key_file: None,
            sandbox: false,
            ssa_max_age_seconds: 30 * 24 * 3600,
            access_token_lifetime_seconds: 24 * 3600,
            rotate_refresh_tokens: false,
            sandbox_customer_id: None,
            log_format: LogFormat::Auto,
            log_level: "info".into(),
            shutdown_drain_seconds: 10,
            jobs_interval_seconds: 300,
            revocation_refresh_seconds: 10,
            approval_request_lifetime_seconds: 300,
            reauthentication: Reauthentication::default(),
            reminders_interval_seconds: 3600,
            events_interval_ms: 100,
            event_retry_period_seconds: 24 * 3600,
            event_first_backoff_ms: 1000,
            event_max_backoff_ms: 3600 * 1000,
            event_lease_seconds: 60,
            personal_rate_limit_per_minute: 600,
        }
    }
}

impl Config {
    /// Defaults ← `file` (if given) ← `BASCULE_*` environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::Invalid(format!(
                    "{} does not exist",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment
            .merge(Env::prefixed("BASCULE_").split("__"))
            .extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| bascule_store::sqlite_url(&self.data_dir.join("bascule.db")))
    }

    pub fn public_url(&self, bound: SocketAddr) -> String {
        self.public_url.clone().unwrap_or_else(|| {
            let host = if bound.ip().is_loopback() {
                "localhost".to_owned()
            } else {
                bound.ip().to_string()
            };
            format!("https://{host}:{}", bound.port())
        })
    }

    /// The configuration as it may be printed: credentials in URLs are masked.
    pub fn redacted(&self) -> String {
        let mut shown = self.clone();
        shown.database_url = Some(redact_url(&self.database_url()));
        toml_like(&shown)
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn toml_like(c: &Config) -> String {
    serde_json::to_string(c).unwrap_or_else(|_| "<unprintable>".into())
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`; also masks `password=` parameters.
pub(crate) fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.rsplit_once('@')
        && let Some((user, _)) = userinfo.split_once(':')
    {
        out = format!("{scheme}://{user}:***@{host}");
    }
    if let Some(i) = out.find("password=") {
        let end = out[i..].find('&').map(|e| i + e).unwrap_or(out.len());
        out.replace_range(i + "password=".len()..end, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_never_print() {
        assert_eq!(
            redact_url("postgres://bank:s3cret@db:5432/bascule"),
            "postgres://bank:***@db:5432/bascule"
        );
        assert_eq!(
            redact_url("postgres://db/bascule?user=bank&password=s3cret&sslmode=require"),
            "postgres://db/bascule?user=bank&password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("sqlite://data/bascule.db?mode=rwc"),
            "sqlite://data/bascule.db?mode=rwc"
        );
    }

    #[test]
    fn the_reauthentication_policy_is_named_as_the_bank_configures_it() {
        let c: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(
                "reauthentication = \"bank_sca_every_90_days\"",
            ))
            .extract()
            .unwrap();
        assert_eq!(c.reauthentication, Reauthentication::BankScaEvery90Days);
        assert_eq!(
            Config::default().reauthentication,
            Reauthentication::TppReconfirms
        );
    }

    #[test]
    fn redacted_config_hides_the_database_password() {
        let c = Config {
            database_url: Some("postgres://u:topsecret@h/db".into()),
            ..Config::default()
        };
        assert!(!c.redacted().contains("topsecret"));
        assert!(!format!("{c:?}").contains("topsecret"));
    }
}
