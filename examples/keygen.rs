//! Prints a fresh 32-byte secret in the base64 form `SESSION_KEYS` takes.
//!
//! ```text
//! export SESSION_KEYS="$(cargo run --quiet --example keygen)"
//! # rotate: new secret first, the old one after it
//! export SESSION_KEYS="$(cargo run --quiet --example keygen),$SESSION_KEYS"
//! ```

fn main() {
    println!("{}", sealed_session::Secret::generate().to_base64());
}
