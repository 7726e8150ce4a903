//! The `bascule` binary: `bascule demo` starts a complete sandbox bank in one command;
//! `bascule serve --config FILE` runs a configured bank on SQLite or PostgreSQL.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use bascule_authz::RevokedBy;
use bascule_demo::{self as demo, DemoOptions};
use bascule_directory::{Directory, EnrolRequest, Role};
use bascule_domain::{Clock, SortCode, SystemClock};
use bascule_domain::{ConsentId, CustomerId, RandomIds, SuspensionReason};
use bascule_server::{Config, LogFormat, telemetry};
use bascule_store::{Store, StoreOptions};
use bascule_tls::{CertificateAuthority, RevokedCertificates};
use bascule_tpp::oauth::{AuthorizationResponse, ClientAuth, RequestObject};
use bascule_tpp::{RegistrationRequest, TokenEndpointAuthMethod, TppClient, TppFiles};
use clap::{Parser, Subcommand, ValueEnum};

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
    /// The sandbox directory, offline: enrol TPPs, revoke them, reissue software statements.
    Directory {
        /// The bank's configuration (its data directory and database); `--data-dir` alone
        /// points at a demo's data directory.
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        /// Where the bank (and so the directory's JWKS endpoints) is reached, if not at the
        /// configured listen address.
        #[arg(long, global = true)]
        public_url: Option<String>,
        #[command(subcommand)]
        command: DirectoryCommand,
    },
    /// A TPP's event notifications: list the ones not delivered yet, push them again.
    Events {
        /// The bank's configuration (its database); `--data-dir` alone points at a demo's.
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// The TPP side, from an enrolment directory: what a TPP runs against any Open Banking bank.
    Tpp {
        /// The directory `bascule directory enrol --out` wrote.
        #[arg(long, global = true, default_value = ".")]
        tpp: PathBuf,
        #[command(subcommand)]
        command: TppCommand,
    },
    /// The bank's operations on the configured database: a customer's connections, revoking
    /// every consent of a TPP, suspending one connection, the reminder job.
    Admin {
        /// The bank's configuration; `--data-dir` alone points at a demo's data directory.
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        command: AdminCommand,
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

#[derive(Subcommand)]
enum DirectoryCommand {
    /// Enrol an organisation's software: writes its transport certificate and key, signing key
    /// and certificate, software statement, the CA bundle and `tpp.json` into `--out`.
    Enrol {
        #[arg(long)]
        org: String,
        /// Add the software to this existing organisation instead of creating one.
        #[arg(long)]
        org_id: Option<String>,
        #[arg(long)]
        software: String,
        /// Comma-separated: AISP, PISP, CBPII.
        #[arg(long, value_delimiter = ',', default_value = "AISP,PISP,CBPII")]
        roles: Vec<String>,
        /// Repeat for several.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Revoke software, or a whole organisation: its certificates stop working at once.
    Revoke {
        #[arg(long, conflicts_with = "org")]
        software: Option<String>,
        #[arg(long)]
        org: Option<String>,
    },
    /// Issue a fresh software statement for enrolled software.
    Ssa {
        #[arg(long)]
        software: String,
        /// Where to write it (default: print it).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// List every consent a customer authorised: TPP, kind, status, granted, when access ends.
    Connections {
        #[arg(long)]
        customer: String,
    },
    /// Revoke every consent of a TPP's client at once (a compromised TPP); their tokens die.
    RevokeTpp {
        #[arg(long)]
        client_id: String,
    },
    /// Suspend one account-access connection until the customer refreshes it in the app (the
    /// TPP gets 403 UK.OBIE.Reauthenticate meanwhile); the consent keeps its id, its status and
    /// its ExpirationDateTime.
    Suspend {
        #[arg(long)]
        consent: String,
        #[arg(long, value_enum)]
        reason: Reason,
    },
    /// Run the reminder job now (idempotent: reminders already sent are not sent again).
    SendReminders,
}

/// Why the bank suspends a connection.
#[derive(Clone, Copy, ValueEnum)]
enum Reason {
    /// Something suspicious: fraud, a compromised device or credentials.
    SecurityEvent,
    /// A joint holder of a shared account asked the bank to stop the sharing.
    JointHolder,
}

impl From<Reason> for SuspensionReason {
    fn from(r: Reason) -> Self {
        match r {
            Reason::SecurityEvent => SuspensionReason::SecurityEvent,
            Reason::JointHolder => SuspensionReason::JointHolderRequest,
        }
    }
}

#[derive(Subcommand)]
enum EventsCommand {
    /// The client's events not yet delivered or acknowledged, oldest first.
    Stuck {
        #[arg(long)]
        client: String,
    },
    /// Push the client's pending events again now, with a fresh retry period.
    Redrive {
        #[arg(long)]
        client: String,
    },
}

#[derive(Subcommand)]
enum TppCommand {
    /// Print a signed registration request (a JWT) to POST to a bank's /register with curl.
    RegistrationRequest {
        /// The bank's organisation id (the request's `aud`).
        #[arg(long)]
        aud: String,
        #[arg(long, default_value = "tls_client_auth")]
        method: String,
    },
    /// Create an account-access consent (every permission) with the registered client and
    /// print the authorisation URL to open in a browser, where the customer decides.
    ConsentUrl {
        /// The bank's base URL, e.g. https://localhost:8443.
        #[arg(long)]
        bank: String,
    },
    /// Exchange the code in the URL the browser landed on (the TPP's redirect URI) and print
    /// the accounts the customer shared.
    Accounts {
        #[arg(long)]
        bank: String,
        /// The whole URL the browser was sent to, `https://...#code=...`.
        #[arg(long)]
        redirect: String,
    },
    /// Register with a bank by dynamic client registration; saves registration.json.
    Register {
        /// The bank's base URL, e.g. https://localhost:8443.
        #[arg(long)]
        bank: String,
        #[arg(long)]
        aud: String,
        #[arg(long, default_value = "tls_client_auth")]
        method: String,
    },
}

fn auth_method(raw: &str) -> anyhow::Result<TokenEndpointAuthMethod> {
    match raw {
        "tls_client_auth" => Ok(TokenEndpointAuthMethod::TlsClientAuth),
        "private_key_jwt" => Ok(TokenEndpointAuthMethod::PrivateKeyJwt),
        other => anyhow::bail!("{other}: use tls_client_auth or private_key_jwt"),
    }
}

async fn tpp(dir: &Path, command: TppCommand) -> anyhow::Result<()> {
    let files = TppFiles::load(dir)?;
    let now = SystemClock.now().unix_timestamp();
    match command {
        TppCommand::RegistrationRequest { aud, method } => {
            let request = RegistrationRequest::from_files(&files, auth_method(&method)?);
            println!("{}", request.signed_jwt(files.signing_key(), &aud, now)?);
        }
        TppCommand::Register { bank, aud, method } => {
            let request = RegistrationRequest::from_files(&files, auth_method(&method)?);
            let client = TppClient::new(&files)?;
            let endpoint = format!("{}/register", bank.trim_end_matches('/'));
            let registration = client.register(&endpoint, &aud, &request, now).await?;
            let path = dir.join("registration.json");
            std::fs::write(&path, serde_json::to_string_pretty(&registration.body)?)?;
            println!(
                "Registered: client_id {} (saved in {})",
                registration.client_id,
                path.display()
            );
        }
        TppCommand::ConsentUrl { bank } => {
            let (client, client_id, bank) = registered(dir, &files, &bank)?;
            let meta = client.discover(&bank).await?;
            let auth = ClientAuth::tls(&client_id);
            let token_endpoint = meta
                .mtls_endpoint("token_endpoint")
                .unwrap_or(&meta.token_endpoint);
            let token = client
                .token_client_credentials(token_endpoint, &auth, "accounts")
                .await?;
            let every_permission: Vec<&str> = bascule_domain::aisp::Permission::ALL
                .iter()
                .map(|p| p.as_str())
                .collect();
            let created = client
                .post_json(
                    &format!("{bank}/open-banking/v3.1/aisp/account-access-consents"),
                    &token.access_token,
                    &serde_json::json!({"Data": {"Permissions": every_permission}, "Risk": {}}),
                    &[],
                )
                .await?;
            let consent = created.body["Data"]["ConsentId"].as_str().ok_or_else(|| {
                anyhow::anyhow!("the bank did not create a consent: {}", created.text)
            })?;
            let redirect = files
                .redirect_uris()
                .first()
                .ok_or_else(|| anyhow::anyhow!("the enrolment has no redirect URI"))?;
            let request =
                RequestObject::new(&client_id, &meta.issuer, redirect, "openid accounts", now)?
                    .intent(consent);
            let url = request.authorization_url(
                &meta.authorization_endpoint,
                &request.sign(files.signing_key())?,
            )?;
            println!("Consent {consent} awaits the customer. Open in a browser:\n\n{url}\n");
            println!(
                "After approving, the browser lands on {redirect}#code=... (no page there); give \
                 that whole URL to `bascule tpp --tpp {} accounts --bank {bank} --redirect '<URL>'`.",
                dir.display()
            );
        }
        TppCommand::Accounts { bank, redirect } => {
            let (client, client_id, bank) = registered(dir, &files, &bank)?;
            let code = match AuthorizationResponse::from_redirect(&redirect)? {
                AuthorizationResponse::Code { code, .. } => code,
                AuthorizationResponse::Error {
                    error, description, ..
                } => anyhow::bail!(
                    "the bank answered {error}: {}",
                    description.unwrap_or_default()
                ),
                AuthorizationResponse::Jarm { .. } => {
                    anyhow::bail!("a JARM response: not asked for")
                }
            };
            let redirect_uri = files
                .redirect_uris()
                .first()
                .ok_or_else(|| anyhow::anyhow!("the enrolment has no redirect URI"))?;
            let meta = client.discover(&bank).await?;
            let token = client
                .token_authorization_code(
                    meta.mtls_endpoint("token_endpoint")
                        .unwrap_or(&meta.token_endpoint),
                    &ClientAuth::tls(&client_id),
                    &code,
                    redirect_uri,
                    None,
                )
                .await?;
            let accounts = client
                .get(
                    &format!("{bank}/open-banking/v3.1/aisp/accounts"),
                    &token.access_token,
                )
                .await?;
            println!("{}", serde_json::to_string_pretty(&accounts.body)?);
        }
    }
    Ok(())
}

/// The TPP's mTLS client, its client id (from `registration.json`, written by `register`) and
/// the bank's base URL without a trailing slash.
fn registered(
    dir: &Path,
    files: &TppFiles,
    bank: &str,
) -> anyhow::Result<(TppClient, String, String)> {
    let path = dir.join("registration.json");
    let registration: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).with_context(|| {
            format!(
                "{}: register first (`bascule tpp register`)",
                path.display()
            )
        })?)?;
    let client_id = registration["client_id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("{} has no client_id", path.display()))?
        .to_owned();
    Ok((
        TppClient::new(files)?,
        client_id,
        bank.trim_end_matches('/').to_owned(),
    ))
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
        Command::Directory {
            config,
            data_dir,
            public_url,
            command,
        } => directory(config.as_deref(), data_dir, public_url, command).await,
        Command::Events {
            config,
            data_dir,
            command,
        } => events(config.as_deref(), data_dir, command).await,
        Command::Tpp { tpp: dir, command } => tpp(&dir, command).await,
        Command::Admin {
            config,
            data_dir,
            command,
        } => admin(config.as_deref(), data_dir, command).await,
    }
}

async fn events(
    file: Option<&Path>,
    data_dir: Option<PathBuf>,
    command: EventsCommand,
) -> anyhow::Result<()> {
    let mut config = Config::load(file)?;
    if let Some(dir) = data_dir {
        config.data_dir = dir;
    }
    let store = Store::connect(&config.database_url(), &StoreOptions::default()).await?;
    match command {
        EventsCommand::Stuck { client } => {
            for e in bascule_events::admin::stuck(&store, &client).await? {
                println!(
                    "{}\t{}\t{}\t{}\tattempts={}\t{}",
                    e.jti,
                    e.status,
                    e.event_type,
                    e.resource_path,
                    e.attempts,
                    e.last_error.unwrap_or_default()
                );
            }
        }
        EventsCommand::Redrive { client } => {
            let now = bascule_events::unix_ms(SystemClock.now());
            let n = bascule_events::admin::redrive(&store, &client, now).await?;
            println!("{n} events will be pushed again");
        }
    }
    store.close().await;
    Ok(())
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
        log_level: "warn,bascule_server=info".into(),
        jobs_interval_seconds: 60,
        sandbox: true,
        // The demo's fake customers never go into a database named in the environment.
        database_url: None,
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
    let audience = config.bank.organisation_id.clone();
    let server = bascule_server::start(config, Arc::new(clock), shutdown_signal()).await?;
    let url = server.public_url.clone();
    let directory = server
        .state
        .directory
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the demo runs in sandbox mode"))?;
    let client_id = ensure_demo_tpp(&directory, &tpp_dir, &url, &audience).await?;
    let ledger = server
        .state
        .ledger
        .as_ref()
        .context("the demo bank lives in the built-in ledger")?;
    let bank = demo::load_demo_bank(ledger).await?;
    let passcodes = demo_passcodes(&data_dir, &bank)?;
    for c in &bank.customers {
        if let Some(code) = passcodes.get(c.customer_id.as_str()) {
            server
                .state
                .passcodes
                .set(&c.customer_id, &c.name, code)
                .await
                .map_err(|e| anyhow::anyhow!("setting {}'s app passcode: {e}", c.name))?;
        }
    }
    println!();
    println!("Bascule demo bank is running at {url}");
    println!("  Front page:        {url}/");
    println!("  Readiness:         {url}/health/ready");
    println!("  Metrics:           {url}/metrics");
    println!("  Your certificate:  {url}/sandbox/tls/client-certificate  (mutual TLS)");
    println!("  Registration:      {url}/register  (DCR; aud = {audience})");
    println!("  Directory keys:    {url}/directory/jwks");
    println!("  The bank app:      {url}/app  (sign in with a customer's passcode below)");
    println!();
    println!(
        "The demo TPP is enrolled and registered (client_id {client_id}); its files are in {}:",
        tpp_dir.display()
    );
    println!("  tpp.json                what the files are");
    println!(
        "  ca.pem                  the bank's sandbox CA (trust it for the server certificate)"
    );
    println!("  transport.pem/.key      transport certificate, for mutual TLS");
    println!("  signing.key/.pem        signing key and certificate (in the software's JWKS)");
    println!("  ssa.jwt                 software statement signed by the sandbox directory");
    println!("  registration.json       the bank's registration of the demo TPP");
    println!("Try:");
    println!(
        "  curl --cacert {d}/ca.pem --cert {d}/transport.pem --key {d}/transport.key {url}/sandbox/tls/client-certificate",
        d = tpp_dir.display()
    );
    println!("Enrol your own TPP:");
    println!(
        "  bascule directory --data-dir {} enrol --org \"My TPP Ltd\" --software \"My App\" --roles AISP,PISP --redirect-uri https://my-tpp.example/cb --out my-tpp",
        data_dir.display()
    );
    println!();
    println!("Demo customers (sort code, account number, email, app passcode):");
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
            "  {:<22} {} {}  {}  passcode {}  pots: {}",
            c.name,
            c.sort_code.dashed(),
            c.account_number,
            c.email,
            passcodes
                .get(c.customer_id.as_str())
                .map_or("-", String::as_str),
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

/// The demo customers' app passcodes: six random digits each, made on first run and kept in
/// the data directory (0600) so later runs print the same ones.
fn demo_passcodes(
    data_dir: &Path,
    bank: &demo::DemoBank,
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let file = data_dir.join("app-passcodes.json");
    let mut codes: std::collections::BTreeMap<String, String> = match std::fs::read(&file) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).with_context(|| format!("reading {}", file.display()))?
        }
        Err(_) => Default::default(),
    };
    let before = codes.len();
    for c in &bank.customers {
        if !codes.contains_key(c.customer_id.as_str()) {
            let mut bytes = [0u8; 4];
            aws_lc_rs::rand::fill(&mut bytes)
                .map_err(|_| anyhow::anyhow!("no randomness for the demo passcodes"))?;
            let code = format!("{:06}", u32::from_le_bytes(bytes) % 1_000_000);
            codes.insert(c.customer_id.as_str().to_owned(), code);
        }
    }
    if codes.len() != before {
        std::fs::write(&file, serde_json::to_vec_pretty(&codes)?)
            .with_context(|| format!("writing {}", file.display()))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(codes)
}

fn day(at: Option<time::OffsetDateTime>) -> String {
    at.map(|t| t.date().to_string())
        .unwrap_or_else(|| "-".into())
}

async fn admin(
    file: Option<&Path>,
    data_dir: Option<PathBuf>,
    command: AdminCommand,
) -> anyhow::Result<()> {
    let mut config = Config::load(file)?;
    if let Some(dir) = data_dir {
        config.data_dir = dir;
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let ops = bascule_server::operations(&config, clock.clone()).await?;
    let consents = ops.authz.consents();
    match command {
        AdminCommand::Connections { customer } => {
            let customer = CustomerId::parse(customer)?;
            let all = consents.list_for_customer(&customer).await?;
            let ids: Vec<&str> = all.iter().map(|c| c.client_id.as_str()).collect();
            let clients = ops.authz.registrar().clients(&ids).await?;
            let policy = ops.authz.config().reauthentication;
            let now = clock.now();
            println!("consent_id\ttpp\tclient_id\tkind\tstatus\tgranted\taccess_ends\taccounts");
            for c in &all {
                let status = if let Some(s) = c
                    .suspended_by_bank()
                    .filter(|_| policy.suspended_at(c, now))
                {
                    format!(
                        "Authorised (suspended by the bank: {}, since {}; until the customer refreshes)",
                        s.reason,
                        s.at.date()
                    )
                } else if policy.suspended_at(c, now) {
                    "Authorised (suspended until the customer refreshes)".to_owned()
                } else {
                    c.status.to_string()
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    c.id.as_str(),
                    clients
                        .get(&c.client_id)
                        .map_or("(deleted)", |k| k.display_name()),
                    c.client_id,
                    c.kind.as_str(),
                    status,
                    day(c.authorised_at),
                    day(policy.access_ends_at(c)),
                    c.accounts
                        .iter()
                        .map(|a| a.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                );
            }
        }
        AdminCommand::RevokeTpp { client_id } => {
            let done = consents
                .revoke_all_of_client(&client_id, RevokedBy::Bank)
                .await?;
            let revoked = done.iter().filter(|r| r.revoked_now).count();
            let tokens: u64 = done.iter().map(|r| r.tokens_revoked).sum();
            println!(
                "{client_id}: {revoked} consents revoked now ({} already closed), {tokens} tokens revoked",
                done.len() - revoked
            );
        }
        AdminCommand::Suspend { consent, reason } => {
            let id = ConsentId::parse(consent)?;
            let reason = SuspensionReason::from(reason);
            let c = consents.suspend(&id, reason).await?;
            println!(
                "{}: suspended by the bank ({reason}); the TPP gets 403 UK.OBIE.Reauthenticate \
                 until the customer refreshes it in the app (access ends {})",
                c.id.as_str(),
                day(c.expires_at)
            );
        }
        AdminCommand::SendReminders => {
            // A page error is not Sync, so it is said in words.
            let sent = ops
                .pages
                .send_reminders()
                .await
                .map_err(|e| anyhow::anyhow!("the reminder job failed: {e}"))?;
            println!("{sent} reminders sent");
        }
    }
    ops.store.close().await;
    Ok(())
}

/// Opens the sandbox directory the way the server would, without starting the server.
async fn open_directory(config: &Config) -> anyhow::Result<(Directory, String)> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let ca = Arc::new(CertificateAuthority::load_or_create(
        &config.data_dir.join("ca"),
        clock.now(),
    )?);
    let store = Store::connect(&config.database_url(), &StoreOptions::default()).await?;
    let public_url = config.public_url(config.listen);
    let directory = Directory::open(
        store,
        clock,
        Arc::new(RandomIds),
        ca.clone(),
        &config.data_dir,
        public_url.clone(),
        Arc::new(RevokedCertificates::default()),
    )
    .await?;
    Ok((directory, public_url))
}

async fn directory(
    file: Option<&Path>,
    data_dir: Option<PathBuf>,
    public_url: Option<String>,
    command: DirectoryCommand,
) -> anyhow::Result<()> {
    let mut config = Config::load(file)?;
    if let Some(dir) = data_dir {
        config.data_dir = dir;
    }
    if public_url.is_some() {
        config.public_url = public_url;
    }
    let (directory, public_url) = open_directory(&config).await?;
    match command {
        DirectoryCommand::Enrol {
            org,
            org_id,
            software,
            roles,
            redirect_uris,
            out,
        } => {
            let roles = roles
                .iter()
                .map(|r| {
                    Role::parse(r)
                        .ok_or_else(|| anyhow::anyhow!("unknown role {r}: use AISP, PISP, CBPII"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let enrolment = directory
                .enrol(&EnrolRequest {
                    organisation_name: org,
                    organisation_id: org_id,
                    software_name: software,
                    roles,
                    redirect_uris,
                    ..EnrolRequest::default()
                })
                .await?;
            let manifest =
                enrolment.write_to(&out, directory.ca().certificate_pem(), &public_url)?;
            println!(
                "Enrolled software {} of organisation {} ({}).",
                enrolment.software.id, enrolment.organisation.id, enrolment.organisation.name
            );
            println!("Files for the TPP: {}", manifest.display());
            println!(
                "Register with the bank (aud = {}):",
                config.bank.organisation_id
            );
            println!(
                "  {public_url}/register  (POST, application/jose, mutual TLS with transport.pem/transport.key)"
            );
        }
        DirectoryCommand::Revoke { software, org } => {
            let revoked = match (software, org) {
                (Some(s), _) => directory.revoke_software(&s).await?,
                (None, Some(o)) => directory.revoke_organisation(&o).await?,
                (None, None) => anyhow::bail!("name --software ID or --org ID"),
            };
            println!(
                "Revoked; {revoked} certificate(s) now fail every handshake (running servers pick this up within seconds)."
            );
        }
        DirectoryCommand::Ssa { software, out } => {
            let ssa = directory.issue_ssa(&software).await?;
            match out {
                Some(path) => std::fs::write(&path, ssa)?,
                None => println!("{ssa}"),
            }
        }
    }
    Ok(())
}

/// The demo TPP: enrolled with the sandbox directory and registered with the bank (over mutual
/// TLS, by the TPP SDK, as any TPP would) on first run; reused afterwards.
async fn ensure_demo_tpp(
    directory: &Directory,
    tpp_dir: &Path,
    public_url: &str,
    audience: &str,
) -> anyhow::Result<String> {
    if !tpp_dir.join(bascule_tpp::MANIFEST_FILE).exists() {
        let enrolment = directory
            .enrol(&EnrolRequest {
                organisation_name: "Demo TPP Ltd".into(),
                software_name: "Demo Budgeting App".into(),
                roles: Role::ALL.to_vec(),
                redirect_uris: vec!["https://demo-tpp.example/callback".into()],
                ..EnrolRequest::default()
            })
            .await?;
        enrolment.write_to(tpp_dir, directory.ca().certificate_pem(), public_url)?;
    }
    let registration_file = tpp_dir.join("registration.json");
    if let Ok(saved) = std::fs::read_to_string(&registration_file) {
        let saved: serde_json::Value = serde_json::from_str(&saved)?;
        if let Some(id) = saved.get("client_id").and_then(|v| v.as_str()) {
            return Ok(id.to_owned());
        }
    }
    let files = TppFiles::load(tpp_dir)?;
    let client = TppClient::new(&files)?;
    let request = RegistrationRequest::from_files(&files, TokenEndpointAuthMethod::TlsClientAuth);
    let registration = client
        .register(
            &format!("{public_url}/register"),
            audience,
            &request,
            SystemClock.now().unix_timestamp(),
        )
        .await?;
    std::fs::write(
        &registration_file,
        serde_json::to_string_pretty(&registration.body)?,
    )?;
    Ok(registration.client_id)
}
