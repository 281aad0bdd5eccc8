//! The demo servers (`demo/src/bin/server.rs`, actix-web, and `demo/src/bin/axum_server.rs`,
//! axum, of the `sealed-session-demo` member) as child processes, shared by the end-to-end tests
//! (`e2e/tests/server.rs`, which runs against both, and `e2e/tests/browser.rs` through
//! `e2e/tests/support/browser.rs`). A test picks the binary for its thread with [`select`]
//! (actix-web unless it says otherwise).
//!
//! A binary is built (`cargo build -p sealed-session-demo --bin <name>`) when it is missing or
//! older than its sources; every wait is bounded and the child is killed when its guard drops.
//! Each server gets a user store of its own (a fresh `DATABASE_URL` file, removed with it)
//! unless the test names one, as the fleet tests do for instances that share it.
#![allow(dead_code)]

use std::cell::Cell;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long the server may take to start, to exit, to print an expected line or to stop.
pub const STARTUP: Duration = Duration::from_secs(20);

/// Every variable the server reads, cleared so the caller's environment cannot leak in.
const SERVER_VARS: &[&str] = &[
    "PORT",
    "SESSION_KEYS",
    "SESSION_EPOCH_SECS",
    "SESSION_COOKIE_NAME",
    "SESSION_IDLE_SECS",
    "SESSION_ABSOLUTE_SECS",
    "SESSION_MAX_COOKIES",
    "SESSION_SECURE",
    "SESSION_COMPRESSION",
    "SESSION_ALGORITHM",
    "SESSION_REVALIDATE_SECS",
    "SESSION_CSRF",
    "SESSION_PARTITIONED",
    "SESSION_IMPORT_ACTIX_KEY",
    "DATABASE_URL",
    "RUST_LOG",
];

/// What the server prints on stdout once its socket listens, followed by the port.
const LISTENING: &str = "listening on http://127.0.0.1:";

/// One of the two example servers, which serve the same HTTP contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Example {
    /// `demo/src/bin/server.rs` on actix-web.
    Actix,
    /// `demo/src/bin/axum_server.rs` on axum.
    Axum,
}

impl Example {
    fn name(self) -> &'static str {
        match self {
            Example::Actix => "server",
            Example::Axum => "axum_server",
        }
    }
    fn feature(self) -> &'static str {
        match self {
            // `metrics`: `GET /metrics` lists the session metrics.
            Example::Actix => "actix,metrics",
            Example::Axum => "axum,metrics",
        }
    }
    fn index(self) -> usize {
        self as usize
    }
}

thread_local! {
    static SELECTED: Cell<Example> = const { Cell::new(Example::Actix) };
}

/// Makes the servers this thread (this test) starts the `example` binary.
pub fn select(example: Example) {
    SELECTED.with(|s| s.set(example));
}

fn selected() -> Example {
    SELECTED.with(Cell::get)
}

/// The selected demo binary next to this test binary (`target/<profile>/<name>`: the
/// workspace shares one target directory). If the binary is missing or older than its
/// sources, build it once with the features the tests need (cargo does not hold the build
/// lock while tests run).
pub fn server_bin() -> &'static Path {
    static BINS: [OnceLock<PathBuf>; 2] = [OnceLock::new(), OnceLock::new()];
    let example = selected();
    BINS[example.index()].get_or_init(|| {
        let exe = std::env::current_exe().expect("current_exe");
        // target/<profile>/deps/<test>-xxxx -> target/<profile>
        let profile_dir = exe.parent().and_then(Path::parent).expect("target dir");
        let name = format!("{}{}", example.name(), std::env::consts::EXE_SUFFIX);
        let bin = profile_dir.join(name);
        // The workspace root.
        let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
        if is_stale(root, &bin, example) {
            build(root, profile_dir, example);
        }
        assert!(bin.exists(), "{} is missing", bin.display());
        bin
    })
}

/// Whether `bin` is missing or a source of the example changed after it was built.
fn is_stale(root: &Path, bin: &Path, example: Example) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(built) = modified(bin) else {
        return true;
    };
    let mut sources = vec![
        root.join("Cargo.toml"),
        root.join("demo/Cargo.toml"),
        root.join(format!("demo/src/bin/{}.rs", example.name())),
        root.join("demo/src/demo.html"),
    ];
    sources.extend(rust_files(&root.join("demo/src")));
    sources.extend(rust_files(&root.join("src")));
    sources
        .iter()
        .filter_map(|p| modified(p))
        .any(|m| m > built)
}

/// Every `.rs` file under `dir`, at any depth.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out
}

/// `cargo build -p sealed-session-demo --bin <name> --features <feature>` into `profile_dir`
/// (`<target dir>/<profile>`), within 10 min.
fn build(root: &Path, profile_dir: &Path, example: Example) {
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let target_dir = profile_dir.parent().expect("target dir");
    eprintln!(
        "building the demo server {} ({profile} profile)",
        example.name()
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut child = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "-p",
            "sealed-session-demo",
            "--bin",
            example.name(),
        ])
        .args(["--features", example.feature()])
        .args(["--profile", profile])
        .env("CARGO_TARGET_DIR", target_dir)
        .stdin(Stdio::null())
        .spawn()
        .expect("run cargo build --bin");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if let Some(st) = child.try_wait().expect("wait for cargo") {
            assert!(st.success(), "cargo build --bin failed: {st}");
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("cargo build --bin took too long");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Lines read from a child's pipe.
pub type Lines = Arc<Mutex<Vec<String>>>;

/// Reads `stream` line by line into `log` in the background (so the pipe never fills), and
/// sends the first line containing `needle` to `tx`.
pub fn pump(
    stream: impl Read + Send + 'static,
    log: Lines,
    notify: Option<(&'static str, mpsc::Sender<String>)>,
) {
    std::thread::spawn(move || {
        let mut notify = notify;
        for line in BufReader::new(stream).split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line).trim_end().to_string();
            if notify.as_ref().is_some_and(|(n, _)| line.contains(n)) {
                let (_, tx) = notify.take().unwrap();
                let _ = tx.send(line.clone());
            }
            let mut log = log.lock().unwrap();
            if log.len() < 2000 {
                log.push(line);
            }
        }
    });
}

/// Whether this is a CI run (`CI` set to anything but empty/`0`/`false`).
pub fn in_ci() -> bool {
    match std::env::var("CI") {
        Ok(v) => !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false")),
        Err(_) => false,
    }
}

/// A fresh directory under the system temp dir, removed (with what is in it) on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!(
            "sealed-session-{tag}-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A `DATABASE_URL` for a user store file in this directory.
    pub fn database_url(&self) -> String {
        format!("sqlite://{}", self.0.join("users.db").display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A user store of its own for a server whose `env` names none: the caller keeps the
/// directory until the server is gone.
fn own_database(env: &[(&str, &str)]) -> Option<TempDir> {
    (!env.iter().any(|(k, _)| *k == "DATABASE_URL")).then(|| TempDir::new("e2e-db"))
}

/// The server with exactly `env` on top of `PORT=port`, `RUST_LOG=warn` and, if `db` is
/// given, its `DATABASE_URL`; the other variables it reads cleared; stdout and stderr piped.
fn command(port: u16, env: &[(&str, &str)], db: Option<&TempDir>) -> Command {
    let mut cmd = Command::new(server_bin());
    for v in SERVER_VARS {
        cmd.env_remove(v);
    }
    cmd.env("PORT", port.to_string()).env("RUST_LOG", "warn");
    if let Some(db) = db {
        cmd.env("DATABASE_URL", db.database_url());
    }
    cmd.envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Spawns [`command`] and starts pumping its output; `notify` watches stdout.
fn spawn(
    port: u16,
    env: &[(&str, &str)],
    db: Option<&TempDir>,
    notify: Option<(&'static str, mpsc::Sender<String>)>,
) -> (Child, Lines, Lines) {
    let mut child = command(port, env, db)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", server_bin().display()));
    let (stdout, stderr) = (Lines::default(), Lines::default());
    pump(child.stdout.take().unwrap(), stdout.clone(), notify);
    pump(child.stderr.take().unwrap(), stderr.clone(), None);
    (child, stdout, stderr)
}

/// A running example server; killed on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    stdout: Lines,
    stderr: Lines,
    /// The server's own user store, if the test named none; removed after the child.
    _db: Option<TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the server on `port` (0: a free one, read back from its listening line) with
    /// exactly `env` (see [`command`]), and waits until it listens.
    pub fn start(port: u16, env: &[(&str, &str)]) -> Server {
        let (tx, rx) = mpsc::channel();
        let db = own_database(env);
        let (child, stdout, stderr) = spawn(port, env, db.as_ref(), Some((LISTENING, tx)));
        let mut server = Server {
            child,
            port,
            stdout,
            stderr,
            _db: db,
        };
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(50)) {
                let rest = line.split(LISTENING).nth(1).unwrap();
                server.port = rest.trim().parse().expect("port");
                assert!(
                    port == 0 || server.port == port,
                    "asked for port {port}: {line}"
                );
                return server;
            }
            if let Some(st) = server.child.try_wait().ok().flatten() {
                // Give the pumps a moment to collect the last lines.
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "the example server exited with {st} before it listened:\n{}",
                    server.output()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "the example server did not print its listening line within {STARTUP:?}:\n{}",
                    server.output()
                );
            }
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the server printed on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// Polls stderr until it contains `needle` (or [`STARTUP`] passes); returns it.
    pub fn wait_for_stderr(&self, needle: &str) -> String {
        let deadline = Instant::now() + STARTUP;
        loop {
            let text = self.stderr();
            if text.contains(needle) || Instant::now() > deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn output(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            self.stdout.lock().unwrap().join("\n"),
            self.stderr()
        )
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server gracefully, as a process manager does: SIGTERM, then waits (at most
    /// [`STARTUP`]) for it to finish the requests in flight and exit. Returns its exit status.
    pub fn terminate(mut self) -> ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM failed");
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the server") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit within {STARTUP:?} of SIGTERM:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server and waits until its port accepts no more connections.
    pub fn stop(self) {
        let port = self.port;
        drop(self);
        let deadline = Instant::now() + STARTUP;
        while TcpStream::connect_timeout(
            &SocketAddr::from(([127, 0, 0, 1], port)),
            Duration::from_millis(200),
        )
        .is_ok()
        {
            assert!(
                Instant::now() < deadline,
                "port {port} still open after stop"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Runs the server (on a free port, with `env` as for [`Server::start`]) expecting it to exit
/// by itself; returns its status and stderr.
pub fn run_to_exit(env: &[(&str, &str)]) -> (ExitStatus, String) {
    let db = own_database(env);
    let (mut child, _stdout, stderr) = spawn(0, env, db.as_ref(), None);
    let deadline = Instant::now() + STARTUP;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            // Let the pump see EOF.
            std::thread::sleep(Duration::from_millis(50));
            let text = stderr.lock().unwrap().join("\n");
            return (status, text);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the server did not exit; stderr:\n{}",
                stderr.lock().unwrap().join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
