//! The JSON bodies `GET /profile` answers in the HTTP bench servers (`examples/http_actix.rs`,
//! `examples/http_axum.rs`): the same bytes in every framework and mode, so the servers differ
//! only in how they keep the session.

use serde::Serialize;

use crate::workloads::{Cart, Login, Profile};

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

/// What `GET /profile` answers for the cart session.
#[derive(Serialize)]
pub struct CartView<'a> {
    user_id: u64,
    cart_id: &'a str,
    items: usize,
    total_cents: u64,
}

impl<'a> CartView<'a> {
    pub fn of(c: &'a Cart) -> CartView<'a> {
        CartView {
            user_id: c.user_id,
            cart_id: &c.cart_id,
            items: c.items.len(),
            total_cents: c
                .items
                .iter()
                .map(|i| u64::from(i.quantity) * i.unit_price_cents)
                .sum(),
        }
    }
}
