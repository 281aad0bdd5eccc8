//! `Set-Cookie` parsing and a browser-like cookie jar, shared by the actix tests
//! (`tests/actix.rs`) and the example-server tests (`tests/server.rs`).
#![allow(dead_code)]

use std::collections::BTreeMap;

/// One parsed `Set-Cookie` header.
#[derive(Debug, Clone)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    pub raw: String,
}

impl SetCookie {
    /// Parses a `Set-Cookie` header value (`name=value; attributes…`).
    pub fn parse(raw: &str) -> SetCookie {
        let first = raw.split(';').next().unwrap();
        let (name, value) = first.split_once('=').expect("name=value");
        SetCookie {
            name: name.trim().into(),
            value: value.trim().into(),
            raw: raw.into(),
        }
    }
    pub fn is_removal(&self) -> bool {
        self.max_age() == Some(0)
    }
    pub fn max_age(&self) -> Option<i64> {
        self.attr("Max-Age")
            .and_then(|v| v.map(|v| v.parse().unwrap()))
    }
    /// Whether the attribute `name` is present, as a flag or with a value.
    pub fn has_attr(&self, name: &str) -> bool {
        self.attr(name).is_some()
    }
    /// `None`: absent; `Some(None)`: a flag; `Some(Some(v))`: a value (names case-insensitive).
    pub fn attr(&self, name: &str) -> Option<Option<&str>> {
        self.raw.split(';').skip(1).find_map(|a| {
            let a = a.trim();
            let (k, v) = match a.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (a, None),
            };
            k.eq_ignore_ascii_case(name).then_some(v)
        })
    }
    pub fn pair(&self) -> String {
        format!("{}={}", self.name, self.value)
    }
}

/// A minimal cookie jar: applies `Set-Cookie` headers (removals delete) like a browser.
#[derive(Debug, Default, Clone)]
pub struct Jar(pub BTreeMap<String, String>);

impl Jar {
    pub fn apply(&mut self, cookies: &[SetCookie]) {
        for c in cookies {
            if c.is_removal() {
                self.0.remove(&c.name);
            } else {
                self.0.insert(c.name.clone(), c.value.clone());
            }
        }
    }
    /// The request `Cookie` header: the jar's `name=value` pairs.
    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}
