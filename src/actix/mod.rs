//! The actix-web 4 adapter: [`SessionMiddleware`], and [`Session`] as an extractor.
//!
//! ```no_run
//! use actix_web::{web, App, HttpServer, Responder};
//! use sealed_session::actix::SessionMiddleware;
//! use sealed_session::{Keyring, Session, SessionBuilder};
//!
//! async fn counter(session: Session) -> actix_web::Result<impl Responder> {
//!     let n = session.get::<u64>("count")?.unwrap_or(0) + 1;
//!     session.insert("count", &n)?;
//!     Ok(web::Json(n))
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let keys = Keyring::from_base64_list(&std::env::var("SESSION_KEYS").unwrap()).unwrap();
//!     let engine = SessionBuilder::new(keys).build().unwrap();
//!     let sessions = SessionMiddleware::new(engine);
//!     HttpServer::new(move || {
//!         App::new().wrap(sessions.clone()).route("/counter", web::get().to(counter))
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! }
//! ```
//!
//! This file only translates between actix-web's types and the core: every rule of the
//! request lifecycle (when the cookie is opened, what the response writes back, bad cookies,
//! sessions too large, cache headers, nested middlewares) is the [`Session`] handle's, and
//! the same for every framework. actix-web 4 uses `http` 0.2 and `cookie` 0.16 types; nothing
//! here exposes either, so an app configures everything with this crate's own types.
//!
//! # Coming from express-session or actix-session
//!
//! | express-session | actix-session | here |
//! |---|---|---|
//! | `rolling: true` | `TtlExtensionPolicy::OnEveryRequest` | [`refresh_share(0.0)`](crate::SessionBuilder::refresh_share) (default 0.25: refresh once a quarter of the idle timeout has passed) |
//! | `saveUninitialized: false` | (default) | always: an empty new session sends no cookie |
//! | `resave: false` | `OnStateChanges` | always: an unchanged session is not re-sent |
//! | `req.session.regenerate()` (new, empty session) | `Session::renew` (keeps the data) | [`Session::regenerate`] (new and empty; at login) or [`Session::renew`] (new lifetime, same data) |
//! | `req.session.destroy()` | `Session::purge` | [`Session::purge`] |
//! | `req.session.touch()` | — | [`Session::touch`] |
//! | `cookie.maxAge` | `PersistentSession::session_ttl` | [`idle_timeout`](crate::SessionBuilder::idle_timeout) and [`absolute_timeout`](crate::SessionBuilder::absolute_timeout), enforced server-side |

mod csrf;

use std::borrow::Cow;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};

use crate::engine::SessionEngine;
use crate::error::Error;
use crate::response::{ResponseHeaders, error_body, header_value, opaque_body};
use crate::session::{Session, missing_layer_message, plain_http_host};

pub use csrf::{CsrfFuture, CsrfMiddleware, CsrfService};

/// What a route without the session layer must add, as the error names it.
const LAYER: &str = "`.wrap(SessionMiddleware::new(engine))`";
/// The actix-web middleware: starts each request's [`Session`] and finishes it into the
/// response.
///
/// Cheap to clone (one `Arc`); build it once and clone it into the `HttpServer` factory.
///
/// ```
/// use sealed_session::actix::SessionMiddleware;
/// use sealed_session::{Secret, SessionBuilder};
///
/// let mw = SessionMiddleware::new(SessionBuilder::new(Secret::generate()).build().unwrap());
/// let app = actix_web::App::new().wrap(mw.clone());
/// # let _ = app;
/// ```
#[derive(Clone, Debug)]
pub struct SessionMiddleware {
    engine: SessionEngine,
}

impl SessionMiddleware {
    /// A middleware for `engine`.
    ///
    /// ```
    /// # use sealed_session::{actix::SessionMiddleware, Secret, SessionBuilder};
    /// let mw = SessionMiddleware::new(SessionBuilder::new(Secret::generate()).build().unwrap());
    /// assert_eq!(mw.engine().cookie().name(), "__Host-session");
    /// ```
    pub fn new(engine: SessionEngine) -> SessionMiddleware {
        SessionMiddleware { engine }
    }

    /// The engine in use.
    ///
    /// ```
    /// # use sealed_session::{actix::SessionMiddleware, Secret, SessionBuilder};
    /// let mw = SessionMiddleware::new(SessionBuilder::new(Secret::generate()).max_cookies(2).build().unwrap());
    /// assert_eq!(mw.engine().cookie().max_cookies(), 2);
    /// ```
    pub fn engine(&self) -> &SessionEngine {
        &self.engine
    }
}

impl<S, B> Transform<S, ServiceRequest> for SessionMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = SessionService<S>;
    type InitError = ();
    type Future = Ready<Result<SessionService<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SessionService {
            service,
            engine: self.engine.clone(),
        }))
    }
}

/// The service [`SessionMiddleware`] wraps around an app (built by actix, not by users).
#[doc(hidden)]
pub struct SessionService<S> {
    service: S,
    engine: SessionEngine,
}

impl<S, B> Service<ServiceRequest> for SessionService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = SessionFuture<S::Future>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let cookies = req.headers().get_all(header::COOKIE);
        // Not `connection_info()`, which parses every forwarding header on every request: the
        // connection's TLS flag, and the two headers only when the answer depends on them.
        let headers = req.headers();
        let host = headers
            .get(header::HOST)
            .map(HeaderValue::as_bytes)
            .or_else(|| req.uri().authority().map(|a| a.as_str().as_bytes()));
        let plain = plain_http_host(
            &self.engine,
            req.app_config().secure() || req.uri().scheme_str() == Some("https"),
            host,
            |name| headers.get_all(name).map(HeaderValue::as_bytes),
        );
        let session = self
            .engine
            .start_from(cookies.map(HeaderValue::as_bytes), plain);
        {
            let mut extensions = req.extensions_mut();
            if let Some(outer) = extensions.get::<Session>() {
                outer.supersede();
            }
            extensions.insert(session.clone());
        }
        SessionFuture {
            response: self.service.call(req),
            session,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`SessionService`]: the inner service's response, then the
    /// session's `Set-Cookie` headers. A named type rather than a boxed one, so a request
    /// costs no allocation for it.
    #[doc(hidden)]
    pub struct SessionFuture<F> {
        #[pin]
        response: F,
        session: Session,
    }
}

impl<F, B> Future for SessionFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut res = ready!(this.response.poll(cx))?;
        Poll::Ready(match this.session.finish(&mut Response(&mut res)) {
            Ok(()) => Ok(res.map_into_left_body()),
            Err(failed) => {
                let (req, _) = res.into_parts();
                Ok(
                    ServiceResponse::new(req, json_500(failed.body().to_owned()))
                        .map_into_right_body(),
                )
            }
        })
    }
}

fn header_name(name: &'static str) -> HeaderName {
    // Built at compile time: `from_static` at run time checks the name on every call.
    const CDN_CACHE_CONTROL: HeaderName = HeaderName::from_static("cdn-cache-control");
    const SURROGATE_CONTROL: HeaderName = HeaderName::from_static("surrogate-control");
    match name {
        "set-cookie" => header::SET_COOKIE,
        "cache-control" => header::CACHE_CONTROL,
        "vary" => header::VARY,
        "cdn-cache-control" => CDN_CACHE_CONTROL,
        "surrogate-control" => SURROGATE_CONTROL,
        other => HeaderName::from_static(other),
    }
}

/// An actix-web response seen through the core's [`ResponseHeaders`].
struct Response<'a, B>(&'a mut ServiceResponse<B>);

impl<B> ResponseHeaders for Response<'_, B> {
    fn status(&self) -> u16 {
        self.0.status().as_u16()
    }

    fn values<'a>(&'a self, name: &'static str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.0
            .headers()
            .get_all(header_name(name))
            .map(HeaderValue::as_bytes)
    }

    fn set(&mut self, name: &'static str, value: Cow<'static, str>) {
        if let Some(v) = header_value(name, value, HeaderValue::from_static, HeaderValue::try_from)
        {
            self.0.headers_mut().insert(header_name(name), v);
        }
    }

    fn append(&mut self, name: &'static str, value: Cow<'static, str>) {
        if let Some(v) = header_value(name, value, HeaderValue::from_static, HeaderValue::try_from)
        {
            self.0.headers_mut().append(header_name(name), v);
        }
    }
}

/// A `500` with one of the crate's JSON bodies (see [`crate::ErrorResponse`]).
fn json_500(body: String) -> HttpResponse {
    HttpResponse::build(StatusCode::INTERNAL_SERVER_ERROR)
        .content_type("application/json")
        .body(body)
}

/// Extracting [`Session`] on a route without [`SessionMiddleware`]: a 500 with an opaque
/// body; the log names the middleware to add.
#[derive(Debug)]
struct MissingMiddleware;

impl std::fmt::Display for MissingMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the session middleware is not installed on this route")
    }
}

impl ResponseError for MissingMiddleware {
    fn error_response(&self) -> HttpResponse {
        json_500(opaque_body(&missing_layer_message(LAYER)))
    }
}

/// The request's [`Session`], in a handler's arguments.
///
/// ```
/// use actix_web::{test, web, App, HttpResponse};
/// use sealed_session::actix::SessionMiddleware;
/// use sealed_session::{Secret, Session, SessionBuilder};
///
/// async fn login(session: Session) -> actix_web::Result<HttpResponse> {
///     session.regenerate()?;
///     session.insert("user_id", &42u64)?;
///     Ok(HttpResponse::Ok().finish())
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
/// let app = test::init_service(
///     App::new().wrap(SessionMiddleware::new(engine)).route("/login", web::post().to(login)),
/// ).await;
/// let res = test::call_service(&app, test::TestRequest::post().uri("/login").to_request()).await;
/// assert!(res.headers().contains_key("set-cookie"));
/// # });
/// ```
impl FromRequest for Session {
    type Error = actix_web::Error;
    type Future = SessionExtract;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(session) = req.extensions().get::<Session>().cloned() else {
            tracing::error!("{}", missing_layer_message(LAYER));
            return SessionExtract::Ready(ready(Err(MissingMiddleware.into())));
        };
        if !session.may_revalidate() {
            // Nothing to wait for: no allocation, no dynamic call.
            return SessionExtract::Ready(ready(Ok(session)));
        }
        SessionExtract::Checking(Box::pin(async move {
            // A revoked session is purged before the handler can read it.
            session.revalidate().await?;
            Ok(session)
        }))
    }
}

/// The [`Session`] extractor's future: ready at once unless a revalidation check is
/// configured, which it runs (or waits for) first.
#[doc(hidden)]
pub enum SessionExtract {
    /// No check configured, or no middleware: the answer is known.
    Ready(Ready<Result<Session, actix_web::Error>>),
    /// The revalidation check (if due) runs before the handler sees the session.
    Checking(Pin<Box<dyn Future<Output = Result<Session, actix_web::Error>>>>),
}

impl Future for SessionExtract {
    type Output = Result<Session, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            SessionExtract::Ready(ready) => Pin::new(ready).poll(cx),
            SessionExtract::Checking(checking) => checking.as_mut().poll(cx),
        }
    }
}

/// A session error returned from a handler with `?`: a 500 whose body says nothing but the
/// size and limit of a session that did not fit; the details go to the log.
impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        tracing::error!(error = %self, "session error in a handler");
        json_500(error_body(self))
    }
}
