//! Importing the session of another library's cookie once, so that moving to this crate
//! does not sign every user out (feature `actix-session-import`).

pub(crate) mod jar;
