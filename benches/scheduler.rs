//! Scheduler and recurrence throughput, measured (not asserted).
//! `cargo bench --bench scheduler` (set QUORUM_BENCH_SERIES to change the size).
//!
//! 1. Expansion: next occurrences per second for a mix of cadences.
//! 2. Scheduler: N series whose reminders all fall due at once; one catch-up
//!    `tick` advances every series, queues and posts every reminder to a chat
//!    that only counts. Reports series/s, deliveries/s and the database size.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use quorum::chat::{Chat, Outgoing, SendError};
use quorum::config::Config;
use quorum::domain::recurrence::Cadence;
use quorum::domain::zone::Zone;
use quorum::scheduler::Scheduler;
use quorum::service::meetings::Actor;

#[derive(Default)]
struct Counter(AtomicUsize);

impl Chat for Counter {
    async fn post(&self, _m: &Outgoing) -> Result<(), SendError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn expansion() {
    let specs = [
        "weekly on monday,thursday at 10:00",
        "every 2 weeks on tuesday at 09:30",
        "monthly on the first monday at 10:00",
        "quarterly on day 1 at 09:00",
        "cron:0 9 * * 1-5",
    ];
    let zone: Zone = "Europe/Madrid".parse().unwrap();
    let from = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    for spec in specs {
        let c: Cadence = spec.parse().unwrap();
        let n = 20_000;
        let start = Instant::now();
        let mut t = from;
        for _ in 0..n {
            t = c.next_after(zone, from.date_naive(), t).unwrap();
        }
        let el = start.elapsed();
        println!(
            "next_after  {spec:<40} {:>8.0} /s  ({:.1} µs each)",
            n as f64 / el.as_secs_f64(),
            el.as_secs_f64() * 1e6 / n as f64
        );
    }
}

async fn scheduler(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.db");
    let url = format!("sqlite://{}", db.display());
    let config = Config {
        database_url: url.clone(),
        grace: Duration::hours(1),
        ..Config::default()
    };
    let (app, _) = quorum::start(config.clone(), Arc::new(Counter::default()))
        .await
        .unwrap();
    let created = DateTime::parse_from_rfc3339("2026-11-23T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let start = Instant::now();
    for i in 0..n {
        let actor = Actor {
            workspace: format!("ws{}", i % 100),
            user: "bench".into(),
            channel: None,
            platform_roles: Vec::new(),
        };
        let r = app
            .handle_line(
                &actor,
                &format!(r#"/meeting add title:"S{i}" when:"daily at 10:00" tz:UTC remind:15m"#),
                created,
            )
            .await;
        assert!(!r.is_error, "{}", r.text);
    }
    let el = start.elapsed();
    println!(
        "create      {n} series via /meeting add            {:>8.0} /s",
        n as f64 / el.as_secs_f64()
    );
    let chat = Arc::new(Counter::default());
    let sched = Scheduler::new(app.store.clone(), &config, chat.clone(), created);
    let due = DateTime::parse_from_rfc3339("2026-11-23T09:45:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let start = Instant::now();
    let mut sent = 0;
    while sent < n {
        let r = sched.tick(due).await.unwrap();
        assert!(
            r.sent > 0,
            "a tick delivered nothing with {} left",
            n - sent
        );
        sent += r.sent;
    }
    let el = start.elapsed();
    assert_eq!(sent, n);
    println!(
        "deliver     {n} due reminders in one tick          {:>8.0} /s  ({:.2} s)",
        n as f64 / el.as_secs_f64(),
        el.as_secs_f64()
    );
    let pass = DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    // A tick advances at most 25,000 series (then delivers): loop as the
    // run loop would.
    let start = Instant::now();
    let mut advanced = 0;
    while advanced < n {
        let r = sched.tick(pass).await.unwrap();
        assert!(
            r.advanced > 0,
            "a tick advanced nothing with {} left",
            n - advanced
        );
        advanced += r.advanced;
    }
    let el = start.elapsed();
    assert_eq!(advanced, n);
    println!(
        "advance     {n} series past an occurrence         {:>8.0} /s  ({:.2} s)",
        n as f64 / el.as_secs_f64(),
        el.as_secs_f64()
    );
    let size: u64 = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "database    {:.1} MiB for {n} series ({:.0} bytes/series)",
        size as f64 / 1048576.0,
        size as f64 / n as f64
    );
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    println!("memory      peak RSS {peak}");
}

fn main() {
    let n: usize = std::env::var("QUORUM_BENCH_SERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    expansion();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(scheduler(n));
}
