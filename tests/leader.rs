//! Singleton work (a Discord gateway shard) among several instances: exactly
//! one runs it at a time; a graceful stop hands it over at once, a crash
//! within one lease. The job here stands in for `gateway::run` (there is no
//! fake Discord gateway): it runs until told to quit, as the gateway does.
//! On SQLite always; on PostgreSQL when QUORUM_TEST_POSTGRES_URL is set.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use quorum::store::Store;
use tokio::sync::watch;

/// Who is running the job now, and the most that ever ran it at once.
#[derive(Default)]
struct Stage {
    running: AtomicUsize,
    most: AtomicUsize,
    current: Mutex<Vec<String>>,
    runs: AtomicUsize,
}

/// Counts a holder in on creation and out when dropped, even when its task
/// is aborted (a crash).
struct OnStage(Arc<Stage>, String);

impl OnStage {
    fn enter(stage: &Arc<Stage>, who: &str) -> OnStage {
        let now = stage.running.fetch_add(1, Ordering::SeqCst) + 1;
        stage.most.fetch_max(now, Ordering::SeqCst);
        stage.runs.fetch_add(1, Ordering::SeqCst);
        stage.current.lock().unwrap().push(who.to_string());
        OnStage(stage.clone(), who.to_string())
    }
}

impl Drop for OnStage {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
        self.0.current.lock().unwrap().retain(|w| w != &self.1);
    }
}

struct Contender {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

const TTL: Duration = Duration::from_secs(3);
const NAME: &str = "discord-gateway/0/1";

fn contend(store: &Store, stage: &Arc<Stage>, who: &str) -> Contender {
    let (stop, stop_rx) = watch::channel(false);
    let stage = stage.clone();
    let who = who.to_string();
    let task = tokio::spawn(quorum::leader::hold(
        store.clone(),
        NAME.to_string(),
        who.clone(),
        TTL,
        stop_rx,
        move |mut quit| {
            let (stage, who) = (stage.clone(), who.clone());
            async move {
                let _on = OnStage::enter(&stage, &who);
                let _ = quit.wait_for(|q| *q).await;
                Ok(())
            }
        },
    ));
    Contender { stop, task }
}

/// Wait until exactly one holder runs and it is not `not`; return it.
async fn single_holder(stage: &Stage, not: Option<&str>, limit: Duration) -> String {
    let end = Instant::now() + limit;
    loop {
        let current = stage.current.lock().unwrap().clone();
        if current.len() == 1 && Some(current[0].as_str()) != not {
            return current[0].clone();
        }
        assert!(
            Instant::now() < end,
            "no single new holder within {limit:?}: {current:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn one_holder_hands_over_on_stop_and_on_crash(url: &str) {
    let store = Store::connect(url).await.unwrap();
    let stage = Arc::new(Stage::default());
    let mut contenders: std::collections::HashMap<String, Contender> = ["a", "b", "c"]
        .iter()
        .map(|w| (w.to_string(), contend(&store, &stage, w)))
        .collect();

    let first = single_holder(&stage, None, Duration::from_secs(5)).await;
    // The others stand by for a while without starting the job.
    tokio::time::sleep(TTL + Duration::from_secs(1)).await;
    assert_eq!(stage.current.lock().unwrap().clone(), vec![first.clone()]);
    assert_eq!(
        store
            .lease_holder(NAME, chrono::Utc::now().timestamp())
            .await
            .unwrap(),
        Some(first.clone())
    );

    // A graceful stop releases the lease: a standby takes over within its
    // standby interval (half a lease), not a whole lease.
    let stopping = contenders.remove(&first).unwrap();
    let _ = stopping.stop.send(true);
    stopping.task.await.unwrap();
    let handed = Instant::now();
    let second = single_holder(&stage, Some(&first), TTL).await;
    let after_stop = handed.elapsed();

    // A crash leaves the lease in place until it lapses; then the last
    // standby takes over.
    let crashed = contenders.remove(&second).unwrap();
    crashed.task.abort();
    let _ = crashed.task.await;
    let crash = Instant::now();
    let third = single_holder(&stage, Some(&second), TTL * 3).await;
    let after_crash = crash.elapsed();
    assert_ne!(third, first);

    for (_, c) in contenders {
        let _ = c.stop.send(true);
        c.task.await.unwrap();
    }
    assert_eq!(
        stage.most.load(Ordering::SeqCst),
        1,
        "never two holders at once"
    );
    assert_eq!(stage.running.load(Ordering::SeqCst), 0);
    assert_eq!(stage.runs.load(Ordering::SeqCst), 3);
    assert_eq!(
        store
            .lease_holder(NAME, chrono::Utc::now().timestamp())
            .await
            .unwrap(),
        None,
        "the last holder released the lease on stop"
    );
    eprintln!("handover after a stop: {after_stop:?}; after a crash: {after_crash:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_instance_holds_the_gateway_on_sqlite() {
    let (_dir, db) = support::temp_db();
    one_holder_hands_over_on_stop_and_on_crash(&format!("sqlite://{}", db.display())).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL (QUORUM_TEST_POSTGRES_URL)"]
async fn one_instance_holds_the_gateway_on_postgres() {
    let url = support::core::fresh_postgres_database().await;
    one_holder_hands_over_on_stop_and_on_crash(&url).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lease_is_taken_by_one_of_many_racing_for_it() {
    let (_dir, db) = support::temp_db();
    let store = Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    let mut racers = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        racers.push(tokio::spawn(async move {
            store
                .acquire_lease("race", &format!("r{i}"), 30, now)
                .await
                .unwrap()
        }));
    }
    let mut won = 0;
    for r in racers {
        won += usize::from(r.await.unwrap());
    }
    assert_eq!(won, 1, "exactly one racer holds the lease");
    // The holder renews; others are refused until it lapses.
    let holder = store.lease_holder("race", now).await.unwrap().unwrap();
    assert!(
        store
            .acquire_lease("race", &holder, 30, now + 10)
            .await
            .unwrap()
    );
    assert!(
        !store
            .acquire_lease("race", "late", 30, now + 39)
            .await
            .unwrap()
    );
    assert!(
        store
            .acquire_lease("race", "late", 30, now + 40)
            .await
            .unwrap()
    );
    store.release_lease("race", &holder).await.unwrap();
    assert_eq!(
        store
            .lease_holder("race", now + 41)
            .await
            .unwrap()
            .as_deref(),
        Some("late"),
        "a former holder cannot release someone else's lease"
    );
}
