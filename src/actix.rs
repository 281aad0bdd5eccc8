//! The actix-web 4 adapter: [`SessionMiddleware`] and the [`Session`] extractor.
//!
//! ```no_run
//! use actix_web::{web, App, HttpServer, Responder};
//! use sealed_session::actix::{Session, SessionMiddleware};
//! use sealed_session::{Keyring, Secret, SessionConfig, SessionEngine};
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
//!     let config = SessionConfig::new(keys).build().unwrap();
//!     let sessions = SessionMiddleware::new(config);
//!     HttpServer::new(move || {
//!         App::new().wrap(sessions.clone()).route("/counter", web::get().to(counter))
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! }
//! ```
//!
//! # How a request goes
//!
//! * Nothing happens before the handler. The first time a handler (or an extractor) reads or
//!   writes the [`Session`], the cookie is opened — once per request.
//! * After the handler, the middleware asks [`SessionEngine::finish`] which `Set-Cookie`
//!   headers the response needs: none for an untouched or unchanged session, a sealed value
//!   for a changed, renewed or touched one or one due for an idle refresh, removals for a
//!   purged one. A route that never touched the session costs a scan of the `Cookie` header
//!   and nothing more, unless the cookie's header shows it was sealed under an old key: then
//!   it is opened and re-sealed under the primary key in the same response.
//! * A cookie that fails to open (forged, corrupted, expired, unknown key) is "no session":
//!   the handler sees an empty session, the response removes the cookie, and a `tracing`
//!   event records the reason. It is never a server error.
//! * A session too large for the allowed cookies turns the response into a
//!   `500 Internal Server Error` with a JSON body naming the size and the limit (or, with
//!   [`TooLargePolicy::KeepResponse`], keeps the handler's response); either way no session
//!   cookie is sent, so the client keeps its last good one, and an error event is logged.
//!
//! # Coming from express-session or actix-session
//!
//! | express-session | actix-session | here |
//! |---|---|---|
//! | `rolling: true` | `TtlExtensionPolicy::OnEveryRequest` | [`refresh_share(0.0)`](crate::SessionConfig::refresh_share) (default 0.25: refresh once a quarter of the idle timeout has passed) |
//! | `saveUninitialized: false` | (default) | always: an empty new session sends no cookie |
//! | `resave: false` | `OnStateChanges` | always: an unchanged session is not re-sent |
//! | `req.session.regenerate()` | `Session::renew` | [`Session::renew`] |
//! | `req.session.destroy()` | `Session::purge` | [`Session::purge`] |
//! | `req.session.touch()` | — | [`Session::touch`] |
//! | `cookie.maxAge` | `PersistentSession::session_ttl` | [`idle_timeout`](crate::SessionConfig::idle_timeout) and [`absolute_timeout`](crate::SessionConfig::absolute_timeout), enforced server-side |

use std::cell::{Ref, RefCell, RefMut};
use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use crate::config::Deadlines;
use crate::config::{LoadOutcome, SessionEngine};
use crate::error::Error;
use crate::session::{SessionState, Status};

/// What to do with a response whose session no longer fits in the allowed cookies.
///
/// ```
/// use sealed_session::actix::TooLargePolicy;
/// assert_eq!(TooLargePolicy::default(), TooLargePolicy::ServerError);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TooLargePolicy {
    /// Replace the response with a `500` whose JSON body names the size and the limit. The
    /// failure is visible at once, in development and in monitoring.
    #[default]
    ServerError,
    /// Send the handler's response, without the session cookie: the write is lost and the
    /// client keeps its previous session.
    KeepResponse,
}

/// The actix-web middleware: opens sessions on demand and writes them back.
///
/// Cheap to clone (one `Arc`); build it once and clone it into the `HttpServer` factory.
///
/// ```
/// use sealed_session::actix::SessionMiddleware;
/// use sealed_session::{Secret, SessionConfig, SessionEngine};
///
/// let mw = SessionMiddleware::new(SessionConfig::new(Secret::generate()).build().unwrap());
/// let app = actix_web::App::new().wrap(mw.clone());
/// # let _ = app;
/// ```
#[derive(Clone, Debug)]
pub struct SessionMiddleware {
    config: Arc<SessionEngine>,
    too_large: TooLargePolicy,
}

impl SessionMiddleware {
    /// A middleware from a validated configuration.
    ///
    /// ```
    /// # use sealed_session::{actix::SessionMiddleware, Secret, SessionConfig, SessionEngine};
    /// let mw = SessionMiddleware::new(SessionConfig::new(Secret::generate()).build().unwrap());
    /// assert_eq!(mw.config().cookie().name(), "session");
    /// ```
    pub fn new(config: SessionEngine) -> SessionMiddleware {
        SessionMiddleware {
            config: Arc::new(config),
            too_large: TooLargePolicy::default(),
        }
    }

    /// What to do when a session outgrows its cookies (default: a `500`).
    ///
    /// ```
    /// # use sealed_session::{actix::{SessionMiddleware, TooLargePolicy}, Secret, SessionConfig, SessionEngine};
    /// let mw = SessionMiddleware::new(SessionConfig::new(Secret::generate()).build().unwrap())
    ///     .on_too_large(TooLargePolicy::KeepResponse);
    /// # let _ = mw;
    /// ```
    pub fn on_too_large(mut self, policy: TooLargePolicy) -> SessionMiddleware {
        self.too_large = policy;
        self
    }

    /// The configuration in use.
    ///
    /// ```
    /// # use sealed_session::{actix::SessionMiddleware, Secret, SessionConfig, SessionEngine};
    /// let mw = SessionMiddleware::new(SessionConfig::new(Secret::generate()).max_cookies(2).build().unwrap());
    /// assert_eq!(mw.config().cookie().max_cookies(), 2);
    /// ```
    pub fn config(&self) -> &SessionEngine {
        &self.config
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
            service: Rc::new(service),
            config: Arc::clone(&self.config),
            too_large: self.too_large,
        }))
    }
}

/// The service [`SessionMiddleware`] wraps around an app (built by actix, not by users).
#[doc(hidden)]
pub struct SessionService<S> {
    service: Rc<S>,
    config: Arc<SessionEngine>,
    too_large: TooLargePolicy,
}

/// The per-request session slot, shared by the extractor(s) and the middleware through the
/// request extensions. `state` stays `None` until someone touches the session.
struct Slot {
    config: Arc<SessionEngine>,
    state: Option<(SessionState, LoadOutcome)>,
}

#[derive(Clone)]
struct SlotHandle(Rc<RefCell<Slot>>);

/// The `Cookie` header values of an actix request, re-iterable without allocating.
#[derive(Clone, Copy)]
struct CookieHeaders<'a>(&'a HeaderMap);

impl<'a> IntoIterator for CookieHeaders<'a> {
    type Item = &'a [u8];
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, HeaderValue>, fn(&'a HeaderValue) -> &'a [u8]>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.get_all(header::COOKIE).map(HeaderValue::as_bytes)
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl<S, B> Service<ServiceRequest> for SessionService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let slot = SlotHandle(Rc::new(RefCell::new(Slot {
            config: Arc::clone(&self.config),
            state: None,
        })));
        req.extensions_mut().insert(slot.clone());
        let service = Rc::clone(&self.service);
        let config = Arc::clone(&self.config);
        let too_large = self.too_large;
        Box::pin(async move {
            let mut res = service.call(req).await?;
            // Take the state out so no extractor clone left in the request can observe it.
            let taken = slot.0.borrow_mut().state.take();
            let headers = CookieHeaders(res.request().headers());
            let result = match taken {
                Some((mut state, outcome)) => {
                    if let LoadOutcome::Rejected(reason) = outcome {
                        // Expiry is routine; anything else is a client sending bytes we did
                        // not seal (or a retired key). Neither is a server error.
                        if reason.is_expiry() {
                            tracing::debug!(reason = reason.as_str(), "session expired");
                        } else {
                            tracing::info!(
                                reason = reason.as_str(),
                                detail = %reason,
                                "session cookie rejected; treating the request as a new session"
                            );
                        }
                    }
                    config.finish(headers, Some(&mut state), outcome)
                }
                None => config.finish(headers, None, LoadOutcome::NoCookie),
            };
            match result {
                Ok(set_cookies) => {
                    let out = res.headers_mut();
                    for v in set_cookies {
                        match HeaderValue::from_bytes(v.as_bytes()) {
                            Ok(v) => out.append(header::SET_COOKIE, v),
                            // The cookie crate only emits visible ASCII; unreachable in
                            // practice, and dropping a cookie beats failing the response.
                            Err(_) => tracing::error!("a Set-Cookie value was not a valid header"),
                        }
                    }
                    Ok(res.map_into_left_body())
                }
                Err(err) => {
                    tracing::error!(error = %err, "session not saved");
                    match too_large {
                        TooLargePolicy::KeepResponse => Ok(res.map_into_left_body()),
                        TooLargePolicy::ServerError => {
                            let (req, _) = res.into_parts();
                            let body = error_body(&err);
                            Ok(ServiceResponse::new(req, body).map_into_right_body())
                        }
                    }
                }
            }
        })
    }
}

/// The JSON a failed save answers with: `{"error": message, "size": n, "limit": n}`.
fn error_body(err: &Error) -> HttpResponse {
    let mut body = serde_json::json!({ "error": err.to_string() });
    if let Error::TooLarge {
        size,
        limit,
        max_cookies,
    } = err
    {
        body["size"] = (*size).into();
        body["limit"] = (*limit).into();
        body["maxCookies"] = (*max_cookies).into();
    }
    HttpResponse::InternalServerError().json(body)
}

/// The request's session, extracted in a handler's arguments.
///
/// The cookie is opened the first time a method is called, once per request, however many
/// times `Session` is extracted. Methods that read return the crate's [`Error`], which
/// implements [`ResponseError`] so handlers can use `?`.
///
/// ```
/// use actix_web::{test, web, App, HttpResponse};
/// use sealed_session::actix::{Session, SessionMiddleware};
/// use sealed_session::{Secret, SessionConfig, SessionEngine};
///
/// async fn login(session: Session) -> actix_web::Result<HttpResponse> {
///     session.renew();
///     session.insert("user_id", &42u64)?;
///     Ok(HttpResponse::Ok().finish())
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// let config = SessionConfig::new(Secret::generate()).build().unwrap();
/// let app = test::init_service(
///     App::new().wrap(SessionMiddleware::new(config)).route("/login", web::post().to(login)),
/// ).await;
/// let res = test::call_service(&app, test::TestRequest::post().uri("/login").to_request()).await;
/// assert!(res.headers().contains_key("set-cookie"));
/// # });
/// ```
pub struct Session {
    slot: SlotHandle,
    req: HttpRequest,
}

impl Session {
    /// A session outside any request, for unit tests of code that takes a `Session` and for
    /// the examples in these docs. `cookie` is the `Cookie` header the request would carry.
    #[doc(hidden)]
    pub fn detached(config: SessionEngine, cookie: Option<&str>) -> Session {
        let mut req = actix_web::test::TestRequest::default();
        if let Some(c) = cookie {
            req = req.insert_header((header::COOKIE, c));
        }
        Session {
            slot: SlotHandle(Rc::new(RefCell::new(Slot {
                config: Arc::new(config),
                state: None,
            }))),
            req: req.to_http_request(),
        }
    }

    fn state(&self) -> RefMut<'_, SessionState> {
        let mut slot = self.slot.0.borrow_mut();
        if slot.state.is_none() {
            let loaded = slot.config.load(CookieHeaders(self.req.headers()));
            slot.state = Some((loaded.session, loaded.outcome));
        }
        RefMut::map(slot, |s| match &mut s.state {
            Some((state, _)) => state,
            None => unreachable!("the state was loaded just above"),
        })
    }

    fn read(&self) -> Ref<'_, SessionState> {
        drop(self.state());
        Ref::map(self.slot.0.borrow(), |s| match &s.state {
            Some((state, _)) => state,
            None => unreachable!("the state was loaded just above"),
        })
    }

    /// Reads the value under `key` as a `T` (`Ok(None)` when absent).
    ///
    /// See [`SessionState::get`].
    ///
    /// ```
    /// # use sealed_session::{actix::Session, Secret, SessionConfig, SessionEngine, Status};
    /// # let session = Session::detached(SessionConfig::new(Secret::generate()).build().unwrap(), None);
    /// session.insert("n", &5u32)?;
    /// assert_eq!(session.get::<u32>("n")?, Some(5));
    /// assert_eq!(session.get::<u32>("missing")?, None);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.read().get(key)
    }

    /// Stores `value` under `key`; the response carries the new cookie.
    ///
    /// See [`SessionState::insert`].
    ///
    /// ```
    /// # use sealed_session::{actix::Session, Secret, SessionConfig, SessionEngine, Status};
    /// # let session = Session::detached(SessionConfig::new(Secret::generate()).build().unwrap(), None);
    /// session.insert("theme", "dark")?;
    /// assert_eq!(session.status(), Status::Changed);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn insert<T: Serialize + ?Sized>(
        &self,
        key: impl Into<String>,
        value: &T,
    ) -> Result<(), Error> {
        self.state().insert(key, value)
    }

    /// Removes `key`; returns whether it was present.
    ///
    /// ```
    /// # use sealed_session::{actix::Session, Secret, SessionConfig, SessionEngine, Status};
    /// # let session = Session::detached(SessionConfig::new(Secret::generate()).build().unwrap(), None);
    /// session.insert("a", &1u8)?;
    /// assert!(session.remove("a"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn remove(&self, key: &str) -> bool {
        self.state().remove(key)
    }

    /// Removes `key` and returns its value as a `T`.
    ///
    /// ```
    /// # use sealed_session::{actix::Session, Secret, SessionConfig, SessionEngine, Status};
    /// # let session = Session::detached(SessionConfig::new(Secret::generate()).build().unwrap(), None);
    /// session.insert("flash", "saved")?;
    /// assert_eq!(session.remove_as::<String>("flash")?.as_deref(), Some("saved"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn remove_as<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.state().remove_as(key)
    }

    /// Removes every entry (the session and its lifetime go on).
    ///
    /// ```
    /// # use sealed_session::{actix::Session, Secret, SessionConfig, SessionEngine, Status};
    /// # let session = Session::detached(SessionConfig::new(Secret::generate()).build().unwrap(), None);
    /// session.insert("a", &1u8)?;
    /// session.clear();
    /// assert!(session.is_empty());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn clear(&self) {
        self.state().clear()
    }

    /// Starts a new lifetime with the same data; do it at login. See [`SessionState::renew`].
    ///
    /// ```
    /// # use sealed_session::{actix::Session, Secret, SessionConfig, SessionEngine, Status};
    /// # let session = Session::detached(SessionConfig::new(Secret::generate()).build().unwrap(), None);
    /// session.renew();
    /// assert_eq!(session.status(), Status::Renewed);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn renew(&self) {
        self.state().renew()
    }

    /// Destroys the session and removes its cookies. See [`SessionState::purge`].
    ///
    /// ```
    /// # use sealed_session::{actix::Session, Secret, SessionConfig, SessionEngine, Status};
    /// # let session = Session::detached(SessionConfig::new(Secret::generate()).build().unwrap(), None);
    /// session.insert("a", &1u8)?;
    /// session.purge();
    /// assert_eq!(session.status(), Status::Purged);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn purge(&self) {
        self.state().purge()
    }

    /// Refreshes the idle deadline on this response.
    ///
    /// ```
    /// # use sealed_session::{actix::Session, Secret, SessionConfig, SessionEngine, Status};
    /// # let session = Session::detached(SessionConfig::new(Secret::generate()).build().unwrap(), None);
    /// session.touch();
    /// assert_eq!(session.status(), Status::Unchanged); // but the response refreshes the cookie
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn touch(&self) {
        self.state().touch()
    }

    /// What happened to the session so far in this request.
    ///
    /// ```
    /// # use sealed_session::{actix::Session, Secret, SessionConfig, SessionEngine, Status};
    /// # let session = Session::detached(SessionConfig::new(Secret::generate()).build().unwrap(), None);
    /// assert_eq!(session.status(), Status::Unchanged);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn status(&self) -> Status {
        self.read().status()
    }

    /// Reads a whole-struct session. See [`SessionState::data`].
    ///
    /// ```
    /// # use sealed_session::{actix::Session, Secret, SessionConfig, SessionEngine, Status};
    /// # let session = Session::detached(SessionConfig::new(Secret::generate()).build().unwrap(), None);
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Cart { items: Vec<String> }
    /// assert!(session.data::<Cart>()?.is_none());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn data<T: DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        self.read().data()
    }

    /// Stores a whole-struct session. See [`SessionState::set_data`].
    ///
    /// ```
    /// # use sealed_session::{actix::Session, Secret, SessionConfig, SessionEngine, Status};
    /// # let session = Session::detached(SessionConfig::new(Secret::generate()).build().unwrap(), None);
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Cart { items: Vec<String> }
    /// session.set_data(&Cart { items: vec!["SKU-1".into()] })?;
    /// assert_eq!(session.data::<Cart>()?.unwrap().items.len(), 1);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn set_data<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        self.state().set_data(value)
    }

    /// Whether the session holds no data.
    ///
    /// ```
    /// # use sealed_session::{actix::Session, Secret, SessionConfig, SessionEngine, Status};
    /// # let session = Session::detached(SessionConfig::new(Secret::generate()).build().unwrap(), None);
    /// assert!(session.is_empty());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// The session's deadlines as they will stand after this response (Unix seconds).
    ///
    /// A session written, renewed or touched in this request is stamped "now" when the
    /// response is sealed, so its deadlines are computed from now.
    ///
    /// ```
    /// # use sealed_session::{actix::Session, Secret, SessionConfig, SessionEngine, Status};
    /// # let session = Session::detached(SessionConfig::new(Secret::generate()).build().unwrap(), None);
    /// session.insert("a", &1u8)?;
    /// let d = session.deadlines();
    /// assert_eq!(d.absolute_expires_at, d.created_at + 7 * 86_400);
    /// assert!(d.idle_expires_at.unwrap() <= d.absolute_expires_at);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn deadlines(&self) -> Deadlines {
        drop(self.state());
        let slot = self.slot.0.borrow();
        match &slot.state {
            Some((state, outcome)) => slot.config.deadlines(state, *outcome),
            None => unreachable!("the state was loaded just above"),
        }
    }
}

/// Extracting `Session` without [`SessionMiddleware`] installed.
#[derive(Debug)]
struct MissingMiddleware;

impl std::fmt::Display for MissingMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "Session was extracted but SessionMiddleware is not installed on this route: \
             add `.wrap(SessionMiddleware::new(config))` to the App or scope",
        )
    }
}

impl ResponseError for MissingMiddleware {}

impl FromRequest for Session {
    type Error = actix_web::Error;
    type Future = Ready<Result<Session, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let slot = req.extensions().get::<SlotHandle>().cloned();
        ready(match slot {
            Some(slot) => Ok(Session {
                slot,
                req: req.clone(),
            }),
            None => {
                tracing::error!("{MissingMiddleware}");
                Err(MissingMiddleware.into())
            }
        })
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        error_body(self)
    }
}
