//! The `bascule` binary as a newcomer runs it: `bascule demo` builds the bank, serves it over
//! TLS with the files a TPP needs, stops on SIGTERM, and reuses its data on the next start.

mod admin;
mod crash;
mod events_crash;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bascule_testkit::https_client;
use bascule_testkit::web::WebClient;

struct Demo {
    child: Child,
    url: String,
    output: Vec<String>,
}

fn start_demo(data_dir: &Path) -> anyhow::Result<Demo> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bascule"))
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut output = Vec::new();
    loop {
        let line = rx.recv_timeout(Duration::from_secs(180))?;
        let done = line.starts_with("Data directory:");
        output.push(line);
        if done {
            break;
        }
    }
    let url = output
        .iter()
        .find_map(|l| l.strip_prefix("Bascule demo bank is running at "))
        .ok_or_else(|| anyhow::anyhow!("no URL printed: {output:?}"))?
        .trim()
        .to_owned();
    Ok(Demo { child, url, output })
}

fn terminate(mut demo: Demo) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .args(["-TERM", &demo.child.id().to_string()])
        .status()?;
    anyhow::ensure!(status.success(), "kill -TERM failed");
    for _ in 0..100 {
        if let Some(exit) = demo.child.try_wait()? {
            anyhow::ensure!(exit.success(), "demo exited with {exit}");
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    demo.child.kill()?;
    anyhow::bail!("demo did not stop on SIGTERM within 10 s")
}

#[tokio::test]
async fn the_demo_starts_serves_over_mtls_and_reuses_its_data() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let demo = start_demo(&data)?;
    assert!(
        demo.output
            .iter()
            .any(|l| l.starts_with("Built 6 customers")),
        "{:?}",
        demo.output
    );
    let customers: Vec<&String> = demo
        .output
        .iter()
        .filter(|l| l.contains("@example.com"))
        .collect();
    assert!(customers.len() >= 5, "{:?}", demo.output);

    let tpp = data.join("tpp");
    let ca = std::fs::read_to_string(tpp.join("ca.pem"))?;
    let ready = https_client(&ca, None)?
        .get(format!("{}/health/ready", demo.url))
        .send()
        .await?;
    assert_eq!(ready.status(), 200);
    let identity = bascule_tls::IssuedCertificate::read_from(
        &tpp.join("transport.pem"),
        &tpp.join("transport.key"),
    )?;
    let seen: serde_json::Value = https_client(&ca, Some(&identity))?
        .get(format!("{}/sandbox/tls/client-certificate", demo.url))
        .send()
        .await?
        .json()
        .await?;
    let registered: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tpp.join("registration.json"))?)?;
    let software_id = registered["software_id"].as_str().unwrap_or("?");
    let client_id = registered["client_id"].as_str().unwrap_or("?").to_owned();
    assert!(
        seen["subject_dn"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("CN={software_id}")),
        "{seen}"
    );
    assert!(demo.output.iter().any(|l| l.contains(&client_id)));

    // The README's flow for a new TPP: enrol with the CLI, sign a registration request with
    // the CLI, POST it with any HTTPS client presenting the transport certificate.
    let mine = dir.path().join("my-tpp");
    let enrol = Command::new(env!("CARGO_BIN_EXE_bascule"))
        .args(["directory", "--data-dir"])
        .arg(&data)
        .args(["--public-url", &demo.url, "enrol", "--org", "My TPP Ltd"])
        .args(["--software", "My App", "--roles", "AISP,PISP"])
        .args(["--redirect-uri", "https://my-tpp.example/cb", "--out"])
        .arg(&mine)
        .output()?;
    assert!(
        enrol.status.success(),
        "{}",
        String::from_utf8_lossy(&enrol.stderr)
    );
    let request = Command::new(env!("CARGO_BIN_EXE_bascule"))
        .args(["tpp", "--tpp"])
        .arg(&mine)
        .args(["registration-request", "--aud", "0015800001BASCULE"])
        .output()?;
    assert!(
        request.status.success(),
        "{}",
        String::from_utf8_lossy(&request.stderr)
    );
    let jwt = String::from_utf8(request.stdout)?.trim().to_owned();
    let mine_identity = bascule_tls::IssuedCertificate::read_from(
        &mine.join("transport.pem"),
        &mine.join("transport.key"),
    )?;
    let response = https_client(&ca, Some(&mine_identity))?
        .post(format!("{}/register", demo.url))
        .header("content-type", "application/jose")
        .body(jwt)
        .send()
        .await?;
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await?;
    assert!(body["client_id"].is_string(), "{body}");
    let first_customers: Vec<String> = customers.into_iter().cloned().collect();

    // The bank app's URL and each customer's passcode are printed, and a printed passcode
    // signs that customer into the app.
    assert!(
        demo.output
            .iter()
            .any(|l| l.contains(&format!("{}/app", demo.url))),
        "{:?}",
        demo.output
    );
    let passcode_of = |line: &str| -> Option<String> {
        let rest = line.split("passcode ").nth(1)?;
        let code: String = rest.chars().take_while(char::is_ascii_digit).collect();
        (code.len() == 6).then_some(code)
    };
    assert!(
        first_customers.iter().all(|l| passcode_of(l).is_some()),
        "{first_customers:?}"
    );
    // The README's click-through: the demo TPP's CLI prints an authorisation URL; a person
    // identifies in one browser, approves in the app in another; the CLI reads the accounts.
    let cli = |args: &[&str]| -> anyhow::Result<String> {
        let out = Command::new(env!("CARGO_BIN_EXE_bascule"))
            .args(["tpp", "--tpp"])
            .arg(&tpp)
            .args(args)
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?)
    };
    let printed = cli(&["consent-url", "--bank", &demo.url])?;
    let url = printed
        .lines()
        .find(|l| l.starts_with("https://") && l.contains("/authorize?"))
        .ok_or_else(|| anyhow::anyhow!("no URL in {printed}"))?;
    let person = first_customers
        .first()
        .ok_or_else(|| anyhow::anyhow!("no customer printed"))?;
    // "  Name Surname           04-99-99 00000018  email  passcode 123456  pots: ..."
    let words: Vec<&str> = person.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| w.len() == 8 && w.chars().nth(2) == Some('-'))
        .ok_or_else(|| anyhow::anyhow!("no sort code in {person}"))?;
    let (name, sort_code, number) = (words[..at].join(" "), words[at], words[at + 1]);
    let code = passcode_of(person).ok_or_else(|| anyhow::anyhow!("no passcode"))?;

    let web = WebClient::at(&demo.url, &ca)?;
    let identify = web.follow(web.get(url).await).await;
    identify.assert_says("Confirm it");
    let journey = identify
        .body
        .split("action=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("no form"))?
        .to_owned();
    let sent = web
        .post(
            &journey,
            &[
                ("csrf", &identify.csrf()),
                ("full_name", &name),
                ("sort_code", sort_code),
                ("account_number", number),
            ],
        )
        .await;
    let wait = sent.redirect().to_owned();
    anyhow::ensure!(wait.ends_with("/wait"), "{sent:?}");

    let phone = WebClient::at(&demo.url, &ca)?;
    let sign_in = phone.get("/app").await;
    let customer = sign_in
        .body
        .split("<option value=\"")
        .skip(1)
        .find(|o| o.contains(&format!(">{name}<")))
        .and_then(|o| o.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("{name} is not offered"))?
        .to_owned();
    let inbox = phone.sign_into_app(&customer, &code, "/app").await;
    let approval = inbox
        .body
        .split("href=\"")
        .find(|h| h.starts_with("/app/approvals/"))
        .and_then(|h| h.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("no request in the app: {}", inbox.body))?
        .to_owned();
    let screen = phone.get(&approval).await;
    let first_account = screen
        .body
        .split("name=\"account\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("no account to choose"))?
        .to_owned();
    let done = phone
        .post(
            &approval,
            &[
                ("csrf", &screen.csrf()),
                ("decision", "approve"),
                ("account", &first_account),
            ],
        )
        .await;
    done.assert_says("Approved");
    let back = web.get(&wait.replace("/wait", "/continue")).await;
    let landed = back.redirect().to_owned();
    let accounts = cli(&["accounts", "--bank", &demo.url, "--redirect", &landed])?;
    anyhow::ensure!(accounts.contains(&first_account), "{accounts}");
    // No connection of ours left open for the shutdown to wait on: the clients' connection
    // tasks run on this test's runtime, which `terminate` blocks, so they get their turn first.
    drop((web, phone));
    tokio::time::sleep(Duration::from_millis(300)).await;
    terminate(demo)?;

    // Second start: same data directory, nothing rebuilt, the same bank.
    let again = start_demo(&data)?;
    assert!(
        !again.output.iter().any(|l| l.starts_with("Building")),
        "{:?}",
        again.output
    );
    assert!(
        again.output.iter().any(|l| l.contains(&client_id)),
        "the demo TPP keeps its registration: {:?}",
        again.output
    );
    let second: Vec<String> = again
        .output
        .iter()
        .filter(|l| l.contains("@example.com"))
        .cloned()
        .collect();
    assert_eq!(first_customers, second);
    terminate(again)?;
    Ok(())
}
