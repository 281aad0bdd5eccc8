//! What the two HTTP bench servers (`examples/http_actix.rs`, `examples/http_axum.rs`) share:
//! their settings from the environment, the session they store, and a time limit.
//!
//! * `BENCH_MODE`: `ours`, `peer` or `bare`;
//! * `BENCH_WORKLOAD`: the session `POST /login` stores: `login` (the default, ~150 B of
//!   JSON), `profile` (~1 KB) or `cart` (~4 KB);
//! * `BENCH_PORT` (default 8090); the servers bind 127.0.0.1 only;
//! * `BENCH_SERVER_TTL`: seconds after which the server exits by itself (default 300), so that
//!   a forgotten server never outlives the benchmark.

use std::time::Duration;

use serde::{de::DeserializeOwned, Serialize};

use crate::workloads::{self, Cart, Login, Profile};

/// The settings of one server run.
pub struct Settings {
    /// `ours`, `peer` or `bare`.
    pub mode: String,
    /// Which session `POST /login` stores.
    pub workload: Workload,
    /// The port on 127.0.0.1.
    pub port: u16,
}

/// The session a server's `POST /login` stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// `tests/data/workloads/login.json` under `"user"`.
    Login,
    /// `profile.json` under `"profile"`.
    Profile,
    /// `cart.json` under `"cart"`.
    Cart,
}

/// A session type the servers store: its key, its value and the JSON `GET /profile` answers.
pub trait Stored: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The session key it is stored under.
    const KEY: &'static str;
    /// The workload's value.
    fn value() -> Self;
    /// What `GET /profile` answers for it.
    fn view(&self) -> serde_json::Value;
}

impl Stored for Login {
    const KEY: &'static str = "user";
    fn value() -> Self {
        workloads::login()
    }
    fn view(&self) -> serde_json::Value {
        serde_json::to_value(crate::views::LoginView::of(self)).expect("json")
    }
}

impl Stored for Profile {
    const KEY: &'static str = "profile";
    fn value() -> Self {
        workloads::profile()
    }
    fn view(&self) -> serde_json::Value {
        serde_json::to_value(crate::views::ProfileView::of(self)).expect("json")
    }
}

impl Stored for Cart {
    const KEY: &'static str = "cart";
    fn value() -> Self {
        workloads::cart()
    }
    fn view(&self) -> serde_json::Value {
        serde_json::to_value(crate::views::CartView::of(self)).expect("json")
    }
}

fn var<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

impl Settings {
    /// Reads the settings, and starts the thread that ends the process after
    /// `BENCH_SERVER_TTL` seconds. Exits with status 2 on an unknown mode or workload.
    pub fn from_env(server: &'static str) -> Settings {
        let mode = std::env::var("BENCH_MODE").unwrap_or_else(|_| "ours".into());
        if !matches!(mode.as_str(), "ours" | "peer" | "bare") {
            eprintln!("{server}: BENCH_MODE must be ours, peer or bare (got {mode:?})");
            std::process::exit(2);
        }
        let workload = match std::env::var("BENCH_WORKLOAD").as_deref() {
            Err(_) | Ok("login") => Workload::Login,
            Ok("profile") => Workload::Profile,
            Ok("cart") => Workload::Cart,
            Ok(other) => {
                eprintln!(
                    "{server}: BENCH_WORKLOAD must be login, profile or cart (got {other:?})"
                );
                std::process::exit(2);
            }
        };
        let ttl: u64 = var("BENCH_SERVER_TTL", 300);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(ttl));
            eprintln!("{server}: BENCH_SERVER_TTL ({ttl} s) reached, exiting");
            std::process::exit(0);
        });
        Settings {
            mode,
            workload,
            port: var("BENCH_PORT", 8090),
        }
    }

    /// The startup line (with the build check).
    pub fn announce(&self, server: &str) {
        eprintln!(
            "{server}: mode {}, workload {:?}, http://127.0.0.1:{}; {}",
            self.mode,
            self.workload,
            self.port,
            crate::build::line()
        );
    }
}
