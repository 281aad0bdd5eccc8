//! One test app, two adapters: the routes of the adapter suite (`tests/adapters.rs`) are
//! written once, framework-free, as a function of the [`Session`] handle and the request;
//! each adapter serves them from a single catch-all route, so a behaviour test runs
//! unchanged against actix-web and axum.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::cookies::SetCookie;
use sealed_session::{Session, SessionBuilder};

/// A request to a test app.
#[derive(Debug, Clone, Default)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: String,
    pub cookie: String,
    pub body: Option<Value>,
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
    /// A body that is not JSON: its content type and bytes.
    pub raw: Option<(String, Vec<u8>)>,
    /// The body as the route received it (filled in by the adapters).
    pub received: String,
}

impl Req {
    pub fn new(method: &str, uri: &str, cookie: &str) -> Req {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        Req {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            cookie: cookie.into(),
            ..Req::default()
        }
    }
    pub fn json(mut self, body: Value) -> Req {
        self.body = Some(body);
        self
    }
    /// A body of `content_type`, not JSON.
    pub fn raw(mut self, content_type: &str, body: &str) -> Req {
        self.raw = Some((content_type.into(), body.as_bytes().to_vec()));
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.into(), value.into()));
        self
    }
    fn uri(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }
}

/// A response from a test app.
#[derive(Debug, Clone)]
pub struct Res {
    pub status: StatusCode,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Res {
    pub fn set_cookies(&self) -> Vec<SetCookie> {
        self.all("set-cookie")
            .into_iter()
            .map(|v| SetCookie::parse(&v))
            .collect()
    }
    /// Every value of header `name` (lowercase).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
    }
}

fn parse_body(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// Sessions a handler leaked out of its request (for the "write after finish" test).
pub type Leaks = Arc<Mutex<Vec<Session>>>;

/// How the app is laid out around its session layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One session layer around every route.
    Plain,
    /// No session layer at all.
    NoLayer,
    /// The app-level layer, and a second layer (its own engine) around `/inner/*` only.
    Nested,
    /// One session layer, and the adapter's CSRF layer inside it.
    Csrf,
}

type BoxFut<T> = Pin<Box<dyn Future<Output = T>>>;

/// A running test app, whichever the framework.
pub struct App {
    call: Box<dyn Fn(Req) -> BoxFut<Res>>,
    pub leaks: Leaks,
}

impl App {
    pub async fn send(&self, req: Req) -> Res {
        (self.call)(req).await
    }

    /// Sends a request; returns the status, the `Set-Cookie`s and the body as JSON (or a
    /// JSON string when the body is not JSON).
    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        cookie: &str,
    ) -> (StatusCode, Vec<SetCookie>, Value) {
        let res = self.send(Req::new(method, uri, cookie)).await;
        (res.status, res.set_cookies(), res.body)
    }
}

/// The adapter under test.
pub trait Adapter {
    /// The framework's name, for messages.
    const NAME: &'static str;
    /// Serves the suite's routes with `config` (and `inner` for [`Layout::Nested`]).
    fn app(
        config: SessionBuilder,
        layout: Layout,
        inner: Option<SessionBuilder>,
    ) -> impl Future<Output = App>;
}

// ---------------------------------------------------------------------------------------------
// The routes, once
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub user: String,
    pub visits: u32,
}

/// Deterministic incompressible bytes (xorshift64*).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// The session's deadlines as the suite's routes answer them.
fn deadlines(s: &Session) -> Value {
    let d = s.deadlines();
    json!({
        "createdAt": d.created_at,
        "idleExpiresAt": d.idle_expires_at,
        "absoluteExpiresAt": d.absolute_expires_at,
    })
}

fn state(s: &Session) -> Value {
    json!({
        "n": s.get::<u64>("n").unwrap(),
        "empty": s.is_empty(),
        "status": format!("{:?}", s.status()),
    })
}

fn query_num(query: &str, name: &str) -> Option<u64> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .and_then(|(_, v)| v.parse().ok())
}

/// The suite's routes. `s` is `None` on a route that must not even extract the session
/// (`/noop`, `/public`); `Err(status)` when extracting it failed (no layer).
///
/// Returns the status, the JSON body, and extra response headers.
pub fn route(
    req: &Req,
    s: Option<&Session>,
    leaks: &Leaks,
) -> (u16, Value, Vec<(&'static str, String)>) {
    let ok = |v: Value| (200, v, Vec::new());
    let path = req.path.strip_prefix("/inner").unwrap_or(&req.path);
    let Some(s) = s else {
        return match path {
            "/noop" => ok(json!("noop")),
            // A static page the app marks cacheable by anyone.
            "/public" => (
                200,
                json!("static"),
                vec![("cache-control", "public, max-age=3600".into())],
            ),
            _ => (404, json!("not found"), Vec::new()),
        };
    };
    match (req.method.as_str(), path) {
        ("GET", "/read") => ok(state(s)),
        // Queues a flash message (the text from the query) for the next page.
        ("POST", "/flash") => {
            let text = req.query.strip_prefix("text=").unwrap_or("saved");
            s.flash(sealed_session::FlashLevel::Success, text).unwrap();
            (303, json!("see other"), vec![("location", "/flash".into())])
        }
        ("GET", "/flash") => ok(json!({ "messages": s.take_flashes().unwrap() })),
        ("GET", "/csrf") => ok(json!({ "csrfToken": s.csrf_token().unwrap() })),
        // A login: a new session (rotating the CSRF secret) holding the user.
        ("POST", "/login") => {
            s.regenerate().unwrap();
            s.insert("user", &"ada").unwrap();
            ok(json!({ "user": "ada" }))
        }
        // The body as the handler received it, after any layer read it.
        ("POST", "/form") => ok(json!({ "received": req.received })),
        ("PUT" | "PATCH" | "DELETE", "/incr") => {
            let n = s.get::<u64>("n").unwrap().unwrap_or(0) + 1;
            s.insert("n", &n).unwrap();
            ok(state(s))
        }
        ("POST", p) if p.starts_with("/set/") => {
            let n: u64 = p["/set/".len()..].parse().unwrap();
            s.insert("n", &n).unwrap();
            ok(state(s))
        }
        ("POST", "/incr") => {
            let n = s.get::<u64>("n").unwrap().unwrap_or(0) + 1;
            s.insert("n", &n).unwrap();
            ok(state(s))
        }
        ("POST", "/blob") => {
            let size = query_num(&req.query, "size").unwrap() as usize;
            s.insert("blob", &noise(size, size as u64 + 7)).unwrap();
            (201, json!({ "size": size }), Vec::new())
        }
        ("GET", "/blob") => {
            let b = s.get::<Vec<u8>>("blob").unwrap();
            ok(json!({ "size": b.map(|b| b.len()) }))
        }
        ("POST", "/renew") => {
            s.renew().unwrap();
            ok(json!({ "state": state(s), "deadlines": deadlines(s) }))
        }
        ("POST", "/regenerate") => {
            s.regenerate().unwrap();
            s.insert("fresh", &true).unwrap();
            ok(json!({ "state": state(s), "keys": s.keys() }))
        }
        ("POST", "/purge") => {
            s.purge().unwrap();
            ok(state(s))
        }
        ("POST", "/remember") => {
            s.set_persistent(true).unwrap();
            ok(state(s))
        }
        // A logout whose response the app (wrongly) marks cacheable by anyone.
        ("POST", "/logout-public") => {
            s.purge().unwrap();
            (
                200,
                state(s),
                vec![("cache-control", "public, max-age=60".into())],
            )
        }
        ("POST", "/touch") => {
            s.touch().unwrap();
            ok(state(s))
        }
        ("POST", "/clear") => {
            s.clear().unwrap();
            ok(state(s))
        }
        ("POST", "/remove-n") => {
            let old = s.remove_as::<u64>("n").unwrap();
            ok(json!({ "old": old, "state": state(s) }))
        }
        ("POST", "/remove-missing") => {
            let was = s.remove("missing").unwrap();
            ok(json!({ "was": was, "state": state(s) }))
        }
        ("POST", "/data") => {
            let p: Profile = serde_json::from_value(req.body.clone().unwrap()).unwrap();
            s.set_data(&p).unwrap();
            ok(state(s))
        }
        ("GET", "/data") => ok(json!({ "data": s.data::<Profile>().unwrap() })),
        ("GET", "/deadlines") => ok(deadlines(s)),
        ("POST", "/twice") => {
            let b = s.clone();
            let before = b.get::<u64>("n").unwrap();
            s.insert("n", &(before.unwrap_or(0) + 10)).unwrap();
            ok(json!({
                "before": before,
                "b_sees": b.get::<u64>("n").unwrap(),
                "b_status": format!("{:?}", b.status()),
                "a_status": format!("{:?}", s.status()),
            }))
        }
        // Writes, then fails: the response is a 500.
        ("POST", "/write-then-fail") => {
            s.insert("n", &999u64).unwrap();
            (500, json!({ "error": "handler failed" }), Vec::new())
        }
        // Writes, then answers 4xx: such writes are kept.
        ("POST", "/write-then-reject") => {
            s.insert("n", &404u64).unwrap();
            (404, json!({ "error": "no such thing" }), Vec::new())
        }
        // Keeps a clone of the session past the response (a streaming body would).
        ("POST", "/leak") => {
            leaks.lock().unwrap().push(s.clone());
            ok(state(s))
        }
        // Reads a value as a type it was not stored as; recovers as the docs say.
        ("GET", "/stale") => match s.get::<Profile>("n") {
            Ok(p) => ok(json!({ "profile": p })),
            Err(sealed_session::Error::Deserialize { key, .. }) => {
                s.remove(&key).unwrap();
                ok(json!({ "recovered": key }))
            }
            Err(e) => panic!("{e}"),
        },
        // Reads a value as the wrong type and lets the error out with `?`.
        ("GET", "/stale-unhandled") => match s.get::<Profile>("n") {
            Ok(p) => ok(json!({ "profile": p })),
            Err(e) => (
                0,
                json!(e.to_string()),
                Vec::new(), // status 0: the adapter answers with the crate's error response
            ),
        },
        // The session's content is in the body, and the app marks it public (a mistake the
        // crate must not turn into a cached session).
        ("POST", "/incr-public") => {
            let n = s.get::<u64>("n").unwrap().unwrap_or(0) + 1;
            s.insert("n", &n).unwrap();
            (
                200,
                state(s),
                vec![("cache-control", "public, max-age=60".into())],
            )
        }
        _ => (404, json!("not found"), Vec::new()),
    }
}

/// Whether `path` is served without extracting the session.
pub fn sessionless(path: &str) -> bool {
    matches!(
        path.strip_prefix("/inner").unwrap_or(path),
        "/noop" | "/public"
    )
}

/// The error `route` returns with status 0 for `/stale-unhandled`: a stored value read as
/// the wrong type, surfaced as the crate's own error.
pub fn stale_error() -> sealed_session::Error {
    sealed_session::Error::Deserialize {
        key: "n".into(),
        reason: "unhandled".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// actix-web
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "actix")]
pub struct Actix;

#[cfg(feature = "actix")]
mod actix_impl {
    use super::*;
    use actix_web::dev::Service as _;
    use actix_web::http::header::{HeaderName, HeaderValue};
    use actix_web::{HttpRequest, HttpResponse, test, web};
    use sealed_session::actix::SessionMiddleware;

    async fn dispatch(
        http: HttpRequest,
        body: web::Bytes,
        leaks: web::Data<Leaks>,
    ) -> HttpResponse {
        let req = Req {
            method: http.method().to_string(),
            path: http.path().to_string(),
            query: http.query_string().to_string(),
            cookie: String::new(),
            body: serde_json::from_slice(&body).ok(),
            headers: Vec::new(),
            raw: None,
            received: String::from_utf8_lossy(&body).into_owned(),
        };
        let (status, body, headers) = if sessionless(&req.path) {
            route(&req, None, &leaks)
        } else {
            use actix_web::FromRequest as _;
            let s = match Session::extract(&http).await {
                Ok(s) => s,
                Err(e) => return e.error_response(),
            };
            route(&req, Some(&s), &leaks)
        };
        if status == 0 {
            return actix_web::ResponseError::error_response(&stale_error());
        }
        let mut res = HttpResponse::build(StatusCode::from_u16(status).unwrap()).json(body);
        for (k, v) in headers {
            res.headers_mut().append(
                HeaderName::from_static(k),
                HeaderValue::from_str(&v).unwrap(),
            );
        }
        res
    }

    /// An [`App`] over an actix test service (a macro: the service's request type is not
    /// nameable without depending on actix-http).
    macro_rules! actix_app {
        ($service:expr, $leaks:expr) => {{
            let service = std::rc::Rc::new($service);
            App {
                call: Box::new(move |req: Req| {
                    let service = service.clone();
                    Box::pin(async move {
                        let method =
                            actix_web::http::Method::from_bytes(req.method.as_bytes()).unwrap();
                        let mut r = test::TestRequest::default().method(method).uri(&req.uri());
                        if !req.cookie.is_empty() {
                            r = r.insert_header(("cookie", req.cookie.clone()));
                        }
                        for (k, v) in &req.headers {
                            r = r.append_header((k.as_str(), v.as_str()));
                        }
                        if let Some(b) = &req.body {
                            r = r.set_json(b);
                        }
                        if let Some((content_type, bytes)) = &req.raw {
                            r = r
                                .insert_header(("content-type", content_type.as_str()))
                                .set_payload(bytes.clone());
                        }
                        let res = service.call(r.to_request()).await.unwrap();
                        let status = res.status();
                        let headers = res
                            .headers()
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
                            .collect();
                        let bytes = test::read_body(res).await;
                        Res {
                            status,
                            headers,
                            body: parse_body(&bytes),
                        }
                    })
                }),
                leaks: $leaks,
            }
        }};
    }

    impl Adapter for Actix {
        const NAME: &'static str = "actix";

        async fn app(config: SessionBuilder, layout: Layout, inner: Option<SessionBuilder>) -> App {
            let leaks: Leaks = Arc::default();
            let data = web::Data::new(leaks.clone());
            let outer = SessionMiddleware::new(config.build().unwrap());
            match layout {
                Layout::Plain => actix_app!(
                    test::init_service(
                        actix_web::App::new()
                            .app_data(data)
                            .wrap(outer)
                            .default_service(web::to(dispatch)),
                    )
                    .await,
                    leaks
                ),
                Layout::NoLayer => actix_app!(
                    test::init_service(
                        actix_web::App::new()
                            .app_data(data)
                            .default_service(web::to(dispatch)),
                    )
                    .await,
                    leaks
                ),
                Layout::Csrf => actix_app!(
                    test::init_service(
                        actix_web::App::new()
                            .app_data(data)
                            .wrap(sealed_session::actix::CsrfMiddleware::new())
                            .wrap(outer)
                            .default_service(web::to(dispatch)),
                    )
                    .await,
                    leaks
                ),
                Layout::Nested => {
                    let inner =
                        SessionMiddleware::new(inner.expect("an inner config").build().unwrap());
                    actix_app!(
                        test::init_service(
                            actix_web::App::new()
                                .app_data(data)
                                .wrap(outer)
                                .service(
                                    web::scope("/inner")
                                        .wrap(inner)
                                        .default_service(web::to(dispatch)),
                                )
                                .default_service(web::to(dispatch)),
                        )
                        .await,
                        leaks
                    )
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// axum
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "axum")]
pub struct Axum;

#[cfg(feature = "axum")]
mod axum_impl {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::extract::{FromRequestParts as _, State};
    use axum::response::{IntoResponse, Response};
    use http_body_util::BodyExt as _;
    use sealed_session::axum::SessionLayer;
    use tower::ServiceExt as _;

    async fn dispatch(State(leaks): State<Leaks>, req: http::Request<Body>) -> Response {
        let (mut parts, body) = req.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let r = Req {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().unwrap_or_default().to_string(),
            cookie: String::new(),
            body: serde_json::from_slice(&bytes).ok(),
            headers: Vec::new(),
            raw: None,
            received: String::from_utf8_lossy(&bytes).into_owned(),
        };
        let (status, body, headers) = if sessionless(&r.path) {
            route(&r, None, &leaks)
        } else {
            let s = match Session::from_request_parts(&mut parts, &()).await {
                Ok(s) => s,
                Err(rejection) => return rejection.into_response(),
            };
            route(&r, Some(&s), &leaks)
        };
        if status == 0 {
            return stale_error().into_response();
        }
        let mut res = (
            http::StatusCode::from_u16(status).unwrap(),
            axum::Json(body),
        )
            .into_response();
        for (k, v) in headers {
            res.headers_mut().append(k, v.parse().unwrap());
        }
        res
    }

    impl Adapter for Axum {
        const NAME: &'static str = "axum";

        async fn app(config: SessionBuilder, layout: Layout, inner: Option<SessionBuilder>) -> App {
            let leaks: Leaks = Arc::default();
            let base = || Router::new().fallback(dispatch).with_state(leaks.clone());
            let router = match layout {
                Layout::Plain => base().layer(SessionLayer::new(config.build().unwrap())),
                Layout::NoLayer => base(),
                Layout::Csrf => base()
                    .layer(sealed_session::axum::CsrfLayer::new())
                    .layer(SessionLayer::new(config.build().unwrap())),
                Layout::Nested => Router::new()
                    .nest(
                        "/inner",
                        base().layer(SessionLayer::new(
                            inner.expect("an inner config").build().unwrap(),
                        )),
                    )
                    .fallback_service(base())
                    .layer(SessionLayer::new(config.build().unwrap())),
            };
            App {
                call: Box::new(move |req: Req| {
                    let router = router.clone();
                    Box::pin(async move {
                        let mut r = http::Request::builder()
                            .method(req.method.as_str())
                            .uri(req.uri());
                        if !req.cookie.is_empty() {
                            r = r.header("cookie", &req.cookie);
                        }
                        for (k, v) in &req.headers {
                            r = r.header(k.as_str(), v.as_str());
                        }
                        let body = match (&req.body, &req.raw) {
                            (Some(b), _) => {
                                r = r.header("content-type", "application/json");
                                Body::from(serde_json::to_vec(b).unwrap())
                            }
                            (None, Some((content_type, bytes))) => {
                                r = r.header("content-type", content_type.as_str());
                                Body::from(bytes.clone())
                            }
                            (None, None) => Body::empty(),
                        };
                        let res = router.oneshot(r.body(body).unwrap()).await.unwrap();
                        let status = StatusCode::from_u16(res.status().as_u16()).unwrap();
                        let headers = res
                            .headers()
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
                            .collect();
                        let bytes = res.into_body().collect().await.unwrap().to_bytes();
                        Res {
                            status,
                            headers,
                            body: parse_body(&bytes),
                        }
                    })
                }),
                leaks,
            }
        }
    }
}
