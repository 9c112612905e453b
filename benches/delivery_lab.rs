//! The delivery benchmark's lab, shared by `benches/delivery.rs` and its
//! smoke test (`tests/delivery_bench.rs`): a fake Slack on loopback that
//! answers after a set latency and records each arrival, and a scheduler run
//! loop (real time, real HTTP) draining work queued in a fresh SQLite file.
//!
//! The fake runs either in this process (on its own runtime and threads) or
//! as a child process (this same binary, started with
//! `QUORUM_BENCH_FAKE_CHILD` set and served by [`serve_if_child`]), so that
//! the CPU the fake spends is measured apart from Quorum's.
//!
//! The work is either notices (bare rows, no series behind them) or real
//! series with the reminder of their next occurrence, seeded with SQL in
//! bulk: `due` of them fall due within 10 s among `total`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead as _, Write as _};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

/// What the fake saw: key (the text, or the channel) -> when it arrived, in
/// unix milliseconds.
#[derive(Default)]
pub struct Arrivals {
    pub at: Mutex<HashMap<String, Vec<i64>>>,
    pub latency: Duration,
    pub by_channel: bool,
}

fn unix_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn post(
    axum::extract::State(fake): axum::extract::State<Arc<Arrivals>>,
    axum::Json(body): axum::Json<Value>,
) -> axum::response::Response {
    let channel = body["channel"].as_str().unwrap_or_default().to_string();
    if channel.starts_with("CHANG") {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    if channel.starts_with("C429") {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "18446744073709551615")],
            "",
        )
            .into_response();
    }
    if !fake.latency.is_zero() {
        tokio::time::sleep(fake.latency).await;
    }
    let key = if fake.by_channel {
        channel.clone()
    } else {
        body["text"].as_str().unwrap_or_default().to_string()
    };
    let at = unix_ms();
    fake.at.lock().unwrap().entry(key).or_default().push(at);
    axum::Json(json!({ "ok": true, "channel": channel, "ts": "1.1" })).into_response()
}

/// CPU time this process used so far (user and system).
pub fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn router(fake: Arc<Arrivals>) -> axum::Router {
    axum::Router::new()
        .route("/api/chat.postMessage", axum::routing::post(post))
        .route(
            "/_count",
            axum::routing::get(
                |axum::extract::State(f): axum::extract::State<Arc<Arrivals>>| async move {
                    f.at.lock().unwrap().len().to_string()
                },
            ),
        )
        .route(
            "/_arrivals",
            axum::routing::get(
                |axum::extract::State(f): axum::extract::State<Arc<Arrivals>>| async move {
                    let at = f.at.lock().unwrap().clone();
                    axum::Json(at)
                },
            ),
        )
        .route(
            "/_cpu",
            axum::routing::get(|| async { cpu_time().as_micros().to_string() }),
        )
        .with_state(fake)
}

/// Where the fake runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FakeAt {
    /// In this process, on its own runtime (two threads).
    Thread,
    /// In a child process: this same binary, with these arguments (a test
    /// binary names the one test that serves, with `--exact`).
    Process(&'static [&'static str]),
}

/// A running fake Slack.
pub struct Fake {
    pub base: String,
    local: Option<Arc<Arrivals>>,
    child: Option<std::process::Child>,
    http: reqwest::Client,
}

impl Drop for Fake {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Fake {
    /// Start a fake Slack answering after `latency`, recording arrivals by
    /// text (or by channel).
    pub async fn start(latency: Duration, by_channel: bool, at: FakeAt) -> Fake {
        let http = reqwest::Client::new();
        match at {
            FakeAt::Thread => {
                let fake = Arc::new(Arrivals {
                    latency,
                    by_channel,
                    ..Default::default()
                });
                let (tx, rx) = std::sync::mpsc::channel();
                let app = router(fake.clone());
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async move {
                        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                        tx.send(listener.local_addr().unwrap()).unwrap();
                        axum::serve(listener, app).await.unwrap()
                    })
                });
                let addr = rx.recv().unwrap();
                Fake {
                    base: format!("http://{addr}/api"),
                    local: Some(fake),
                    child: None,
                    http,
                }
            }
            FakeAt::Process(args) => {
                let mut child = std::process::Command::new(std::env::current_exe().unwrap())
                    .args(args)
                    .env(
                        "QUORUM_BENCH_FAKE_CHILD",
                        format!("{},{}", latency.as_millis(), by_channel),
                    )
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .expect("starting the fake Slack process");
                // A test harness says a word first: the address is the
                // line that starts with `http://`.
                let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
                let mut line = String::new();
                while !line.starts_with("http://") {
                    line.clear();
                    if out.read_line(&mut line).unwrap() == 0 {
                        panic!("the fake Slack process ended without serving");
                    }
                }
                Fake {
                    base: line.trim().to_string(),
                    local: None,
                    child: Some(child),
                    http,
                }
            }
        }
    }

    fn root(&self) -> &str {
        self.base.trim_end_matches("/api")
    }

    /// Distinct keys that arrived so far.
    pub async fn count(&self) -> usize {
        if let Some(f) = &self.local {
            return f.at.lock().unwrap().len();
        }
        match self
            .http
            .get(format!("{}/_count", self.root()))
            .send()
            .await
        {
            Ok(r) => r
                .text()
                .await
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0),
            Err(_) => 0,
        }
    }

    /// Every arrival: key -> unix milliseconds.
    pub async fn arrivals(&self) -> HashMap<String, Vec<i64>> {
        if let Some(f) = &self.local {
            return f.at.lock().unwrap().clone();
        }
        self.http
            .get(format!("{}/_arrivals", self.root()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// CPU time of the fake's process (None when it shares this one).
    pub async fn cpu(&self) -> Option<Duration> {
        if self.local.is_some() {
            return None;
        }
        let r = self
            .http
            .get(format!("{}/_cpu", self.root()))
            .send()
            .await
            .ok()?;
        let us: u64 = r.text().await.ok()?.parse().ok()?;
        Some(Duration::from_micros(us))
    }
}

/// If this process was started as the fake (`QUORUM_BENCH_FAKE_CHILD`
/// set to `LATENCY_MS,BY_CHANNEL`), serve until stdin closes and exit;
/// otherwise return at once. Call first thing in the bench's `main`.
pub fn serve_if_child() {
    let Ok(spec) = std::env::var("QUORUM_BENCH_FAKE_CHILD") else {
        return;
    };
    let (ms, by_channel) = spec.split_once(',').unwrap_or((spec.as_str(), "false"));
    let fake = Arc::new(Arrivals {
        latency: Duration::from_millis(ms.parse().unwrap_or(0)),
        by_channel: by_channel == "true",
        ..Default::default()
    });
    // The parent holds our stdin: when it goes away, so do we.
    std::thread::spawn(|| {
        let mut sink = String::new();
        while std::io::stdin()
            .read_line(&mut sink)
            .map(|n| n > 0)
            .unwrap_or(false)
        {}
        std::process::exit(0);
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut out = std::io::stdout();
        writeln!(out, "http://{addr}/api").unwrap();
        out.flush().unwrap();
        axum::serve(listener, router(fake)).await.unwrap()
    });
    std::process::exit(0);
}

/// One notice to queue: channel, text, due (unix seconds).
pub struct Due {
    pub channel: String,
    pub text: String,
    pub due: i64,
}

/// What to queue.
pub enum Work<'a> {
    /// Bare notices (arrivals keyed by text).
    Notices(&'a [Due]),
    /// `total` daily series, each with the reminder (15 minutes ahead) of
    /// its next occurrence queued; `due` of them, each in its own channel,
    /// fall due spread over `window` seconds, starting `window` seconds
    /// after they are queued; the rest next week. Arrivals are keyed by
    /// channel.
    Series {
        total: usize,
        due: usize,
        window: i64,
    },
}

/// How to run it.
pub struct Setup<'a> {
    pub latency: Duration,
    pub concurrency: usize,
    pub watch: &'a [&'a str],
    pub limit: Duration,
    pub fake: FakeAt,
}

pub struct Outcome {
    /// Lateness (arrival minus due) of each expected item that arrived, in ms.
    pub lateness_ms: Vec<i64>,
    /// Items that arrived more than once.
    pub doubled: usize,
    /// Items that never arrived within the time limit.
    pub missing: usize,
    /// From the first due second to the last arrival.
    pub drain: Duration,
    /// Lateness in ms of each watched text.
    pub watched: Vec<(String, Option<i64>)>,
    /// CPU this process (Quorum, and the fake when it runs here) used while
    /// draining, and the fake's own when it ran in a process of its own.
    pub quorum_cpu: Duration,
    pub fake_cpu: Option<Duration>,
    /// Seeding the database took this long.
    pub seeded_in: Duration,
    /// Series bench: deliveries in state `sent` afterwards, and how many of
    /// them were not due (0 when all is well).
    pub sent_rows: i64,
    pub sent_not_due: i64,
}

impl Outcome {
    pub fn percentile(&self, p: f64) -> i64 {
        let mut v = self.lateness_ms.clone();
        v.sort_unstable();
        if v.is_empty() {
            return 0;
        }
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i.min(v.len() - 1)]
    }
}

/// Queue `work` in a fresh SQLite database, run the scheduler loop against a
/// fake Slack (in this process) with `latency` and `concurrency` posts in
/// flight, and wait until every notice arrived (or `limit` passed).
pub async fn run(
    work: &[Due],
    latency: Duration,
    concurrency: usize,
    watch: &[&str],
    limit: Duration,
) -> Outcome {
    run_with(
        &Work::Notices(work),
        &Setup {
            latency,
            concurrency,
            watch,
            limit,
            fake: FakeAt::Thread,
        },
    )
    .await
}

/// Seed the notices of `work` in one transaction (the row `enqueue_notice`
/// writes).
async fn seed_notices(conn: &mut sqlx::SqliteConnection, work: &[Due]) {
    use sqlx::Connection as _;
    let mut tx = conn.begin().await.unwrap();
    for (i, d) in work.iter().enumerate() {
        sqlx::query(
            "INSERT INTO deliveries (workspace, kind, dedupe_key, channel, body, due_at, next_try_at, mention)
             VALUES ('T0000BENCH', 'notice', $1, $2, $3, $4, $4, '')",
        )
        .bind(format!("bench-{i}"))
        .bind(&d.channel)
        .bind(&d.text)
        .bind(d.due)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

/// Seed series `from..to` (numbered by their channel `C{i:08}`), with
/// their next occurrence and its reminder, in one transaction of three
/// bulk statements; the occurrence of series `i` is `next_at(i)` given in
/// SQL over `i`.
async fn seed_series(conn: &mut sqlx::SqliteConnection, from: usize, to: usize, next_at: &str) {
    use sqlx::Connection as _;
    if from >= to {
        return;
    }
    let now = chrono::Utc::now().timestamp();
    let mut tx = conn.begin().await.unwrap();
    let first: i64 = sqlx::query_scalar("SELECT COALESCE(max(id), 0) FROM series")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    sqlx::query(&format!(
        "WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $2)
         INSERT INTO series (workspace, title, cadence, tz, anchor_date, channel, attendees, remind,
                             status, next_at, created_by, created_at, updated_at)
         SELECT 'T0000BENCH', 'Series ' || i, 'daily at 10:00', 'UTC', '2026-11-23',
                printf('C%08d', i), '', '15m', 'active', {next_at}, 'bench', $3, $3 FROM n"
    ))
    .bind(from as i64)
    .bind(to as i64)
    .bind(now)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO occurrences (workspace, series_id, at, state, changed_by, changed_at)
         SELECT workspace, id, next_at, 'scheduled', 'quorum', $2 FROM series WHERE id > $1",
    )
    .bind(first)
    .bind(now)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO deliveries (workspace, kind, dedupe_key, channel, series_id, occurrence_at, lead_secs, due_at, next_try_at)
         SELECT workspace, 'reminder', 'reminder:' || id || ':' || next_at || ':900', channel, id, next_at, 900,
                next_at - 900, next_at - 900
         FROM series WHERE id > $1",
    )
    .bind(first)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// Queue `work` in a fresh SQLite database, run the scheduler loop against a
/// fake Slack as `setup` says, and wait until every item arrived (or the
/// limit passed).
pub async fn run_with(work: &Work<'_>, setup: &Setup<'_>) -> Outcome {
    let by_channel = matches!(work, Work::Series { .. });
    let fake = Fake::start(setup.latency, by_channel, setup.fake).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let config = quorum::config::Config {
        database_url: url.clone(),
        concurrency: setup.concurrency,
        ..Default::default()
    };
    let store = quorum::store::Store::connect(&url).await.unwrap();
    let seeding = Instant::now();
    // Expected key -> due second.
    let mut expected: HashMap<String, i64> = HashMap::new();
    let mut conn = {
        use sqlx::Connection as _;
        sqlx::SqliteConnection::connect(&url).await.unwrap()
    };
    match work {
        Work::Notices(list) => {
            seed_notices(&mut conn, list).await;
            for d in list.iter() {
                if !d.channel.starts_with("CHANG") && !d.channel.starts_with("C429") {
                    expected.insert(d.text.clone(), d.due);
                }
            }
        }
        Work::Series { total, due, window } => {
            // Those not due first (most of the rows), then the due ones, timed
            // from when they are queued.
            let week = chrono::Utc::now().timestamp() + 7 * 86_400;
            seed_series(
                &mut conn,
                *due,
                *total,
                &format!("{week} + 900 + (i % 86400)"),
            )
            .await;
            let window = (*window).clamp(1, 3600);
            let start = chrono::Utc::now().timestamp() + window;
            let n = (*due).max(1) as i64;
            seed_series(
                &mut conn,
                0,
                *due,
                &format!("{start} + 900 + (i * {window} / {n})"),
            )
            .await;
            for i in 0..*due as i64 {
                expected.insert(format!("C{i:08}"), start + i * window / n);
            }
        }
    }
    // Everything seeded moves from the WAL into the database file now, not
    // during the run.
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .unwrap();
    let seeded_in = seeding.elapsed();
    let chat = quorum::chat::Platforms {
        discord: None,
        slack: Some(
            quorum::chat::slack::SlackChat::new(&fake.base, "xoxb-bench", Default::default())
                .unwrap(),
        ),
    };
    let scheduler = Arc::new(quorum::scheduler::Scheduler::new(
        store,
        &config,
        Arc::new(chat),
        chrono::Utc::now() - chrono::Duration::hours(1),
    ));
    let first_due = expected.values().copied().min().unwrap_or(0);
    let cpu_before = cpu_time();
    let fake_cpu_before = fake.cpu().await;
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let runner = {
        let s = scheduler.clone();
        tokio::spawn(async move {
            s.run(async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await
        })
    };
    let end = Instant::now() + setup.limit;
    let poll = match setup.fake {
        FakeAt::Thread => Duration::from_millis(5),
        FakeAt::Process(_) => Duration::from_millis(20),
    };
    loop {
        if fake.count().await >= expected.len() || Instant::now() > end {
            break;
        }
        tokio::time::sleep(poll).await;
    }
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), runner).await;
    let quorum_cpu = cpu_time().saturating_sub(cpu_before);
    let fake_cpu = match (fake.cpu().await, fake_cpu_before) {
        (Some(after), Some(before)) => Some(after.saturating_sub(before)),
        _ => None,
    };
    let at = fake.arrivals().await;
    let mut lateness_ms = Vec::new();
    let mut last = first_due * 1000;
    for (key, times) in at.iter() {
        if let Some(due) = expected.get(key) {
            let first = times.iter().copied().min().unwrap_or_default();
            last = last.max(first);
            lateness_ms.push((first - due * 1000).max(0));
        }
    }
    let watched = setup
        .watch
        .iter()
        .map(|w| {
            let late = at.get(*w).and_then(|t| {
                let due = expected.get(*w)?;
                Some((t.iter().copied().min()? - due * 1000).max(0))
            });
            (w.to_string(), late)
        })
        .collect();
    let (sent_rows, sent_not_due) = match work {
        Work::Series { due, .. } => {
            let sent: i64 =
                sqlx::query_scalar("SELECT count(*) FROM deliveries WHERE state = 'sent'")
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
            let wrong: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM deliveries WHERE state = 'sent' AND channel >= $1",
            )
            .bind(format!("C{due:08}"))
            .fetch_one(&mut conn)
            .await
            .unwrap();
            (sent, wrong)
        }
        Work::Notices(_) => (0, 0),
    };
    Outcome {
        doubled: at
            .iter()
            .filter(|(k, t)| t.len() > 1 && expected.contains_key(*k))
            .count(),
        missing: expected.keys().filter(|k| !at.contains_key(*k)).count(),
        drain: Duration::from_millis((last - first_due * 1000).max(0) as u64),
        lateness_ms,
        watched,
        quorum_cpu,
        fake_cpu,
        seeded_in,
        sent_rows,
        sent_not_due,
    }
}

/// `n` notices in `channels` channels, all due at `due`.
pub fn spread(n: usize, channels: usize, due: i64) -> Vec<Due> {
    (0..n)
        .map(|i| Due {
            channel: format!("C{:08}", i % channels),
            text: format!("notice {i}"),
            due,
        })
        .collect()
}

/// Head of line: 100 notices to one channel, plus one critical-sized notice
/// and one reminder-sized notice to two other channels, all due at `due`;
/// `extra` adds a hanging and a 429-absurd channel.
pub fn head_of_line(due: i64, extra: bool) -> Vec<Due> {
    let mut work: Vec<Due> = (0..100)
        .map(|i| Due {
            channel: "CBUSY0001".into(),
            text: format!("busy {i}"),
            due,
        })
        .collect();
    if extra {
        for i in 0..3 {
            work.push(Due {
                channel: "CHANG0001".into(),
                text: format!("hang {i}"),
                due,
            });
            work.push(Due {
                channel: "C42900001".into(),
                text: format!("limited {i}"),
                due,
            });
        }
    }
    work.push(Due {
        channel: "CCFO00001".into(),
        text: "escalation".into(),
        due,
    });
    work.push(Due {
        channel: "COPS00001".into(),
        text: "reminder".into(),
        due,
    });
    work
}
