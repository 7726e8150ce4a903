//! `spawn_app()`: the real server, over TLS, on an ephemeral port, with its own data directory
//! and database, a clock the test moves, and HTTPS clients with and without a TPP transport
//! certificate issued by the server's sandbox CA. `spawn_server_on_core()` runs the same server
//! on a core the test brings instead of the built-in ledger.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use anyhow::Context;
use bascule_core_banking::SharedCoreBanking;
use bascule_domain::ManualClock;
use bascule_ledger::Ledger;
use bascule_server::{Config, Core, RunningServer};
use bascule_store::Backend;
use bascule_tls::{ClientSubject, IssuedCertificate};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tempfile::TempDir;
use time::macros::datetime;

use crate::{TestDatabase, test_database};

/// The server on the built-in ledger, and that ledger (to open customers and accounts, post
/// payments, run the daily jobs). Everything else is the [`TestServer`] it dereferences to.
pub struct TestApp {
    server: TestServer,
    pub ledger: Ledger,
}

impl Deref for TestApp {
    type Target = TestServer;

    fn deref(&self) -> &TestServer {
        &self.server
    }
}

impl DerefMut for TestApp {
    fn deref_mut(&mut self) -> &mut TestServer {
        &mut self.server
    }
}

impl TestApp {
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.server.shutdown().await
    }
}

/// The running server, whatever its core: its address, clock, sandbox CA, clients and database.
pub struct TestServer {
    pub base_url: String,
    pub addr: std::net::SocketAddr,
    pub clock: Arc<ManualClock>,
    /// The sandbox CA's certificate (PEM): what TPPs trust the bank's server certificate with.
    pub ca_pem: String,
    /// A TPP transport certificate issued by the sandbox CA.
    pub tpp_certificate: IssuedCertificate,
    /// Trusts the bank, presents no client certificate (a browser, an ops probe).
    pub client: reqwest::Client,
    /// Trusts the bank and presents `tpp_certificate` (a TPP).
    pub tpp_client: reqwest::Client,
    /// A browser: trusts the bank, presents no client certificate, follows no redirects.
    pub browser: reqwest::Client,
    pub data_dir: TempDir,
    server: Option<RunningServer>,
    pub db: TestDatabase,
}

impl TestServer {
    /// Everything the server holds: ledger, directory, registrar, store ...
    pub fn state(&self) -> &bascule_server::AppState {
        // The server lives until shutdown consumes the app, so it is always there here.
        match &self.server {
            Some(server) => &server.state,
            None => unreachable_state(),
        }
    }

    /// The count of the server's background tasks alive (0 once it has shut down).
    pub fn background_jobs(&self) -> bascule_server::supervisor::BackgroundJobs {
        match &self.server {
            Some(server) => server.background_jobs(),
            None => unreachable_state(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// A client presenting another TPP transport certificate from the same CA.
    pub fn client_with(
        &self,
        identity: Option<&IssuedCertificate>,
    ) -> anyhow::Result<reqwest::Client> {
        https_client(&self.ca_pem, identity)
    }

    pub fn issue_tpp_certificate(
        &self,
        organisation_id: &str,
        software_id: &str,
    ) -> anyhow::Result<IssuedCertificate> {
        let ca = bascule_tls::CertificateAuthority::load_or_create(
            &self.data_dir.path().join("ca"),
            bascule_domain::Clock::now(self.clock.as_ref()),
        )?;
        Ok(ca.issue_client_certificate(
            &ClientSubject {
                organisation_id: organisation_id.into(),
                organisation_name: format!("Test TPP {organisation_id}"),
                software_id: software_id.into(),
            },
            bascule_domain::Clock::now(self.clock.as_ref()),
        )?)
    }

    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(server) = self.server.take() {
            server.shutdown().await?;
        }
        Ok(())
    }
}

#[allow(clippy::panic)]
fn unreachable_state() -> ! {
    panic!("the test app was shut down")
}

/// A person's browser: trusts the bank (`ca_pem`), presents no client certificate, follows no
/// redirects (each hop is the test's to check).
pub fn https_browser(ca_pem: &str) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes())?])
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

pub fn https_client(
    ca_pem: &str,
    identity: Option<&IssuedCertificate>,
) -> anyhow::Result<reqwest::Client> {
    let ca = CertificateDer::from_pem_slice(ca_pem.as_bytes()).context("CA certificate")?;
    let tls = bascule_tls::client_config(&ca, identity)?;
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(Arc::unwrap_or_clone(tls))
        .build()?)
}

/// The server on `backend` with default test settings.
pub async fn spawn_app(backend: Backend) -> anyhow::Result<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// The server on `backend`, after `adjust` had its say on the configuration.
pub async fn spawn_app_with(
    backend: Backend,
    adjust: impl FnOnce(&mut Config),
) -> anyhow::Result<TestApp> {
    let server = spawn(backend, Core::BuiltInLedger, adjust).await?;
    let ledger = server
        .state()
        .ledger
        .clone()
        .context("a server on the built-in ledger holds it")?;
    Ok(TestApp { server, ledger })
}

/// The server on `backend` with `core` as the bank's core instead of the built-in ledger (what a
/// bank connecting its own core runs); default test settings otherwise.
pub async fn spawn_server_on_core(
    backend: Backend,
    core: SharedCoreBanking,
) -> anyhow::Result<TestServer> {
    spawn(backend, Core::Own(core), |_| {}).await
}

async fn spawn(
    backend: Backend,
    core: Core,
    adjust: impl FnOnce(&mut Config),
) -> anyhow::Result<TestServer> {
    let db = test_database(backend).await?;
    let data_dir = tempfile::tempdir()?;
    let clock = Arc::new(ManualClock::new(datetime!(2026-01-05 09:00 UTC)));
    let mut config = Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: data_dir.path().to_path_buf(),
        database_url: Some(db.url.clone()),
        database_max_connections: 8,
        jobs_interval_seconds: 3600,
        // Tests refresh revocations themselves, so "not yet seen" is deterministic.
        revocation_refresh_seconds: 3600,
        sandbox: true,
        shutdown_drain_seconds: 2,
        ..Config::default()
    };
    adjust(&mut config);
    let server =
        bascule_server::start_on(config, clock.clone(), core, std::future::pending()).await?;
    let ca_pem = server.state.ca.certificate_pem().to_owned();
    let tpp_certificate = server.state.ca.issue_client_certificate(
        &ClientSubject {
            organisation_id: "0015800001041RHAAY".into(),
            organisation_name: "Test TPP Ltd".into(),
            software_id: "test-software".into(),
        },
        bascule_domain::Clock::now(clock.as_ref()),
    )?;
    Ok(TestServer {
        base_url: format!("https://localhost:{}", server.addr.port()),
        addr: server.addr,
        client: https_client(&ca_pem, None)?,
        tpp_client: https_client(&ca_pem, Some(&tpp_certificate))?,
        browser: https_browser(&ca_pem)?,
        ca_pem,
        tpp_certificate,
        clock,
        data_dir,
        server: Some(server),
        db,
    })
}
