//! Harness for the end-to-end browser tests (`tests/browser.rs`): Debian's headless Chromium
//! driven through chromedriver with `fantoccini`, the example server as a child process, a
//! tiny raw-HTTP client and a tiny raw-HTTP server, all on loopback.
//!
//! Every child process runs in its own process group and is killed (with its whole group, so
//! Chromium goes with chromedriver) when its guard drops; every wait is bounded.
#![allow(dead_code)]

#[path = "server.rs"]
pub mod server;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value as Json};

use server::pump;
pub use server::{in_ci, Server};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long any single wait (a process to come up, the page to settle) may take.
pub const WAIT: Duration = Duration::from_secs(20);

/// `Ok(())` if Chromium and chromedriver are installed. Outside CI a missing browser makes the
/// caller skip (with the reason printed); in CI it is a failure.
pub fn browser_available() -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let reason = format!(
        "{} not installed (apt-get install chromium chromium-driver)",
        missing.join(" and ")
    );
    if in_ci() {
        panic!("browser tests must run in CI, but {reason}");
    }
    eprintln!("SKIPPED browser test: {reason}");
    false
}

/// A free loopback TCP port (bound and released; good enough on a test machine).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = std::env::temp_dir().join(format!(
            "sealed-session-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Chromium may still be flushing for a moment after being killed.
        for _ in 0..5 {
            if std::fs::remove_dir_all(&self.0).is_ok() || !self.0.exists() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A child process in its own process group; the group is killed and the child reaped on drop.
pub struct ChildGuard {
    child: Child,
    name: String,
}

impl ChildGuard {
    /// Spawns `cmd` as the leader of a new process group.
    pub fn spawn(name: &str, cmd: &mut Command) -> std::io::Result<ChildGuard> {
        cmd.process_group(0);
        let child = cmd.spawn()?;
        Ok(ChildGuard {
            child,
            name: name.to_string(),
        })
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status)` if the process has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn kill(&mut self) {
        if self.exited().is_none() {
            // The negative pid names the group this child leads (and only it).
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

impl std::fmt::Debug for ChildGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (pid {})", self.name, self.child.id())
    }
}

/// A headless Chromium session behind its own chromedriver.
pub struct Browser {
    pub client: Client,
    // Field order is drop order: the driver (and with it Chromium) goes before the profile.
    driver: ChildGuard,
    profile: TempDir,
    log: Arc<Mutex<Vec<String>>>,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a Chromium session with a fresh
    /// profile.
    pub async fn start() -> Result<Browser, String> {
        let profile = TempDir::new("chromium");
        let port = free_port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut cmd = Command::new(CHROMEDRIVER);
        cmd.arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut driver = ChildGuard::spawn("chromedriver", &mut cmd)
            .map_err(|e| format!("cannot start {CHROMEDRIVER}: {e}"))?;
        pump(driver.child.stdout.take().unwrap(), log.clone(), None);
        pump(driver.child.stderr.take().unwrap(), log.clone(), None);

        // Ready when /status says so.
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(r) = http(port, "GET", "/status", None, None) {
                if r.status == 200 && r.body.contains("\"ready\":true") {
                    break;
                }
            }
            if let Some(st) = driver.exited() {
                return Err(format!(
                    "chromedriver exited with {st}: {}",
                    log.lock().unwrap().join("\n")
                ));
            }
            if Instant::now() > deadline {
                return Err("chromedriver did not become ready in time".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let caps = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": { "script": 20000, "pageLoad": 20000, "implicit": 0 },
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-breakpad",
                    "--disable-crash-reporter",
                    "--disable-quic",
                    "--disable-extensions",
                    "--window-size=1100,1300",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let Json::Object(caps) = caps else {
            unreachable!()
        };
        let mut builder =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(caps);
        let url = format!("http://127.0.0.1:{port}");
        let connect = builder.connect(&url);
        let client = match tokio::time::timeout(Duration::from_secs(40), connect).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                return Err(format!(
                    "cannot start a Chromium session: {e}\nchromedriver log:\n{}",
                    log.lock().unwrap().join("\n")
                ))
            }
            Err(_) => return Err("starting Chromium timed out".into()),
        };
        Ok(Browser {
            client,
            driver,
            profile,
            log,
        })
    }

    /// Ends the WebDriver session (Chromium quits); the guard then stops chromedriver.
    pub async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.client.clone().close()).await;
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// Runs `script` (a function body; use `return`).
    pub async fn js(&self, script: &str) -> Json {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// `fetch(path, {method})` from the page: `(status, parsed JSON or the text as a string)`.
    pub async fn fetch(&self, method: &str, path: &str) -> (u16, Json) {
        const JS: &str = r#"
            const [method, path, done] = arguments;
            fetch(path, { method, credentials: "same-origin", cache: "no-store" })
              .then(async (r) => done([r.status, await r.text()]))
              .catch((e) => done([0, String(e)]));
        "#;
        let r = self
            .client
            .execute_async(JS, vec![json!(method), json!(path)])
            .await
            .unwrap_or_else(|e| panic!("fetch {method} {path}: {e}"));
        let status = r[0].as_u64().unwrap_or(0) as u16;
        let text = r[1].as_str().unwrap_or_default().to_string();
        let body = serde_json::from_str(&text).unwrap_or(Json::String(text));
        (status, body)
    }

    /// Waits until `script` (a function body) returns `true`, or panics after [`WAIT`] with
    /// `what` in the message.
    pub async fn wait_until(&self, what: &str, script: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            if self.client.execute(script, vec![]).await.ok() == Some(Json::Bool(true)) {
                return;
            }
            if Instant::now() > deadline {
                let status = self
                    .js("const s = document.getElementById('status'); return s ? s.textContent : document.body.innerText.slice(0, 500);")
                    .await;
                panic!("timed out waiting for {what}; page status: {status}");
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }

    /// Opens (or reloads) the demo page and waits until its first refresh has finished.
    pub async fn open_demo(&self, base: &str) {
        self.goto(&format!("{base}/")).await;
        self.wait_demo_loaded().await;
    }

    pub async fn reload_demo(&self) {
        self.client.refresh().await.expect("reload");
        self.wait_demo_loaded().await;
    }

    async fn wait_demo_loaded(&self) {
        self.wait_until(
            "the demo page to load",
            "return !!(window.__demo && window.__demo.loaded && window.__demo.inflight === 0);",
        )
        .await;
    }

    /// Clicks `#id` on the demo page and waits until the action and the refresh after it ended.
    pub async fn click(&self, id: &str) {
        let seq = self.js("return window.__demo.seq;").await;
        let seq = seq.as_u64().expect("demo seq");
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("find #{id}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click #{id}: {e}"));
        self.wait_until(
            &format!("the page to settle after clicking #{id}"),
            &format!("return window.__demo.seq > {seq} && window.__demo.inflight === 0;"),
        )
        .await;
    }

    /// Replaces the value of the input `#id`.
    pub async fn type_into(&self, id: &str, text: &str) {
        let el = self
            .client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("find #{id}: {e}"));
        el.clear().await.expect("clear");
        el.send_keys(text).await.expect("send_keys");
    }

    /// `textContent` of `#id`.
    pub async fn text(&self, id: &str) -> String {
        let v = self
            .client
            .execute(
                "const e = document.getElementById(arguments[0]); return e ? e.textContent : null;",
                vec![json!(id)],
            )
            .await
            .expect("text");
        v.as_str()
            .unwrap_or_else(|| panic!("no element #{id}"))
            .trim()
            .to_string()
    }

    /// `data-<key>` of `#id`.
    pub async fn data(&self, id: &str, key: &str) -> String {
        let v = self
            .client
            .execute(
                "const e = document.getElementById(arguments[0]); return e ? String(e.dataset[arguments[1]]) : null;",
                vec![json!(id), json!(key)],
            )
            .await
            .expect("data");
        v.as_str()
            .unwrap_or_else(|| panic!("no element #{id}"))
            .to_string()
    }

    /// All cookies the browser holds for the current page, HttpOnly ones included.
    pub async fn cookies(&self) -> Vec<cookie_jar::Cookie> {
        self.client
            .get_all_cookies()
            .await
            .expect("get_all_cookies")
            .into_iter()
            .map(|c| cookie_jar::Cookie {
                name: c.name().to_string(),
                value: c.value().to_string(),
                http_only: c.http_only().unwrap_or(false),
            })
            .collect()
    }

    /// Runs the Chrome DevTools Protocol command `cmd` with `params` through chromedriver
    /// (`POST /session/{id}/goog/cdp/execute`) and returns its result.
    pub async fn cdp(&self, cmd: &str, params: Json) -> Json {
        self.client
            .issue_cmd(Cdp {
                cmd: cmd.to_string(),
                params,
            })
            .await
            .unwrap_or_else(|e| panic!("CDP {cmd}: {e}"))
    }

    /// Every cookie Chromium holds, as CDP's `Storage.getCookies` reports them: with the
    /// attributes WebDriver leaves out (`partitionKey`, `sameSite`, `secure`, …).
    pub async fn cdp_cookies(&self) -> Vec<Json> {
        let r = self.cdp("Storage.getCookies", json!({})).await;
        r["cookies"].as_array().cloned().unwrap_or_default()
    }

    /// What the page's script can see of the cookies.
    pub async fn document_cookie(&self) -> String {
        self.js("return document.cookie;")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Saves a screenshot (PNG) of the page.
    pub async fn screenshot(&self, path: &Path) {
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(path, png);
        }
    }
}

/// A Chrome DevTools Protocol command, sent through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: String,
    params: Json,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
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

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

pub mod cookie_jar {
    /// A cookie as WebDriver reports it.
    #[derive(Debug, Clone)]
    pub struct Cookie {
        pub name: String,
        pub value: String,
        pub http_only: bool,
    }

    impl Cookie {
        /// Name plus value, the quantity browsers limit to 4096 bytes.
        pub fn size(&self) -> usize {
            self.name.len() + self.value.len()
        }
    }

    /// The cookies of the session named `base`: `base` and its chunks `base.1`, `base.2`, ….
    pub fn session(all: &[Cookie], base: &str) -> Vec<Cookie> {
        let mut v: Vec<Cookie> = all
            .iter()
            .filter(|c| is_session_name(&c.name, base))
            .cloned()
            .collect();
        v.sort_by_key(|c| chunk_index(&c.name, base));
        v
    }

    pub fn is_session_name(name: &str, base: &str) -> bool {
        name == base
            || name
                .strip_prefix(base)
                .and_then(|r| r.strip_prefix('.'))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    }

    fn chunk_index(name: &str, base: &str) -> usize {
        name.strip_prefix(base)
            .and_then(|r| r.strip_prefix('.'))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

/// A response read by [`http`].
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Header lines as `(lower-case name, value)`.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// One HTTP/1.1 request to `127.0.0.1:port` over a fresh connection (`Connection: close`),
/// with a 10-second timeout on every read and write.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<&str>,
) -> std::io::Result<Response> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.set_write_timeout(Some(Duration::from_secs(10)))?;
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: {c}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || method != "GET" {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes())?;
    // Read until the response is complete: some servers keep the connection open anyway.
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        if response_complete(&raw) {
            break;
        }
        match s.read(&mut buf)? {
            0 => break,
            n => raw.extend_from_slice(&buf[..n]),
        }
    }
    parse_response(&raw)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "bad HTTP response"))
}

fn response_complete(raw: &[u8]) -> bool {
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = &raw[split + 4..];
    for line in head.split("\r\n") {
        if let Some(v) = line.strip_prefix("content-length:") {
            return v.trim().parse::<usize>().is_ok_and(|n| body.len() >= n);
        }
        if line.starts_with("transfer-encoding:") && line.contains("chunked") {
            return body.ends_with(b"0\r\n\r\n");
        }
    }
    false
}

fn parse_response(raw: &[u8]) -> Option<Response> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let eol = rest.windows(2).position(|w| w == b"\r\n")?;
            let len =
                usize::from_str_radix(std::str::from_utf8(&rest[..eol]).ok()?.trim(), 16).ok()?;
            if len == 0 {
                break;
            }
            out.extend_from_slice(rest.get(eol + 2..eol + 2 + len)?);
            rest = rest.get(eol + 4 + len..)?;
        }
        body = out;
    }
    Some(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// A minimal HTTP server on loopback for browser-behaviour checks that need no application:
/// `handler(method, path, cookie_header)` returns `(status, extra header lines, body)`.
pub struct RawServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

type Handler = dyn Fn(&str, &str, &str) -> (u16, Vec<String>, String) + Send + Sync;

impl RawServer {
    pub fn start(handler: Arc<Handler>) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(s) = stream else { continue };
                // One thread per connection: Chromium opens speculative connections that may
                // never carry a request.
                let handler = handler.clone();
                std::thread::spawn(move || serve_one(s, &*handler));
            }
        });
        RawServer {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

fn serve_one(mut s: TcpStream, handler: &Handler) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Read the request head; requests here have no body.
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 256 * 1024 {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let path = first.next().unwrap_or("").to_string();
    let cookie = lines
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case("cookie"))
        .map(|(_, v)| v.trim().to_string())
        .collect::<Vec<_>>()
        .join("; ");
    let (status, headers, body) = handler(&method, &path, &cookie);
    let mut resp = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: text/html; charset=utf-8\r\n\
         Cache-Control: no-store\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for h in headers {
        resp.push_str(&h);
        resp.push_str("\r\n");
    }
    resp.push_str("\r\n");
    resp.push_str(&body);
    let _ = s.write_all(resp.as_bytes());
    let _ = s.shutdown(Shutdown::Write);
    // Let the client read everything before the socket closes.
    let _ = s.read(&mut chunk);
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(
            &SocketAddr::from(([127, 0, 0, 1], self.port)),
            Duration::from_secs(1),
        );
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
