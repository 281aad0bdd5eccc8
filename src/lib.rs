#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
//! Stateless, encrypted cookie sessions.
//!
//! All session state lives in the client's cookies, so there is no session store to run:
//! the data is serialized with postcard, compressed when that makes it smaller, sealed with an
//! AEAD (XChaCha20-Poly1305 by default, AES-256-GCM selectable) under keys derived with HKDF
//! from secrets you can rotate, base64url-encoded, and checked against the 4096 bytes a browser
//! keeps per cookie (split across several cookies if you allow it).
//!
//! The layers, each a module, data flowing down on write and up on read:
//!
//! | module | owns |
//! |---|---|
//! | [`keys`] | secrets, HKDF derivation, key ids, rotation order, epoch keys |
//! | [`format`](mod@format) | the sealed wire format (see `FORMAT.md`), compression, base64url |
//! | [`session`] | the session map, change tracking, timestamps and expiry |
//! | [`cookies`] | cookie attributes, the size limit, chunking, on `http` types |
//! | [`SessionEngine`] | the pipeline an adapter drives: `load` then `finish` |
//! | `actix` (feature `actix`) | the actix-web middleware and `Session` extractor |
//!
//! # Framework-free use
//!
//! ```
//! use sealed_session::{Keyring, Secret, SessionConfig, SessionEngine};
//!
//! let config = SessionConfig::new(Keyring::new(Secret::generate())).build()?;
//!
//! // Request 1: no cookie, a new session; the handler stores something.
//! let request = http::HeaderMap::new();
//! let mut loaded = config.load_headers(&request);
//! loaded.session.insert("user_id", &42u64)?;
//! let set_cookies = config.finish_headers(&request, Some(&mut loaded.session), loaded.outcome)?;
//!
//! // Request 2: the browser sends the cookie back.
//! let mut request = http::HeaderMap::new();
//! let pair = set_cookies[0].to_str().unwrap().split(';').next().unwrap().to_owned();
//! request.insert(http::header::COOKIE, pair.parse().unwrap());
//! let loaded = config.load_headers(&request);
//! assert_eq!(loaded.session.get::<u64>("user_id")?, Some(42));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What it protects against, and what it cannot
//!
//! Sealed cookies are confidential (the client cannot read them) and authentic (any change,
//! or moving a value to another cookie name, is detected). Expiry is enforced from timestamps
//! inside the ciphertext, so a client that ignores `Max-Age` gains nothing. A stateless
//! session cannot be revoked before it expires: a stolen cookie can be replayed until its idle
//! or absolute deadline, and "logging out" only removes the cookie from that one browser.
//! Keep timeouts short for sensitive applications, and rotate keys to invalidate every
//! session at once.

mod config;
pub mod cookies;
mod error;
pub mod format;
pub mod keys;
mod random;
pub mod session;

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;

#[cfg(feature = "__fuzzing")]
#[doc(hidden)]
pub mod internals;

pub use config::{Clock, Deadlines, LoadOutcome, Loaded, SessionConfig, SessionEngine};
pub use cookie::SameSite;
pub use cookies::CookieConfig;
pub use error::{Error, Rejection};
pub use format::Compression;
pub use keys::{Algorithm, EpochKeys, KeyId, Keyring, Keys, Secret};
pub use session::{Expiry, SessionState, Status};
