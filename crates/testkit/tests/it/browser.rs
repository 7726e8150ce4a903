//! The browser harness against real Chromium: a small site served over HTTPS (a sandbox-CA
//! certificate, the customer pages' strict Content-Security-Policy) that it must load, fill,
//! click, screenshot and check for accessibility on a desktop and a phone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::Form;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bascule_testkit::browser::{AccessibilityViolations, Browser, Device, screenshots_dir};
use bascule_tls::{CertificateAuthority, RevokedCertificates};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// What the customer pages will send: no inline script or style, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; frame-ancestors 'none'";
const WAIT: Duration = Duration::from_secs(10);
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

#[tokio::test]
async fn form_page_fills_submits_screenshots_and_passes_axe_on_desktop_and_phone()
-> anyhow::Result<()> {
    let site = Site::start().await?;
    for device in [Device::Desktop, Device::Phone] {
        let browser = launch(device).await?;
        browser.goto(&site.url("/")).await?;

        let (width, height) = device.viewport();
        let viewport = browser
            .client()
            .execute(
                "return [window.innerWidth, window.innerHeight];",
                Vec::new(),
            )
            .await?;
        assert_eq!(viewport, serde_json::json!([width, height]), "{device:?}");
        let mobile = browser
            .client()
            .execute(
                "return [navigator.userAgent.includes('Mobile'), navigator.maxTouchPoints > 0];",
                Vec::new(),
            )
            .await?;
        let is_phone = device == Device::Phone;
        assert_eq!(
            mobile,
            serde_json::json!([is_phone, is_phone]),
            "{device:?}"
        );

        let inline_ran = browser
            .client()
            .execute("return window.inlineScriptRan === true;", Vec::new())
            .await?;
        assert_eq!(inline_ran, false, "the page's CSP blocks inline script");
        browser.assert_accessible().await?;
        browser.fill("#name", "placeholder").await?;
        // fill() clears first, so the earlier value must not survive.
        browser.fill("#name", "Ada <Lovelace>").await?;
        let form_png = browser.screenshot("testkit-selftest-form").await?;
        browser.click("button[type=submit]").await?;
        browser.wait_for("#greeting", WAIT).await?;
        assert_eq!(browser.text("#greeting").await?, "Hello, Ada <Lovelace>");
        assert_eq!(browser.current_url().await?, site.url("/greet"));
        browser.assert_accessible().await?;
        let greeting_png = browser.screenshot("testkit-selftest-greeting").await?;
        let full_png = browser
            .screenshot_full_page("testkit-selftest-greeting")
            .await?;
        let after = browser
            .client()
            .execute(
                "return [window.innerWidth, window.innerHeight];",
                Vec::new(),
            )
            .await?;
        assert_eq!(
            after, viewport,
            "the full-page capture restores the viewport"
        );

        for (png, name) in [
            (&form_png, "testkit-selftest-form"),
            (&greeting_png, "testkit-selftest-greeting"),
            (&full_png, "testkit-selftest-greeting-full"),
        ] {
            assert_eq!(
                png,
                &screenshots_dir().join(format!("{name}-{}.png", device.name()))
            );
            let bytes = std::fs::read(png).with_context(|| png.display().to_string())?;
            assert!(
                bytes.starts_with(&PNG_SIGNATURE),
                "{} is a PNG",
                png.display()
            );
        }
        let pixel_ratio = if device == Device::Phone { 3 } else { 1 };
        let (_, visible) = png_size(&greeting_png)?;
        let (_, full) = png_size(&full_png)?;
        assert_eq!(visible, height * pixel_ratio, "{}", greeting_png.display());
        assert!(
            full > visible,
            "{} shows below the fold",
            full_png.display()
        );
        browser.close().await?;
    }
    site.stop().await;
    Ok(())
}

#[tokio::test]
async fn unlabelled_input_and_low_contrast_text_fail_the_accessibility_check() -> anyhow::Result<()>
{
    let site = Site::start().await?;
    let browser = launch(Device::Desktop).await?;
    browser.goto(&site.url("/faulty")).await?;

    let Err(error) = browser.assert_accessible().await else {
        bail!("an unlabelled input and grey-on-white text passed the accessibility check");
    };
    let violations = error
        .downcast_ref::<AccessibilityViolations>()
        .with_context(|| format!("not a violations report: {error:#}"))?;
    assert!(violations.ids.iter().any(|id| id == "label"), "{error}");
    assert!(
        violations.ids.iter().any(|id| id == "color-contrast"),
        "{error}"
    );
    let report = error.to_string();
    assert!(report.contains(&site.url("/faulty")), "{report}");
    assert!(
        report.contains(r#"at input: <input type="text" name="q">"#),
        "{report}"
    );
    assert!(
        report.contains(r#"at p: <p class="faint">Search your transactions</p>"#),
        "{report}"
    );

    browser.close().await?;
    site.stop().await;
    Ok(())
}

#[tokio::test]
async fn two_browsers_keep_separate_cookie_jars() -> anyhow::Result<()> {
    let site = Site::start().await?;
    // Launched together, as parallel tests do: each gets its own chromedriver and profile.
    let (alice, bob) = tokio::try_join!(launch(Device::Desktop), launch(Device::Phone))?;

    alice.goto(&site.url("/set-cookie")).await?;
    alice.goto(&site.url("/cookies")).await?;
    assert_eq!(alice.text("#cookies").await?, "session=alice");
    bob.goto(&site.url("/cookies")).await?;
    assert_eq!(bob.text("#cookies").await?, "no cookies");

    alice.close().await?;
    bob.close().await?;
    site.stop().await;
    Ok(())
}

#[tokio::test]
async fn redirect_to_an_unreachable_tpp_still_shows_its_url() -> anyhow::Result<()> {
    let site = Site::start().await?;
    let browser = launch(Device::Phone).await?;

    // The consent journey's end: the bank answers a form post with a 303 to the TPP.
    browser.goto(&site.url("/to-tpp")).await?;
    browser.click("button[type=submit]").await?;
    let url = browser
        .wait_for_url(|url| url.starts_with("https://tpp.invalid/"), WAIT)
        .await?;
    assert_eq!(url, "https://tpp.invalid/cb#code=x&state=s1");

    // Straight there: goto says why it failed, and the URL is still readable.
    let Err(error) = browser.goto("https://tpp.invalid/cb#code=x").await else {
        bail!("tpp.invalid loaded");
    };
    assert!(
        error.to_string().contains("ERR_NAME_NOT_RESOLVED"),
        "{error}"
    );
    assert_eq!(
        browser.current_url().await?,
        "https://tpp.invalid/cb#code=x"
    );

    // Nor does any name but localhost resolve: not even this machine's own, which /etc/hosts
    // knows (so the refusal is the browser's rule, not a DNS server's answer).
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")?;
    let own_name = site.url("/").replace("127.0.0.1", hostname.trim());
    let Err(error) = browser.goto(&own_name).await else {
        bail!("{own_name} resolved in a test browser");
    };
    assert!(
        error.to_string().contains("ERR_NAME_NOT_RESOLVED"),
        "{error}"
    );

    browser.close().await?;
    site.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_missing_element_is_an_error_naming_the_selector_and_the_page() -> anyhow::Result<()> {
    let site = Site::start().await?;
    let browser = launch(Device::Desktop).await?;
    // By name, as spawn_app's base_url has it.
    let page = site.url("/").replace("127.0.0.1", "localhost");
    browser.goto(&page).await?;

    let Err(error) = browser.click("#no-such-button").await else {
        bail!("clicked a button that is not there");
    };
    let message = error.to_string();
    assert!(message.contains("`#no-such-button`"), "{message}");
    assert!(message.contains(&page), "{message}");

    let started = Instant::now();
    let Err(error) = browser.wait_for("#never", Duration::from_millis(300)).await else {
        bail!("waited for an element that never comes");
    };
    assert!(started.elapsed() < Duration::from_secs(5));
    let message = error.to_string();
    assert!(message.contains("`#never`"), "{message}");
    assert!(message.contains(&page), "{message}");

    browser.close().await?;
    site.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_dropped_browser_takes_its_chromium_with_it() -> anyhow::Result<()> {
    let browser = launch(Device::Desktop).await?;
    browser.goto("about:blank").await?;
    let profile = browser.profile_dir().to_string_lossy().into_owned();
    assert!(!processes_mentioning(&profile)?.is_empty(), "Chromium runs");

    // As when a test fails before close().
    drop(browser);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = processes_mentioning(&profile)?;
        if left.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            bail!("still running after drop: {left:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!std::path::Path::new(&profile).exists(), "profile removed");
    Ok(())
}

/// Live processes whose command line mentions `needle` (a zombie's is empty).
fn processes_mentioning(needle: &str) -> anyhow::Result<Vec<String>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let path = entry?.path();
        let Ok(cmdline) = std::fs::read(path.join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(needle) {
            found.push(format!("{}: {cmdline}", path.display()));
        }
    }
    Ok(found)
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &std::path::Path) -> anyhow::Result<(u32, u32)> {
    let bytes = std::fs::read(png)?;
    let Some(ihdr) = bytes.get(16..24) else {
        bail!("{} is too short for a PNG", png.display());
    };
    let number =
        |at: usize| u32::from_be_bytes([ihdr[at], ihdr[at + 1], ihdr[at + 2], ihdr[at + 3]]);
    Ok((number(0), number(4)))
}

/// Launches and reports how long it took (`--nocapture` shows it).
async fn launch(device: Device) -> anyhow::Result<Browser> {
    let started = Instant::now();
    let browser = Browser::launch(device).await?;
    eprintln!("browser launch ({device:?}): {:?}", started.elapsed());
    Ok(browser)
}

/// A few pages over HTTPS with a server certificate from a sandbox CA, as the bank serves them.
struct Site {
    base_url: String,
    shutdown: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
    _ca_dir: TempDir,
}

impl Site {
    async fn start() -> anyhow::Result<Site> {
        let ca_dir = tempfile::tempdir()?;
        let now = time::OffsetDateTime::now_utc();
        let ca = CertificateAuthority::load_or_create(ca_dir.path(), now)?;
        let certificate =
            ca.issue_server_certificate(&["127.0.0.1".to_owned(), "localhost".to_owned()], now)?;
        let tls = bascule_tls::server_config(
            &certificate,
            &[ca.certificate_der()],
            Arc::new(RevokedCertificates::default()),
        )?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("https://127.0.0.1:{}", listener.local_addr()?.port());
        let (shutdown, stopped) = oneshot::channel();
        let server = tokio::spawn(async move {
            let _ = bascule_tls::serve(
                listener,
                tls,
                routes(),
                async {
                    let _ = stopped.await;
                },
                Duration::from_secs(1),
            )
            .await;
        });
        Ok(Site {
            base_url,
            shutdown,
            server,
            _ca_dir: ca_dir,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.server.await;
    }
}

fn routes() -> Router {
    Router::new()
        .route("/", get(|| async { page("Your name", FORM) }))
        .route("/greet", post(greet))
        .route("/site.css", get(|| async { css(SITE_CSS) }))
        .route("/faulty", get(|| async { page("Search", FAULTY) }))
        .route("/faulty.css", get(|| async { css(FAULTY_CSS) }))
        .route("/set-cookie", get(set_cookie))
        .route("/cookies", get(cookies))
        .route("/to-tpp", get(|| async { page("Approve", TO_TPP) }))
        .route(
            "/approve",
            post(|| async { Redirect::to("https://tpp.invalid/cb#code=x&state=s1") }),
        )
        .layer(axum::middleware::map_response(
            |mut response: Response| async move {
                response.headers_mut().insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(CSP),
                );
                response
            },
        ))
}

// The inline script is there to be blocked: it shows the CSP is in force while axe runs.
const FORM: &str = r#"<h1>Your name</h1>
<script>window.inlineScriptRan = true;</script>
<form method="post" action="/greet">
  <label for="name">Name</label>
  <input id="name" name="name" type="text" autocomplete="name">
  <button type="submit">Continue</button>
</form>"#;

const FAULTY: &str = r#"<h1>Search</h1>
<p class="faint">Search your transactions</p>
<input type="text" name="q">"#;

const TO_TPP: &str = r#"<h1>Approve</h1>
<form method="post" action="/approve"><button type="submit">Approve</button></form>"#;

const SITE_CSS: &str = "body { font-family: sans-serif; margin: 1rem; color: #111; background: #fff; }\n\
     input, button { font-size: 1rem; min-height: 44px; }\n";
const FAULTY_CSS: &str = ".faint { color: #ccc; background: #fff; }\n";

#[derive(serde::Deserialize)]
struct Name {
    name: String,
}

async fn greet(Form(form): Form<Name>) -> Response {
    page(
        "Hello",
        &format!(
            r#"<h1 id="greeting">Hello, {}</h1>{}"#,
            escape(&form.name),
            // Taller than any viewport, for the full-page screenshot.
            "<p>A line of the page.</p>".repeat(80)
        ),
    )
}

async fn set_cookie() -> Response {
    (
        [(
            header::SET_COOKIE,
            "session=alice; Path=/; Secure; HttpOnly; SameSite=Lax",
        )],
        page("Signed in", "<h1>Signed in</h1>"),
    )
        .into_response()
}

async fn cookies(headers: HeaderMap) -> Response {
    let cookies = headers
        .get(header::COOKIE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("no cookies");
    page(
        "Cookies",
        &format!(r#"<h1>Cookies</h1><p id="cookies">{}</p>"#, escape(cookies)),
    )
}

fn page(title: &str, main: &str) -> Response {
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/site.css">
<link rel="stylesheet" href="/faulty.css">
</head>
<body><main>
{main}
</main></body>
</html>"#
    ))
    .into_response()
}

fn css(body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "text/css")], body).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
