use super::*;
use cookie::Cookie;

const DEFAULTS: Attributes<'static> = Attributes {
    path: "/",
    domain: None,
    secure: true,
    http_only: true,
    same_site: "Lax",
    partitioned: false,
};

/// A writer for `session` with the default attributes and `max` cookies.
pub(crate) fn cfg(max: usize) -> CookieWriter {
    CookieWriter::new("session", max, &DEFAULTS)
}

pub(crate) fn names_and_values(headers: &[String]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            let c = Cookie::parse(h.clone()).unwrap();
            (c.name().to_string(), c.value().to_string())
        })
        .collect()
}

#[test]
fn secure_defaults_on_the_wire() {
    let h = cfg(1).set_cookies("abc", Some(60), 0).unwrap();
    let s = &h[0];
    for attr in [
        "session=abc",
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=60",
    ] {
        assert!(s.contains(attr), "{s}");
    }
}

#[test]
fn exactly_at_the_limit_fits_one_byte_more_does_not() {
    let c = cfg(1);
    let fits = "A".repeat(MAX_COOKIE_BYTES - "session".len());
    let h = c.set_cookies(&fits, None, 0).unwrap();
    let (n, v) = &names_and_values(&h)[0];
    assert_eq!(n.len() + v.len(), MAX_COOKIE_BYTES);
    let over = format!("{fits}A");
    let e = c.set_cookies(&over, None, 0).unwrap_err();
    assert_eq!(
        e,
        Error::TooLarge {
            size: MAX_COOKIE_BYTES + 1,
            limit: MAX_COOKIE_BYTES,
            max_cookies: 1
        }
    );
}

#[test]
fn stale_chunks_are_removed_when_the_session_shrinks() {
    let c = cfg(3);
    let h = c.set_cookies("small", Some(10), 0b111).unwrap();
    let nv = names_and_values(&h);
    assert_eq!(nv[0], ("session".to_string(), "small".to_string()));
    assert_eq!(nv.len(), 3);
    for s in &h[1..] {
        assert!(s.contains("Max-Age=0") && s.contains("Path=/"), "{s}");
    }
    assert!(h[1].starts_with("session.1="));
}

#[test]
fn too_large_even_chunked_names_the_fix() {
    let c = cfg(2);
    let e = c.set_cookies(&"A".repeat(9000), None, 0).unwrap_err();
    assert!(matches!(
        e,
        Error::TooLarge {
            limit: 8192,
            max_cookies: 2,
            ..
        }
    ));
    assert!(e.to_string().contains("max_cookies(n)"));
}

/// The `cookie` crate's text for a cookie with attributes `a`.
fn via_cookie_crate(a: &Attributes<'_>, name: &str, value: &str, max_age: Option<u64>) -> String {
    let mut k = Cookie::new(name, value);
    k.set_path(a.path);
    if let Some(d) = a.domain {
        k.set_domain(d);
    }
    k.set_secure(a.secure);
    k.set_http_only(a.http_only);
    k.set_same_site(match a.same_site {
        "Strict" => cookie::SameSite::Strict,
        "Lax" => cookie::SameSite::Lax,
        _ => cookie::SameSite::None,
    });
    if a.partitioned {
        k.set_partitioned(true);
    }
    if let Some(secs) = max_age {
        let secs = i64::try_from(secs).unwrap_or(i64::MAX);
        k.set_max_age(cookie::time::Duration::seconds(secs));
    }
    k.to_string()
}

#[test]
fn set_cookie_text_is_what_the_cookie_crate_writes() {
    let configs = [
        ("session", DEFAULTS),
        ("__Host-session", DEFAULTS),
        (
            "session",
            Attributes {
                secure: false,
                http_only: false,
                same_site: "Strict",
                path: "/app",
                domain: Some(".example.com"),
                partitioned: false,
            },
        ),
        (
            "session",
            Attributes {
                same_site: "None",
                domain: Some("example.com"),
                ..DEFAULTS
            },
        ),
        (
            "session",
            Attributes {
                secure: false,
                same_site: "None",
                ..DEFAULTS
            },
        ),
        (
            "session",
            Attributes {
                same_site: "None",
                partitioned: true,
                ..DEFAULTS
            },
        ),
    ];
    for (cookie_name, a) in &configs {
        let c = CookieWriter::new(cookie_name, 32, a);
        for max_age in [None, Some(0), Some(7), Some(86_400), Some(u64::MAX)] {
            for (index, count) in [
                (0, None),
                (0, Some(3)),
                (1, None),
                (12, None),
                (STAMP, None),
            ] {
                let name = c.chunk_name(index).to_string();
                let value = match count {
                    Some(n) => format!("{n}.AbC-_9"),
                    None => "AbC-_9".to_string(),
                };
                assert_eq!(
                    c.header(index, count, "AbC-_9", max_age, ""),
                    via_cookie_crate(a, &name, &value, max_age),
                    "{c:?} {max_age:?} {index} {count:?}"
                );
            }
        }
    }
}

#[test]
fn a_removal_expires_the_cookie_with_the_same_attributes() {
    let c = CookieWriter::new(
        "s",
        2,
        &Attributes {
            domain: Some("example.com"),
            ..DEFAULTS
        },
    );
    let [chunk, stamp] = <[String; 2]>::try_from(c.removals(1 << STAMP | 1 << 1)).unwrap();
    assert_eq!(
        chunk,
        "s.1=; HttpOnly; SameSite=Lax; Secure; Path=/; Domain=example.com; Max-Age=0; \
         Expires=Thu, 01 Jan 1970 00:00:01 GMT"
    );
    assert!(stamp.starts_with("s.t=; "), "{stamp}");
    let parsed = Cookie::parse(chunk).unwrap();
    assert_eq!(parsed.max_age(), Some(cookie::time::Duration::ZERO));
}

#[test]
fn browser_session_cookie_has_no_max_age() {
    let h = cfg(1).set_cookies("v", None, 0).unwrap();
    assert!(!h[0].contains("Max-Age") && !h[0].contains("Expires"));
    let h = cfg(1).set_cookies("v", Some(100), 0).unwrap();
    assert!(h[0].contains("Max-Age=100"));
}

#[test]
fn every_header_fills_exactly_the_capacity_it_was_given() {
    // A `String` whose capacity is its length becomes a header value without a second
    // allocation: sizes of every shape (chunks, counts, stamps, lifetimes of any width).
    let c = cfg(12);
    for len in [1, 99, 4000, 4100, 20_000, 40_000] {
        for max_age in [
            None,
            Some(0),
            Some(9),
            Some(10),
            Some(1_209_600),
            Some(u64::MAX),
        ] {
            let value = "A".repeat(len);
            for h in c.set_cookies(&value, max_age, u64::MAX >> 1).unwrap() {
                assert_eq!(h.len(), h.capacity(), "{h}");
            }
            let stamp = c.stamp_cookie("xyz", max_age);
            assert_eq!(stamp.len(), stamp.capacity(), "{stamp}");
        }
    }
}
