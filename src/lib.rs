#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
//! Stateless, encrypted cookie sessions for actix-web and axum: no Redis, no session store.
//!
//! A session lives in the client's cookies: serialized with postcard, compressed when that
//! makes it smaller, sealed with an AEAD (XAES-256-GCM by default) under keys derived with
//! HKDF from secrets you rotate without downtime, base64url-encoded, and checked against the
//! 4096 bytes a browser keeps per cookie (split across several cookies if you allow it).
//!
//! # On actix-web
//!
//! Wrap the app in [`actix::SessionMiddleware`](crate::actix) (feature `actix`, the default)
//! and take a [`Session`] in handlers:
//!
//! ```rust,ignore
#![doc = include_str!("../examples/actix_counter.rs")]
//! ```
//!
//! # On axum, or any tower stack
//!
//! Add `axum::SessionLayer` (feature `axum`; with `default-features = false, features =
//! ["axum"]` nothing of actix-web is built) and take the same [`Session`]:
//!
//! ```rust,ignore
#![doc = include_str!("../examples/axum_counter.rs")]
//! ```
//!
//! A handler error of type [`Error`] becomes an opaque 500 in both. [`Session`] is `Clone`,
//! `Send` and `Sync`, so it can be held across `.await`s.
//!
//! # Coming from express-session, actix-session or tower-sessions
//!
//! | express-session | actix-session | tower-sessions | here |
//! |---|---|---|---|
//! | `secret: [new, old]` | `Key` (one, no rotation) | `Key` (one, no rotation) | [`Keyring`]: newest first, old ones open and are re-sealed; or [`EpochKeys`] |
//! | `rolling: true` | `TtlExtensionPolicy::OnEveryRequest` | `Expiry::OnInactivity` | [`refresh_share(0.0)`](SessionBuilder::refresh_share) (default 0.25: refresh once a quarter of the idle timeout has passed) |
//! | `saveUninitialized: false` | (default) | (default) | always: an empty new session sends no cookie |
//! | `resave: false` | `OnStateChanges` | (default) | always: an unchanged session is not re-sent |
//! | `req.session.regenerate()` (new, empty session) | `Session::renew` (keeps the data) | `Session::cycle_id` (keeps the data) | [`Session::regenerate`] (new and empty; at login) or [`Session::renew`] (new lifetime, same data) |
//! | `req.session.destroy()` | `Session::purge` | `Session::flush` | [`Session::purge`] |
//! | `req.session.touch()` | — | — | [`Session::touch`] |
//! | `cookie.maxAge` | `PersistentSession::session_ttl` | `Expiry::OnInactivity(d)` | [`idle_timeout`](SessionBuilder::idle_timeout) and [`absolute_timeout`](SessionBuilder::absolute_timeout), both enforced server-side from inside the cookie |
//! | `cookie.maxAge = null` | `BrowserSession` | `Expiry::OnSessionEnd` | [`persistent(false)`](SessionBuilder::persistent), or per session [`Session::set_persistent`] ("remember me") |
//! | `connect-flash` | actix-web-flash-messages (its own cookie) | axum-flash (its own cookie) | [`Session::flash`], [`Session::take_flashes`]: in the session, read once |
//! | `csurf` | — | — | [`Session::csrf_token`] and the adapters' `CsrfMiddleware` / `CsrfLayer` |
//! | — | (switching logs everyone out) | — | `SessionBuilder::import_legacy` (feature `actix-session-import`): actix-session's cookies are imported once |
//!
//! # Without a framework
//!
//! The whole request lifecycle works on plain `http` types: an adapter is a few lines.
//!
//! ```
//! use sealed_session::{Keyring, Secret, SessionBuilder};
//!
//! let engine = SessionBuilder::new(Keyring::new(Secret::generate())).build()?;
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
//! # The pieces, in the order data flows
//!
//! | item | owns |
//! |---|---|
//! | [`Secret`], [`Keyring`], [`EpochKeys`] | secrets, HKDF derivation, key ids, rotation order |
//! | (private) the wire format | the sealed value (see `FORMAT.md`), compression, base64url, the `Set-Cookie` writer, the bounded `Cookie` reader |
//! | [`SessionState`] | the session map, change tracking, timestamps; flash messages and the CSRF secret as the crate's own entries |
//! | [`SessionBuilder`] → [`SessionEngine`] | settings with secure defaults, validated once into the engine |
//! | `LegacyImport` (feature `actix-session-import`) | opening another library's cookie once, for the engine to import |
//! | [`Session`] | the per-request handle: opens lazily, finishes what the engine decides the response writes; hands out and checks CSRF tokens |
//! | [`adapter`] | what an adapter needs beyond the handle: [`ResponseHeaders`](adapter::ResponseHeaders), [`ErrorResponse`](adapter::ErrorResponse) |
//! | `actix` (feature `actix`, default), `axum` (feature `axum`) | thin adapters for the two frameworks |
//! | [`testing`] | a test kit for applications: a clock to move, a cookie jar, a logged-in client |
//! | [`inspect`], [`metrics`] | looking inside cookies; metric names (feature `metrics`) |
//!
//! # Cargo features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `actix` | yes | the actix-web 4 middleware and `Session` extractor |
//! | `axum` | no | the axum 0.8 extractor and a tower layer (an axum app: `default-features = false, features = ["axum"]`) |
//! | `metrics` | no | counters and histograms through the `metrics` facade |
//! | `actix-session-import` | no | opening actix-session 0.11's private cookies once, for a move without logging anyone out |
//! | `ring` | no | AES-256-GCM (and the keys XAES-256-GCM derives) through `ring`'s assembly: the same bytes, less CPU per request; compiles C and assembly (for wasm32, keep the pure-Rust default), and `ring` does not zeroize its key schedules |
//!
//! # What it protects against, and what it cannot
//!
//! Sealed cookies are confidential (the client cannot read them) and authentic (any change,
//! or moving a value to another cookie name, is detected). Expiry is enforced from timestamps
//! inside the ciphertext, so a client that ignores `Max-Age` gains nothing. Responses that
//! set a session are marked `Cache-Control: private`, and responses that read one
//! `Vary: Cookie`. A stateless session cannot be revoked before it expires unless the
//! application revalidates it ([`SessionBuilder::revalidate`]): a stolen cookie can be
//! replayed until its idle or absolute deadline, and "logging out" only removes the cookie
//! from that one browser. README.md's Security section has the details.
//!
//! # Non-goals
//!
//! No server-side store, no session ids, no signed-but-readable cookies: every cookie is
//! encrypted.

mod builder;
mod csrf;
mod engine;
mod error;
#[cfg(feature = "actix-session-import")]
mod import;
pub mod inspect;
mod keys;
pub mod metrics;
mod options;
mod policy;
mod random;
mod response;
mod session;
mod state;
pub mod testing;
mod timeouts;
mod wire;

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;

#[cfg(feature = "__fuzzing")]
#[doc(hidden)]
pub mod internals;

pub use builder::SessionBuilder;
pub use engine::{Deadlines, LoadOutcome, SessionEngine};
pub use error::{ConfigError, Error, Rejection};
#[cfg(feature = "actix-session-import")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix-session-import")))]
pub use import::{LegacyImport, LegacyKey, LegacySession};
pub use keys::{Algorithm, EpochKeys, KeyId, Keyring, Keys, Secret};
pub use options::{CookieOptions, SameSite};
pub use policy::{
    Migration, Revalidation, ServerErrorWrites, TooLargePolicy, Undecodable, Verdict,
};
pub use session::Session;
pub use state::{FlashLevel, FlashMessage, KeyName, SessionKey, SessionState, SessionStatus};
pub use timeouts::Timeouts;
pub use wire::body::Compression;

/// For adapter authors: what [`Session::finish`] writes through, and what it returns when a
/// session could not be saved. Handlers never need these.
///
/// An adapter calls [`SessionEngine::start`] with the request's `Cookie` headers, puts the
/// [`Session`] where handlers find it, and calls [`Session::finish`] on the response (or
/// [`Session::supersede`] on an outer layer's handle). `src/axum.rs` is a complete adapter
/// in about 120 lines.
pub mod adapter {
    pub use crate::response::{ErrorResponse, ResponseHeaders};
}
