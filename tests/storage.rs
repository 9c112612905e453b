//! Storage faults survived: a full disk, a read-only database and a deleted
//! database file make commands say plainly that nothing was recorded, and
//! once the fault clears, writes resume without a restart.

mod support;

use std::time::{Duration, Instant};

use support::core::{Harness, harness};

const T0: &str = "2026-11-24T10:00:00Z";
const UNAVAILABLE: &str = "Nothing was recorded: the database is unavailable";

fn record(n: usize) -> String {
    format!(
        r#"/decision record title:"Decision {n}" category:tech-stack rationale:"{}""#,
        "because ".repeat(480)
    )
}

async fn page_count(h: &Harness) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&h.url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as("PRAGMA page_count")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

/// A command that fails because of the database: clear, fast, ephemeral.
async fn fails_clearly(h: &Harness, line: &str) {
    let started = Instant::now();
    let r = h.reply("acme", "cto", T0, line).await;
    assert!(r.is_error && r.ephemeral, "{}", r.text);
    assert!(r.text.starts_with(UNAVAILABLE), "{}", r.text);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "told within 2 s: {:?}",
        started.elapsed()
    );
}

/// Simulate a full disk (no page may be added to the file), or free it.
async fn disk_full(h: &Harness, full: bool) {
    let pages = if full {
        page_count(h).await
    } else {
        1_073_741_823
    };
    h.app
        .store
        .on_every_connection(&format!("PRAGMA max_page_count = {pages}"))
        .await
        .unwrap();
}

fn sqlite_only() -> bool {
    std::env::var("QUORUM_TEST_BACKEND").as_deref() != Ok("postgres")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_refuses_writes_clearly_and_they_resume_when_space_returns() {
    assert!(sqlite_only(), "this suite simulates SQLite faults");
    let h = harness(T0, chrono::Duration::hours(1)).await;
    h.as_user("cto", T0, &record(1)).await;
    disk_full(&h, true).await;
    for i in 2..6 {
        fails_clearly(&h, &record(i)).await;
    }
    // Space is freed: the very same process writes again.
    disk_full(&h, false).await;
    for i in 6..12 {
        let r = h.as_user("cto", T0, &record(i)).await;
        assert!(r.starts_with("Recorded decision"), "{r}");
    }
    let list = h.as_user("cto", T0, "/decision list").await;
    assert!(list.contains("Decision 1") && list.contains("Decision 11"));
    assert!(
        !list.contains("Decision 3:"),
        "what was refused was not recorded"
    );
}

/// Make a file immutable (`chattr +i`): even root cannot write it.
fn immutable(paths: &[std::path::PathBuf], on: bool) -> bool {
    paths.iter().filter(|p| p.exists()).all(|p| {
        std::process::Command::new("chattr")
            .arg(if on { "+i" } else { "-i" })
            .arg(p)
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Files made read-only for as long as this lives (so a failed assertion
/// never leaves an undeletable test directory behind).
struct ReadOnly(Vec<std::path::PathBuf>);

impl ReadOnly {
    fn make(files: Vec<std::path::PathBuf>) -> ReadOnly {
        let guard = ReadOnly(files);
        assert!(
            immutable(&guard.0, true),
            "needs chattr +i (e2fsprogs) on a filesystem with immutable flags"
        );
        guard
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        assert!(immutable(&self.0, false) || std::thread::panicking());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_database_refuses_writes_clearly_and_they_resume_when_writable() {
    assert!(sqlite_only(), "this suite simulates SQLite faults");
    let h = harness(T0, chrono::Duration::hours(1)).await;
    h.as_user("cto", T0, &record(1)).await;
    let db = h.dir.path().join("q.db");
    // Not the -shm file: SQLite maps it into memory, and a write to an
    // immutable mapping is a SIGBUS, not an error.
    let files: Vec<std::path::PathBuf> = ["", "-wal"]
        .iter()
        .map(|s| std::path::PathBuf::from(format!("{}{s}", db.display())))
        .collect();
    // Tests run as root, for whom permissions are no obstacle: the
    // immutable flag makes a file read-only for root too.
    let guard = ReadOnly::make(files);
    for i in 2..5 {
        fails_clearly(&h, &record(i)).await;
    }
    drop(guard);
    for i in 5..10 {
        let r = h.as_user("cto", T0, &record(i)).await;
        assert!(r.starts_with("Recorded decision"), "{r}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_database_file_is_noticed_and_nothing_is_claimed_recorded() {
    assert!(sqlite_only(), "this suite simulates SQLite faults");
    let h = harness(T0, chrono::Duration::hours(1)).await;
    h.as_user("cto", T0, &record(1)).await;
    assert!(h.app.store.ready().await.is_ok());
    let db = h.dir.path().join("q.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    fails_clearly(&h, &record(2)).await;
    let e = h.app.store.ready().await.unwrap_err();
    assert!(
        format!("{e:#}").contains("deleted or replaced"),
        "readiness says why: {e:#}"
    );
    assert!(!db.exists(), "no empty database was created in its place");
}
