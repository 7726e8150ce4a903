//! The `bascule` binary: `bascule demo` starts a complete sandbox bank in one command;
//! `bascule serve --config FILE` runs a configured bank on SQLite or PostgreSQL.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use bascule_domain::{Clock, SortCode, SystemClock};
use bascule_ledger::demo::{self, DemoOptions};
use bascule_server::{Config, LogFormat, telemetry};
use bascule_store::{Store, StoreOptions};
use bascule_tls::{CertificateAuthority, ClientSubject, IssuedCertificate};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "bascule",
    version,
    about = "Open Banking for banks: FAPI, mutual TLS, consent, a ledger."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the demo bank: generated customers, accounts, pots and 13 months of history,
    /// a sandbox CA and a demo TPP's certificate, all created on first run and reused after.
    Demo {
        /// Where the demo keeps its database, certificates and TPP files.
        #[arg(long, default_value = "bascule-data")]
        data_dir: PathBuf,
        /// Throw the data directory away and build the demo bank afresh.
        #[arg(long)]
        reset: bool,
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
    },
    /// Run a configured bank.
    Serve {
        /// A TOML file; `BASCULE_*` environment variables override it.
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo {
            data_dir,
            reset,
            listen,
        } => demo(data_dir, reset, listen).await,
        Command::Serve { config, listen } => serve(config.as_deref(), listen).await,
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn serve(file: Option<&Path>, listen: Option<SocketAddr>) -> anyhow::Result<()> {
    let mut config = Config::load(file)?;
    if let Some(listen) = listen {
        config.listen = listen;
    }
    telemetry::init_logging(config.log_format, &config.log_level);
    tracing::info!(config = %config.redacted(), "configuration");
    let server = bascule_server::start(config, Arc::new(SystemClock), shutdown_signal()).await?;
    server.wait().await?;
    Ok(())
}

async fn demo(data_dir: PathBuf, reset: bool, listen: SocketAddr) -> anyhow::Result<()> {
    if reset && data_dir.exists() {
        std::fs::remove_dir_all(&data_dir)
            .with_context(|| format!("removing {}", data_dir.display()))?;
    }
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let data_dir = data_dir.canonicalize()?;
    let config = Config {
        listen,
        data_dir: data_dir.clone(),
        log_format: LogFormat::Pretty,
        log_level: "warn,bascule=info".into(),
        jobs_interval_seconds: 60,
        ..Config::load(None)?
    };
    telemetry::init_logging(config.log_format, &config.log_level);
    let clock = SystemClock;

    let store = Store::connect(&config.database_url(), &StoreOptions::default()).await?;
    if !demo::is_built(&store).await? {
        println!("Building the demo bank (13 months of history; once per data directory) ...");
        let started = std::time::Instant::now();
        let bank = demo::build_demo_bank(
            store.clone(),
            SortCode::parse(&config.bank.sort_code)?,
            clock.now(),
            &DemoOptions::default(),
        )
        .await?;
        println!(
            "Built {} customers in {:.1} s.",
            bank.customers.len(),
            started.elapsed().as_secs_f64()
        );
    }
    store.close().await;

    let tpp_dir = data_dir.join("tpp");
    write_demo_tpp(&data_dir, &tpp_dir, &clock)?;

    let server = bascule_server::start(config, Arc::new(clock), shutdown_signal()).await?;
    let url = server.public_url.clone();
    let bank = demo::load_demo_bank(&server.state.ledger).await?;
    println!();
    println!("Bascule demo bank is running at {url}");
    println!("  Front page:        {url}/");
    println!("  Readiness:         {url}/health/ready");
    println!("  Metrics:           {url}/metrics");
    println!("  Your certificate:  {url}/sandbox/tls/client-certificate  (mutual TLS)");
    println!();
    println!("Files a TPP needs are in {}:", tpp_dir.display());
    println!(
        "  ca.pem                  the bank's sandbox CA (trust it for the server certificate)"
    );
    println!("  transport.crt.pem/.key  the demo TPP's transport certificate, for mutual TLS");
    println!("Try:");
    println!(
        "  curl --cacert {d}/ca.pem --cert {d}/transport.crt.pem --key {d}/transport.key.pem {url}/sandbox/tls/client-certificate",
        d = tpp_dir.display()
    );
    println!();
    println!("Demo customers:");
    for c in &bank.customers {
        let pots: Vec<String> = c
            .pots
            .iter()
            .map(|p| match p.interest_rate {
                Some(r) => format!(
                    "{} ({}% gross)",
                    p.name,
                    (r * rust_decimal::Decimal::ONE_HUNDRED).normalize()
                ),
                None => p.name.clone(),
            })
            .collect();
        println!(
            "  {:<22} {} {}  {}  pots: {}",
            c.name,
            c.sort_code.dashed(),
            c.account_number,
            c.email,
            pots.join(", ")
        );
    }
    println!();
    println!(
        "Data directory: {} (start again with --reset). Ctrl-C stops.",
        data_dir.display()
    );
    server.wait().await?;
    Ok(())
}

/// The demo TPP's transport certificate and the CA bundle, issued once by the sandbox CA.
fn write_demo_tpp(data_dir: &Path, tpp_dir: &Path, clock: &dyn Clock) -> anyhow::Result<()> {
    std::fs::create_dir_all(tpp_dir)?;
    let ca = CertificateAuthority::load_or_create(&data_dir.join("ca"), clock.now())?;
    std::fs::write(tpp_dir.join("ca.pem"), ca.certificate_pem())?;
    let (cert, key) = (
        tpp_dir.join("transport.crt.pem"),
        tpp_dir.join("transport.key.pem"),
    );
    if IssuedCertificate::read_from(&cert, &key).is_err() {
        let issued = ca.issue_client_certificate(
            &ClientSubject {
                organisation_id: "0015800001DEMOTPP".into(),
                organisation_name: "Demo TPP Ltd".into(),
                software_id: "demo-tpp-app".into(),
            },
            clock.now(),
        )?;
        issued.write_to(&cert, &key)?;
    }
    Ok(())
}
