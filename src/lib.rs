#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
//! Stateless, encrypted cookie sessions.
//!
//! All session state lives in the client's cookies, so there is no session store to run:
//! the data is serialized with postcard, compressed when that makes it smaller, sealed with an
//! AEAD (XAES-256-GCM by default; XChaCha20-Poly1305 and AES-256-GCM selectable) under keys derived with HKDF
//! from secrets you can rotate, base64url-encoded, and checked against the 4096 bytes a browser
//! keeps per cookie (split across several cookies if you allow it).
//!
//! # The pieces, in the order data flows
//!
//! | item | owns |
//! |---|---|
//! | [`keys`] | secrets, HKDF derivation, key ids, rotation order, epoch keys |
//! | [`format`](mod@format) | the sealed wire format (see `FORMAT.md`), compression, base64url |
//! | [`session`] | the session map ([`SessionState`]), change tracking, timestamps and expiry |
//! | [`cookies`] | cookie attributes, the size limit, chunking, reading a request's cookies |
//! | [`SessionConfig`] → [`SessionEngine`] | settings with secure defaults, validated once into the engine |
//! | [`Session`] | the per-request handle: opens lazily, decides what the response writes back |
//! | [`response`] | what the lifecycle writes to a response: `Set-Cookie`, cache headers |
//! | `actix` (feature `actix`, default), `axum` (feature `axum`) | thin adapters for the two frameworks |
//!
//! # Quick start
//!
//! With actix-web, wrap the app in [`actix::SessionMiddleware`](crate::actix) and take a
//! [`Session`] in handlers; with axum or any tower stack, add `axum::SessionLayer` and take
//! the same [`Session`]. Both modules' docs have a complete program. Without a framework, on
//! plain `http` types:
//!
//! ```
//! use sealed_session::{Keyring, Secret, SessionConfig};
//!
//! let engine = SessionConfig::new(Keyring::new(Secret::generate())).build()?;
//!
//! // Request 1: no cookie, a new session; the handler stores something.
//! let session = engine.start_headers(&http::HeaderMap::new());
//! session.insert("user_id", &42u64)?;
//! let mut response = http::Response::new(());
//! session.finish(&mut response).map_err(|e| e.error().clone())?;
//!
//! // Request 2: the browser sends the cookie back.
//! let set_cookie = response.headers()[http::header::SET_COOKIE].to_str()?;
//! let mut request = http::HeaderMap::new();
//! request.insert(http::header::COOKIE, set_cookie.split(';').next().unwrap().parse()?);
//! let session = engine.start_headers(&request);
//! assert_eq!(session.get::<u64>("user_id")?, Some(42));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What it protects against, and what it cannot
//!
//! Sealed cookies are confidential (the client cannot read them) and authentic (any change,
//! or moving a value to another cookie name, is detected). Expiry is enforced from timestamps
//! inside the ciphertext, so a client that ignores `Max-Age` gains nothing. Responses that
//! set a session are marked `Cache-Control: private`, and responses that read one
//! `Vary: Cookie`. A stateless session cannot be revoked before it expires: a stolen cookie
//! can be replayed until its idle or absolute deadline, and "logging out" only removes the
//! cookie from that one browser. Keep timeouts short for sensitive applications, and rotate
//! keys to invalidate every session at once. README.md's Security section has the details.
//!
//! # Non-goals
//!
//! No server-side store, no session ids, no CSRF tokens (use `SameSite` and a CSRF crate), no
//! signed-but-readable cookies: every cookie is encrypted.

mod config;
pub mod cookies;
mod engine;
mod error;
pub mod format;
mod handle;
pub mod inspect;
pub mod keys;
#[cfg(feature = "actix-session-import")]
#[allow(
    dead_code,
    reason = "the importer's decoder: the request lifecycle calls it once the importer is wired in"
)]
mod legacy;
pub mod metrics;
mod random;
pub mod response;
pub mod session;
mod xaes;

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;

#[cfg(feature = "__fuzzing")]
#[doc(hidden)]
pub mod internals;

pub use config::{
    Clock, Migration, Revalidation, RevalidationFuture, ServerErrorWrites, SessionConfig,
    TooLargePolicy, Verdict, DEFAULT_MAX_SESSION_BYTES,
};
pub use cookies::{CookieConfig, SameSite};
pub use engine::{Deadlines, LoadOutcome, Loaded, SessionEngine};
pub use error::{Error, Rejection};
pub use format::Compression;
pub use handle::Session;
pub use keys::{Algorithm, EpochKeys, KeyId, Keyring, Keys, Secret};
pub use response::{ErrorResponse, ResponseHeaders};
pub use session::{Expiry, SessionState, Status};
