//! Delivery that never stalls: lanes isolate a hung, paced or rate-limited
//! destination; the cap on posts in flight hands the next slot to the most
//! urgent post; absurd rate-limit values are clamped; a panicking delivery
//! is caught and the rest goes on; `sent_at` is when the platform accepted.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::Utc;
use quorum::chat::{Chat, Outgoing, SendError};
use quorum::scheduler::Scheduler;
use serde_json::{Value, json};
use support::core::{Harness, harness};

/// A chat whose destinations misbehave by name: `hung` answers only after
/// four seconds, with a timeout; `paced` is held for 30 s; `boom` panics.
#[derive(Default)]
struct Lab {
    posts: Mutex<Vec<(String, String, Instant)>>,
    /// Hold the first post until released (for the cap tests).
    gate_first: bool,
    entered: tokio::sync::Notify,
    release: tokio::sync::Notify,
    calls: AtomicUsize,
    /// How long a post to `slow` takes.
    slow: Duration,
}

impl Chat for Lab {
    async fn post(&self, m: &Outgoing) -> Result<(), SendError> {
        if self.gate_first && self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            self.entered.notify_one();
            self.release.notified().await;
        }
        match m.channel.as_str() {
            "hung" => {
                tokio::time::sleep(Duration::from_secs(4)).await;
                return Err(SendError::Retry("timed out".into()));
            }
            "boom" => panic!("a bug while posting delivery {}", m.key),
            "slow" => tokio::time::sleep(self.slow).await,
            _ => {}
        }
        let text = match &m.body {
            quorum::chat::Body::Notice(t) => t.clone(),
            quorum::chat::Body::Reminder(r) => r.title.clone(),
            quorum::chat::Body::Message(n) => n.headline(),
        };
        self.posts
            .lock()
            .unwrap()
            .push((m.channel.clone(), text, Instant::now()));
        Ok(())
    }

    fn hold(&self, m: &Outgoing) -> Option<Duration> {
        (m.channel == "paced").then_some(Duration::from_secs(30))
    }
}

impl Lab {
    fn arrived(&self, channel: &str) -> Vec<(String, Instant)> {
        self.posts
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.0 == channel)
            .map(|p| (p.1.clone(), p.2))
            .collect()
    }
}

async fn notice(h: &Harness, channel: &str, key: &str) {
    h.app
        .store
        .enqueue_notice(
            "acme",
            channel,
            key,
            &format!("notice {key}"),
            Utc::now().timestamp(),
        )
        .await
        .unwrap();
}

async fn rows(h: &Harness, channel: &str) -> Vec<(String, i64, i64, Option<i64>)> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&h.url).await.unwrap();
    let rows: Vec<(String, i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT state, CAST(attempts AS BIGINT), CAST(next_try_at AS BIGINT), CAST(sent_at AS BIGINT)
         FROM deliveries WHERE channel = $1 ORDER BY id",
    )
    .bind(channel)
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows
}

/// Run `scheduler`'s loop until the returned sender says stop.
fn running<C: Chat>(
    scheduler: Arc<Scheduler<C>>,
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        scheduler
            .run(async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await
    });
    (stop, task)
}

async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    done()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hung_or_paced_destination_delays_only_itself() {
    let h = harness("2026-03-20T00:00:00Z", chrono::Duration::hours(1)).await;
    for i in 0..3 {
        notice(&h, "hung", &format!("h{i}")).await;
        notice(&h, "paced", &format!("p{i}")).await;
    }
    notice(&h, "ok", "ok1").await;
    let lab = Arc::new(Lab::default());
    let scheduler = Arc::new(Scheduler::new(
        h.app.store.clone(),
        &h.app.config,
        lab.clone(),
        Utc::now(),
    ));
    let started = Instant::now();
    let (stop, task) = running(scheduler.clone());
    assert!(
        wait_until(Duration::from_secs(3), || !lab.arrived("ok").is_empty()).await,
        "the healthy channel got its notice"
    );
    let first = lab.arrived("ok")[0].1 - started;
    assert!(
        first < Duration::from_millis(1500),
        "a healthy channel waits for nobody: {first:?}"
    );
    // Raised a second later, while `hung` is still hanging and `paced` held.
    tokio::time::sleep(Duration::from_secs(1)).await;
    notice(&h, "ok", "ok2").await;
    let raised = Instant::now();
    scheduler.waker().notify_one();
    assert!(
        wait_until(Duration::from_secs(3), || lab.arrived("ok").len() == 2).await,
        "the later notice arrived"
    );
    let second = lab.arrived("ok")[1].1 - raised;
    assert!(
        second < Duration::from_millis(1500),
        "a notice raised while others hang is not held up: {second:?}"
    );
    assert!(lab.arrived("paced").is_empty(), "the paced channel waits");
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the loop stops with a post in flight")
        .unwrap();
    let paced = rows(&h, "paced").await;
    assert!(
        paced.iter().all(|r| r.0 == "pending" && r.1 == 0),
        "what the paced lane held is handed back, never attempted: {paced:?}"
    );
    let hung = rows(&h, "hung").await;
    assert_eq!(hung[0].0, "pending", "the hung post is retried: {hung:?}");
    assert_eq!(hung[0].1, 1, "its one attempt counts");
    assert!(
        hung[1..].iter().all(|r| r.1 == 0 && r.2 == hung[0].2),
        "the rest of a failing destination waits with it, in order, using no try: {hung:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_cap_gives_the_next_slot_to_a_critical_escalation() {
    let mut h = harness("2026-03-20T00:00:00Z", chrono::Duration::hours(1)).await;
    let mut config = h.app.config.as_ref().clone();
    config.concurrency = 1;
    h.app.config = Arc::new(config.clone());
    for c in ["a", "b", "c", "d", "e"] {
        notice(&h, c, c).await;
    }
    let lab = Arc::new(Lab {
        gate_first: true,
        ..Lab::default()
    });
    let scheduler = Arc::new(Scheduler::new(
        h.app.store.clone(),
        &config,
        lab.clone(),
        Utc::now(),
    ));
    let (stop, task) = running(scheduler.clone());
    // One post is in flight and holds the only slot; four wait for it.
    tokio::time::timeout(Duration::from_secs(5), lab.entered.notified())
        .await
        .expect("a first post");
    let r = h
        .app
        .handle_line(
            &support::core::actor("acme", "ana"),
            r#"/escalate topic:budget severity:critical summary:"Card processor down""#,
            Utc::now(),
        )
        .await;
    assert!(!r.is_error, "{}", r.text);
    scheduler.waker().notify_one();
    tokio::time::sleep(Duration::from_millis(700)).await;
    lab.release.notify_one();
    assert!(
        wait_until(Duration::from_secs(5), || lab.posts.lock().unwrap().len()
            == 6)
        .await,
        "everything is posted: {:?}",
        lab.posts.lock().unwrap()
    );
    let order: Vec<String> = lab
        .posts
        .lock()
        .unwrap()
        .iter()
        .map(|p| p.1.clone())
        .collect();
    assert!(
        order[1].contains("ESCALATION"),
        "the escalation raised last took the first free slot: {order:?}"
    );
    stop.send(true).unwrap();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panicking_delivery_is_caught_counted_and_the_rest_go_on() {
    let h = harness("2026-03-20T00:00:00Z", chrono::Duration::hours(1)).await;
    notice(&h, "boom", "b1").await;
    notice(&h, "fine", "f1").await;
    let lab = Arc::new(Lab::default());
    let scheduler = Scheduler::new(h.app.store.clone(), &h.app.config, lab.clone(), Utc::now());
    let now = Utc::now();
    let r = scheduler.tick(now).await.unwrap();
    assert_eq!(r.sent, 1, "the other channel got its notice: {r:?}");
    assert_eq!(r.faults, 1, "the panic is counted: {r:?}");
    let boom = rows(&h, "boom").await;
    assert_eq!(boom[0].0, "pending", "retried later: {boom:?}");
    // It keeps panicking: after its tries it is recorded failed, and
    // deliveries queued meanwhile still go out.
    let mut t = now;
    for i in 0..12 {
        t += chrono::Duration::hours(1);
        notice(&h, "fine", &format!("later{i}")).await;
        scheduler.tick(t).await.unwrap();
    }
    let boom = rows(&h, "boom").await;
    assert_eq!(boom[0].0, "failed", "{boom:?}");
    assert_eq!(boom[0].1, quorum::scheduler::MAX_ATTEMPTS);
    assert_eq!(lab.arrived("fine").len(), 13);
    // And the run loop, with the same fault inside, keeps going.
    notice(&h, "boom", "b2").await;
    notice(&h, "fine", "f2").await;
    let scheduler = Arc::new(scheduler);
    let (stop, task) = running(scheduler.clone());
    assert!(wait_until(Duration::from_secs(3), || lab.arrived("fine").len() == 14).await);
    assert!(
        scheduler.health().faults.load(Ordering::Relaxed) >= 1,
        "faults are visible to readiness"
    );
    stop.send(true).unwrap();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn sent_at_is_when_the_platform_accepted_the_post() {
    let h = harness("2026-03-20T00:00:00Z", chrono::Duration::hours(1)).await;
    notice(&h, "slow", "s1").await;
    let lab = Arc::new(Lab {
        slow: Duration::from_millis(2100),
        ..Lab::default()
    });
    let scheduler = Scheduler::new(h.app.store.clone(), &h.app.config, lab, Utc::now());
    let due = rows(&h, "slow").await[0].2;
    let now = chrono::DateTime::from_timestamp(due, 0).unwrap();
    assert_eq!(scheduler.tick(now).await.unwrap().sent, 1);
    let r = rows(&h, "slow").await;
    let sent_at = r[0].3.unwrap();
    assert!(
        sent_at >= due + 2,
        "recorded when accepted ({sent_at}), not when the tick began ({due})"
    );
}

// ---- absurd values from real chat APIs --------------------------------

#[derive(Default)]
struct Absurd {
    hits: Mutex<HashMap<String, usize>>,
}

async fn discord_post(
    axum::extract::State(fake): axum::extract::State<Arc<Absurd>>,
    axum::extract::Path(channel): axum::extract::Path<String>,
) -> axum::response::Response {
    *fake
        .hits
        .lock()
        .unwrap()
        .entry(channel.clone())
        .or_default() += 1;
    match channel.as_str() {
        "100000000000000001" => (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(json!({ "message": "slow down", "retry_after": 1e300, "global": false })),
        )
            .into_response(),
        "100000000000000002" => (
            [
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset-after", "1e400"),
            ],
            axum::Json(json!({ "id": "1", "channel_id": channel })),
        )
            .into_response(),
        _ => axum::Json(json!({ "id": "2", "channel_id": channel })).into_response(),
    }
}

async fn slack_post(
    axum::extract::State(fake): axum::extract::State<Arc<Absurd>>,
    axum::Json(body): axum::Json<Value>,
) -> axum::response::Response {
    let channel = body["channel"].as_str().unwrap_or_default().to_string();
    *fake
        .hits
        .lock()
        .unwrap()
        .entry(channel.clone())
        .or_default() += 1;
    if channel == "CABSURD01" {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "18446744073709551615")],
            "",
        )
            .into_response();
    }
    axum::Json(json!({ "ok": true, "channel": channel, "ts": "1.2" })).into_response()
}

#[tokio::test(flavor = "multi_thread")]
async fn absurd_rate_limit_values_are_clamped_and_stop_nothing() {
    let fake = Arc::new(Absurd::default());
    let app = axum::Router::new()
        .route(
            "/discord/channels/{channel}/messages",
            axum::routing::post(discord_post),
        )
        .route(
            "/discord/channels/{channel}",
            axum::routing::get(
                |axum::extract::Path(channel): axum::extract::Path<String>| async move {
                    axum::Json(json!({ "id": channel, "guild_id": "900000000000000001" }))
                },
            ),
        )
        .route("/slack/chat.postMessage", axum::routing::post(slack_post))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let chat = quorum::chat::Platforms {
        discord: Some(
            quorum::chat::discord::DiscordChat::new(
                &format!("http://{addr}/discord"),
                "token",
                Default::default(),
            )
            .unwrap(),
        ),
        slack: Some(
            quorum::chat::slack::SlackChat::new(
                &format!("http://{addr}/slack"),
                "xoxb-test",
                Default::default(),
            )
            .unwrap(),
        ),
    };
    let h = harness("2026-03-20T00:00:00Z", chrono::Duration::hours(1)).await;
    let now = Utc::now();
    let queue = |ws: &'static str, channel: &'static str, key: &'static str| {
        let store = h.app.store.clone();
        async move {
            store
                .enqueue_notice(ws, channel, key, key, now.timestamp())
                .await
                .unwrap()
        }
    };
    queue("900000000000000001", "100000000000000001", "d-429").await;
    queue("900000000000000001", "100000000000000002", "d-reset").await;
    queue("900000000000000001", "100000000000000003", "d-ok").await;
    queue("T0000TEAM", "CABSURD01", "s-429").await;
    queue("T0000TEAM", "CFINE0001", "s-ok").await;
    let scheduler = Scheduler::new(h.app.store.clone(), &h.app.config, Arc::new(chat), now);
    let r = tokio::time::timeout(Duration::from_secs(20), scheduler.tick(now))
        .await
        .expect("no absurd wait is slept")
        .unwrap();
    assert_eq!(r.sent, 3, "{r:?}");
    assert_eq!(r.retried, 2, "{r:?}");
    let hour = now.timestamp() + 3600;
    for channel in ["100000000000000001", "CABSURD01"] {
        let row = &rows(&h, channel).await[0];
        assert_eq!(row.0, "pending", "{channel}: {row:?}");
        assert!(
            row.2 > now.timestamp() && row.2 <= hour + 2,
            "{channel}: retried within the hour, no overflow: {row:?}"
        );
    }
    // Everything else keeps being delivered.
    queue("900000000000000001", "100000000000000003", "d-ok2").await;
    queue("T0000TEAM", "CFINE0001", "s-ok2").await;
    let r = scheduler
        .tick(now + chrono::Duration::seconds(2))
        .await
        .unwrap();
    assert_eq!(r.sent, 2, "{r:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_burst_is_claimed_in_growing_batches_and_each_sent_once_in_due_order() {
    let h = harness("2026-11-23T08:00:00Z", chrono::Duration::hours(24)).await;
    let base = support::core::at("2026-11-23T09:00:00Z").timestamp();
    // 3,000 notices in 3 channels, due one a second per channel (oldest
    // first), queued newest first so that insertion order is not due order.
    for i in (0..3000i64).rev() {
        h.app
            .store
            .enqueue_notice(
                "acme",
                &format!("burst-{}", i % 3),
                &format!("burst-{i}"),
                &format!("burst {i}"),
                base + i / 3,
            )
            .await
            .unwrap();
    }
    let r = h
        .scheduler
        .tick(support::core::at("2026-11-23T10:00:00Z"))
        .await
        .unwrap();
    assert_eq!(r.sent, 3000);
    // Claims of 100, 200, 400, 800 and up to 1,600 rows: five, not thirty.
    let claims = h
        .scheduler
        .health()
        .claims
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(claims <= 6, "3,000 due deliveries took {claims} claims");
    let posts = h.chat.posts.lock().unwrap().clone();
    assert_eq!(posts.len(), 3000);
    let mut seen = std::collections::HashSet::new();
    let mut last: HashMap<String, i64> = HashMap::new();
    for p in &posts {
        assert!(seen.insert(p.key.clone()), "{} was posted twice", p.key);
        let quorum::chat::Body::Notice(text) = &p.body else {
            panic!("not a notice: {:?}", p.key);
        };
        let i: i64 = text.trim_start_matches("burst ").parse().unwrap();
        let prev = last.insert(p.channel.clone(), i).unwrap_or(-1);
        assert!(prev < i, "{} went out after {prev} in {}", i, p.channel);
    }
    for c in 0..3 {
        let rows = rows(&h, &format!("burst-{c}")).await;
        assert_eq!(rows.len(), 1000);
        assert!(
            rows.iter()
                .all(|r| r.0 == "sent" && r.1 == 1 && r.3.is_some())
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sent_marks_releases_and_renewals_in_bulk_touch_exactly_their_rows() {
    let h = harness("2026-11-23T08:00:00Z", chrono::Duration::hours(24)).await;
    let store = &h.app.store;
    let now = support::core::at("2026-11-23T09:00:00Z").timestamp();
    for i in 0..1300i64 {
        store
            .enqueue_notice("acme", "bulk", &format!("bulk-{i}"), "bulk", now - 10)
            .await
            .unwrap();
    }
    let claimed = store.claim_due(now, 2000).await.unwrap();
    assert_eq!(claimed.len(), 1300);
    let held = now + store.lease_secs();
    let ids: Vec<i64> = claimed.iter().map(|d| d.id).collect();
    // 700 sent (more than one statement's worth, and not a power of two),
    // every other one late.
    let sent: Vec<(i64, i64, bool)> = ids[..700]
        .iter()
        .enumerate()
        .map(|(k, &id)| (id, now + k as i64, k % 2 == 1))
        .collect();
    store.mark_sent(&sent).await.unwrap();
    // 300 handed back for later; 50 with a lease that is not ours change nothing.
    store
        .release_claims(&ids[700..1000], held, Some(now + 60))
        .await
        .unwrap();
    store
        .release_claims(&ids[1000..1050], held + 1, None)
        .await
        .unwrap();
    // Renewing the last 300 and some already sent renews only the 300.
    let mut renew: Vec<i64> = ids[1000..].to_vec();
    renew.extend(&ids[..5]);
    let mut kept = store.extend_claims(&renew, held, now + 20).await.unwrap();
    kept.sort_unstable();
    let mut want = ids[1000..].to_vec();
    want.sort_unstable();
    assert_eq!(kept, want);
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&h.url).await.unwrap();
    // id, state, attempts, next_try_at, sent_at, late, lease_until
    type Row = (i64, String, i64, i64, Option<i64>, i64, Option<i64>);
    let all: Vec<Row> = sqlx::query_as(
        "SELECT id, state, CAST(attempts AS BIGINT), CAST(next_try_at AS BIGINT), CAST(sent_at AS BIGINT),
                CAST(late AS BIGINT), CAST(lease_until AS BIGINT)
         FROM deliveries WHERE channel = 'bulk' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    let by_id: HashMap<i64, _> = all.into_iter().map(|r| (r.0, r)).collect();
    for (k, &(id, at, late)) in sent.iter().enumerate() {
        let r = &by_id[&id];
        assert_eq!(
            (r.1.as_str(), r.4, r.5, r.6),
            ("sent", Some(at), i64::from(late), None),
            "sent mark {k}"
        );
    }
    for id in &ids[700..1000] {
        let r = &by_id[id];
        assert_eq!(
            (r.1.as_str(), r.2, r.3, r.6),
            ("pending", 0, now + 60, None)
        );
    }
    for id in &ids[1000..] {
        let r = &by_id[id];
        assert_eq!(
            (r.1.as_str(), r.2, r.6),
            ("sending", 1, Some(now + 20 + store.lease_secs()))
        );
    }
}
