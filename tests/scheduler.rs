//! The scheduler with a controlled clock: `tick(now)` drains due work without
//! sleeping. Commands go through the real core (`App::handle_line`), posts go
//! to a recording chat that can be told to fail.

mod support;

use std::sync::atomic::Ordering;

use chrono::Duration;
use quorum::chat::Body;
use quorum::config::Config;
use quorum::scheduler::MAX_ATTEMPTS;
use support::core::{Harness, actor, at, harness, reopen};

#[tokio::test]
async fn reminders_go_out_at_each_lead_time_in_local_time_across_dst() {
    let h = harness("2026-03-20T00:00:00Z", Duration::hours(1)).await;
    h.cmd(
        "2026-03-20T00:00:00Z",
        r#"/meeting add title:"CTO-CEO 1:1" when:"weekly on monday at 10:00" tz:Europe/Madrid channel:ceo-cto remind:1d,15m attendees:ceo,cto"#,
    )
    .await;
    // Monday 23 March 10:00 CET = 09:00Z; the 1d reminder is due Sunday 09:00Z.
    assert_eq!(h.tick("2026-03-22T08:59:59Z").await.sent, 0);
    assert_eq!(h.tick("2026-03-22T09:00:00Z").await.sent, 1);
    assert_eq!(h.tick("2026-03-23T08:44:59Z").await.sent, 0);
    assert_eq!(h.tick("2026-03-23T08:45:00Z").await.sent, 1);
    // The series moves on at 09:00Z; after the DST change 10:00 CEST is 08:00Z.
    h.tick("2026-03-23T09:00:00Z").await;
    assert_eq!(
        h.tick("2026-03-30T07:44:59Z").await.sent,
        1,
        "only the 1d reminder of the 30th so far"
    );
    assert_eq!(h.tick("2026-03-30T07:45:00Z").await.sent, 1);
    let texts = h.chat.texts();
    assert_eq!(texts.len(), 4);
    assert!(
        texts[0].starts_with(
            "[#ceo-cto] Reminder: CTO-CEO 1:1 starts in 1 day\n  When: Mon 23 Mar 2026 10:00 CET\n  Length: 1h\n"
        ),
        "{}",
        texts[0]
    );
    assert!(
        texts[3]
            .contains("starts in 15 minutes\n  When: Mon 30 Mar 2026 10:00 CEST\n  Length: 1h\n"),
        "{}",
        texts[3]
    );
    // Ticking again at the same instant sends nothing twice.
    assert_eq!(h.tick("2026-03-30T07:45:00Z").await.sent, 0);
}

#[tokio::test]
async fn a_failed_send_is_retried_with_backoff_and_sent_once() {
    let h = harness("2026-11-24T00:00:00Z", Duration::hours(1)).await;
    h.cmd(
        "2026-11-24T00:00:00Z",
        r#"/meeting add title:"Ops" when:"daily at 10:00" tz:UTC remind:15m"#,
    )
    .await;
    h.chat.fail_next.store(3, Ordering::SeqCst);
    let r = h.tick("2026-11-24T09:45:00Z").await;
    assert_eq!((r.sent, r.retried), (0, 1));
    // Backoff: 5 s, then 10 s, then 20 s.
    assert_eq!(
        h.tick("2026-11-24T09:45:04Z").await.retried,
        0,
        "not before the backoff"
    );
    assert_eq!(h.tick("2026-11-24T09:45:05Z").await.retried, 1);
    assert_eq!(h.tick("2026-11-24T09:45:15Z").await.retried, 1);
    assert_eq!(h.tick("2026-11-24T09:45:34Z").await.sent, 0);
    assert_eq!(h.tick("2026-11-24T09:45:35Z").await.sent, 1);
    assert_eq!(h.tick("2026-11-24T09:50:00Z").await.sent, 0);
    assert_eq!(h.chat.texts().len(), 1);
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_is_recorded_failed_not_dropped() {
    let h = harness("2026-11-24T00:00:00Z", Duration::hours(1)).await;
    h.cmd(
        "2026-11-24T00:00:00Z",
        r#"/meeting add title:"Ops" when:"daily at 10:00" tz:UTC remind:15m"#,
    )
    .await;
    h.chat.fail_next.store(usize::MAX, Ordering::SeqCst);
    let mut now = at("2026-11-24T09:45:00Z");
    let mut failed = 0;
    for _ in 0..MAX_ATTEMPTS + 2 {
        failed += h.scheduler.tick(now).await.unwrap().failed;
        now += Duration::minutes(11);
    }
    assert_eq!(failed, 1);
    let s = h.app.store.series("acme", 1).await.unwrap().unwrap();
    let rows = h.app.store.deliveries_of("acme", s.id).await.unwrap();
    assert_eq!(rows[0].state, "failed");
    assert_eq!(rows[0].attempts, MAX_ATTEMPTS);
}

#[tokio::test]
async fn skipping_cancels_the_next_occurrence_and_keeps_the_rest() {
    let h = harness("2026-11-24T00:00:00Z", Duration::hours(1)).await;
    h.cmd(
        "2026-11-24T00:00:00Z",
        r#"/meeting add title:"Ops" when:"daily at 10:00" tz:UTC remind:15m"#,
    )
    .await;
    h.cmd(
        "2026-11-24T00:00:00Z",
        r#"/meeting agenda id:1 item:"Vendors""#,
    )
    .await;
    let reply = h.cmd("2026-11-24T01:00:00Z", "/meeting skip id:1").await;
    assert!(
        reply.starts_with("Skipped Ops on Tue 24 Nov 2026 10:00 UTC"),
        "{reply}"
    );
    assert_eq!(
        h.tick("2026-11-24T09:45:00Z").await.sent,
        0,
        "the skipped day is silent"
    );
    assert_eq!(h.tick("2026-11-25T09:45:00Z").await.sent, 1);
    let text = &h.chat.texts()[0];
    assert!(text.contains("Wed 25 Nov 2026 10:00 UTC"), "{text}");
    assert!(
        text.contains("Agenda:\n    1. Vendors"),
        "the agenda moves to the next held occurrence: {text}"
    );
    let next = h.cmd("2026-11-24T01:00:00Z", "/meeting next id:1").await;
    assert!(
        next.contains("Tue 24 Nov 2026 10:00 UTC (skipped)") || !next.contains("Tue 24 Nov"),
        "{next}"
    );
}

#[tokio::test]
async fn a_cancelled_series_sends_nothing_more() {
    let h = harness("2026-11-24T00:00:00Z", Duration::hours(1)).await;
    h.cmd(
        "2026-11-24T00:00:00Z",
        r#"/meeting add title:"Ops" when:"daily at 10:00" tz:UTC remind:15m"#,
    )
    .await;
    h.cmd("2026-11-24T00:00:00Z", "/meeting cancel id:1").await;
    for day in 24..28 {
        assert_eq!(h.tick(&format!("2026-11-{day}T09:45:00Z")).await.sent, 0);
    }
    let r = h
        .app
        .handle_line(
            &actor("acme", "ana"),
            "/meeting skip id:1",
            at("2026-11-24T00:00:00Z"),
        )
        .await;
    assert!(r.is_error && r.text.contains("is cancelled"), "{}", r.text);
}

#[tokio::test]
async fn editing_the_cadence_requeues_reminders_for_the_new_time() {
    let h = harness("2026-11-24T00:00:00Z", Duration::hours(1)).await;
    h.cmd(
        "2026-11-24T00:00:00Z",
        r#"/meeting add title:"Ops" when:"daily at 10:00" tz:UTC remind:15m"#,
    )
    .await;
    h.cmd(
        "2026-11-24T00:00:00Z",
        r#"/meeting edit id:1 when:"daily at 12:00""#,
    )
    .await;
    assert_eq!(
        h.tick("2026-11-24T09:45:00Z").await.sent,
        0,
        "the old time is gone"
    );
    assert_eq!(h.tick("2026-11-24T11:45:00Z").await.sent, 1);
}

#[tokio::test]
async fn downtime_beyond_grace_is_summarised_once_and_recent_ones_are_sent_late() {
    let h = harness("2026-11-24T00:00:00Z", Duration::hours(1)).await;
    h.cmd(
        "2026-11-24T00:00:00Z",
        r#"/meeting add title:"Ops" when:"daily at 10:00" tz:UTC remind:1d,2h,15m channel:ops"#,
    )
    .await;
    // Quorum is "down" from 00:00 until 09:50 on the 25th: the 24th's 2h and
    // 15m reminders are long overdue, the 25th's 2h one is 1h50m late (missed),
    // and its 15m one is not due yet.
    let Harness { dir, url, .. } = h;
    let config = Config {
        grace: Duration::hours(1),
        ..Config::default()
    };
    let h = reopen(dir, url, "2026-11-25T09:50:00Z", config).await;
    let r = h.tick("2026-11-25T09:50:00Z").await;
    assert_eq!(r.missed, 4, "24th 2h, 24th 15m, 25th 1d, 25th 2h");
    assert_eq!(
        r.sent, 2,
        "the 25th's 15m reminder (5 min late, within grace) and one summary"
    );
    let texts = h.chat.texts();
    assert!(
        texts[0].starts_with("[#ops] Reminder: Ops starts in 15 minutes\n"),
        "{}",
        texts[0]
    );
    assert!(
        texts[0].contains("\n  (Late: was due Wed 25 Nov 2026 09:45 UTC while Quorum was offline)"),
        "{}",
        texts[0]
    );
    assert!(
        texts[1].starts_with("[#ops] Quorum was down: 4 reminders fell due more than 1 hour ago and were not sent\n  Not sent:\n    - Ops, Tue 24 Nov 2026 10:00 UTC (the reminder 2 hours before)"),
        "{}",
        texts[1]
    );
    assert_eq!(
        h.tick("2026-11-25T09:50:00Z").await,
        Default::default(),
        "nothing twice"
    );
    assert_eq!(h.tick("2026-11-25T09:51:00Z").await.sent, 0);
    assert_eq!(h.chat.texts().len(), 2);
}

#[tokio::test]
async fn workspaces_never_see_each_others_series() {
    let h = harness("2026-11-24T00:00:00Z", Duration::hours(1)).await;
    h.cmd(
        "2026-11-24T00:00:00Z",
        r#"/meeting add title:"Secret board prep" when:"daily at 10:00""#,
    )
    .await;
    let other = actor("globex", "ana");
    let now = at("2026-11-24T00:00:00Z");
    let list = h.app.handle_line(&other, "/meeting list", now).await;
    assert!(list.text.contains("No meeting series yet"), "{}", list.text);
    for line in [
        "/meeting skip id:1",
        "/meeting cancel id:1",
        "/meeting next id:1",
        r#"/meeting agenda id:1 item:"x""#,
        "/meeting edit id:1 title:Mine",
    ] {
        let r = h.app.handle_line(&other, line, now).await;
        assert!(
            r.is_error && r.text.contains("there is no series 1 here"),
            "{line}: {}",
            r.text
        );
    }
    let mine = h.cmd("2026-11-24T00:00:00Z", "/meeting list").await;
    assert!(mine.contains("Secret board prep"));
}

#[tokio::test]
async fn a_notice_body_is_posted_verbatim() {
    let h = harness("2026-11-24T00:00:00Z", Duration::seconds(1)).await;
    h.cmd(
        "2026-11-24T00:00:00Z",
        r#"/meeting add title:"Ops" when:"daily at 10:00" tz:UTC remind:15m"#,
    )
    .await;
    h.tick("2026-11-26T00:00:00Z").await;
    let posts = h.chat.posts.lock().unwrap().clone();
    assert!(posts.iter().all(|p| matches!(
        &p.body,
        Body::Message(n) if n.kind == quorum::domain::notice::Kind::MissedReminders
    )));
    assert_eq!(posts.len(), 1);
}

/// A harness with `n` notices due now (real time: `Scheduler::run` reads the clock).
async fn notices_due_now(n: usize) -> (Harness, chrono::DateTime<chrono::Utc>) {
    let h = harness("2026-03-20T00:00:00Z", Duration::hours(1)).await;
    let now = chrono::Utc::now();
    for i in 0..n {
        h.app
            .store
            .enqueue_notice(
                "acme",
                "ops",
                &format!("n{i}"),
                &format!("notice {i}"),
                now.timestamp(),
            )
            .await
            .unwrap();
    }
    (h, now)
}

/// A chat that holds its first post until told to let it through.
#[derive(Default)]
struct Gate {
    entered: tokio::sync::Notify,
    proceed: tokio::sync::Notify,
    posts: std::sync::Mutex<Vec<String>>,
}

impl quorum::chat::Chat for Gate {
    async fn post(&self, m: &quorum::chat::Outgoing) -> Result<(), quorum::chat::SendError> {
        if self.posts.lock().unwrap().is_empty() {
            self.entered.notify_one();
            self.proceed.notified().await;
        }
        self.posts.lock().unwrap().push(m.key.clone());
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shutdown_finishes_the_message_in_flight_and_hands_back_the_rest() {
    let (h, now) = notices_due_now(5).await;
    let gate = std::sync::Arc::new(Gate::default());
    let scheduler = std::sync::Arc::new(quorum::scheduler::Scheduler::new(
        h.app.store.clone(),
        &h.app.config,
        gate.clone(),
        now,
    ));
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let running = {
        let scheduler = scheduler.clone();
        tokio::spawn(async move {
            scheduler
                .run(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await
        })
    };
    // The first notice is on its way when the stop comes.
    gate.entered.notified().await;
    stop.send(true).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    gate.proceed.notify_one();
    running.await.unwrap();

    assert_eq!(
        gate.posts.lock().unwrap().len(),
        1,
        "only the one in flight"
    );
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&h.url).await.unwrap();
    let states: Vec<(String, i64)> = sqlx::query_as(
        "SELECT state, CAST(attempts AS BIGINT) FROM deliveries WHERE kind = 'notice' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        states[0],
        ("sent".to_string(), 1),
        "the one in flight is recorded"
    );
    assert!(
        states[1..].iter().all(|s| *s == ("pending".to_string(), 0)),
        "the rest are pending again, as never attempted, for another instance: {states:?}"
    );
    // Another instance (here a tick) delivers them at once, no lease to wait out.
    assert_eq!(h.scheduler.tick(now).await.unwrap().sent, 4);
}

/// A chat that takes its time over each post (a paced, slow API).
struct Slow(std::time::Duration, std::sync::Mutex<Vec<String>>);

impl quorum::chat::Chat for Slow {
    async fn post(&self, m: &quorum::chat::Outgoing) -> Result<(), quorum::chat::SendError> {
        tokio::time::sleep(self.0).await;
        self.1.lock().unwrap().push(m.key.clone());
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_that_outlasts_its_lease_renews_it_so_no_other_instance_resends() {
    let (h, now) = notices_due_now(6).await;
    // Two instances with a 2 s lease; the first claims all six and needs
    // about 3.6 s to post them.
    let instance = |delay_ms: u64| {
        let store = quorum::store::Store::clone(&h.app.store).with_lease(2);
        let chat = std::sync::Arc::new(Slow(
            std::time::Duration::from_millis(delay_ms),
            Default::default(),
        ));
        let s = quorum::scheduler::Scheduler::new(store, &h.app.config, chat.clone(), now);
        (std::sync::Arc::new(s), chat)
    };
    let (slow, slow_chat) = instance(600);
    let (quick, quick_chat) = instance(0);
    let first = {
        let slow = slow.clone();
        tokio::spawn(async move { slow.tick(chrono::Utc::now()).await.unwrap() })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    while !first.is_finished() {
        quick.tick(chrono::Utc::now()).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
    first.await.unwrap();
    let a = slow_chat.1.lock().unwrap().clone();
    let b = quick_chat.1.lock().unwrap().clone();
    assert_eq!(
        a.len(),
        6,
        "the claiming instance kept its claims: {a:?} / {b:?}"
    );
    assert!(b.is_empty(), "the other instance re-sent nothing: {b:?}");
}

#[tokio::test]
async fn a_reminder_lists_a_long_backlog_overdue_first_and_counts_the_rest() {
    let h = harness("2026-11-20T00:00:00Z", Duration::hours(1)).await;
    let t = "2026-11-20T00:00:00Z";
    h.cmd(
        t,
        r#"/meeting add title:"Exec team" when:"weekly on tuesday at 12:00" tz:UTC remind:1h attendees:cto"#,
    )
    .await;
    // 40 undated items, more than the reminder reads, then one overdue and
    // one that another attendee does not own (never listed).
    for i in 0..40 {
        h.cmd(t, &format!(r#"/action add task:"Task {i}" owner:cto"#))
            .await;
    }
    h.cmd(
        t,
        r#"/action add task:"Rotate keys" owner:cto due:2026-11-21 priority:low"#,
    )
    .await;
    h.cmd(
        t,
        r#"/action add task:"Board deck" owner:ceo due:2026-11-21"#,
    )
    .await;
    h.tick("2026-11-24T11:00:00Z").await;
    let texts = h.chat.texts();
    let reminder = texts
        .iter()
        .find(|t| t.contains("Reminder: Exec team"))
        .expect("the reminder was posted");
    assert!(
        reminder.contains("Open action items:\n    - OVERDUE #41 Rotate keys (cto, due 2026-11-21)\n    - #1 Task 0 (cto)\n"),
        "the overdue item leads, though it is the newest: {reminder}"
    );
    assert!(!reminder.contains("Board deck"), "{reminder}");
    assert!(
        reminder.contains("+33 more"),
        "41 open items, 8 shown: {reminder}"
    );
}
