//! The axum 0.8 / tower adapter: [`SessionLayer`], and [`Session`] as an extractor.
//!
//! ```no_run
//! use axum::{routing::get, Json, Router};
//! use sealed_session::axum::SessionLayer;
//! use sealed_session::{Keyring, Session, SessionBuilder};
//!
//! async fn counter(session: Session) -> Result<Json<u64>, sealed_session::Error> {
//!     let n = session.get::<u64>("count")?.unwrap_or(0) + 1;
//!     session.insert("count", &n)?;
//!     Ok(Json(n))
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let keys = Keyring::from_base64_list(&std::env::var("SESSION_KEYS").unwrap()).unwrap();
//!     let engine = SessionBuilder::new(keys).build().unwrap();
//!     let app = Router::new()
//!         .route("/counter", get(counter))
//!         .layer(SessionLayer::new(engine));
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     axum::serve(listener, app).await
//! }
//! ```
//!
//! [`SessionLayer`] is a plain `tower::Layer`, so it also wraps any tower service over
//! `http::Request` / `http::Response` (hyper, tonic's HTTP layer, tower-http stacks). This
//! file only translates types: every rule of the request lifecycle is the [`Session`]
//! handle's, the same as for actix-web.

mod csrf;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, Request, StatusCode, header};

use crate::engine::SessionEngine;
use crate::error::Error;
use crate::response::{error_body, opaque_body};
use crate::session::{Session, missing_layer_message, plain_http_host_of};

pub use csrf::{CsrfFuture, CsrfLayer, CsrfService};

/// What a route without the session layer must add, as the error names it.
const LAYER: &str = "`.layer(SessionLayer::new(engine))`";
/// A `tower::Layer` that starts each request's [`Session`] and finishes it into the
/// response.
///
/// Cheap to clone (one `Arc`).
///
/// ```
/// use axum::{routing::get, Router};
/// use sealed_session::axum::SessionLayer;
/// use sealed_session::{Secret, SessionBuilder};
///
/// let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
/// let app: Router = Router::new().route("/", get(|| async { "hi" })).layer(SessionLayer::new(engine));
/// # let _ = app;
/// ```
#[derive(Clone, Debug)]
pub struct SessionLayer {
    engine: SessionEngine,
}

impl SessionLayer {
    /// A layer for `engine`.
    ///
    /// ```
    /// # use sealed_session::{axum::SessionLayer, Secret, SessionBuilder};
    /// let layer = SessionLayer::new(SessionBuilder::new(Secret::generate()).build().unwrap());
    /// assert_eq!(layer.engine().cookie().name(), "__Host-session");
    /// ```
    pub fn new(engine: SessionEngine) -> SessionLayer {
        SessionLayer { engine }
    }

    /// The engine in use.
    ///
    /// ```
    /// # use sealed_session::{axum::SessionLayer, Secret, SessionBuilder};
    /// let layer = SessionLayer::new(SessionBuilder::new(Secret::generate()).max_cookies(2).build().unwrap());
    /// assert_eq!(layer.engine().cookie().max_cookies(), 2);
    /// ```
    pub fn engine(&self) -> &SessionEngine {
        &self.engine
    }
}

impl<S> tower_layer::Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> SessionService<S> {
        SessionService {
            inner,
            engine: self.engine.clone(),
        }
    }
}

/// The service [`SessionLayer`] wraps around an inner service.
///
/// ```
/// use sealed_session::{axum::SessionLayer, Secret, SessionBuilder};
/// use tower_layer::Layer;
///
/// let layer = SessionLayer::new(SessionBuilder::new(Secret::generate()).build().unwrap());
/// let service = layer.layer(tower::service_fn(|_req: http::Request<()>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// }));
/// # let _ = service;
/// ```
#[derive(Clone, Debug)]
pub struct SessionService<S> {
    inner: S,
    engine: SessionEngine,
}

impl<S, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for SessionService<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = http::Response<ResBody>>,
    ResBody: From<String>,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = SessionFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let plain = plain_http_host_of(&self.engine, req.uri(), req.headers());
        let cookies = req.headers().get_all(header::COOKIE).iter();
        let session = self
            .engine
            .start_from(cookies.map(HeaderValue::as_bytes), plain);
        if let Some(outer) = req.extensions().get::<Session>() {
            outer.supersede();
        }
        req.extensions_mut().insert(session.clone());
        SessionFuture {
            response: self.inner.call(req),
            session,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`SessionService`]: the inner service's response, then the
    /// session's `Set-Cookie` headers. A named type rather than a boxed one, so a request
    /// costs no allocation for it; `Send` whenever the inner future is.
    pub struct SessionFuture<F> {
        #[pin]
        response: F,
        session: Session,
    }
}

impl<F, ResBody, E> Future for SessionFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
    ResBody: From<String>,
{
    type Output = Result<http::Response<ResBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut res = ready!(this.response.poll(cx))?;
        if let Err(failed) = this.session.finish(&mut res) {
            res = json_response(failed.body().to_owned());
        }
        Poll::Ready(Ok(res))
    }
}

fn json_response<B: From<String>>(body: String) -> http::Response<B> {
    let mut res = http::Response::new(B::from(body));
    *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// Extracting [`Session`] on a route without [`SessionLayer`]: a 500 with an opaque body;
/// the log names the layer to add.
#[derive(Debug)]
struct MissingSessionLayer;

impl IntoResponse for MissingSessionLayer {
    fn into_response(self) -> Response {
        json_response(opaque_body(&missing_layer_message(LAYER)))
    }
}

/// The request's [`Session`], in a handler's arguments.
///
/// ```
/// use axum::{routing::post, Router};
/// use sealed_session::axum::SessionLayer;
/// use sealed_session::{Secret, Session, SessionBuilder};
/// use tower::ServiceExt as _;
///
/// async fn login(session: Session) -> Result<(), sealed_session::Error> {
///     session.regenerate()?;
///     session.insert("user_id", &42u64)
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
/// let app = Router::new().route("/login", post(login)).layer(SessionLayer::new(engine));
/// let req = http::Request::post("/login").body(axum::body::Body::empty()).unwrap();
/// let res = app.oneshot(req).await.unwrap();
/// assert!(res.headers().contains_key("set-cookie"));
/// # });
/// ```
impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(session) = parts.extensions.get::<Session>().cloned() else {
            tracing::error!("{}", missing_layer_message(LAYER));
            return Err(MissingSessionLayer.into_response());
        };
        // A revoked session is purged before the handler can read it.
        session
            .revalidate()
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(session)
    }
}

/// A session error returned from a handler with `?`: a 500 whose body says nothing but the
/// size and limit of a session that did not fit; the details go to the log.
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        tracing::error!(error = %self, "session error in a handler");
        json_response(error_body(&self))
    }
}
