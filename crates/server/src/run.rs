//! Start-up and shutdown: certificates, store, ledger, router, listener, background jobs.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware::from_fn;
use axum::middleware::from_fn_with_state;
use bascule_core_banking::SharedCoreBanking;
use bascule_domain::{Clock, RandomIds, SortCode};
use bascule_http::{ErrorFormat, error_format, error_format_by_path, interaction_layer};
use bascule_ledger::{Ledger, LedgerConfig, LedgerError};
use bascule_store::{Store, StoreError, StoreOptions};
use bascule_tls::{CertificateAuthority, IssuedCertificate, TlsError};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::Config;

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
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server task failed: {0}")]
    Task(String),
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub ledger: Ledger,
    /// The bank's core as the APIs see it: the built-in ledger unless a bank plugs in its own.
    pub core_banking: SharedCoreBanking,
    pub ca: Arc<CertificateAuthority>,
    pub clock: Arc<dyn Clock>,
    pub public_url: String,
}

pub struct RunningServer {
    pub addr: SocketAddr,
    pub public_url: String,
    pub state: AppState,
    stop: watch::Sender<bool>,
    server: JoinHandle<Result<(), TlsError>>,
    jobs: JoinHandle<()>,
}

impl RunningServer {
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
        let _ = self.jobs.await;
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
    let ops = crate::ops::router().route_layer(from_fn_with_state(ErrorFormat::Json, error_format));
    let sandbox =
        crate::sandbox::router().route_layer(from_fn_with_state(ErrorFormat::Json, error_format));
    let pages =
        crate::pages::router().route_layer(from_fn_with_state(ErrorFormat::Page, error_format));
    Router::new()
        .merge(ops)
        .merge(sandbox)
        .merge(pages)
        .with_state(state)
        .layer(from_fn_with_state(
            format_of as fn(&str) -> ErrorFormat,
            error_format_by_path,
        ))
        .layer(from_fn(interaction_layer))
}

fn server_certificate(
    ca: &CertificateAuthority,
    dir: &Path,
    hosts: &[String],
    clock: &dyn Clock,
) -> Result<IssuedCertificate, ServerError> {
    let (cert_path, key_path) = (dir.join("server.crt.pem"), dir.join("server.key.pem"));
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
    files: &[PathBuf],
) -> Result<Vec<CertificateDer<'static>>, ServerError> {
    let mut roots = vec![ca.certificate_der()];
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
    Ok(roots)
}

/// Starts the server: everything is ready to serve when this returns.
pub async fn start(
    config: Config,
    clock: Arc<dyn Clock>,
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
    let server_cert = server_certificate(&ca, &tls_dir, &config.server_hosts, clock.as_ref())?;
    let tls =
        bascule_tls::server_config(&server_cert, &client_roots(&ca, &config.client_ca_files)?)?;

    let store = Store::connect(
        &config.database_url(),
        &StoreOptions {
            max_connections: config.database_max_connections,
            ..StoreOptions::default()
        },
    )
    .await?;
    let ledger = Ledger::open(
        store.clone(),
        clock.clone(),
        Arc::new(RandomIds),
        LedgerConfig { sort_code },
    )
    .await?;

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
    let drain = Duration::from_secs(config.shutdown_drain_seconds);
    let jobs_every = Duration::from_secs(config.jobs_interval_seconds.max(1));

    let state = AppState {
        config: Arc::new(config),
        store,
        core_banking: Arc::new(ledger.clone()),
        ledger: ledger.clone(),
        ca: Arc::new(ca),
        clock,
        public_url: public_url.clone(),
    };

    let (stop, stopped) = watch::channel(false);
    let mut on_stop = stopped.clone();
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
    let jobs = tokio::spawn(run_jobs(ledger, jobs_every, stopped));
    tracing::info!(%addr, %public_url, "Bascule is serving");
    Ok(RunningServer {
        addr,
        public_url,
        state,
        stop,
        server,
        jobs,
    })
}

/// The ledger's daily jobs, checked periodically; they are idempotent, so several nodes
/// running them against one database pay nothing twice.
async fn run_jobs(ledger: Ledger, every: Duration, mut stopped: watch::Receiver<bool>) {
    loop {
        match ledger.run_daily_jobs().await {
            Ok(report) if report != bascule_ledger::JobReport::default() => {
                tracing::info!(?report, "daily jobs ran");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "daily jobs failed; retrying later"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
    }
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
