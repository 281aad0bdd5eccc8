//! The JSON bodies the bench servers answer (`bench_server.rs` on actix-web, `bench_axum.rs`
//! on axum): the same bytes in every framework and mode, so the servers differ only in how
//! they keep the session.

use serde::Serialize;

use super::workloads::{Login, Profile};

/// What `GET /profile` answers for the profile session.
#[derive(Serialize)]
pub struct ProfileView<'a> {
    user_id: u64,
    username: &'a str,
    role: &'a str,
    pages: usize,
}

impl<'a> ProfileView<'a> {
    pub fn of(p: &'a Profile) -> ProfileView<'a> {
        ProfileView {
            user_id: p.user_id,
            username: &p.username,
            role: &p.role,
            pages: p.visited_pages.len(),
        }
    }
}

/// What `GET /me` answers for the login session.
#[derive(Serialize)]
pub struct LoginView<'a> {
    user_id: u64,
    username: &'a str,
    role: &'a str,
    permissions: usize,
}

impl<'a> LoginView<'a> {
    pub fn of(l: &'a Login) -> LoginView<'a> {
        LoginView {
            user_id: l.user_id,
            username: &l.username,
            role: &l.role,
            permissions: l.permissions.len(),
        }
    }
}
