//! Occurrences and minutes through the real core (`App::handle_line`) and
//! the scheduler ticked with a controlled clock: moving one occurrence,
//! decisions, action items and notes attached to the meeting, covered and
//! carried agenda items, minutes posted once at the end, and reading them
//! back. Store-backed: QUORUM_TEST_BACKEND=postgres runs it on PostgreSQL.

mod support;

use std::sync::Arc;

use chrono::Duration;
use quorum::config::Config;
use quorum::scheduler::Scheduler;
use quorum::service::meetings::Actor;
use support::core::{Harness, at, harness, harness_with, reopen};

/// Monday 7 December 2026, 10:00 UTC, 45 minutes, posting to #exec.
async fn exec_meeting(config: Config) -> Harness {
    let h = harness_with("2026-12-01T00:00:00Z", config).await;
    h.cmd(
        "2026-12-01T00:00:00Z",
        r#"/meeting add title:"Exec team" when:"weekly on monday at 10:00" tz:UTC channel:exec remind:none attendees:ceo,cto duration:45m"#,
    )
    .await;
    h
}

fn config() -> Config {
    Config {
        grace: Duration::hours(1),
        ..Config::default()
    }
}

fn in_channel(channel: &str, user: &str) -> Actor {
    Actor {
        workspace: "acme".to_string(),
        user: user.to_string(),
        channel: Some(channel.to_string()),
        platform_roles: Vec::new(),
    }
}

#[tokio::test]
async fn minutes_are_posted_once_at_the_end_with_what_the_meeting_recorded() {
    let h = exec_meeting(config()).await;
    h.cmd(
        "2026-12-02T00:00:00Z",
        r#"/meeting agenda id:1 item:"Q1 budget""#,
    )
    .await;
    h.cmd(
        "2026-12-02T00:00:00Z",
        r#"/meeting agenda id:1 item:"Hiring""#,
    )
    .await;
    // The meeting starts: the series moves on to the 14th.
    h.tick("2026-12-07T10:00:00Z").await;
    let r = h
        .cmd(
            "2026-12-07T10:05:00Z",
            r#"/decision record title:"Adopt PostgreSQL" category:tech-stack rationale:"One database" meeting:1"#,
        )
        .await;
    assert!(
        r.contains("Attached to the minutes of Exec team on Mon 7 Dec 2026 10:00 UTC"),
        "{r}"
    );
    let r = h
        .cmd(
            "2026-12-07T10:10:00Z",
            r#"/action add task:"Evaluate pgvector" owner:cto due:2026-12-18 meeting:1"#,
        )
        .await;
    assert!(r.contains("Attached to the minutes of Exec team"), "{r}");
    // An item without meeting:N is not the meeting's.
    h.cmd(
        "2026-12-07T10:11:00Z",
        r#"/action add task:"Unrelated chore" owner:ceo"#,
    )
    .await;
    let r = h
        .cmd(
            "2026-12-07T10:20:00Z",
            r#"/meeting notes id:1 text:"Budget approved pending audit""#,
        )
        .await;
    assert_eq!(
        r,
        "Noted for the minutes of Exec team on Mon 7 Dec 2026 10:00 UTC."
    );
    let r = h
        .cmd("2026-12-07T10:30:00Z", "/meeting agenda id:1 done:1")
        .await;
    assert!(r.starts_with("Marked item 1 covered. Agenda of Exec team on Mon 7 Dec 2026 10:00 UTC: 1) Q1 budget [covered]; 2) Hiring"), "{r}");

    h.tick("2026-12-07T10:44:59Z").await;
    assert!(
        !h.chat.texts().iter().any(|t| t.contains("Minutes:")),
        "not before the end: {:#?}",
        h.chat.texts()
    );
    assert_eq!(h.tick("2026-12-07T10:45:00Z").await.sent, 1);
    assert_eq!(
        h.tick("2026-12-07T10:45:00Z").await.sent,
        0,
        "minutes are posted once"
    );
    let texts: Vec<String> = h
        .chat
        .texts()
        .into_iter()
        .filter(|t| t.contains("Minutes:"))
        .collect();
    assert_eq!(texts.len(), 1, "{texts:#?}");
    let m = &texts[0];
    assert_eq!(
        m,
        "[#exec] Minutes: Exec team, Mon 7 Dec 2026 10:00 UTC (45m)\n  Attendees: ceo, cto\n  Agenda:\n  - Q1 budget (covered)\n  - Hiring (carried over)\n  Decisions:\n  - #1 Adopt PostgreSQL (proposed by ana; authority cto)\n  Action items:\n  - #1 Evaluate pgvector (owner cto, due 2026-12-18; open)\n  Notes:\n  - ana: Budget approved pending audit",
        "as the console prints it (the README shows this message)"
    );
    assert!(
        m.starts_with(
            "[#exec] Minutes: Exec team, Mon 7 Dec 2026 10:00 UTC (45m)\n  Attendees: ceo, cto"
        ),
        "{m}"
    );
    assert!(
        m.contains("Agenda:\n  - Q1 budget (covered)\n  - Hiring (carried over)"),
        "{m}"
    );
    assert!(
        m.contains("Action items:\n  - #1 Evaluate pgvector (owner cto, due 2026-12-18; open)"),
        "{m}"
    );
    assert!(
        m.contains("Notes:\n  - ana: Budget approved pending audit"),
        "{m}"
    );
    assert!(!m.contains("Unrelated chore"), "{m}");

    // The uncovered item carried over to the next occurrence, marked so.
    let agenda = h.cmd("2026-12-07T11:00:00Z", "/meeting agenda id:1").await;
    assert_eq!(
        agenda,
        "Agenda of Exec team on Mon 14 Dec 2026 10:00 UTC: 1) Hiring [carried]"
    );
    // Not covered again: it carries again, counting.
    h.tick("2026-12-14T10:00:00Z").await;
    let minutes_posts = |h: &support::core::Harness| {
        h.chat
            .texts()
            .iter()
            .filter(|t| t.contains("Minutes:"))
            .count()
    };
    // (The unanswered decision is escalated at 10:05 on the 14th, a week
    // after it was proposed: that ping goes out in the same tick.)
    h.tick("2026-12-14T10:45:00Z").await;
    assert_eq!(minutes_posts(&h), 2);
    let agenda = h.cmd("2026-12-14T11:00:00Z", "/meeting agenda id:1").await;
    assert_eq!(
        agenda,
        "Agenda of Exec team on Mon 21 Dec 2026 10:00 UTC: 1) Hiring [carried 2 times]"
    );
    let second = h
        .chat
        .texts()
        .into_iter()
        .filter(|t| t.contains("Minutes:"))
        .nth(1)
        .unwrap();
    assert!(
        second.contains("Agenda:\n  - Hiring (carried over, carried once before)"),
        "{second}"
    );

    // /meeting minutes shows them back, one date or the latest.
    let shown = h
        .cmd(
            "2026-12-15T00:00:00Z",
            "/meeting minutes id:1 date:2026-12-07",
        )
        .await;
    assert!(
        shown.starts_with("Minutes: Exec team, Mon 7 Dec 2026 10:00 UTC"),
        "{shown}"
    );
    assert!(
        shown.contains("\nNotes:\n- ana: Budget approved pending audit"),
        "{shown}"
    );
    assert!(!shown.contains("14 Dec"), "{shown}");
    let latest = h.cmd("2026-12-15T00:00:00Z", "/meeting minutes id:1").await;
    assert!(
        latest.starts_with("Minutes: Exec team, Mon 14 Dec 2026 10:00 UTC"),
        "latest first: {latest}"
    );
    let none = h
        .cmd(
            "2026-12-15T00:00:00Z",
            "/meeting minutes id:1 date:2026-12-08",
        )
        .await;
    assert_eq!(none, "Exec team has no minutes for 2026-12-08.");
}

#[tokio::test]
async fn minutes_survive_a_restart_and_two_instances_post_them_once() {
    let h = exec_meeting(config()).await;
    h.tick("2026-12-07T10:00:00Z").await;
    h.cmd(
        "2026-12-07T10:20:00Z",
        r#"/meeting notes id:1 text:"Quarter closed""#,
    )
    .await;
    // Down over the end; back up later, with a second instance on the same database.
    let Harness { dir, url, .. } = h;
    let h = reopen(dir, url.clone(), "2026-12-07T10:50:00Z", config()).await;
    let store = quorum::store::Store::connect(&url).await.unwrap();
    let twin_chat = Arc::new(support::core::Recorder::default());
    let twin = Scheduler::new(
        store,
        &config(),
        twin_chat.clone(),
        at("2026-12-07T10:50:00Z"),
    );
    let (a, b) = tokio::join!(
        h.scheduler.tick(at("2026-12-07T10:50:00Z")),
        twin.tick(at("2026-12-07T10:50:00Z"))
    );
    let sent = a.unwrap().sent + b.unwrap().sent;
    assert_eq!(sent, 1, "one post between the two instances");
    let all: Vec<String> = h
        .chat
        .texts()
        .into_iter()
        .chain(twin_chat.texts())
        .collect();
    assert_eq!(all.len(), 1, "{all:#?}");
    assert!(
        all[0].contains("Notes:\n  - ana: Quarter closed"),
        "{}",
        all[0]
    );
    assert_eq!(h.tick("2026-12-07T12:00:00Z").await.sent, 0);
}

#[tokio::test]
async fn an_empty_meeting_posts_no_minutes_unless_configured_always() {
    let h = exec_meeting(config()).await;
    h.tick("2026-12-07T10:00:00Z").await;
    assert_eq!(h.tick("2026-12-07T10:45:00Z").await.sent, 0);
    assert!(h.chat.texts().is_empty());

    let always = exec_meeting(Config {
        minutes_always: true,
        ..config()
    })
    .await;
    always.tick("2026-12-07T10:00:00Z").await;
    assert_eq!(always.tick("2026-12-07T10:45:00Z").await.sent, 1);
    let texts = always.chat.texts();
    assert!(
        texts[0].ends_with("Attendees: ceo, cto\n  Nothing was recorded."),
        "{}",
        texts[0]
    );
}

async fn add_in(h: &Harness, channel: &str, task: &str, when: &str) -> quorum::app::Reply {
    h.app
        .handle_line(
            &in_channel(channel, "ana"),
            &format!(r#"/action add task:"{task}" owner:ceo"#),
            at(when),
        )
        .await
}

/// On SQLite the store keeps in memory which channels meetings capture, so
/// a command write does not ask the database: a meeting that starts
/// capturing (new, or edited to capture) must be seen by the next record.
#[tokio::test]
async fn a_channel_that_starts_being_captured_is_captured_from_the_next_record_on() {
    let h = harness("2026-12-01T00:00:00Z", Duration::hours(1)).await;
    // Nothing captures exec yet: the store learns that.
    let before = add_in(&h, "exec", "Before any meeting", "2026-12-01T00:01:00Z").await;
    assert!(!before.is_error, "{}", before.text);
    assert!(!before.text.contains("Attached"), "{}", before.text);
    h.cmd(
        "2026-12-01T00:02:00Z",
        r#"/meeting add title:"Exec team" when:"weekly on monday at 10:00" tz:UTC channel:exec remind:none capture:channel"#,
    )
    .await;
    h.tick("2026-12-07T10:00:00Z").await;
    let during = add_in(&h, "exec", "Draft the memo", "2026-12-07T10:30:00Z").await;
    assert!(
        during.text.contains("Attached to the minutes of Exec team"),
        "{}",
        during.text
    );
    // A second meeting on another channel, edited to capture it.
    h.cmd(
        "2026-12-07T10:31:00Z",
        r#"/meeting add title:"Board prep" when:"weekly on tuesday at 10:00" tz:UTC channel:board remind:none"#,
    )
    .await;
    h.tick("2026-12-08T10:00:00Z").await;
    let not_yet = add_in(&h, "board", "Print the deck", "2026-12-08T10:10:00Z").await;
    assert!(!not_yet.text.contains("Attached"), "{}", not_yet.text);
    let edited = h
        .cmd("2026-12-08T10:11:00Z", "/meeting edit id:2 capture:channel")
        .await;
    assert!(edited.contains("Board prep"), "{edited}");
    let now_captured = add_in(&h, "board", "Print the deck", "2026-12-08T10:12:00Z").await;
    assert!(
        now_captured
            .text
            .contains("Attached to the minutes of Board prep"),
        "{}",
        now_captured.text
    );
}

#[tokio::test]
async fn a_series_capturing_its_channel_attaches_what_is_recorded_there_during_the_meeting() {
    let h = harness("2026-12-01T00:00:00Z", Duration::hours(1)).await;
    h.cmd(
        "2026-12-01T00:00:00Z",
        r#"/meeting add title:"Exec team" when:"weekly on monday at 10:00" tz:UTC channel:exec remind:none capture:channel"#,
    )
    .await;
    h.tick("2026-12-07T10:00:00Z").await;
    let during = h
        .app
        .handle_line(
            &in_channel("exec", "ana"),
            r#"/action add task:"Draft the memo" owner:ceo"#,
            at("2026-12-07T10:30:00Z"),
        )
        .await;
    assert!(!during.is_error, "{}", during.text);
    assert!(
        during.text.contains("Attached to the minutes of Exec team"),
        "{}",
        during.text
    );
    let elsewhere = h
        .app
        .handle_line(
            &in_channel("general", "ana"),
            r#"/action add task:"Book the venue" owner:ceo"#,
            at("2026-12-07T10:31:00Z"),
        )
        .await;
    assert!(!elsewhere.text.contains("Attached"), "{}", elsewhere.text);
    // After the end (60 minutes by default) the channel is not captured.
    let after = h
        .app
        .handle_line(
            &in_channel("exec", "ana"),
            r#"/action add task:"Follow up" owner:ceo"#,
            at("2026-12-07T11:00:00Z"),
        )
        .await;
    assert!(!after.text.contains("Attached"), "{}", after.text);
    assert_eq!(h.tick("2026-12-07T11:00:00Z").await.sent, 1);
    let m = &h.chat.texts()[0];
    assert!(m.contains("Draft the memo"), "{m}");
    assert!(
        !m.contains("Book the venue") && !m.contains("Follow up"),
        "{m}"
    );
    // meeting:N still attaches within a day after the end.
    let late = h
        .cmd(
            "2026-12-08T09:00:00Z",
            r#"/action add task:"Send the memo" owner:ceo meeting:1"#,
        )
        .await;
    assert!(
        late.contains("Attached to the minutes of Exec team on Mon 7 Dec"),
        "{late}"
    );
    let too_late = h
        .cmd(
            "2026-12-08T11:01:00Z",
            r#"/action add task:"Too late" owner:ceo meeting:1"#,
        )
        .await;
    assert!(!too_late.contains("Attached"), "{too_late}");
}

#[tokio::test]
async fn moving_the_next_occurrence_moves_its_reminders_and_nothing_else() {
    let h = harness("2026-11-24T00:00:00Z", Duration::hours(1)).await;
    h.cmd(
        "2026-11-24T00:00:00Z",
        r#"/meeting add title:"Ops" when:"daily at 10:00" tz:Europe/Madrid remind:15m"#,
    )
    .await;
    h.cmd(
        "2026-11-24T00:00:00Z",
        r#"/meeting agenda id:1 item:"Vendors""#,
    )
    .await;
    let r = h
        .cmd(
            "2026-11-24T01:00:00Z",
            "/meeting move id:1 date:2026-11-24 time:16:30",
        )
        .await;
    assert_eq!(
        r,
        "Moved Ops from Tue 24 Nov 2026 10:00 CET to Tue 24 Nov 2026 16:30 CET; its reminders follow it. Next: Tue 24 Nov 2026 16:30 CET"
    );
    let next = h.cmd("2026-11-24T01:00:00Z", "/meeting next id:1").await;
    assert!(
        next.contains("- Tue 24 Nov 2026 10:00 CET (moved)\n- Tue 24 Nov 2026 16:30 CET (moved from Tue 24 Nov 2026 10:00 CET)\n- Wed 25 Nov 2026 10:00 CET"),
        "{next}"
    );
    assert!(next.contains("1h each"), "{next}");
    // 10:00 CET is 09:00Z: nothing at the old time; the reminder follows.
    assert_eq!(h.tick("2026-11-24T08:45:00Z").await.sent, 0);
    assert_eq!(
        h.tick("2026-11-24T15:15:00Z").await.sent,
        1,
        "{:#?}",
        h.chat.texts()
    );
    let text = &h.chat.texts()[0];
    assert!(
        text.contains("starts in 15 minutes\n  When: Tue 24 Nov 2026 16:30 CET\n  Length: 1h"),
        "{text}"
    );
    assert!(
        text.contains("Agenda:\n    1. Vendors"),
        "the agenda follows: {text}"
    );
    // Only that one moved: the next day is at its usual time.
    h.tick("2026-11-24T15:30:00Z").await;
    // It ends an hour later, at 17:30 CET, with its minutes: the agenda
    // was not covered, so it carries over.
    assert_eq!(h.tick("2026-11-24T16:30:00Z").await.sent, 1);
    let minutes = &h.chat.texts()[1];
    assert!(
        minutes.contains(
            "Minutes: Ops, Tue 24 Nov 2026 16:30 CET (1h)\n  Agenda:\n  - Vendors (carried over)"
        ),
        "{minutes}"
    );
    assert_eq!(h.tick("2026-11-25T08:45:00Z").await.sent, 1);
    let reminder = &h.chat.texts()[2];
    assert!(reminder.contains("Wed 25 Nov 2026 10:00 CET"), "{reminder}");
    assert!(
        reminder.contains("Agenda:\n    1. Vendors (carried over)"),
        "the reminder shows the carried item as such: {reminder}"
    );
}

#[tokio::test]
async fn a_bad_move_is_refused_and_changes_nothing() {
    let h = harness("2026-11-24T00:00:00Z", Duration::hours(1)).await;
    h.cmd(
        "2026-11-24T00:00:00Z",
        r#"/meeting add title:"Board" when:"weekly on thursday at 10:00" tz:UTC remind:15m"#,
    )
    .await;
    let e = h
        .fails(
            "ana",
            "2026-11-24T12:00:00Z",
            "/meeting move id:1 date:2026-11-20",
        )
        .await;
    assert_eq!(
        e,
        "Fri 20 Nov 2026 10:00 UTC is in the past; move the meeting to a later date"
    );
    let e = h
        .fails(
            "ana",
            "2026-11-24T12:00:00Z",
            "/meeting move id:1 date:2026-13-01",
        )
        .await;
    assert!(e.starts_with("date: `2026-13-01` is not a date"), "{e}");
    let e = h
        .fails(
            "ana",
            "2026-11-24T12:00:00Z",
            "/meeting move id:1 date:2026-12-03",
        )
        .await;
    assert!(
        e.contains("is on or after the following occurrence (Thu 3 Dec 2026 10:00 UTC)"),
        "{e}"
    );
    let e = h
        .fails(
            "ana",
            "2026-11-24T12:00:00Z",
            "/meeting move id:9 date:2026-11-27",
        )
        .await;
    assert!(e.starts_with("there is no series 9 here"), "{e}");
    let e = h
        .fails("ana", "2026-11-24T12:00:00Z", "/meeting agenda id:1 done:3")
        .await;
    assert!(e.contains("has 0 items; there is no item 3"), "{e}");
    let next = h.cmd("2026-11-24T12:00:00Z", "/meeting next id:1").await;
    assert!(
        next.contains("- Thu 26 Nov 2026 10:00 UTC\n"),
        "nothing moved: {next}"
    );
    assert_eq!(h.tick("2026-11-26T09:45:00Z").await.sent, 1);
    // Under way (the scheduler has not moved the series on yet): not movable.
    let e = h
        .fails(
            "ana",
            "2026-11-26T10:00:00Z",
            "/meeting move id:1 date:2026-11-27",
        )
        .await;
    assert_eq!(
        e,
        "Board on Thu 26 Nov 2026 10:00 UTC has already begun; move the next one once it is over"
    );
    h.tick("2026-11-26T10:00:00Z").await;
    // A date without a time keeps the usual time.
    let r = h
        .cmd("2026-11-26T12:00:00Z", "/meeting move id:1 date:2026-12-04")
        .await;
    assert_eq!(
        r,
        "Moved Board from Thu 3 Dec 2026 10:00 UTC to Fri 4 Dec 2026 10:00 UTC; its reminders follow it. Next: Fri 4 Dec 2026 10:00 UTC"
    );
}

#[tokio::test]
async fn skipping_twice_skips_the_next_two_occurrences() {
    // A skip is an occurrence record now; skipping twice skips two.
    let h = harness("2026-11-24T00:00:00Z", Duration::hours(1)).await;
    h.cmd(
        "2026-11-24T00:00:00Z",
        r#"/meeting add title:"Ops" when:"daily at 10:00" tz:UTC remind:15m"#,
    )
    .await;
    h.cmd("2026-11-24T01:00:00Z", "/meeting skip id:1").await;
    h.cmd("2026-11-24T01:00:00Z", "/meeting skip id:1").await;
    let next = h.cmd("2026-11-24T01:00:00Z", "/meeting next id:1").await;
    assert!(
        next.contains("- Tue 24 Nov 2026 10:00 UTC (skipped)\n- Wed 25 Nov 2026 10:00 UTC (skipped)\n- Thu 26 Nov 2026 10:00 UTC"),
        "{next}"
    );
    assert_eq!(h.tick("2026-11-25T09:45:00Z").await.sent, 0);
    assert_eq!(h.tick("2026-11-26T09:45:00Z").await.sent, 1);
}

#[tokio::test]
async fn skips_made_before_the_upgrade_become_skipped_occurrences() {
    // A database at migration 0011 with a series and a skip, as before
    // occurrences were records; starting Quorum applies 0015 to it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    let mut old = sqlx::migrate!("migrations/sqlite");
    old.migrations = old
        .migrations
        .iter()
        .filter(|m| m.version < 15)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    old.run(&pool).await.unwrap();
    let tue = at("2026-11-24T10:00:00Z").timestamp();
    let wed = at("2026-11-25T10:00:00Z").timestamp();
    sqlx::query(
        "INSERT INTO series (workspace, title, cadence, rrule, tz, anchor_date, channel, remind, next_at, created_by, created_at, updated_at)
         VALUES ('acme', 'Ops', 'daily at 10:00', 'FREQ=DAILY;BYHOUR=10;BYMINUTE=0', 'UTC', '2026-11-23', 'general', '15m', $1, 'ana', 0, 0)",
    )
    .bind(tue)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO skips (series_id, occurrence_at, skipped_by, skipped_at) VALUES (1, $1, 'ana', 0)")
        .bind(wed)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let url = format!("sqlite://{}", path.display());
    let h = reopen(dir, url, "2026-11-24T00:00:00Z", config()).await;
    let next = h.cmd("2026-11-24T00:00:00Z", "/meeting next id:1").await;
    assert!(
        next.contains("- Tue 24 Nov 2026 10:00 UTC\n- Wed 25 Nov 2026 10:00 UTC (skipped)\n- Thu 26 Nov 2026 10:00 UTC"),
        "{next}"
    );
    assert!(next.contains("1h each"), "the default duration: {next}");
    // The series moves past Tuesday straight to Thursday.
    h.tick("2026-11-24T10:00:00Z").await;
    let list = h.cmd("2026-11-24T10:00:00Z", "/meeting list").await;
    assert!(list.contains("next Thu 26 Nov 2026 10:00 UTC"), "{list}");
}

#[tokio::test]
async fn export_minutes_writes_every_ended_occurrence_as_markdown_or_json() {
    // Dates in the past of any real clock: the binary reads the time itself.
    let h = harness("2021-03-01T00:00:00Z", Duration::hours(1)).await;
    h.cmd(
        "2021-03-01T00:00:00Z",
        r#"/meeting add title:"Ops" when:"weekly on monday at 10:00" tz:UTC remind:none"#,
    )
    .await;
    h.tick("2021-03-01T10:00:00Z").await;
    h.cmd(
        "2021-03-01T10:30:00Z",
        r#"/meeting notes id:1 text:"Quiet week""#,
    )
    .await;
    h.tick("2021-03-01T11:00:00Z").await;
    let env = [("QUORUM_DATABASE_URL", h.url.as_str())];
    let (code, md, err) = support::run(
        &["export", "minutes", "--series", "1", "--workspace", "acme"],
        &env,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        md,
        "# Minutes of Ops (series 1)\n\n## Ops, Mon 1 Mar 2021 10:00 UTC (1h)\n\n### Notes\n\n- ana: Quiet week\n"
    );
    let (code, json, err) = support::run(
        &[
            "export",
            "minutes",
            "--series",
            "1",
            "--format",
            "json",
            "--workspace",
            "acme",
        ],
        &env,
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["date"], "2021-03-01");
    assert_eq!(v[0]["duration"], "1h");
    assert_eq!(v[0]["notes"][0]["text"], "Quiet week");
    assert_eq!(v.as_array().unwrap().len(), 1);
    let (code, out, err) = support::run(
        &[
            "export",
            "minutes",
            "--series",
            "1",
            "--format",
            "pdf",
            "--workspace",
            "acme",
        ],
        &env,
    );
    assert_ne!(code, 0);
    assert!(out.is_empty());
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("`pdf` is not a format; use md or json"),
        "{err}"
    );
    let (code, _, err) = support::run(
        &["export", "minutes", "--series", "7", "--workspace", "acme"],
        &env,
    );
    assert_ne!(code, 0);
    assert!(err.contains("there is no series 7 here"), "{err}");
}
