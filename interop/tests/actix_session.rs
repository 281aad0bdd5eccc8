//! The importer's decoder (`src/import/jar.rs`) against cookies made by the real actix-session
//! 0.11 (`CookieSessionStore`, private and signed), by cookie 0.18's private jar (what
//! axum-extra and tower-cookies use) and by axum-extra's `PrivateCookieJar`.
//!
//! Every cookie here is captured from the `Set-Cookie` header those crates write, so the
//! decoder is checked against the bytes a browser would send back, not against a copy of the
//! format written from its description.

use std::collections::BTreeMap;

use actix_session::config::CookieContentSecurity;
use actix_session::storage::CookieSessionStore;
use actix_session::{Session, SessionMiddleware};
use actix_web::cookie::Key;
use actix_web::http::header::{COOKIE, SET_COOKIE};
use actix_web::{test as actix_test, web, App, HttpResponse};
use base64::Engine as _;
use serde_json::{json, Value};

use sealed_session::internals::{
    legacy_decode_state, legacy_key, legacy_open, LegacyError, LegacyKey, LEGACY_MAX_VALUE_LEN,
};

/// The key the test app hands actix-session: bytes 0, 1, ..., 63.
fn master() -> Vec<u8> {
    (0..64).collect()
}

/// The login session of the reference workloads (`tests/data/workloads/login.json`).
fn login_workload() -> BTreeMap<String, Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/workloads/login.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// `POST /login`: what the seeds' apps store at login, each value with its own type.
async fn login(session: Session) -> actix_web::Result<HttpResponse> {
    session.insert("userId", 1u64)?;
    session.insert("username", "admin")?;
    session.insert("role", String::from("admin"))?;
    session.insert("permissions", vec!["read", "write", "delete"])?;
    session.insert("loginCount", 1u64)?;
    Ok(HttpResponse::Ok().finish())
}

/// `POST /big?n=N`: a session with one string of N bytes.
async fn big(session: Session, q: web::Query<BTreeMap<String, usize>>) -> HttpResponse {
    let n = q.get("n").copied().unwrap_or(0);
    session.insert("blob", "/".repeat(n)).unwrap();
    HttpResponse::Ok().finish()
}

/// `GET /me`: actix-session reading its own cookie back.
async fn me(session: Session) -> HttpResponse {
    match session.get::<u64>("userId") {
        Ok(Some(id)) => HttpResponse::Ok().body(id.to_string()),
        _ => HttpResponse::Unauthorized().finish(),
    }
}

/// The `name=value` of the one `Set-Cookie` an actix-session app writes at `path`, exactly as
/// the header carries it (the value percent-encoded by `Cookie::encoded`).
async fn actix_cookie(
    key: Key,
    name: Option<&str>,
    security: CookieContentSecurity,
    path: &str,
) -> (String, String) {
    let mut builder = SessionMiddleware::builder(CookieSessionStore::default(), key)
        .cookie_content_security(security);
    if let Some(name) = name {
        builder = builder.cookie_name(name.to_string());
    }
    let app = actix_test::init_service(
        App::new()
            .wrap(builder.build())
            .route("/login", web::post().to(login))
            .route("/big", web::post().to(big))
            .route("/me", web::get().to(me)),
    )
    .await;
    let res =
        actix_test::call_service(&app, actix_test::TestRequest::post().uri(path).to_request())
            .await;
    assert!(res.status().is_success());
    let set: Vec<_> = res.headers().get_all(SET_COOKIE).collect();
    assert_eq!(set.len(), 1, "{set:?}");
    let header = set[0].to_str().unwrap();
    let pair = header.split(';').next().unwrap();
    let (name, value) = pair.split_once('=').unwrap();

    // The cookie is good: the same app reads it back.
    if path == "/login" {
        let req = actix_test::TestRequest::get()
            .uri("/me")
            .insert_header((COOKIE, pair))
            .to_request();
        let body = actix_test::call_and_read_body(&app, req).await;
        assert_eq!(&body[..], b"1", "actix-session reads its own cookie");
    }
    (name.to_string(), value.to_string())
}

async fn login_cookie() -> String {
    let (name, value) = actix_cookie(
        Key::from(&master()),
        None,
        CookieContentSecurity::Private,
        "/login",
    )
    .await;
    assert_eq!(name, "id", "actix-session's default cookie name");
    value
}

fn key() -> LegacyKey {
    legacy_key(&master()).unwrap()
}

/// The value as actix-web hands it to actix-session: percent-decoded.
fn decoded(value: &str) -> String {
    actix_web::cookie::Cookie::parse_encoded(format!("id={value}"))
        .unwrap()
        .value()
        .to_string()
}

#[actix_web::test]
async fn real_login_cookie_opens_and_every_value_decodes() {
    let value = login_cookie().await;
    // Percent-encoded on the wire: `/` and `=` are escaped, `+` is not.
    assert!(!value.contains('/') && !value.contains('='), "{value}");
    let plain = legacy_open(&key(), "id", value.as_bytes()).unwrap();
    let state = legacy_decode_state(&plain).unwrap();

    assert_eq!(state.len(), 5);
    assert_eq!(state["userId"], json!(1));
    assert_eq!(state["userId"].as_u64(), Some(1));
    assert_eq!(state["username"], json!("admin"));
    assert_eq!(state["role"], json!("admin"));
    assert_eq!(state["permissions"], json!(["read", "write", "delete"]));
    assert_eq!(state["loginCount"].as_u64(), Some(1));
    assert_eq!(state, login_workload());

    // The plaintext is actix-session's state: a JSON object of JSON texts.
    let raw: BTreeMap<String, String> = serde_json::from_slice(&plain).unwrap();
    assert_eq!(raw["username"], "\"admin\"");
    assert_eq!(raw["permissions"], r#"["read","write","delete"]"#);

    // The same value percent-decoded (as actix-web reads it), quoted, or with spaces around.
    let plain_value = decoded(&value);
    assert!(plain_value.ends_with('='), "{plain_value}");
    for v in [
        plain_value.clone(),
        format!("\"{value}\""),
        format!("  {plain_value} "),
    ] {
        assert_eq!(legacy_open(&key(), "id", v.as_bytes()).unwrap(), plain);
    }

    // The key as standard base64 text, padded or not, with a trailing newline.
    let b64 = base64::engine::general_purpose::STANDARD.encode(master());
    for text in [
        b64.clone(),
        b64.trim_end_matches('=').to_string(),
        format!("{b64}\n"),
    ] {
        let k = LegacyKey::from_base64(&text).unwrap();
        assert_eq!(k.open("id", value.as_bytes()).unwrap(), plain);
    }
    // More than 64 bytes: only the first 64 count, as in `Key::from`.
    let mut long = master();
    long.extend_from_slice(&[0xee; 36]);
    assert_eq!(
        legacy_key(&long)
            .unwrap()
            .open("id", value.as_bytes())
            .unwrap(),
        plain
    );
}

#[actix_web::test]
async fn every_bit_flipped_is_a_typed_error() {
    let value = decoded(&login_cookie().await);
    let key = key();
    let mut count = 0;
    for i in 0..value.len() {
        for bit in 0..8 {
            let mut v = value.clone().into_bytes();
            v[i] ^= 1 << bit;
            let r = legacy_open(&key, "id", &v);
            assert!(
                matches!(
                    r,
                    Err(LegacyError::BadBase64 | LegacyError::BadTag | LegacyError::TooShort)
                ),
                "byte {i} bit {bit}: {r:?}"
            );
            count += 1;
        }
    }
    assert!(count > 1000);

    // On the wire form too (bit 0: never the case of a `%2F` escape's hex digit).
    let wire = login_cookie().await;
    for i in 0..wire.len() {
        let mut v = wire.clone().into_bytes();
        v[i] ^= 1;
        assert!(legacy_open(&key, "id", &v).is_err(), "byte {i}");
    }
}

#[actix_web::test]
async fn every_truncation_is_a_typed_error() {
    let key = key();
    for value in [login_cookie().await, decoded(&login_cookie().await)] {
        for n in 0..value.len() {
            let r = legacy_open(&key, "id", &value.as_bytes()[..n]);
            assert!(
                matches!(
                    r,
                    Err(LegacyError::BadBase64 | LegacyError::BadTag | LegacyError::TooShort)
                ),
                "{n}: {r:?}"
            );
        }
        // Longer by a byte is no better.
        let mut v = value.clone().into_bytes();
        v.push(b'A');
        assert!(legacy_open(&key, "id", &v).is_err());
    }
}

#[actix_web::test]
async fn another_key_is_bad_tag() {
    let mut other = master();
    other[40] ^= 1; // in the encryption half
    let (_, value) = actix_cookie(
        Key::from(&other),
        None,
        CookieContentSecurity::Private,
        "/login",
    )
    .await;
    assert_eq!(
        legacy_open(&key(), "id", value.as_bytes()),
        Err(LegacyError::BadTag)
    );
    assert!(legacy_open(&legacy_key(&other).unwrap(), "id", value.as_bytes()).is_ok());

    // The signing half plays no part in the private jar; the halves swapped do not open.
    let mut signing_changed = master();
    signing_changed[0] ^= 1;
    let value = login_cookie().await;
    assert!(legacy_open(
        &legacy_key(&signing_changed).unwrap(),
        "id",
        value.as_bytes()
    )
    .is_ok());
    let swapped: Vec<u8> = master()[32..]
        .iter()
        .chain(&master()[..32])
        .copied()
        .collect();
    assert_eq!(
        legacy_open(&legacy_key(&swapped).unwrap(), "id", value.as_bytes()),
        Err(LegacyError::BadTag)
    );
}

#[actix_web::test]
async fn another_cookie_name_is_bad_tag() {
    let value = login_cookie().await;
    for name in ["session", "Id", "id ", ""] {
        assert_eq!(
            legacy_open(&key(), name, value.as_bytes()),
            Err(LegacyError::BadTag),
            "{name:?}"
        );
    }
    // An app with its own cookie name: the name is the associated data.
    let (name, value) = actix_cookie(
        Key::from(&master()),
        Some("legacy"),
        CookieContentSecurity::Private,
        "/login",
    )
    .await;
    assert_eq!(name, "legacy");
    assert_eq!(
        legacy_open(&key(), "id", value.as_bytes()),
        Err(LegacyError::BadTag)
    );
    let plain = legacy_open(&key(), "legacy", value.as_bytes()).unwrap();
    assert_eq!(legacy_decode_state(&plain).unwrap(), login_workload());
}

#[actix_web::test]
async fn signed_cookie_is_refused() {
    let (name, value) = actix_cookie(
        Key::from(&master()),
        None,
        CookieContentSecurity::Signed,
        "/login",
    )
    .await;
    assert_eq!(name, "id");
    // base64(HMAC) || the JSON in clear: readable, but not ours to open.
    assert!(decoded(&value).contains("\"userId\":\"1\""), "{value}");
    assert_eq!(
        legacy_open(&key(), "id", value.as_bytes()),
        Err(LegacyError::BadBase64)
    );
    assert_eq!(
        legacy_open(&key(), "id", decoded(&value).as_bytes()),
        Err(LegacyError::BadBase64)
    );
}

#[actix_web::test]
async fn cookies_up_to_the_browser_limit_open_and_longer_ones_are_refused() {
    // The largest session whose `id=<value>` fits in 4096 bytes opens; actix-session also
    // writes longer cookies (its limit is 4064 bytes of JSON), which browsers drop.
    let (mut fits, mut refused) = (None, 0);
    for n in (2600..=3100).rev().step_by(4) {
        let (_, value) = actix_cookie(
            Key::from(&master()),
            None,
            CookieContentSecurity::Private,
            &format!("/big?n={n}"),
        )
        .await;
        if value.len() <= LEGACY_MAX_VALUE_LEN {
            fits = Some((n, value));
            break;
        }
        assert_eq!(
            legacy_open(&key(), "id", value.as_bytes()),
            Err(LegacyError::TooLong)
        );
        refused += 1;
        // Percent-decoded it may be short enough again, and then it opens.
        if decoded(&value).len() <= LEGACY_MAX_VALUE_LEN {
            assert!(legacy_open(&key(), "id", decoded(&value).as_bytes()).is_ok());
        }
    }
    assert!(refused > 0, "actix-session wrote no cookie over the limit");
    let (n, value) = fits.expect("some session size fits in a cookie");
    let plain = legacy_open(&key(), "id", value.as_bytes()).unwrap();
    let state = legacy_decode_state(&plain).unwrap();
    assert_eq!(state["blob"], json!("/".repeat(n)));
}

#[test]
fn garbage_is_a_typed_error() {
    let key = key();
    let long = "A".repeat(LEGACY_MAX_VALUE_LEN + 1);
    let at_limit = "A".repeat(LEGACY_MAX_VALUE_LEN);
    let cases: &[(&[u8], LegacyError)] = &[
        (b"", LegacyError::TooShort),
        (b"=", LegacyError::BadBase64),
        (b"\"\"", LegacyError::TooShort),
        (b"\"", LegacyError::BadBase64),
        (b"%", LegacyError::BadBase64),
        (b"%%%%", LegacyError::BadBase64),
        (b"%41%41%41%41", LegacyError::TooShort),
        (b"AAAA", LegacyError::TooShort),
        (&[0xff, 0xfe, 0x00, 0x80], LegacyError::BadBase64),
        (b"\xe2\x82\xac\xe2\x82\xac", LegacyError::BadBase64),
        (long.as_bytes(), LegacyError::TooLong),
        (at_limit.as_bytes(), LegacyError::BadTag),
        // base64url (this crate's own values use it) is another alphabet.
        (
            b"AQKqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq-_",
            LegacyError::BadBase64,
        ),
        // 28 bytes of zeros: a nonce, no ciphertext, a tag that does not verify.
        (
            b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
            LegacyError::BadTag,
        ),
        (b"{\"userId\":\"1\"}", LegacyError::BadBase64),
    ];
    for (value, want) in cases {
        assert_eq!(
            legacy_open(&key, "id", value),
            Err(*want),
            "{:?}",
            String::from_utf8_lossy(value)
        );
    }
    // Every length of a run of one base64 character up to the limit.
    for n in 0..=LEGACY_MAX_VALUE_LEN {
        let v = "B".repeat(n);
        assert!(legacy_open(&key, "id", v.as_bytes()).is_err(), "{n}");
    }
}

/// cookie 0.18's private jar, which axum-extra and tower-cookies (and so
/// tower-sessions-cookie-store in private mode) use: the same format under the same `Key`.
#[test]
fn cookie_018_private_jar_opens() {
    use cookie::{Cookie, CookieJar, Key as Key018};

    let text = r#"{"k":"\"v\""}"#;
    for (key, legacy) in [
        (Key018::from(&master()), key()),
        (
            Key018::derive_from(&[0x42; 32]),
            LegacyKey::derive_from(&[0x42; 32]).unwrap(),
        ),
        (
            Key018::derive_from(&master()),
            LegacyKey::derive_from(&master()).unwrap(),
        ),
    ] {
        let mut jar = CookieJar::new();
        jar.private_mut(&key).add(Cookie::new("session", text));
        let sealed = jar.delta().next().unwrap().clone();
        // tower-cookies writes `to_string()` (not percent-encoded), axum-extra `encoded()`.
        let plain = sealed.stripped().to_string();
        let encoded = sealed.encoded().stripped().to_string();
        for pair in [plain, encoded] {
            let value = pair.strip_prefix("session=").unwrap();
            let opened = legacy.open("session", value.as_bytes()).unwrap();
            assert_eq!(opened, text.as_bytes());
            assert_eq!(legacy_decode_state(&opened).unwrap()["k"], json!("v"));
        }
    }
    assert!(LegacyKey::derive_from(&[0x42; 31]).is_err());
}

#[test]
fn axum_extra_private_cookie_jar_opens() {
    use axum_core::response::IntoResponse;
    use axum_extra::extract::cookie::{Cookie, Key as AxumKey, PrivateCookieJar};

    let jar = PrivateCookieJar::new(AxumKey::from(&master()));
    let jar = jar.add(Cookie::new("prefs", "dark/large=yes"));
    let res = jar.into_response();
    let header = res.headers()[http::header::SET_COOKIE].to_str().unwrap();
    let value = header
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("prefs=")
        .unwrap();
    // The application's own plaintext: `open` covers it; it is no actix-session state.
    assert_eq!(
        legacy_open(&key(), "prefs", value.as_bytes()).unwrap(),
        b"dark/large=yes"
    );
    assert_eq!(
        legacy_decode_state(b"dark/large=yes"),
        Err(LegacyError::NotJson)
    );
}

// ---------------------------------------------------------------------------------------------
// The importer as an application uses it: a real actix-session login cookie, served by an
// actix-web app that moved to sealed-session.
// ---------------------------------------------------------------------------------------------

/// The response body of the app after the move (the session middleware's).
type Moved = actix_web::body::EitherBody<actix_web::body::BoxBody>;

/// The app after the move: `GET /me` answers the user id, from the session of this crate.
async fn moved_app(
    import: bool,
) -> impl actix_web::dev::Service<
    actix_http::Request,
    Response = actix_web::dev::ServiceResponse<Moved>,
    Error = actix_web::Error,
> {
    use sealed_session::{LegacyImport, Secret, SessionBuilder};

    async fn me(session: sealed_session::Session) -> actix_web::Result<HttpResponse> {
        Ok(match session.get::<u64>("user_id")? {
            Some(id) => {
                let name = session.get::<String>("username")?.unwrap_or_default();
                let permissions = session
                    .get::<Vec<String>>("permissions")?
                    .unwrap_or_default();
                HttpResponse::Ok()
                    .json(json!({ "id": id, "name": name, "permissions": permissions }))
            }
            None => HttpResponse::Unauthorized().finish(),
        })
    }

    let mut builder = SessionBuilder::new(Secret::from_bytes(&[5; 32]).unwrap())
        .cookie_name("session")
        .secure(false);
    if import {
        let key = sealed_session::LegacyKey::from_bytes(&master()).unwrap();
        builder = builder.import_legacy(LegacyImport::actix_session(key, |old, session| {
            let (Some(id), Some(name)) =
                (old.get::<u64>("userId")?, old.get::<String>("username")?)
            else {
                return Ok(());
            };
            session.insert("user_id", &id)?;
            session.insert("username", &name)?;
            let permissions: Vec<String> = old.get("permissions")?.unwrap_or_default();
            session.insert("permissions", &permissions)?;
            Ok(())
        }));
    }
    actix_test::init_service(
        App::new()
            .wrap(sealed_session::actix::SessionMiddleware::new(
                builder.build().unwrap(),
            ))
            .route("/me", web::get().to(me)),
    )
    .await
}

/// `GET /me` with `cookie`: the status, the JSON body (null when none) and the Set-Cookies.
async fn get_me(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<Moved>,
        Error = actix_web::Error,
    >,
    cookie: &str,
) -> (u16, Value, Vec<String>) {
    let req = actix_test::TestRequest::get()
        .uri("/me")
        .insert_header((COOKIE, cookie))
        .to_request();
    let res = actix_test::call_service(app, req).await;
    let status = res.status().as_u16();
    let set = res
        .headers()
        .get_all(SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let body = actix_test::read_body(res).await;
    (
        status,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
        set,
    )
}

fn removes_id(set: &[String]) -> bool {
    set.iter()
        .any(|c| c.starts_with("id=;") && c.contains("Max-Age=0") && c.contains("Path=/"))
}

#[actix_web::test]
async fn a_real_actix_session_login_is_served_after_the_move() {
    let app = moved_app(true).await;
    let old = format!("id={}", login_cookie().await);
    let (status, body, set) = get_me(&app, &old).await;
    assert_eq!(status, 200, "{set:?}");
    assert_eq!(
        body,
        json!({ "id": 1, "name": "admin", "permissions": ["read", "write", "delete"] })
    );
    assert!(removes_id(&set), "{set:?}");
    let ours = set
        .iter()
        .find(|c| c.starts_with("session="))
        .expect("our session cookie is set")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    // From now on, our cookie alone.
    let (status, body, set) = get_me(&app, &ours).await;
    assert_eq!((status, body["id"].clone()), (200, json!(1)));
    assert!(set.is_empty(), "{set:?}");
}

#[actix_web::test]
async fn a_tampered_or_foreign_real_cookie_is_ignored_and_removed() {
    let app = moved_app(true).await;
    let value = login_cookie().await;
    let mut tampered = value.clone().into_bytes();
    let i = tampered.len() / 2;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let (_, foreign) = actix_cookie(
        Key::from(&[0x77; 64]),
        None,
        CookieContentSecurity::Private,
        "/login",
    )
    .await;
    let (_, signed) = actix_cookie(
        Key::from(&master()),
        None,
        CookieContentSecurity::Signed,
        "/login",
    )
    .await;
    for bad in [tampered, foreign, signed] {
        let (status, _, set) = get_me(&app, &format!("id={bad}")).await;
        assert_eq!(status, 401, "{bad}");
        assert!(removes_id(&set), "{set:?}");
        assert!(!set.iter().any(|c| c.starts_with("session=")), "{set:?}");
    }
}

#[actix_web::test]
async fn without_the_importer_a_real_cookie_is_left_alone() {
    let app = moved_app(false).await;
    let (status, _, set) = get_me(&app, &format!("id={}", login_cookie().await)).await;
    assert_eq!(status, 401);
    assert!(set.is_empty(), "{set:?}");
}
