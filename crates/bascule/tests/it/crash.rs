//! Exactly once under crashes (issue 7, item 6): the real `bascule demo` process is killed with
//! SIGKILL while domestic payments are in flight, restarted on the same data, and every payment
//! request is retried with its idempotency key. Afterwards each payment exists once, settled
//! once on the ledger, with the id the first answer gave (where one was given).
//!
//! The payment POSTs start a few milliseconds apart and the kill comes once a few have answered,
//! so it typically finds payments in every state `crates/pisp/src/payments.rs` goes through:
//! answered; committed (payment + idempotency rows) but not settled; posted on the ledger but
//! still `Pending`; not committed at all. Straight after the kill, before any restart, the
//! database is checked for half payments (a payment row without its idempotency row or the
//! reverse, money moved without a payment row, an unbalanced ledger); after the restart every
//! retry must answer 201 with the same `DomesticPaymentId` and the ledger must hold exactly one
//! debit per payment. The test prints what the kill left.
//!
//! The restart listens on the port of the first run: the demo TPP's registration points its
//! `jwks_uri` (the sandbox directory's software JWKS) at the first run's public URL, and the
//! bank fetches that JWKS to verify `x-jws-signature` on every payment POST — on any other port
//! every retry would be refused with 400 `UK.OBIE.Signature.InvalidClaim` before idempotency is
//! even looked at.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail, ensure};
use bascule_store::sqlx::{self, AnyPool, Row};
use bascule_tpp::oauth::{ClientAuth, RequestObject};
use bascule_tpp::{TppClient, TppFiles};
use reqwest::Url;
use serde_json::{Map, Value, json};
use tokio::task::JoinSet;

const PAYMENTS: usize = 30;
/// Pence per payment (£1.00).
const AMOUNT: i64 = 100;
/// 201s to wait for before the SIGKILL.
const ANSWERS_BEFORE_KILL: usize = 8;
/// Between the starts of consecutive payment POSTs of the load.
const STAGGER: Duration = Duration::from_millis(3);
const PISP: &str = "/open-banking/v3.1/pisp";
/// The demo TPP's registered redirect URI (crates/bascule/src/main.rs `ensure_demo_tpp`).
const REDIRECT: &str = "https://demo-tpp.example/callback";
const IAT: &str = "http://openbanking.org.uk/iat";
const ISS: &str = "http://openbanking.org.uk/iss";
const TAN: &str = "http://openbanking.org.uk/tan";
/// The trust anchor of the sandbox directory the demo TPP is enrolled with.
const SANDBOX_TAN: &str = "sandbox.bascule.dev";
const INTERACTION_ID: &str = "93bac548-d2de-4546-b106-880a5018460d";
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `bascule demo`: killed (SIGKILL) and reaped when dropped, whatever happened.
pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
    log: PathBuf,
}

impl Server {
    pub(crate) fn start(data: &Path, listen: &str, log: PathBuf) -> anyhow::Result<Server> {
        Self::start_with(data, listen, log, &[])
    }

    /// [`Server::start`] with `BASCULE_*` settings in its environment.
    pub(crate) fn start_with(
        data: &Path,
        listen: &str,
        log: PathBuf,
        settings: &[(&str, &str)],
    ) -> anyhow::Result<Server> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bascule"))
            .args(["demo", "--listen", listen, "--data-dir"])
            .arg(data)
            .envs(settings.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(File::create(&log)?))
            .spawn()?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut server = Server {
            child,
            url: String::new(),
            log,
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(240);
        let mut output = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(line) => line,
                Err(e) => bail!(
                    "the demo did not come up on {listen} ({e}); stdout: {output:#?}\nstderr: {}",
                    server.log_tail()
                ),
            };
            let done = line.starts_with("Data directory:");
            output.push(line);
            if done {
                break;
            }
        }
        server.url = output
            .iter()
            .find_map(|l| l.strip_prefix("Bascule demo bank is running at "))
            .with_context(|| format!("no URL printed: {output:#?}"))?
            .trim()
            .to_owned();
        Ok(server)
    }

    pub(crate) fn port(&self) -> anyhow::Result<u16> {
        Url::parse(&self.url)?
            .port()
            .with_context(|| format!("no port in {}", self.url))
    }

    /// SIGKILL, and wait for the process to be gone.
    pub(crate) fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// The last few KB the server logged, for failure messages.
    pub(crate) fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = File::open(&self.log) {
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            let _ = f.seek(SeekFrom::Start(len.saturating_sub(4096)));
            let _ = f.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The demo TPP as a TPP runs it: its files, an mTLS client, and a browser without mTLS.
pub(crate) struct Tpp {
    files: TppFiles,
    pub(crate) client_id: String,
    http: reqwest::Client,
    browser: reqwest::Client,
    url: String,
}

impl Tpp {
    pub(crate) fn load(dir: &Path, url: &str) -> anyhow::Result<Tpp> {
        let files = TppFiles::load(dir).context("loading the demo TPP's files")?;
        let registration: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("registration.json"))?)?;
        let client_id = registration["client_id"]
            .as_str()
            .context("registration.json without client_id")?
            .to_owned();
        let http = TppClient::new(&files)?.http().clone();
        let browser = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(
                files.ca_bundle_pem().as_bytes(),
            )?])
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        Ok(Tpp {
            files,
            client_id,
            http,
            browser,
            url: url.to_owned(),
        })
    }

    fn now() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }

    /// The detached JWS of `body` the bank requires on PIS POSTs.
    pub(crate) fn sign(&self, body: &[u8]) -> anyhow::Result<String> {
        let mut header = Map::new();
        header.insert("typ".into(), json!("JOSE"));
        header.insert(IAT.into(), json!(Self::now() - 1));
        header.insert(
            ISS.into(),
            json!(format!(
                "{}/{}",
                self.files.organisation_id(),
                self.files.software_id()
            )),
        );
        header.insert(TAN.into(), json!(SANDBOX_TAN));
        header.insert("crit".into(), json!([IAT, ISS, TAN]));
        Ok(self.files.signing_key().sign_detached(header, body)?)
    }

    async fn token(&self, form: &[(&str, &str)]) -> anyhow::Result<String> {
        let url = format!("{}/token", self.url);
        let auth = ClientAuth::tls(&self.client_id).form_fields(&url)?;
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.extend(auth.iter().map(|(k, v)| (*k, v.as_str())));
        let response = self.http.post(&url).form(&fields).send().await?;
        let status = response.status();
        let body: Value = response.json().await?;
        ensure!(status == 200, "POST /token {form:?}: {status} {body}");
        Ok(body["access_token"]
            .as_str()
            .with_context(|| format!("no access_token: {body}"))?
            .to_owned())
    }

    pub(crate) async fn client_credentials(&self) -> anyhow::Result<String> {
        self.token(&[("grant_type", "client_credentials"), ("scope", "payments")])
            .await
    }

    /// A signed PIS POST of exactly `body`: (status, JSON body).
    pub(crate) async fn post(
        &self,
        path: &str,
        token: &str,
        key: &str,
        body: &[u8],
    ) -> anyhow::Result<(u16, Value)> {
        self.post_signed(&format!("{PISP}{path}"), token, key, body)
            .await
    }

    /// A signed POST of exactly `body` to `path` on the bank: (status, JSON body).
    pub(crate) async fn post_signed(
        &self,
        path: &str,
        token: &str,
        key: &str,
        body: &[u8],
    ) -> anyhow::Result<(u16, Value)> {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(token)
            .header("x-fapi-interaction-id", INTERACTION_ID)
            .header("x-fapi-customer-ip-address", "198.51.100.7")
            .header("x-idempotency-key", key)
            .header("x-jws-signature", self.sign(body)?)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body.to_vec())
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await?;
        let status = response.status().as_u16();
        let raw = response.bytes().await?;
        let json = serde_json::from_slice(&raw)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&raw).into_owned()));
        Ok((status, json))
    }

    async fn get(&self, path: &str, token: &str) -> anyhow::Result<(u16, Value)> {
        let response = self
            .http
            .get(format!("{}{PISP}{path}", self.url))
            .bearer_auth(token)
            .header("accept", "application/json")
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await?))
    }

    /// Headless sandbox approval of `consent_id` by `customer` paying from `debtor`, then the
    /// code redeemed: the consent-bound access token.
    pub(crate) async fn authorise(
        &self,
        consent_id: &str,
        customer: &str,
        debtor: &str,
    ) -> anyhow::Result<String> {
        let jwt = RequestObject::new(
            &self.client_id,
            &self.url,
            REDIRECT,
            "openid payments",
            Self::now(),
        )?
        .intent(consent_id)
        .claim(
            "bascule_sandbox",
            json!({"decision": "Authorised", "customer": customer, "accounts": [debtor]}),
        )
        .sign(self.files.signing_key())?;
        let mut url = Url::parse(&format!("{}/authorize", self.url))?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("response_type", "code id_token")
            .append_pair("scope", "openid payments")
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("request", &jwt);
        let response = self.browser.get(url).send().await?;
        let status = response.status();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned)
            .with_context(|| format!("no redirect from /authorize: {status}"))?;
        let fragment = Url::parse(&location)?
            .fragment()
            .unwrap_or_default()
            .to_owned();
        let mut params = Url::parse("https://x.invalid/")?;
        params.set_query(Some(&fragment));
        let code = params
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .with_context(|| format!("no code in {location}"))?;
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .await
    }
}

/// The demo bank's parties to a payment: the personal current account with the most money
/// pays another customer's current account (an on-us payment).
pub(crate) struct Parties {
    pub(crate) debtor: String,
    pub(crate) customer: String,
    /// The debtor's booked balance, in pence.
    pub(crate) opening: i64,
    pub(crate) creditor: String,
    /// The creditor's sort code and account number, 14 digits.
    pub(crate) identification: String,
    pub(crate) creditor_name: String,
}

pub(crate) async fn parties(db: &AnyPool) -> anyhow::Result<Parties> {
    let debtor_row = sqlx::query(
        "SELECT id, customer_id, booked_balance FROM accounts \
         WHERE kind = 'CurrentAccount' AND account_type = 'Personal' AND status = 'Enabled' \
         ORDER BY booked_balance DESC LIMIT 1",
    )
    .fetch_one(db)
    .await
    .context("a demo current account")?;
    let customer: String = debtor_row.try_get("customer_id")?;
    let creditor_row = sqlx::query(
        "SELECT a.id, a.sort_code, a.account_number, c.legal_name FROM accounts a \
         JOIN customers c ON c.id = a.customer_id \
         WHERE a.kind = 'CurrentAccount' AND a.status = 'Enabled' AND a.customer_id <> $1 \
           AND a.sort_code IS NOT NULL AND a.account_number IS NOT NULL \
         ORDER BY a.created_seq LIMIT 1",
    )
    .bind(&customer)
    .fetch_one(db)
    .await
    .context("another customer's current account")?;
    let identification: String = format!(
        "{}{}",
        creditor_row.try_get::<String, _>("sort_code")?,
        creditor_row.try_get::<String, _>("account_number")?
    )
    .chars()
    .filter(char::is_ascii_digit)
    .collect();
    Ok(Parties {
        debtor: debtor_row.try_get("id")?,
        customer,
        opening: debtor_row.try_get("booked_balance")?,
        creditor: creditor_row.try_get("id")?,
        identification,
        creditor_name: creditor_row.try_get("legal_name")?,
    })
}

impl Tpp {
    /// Payment `i` of a run named `tag`: £1.00 from the debtor to the creditor, its consent
    /// created and approved headlessly → everything its POST (and any retry) sends.
    pub(crate) async fn prepare(
        &self,
        cc: &str,
        parties: &Parties,
        tag: &str,
        i: usize,
    ) -> anyhow::Result<Prepared> {
        let lower = tag.to_ascii_lowercase();
        let reference = format!("{tag}-{i:03}");
        let initiation = json!({
            "InstructionIdentification": format!("{tag}{i:03}"),
            "EndToEndIdentification": format!("{tag}.E2E.{i:03}"),
            "LocalInstrument": "UK.OBIE.FPS",
            "InstructedAmount": {"Amount": "1.00", "Currency": "GBP"},
            "CreditorAccount": {
                "SchemeName": "UK.OBIE.SortCodeAccountNumber",
                "Identification": parties.identification,
                "Name": parties.creditor_name,
            },
            "RemittanceInformation": {"Reference": reference},
        });
        let risk = json!({"PaymentContextCode": "PartyToParty"});
        let consent_body = json!({"Data": {"Initiation": initiation}, "Risk": risk}).to_string();
        let (status, consent) = self
            .post(
                "/domestic-payment-consents",
                cc,
                &format!("{lower}-consent-{i:03}"),
                consent_body.as_bytes(),
            )
            .await?;
        ensure!(status == 201, "consent {i}: {status} {consent}");
        let consent_id = consent["Data"]["ConsentId"]
            .as_str()
            .with_context(|| format!("no ConsentId: {consent}"))?
            .to_owned();
        let token = self
            .authorise(&consent_id, &parties.customer, &parties.debtor)
            .await?;
        let body = json!({
            "Data": {"ConsentId": consent_id, "Initiation": initiation},
            "Risk": risk,
        })
        .to_string()
        .into_bytes();
        Ok(Prepared {
            consent_id,
            token,
            key: format!("{lower}-payment-{i:03}"),
            reference,
            body,
        })
    }
}

/// One prepared payment: everything a retry must send again byte for byte.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) consent_id: String,
    pub(crate) token: String,
    pub(crate) key: String,
    pub(crate) reference: String,
    pub(crate) body: Vec<u8>,
}

/// What came back for one payment POST during the load that was killed.
#[derive(Debug)]
enum Outcome {
    Answered(u16, Value),
    Cut(String),
}

/// The demo database, opened read-only beside (or after) the server.
pub(crate) async fn open_db(path: &Path) -> anyhow::Result<AnyPool> {
    sqlx::any::install_default_drivers();
    Ok(sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}?mode=ro", path.display()))
        .await?)
}

pub(crate) async fn scalar(db: &AnyPool, sql: &'static str, bind: &[&str]) -> anyhow::Result<i64> {
    let mut q = sqlx::query_scalar::<_, i64>(sql);
    for b in bind {
        q = q.bind(*b);
    }
    q.fetch_one(db).await.with_context(|| sql.to_owned())
}

pub(crate) async fn strings(
    db: &AnyPool,
    sql: &'static str,
    bind: &[&str],
) -> anyhow::Result<Vec<String>> {
    let mut q = sqlx::query_scalar::<_, String>(sql);
    for b in bind {
        q = q.bind(*b);
    }
    q.fetch_all(db).await.with_context(|| sql.to_owned())
}

/// `Ledger::audit` in SQL: postings sum to zero overall and per transaction, cached balances
/// equal their postings, every booked line has its posting.
async fn audit(db: &AnyPool) -> anyhow::Result<()> {
    let total = scalar(
        db,
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM postings",
        &[],
    )
    .await?;
    ensure!(total == 0, "SUM(postings) = {total}, not 0");
    let unbalanced = strings(
        db,
        "SELECT ledger_transaction_id FROM postings GROUP BY ledger_transaction_id \
         HAVING SUM(amount) <> 0",
        &[],
    )
    .await?;
    ensure!(
        unbalanced.is_empty(),
        "unbalanced transactions: {unbalanced:?}"
    );
    let mismatched = strings(
        db,
        "SELECT a.id FROM accounts a LEFT JOIN \
           (SELECT account_id, SUM(amount) AS total FROM postings GROUP BY account_id) p \
           ON p.account_id = a.id \
         WHERE a.kind <> 'Internal' AND a.booked_balance <> COALESCE(p.total, 0)",
        &[],
    )
    .await?;
    ensure!(
        mismatched.is_empty(),
        "balances differing from their postings: {mismatched:?}"
    );
    let orphans = scalar(
        db,
        "SELECT COUNT(*) FROM transactions t WHERE t.status = 'Booked' AND NOT EXISTS \
         (SELECT 1 FROM postings p WHERE p.ledger_transaction_id = t.ledger_transaction_id \
          AND p.account_id = t.account_id)",
        &[],
    )
    .await?;
    ensure!(orphans == 0, "{orphans} booked lines without a posting");
    Ok(())
}

/// What the database holds for the client's payments: id → (consent, status, ledger tx).
async fn payment_rows(
    db: &AnyPool,
    client_id: &str,
) -> anyhow::Result<BTreeMap<String, (String, String, Option<String>)>> {
    let rows = sqlx::query(
        "SELECT id, consent_id, status, ledger_transaction_id FROM pisp_domestic_payments \
         WHERE client_id = $1",
    )
    .bind(client_id)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>("id")?,
                (
                    r.try_get::<String, _>("consent_id")?,
                    r.try_get::<String, _>("status")?,
                    r.try_get::<Option<String>, _>("ledger_transaction_id")?,
                ),
            ))
        })
        .collect()
}

/// What settlement posted on the ledger for the client's payments: payment id → ledger
/// transaction. The core keys a payment `payment:{key}`, and PIS settles with the key
/// `{client_id}:{DomesticPaymentId}` (crates/pisp/src/payments.rs).
async fn settlements(db: &AnyPool, client_id: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let prefix = format!("payment:{client_id}:");
    let rows = sqlx::query(
        "SELECT idempotency_key, id FROM ledger_transactions WHERE idempotency_key LIKE $1",
    )
    .bind(format!("{prefix}%"))
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            let key: String = r.try_get("idempotency_key")?;
            Ok((
                key.strip_prefix(&prefix).unwrap_or(&key).to_owned(),
                r.try_get::<String, _>("id")?,
            ))
        })
        .collect()
}

/// The state a SIGKILL left, before any restart: never half a payment. Every payment row has
/// its idempotency row and the reverse (one transaction), no money moved without a payment
/// row, a settled row's ledger transaction exists, and the ledger balances.
/// Returns (payment rows, of them still Pending, Pending ones already posted on the ledger).
async fn check_crash_state(
    db: &AnyPool,
    client_id: &str,
    consents: &BTreeSet<String>,
) -> anyhow::Result<(usize, usize, usize)> {
    let rows = payment_rows(db, client_id).await?;
    let keyed: BTreeSet<String> = strings(
        db,
        "SELECT resource_id FROM pisp_idempotency \
         WHERE client_id = $1 AND resource_type = 'domestic-payments' AND resource_id IS NOT NULL",
        &[client_id],
    )
    .await?
    .into_iter()
    .collect();
    let unkeyed = scalar(
        db,
        "SELECT COUNT(*) FROM pisp_idempotency \
         WHERE client_id = $1 AND resource_type = 'domestic-payments' AND resource_id IS NULL",
        &[client_id],
    )
    .await?;
    ensure!(
        unkeyed == 0,
        "{unkeyed} payment idempotency rows name no payment"
    );
    let ids: BTreeSet<String> = rows.keys().cloned().collect();
    ensure!(
        ids == keyed,
        "payment rows and idempotency rows differ after the kill: rows without key {:?}, keys without row {:?}",
        ids.difference(&keyed).collect::<Vec<_>>(),
        keyed.difference(&ids).collect::<Vec<_>>()
    );
    for (id, (consent, status, ledger)) in &rows {
        ensure!(
            consents.contains(consent),
            "payment {id} of an unknown consent {consent}"
        );
        ensure!(
            status == "Pending" || status == "AcceptedSettlementCompleted",
            "payment {id} is {status} after the kill"
        );
        if status == "AcceptedSettlementCompleted" {
            ensure!(
                ledger.is_some(),
                "settled payment {id} names no ledger transaction"
            );
        }
    }
    let posted = settlements(db, client_id).await?;
    let mut pending_posted = 0;
    for (id, tx) in &posted {
        let (_, status, ledger) = rows
            .get(id)
            .with_context(|| format!("money moved (ledger {tx}) for {id}, not a payment"))?;
        match ledger {
            Some(l) => ensure!(
                l == tx,
                "payment {id} names ledger {l}, the core posted {tx}"
            ),
            None => {
                ensure!(
                    status == "Pending",
                    "payment {id} is {status} without ledger"
                );
                pending_posted += 1;
            }
        }
    }
    audit(db).await?;
    let pending = rows.values().filter(|(_, s, _)| s == "Pending").count();
    Ok((rows.len(), pending, pending_posted))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_mid_payments_leaves_each_payment_complete_or_absent_and_retries_return_the_same_payment()
-> anyhow::Result<()> {
    let started = Instant::now();
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let db_path = data.join("bascule.db");
    let mut server = Server::start(&data, "127.0.0.1:0", dir.path().join("first.log"))?;
    let port = server.port()?;
    let built = started.elapsed();

    let db = open_db(&db_path).await?;
    let parties = Arc::new(parties(&db).await?);
    let (debtor, creditor, opening) = (
        parties.debtor.clone(),
        parties.creditor.clone(),
        parties.opening,
    );
    ensure!(
        opening >= 10 * PAYMENTS as i64 * AMOUNT,
        "the richest demo account holds only {opening}p"
    );
    let last_posting_before = scalar(&db, "SELECT COALESCE(MAX(id), 0) FROM postings", &[]).await?;
    let creditor_opening = scalar(
        &db,
        "SELECT booked_balance FROM accounts WHERE id = $1",
        &[&creditor],
    )
    .await?;
    db.close().await;

    // N authorised consents, each with its consent-bound token (prepared concurrently).
    let tpp = Arc::new(Tpp::load(&data.join("tpp"), &server.url)?);
    let cc = tpp.client_credentials().await?;
    let mut preparing = JoinSet::new();
    for i in 0..PAYMENTS {
        let (tpp, cc, parties) = (tpp.clone(), cc.clone(), parties.clone());
        preparing
            .spawn(async move { anyhow::Ok((i, tpp.prepare(&cc, &parties, "CRASH", i).await?)) });
    }
    let mut prepared = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while let Some(done) = tokio::time::timeout_at(deadline, preparing.join_next())
        .await
        .with_context(|| {
            format!(
                "preparing consents: {} of {PAYMENTS} done in 120 s\nserver log: {}",
                prepared.len(),
                server.log_tail()
            )
        })?
    {
        let (i, p) = done??;
        prepared.insert(i, p);
    }
    let consents: BTreeSet<String> = prepared.values().map(|p| p.consent_id.clone()).collect();
    ensure!(consents.len() == PAYMENTS, "consent ids repeat");
    let prepared_in = started.elapsed() - built;

    // The load: every payment POST at once; SIGKILL once a few have answered 201.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut load = JoinSet::new();
    for (&i, p) in &prepared {
        let (tpp, p, tx) = (tpp.clone(), p.clone(), tx.clone());
        load.spawn(async move {
            // Staggered arrivals, so that the kill finds payments in every state: answered,
            // committed but unsettled, settled but not yet marked, and not yet committed.
            tokio::time::sleep(STAGGER * i as u32).await;
            let outcome = match tpp
                .post("/domestic-payments", &p.token, &p.key, &p.body)
                .await
            {
                Ok((status, body)) => Outcome::Answered(status, body),
                Err(e) => Outcome::Cut(format!("{e:#}")),
            };
            let _ = tx.send((i, outcome));
        });
    }
    drop(tx);
    let mut answered: BTreeMap<usize, String> = BTreeMap::new();
    let mut cut: BTreeMap<usize, String> = BTreeMap::new();
    let mut killed = false;
    let mut answered_at_kill = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while let Some((i, outcome)) = tokio::time::timeout_at(deadline, rx.recv())
        .await
        .context("the payment load neither answered nor failed within 60 s")?
    {
        match outcome {
            Outcome::Answered(201, body) => {
                let id = body["Data"]["DomesticPaymentId"]
                    .as_str()
                    .with_context(|| format!("payment {i}: 201 without an id: {body}"))?;
                answered.insert(i, id.to_owned());
            }
            Outcome::Answered(status, body) => {
                bail!(
                    "payment {i} answered {status} before any restart: {body}\nserver log: {}",
                    server.log_tail()
                )
            }
            Outcome::Cut(e) => {
                ensure!(killed, "payment {i} failed before the kill: {e}");
                cut.insert(i, e);
            }
        }
        if !killed && answered.len() >= ANSWERS_BEFORE_KILL {
            server.kill()?;
            killed = true;
            answered_at_kill = answered.len();
        }
    }
    while load.join_next().await.is_some() {}
    ensure!(killed, "the load finished with {answered:?} and no kill");
    ensure!(
        !cut.is_empty(),
        "all {PAYMENTS} payments answered before the kill landed: nothing was in flight \
         (raise PAYMENTS or lower ANSWERS_BEFORE_KILL)"
    );

    // What the kill left, read straight from the database before the bank runs again.
    let db = open_db(&db_path).await?;
    let (rows_after_kill, pending_after_kill, pending_posted) =
        check_crash_state(&db, &tpp.client_id, &consents).await?;
    let rows = payment_rows(&db, &tpp.client_id).await?;
    for (i, id) in &answered {
        ensure!(
            rows.contains_key(id),
            "payment {i} was answered 201 with {id} but is not in the database after the kill"
        );
    }
    db.close().await;

    // Restart on the same data (and port: see the module doc), then retry every payment with
    // its key, body and consent token.
    let listen = format!("127.0.0.1:{port}");
    let server = Server::start(&data, &listen, dir.path().join("second.log"))?;
    let tpp = Arc::new(Tpp::load(&data.join("tpp"), &server.url)?);
    let mut retries = JoinSet::new();
    for (&i, p) in &prepared {
        let (tpp, p) = (tpp.clone(), p.clone());
        retries.spawn(async move {
            let reply = tpp
                .post("/domestic-payments", &p.token, &p.key, &p.body)
                .await;
            (i, reply)
        });
    }
    let mut ids: BTreeMap<usize, String> = BTreeMap::new();
    while let Some(done) = retries.join_next().await {
        let (i, reply) = done?;
        let (status, body) = reply.with_context(|| format!("retrying payment {i}"))?;
        ensure!(
            status == 201,
            "retry of payment {i} (first answer {:?}): {status} {body}\nserver log: {}",
            answered.get(&i),
            server.log_tail()
        );
        let id = body["Data"]["DomesticPaymentId"]
            .as_str()
            .with_context(|| format!("retry {i}: no id: {body}"))?
            .to_owned();
        ensure!(
            body["Data"]["ConsentId"] == json!(prepared[&i].consent_id),
            "retry {i} answered another consent: {body}"
        );
        ensure!(
            body["Data"]["Status"] == "AcceptedSettlementCompleted",
            "retry {i} is not settled: {body}"
        );
        if let Some(first) = answered.get(&i) {
            ensure!(
                *first == id,
                "payment {i}: first answered {first}, the retry {id}"
            );
        }
        ids.insert(i, id);
    }
    let distinct: BTreeSet<&String> = ids.values().collect();
    ensure!(
        ids.len() == PAYMENTS && distinct.len() == PAYMENTS,
        "{} retries, {} distinct payments",
        ids.len(),
        distinct.len()
    );

    // Each payment through the API: settled.
    let cc = tpp.client_credentials().await?;
    for (i, id) in &ids {
        let (status, body) = tpp.get(&format!("/domestic-payments/{id}"), &cc).await?;
        ensure!(status == 200, "GET payment {i} ({id}): {status} {body}");
        ensure!(
            body["Data"]["DomesticPaymentId"] == json!(id)
                && body["Data"]["Status"] == "AcceptedSettlementCompleted",
            "GET payment {i} ({id}): {body}"
        );
    }

    // And in the database: one row, one settlement, one debit per payment; nothing else.
    let db = open_db(&db_path).await?;
    let rows = payment_rows(&db, &tpp.client_id).await?;
    let expected: BTreeSet<String> = ids.values().cloned().collect();
    ensure!(
        rows.keys().cloned().collect::<BTreeSet<_>>() == expected,
        "payment rows {:?} are not the answered payments {expected:?}",
        rows.keys()
    );
    let posted = settlements(&db, &tpp.client_id).await?;
    ensure!(
        posted.len() == PAYMENTS,
        "{} ledger settlements for {PAYMENTS} payments: {posted:?}",
        posted.len()
    );
    let mut ours = BTreeSet::new();
    for (id, (consent, status, ledger)) in &rows {
        ensure!(
            status == "AcceptedSettlementCompleted",
            "payment {id} is {status}"
        );
        let tx = posted
            .get(id)
            .with_context(|| format!("payment {id} has no settlement on the ledger"))?;
        ensure!(
            ledger.as_ref() == Some(tx),
            "payment {id}: {ledger:?} ≠ {tx}"
        );
        let consent_status: String =
            sqlx::query_scalar("SELECT status FROM consents WHERE id = $1")
                .bind(consent)
                .fetch_one(&db)
                .await?;
        ensure!(
            consent_status == "Consumed",
            "consent {consent} of payment {id} is {consent_status}"
        );
        ours.insert(tx.clone());
    }
    let debits = sqlx::query(
        "SELECT t.reference, t.amount, t.credit_debit, t.ledger_transaction_id \
         FROM transactions t WHERE t.account_id = $1 AND t.reference LIKE 'CRASH-%'",
    )
    .bind(&debtor)
    .fetch_all(&db)
    .await?;
    let mut references = BTreeSet::new();
    for d in &debits {
        let reference: String = d.try_get("reference")?;
        let amount: i64 = d.try_get("amount")?;
        let side: String = d.try_get("credit_debit")?;
        let tx: Option<String> = d.try_get("ledger_transaction_id")?;
        ensure!(
            amount == AMOUNT && side == "Debit",
            "{reference}: {side} of {amount}p"
        );
        ensure!(
            tx.as_ref().is_some_and(|t| ours.contains(t)),
            "{reference} was booked by {tx:?}, not by a payment's settlement"
        );
        ensure!(
            references.insert(reference.clone()),
            "{reference} booked twice"
        );
    }
    let wanted: BTreeSet<String> = prepared.values().map(|p| p.reference.clone()).collect();
    ensure!(
        references == wanted,
        "the debtor's statement lines {references:?} are not the {PAYMENTS} payments"
    );
    let new_postings = sqlx::query(
        "SELECT p.ledger_transaction_id, p.amount, lt.code FROM postings p \
         JOIN ledger_transactions lt ON lt.id = p.ledger_transaction_id \
         WHERE p.account_id = $1 AND p.id > $2",
    )
    .bind(&debtor)
    .bind(last_posting_before)
    .fetch_all(&db)
    .await?;
    let (mut by_payments, mut others) = (Vec::new(), Vec::new());
    for p in &new_postings {
        let tx: String = p.try_get("ledger_transaction_id")?;
        let amount: i64 = p.try_get("amount")?;
        let code: String = p.try_get("code")?;
        if ours.contains(&tx) {
            by_payments.push(amount);
        } else {
            others.push((tx, amount, code));
        }
    }
    ensure!(
        by_payments.len() == PAYMENTS && by_payments.iter().all(|a| *a == -AMOUNT),
        "the debtor's postings by the payments: {by_payments:?}"
    );
    // The demo's daily jobs (interest, standing orders) could post on the account at midnight;
    // nothing else may.
    ensure!(
        others.iter().all(|(_, _, code)| code != "FASTER_PAYMENT"),
        "payments the test did not make hit the debtor: {others:?}"
    );
    let other_total: i64 = others.iter().map(|(_, a, _)| a).sum();
    let closing = scalar(
        &db,
        "SELECT booked_balance FROM accounts WHERE id = $1",
        &[&debtor],
    )
    .await?;
    ensure!(
        opening - closing == PAYMENTS as i64 * AMOUNT - other_total,
        "the debtor went from {opening}p to {closing}p for {PAYMENTS} × {AMOUNT}p (other postings: {others:?})"
    );
    let creditor_closing = scalar(
        &db,
        "SELECT booked_balance FROM accounts WHERE id = $1",
        &[&creditor],
    )
    .await?;
    let mut creditor_other = 0;
    for p in sqlx::query(
        "SELECT ledger_transaction_id, amount FROM postings WHERE account_id = $1 AND id > $2",
    )
    .bind(&creditor)
    .bind(last_posting_before)
    .fetch_all(&db)
    .await?
    {
        if !ours.contains(&p.try_get::<String, _>("ledger_transaction_id")?) {
            creditor_other += p.try_get::<i64, _>("amount")?;
        }
    }
    ensure!(
        creditor_closing - creditor_opening == PAYMENTS as i64 * AMOUNT + creditor_other,
        "the creditor went from {creditor_opening}p to {creditor_closing}p"
    );
    audit(&db).await?;
    db.close().await;
    drop(server);

    eprintln!(
        "crash test: demo built in {:.1} s, {PAYMENTS} consents authorised in {:.1} s; \
         SIGKILL after {answered_at_kill} answers ({} answered 201 in all, {} cut off); the \
         database then held {rows_after_kill} payments ({pending_after_kill} Pending, \
         {pending_posted} of those already posted on the ledger); after the restart all \
         {PAYMENTS} retries answered 201, settled once each; total {:.1} s",
        built.as_secs_f64(),
        prepared_in.as_secs_f64(),
        answered.len(),
        cut.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
