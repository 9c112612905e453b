//! Several Quorum instances on one PostgreSQL database. These need a server:
//! set QUORUM_TEST_POSTGRES_URL (a url whose user may create databases, e.g.
//! postgres://quorum:quorum@127.0.0.1/postgres). Without it they say they
//! were skipped and why; CI sets it and never skips them.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use support::Console;
use support::core::fresh_postgres_database;

fn available() -> bool {
    if std::env::var("QUORUM_TEST_POSTGRES_URL").is_ok() {
        return true;
    }
    assert!(
        std::env::var("CI").is_err(),
        "CI must run the PostgreSQL tests: set QUORUM_TEST_POSTGRES_URL"
    );
    eprintln!(
        "SKIPPED: the PostgreSQL tests need QUORUM_TEST_POSTGRES_URL (e.g. postgres://quorum:quorum@127.0.0.1/postgres); .ci/run starts a server and sets it"
    );
    false
}

const NOTICES: usize = 2000;

/// A fresh database with `NOTICES` notices due now, spread over 20 channels.
async fn database_with_notices() -> String {
    let url = fresh_postgres_database().await;
    let store = quorum::store::Store::connect(&url).await.unwrap();
    let now = chrono::Utc::now().timestamp();
    for i in 0..NOTICES {
        store
            .enqueue_notice(
                "T0001TEAM",
                &format!("ch{}", i % 20),
                &format!("n{i}"),
                &format!("notice {i}"),
                now,
            )
            .await
            .unwrap();
    }
    url
}

async fn sent(url: &str) -> i64 {
    use sqlx::Connection as _;
    let mut c = sqlx::postgres::PgConnection::connect(url).await.unwrap();
    sqlx::query_scalar("SELECT count(*) FROM deliveries WHERE state = 'sent'")
        .fetch_one(&mut c)
        .await
        .unwrap()
}

async fn wait_all_sent(url: &str, limit: Duration) -> i64 {
    let end = Instant::now() + limit;
    loop {
        let n = sent(url).await;
        if n as usize >= NOTICES || Instant::now() > end {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How often each notice was printed, across all instances.
fn tally(outputs: &[Vec<String>]) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for lines in outputs {
        for l in lines.iter().filter(|l| l.contains("] notice ")) {
            *seen
                .entry(l.split("] ").nth(1).unwrap().to_string())
                .or_insert(0) += 1;
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn three_instances_deliver_2000_notices_exactly_once() {
    if !available() {
        return;
    }
    let url = database_with_notices().await;
    let started = Instant::now();
    let consoles: Vec<Console> = (0..3).map(|_| Console::start_url(&url, &[], &[])).collect();
    let n = wait_all_sent(&url, Duration::from_secs(60)).await;
    let elapsed = started.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    let outputs: Vec<Vec<String>> = consoles.into_iter().map(|c| c.kill()).collect();
    assert_eq!(n as usize, NOTICES);
    let seen = tally(&outputs);
    assert_eq!(seen.len(), NOTICES, "every notice was delivered");
    assert!(seen.values().all(|&c| c == 1), "none twice");
    let per: Vec<usize> = outputs
        .iter()
        .map(|o| o.iter().filter(|l| l.contains("] notice ")).count())
        .collect();
    eprintln!("2000 notices by 3 instances in {elapsed:?}; per instance {per:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_killed_mid_way_loses_nothing() {
    if !available() {
        return;
    }
    let url = database_with_notices().await;
    let env = [("QUORUM_SCHEDULER_LEASE", "2s")];
    let mut consoles: Vec<Console> = (0..3)
        .map(|_| Console::start_url(&url, &env, &[]))
        .collect();
    // Kill one at a moment that varies from run to run.
    let wait = 150
        + (std::process::id() as u64 * 37 + chrono::Utc::now().timestamp_subsec_millis() as u64)
            % 600;
    std::thread::sleep(Duration::from_millis(wait));
    let victim = consoles.remove(0).kill();
    let n = wait_all_sent(&url, Duration::from_secs(60)).await;
    std::thread::sleep(Duration::from_millis(300));
    let mut outputs: Vec<Vec<String>> = consoles.into_iter().map(|c| c.kill()).collect();
    outputs.push(victim);
    assert_eq!(
        n as usize, NOTICES,
        "the killed instance's claims were taken over when their lease lapsed"
    );
    let seen = tally(&outputs);
    assert_eq!(seen.len(), NOTICES, "nothing lost");
    let doubled = seen.values().filter(|&&c| c > 1).count();
    assert!(
        doubled <= 1,
        "at most the one message in flight at the kill is repeated on a platform without idempotency keys: {doubled}"
    );
    eprintln!("killed after {wait} ms: {doubled} repeated");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sigterm_drains_its_work_and_doubles_nothing() {
    if !available() {
        return;
    }
    let url = database_with_notices().await;
    let mut consoles: Vec<Console> = (0..3).map(|_| Console::start_url(&url, &[], &[])).collect();
    std::thread::sleep(Duration::from_millis(300));
    let (status, stopped) = consoles.remove(0).terminate();
    assert!(status.success(), "a clean exit on SIGTERM");
    let n = wait_all_sent(&url, Duration::from_secs(60)).await;
    std::thread::sleep(Duration::from_millis(300));
    let mut outputs: Vec<Vec<String>> = consoles.into_iter().map(|c| c.kill()).collect();
    outputs.push(stopped);
    assert_eq!(n as usize, NOTICES);
    let seen = tally(&outputs);
    assert_eq!(seen.len(), NOTICES);
    assert!(
        seen.values().all(|&c| c == 1),
        "a graceful stop repeats nothing"
    );
}
