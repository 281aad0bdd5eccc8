//! Codec benchmarks: seal, open and seal+open of the reference workloads (small, login,
//! profile, cart), for each algorithm (XAES-256-GCM, the default; XChaCha20-Poly1305;
//! AES-256-GCM) with compression on and off, beside actix-session's cookie store and the
//! floors (postcard + one AEAD call + base64url), plus allocation counts.
//!
//! ```text
//! bash benchmarks/run.sh codec                   # criterion + summary (application build)
//! CODEC_SUMMARY_ONLY=1 bash benchmarks/run.sh codec   # allocations + interleaved pass only
//! bash benchmarks/run.sh codec -- profile        # criterion filter
//! CODEC_CLOCK=wall bash benchmarks/run.sh codec  # wall time
//! ```
//!
//! The summary (allocations and interleaved ratios) still runs after a criterion filter, and
//! ends with criterion's medians as Markdown tables; `CODEC_CLOCK=wall` measures wall time
//! instead of thread CPU time.
//!
//! Times are this thread's CPU time by default: the machine's two cores are shared with other
//! jobs, and CPU time leaves out the time the bench sits descheduled.
//!
//! Operations, per system:
//!
//! * `seal`: session state -> cookie value. Ours: `config.seal(&mut state)` of a state holding
//!   the typed value under one key. actix-session: `CookieSessionStore::save` of its state map
//!   (value already JSON, as `Session::insert` leaves it) + private-cookie encryption. Floors:
//!   postcard of the typed value + one AEAD call + base64url (they have no state, so they
//!   serialize the typed value here: compare the floors on `roundtrip`). `floor_xaes` is
//!   RustCrypto's `xaes-256-gcm` (key derived per call), `floor_xaes_cached` AES-256-GCM under
//!   a key set up once with a 24-byte nonce (XAES-256-GCM with its derived key cached, as the
//!   library does), `floor_xchacha` and `floor_aes` the other two algorithms.
//! * `open`: cookie value -> session state. Ours: `config.open_value(&value)`; actix-session:
//!   private-cookie decryption + `CookieSessionStore::load`; floor: base64url + AEAD +
//!   postcard into the typed value.
//! * `roundtrip` (seal+open): typed value in, typed value out, as a handler sees it: insert
//!   into a new session, seal, open, get. This is the like-for-like comparison.
//!
//! The summary printed after criterion gives allocations per operation, the ratios of an
//! interleaved A/B/C pass (systems alternate in short rounds, so drift from other load on the
//! machine hits them alike; these are the ones to quote), and criterion's medians.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::Criterion;
use sealed_session_benchmarks::ours::{
    self, Algorithm, Compression, Engine as SessionEngine, Options, State as SessionState,
};
use sealed_session_benchmarks::peers::{ActixCookie, Floor, FloorAlg};
use sealed_session_benchmarks::workloads;
use serde::de::DeserializeOwned;
use serde::Serialize;

// ---------------------------------------------------------------------------------------
// Allocation counting: `System` plus two counters, switched on only around the one call
// being counted (a relaxed load when off, so timing runs are not skewed).

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static REALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// counters are atomics and never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
        }
        // SAFETY: forwarded unchanged (the caller upholds `GlobalAlloc::alloc`'s contract).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            REALLOCS.fetch_add(1, Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// (allocations, reallocations) made by one call of `f`; the result is dropped uncounted.
fn count_allocs<R>(f: impl FnOnce() -> R) -> (u64, u64) {
    ALLOCS.store(0, Relaxed);
    REALLOCS.store(0, Relaxed);
    COUNTING.store(true, Relaxed);
    let r = black_box(f());
    COUNTING.store(false, Relaxed);
    drop(r);
    (ALLOCS.load(Relaxed), REALLOCS.load(Relaxed))
}

fn fmt_allocs((a, r): (u64, u64)) -> String {
    if r == 0 {
        format!("{a}")
    } else {
        format!("{a} (+{r} realloc)")
    }
}

// ---------------------------------------------------------------------------------------
// The clock: this thread's CPU time by default (CLOCK_THREAD_CPUTIME_ID), so that time the
// bench spends descheduled while other jobs share the two cores is not counted;
// `CODEC_CLOCK=wall` measures wall time instead. The code measured is single-threaded.

struct Clock {
    wall: bool,
    base: Instant,
}

static WALL: WallTime = WallTime;

impl Clock {
    fn from_env() -> Clock {
        Clock {
            wall: std::env::var("CODEC_CLOCK").is_ok_and(|v| v == "wall"),
            base: Instant::now(),
        }
    }

    fn name(&self) -> &'static str {
        if self.wall {
            "wall time"
        } else {
            "thread CPU time (CLOCK_THREAD_CPUTIME_ID)"
        }
    }

    fn now(&self) -> Duration {
        if self.wall {
            return self.base.elapsed();
        }
        sealed_session_benchmarks::cpu::thread_time()
    }
}

impl Measurement for Clock {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        self.now()
    }
    fn end(&self, start: Duration) -> Duration {
        self.now().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WALL.formatter()
    }
}

// ---------------------------------------------------------------------------------------
// The systems.

/// The default first: `ours` in the summary is `ALGS[0]` with compression on.
const ALGS: [(Algorithm, &str); 3] = [
    (Algorithm::XAes256Gcm, "xaes"),
    (Algorithm::XChaCha20Poly1305, "xchacha"),
    (Algorithm::Aes256Gcm, "aes"),
];
const COMPS: [(Compression, &str); 2] = [(Compression::Auto, "lz4"), (Compression::Off, "nolz4")];

fn config(alg: Algorithm, comp: Compression) -> SessionEngine {
    ours::engine(Options {
        algorithm: Some(alg),
        compression: Some(comp),
        ..Options::default()
    })
}

/// Ours, typed value in, typed value out.
fn ours_roundtrip<T: Serialize + DeserializeOwned>(c: &SessionEngine, key: &str, v: &T) -> T {
    let mut s = SessionState::new();
    s.insert(key, v).unwrap();
    let value = c.seal(&mut s).unwrap();
    c.open_value(&value)
        .unwrap()
        .get::<T>(key)
        .unwrap()
        .unwrap()
}

fn actix_roundtrip<T: Serialize + DeserializeOwned>(a: &ActixCookie, key: &str, v: &T) -> T {
    let state = ActixCookie::state_of(key, v);
    let sealed = a.seal(&state);
    let opened = a.open(&sealed.value).unwrap();
    ActixCookie::get::<T>(&opened, key).unwrap()
}

fn floor_roundtrip<T: Serialize + DeserializeOwned>(f: &Floor, v: &T) -> T {
    let value = f.seal(v);
    f.open::<T>(&value).unwrap()
}

// ---------------------------------------------------------------------------------------
// One workload, type-erased so that the three can sit in one list.

struct Workload {
    name: &'static str,
    run: Box<dyn Fn(&mut Ctx)>,
}

fn workload<T>(name: &'static str, key: &'static str, value: T) -> Workload
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug + 'static,
{
    Workload {
        name,
        run: Box::new(move |ctx| run_workload(ctx, name, key, &value)),
    }
}

fn workloads() -> Vec<Workload> {
    vec![
        workload("small", "user", workloads::small()),
        workload("login", "user", workloads::login()),
        workload("profile", "profile", workloads::profile()),
        workload("cart", "cart", workloads::cart()),
    ]
}

/// What `main` asked for and what the workloads report back for the summary.
struct Ctx<'c> {
    criterion: Option<&'c mut Criterion<Clock>>,
    /// The clock of the interleaved pass (criterion has its own copy).
    clock: Clock,
    /// Run the interleaved ratio pass (not under `cargo test -p sealed-session-benchmarks --benches`).
    interleave: bool,
    summary: Vec<String>,
    ratios: Vec<RatioRow>,
}

/// The systems of the interleaved pass, in order: ours (`ours` is the default, XAES-256-GCM
/// with LZ4 when it helps), actix-session, then the floors in [`FloorAlg::ALL`]'s order.
const INTERLEAVED: [&str; 11] = [
    "ours",
    "ours-nolz4",
    "ours-xchacha",
    "ours-xchacha-nolz4",
    "ours-aes",
    "ours-aes-nolz4",
    "actix-session",
    "floor-xaes",
    "floor-xaes-cached",
    "floor-xchacha",
    "floor-aes",
];

/// The ratios reported from the interleaved pass: (label, numerator, denominator).
const RATIOS: [(&str, usize, usize); 7] = [
    ("ours / actix-session", 0, 6),
    ("ours / floor XAES", 0, 7),
    ("ours / floor XAES cached", 0, 8),
    ("ours / ours AES", 0, 4),
    ("ours XChaCha / floor XChaCha", 2, 9),
    ("ours AES / floor AES", 4, 10),
    ("ours AES / actix-session", 4, 6),
];

struct RatioRow {
    workload: &'static str,
    /// Median ns per seal+open of each system of [`INTERLEAVED`].
    medians: Vec<f64>,
    /// For each of [`RATIOS`]: median, min and max of the per-round ratio.
    ratios: Vec<(f64, f64, f64)>,
}

fn run_workload<T>(ctx: &mut Ctx, name: &'static str, key: &'static str, v: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let actix = ActixCookie::new();
    let floors: Vec<(Floor, &'static str)> = FloorAlg::ALL
        .iter()
        .map(|&a| (Floor::new(a), a.id()))
        .collect();

    // Sanity: every path round-trips, and our actix-session reproduction matches its store.
    let state_actix = ActixCookie::state_of(key, v);
    let sealed_actix = actix.seal(&state_actix);
    if !sealed_actix.refused {
        let via_store = actix.save_via_store(state_actix.clone()).unwrap();
        assert_eq!(via_store, serde_json::to_string(&state_actix).unwrap());
    }
    assert_eq!(&actix_roundtrip(&actix, key, v), v);
    for (f, _) in &floors {
        assert_eq!(&floor_roundtrip(f, v), v);
    }

    struct Ours {
        id: String,
        config: SessionEngine,
        state: SessionState,
        value: String,
    }
    let mut ours: Vec<Ours> = Vec::new();
    for (alg, an) in ALGS {
        for (comp, cn) in COMPS {
            let config = config(alg, comp);
            let mut state = ours::state_of(key, v);
            let value = config.seal(&mut state).unwrap();
            assert_eq!(&ours_roundtrip(&config, key, v), v);
            ours.push(Ours {
                id: format!("ours_{an}_{cn}"),
                config,
                state,
                value,
            });
        }
    }

    // --- allocations --------------------------------------------------------------------
    let mut lines = vec![format!("{name}: allocations per call (allocs, + reallocs)")];
    lines.push(format!(
        "  {:<22} {:>16} {:>16} {:>18}",
        "system", "seal", "open", "seal+open typed"
    ));
    for o in &mut ours {
        let seal = count_allocs(|| o.config.seal(&mut o.state).unwrap());
        let open = count_allocs(|| o.config.open_value(&o.value).unwrap());
        let rt = count_allocs(|| ours_roundtrip(&o.config, key, v));
        lines.push(format!(
            "  {:<22} {:>16} {:>16} {:>18}",
            o.id,
            fmt_allocs(seal),
            fmt_allocs(open),
            fmt_allocs(rt)
        ));
    }
    {
        let seal = count_allocs(|| actix.seal(&state_actix));
        let open = count_allocs(|| actix.open(&sealed_actix.value).unwrap());
        let rt = count_allocs(|| actix_roundtrip(&actix, key, v));
        lines.push(format!(
            "  {:<22} {:>16} {:>16} {:>18}",
            "actix_session",
            fmt_allocs(seal),
            fmt_allocs(open),
            fmt_allocs(rt)
        ));
    }
    for (f, id) in &floors {
        let value = f.seal(v);
        let seal = count_allocs(|| f.seal(v));
        let open = count_allocs(|| f.open::<T>(&value).unwrap());
        let rt = count_allocs(|| floor_roundtrip(f, v));
        lines.push(format!(
            "  {:<22} {:>16} {:>16} {:>18}",
            id,
            fmt_allocs(seal),
            fmt_allocs(open),
            fmt_allocs(rt)
        ));
    }
    // Keyrings of 1, 4 and 16 secrets: open a value sealed under the primary and one sealed
    // under the oldest secret (the last candidate).
    let mut ring_line = String::from("  open_value with keyring of N secrets (primary / oldest):");
    for n in [1u8, 4, 16] {
        let seeds: Vec<u8> = (0..n).map(|i| 7 + i).collect();
        let c = ours::engine_with_keys(&seeds, Options::default());
        let oldest = ours::engine_with_keys(&[7 + n - 1], Options::default());
        let mut s = ours::state_of(key, v);
        let vp = c.seal(&mut s).unwrap();
        let vo = oldest.seal(&mut s).unwrap();
        let p = count_allocs(|| c.open_value(&vp).unwrap());
        let o = count_allocs(|| c.open_value(&vo).unwrap());
        ring_line.push_str(&format!("  N={n}: {} / {}", fmt_allocs(p), fmt_allocs(o)));
    }
    lines.push(ring_line);
    let sizes: Vec<String> = ours
        .iter()
        .map(|o| format!("{}={}", o.id, o.value.len()))
        .chain([format!(
            "actix_session={}{}",
            sealed_actix.value.len(),
            if sealed_actix.refused {
                " (refused by actix-session: state > 4064 B)"
            } else {
                ""
            }
        )])
        .collect();
    lines.push(format!("  cookie value bytes: {}", sizes.join(", ")));
    ctx.summary.extend(lines);

    // --- criterion ----------------------------------------------------------------------
    if let Some(c) = ctx.criterion.as_deref_mut() {
        let mut g = c.benchmark_group(format!("{name}-seal"));
        for o in &mut ours {
            let (config, state) = (&o.config, &mut o.state);
            g.bench_function(o.id.as_str(), |b| {
                b.iter(|| config.seal(black_box(&mut *state)).unwrap())
            });
        }
        g.bench_function("actix_session", |b| {
            b.iter(|| actix.seal(black_box(&state_actix)))
        });
        for (f, id) in &floors {
            g.bench_function(*id, |b| b.iter(|| f.seal(black_box(v))));
        }
        g.finish();

        let mut g = c.benchmark_group(format!("{name}-open"));
        for o in &ours {
            let (config, value) = (&o.config, o.value.as_str());
            g.bench_function(o.id.as_str(), |b| {
                b.iter(|| config.open_value(black_box(value)).unwrap())
            });
        }
        g.bench_function("actix_session", |b| {
            b.iter(|| actix.open(black_box(&sealed_actix.value)).unwrap())
        });
        for (f, id) in &floors {
            let value = f.seal(v);
            g.bench_function(*id, |b| b.iter(|| f.open::<T>(black_box(&value)).unwrap()));
        }
        g.finish();

        let mut g = c.benchmark_group(format!("{name}-roundtrip"));
        for o in &ours {
            let config = &o.config;
            g.bench_function(o.id.as_str(), |b| {
                b.iter(|| ours_roundtrip(config, key, black_box(v)))
            });
        }
        g.bench_function("actix_session", |b| {
            b.iter(|| actix_roundtrip(&actix, key, black_box(v)))
        });
        for (f, id) in &floors {
            g.bench_function(*id, |b| b.iter(|| floor_roundtrip(f, black_box(v))));
        }
        g.finish();
    }

    // --- interleaved ratios -------------------------------------------------------------
    if !ctx.interleave {
        return;
    }
    let (o0, o1, o2, o3, o4, o5) = (
        &ours[0].config,
        &ours[1].config,
        &ours[2].config,
        &ours[3].config,
        &ours[4].config,
        &ours[5].config,
    );
    let (f0, f1, f2, f3) = (&floors[0].0, &floors[1].0, &floors[2].0, &floors[3].0);
    let systems: [&dyn Fn(); 11] = [
        &|| drop(black_box(ours_roundtrip(o0, key, black_box(v)))),
        &|| drop(black_box(ours_roundtrip(o1, key, black_box(v)))),
        &|| drop(black_box(ours_roundtrip(o2, key, black_box(v)))),
        &|| drop(black_box(ours_roundtrip(o3, key, black_box(v)))),
        &|| drop(black_box(ours_roundtrip(o4, key, black_box(v)))),
        &|| drop(black_box(ours_roundtrip(o5, key, black_box(v)))),
        &|| drop(black_box(actix_roundtrip(&actix, key, black_box(v)))),
        &|| drop(black_box(floor_roundtrip(f0, black_box(v)))),
        &|| drop(black_box(floor_roundtrip(f1, black_box(v)))),
        &|| drop(black_box(floor_roundtrip(f2, black_box(v)))),
        &|| drop(black_box(floor_roundtrip(f3, black_box(v)))),
    ];
    ctx.ratios.push(interleave(&ctx.clock, name, &systems));
}

/// Rounds of (each system for ~10 ms), rotating the order each round; per-round ns/iter.
fn interleave(clock: &Clock, workload: &'static str, systems: &[&dyn Fn()]) -> RatioRow {
    const ROUNDS: usize = 21;
    // Iterations per round, per system, from a short calibration.
    let iters: Vec<u64> = systems
        .iter()
        .map(|f| {
            for _ in 0..100 {
                f();
            }
            let t = clock.now();
            let mut n = 0u64;
            while clock.now() - t < Duration::from_millis(20) {
                f();
                n += 1;
            }
            (n / 2).max(1)
        })
        .collect();
    let k_n = systems.len();
    let mut ns: Vec<Vec<f64>> = Vec::with_capacity(ROUNDS);
    for r in 0..ROUNDS {
        let mut row = vec![0f64; k_n];
        for k in 0..k_n {
            let i = (k + r) % k_n;
            let t = clock.now();
            for _ in 0..iters[i] {
                systems[i]();
            }
            row[i] = (clock.now() - t).as_nanos() as f64 / iters[i] as f64;
        }
        ns.push(row);
    }
    let med = |mut xs: Vec<f64>| {
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    };
    let col = |i: usize| med(ns.iter().map(|r| r[i]).collect());
    let ratio = |a: usize, b: usize| med(ns.iter().map(|r| r[a] / r[b]).collect());
    let spread = |a: usize, b: usize| {
        let xs: Vec<f64> = ns.iter().map(|r| r[a] / r[b]).collect();
        (
            xs.iter().copied().fold(f64::MAX, f64::min),
            xs.iter().copied().fold(0.0, f64::max),
        )
    };
    RatioRow {
        workload,
        medians: (0..k_n).map(col).collect(),
        ratios: RATIOS
            .iter()
            .map(|&(_, a, b)| {
                let (lo, hi) = spread(a, b);
                (ratio(a, b), lo, hi)
            })
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------
// Criterion's medians, read back from its output directory after the run.

fn criterion_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(d);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("criterion")
}

/// (median, lower, upper) of criterion's median estimate, in ns.
fn criterion_median(dir: &std::path::Path, group: &str, id: &str) -> Option<(f64, f64, f64)> {
    let path = dir.join(group).join(id).join("new").join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let m = &v["median"];
    Some((
        m["point_estimate"].as_f64()?,
        m["confidence_interval"]["lower_bound"].as_f64()?,
        m["confidence_interval"]["upper_bound"].as_f64()?,
    ))
}

fn us(ns: f64) -> String {
    if ns >= 1000.0 {
        format!("{:.2} us", ns / 1000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let benching = args.iter().any(|a| a == "--bench");
    let listing = args.iter().any(|a| a == "--list");
    let summary_only = std::env::var_os("CODEC_SUMMARY_ONLY").is_some();
    let dir = criterion_dir();

    let mut criterion = Criterion::default()
        .with_measurement(Clock::from_env())
        .output_directory(&dir)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();

    let mut ctx = Ctx {
        criterion: if summary_only {
            None
        } else {
            Some(&mut criterion)
        },
        interleave: (benching || summary_only) && !listing,
        clock: Clock::from_env(),
        summary: Vec::new(),
        ratios: Vec::new(),
    };
    let list = workloads();
    for w in &list {
        (w.run)(&mut ctx);
    }
    let Ctx {
        summary, ratios, ..
    } = ctx;
    if !summary_only {
        criterion.final_summary();
    }
    if listing || !(benching || summary_only) {
        return; // `cargo test -p sealed-session-benchmarks --benches` runs each bench once; no summary then
    }

    println!("\n==== codec summary (this run) ====");
    println!("clock: {}", Clock::from_env().name());
    println!("{}", sealed_session_benchmarks::build::line());
    for l in &summary {
        println!("{l}");
    }

    println!(
        "\nseal+open (typed round trip), interleaved: 21 rounds, the systems alternating within \
         each (~10 ms each), order rotating; median time per seal+open over rounds\n"
    );
    println!("| workload | {} |", INTERLEAVED.join(" | "));
    println!("|---|{}", "---|".repeat(INTERLEAVED.len()));
    for r in &ratios {
        let cells: Vec<String> = r.medians.iter().map(|m| us(*m)).collect();
        println!("| {} | {} |", r.workload, cells.join(" | "));
    }
    println!("\nratios: median of the per-round ratios [min..max over rounds]\n");
    let labels: Vec<&str> = RATIOS.iter().map(|(l, _, _)| *l).collect();
    println!("| workload | {} |", labels.join(" | "));
    println!("|---|{}", "---|".repeat(labels.len()));
    for r in &ratios {
        let cells: Vec<String> = r
            .ratios
            .iter()
            .map(|(m, lo, hi)| format!("{m:.2}x [{lo:.2}..{hi:.2}]"))
            .collect();
        println!("| {} | {} |", r.workload, cells.join(" | "));
    }

    if !summary_only {
        println!("\ncriterion: median time per operation [95% confidence interval of the median]");
        let mut systems: Vec<String> = Vec::new();
        for (_, an) in ALGS {
            for (_, cn) in COMPS {
                systems.push(format!("ours_{an}_{cn}"));
            }
        }
        systems.push("actix_session".into());
        systems.extend(FloorAlg::ALL.iter().map(|a| a.id().to_owned()));
        for w in &list {
            println!("\n**{}**\n", w.name);
            println!("| system | seal | open | seal+open (typed) |");
            println!("|---|---|---|---|");
            for id in &systems {
                let cells: Vec<String> = ["seal", "open", "roundtrip"]
                    .iter()
                    .map(|op| {
                        criterion_median(&dir, &format!("{}-{op}", w.name), id).map_or_else(
                            || "–".to_owned(),
                            |(m, l, u)| format!("{} [{}–{}]", us(m), us(l), us(u)),
                        )
                    })
                    .collect();
                println!("| {id} | {} |", cells.join(" | "));
            }
        }
    }
}
