//! The `bascule` binary as a newcomer runs it: `bascule demo` builds the bank, serves it over
//! TLS with the files a TPP needs, stops on SIGTERM, and reuses its data on the next start.

mod admin;
mod crash;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bascule_testkit::https_client;

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
    let browser = bascule_testkit::https_browser(&ca)?;
    let sign_in = browser.get(format!("{}/app", demo.url)).send().await?;
    let cookie = sign_in
        .headers()
        .get("set-cookie")
        .and_then(|c| c.to_str().ok())
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no session cookie"))?;
    let page = sign_in.text().await?;
    let field = |html: &str, marker: &str| -> Option<String> {
        let start = html.find(marker)? + marker.len();
        Some(html[start..].split('"').next()?.to_owned())
    };
    let csrf = field(&page, "name=\"csrf\" value=\"").ok_or_else(|| anyhow::anyhow!("no csrf"))?;
    let customer =
        field(&page, "<option value=\"").ok_or_else(|| anyhow::anyhow!("no customer"))?;
    let name = field(&page, &format!("<option value=\"{customer}\">"))
        .and_then(|n| n.split('<').next().map(str::to_owned))
        .ok_or_else(|| anyhow::anyhow!("no name"))?;
    let code = first_customers
        .iter()
        .find(|l| l.trim_start().starts_with(&name))
        .and_then(|l| passcode_of(l))
        .ok_or_else(|| anyhow::anyhow!("no passcode printed for {name}"))?;
    let signed = browser
        .post(format!("{}/app/sign-in", demo.url))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("customer", &customer),
            ("passcode", &code),
            ("next", "/app"),
        ])
        .send()
        .await?;
    let status = signed.status();
    let answer = signed.text().await?;
    assert_eq!(status, 303, "{answer}");
    // No connection of ours left open for the shutdown to wait on: the client's connection
    // task runs on this test's runtime, which `terminate` blocks, so it gets its turn first.
    drop(browser);
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
