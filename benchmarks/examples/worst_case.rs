//! The worst-case cost of one session write and read, before and after the bound on the
//! serialized session (issue 10.6), and the cost of a refresh stamp (issue 13.1).
//!
//! ```text
//! bash benchmarks/run.sh worst-case
//! ```
//!
//! LZ4 lets a cookie of about 1.5 KB carry a session of 256 KiB of repetitive data (the
//! decompression cap), so every write of such a session serializes, compresses and seals
//! 256 KiB. With `max_session_bytes` (64 KiB by default) the worst a client can make the
//! server do per write is a 64 KiB session, and a larger one is refused at serialization.
//! Times are thread CPU time, medians of interleaved rounds.

use std::time::Duration;

use sealed_session_benchmarks::cpu::thread_time as cpu_now;
use sealed_session_benchmarks::ours::{
    self, Engine as SessionEngine, Options, Session, State as SessionState, MAX_PLAINTEXT,
};

/// Median CPU time per call of `f` over `rounds` rounds of `n` calls.
fn median(rounds: usize, n: u32, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let t = cpu_now();
            for _ in 0..n {
                f();
            }
            (cpu_now() - t) / n
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn engine(max: usize) -> SessionEngine {
    ours::engine(Options {
        max_session_bytes: Some(max),
        ..Options::default()
    })
}

/// A session of `len` bytes of one repeated byte: the most LZ4 compresses.
fn repetitive(len: usize) -> SessionState {
    let mut s = SessionState::new();
    s.insert("blob", &vec![b'a'; len]).unwrap();
    s
}

/// Seal and open once: what one write and the next read cost.
fn write_read(engine: &SessionEngine, session: &SessionState) -> Result<(), String> {
    let mut s = session.clone();
    let set = engine.set_cookies(&mut s).map_err(|e| e.to_string())?;
    let pair = set[0].split(';').next().unwrap_or_default().to_owned();
    let back = engine.start([pair.as_bytes()]);
    assert!(!back.is_empty());
    Ok(())
}

fn main() {
    println!("{}", sealed_session_benchmarks::build::line());
    let unbounded = engine(MAX_PLAINTEXT);
    let bounded = engine(64 * 1024);
    let worst_before = repetitive(MAX_PLAINTEXT - 64);
    let worst_after = repetitive(64 * 1024 - 64);
    let normal = {
        let mut s = SessionState::new();
        s.insert("user_id", &42u64).unwrap();
        s.insert("role", &"admin").unwrap();
        s
    };
    let cookie_len = |e: &SessionEngine, s: &SessionState| {
        let mut s = s.clone();
        e.set_cookies(&mut s)
            .map(|v| v[0].split(';').next().unwrap_or_default().len())
    };
    println!(
        "cookie sizes: 256 KiB session {} bytes, 64 KiB session {} bytes",
        cookie_len(&unbounded, &worst_before).unwrap(),
        cookie_len(&bounded, &worst_after).unwrap()
    );
    let rounds = 15;
    let mut before = Vec::new();
    let mut after = Vec::new();
    let mut refused = Vec::new();
    let mut small = Vec::new();
    for _ in 0..3 {
        before.push(median(rounds, 20, || {
            write_read(&unbounded, &worst_before).unwrap()
        }));
        after.push(median(rounds, 50, || {
            write_read(&bounded, &worst_after).unwrap()
        }));
        refused.push(median(rounds, 50, || {
            assert!(write_read(&bounded, &worst_before).is_err())
        }));
        small.push(median(rounds, 2000, || {
            write_read(&bounded, &normal).unwrap()
        }));
    }
    let show = |v: &[Duration]| {
        let mut v = v.to_vec();
        v.sort();
        format!("{:.1} µs", v[1].as_secs_f64() * 1e6)
    };
    println!(
        "write + read, 256 KiB session, no bound (before): {}",
        show(&before)
    );
    println!(
        "write + read, 64 KiB session, the default bound (after): {}",
        show(&after)
    );
    println!("256 KiB session refused by the bound: {}", show(&refused));
    println!("write + read, a small login session: {}", show(&small));

    // A refresh stamp: what a refresh-only response and the next read add.
    let stamp_engine = engine(64 * 1024);
    let value = {
        let mut s = normal.clone();
        stamp_engine.set_cookies(&mut s).unwrap()[0]
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    };
    let touch = |header: &str| {
        let s: Session = stamp_engine.start([header.as_bytes()]);
        s.touch().unwrap();
        let mut res = http::Response::new(());
        s.finish(&mut res).unwrap();
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    };
    let stamp = touch(&value);
    let with_stamp = format!("{value}; {stamp}");
    let read = |header: &str| {
        let s = stamp_engine.start([header.as_bytes()]);
        assert!(!s.is_empty());
    };
    let (mut plain, mut stamped, mut refresh) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        plain.push(median(rounds, 2000, || read(&value)));
        stamped.push(median(rounds, 2000, || read(&with_stamp)));
        refresh.push(median(rounds, 2000, || {
            touch(&value);
        }));
    }
    println!(
        "refresh stamp: {} characters; read without stamp {}, with stamp {}; a refresh-only response {}",
        stamp.len() - "session.t=".len(),
        show(&plain),
        show(&stamped),
        show(&refresh)
    );
}
