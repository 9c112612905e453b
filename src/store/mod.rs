//! Storage: every SQL statement of Quorum lives in this module. `Store` is the
//! contract the services and the scheduler use; today it is backed by SQLite
//! (WAL) and a PostgreSQL backend sits beside it later with the same methods.
//!
//! Instants are UTC unix seconds (`i64`); each series row carries its zone name.
//! Every query that reads user data is scoped by workspace.

use std::time::Duration;

use anyhow::Context as _;
use sqlx::any::AnyPoolOptions;
use sqlx::{Executor as _, Row};

mod actions;
mod attendance;
mod backup;
mod calendar;
mod capture;
pub mod dashboard;
mod decisions;
mod escalations;
mod leases;
pub mod lock;
mod meetings;
mod metrics;
mod pool;
mod reports;
mod risks;
mod snooze;
pub mod transfer;
mod workspaces;
mod writer;
pub use decisions::Settled;
pub use escalations::EscalationLock;
pub mod rows;
pub use calendar::CalendarToken;
pub use reports::OccurrenceCount;
pub use risks::RiskRow;
pub use rows::*;

#[derive(Clone, Debug)]
pub struct Store {
    pool: pool::Pool,
    /// Where write transactions run: on SQLite a pool of one connection (see
    /// [`Store::connect`]); on PostgreSQL the same pool as reads.
    writes: pool::Pool,
    backend: Backend,
    /// How long a claimed delivery stays reserved for the instance that claimed it.
    lease_secs: i64,
    /// SQLite: the file this store opened, to notice it being deleted or replaced.
    file: Option<std::sync::Arc<FileIdentity>>,
    /// When `inbound_requests` was last pruned (unix seconds), shared by clones.
    inbound_pruned: std::sync::Arc<std::sync::atomic::AtomicI64>,
    /// SQLite: one write transaction at a time in this process. Writers queue
    /// here and are handed the write lock at once, instead of polling for it
    /// in SQLite's busy handler (which sleeps 1, 2, 5, 10... ms between tries).
    writer: Option<std::sync::Arc<tokio::sync::Semaphore>>,
    /// SQLite on a file: the group-commit writer of command writes (see
    /// [`writer`]); none on PostgreSQL and in-memory SQLite.
    commands: Option<writer::Writer>,
    /// SQLite: which channels may have a meeting capturing them (see
    /// [`capture`]); none on PostgreSQL.
    capture: Option<std::sync::Arc<capture::CaptureCache>>,
}

/// A write transaction. On SQLite it also holds this process's write permit
/// until it commits or is dropped (after the transaction, so its rollback is
/// queued first).
pub struct Tx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl std::ops::Deref for Tx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

/// How long a write waits for this process's other writers (SQLite's own
/// `busy_timeout` is the same).
const WRITER_WAIT: Duration = Duration::from_secs(10);

/// The retry guard of the request a task is handling (see [`with_request_guard`]).
#[derive(Clone)]
struct RequestGuard {
    key: String,
    at: i64,
    taken: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

tokio::task_local! {
    static REQUEST: RequestGuard;
}

/// Run `work` (one incoming request) with its retry guard `key`: the key is
/// recorded in the same transaction as the request's first write, so a
/// request lost mid-way (client gone, crash) left no key behind and its retry
/// acts; a request that acted left its key, and a retry of it fails that
/// transaction with [`AlreadyHandled`], changing nothing.
pub async fn with_request_guard<F: std::future::Future>(
    key: String,
    at: i64,
    work: F,
) -> F::Output {
    let guard = RequestGuard {
        key,
        at,
        taken: Default::default(),
    };
    REQUEST.scope(guard, work).await
}

/// A request's retry guard was already recorded: it acted before.
#[derive(Debug, thiserror::Error)]
#[error("this request was handled before")]
pub struct AlreadyHandled;

/// The database cannot be used (its file is gone or replaced): nothing is
/// written, and the user is told so.
#[derive(Debug, thiserror::Error)]
#[error("the database is unavailable: {0}")]
pub struct Unavailable(pub String);

/// Which file a SQLite database is: its path and (device, inode) when opened.
#[derive(Debug)]
pub struct FileIdentity {
    path: std::path::PathBuf,
    id: (u64, u64),
    reported: std::sync::atomic::AtomicBool,
    /// When a connection was last opened while the file was write-protected.
    unwritable_seen: std::sync::Mutex<Option<std::time::Instant>>,
}

impl FileIdentity {
    fn of(path: &std::path::Path) -> Option<(u64, u64)> {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }

    /// Err when the file at the path is no longer the one we opened.
    fn check(&self) -> Result<(), Unavailable> {
        if Self::of(&self.path) == Some(self.id) {
            return Ok(());
        }
        if !self
            .reported
            .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::error!(path = %self.path.display(), "the SQLite database file was deleted or replaced under Quorum; refusing to write until it is restored");
        }
        Err(Unavailable(format!(
            "the database file {} was deleted or replaced",
            self.path.display()
        )))
    }

    fn note_unwritable(&self) {
        if let Ok(mut seen) = self.unwritable_seen.lock() {
            *seen = Some(std::time::Instant::now());
        }
    }

    /// Whether a connection of age `age` may have been opened read-only
    /// (while the file was write-protected) and the file is writable again:
    /// then it is closed and replaced by a read-write one.
    fn is_stale_read_only(&self, age: Duration) -> bool {
        let Some(seen) = self.unwritable_seen.lock().ok().and_then(|s| *s) else {
            return false;
        };
        let created = std::time::Instant::now().checked_sub(age);
        created.is_some_and(|c| c <= seen) && self.check_writable().is_ok()
    }

    /// Err when the file (or its write-ahead log) cannot be written now. A
    /// new SQLite connection to a write-protected file silently opens it
    /// read-only, and stays so after the protection is lifted.
    fn check_writable(&self) -> Result<(), Unavailable> {
        let wal = std::path::PathBuf::from(format!("{}-wal", self.path.display()));
        for path in [&self.path, &wal] {
            match may_write(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && path == &wal => {}
                Err(e) => {
                    return Err(Unavailable(format!(
                        "the database file {} cannot be written: {e}",
                        path.display()
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The retry guard of the request being handled, when this is its first
/// write (the guard is recorded with it).
fn first_write_guard() -> Option<RequestGuard> {
    REQUEST
        .try_with(RequestGuard::clone)
        .ok()
        .filter(|g| !g.taken.swap(true, std::sync::atomic::Ordering::SeqCst))
}

/// PostgreSQL: one statement that records a request's retry guard, a new
/// row and its audit entry, in the one transaction of the statement and one
/// round trip (instead of BEGIN, three statements and COMMIT, each a round
/// trip through sqlx's `Any` driver). `insert` is the row's
/// `INSERT INTO table (columns)`, given `$1..$args` in column order (`$1`
/// being the workspace); `audit` the audit entry's values after the
/// workspace: `entity, id, actor, at, change`, where `id` is the new row's
/// and the change is bound after the row (`$args+1`). When `guarded`, the
/// guard is bound as the two arguments after that, and a repeat inserts
/// nothing and returns no row. Run it with [`Store::record_pg`].
fn pg_record(insert: &str, args: usize, audit: &str, guarded: bool) -> String {
    let values = (1..=args)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let (guard, when) = if guarded {
        (
            format!(
                "g AS (INSERT INTO inbound_requests (key, at) VALUES (${}, ${}) ON CONFLICT (key) DO NOTHING RETURNING 1),",
                args + 2,
                args + 3
            ),
            "WHERE EXISTS (SELECT 1 FROM g)",
        )
    } else {
        (String::new(), "")
    };
    format!(
        "WITH {guard} r AS ({insert} SELECT {values} {when} RETURNING id)
         INSERT INTO audit (workspace, entity, entity_id, actor, at, change)
         SELECT $1, {audit} FROM r RETURNING entity_id"
    )
}

/// A SQLite write script for [`Store::run_script`]: `body` (statements binding
/// `$1`..`$args`, ending with `;`) in `BEGIN IMMEDIATE` ... `COMMIT`, after the
/// request's retry guard when `guarded` (bound as the two arguments after
/// `args`).
fn script(body: &str, args: usize, guarded: bool) -> String {
    let guard = if guarded {
        format!(
            "INSERT INTO inbound_requests (key, at) VALUES (${}, ${});",
            args + 1,
            args + 2
        )
    } else {
        String::new()
    };
    format!("BEGIN IMMEDIATE; {guard} {body} COMMIT;")
}

/// The options of a pool of `max` connections to the database: each checked
/// on connect and acquire (see [`Store::connect`]).
fn pool_options(
    backend: Backend,
    file: &Option<std::sync::Arc<FileIdentity>>,
    max: u32,
) -> AnyPoolOptions {
    let (on_connect, on_acquire) = (file.clone(), file.clone());
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // SQLite runs in this process: there is no connection to lose,
        // and the ping was a round trip to sqlx's worker thread on every
        // acquire. PostgreSQL keeps it (a server or proxy may drop idle
        // connections).
        .test_before_acquire(backend == Backend::Postgres)
        // A connection a failed statement or commit left inside a
        // transaction is closed, never handed out again: it would
        // refuse every later transaction. A connection to a SQLite file
        // that was deleted or replaced is refused too.
        .before_acquire(move |conn, meta| {
            let file = on_acquire.clone();
            Box::pin(async move {
                use sqlx::Connection as _;
                if conn.is_in_transaction() {
                    tracing::warn!("dropping a database connection left inside a transaction");
                    return Ok(false);
                }
                if let Some(f) = &file {
                    f.check().map_err(|e| sqlx::Error::Configuration(Box::new(e)))?;
                    if f.is_stale_read_only(meta.age) {
                        tracing::info!("the database is writable again: replacing a connection opened read-only");
                        return Ok(false);
                    }
                }
                Ok(true)
            })
        })
        .after_connect(move |conn, _meta| {
            let file = on_connect.clone();
            Box::pin(async move {
                if let Some(f) = &file {
                    f.check().map_err(|e| sqlx::Error::Configuration(Box::new(e)))?;
                    // Opened while the file is write-protected, SQLite
                    // falls back to read-only for good: remember when.
                    if f.check_writable().is_err() {
                        f.note_unwritable();
                    }
                }
                if backend == Backend::Sqlite {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                    )
                    .await?;
                }
                Ok(())
            })
        })
}

/// Whether this process may write `path`, asked with access(2). Never by
/// opening it: closing any descriptor of the database file drops every POSIX
/// lock SQLite holds on it in this process, and another process (a backup, an
/// export) may then checkpoint and reset the write-ahead log under our
/// connections, losing committed writes. access(2) refuses what open(2)
/// would (permissions, a read-only mount, `chattr +i`) without a descriptor.
fn may_write(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt as _;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "a NUL in the path"))?;
    // SAFETY: `c` is a NUL-terminated string alive for the whole call, and
    // access(2) only reads it.
    let rc = unsafe { libc::access(c.as_ptr(), libc::W_OK) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The file path of a `sqlite://PATH?...` url (none for in-memory databases).
pub(crate) fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| path.into())
}

/// How long a command waits for a database connection before it is told
/// the database is unavailable (Slack and Discord give a command 3 seconds).
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// Which database is behind the store; the SQL is shared but for a few
/// statements (transaction start, row locks, full-text search).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Rows one bulk statement of the delivery queue touches at most (bound
/// parameters stay far below SQLite's and PostgreSQL's limits).
const BULK_ROWS: usize = 512;

/// The length a bulk statement over `n` rows is padded to: a power of two
/// (1, 2, 4, ... [`BULK_ROWS`]), so that a few prepared statements serve
/// every size.
fn padded_len(n: usize) -> usize {
    n.max(1).next_power_of_two().min(BULK_ROWS.max(n))
}

/// `$first, $first+1, ...` for `ids` padded (by repeating the last id,
/// which an `IN` list ignores) to [`padded_len`], and the ids to bind.
fn id_list(ids: &[i64], first: usize) -> (String, Vec<i64>) {
    let n = padded_len(ids.len());
    let last = ids.last().copied().unwrap_or(0);
    let list: Vec<String> = (0..n).map(|i| format!("${}", first + i)).collect();
    let padded = ids
        .iter()
        .copied()
        .chain(std::iter::repeat_n(last, n - ids.len()))
        .collect();
    (list.join(", "), padded)
}

/// The default lease of a claimed delivery.
pub const LEASE_SECS: i64 = 60;

/// How far a signed request's timestamp may be from our clock (Slack and
/// Discord both allow 5 minutes).
pub const MAX_SKEW_SECS: i64 = 300;

/// How long an incoming request's key is kept. The same signed bytes verify
/// while their timestamp is within [`MAX_SKEW_SECS`] of our clock, so a
/// replay can come up to twice that after the first arrival; a minute more
/// covers a clock step.
pub const INBOUND_KEEP_SECS: i64 = 2 * MAX_SKEW_SECS + 60;

/// How often recording a request also deletes the expired keys.
const INBOUND_PRUNE_EVERY_SECS: i64 = 60;

impl Store {
    /// Open (creating if missing) the database at `url` and apply migrations.
    /// `sqlite://PATH` is the embedded default; `postgres://...` lets several
    /// instances share one database (migrations run under PostgreSQL's
    /// advisory lock, so instances starting together do not race).
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("sqlite:") {
            let url = if url.contains('?') {
                url.to_string()
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            anyhow::bail!(
                "database url `{url}` is not supported; use sqlite://PATH or postgres://..."
            );
        };
        // SQLite: create the file (and migrate) through a first connection;
        // the pool then opens it read-write without creating, so a deleted
        // file is an error instead of a fresh, empty database.
        let mut file = None;
        if backend == Backend::Sqlite {
            if let Some(path) = sqlite_path(&url) {
                let create = AnyPoolOptions::new()
                    .max_connections(1)
                    .connect(&url)
                    .await
                    .with_context(|| format!("opening database `{}`", redact(&url)))?;
                sqlx::migrate!("migrations/sqlite")
                    .run(&create)
                    .await
                    .context("applying database migrations")?;
                create.close().await;
                let id = FileIdentity::of(&path)
                    .with_context(|| format!("reading the database file {}", path.display()))?;
                file = Some(std::sync::Arc::new(FileIdentity {
                    path,
                    id,
                    reported: Default::default(),
                    unwritable_seen: Default::default(),
                }));
            }
        }
        let url = match &file {
            Some(_) => url.replace("mode=rwc", "mode=rw"),
            None => url,
        };
        let pool = pool_options(
            backend,
            &file,
            if backend == Backend::Sqlite { 4 } else { 8 },
        )
        .connect(&url)
        .await
        .with_context(|| format!("opening database `{}`", redact(&url)))?;
        // SQLite: writes go through one connection of their own, so its page
        // cache stays warm (SQLite drops a connection's cache whenever another
        // connection wrote), and writers queue in-process for it.
        let pool = pool::Pool::new(pool, "main");
        let writes = match backend {
            Backend::Sqlite => pool::Pool::new(
                pool_options(backend, &file, 1)
                    .connect(&url)
                    .await
                    .with_context(|| format!("opening database `{}`", redact(&url)))?,
                "sqlite_writer",
            ),
            Backend::Postgres => pool.clone(),
        };
        match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&*pool).await,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&*pool).await,
        }
        .context("applying database migrations")?;
        let writer = (backend == Backend::Sqlite)
            .then(|| std::sync::Arc::new(tokio::sync::Semaphore::new(1)));
        let commands = match (&file, &writer) {
            (Some(f), Some(turn)) => Some(writer::Writer::start(
                f.path.clone(),
                f.clone(),
                turn.clone(),
            )?),
            _ => None,
        };
        Ok(Store {
            pool,
            writes,
            backend,
            lease_secs: LEASE_SECS,
            writer,
            commands,
            capture: (backend == Backend::Sqlite).then(Default::default),
            file,
            inbound_pruned: Default::default(),
        })
    }

    /// After a series write committed: the channels meetings capture may
    /// have changed.
    fn forget_capture(&self) {
        if let Some(cache) = &self.capture {
            cache.forget();
        }
    }

    /// Use another lease length (config `scheduler.lease`).
    pub fn with_lease(mut self, secs: i64) -> Store {
        self.lease_secs = secs.max(1);
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How long a claim stays reserved, in seconds.
    pub fn lease_secs(&self) -> i64 {
        self.lease_secs
    }

    /// Wait for this process's turn to write (SQLite), after checking that
    /// the file can be written: a write-protected file is said so at once.
    async fn write_turn(&self) -> anyhow::Result<Option<tokio::sync::OwnedSemaphorePermit>> {
        if let Some(f) = &self.file {
            f.check_writable()?;
        }
        let Some(writer) = &self.writer else {
            return Ok(None);
        };
        // Another write holds the turn: this one waits for SQLite's one
        // write connection.
        if writer.available_permits() == 0 {
            crate::metrics::pool_waited("sqlite_writer");
        }
        let permit = tokio::time::timeout(WRITER_WAIT, writer.clone().acquire_owned())
            .await
            .map_err(|_| Unavailable("the database is busy with another write".into()))?
            .context("waiting for the database's write lock")?;
        Ok(Some(permit))
    }

    async fn begin(&self) -> anyhow::Result<Tx> {
        let permit = self.write_turn().await?;
        // SQLite: IMMEDIATE takes the write lock up front, so a read-then-write
        // transaction never fails half-way on a busy database. PostgreSQL
        // locks rows as statements touch them.
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        let mut tx = Tx {
            tx: self
                .writes
                .begin_with(begin)
                .await
                .context("starting a database transaction")?,
            _permit: permit,
        };
        // The retry guard of the request being handled commits with the
        // request's first write, so the request is recorded with its effects
        // or not at all.
        if let Some(guard) = first_write_guard() {
            let n = sqlx::query(
                "INSERT INTO inbound_requests (key, at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            )
            .bind(&guard.key)
            .bind(guard.at)
            .execute(&mut *tx)
            .await
            .context("recording an incoming request")?
            .rows_affected();
            if n == 0 {
                return Err(AlreadyHandled.into());
            }
        }
        Ok(tx)
    }

    /// PostgreSQL: run `query`, made by [`pg_record`] with its arguments
    /// and the audit entry's change bound, binding `guard` after them; the
    /// new row's id.
    async fn record_pg<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
        guard: Option<RequestGuard>,
        what: &'static str,
    ) -> anyhow::Result<i64> {
        let guarded = guard.is_some();
        let query = match guard {
            Some(g) => query.bind(g.key).bind(g.at),
            None => query,
        };
        match query.fetch_optional(&*self.writes).await.context(what)? {
            Some(row) => Ok(row.get::<i64, _>(0)),
            None if guarded => Err(AlreadyHandled.into()),
            None => Err(anyhow::anyhow!("{what}: no id came back")),
        }
    }

    /// SQLite: run `query`, a script made by [`script`] with its arguments
    /// bound, as one write transaction with the request's retry guard, in one
    /// hand-off to SQLite's worker thread instead of one per statement
    /// (BEGIN, the guard, each statement, COMMIT: each a message to that
    /// thread and back, which was most of a command's cost). Returns the rows
    /// of its last statement. On failure the transaction is rolled back, or
    /// else the connection is closed (sqlx does not track a transaction begun
    /// in a script, so it must not be handed out again inside one).
    async fn run_script<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
        guard: Option<RequestGuard>,
    ) -> anyhow::Result<Vec<sqlx::any::AnyRow>> {
        let _permit = self.write_turn().await?;
        let query = match &guard {
            Some(g) => query.bind(g.key.clone()).bind(g.at),
            None => query,
        };
        let mut conn = self
            .writes
            .acquire()
            .await
            .context("starting a database transaction")?;
        match query.fetch_all(&mut *conn).await {
            Ok(rows) => Ok(rows),
            Err(e) => {
                if conn.execute("ROLLBACK").await.is_err() {
                    let _ = conn.close().await;
                }
                let repeat = guard.is_some()
                    && e.as_database_error().is_some_and(|d| {
                        d.is_unique_violation() && d.message().contains("inbound_requests")
                    });
                if repeat {
                    return Err(AlreadyHandled.into());
                }
                Err(e).context("writing to the database")
            }
        }
    }

    /// SQLite on a file: run `work` (a command's statements) with the
    /// request's retry guard in the group-commit writer's next batch (see
    /// [`writer`]). `None` when there is no such writer (PostgreSQL,
    /// in-memory SQLite): the caller writes another way.
    async fn command_write(
        &self,
        guard: Option<RequestGuard>,
        work: writer::Work,
    ) -> Option<anyhow::Result<i64>> {
        let commands = self.commands.as_ref()?;
        Some(commands.write(guard.map(|g| (g.key, g.at)), work).await)
    }

    /// Make the next `n` commits of SQLite's command writer fail (its commit
    /// hook turns them into rollbacks): for tests of what a failed commit
    /// answers. False when there is no such writer.
    #[doc(hidden)]
    pub fn fail_next_command_commits(&self, n: u32) -> bool {
        self.commands
            .as_ref()
            .map(|c| c.fail_next_commits(n))
            .is_some()
    }

    /// Whether an incoming request with this key was already acted on (its
    /// guard committed with its effects). Also prunes old keys now and then.
    pub async fn seen(&self, key: &str, now: i64) -> anyhow::Result<bool> {
        let row = sqlx::query("SELECT 1 FROM inbound_requests WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .context("looking up an incoming request")?;
        self.maybe_prune_inbound(now).await;
        Ok(row.is_some())
    }

    /// Health probe: can we reach the database (and, on SQLite, is its
    /// file still the one we opened)?
    pub async fn ping(&self) -> anyhow::Result<()> {
        if let Some(f) = &self.file {
            f.check()?;
        }
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .context("pinging the database")?;
        Ok(())
    }

    /// Run `sql` (a PRAGMA) on every connection of the pool, opening them
    /// all: for tests that simulate a full disk with `max_page_count`.
    #[doc(hidden)]
    pub async fn on_every_connection(&self, sql: &str) -> anyhow::Result<()> {
        let mut held = Vec::new();
        let pools = match self.backend {
            Backend::Sqlite => vec![&self.pool, &self.writes],
            Backend::Postgres => vec![&self.pool],
        };
        for pool in pools {
            for _ in 0..pool.options().get_max_connections() {
                let mut conn = pool.acquire().await.context("opening a connection")?;
                sqlx::query(sql)
                    .execute(&mut *conn)
                    .await
                    .with_context(|| format!("running `{sql}`"))?;
                held.push(conn);
            }
        }
        if let Some(commands) = &self.commands {
            commands.pragma(sql).await?;
        }
        Ok(())
    }

    /// Readiness: the database answers and every migration this build
    /// knows is applied.
    pub async fn ready(&self) -> anyhow::Result<()> {
        self.ping().await?;
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        let latest = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Option<i64> =
            sqlx::query("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await
                .context("reading applied migrations")?
                .get(0);
        if applied.unwrap_or(0) < latest {
            anyhow::bail!(
                "migrations are behind: {} applied, {latest} known",
                applied.unwrap_or(0)
            );
        }
        Ok(())
    }

    /// Seconds the oldest due, undelivered item (waiting for its turn or in
    /// flight) is past its time at `now` (0 when nothing is due). A delivery
    /// waiting out a retry backoff counts again once its next try is due.
    pub async fn lag(&self, now: i64) -> anyhow::Result<i64> {
        // Due and waiting, or in flight: both walk the (state, next_try_at)
        // index over the few rows that are due, never the whole queue.
        let oldest: Option<i64> = sqlx::query(
            "SELECT min(t) FROM (
                 SELECT min(due_at) AS t FROM deliveries WHERE state = 'pending' AND next_try_at <= $1
                 UNION ALL SELECT min(due_at) FROM deliveries WHERE state = 'sending') AS w",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .context("measuring the delivery lag")?
        .get(0);
        Ok(oldest.map_or(0, |t| now.saturating_sub(t).max(0)))
    }

    // ---- series ----------------------------------------------------------

    /// Insert a series and the reminders of its first occurrence.
    pub async fn insert_series(&self, s: &NewSeries, plan: &Plan) -> anyhow::Result<i64> {
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO series (workspace, title, cadence, rrule, tz, anchor_date, channel, attendees,
                                 remind, status, next_at, created_by, created_at, updated_at,
                                 duration_secs, capture, shift)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id",
        )
        .bind(&s.workspace)
        .bind(&s.title)
        .bind(&s.cadence)
        .bind(&s.rrule)
        .bind(&s.tz)
        .bind(&s.anchor_date)
        .bind(&s.channel)
        .bind(&s.attendees)
        .bind(&s.remind)
        .bind(if plan.next_at.is_some() { "active" } else { "ended" })
        .bind(plan.next_at)
        .bind(&s.created_by)
        .bind(s.created_at)
        .bind(s.created_at)
        .bind(s.duration_secs)
        .bind(&s.capture)
        .bind(&s.shift)
        .fetch_one(&mut *tx)
        .await
        .context("inserting a series")?
        .get(0);
        insert_reminders(&mut tx, &s.workspace, id, &s.channel, plan, s.created_at).await?;
        tx.commit().await.context("committing a new series")?;
        self.forget_capture();
        Ok(id)
    }

    pub async fn series(&self, workspace: &str, id: i64) -> anyhow::Result<Option<SeriesRow>> {
        sqlx::query_as::<_, SeriesRow>("SELECT * FROM series WHERE workspace = $1 AND id = $2")
            .bind(workspace)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .context("reading a series")
    }

    pub async fn series_by_title(
        &self,
        workspace: &str,
        title: &str,
    ) -> anyhow::Result<Option<SeriesRow>> {
        sqlx::query_as::<_, SeriesRow>(
            "SELECT * FROM series WHERE workspace = $1 AND lower(title) = lower($2) AND status = 'active'
             ORDER BY id LIMIT 1",
        )
        .bind(workspace)
        .bind(title)
        .fetch_optional(&self.pool)
        .await
        .context("finding a series by title")
    }

    /// Active series of a workspace, soonest first.
    pub async fn list_series(&self, workspace: &str) -> anyhow::Result<Vec<SeriesRow>> {
        sqlx::query_as::<_, SeriesRow>(
            "SELECT * FROM series WHERE workspace = $1 AND status = 'active'
             ORDER BY next_at IS NULL, next_at, id LIMIT 200",
        )
        .bind(workspace)
        .fetch_all(&self.pool)
        .await
        .context("listing series")
    }

    /// Replace a series' definition and its future reminders in one step.
    /// Agenda items waiting for the old next occurrence move to the new one.
    pub async fn update_series(
        &self,
        row: &SeriesRow,
        plan: &Plan,
        now: i64,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        update_series_in(&mut tx, row, plan, now).await?;
        tx.commit().await.context("committing a series update")?;
        self.forget_capture();
        Ok(())
    }

    /// Record that `occurrence_at` will not happen, then move to `plan`.
    pub async fn skip_occurrence(
        &self,
        row: &SeriesRow,
        occurrence_at: i64,
        by: &str,
        plan: &Plan,
        now: i64,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        set_occurrence_state(&mut tx, row, occurrence_at, "skipped", by, now).await?;
        update_series_in(&mut tx, row, plan, now).await?;
        tx.commit()
            .await
            .context("committing a skipped occurrence")?;
        self.forget_capture();
        Ok(())
    }

    /// One-off changes to the occurrences of `series_id` after `from`.
    pub async fn overrides(&self, series_id: i64, from: i64) -> anyhow::Result<Overrides> {
        let rows = sqlx::query(
            "SELECT at, original_at, state FROM occurrences
             WHERE series_id = $1 AND at > $2 AND (state IN ('skipped', 'moved', 'cancelled') OR original_at IS NOT NULL)
             ORDER BY at",
        )
        .bind(series_id)
        .bind(from)
        .fetch_all(&self.pool)
        .await
        .context("reading one-off changes of a series")?;
        let mut out = Overrides::default();
        for r in rows {
            push_override(&mut out, r.get(0), r.get(1), r.get(2));
        }
        Ok(out)
    }
}

fn push_override(out: &mut Overrides, at: i64, original: Option<i64>, state: String) {
    match (state.as_str(), original) {
        ("skipped" | "moved" | "cancelled", _) => out.away.push((at, state)),
        (_, Some(from)) => out.moved_in.push((at, from)),
        _ => {}
    }
}

/// Set the state of the occurrence at `at` (recording it if it was not yet).
async fn set_occurrence_state(
    tx: &mut Tx,
    row: &SeriesRow,
    at: i64,
    state: &str,
    by: &str,
    now: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO occurrences (workspace, series_id, at, state, changed_by, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (series_id, at) DO UPDATE SET state = excluded.state,
             changed_by = excluded.changed_by, changed_at = excluded.changed_at",
    )
    .bind(&row.workspace)
    .bind(row.id)
    .bind(at)
    .bind(state)
    .bind(by)
    .bind(now)
    .execute(&mut **tx)
    .await
    .context("recording an occurrence's state")?;
    Ok(())
}

/// Replace a series' definition and its future reminders, inside `tx`.
async fn update_series_in(
    tx: &mut Tx,
    row: &SeriesRow,
    plan: &Plan,
    now: i64,
) -> anyhow::Result<()> {
    let old_next: Option<i64> = sqlx::query("SELECT next_at FROM series WHERE id = $1")
        .bind(row.id)
        .fetch_one(&mut **tx)
        .await
        .context("reading a series before update")?
        .get(0);
    sqlx::query(
            "UPDATE series SET title = $1, cadence = $2, rrule = $3, tz = $4, anchor_date = $5, channel = $6,
                    attendees = $7, remind = $8, status = $9, next_at = $10, updated_at = $11,
                    duration_secs = $14, capture = $15, sequence = sequence + 1, shift = $16
             WHERE id = $12 AND workspace = $13",
        )
        .bind(&row.title)
        .bind(&row.cadence)
        .bind(&row.rrule)
        .bind(&row.tz)
        .bind(&row.anchor_date)
        .bind(&row.channel)
        .bind(&row.attendees)
        .bind(&row.remind)
        .bind(if plan.next_at.is_some() { "active" } else { "ended" })
        .bind(plan.next_at)
        .bind(now)
        .bind(row.id)
        .bind(&row.workspace)
        .bind(row.duration_secs)
        .bind(&row.capture)
        .bind(&row.shift)
        .execute(&mut **tx)
        .await
        .context("updating a series")?;
    cancel_pending(tx, row.id).await?;
    if let Some(old) = old_next.filter(|old| Some(*old) != plan.next_at) {
        if let Some(new) = plan.next_at {
            sqlx::query("UPDATE agenda_items SET occurrence_at = $1 WHERE series_id = $2 AND occurrence_at = $3")
                    .bind(new)
                    .bind(row.id)
                    .bind(old)
                    .execute(&mut **tx)
                    .await
                    .context("moving agenda items to the new next occurrence")?;
        }
        // A slot the new definition no longer has is forgotten (a
        // skipped or moved one keeps its record).
        sqlx::query(
                "DELETE FROM occurrences WHERE series_id = $1 AND at = $2 AND state = 'scheduled' AND original_at IS NULL",
            )
            .bind(row.id)
            .bind(old)
            .execute(&mut **tx)
            .await
            .context("forgetting a slot that is gone")?;
    }
    insert_reminders(tx, &row.workspace, row.id, &row.channel, plan, now).await?;
    Ok(())
}

impl Store {
    pub async fn cancel_series(&self, workspace: &str, id: i64, now: i64) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE series SET status = 'cancelled', next_at = NULL, updated_at = $1
             WHERE workspace = $2 AND id = $3 AND status = 'active'",
        )
        .bind(now)
        .bind(workspace)
        .bind(id)
        .execute(&mut *tx)
        .await
        .context("cancelling a series")?
        .rows_affected();
        cancel_pending(&mut tx, id).await?;
        if done == 1 {
            sqlx::query(
                "UPDATE occurrences SET state = 'cancelled', changed_at = $1 WHERE series_id = $2 AND state = 'scheduled' AND at > $1",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await
            .context("cancelling a series' occurrences")?;
        }
        tx.commit().await.context("committing a cancellation")?;
        Ok(done == 1)
    }

    // ---- agenda ----------------------------------------------------------

    pub async fn add_agenda_item(
        &self,
        row: &SeriesRow,
        occurrence_at: i64,
        text: &str,
        by: &str,
        now: i64,
    ) -> anyhow::Result<i64> {
        self.add_to_occurrence(
            meetings::OccurrenceText::AgendaItem,
            row,
            occurrence_at,
            text,
            by,
            now,
        )
        .await
    }

    pub async fn agenda(
        &self,
        series_id: i64,
        occurrence_at: i64,
    ) -> anyhow::Result<Vec<AgendaItem>> {
        sqlx::query_as::<_, AgendaItem>(
            "SELECT id, text, added_by, covered_at, carried FROM agenda_items WHERE series_id = $1 AND occurrence_at = $2 ORDER BY id",
        )
        .bind(series_id)
        .bind(occurrence_at)
        .fetch_all(&self.pool)
        .await
        .context("reading the agenda")
    }

    // ---- scheduler -------------------------------------------------------

    /// Active series whose next occurrence is at or before `now`.
    pub async fn series_due(&self, now: i64, limit: i64) -> anyhow::Result<Vec<SeriesRow>> {
        sqlx::query_as::<_, SeriesRow>(
            "SELECT * FROM series WHERE status = 'active' AND next_at <= $1 ORDER BY next_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .context("finding series whose occurrence has passed")
    }

    /// One-off changes of the series `ids` after the occurrence each has
    /// passed (`passed[i]` for `ids[i]`), in one query for a batch.
    pub async fn overrides_after(
        &self,
        ids: &[i64],
        passed: &[i64],
    ) -> anyhow::Result<std::collections::HashMap<i64, Overrides>> {
        let mut out: std::collections::HashMap<i64, Overrides> = Default::default();
        let (Some(lo), Some(hi), Some(from)) =
            (ids.iter().min(), ids.iter().max(), passed.iter().min())
        else {
            return Ok(out);
        };
        let after: std::collections::HashMap<i64, i64> =
            ids.iter().copied().zip(passed.iter().copied()).collect();
        let rows = sqlx::query(
            "SELECT series_id, at, original_at, state FROM occurrences
             WHERE series_id >= $1 AND series_id <= $2 AND at > $3
               AND (state IN ('skipped', 'moved', 'cancelled') OR original_at IS NOT NULL)
             ORDER BY 1, 2",
        )
        .bind(lo)
        .bind(hi)
        .bind(from)
        .fetch_all(&self.pool)
        .await
        .context("reading one-off changes of series")?;
        for r in rows {
            let (id, at): (i64, i64) = (r.get(0), r.get(1));
            if after.get(&id).is_some_and(|p| at > *p) {
                push_override(out.entry(id).or_default(), at, r.get(2), r.get(3));
            }
        }
        Ok(out)
    }

    /// Move each series past its occurrence `passed` to its plan, all in one
    /// transaction. Returns how many moved; one someone else already moved
    /// is left alone (nothing is written for it).
    pub async fn advance_many(
        &self,
        batch: &[(SeriesRow, i64, Plan)],
        now: i64,
    ) -> anyhow::Result<usize> {
        let mut tx = self.begin().await?;
        let mut moved = 0;
        for (row, passed, plan) in batch {
            if advance_in(&mut tx, row, *passed, plan, now).await? {
                moved += 1;
            }
        }
        tx.commit().await.context("committing series advances")?;
        Ok(moved)
    }

    /// Start-up recovery for the single-instance SQLite backend: deliveries a
    /// killed process left in `sending` go back to `pending`.
    pub async fn recover_inflight(&self) -> anyhow::Result<u64> {
        let n = sqlx::query(
            "UPDATE deliveries SET state = 'pending', lease_until = NULL WHERE state = 'sending'",
        )
        .execute(&self.pool)
        .await
        .context("recovering in-flight deliveries")?
        .rows_affected();
        Ok(n)
    }

    /// Mark never-attempted reminders due before `cutoff` as missed and queue
    /// one summary notice per channel, all in one transaction. (Until its
    /// first attempt a delivery's next_try_at is its due_at: naming it lets
    /// the (state, next_try_at) index find only the overdue ones.)
    pub async fn sweep_missed(
        &self,
        cutoff: i64,
        now: i64,
        summarize: impl Fn(&[MissedReminder]) -> String,
    ) -> anyhow::Result<Vec<MissedReminder>> {
        let mut tx = self.begin().await?;
        let missed = sqlx::query_as::<_, MissedReminder>(
            "SELECT d.id, d.workspace, d.channel, d.series_id, d.occurrence_at, d.lead_secs, d.due_at,
                    s.title, s.tz
             FROM deliveries d JOIN series s ON s.id = d.series_id
             WHERE d.state = 'pending' AND d.next_try_at < $1 AND d.kind = 'reminder' AND d.attempts = 0 AND d.due_at < $1
             ORDER BY d.due_at, d.id",
        )
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await
        .context("finding missed reminders")?;
        sqlx::query(
            "UPDATE deliveries SET state = 'missed'
             WHERE state = 'pending' AND next_try_at < $1 AND kind = 'reminder' AND attempts = 0 AND due_at < $1",
        )
        .bind(cutoff)
        .execute(&mut *tx)
        .await
        .context("marking missed reminders")?;
        let mut groups: std::collections::BTreeMap<(String, String), Vec<MissedReminder>> =
            Default::default();
        for m in &missed {
            groups
                .entry((m.workspace.clone(), m.channel.clone()))
                .or_default()
                .push(m.clone());
        }
        for ((workspace, channel), mut list) in groups {
            list.sort_by_key(|m| (m.due_at, m.id));
            let first = list.first().map_or(0, |m| m.id);
            sqlx::query(
                "INSERT INTO deliveries (workspace, kind, dedupe_key, channel, body, due_at, next_try_at)
                 VALUES ($1, 'notice', $2, $3, $4, $5, $6)",
            )
            .bind(&workspace)
            .bind(format!("missed:{first}:{}", list.len()))
            .bind(&channel)
            .bind(summarize(&list))
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("queueing the missed-reminders summary")?;
        }
        tx.commit().await.context("committing missed reminders")?;
        Ok(missed)
    }

    /// Claim up to `limit` deliveries whose time has come, with a lease: a
    /// claim whose instance died is taken over when the lease lapses. On
    /// PostgreSQL, rows another instance is claiming are skipped, not waited for.
    pub async fn claim_due(&self, now: i64, limit: i64) -> anyhow::Result<Vec<DeliveryRow>> {
        self.claim(now, limit, true).await
    }

    /// [`Store::claim_due`] without re-queueing lapsed claims first: for the
    /// next batches of a tick whose first claim did (that statement reads
    /// every claim in flight, up to thousands of rows during a burst).
    pub async fn claim_more(&self, now: i64, limit: i64) -> anyhow::Result<Vec<DeliveryRow>> {
        self.claim(now, limit, false).await
    }

    async fn claim(&self, now: i64, limit: i64, requeue: bool) -> anyhow::Result<Vec<DeliveryRow>> {
        // One write transaction (on SQLite, the writer's turn and its
        // connection: a claim from another connection would wait for the
        // group commit of sent marks in SQLite's busy handler, which
        // sleeps). Claims whose instance died go back to the queue first;
        // then the earliest due are claimed. Two statements that each walk
        // an index range (state, next_try_at), so a claim costs the same
        // with a million sent deliveries behind it as with none.
        let mut tx = self.begin().await?;
        if requeue {
            sqlx::query(
                "UPDATE deliveries SET state = 'pending', lease_until = NULL
                 WHERE state = 'sending' AND lease_until <= $1",
            )
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("re-queueing lapsed claims")?;
        }
        let sql = format!(
            "UPDATE deliveries SET state = 'sending', lease_until = $1, attempts = attempts + 1
             WHERE id IN (SELECT id FROM deliveries
                          WHERE state = 'pending' AND next_try_at <= $2
                          ORDER BY next_try_at, id LIMIT $3 {})
             RETURNING id, workspace, kind, channel, series_id, occurrence_at, lead_secs, body, due_at, attempts,
                       escalation_id, requires_state, mention",
            if self.backend == Backend::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" }
        );
        let mut claimed = sqlx::query_as::<_, DeliveryRow>(&sql)
            .bind(now + self.lease_secs)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await
            .context("claiming due deliveries")?;
        tx.commit().await.context("committing claims")?;
        // RETURNING keeps no order on PostgreSQL: deliver in due order.
        claimed.sort_by_key(|d| (d.due_at, d.id));
        Ok(claimed)
    }

    /// Renew the claims on `ids` that are still ours (state `sending` with
    /// the lease we set, `held_until`) to `now + lease`. Returns the ids
    /// renewed: a claim that lapsed and was taken by another instance is not.
    pub async fn extend_claims(
        &self,
        ids: &[i64],
        held_until: i64,
        now: i64,
    ) -> anyhow::Result<Vec<i64>> {
        let mut tx = self.begin().await?;
        let mut kept = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BULK_ROWS) {
            let (list, padded) = id_list(chunk, 3);
            let sql = format!(
                "UPDATE deliveries SET lease_until = $1
                 WHERE state = 'sending' AND lease_until = $2 AND id IN ({list}) RETURNING id"
            );
            let mut q = sqlx::query(&sql)
                .bind(now + self.lease_secs)
                .bind(held_until);
            for id in padded {
                q = q.bind(id);
            }
            let rows = q.fetch_all(&mut *tx).await.context("renewing claims")?;
            kept.extend(rows.iter().map(|r| r.get::<i64, _>(0)));
        }
        tx.commit().await.context("committing renewed claims")?;
        Ok(kept)
    }

    /// Give back claims not yet attempted, without using up a try: pending
    /// again at once, for another instance, as if never claimed (a graceful
    /// stop), or at `retry_at` (their destination is failing or rate
    /// limited), keeping their order.
    pub async fn release_claims(
        &self,
        ids: &[i64],
        held_until: i64,
        retry_at: Option<i64>,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        for chunk in ids.chunks(BULK_ROWS) {
            let (list, padded) = id_list(chunk, 3);
            let sql = format!(
                "UPDATE deliveries SET state = 'pending', lease_until = NULL, attempts = attempts - 1,
                        next_try_at = COALESCE($1, next_try_at)
                 WHERE state = 'sending' AND lease_until = $2 AND id IN ({list})"
            );
            let mut q = sqlx::query(&sql).bind(retry_at).bind(held_until);
            for id in padded {
                q = q.bind(id);
            }
            q.execute(&mut *tx).await.context("releasing claims")?;
        }
        tx.commit().await.context("committing released claims")?;
        Ok(())
    }

    /// Which of the escalations `ids` are critical (their posts go first).
    pub async fn critical_escalations(&self, ids: &[i64]) -> anyhow::Result<Vec<i64>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id FROM escalations WHERE severity = 'critical' AND id IN ({})",
            list.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in ids {
            q = q.bind(*id);
        }
        let rows = q
            .fetch_all(&self.pool)
            .await
            .context("reading escalation severities")?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Record deliveries as sent: (id, sent_at, late) each, in one
    /// transaction (one commit for a whole group of posts), a statement for
    /// up to [`BULK_ROWS`] of them.
    pub async fn mark_sent(&self, sent: &[(i64, i64, bool)]) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        for chunk in sent.chunks(BULK_ROWS) {
            // Padded to a few lengths (repeating the last mark, which
            // changes nothing), so that a handful of prepared statements
            // serve every group size.
            let n = padded_len(chunk.len());
            let values: Vec<String> = (0..n)
                .map(|i| {
                    format!(
                        "(CAST(${} AS BIGINT), CAST(${} AS BIGINT), CAST(${} AS BIGINT))",
                        3 * i + 1,
                        3 * i + 2,
                        3 * i + 3
                    )
                })
                .collect();
            let sql = format!(
                "WITH m (id, at, late) AS (VALUES {})
                 UPDATE deliveries SET state = 'sent', sent_at = m.at, late = m.late, lease_until = NULL
                 FROM m WHERE deliveries.id = m.id",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            let last = chunk[chunk.len() - 1];
            for &(id, at, late) in chunk
                .iter()
                .chain(std::iter::repeat_n(&last, n - chunk.len()))
            {
                q = q.bind(id).bind(at).bind(i64::from(late));
            }
            q.execute(&mut *tx)
                .await
                .context("recording sent deliveries")?;
        }
        tx.commit().await.context("committing sent deliveries")?;
        Ok(())
    }

    pub async fn mark_retry(&self, id: i64, next_try_at: i64, error: &str) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE deliveries SET state = 'pending', next_try_at = $1, last_error = $2, lease_until = NULL WHERE id = $3",
        )
        .bind(next_try_at)
        .bind(error)
        .bind(id)
        .execute(&self.pool)
        .await
        .context("scheduling a retry")?;
        Ok(())
    }

    /// A rate-limited delivery: try again at `next_try_at` without using up
    /// a try (being told to wait is not a failure).
    pub async fn mark_rate_limited(&self, id: i64, next_try_at: i64) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE deliveries SET state = 'pending', next_try_at = $1, last_error = 'rate limited', lease_until = NULL,
                    attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
             WHERE id = $2",
        )
        .bind(next_try_at)
        .bind(id)
        .execute(&self.pool)
        .await
        .context("scheduling a rate-limited retry")?;
        Ok(())
    }

    pub async fn mark_failed(&self, id: i64, error: &str) -> anyhow::Result<()> {
        sqlx::query("UPDATE deliveries SET state = 'failed', last_error = $1, lease_until = NULL WHERE id = $2")
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await
            .context("recording a failed delivery")?;
        Ok(())
    }

    /// A delivery that turned out to have nothing to send (its series was
    /// cancelled between claim and send).
    pub async fn mark_cancelled(&self, id: i64) -> anyhow::Result<()> {
        sqlx::query("UPDATE deliveries SET state = 'cancelled', lease_until = NULL WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .context("cancelling a delivery")?;
        Ok(())
    }

    /// Queue a notice once: a second call with the same `key` does nothing.
    /// Returns whether it was queued now.
    pub async fn enqueue_notice(
        &self,
        workspace: &str,
        channel: &str,
        key: &str,
        body: &str,
        now: i64,
    ) -> anyhow::Result<bool> {
        self.enqueue_notice_for(workspace, channel, key, body, now, &[])
            .await
    }

    /// [`Store::enqueue_notice`] that pings `mention` (chat user ids).
    pub async fn enqueue_notice_for(
        &self,
        workspace: &str,
        channel: &str,
        key: &str,
        body: &str,
        now: i64,
        mention: &[String],
    ) -> anyhow::Result<bool> {
        let n = sqlx::query(
            "INSERT INTO deliveries (workspace, kind, dedupe_key, channel, body, due_at, next_try_at, mention)
             VALUES ($1, 'notice', $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(workspace)
        .bind(key)
        .bind(channel)
        .bind(body)
        .bind(now)
        .bind(now)
        .bind(mention.join(","))
        .execute(&self.pool)
        .await
        .context("queueing a notice")?
        .rows_affected();
        Ok(n == 1)
    }

    /// Post reminder delivery `id` again at `at` (a Snooze button). Returns
    /// false when there is no such reminder in `workspace` or its series ended.
    pub async fn snooze(&self, workspace: &str, id: i64, at: i64) -> anyhow::Result<bool> {
        let n = sqlx::query(
            "INSERT INTO deliveries (workspace, kind, dedupe_key, channel, series_id, occurrence_at, lead_secs, due_at, next_try_at)
             SELECT d.workspace, 'reminder', 'snooze:' || CAST(d.id AS TEXT) || ':' || $1, d.channel, d.series_id, d.occurrence_at, d.lead_secs, $2, $3
             FROM deliveries d JOIN series s ON s.id = d.series_id
             WHERE d.id = $4 AND d.workspace = $5 AND d.kind = 'reminder' AND s.status != 'cancelled'
             ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(at.to_string())
        .bind(at)
        .bind(at)
        .bind(id)
        .bind(workspace)
        .execute(&self.pool)
        .await
        .context("snoozing a reminder")?
        .rows_affected();
        Ok(n == 1)
    }

    /// Record an incoming request by its key; false when it was seen before.
    /// At most once a minute (per process) it also deletes the keys older
    /// than [`INBOUND_KEEP_SECS`], so the table holds only the replay window.
    pub async fn first_time(&self, key: &str, now: i64) -> anyhow::Result<bool> {
        let n = sqlx::query(
            "INSERT INTO inbound_requests (key, at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(now)
        .execute(&self.pool)
        .await
        .context("recording an incoming request")?
        .rows_affected();
        self.maybe_prune_inbound(now).await;
        Ok(n == 1)
    }

    /// At most once a minute (per process), delete the request keys older
    /// than [`INBOUND_KEEP_SECS`].
    async fn maybe_prune_inbound(&self, now: i64) {
        let last = self
            .inbound_pruned
            .load(std::sync::atomic::Ordering::Relaxed);
        if now.saturating_sub(last) >= INBOUND_PRUNE_EVERY_SECS
            && self
                .inbound_pruned
                .compare_exchange(
                    last,
                    now,
                    std::sync::atomic::Ordering::Relaxed,
                    std::sync::atomic::Ordering::Relaxed,
                )
                .is_ok()
        {
            // The request is recorded; a failed clean-up only waits for the next one.
            if let Err(e) = self.prune_inbound(now).await {
                tracing::warn!(error = ?e, "pruning old incoming request keys");
            }
        }
    }

    /// Delete the incoming request keys older than [`INBOUND_KEEP_SECS`]
    /// before `now`; returns how many went.
    pub async fn prune_inbound(&self, now: i64) -> anyhow::Result<u64> {
        let n = sqlx::query("DELETE FROM inbound_requests WHERE at < $1")
            .bind(now.saturating_sub(INBOUND_KEEP_SECS))
            .execute(&self.pool)
            .await
            .context("pruning old incoming request keys")?
            .rows_affected();
        Ok(n)
    }

    /// Whether a delivery with this key exists (any state).
    pub async fn has_delivery(&self, key: &str) -> anyhow::Result<bool> {
        let row = sqlx::query("SELECT 1 FROM deliveries WHERE dedupe_key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .context("looking up a delivery")?;
        Ok(row.is_some())
    }

    /// The earliest instant at which there will be work: a delivery to try or
    /// a series occurrence to pass.
    pub async fn next_wake(&self) -> anyhow::Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT min(t) FROM (
                 SELECT min(next_try_at) AS t FROM deliveries WHERE state = 'pending'
                 UNION ALL SELECT min(lease_until) FROM deliveries WHERE state = 'sending'
                 UNION ALL SELECT min(next_at) FROM series WHERE status = 'active') AS w",
        )
        .fetch_one(&self.pool)
        .await
        .context("finding the next wake-up time")?;
        Ok(row.get(0))
    }

    /// Deliveries of a series in a given state (for `next` and for tests).
    pub async fn deliveries_of(
        &self,
        workspace: &str,
        series_id: i64,
    ) -> anyhow::Result<Vec<DeliveryStatus>> {
        sqlx::query_as::<_, DeliveryStatus>(
            "SELECT id, occurrence_at, lead_secs, due_at, state, late, attempts FROM deliveries
             WHERE workspace = $1 AND series_id = $2 ORDER BY due_at, id",
        )
        .bind(workspace)
        .bind(series_id)
        .fetch_all(&self.pool)
        .await
        .context("reading deliveries of a series")
    }
}

/// A database url fit for logs: the password is replaced.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Record one change to a decision or an action item.
async fn audit(
    tx: &mut Tx,
    workspace: &str,
    entity: &str,
    id: i64,
    actor: &str,
    at: i64,
    change: &str,
) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO audit (workspace, entity, entity_id, actor, at, change) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(workspace)
        .bind(entity)
        .bind(id)
        .bind(actor)
        .bind(at)
        .bind(change)
        .execute(&mut **tx)
        .await
        .context("writing the audit trail")?;
    Ok(())
}

async fn cancel_pending(tx: &mut Tx, series_id: i64) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE deliveries SET state = 'cancelled' WHERE series_id = $1 AND state = 'pending' AND kind = 'reminder'",
    )
    .bind(series_id)
    .execute(&mut **tx)
    .await
    .context("cancelling pending reminders")?;
    Ok(())
}

/// Move a series past its occurrence `passed` to `plan`, inside `tx`.
/// False when someone else already moved it (nothing is written then).
async fn advance_in(
    tx: &mut Tx,
    row: &SeriesRow,
    passed: i64,
    plan: &Plan,
    now: i64,
) -> anyhow::Result<bool> {
    let moved = sqlx::query(
        "UPDATE series SET next_at = $1, status = $2, updated_at = $3 WHERE id = $4 AND next_at = $5 AND status = 'active'",
    )
    .bind(plan.next_at)
    .bind(if plan.next_at.is_some() { "active" } else { "ended" })
    .bind(now)
    .bind(row.id)
    .bind(passed)
    .execute(&mut **tx)
    .await
    .context("advancing a series")?
    .rows_affected();
    if moved == 1 {
        sqlx::query(
            "INSERT INTO occurrences (workspace, series_id, at, state, changed_by, changed_at)
             VALUES ($1, $2, $3, 'held', 'quorum', $4)
             ON CONFLICT (series_id, at) DO UPDATE SET state = 'held', changed_at = excluded.changed_at
             WHERE occurrences.state = 'scheduled'",
        )
        .bind(&row.workspace)
        .bind(row.id)
        .bind(passed)
        .bind(now)
        .execute(&mut **tx)
        .await
        .context("recording an occurrence as held")?;
        // Its minutes, rendered when they are sent at its end: the dedupe
        // key makes them one delivery however many instances get here.
        let end = passed.saturating_add(row.duration_secs.clamp(0, 86_400));
        sqlx::query(
            "INSERT INTO deliveries (workspace, kind, dedupe_key, channel, series_id, occurrence_at, due_at, next_try_at)
             VALUES ($1, 'notice', $2, $3, $4, $5, $6, $7)
             ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(&row.workspace)
        .bind(format!("minutes:{}:{passed}", row.id))
        .bind(&row.channel)
        .bind(row.id)
        .bind(passed)
        .bind(end)
        .bind(end)
        .execute(&mut **tx)
        .await
        .context("queueing an occurrence's minutes")?;
        insert_reminders(tx, &row.workspace, row.id, &row.channel, plan, now).await?;
    }
    Ok(moved == 1)
}

async fn insert_reminders(
    tx: &mut Tx,
    workspace: &str,
    series_id: i64,
    channel: &str,
    plan: &Plan,
    now: i64,
) -> anyhow::Result<()> {
    let Some(occurrence) = plan.next_at else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO occurrences (workspace, series_id, at, state, changed_by, changed_at)
         VALUES ($1, $2, $3, 'scheduled', 'quorum', $4) ON CONFLICT (series_id, at) DO NOTHING",
    )
    .bind(workspace)
    .bind(series_id)
    .bind(occurrence)
    .bind(now)
    .execute(&mut **tx)
    .await
    .context("recording the next occurrence")?;
    for r in &plan.reminders {
        sqlx::query(
            "INSERT INTO deliveries (workspace, kind, dedupe_key, channel, series_id, occurrence_at, lead_secs, due_at, next_try_at)
             VALUES ($1, 'reminder', $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (dedupe_key) DO UPDATE SET
                 state = 'pending', attempts = 0, channel = excluded.channel, next_try_at = excluded.next_try_at
             WHERE deliveries.state = 'cancelled'",
        )
        .bind(workspace)
        .bind(format!("reminder:{series_id}:{occurrence}:{}", r.lead_secs))
        .bind(channel)
        .bind(series_id)
        .bind(occurrence)
        .bind(r.lead_secs)
        .bind(occurrence - r.lead_secs)
        .bind(occurrence - r.lead_secs)
        .execute(&mut **tx)
        .await
        .context("queueing a reminder")?;
    }
    Ok(())
}
