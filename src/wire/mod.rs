//! The byte layer, private: what goes on the wire and comes back from it. Nothing here knows
//! what a session holds or when a response writes.
//!
//! * [`seal`]: the sealed value (header, AEAD, base64url), FORMAT.md;
//! * [`body`]: the plaintext (flags, LZ4), bounded inflation;
//! * [`set_cookie`]: the `Set-Cookie` writer and chunking;
//! * [`request`]: the bounded scan of a request's `Cookie` headers.

pub(crate) mod body;
pub(crate) mod request;
pub(crate) mod seal;
pub(crate) mod set_cookie;
