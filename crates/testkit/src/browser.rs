//! A headless Debian Chromium for the customer-page tests, driven over WebDriver (fantoccini and
//! Debian's `chromedriver`): one private chromedriver and profile per [`Browser`], a desktop or
//! phone viewport, screenshots into [`screenshots_dir()`], and an axe-core WCAG 2.1 AA check.
//!
//! Nothing here downloads a browser: Chromium and chromedriver must be at [`CHROMIUM`] and
//! [`CHROMEDRIVER`] (`scripts/test.sh` installs Debian's `chromium` and `chromium-driver`), and
//! [`Browser::launch`] fails, never skips, when they are not.
//!
//! A redirect to a TPP's redirect URI (`https://tpp.example/cb#code=..`) cannot load in a test
//! (no such host), and Chrome then shows its own error page; chromedriver still reports the URL
//! the browser was sent to, so [`Browser::current_url`] and [`Browser::wait_for_url`] return it,
//! fragment included. [`Browser::goto`] straight to such a URL returns an error naming the
//! network failure, after which `current_url` still reads that URL.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use base64::Engine as _;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value as Json, json};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Debian's launcher script (it reads `/etc/chromium.d`), as `apt-get install chromium` puts it.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's `chromium-driver`, same version as [`CHROMIUM`] by construction.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// axe-core, vendored from the npm registry (see `assets/axe-core/README.md`).
const AXE_SOURCE: &str = include_str!("../assets/axe-core/axe.min.js");

/// The axe-core tags that make up WCAG 2.1 level AA.
const WCAG_21_AA: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

const CHROME_FLAGS: [&str; 9] = [
    "--headless=new",
    // Tests often run as root in containers, where Chromium's sandbox cannot start.
    "--no-sandbox",
    "--disable-gpu",
    // Containers give /dev/shm 64 MB, which Chromium outgrows and then crashes tabs.
    "--disable-dev-shm-usage",
    // No calls home (field trials, component updates, sync) and no first-run setup.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    // Only this machine resolves: a redirect to a TPP (`tpp.example`) fails at once, whatever
    // the machine's DNS does, and a page cannot quietly depend on the internet.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
];

/// An Android Chrome user agent, so pages see what a customer's phone sends.
const PHONE_USER_AGENT: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
     (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36";

/// How long chromedriver gets to start, and a page to load.
const DRIVER_START: Duration = Duration::from_secs(30);
const PAGE_LOAD: Duration = Duration::from_secs(30);
/// axe on a long page takes a few seconds on a busy 2-core machine.
const SCRIPT: Duration = Duration::from_secs(60);

/// The screen a page is tested on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    /// A 1280×900 desktop viewport.
    Desktop,
    /// A 390×844 (CSS pixels, 3× density) touch phone with a mobile Chrome user agent, through
    /// chromedriver's mobile emulation.
    Phone,
}

impl Device {
    /// Viewport width and height in CSS pixels.
    pub fn viewport(self) -> (u32, u32) {
        match self {
            Device::Desktop => (1280, 900),
            Device::Phone => (390, 844),
        }
    }

    /// The screenshot file name's suffix.
    pub fn name(self) -> &'static str {
        match self {
            Device::Desktop => "desktop",
            Device::Phone => "phone",
        }
    }

    fn chrome_options(self, profile: &Path) -> Json {
        let (width, height) = self.viewport();
        let mut args: Vec<String> = CHROME_FLAGS.iter().map(|&flag| flag.to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        // Emulated metrics on the desktop too: `--window-size` sizes the window, and headless
        // Chromium then keeps some of it for browser chrome it does not draw (1280×900 gives a
        // 1280×757 viewport), so pages and screenshots would not be the size asked for.
        let (pixel_ratio, phone) = match self {
            Device::Desktop => (1.0, false),
            Device::Phone => (3.0, true),
        };
        let mut emulation = json!({
            "deviceMetrics": {
                "width": width,
                "height": height,
                "pixelRatio": pixel_ratio,
                "mobile": phone,
                "touch": phone,
            },
        });
        if phone {
            emulation["userAgent"] = json!(PHONE_USER_AGENT);
        }
        json!({
            "binary": CHROMIUM,
            "args": args,
            "mobileEmulation": emulation,
        })
    }
}

/// Where screenshots go: `$BASCULE_SCREENSHOTS_DIR`, or `target/screenshots` in the workspace
/// (not under `CARGO_TARGET_DIR`, which CI keeps elsewhere, so people find them in one place).
/// Created if missing.
pub fn screenshots_dir() -> PathBuf {
    let dir = match std::env::var_os("BASCULE_SCREENSHOTS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        // crates/testkit -> the workspace root.
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .unwrap_or(Path::new("."))
            .join("target/screenshots"),
    };
    // A failure surfaces, with the path, when the screenshot is written.
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// One headless Chromium with its own chromedriver and profile (so its own cookie jar), closed
/// and killed when dropped.
pub struct Browser {
    client: Client,
    device: Device,
    // Dropped in this order: the driver (and Chromium with it) dies before its profile goes.
    driver: Driver,
    profile: TempDir,
}

impl Browser {
    /// Starts chromedriver on a port of its choosing and a fresh Chromium session behind it.
    pub async fn launch(device: Device) -> anyhow::Result<Browser> {
        require_installed(&[CHROMIUM, CHROMEDRIVER])?;
        let profile = tempfile::Builder::new()
            .prefix("bascule-chromium-")
            .tempdir()
            .context("a temporary Chromium profile")?;
        let driver = Driver::start(profile.path()).await?;
        let capabilities = json!({
            "browserName": "chrome",
            // The test servers present certificates from a sandbox CA Chromium does not know.
            "acceptInsecureCerts": true,
            "pageLoadStrategy": "normal",
            "timeouts": {
                "implicit": 0,
                "pageLoad": PAGE_LOAD.as_millis() as u64,
                "script": SCRIPT.as_millis() as u64,
            },
            "goog:chromeOptions": device.chrome_options(&profile.path().join("chromium")),
        });
        let Json::Object(capabilities) = capabilities else {
            bail!("capabilities are a JSON object");
        };
        let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
        connector.set_nodelay(true);
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .map_err(|error| {
                anyhow!(
                    "chromedriver at {} could not start {CHROMIUM}: {error}{}",
                    driver.url,
                    driver.log_tail()
                )
            })?;
        Ok(Browser {
            client,
            device,
            driver,
            profile,
        })
    }

    /// The WebDriver client, for what this type does not wrap.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn device(&self) -> Device {
        self.device
    }

    /// This browser's own folder: Chromium's profile (`chromium/`) and chromedriver's log
    /// (`chromedriver.log`, Chromium's stderr included). Removed when the browser is dropped.
    pub fn profile_dir(&self) -> &Path {
        self.profile.path()
    }

    /// Loads `url` and waits for its `load` event. A page that cannot load (refused, no such
    /// host) is an error naming Chrome's network error; `current_url` still reads `url` after.
    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.client
            .goto(url)
            .await
            .map_err(|error| anyhow!("could not load {url}: {}", describe(&error)))
    }

    /// The URL the browser is on, or was sent to if it could not load (Chrome's error page).
    pub async fn current_url(&self) -> anyhow::Result<String> {
        let url = self
            .client
            .current_url()
            .await
            .map_err(|error| anyhow!("could not read the current URL: {}", describe(&error)))?;
        Ok(url.into())
    }

    /// Clears the first element matching `css` and types `value` into it.
    pub async fn fill(&self, css: &str, value: &str) -> anyhow::Result<()> {
        let element = self.find(css).await?;
        if let Err(error) = element.clear().await {
            return Err(self.failed_on(css, "clear", &error).await);
        }
        let typed = element.send_keys(value).await;
        match typed {
            Ok(()) => Ok(()),
            Err(error) => Err(self.failed_on(css, "type into", &error).await),
        }
    }

    /// Clicks the first element matching `css`; chromedriver waits for a page load it starts.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        let element = self.find(css).await?;
        let clicked = element.click().await;
        match clicked {
            Ok(()) => Ok(()),
            Err(error) => Err(self.failed_on(css, "click", &error).await),
        }
    }

    /// The rendered (visible) text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        let element = self.find(css).await?;
        let text = element.text().await;
        match text {
            Ok(text) => Ok(text),
            Err(error) => Err(self.failed_on(css, "read the text of", &error).await),
        }
    }

    /// The current value of the first form field matching `css`.
    pub async fn value(&self, css: &str) -> anyhow::Result<String> {
        let element = self.find(css).await?;
        match element.prop("value").await {
            Ok(value) => Ok(value.unwrap_or_default()),
            Err(error) => Err(self.failed_on(css, "read the value of", &error).await),
        }
    }

    /// Waits until an element matches `css`.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> anyhow::Result<()> {
        let found = self
            .client
            .wait()
            .at_most(timeout)
            .every(Duration::from_millis(50))
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(_) => Ok(()),
            Err(CmdError::WaitTimeout) => Err(anyhow!(
                "no element matched `{css}` within {timeout:?} on {}",
                self.here().await
            )),
            Err(error) => Err(self.failed_on(css, "wait for", &error).await),
        }
    }

    /// Waits until the current URL satisfies `pred`, and returns it.
    pub async fn wait_for_url(
        &self,
        pred: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> anyhow::Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let url = self.current_url().await?;
            if pred(&url) {
                return Ok(url);
            }
            if Instant::now() >= deadline {
                bail!("the URL did not become the expected one within {timeout:?}; it is {url}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves the viewport (what the customer sees first) as `<name>-desktop.png` or
    /// `<name>-phone.png` in [`screenshots_dir()`] and returns the path. Names are shared by all
    /// tests: make them unique per test.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let path = self.screenshot_path(name)?;
        let png = match self.client.screenshot().await {
            Ok(png) => png,
            Err(error) => bail!("screenshot of {}: {}", self.here().await, describe(&error)),
        };
        write_png(&path, &png).await
    }

    /// Saves the whole page, below the fold too, as `<name>-full-desktop.png` or
    /// `<name>-full-phone.png` in [`screenshots_dir()`].
    pub async fn screenshot_full_page(&self, name: &str) -> anyhow::Result<PathBuf> {
        let path = self.screenshot_path(&format!("{name}-full"))?;
        let url = self.here().await;
        // WebDriver only captures the viewport; DevTools (through chromedriver) can do more.
        let metrics = self
            .devtools("Page.getLayoutMetrics", json!({}))
            .await
            .with_context(|| format!("page size of {url}"))?;
        let size = &metrics["cssContentSize"];
        let (Some(width), Some(height)) = (size["width"].as_f64(), size["height"].as_f64()) else {
            bail!("Chromium gave no page size for {url}: {metrics}");
        };
        let shot = self
            .devtools(
                "Page.captureScreenshot",
                json!({
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 },
                }),
            )
            .await
            .with_context(|| format!("full-page screenshot of {url}"))?;
        let Some(data) = shot["data"].as_str() else {
            bail!("Chromium's screenshot of {url} has no data");
        };
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .with_context(|| format!("decoding the screenshot of {url}"))?;
        write_png(&path, &png).await
    }

    fn screenshot_path(&self, name: &str) -> anyhow::Result<PathBuf> {
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            bail!("screenshot name {name:?} must be a plain file name");
        }
        Ok(screenshots_dir().join(format!("{name}-{}.png", self.device.name())))
    }

    /// A Chrome DevTools Protocol command, through chromedriver's `goog/cdp/execute`.
    async fn devtools(&self, cmd: &'static str, params: Json) -> anyhow::Result<Json> {
        self.client
            .issue_cmd(DevTools { cmd, params })
            .await
            .map_err(|error| anyhow!("DevTools {cmd}: {}", describe(&error)))
    }

    /// Runs axe-core's WCAG 2.1 A and AA rules on the current page and fails, listing each
    /// violation and the elements it found, unless there are none.
    ///
    /// Scripts run through WebDriver are not bound by the page's Content-Security-Policy, so
    /// this works on pages that allow only `script-src 'self'`.
    pub async fn assert_accessible(&self) -> anyhow::Result<()> {
        let url = self.here().await;
        let loaded = self
            .client
            .execute(&format!("{AXE_SOURCE}\n;return typeof axe;"), Vec::new())
            .await
            .map_err(|error| anyhow!("injecting axe-core into {url}: {}", describe(&error)))?;
        // Say so here rather than with a ReferenceError from the run below.
        if loaded != "object" {
            bail!("axe-core did not load into {url} (typeof axe: {loaded})");
        }
        let outcome = self
            .client
            .execute_async(RUN_AXE, vec![json!(WCAG_21_AA)])
            .await
            .map_err(|error| anyhow!("running axe-core on {url}: {}", describe(&error)))?;
        let outcome: AxeOutcome = serde_json::from_value(outcome)
            .with_context(|| format!("reading axe-core's results on {url}"))?;
        let violations = match outcome {
            AxeOutcome::Error { error } => bail!("axe-core failed on {url}: {error}"),
            AxeOutcome::Ran { violations } => violations,
        };
        if violations.is_empty() {
            return Ok(());
        }
        let mut report = format!(
            "{} accessibility violation(s) (axe-core, WCAG 2.1 AA) on {url} ({}):",
            violations.len(),
            self.device.name()
        );
        for violation in &violations {
            let _ = write!(
                report,
                "\n- {} [{}]: {} ({})",
                violation.id,
                violation.impact.as_deref().unwrap_or("no impact given"),
                violation.help,
                violation.help_url
            );
            for node in &violation.nodes {
                let _ = write!(report, "\n    at {}: {}", node.target, node.html);
                if let Some(summary) = &node.failure_summary {
                    for line in summary.lines() {
                        let _ = write!(report, "\n      {line}");
                    }
                }
            }
        }
        Err(AccessibilityViolations {
            ids: violations.into_iter().map(|v| v.id).collect(),
            report,
        }
        .into())
    }

    /// Ends the session (Chromium quits) and stops chromedriver.
    pub async fn close(mut self) -> anyhow::Result<()> {
        let closed = self.client.clone().close().await;
        self.driver.stop().await;
        closed.map_err(|error| anyhow!("closing the browser session: {}", describe(&error)))
    }

    async fn find(&self, css: &str) -> anyhow::Result<fantoccini::elements::Element> {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => Ok(element),
            Err(error) if error.is_no_such_element() => Err(anyhow!(
                "no element matches `{css}` on {}",
                self.here().await
            )),
            Err(error) => Err(self.failed_on(css, "find", &error).await),
        }
    }

    async fn failed_on(&self, css: &str, action: &str, error: &CmdError) -> anyhow::Error {
        anyhow!(
            "could not {action} `{css}` on {}: {}",
            self.here().await,
            describe(error)
        )
    }

    /// The current URL for an error message; never fails.
    async fn here(&self) -> String {
        match self.client.current_url().await {
            Ok(url) => url.into(),
            Err(_) => "(unknown page)".to_owned(),
        }
    }
}

async fn write_png(path: &Path, png: &[u8]) -> anyhow::Result<PathBuf> {
    tokio::fs::write(path, png)
        .await
        .with_context(|| format!("writing the screenshot {}", path.display()))?;
    Ok(path.to_owned())
}

#[derive(Debug)]
struct DevTools {
    cmd: &'static str,
    params: Json,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// What [`Browser::assert_accessible`] returns when axe-core finds violations; the rule ids let a
/// test check which rules failed (`error.downcast_ref::<AccessibilityViolations>()`).
#[derive(Debug)]
pub struct AccessibilityViolations {
    /// axe-core rule ids, one per violated rule (`label`, `color-contrast`, ..).
    pub ids: Vec<String>,
    report: String,
}

impl std::fmt::Display for AccessibilityViolations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.report)
    }
}

impl std::error::Error for AccessibilityViolations {}

/// Only violations come back: passes and inapplicable rules are large and not needed.
const RUN_AXE: &str = r#"
const tags = arguments[0];
const done = arguments[arguments.length - 1];
axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
  .then((results) => done({
    violations: results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({
        // One selector per frame or shadow root on the way to the element.
        target: n.target.flat(Infinity).join(' >> '),
        html: n.html,
        failureSummary: n.failureSummary,
      })),
    })),
  }))
  .catch((e) => done({ error: String((e && e.stack) || e) }));
"#;

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum AxeOutcome {
    Ran { violations: Vec<Violation> },
    Error { error: String },
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Violation {
    id: String,
    impact: Option<String>,
    help: String,
    help_url: String,
    nodes: Vec<ViolationNode>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ViolationNode {
    target: String,
    html: String,
    failure_summary: Option<String>,
}

/// A WebDriver error without chromedriver's native stack trace, which says nothing to a reader.
fn describe(error: &CmdError) -> String {
    match error {
        CmdError::Standard(error) => {
            let message = error.message.lines().next().unwrap_or_default().trim();
            let status = error.error.to_string();
            if message.starts_with(&status) {
                message.to_owned()
            } else {
                format!("{status}: {message}")
            }
        }
        other => other.to_string(),
    }
}

/// chromedriver, in a process group of its own so that killing the group also kills the
/// Chromium it started, even when a test panics before [`Browser::close`].
struct Driver {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Driver {
    async fn start(dir: &Path) -> anyhow::Result<Driver> {
        let log = dir.join("chromedriver.log");
        let log_file =
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        // --port=0: chromedriver binds a free port itself and says which, so parallel tests
        // never race for one.
        let mut child = Command::new(CHROMEDRIVER)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // Chromium's own stderr goes here too, out of the test output.
            .stderr(log_file)
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {CHROMEDRIVER}"))?;
        let stdout = child
            .stdout
            .take()
            .context("chromedriver's stdout is piped")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut said = String::new();
        let port = tokio::time::timeout(DRIVER_START, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(port) = started_on_port(&line) {
                    return Ok(Some(port));
                }
                said.push_str(&line);
                said.push('\n');
            }
            Ok::<_, std::io::Error>(None)
        })
        .await;
        let port = match port {
            Ok(Ok(Some(port))) => port,
            Ok(Ok(None)) => bail!("{CHROMEDRIVER} exited before listening; it said:\n{said}"),
            Ok(Err(error)) => bail!("reading {CHROMEDRIVER}'s output: {error}"),
            Err(_) => {
                bail!("{CHROMEDRIVER} did not start within {DRIVER_START:?}; it said:\n{said}")
            }
        };
        // chromedriver keeps a few lines for stdout; reading them keeps it from blocking.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        driver.wait_until_answering(port).await?;
        Ok(driver)
    }

    async fn wait_until_answering(&self, port: u16) -> anyhow::Result<()> {
        let deadline = Instant::now() + DRIVER_START;
        loop {
            match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
                Ok(_) => return Ok(()),
                Err(error) if Instant::now() >= deadline => {
                    bail!("chromedriver does not answer on port {port}: {error}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    /// The end of chromedriver's log, for an error message.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        if tail.is_empty() {
            String::new()
        } else {
            format!("\nchromedriver's log ({}):\n{tail}", self.log.display())
        }
    }

    async fn stop(&mut self) {
        self.kill_group();
        let _ = self.child.wait().await;
    }

    fn kill_group(&self) {
        if let Some(pid) = self
            .child
            .id()
            .and_then(|id| rustix::process::Pid::from_raw(id as i32))
        {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// A missing browser is an error, never a reason to skip: a skipped page test proves nothing.
fn require_installed(binaries: &[&str]) -> anyhow::Result<()> {
    for binary in binaries {
        if !Path::new(binary).exists() {
            bail!(
                "{binary} is missing: the browser tests need Debian's chromium and \
                 chromium-driver (scripts/test.sh installs them: apt-get install chromium \
                 chromium-driver)"
            );
        }
    }
    Ok(())
}

/// The port in chromedriver's "ChromeDriver was started successfully on port 40123." line.
fn started_on_port(line: &str) -> Option<u16> {
    let rest = line.split("started successfully on port ").nth(1)?;
    rest.trim().trim_end_matches('.').parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chromedriver_start_line_gives_the_port() {
        assert_eq!(
            started_on_port("ChromeDriver was started successfully on port 45439."),
            Some(45439)
        );
        assert_eq!(started_on_port("Only local connections are allowed."), None);
    }

    #[test]
    fn a_missing_chromium_is_an_error_naming_it_and_how_to_install_it() {
        let Err(error) = require_installed(&[CHROMEDRIVER, "/nonexistent/chromium"]) else {
            panic!("a missing binary passed");
        };
        let message = error.to_string();
        assert!(
            message.contains("/nonexistent/chromium is missing"),
            "{message}"
        );
        assert!(
            message.contains("apt-get install chromium chromium-driver"),
            "{message}"
        );
    }
}
