//! Cookie size table: the bytes each workload costs on the wire, for us (each algorithm,
//! compression on and off) and for actix-session 0.11's `CookieSessionStore`.
//!
//! ```text
//! bash benchmarks/run.sh sizes
//! ```
//!
//! "Cookie bytes" is what a browser counts against its 4096-byte limit per cookie: the name
//! plus the value of every `Set-Cookie` header of a response that creates the session. For
//! us that comes from `engine.set_cookies(..)`, what a response sends for a new session (one cookie, the default;
//! a row with `max_cookies=4` is added when one is not enough). For actix-session it is the
//! `Set-Cookie` header its middleware writes (name `id`,
//! value = the percent-encoded private-cookie value, base64 of nonce || ct || tag).
//! A cookie whose name + value is over 4096 bytes is marked DROPPED: browsers ignore it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sealed_session_benchmarks::ours::{self, Algorithm, Compression, Options, MAX_COOKIE_BYTES};
use sealed_session_benchmarks::peers::ActixCookie;
use sealed_session_benchmarks::workloads;
use serde::Serialize;

/// name + value of each `Set-Cookie` header.
fn pairs<'a>(headers: impl IntoIterator<Item = &'a str>) -> Vec<usize> {
    headers
        .into_iter()
        .map(|h| {
            let pair = h.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            name.len() + value.len()
        })
        .collect()
}

fn describe(sizes: &[usize]) -> String {
    let total: usize = sizes.iter().sum();
    let dropped = sizes.iter().any(|&s| s > MAX_COOKIE_BYTES);
    let split = if sizes.len() > 1 {
        format!(
            " in {} cookies ({})",
            sizes.len(),
            sizes
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(" + ")
        )
    } else {
        String::new()
    };
    format!(
        "{total}{split}{}",
        if dropped { "  DROPPED (> 4096)" } else { "" }
    )
}

struct Row {
    workload: &'static str,
    raw_json: usize,
    ours: Vec<(String, Result<Vec<usize>, String>)>,
    actix: (Vec<usize>, bool),
    /// min and max of actix-session's size over [`ACTIX_SAMPLES`] nonces.
    actix_range: (usize, usize),
}

const ACTIX_SAMPLES: usize = 501;

fn measure<T: Serialize>(workload: &'static str, key: &str, value: &T) -> Row {
    let raw_json = serde_json::to_string(value).unwrap().len();
    let mut ours = Vec::new();
    for (alg, an) in [
        (Algorithm::XAes256Gcm, "xaes"),
        (Algorithm::XChaCha20Poly1305, "xchacha"),
        (Algorithm::Aes256Gcm, "aes"),
    ] {
        for (comp, cn) in [(Compression::Auto, "lz4 on"), (Compression::Off, "lz4 off")] {
            // One cookie (the default); up to 4 only when one is not enough.
            for max_cookies in [1, 4] {
                let config = ours::engine(Options {
                    algorithm: Some(alg),
                    compression: Some(comp),
                    max_cookies: Some(max_cookies),
                    ..Options::default()
                });
                let mut session = ours::state_of(key, value);
                let label = format!("ours {an}, {cn}, max_cookies={max_cookies}");
                let label = label.replace(", max_cookies=1", "");
                let result = config
                    .set_cookies(&mut session)
                    .map(|hs| pairs(hs.iter().map(String::as_str)))
                    .map_err(|e| e.to_string());
                let fits = result.is_ok();
                ours.push((label, result));
                if fits {
                    break;
                }
            }
        }
    }
    // actix-session's size depends on the nonce: `Cookie::encoded()` percent-encodes the
    // `+`, `/` and `=` of its base64 value, so take the median over many seals.
    let actix = ActixCookie::new();
    let state = ActixCookie::state_of(key, value);
    let mut samples: Vec<(usize, bool)> = (0..ACTIX_SAMPLES)
        .map(|_| {
            let (header, refused) = actix.set_cookie_header(&state);
            (pairs([header.as_str()])[0], refused)
        })
        .collect();
    samples.sort();
    let (median, refused) = samples[samples.len() / 2];
    Row {
        workload,
        raw_json,
        ours,
        actix: (vec![median], refused),
        actix_range: (samples[0].0, samples[samples.len() - 1].0),
    }
}

fn main() {
    let rows = [
        measure("small", "user", &workloads::small()),
        measure("login", "user", &workloads::login()),
        measure("profile", "profile", &workloads::profile()),
        measure("cart", "cart", &workloads::cart()),
    ];
    println!("{}", sealed_session_benchmarks::build::line());
    println!("Cookie bytes (name + value of every Set-Cookie), one new session per workload");
    for r in &rows {
        let actix_total: usize = r.actix.0.iter().sum();
        println!(
            "\n{} (typed value as compact JSON: {} bytes)",
            r.workload, r.raw_json
        );
        println!(
            "  {:<42} {} (median of {ACTIX_SAMPLES} nonces; {}..{}){}",
            "actix-session 0.11 CookieSessionStore",
            describe(&r.actix.0),
            r.actix_range.0,
            r.actix_range.1,
            if r.actix.1 {
                "  REFUSED by actix-session (state JSON > 4064 bytes: SessionKey error, no cookie)"
            } else {
                ""
            }
        );
        for (label, result) in &r.ours {
            match result {
                Ok(sizes) => {
                    let total: usize = sizes.iter().sum();
                    println!(
                        "  {:<42} {}   ({:.3}x actix-session)",
                        label,
                        describe(sizes),
                        total as f64 / actix_total as f64
                    );
                }
                Err(e) => println!("  {label:<42} error: {e}"),
            }
        }
    }

    // Targets (issue 5).
    let total = |r: &Row, label: &str| -> Option<usize> {
        r.ours
            .iter()
            .find(|(l, _)| l == label)
            .and_then(|(_, res)| res.as_ref().ok())
            .map(|s| s.iter().sum())
    };
    println!("\nTargets:");
    let profile = &rows[2];
    let actix_profile: usize = profile.actix.0.iter().sum();
    for alg in ["xaes", "xchacha", "aes"] {
        let label = format!("ours {alg}, lz4 on");
        if let Some(t) = total(profile, &label) {
            let ratio = t as f64 / actix_profile as f64;
            println!(
                "  profile, {label}: {t} / {actix_profile} = {ratio:.3}x actix-session (target <= 0.45x): {}",
                if ratio <= 0.45 { "MET" } else { "MISSED" }
            );
        }
    }
    let cart = &rows[3];
    for alg in ["xaes", "xchacha", "aes"] {
        let label = format!("ours {alg}, lz4 on");
        let fits = cart
            .ours
            .iter()
            .find(|(l, _)| *l == label)
            .and_then(|(_, res)| res.as_ref().ok())
            .is_some_and(|s| s.len() == 1 && s[0] <= MAX_COOKIE_BYTES);
        println!(
            "  cart, {label}: {} (target: one cookie <= 4096): {}",
            total(cart, &label).map_or("too large".to_owned(), |t| t.to_string()),
            if fits { "MET" } else { "MISSED" }
        );
    }
}
