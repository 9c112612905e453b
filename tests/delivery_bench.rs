//! The delivery benchmark in small, so it cannot rot: the same lab as
//! `cargo bench --bench delivery`, with numbers a test can afford.

#[path = "../benches/delivery_lab.rs"]
mod lab;

use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn the_delivery_bench_runs_in_small() {
    let due = chrono::Utc::now().timestamp() + 1;
    let o = lab::run(
        &lab::spread(200, 200, due),
        Duration::from_millis(50),
        32,
        &[],
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(o.missing, 0);
    assert_eq!(o.doubled, 0);
    assert_eq!(o.lateness_ms.len(), 200);
    let due = chrono::Utc::now().timestamp() + 1;
    let o = lab::run(
        &lab::head_of_line(due, true),
        Duration::from_millis(50),
        32,
        &["escalation", "reminder"],
        Duration::from_secs(4),
    )
    .await;
    for (name, late) in &o.watched {
        let late = late.unwrap_or_else(|| panic!("{name} never arrived"));
        assert!(
            late < 1500,
            "{name} was {late} ms late behind a busy, a hung and a rate-limited channel"
        );
    }
    assert_eq!(o.doubled, 0);
}

/// The bench's series variant in small, with the fake Slack in a process
/// of its own (this test binary again, serving from this same test).
#[test]
fn the_series_bench_runs_in_small_with_the_fake_in_its_own_process() {
    lab::serve_if_child();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let o = rt.block_on(lab::run_with(
        &lab::Work::Series {
            total: 5_000,
            due: 300,
            window: 2,
        },
        &lab::Setup {
            latency: Duration::ZERO,
            concurrency: 32,
            watch: &[],
            limit: Duration::from_secs(60),
            fake: lab::FakeAt::Process(&[
                "the_series_bench_runs_in_small_with_the_fake_in_its_own_process",
                "--exact",
            ]),
        },
    ));
    assert_eq!(o.missing, 0);
    assert_eq!(o.doubled, 0);
    assert_eq!(o.lateness_ms.len(), 300);
    // Every due reminder is recorded as sent, and none of the others.
    assert_eq!(o.sent_rows, 300);
    assert_eq!(o.sent_not_due, 0);
    // The fake's CPU was measured in its own process.
    assert!(o.fake_cpu.is_some_and(|c| c > Duration::ZERO));
}
