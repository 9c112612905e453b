//! Several Quorum instances on one PostgreSQL database. These need a server:
//! set QUORUM_TEST_POSTGRES_URL (a url whose user may create databases, e.g.
//! postgres://quorum:quorum@127.0.0.1/postgres). They are ignored unless
//! asked for with `--include-ignored`, as CI does after starting a server.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use support::Console;
use support::core::fresh_postgres_database;

/// These tests are ignored unless asked for (`--include-ignored`, as CI
/// does); then they need a server.
fn require_postgres() {
    assert!(
        std::env::var("QUORUM_TEST_POSTGRES_URL").is_ok(),
        "needs PostgreSQL: set QUORUM_TEST_POSTGRES_URL (e.g. postgres://quorum:quorum@127.0.0.1/postgres); .ci/run starts a server and sets it"
    );
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
#[ignore = "needs PostgreSQL (QUORUM_TEST_POSTGRES_URL)"]
async fn three_instances_deliver_2000_notices_exactly_once() {
    require_postgres();
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
#[ignore = "needs PostgreSQL (QUORUM_TEST_POSTGRES_URL)"]
async fn an_instance_killed_mid_way_loses_nothing() {
    require_postgres();
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
    let doubled: Vec<usize> = seen
        .iter()
        .filter(|(_, c)| **c > 1)
        .map(|(text, _)| text.trim_start_matches("notice ").parse::<usize>().unwrap())
        .collect();
    assert!(
        seen.values().all(|&c| c <= 2),
        "a notice is repeated at most once"
    );
    // Lanes post to the 20 channels concurrently, one message at a time per
    // channel: a kill repeats at most the one message each channel had in
    // flight, on a platform without idempotency keys (Discord's nonce
    // absorbs even that).
    let mut per_channel = HashMap::new();
    for n in &doubled {
        *per_channel.entry(n % 20).or_insert(0) += 1;
    }
    assert!(
        per_channel.values().all(|&c| c <= 1),
        "at most the message in flight per channel is repeated: {per_channel:?}"
    );
    let doubled = doubled.len();
    eprintln!("killed after {wait} ms: {doubled} repeated");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL (QUORUM_TEST_POSTGRES_URL)"]
async fn a_sigterm_drains_its_work_and_doubles_nothing() {
    require_postgres();
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

/// A config for `quorum run` against the fake chat server: no gateway (there
/// is no fake one; gateway leadership is tested in tests/leader.rs), the
/// interactions endpoint on a free port.
fn run_config(dir: &std::path::Path, discord: &str, slack: &str) -> String {
    let path = dir.join("quorum.toml");
    std::fs::write(
        &path,
        format!(
            "[discord]\napi_base = \"{discord}\"\ngateway = false\n[slack]\napi_base = \"{slack}\"\n[http]\nlisten = \"127.0.0.1:0\"\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// `quorum run` with Discord and Slack tokens, as a deployment would start it.
fn quorum_run(url: &str, config: &str, lease: &str) -> Console {
    Console::spawn(
        url,
        &[
            ("DISCORD_TOKEN", "test-token"),
            ("SLACK_BOT_TOKEN", "xoxb-test"),
            ("SLACK_SIGNING_SECRET", "test-signing-secret"),
            ("QUORUM_SCHEDULER_LEASE", lease),
        ],
        &["--config", config, "run"],
    )
}

const GUILD: &str = "910000000000000001";

/// Due notices for a Discord guild (20 channels) and a Slack team (one
/// channel each, so Slack's one-per-second pacing does not slow the test).
async fn database_with_chat_notices(discord: usize, slack: usize) -> String {
    let url = fresh_postgres_database().await;
    let store = quorum::store::Store::connect(&url).await.unwrap();
    let now = chrono::Utc::now().timestamp();
    for i in 0..discord {
        let channel = format!("91000000000000{:04}", 1000 + i % 20);
        let key = format!("d{i}");
        let body = format!("discord notice {i}");
        store
            .enqueue_notice(GUILD, &channel, &key, &body, now)
            .await
            .unwrap();
    }
    for i in 0..slack {
        let key = format!("s{i}");
        let body = format!("slack notice {i}");
        store
            .enqueue_notice("T0001TEAM", &format!("C{i:05}"), &key, &body, now)
            .await
            .unwrap();
    }
    url
}

async fn wait_sent(url: &str, want: usize, limit: Duration) -> usize {
    let end = Instant::now() + limit;
    loop {
        let n = sent(url).await as usize;
        if n >= want || Instant::now() > end {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A small deterministic generator seeded differently each run, so the kill
/// moments vary from run to run and a failure prints the seed to replay.
struct Moments(u64);

impl Moments {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL (QUORUM_TEST_POSTGRES_URL)"]
async fn quorum_run_fleet_killed_repeatedly_loses_and_doubles_nothing_on_discord() {
    require_postgres();
    let (fake, discord, slack) = support::fakes::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = run_config(dir.path(), &discord, &slack);
    let url = database_with_chat_notices(NOTICES, 0).await;
    let seed = std::env::var("QUORUM_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| chrono::Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64);
    let mut moments = Moments(seed);
    let started = Instant::now();
    let mut fleet: Vec<Console> = (0..3).map(|_| quorum_run(&url, &config, "2s")).collect();
    let mut kills = Vec::new();
    // SIGKILL a random instance at a random moment, start a replacement,
    // again and again while work remains.
    while kills.len() < 8 && (sent(&url).await as usize) < NOTICES {
        tokio::time::sleep(Duration::from_millis(100 + moments.next(500))).await;
        let victim = fleet.remove(moments.next(fleet.len() as u64) as usize);
        let at = started.elapsed();
        tokio::task::spawn_blocking(move || victim.kill())
            .await
            .unwrap();
        kills.push((at, sent(&url).await));
        fleet.push(quorum_run(&url, &config, "2s"));
    }
    let n = wait_sent(&url, NOTICES, Duration::from_secs(90)).await;
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    for c in fleet {
        tokio::task::spawn_blocking(move || c.kill()).await.unwrap();
    }
    let requests = fake.discord_requests.lock().unwrap().len();
    let contents = fake.discord_contents();
    eprintln!(
        "seed {seed}: {NOTICES} notices through 3 `quorum run` instances in {elapsed:?}; {} kills at (elapsed, sent) {kills:?}; {requests} create requests, {} re-sends absorbed by the nonce",
        kills.len(),
        requests - contents.len()
    );
    assert_eq!(n, NOTICES, "every delivery recorded as sent (seed {seed})");
    assert_eq!(contents.len(), NOTICES, "nothing lost (seed {seed})");
    assert_eq!(
        fake.discord_created(),
        NOTICES,
        "each notice is one Discord message: re-sends carried the same nonce (seed {seed})"
    );
    assert_eq!(fake.discord_nonce_clashes(), 0, "nonces are per delivery");
    assert!(
        kills.iter().any(|(_, s)| (*s as usize) < NOTICES),
        "at least one kill landed mid-way (seed {seed}): {kills:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL (QUORUM_TEST_POSTGRES_URL)"]
async fn quorum_run_sigterm_loses_and_doubles_nothing_on_discord_or_slack() {
    require_postgres();
    const DISCORD: usize = 1000;
    const SLACK: usize = 200;
    let (fake, discord, slack) = support::fakes::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = run_config(dir.path(), &discord, &slack);
    let url = database_with_chat_notices(DISCORD, SLACK).await;
    let mut fleet: Vec<Console> = (0..3).map(|_| quorum_run(&url, &config, "60s")).collect();
    let mut statuses = Vec::new();
    // Restart each instance in turn with SIGTERM while the work is under way.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let old = fleet.remove(0);
        let (status, _) = tokio::task::spawn_blocking(move || old.terminate())
            .await
            .unwrap();
        statuses.push(status);
        fleet.push(quorum_run(&url, &config, "60s"));
    }
    // A lease of 60 s: had a stopped instance left anything in flight, it
    // would not be delivered within this wait.
    let n = wait_sent(&url, DISCORD + SLACK, Duration::from_secs(40)).await;
    for c in fleet {
        let (status, _) = tokio::task::spawn_blocking(move || c.terminate())
            .await
            .unwrap();
        statuses.push(status);
    }
    assert!(
        statuses.iter().all(|s| s.success()),
        "every instance exits cleanly on SIGTERM: {statuses:?}"
    );
    assert_eq!(n, DISCORD + SLACK, "everything delivered");
    let requests = fake.discord_requests.lock().unwrap().len();
    assert_eq!(
        fake.discord_contents().len(),
        DISCORD,
        "nothing lost on Discord"
    );
    assert_eq!(requests, DISCORD, "nothing even re-sent on Discord");
    let slack = fake.slack_texts();
    assert_eq!(slack.len(), SLACK, "nothing lost on Slack");
    assert!(
        slack.values().all(|&c| c == 1),
        "nothing doubled on Slack, which has no idempotency key"
    );
}
