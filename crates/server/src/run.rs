//! Start-up and shutdown: certificates, store, the bank's core, router, listener, and the
//! background jobs handed to the [`Supervisor`].

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware::from_fn;
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use bascule_authz::{Authz, AuthzConfig, ServerKeys};
use bascule_core_banking::SharedCoreBanking;
use bascule_customer_pages::{AppInbox, CustomerPages, PagesConfig, Passcodes};
use bascule_directory::{Directory, DirectoryError};
use bascule_domain::{Clock, RandomIds, SortCode};
use bascule_http::{Error, ErrorFormat, error_format, error_format_by_path, interaction_layer};
use bascule_ledger::{Ledger, LedgerConfig, LedgerError};
use bascule_registration::{
    JwksCache, Registrar, RegistrarConfig, TrustedDirectory, jwks_http_client,
};
use bascule_store::{Store, StoreError, StoreOptions};
use bascule_tls::{CertificateAuthority, IssuedCertificate, RevokedCertificates, TlsError};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::catch_panic::CatchPanicLayer;

use crate::Config;
use crate::supervisor::{BackgroundJobs, JobRun, Supervisor};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("certificates: {0}")]
    Tls(#[from] TlsError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("ledger: {0}")]
    Ledger(#[from] LedgerError),
    #[error("directory: {0}")]
    Directory(#[from] DirectoryError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server task failed: {0}")]
    Task(String),
}

/// The bank's core: where the APIs read customers, accounts and transactions and post payments.
#[derive(Clone, Default)]
pub enum Core {
    /// Bascule's built-in ledger on the server's database. Its daily jobs (interest, fees,
    /// standing orders, scheduled payments) run in the server, and the demo bank loads into it.
    #[default]
    BuiltInLedger,
    /// A bank's own core behind the `CoreBanking` trait. The built-in ledger is not opened:
    /// `AppState::ledger` is `None` and no ledger jobs run (the bank's core keeps its own
    /// calendar); everything else — the authorisation server, the APIs, the sandbox directory —
    /// is the same.
    Own(SharedCoreBanking),
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    /// The built-in ledger, when it is the core ([`Core::BuiltInLedger`]).
    pub ledger: Option<Ledger>,
    /// The bank's core as the APIs see it: the built-in ledger unless a bank plugs in its own.
    pub core_banking: SharedCoreBanking,
    pub ca: Arc<CertificateAuthority>,
    /// The sandbox directory, in sandbox mode only.
    pub directory: Option<Directory>,
    /// Client certificates refused at the handshake.
    pub revoked: Arc<RevokedCertificates>,
    /// Dynamic client registration and client authentication.
    pub registrar: Registrar,
    /// The authorisation server.
    pub authz: Authz,
    /// The Account and Transaction API.
    pub aisp: bascule_aisp::Aisp,
    /// The Confirmation of Funds API.
    pub cbpii: bascule_cbpii::Cbpii,
    /// The Payment Initiation API.
    pub pisp: bascule_pisp::Pisp,
    /// Event subscriptions, notifications and polling.
    pub events: bascule_events::Events,
    /// The personal developer API and its webhooks.
    pub personal: bascule_personal_api::PersonalApi,
    /// The customer's pages: consent journeys and the bank app.
    pub pages: CustomerPages,
    /// The demo bank app's passcodes (the sign-in behind the pages).
    pub passcodes: Passcodes,
    pub clock: Arc<dyn Clock>,
    pub public_url: String,
}

pub struct RunningServer {
    pub addr: SocketAddr,
    pub public_url: String,
    pub state: AppState,
    stop: watch::Sender<bool>,
    server: JoinHandle<Result<(), TlsError>>,
    jobs: Supervisor,
    drain: Duration,
}

impl RunningServer {
    /// The background jobs' tasks, counted while they run.
    pub fn background_jobs(&self) -> BackgroundJobs {
        self.jobs.handle()
    }

    /// Stops accepting, lets in-flight requests finish, stops the jobs, closes the pool.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        let _ = self.stop.send(true);
        self.wait().await
    }

    /// Runs until the shutdown signal given to `start` fires (or `shutdown` is called).
    pub async fn wait(self) -> Result<(), ServerError> {
        let served = self
            .server
            .await
            .map_err(|e| ServerError::Task(e.to_string()))?;
        let _ = self.stop.send(true);
        // The jobs use the pool: they end before it closes.
        self.jobs.shutdown(self.drain).await;
        self.state.store.close().await;
        served?;
        Ok(())
    }
}

/// Which error format an unrouted path gets: by the area its prefix belongs to.
fn format_of(path: &str) -> ErrorFormat {
    if path.starts_with("/open-banking/") {
        ErrorFormat::OpenBanking
    } else if [
        "/token",
        "/register",
        "/par",
        "/revoke",
        "/introspect",
        "/.well-known/",
        "/jwks",
    ]
    .iter()
    .any(|p| path.starts_with(p))
    {
        ErrorFormat::OAuth
    } else if ["/health/", "/metrics", "/sandbox/"]
        .iter()
        .any(|p| path.starts_with(p))
    {
        ErrorFormat::Json
    } else {
        ErrorFormat::Page
    }
}

pub(crate) fn router(state: AppState) -> Router {
    let json = || from_fn_with_state(ErrorFormat::Json, error_format);
    let ops = crate::ops::router().route_layer(json());
    let pages =
        crate::pages::router().route_layer(from_fn_with_state(ErrorFormat::Page, error_format));
    let oauth = || from_fn_with_state(ErrorFormat::OAuth, error_format);
    let mut app = Router::new()
        .merge(ops)
        .merge(pages)
        .merge(state.registrar.router().route_layer(oauth()))
        .merge(state.authz.router())
        .merge(state.pages.router())
        .merge(state.aisp.router())
        .merge(state.cbpii.router())
        .merge(state.pisp.router())
        .merge(state.events.router())
        .merge(state.personal.router());
    if let Some(directory) = &state.directory {
        app = app
            .merge(crate::sandbox::router().route_layer(json()))
            .merge(directory.router().route_layer(json()));
    }
    app.with_state(state)
        // A panicking handler still answers: a 500 in its area's format, with the interaction
        // id, logged and counted.
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                Error::Internal("handler panicked".into()).into_response()
            },
        ))
        .layer(from_fn_with_state(
            format_of as fn(&str) -> ErrorFormat,
            error_format_by_path,
        ))
        .layer(from_fn(interaction_layer))
}

fn server_certificate(
    config: &Config,
    ca: &CertificateAuthority,
    dir: &Path,
    hosts: &[String],
    clock: &dyn Clock,
) -> Result<IssuedCertificate, ServerError> {
    if let (Some(cert), Some(key)) = (&config.server_certificate_file, &config.server_key_file) {
        return Ok(IssuedCertificate::read_from(cert, key)?);
    }
    if config.server_certificate_file.is_some() != config.server_key_file.is_some() {
        return Err(ServerError::Config(
            "server_certificate_file and server_key_file go together".into(),
        ));
    }
    // RSA: FAPI's TLS 1.2 suites are ECDHE-RSA only (earlier EC certificates had another name).
    let (cert_path, key_path) = (
        dir.join("server-rsa.crt.pem"),
        dir.join("server-rsa.key.pem"),
    );
    let now = clock.now();
    if let Ok(existing) = IssuedCertificate::read_from(&cert_path, &key_path) {
        // Reuse while it has a month to run, so a restart does not change what clients pinned.
        if existing
            .not_after()
            .is_ok_and(|t| t > now + time::Duration::days(30))
        {
            return Ok(existing);
        }
    }
    let issued = ca.issue_server_certificate(hosts, now)?;
    issued.write_to(&cert_path, &key_path)?;
    Ok(issued)
}

fn client_roots(
    ca: &CertificateAuthority,
    sandbox: bool,
    files: &[PathBuf],
) -> Result<Vec<CertificateDer<'static>>, ServerError> {
    // Only a sandbox trusts its own CA for TPP identities: in production anyone holding the
    // data directory could otherwise mint accepted TPP certificates.
    let mut roots = if sandbox {
        vec![ca.certificate_der()]
    } else {
        Vec::new()
    };
    for file in files {
        let certs = CertificateDer::pem_file_iter(file)
            .map_err(|e| ServerError::Config(format!("{}: {e}", file.display())))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ServerError::Config(format!("{}: {e}", file.display())))?;
        if certs.is_empty() {
            return Err(ServerError::Config(format!(
                "{} holds no certificate",
                file.display()
            )));
        }
        roots.extend(certs);
    }
    if roots.is_empty() {
        return Err(ServerError::Config(
            "no client certificate roots: set client_ca_files (e.g. the Open Banking Directory's roots), or run in sandbox mode".into(),
        ));
    }
    Ok(roots)
}

/// Registration trusts the sandbox directory's SSAs in sandbox mode (and fetches software JWKS
/// trusting the sandbox CA); a production bank trusts the directories it is configured with.
fn registrar(
    config: &Config,
    store: &Store,
    clock: &Arc<dyn Clock>,
    sandbox: Option<(&Directory, &CertificateAuthority)>,
    public_url: &str,
) -> Result<Registrar, ServerError> {
    let directory = sandbox.map(|(d, _)| d);
    let mut trusted_directories = Vec::new();
    if let Some(d) = directory {
        let keys = bascule_jose::VerifyingKeys::from_jwks(&d.jwks())
            .map_err(|e| ServerError::Config(format!("directory keys: {e}")))?;
        trusted_directories.push(TrustedDirectory {
            issuer: bascule_directory::SSA_ISSUER.to_owned(),
            keys: Arc::new(keys),
        });
    }
    let sandbox_root = sandbox.map(|(_, ca)| ca.certificate_der());
    let http =
        jwks_http_client(sandbox_root.as_ref()).map_err(|e| ServerError::Config(e.to_string()))?;
    Ok(Registrar::new(
        store.clone(),
        clock.clone(),
        Arc::new(RandomIds),
        RegistrarConfig {
            audience: config.bank.organisation_id.clone(),
            issuer_url: public_url.to_owned(),
            ssa_max_age: config.ssa_max_age_seconds,
            trusted_directories,
        },
        directory.cloned(),
        JwksCache::new(http),
    ))
}

fn authorisation_server(
    config: &Config,
    store: &Store,
    clock: &Arc<dyn Clock>,
    registrar: &Registrar,
    core_banking: &SharedCoreBanking,
    public_url: &str,
) -> Result<Authz, ServerError> {
    // Retired keys stay published for a week: longer than any token they signed lives.
    const KEY_RETENTION: i64 = 7 * 24 * 3600;
    let keys = ServerKeys::load_or_create(
        &config.data_dir.join("authz").join("keys"),
        clock.now().unix_timestamp(),
        KEY_RETENTION,
    )
    .map_err(|e| ServerError::Config(format!("authorisation server keys: {e}")))?;
    let mut authz_config = AuthzConfig::new(public_url);
    authz_config.access_token_lifetime = config.access_token_lifetime_seconds;
    authz_config.rotate_refresh_tokens = config.rotate_refresh_tokens;
    authz_config.sandbox = config.sandbox;
    authz_config.reauthentication = config.reauthentication;
    authz_config.sandbox_customer = match &config.sandbox_customer_id {
        Some(id) => Some(
            bascule_domain::CustomerId::parse(id.clone())
                .map_err(|e| ServerError::Config(format!("sandbox_customer_id: {e}")))?,
        ),
        None => None,
    };
    Ok(Authz::new(
        store.clone(),
        clock.clone(),
        registrar.clone(),
        keys,
        core_banking.clone(),
        authz_config,
    ))
}

/// The built-in ledger on the server's database.
async fn open_ledger(
    store: &Store,
    clock: &Arc<dyn Clock>,
    sort_code: SortCode,
) -> Result<Ledger, ServerError> {
    Ok(Ledger::open(
        store.clone(),
        clock.clone(),
        Arc::new(RandomIds),
        LedgerConfig { sort_code },
    )
    .await?)
}

/// The customer's pages and the demo's passcodes behind their sign-in.
fn customer_pages(
    config: &Config,
    store: &Store,
    clock: &Arc<dyn Clock>,
    authz: &Authz,
    core_banking: &SharedCoreBanking,
) -> (CustomerPages, Passcodes) {
    let passcodes = Passcodes::new(store.clone(), clock.clone());
    let mut pages_config = PagesConfig::new(config.bank.name.clone());
    pages_config.approval_lifetime = config.approval_request_lifetime_seconds.max(1);
    let pages = CustomerPages::new(
        store.clone(),
        clock.clone(),
        authz.clone(),
        core_banking.clone(),
        Arc::new(passcodes.clone()),
        Arc::new(AppInbox::new(store.clone(), clock.clone())),
        pages_config,
    );
    (pages, passcodes)
}

/// What the bank's operators act on from the command line (`bascule admin`), on the configured
/// database and the built-in ledger, without listening or running background jobs: the
/// consent service and the registrar (through `authz`) and the customer's pages (reminders).
pub struct Operations {
    pub store: Store,
    pub authz: Authz,
    pub pages: CustomerPages,
}

/// Opens [`Operations`] on `config`'s database.
pub async fn operations(config: &Config, clock: Arc<dyn Clock>) -> Result<Operations, ServerError> {
    let sort_code = SortCode::parse(&config.bank.sort_code)
        .map_err(|e| ServerError::Config(format!("bank.sort_code: {e}")))?;
    let store = Store::connect(&config.database_url(), &StoreOptions::default()).await?;
    let core_banking: SharedCoreBanking = Arc::new(open_ledger(&store, &clock, sort_code).await?);
    let public_url = config.public_url(config.listen);
    let registrar = registrar(config, &store, &clock, None, &public_url)?;
    let authz = authorisation_server(
        config,
        &store,
        &clock,
        &registrar,
        &core_banking,
        &public_url,
    )?;
    let (pages, _) = customer_pages(config, &store, &clock, &authz, &core_banking);
    Ok(Operations {
        store,
        authz,
        pages,
    })
}

/// Starts the server on the built-in ledger: everything is ready to serve when this returns.
pub async fn start(
    config: Config,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<RunningServer, ServerError> {
    start_on(config, clock, Core::BuiltInLedger, shutdown).await
}

/// Starts the server on `core`: everything is ready to serve when this returns.
pub async fn start_on(
    config: Config,
    clock: Arc<dyn Clock>,
    core: Core,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<RunningServer, ServerError> {
    // The recorder must exist before the first request is counted.
    if bascule_http::metrics::handle().is_none() {
        tracing::warn!("metrics recorder could not be installed; /metrics will be empty");
    }
    let sort_code = SortCode::parse(&config.bank.sort_code)
        .map_err(|e| ServerError::Config(format!("bank.sort_code: {e}")))?;
    let data_dir = config.data_dir.clone();
    let tls_dir = data_dir.join("tls");
    std::fs::create_dir_all(&tls_dir).map_err(|source| ServerError::DataDir {
        path: tls_dir.clone(),
        source,
    })?;

    let ca = CertificateAuthority::load_or_create(&data_dir.join("ca"), clock.now())?;
    let server_cert =
        server_certificate(&config, &ca, &tls_dir, &config.server_hosts, clock.as_ref())?;
    let revoked = Arc::new(RevokedCertificates::default());
    let tls = bascule_tls::server_config(
        &server_cert,
        &client_roots(&ca, config.sandbox, &config.client_ca_files)?,
        revoked.clone(),
    )?;

    let store = Store::connect(
        &config.database_url(),
        &StoreOptions {
            max_connections: config.database_max_connections,
            ..StoreOptions::default()
        },
    )
    .await?;
    let (ledger, core_banking): (Option<Ledger>, SharedCoreBanking) = match core {
        Core::BuiltInLedger => {
            let ledger = open_ledger(&store, &clock, sort_code).await?;
            (Some(ledger.clone()), Arc::new(ledger))
        }
        Core::Own(core) => {
            tracing::info!("the bank's own core is plugged in: the built-in ledger stays closed");
            (None, core)
        }
    };

    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: config.listen,
        source,
    })?;
    let public_url = config.public_url(addr);
    let ca = Arc::new(ca);
    let directory = if config.sandbox {
        Some(
            Directory::open(
                store.clone(),
                clock.clone(),
                Arc::new(RandomIds),
                ca.clone(),
                &data_dir,
                public_url.clone(),
                revoked.clone(),
            )
            .await?,
        )
    } else {
        None
    };
    let registrar = registrar(
        &config,
        &store,
        &clock,
        directory.as_ref().map(|d| (d, ca.as_ref())),
        &public_url,
    )?;
    let authz = authorisation_server(
        &config,
        &store,
        &clock,
        &registrar,
        &core_banking,
        &public_url,
    )?;
    let aisp = bascule_aisp::Aisp::new(
        authz.clone(),
        core_banking.clone(),
        store.clone(),
        clock.clone(),
        bascule_aisp::AispConfig::new(public_url.clone()),
    );
    let cbpii = bascule_cbpii::Cbpii::new(
        authz.clone(),
        core_banking.clone(),
        store.clone(),
        clock.clone(),
        bascule_cbpii::CbpiiConfig::new(public_url.clone()),
    );
    let pisp = bascule_pisp::Pisp::new(
        authz.clone(),
        core_banking.clone(),
        store.clone(),
        clock.clone(),
        bascule_pisp::PispConfig::new(public_url.clone(), config.bank.organisation_id.clone()),
    );
    // Rows an earlier release stored in the v3.1.11 format are converted before the first
    // request, so no token check hands a handler an unconverted consent.
    pisp.stored_terms_ready()
        .await
        .map_err(|e| ServerError::Task(format!("converting stored payment terms: {e:?}")))?;
    let events = event_notifications(
        &config,
        &authz,
        &core_banking,
        &store,
        &clock,
        &ca,
        &public_url,
    )?;
    let personal = bascule_personal_api::PersonalApi::new(
        store.clone(),
        core_banking.clone(),
        clock.clone(),
        bascule_personal_api::PersonalConfig {
            rate_limit: bascule_personal_api::RateLimit {
                requests: config.personal_rate_limit_per_minute.max(1),
                window_seconds: 60,
            },
            sandbox: config.sandbox,
        },
    );
    let (pages, passcodes) = customer_pages(&config, &store, &clock, &authz, &core_banking);
    let pages = pages.with_personal_api(personal.clone());
    let drain = Duration::from_secs(config.shutdown_drain_seconds);
    let jobs_every = Duration::from_secs(config.jobs_interval_seconds.max(1));
    let revocation_refresh = Duration::from_secs(config.revocation_refresh_seconds.max(1));
    let events_every = Duration::from_millis(config.events_interval_ms.max(10));

    let state = AppState {
        config: Arc::new(config),
        store,
        core_banking,
        ledger: ledger.clone(),
        ca,
        directory: directory.clone(),
        revoked,
        registrar,
        authz,
        aisp,
        cbpii,
        pisp,
        events,
        personal,
        pages,
        passcodes,
        clock,
        public_url: public_url.clone(),
    };

    let (stop, mut on_stop) = watch::channel(false);
    let stop_for_signal = stop.clone();
    let shutdown = async move {
        tokio::select! {
            () = shutdown => { let _ = stop_for_signal.send(true); }
            _ = on_stop.wait_for(|s| *s) => {}
        }
    };
    let server = tokio::spawn(bascule_tls::serve(
        listener,
        tls,
        router(state.clone()),
        shutdown,
        drain,
    ));
    let mut jobs = supervise(
        ledger,
        directory,
        &state.pisp,
        jobs_every,
        revocation_refresh,
    );
    let reminding = state.pages.clone();
    // Idempotent across nodes: each reminder is claimed by a unique row before it is sent.
    jobs.every(
        "connection_reminders",
        Duration::from_secs(state.config.reminders_interval_seconds.max(1)),
        move || -> JobRun {
            let pages = reminding.clone();
            Box::pin(async move {
                let sent = pages.send_reminders().await.map_err(|e| e.to_string())?;
                if sent > 0 {
                    tracing::info!(sent, "connection reminders sent");
                }
                Ok(())
            })
        },
    );
    let counting = state.authz.clone();
    // Each node adds its in-memory counts of consent use (the dashboard's "last used") to the
    // database; nothing is written on a request's path.
    jobs.every(
        "consent_usage_flush",
        Duration::from_secs(10),
        move || -> JobRun {
            let authz = counting.clone();
            Box::pin(async move {
                authz
                    .flush_consent_usage()
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        },
    );
    supervise_events(&mut jobs, &state.events, events_every);
    let webhooks = state.personal.clone();
    // A compare-and-set cursor: several nodes write each message once.
    jobs.every("personal_webhook_feed", events_every, move || -> JobRun {
        let personal = webhooks.clone();
        Box::pin(async move {
            personal
                .follow_ledger()
                .await
                .map(|_| ())
                .map_err(|e| format!("personal webhook feed: {e}"))
        })
    });
    tracing::info!(%addr, %public_url, "Bascule is serving");
    Ok(RunningServer {
        addr,
        public_url,
        state,
        stop,
        server,
        jobs,
        drain,
    })
}

/// The event notification service: pushes go out with a client that trusts the sandbox CA in
/// sandbox mode (local receivers) and the platform's roots otherwise.
fn event_notifications(
    config: &Config,
    authz: &Authz,
    core_banking: &SharedCoreBanking,
    store: &Store,
    clock: &Arc<dyn Clock>,
    ca: &CertificateAuthority,
    public_url: &str,
) -> Result<bascule_events::Events, ServerError> {
    let sandbox_root = config.sandbox.then(|| ca.certificate_der());
    let http = bascule_events::callback_client(sandbox_root.as_ref(), config.sandbox)
        .map_err(|e| ServerError::Config(e.to_string()))?;
    let mut events_config =
        bascule_events::EventsConfig::new(public_url, config.bank.organisation_id.clone());
    events_config.sandbox = config.sandbox;
    events_config.retry_period = Duration::from_secs(config.event_retry_period_seconds);
    events_config.first_backoff = Duration::from_millis(config.event_first_backoff_ms);
    events_config.max_backoff = Duration::from_millis(
        config
            .event_max_backoff_ms
            .max(config.event_first_backoff_ms),
    );
    events_config.lease = Duration::from_secs(config.event_lease_seconds.max(1));
    Ok(bascule_events::Events::new(
        authz.clone(),
        core_banking.clone(),
        store.clone(),
        clock.clone(),
        events_config,
        http,
    ))
}

/// The event workers: pushes due, the queue's gauges, and the ledger's feed turned into
/// events. All are safe on several nodes (claims under a lease, a compare-and-set cursor).
fn supervise_events(supervisor: &mut Supervisor, events: &bascule_events::Events, every: Duration) {
    let delivering = events.clone();
    supervisor.every("event_delivery", every, move || -> JobRun {
        let events = delivering.clone();
        Box::pin(async move {
            events
                .deliver_due()
                .await
                .map(|_| ())
                .map_err(|e| format!("event delivery: {e}"))
        })
    });
    let measuring = events.clone();
    supervisor.every(
        "event_queue_metrics",
        Duration::from_secs(5),
        move || -> JobRun {
            let events = measuring.clone();
            Box::pin(async move {
                events
                    .record_queue_metrics()
                    .await
                    .map_err(|e| format!("event queue metrics: {e}"))
            })
        },
    );
    let following = events.clone();
    supervisor.every("event_feed", every, move || -> JobRun {
        let events = following.clone();
        Box::pin(async move {
            events
                .follow_ledger()
                .await
                .map(|_| ())
                .map_err(|e| format!("ledger feed: {e}"))
        })
    });
}

/// The server's background work, each job on its own interval.
fn supervise(
    ledger: Option<Ledger>,
    directory: Option<Directory>,
    pisp: &bascule_pisp::Pisp,
    jobs_every: Duration,
    revocation_refresh: Duration,
) -> Supervisor {
    let mut supervisor = Supervisor::new();
    match ledger {
        // Idempotent, so several nodes running them against one database pay nothing twice.
        Some(ledger) => supervisor.every("daily_jobs", jobs_every, move || -> JobRun {
            let ledger = ledger.clone();
            Box::pin(async move {
                let report = ledger.run_daily_jobs().await.map_err(|e| e.to_string())?;
                if report != bascule_ledger::JobReport::default() {
                    tracing::info!(?report, "daily jobs ran");
                }
                Ok(())
            })
        }),
        None => tracing::info!(
            "no daily ledger jobs: the bank's own core keeps its own calendar (interest, fees, standing orders)"
        ),
    }
    // Revocations made on another node or by the CLI reach this node's TLS handshakes.
    if let Some(directory) = directory {
        supervisor.every(
            "revocation_refresh",
            revocation_refresh,
            move || -> JobRun {
                let directory = directory.clone();
                Box::pin(async move {
                    directory
                        .refresh_revocations()
                        .await
                        .map(|_| ())
                        .map_err(|e| format!("could not refresh revoked certificates: {e}"))
                })
            },
        );
    }
    let every = pisp.config().recovery_interval;
    let recovering = pisp.clone();
    // Payments and payment orders a crash left half-way are settled (exactly once) here.
    supervisor.every("payment_recovery", every, move || -> JobRun {
        let pisp = recovering.clone();
        Box::pin(async move {
            // Each kind is recovered even when the other failed this round.
            let payments = pisp.recover().await;
            let orders = pisp.recover_orders().await;
            match &payments {
                Ok(n) if *n > 0 => tracing::info!(payments = n, "recovered pending payments"),
                _ => {}
            }
            match &orders {
                Ok(n) if *n > 0 => tracing::info!(orders = n, "recovered pending payment orders"),
                _ => {}
            }
            payments.map_err(|e| format!("payments: {e:?}"))?;
            orders.map_err(|e| format!("payment orders: {e:?}"))?;
            Ok(())
        })
    });
    let purging = pisp.clone();
    supervisor.every("idempotency_purge", every, move || -> JobRun {
        let pisp = purging.clone();
        Box::pin(async move {
            let before = pisp.now() - pisp.config().idempotency_retention;
            bascule_pisp::idempotency::purge(pisp.store(), before.unix_timestamp())
                .await
                .map(|_| ())
                .map_err(|e| format!("{e:?}"))
        })
    });
    supervisor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unrouted_paths_get_their_area_format() {
        assert_eq!(
            format_of("/open-banking/v3.1/aisp/accounts"),
            ErrorFormat::OpenBanking
        );
        assert_eq!(format_of("/token"), ErrorFormat::OAuth);
        assert_eq!(format_of("/health/nope"), ErrorFormat::Json);
        assert_eq!(format_of("/consent/xyz"), ErrorFormat::Page);
    }
}
