//! The official-spec fuzzer against the running bank (issue 18 item 6): starts the real server
//! (the test kit's `spawn_app`, SQLite), registers a TPP, makes its consents and tokens (AIS
//! with every permission, CoF, PIS), serves its detached-JWS signer on 127.0.0.1 for the hook,
//! then runs schemathesis against the official v3.1.11 AIS, CoF and PIS OpenAPI files
//! (`specs/openbanking-uk/v3.1.11/`, the ones the test kit validates with) over the TPP's mTLS
//! certificate. `scripts/test.sh` installs the pinned schemathesis and runs this.
//!
//! `schemathesis --schemathesis BIN [--max-examples N] [--seed S] [--report-dir DIR]`: exits
//! non-zero when any run reports a failure; prints the generated case count per API.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use bascule_domain::Clock;
use bascule_domain::aisp::Permission;
use bascule_store::Backend;
use bascule_testkit::api::{Api, Call, Reply, consent_id};
use bascule_testkit::tpp::{access_token, approve};
use bascule_testkit::{TestApp, Tpp, people};
use serde_json::{Value, json};

/// The checks of issue 18 item 6, as schemathesis 4 names them.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_schema_conformance,response_headers_conformance";

/// The payment API's operations Bascule does not implement (CONFORMANCE.md, conformance/
/// cases.txt "not implemented"): international and file payments. Every one answers 404, which
/// each declares, but there is nothing of them to test.
const PIS_NOT_IMPLEMENTED: &str = "^/(international|file)-";

/// Fixed values of the optional FAPI request headers every operation declares.
const FAPI_HEADERS: [(&str, &str); 4] = [
    ("x-fapi-auth-date", "Sun, 10 Sep 2017 19:43:31 GMT"),
    (
        "x-fapi-customer-ip-address",
        bascule_testkit::api::CUSTOMER_IP,
    ),
    (
        "x-fapi-interaction-id",
        bascule_testkit::api::INTERACTION_ID,
    ),
    ("x-customer-user-agent", "Mozilla/5.0 (Bascule fuzz)"),
];

struct Options {
    schemathesis: PathBuf,
    max_examples: u32,
    seed: u64,
    report_dir: PathBuf,
    /// Only these APIs (`--only AIS`, repeatable); all when empty.
    only: Vec<String>,
    /// Extra arguments passed to every schemathesis run (`--extra --phases=fuzzing`).
    extra: Vec<String>,
}

fn options() -> anyhow::Result<Options> {
    let mut args = std::env::args().skip(1);
    let mut o = Options {
        schemathesis: PathBuf::new(),
        max_examples: 25,
        seed: 18,
        report_dir: std::env::temp_dir().join("bascule-schemathesis"),
        only: Vec::new(),
        extra: Vec::new(),
    };
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--schemathesis" => o.schemathesis = value.into(),
            "--max-examples" => o.max_examples = value.parse()?,
            "--seed" => o.seed = value.parse()?,
            "--report-dir" => o.report_dir = value.into(),
            "--only" => o.only.push(value),
            "--extra" => o.extra.push(value),
            other => bail!("unknown option {other}"),
        }
    }
    if o.schemathesis.as_os_str().is_empty() {
        bail!("--schemathesis PATH (the pinned schemathesis executable) is required");
    }
    Ok(o)
}

/// One API as schemathesis drives it.
struct Target {
    name: &'static str,
    spec: &'static str,
    base: &'static str,
    client_token: String,
    customer_token: String,
    /// Path parameters fixed to real resources (schemathesis `[parameters]`).
    parameters: Vec<(&'static str, String)>,
    exclude_path_regex: Option<&'static str>,
}

/// A call to `api` by `tpp`, answered 201, its body.
async fn created(app: &TestApp, tpp: &Tpp, api: Api, call: Call<'_>) -> anyhow::Result<Value> {
    let path = call.path.clone();
    let reply: Reply = api.send(app, tpp, call).await;
    if reply.status != 201 {
        bail!("{path}: {} {}", reply.status, reply.body);
    }
    Ok(reply.body)
}

async fn authorised(
    app: &TestApp,
    tpp: &Tpp,
    consent: &str,
    scope: &str,
    customer: &bascule_domain::CustomerId,
    accounts: &[bascule_domain::AccountId],
) -> String {
    access_token(
        &tpp.authorise(app, consent, scope, approve(customer, accounts))
            .await,
    )
}

async fn targets(app: &TestApp, tpp: &Tpp) -> anyhow::Result<Vec<Target>> {
    let grace = people::grace(&app.ledger, true).await?;
    let alan = people::alan(&app.ledger).await?;
    people::arrangements(&app.ledger, &grace.everyday.id).await?;
    let ids = grace.ids()?;
    let everyday = ids.everyday.clone();

    let ais = Api::new("/open-banking/v3.1/aisp", "", true);
    let ais_cc = tpp.client_credentials(app, "accounts").await;
    let permissions: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
    let consent = created(
        app,
        tpp,
        ais,
        Call::new(reqwest::Method::POST, "/account-access-consents", &ais_cc)
            .json(json!({"Data": {"Permissions": permissions}, "Risk": {}})),
    )
    .await?;
    let ais_consent = consent_id(&consent);
    // The fuzzer's `{ConsentId}`: another consent, so its DELETE does not revoke the token's.
    let spare = created(
        app,
        tpp,
        ais,
        Call::new(reqwest::Method::POST, "/account-access-consents", &ais_cc)
            .json(json!({"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {}})),
    )
    .await?;
    let ais_spare = consent_id(&spare);
    let ais_token = authorised(
        app,
        tpp,
        &ais_consent,
        "accounts",
        &ids.id,
        &ids.all_accounts(),
    )
    .await;

    let everyday_identification = grace
        .everyday
        .identification
        .context("Everyday has a sort code and number")?
        .to_string();
    let cof = Api::new("/open-banking/v3.1/cbpii", "", false);
    let cof_cc = tpp.client_credentials(app, "fundsconfirmations").await;
    let mut cof_consents = Vec::new();
    // The second is the fuzzer's `{ConsentId}`, as for AIS.
    for _ in 0..2 {
        let consent = created(
            app,
            tpp,
            cof,
            Call::new(
                reqwest::Method::POST,
                "/funds-confirmation-consents",
                &cof_cc,
            )
            .json(json!({"Data": {"DebtorAccount": {
                "SchemeName": "UK.OBIE.SortCodeAccountNumber",
                "Identification": everyday_identification,
                "Name": "Grace Hopper"
            }}})),
        )
        .await?;
        cof_consents.push(consent_id(&consent));
    }
    let cof_spare = cof_consents.swap_remove(1);
    let cof_consent = cof_consents.swap_remove(0);
    let cof_token = authorised(
        app,
        tpp,
        &cof_consent,
        "fundsconfirmations",
        &ids.id,
        std::slice::from_ref(&everyday),
    )
    .await;

    let pis = Api::new("/open-banking/v3.1/pisp", "", true);
    let pis_cc = tpp.client_credentials(app, "payments").await;
    let creditor = alan
        .account
        .identification
        .context("Alan's account has a sort code and number")?
        .to_string();
    let initiation = |reference: &str| {
        json!({
            "InstructionIdentification": reference,
            "EndToEndIdentification": reference,
            "InstructedAmount": {"Amount": "1.00", "Currency": "GBP"},
            "CreditorAccount": {
                "SchemeName": "UK.OBIE.SortCodeAccountNumber",
                "Identification": creditor,
                "Name": "Alan Turing"
            }
        })
    };
    // One consent paid, so a payment exists to read; one left authorised for the fuzzer.
    let mut pis_ids = Vec::new();
    for reference in ["FUZZ-PAID", "FUZZ-OPEN"] {
        let consent = created(
            app,
            tpp,
            pis,
            Call::post(
                "/domestic-payment-consents",
                &pis_cc,
                &json!({"Data": {"Initiation": initiation(reference)}, "Risk": {}}),
            ),
        )
        .await?;
        let id = consent_id(&consent);
        let token = authorised(
            app,
            tpp,
            &id,
            "payments",
            &ids.id,
            std::slice::from_ref(&everyday),
        )
        .await;
        pis_ids.push((id, token));
    }
    let (paid_consent, paid_token) = &pis_ids[0];
    let payment = created(
        app,
        tpp,
        pis,
        Call::post(
            "/domestic-payments",
            paid_token,
            &json!({"Data": {"ConsentId": paid_consent, "Initiation": initiation("FUZZ-PAID")},
                    "Risk": {}}),
        ),
    )
    .await?;
    let payment_id = payment["Data"]["DomesticPaymentId"]
        .as_str()
        .context("a DomesticPaymentId")?
        .to_owned();
    let (open_consent, open_token) = pis_ids.swap_remove(1);

    Ok(vec![
        Target {
            name: "AIS",
            spec: "account-info-openapi.json",
            base: ais.base,
            client_token: ais_cc,
            customer_token: ais_token,
            parameters: vec![
                ("AccountId", everyday.to_string()),
                ("ConsentId", ais_spare),
            ],
            exclude_path_regex: None,
        },
        Target {
            name: "CoF",
            spec: "confirmation-funds-openapi.json",
            base: cof.base,
            client_token: cof_cc,
            customer_token: cof_token,
            parameters: vec![("ConsentId", cof_spare)],
            exclude_path_regex: None,
        },
        Target {
            name: "PIS",
            spec: "payment-initiation-openapi.json",
            base: pis.base,
            client_token: pis_cc,
            customer_token: open_token,
            parameters: vec![
                ("ConsentId", open_consent),
                ("DomesticPaymentId", payment_id),
            ],
            exclude_path_regex: Some(PIS_NOT_IMPLEMENTED),
        },
    ])
}

/// The TPP's detached signature of the posted bytes, at the bank's now: what the hook puts in
/// `x-jws-signature`.
async fn sign(State((tpp, app_clock)): State<(Arc<Tpp>, SharedClock)>, body: Bytes) -> String {
    let now = app_clock.now().unix_timestamp();
    tpp.sign_detached(tpp.jose_header(now), &body)
}

type SharedClock = Arc<bascule_domain::ManualClock>;

async fn serve_signer(tpp: Arc<Tpp>, clock: SharedClock) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/sign", listener.local_addr()?);
    let router = Router::new()
        .route("/sign", post(sign))
        .with_state((tpp, clock));
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(url)
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One run: whether it passed, its output, and the cases it generated.
struct Outcome {
    ok: bool,
    output: String,
    /// Schemathesis's own count line, e.g. `1500 generated, 1500 passed`.
    generated: String,
}

async fn run(
    options: &Options,
    app: &TestApp,
    tpp: &Tpp,
    signer: &str,
    target: &Target,
) -> anyhow::Result<Outcome> {
    let dir = options.report_dir.join(target.name);
    std::fs::create_dir_all(&dir)?;
    let mut config = String::from("[parameters]\n");
    for (name, value) in &target.parameters {
        config.push_str(&format!("\"path.{name}\" = {}\n", json!(value)));
    }
    // The FAPI headers as a TPP sends them with the customer present (their own rules have
    // their own tests, crates/*/tests/it/headers.rs): what is generated is everything else.
    for (name, value) in FAPI_HEADERS {
        config.push_str(&format!("\"header.{name}\" = {}\n", json!(value)));
    }
    let config_path = dir.join("schemathesis.toml");
    std::fs::write(&config_path, config)?;
    let tpp_dir = tpp.dir.path();
    let spec = repository()
        .join("specs/openbanking-uk/v3.1.11")
        .join(target.spec);
    let mut command = tokio::process::Command::new(&options.schemathesis);
    command
        // Hypothesis keeps a `.hypothesis` folder where it runs: not in the repository.
        .current_dir(&dir)
        .arg("--config-file")
        .arg(&config_path)
        .arg("run")
        .arg(&spec)
        .arg("--url")
        .arg(app.url(target.base))
        .args(["--checks", CHECKS])
        .arg("--request-cert")
        .arg(tpp_dir.join("transport.pem"))
        .arg("--request-cert-key")
        .arg(tpp_dir.join("transport.key"))
        .arg("--tls-verify")
        .arg(tpp_dir.join("ca.pem"))
        .args(["--max-examples", &options.max_examples.to_string()])
        .args(["--seed", &options.seed.to_string()])
        .args(["--workers", "1", "--generation-database", "none"])
        .args(["--report", "junit"])
        .arg("--report-dir")
        .arg(&dir)
        .arg("--no-color")
        .env("SCHEMATHESIS_HOOKS", "bascule_hooks")
        .env(
            "PYTHONPATH",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schemathesis"),
        )
        .env("BASCULE_SIGNER", signer)
        .env(
            "BASCULE_TOKENS",
            json!({"client": target.client_token, "customer": target.customer_token}).to_string(),
        )
        .env("NO_PROXY", "127.0.0.1,localhost");
    command.args(&options.extra);
    if let Some(regex) = target.exclude_path_regex {
        command.args(["--exclude-path-regex", regex]);
    }
    let output = command
        .output()
        .await
        .with_context(|| format!("running {}", options.schemathesis.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let generated = text
        .lines()
        .skip_while(|l| l.trim() != "Test cases:")
        .nth(1)
        .map(|l| l.trim().to_owned())
        .unwrap_or_else(|| "no case count reported".to_owned());
    Ok(Outcome {
        ok: output.status.success(),
        output: text,
        generated,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let options = options()?;
    let started = std::time::Instant::now();
    let app = bascule_testkit::spawn_app(Backend::Sqlite).await?;
    let tpp = Arc::new(
        Tpp::register(
            &app,
            "Fuzz Payments Ltd",
            bascule_tpp::TokenEndpointAuthMethod::TlsClientAuth,
        )
        .await?,
    );
    let targets = targets(&app, &tpp).await?;
    let signer = serve_signer(tpp.clone(), app.clock.clone()).await?;
    let mut failed = Vec::new();
    for target in &targets {
        if !options.only.is_empty() && !options.only.iter().any(|o| o == target.name) {
            continue;
        }
        let began = std::time::Instant::now();
        let outcome = run(&options, &app, &tpp, &signer, target).await?;
        println!("{}", outcome.output);
        println!(
            "==> schemathesis {}: {} ({}) in {:.0?}",
            target.name,
            if outcome.ok { "no failures" } else { "FAILED" },
            outcome.generated,
            began.elapsed()
        );
        if !outcome.ok {
            failed.push(target.name);
        }
    }
    println!("==> schemathesis: all runs in {:.0?}", started.elapsed());
    app.shutdown().await?;
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("schemathesis failures on: {}", failed.join(", "));
        Ok(ExitCode::FAILURE)
    }
}
