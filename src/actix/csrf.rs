//! The actix-web CSRF middleware: unsafe requests need the session's token and a
//! same-origin `Origin`; every other request passes untouched.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpResponse};

use crate::csrf::REFUSED_BODY;
use crate::session::{Session, csrf_request_allowed};

/// Refuses unsafe requests (`POST`, `PUT`, `PATCH`, `DELETE`, …) that do not carry a CSRF
/// token of the session in the `X-CSRF-Token` header, or that come from another origin
/// (`Sec-Fetch-Site: cross-site`, or an `Origin` that is not this host): an opaque
/// `403 {"error":"CSRF check failed"}`, and the handler never runs.
///
/// Hand tokens out with [`Session::csrf_token`]. The middleware reads the session, so it
/// goes *inside* [`SessionMiddleware`](super::SessionMiddleware): in actix-web the last
/// `wrap` is the outermost.
///
/// ```
/// use actix_web::App;
/// use sealed_session::actix::{CsrfMiddleware, SessionMiddleware};
/// use sealed_session::{Secret, SessionBuilder};
///
/// let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
/// let app = App::new()
///     .wrap(CsrfMiddleware::new())               // inner: runs second
///     .wrap(SessionMiddleware::new(engine));     // outer: runs first
/// # let _ = app;
/// ```
#[derive(Clone, Debug, Default)]
pub struct CsrfMiddleware {
    allowed: Arc<[String]>,
}

impl CsrfMiddleware {
    /// A middleware that accepts the request's own host as the only origin.
    pub fn new() -> CsrfMiddleware {
        CsrfMiddleware::default()
    }

    /// Also accepts unsafe requests from `origin` (`https://admin.example.com`): another
    /// front end of the same application.
    pub fn allow_origin(self, origin: impl Into<String>) -> CsrfMiddleware {
        let mut allowed = self.allowed.to_vec();
        allowed.push(origin.into());
        CsrfMiddleware {
            allowed: allowed.into(),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for CsrfMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = CsrfService<S>;
    type InitError = ();
    type Future = Ready<Result<CsrfService<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(CsrfService {
            service,
            allowed: Arc::clone(&self.allowed),
        }))
    }
}

/// The service [`CsrfMiddleware`] wraps around an app (built by actix, not by users).
#[doc(hidden)]
pub struct CsrfService<S> {
    service: S,
    allowed: Arc<[String]>,
}

impl<S, B> Service<ServiceRequest> for CsrfService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = CsrfFuture<S::Future>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let session = req.extensions().get::<Session>().cloned();
        let headers = req.headers();
        let allowed = csrf_request_allowed(
            session.as_ref(),
            req.method().as_str(),
            |name| headers.get(name).map(|v| v.as_bytes()),
            &self.allowed,
        );
        if allowed {
            return CsrfFuture::Pass {
                response: self.service.call(req),
            };
        }
        let refused = HttpResponse::build(StatusCode::FORBIDDEN)
            .content_type("application/json")
            .body(REFUSED_BODY);
        CsrfFuture::Refused {
            response: Some(req.into_response(refused)),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`CsrfService`]: the app's response, or the 403.
    #[doc(hidden)]
    #[project = CsrfFutureProj]
    pub enum CsrfFuture<F> {
        Pass { #[pin] response: F },
        Refused { response: Option<ServiceResponse> },
    }
}

impl<F, B> Future for CsrfFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            CsrfFutureProj::Pass { response } => response
                .poll(cx)
                .map(|r| r.map(ServiceResponse::map_into_left_body)),
            // Polled once: the 403 is ready from the start.
            CsrfFutureProj::Refused { response } => match response.take() {
                Some(r) => Poll::Ready(Ok(r.map_into_right_body())),
                None => Poll::Pending,
            },
        }
    }
}
