//! End-to-end tests in a real headless Chromium (Debian's `chromium` and `chromium-driver`),
//! driven over WebDriver, against the demo server (`demo/src/bin/server.rs`) and its demo page.
//!
//! In CI (`CI=true`) these tests fail when the browser cannot start; elsewhere they skip with
//! a printed reason when `/usr/bin/chromium` or `/usr/bin/chromedriver` is missing. They use
//! the binary `target/debug/server`, which the harness builds when it is missing or stale.
//!
//! The tests run one at a time (each starts its own chromedriver, Chromium and server).
//! `BROWSER_SCREENSHOTS=<dir>` saves a screenshot of the demo page holding a 6000-byte blob.

#[path = "support/browser.rs"]
mod browser;

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use browser::cookie_jar::{self, Cookie};
use browser::{Browser, RawServer, Server};
/// The most bytes of name plus value a browser keeps in one cookie (RFC 6265bis).
const MAX_COOKIE_BYTES: usize = 4096;

/// 33 bytes of `A` and of `B`, base64 (no padding, same in every alphabet).
const KEY_A: &str = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB";
const KEY_B: &str = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC";
const COOKIE: &str = "session";

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs one browser test: serialised, on its own runtime, within a time limit. Returns without
/// running `body` when the browser is missing outside CI.
fn run<F, Fut>(name: &str, body: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = ()>,
{
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !browser::browser_available() {
        return;
    }
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let b = Browser::start()
            .await
            .unwrap_or_else(|e| panic!("the browser did not start: {e}"));
        let client = b.client.clone();
        match tokio::time::timeout(Duration::from_secs(45), body(b)).await {
            Ok(()) => {}
            Err(_) => panic!("{name}: took longer than 45 s"),
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    });
    eprintln!("{name}: {:.1} s", started.elapsed().as_secs_f64());
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The example server on `port` (plain http: `SESSION_SECURE=0`) with `env` on top.
fn server(port: u16, env: &[(&str, &str)]) -> Server {
    let mut all = vec![("SESSION_SECURE", "0")];
    all.extend_from_slice(env);
    Server::start(port, &all)
}

async fn session_cookies(b: &Browser) -> Vec<Cookie> {
    cookie_jar::session(&b.cookies().await, COOKIE)
}

/// The page script must never see a session cookie.
async fn assert_no_session_in_document_cookie(b: &Browser) {
    let dc = b.document_cookie().await;
    let visible: Vec<&str> = dc
        .split(';')
        .filter_map(|kv| kv.trim().split('=').next())
        .filter(|n| cookie_jar::is_session_name(n, COOKIE))
        .collect();
    assert!(
        visible.is_empty(),
        "document.cookie shows session cookies {visible:?}: {dc:?}"
    );
}

/// Every session cookie in the browser is HttpOnly and within the per-cookie limit.
fn assert_cookie_shape(cookies: &[Cookie]) {
    for c in cookies {
        assert!(c.http_only, "cookie {} is not HttpOnly", c.name);
        assert!(
            c.size() <= MAX_COOKIE_BYTES,
            "cookie {} has {} bytes of name and value",
            c.name,
            c.size()
        );
    }
}

/// `#stats` after the page's last refresh: (cookies, bytes) the browser sent.
async fn page_stats(b: &Browser) -> (usize, usize) {
    (
        b.data("stats", "cookies").await.parse().unwrap(),
        b.data("stats", "bytes").await.parse().unwrap(),
    )
}

async fn fetch_stats(b: &Browser) -> (usize, usize) {
    let (st, j) = b.fetch("GET", "/cookie-stats").await;
    assert_eq!(st, 200, "GET /cookie-stats: {j}");
    (
        j["cookies"].as_u64().expect("cookies") as usize,
        j["bytes"].as_u64().expect("bytes") as usize,
    )
}

async fn fetch_blob_size(b: &Browser) -> u64 {
    let (st, j) = b.fetch("GET", "/blob").await;
    assert_eq!(st, 200, "GET /blob: {j}");
    j["size"].as_u64().expect("size")
}

async fn store_blob(b: &Browser, n: usize) {
    b.type_into("blob-size", &n.to_string()).await;
    b.click("blob-store").await;
    let status = b.text("status").await;
    assert_eq!(
        status,
        format!("Stored {n} bytes."),
        "storing {n} bytes through the page"
    );
}

async fn login_admin(b: &Browser) {
    b.click("login-admin").await;
    assert_eq!(
        b.data("profile", "user").await,
        "admin",
        "profile after logging in: {}",
        b.text("status").await
    );
}

/// Check 1: log in through the page; the profile and the counter survive reloads.
#[test]
fn login_and_counter_survive_reload() {
    run("login_and_counter_survive_reload", |b| async move {
        let port = browser::free_port();
        let srv = server(port, &[("SESSION_KEYS", KEY_A)]);
        b.open_demo(&srv.base()).await;
        assert_eq!(
            b.data("profile", "user").await,
            "",
            "fresh browser is logged out"
        );
        assert!(b.text("profile").await.contains("Not logged in"));

        login_admin(&b).await;
        let profile = b.text("profile").await;
        assert!(
            profile.contains("admin"),
            "profile shows the user: {profile}"
        );

        for want in 1..=3 {
            b.click("counter-btn").await;
            assert_eq!(b.text("counter").await, want.to_string());
        }

        // Session times are shown, human-readable, and consistent with now.
        let created: u64 = b.data("session-info", "created").await.parse().unwrap();
        let idle: u64 = b.data("session-info", "idle").await.parse().unwrap();
        let absolute: u64 = b.data("session-info", "absolute").await.parse().unwrap();
        let now = now_secs();
        assert!(
            created <= now + 2 && created + 60 >= now,
            "createdAt {created}, now {now}"
        );
        assert!(
            idle > now && absolute > now,
            "expiry in the future: {idle} {absolute}"
        );
        assert!(b.text("idle-expires").await.contains("(in "));

        b.reload_demo().await;
        assert_eq!(
            b.data("profile", "user").await,
            "admin",
            "profile after reload"
        );
        assert!(b.text("profile").await.contains("admin"));
        b.click("counter-btn").await;
        assert_eq!(b.text("counter").await, "4", "counter after reload");

        b.reload_demo().await;
        b.click("counter-btn").await;
        assert_eq!(
            b.text("counter").await,
            "5",
            "counter after a second reload"
        );
        assert_eq!(b.data("profile", "user").await, "admin");
        assert_cookie_shape(&session_cookies(&b).await);
        assert_no_session_in_document_cookie(&b).await;
        srv.stop();
    });
}

/// Check 2: with three cookies allowed, 6000 bytes spread over several cookies, read back
/// after a reload; shrinking the session removes the extra cookies from the browser.
#[test]
fn large_session_spans_cookies_and_shrinks_back() {
    run(
        "large_session_spans_cookies_and_shrinks_back",
        |b| async move {
            let port = browser::free_port();
            let srv = server(
                port,
                &[("SESSION_KEYS", KEY_A), ("SESSION_MAX_COOKIES", "3")],
            );
            b.open_demo(&srv.base()).await;
            login_admin(&b).await;
            let before = session_cookies(&b).await;
            assert_eq!(before.len(), 1, "a small session is one cookie: {before:?}");

            store_blob(&b, 6000).await;
            let held = session_cookies(&b).await;
            assert!(
                held.len() >= 2,
                "6000 bytes need several cookies, browser holds {held:?}"
            );
            assert_cookie_shape(&held);
            let names: Vec<&str> = held.iter().map(|c| c.name.as_str()).collect();
            let expected: Vec<String> = (0..held.len())
                .map(|i| {
                    if i == 0 {
                        COOKIE.to_string()
                    } else {
                        format!("{COOKIE}.{i}")
                    }
                })
                .collect();
            assert_eq!(names, expected, "chunk names");
            let (k, bytes) = page_stats(&b).await;
            assert_eq!(k, held.len(), "cookies the page's requests carried");
            assert_eq!(bytes, held.iter().map(Cookie::size).sum::<usize>());
            assert_eq!(b.data("blob", "size").await, "6000");
            if let Some(dir) = std::env::var_os("BROWSER_SCREENSHOTS") {
                b.screenshot(&std::path::Path::new(&dir).join("demo-6000-bytes.png"))
                    .await;
            }

            b.reload_demo().await;
            assert_eq!(
                b.data("blob", "size").await,
                "6000",
                "blob size after reload"
            );
            assert_eq!(fetch_blob_size(&b).await, 6000, "GET /blob after reload");
            assert_eq!(b.data("profile", "user").await, "admin");

            store_blob(&b, 100).await;
            let held = session_cookies(&b).await;
            let names: Vec<&str> = held.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(names, [COOKIE], "the extra cookies are gone");
            assert_eq!(page_stats(&b).await.0, 1);
            b.reload_demo().await;
            assert_eq!(fetch_blob_size(&b).await, 100);
            assert_eq!(b.data("profile", "user").await, "admin");
            srv.stop();
        },
    );
}

/// Check 3: logging out leaves no session cookie; the page's script never sees one.
#[test]
fn logout_removes_every_session_cookie() {
    run("logout_removes_every_session_cookie", |b| async move {
        let port = browser::free_port();
        let srv = server(
            port,
            &[("SESSION_KEYS", KEY_A), ("SESSION_MAX_COOKIES", "3")],
        );
        b.open_demo(&srv.base()).await;
        assert_no_session_in_document_cookie(&b).await;
        login_admin(&b).await;
        assert_no_session_in_document_cookie(&b).await;
        store_blob(&b, 6000).await;
        assert!(session_cookies(&b).await.len() >= 2);
        assert_no_session_in_document_cookie(&b).await;
        b.click("counter-btn").await;
        assert_no_session_in_document_cookie(&b).await;

        b.click("logout").await;
        assert_eq!(b.text("status").await, "Logged out.");
        let left = session_cookies(&b).await;
        assert!(
            left.is_empty(),
            "session cookies left after logout: {left:?}"
        );
        assert_eq!(b.data("profile", "user").await, "");
        assert_eq!(page_stats(&b).await, (0, 0));
        assert_no_session_in_document_cookie(&b).await;

        b.reload_demo().await;
        let (st, j) = b.fetch("GET", "/profile").await;
        assert_eq!(st, 401, "GET /profile after logout: {j}");
        assert!(session_cookies(&b).await.is_empty());
        assert_no_session_in_document_cookie(&b).await;
        srv.stop();
    });
}

/// Check 4: key rotation across server restarts: a session sealed under `[A]` survives
/// `[B, A]` and then `[B]` (it is resealed under B while both keys are known).
#[test]
fn session_survives_key_rotation_restarts() {
    run("session_survives_key_rotation_restarts", |b| async move {
        let port = browser::free_port();
        let keys_ba = format!("{KEY_B},{KEY_A}");

        let srv = server(port, &[("SESSION_KEYS", KEY_A)]);
        b.open_demo(&srv.base()).await;
        login_admin(&b).await;
        b.click("counter-btn").await;
        b.click("counter-btn").await;
        assert_eq!(b.text("counter").await, "2");
        let under_a = session_cookies(&b).await;
        srv.stop();

        let srv = server(port, &[("SESSION_KEYS", &keys_ba)]);
        b.reload_demo().await;
        assert_eq!(
            b.data("profile", "user").await,
            "admin",
            "logged in under [B, A]"
        );
        b.click("counter-btn").await;
        assert_eq!(b.text("counter").await, "3", "counter under [B, A]");
        let under_ba = session_cookies(&b).await;
        assert_ne!(
            under_a[0].value, under_ba[0].value,
            "the session was resealed after a write"
        );
        srv.stop();

        let srv = server(port, &[("SESSION_KEYS", KEY_B)]);
        b.reload_demo().await;
        assert_eq!(
            b.data("profile", "user").await,
            "admin",
            "logged in under [B]"
        );
        b.click("counter-btn").await;
        assert_eq!(b.text("counter").await, "4", "counter under [B]");
        srv.stop();

        // Control: the session is now sealed under B, which a server knowing only A rejects.
        let srv = server(port, &[("SESSION_KEYS", KEY_A)]);
        b.reload_demo().await;
        assert_eq!(
            b.data("profile", "user").await,
            "",
            "[A] alone cannot open it"
        );
        srv.stop();
    });
}

/// Check 5a: Chromium keeps a cookie of exactly `MAX_COOKIE_BYTES` of name and value, and
/// drops one of a byte more (which is why the crate checks that limit).
#[test]
fn chromium_keeps_4096_byte_cookies_and_drops_4097() {
    run(
        "chromium_keeps_4096_byte_cookies_and_drops_4097",
        |b| async move {
            let fit = "x".repeat(MAX_COOKIE_BYTES - "fit".len());
            let over = "y".repeat(MAX_COOKIE_BYTES + 1 - "over".len());
            let (fit2, over2) = (fit.clone(), over.clone());
            let raw = RawServer::start(std::sync::Arc::new(
                move |_method, path, cookie| match path {
                    "/set" => (
                        200,
                        vec![
                            // The attributes the crate sends; they do not count towards the limit.
                            format!(
                            "Set-Cookie: fit={fit2}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600"
                        ),
                            format!(
                            "Set-Cookie: over={over2}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600"
                        ),
                            "Set-Cookie: small=1; Path=/; Max-Age=600".to_string(),
                        ],
                        "<!doctype html><title>set</title><p id=done>set</p>".to_string(),
                    ),
                    "/echo" => {
                        let sizes: Vec<String> = cookie
                            .split("; ")
                            .filter(|kv| !kv.is_empty())
                            .map(|kv| {
                                let (n, v) = kv.split_once('=').unwrap_or((kv, ""));
                                format!("{n}:{}", n.len() + v.len())
                            })
                            .collect();
                        (
                            200,
                            vec![],
                            format!(
                                "<!doctype html><title>echo</title><pre id=echo>{}</pre>",
                                sizes.join(",")
                            ),
                        )
                    }
                    _ => (404, vec![], "not found".to_string()),
                },
            ));
            let base = format!("http://127.0.0.1:{}", raw.port);

            b.goto(&format!("{base}/set")).await;
            let jar = b.cookies().await;
            let names: Vec<&str> = jar.iter().map(|c| c.name.as_str()).collect();
            let kept = jar.iter().find(|c| c.name == "fit");
            let kept =
                kept.unwrap_or_else(|| panic!("Chromium dropped the 4096-byte cookie: {names:?}"));
            assert_eq!(kept.value, fit, "4096-byte cookie kept intact");
            assert_eq!(kept.size(), MAX_COOKIE_BYTES);
            assert!(
                !names.contains(&"over"),
                "Chromium kept a 4097-byte cookie: the limit is not what the crate assumes"
            );
            assert!(names.contains(&"small"), "control cookie: {names:?}");

            // And it sends the 4096-byte one back.
            b.goto(&format!("{base}/echo")).await;
            let echo = b.text("echo").await;
            let sent: Vec<&str> = echo.split(',').collect();
            assert!(sent.contains(&"fit:4096"), "cookies sent back: {echo}");
            assert!(!echo.contains("over"), "cookies sent back: {echo}");
            drop(raw);
        },
    );
}

/// Check 5b: at the edge of `max_cookies = 3`, every cookie the server sets is one Chromium
/// keeps: the biggest session that fits is stored, every chunk is in the browser, sent back,
/// and equal in number and size to the `Set-Cookie`s the server emits for that size; one more
/// byte is refused with a 500 and leaves the browser's cookies untouched.
#[test]
fn crate_never_emits_a_cookie_chromium_drops() {
    run(
        "crate_never_emits_a_cookie_chromium_drops",
        |b| async move {
            let port = browser::free_port();
            let srv = server(
                port,
                &[("SESSION_KEYS", KEY_A), ("SESSION_MAX_COOKIES", "3")],
            );
            b.open_demo(&srv.base()).await;
            login_admin(&b).await;

            // The largest blob that fits in three cookies (a refused store changes nothing).
            let (mut lo, mut hi) = (0usize, 3 * MAX_COOKIE_BYTES);
            while lo < hi {
                let mid = (lo + hi).div_ceil(2);
                let (st, j) = b.fetch("POST", &format!("/blob?size={mid}")).await;
                match st {
                    200 => lo = mid,
                    500 => {
                        assert!(
                            j["size"].as_u64().unwrap() > j["limit"].as_u64().unwrap(),
                            "{j}"
                        );
                        hi = mid - 1;
                    }
                    _ => panic!("POST /blob?size={mid}: {st} {j}"),
                }
            }
            let max = lo;
            assert!(
                max > 2 * MAX_COOKIE_BYTES,
                "max blob {max}: three cookies should hold more than two cookies of raw bytes"
            );

            store_blob(&b, max).await;
            let held = session_cookies(&b).await;
            assert_cookie_shape(&held);
            let sizes: Vec<usize> = held.iter().map(Cookie::size).collect();
            eprintln!("largest blob in 3 cookies: {max} bytes; cookie sizes {sizes:?}");
            assert_eq!(held.len(), 3, "chunks in the browser: {sizes:?}");
            let declared: usize = held[0]
                .value
                .split_once('.')
                .and_then(|(n, _)| n.parse().ok())
                .expect("count prefix on the first chunk");
            assert_eq!(
                declared,
                held.len(),
                "every chunk the server announced is in the browser"
            );
            assert_eq!(
                sizes[0], MAX_COOKIE_BYTES,
                "the first chunk is filled to the limit"
            );

            // What the browser sends is all of it.
            let (k, bytes) = fetch_stats(&b).await;
            assert_eq!(
                (k, bytes),
                (held.len(), sizes.iter().sum()),
                "cookie-stats vs WebDriver"
            );
            assert_eq!(fetch_blob_size(&b).await, max as u64);
            b.reload_demo().await;
            assert_eq!(b.data("blob", "size").await, max.to_string());

            // What the server emits for this size, seen on the wire: the same cookies, none larger
            // than the browser keeps.
            let jar: Vec<String> = b
                .cookies()
                .await
                .iter()
                .map(|c| format!("{}={}", c.name, c.value))
                .collect();
            let jar = jar.join("; ");
            let r = browser::http(port, "POST", &format!("/blob?size={max}"), Some(&jar), None)
                .expect("POST /blob over raw HTTP");
            assert_eq!(r.status, 200, "{}", r.body);
            let emitted: Vec<(String, usize)> = r
                .set_cookies()
                .iter()
                .filter(|sc| !sc.to_ascii_lowercase().contains("max-age=0"))
                .filter_map(|sc| {
                    let nv = sc.split(';').next()?;
                    let (n, v) = nv.split_once('=')?;
                    cookie_jar::is_session_name(n, COOKIE)
                        .then(|| (n.to_string(), n.len() + v.len()))
                })
                .collect();
            assert_eq!(
                emitted.len(),
                held.len(),
                "Set-Cookie on the wire: {emitted:?}"
            );
            for (n, size) in &emitted {
                assert!(
                    *size <= MAX_COOKIE_BYTES,
                    "server emitted {n} with {size} bytes"
                );
            }

            // One byte more is refused, and the browser keeps the session it had.
            let (st, j) = b.fetch("POST", &format!("/blob?size={}", max + 1)).await;
            assert_eq!(st, 500, "{j}");
            assert!(
                j["error"].is_string() && j["size"].is_u64() && j["limit"].is_u64(),
                "{j}"
            );
            let after: Vec<String> = session_cookies(&b)
                .await
                .into_iter()
                .map(|c| c.value)
                .collect();
            let before: Vec<String> = held.into_iter().map(|c| c.value).collect();
            assert_eq!(
                after, before,
                "a refused write leaves the cookies as they were"
            );
            assert_eq!(fetch_blob_size(&b).await, max as u64);
            srv.stop();
        },
    );
}

/// The demo's session blob size, and who is logged in, read through the API from the demo's
/// own page: `(blob size, username or "")`.
async fn state_via_api(b: &Browser) -> (u64, String) {
    let size = fetch_blob_size(b).await;
    let (st, j) = b.fetch("GET", "/profile").await;
    let user = match st {
        200 => j["user"]["username"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        401 => String::new(),
        _ => panic!("GET /profile: {st} {j}"),
    };
    (size, user)
}

/// A page of another origin (another port on 127.0.0.1: the same site, so the `SameSite=Lax`
/// session cookie goes along) that posts a form to `target` as soon as it loads: the classic
/// CSRF attack.
fn attacker(target: String) -> RawServer {
    RawServer::start(std::sync::Arc::new(move |_method, _path, _cookie| {
        (
            200,
            vec![],
            format!(
                "<!doctype html><title>win a prize</title>\
                 <form id=f method=POST action=\"{target}\"><input name=prize value=1></form>\
                 <script>document.getElementById('f').submit();</script>"
            ),
        )
    }))
}

/// Opens the attacker's page, which posts its form to the demo at `port`, and waits until the
/// browser shows the demo's answer containing `answer`.
async fn attack(b: &Browser, evil: &RawServer, port: u16, answer: &str) {
    b.goto(&format!("http://127.0.0.1:{}/", evil.port)).await;
    b.wait_until(
        &format!("the attacker's form to reach the demo and get {answer:?}"),
        &format!(
            "return location.port === '{port}' && !!document.body \
             && document.body.innerText.includes({answer:?});"
        ),
    )
    .await;
}

/// Check 6: with `SESSION_CSRF=1`, a form that a page of another origin posts to the demo is
/// refused and changes nothing, while the demo page's own UI (which sends the session's
/// token) logs in and changes state. Without `SESSION_CSRF` the same attack succeeds: the
/// control, which shows the browser does send the session cookie along.
#[test]
fn csrf_refuses_a_form_posted_from_another_origin_while_the_page_works() {
    run(
        "csrf_refuses_a_form_posted_from_another_origin_while_the_page_works",
        |b| async move {
            let port = browser::free_port();
            let srv = server(port, &[("SESSION_KEYS", KEY_A), ("SESSION_CSRF", "1")]);
            b.open_demo(&srv.base()).await;
            // The page's own UI: a login and state changes, each with the token.
            login_admin(&b).await;
            store_blob(&b, 100).await;
            b.click("save-prefs").await;
            assert_eq!(b.text("status").await, "Preferences saved.");

            let evil = attacker(format!("http://127.0.0.1:{port}/blob?size=777"));
            attack(&b, &evil, port, "CSRF check failed").await;
            let logout = attacker(format!("http://127.0.0.1:{port}/logout"));
            attack(&b, &logout, port, "CSRF check failed").await;

            b.open_demo(&srv.base()).await;
            assert_eq!(
                state_via_api(&b).await,
                (100, "admin".to_string()),
                "the attacks changed nothing"
            );
            // The page still works after a reload (a token fetched anew), logout included.
            store_blob(&b, 200).await;
            assert_eq!(fetch_blob_size(&b).await, 200);
            b.click("logout").await;
            assert_eq!(b.text("status").await, "Logged out.");
            assert_eq!(state_via_api(&b).await, (0, String::new()));
            srv.stop();

            // The control: the same attack on a server without SESSION_CSRF goes through.
            let port = browser::free_port();
            let srv = server(port, &[("SESSION_KEYS", KEY_A)]);
            b.open_demo(&srv.base()).await;
            login_admin(&b).await;
            store_blob(&b, 100).await;
            let evil = attacker(format!("http://127.0.0.1:{port}/blob?size=777"));
            attack(&b, &evil, port, "777").await;
            b.open_demo(&srv.base()).await;
            assert_eq!(state_via_api(&b).await, (777, "admin".to_string()));
            srv.stop();
        },
    );
}

/// Check 7: the welcome flash a login queues is shown on the page once: not after a reload.
#[test]
fn a_login_flash_is_shown_once() {
    run("a_login_flash_is_shown_once", |b| async move {
        let port = browser::free_port();
        let srv = server(port, &[("SESSION_KEYS", KEY_A)]);
        b.open_demo(&srv.base()).await;
        assert_eq!(b.data("flash", "count").await, "0");
        assert_eq!(b.text("flash").await, "");
        login_admin(&b).await;
        assert_eq!(b.data("flash", "count").await, "1");
        assert_eq!(b.text("flash").await, "Welcome, admin");
        let level = b
            .js("const f = document.querySelector('#flash .flash'); return f ? f.dataset.level : null;")
            .await;
        assert_eq!(level, "success");
        // Shown once: the server let go of it.
        b.reload_demo().await;
        assert_eq!(b.data("flash", "count").await, "0");
        assert_eq!(b.text("flash").await, "");
        assert_eq!(b.data("profile", "user").await, "admin", "still logged in");
        let (st, j) = b.fetch("GET", "/flash").await;
        assert_eq!((st, j), (200, serde_json::json!({ "messages": [] })));
        srv.stop();
    });
}

/// Check 8: with `SESSION_PARTITIONED=1` (and `Secure`, which it needs: Chromium treats
/// http://127.0.0.1 as a secure context), Chromium stores the session as partitioned cookies,
/// keyed by the top-level site, and the session works across requests and reloads.
#[test]
fn partitioned_cookies_are_stored_partitioned_and_the_session_works() {
    run(
        "partitioned_cookies_are_stored_partitioned_and_the_session_works",
        |b| async move {
            let port = browser::free_port();
            let srv = Server::start(
                port,
                &[
                    ("SESSION_KEYS", KEY_A),
                    ("SESSION_PARTITIONED", "1"),
                    ("SESSION_MAX_COOKIES", "2"),
                ],
            );
            b.open_demo(&srv.base()).await;
            login_admin(&b).await;
            store_blob(&b, 4000).await;
            b.click("counter-btn").await;
            b.reload_demo().await;
            assert_eq!(b.data("profile", "user").await, "admin", "after a reload");
            b.click("counter-btn").await;
            assert_eq!(b.text("counter").await, "2");
            assert_eq!(fetch_blob_size(&b).await, 4000);

            let all = b.cdp_cookies().await;
            let session: Vec<&serde_json::Value> = all
                .iter()
                .filter(|c| {
                    c["name"]
                        .as_str()
                        .is_some_and(|n| cookie_jar::is_session_name(n, "__Host-session"))
                })
                .collect();
            assert_eq!(session.len(), 2, "two chunks: {all:#?}");
            for c in &session {
                // A cookie set by a top-level page is in that site's partition.
                let key = &c["partitionKey"];
                assert_eq!(
                    key["topLevelSite"], "http://127.0.0.1",
                    "{} is not partitioned by the top-level site: {c:#}",
                    c["name"]
                );
                assert_eq!(key["hasCrossSiteAncestor"], false, "{c:#}");
                assert_eq!(c["secure"], true, "{c:#}");
                assert_eq!(c["httpOnly"], true, "{c:#}");
            }
            srv.stop();
        },
    );
}
