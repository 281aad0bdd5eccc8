//! The baselines the codec bench, the size table and the profiling loop compare
//! `sealed-session` with.
//!
//! * [`ActixCookie`]: what actix-session 0.11's `CookieSessionStore` with the default
//!   `CookieContentSecurity::Private` does with the same data. `Session::insert` stores
//!   `serde_json::to_string(value)` in a `HashMap<String, String>`; the store's `save` is
//!   `serde_json::to_string(&map)` checked into a `SessionKey` (at most 4064 bytes); the
//!   middleware's `set_session_cookie` puts it in a cookie named `id` and encrypts it with
//!   `CookieJar::private_mut(&key).add(..)` (AES-256-GCM, value = base64(nonce || ct || tag)),
//!   then formats the `Set-Cookie` header with `Cookie::encoded()`. Reading is
//!   `extract_session_key`: `jar.add_original(cookie)`, `jar.private(&key).get("id")`, the value
//!   into a `SessionKey`, and the store's `load` (`serde_json::from_str` of the map);
//!   `Session::get` is `serde_json::from_str` of one value. The store is called through its
//!   public `SessionStore` API (its futures are always ready); the cookie half uses the same
//!   `actix_web::cookie` (cookie 0.16) code the middleware uses.
//! * [`Floor`]: the least any sealed cookie can cost: postcard of the typed value, one AEAD
//!   call with a random nonce (from rand's user-space generator, the cheapest source),
//!   base64url. No header, no key id, no timestamps, no map, no compression, no size check.
//!   With XAES-256-GCM (the library's default) there are two floors: [`FloorAlg::XAes`] is
//!   RustCrypto's `xaes-256-gcm`, which derives the message key at every call (two AES blocks,
//!   an AES-256 key schedule and a GHASH key); [`FloorAlg::XAesCached`] is what is left when the
//!   derived key is cached per nonce prefix, as the library does: AES-256-GCM under a key set
//!   up once, with the 24-byte nonce (12 fixed prefix bytes + 12 random ones) in the value.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use actix_session::storage::{CookieSessionStore, SessionKey, SessionStore};
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use rand::Rng as _;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Polls a future that never waits (the cookie store's) to completion.
pub fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("CookieSessionStore future was not ready"),
    }
}

/// actix-session's limit on a session key (the store's whole JSON state).
pub const ACTIX_SESSION_KEY_MAX: usize = 4064;

/// actix-session 0.11 `CookieSessionStore` + private cookies, default configuration.
pub struct ActixCookie {
    key: Key,
    store: CookieSessionStore,
    name: String,
}

/// What sealing produced.
pub struct ActixSealed {
    /// The encrypted cookie value (base64 of nonce || ciphertext || tag).
    pub value: String,
    /// True when actix-session itself would refuse this state: its JSON is over
    /// [`ACTIX_SESSION_KEY_MAX`] bytes, so `SessionKey::try_from` fails and the middleware
    /// errors. The value is still produced (the same steps, minus that check) so that its
    /// cost and size can be compared.
    pub refused: bool,
}

impl Default for ActixCookie {
    fn default() -> Self {
        Self::new()
    }
}

impl ActixCookie {
    /// The default configuration: cookie `id`, a fixed 64-byte key.
    pub fn new() -> Self {
        ActixCookie {
            key: Key::from(&[7u8; 64]),
            store: CookieSessionStore::default(),
            name: "id".to_owned(),
        }
    }

    /// The cookie name (`id`, actix-session's default).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `Session::insert(key, value)` on an empty session: the state map.
    pub fn state_of<T: Serialize>(key: &str, value: &T) -> HashMap<String, String> {
        let mut state = HashMap::new();
        state.insert(key.to_owned(), serde_json::to_string(value).expect("json"));
        state
    }

    /// `Session::get::<T>(key)`.
    pub fn get<T: DeserializeOwned>(state: &HashMap<String, String>, key: &str) -> Option<T> {
        state
            .get(key)
            .map(|v| serde_json::from_str(v).expect("json value"))
    }

    /// `CookieSessionStore::save` (whose body is `serde_json::to_string(&state)` and
    /// `SessionKey::try_from`; called on `&state` here so that benches need not clone the map)
    /// followed by the private-cookie half of `set_session_cookie`, without the header.
    pub fn seal(&self, state: &HashMap<String, String>) -> ActixSealed {
        let json = serde_json::to_string(state).expect("json state");
        let refused = json.len() > ACTIX_SESSION_KEY_MAX;
        let value: String = if refused {
            json
        } else {
            SessionKey::try_from(json).expect("checked length").into()
        };
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(self.cookie(value));
        let value = jar.get(&self.name).expect("just added").value().to_owned();
        ActixSealed { value, refused }
    }

    /// [`seal`](Self::seal) through the store's own `save` (consumes the state), for checking
    /// that `seal` reproduces it.
    pub fn save_via_store(&self, state: HashMap<String, String>) -> Option<String> {
        ready(
            self.store
                .save(state, &actix_web::cookie::time::Duration::days(1)),
        )
        .ok()
        .map(String::from)
    }

    fn cookie(&self, value: String) -> Cookie<'static> {
        let mut cookie = Cookie::new(self.name.clone(), value);
        cookie.set_secure(true);
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_path("/");
        cookie
    }

    /// The whole `Set-Cookie` header value the middleware sends (`Cookie::encoded()`), and
    /// whether actix-session would refuse the state (see [`ActixSealed::refused`]).
    pub fn set_cookie_header(&self, state: &HashMap<String, String>) -> (String, bool) {
        let json = serde_json::to_string(state).expect("json state");
        let refused = json.len() > ACTIX_SESSION_KEY_MAX;
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(self.cookie(json));
        let cookie = jar.delta().next().expect("one cookie");
        (cookie.encoded().to_string(), refused)
    }

    /// `extract_session_key` + `CookieSessionStore::load`, from the (percent-decoded) cookie
    /// value. `None` when the value does not decrypt or is not a session state.
    pub fn open(&self, value: &str) -> Option<HashMap<String, String>> {
        let mut jar = CookieJar::new();
        jar.add_original(Cookie::new(self.name.clone(), value.to_owned()));
        let plain = jar.private(&self.key).get(&self.name)?;
        let plain = plain.value().to_owned();
        if plain.len() > ACTIX_SESSION_KEY_MAX {
            // actix-session never issues such a cookie (see `ActixSealed::refused`); the
            // store's `load` body, for the cost comparison.
            return serde_json::from_str(&plain).ok();
        }
        let key = SessionKey::try_from(plain).ok()?;
        ready(self.store.load(&key)).ok().flatten()
    }
}

/// Which AEAD the floor uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloorAlg {
    /// XChaCha20-Poly1305, 24-byte nonce.
    XChaCha,
    /// AES-256-GCM, 12-byte nonce.
    Aes,
    /// XAES-256-GCM through the `xaes-256-gcm` crate (key derived at every call), 24-byte nonce.
    XAes,
    /// XAES-256-GCM with the derived key cached: AES-256-GCM keyed once, 24-byte nonce
    /// (a fixed 12-byte prefix, then the 12 random bytes AES-256-GCM uses).
    XAesCached,
}

impl FloorAlg {
    /// Every floor, in the order the codec bench reports them.
    pub const ALL: [FloorAlg; 4] = [
        FloorAlg::XAes,
        FloorAlg::XAesCached,
        FloorAlg::XChaCha,
        FloorAlg::Aes,
    ];

    /// The name in tables (`floor_xaes`, ...).
    pub fn id(self) -> &'static str {
        match self {
            FloorAlg::XChaCha => "floor_xchacha",
            FloorAlg::Aes => "floor_aes",
            FloorAlg::XAes => "floor_xaes",
            FloorAlg::XAesCached => "floor_xaes_cached",
        }
    }
}

/// postcard + AEAD + base64url with nothing else.
pub struct Floor {
    xchacha: chacha20poly1305::XChaCha20Poly1305,
    aes: aes_gcm::Aes256Gcm,
    xaes: xaes_256_gcm::Xaes256Gcm,
    alg: FloorAlg,
}

const TAG: usize = 16;

impl Floor {
    /// A floor with a fixed key.
    pub fn new(alg: FloorAlg) -> Floor {
        let raw = [7u8; 32];
        Floor {
            xchacha: chacha20poly1305::XChaCha20Poly1305::new((&raw).into()),
            aes: aes_gcm::Aes256Gcm::new((&raw).into()),
            xaes: xaes_256_gcm::Xaes256Gcm::new((&raw).into()),
            alg,
        }
    }

    fn nonce_len(&self) -> usize {
        match self.alg {
            FloorAlg::XChaCha | FloorAlg::XAes | FloorAlg::XAesCached => 24,
            FloorAlg::Aes => 12,
        }
    }

    /// base64url(nonce || AEAD(postcard(value)) || tag).
    pub fn seal<T: Serialize>(&self, value: &T) -> String {
        let n = self.nonce_len();
        let mut out = Vec::with_capacity(256);
        out.resize(n, 0);
        match self.alg {
            // The prefix is fixed (its derived key is cached); only the rest is drawn.
            FloorAlg::XAesCached => rand::rng().fill_bytes(&mut out[12..n]),
            _ => rand::rng().fill_bytes(&mut out[..n]),
        }
        let mut out = postcard::to_extend(value, out).expect("postcard");
        let (nonce, plain) = out.split_at_mut(n);
        let tag: [u8; TAG] = match self.alg {
            FloorAlg::XChaCha => {
                let nonce: &chacha20poly1305::XNonce = (&*nonce).try_into().expect("nonce");
                self.xchacha
                    .encrypt_inout_detached(nonce, b"", plain.into())
                    .expect("seal")
                    .into()
            }
            FloorAlg::Aes => {
                let nonce: &aes_gcm::Nonce<_> = (&*nonce).try_into().expect("nonce");
                self.aes
                    .encrypt_inout_detached(nonce, b"", plain.into())
                    .expect("seal")
                    .into()
            }
            FloorAlg::XAesCached => {
                let nonce: &aes_gcm::Nonce<_> = (&nonce[12..]).try_into().expect("nonce");
                self.aes
                    .encrypt_inout_detached(nonce, b"", plain.into())
                    .expect("seal")
                    .into()
            }
            FloorAlg::XAes => {
                let nonce: &xaes_256_gcm::Nonce = (&*nonce).try_into().expect("nonce");
                self.xaes
                    .encrypt_inout_detached(nonce, b"", plain.into())
                    .expect("seal")
                    .into()
            }
        };
        out.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(&out)
    }

    /// The inverse of [`seal`](Self::seal); `None` on any failure.
    pub fn open<T: DeserializeOwned>(&self, value: &str) -> Option<T> {
        let n = self.nonce_len();
        let mut raw = URL_SAFE_NO_PAD.decode(value.as_bytes()).ok()?;
        if raw.len() < n + TAG {
            return None;
        }
        let ct_end = raw.len() - TAG;
        let (nonce, rest) = raw.split_at_mut(n);
        let (ct, tag) = rest.split_at_mut(ct_end - n);
        match self.alg {
            FloorAlg::XChaCha => {
                let nonce: &chacha20poly1305::XNonce = (&*nonce).try_into().ok()?;
                let tag = (&*tag).try_into().ok()?;
                self.xchacha
                    .decrypt_inout_detached(nonce, b"", ct.into(), tag)
                    .ok()?;
            }
            FloorAlg::Aes => {
                let nonce: &aes_gcm::Nonce<_> = (&*nonce).try_into().ok()?;
                let tag = (&*tag).try_into().ok()?;
                self.aes
                    .decrypt_inout_detached(nonce, b"", ct.into(), tag)
                    .ok()?;
            }
            FloorAlg::XAesCached => {
                let nonce: &aes_gcm::Nonce<_> = (&nonce[12..]).try_into().ok()?;
                let tag = (&*tag).try_into().ok()?;
                self.aes
                    .decrypt_inout_detached(nonce, b"", ct.into(), tag)
                    .ok()?;
            }
            FloorAlg::XAes => {
                let nonce: &xaes_256_gcm::Nonce = (&*nonce).try_into().ok()?;
                let tag = (&*tag).try_into().ok()?;
                self.xaes
                    .decrypt_inout_detached(nonce, b"", ct.into(), tag)
                    .ok()?;
            }
        }
        postcard::from_bytes(ct).ok()
    }
}
