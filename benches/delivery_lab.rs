//! The delivery benchmark's lab, shared by `benches/delivery.rs` and its
//! smoke test (`tests/delivery_bench.rs`): a fake Slack on loopback that
//! answers after a set latency and records each arrival, and a scheduler run
//! loop (real time, real HTTP) draining notices queued in a fresh SQLite file.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

/// What the fake saw: text -> when it arrived.
#[derive(Default)]
pub struct Arrivals {
    pub at: Mutex<HashMap<String, Vec<Instant>>>,
    pub latency: Duration,
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
    tokio::time::sleep(fake.latency).await;
    let text = body["text"].as_str().unwrap_or_default().to_string();
    fake.at
        .lock()
        .unwrap()
        .entry(text)
        .or_default()
        .push(Instant::now());
    axum::Json(json!({ "ok": true, "channel": channel, "ts": "1.1" })).into_response()
}

/// Start a fake Slack answering after `latency`; returns it and its API base.
pub async fn fake_slack(latency: Duration) -> (Arc<Arrivals>, String) {
    let fake = Arc::new(Arrivals {
        latency,
        ..Default::default()
    });
    let app = axum::Router::new()
        .route("/api/chat.postMessage", axum::routing::post(post))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (fake, format!("http://{addr}/api"))
}

/// One notice to queue: channel, text, due (unix seconds).
pub struct Due {
    pub channel: String,
    pub text: String,
    pub due: i64,
}

pub struct Outcome {
    /// Lateness (arrival minus due) of each notice that arrived, in ms.
    pub lateness_ms: Vec<i64>,
    /// Texts that arrived more than once.
    pub doubled: usize,
    /// Notices that never arrived within the time limit.
    pub missing: usize,
    /// From the due second to the last arrival.
    pub drain: Duration,
    /// Lateness in ms of each watched text.
    pub watched: Vec<(String, Option<i64>)>,
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
/// fake Slack with `latency` and `concurrency` posts in flight, and wait until
/// every notice arrived (or `limit` passed).
pub async fn run(
    work: &[Due],
    latency: Duration,
    concurrency: usize,
    watch: &[&str],
    limit: Duration,
) -> Outcome {
    let (fake, api) = fake_slack(latency).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let config = quorum::config::Config {
        database_url: url.clone(),
        concurrency,
        ..Default::default()
    };
    let store = quorum::store::Store::connect(&url).await.unwrap();
    // Queue everything in one transaction (the same row `enqueue_notice`
    // writes), so a large burst is set up in seconds.
    {
        use sqlx::Connection as _;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
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
    let chat = quorum::chat::Platforms {
        discord: None,
        slack: Some(
            quorum::chat::slack::SlackChat::new(&api, "xoxb-bench", Default::default()).unwrap(),
        ),
    };
    let scheduler = Arc::new(quorum::scheduler::Scheduler::new(
        store,
        &config,
        Arc::new(chat),
        chrono::Utc::now() - chrono::Duration::hours(1),
    ));
    // The due second, as an Instant (arrivals are Instants).
    let due = work.iter().map(|d| d.due).min().unwrap_or(0);
    let now_ms = chrono::Utc::now().timestamp_millis();
    let wait_ms = (due * 1000 - now_ms).max(0) as u64;
    let due_instant = Instant::now() + Duration::from_millis(wait_ms)
        - Duration::from_millis((now_ms - due * 1000).max(0) as u64);
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
    let expected: usize = work
        .iter()
        .filter(|d| !d.channel.starts_with("CHANG") && !d.channel.starts_with("C429"))
        .count();
    let end = Instant::now() + limit;
    loop {
        let arrived = fake.at.lock().unwrap().len();
        if arrived >= expected || Instant::now() > end {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), runner).await;
    let at = fake.at.lock().unwrap();
    let by_text: HashMap<&str, &Due> = work.iter().map(|d| (d.text.as_str(), d)).collect();
    let mut lateness_ms = Vec::new();
    let mut last = due_instant;
    for (text, times) in at.iter() {
        let first = times[0];
        last = last.max(first);
        if let Some(d) = by_text.get(text.as_str()) {
            let due_at = due_instant + Duration::from_secs((d.due - due).max(0) as u64);
            lateness_ms.push(first.saturating_duration_since(due_at).as_millis() as i64);
        }
    }
    let watched = watch
        .iter()
        .map(|w| {
            let late = at.get(*w).map(|t| {
                let d = by_text[*w];
                let due_at = due_instant + Duration::from_secs((d.due - due).max(0) as u64);
                t[0].saturating_duration_since(due_at).as_millis() as i64
            });
            (w.to_string(), late)
        })
        .collect();
    Outcome {
        doubled: at.values().filter(|t| t.len() > 1).count(),
        missing: expected.saturating_sub(at.len()),
        drain: last.saturating_duration_since(due_instant),
        lateness_ms,
        watched,
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
