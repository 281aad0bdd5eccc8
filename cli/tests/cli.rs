//! The `sealed-session` binary on real cookies: sealed through the library's public API with
//! the example server's settings (cookie `session`, 24 h idle, 7 days absolute), read back
//! with and without keys, and on every rejection a client can cause.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sealed_session::inspect::Header;
use sealed_session::{
    Algorithm, EpochKeys, Keyring, Secret, SessionBuilder, SessionEngine, SessionState,
};
use serde_json::Value;

const T0: u64 = 1_800_000_000;

fn run(args: &[&str]) -> Output {
    run_with_stdin(args, None)
}

fn run_with_stdin(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealed-session"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            stdout(o),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn secret(b: u8) -> Secret {
    Secret::from_bytes(&[b; 32]).unwrap()
}

/// The example server's settings (cookie `session`) at a settable clock.
fn engine(keys: Keyring, max_cookies: usize, clock: Arc<AtomicU64>) -> SessionEngine {
    SessionBuilder::new(keys)
        .cookie_name("session")
        .max_cookies(max_cookies)
        .idle_timeout(Duration::from_secs(86_400))
        .absolute_timeout(Duration::from_secs(604_800))
        .clock(move || clock.load(Ordering::SeqCst))
        .build()
        .unwrap()
}

fn clock() -> Arc<AtomicU64> {
    Arc::new(AtomicU64::new(T0))
}

/// The `name=value` pairs of the `Set-Cookie`s that store `session`.
fn pairs(engine: &SessionEngine, session: &mut SessionState) -> Vec<String> {
    engine
        .set_cookies(session)
        .unwrap()
        .iter()
        .map(|c| c.split(';').next().unwrap().to_owned())
        .collect()
}

/// A logged-in session like the example server's.
fn login_session() -> SessionState {
    let mut s = SessionState::new();
    s.insert("user_id", &42u64).unwrap();
    s.insert("role", "admin").unwrap();
    s
}

fn b64(k: &Secret) -> String {
    k.to_base64()
}

#[test]
fn keygen_prints_a_fresh_secret() {
    let a = run(&["keygen"]);
    let b = run(&["keygen"]);
    assert!(a.status.success());
    let (a, b) = (stdout(&a), stdout(&b));
    assert_ne!(a, b);
    assert!(Secret::from_base64(a.trim()).is_ok(), "{a}");
    assert_eq!(a.trim().len(), 43, "32 bytes in base64url without padding");
}

#[test]
fn key_ids_match_the_library() {
    let (k0, k1) = (secret(1), secret(2));
    let list = format!("{},{}", b64(&k0), b64(&k1));
    let ring = Keyring::from_secrets([k0.clone(), k1]).unwrap();
    let out = run(&["key-ids", "--keys", &list, "--json"]);
    assert!(out.status.success());
    let v = json(&out);
    for alg in Algorithm::ALL {
        for (i, id) in ring.key_ids(alg).iter().enumerate() {
            assert_eq!(v["keys"][i]["keyIds"][alg.name()], id.to_string());
        }
    }
    assert_eq!(v["keys"][0]["primary"], true);
    let text = stdout(&run(&["key-ids", "--keys", &list]));
    assert!(text.contains("key 1 (opens only)"), "{text}");
    assert!(text.contains(&ring.key_ids(Algorithm::Aes256Gcm)[1].to_string()));

    // Epoch keys: the previous, current and next epoch around --now.
    let epochs = EpochKeys::new(k0.clone(), Duration::from_secs(3600)).unwrap();
    let now = T0.to_string();
    let v = json(&run(&[
        "key-ids",
        "--keys",
        &b64(&k0),
        "--epoch-secs",
        "3600",
        "--now",
        &now,
        "--json",
    ]));
    let current = epochs.epoch_at(T0);
    assert_eq!(v["keys"][1]["epoch"], current);
    assert_eq!(v["keys"][1]["current"], true);
    let alg = Algorithm::XChaCha20Poly1305;
    assert_eq!(
        v["keys"][0]["keyIds"][alg.name()],
        epochs.key_id(current - 1, alg).to_string()
    );

    // The list from the environment, so it stays out of the process list.
    let out = Command::new(env!("CARGO_BIN_EXE_sealed-session"))
        .args(["key-ids", "--keys", "env:TEST_SESSION_KEYS"])
        .env("TEST_SESSION_KEYS", &list)
        .output()
        .unwrap();
    assert_eq!(stdout(&out), text);
    let bad = run(&["key-ids", "--keys", "not-a-secret"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--keys"));
}

#[test]
fn inspect_without_keys_reads_the_header() {
    let e = engine(Keyring::new(secret(1)), 1, clock());
    let cookie = pairs(&e, &mut login_session()).remove(0);
    let value = cookie.strip_prefix("session=").unwrap();
    let header = Header::parse(value).unwrap();

    for arg in [
        cookie.clone(),
        value.to_owned(),
        format!("Cookie: theme=dark; {cookie}"),
    ] {
        let out = run(&["inspect", "--json", &arg]);
        assert_eq!(out.status.code(), Some(0), "{arg}: {}", stdout(&out));
        let v = json(&out);
        assert_eq!(v["outcome"]["status"], "not_opened_without_keys");
        let h = &v["candidates"][0]["header"];
        assert_eq!(h["version"], 1);
        assert_eq!(h["algorithm"], header.algorithm.name());
        assert_eq!(h["keyId"], header.key_id.to_string());
        assert_eq!(h["encodedLen"], value.len());
        assert_eq!(h["sealedLen"], header.sealed_len);
        assert!(v["candidates"][0]["contents"].is_null());
        assert!(v["candidates"][0]["rejection"].is_null());
    }
    let text = stdout(&run(&["inspect", &cookie]));
    assert!(
        text.contains(&format!("key id {}", header.key_id)),
        "{text}"
    );
    assert!(text.contains("no --keys"), "{text}");
}

#[test]
fn inspect_with_keys_names_the_key_deadlines_and_entries() {
    let (old, new) = (secret(1), secret(2));
    let before = engine(Keyring::new(old.clone()), 1, clock());
    let cookie = pairs(&before, &mut login_session()).remove(0);
    // After the rotation to [new, old]: the old key, index 1, opens it.
    let keys = format!("{},{}", b64(&new), b64(&old));
    let now = (T0 + 600).to_string();
    let out = run(&["inspect", "--keys", &keys, "--now", &now, "--json", &cookie]);
    assert!(out.status.success(), "{}", stdout(&out));
    let v = json(&out);
    assert_eq!(v["outcome"]["status"], "opened");
    assert_eq!(v["outcome"]["needsReseal"], true);
    let c = &v["candidates"][0]["contents"];
    assert_eq!(c["key"]["ring"], 1);
    assert_eq!(c["primary"], false);
    assert_eq!(c["createdAt"], T0);
    assert_eq!(c["refreshedAt"], T0);
    assert_eq!(c["idleExpiresAt"], T0 + 86_400);
    assert_eq!(c["absoluteExpiresAt"], T0 + 604_800);
    let entries: Vec<(String, u64)> = c["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["size"].as_u64().unwrap(),
            )
        })
        .collect();
    // postcard: a u64 42 is one varint byte; "admin" is a length byte and five bytes.
    assert_eq!(entries, [("role".into(), 6), ("user_id".into(), 1)]);

    let text = stdout(&run(&["inspect", "--keys", &keys, "--now", &now, &cookie]));
    for expected in [
        "ring key 1 (an older secret",
        "created     2027-01-15T08:00:00Z (1800000000, 10m 0s ago)",
        "idle until  2027-01-16T08:00:00Z",
        "user_id  1 bytes",
        "re-seals it",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
    // Keys from standard input.
    let out = run_with_stdin(
        &["inspect", "--keys", "-", "--now", &now, &cookie],
        Some(&keys),
    );
    assert_eq!(stdout(&out), text);
}

#[test]
fn inspect_epoch_keys_names_the_epoch() {
    let master = secret(7);
    let t = clock();
    let e = SessionBuilder::new(EpochKeys::new(master.clone(), Duration::from_secs(3600)).unwrap())
        .idle_timeout(Duration::from_secs(3600))
        .clock({
            let t = t.clone();
            move || t.load(Ordering::SeqCst)
        })
        .build()
        .unwrap();
    let cookie = pairs(&e, &mut login_session()).remove(0);
    let epoch = T0 / 3600;
    let now = (T0 + 3600).to_string();
    let v = json(&run(&[
        "inspect",
        "--keys",
        &b64(&master),
        "--epoch-secs",
        "3600",
        "--now",
        &now,
        "--json",
        &cookie,
    ]));
    assert_eq!(v["outcome"]["status"], "opened");
    assert_eq!(v["candidates"][0]["contents"]["key"]["epoch"], epoch);
    assert_eq!(v["candidates"][0]["contents"]["primary"], false);
    // Two periods later the key is gone.
    let later = (T0 + 2 * 3600 + 1).to_string();
    let v = json(&run(&[
        "inspect",
        "--keys",
        &b64(&master),
        "--epoch-secs",
        "3600",
        "--now",
        &later,
        "--json",
        &cookie,
    ]));
    assert_eq!(v["outcome"]["reason"], "unknown_key");
}

#[test]
fn inspect_reads_chunked_sessions_in_every_form() {
    let k = secret(3);
    let e = SessionBuilder::new(Keyring::new(k.clone()))
        .max_cookies(3)
        .compression(sealed_session::Compression::Off)
        .clock(|| T0)
        .build()
        .unwrap();
    let mut s = SessionState::new();
    s.insert("blob", &"x".repeat(5000)).unwrap();
    let chunks = pairs(&e, &mut s);
    assert_eq!(chunks.len(), 2);
    let values: Vec<&str> = chunks
        .iter()
        .map(|c| c.split_once('=').unwrap().1)
        .collect();
    let header = format!("Cookie: {}", chunks.join("; "));
    let keys = b64(&k);
    let now = T0.to_string();
    let common = [
        "inspect",
        "--keys",
        &keys,
        "--max-cookies",
        "3",
        "--now",
        &now,
        "--json",
    ];
    for form in [
        vec![chunks[0].as_str(), chunks[1].as_str()],
        vec![values[0], values[1]],
        vec![header.as_str()],
    ] {
        let args: Vec<&str> = common.iter().copied().chain(form.iter().copied()).collect();
        let v = json(&run(&args));
        assert_eq!(v["outcome"]["status"], "opened", "{form:?}");
        // The library's default name, which the tool reads by default.
        assert_eq!(
            v["present"],
            serde_json::json!(["__Host-session", "__Host-session.1"])
        );
        assert_eq!(v["candidates"][0]["contents"]["entries"][0]["size"], 5002);
    }
    // The second chunk missing, or a server that allows one cookie only.
    let v = json(&run(&common
        .iter()
        .copied()
        .chain([chunks[0].as_str()])
        .collect::<Vec<_>>()));
    assert_eq!(v["outcome"]["reason"], "bad_chunks");
    let v = json(&run(&["inspect", "--keys", &keys, "--json", &header]));
    assert_eq!(v["outcome"]["reason"], "bad_chunks");
}

/// Inspects `cookie` with `keys` at `now` and returns the outcome's JSON, checking the exit
/// status and that the text output gives the same reason.
fn rejected(keys: &str, now: u64, extra: &[&str], cookie: &str) -> Value {
    let now = now.to_string();
    let mut args = vec!["inspect", "--keys", keys, "--now", &now];
    args.extend_from_slice(extra);
    args.push(cookie);
    let text = run(&args);
    assert_eq!(text.status.code(), Some(1), "{}", stdout(&text));
    args.push("--json");
    let v = json(&run(&args));
    let reason = v["outcome"]["reason"].as_str().unwrap().to_owned();
    assert!(
        stdout(&text).contains(&format!("rejected: {reason} (")),
        "{}",
        stdout(&text)
    );
    assert!(v["outcome"]["message"].as_str().unwrap().len() > 20);
    v
}

#[test]
fn inspect_gives_the_exact_rejection() {
    let k = secret(4);
    let keys = b64(&k);
    let e = engine(Keyring::new(k), 1, clock());
    let cookie = pairs(&e, &mut login_session()).remove(0);
    let value = cookie.strip_prefix("session=").unwrap();
    let reason = |v: &Value| v["outcome"]["reason"].as_str().unwrap().to_owned();

    let other = b64(&secret(5));
    assert_eq!(reason(&rejected(&other, T0, &[], &cookie)), "unknown_key");
    assert_eq!(
        reason(&rejected(&keys, T0, &[], "session=!!")),
        "bad_base64"
    );
    assert_eq!(
        reason(&rejected(&keys, T0, &[], "session=AQEA")),
        "too_short"
    );
    assert_eq!(
        reason(&rejected(&keys, T0, &[], "session=AAAAAAAA")),
        "unknown_version"
    );
    assert_eq!(
        reason(&rejected(&keys, T0, &[], "session=AQkAAAAA")),
        "unknown_algorithm"
    );
    let long = format!("session={}", "A".repeat(5000));
    assert_eq!(reason(&rejected(&keys, T0, &[], &long)), "too_long");
    assert_eq!(
        reason(&rejected(&keys, T0, &[], "session=2.AQEA")),
        "bad_chunks"
    );
    let many: Vec<String> = (0..1100).map(|i| format!("c{i}=1")).collect();
    let many = many.join("; ");
    assert_eq!(reason(&rejected(&keys, T0, &[], &many)), "header_too_large");

    // A changed character in the ciphertext: the header still reads, the tag fails.
    let mut forged = value.to_owned().into_bytes();
    let mid = forged.len() / 2;
    forged[mid] = if forged[mid] == b'A' { b'B' } else { b'A' };
    let forged = format!("session={}", String::from_utf8(forged).unwrap());
    let v = rejected(&keys, T0, &[], &forged);
    assert_eq!(reason(&v), "bad_tag");
    assert!(v["candidates"][0]["header"]["keyId"].is_string());

    // Moved to another cookie name: the name is authenticated.
    let moved = format!("sid={value}");
    assert_eq!(
        reason(&rejected(&keys, T0, &["--name", "sid"], &moved)),
        "bad_tag"
    );

    // Expiry: the contents are still shown, with the deadline that passed.
    let v = rejected(&keys, T0 + 86_400 + 1, &[], &cookie);
    assert_eq!(reason(&v), "idle_expired");
    assert_eq!(v["candidates"][0]["contents"]["idleExpiresAt"], T0 + 86_400);
    let v = rejected(&keys, T0 + 604_800 + 1, &["--idle-secs", "0"], &cookie);
    assert_eq!(reason(&v), "absolute_expired");
    assert!(v["candidates"][0]["contents"]["idleExpiresAt"].is_null());
    assert_eq!(
        reason(&rejected(&keys, T0 - 3600, &[], &cookie)),
        "from_the_future"
    );

    // Written by the next release (schema 1) during a rolling deploy: no session here.
    let next = SessionBuilder::new(Keyring::new(secret(4)))
        .cookie_name("session")
        .schema(1, |_, _| sealed_session::Migration::Keep)
        .clock(|| T0)
        .build()
        .unwrap();
    let newer = pairs(&next, &mut login_session()).remove(0);
    let v = rejected(&keys, T0, &[], &newer);
    assert_eq!(reason(&v), "newer_schema");
    assert!(v["candidates"][0]["contents"]["entries"].is_array());
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["frobnicate"][..],
        &["inspect"],
        &["inspect", "--max-cookies", "x", "a"],
        &["key-ids"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
    let help = run(&["help"]);
    assert!(help.status.success());
    assert!(stdout(&help).contains("sealed-session inspect"));
    let out = run(&["inspect", "theme=dark"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("no cookie named \"__Host-session\""));
}
