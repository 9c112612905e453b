//! In-process harness: the real core (`App::handle_line`, the same entry the
//! console uses) on a temporary SQLite file, a scheduler ticked with a
//! controlled clock, and a chat that records what it is asked to post.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use quorum::app::{App, Reply};
use quorum::chat::{Chat, Outgoing, SendError};
use quorum::config::Config;
use quorum::scheduler::{Scheduler, TickReport};
use quorum::service::meetings::Actor;

#[derive(Default)]
pub struct Recorder {
    pub posts: Mutex<Vec<Outgoing>>,
    pub fail_next: AtomicUsize,
    pub permanent: AtomicBool,
}

impl Chat for Recorder {
    async fn post(&self, m: &Outgoing) -> Result<(), SendError> {
        if self.permanent.load(Ordering::SeqCst) {
            return Err(SendError::Permanent("channel not found".into()));
        }
        if self
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(SendError::Retry("503 from chat API".into()));
        }
        self.posts.lock().unwrap().push(m.clone());
        Ok(())
    }
}

impl Recorder {
    /// What was posted, as the console would print it.
    pub fn texts(&self) -> Vec<String> {
        self.posts
            .lock()
            .unwrap()
            .iter()
            .map(|m| format!("[#{}] {}", m.channel, quorum::chat::console::render(m)))
            .collect()
    }
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub app: App,
    pub scheduler: Scheduler<Recorder>,
    pub chat: Arc<Recorder>,
    pub url: String,
}

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub fn actor(ws: &str, user: &str) -> Actor {
    Actor {
        workspace: ws.to_string(),
        user: user.to_string(),
        channel: None,
        platform_roles: Vec::new(),
    }
}

pub async fn harness(started: &str, grace: Duration) -> Harness {
    harness_with(
        started,
        Config {
            grace,
            ..Config::default()
        },
    )
    .await
}

pub async fn harness_with(started: &str, config: Config) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let url = test_database(dir.path()).await;
    reopen(dir, url, started, config).await
}

/// The database of one test: a SQLite file in `dir`, or with
/// QUORUM_TEST_BACKEND=postgres a fresh PostgreSQL database.
pub async fn test_database(dir: &std::path::Path) -> String {
    match std::env::var("QUORUM_TEST_BACKEND").as_deref() {
        Ok("postgres") => fresh_postgres_database().await,
        _ => format!("sqlite://{}", dir.join("q.db").display()),
    }
}

/// Databases this test process created: dropped when it exits.
static CREATED: Mutex<Vec<String>> = Mutex::new(Vec::new());
static CLEAN_UP: std::sync::Once = std::sync::Once::new();

/// Run `sql` statements on the admin database, on a runtime of their own
/// (callable from an exit handler, where no runtime runs).
fn admin_run(admin: &str, sql: Vec<String>) {
    let admin = admin.to_string();
    let _ = std::thread::spawn(move || {
        use sqlx::Connection as _;
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async move {
            let Ok(mut conn) = sqlx::postgres::PgConnection::connect(&admin).await else {
                return;
            };
            for statement in sql {
                let _ = sqlx::Executor::execute(&mut conn, statement.as_str()).await;
            }
        });
    })
    .join();
}

fn drop_statement(name: &str) -> String {
    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
}

extern "C" fn drop_created_databases() {
    let names = std::mem::take(&mut *CREATED.lock().unwrap_or_else(|e| e.into_inner()));
    if let (false, Ok(admin)) = (names.is_empty(), std::env::var("QUORUM_TEST_POSTGRES_URL")) {
        admin_run(&admin, names.iter().map(|n| drop_statement(n)).collect());
    }
}

/// Drop test databases left by test processes that no longer run (killed
/// before their exit handler), and arrange to drop this process's own at exit.
async fn clean_up_test_databases(admin: &str) {
    use sqlx::Connection as _;
    let Ok(mut conn) = sqlx::postgres::PgConnection::connect(admin).await else {
        return;
    };
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'quorum\\_test\\_%'")
            .fetch_all(&mut conn)
            .await
            .unwrap_or_default();
    for (name,) in names {
        let pid = name.split('_').nth(2).unwrap_or_default();
        let alive = !pid.is_empty() && std::path::Path::new(&format!("/proc/{pid}")).exists();
        if !alive {
            let _ = sqlx::Executor::execute(&mut conn, drop_statement(&name).as_str()).await;
        }
    }
    // SAFETY: registers a plain function with no captured state to run at exit.
    unsafe {
        libc::atexit(drop_created_databases);
    }
}

/// A new, empty PostgreSQL database for one test, on the server named by
/// QUORUM_TEST_POSTGRES_URL (a url whose user may create databases). It is
/// dropped when the test process exits.
pub async fn fresh_postgres_database() -> String {
    use sqlx::Connection as _;
    use std::sync::atomic::AtomicU64;
    static N: AtomicU64 = AtomicU64::new(0);
    let admin = std::env::var("QUORUM_TEST_POSTGRES_URL")
        .expect("QUORUM_TEST_BACKEND=postgres needs QUORUM_TEST_POSTGRES_URL, e.g. postgres://quorum:quorum@127.0.0.1/postgres");
    if !CLEAN_UP.is_completed() {
        clean_up_test_databases(&admin).await;
        CLEAN_UP.call_once(|| {});
    }
    let name = format!(
        "quorum_test_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        Utc::now().timestamp_subsec_nanos()
    );
    let mut conn = sqlx::postgres::PgConnection::connect(&admin)
        .await
        .expect("connect to the test PostgreSQL");
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create a test database");
    CREATED.lock().unwrap().push(name.clone());
    let base = &admin[..admin.rfind('/').expect("a database in the url")];
    format!("{base}/{name}")
}

/// Start again on the same database, as after a restart.
pub async fn reopen(dir: tempfile::TempDir, url: String, started: &str, config: Config) -> Harness {
    let config = Config {
        database_url: url.clone(),
        ..config
    };
    let store = quorum::store::Store::connect(&url).await.unwrap();
    store.recover_inflight().await.unwrap();
    let chat = Arc::new(Recorder::default());
    let scheduler = Scheduler::new(store.clone(), &config, chat.clone(), at(started));
    let app = App::new(Arc::new(config), store);
    Harness {
        dir,
        app,
        scheduler,
        chat,
        url,
    }
}

impl Harness {
    /// Run a command in workspace `acme` as `ana`; it must succeed.
    pub async fn cmd(&self, now: &str, line: &str) -> String {
        self.as_user("ana", now, line).await
    }

    /// Run a command as `user`; it must succeed.
    pub async fn as_user(&self, user: &str, now: &str, line: &str) -> String {
        let r = self.reply("acme", user, now, line).await;
        assert!(!r.is_error, "{line}: {}", r.text);
        r.text
    }

    /// Run a command as `user`; it must fail. Returns the error text.
    pub async fn fails(&self, user: &str, now: &str, line: &str) -> String {
        let r = self.reply("acme", user, now, line).await;
        assert!(
            r.is_error && r.ephemeral,
            "{line} should fail but said: {}",
            r.text
        );
        r.text
    }

    pub async fn reply(&self, ws: &str, user: &str, now: &str, line: &str) -> Reply {
        self.app.handle_line(&actor(ws, user), line, at(now)).await
    }

    pub async fn tick(&self, now: &str) -> TickReport {
        self.scheduler.tick(at(now)).await.unwrap()
    }
}
