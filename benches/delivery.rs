//! Delivery under load, measured (not asserted): `cargo bench --bench delivery`.
//! Real HTTP to a fake Slack on loopback that answers after 0, 50 or 200 ms
//! and records each arrival; the scheduler's run loop on a fresh SQLite file.
//!
//! 1. N notices due at the same second in N channels (QUORUM_BENCH_FANOUT,
//!    default 2000): lateness p50/p99/max and drain time, per latency and cap.
//! 2. Head of line: 100 notices to one channel (Slack paces a channel at one a
//!    second) plus an escalation-sized and a reminder-sized notice to two other
//!    channels, due at once; then again with a channel whose API hangs and one
//!    answering 429 with `Retry-After: 18446744073709551615`.
//! 3. Throughput: QUORUM_BENCH_BURST notices (default 100,000) due within 10 s,
//!    one per channel, 0 ms fake: deliveries per second, lateness, peak RSS.
//! 4. The same with real series: QUORUM_BENCH_SERIES_DUE reminders (default
//!    100,000) due within 10 s among QUORUM_BENCH_SERIES_TOTAL series
//!    (default 1,000,000), seeded with SQL in bulk.
//!
//! The fake Slack runs in a process of its own (QUORUM_BENCH_FAKE=process,
//! the default) or in this one on its own threads (`thread`), so the CPU
//! columns show Quorum's share apart from the fake's. QUORUM_BENCH_ONLY=3,4
//! runs only the tables named.

#[path = "delivery_lab.rs"]
mod lab;

use std::time::Duration;

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    lab::serve_if_child();
    tokio::runtime::Runtime::new().unwrap().block_on(bench());
}

fn cpu_cells(o: &lab::Outcome) -> String {
    let fake = o.fake_cpu.map_or("(in process)".to_string(), |c| {
        format!("{:.1} s", c.as_secs_f64())
    });
    format!("{:.1} s | {fake}", o.quorum_cpu.as_secs_f64())
}

async fn bench() {
    let only = std::env::var("QUORUM_BENCH_ONLY").unwrap_or_else(|_| "1,2,3,4".into());
    let only: Vec<&str> = only.split(',').map(str::trim).collect();
    let fake = match std::env::var("QUORUM_BENCH_FAKE").as_deref() {
        Ok("thread") => lab::FakeAt::Thread,
        _ => lab::FakeAt::Process(&[]),
    };
    let setup =
        |latency: u64, concurrency: usize, watch: &'static [&'static str], limit: u64| lab::Setup {
            latency: Duration::from_millis(latency),
            concurrency,
            watch,
            limit: Duration::from_secs(limit),
            fake,
        };
    println!("(fake Slack: {fake:?})");
    let fanout = env("QUORUM_BENCH_FANOUT", 2000);
    let burst = env("QUORUM_BENCH_BURST", 100_000);
    let total = env("QUORUM_BENCH_SERIES_TOTAL", 1_000_000);
    let due_series = env("QUORUM_BENCH_SERIES_DUE", 100_000).min(total);
    if only.contains(&"1") {
        println!("## 1. {fanout} notices due at the same second in {fanout} channels");
        println!(
            "| fake latency | concurrency | p50 late | p99 late | max late | drained in | doubled | missing |"
        );
        println!("|---|---|---|---|---|---|---|---|");
        for latency in [0u64, 50, 200] {
            for cap in [32usize, 128] {
                let due = chrono::Utc::now().timestamp() + 2;
                let work = lab::spread(fanout, fanout, due);
                let o =
                    lab::run_with(&lab::Work::Notices(&work), &setup(latency, cap, &[], 120)).await;
                println!(
                    "| {latency} ms | {cap} | {} ms | {} ms | {} ms | {:.2} s | {} | {} |",
                    o.percentile(0.5),
                    o.percentile(0.99),
                    o.percentile(1.0),
                    o.drain.as_secs_f64(),
                    o.doubled,
                    o.missing
                );
            }
        }
        println!();
    }
    if only.contains(&"2") {
        println!("## 2. Head of line (200 ms fake, concurrency 32)");
        println!(
            "| case | escalation late | other reminder late | busy channel delivered in 6 s |"
        );
        println!("|---|---|---|---|");
        for (name, extra) in [
            ("100 to one channel", false),
            (
                "+ a hanging channel and a 429 with an absurd Retry-After",
                true,
            ),
        ] {
            let due = chrono::Utc::now().timestamp() + 2;
            let work = lab::head_of_line(due, extra);
            let o = lab::run_with(
                &lab::Work::Notices(&work),
                &setup(200, 32, &["escalation", "reminder"], 8),
            )
            .await;
            let show = |v: &Option<i64>| v.map_or("never".to_string(), |ms| format!("{ms} ms"));
            let busy = o.lateness_ms.len().saturating_sub(2);
            println!(
                "| {name} | {} | {} | {busy} of 100 |",
                show(&o.watched[0].1),
                show(&o.watched[1].1)
            );
        }
        println!();
    }
    let header = "| delivered | doubled | missing | deliveries/s (from first due) | p50 late | p99 late | max late | peak RSS | Quorum CPU | fake CPU |";
    let row = |o: &lab::Outcome| {
        let delivered = o.lateness_ms.len();
        let secs = o.drain.as_secs_f64().max(0.001);
        format!(
            "| {delivered} | {} | {} | {:.0} | {} ms | {} ms | {} ms | {} MB | {} |",
            o.doubled,
            o.missing,
            delivered as f64 / secs,
            o.percentile(0.5),
            o.percentile(0.99),
            o.percentile(1.0),
            peak_rss_kb() / 1024,
            cpu_cells(o)
        )
    };
    if only.contains(&"3") {
        println!(
            "## 3. {burst} notices due within 10 s, one per channel (0 ms fake, concurrency 32)"
        );
        let start = chrono::Utc::now().timestamp() + 10;
        let work: Vec<lab::Due> = (0..burst)
            .map(|i| lab::Due {
                channel: format!("C{i:08}"),
                text: format!("burst {i}"),
                due: start + (i * 10 / burst.max(1)) as i64,
            })
            .collect();
        let o = lab::run_with(&lab::Work::Notices(&work), &setup(0, 32, &[], 600)).await;
        println!("{header}");
        println!("|---|---|---|---|---|---|---|---|---|---|");
        println!("{}", row(&o));
        println!();
    }
    if only.contains(&"4") {
        println!(
            "## 4. {due_series} reminders due within 10 s among {total} series, one channel each (0 ms fake, concurrency 32)"
        );
        let o = lab::run_with(
            &lab::Work::Series {
                total,
                due: due_series,
                window: 10,
            },
            &setup(0, 32, &[], 900),
        )
        .await;
        println!(
            "(seeded in {:.1} s; deliveries sent afterwards: {}, of them not due: {})",
            o.seeded_in.as_secs_f64(),
            o.sent_rows,
            o.sent_not_due
        );
        println!("{header}");
        println!("|---|---|---|---|---|---|---|---|---|---|");
        println!("{}", row(&o));
    }
}
