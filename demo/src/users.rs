//! The demo's user store: one SQLite file (`DATABASE_URL`) holding the accounts, their
//! Argon2id password hashes, and each account's session generation, the counter that "logout
//! everywhere" bumps and that the revalidation check compares with the one sealed in the
//! session at login.
//!
//! Every instance of a fleet that opens the same file sees the same users and the same
//! generations; nothing else is shared. The file is in WAL mode (readers never wait for the
//! writer) with a busy timeout (a writer waits its turn instead of failing), so several
//! processes can use it at once.
//!
//! Why a counter and not a "sessions valid after" timestamp: a timestamp would compare one
//! instance's clock (the logout) with another's (the login), and instances' clocks differ. A
//! counter needs no clock: a session issued under generation 3 is valid while the user's
//! generation is 3, wherever it was issued and checked.
//!
//! Every call leaves the async runtime through `spawn_blocking`: Argon2 costs tens of
//! milliseconds of CPU by design, and a query may wait for another process's write.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::{Error as HashError, PasswordHasher as _, PasswordVerifier as _};
use argon2::Argon2;
use rusqlite::{params, Connection, OptionalExtension as _, TransactionBehavior};

/// The database when `DATABASE_URL` is unset: a file in the working directory.
pub const DEFAULT_DATABASE: &str = "sealed-session-demo.db";

/// How long a statement waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Idle connections kept for reuse.
const MAX_IDLE: usize = 8;

/// The schema version this build writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

/// Schema version 1.
const SCHEMA: &str = "
CREATE TABLE users (
    id                 INTEGER PRIMARY KEY,
    username           TEXT    NOT NULL UNIQUE,
    -- Argon2id, as a PHC string: $argon2id$v=19$m=...,t=...,p=...$<salt>$<hash>
    password_hash      TEXT    NOT NULL,
    role               TEXT    NOT NULL,
    -- a JSON array of strings, in order
    permissions        TEXT    NOT NULL CHECK (json_valid(permissions)),
    -- bumped by logout everywhere; a session is valid while the one it sealed at login is
    -- still the current one
    session_generation INTEGER NOT NULL DEFAULT 0 CHECK (session_generation >= 0)
) STRICT;
";

/// The demo accounts, created with the database: id, username, password, role, permissions.
const DEMO_USERS: [(i64, &str, &str, &str, &[&str]); 2] = [
    (
        1,
        "admin",
        "admin123",
        "admin",
        &["read", "write", "delete"],
    ),
    (2, "user", "user123", "user", &["read"]),
];

/// A user account, without its password hash.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: u64,
    pub username: String,
    pub role: String,
    pub permissions: Vec<String>,
    /// The current session generation: sealed into the session at login.
    pub generation: u64,
}

impl Account {
    /// An account from its row: the permissions as the JSON list the table keeps, the id and
    /// generation as SQLite's signed integers.
    fn from_row(
        id: i64,
        username: String,
        role: String,
        permissions: &str,
        generation: i64,
    ) -> Result<Account, StoreError> {
        let permissions = serde_json::from_str(permissions)
            .map_err(|e| StoreError(format!("permissions of user {id}: {e}")))?;
        Ok(Account {
            id: unsigned(id)?,
            username,
            role,
            permissions,
            generation: unsigned(generation)?,
        })
    }
}

/// The store failed (I/O, a locked database past the busy timeout, a malformed row). The
/// text is for the log only; clients get an opaque 500.
#[derive(Debug)]
pub struct StoreError(String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(format!("database: {e}"))
    }
}

/// The user store of one process: the database file and a few idle connections. Cheap to
/// clone (one `Arc`).
#[derive(Clone)]
pub struct Users {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Users")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// The file a `DATABASE_URL` names: a path, or `sqlite:` / `sqlite://` and a path.
pub fn database_path(url: &str) -> Result<PathBuf, String> {
    let url = url.trim();
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if path.is_empty() || path == ":memory:" || path.starts_with("file:") {
        return Err(format!(
            "DATABASE_URL={url:?}: name a database file, shared by every instance"
        ));
    }
    if !url.starts_with("sqlite:") && url.contains("://") {
        return Err(format!(
            "DATABASE_URL={url:?}: only SQLite files are supported (a path, or sqlite://path)"
        ));
    }
    Ok(PathBuf::from(path))
}

/// A new connection to `path`, creating the file if needed: WAL mode, the busy timeout.
fn connect(path: &std::path::Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Persistent in the file; checked on every connection, since an older file may not be.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError(format!(
            "{}: journal mode is {mode:?}, not WAL (is it on a network file system?)",
            path.display()
        )));
    }
    // Durable across a process crash (not a power loss) in WAL mode, and no fsync per write.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(conn)
}

/// SQLite's integers are signed; ids and generations are never negative (the schema checks).
fn unsigned(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError(format!("a negative id or generation: {n}")))
}

/// An Argon2id hash of `password` with a fresh random salt and the crate's default
/// parameters (OWASP's: 19 MiB, 2 passes, 1 lane), as a PHC string.
fn hash_password(password: &str) -> Result<String, StoreError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| StoreError(format!("hashing a password: {e}")))
}

/// Whether `password` matches the PHC string `hash`; `Err` if `hash` is malformed.
fn verify_password(password: &str, hash: &str) -> Result<bool, StoreError> {
    match Argon2::default().verify_password(password.as_bytes(), hash) {
        Ok(()) => Ok(true),
        Err(HashError::PasswordInvalid) => Ok(false),
        Err(e) => Err(StoreError(format!("a stored password hash: {e}"))),
    }
}

/// A hash to verify against when the username is unknown, so that a wrong username costs
/// what a wrong password does and the timing does not tell which usernames exist.
fn decoy_hash() -> Result<&'static str, StoreError> {
    static DECOY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DECOY.get() {
        return Ok(h);
    }
    let h = hash_password("no such user: a decoy password")?;
    Ok(DECOY.get_or_init(|| h))
}

/// Creates the schema and the demo users in a new database; refuses a newer schema.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    // IMMEDIATE: several instances starting at once on a new file take turns here, and only
    // the first one creates anything.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError(format!(
            "the database's schema version is {version}, newer than this build's \
             ({SCHEMA_VERSION})"
        )));
    }
    if version == 0 {
        tx.execute_batch(SCHEMA)?;
        for (id, username, password, role, permissions) in DEMO_USERS {
            let permissions = serde_json::to_string(permissions)
                .map_err(|e| StoreError(format!("permissions: {e}")))?;
            tx.execute(
                "INSERT INTO users (id, username, password_hash, role, permissions) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, username, hash_password(password)?, role, permissions],
            )?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tracing::info!("created the user store with the demo users");
    }
    tx.commit()?;
    Ok(())
}

impl Users {
    /// Opens (creating it on first start, with the demo users) the database that
    /// `DATABASE_URL` names, or [`DEFAULT_DATABASE`]. Blocks: call it before serving.
    pub fn open(database_url: Option<&str>) -> Result<Users, String> {
        let path = database_path(database_url.unwrap_or(DEFAULT_DATABASE))?;
        let fail = |e: StoreError| format!("DATABASE_URL ({}): {e}", path.display());
        let mut conn = connect(&path).map_err(fail)?;
        migrate(&mut conn).map_err(fail)?;
        tracing::info!(path = %path.display(), "user store");
        Ok(Users {
            inner: Arc::new(Inner {
                path,
                idle: Mutex::new(vec![conn]),
            }),
        })
    }

    /// Runs `f` on an idle connection (or a new one), which goes back to the idle list
    /// unless `f` failed. Blocking.
    fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = || self.inner.idle.lock().unwrap_or_else(|p| p.into_inner());
        let taken = idle().pop();
        let mut conn = match taken {
            Some(c) => c,
            None => connect(&self.inner.path)?,
        };
        let out = f(&mut conn)?;
        let mut idle = idle();
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
        Ok(out)
    }

    /// Runs the blocking `f` on tokio's blocking threads.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Users) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let users = self.clone();
        tokio::task::spawn_blocking(move || f(&users))
            .await
            .map_err(|e| StoreError(format!("a blocking task failed: {e}")))?
    }

    /// The account whose username and password these are, or `None`.
    pub async fn authenticate(
        &self,
        username: String,
        password: String,
    ) -> Result<Option<Account>, StoreError> {
        self.blocking(move |users| {
            let row = users.with_conn(|conn| {
                let row = conn
                    .query_row(
                        "SELECT id, password_hash, role, permissions, session_generation \
                         FROM users WHERE username = ?1",
                        [&username],
                        |r| {
                            Ok((
                                r.get::<_, i64>(0)?,
                                r.get::<_, String>(1)?,
                                r.get::<_, String>(2)?,
                                r.get::<_, String>(3)?,
                                r.get::<_, i64>(4)?,
                            ))
                        },
                    )
                    .optional()?;
                Ok(row)
            })?;
            // The connection is back in the pool: Argon2 runs without holding it.
            let Some((id, hash, role, permissions, generation)) = row else {
                verify_password(&password, decoy_hash()?)?;
                return Ok(None);
            };
            if !verify_password(&password, &hash)? {
                return Ok(None);
            }
            Account::from_row(id, username, role, &permissions, generation).map(Some)
        })
        .await
    }

    /// The user's current session generation; `None` if there is no such user.
    pub async fn generation(&self, id: u64) -> Result<Option<u64>, StoreError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(None);
        };
        self.blocking(move |users| {
            let generation = users.with_conn(|conn| {
                Ok(conn
                    .query_row(
                        "SELECT session_generation FROM users WHERE id = ?1",
                        [id],
                        |r| r.get::<_, i64>(0),
                    )
                    .optional()?)
            })?;
            generation.map(unsigned).transpose()
        })
        .await
    }

    /// The account with this id, without checking a password; `None` if there is no such
    /// user. Blocking, on the calling thread: for the actix-session importer, whose
    /// conversion is synchronous and runs once per imported user (one lookup by primary key).
    pub fn account_blocking(&self, id: u64) -> Result<Option<Account>, StoreError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(None);
        };
        let row = self.with_conn(|conn| {
            Ok(conn
                .query_row(
                    "SELECT username, role, permissions, session_generation \
                     FROM users WHERE id = ?1",
                    [id],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                        ))
                    },
                )
                .optional()?)
        })?;
        let Some((username, role, permissions, generation)) = row else {
            return Ok(None);
        };
        Account::from_row(id, username, role, &permissions, generation).map(Some)
    }

    /// Logout everywhere: bumps the user's session generation, so that every session sealed
    /// under an older one is rejected at its next revalidation, on any instance. Returns the
    /// new generation; `None` if there is no such user.
    pub async fn bump_generation(&self, id: u64) -> Result<Option<u64>, StoreError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(None);
        };
        self.blocking(move |users| {
            let generation = users.with_conn(|conn| {
                Ok(conn
                    .query_row(
                        "UPDATE users SET session_generation = session_generation + 1 \
                         WHERE id = ?1 RETURNING session_generation",
                        [id],
                        |r| r.get::<_, i64>(0),
                    )
                    .optional()?)
            })?;
            generation.map(unsigned).transpose()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!(database_path("a.db").unwrap(), PathBuf::from("a.db"));
        assert_eq!(
            database_path("sqlite:///tmp/a.db").unwrap(),
            PathBuf::from("/tmp/a.db")
        );
        assert_eq!(database_path("sqlite:a.db").unwrap(), PathBuf::from("a.db"));
        for bad in ["", " ", "sqlite::memory:", ":memory:", "postgres://x/y"] {
            assert!(database_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash_password("admin123").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verify_password("admin123", &h).unwrap());
        assert!(!verify_password("admin124", &h).unwrap());
        assert!(verify_password("x", "not a hash").is_err());
    }

    /// Two instances on one file: the demo users are created once, and a logout everywhere
    /// on one is seen by the other.
    #[test]
    fn instances_sharing_the_file_share_users_and_generations() {
        let dir = std::env::temp_dir().join(format!(
            "sealed-session-demo-users-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("users.db").display());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let (a, b) = (
                Users::open(Some(&url)).unwrap(),
                Users::open(Some(&url)).unwrap(),
            );
            let admin = a
                .authenticate("admin".into(), "admin123".into())
                .await
                .unwrap()
                .unwrap();
            assert_eq!((admin.id, admin.role.as_str()), (1, "admin"));
            assert_eq!(admin.permissions, ["read", "write", "delete"]);
            assert_eq!(admin.generation, 0);
            let user = b
                .authenticate("user".into(), "user123".into())
                .await
                .unwrap()
                .unwrap();
            assert_eq!((user.id, user.permissions.len()), (2, 1));
            for (name, password) in [("admin", "user123"), ("nobody", "admin123")] {
                let found = a.authenticate(name.into(), password.into()).await.unwrap();
                assert!(found.is_none(), "{name}");
            }
            assert_eq!(a.bump_generation(1).await.unwrap(), Some(1));
            assert_eq!(b.generation(1).await.unwrap(), Some(1));
            assert_eq!(b.generation(2).await.unwrap(), Some(0));
            assert_eq!(b.generation(99).await.unwrap(), None);
            assert_eq!(b.bump_generation(99).await.unwrap(), None);
            let admin = b.account_blocking(1).unwrap().unwrap();
            assert_eq!(
                (admin.username.as_str(), admin.role.as_str()),
                ("admin", "admin")
            );
            assert_eq!(admin.permissions, ["read", "write", "delete"]);
            assert_eq!(admin.generation, 1, "bumped above");
            assert!(b.account_blocking(99).unwrap().is_none());
            assert!(b.account_blocking(u64::MAX).unwrap().is_none());
        });
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
