//! The demo app as a fleet (README.md, "Running a fleet"): instances of the demo server that
//! share their secrets (`SESSION_KEYS`) and their user store (`DATABASE_URL`) and nothing
//! else.
//!
//! - [`logout_everywhere_on_one_instance_revokes_on_the_others`]: two instances; a client
//!   logged in on each; logout everywhere on the first; the second client is refused on both.
//! - [`rolling_key_rotation_and_logout_everywhere_behind_nginx`]: three instances (two on
//!   actix-web, one on axum) behind a real nginx, under a bounded load of many clients, while
//!   the keys are rotated A → B by restarting one instance at a time (the README's procedure)
//!   and one user logs out everywhere. Nothing is lost, nothing fails, and the revoked user's
//!   other sessions are refused on every instance within the revalidation interval.
//! - [`a_user_store_failure_is_an_opaque_500_and_the_session_survives_it`]: the shared store
//!   taken away under a running server, and given back.
//!
//! The nginx test needs Debian's `nginx` (`.ci/run` installs it). Outside CI it skips with a
//! printed reason when nginx is missing; in CI (`CI=true`) that is a failure. The instances
//! are the debug builds `target/debug/server` and `axum_server`, built by the harness
//! (`support/server.rs`) when missing or stale.

#[path = "../../tests/support/cookies.rs"]
mod cookies;
#[path = "support/server.rs"]
mod server;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use cookies::{Jar, SetCookie};
use sealed_session::Secret;
use server::{in_ci, select, Example, Server, TempDir};

fn key(n: u8) -> String {
    Secret::from_bytes(&[n; 32]).unwrap().to_base64()
}

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client: one request per connection, errors returned, not panicked
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Reply {
    status: u16,
    cookies: Vec<SetCookie>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// One request to `127.0.0.1:port` on a fresh connection (`Connection: close`), read to EOF,
/// with bounded waits.
fn request(
    port: u16,
    method: &str,
    path: &str,
    cookie: &str,
    body: Option<&Value>,
) -> Result<Reply, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let io = |e: std::io::Error| format!("{method} {path} on port {port}: {e}");
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(io)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(io)?;
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .map_err(io)?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if !cookie.is_empty() {
        req.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(req.as_bytes()).map_err(io)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(io)?;
    parse(&raw).ok_or_else(|| {
        format!(
            "{method} {path} on port {port}: not an HTTP response: {:?}",
            String::from_utf8_lossy(&raw[..raw.len().min(200)])
        )
    })
}

fn parse(raw: &[u8]) -> Option<Reply> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(&str, &str)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        body = dechunk(&body)?;
    }
    let cookies = headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| SetCookie::parse(v))
        .collect();
    Some(Reply {
        status,
        cookies,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&data[..eol]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        data = data.get(eol + 2..)?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

/// A client with a cookie jar talking to one port (an instance, or the proxy).
struct Client {
    port: u16,
    jar: Jar,
}

impl Client {
    fn new(port: u16) -> Client {
        Client {
            port,
            jar: Jar::default(),
        }
    }
    fn send(&mut self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let reply = request(self.port, method, path, &self.jar.header(), body.as_ref())
            .unwrap_or_else(|e| panic!("{e}"));
        self.jar.apply(&reply.cookies);
        reply
    }
    fn login(&mut self, username: &str, password: &str) -> Reply {
        let body = json!({ "username": username, "password": password });
        self.send("POST", "/login", Some(body))
    }
}

// ---------------------------------------------------------------------------------------------
// The bug this fleet work fixed: logout everywhere was per process
// ---------------------------------------------------------------------------------------------

#[test]
fn logout_everywhere_on_one_instance_revokes_on_the_others() {
    let db = TempDir::new("fleet2-db");
    let (keys, url) = (key(0xA), db.database_url());
    let env = [
        ("SESSION_KEYS", keys.as_str()),
        ("SESSION_SECURE", "0"),
        ("SESSION_REVALIDATE_SECS", "0"),
        ("DATABASE_URL", url.as_str()),
    ];
    select(Example::Actix);
    let a = Server::start(0, &env);
    select(Example::Axum);
    let b = Server::start(0, &env);

    let mut on_a = Client::new(a.port);
    let mut on_b = Client::new(b.port);
    let mut admin = Client::new(b.port);
    assert_eq!(on_a.login("user", "user123").status, 200);
    assert_eq!(on_b.login("user", "user123").status, 200);
    assert_eq!(admin.login("admin", "admin123").status, 200);
    // Each instance opens the other's sessions: one format, one set of keys.
    for port in [a.port, b.port] {
        for jar in [&on_a.jar, &on_b.jar] {
            let r = request(port, "GET", "/profile", &jar.header(), None).unwrap();
            assert_eq!(r.status, 200, "port {port}");
        }
    }

    let res = on_a.send("POST", "/logout-everywhere", None);
    assert_eq!(res.status, 200);
    assert!(on_a.jar.0.is_empty(), "this client's session is removed");

    // The client on B is refused on A and on B (before the fix, B still served it).
    let b_cookie = on_b.jar.header();
    for (name, port) in [("A", a.port), ("B", b.port)] {
        let r = request(port, "GET", "/profile", &b_cookie, None).unwrap();
        assert_eq!(r.status, 401, "the revoked session on {name}");
        assert!(r.cookies.iter().all(SetCookie::is_removal), "{name}");
    }
    // Another user is untouched everywhere; the revoked user can log in again.
    for port in [a.port, b.port] {
        let r = request(port, "GET", "/profile", &admin.jar.header(), None).unwrap();
        assert_eq!(r.status, 200);
    }
    assert_eq!(on_b.login("user", "user123").status, 200);
    let r = request(a.port, "GET", "/profile", &on_b.jar.header(), None).unwrap();
    assert_eq!(r.status, 200);
    let _ = admin.send("POST", "/logout", None);
}

/// The user store failing under a running server: every request that needs it is an opaque
/// 500 with a log line, and the session is left as it was, so it works again once the store
/// is back. Never a revoked session kept for want of an answer; logging out still works.
#[test]
fn a_user_store_failure_is_an_opaque_500_and_the_session_survives_it() {
    for example in [Example::Actix, Example::Axum] {
        let db = TempDir::new("fleet-store-db");
        let (keys, url) = (key(0xA), db.database_url());
        let env = [
            ("SESSION_KEYS", keys.as_str()),
            ("SESSION_SECURE", "0"),
            ("SESSION_REVALIDATE_SECS", "0"),
            ("DATABASE_URL", url.as_str()),
        ];
        select(example);
        let server = Server::start(0, &env);
        let mut c = Client::new(server.port);
        assert_eq!(c.login("user", "user123").status, 200);
        let logged_in = c.jar.header();

        let conn = rusqlite::Connection::open(db.path().join("users.db")).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn.execute_batch("ALTER TABLE users RENAME TO users_away")
            .unwrap();
        let body = json!({ "username": "admin", "password": "admin123" });
        for (method, path, cookie, body) in [
            ("GET", "/profile", logged_in.as_str(), None),
            ("GET", "/counter", logged_in.as_str(), None),
            ("POST", "/logout-everywhere", logged_in.as_str(), None),
            ("POST", "/login", "", Some(&body)),
        ] {
            let r = request(server.port, method, path, cookie, body).unwrap();
            assert_eq!(r.status, 500, "{example:?} {method} {path}");
            // Opaque: the demo's own 500, or the session layer's, which in a debug build (as
            // here) may add a `hint` for the developer and nothing else.
            let json = r.json();
            assert_eq!(
                json["error"], "internal server error",
                "{example:?} {method} {path}"
            );
            let keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
            assert!(
                keys == ["error"] || (cfg!(debug_assertions) && keys == ["error", "hint"]),
                "{example:?} {method} {path}: {json}"
            );
            assert!(
                r.cookies.is_empty(),
                "{example:?} {method} {path}: {:?}",
                r.cookies
            );
        }
        let log = server.wait_for_stderr("the user store failed");
        assert!(log.contains("the user store failed"), "{example:?}: {log}");

        conn.execute_batch("ALTER TABLE users_away RENAME TO users")
            .unwrap();
        let r = request(server.port, "GET", "/profile", &logged_in, None).unwrap();
        assert_eq!(
            r.status, 200,
            "{example:?}: the session survived the outage"
        );
        assert_eq!(r.json()["loginCount"], 1);
    }
    // Logging out needs no store: it works during an outage.
    let db = TempDir::new("fleet-store-db");
    let (keys, url) = (key(0xA), db.database_url());
    let env = [
        ("SESSION_KEYS", keys.as_str()),
        ("SESSION_SECURE", "0"),
        ("SESSION_REVALIDATE_SECS", "0"),
        ("DATABASE_URL", url.as_str()),
    ];
    select(Example::Actix);
    let server = Server::start(0, &env);
    let mut c = Client::new(server.port);
    assert_eq!(c.login("user", "user123").status, 200);
    let conn = rusqlite::Connection::open(db.path().join("users.db")).unwrap();
    conn.execute_batch("DROP TABLE users").unwrap();
    let r = c.send("POST", "/logout", None);
    assert_eq!(r.status, 200);
    assert!(c.jar.0.is_empty(), "the cookie is removed");
}

// ---------------------------------------------------------------------------------------------
// nginx
// ---------------------------------------------------------------------------------------------

/// Debian's nginx binary, if installed.
fn nginx_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|p| p.is_file())
}

/// nginx, or `None` after printing why the test skips (outside CI; in CI it fails).
fn nginx_available() -> Option<PathBuf> {
    if let Some(bin) = nginx_binary() {
        return Some(bin);
    }
    let reason = "nginx is not installed (apt-get install nginx)";
    if in_ci() {
        panic!("the fleet test must run in CI, but {reason}");
    }
    say(&format!("SKIPPED fleet test: {reason}"));
    None
}

/// Writes a line to stderr past the test harness's capture, so that the closing figures (or
/// the reason for a skip) show in the log of a passing run.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// A free loopback TCP port (bound and released; good enough on a test machine).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The largest `Cookie` header value nginx accepts by default: `large_client_header_buffers
/// 4 8k` (stated in the configuration below) holds a header line, `Cookie: ` and the value and
/// CRLF, in one 8 KiB buffer; a longer one is refused with 400 "Request Header Or Cookie Too
/// Large" (494 in nginx's own log).
const NGINX_COOKIE_VALUE_LIMIT: usize = 8 * 1024 - "Cookie: ".len() - "\r\n".len();

/// nginx in the foreground (`daemon off`) with its own configuration, pid, logs and
/// temporary files in a temporary directory, listening on 127.0.0.1 only; its process group
/// is stopped when this drops.
struct Nginx {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Nginx {
    /// Round-robin over `upstreams`. A connection an instance refuses or resets (it is
    /// restarting) is retried on the next instance, POSTs included (`non_idempotent`): a
    /// request that never reached an instance can be sent to another. `max_fails=0`: an
    /// instance is tried again as soon as it is back, not after `fail_timeout`.
    fn start(bin: &Path, upstreams: &[u16]) -> Nginx {
        let dir = TempDir::new("fleet-nginx");
        let port = free_port();
        let d = dir.path().display();
        let user = if running_as_root() {
            // Workers otherwise switch to an unprivileged user who cannot use this directory.
            "user root;"
        } else {
            ""
        };
        let servers: String = upstreams
            .iter()
            .map(|p| format!("        server 127.0.0.1:{p} max_fails=0;\n"))
            .collect();
        let conf = format!(
            "{user}
daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    log_format fleet '$status $upstream_status $upstream_addr';
    access_log {d}/access.log fleet;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    # nginx's default, stated: a request line or header line over 8 KiB is refused.
    large_client_header_buffers 4 8k;
    upstream fleet {{
{servers}    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://fleet;
            proxy_next_upstream error timeout non_idempotent;
            proxy_connect_timeout 2s;
            proxy_read_timeout 15s;
        }}
    }}
}}
"
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("write nginx.conf");
        let mut cmd = Command::new(bin);
        // -e: the error log from the start, before the configuration is read (not /var/log).
        cmd.arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let child = cmd.spawn().expect("start nginx");
        let mut nginx = Nginx { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(status) = nginx.child.try_wait().ok().flatten() {
                panic!("nginx exited with {status}:\n{}", nginx.error_log());
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not listen within 10 s:\n{}",
                nginx.error_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        nginx
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// The access log's lines: `status upstream_statuses upstream_addresses`.
    fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // The negative pid names the group this child leads: master and worker.
        for signal in ["-TERM", "-KILL"] {
            if self.child.try_wait().ok().flatten().is_some() {
                break;
            }
            let _ = Command::new("kill")
                .args([signal, "--", &format!("-{}", self.child.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && self.child.try_wait().ok().flatten().is_none() {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// The load: clients with their own cookie jars, through the proxy
// ---------------------------------------------------------------------------------------------

/// Clients that log in as `admin` and read, write, log out and in again.
const CLIENTS: usize = 30;
/// Clients logged in as `user`, whose sessions the test revokes.
const VICTIMS: usize = 3;
/// Bounds on the load, whatever happens: requests per client and the whole run's time.
const MAX_REQUESTS_PER_CLIENT: u64 = 1000;
const LOAD_DEADLINE: Duration = Duration::from_secs(75);
/// `SESSION_REVALIDATE_SECS` of the fleet.
const REVALIDATE_SECS: u64 = 1;

/// What every client reports, counted by kind; each failure is also described.
#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    server_errors: AtomicU64,
    header_refusals: AtomicU64,
    transport_errors: AtomicU64,
    sessions_lost: AtomicU64,
    writes_lost: AtomicU64,
    unexpected: AtomicU64,
    largest_cookie_value: AtomicUsize,
    failures: Mutex<Vec<String>>,
}

impl Tally {
    fn fail(&self, kind: &AtomicU64, what: String) {
        kind.fetch_add(1, Ordering::Relaxed);
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() < 40 {
            failures.push(what);
        }
    }

    fn failed(&self) -> u64 {
        [
            &self.server_errors,
            &self.header_refusals,
            &self.transport_errors,
            &self.sessions_lost,
            &self.writes_lost,
            &self.unexpected,
        ]
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum()
    }
}

/// What the load's threads share.
struct Load {
    t0: Instant,
    proxy: u16,
    stop: AtomicBool,
    deadline: Instant,
    tally: Tally,
    /// Per load client: when (ms after `t0`) its last answered request was sent.
    last_sent: Vec<AtomicU64>,
    /// Per load client: its thread has ended.
    done: Vec<AtomicBool>,
    /// When (ms after `t0`) the logout everywhere was sent; `u64::MAX` before.
    revoked_at: AtomicU64,
}

impl Load {
    fn ms(&self) -> u64 {
        u64::try_from(self.t0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn running(&self) -> bool {
        !self.stop.load(Ordering::Relaxed) && Instant::now() < self.deadline
    }

    /// One request to `port`, counted; `None` (and the failure recorded) for a transport
    /// error, a 5xx or a refused header. Applies the response's cookies to `jar`.
    fn send(
        &self,
        who: &str,
        port: u16,
        jar: &mut Jar,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Option<(Reply, u64)> {
        let cookie = jar.header();
        self.tally
            .largest_cookie_value
            .fetch_max(cookie.len(), Ordering::Relaxed);
        let sent = self.ms();
        self.tally.requests.fetch_add(1, Ordering::Relaxed);
        let reply = match request(port, method, path, &cookie, body.as_ref()) {
            Ok(r) => r,
            Err(e) => {
                self.tally
                    .fail(&self.tally.transport_errors, format!("{who}: {e}"));
                return None;
            }
        };
        let what = || {
            format!(
                "{who}: {method} {path} at {sent} ms: {} {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            )
        };
        if reply.status >= 500 {
            self.tally.fail(&self.tally.server_errors, what());
            return None;
        }
        // 400 (nginx's "Request Header Or Cookie Too Large"), 431, and nginx's internal 494.
        if matches!(reply.status, 400 | 431 | 494) {
            self.tally.fail(&self.tally.header_refusals, what());
            return None;
        }
        jar.apply(&reply.cookies);
        Some((reply, sent))
    }
}

/// xorshift64*: a repeatable choice of actions and pauses per client.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// A load client: what its session must hold, tracked from its own responses.
struct LoadClient {
    id: usize,
    jar: Jar,
    /// The counter's last value in this session (0: none yet).
    count: u64,
    /// `loginCount` in this session (0: logged out).
    logins: u64,
}

impl LoadClient {
    fn name(&self) -> String {
        format!("client {}", self.id)
    }

    fn send(
        &mut self,
        load: &Load,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Option<Reply> {
        let name = self.name();
        let (reply, sent) = load.send(&name, load.proxy, &mut self.jar, method, path, body)?;
        load.last_sent[self.id].fetch_max(sent, Ordering::Relaxed);
        Some(reply)
    }

    fn unexpected(&self, load: &Load, what: &str, reply: &Reply) {
        let text = format!(
            "{}: {what}: {} {}",
            self.name(),
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
        load.tally.fail(&load.tally.unexpected, text);
    }

    fn login(&mut self, load: &Load) {
        let body = json!({ "username": "admin", "password": "admin123" });
        let Some(r) = self.send(load, "POST", "/login", Some(body)) else {
            return;
        };
        if r.status == 200 {
            // Login starts a fresh session and carries the counter over: it goes on.
            self.logins += 1;
        } else {
            self.unexpected(load, "POST /login", &r);
        }
    }

    fn logout(&mut self, load: &Load) {
        let Some(r) = self.send(load, "POST", "/logout", None) else {
            return;
        };
        if r.status == 200 && self.jar.0.is_empty() {
            self.count = 0;
            self.logins = 0;
        } else {
            self.unexpected(load, "POST /logout", &r);
        }
    }

    /// The session is gone (its cookie refused): counted, and the client starts over.
    fn lost_session(&mut self, load: &Load, what: String) {
        load.tally.fail(&load.tally.sessions_lost, what);
        self.count = 0;
        self.logins = 0;
    }

    fn counter(&mut self, load: &Load) {
        let Some(r) = self.send(load, "GET", "/counter", None) else {
            return;
        };
        let Some(n) = r.json()["count"].as_u64().filter(|_| r.status == 200) else {
            return self.unexpected(load, "GET /counter", &r);
        };
        if n == self.count + 1 {
            self.count = n;
        } else if n == 1 {
            let what = format!(
                "{}: the counter restarted, after {}",
                self.name(),
                self.count
            );
            self.lost_session(load, what);
            self.count = 1;
        } else {
            let what = format!("{}: counter {n}, expected {}", self.name(), self.count + 1);
            load.tally.fail(&load.tally.writes_lost, what);
            self.count = n;
        }
    }

    fn profile(&mut self, load: &Load) {
        let Some(r) = self.send(load, "GET", "/profile", None) else {
            return;
        };
        match r.status {
            401 if self.logins > 0 => {
                let what = format!(
                    "{}: /profile refused (logged in {}x)",
                    self.name(),
                    self.logins
                );
                self.lost_session(load, what);
            }
            200 => {
                let body = r.json();
                let logins = body["loginCount"].as_u64();
                if body["user"]["username"] != "admin" || logins != Some(self.logins) {
                    let what = format!(
                        "{}: /profile {body}, expected loginCount {}",
                        self.name(),
                        self.logins
                    );
                    load.tally.fail(&load.tally.writes_lost, what);
                }
            }
            _ => self.unexpected(load, "GET /profile", &r),
        }
    }

    /// Reads, writes, logs in again, and now and then logs out and in, until told to stop.
    fn run(&mut self, load: &Load) {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (self.id as u64 + 1));
        let mut sent = 0;
        while load.running() && sent < MAX_REQUESTS_PER_CLIENT {
            if self.logins == 0 {
                self.login(load);
            } else {
                match rng.below(100) {
                    0..=47 => self.counter(load),
                    48..=95 => self.profile(load),
                    96..=97 => self.login(load),
                    _ => self.logout(load),
                }
            }
            sent += 1;
            std::thread::sleep(Duration::from_millis(40 + rng.below(60)));
        }
    }
}

/// A client logged in as `user` that reads its profile through the proxy until it is
/// refused; returns when (ms after `t0`) it was first refused, if it was.
fn victim(load: &Load, id: usize, jar: &Mutex<Jar>) -> Option<u64> {
    let who = format!("victim {id}");
    let body = json!({ "username": "user", "password": "user123" });
    {
        let mut jar = jar.lock().unwrap();
        let (r, _) = load.send(&who, load.proxy, &mut jar, "POST", "/login", Some(body))?;
        assert_eq!(r.status, 200, "{who}: login");
    }
    while load.running() {
        let answered = {
            let mut jar = jar.lock().unwrap();
            load.send(&who, load.proxy, &mut jar, "GET", "/profile", None)
        };
        if let Some((r, sent)) = answered {
            match r.status {
                200 => {}
                401 if sent >= load.revoked_at.load(Ordering::SeqCst) => return Some(sent),
                401 => {
                    let what = format!("{who}: refused at {sent} ms, before the logout");
                    load.tally.fail(&load.tally.sessions_lost, what);
                    return None;
                }
                s => {
                    let what = format!("{who}: GET /profile: {s}");
                    load.tally.fail(&load.tally.unexpected, what);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

// ---------------------------------------------------------------------------------------------
// The fleet
// ---------------------------------------------------------------------------------------------

/// One instance's slot behind the proxy: its port and its framework stay across restarts.
struct Slot {
    example: Example,
    port: u16,
    server: Option<Server>,
}

fn instance_env<'a>(keys: &'a str, database_url: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("SESSION_KEYS", keys),
        ("DATABASE_URL", database_url),
        ("SESSION_SECURE", "0"),
        ("SESSION_REVALIDATE_SECS", "1"),
        ("RUST_LOG", "warn"),
    ]
}

impl Slot {
    fn start(example: Example, keys: &str, database_url: &str) -> Slot {
        select(example);
        let server = Server::start(0, &instance_env(keys, database_url));
        Slot {
            example,
            port: server.port,
            server: Some(server),
        }
    }

    /// A graceful restart on the same port with `keys`: SIGTERM, wait for the exit (requests
    /// in flight finish), start. Meanwhile nginx sends this instance's share to the others.
    fn restart(&mut self, keys: &str, database_url: &str) {
        if let Some(old) = self.server.take() {
            let status = old.terminate();
            assert!(status.success(), "graceful exit on SIGTERM: {status}");
        }
        select(self.example);
        self.server = Some(Server::start(self.port, &instance_env(keys, database_url)));
    }
}

/// Rolls `keys` out to every instance, one at a time, with a pause for traffic after each.
fn roll_out(slots: &mut [Slot], keys: &str, database_url: &str) {
    for slot in slots.iter_mut() {
        slot.restart(keys, database_url);
        std::thread::sleep(Duration::from_millis(700));
    }
}

#[test]
fn rolling_key_rotation_and_logout_everywhere_behind_nginx() {
    let Some(nginx_bin) = nginx_available() else {
        return;
    };
    let started = Instant::now();
    let db = TempDir::new("fleet-db");
    let url = db.database_url();
    let (a, b) = (key(0xA), key(0xB));
    let (ab, ba) = (format!("{a},{b}"), format!("{b},{a}"));

    // A mixed fleet: the two servers must read and write one format.
    let mut slots: Vec<Slot> = [Example::Actix, Example::Actix, Example::Axum]
        .into_iter()
        .map(|example| Slot::start(example, &a, &url))
        .collect();
    let ports: Vec<u16> = slots.iter().map(|s| s.port).collect();
    let nginx = Nginx::start(&nginx_bin, &ports);

    let load = Arc::new(Load {
        t0: Instant::now(),
        proxy: nginx.port,
        stop: AtomicBool::new(false),
        deadline: Instant::now() + LOAD_DEADLINE,
        tally: Tally::default(),
        last_sent: (0..CLIENTS).map(|_| AtomicU64::new(0)).collect(),
        done: (0..CLIENTS).map(|_| AtomicBool::new(false)).collect(),
        revoked_at: AtomicU64::new(u64::MAX),
    });
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            let load = load.clone();
            std::thread::spawn(move || {
                let mut client = LoadClient {
                    id,
                    jar: Jar::default(),
                    count: 0,
                    logins: 0,
                };
                client.run(&load);
                load.done[id].store(true, Ordering::SeqCst);
                client
            })
        })
        .collect();
    let victim_jars: Vec<Arc<Mutex<Jar>>> = (0..VICTIMS).map(|_| Arc::default()).collect();
    let victims: Vec<_> = victim_jars
        .iter()
        .enumerate()
        .map(|(id, jar)| {
            let (load, jar) = (load.clone(), jar.clone());
            std::thread::spawn(move || victim(&load, id, &jar))
        })
        .collect();
    // Every client logged in, and the load running, before the first restart.
    std::thread::sleep(Duration::from_millis(1500));

    // The README's rotation, one instance at a time. Stage 1, [A, B]: B opens cookies but
    // seals nothing, so no instance issues a cookie that a not-yet-restarted one cannot read.
    let rotation = Instant::now();
    roll_out(&mut slots, &ab, &url);

    // Logout everywhere for `user`, on one instance (the axum one), from a session of that
    // user logged in on another. Snapshots of the victims' cookies first, to ask every
    // instance directly whether it still accepts them.
    let revoker_port = slots[0].port;
    let mut revoker = Client::new(revoker_port);
    assert_eq!(revoker.login("user", "user123").status, 200);
    let snapshots: Vec<String> = victim_jars
        .iter()
        .map(|j| j.lock().unwrap().header())
        .collect();
    assert!(snapshots.iter().all(|s| !s.is_empty()), "victims logged in");
    revoker.port = slots[2].port;
    let revoked_at = load.ms();
    load.revoked_at.store(revoked_at, Ordering::SeqCst);
    let res = revoker.send("POST", "/logout-everywhere", None);
    assert_eq!(res.status, 200, "logout everywhere");
    // Until every instance refuses every snapshot (bounded: 10 s).
    let mut refused_at: Vec<Vec<Option<u64>>> = vec![vec![None; VICTIMS]; slots.len()];
    let probe_deadline = Instant::now() + Duration::from_secs(10);
    while refused_at.iter().flatten().any(Option::is_none) && Instant::now() < probe_deadline {
        for (i, slot) in slots.iter().enumerate() {
            for (v, snapshot) in snapshots.iter().enumerate() {
                if refused_at[i][v].is_some() {
                    continue;
                }
                let mut jar = Jar::default();
                jar.0.extend(snapshot.split("; ").filter_map(|p| {
                    p.split_once('=')
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                }));
                let who = format!("probe of victim {v} on instance {i}");
                if let Some((r, _)) = load.send(&who, slot.port, &mut jar, "GET", "/profile", None)
                {
                    match r.status {
                        401 => refused_at[i][v] = Some(load.ms()),
                        200 => {}
                        s => panic!("{who}: {s}"),
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let direct_delay = refused_at
        .iter()
        .flatten()
        .map(|t| t.map(|t| t - revoked_at))
        .collect::<Option<Vec<u64>>>()
        .and_then(|d| d.into_iter().max());
    // Once refused, refused everywhere for good.
    for (i, slot) in slots.iter().enumerate() {
        for snapshot in &snapshots {
            let r = request(slot.port, "GET", "/profile", snapshot, None).unwrap();
            assert_eq!(
                r.status, 401,
                "instance {i} still refuses the revoked session"
            );
        }
    }

    // Stage 2, [B, A]: B seals; a cookie under A is re-sealed under B on its next response.
    roll_out(&mut slots, &ba, &url);
    let stage_done = load.ms();
    // Before dropping A: every client must have made a request since every instance has
    // [B, A], so that its cookie was re-sealed under B. (A real fleet waits for the old key's
    // share of opens to fall to nothing, or one absolute session lifetime.)
    let wait_deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let behind: Vec<usize> = (0..CLIENTS)
            .filter(|&i| load.last_sent[i].load(Ordering::SeqCst) <= stage_done)
            .collect();
        if behind.is_empty() {
            break;
        }
        let ended: Vec<&usize> = behind
            .iter()
            .filter(|&&i| load.done[i].load(Ordering::SeqCst))
            .collect();
        assert!(
            ended.is_empty(),
            "clients {ended:?} stopped before their cookies were re-sealed under B"
        );
        assert!(
            Instant::now() < wait_deadline,
            "clients {behind:?} made no request since [B, A] in 15 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Stage 3, [B]: A is gone.
    roll_out(&mut slots, &b, &url);
    let rotation_secs = rotation.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(1000));
    load.stop.store(true, Ordering::SeqCst);

    let mut clients: Vec<LoadClient> = clients
        .into_iter()
        .map(|t| t.join().expect("load client"))
        .collect();
    let victim_refused: Vec<Option<u64>> = victims
        .into_iter()
        .map(|t| t.join().expect("victim"))
        .collect();
    // Every client's session survived the rotation: one last read and write under [B] only.
    for c in &mut clients {
        if c.logins == 0 {
            c.login(&load);
        }
        c.profile(&load);
        c.counter(&load);
    }

    let tally = &load.tally;
    let access = nginx.access_log();
    let proxied = access.lines().count();
    // An upstream status list like "502, 200": nginx moved the request to the next instance,
    // because the first one refused the connection (it was restarting) or reset it (its
    // listener closed with the connection still in the accept queue, never read).
    let retried = access.lines().filter(|l| l.contains(", ")).count();
    let errors = nginx.error_log();
    let refused = errors.matches("(111: Connection refused)").count();
    let reset = errors.matches("(104: Connection reset by peer)").count();
    let proxy_5xx: Vec<&str> = access
        .lines()
        .filter(|l| l.split(' ').next().is_some_and(|s| s.starts_with('5')))
        .collect();
    let victim_delay = victim_refused
        .iter()
        .map(|t| t.map(|t| t - revoked_at))
        .collect::<Option<Vec<u64>>>()
        .and_then(|d| d.into_iter().max());
    let delay = match (direct_delay, victim_delay) {
        (Some(direct), Some(proxied)) => Some(direct.max(proxied)),
        _ => None,
    };
    let requests = tally.requests.load(Ordering::Relaxed);
    let figure = |c: &AtomicU64| c.load(Ordering::Relaxed);
    say(&format!(
        "fleet: 3 instances (actix-web, actix-web, axum) behind nginx; keys [A] -> [A, B] -> \
         [B, A] -> [B] in {rotation_secs:.1} s (9 graceful restarts)"
    ));
    say(&format!(
        "fleet: requests {requests} ({proxied} through nginx, {retried} of them retried on \
         another instance: {refused} connections refused, {reset} reset), clients {CLIENTS} + \
         {VICTIMS} revoked, sessions lost {}, writes lost {}, 5xx {}, header refusals {}, \
         transport errors {}, unexpected {}",
        figure(&tally.sessions_lost),
        figure(&tally.writes_lost),
        figure(&tally.server_errors),
        figure(&tally.header_refusals),
        figure(&tally.transport_errors),
        figure(&tally.unexpected),
    ));
    say(&format!(
        "fleet: largest Cookie header value {} bytes (nginx's default refuses more than {})",
        tally.largest_cookie_value.load(Ordering::Relaxed),
        NGINX_COOKIE_VALUE_LIMIT
    ));
    let secs = |d: Option<u64>| d.map_or("never".into(), |d| format!("{:.2} s", d as f64 / 1000.0));
    say(&format!(
        "fleet: revocation delay {}: the revoked user's other sessions refused by every \
         instance (asked directly {}, through nginx {}; SESSION_REVALIDATE_SECS={REVALIDATE_SECS})",
        secs(delay),
        secs(direct_delay),
        secs(victim_delay),
    ));
    say(&format!(
        "fleet: {:.1} s in all",
        started.elapsed().as_secs_f64()
    ));

    let failures = tally.failures.lock().unwrap().join("\n");
    assert_eq!(tally.failed(), 0, "failures:\n{failures}");
    assert!(proxy_5xx.is_empty(), "nginx answered 5xx: {proxy_5xx:?}");
    assert!(
        tally.largest_cookie_value.load(Ordering::Relaxed) <= NGINX_COOKIE_VALUE_LIMIT,
        "a Cookie header passed nginx's limit"
    );
    let delay = delay.expect("every instance refuses the revoked sessions");
    // The check runs at most once per interval per session, timestamps are whole seconds:
    // a session last checked just before the logout is refused within the interval. The
    // extra second covers the probes' own pace and a loaded machine.
    assert!(
        delay <= (REVALIDATE_SECS + 1) * 1000,
        "revoked after {delay} ms, more than the interval of {REVALIDATE_SECS} s"
    );
    assert!(
        requests >= 1000,
        "the load ran: {requests} requests (bounded by {MAX_REQUESTS_PER_CLIENT} per client)"
    );
    drop(nginx);
    for slot in slots {
        drop(slot.server);
    }
}
