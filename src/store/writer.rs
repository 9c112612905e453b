//! Group commit for SQLite command writes (`/action add`, `/decision record`).
//!
//! One thread of its own owns one `rusqlite` connection to the database file
//! and takes every command write queued at that moment (at most
//! [`MAX_BATCH`]): it runs them in one `BEGIN IMMEDIATE`, each command in a
//! `SAVEPOINT` of its own with its request's retry guard, then one `COMMIT`,
//! and only then answers each caller. So:
//!
//! - a command that fails (a constraint, a repeat of a request that already
//!   acted) rolls back only its own savepoint and gets its own error; the
//!   others of the batch are committed;
//! - a command's retry guard and its effects commit together or not at all;
//! - a failed `COMMIT` answers every command of the batch that nothing was
//!   recorded; nothing is answered before its batch committed.
//!
//! Why a thread and `rusqlite` rather than sqlx: sqlx's SQLite driver runs
//! each connection on a worker thread of its own and hands every statement,
//! `BEGIN`, `COMMIT` and pool return (with a ping) to it and back, a thread
//! wake-up each way; that was most of a command's CPU. Here a batch costs one
//! wake-up of this thread, and each command one wake-up of its caller, and
//! statements stay prepared (`prepare_cached`). `rusqlite` links the same
//! `libsqlite3-sys` as sqlx, so no second SQLite is built.
//!
//! The writer takes the store's in-process write turn (the semaphore other
//! write transactions queue on) for each batch, so it never polls SQLite's
//! busy handler against this process's own writers. It checks the file (gone,
//! replaced, write-protected) before each batch, and drops its connection
//! after an I/O fault, opening a new one for the next batch: writes resume
//! without a restart once the fault clears.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use rusqlite::{Connection, OpenFlags, ffi};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use super::{AlreadyHandled, FileIdentity, Unavailable, WRITER_WAIT};

/// At most this many commands share one transaction: enough that the queue
/// of 64 connections empties in one commit, few enough that the first of
/// them does not wait long for the last.
pub(crate) const MAX_BATCH: usize = 64;

/// How many writes may queue for the writer before callers wait to queue.
const QUEUE: usize = 1024;

/// The statements of a command, run inside its savepoint; returns the id of
/// the row it wrote.
pub(crate) type Work = Box<dyn FnOnce(&Connection) -> rusqlite::Result<i64> + Send>;

/// Why a command write was not recorded.
#[derive(Debug)]
enum WriteError {
    /// Its retry guard was already recorded: the request acted before.
    Repeat,
    /// The database cannot take writes now (file gone, busy, commit failed).
    Unavailable(String),
    /// SQLite refused one of the command's statements.
    Sql(rusqlite::Error),
}

impl From<rusqlite::Error> for WriteError {
    fn from(e: rusqlite::Error) -> Self {
        WriteError::Sql(e)
    }
}

impl From<Unavailable> for WriteError {
    fn from(e: Unavailable) -> Self {
        WriteError::Unavailable(e.0)
    }
}

impl From<WriteError> for anyhow::Error {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Repeat => AlreadyHandled.into(),
            WriteError::Unavailable(why) => Unavailable(why).into(),
            WriteError::Sql(e) => anyhow::Error::new(e).context("writing to the database"),
        }
    }
}

struct Command {
    /// The request's retry guard (key, at), recorded in the command's savepoint.
    guard: Option<(String, i64)>,
    work: Work,
    reply: oneshot::Sender<Result<i64, WriteError>>,
}

enum Job {
    Command(Command),
    /// A PRAGMA for the writer's connection (tests simulate a full disk).
    Pragma(String, oneshot::Sender<Result<(), String>>),
}

/// The handle the store keeps: where command writes are queued.
#[derive(Clone, Debug)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
    /// How many of the next commits fail on purpose (tests).
    fail_commits: Arc<AtomicU32>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Job::Command(_) => "Job::Command",
            Job::Pragma(..) => "Job::Pragma",
        })
    }
}

impl Writer {
    /// Start the writer thread for the SQLite file `path`. It ends when the
    /// last handle is dropped.
    pub(crate) fn start(
        path: PathBuf,
        file: Arc<FileIdentity>,
        turn: Arc<Semaphore>,
    ) -> anyhow::Result<Writer> {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let fail_commits = Arc::new(AtomicU32::new(0));
        let thread = Thread {
            path,
            file,
            turn,
            runtime: tokio::runtime::Handle::current(),
            fail_commits: fail_commits.clone(),
            conn: None,
        };
        std::thread::Builder::new()
            .name("quorum-sqlite-writer".into())
            .spawn(move || thread.run(queue))
            .map_err(|e| anyhow::anyhow!("starting the SQLite writer thread: {e}"))?;
        Ok(Writer { jobs, fail_commits })
    }

    /// Run `work` with the request's retry guard in the next batch; the id
    /// it returned once the batch committed.
    pub(crate) async fn write(
        &self,
        guard: Option<(String, i64)>,
        work: Work,
    ) -> anyhow::Result<i64> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Command(Command { guard, work, reply }))
            .await
            .map_err(|_| Unavailable("the database writer has stopped".into()))?;
        match answer.await {
            Ok(result) => Ok(result?),
            Err(_) => Err(Unavailable(
                "the database writer stopped before its batch committed".into(),
            )
            .into()),
        }
    }

    /// Run a PRAGMA on the writer's connection (opening it).
    pub(crate) async fn pragma(&self, sql: &str) -> anyhow::Result<()> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Pragma(sql.to_string(), reply))
            .await
            .map_err(|_| Unavailable("the database writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| Unavailable("the database writer stopped".into()))?
            .map_err(|e| anyhow::anyhow!("running `{sql}` on the writer: {e}"))
    }

    /// Make the next `n` batch commits fail (SQLite's commit hook turns the
    /// COMMIT into a rollback): for tests of what a failed commit answers.
    pub(crate) fn fail_next_commits(&self, n: u32) {
        self.fail_commits.store(n, Ordering::SeqCst);
    }
}

struct Thread {
    path: PathBuf,
    file: Arc<FileIdentity>,
    turn: Arc<Semaphore>,
    runtime: tokio::runtime::Handle,
    fail_commits: Arc<AtomicU32>,
    /// The connection and when it was opened.
    conn: Option<(Connection, Instant)>,
}

impl Thread {
    fn run(mut self, mut queue: mpsc::Receiver<Job>) {
        while let Some(job) = queue.blocking_recv() {
            match job {
                Job::Pragma(sql, reply) => {
                    let _ = reply.send(self.pragma(&sql));
                }
                Job::Command(first) => {
                    // A panic must not end the writer: its batch's callers
                    // hear that nothing was recorded (their answers are
                    // dropped), the connection (and its open transaction)
                    // is closed, and the next batch opens a new one.
                    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        self.batch(first, &mut queue)
                    }));
                    if ran.is_err() {
                        tracing::error!(
                            "the SQLite command writer panicked in a batch; nothing of it was committed"
                        );
                        self.conn = None;
                    }
                }
            }
        }
    }

    fn pragma(&mut self, sql: &str) -> Result<(), String> {
        let conn = self.connection().map_err(|e| format!("{e:?}"))?;
        conn.execute_batch(sql).map_err(|e| e.to_string())
    }

    /// The open connection, opening one when there is none or when the one
    /// there was opened read-only while the file was write-protected.
    fn connection(&mut self) -> Result<&Connection, WriteError> {
        if let Some((_, opened)) = &self.conn {
            if self.file.is_stale_read_only(opened.elapsed()) {
                tracing::info!("the database is writable again: reopening the command writer");
                self.conn = None;
            }
        }
        if self.conn.is_none() {
            let conn = self.open()?;
            self.conn = Some((conn, Instant::now()));
        }
        match &self.conn {
            Some((conn, _)) => Ok(conn),
            None => Err(WriteError::Unavailable("no database connection".into())),
        }
    }

    fn open(&self) -> Result<Connection, WriteError> {
        self.file.check()?;
        // Read-write, never create: a deleted file is an error, not a new,
        // empty database.
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        if self.file.check_writable().is_err() {
            self.file.note_unwritable();
        }
        conn.busy_timeout(WRITER_WAIT)?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        // temp_store = MEMORY keeps each command's savepoint sub-journal in
        // memory: on the default (a temporary file once it passes 64 KiB) a
        // profile of /action add spent 16% of the process's CPU writing the
        // sub-journal with pwrite64.
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;",
        )?;
        conn.set_prepared_statement_cache_capacity(32);
        let fail = self.fail_commits.clone();
        conn.commit_hook(Some(move || {
            // true turns this COMMIT into a rollback.
            fail.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        }));
        Ok(conn)
    }

    /// This process's turn to write: at once when no other write holds it.
    fn take_turn(&self) -> Result<OwnedSemaphorePermit, WriteError> {
        if let Ok(permit) = self.turn.clone().try_acquire_owned() {
            return Ok(permit);
        }
        crate::metrics::pool_waited("sqlite_writer");
        let turn = self.turn.clone();
        self.runtime
            .block_on(async move { tokio::time::timeout(WRITER_WAIT, turn.acquire_owned()).await })
            .map_err(|_| WriteError::Unavailable("the database is busy with another write".into()))?
            .map_err(|_| WriteError::Unavailable("the database's write turn is closed".into()))
    }

    /// Check the file, take the write turn, and begin the batch's transaction.
    fn begin(&mut self) -> Result<OwnedSemaphorePermit, WriteError> {
        self.file.check()?;
        self.file.check_writable()?;
        let permit = self.take_turn()?;
        let conn = self.connection()?;
        conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        Ok(permit)
    }

    fn batch(&mut self, first: Command, queue: &mut mpsc::Receiver<Job>) {
        let begun = self.begin();
        // Everything queued while this waited for its turn joins the batch.
        let mut batch = vec![first];
        let mut pragmas = Vec::new();
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(Job::Command(c)) => batch.push(c),
                Ok(Job::Pragma(sql, reply)) => pragmas.push((sql, reply)),
                Err(_) => break,
            }
        }
        let _permit = match begun {
            Ok(permit) => permit,
            Err(e) => {
                let why = describe(&e);
                self.after_fault(&e);
                for c in batch {
                    let _ = c.reply.send(Err(WriteError::Unavailable(why.clone())));
                }
                self.run_pragmas(pragmas);
                return;
            }
        };
        let Some((conn, opened)) = self.conn.take() else {
            for c in batch {
                let _ = c.reply.send(Err(WriteError::Unavailable(
                    "no database connection".into(),
                )));
            }
            return;
        };
        let mut done: Vec<(oneshot::Sender<_>, Result<i64, WriteError>)> =
            Vec::with_capacity(batch.len());
        let mut in_tx = true;
        let mut fault = None;
        for c in batch {
            if !in_tx {
                // An earlier command's error rolled the whole transaction
                // back (SQLite does so for some I/O and full-disk errors):
                // begin again for the rest.
                if let Err(e) = conn
                    .prepare_cached("BEGIN IMMEDIATE")
                    .and_then(|mut s| s.execute([]))
                {
                    let _ = c.reply.send(Err(WriteError::Unavailable(e.to_string())));
                    fault = Some(WriteError::Sql(e));
                    continue;
                }
                in_tx = true;
            }
            let result = one(&conn, c.guard, c.work);
            if result.is_err() && conn.is_autocommit() {
                // The transaction is gone, and with it every command of it
                // so far: none of them was recorded.
                for (_, earlier) in done.iter_mut() {
                    if earlier.is_ok() {
                        *earlier = Err(WriteError::Unavailable(
                            "a database error rolled back the transaction this command was in"
                                .into(),
                        ));
                    }
                }
                in_tx = false;
            }
            if let Err(e @ WriteError::Sql(_)) = &result {
                if is_fault(e) {
                    fault = Some(WriteError::Unavailable(describe(e)));
                }
            }
            done.push((c.reply, result));
        }
        if in_tx {
            if let Err(e) = conn
                .prepare_cached("COMMIT")
                .and_then(|mut s| s.execute([]))
            {
                // Nothing of the batch is recorded: every command says so.
                tracing::error!(error = %e, commands = done.len(), "a batch of command writes failed to commit; none was recorded");
                let _ = conn.execute_batch("ROLLBACK");
                for (_, result) in done.iter_mut() {
                    if result.is_ok() {
                        *result = Err(WriteError::Unavailable(format!(
                            "the transaction failed to commit: {e}"
                        )));
                    }
                }
                if is_fault(&WriteError::Sql(e)) {
                    fault = Some(WriteError::Unavailable("commit failed".into()));
                }
            }
        }
        // A connection still inside a transaction (its rollback failed)
        // would refuse every later batch, and one that hit an I/O fault may
        // be stuck read-only: either is closed, and the next batch opens a
        // new one.
        if conn.is_autocommit() && fault.is_none() {
            self.conn = Some((conn, opened));
        } else {
            drop(conn);
        }
        for (reply, result) in done {
            let _ = reply.send(result);
        }
        self.run_pragmas(pragmas);
    }

    fn run_pragmas(&mut self, pragmas: Vec<(String, oneshot::Sender<Result<(), String>>)>) {
        for (sql, reply) in pragmas {
            let _ = reply.send(self.pragma(&sql));
        }
    }

    /// After a failure to begin: an I/O fault closes the connection, so the
    /// next batch opens a new one.
    fn after_fault(&mut self, e: &WriteError) {
        if is_fault(e) {
            self.conn = None;
        }
    }
}

/// One command in its savepoint: its guard, then its statements. On error
/// the savepoint is rolled back, leaving the rest of the batch as it was.
fn one(conn: &Connection, guard: Option<(String, i64)>, work: Work) -> Result<i64, WriteError> {
    conn.prepare_cached("SAVEPOINT command")?.execute([])?;
    let result = (|| {
        if let Some((key, at)) = &guard {
            let n = conn
                .prepare_cached(
                    "INSERT INTO inbound_requests (key, at) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                )?
                .execute(rusqlite::params![key, at])?;
            if n == 0 {
                return Err(WriteError::Repeat);
            }
        }
        Ok(work(conn)?)
    })();
    match result {
        Ok(id) => {
            conn.prepare_cached("RELEASE command")?.execute([])?;
            Ok(id)
        }
        Err(e) => {
            if !conn.is_autocommit() {
                let _ = conn
                    .prepare_cached("ROLLBACK TO command")
                    .and_then(|mut s| s.execute([]));
                let _ = conn
                    .prepare_cached("RELEASE command")
                    .and_then(|mut s| s.execute([]));
            }
            Err(e)
        }
    }
}

/// Inside the command writer's savepoint: the audit entry of a record just
/// created (`entity` is `action` or `decision`).
pub(super) fn audit_new(
    c: &Connection,
    workspace: &str,
    entity: &str,
    id: i64,
    actor: &str,
    at: i64,
    change: &str,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO audit (workspace, entity, entity_id, actor, at, change)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(rusqlite::params![workspace, entity, id, actor, at, change])?;
    Ok(())
}

/// Whether `e` is a fault of the file or the disk (after which the
/// connection is replaced), as opposed to a refused statement.
fn is_fault(e: &WriteError) -> bool {
    match e {
        WriteError::Sql(rusqlite::Error::SqliteFailure(f, _)) => matches!(
            f.code,
            ffi::ErrorCode::SystemIoFailure
                | ffi::ErrorCode::ReadOnly
                | ffi::ErrorCode::CannotOpen
                | ffi::ErrorCode::DatabaseCorrupt
                | ffi::ErrorCode::NotADatabase
        ),
        WriteError::Sql(_) => false,
        WriteError::Unavailable(_) | WriteError::Repeat => false,
    }
}

fn describe(e: &WriteError) -> String {
    match e {
        WriteError::Repeat => "this request was handled before".into(),
        WriteError::Unavailable(why) => why.clone(),
        WriteError::Sql(e) => e.to_string(),
    }
}
