//! Typed keys: a session entry's name together with the type stored under it, so that
//! writing and reading an entry agree at compile time.

use std::fmt;
use std::marker::PhantomData;

/// The name of a session entry and the type stored under it.
///
/// Declare each entry once, as a constant, and use it wherever the entry is read or
/// written: [`Session::insert`](crate::Session::insert) and
/// [`Session::get`](crate::Session::get) then only compile with that type, so no handler
/// can store one type and another read it as a different one (postcard, the format of the
/// stored values, is not self-describing: a `u64` read as an `i64` would give a wrong number,
/// not an error).
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use sealed_session::{Secret, SessionBuilder, SessionKey};
///
/// #[derive(Serialize, Deserialize, Debug, PartialEq)]
/// struct User { id: u64, name: String }
///
/// const USER: SessionKey<User> = SessionKey::new("user");
/// const VISITS: SessionKey<u64> = SessionKey::new("visits");
///
/// let engine = SessionBuilder::new(Secret::generate()).build()?;
/// let session = engine.start_headers(&http::HeaderMap::new());
/// session.insert(USER, &User { id: 7, name: "ada".into() })?;
/// session.insert(VISITS, &1)?;
/// assert_eq!(session.get(USER)?.map(|u| u.id), Some(7));
/// // session.insert(VISITS, "ten")?;   // does not compile: VISITS holds a u64
/// // let n: Option<i64> = session.get(VISITS)?;   // does not compile either
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SessionKey<T: ?Sized> {
    name: &'static str,
    /// `fn() -> T`: the key neither owns a `T` nor constrains `Send`/`Sync`.
    stored: PhantomData<fn() -> T>,
}

impl<T: ?Sized> SessionKey<T> {
    /// A key for the entry `name` holding a `T`. Names must not be empty.
    pub const fn new(name: &'static str) -> SessionKey<T> {
        SessionKey {
            name,
            stored: PhantomData,
        }
    }

    /// The entry's name (to [`remove`](crate::Session::remove) it, say).
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<T: ?Sized> Clone for SessionKey<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for SessionKey<T> {}

impl<T: ?Sized> fmt::Debug for SessionKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionKey({:?})", self.name)
    }
}

/// Where a value of type `T` is stored in a session: a [`SessionKey<T>`], whose type the
/// compiler checks, or a plain name (`&str`, `String`), whose type only the call names.
///
/// Implemented by this crate for those types only (a sealed trait).
pub trait KeyName<T: ?Sized>: sealed::Sealed {
    /// The entry's name.
    fn key_name(&self) -> &str;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for &str {}
    impl Sealed for String {}
    impl Sealed for &String {}
    impl<T: ?Sized> Sealed for super::SessionKey<T> {}
    impl<T: ?Sized> Sealed for &super::SessionKey<T> {}
}

impl<T: ?Sized> KeyName<T> for &str {
    fn key_name(&self) -> &str {
        self
    }
}

impl<T: ?Sized> KeyName<T> for String {
    fn key_name(&self) -> &str {
        self
    }
}

impl<T: ?Sized> KeyName<T> for &String {
    fn key_name(&self) -> &str {
        self
    }
}

impl<T: ?Sized> KeyName<T> for SessionKey<T> {
    fn key_name(&self) -> &str {
        self.name
    }
}

impl<T: ?Sized> KeyName<T> for &SessionKey<T> {
    fn key_name(&self) -> &str {
        self.name
    }
}
