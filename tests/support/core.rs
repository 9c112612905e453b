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

/// A new, empty PostgreSQL database for one test, on the server named by
/// QUORUM_TEST_POSTGRES_URL (a url whose user may create databases).
pub async fn fresh_postgres_database() -> String {
    use sqlx::Connection as _;
    use std::sync::atomic::AtomicU64;
    static N: AtomicU64 = AtomicU64::new(0);
    let admin = std::env::var("QUORUM_TEST_POSTGRES_URL")
        .expect("QUORUM_TEST_BACKEND=postgres needs QUORUM_TEST_POSTGRES_URL, e.g. postgres://quorum:quorum@127.0.0.1/postgres");
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
