//! Session-bound CSRF tokens, the pieces the request lifecycle and the adapters' layers use.
//!
//! The secret is 32 random bytes kept in the session (FORMAT.md, *The crate's own
//! entries*), rotated whenever the session is renewed or regenerated, so a login changes it.
//! A token is the secret masked with fresh random bytes each time one is handed out:
//!
//! ```text
//! token = base64url-nopad( mask (32 random bytes) || secret XOR mask )     (86 characters)
//! ```
//!
//! so every response carries a different string (nothing for a compression side channel,
//! BREACH, to learn across responses), and any of them verifies, in constant time, against
//! the session's secret. Before the token, a request whose `Sec-Fetch-Site` is `cross-site`,
//! or whose `Origin` is another origin (or `null`), is refused: OWASP's defence in depth for
//! the browsers that send them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::Error;

/// Origins besides the request's own whose unsafe requests a CSRF layer accepts: shared by
/// every clone of the layer.
#[cfg(any(feature = "actix", feature = "axum"))]
#[derive(Clone, Debug, Default)]
pub(crate) struct AllowedOrigins(std::sync::Arc<[String]>);

#[cfg(any(feature = "actix", feature = "axum"))]
impl AllowedOrigins {
    /// These origins and `origin`.
    pub(crate) fn with(&self, origin: String) -> AllowedOrigins {
        let mut all = self.0.to_vec();
        all.push(origin);
        AllowedOrigins(all.into())
    }

    pub(crate) fn as_slice(&self) -> &[String] {
        &self.0
    }
}

#[cfg(any(feature = "actix", feature = "axum"))]
/// The request header a token is read from.
pub(crate) const TOKEN_HEADER: &str = "x-csrf-token";

#[cfg(any(feature = "actix", feature = "axum"))]
/// The URL-encoded form field a token is read from when the header is absent.
pub(crate) const FORM_FIELD: &[u8] = b"csrf_token";

#[cfg(any(feature = "actix", feature = "axum"))]
/// The most bytes of a URL-encoded form body the CSRF layers read to find the token: a
/// larger form sends it in the header.
pub(crate) const MAX_FORM_BYTES: usize = 64 * 1024;

#[cfg(any(feature = "actix", feature = "axum"))]
/// Whether a `Content-Type` is a URL-encoded form (what an HTML `<form>` posts by default).
pub(crate) fn is_form(content_type: &[u8]) -> bool {
    let essence = content_type
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    essence.eq_ignore_ascii_case(b"application/x-www-form-urlencoded")
}

#[cfg(any(feature = "actix", feature = "axum"))]
/// The value of the first [`FORM_FIELD`] of a URL-encoded form body. A token is base64url,
/// which a browser sends as it is, so the value is not percent-decoded.
pub(crate) fn form_token(body: &[u8]) -> Option<&[u8]> {
    body.split(|&b| b == b'&')
        .filter_map(|pair| {
            let eq = pair.iter().position(|&b| b == b'=')?;
            let (name, value) = pair.split_at(eq);
            Some((name, value.get(1..)?))
        })
        .find(|(name, _)| *name == FORM_FIELD)
        .map(|(_, value)| value)
}

#[cfg(any(feature = "actix", feature = "axum"))]
/// The JSON body of the 403 a refused request gets: nothing about why.
pub(crate) const REFUSED_BODY: &str = r#"{"error":"CSRF check failed"}"#;

/// A fresh masked token for `secret`.
pub(crate) fn mask(secret: &[u8; 32]) -> Result<String, Error> {
    let mut token = [0u8; 64];
    let (mask, masked) = token.split_at_mut(32);
    crate::random::fill(mask)?;
    for ((m, out), s) in mask.iter().zip(masked.iter_mut()).zip(secret) {
        *out = s ^ m;
    }
    Ok(URL_SAFE_NO_PAD.encode(token))
}

/// Whether `token` is a masking of `secret`. Constant time in the token's content: every
/// byte is compared whatever the first difference.
pub(crate) fn verify(secret: &[u8; 32], token: &[u8]) -> bool {
    let mut raw = [0u8; 64];
    // A token is exactly 86 characters; anything else is refused before decoding.
    if token.len() != 86 || URL_SAFE_NO_PAD.decode_slice(token, &mut raw) != Ok(64) {
        return false;
    }
    let (mask, masked) = raw.split_at(32);
    let diff = mask
        .iter()
        .zip(masked)
        .zip(secret)
        .fold(0u8, |acc, ((m, x), s)| acc | (m ^ x ^ s));
    diff == 0
}

#[cfg(any(feature = "actix", feature = "axum"))]
/// Whether `method` changes state and so needs a token (everything but the safe methods
/// of RFC 9110: GET, HEAD, OPTIONS, TRACE).
pub(crate) fn is_unsafe(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

#[cfg(any(feature = "actix", feature = "axum"))]
/// Whether the request's `Sec-Fetch-Site` and `Origin` headers let it through: not
/// `cross-site`, and an `Origin`, when sent, that is this host (`host`, the `Host` header)
/// or one of `allowed` (full origins, `https://app.example`). Browsers send `Origin` with
/// every cross-origin request and with same-origin unsafe ones.
pub(crate) fn origin_allowed(
    origin: Option<&[u8]>,
    sec_fetch_site: Option<&[u8]>,
    host: Option<&[u8]>,
    allowed: &[String],
) -> bool {
    if sec_fetch_site.is_some_and(|s| s.trim_ascii().eq_ignore_ascii_case(b"cross-site")) {
        return false;
    }
    let Some(origin) = origin.map(<[u8]>::trim_ascii) else {
        return true;
    };
    if allowed
        .iter()
        .any(|a| a.as_bytes().eq_ignore_ascii_case(origin))
    {
        return true;
    }
    // `scheme://authority`, nothing after: `null` and anything else are refused.
    let strip = |scheme: &[u8]| {
        let head = origin.get(..scheme.len())?;
        head.eq_ignore_ascii_case(scheme)
            .then(|| origin.get(scheme.len()..))
            .flatten()
    };
    let authority = strip(b"https://").or_else(|| strip(b"http://"));
    match (authority, host) {
        (Some(a), Some(h)) => !a.contains(&b'/') && a.eq_ignore_ascii_case(h.trim_ascii()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_differ_every_time_and_all_verify() {
        let secret = [7u8; 32];
        let a = mask(&secret).unwrap();
        let b = mask(&secret).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 86);
        assert!(verify(&secret, a.as_bytes()) && verify(&secret, b.as_bytes()));
        assert!(
            !verify(&[8u8; 32], a.as_bytes()),
            "another session's secret"
        );
        let mut flipped = a.clone().into_bytes();
        flipped[50] = if flipped[50] == b'A' { b'B' } else { b'A' };
        assert!(!verify(&secret, &flipped));
        for bad in [
            &b""[..],
            b"short",
            &a.as_bytes()[..85],
            "é".repeat(43).as_bytes(),
        ] {
            assert!(!verify(&secret, bad));
        }
    }

    #[test]
    #[cfg(any(feature = "actix", feature = "axum"))]
    fn a_token_in_a_form() {
        assert!(is_form(b"application/x-www-form-urlencoded"));
        assert!(is_form(
            b"Application/X-WWW-Form-Urlencoded ; charset=UTF-8"
        ));
        assert!(!is_form(b"multipart/form-data; boundary=x"));
        assert!(!is_form(b"application/json"));
        assert_eq!(
            form_token(b"amount=10&csrf_token=abc-_9&csrf_token=second"),
            Some(&b"abc-_9"[..])
        );
        assert_eq!(form_token(b"csrf_token"), None, "no value");
        assert_eq!(form_token(b"xcsrf_token=1&a=b"), None);
        assert_eq!(form_token(b""), None);
        assert_eq!(form_token(b"=&&=x&csrf_token="), Some(&b""[..]));
    }

    #[test]
    #[cfg(any(feature = "actix", feature = "axum"))]
    fn the_origin_check() {
        let host = Some(&b"app.test:8080"[..]);
        let ok = |o: Option<&str>, s: Option<&str>| {
            origin_allowed(o.map(str::as_bytes), s.map(str::as_bytes), host, &[])
        };
        assert!(ok(None, None), "no headers: the token decides");
        assert!(ok(Some("http://app.test:8080"), Some("same-origin")));
        assert!(ok(Some("HTTPS://APP.TEST:8080"), None));
        assert!(!ok(Some("https://evil.test"), None));
        assert!(!ok(Some("null"), None));
        assert!(!ok(Some("http://app.test:8080/path"), None));
        assert!(!ok(None, Some("cross-site")));
        assert!(ok(None, Some("same-site")));
        let allowed = ["https://admin.app.test".to_owned()];
        assert!(origin_allowed(
            Some(b"https://admin.app.test"),
            None,
            host,
            &allowed
        ));
        assert!(is_unsafe("POST") && is_unsafe("DELETE") && !is_unsafe("GET"));
    }
}
