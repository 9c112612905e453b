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
