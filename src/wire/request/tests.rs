use super::*;
use crate::wire::set_cookie::tests::{cfg, names_and_values};

/// The request's session cookies for `session` spanning at most `max` cookies.
fn scan(max: usize, headers: &[&[u8]]) -> RequestCookies {
    RequestCookies::scan("session", max, None, headers.iter().copied())
}

#[test]
fn split_and_reassemble_every_chunk_under_the_limit() {
    let c = cfg(3);
    let value: String = (0..10_000)
        .map(|i| char::from(b'A' + (i % 26) as u8))
        .collect();
    let h = c.set_cookies(&value, Some(10), 0).unwrap();
    let nv = names_and_values(&h);
    assert_eq!(nv.len(), 3);
    for (n, v) in &nv {
        assert!(n.len() + v.len() <= MAX_COOKIE_BYTES);
    }
    assert_eq!(nv[0].0, "session");
    assert_eq!(nv[2].0, "session.2");
    assert!(nv[0].1.starts_with("3."));
    // Browsers may send them in any order, among other cookies.
    let header = format!(
        "other=1; session.2={}; session={}; x=y; session.1={}",
        nv[2].1, nv[0].1, nv[1].1
    );
    let found = scan(c.max_cookies(), &[header.as_bytes()]);
    assert_eq!(found.present(), 0b111);
    assert_eq!(joined(c.max_cookies(), &found), Ok(Some(value)));
    // One chunk missing: typed rejection.
    let header = format!("session={}; session.2={}", nv[0].1, nv[2].1);
    let found = scan(c.max_cookies(), &[header.as_bytes()]);
    assert_eq!(joined(c.max_cookies(), &found), Err(Rejection::BadChunks));
}

/// The first candidate value (joined when chunked), as the engine would try it; the
/// first candidate's reason when none is usable.
fn joined(max: usize, found: &RequestCookies) -> Result<Option<String>, Rejection> {
    if let Some(r) = found.refused() {
        return Err(r);
    }
    let mut candidates = found.candidates(max);
    let mut first_err = None;
    while let Some(c) = candidates.next() {
        match c {
            Ok(v) => return Ok(Some(v.to_string())),
            Err(r) => {
                first_err.get_or_insert(r);
            }
        }
    }
    match first_err {
        Some(r) => Err(r),
        None if candidates.saw_head() => Err(Rejection::BadChunks),
        None => Ok(None),
    }
}

/// Every value the candidates offer, in order, when none opens.
fn offered(max: usize, header: &str) -> Vec<String> {
    let found = scan(max, &[header.as_bytes()]);
    let mut candidates = found.candidates(max);
    let mut seen = Vec::new();
    while let Some(c) = candidates.next() {
        if let Ok(v) = c {
            seen.push(v.to_string());
        }
    }
    seen
}

#[test]
fn exact_name_match_only() {
    let c = cfg(2);
    let f = scan(
        c.max_cookies(),
        &[&b"xsession=1; session_x=2; sessions=3; session.01=4; session.99=5"[..]],
    );
    assert_eq!(f.present(), 0);
    let f = scan(
        c.max_cookies(),
        &[&b"a=b"[..], &b" session = v1 ; session=v2"[..]],
    );
    assert_eq!(joined(c.max_cookies(), &f), Ok(Some("v1".into())));
}

#[test]
fn duplicates_are_all_tried_in_order_within_bounds() {
    let c = cfg(1);
    assert_eq!(
        offered(c.max_cookies(), "session=a; x=1; session=b"),
        ["a", "b"]
    );
    let many = (0..10)
        .map(|i| format!("session=v{i}"))
        .collect::<Vec<_>>()
        .join("; ");
    assert_eq!(offered(c.max_cookies(), &many).len(), MAX_CANDIDATES);
    // Chunked: every combination of the chunks' candidates, up to the attempt budget.
    let c = cfg(3);
    assert_eq!(
        offered(c.max_cookies(), "session=2.a; session.1=x; session.1=y"),
        ["ax", "ay"]
    );
    let dup = "session=3.a; session=3.b; session.1=x; session.1=y; session.2=p; session.2=q";
    assert_eq!(offered(c.max_cookies(), dup).len(), MAX_ATTEMPTS);
    // A usable candidate wins over an unusable one, whatever the order.
    let found = scan(c.max_cookies(), &[&b"session=\xff; session=ok"[..]]);
    assert_eq!(joined(c.max_cookies(), &found), Ok(Some("ok".into())));
}

#[test]
fn only_what_this_configuration_writes_is_read() {
    // A chunk count above max_cookies, or with a leading zero, is not ours.
    let c = cfg(2);
    for bad in [
        "session=3.a; session.1=b; session.2=c",
        "session=02.a; session.1=b",
        "session=1.a",
        "session=0.a",
    ] {
        let found = scan(c.max_cookies(), &[bad.as_bytes()]);
        assert_eq!(
            joined(c.max_cookies(), &found),
            Err(Rejection::BadChunks),
            "{bad}"
        );
    }
    // Chunk names at or past max_cookies are someone else's.
    let found = scan(c.max_cookies(), &[&b"session.2=x; session.1=y"[..]]);
    assert_eq!(found.present(), 0b10);
    // A cookie longer than any browser keeps is not one we set.
    let long = format!("session={}", "A".repeat(MAX_COOKIE_BYTES));
    let found = scan(c.max_cookies(), &[long.as_bytes()]);
    assert_eq!(joined(c.max_cookies(), &found), Err(Rejection::TooLong));
}

#[test]
fn a_non_utf8_session_cookie_is_rejected_not_ignored() {
    let c = cfg(1);
    let f = scan(c.max_cookies(), &[&b"session=\xc3\x28abc"[..]]);
    assert_eq!(f.present(), 1);
    assert_eq!(joined(c.max_cookies(), &f), Err(Rejection::BadBase64));
}

#[test]
fn reader_is_bounded() {
    let c = cfg(1);
    let many = "a=b;".repeat(MAX_REQUEST_COOKIES + 1);
    let f = scan(c.max_cookies(), &[many.as_bytes()]);
    assert_eq!(joined(c.max_cookies(), &f), Err(Rejection::HeaderTooLarge));
    let big = vec![b'a'; MAX_HEADER_BYTES + 1];
    let f = scan(c.max_cookies(), &[big.as_slice()]);
    assert_eq!(joined(c.max_cookies(), &f), Err(Rejection::HeaderTooLarge));
    assert_eq!(f.present(), 0, "nothing is known to be ours");
}

#[test]
fn the_chunk_count_is_read_from_the_first_three_bytes_only() {
    assert_eq!(split_chunk_count("2.AQMA"), Some(("2", "AQMA")));
    assert_eq!(split_chunk_count("32.AQMA"), Some(("32", "AQMA")));
    assert_eq!(split_chunk_count(".AQMA"), Some(("", "AQMA"))); // then a bad count
    assert_eq!(split_chunk_count("123.AQMA"), None); // a single (undecodable) value
    assert_eq!(split_chunk_count("AQMAAAAA.x"), None);
    assert_eq!(split_chunk_count(""), None);
    assert_eq!(chunk_count_dot(b"7."), Some(1));
}
