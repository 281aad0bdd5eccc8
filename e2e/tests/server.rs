//! End-to-end tests of the demo servers' HTTP contract: the real binaries
//! (`demo/src/bin/server.rs` on actix-web and `demo/src/bin/axum_server.rs` on axum), each
//! started on a free loopback port and driven over HTTP/1.1 with a minimal `TcpStream` client.
//! Every test runs against both.

#[path = "../../tests/support/cookies.rs"]
mod cookies;
#[path = "support/server.rs"]
mod server;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

use cookies::{Jar, SetCookie};
use sealed_session::Secret;
use server::{run_to_exit, select, Server};

fn key(n: u8) -> String {
    Secret::from_bytes(&[n; 32]).unwrap().to_base64()
}

/// Starts the server on a free port with fixed keys `[key(1)]`, `SESSION_SECURE=0` and `env`
/// on top.
fn start(env: &[(&str, &str)]) -> Server {
    let k = key(1);
    let mut all = vec![("SESSION_KEYS", k.as_str()), ("SESSION_SECURE", "0")];
    all.extend_from_slice(env);
    Server::start(0, &all)
}

impl Server {
    fn client(&self) -> Client {
        Client {
            port: self.port,
            jar: Jar::default(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn set_cookies(&self) -> Vec<SetCookie> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| SetCookie::parse(v))
            .collect()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }
}

fn decode_chunked(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size");
        let size_text = std::str::from_utf8(&data[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// One request on a fresh connection (`Connection: close`), read to EOF.
fn http(port: u16, method: &str, path: &str, cookie: &str, body: Option<&Value>) -> Response {
    http_to(
        port,
        &format!("127.0.0.1:{port}"),
        method,
        path,
        cookie,
        body,
    )
}

/// [`http`] with the `Host` header naming `host` (the connection is still to 127.0.0.1).
fn http_to(
    port: u16,
    host: &str,
    method: &str,
    path: &str,
    cookie: &str,
    body: Option<&Value>,
) -> Response {
    http_with(port, host, method, path, cookie, &[], body)
}

/// [`http_to`] with `headers` added to the request.
fn http_with(
    port: u16,
    host: &str,
    method: &str,
    path: &str,
    cookie: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if !cookie.is_empty() {
        req.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut res = Response {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    };
    if res
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        res.body = decode_chunked(&res.body);
    }
    res
}

/// A client with a cookie jar, like a browser tab.
struct Client {
    port: u16,
    jar: Jar,
}

impl Client {
    fn send(&mut self, method: &str, path: &str, body: Option<Value>) -> Response {
        self.send_with(method, path, &[], body)
    }
    /// [`send`](Client::send) with `headers` added to the request.
    fn send_with(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Response {
        let host = format!("127.0.0.1:{}", self.port);
        let res = http_with(
            self.port,
            &host,
            method,
            path,
            &self.jar.header(),
            headers,
            body.as_ref(),
        );
        self.jar.apply(&res.set_cookies());
        res
    }
    /// [`send`](Client::send) with `token` as the `X-CSRF-Token` header.
    fn send_token(
        &mut self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Response {
        self.send_with(method, path, &[("X-CSRF-Token", token)], body)
    }
    /// A CSRF token of this client's session (`GET /csrf`).
    fn csrf(&mut self) -> String {
        let res = self.get("/csrf");
        assert_eq!(res.status, 200, "GET /csrf");
        let token = res.json()["csrfToken"]
            .as_str()
            .expect("csrfToken")
            .to_string();
        assert_eq!(token.len(), 86, "{token}");
        token
    }
    /// Logs in through a server that checks CSRF tokens: a token first, then the login.
    fn login_with_token(&mut self, username: &str, password: &str) -> Response {
        let token = self.csrf();
        self.send_token(
            "POST",
            "/login",
            &token,
            Some(json!({ "username": username, "password": password })),
        )
    }
    fn get(&mut self, path: &str) -> Response {
        self.send("GET", path, None)
    }
    fn post(&mut self, path: &str, body: Option<Value>) -> Response {
        self.send("POST", path, body)
    }
    fn login(&mut self, username: &str, password: &str) -> Response {
        self.post(
            "/login",
            Some(json!({ "username": username, "password": password })),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Cookies of a real actix-session 0.11 app, for the demo's importer
// ---------------------------------------------------------------------------------------------

/// The 64 bytes an actix-session app gave `Key::from`: `n`, `n + 1`, … (wrapping).
fn actix_master(n: u8) -> Vec<u8> {
    (0..64u8).map(|i| i.wrapping_add(n)).collect()
}

/// `actix_master(n)` as `SESSION_IMPORT_ACTIX_KEY` takes it: standard base64.
fn actix_import_key(n: u8) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(actix_master(n))
}

/// What the old actix-session app stored at login.
#[derive(Clone)]
struct OldLogin {
    user_id: u64,
    username: &'static str,
    role: &'static str,
    permissions: &'static [&'static str],
    login_count: u64,
}

/// The demo's `admin` (id 1 in the demo's user store), as the old app stored them.
const OLD_ADMIN: OldLogin = OldLogin {
    user_id: 1,
    username: "admin",
    role: "admin",
    permissions: &["read", "write", "delete"],
    login_count: 7,
};

/// The old app's `POST /login`: the five values, each with its own type.
async fn old_login(
    session: actix_session::Session,
    who: actix_web::web::Data<OldLogin>,
) -> actix_web::Result<actix_web::HttpResponse> {
    session.insert("userId", who.user_id)?;
    session.insert("username", who.username)?;
    session.insert("role", who.role)?;
    session.insert("permissions", who.permissions)?;
    session.insert("loginCount", who.login_count)?;
    Ok(actix_web::HttpResponse::Ok().finish())
}

/// The `id=<value>` cookie (exactly as its `Set-Cookie` carries it) that an actix-session 0.11
/// app (`CookieSessionStore`, private: its defaults) with the key `actix_master(key)` writes
/// when `who` logs in.
fn actix_session_cookie(key: u8, who: &OldLogin) -> String {
    use actix_session::storage::CookieSessionStore;
    use actix_session::SessionMiddleware;
    use actix_web::cookie::Key;
    use actix_web::http::header::SET_COOKIE;
    use actix_web::{test as actix_test, web, App};

    let who = who.clone();
    actix_web::rt::System::new().block_on(async move {
        let app = actix_test::init_service(
            App::new()
                .wrap(SessionMiddleware::new(
                    CookieSessionStore::default(),
                    Key::from(&actix_master(key)),
                ))
                .app_data(web::Data::new(who))
                .route("/login", web::post().to(old_login)),
        )
        .await;
        let res = actix_test::call_service(
            &app,
            actix_test::TestRequest::post().uri("/login").to_request(),
        )
        .await;
        assert!(res.status().is_success(), "{}", res.status());
        let set: Vec<_> = res.headers().get_all(SET_COOKIE).collect();
        assert_eq!(set.len(), 1, "{set:?}");
        let pair = set[0]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        assert!(
            pair.starts_with("id="),
            "actix-session's default name: {pair}"
        );
        pair
    })
}

/// `cookie` (`id=<value>`) with one letter or digit of its value, in the middle, changed.
fn tampered(cookie: &str) -> String {
    let mut bytes = cookie.as_bytes().to_vec();
    let middle = bytes.len() / 2;
    let at = (middle..bytes.len())
        .find(|&i| bytes[i].is_ascii_alphanumeric())
        .expect("a letter or digit");
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

/// The `id` cookie's removal among a response's `Set-Cookie`s, if it has one.
fn id_removal(res: &Response) -> Option<SetCookie> {
    res.set_cookies()
        .into_iter()
        .find(|c| c.name == "id" && c.is_removal())
}

/// The exact body of a request the CSRF check refuses.
const CSRF_REFUSED: &str = r#"{"error":"CSRF check failed"}"#;

/// Asserts that `res` is the CSRF check's refusal: 403, that exact body, and no cookie set.
fn assert_csrf_refused(res: &Response, what: &str) {
    assert_eq!(
        res.status,
        403,
        "{what}: {:?}",
        String::from_utf8_lossy(&res.body)
    );
    assert_eq!(String::from_utf8_lossy(&res.body), CSRF_REFUSED, "{what}");
    assert!(
        res.set_cookies().iter().all(|c| c.name.ends_with(".t")),
        "{what}: a refused request writes no session: {:?}",
        res.set_cookies()
    );
}

// ---------------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------------

/// The contract tests; instantiated below once per example server.
macro_rules! contract {
    () => {
        use super::*;

#[test]
fn counter_increments_across_requests() {
    select(EXAMPLE);
    let server = start(&[]);
    let mut c = server.client();
    for n in 1..=3 {
        let res = c.get("/counter");
        assert_eq!(res.status, 200);
        assert_eq!(res.json(), json!({ "count": n }));
        assert_eq!(res.set_cookies().len(), 1);
    }
    // Another client starts from scratch.
    let mut other = server.client();
    assert_eq!(other.get("/counter").json(), json!({ "count": 1 }));
    // The first client's session was not affected by the second one.
    assert_eq!(c.get("/counter").json(), json!({ "count": 4 }));
}

#[test]
fn login_profile_and_admin() {
    select(EXAMPLE);
    let server = start(&[]);
    let mut c = server.client();

    assert_eq!(c.get("/profile").status, 401);
    assert_eq!(c.get("/admin/dashboard").status, 401);

    // Bad credentials: 401 and the session is not touched.
    let res = c.login("user", "wrong");
    assert_eq!(res.status, 401);
    assert!(res.set_cookies().is_empty(), "{:?}", res.headers);
    assert!(c.jar.0.is_empty());

    let res = c.login("user", "user123");
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["user"]["role"], "user");
    assert_eq!(res.set_cookies().len(), 1);

    let res = c.get("/profile");
    assert_eq!(res.status, 200);
    let body = res.json();
    assert_eq!(body["user"]["username"], "user");
    assert_eq!(body["user"]["role"], "user");
    assert_eq!(body["loginCount"], 1);
    assert!(res.set_cookies().is_empty(), "reading sends no cookie");

    let res = c.get("/admin/dashboard");
    assert_eq!(res.status, 403);

    // A failed login while logged in leaves the session alone.
    let res = c.login("admin", "nope");
    assert_eq!(res.status, 401);
    assert!(res.set_cookies().is_empty());
    assert_eq!(c.get("/profile").json()["user"]["username"], "user");

    // Logging in as admin in the same session.
    let res = c.login("admin", "admin123");
    assert_eq!(res.status, 200);
    let res = c.get("/admin/dashboard");
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["user"]["role"], "admin");
    let body = c.get("/profile").json();
    assert_eq!(body["loginCount"], 2);
    assert_eq!(
        body["user"]["permissions"],
        json!(["read", "write", "delete"])
    );
}

#[test]
fn session_data_returns_null_for_unset() {
    select(EXAMPLE);
    let server = start(&[]);
    let mut c = server.client();
    let res = c.send("PUT", "/session-data", Some(json!({ "theme": "dark" })));
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), json!({ "theme": "dark", "language": null }));
    let res = c.send("PUT", "/session-data", Some(json!({ "language": "fr" })));
    assert_eq!(res.json(), json!({ "theme": "dark", "language": "fr" }));
    let res = c.send("PUT", "/session-data", Some(json!({})));
    assert_eq!(res.json(), json!({ "theme": "dark", "language": "fr" }));
    assert!(res.set_cookies().is_empty(), "nothing changed");
}

#[test]
fn session_info_and_refresh() {
    select(EXAMPLE);
    let server = start(&[
        ("SESSION_IDLE_SECS", "600"),
        ("SESSION_ABSOLUTE_SECS", "3600"),
    ]);
    let mut c = server.client();
    assert_eq!(c.get("/session-info").status, 401);

    c.login("user", "user123");
    let res = c.get("/session-info");
    assert_eq!(res.status, 200);
    let body = res.json();
    let created = body["createdAt"].as_u64().expect("createdAt");
    let idle = body["idleExpiresAt"].as_u64().expect("idleExpiresAt");
    let absolute = body["absoluteExpiresAt"]
        .as_u64()
        .expect("absoluteExpiresAt");
    assert!(created < idle && idle <= absolute, "{body}");
    assert_eq!(idle - created, 600);
    assert_eq!(absolute - created, 3600);

    let res = c.post("/refresh-session", None);
    assert_eq!(res.status, 200);
    let refreshed = res.json()["idleExpiresAt"].as_u64().expect("idleExpiresAt");
    assert!(refreshed >= idle && refreshed <= absolute);
    let cookies = res.set_cookies();
    assert_eq!(cookies.len(), 1, "touch re-sends the cookie");
    assert!(!cookies[0].is_removal());
    assert_eq!(c.get("/profile").status, 200);
}

#[test]
fn logout_removes_the_cookie() {
    select(EXAMPLE);
    let server = start(&[]);
    let mut c = server.client();
    c.login("admin", "admin123");
    assert_eq!(c.get("/profile").status, 200);
    let res = c.post("/logout", None);
    assert_eq!(res.status, 200);
    let cookies = res.set_cookies();
    assert!(!cookies.is_empty());
    assert!(
        cookies
            .iter()
            .all(|c| c.is_removal() && c.name == "session"),
        "{cookies:?}"
    );
    assert!(c.jar.0.is_empty());
    assert_eq!(c.get("/profile").status, 401);
}

#[test]
fn blob_store_read_delete_and_too_large() {
    select(EXAMPLE);
    let server = start(&[]);
    let mut c = server.client();
    let res = c.post("/blob?size=100", None);
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), json!({ "size": 100 }));
    assert_eq!(c.get("/blob").json(), json!({ "size": 100 }));

    // Too large for one cookie: 500 with the numbers, and no Set-Cookie at all.
    let res = c.post("/blob?size=5000", None);
    assert_eq!(res.status, 500);
    assert!(res.set_cookies().is_empty(), "{:?}", res.headers);
    let body = res.json();
    let size = body["size"].as_u64().expect("size");
    let limit = body["limit"].as_u64().expect("limit");
    assert_eq!(limit, 4096);
    assert!(size > limit, "{body}");
    // The client kept its last good session.
    assert_eq!(c.get("/blob").json(), json!({ "size": 100 }));

    let res = c.send("DELETE", "/blob", None);
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), json!({ "size": 0 }));
    assert_eq!(c.get("/blob").json(), json!({ "size": 0 }));
}

#[test]
fn chunked_blob_spans_cookies_and_shrinks() {
    select(EXAMPLE);
    let server = start(&[("SESSION_MAX_COOKIES", "3")]);
    let mut c = server.client();
    let res = c.post("/blob?size=6000", None);
    assert_eq!(res.status, 200);
    let cookies = res.set_cookies();
    assert!(cookies.len() >= 2, "{cookies:?}");
    for k in &cookies {
        assert!(!k.is_removal());
        assert!(
            k.name == "session" || k.name.starts_with("session."),
            "{}",
            k.name
        );
        assert!(k.name.len() + k.value.len() <= 4096, "{}", k.name);
    }
    let n = cookies.len();
    assert_eq!(c.get("/blob").json(), json!({ "size": 6000 }));
    let stats = c.get("/cookie-stats").json();
    assert_eq!(stats["cookies"], n);

    // Any order.
    let mut pairs: Vec<String> = c.jar.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.reverse();
    let res = http(server.port, "GET", "/blob", &pairs.join("; "), None);
    assert_eq!(res.json(), json!({ "size": 6000 }));

    // Shrinking removes the stale chunks.
    let res = c.post("/blob?size=100", None);
    assert_eq!(res.status, 200);
    let cookies = res.set_cookies();
    let live: Vec<_> = cookies.iter().filter(|k| !k.is_removal()).collect();
    assert_eq!(live.len(), 1, "{cookies:?}");
    assert_eq!(live[0].name, "session");
    for i in 1..n {
        let name = format!("session.{i}");
        assert!(
            cookies.iter().any(|k| k.name == name && k.is_removal()),
            "{name} not removed: {cookies:?}"
        );
    }
    assert_eq!(c.jar.0.len(), 1);
    assert_eq!(c.get("/blob").json(), json!({ "size": 100 }));
    assert_eq!(c.get("/cookie-stats").json()["cookies"], 1);
}

#[test]
fn secure_by_default_and_off_with_zero() {
    select(EXAMPLE);
    let k = key(1);
    let server = Server::start(0, &[("SESSION_KEYS", &k)]);
    let res = server.client().get("/counter");
    let cookies = res.set_cookies();
    assert_eq!(cookies.len(), 1);
    assert!(cookies[0].has_attr("Secure"), "{}", cookies[0].raw);
    assert!(cookies[0].has_attr("HttpOnly"), "{}", cookies[0].raw);
    assert!(
        cookies[0].raw.contains("SameSite=Lax"),
        "{}",
        cookies[0].raw
    );
    assert!(cookies[0].raw.contains("Path=/"), "{}", cookies[0].raw);
    drop(server);

    let server = start(&[]); // SESSION_SECURE=0
    let res = server.client().get("/counter");
    let cookies = res.set_cookies();
    assert_eq!(cookies.len(), 1);
    assert!(!cookies[0].has_attr("Secure"), "{}", cookies[0].raw);
    assert!(cookies[0].has_attr("HttpOnly"), "{}", cookies[0].raw);
}

#[test]
fn garbage_cookie_is_a_new_session_and_removed() {
    select(EXAMPLE);
    let server = start(&[]);
    let res = http(server.port, "GET", "/blob", "session=garbage", None);
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), json!({ "size": 0 }));
    let cookies = res.set_cookies();
    assert!(
        cookies
            .iter()
            .any(|c| c.name == "session" && c.is_removal()),
        "{cookies:?}"
    );
    let res = http(server.port, "GET", "/profile", "session=AAAA.BBBB", None);
    assert_eq!(res.status, 401);
    assert!(res.set_cookies().iter().all(SetCookie::is_removal));
}

#[test]
fn invalid_keys_exit_non_zero_with_a_message() {
    select(EXAMPLE);
    for bad in ["not base64 at all!", "c2hvcnQ=", ","] {
        let (status, stderr) = run_to_exit(&[("SESSION_KEYS", bad)]);
        assert!(!status.success(), "{bad:?}: {status}");
        assert!(stderr.contains("SESSION_KEYS"), "{bad:?}: {stderr}");
    }
}

#[test]
fn unset_keys_warn_on_stderr() {
    select(EXAMPLE);
    let server = Server::start(0, &[("SESSION_SECURE", "0")]);
    let stderr = server.wait_for_stderr("SESSION_KEYS");
    assert!(stderr.contains("warning"), "{stderr}");
    assert!(stderr.contains("SESSION_KEYS"), "{stderr}");
    // It still serves, with a random key.
    assert_eq!(
        server.client().get("/counter").json(),
        json!({ "count": 1 })
    );
}

#[test]
fn restart_with_rotated_keys_keeps_the_session() {
    select(EXAMPLE);
    let (a, b) = (key(0xA), key(0xB));
    let ba = format!("{b},{a}");

    let server = Server::start(0, &[("SESSION_KEYS", &a), ("SESSION_SECURE", "0")]);
    let mut c = server.client();
    assert_eq!(c.login("user", "user123").status, 200);
    let cookie_a = c.jar.header();
    drop(server);

    // [B, A]: the session opens and is re-sealed under B on a read-only request.
    let server = Server::start(0, &[("SESSION_KEYS", &ba), ("SESSION_SECURE", "0")]);
    c.port = server.port;
    let res = c.get("/profile");
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["user"]["username"], "user");
    let cookies = res.set_cookies();
    assert_eq!(cookies.len(), 1, "re-sealed under the new primary");
    assert!(!cookies[0].is_removal());
    assert_ne!(c.jar.header(), cookie_a);
    drop(server);

    // [B]: the re-sealed session still opens; A's original cookie does not.
    let server = Server::start(0, &[("SESSION_KEYS", &b), ("SESSION_SECURE", "0")]);
    c.port = server.port;
    let res = c.get("/profile");
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["loginCount"], 1);
    assert!(res.set_cookies().is_empty());
    let res = http(server.port, "GET", "/profile", &cookie_a, None);
    assert_eq!(res.status, 401);
    // An unknown key is not deleted (another instance may already hold it); the
    // cookie is simply no session, and the next write replaces it.
    assert!(res.set_cookies().is_empty(), "{:?}", res.headers);
}

#[test]
fn bad_requests_and_wrong_methods_answer_alike() {
    select(EXAMPLE);
    let server = start(&[]);
    // No JSON body (and no JSON content type): 400 with actix-web's plain-text reason.
    let res = http(server.port, "POST", "/login", "", None);
    assert_eq!(res.status, 400);
    assert!(res.set_cookies().is_empty());
    // A body that is JSON but not credentials.
    let res = http(server.port, "POST", "/login", "", Some(&json!({ "user": 1 })));
    assert_eq!(res.status, 400);
    assert!(String::from_utf8_lossy(&res.body).starts_with("Json deserialize error: "));
    // A query that is not a size.
    let res = http(server.port, "POST", "/blob?size=lots", "", None);
    assert_eq!(res.status, 400);
    assert!(String::from_utf8_lossy(&res.body).starts_with("Query deserialize error: "));
    // A known path with another method, and an unknown path: 404 (not 405).
    assert_eq!(http(server.port, "GET", "/login", "", None).status, 404);
    assert_eq!(http(server.port, "GET", "/no-such-route", "", None).status, 404);
}

#[test]
fn metrics_show_the_opens_per_key() {
    select(EXAMPLE);
    let (a, b) = (key(0xA), key(0xB));
    let server = Server::start(0, &[("SESSION_KEYS", &a), ("SESSION_SECURE", "0")]);
    let mut c = server.client();
    assert_eq!(c.login("user", "user123").status, 200);
    let cookie_a = c.jar.header();
    drop(server);

    // Rotated to [B, A]: the old cookie opens under the fallback key, twice; garbage is
    // counted by reason.
    let ba = format!("{b},{a}");
    let server = Server::start(0, &[("SESSION_KEYS", &ba), ("SESSION_SECURE", "0")]);
    for _ in 0..2 {
        assert_eq!(http(server.port, "GET", "/profile", &cookie_a, None).status, 200);
    }
    http(server.port, "GET", "/counter", "session=AQkAAAAA", None);
    let res = http(server.port, "GET", "/metrics", "", None);
    assert_eq!(res.status, 200);
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(res.set_cookies().is_empty());
    let text = String::from_utf8(res.body).unwrap();
    let ring = sealed_session::Keyring::from_base64_list(&ba).unwrap();
    let alg = sealed_session::Algorithm::default();
    let old_id = ring.key_ids(alg)[1];
    let line = format!(
        "sealed_session_opens_by_key_total{{algorithm=\"{}\",key_id=\"{old_id}\",primary=\"false\"}} 2",
        alg.name()
    );
    assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    assert!(
        text.lines().any(|l| l
            == "sealed_session_opens_total{outcome=\"rejected\",reason=\"unknown_algorithm\"} 1"),
        "{text}"
    );
    assert!(text.contains("sealed_session_sealed_bytes_bucket{le=\"4096\"}"), "{text}");
}

// Remember-me, and logout everywhere through revalidation.

#[test]
fn remember_false_gives_browser_session_cookies_now_and_on_every_refresh() {
    select(EXAMPLE);
    // refresh_share is 0.25 of a 8 s idle timeout: a read after 2 s refreshes.
    let server = start(&[("SESSION_IDLE_SECS", "8")]);
    let mut c = server.client();
    let res = c.post(
        "/login",
        Some(json!({ "username": "user", "password": "user123", "remember": false })),
    );
    assert_eq!(res.status, 200);
    let no_expiry = |res: &Response| {
        let cookies = res.set_cookies();
        assert!(!cookies.is_empty());
        for cookie in cookies.iter().filter(|c| !c.is_removal()) {
            assert!(
                !cookie.has_attr("Max-Age") && !cookie.has_attr("Expires"),
                "{}",
                cookie.raw
            );
        }
    };
    no_expiry(&res);
    no_expiry(&c.post("/refresh-session", None)); // a touch re-seals
    no_expiry(&c.get("/counter")); // a write re-seals
    std::thread::sleep(Duration::from_millis(2100));
    let res = c.get("/profile"); // an idle refresh re-seals
    assert_eq!(res.status, 200);
    no_expiry(&res);

    // Absent (or true): persistent, as before.
    let mut d = server.client();
    let res = d.login("user", "user123");
    let cookie = &res.set_cookies()[0];
    assert!(cookie.max_age().is_some_and(|m| m > 0), "{}", cookie.raw);
    let res = d.post(
        "/login",
        Some(json!({ "username": "user", "password": "user123", "remember": true })),
    );
    assert!(res.set_cookies()[0].max_age().is_some_and(|m| m > 0));
}

#[test]
fn logout_everywhere_revokes_the_other_clients_sessions() {
    select(EXAMPLE);
    let server = start(&[("SESSION_REVALIDATE_SECS", "0")]);
    let (mut a, mut b, mut other) = (server.client(), server.client(), server.client());
    assert_eq!(
        b.post("/logout-everywhere", None).status,
        401,
        "not logged in"
    );
    assert_eq!(a.login("user", "user123").status, 200);
    assert_eq!(b.login("user", "user123").status, 200);
    assert_eq!(other.login("admin", "admin123").status, 200);
    let res = b.post("/logout-everywhere", None);
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), json!({ "message": "Logged out everywhere" }));
    assert!(res.set_cookies().iter().all(SetCookie::is_removal));
    assert!(b.jar.0.is_empty(), "this client's session is removed");
    // The other client of the same user is revoked (interval 0: on its next request).
    let res = a.get("/profile");
    assert_eq!(res.status, 401);
    assert!(res.set_cookies().iter().all(SetCookie::is_removal));
    // Another user is untouched; a new login of the same user works.
    assert_eq!(other.get("/profile").status, 200);
    assert_eq!(a.login("user", "user123").status, 200);
    assert_eq!(a.get("/profile").status, 200);
}

#[test]
fn revocation_waits_for_the_revalidation_interval() {
    select(EXAMPLE);
    let server = start(&[("SESSION_REVALIDATE_SECS", "2")]);
    let (mut a, mut b) = (server.client(), server.client());
    assert_eq!(a.login("user", "user123").status, 200);
    assert_eq!(b.login("user", "user123").status, 200);
    assert_eq!(b.post("/logout-everywhere", None).status, 200);
    // Checked at login, so not due yet: still in.
    assert_eq!(a.get("/profile").status, 200);
    std::thread::sleep(Duration::from_millis(3100));
    assert_eq!(a.get("/profile").status, 401);
}

#[test]
fn secure_by_default_the_cookie_is_host_only_and_named_host() {
    select(EXAMPLE);
    // SESSION_SECURE unset: the default, on.
    let k = key(1);
    let server = Server::start(0, &[("SESSION_KEYS", k.as_str())]);
    let mut c = server.client();
    let res = c.login("user", "user123");
    assert_eq!(res.status, 200);
    let cookies = res.set_cookies();
    let session = cookies.iter().find(|c| !c.is_removal()).expect("a session cookie");
    assert_eq!(session.name, "__Host-session", "{cookies:?}");
    assert!(session.has_attr("Secure") && !session.has_attr("Domain"), "{cookies:?}");
    assert_eq!(session.attr("Path"), Some(Some("/")));
    // Plain HTTP for a test, or a name the operator chose: as asked.
    let server = start(&[]);
    let res = server.client().login("user", "user123");
    assert_eq!(res.set_cookies()[0].name, "session");
    let server = start(&[("SESSION_COOKIE_NAME", "sid")]);
    let res = server.client().login("user", "user123");
    assert_eq!(res.set_cookies()[0].name, "sid");
}

#[test]
fn a_secure_cookie_over_plain_http_to_a_host_name_is_warned_about_once() {
    select(EXAMPLE);
    // SESSION_SECURE unset: Secure cookies.
    let k = key(1);
    let server = Server::start(0, &[("SESSION_KEYS", k.as_str())]);
    let login = json!({ "username": "user", "password": "user123" });
    // Browsers treat http://localhost as secure: nothing to say.
    let r = http_to(server.port, "localhost", "POST", "/login", "", Some(&login));
    assert_eq!(r.status, 200);
    // A real host name over plain HTTP: the browser will drop the cookie.
    for _ in 0..2 {
        let r = http_to(server.port, "app.test", "POST", "/login", "", Some(&login));
        assert_eq!(r.status, 200);
    }
    let log = server.wait_for_stderr("over plain HTTP");
    assert!(log.contains("app.test") && log.contains("SESSION_SECURE=0"), "{log}");
    assert_eq!(log.matches("over plain HTTP").count(), 1, "said once: {log}");
    assert!(!log.contains("to localhost"), "{log}");
}

#[test]
fn login_starts_a_fresh_session_carrying_over_only_what_the_demo_keeps() {
    select(EXAMPLE);
    let server = start(&[]);
    let mut c = server.client();
    // Before login: a counter, preferences, and a value nobody should carry over (a blob,
    // standing for anything planted in the session before the user authenticated).
    c.get("/counter");
    let prefs = json!({ "theme": "dark", "language": "fr" });
    assert_eq!(c.send("PUT", "/session-data", Some(prefs)).status, 200);
    assert_eq!(c.post("/blob?size=16", None).status, 200);
    let before = c.jar.header();
    assert_eq!(c.login("user", "user123").status, 200);
    assert_ne!(c.jar.header(), before, "a new cookie");
    assert_eq!(c.get("/blob").json(), json!({ "size": 0 }), "not carried over");
    assert_eq!(c.get("/counter").json(), json!({ "count": 2 }));
    let prefs = c.send("PUT", "/session-data", Some(json!({})));
    assert_eq!(prefs.json(), json!({ "theme": "dark", "language": "fr" }));
    assert_eq!(c.get("/profile").json()["loginCount"], 1);
}

/// Two requests in flight from one browser state: a read-only request due for an idle
/// refresh, and a write (or a logout). Whichever response the browser applies last, the
/// write stands.
fn both_orders(server: &Server, jar: &Jar, read: (&str, &str), write: (&str, &str)) -> [Jar; 2] {
    let r = http(server.port, read.0, read.1, &jar.header(), None);
    let w = http(server.port, write.0, write.1, &jar.header(), None);
    assert_eq!(r.status / 100, 2, "{:?}", r.headers);
    assert!(
        r.set_cookies().iter().all(|c| c.name.ends_with(".t")),
        "the refresh sends only a stamp: {:?}",
        r.set_cookies()
    );
    let (mut read_last, mut write_last) = (jar.clone(), jar.clone());
    write_last.apply(&r.set_cookies());
    write_last.apply(&w.set_cookies());
    read_last.apply(&w.set_cookies());
    read_last.apply(&r.set_cookies());
    [read_last, write_last]
}

#[test]
fn an_idle_refresh_never_undoes_a_concurrent_write() {
    select(EXAMPLE);
    // The refresh share is a quarter of the idle timeout: 2 s.
    let server = start(&[("SESSION_IDLE_SECS", "8")]);
    let mut c = server.client();
    c.get("/counter");
    assert_eq!(c.get("/counter").json(), json!({ "count": 2 }));
    std::thread::sleep(Duration::from_millis(2100));
    for jar in both_orders(&server, &c.jar, ("GET", "/blob"), ("GET", "/counter")) {
        let mut after = server.client();
        after.jar = jar;
        assert_eq!(after.get("/counter").json(), json!({ "count": 4 }));
    }
}

#[test]
fn an_idle_refresh_never_undoes_a_concurrent_logout() {
    select(EXAMPLE);
    let server = start(&[("SESSION_IDLE_SECS", "8")]);
    let mut c = server.client();
    assert_eq!(c.login("user", "user123").status, 200);
    std::thread::sleep(Duration::from_millis(2100));
    for jar in both_orders(&server, &c.jar, ("GET", "/profile"), ("POST", "/logout")) {
        let mut after = server.client();
        after.jar = jar;
        assert_eq!(after.get("/profile").status, 401, "logged out stays out");
    }
}

// Flash messages.

#[test]
fn a_login_queues_a_welcome_flash_that_is_shown_once() {
    select(EXAMPLE);
    let server = start(&[]);
    let mut c = server.client();
    // No session: nothing queued, and no session created to say so.
    let res = c.get("/flash");
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), json!({ "messages": [] }));
    assert!(res.set_cookies().is_empty(), "{:?}", res.headers);
    // A failed login queues nothing.
    assert_eq!(c.login("admin", "wrong").status, 401);
    assert_eq!(c.get("/flash").json(), json!({ "messages": [] }));

    assert_eq!(c.login("admin", "admin123").status, 200);
    // Reading other entries does not consume it.
    assert_eq!(c.get("/profile").status, 200);
    let res = c.get("/flash");
    assert_eq!(res.status, 200);
    assert_eq!(
        res.json(),
        json!({ "messages": [{ "level": "success", "text": "Welcome, admin" }] })
    );
    assert_eq!(res.set_cookies().len(), 1, "taking the flashes re-seals");
    let res = c.get("/flash");
    assert_eq!(res.json(), json!({ "messages": [] }), "shown once");
    assert!(res.set_cookies().is_empty());
    // Still logged in, and a second login queues a second welcome.
    assert_eq!(c.get("/profile").json()["user"]["username"], "admin");
    assert_eq!(c.login("user", "user123").status, 200);
    assert_eq!(
        c.get("/flash").json(),
        json!({ "messages": [{ "level": "success", "text": "Welcome, user" }] })
    );
}

// CSRF tokens, and SESSION_CSRF=1.

#[test]
fn the_csrf_route_creates_a_session_and_returns_a_fresh_token_each_time() {
    select(EXAMPLE);
    let server = start(&[("SESSION_CSRF", "1")]);
    let mut c = server.client();
    let res = c.get("/csrf");
    assert_eq!(res.status, 200);
    let body = res.json();
    let first = body["csrfToken"].as_str().expect("csrfToken").to_string();
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    assert_eq!(first.len(), 86, "{first}");
    let cookies = res.set_cookies();
    assert_eq!(cookies.len(), 1, "a new session holds the secret: {cookies:?}");
    assert!(cookies[0].name == "session" && !cookies[0].is_removal());
    // Another call: another string for the same secret, and no new cookie.
    let res = c.get("/csrf");
    let second = res.json()["csrfToken"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    assert!(res.set_cookies().is_empty(), "{:?}", res.set_cookies());
    // Both are this session's tokens.
    for token in [&first, &second] {
        let res = c.send_token("POST", "/blob?size=8", token, None);
        assert_eq!(res.status, 200, "{:?}", String::from_utf8_lossy(&res.body));
    }
}

#[test]
fn with_csrf_unsafe_requests_without_a_token_are_refused_and_change_nothing() {
    select(EXAMPLE);
    let server = start(&[("SESSION_CSRF", "1")]);
    let mut c = server.client();
    // Even the login needs one.
    let login = json!({ "username": "admin", "password": "admin123" });
    let res = c.post("/login", Some(login.clone()));
    assert_csrf_refused(&res, "POST /login without a token");
    assert!(c.jar.0.is_empty());
    let res = c.login_with_token("admin", "admin123");
    assert_eq!(res.status, 200);
    let token = c.csrf();
    assert_eq!(c.send_token("POST", "/blob?size=100", &token, None).status, 200);
    let prefs = json!({ "theme": "dark" });
    assert_eq!(
        c.send_token("PUT", "/session-data", &token, Some(prefs)).status,
        200
    );
    let before = c.jar.header();

    // Without a token, or with one that is not a token: refused, nothing changed.
    let fake = "A".repeat(86);
    for bad in [None, Some(""), Some("not-a-token"), Some(fake.as_str())] {
        let headers: Vec<(&str, &str)> = bad.map(|t| ("X-CSRF-Token", t)).into_iter().collect();
        let what = |r: &str| format!("{r} with token {bad:?}");
        let res = c.send_with("POST", "/blob?size=5", &headers, None);
        assert_csrf_refused(&res, &what("POST /blob"));
        let light = json!({ "theme": "light", "language": "de" });
        let res = c.send_with("PUT", "/session-data", &headers, Some(light));
        assert_csrf_refused(&res, &what("PUT /session-data"));
        let res = c.send_with("DELETE", "/blob", &headers, None);
        assert_csrf_refused(&res, &what("DELETE /blob"));
        let res = c.send_with("POST", "/logout", &headers, None);
        assert_csrf_refused(&res, &what("POST /logout"));
        let res = c.send_with("POST", "/refresh-session", &headers, None);
        assert_csrf_refused(&res, &what("POST /refresh-session"));
    }
    assert_eq!(c.jar.header(), before, "the cookies are as they were");
    assert_eq!(c.get("/blob").json(), json!({ "size": 100 }));
    assert_eq!(c.get("/profile").json()["user"]["username"], "admin");
    let res = c.send_token("PUT", "/session-data", &token, Some(json!({})));
    assert_eq!(res.json(), json!({ "theme": "dark", "language": null }));

    // With the token: every one of them works.
    let res = c.send_token("DELETE", "/blob", &token, None);
    assert_eq!((res.status, res.json()), (200, json!({ "size": 0 })));
    assert_eq!(c.send_token("POST", "/refresh-session", &token, None).status, 200);
    let res = c.send_token("POST", "/logout", &token, None);
    assert_eq!(res.status, 200);
    assert_eq!(c.get("/profile").status, 401);
    // Safe methods never need one.
    assert_eq!(c.get("/counter").status, 200);
}

#[test]
fn with_csrf_another_sessions_token_is_refused() {
    select(EXAMPLE);
    let server = start(&[("SESSION_CSRF", "1")]);
    let (mut a, mut b) = (server.client(), server.client());
    assert_eq!(a.login_with_token("user", "user123").status, 200);
    assert_eq!(b.login_with_token("admin", "admin123").status, 200);
    let token_a = a.csrf();
    let token_b = b.csrf();
    let res = a.send_token("POST", "/blob?size=10", &token_b, None);
    assert_csrf_refused(&res, "POST /blob with another session's token");
    let res = a.send_token("POST", "/logout", &token_b, None);
    assert_csrf_refused(&res, "POST /logout with another session's token");
    assert_eq!(a.get("/blob").json(), json!({ "size": 0 }));
    assert_eq!(a.get("/profile").json()["user"]["username"], "user");
    // A client with no session at all, and someone's token.
    let mut stranger = server.client();
    let res = stranger.send_token("POST", "/blob?size=10", &token_a, None);
    assert_csrf_refused(&res, "POST /blob without a session");
    assert!(stranger.jar.0.is_empty());
    // Each token works in its own session.
    assert_eq!(a.send_token("POST", "/blob?size=10", &token_a, None).status, 200);
    assert_eq!(b.send_token("POST", "/blob?size=20", &token_b, None).status, 200);
    assert_eq!(a.get("/blob").json(), json!({ "size": 10 }));
}

#[test]
fn with_csrf_a_token_from_before_the_login_is_refused_after_it() {
    select(EXAMPLE);
    let server = start(&[("SESSION_CSRF", "1")]);
    let mut c = server.client();
    let before = c.csrf();
    let login = json!({ "username": "user", "password": "user123" });
    assert_eq!(c.send_token("POST", "/login", &before, Some(login)).status, 200);
    let res = c.send_token("POST", "/blob?size=10", &before, None);
    assert_csrf_refused(&res, "a pre-login token after the login");
    let res = c.send_token("POST", "/logout", &before, None);
    assert_csrf_refused(&res, "a pre-login token after the login");
    assert_eq!(c.get("/profile").json()["user"]["username"], "user");
    assert_eq!(c.get("/blob").json(), json!({ "size": 0 }));
    // A token of the logged-in session works.
    let after = c.csrf();
    assert_eq!(c.send_token("POST", "/blob?size=10", &after, None).status, 200);
    // And a logout ends that one too.
    assert_eq!(c.send_token("POST", "/logout", &after, None).status, 200);
    let res = c.send_token("POST", "/blob?size=10", &after, None);
    assert_csrf_refused(&res, "a token of a session that logged out");
}

#[test]
fn with_csrf_other_origins_and_cross_site_requests_are_refused_even_with_a_token() {
    select(EXAMPLE);
    let server = start(&[("SESSION_CSRF", "1")]);
    let mut c = server.client();
    assert_eq!(c.login_with_token("user", "user123").status, 200);
    let token = c.csrf();
    let own = format!("http://127.0.0.1:{}", server.port);
    let refused: [&[(&str, &str)]; 5] = [
        &[("Origin", "http://evil.example")],
        &[("Origin", "http://127.0.0.1:1")],
        &[("Origin", "null")],
        &[("Sec-Fetch-Site", "cross-site")],
        &[("Sec-Fetch-Site", "cross-site"), ("Origin", &own)],
    ];
    for extra in refused {
        let mut headers = vec![("X-CSRF-Token", token.as_str())];
        headers.extend_from_slice(extra);
        for (method, path) in [("POST", "/blob?size=10"), ("DELETE", "/blob"), ("POST", "/logout")] {
            let res = c.send_with(method, path, &headers, None);
            assert_csrf_refused(&res, &format!("{method} {path} with {extra:?}"));
        }
        let res = c.send_with("PUT", "/session-data", &headers, Some(json!({ "theme": "x" })));
        assert_csrf_refused(&res, &format!("PUT /session-data with {extra:?}"));
    }
    assert_eq!(c.get("/profile").json()["user"]["username"], "user");
    assert_eq!(c.get("/blob").json(), json!({ "size": 0 }));
    // The page's own origin, and a same-origin fetch, pass with the token.
    let headers = [
        ("X-CSRF-Token", token.as_str()),
        ("Origin", own.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    assert_eq!(c.send_with("POST", "/blob?size=10", &headers, None).status, 200);
    assert_eq!(c.get("/blob").json(), json!({ "size": 10 }));
}

#[test]
fn without_session_csrf_unsafe_routes_need_no_token() {
    select(EXAMPLE);
    for env in [&[][..], &[("SESSION_CSRF", "0")][..]] {
        let server = start(env);
        let mut c = server.client();
        assert_eq!(c.login("admin", "admin123").status, 200, "{env:?}");
        assert_eq!(c.post("/blob?size=10", None).status, 200);
        let prefs = json!({ "theme": "dark" });
        assert_eq!(c.send("PUT", "/session-data", Some(prefs)).status, 200);
        assert_eq!(c.send("DELETE", "/blob", None).status, 200);
        assert_eq!(c.post("/refresh-session", None).status, 200);
        // Nor are other origins refused: nothing changes for the existing routes.
        let headers = [("Origin", "http://evil.example"), ("Sec-Fetch-Site", "cross-site")];
        assert_eq!(c.send_with("POST", "/blob?size=3", &headers, None).status, 200);
        assert_eq!(c.get("/blob").json(), json!({ "size": 3 }));
        // A token is handed out all the same, and sending one is harmless.
        let token = c.csrf();
        assert_eq!(c.send_token("POST", "/logout", &token, None).status, 200);
        assert_eq!(c.get("/profile").status, 401);
    }
}

// Partitioned cookies.

#[test]
fn partitioned_every_session_cookie_carries_partitioned() {
    select(EXAMPLE);
    let k = key(1);
    // Secure by default, so `__Host-session`; two cookies, the most a partition allows.
    let server = Server::start(
        0,
        &[
            ("SESSION_KEYS", k.as_str()),
            ("SESSION_PARTITIONED", "1"),
            ("SESSION_MAX_COOKIES", "2"),
            ("SESSION_IDLE_SECS", "8"),
        ],
    );
    let mut c = server.client();
    let mut seen = Vec::new();
    let mut record = |res: &Response| {
        assert_eq!(res.status, 200, "{:?}", String::from_utf8_lossy(&res.body));
        seen.extend(res.set_cookies());
    };
    record(&c.login("user", "user123"));
    // Two chunks, then one: a chunk's removal.
    let res = c.post("/blob?size=4000", None);
    assert!(res.set_cookies().len() >= 2, "{:?}", res.set_cookies());
    record(&res);
    record(&c.post("/blob?size=10", None));
    // An idle refresh (a quarter of 8 s): a refresh stamp.
    std::thread::sleep(Duration::from_millis(2100));
    let res = c.get("/profile");
    assert!(
        res.set_cookies().iter().any(|c| c.name.ends_with(".t")),
        "{:?}",
        res.set_cookies()
    );
    record(&res);
    record(&c.post("/logout", None));

    let names = |removal: bool| -> Vec<&str> {
        seen.iter()
            .filter(|c| c.is_removal() == removal)
            .map(|c| c.name.as_str())
            .collect()
    };
    let (values, removals) = (names(false), names(true));
    assert!(values.contains(&"__Host-session") && values.contains(&"__Host-session.1"), "{values:?}");
    assert!(values.contains(&"__Host-session.t"), "{values:?}");
    assert!(removals.contains(&"__Host-session.1") && removals.contains(&"__Host-session"), "{removals:?}");
    for cookie in &seen {
        assert!(cookie.has_attr("Partitioned"), "{}", cookie.raw);
        assert!(cookie.has_attr("Secure"), "{}", cookie.raw);
    }

    // Without SESSION_PARTITIONED (or with 0): no cookie carries it.
    for env in [&[][..], &[("SESSION_PARTITIONED", "0")][..]] {
        let mut all = vec![("SESSION_KEYS", k.as_str())];
        all.extend_from_slice(env);
        let server = Server::start(0, &all);
        let res = server.client().login("user", "user123");
        let cookies = res.set_cookies();
        assert!(!cookies.is_empty());
        assert!(cookies.iter().all(|c| !c.has_attr("Partitioned")), "{cookies:?}");
    }
}

#[test]
fn partitioned_without_secure_refuses_to_start_and_says_why() {
    select(EXAMPLE);
    let k = key(1);
    let (status, stderr) = run_to_exit(&[
        ("SESSION_KEYS", &k),
        ("SESSION_PARTITIONED", "1"),
        ("SESSION_SECURE", "0"),
    ]);
    assert!(!status.success(), "{status}");
    assert!(stderr.contains("error: SESSION_PARTITIONED"), "{stderr}");
    assert!(stderr.contains("Secure"), "{stderr}");
    // More cookies than a partition keeps: refused too.
    let (status, stderr) = run_to_exit(&[
        ("SESSION_KEYS", &k),
        ("SESSION_PARTITIONED", "1"),
        ("SESSION_MAX_COOKIES", "3"),
    ]);
    assert!(!status.success(), "{status}");
    assert!(stderr.contains("SESSION_PARTITIONED"), "{stderr}");
    // A value that is not a flag.
    let (status, stderr) = run_to_exit(&[("SESSION_KEYS", &k), ("SESSION_PARTITIONED", "maybe")]);
    assert!(!status.success() && stderr.contains("SESSION_PARTITIONED"), "{stderr}");
}

// Importing the sessions of an actix-session app (SESSION_IMPORT_ACTIX_KEY).

#[test]
fn an_actix_session_login_is_imported_as_that_user_and_its_cookie_removed() {
    select(EXAMPLE);
    let import_key = actix_import_key(1);
    // Revalidation on every request: the imported session must be as valid as a login's.
    let server = start(&[
        ("SESSION_IMPORT_ACTIX_KEY", &import_key),
        ("SESSION_REVALIDATE_SECS", "0"),
    ]);
    // What /profile gives after a normal login of the same user; then that login logs out
    // everywhere, so admin's session generation is no longer the initial one (an imported
    // session must carry the current one to pass revalidation).
    let mut fresh = server.client();
    assert_eq!(fresh.login("admin", "admin123").status, 200);
    let expected_user = fresh.get("/profile").json()["user"].clone();
    assert_eq!(expected_user["username"], "admin");
    assert_eq!(fresh.post("/logout-everywhere", None).status, 200);

    let old = actix_session_cookie(1, &OLD_ADMIN);
    let res = http(server.port, "GET", "/profile", &old, None);
    assert_eq!(res.status, 200, "{:?}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json(), json!({ "user": expected_user, "loginCount": 7 }));
    let cookies = res.set_cookies();
    let ours: Vec<_> = cookies.iter().filter(|c| c.name == "session").collect();
    assert!(
        ours.len() == 1 && !ours[0].is_removal(),
        "our session is set: {cookies:?}"
    );
    let removal = id_removal(&res).unwrap_or_else(|| panic!("id is removed: {cookies:?}"));
    assert_eq!(removal.attr("Path"), Some(Some("/")), "{}", removal.raw);

    // The browser now holds only our cookie, which goes on serving the user.
    let mut c = server.client();
    c.jar.apply(&cookies);
    assert_eq!(c.jar.0.keys().collect::<Vec<_>>(), ["session"]);
    let res = c.get("/profile");
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), json!({ "user": expected_user, "loginCount": 7 }));
    assert!(id_removal(&res).is_none());
    assert_eq!(c.get("/admin/dashboard").status, 200);
    assert!(c.get("/session-info").json()["createdAt"].is_u64());
    // The old cookie alongside ours is not read again, and removed.
    let both = format!("{}; {old}", c.jar.header());
    let res = http(server.port, "GET", "/profile", &both, None);
    assert_eq!(res.json()["loginCount"], 7);
    assert!(id_removal(&res).is_some(), "{:?}", res.set_cookies());

    // As valid as a login: logging out everywhere revokes it.
    assert_eq!(fresh.login("admin", "admin123").status, 200);
    assert_eq!(fresh.post("/logout-everywhere", None).status, 200);
    assert_eq!(c.get("/profile").status, 401);
}

#[test]
fn an_actix_session_cookie_for_a_user_the_store_does_not_have_imports_nothing() {
    select(EXAMPLE);
    let import_key = actix_import_key(1);
    let server = start(&[("SESSION_IMPORT_ACTIX_KEY", &import_key)]);
    let ghost = OldLogin {
        user_id: 99,
        username: "ghost",
        ..OLD_ADMIN
    };
    // Another user's name under admin's id.
    let impostor = OldLogin {
        username: "user",
        ..OLD_ADMIN
    };
    for who in [ghost, impostor] {
        let old = actix_session_cookie(1, &who);
        let res = http(server.port, "GET", "/profile", &old, None);
        assert_eq!(res.status, 401, "{}", who.username);
        assert!(id_removal(&res).is_some(), "{:?}", res.set_cookies());
        assert!(
            res.set_cookies().iter().all(|c| c.name == "id"),
            "no session of ours: {:?}",
            res.set_cookies()
        );
    }
}

#[test]
fn a_tampered_actix_session_cookie_is_ignored_and_removed() {
    select(EXAMPLE);
    let import_key = actix_import_key(1);
    let server = start(&[("SESSION_IMPORT_ACTIX_KEY", &import_key)]);
    let old = actix_session_cookie(1, &OLD_ADMIN);
    let bad = tampered(&old);
    assert_ne!(bad, old);
    let res = http(server.port, "GET", "/profile", &bad, None);
    assert_eq!(res.status, 401, "{:?}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json(), json!({ "error": "Authentication required" }));
    assert!(id_removal(&res).is_some(), "{:?}", res.set_cookies());
    assert!(res.set_cookies().iter().all(|c| c.name == "id"));
    // The untampered one imports (the control).
    assert_eq!(http(server.port, "GET", "/profile", &old, None).status, 200);
}

#[test]
fn an_actix_session_cookie_of_another_key_is_ignored_and_removed() {
    select(EXAMPLE);
    let import_key = actix_import_key(1);
    let server = start(&[("SESSION_IMPORT_ACTIX_KEY", &import_key)]);
    let foreign = actix_session_cookie(2, &OLD_ADMIN);
    let res = http(server.port, "GET", "/profile", &foreign, None);
    assert_eq!(res.status, 401);
    assert!(id_removal(&res).is_some(), "{:?}", res.set_cookies());
    assert!(res.set_cookies().iter().all(|c| c.name == "id"));
}

#[test]
fn without_the_import_key_an_actix_session_cookie_is_ignored_and_kept() {
    select(EXAMPLE);
    let server = start(&[]);
    let old = actix_session_cookie(1, &OLD_ADMIN);
    let res = http(server.port, "GET", "/profile", &old, None);
    assert_eq!(res.status, 401);
    assert!(res.set_cookies().is_empty(), "{:?}", res.set_cookies());
    // Also beside a session of ours.
    let mut c = server.client();
    assert_eq!(c.login("user", "user123").status, 200);
    let both = format!("{}; {old}", c.jar.header());
    let res = http(server.port, "GET", "/profile", &both, None);
    assert_eq!(res.json()["user"]["username"], "user");
    assert!(res.set_cookies().iter().all(|c| c.name != "id"), "{:?}", res.set_cookies());
}

#[test]
fn an_invalid_import_key_refuses_to_start() {
    select(EXAMPLE);
    let short = actix_import_key(1)[..40].to_string();
    for bad in ["not base64 at all!", "c2hvcnQ=", short.as_str()] {
        let (status, stderr) = run_to_exit(&[("SESSION_IMPORT_ACTIX_KEY", bad)]);
        assert!(!status.success(), "{bad:?}: {status}");
        assert!(stderr.contains("error: SESSION_IMPORT_ACTIX_KEY"), "{bad:?}: {stderr}");
    }
}

    };
}

/// `demo/src/bin/server.rs`, on actix-web.
mod actix {
    const EXAMPLE: crate::server::Example = crate::server::Example::Actix;
    contract!();
}

/// `demo/src/bin/axum_server.rs`, on axum: the same contract.
mod axum {
    const EXAMPLE: crate::server::Example = crate::server::Example::Axum;
    contract!();
}
