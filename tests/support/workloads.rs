//! The reference workloads, `tests/data/workloads/*.json`, as typed structs, shared by the
//! tests, the benches (`benchmarks/`), the fuzz seed generator (`fuzz-harness/`) and the size
//! table (include it with `#[path = ".../tests/support/workloads.rs"] mod workloads;`).
//!
//! The JSON files are compiled in (`include_str!`, relative to this file), so whichever crate
//! includes this module reads the repository's copy, and nothing outside the repository.
//!
//! Values are stored in the session the way an application would: one typed struct under
//! one key (`"user"`, `"profile"` or `"cart"`), so postcard drops the field names that the
//! JSON spells out.
#![allow(dead_code)]

use serde::{Deserialize, Serialize};

/// `small.json`: a user id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Small {
    pub user_id: u64,
}

/// `login.json`: what a login handler stores: the user, role and permissions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Login {
    pub user_id: u64,
    pub username: String,
    pub role: String,
    pub permissions: Vec<String>,
    pub login_count: u64,
}

/// One visited page of `profile.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    pub path: String,
    pub method: String,
    pub timestamp: u64,
}

/// `profile.json`: a logged-in user with permissions and the last ten visited pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub user_id: u64,
    pub username: String,
    pub email: String,
    pub role: String,
    pub permissions: Vec<String>,
    pub created_at: u64,
    pub last_login: u64,
    pub login_count: u64,
    pub ip_address: String,
    pub user_agent: String,
    pub theme: String,
    pub language: String,
    pub visited_pages: Vec<Visit>,
}

/// One line of `cart.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartItem {
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    pub unit_price_cents: u64,
    pub currency: String,
    pub added_at: u64,
    pub gift_wrap: bool,
}

/// The shipping address of `cart.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub name: String,
    pub line1: String,
    pub city: String,
    pub postcode: String,
    pub country: String,
}

/// `cart.json`: a shopping cart of 30 items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cart {
    pub user_id: u64,
    pub cart_id: String,
    pub currency: String,
    pub items: Vec<CartItem>,
    pub coupon_code: String,
    pub shipping_address: Address,
}

/// The workload files, by name, as they are in `tests/data/workloads/`.
pub const FILES: [(&str, &str); 4] = [
    ("small.json", include_str!("../data/workloads/small.json")),
    ("login.json", include_str!("../data/workloads/login.json")),
    (
        "profile.json",
        include_str!("../data/workloads/profile.json"),
    ),
    ("cart.json", include_str!("../data/workloads/cart.json")),
];

/// The text of the workload file `name` (one of [`FILES`]).
pub fn text(name: &str) -> &'static str {
    match FILES.iter().find(|(n, _)| *n == name) {
        Some((_, text)) => text,
        None => panic!("no workload {name:?} in tests/data/workloads"),
    }
}

fn load<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_str(text(name)).unwrap_or_else(|e| panic!("bad workload {name}: {e}"))
}

pub fn small() -> Small {
    load("small.json")
}

pub fn login() -> Login {
    load("login.json")
}

pub fn profile() -> Profile {
    load("profile.json")
}

pub fn cart() -> Cart {
    load("cart.json")
}

/// The compact JSON of a workload file (what a JSON-per-value store would keep).
pub fn json(name: &str) -> String {
    let v: serde_json::Value = load(name);
    serde_json::to_string(&v).unwrap()
}
