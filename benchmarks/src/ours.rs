//! Everything the benchmarks name from `sealed_session`, in one place: when the library's public
//! API is renamed, this file is the one to change. The other modules and binaries use the local
//! names below ([`Engine`], [`State`], [`Session`], [`ActixMiddleware`], [`AxumLayer`],
//! [`Options`], [`engine`]) and the methods of these types.
//!
//! Every engine is keyed by a fixed secret (`[seed; 32]`, seed 7 unless said otherwise) and
//! names its cookie `session`; everything else is the library's default unless an [`Options`]
//! field says otherwise.

use serde::Serialize;

pub use sealed_session::{Algorithm, Compression, Error};

/// A built session engine (settings validated once, shared by every request).
pub type Engine = sealed_session::SessionEngine;
/// A session's contents, as the codec seals and opens them.
pub type State = sealed_session::SessionState;
/// The per-request session handle, and the extractor of both adapters.
pub type Session = sealed_session::Session;
/// The actix-web middleware.
pub type ActixMiddleware = sealed_session::actix::SessionMiddleware;
/// The axum (tower) layer.
pub type AxumLayer = sealed_session::axum::SessionLayer;

/// The most bytes (name + value) a browser keeps per cookie (FORMAT.md, *Chunking across
/// cookies*).
pub const MAX_COOKIE_BYTES: usize = 4096;
/// The largest session plaintext the format can carry: the decompression cap, 256 KiB
/// (FORMAT.md, *Plaintext*).
pub const MAX_PLAINTEXT: usize = 256 * 1024;

/// The cookie name every benchmark uses.
pub const COOKIE_NAME: &str = "session";

/// Settings that differ from the library's defaults; `None` keeps the default.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// The AEAD (default XAES-256-GCM).
    pub algorithm: Option<Algorithm>,
    /// LZ4 (default: when it helps, for bodies of 512 bytes or more).
    pub compression: Option<Compression>,
    /// How many cookies a session may span (default 1).
    pub max_cookies: Option<usize>,
    /// The bound on a serialized session (default 64 KiB).
    pub max_session_bytes: Option<usize>,
}

impl Options {
    /// The defaults with another algorithm.
    pub fn algorithm(algorithm: Algorithm) -> Options {
        Options {
            algorithm: Some(algorithm),
            ..Options::default()
        }
    }
}

fn secret(seed: u8) -> sealed_session::Secret {
    sealed_session::Secret::from_bytes(&[seed; 32]).expect("32 bytes")
}

/// An engine with the library's defaults but for `options`, keyed by `[7; 32]`.
pub fn engine(options: Options) -> Engine {
    engine_with_keys(&[7], options)
}

/// An engine whose keyring holds one secret per seed (the first one seals), with `options`.
pub fn engine_with_keys(seeds: &[u8], options: Options) -> Engine {
    let keys = sealed_session::Keyring::from_secrets(seeds.iter().map(|&s| secret(s)))
        .expect("valid keyring");
    let mut config = sealed_session::SessionBuilder::new(keys).cookie_name(COOKIE_NAME);
    if let Some(a) = options.algorithm {
        config = config.algorithm(a);
    }
    if let Some(c) = options.compression {
        config = config.compression(c);
    }
    if let Some(n) = options.max_cookies {
        config = config.max_cookies(n);
    }
    if let Some(n) = options.max_session_bytes {
        config = config.max_session_bytes(n);
    }
    config.build().expect("valid configuration")
}

/// A new session holding `value` under `key`.
pub fn state_of<T: Serialize + ?Sized>(key: &str, value: &T) -> State {
    let mut s = State::new();
    s.insert(key, value).expect("serializable");
    s
}

/// The `Set-Cookie` values a response creating a session that holds `value` under `key` sends.
pub fn set_cookies<T: Serialize + ?Sized>(engine: &Engine, key: &str, value: &T) -> Vec<String> {
    engine
        .set_cookies(&mut state_of(key, value))
        .expect("the session fits")
}
