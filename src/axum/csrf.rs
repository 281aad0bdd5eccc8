//! The tower CSRF layer: unsafe requests need the session's token and a same-origin
//! `Origin`; every other request passes untouched.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use http::{Request, StatusCode, header};

use crate::csrf::{AllowedOrigins, MAX_FORM_BYTES, REFUSED_BODY, TOKEN_HEADER, form_token};
use crate::session::{CsrfGate, Session, csrf_gate};

/// A `tower::Layer` that refuses unsafe requests (`POST`, `PUT`, `PATCH`, `DELETE`, …) that
/// do not carry a CSRF token of the session in the `X-CSRF-Token` header, or that come from
/// another origin (`Sec-Fetch-Site: cross-site`, or an `Origin` that is not this host): an
/// opaque `403 {"error":"CSRF check failed"}`, and the inner service never sees them.
///
/// The token is read from the `X-CSRF-Token` header (a `fetch`), or, when that is absent,
/// from the `csrf_token` field of a URL-encoded form body (an HTML `<form>`; at most 64 KiB
/// of it are read, and the body is handed on unchanged). A `multipart/form-data` form sends
/// the header, or its route checks [`Session::verify_csrf`] itself. A session due for
/// revalidation is revalidated first: a revoked session's token does not pass.
///
/// Hand tokens out with [`Session::csrf_token`]. The layer reads the session, so it goes
/// *inside* [`SessionLayer`](super::SessionLayer): in axum, the layer added last is the
/// outermost.
///
/// ```
/// use axum::{routing::post, Router};
/// use sealed_session::axum::{CsrfLayer, SessionLayer};
/// use sealed_session::{Secret, SessionBuilder};
///
/// let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
/// let app: Router = Router::new()
///     .route("/transfer", post(|| async { "done" }))
///     .layer(CsrfLayer::new())               // inner: runs second
///     .layer(SessionLayer::new(engine));     // outer: runs first
/// # let _ = app;
/// ```
#[derive(Clone, Debug, Default)]
pub struct CsrfLayer {
    allowed: AllowedOrigins,
}

impl CsrfLayer {
    /// A layer that accepts the request's own host as the only origin.
    pub fn new() -> CsrfLayer {
        CsrfLayer::default()
    }

    /// Also accepts unsafe requests from `origin` (`https://admin.example.com`): another
    /// front end of the same application.
    pub fn allow_origin(self, origin: impl Into<String>) -> CsrfLayer {
        CsrfLayer {
            allowed: self.allowed.with(origin.into()),
        }
    }
}

impl<S> tower_layer::Layer<S> for CsrfLayer {
    type Service = CsrfService<S>;

    fn layer(&self, inner: S) -> CsrfService<S> {
        CsrfService {
            inner,
            allowed: self.allowed.clone(),
        }
    }
}

/// The service [`CsrfLayer`] wraps around an inner service.
#[derive(Clone, Debug)]
pub struct CsrfService<S> {
    inner: S,
    allowed: AllowedOrigins,
}

impl<S> tower_service::Service<Request<Body>> for CsrfService<S>
where
    S: tower_service::Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = CsrfFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let session = req.extensions().get::<Session>().cloned();
        let headers = req.headers();
        let gate = csrf_gate(
            session,
            req.method().as_str(),
            |name| headers.get(name).map(|v| v.as_bytes()),
            self.allowed.as_slice(),
        );
        let (session, form) = match gate {
            CsrfGate::Pass => {
                return CsrfFuture::Pass {
                    response: self.inner.call(req),
                };
            }
            CsrfGate::Refuse => {
                return CsrfFuture::Refused {
                    response: Some(refused()),
                };
            }
            CsrfGate::Check { session, form } => (session, form),
        };
        // The service that was polled ready answers this request; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        CsrfFuture::Checking {
            response: Box::pin(async move {
                let mut req = req;
                let token = if form {
                    // The token is a field of the form: read the body (bounded), and put it
                    // back for the handler.
                    let (parts, body) = req.into_parts();
                    let Ok(body) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
                        return Ok(refused());
                    };
                    let token = form_token(&body).map(<[u8]>::to_vec);
                    req = Request::from_parts(parts, Body::from(body));
                    token
                } else {
                    req.headers()
                        .get(TOKEN_HEADER)
                        .map(|v| v.as_bytes().to_vec())
                };
                if session.csrf_token_passes(token.as_deref()).await {
                    inner.call(req).await
                } else {
                    Ok(refused())
                }
            }),
        }
    }
}

/// The opaque 403 of a refused request: nothing about why.
fn refused() -> Response {
    let mut refused = Response::new(Body::from(REFUSED_BODY));
    *refused.status_mut() = StatusCode::FORBIDDEN;
    refused.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    refused
}

/// The response of an unsafe request whose token is being checked.
type Checking<E> = Pin<Box<dyn Future<Output = Result<Response, E>> + Send>>;

pin_project_lite::pin_project! {
    /// The response future of [`CsrfService`]: the inner service's response, the 403, or a
    /// token check and then one of those.
    #[doc(hidden)]
    #[project = CsrfFutureProj]
    pub enum CsrfFuture<F, E> {
        Pass { #[pin] response: F },
        Refused { response: Option<Response> },
        Checking { response: Checking<E> },
    }
}

impl<F, E> Future for CsrfFuture<F, E>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            CsrfFutureProj::Pass { response } => response.poll(cx),
            // Polled once: the 403 is ready from the start.
            CsrfFutureProj::Refused { response } => match response.take() {
                Some(r) => Poll::Ready(Ok(r)),
                None => Poll::Pending,
            },
            CsrfFutureProj::Checking { response } => response.as_mut().poll(cx),
        }
    }
}
