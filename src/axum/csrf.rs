//! The tower CSRF layer: unsafe requests need the session's token and a same-origin
//! `Origin`; every other request passes untouched.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, StatusCode, header};

use crate::csrf::REFUSED_BODY;
use crate::session::{Session, csrf_request_allowed};

/// A `tower::Layer` that refuses unsafe requests (`POST`, `PUT`, `PATCH`, `DELETE`, …) that
/// do not carry a CSRF token of the session in the `X-CSRF-Token` header, or that come from
/// another origin (`Sec-Fetch-Site: cross-site`, or an `Origin` that is not this host): an
/// opaque `403 {"error":"CSRF check failed"}`, and the inner service never sees them.
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
    allowed: Arc<[String]>,
}

impl CsrfLayer {
    /// A layer that accepts the request's own host as the only origin.
    pub fn new() -> CsrfLayer {
        CsrfLayer::default()
    }

    /// Also accepts unsafe requests from `origin` (`https://admin.example.com`): another
    /// front end of the same application.
    pub fn allow_origin(self, origin: impl Into<String>) -> CsrfLayer {
        let mut allowed = self.allowed.to_vec();
        allowed.push(origin.into());
        CsrfLayer {
            allowed: allowed.into(),
        }
    }
}

impl<S> tower_layer::Layer<S> for CsrfLayer {
    type Service = CsrfService<S>;

    fn layer(&self, inner: S) -> CsrfService<S> {
        CsrfService {
            inner,
            allowed: Arc::clone(&self.allowed),
        }
    }
}

/// The service [`CsrfLayer`] wraps around an inner service.
#[derive(Clone, Debug)]
pub struct CsrfService<S> {
    inner: S,
    allowed: Arc<[String]>,
}

impl<S, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for CsrfService<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = http::Response<ResBody>>,
    ResBody: From<String>,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = CsrfFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let session = req.extensions().get::<Session>();
        let headers = req.headers();
        let allowed = csrf_request_allowed(
            session,
            req.method().as_str(),
            |name| headers.get(name).map(|v| v.as_bytes()),
            &self.allowed,
        );
        if allowed {
            return CsrfFuture::Pass {
                response: self.inner.call(req),
            };
        }
        let mut refused = http::Response::new(ResBody::from(REFUSED_BODY.to_owned()));
        *refused.status_mut() = StatusCode::FORBIDDEN;
        refused.headers_mut().insert(
            header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        CsrfFuture::Refused {
            response: Some(refused),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`CsrfService`]: the inner service's response, or the 403.
    #[doc(hidden)]
    #[project = CsrfFutureProj]
    pub enum CsrfFuture<F, B> {
        Pass { #[pin] response: F },
        Refused { response: Option<http::Response<B>> },
    }
}

impl<F, B, E> Future for CsrfFuture<F, B>
where
    F: Future<Output = Result<http::Response<B>, E>>,
{
    type Output = Result<http::Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            CsrfFutureProj::Pass { response } => response.poll(cx),
            // Polled once: the 403 is ready from the start.
            CsrfFutureProj::Refused { response } => match response.take() {
                Some(r) => Poll::Ready(Ok(r)),
                None => Poll::Pending,
            },
        }
    }
}
