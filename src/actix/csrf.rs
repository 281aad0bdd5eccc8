//! The actix-web CSRF middleware: unsafe requests need the session's token and a
//! same-origin `Origin`; every other request passes untouched.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpResponse, web};

use crate::csrf::{AllowedOrigins, MAX_FORM_BYTES, REFUSED_BODY, TOKEN_HEADER, form_token};
use crate::session::{CsrfGate, Session, csrf_gate};

/// Refuses unsafe requests (`POST`, `PUT`, `PATCH`, `DELETE`, …) that do not carry a CSRF
/// token of the session in the `X-CSRF-Token` header, or that come from another origin
/// (`Sec-Fetch-Site: cross-site`, or an `Origin` that is not this host): an opaque
/// `403 {"error":"CSRF check failed"}`, and the handler never runs.
///
/// The token is read from the `X-CSRF-Token` header (a `fetch`), or, when that is absent,
/// from the `csrf_token` field of a URL-encoded form body (an HTML `<form>`; at most 64 KiB
/// of it are read, and the body is handed on unchanged). A `multipart/form-data` form sends
/// the header, or its route checks [`Session::verify_csrf`] itself. A session due for
/// revalidation is revalidated first: a revoked session's token does not pass.
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
    allowed: AllowedOrigins,
}

impl CsrfMiddleware {
    /// A middleware that accepts the request's own host as the only origin.
    pub fn new() -> CsrfMiddleware {
        CsrfMiddleware::default()
    }

    /// Also accepts unsafe requests from `origin` (`https://admin.example.com`): another
    /// front end of the same application.
    pub fn allow_origin(self, origin: impl Into<String>) -> CsrfMiddleware {
        CsrfMiddleware {
            allowed: self.allowed.with(origin.into()),
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
            service: Rc::new(service),
            allowed: self.allowed.clone(),
        }))
    }
}

/// The service [`CsrfMiddleware`] wraps around an app (built by actix, not by users).
#[doc(hidden)]
pub struct CsrfService<S> {
    service: Rc<S>,
    allowed: AllowedOrigins,
}

impl<S, B> Service<ServiceRequest> for CsrfService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = CsrfFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
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
                    response: self.service.call(req),
                };
            }
            CsrfGate::Refuse => {
                return CsrfFuture::Refused {
                    response: Some(refuse(req)),
                };
            }
            CsrfGate::Check { session, form } => (session, form),
        };
        let service = Rc::clone(&self.service);
        CsrfFuture::Checking {
            response: Box::pin(async move {
                let mut req = req;
                let token = if form {
                    // The token is a field of the form: read the body (bounded), and put it
                    // back for the handler.
                    let body = match req.extract::<web::Payload>().await {
                        Ok(payload) => payload.to_bytes_limited(MAX_FORM_BYTES).await,
                        Err(_) => return Ok(refuse(req).map_into_right_body()),
                    };
                    let Ok(Ok(body)) = body else {
                        return Ok(refuse(req).map_into_right_body());
                    };
                    let token = form_token(&body).map(<[u8]>::to_vec);
                    req.set_payload(Payload::from(body));
                    token
                } else {
                    req.headers()
                        .get(TOKEN_HEADER)
                        .map(|v| v.as_bytes().to_vec())
                };
                if session.csrf_token_passes(token.as_deref()).await {
                    service
                        .call(req)
                        .await
                        .map(ServiceResponse::map_into_left_body)
                } else {
                    Ok(refuse(req).map_into_right_body())
                }
            }),
        }
    }
}

/// The opaque 403 of a refused request: nothing about why.
fn refuse(req: ServiceRequest) -> ServiceResponse {
    let refused = HttpResponse::build(StatusCode::FORBIDDEN)
        .content_type("application/json")
        .body(REFUSED_BODY);
    req.into_response(refused)
}

/// The response of an unsafe request whose token is being checked.
type Checking<B> =
    Pin<Box<dyn Future<Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>>>>;

pin_project_lite::pin_project! {
    /// The response future of [`CsrfService`]: the app's response, the 403, or a token
    /// check and then one of those.
    #[doc(hidden)]
    #[project = CsrfFutureProj]
    pub enum CsrfFuture<F, B> {
        Pass { #[pin] response: F },
        Refused { response: Option<ServiceResponse> },
        Checking { response: Checking<B> },
    }
}

impl<F, B> Future for CsrfFuture<F, B>
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
            CsrfFutureProj::Checking { response } => response.as_mut().poll(cx),
        }
    }
}
