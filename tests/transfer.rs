//! Moving a whole installation: `quorum export all --format json` and
//! `quorum import FILE`, run as the real binary on databases filled through
//! the real core (`App::handle_line`) and a scheduler ticked with a
//! controlled clock. SQLite -> SQLite -> SQLite always; SQLite ->
//! PostgreSQL -> SQLite with QUORUM_TEST_POSTGRES_URL.

mod support;

use chrono::Duration;
use quorum::config::Config;
use support::core::{Harness, harness_with, reopen};

fn config() -> Config {
    let text = r#"
[http]
public_url = "https://quorum.example.com"

[org.ceo]
name = "Ana García"
user = "ana"

[org.cfo]
name = "Bea Ruiz"
user = "bea"
"#;
    Config {
        grace: Duration::hours(1),
        ..Config::from_toml(text, "test.toml").unwrap()
    }
}

const T0: &str = "2026-11-28T09:00:00Z";

/// A workspace with a bit of everything: series with an agenda, a skip and a
/// move, decisions (one superseding another), action items with their audit
/// trail, an acknowledged escalation, a calendar token, reminders sent and
/// reminders still pending.
async fn filled() -> (Harness, String) {
    let h = harness_with(T0, config()).await;
    h.cmd(T0, r#"/meeting add title:"Exec team" when:"weekly on monday at 10:00" tz:Europe/Madrid channel:exec remind:1d,15m attendees:ceo,cfo"#).await;
    h.cmd(T0, r#"/meeting add title:"Retro" when:"weekly on friday at 16:00" tz:UTC channel:exec remind:1h"#).await;
    h.cmd(T0, r#"/meeting agenda id:1 item:"Q1 budget""#).await;
    h.cmd(T0, "/meeting skip id:2").await;
    let moved = h.cmd(T0, "/meeting move id:1 date:2026-12-01").await;
    assert!(moved.contains("1 Dec 2026"), "{moved}");
    h.cmd(
        T0,
        r#"/decision record title:"Use SQLite" category:tech-stack rationale:"Simple""#,
    )
    .await;
    h.as_user("cto", T0, "/decision approve id:1").await;
    h.as_user("cto", T0, r#"/decision record title:"Use PostgreSQL" category:tech-stack rationale:"Several instances" supersedes:1"#).await;
    h.cmd(
        T0,
        r#"/action add task:"Plan the move" owner:cto due:2026-12-18"#,
    )
    .await;
    h.as_user("cto", T0, "/action done id:1").await;
    h.cmd(
        T0,
        r#"/escalate topic:budget severity:high summary:"Runway""#,
    )
    .await;
    h.as_user("bea", "2026-11-28T09:05:00Z", "/escalation ack id:1")
        .await;
    let links = h.cmd(T0, "/meeting calendar").await;
    let token = links
        .split("https://quorum.example.com/calendar/")
        .nth(1)
        .and_then(|rest| rest.split(['.', '/']).next())
        .unwrap_or_else(|| panic!("no feed link in {links}"))
        .to_string();
    // The day-ahead reminder of Tuesday's meeting goes out; its 15-minute
    // one is still pending when the data moves.
    h.tick("2026-11-30T11:00:00Z").await;
    assert!(
        h.chat.texts().iter().any(|t| t.contains("Exec team")),
        "{:#?}",
        h.chat.texts()
    );
    (h, token)
}

fn export(url: &str, out: &std::path::Path) {
    let (code, stdout, stderr) = support::run(
        &[
            "export",
            "all",
            "--format",
            "json",
            "--out",
            out.to_str().unwrap(),
        ],
        &[("QUORUM_DATABASE_URL", url)],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("exported "), "{stdout}");
}

fn import(url: &str, file: &std::path::Path) -> (i32, String, String) {
    support::run(
        &["import", file.to_str().unwrap()],
        &[("QUORUM_DATABASE_URL", url)],
    )
}

/// The data of an export: every table with its columns and rows.
fn tables(file: &std::path::Path) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(v["format"], "quorum-export");
    assert_eq!(v["version"], 1);
    v["tables"].clone()
}

fn rows<'a>(tables: &'a serde_json::Value, name: &str) -> &'a Vec<serde_json::Value> {
    tables
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == name)
        .unwrap_or_else(|| panic!("no table {name}"))["rows"]
        .as_array()
        .unwrap()
}

async fn round_trip(middle: String) {
    let (h, token) = filled().await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a.json"),
        dir.path().join("b.json"),
        dir.path().join("c.json"),
    );
    export(&h.url, &a);
    let original = tables(&a);
    for table in [
        "series",
        "occurrences",
        "agenda_items",
        "decisions",
        "actions",
        "audit",
        "escalations",
        "escalation_events",
        "deliveries",
        "calendar_tokens",
    ] {
        assert!(!rows(&original, table).is_empty(), "nothing in {table}");
    }
    let pending = rows(&original, "deliveries")
        .iter()
        .filter(|r| r.as_array().unwrap().contains(&"pending".into()))
        .count();
    assert!(pending > 0, "some deliveries are still pending");
    // Feed tokens travel hashed only.
    assert!(token.len() >= 32, "{token}");
    assert!(!std::fs::read_to_string(&a).unwrap().contains(&token));

    let (code, stdout, stderr) = import(&middle, &a);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("imported "), "{stdout}");
    export(&middle, &b);
    assert_eq!(tables(&b), original, "the middle database holds the same");

    let end_dir = tempfile::tempdir().unwrap();
    let end = format!("sqlite://{}", end_dir.path().join("end.db").display());
    let (code, _, stderr) = import(&end, &b);
    assert_eq!(code, 0, "{stderr}");
    export(&end, &c);
    assert_eq!(tables(&c), original, "and so does the last one");

    // The moved installation goes on where the old one stopped: records read
    // the same, new ids follow the old ones, and each pending reminder is
    // sent once, as the old one would have.
    let moved = reopen(end_dir, end, "2026-11-30T11:00:00Z", config()).await;
    for line in [
        "/decision show id:1",
        "/decision show id:2",
        "/action show id:1",
        "/escalation show id:1",
        "/meeting next id:1",
        "/meeting list",
    ] {
        let now = "2026-11-30T11:30:00Z";
        assert_eq!(moved.cmd(now, line).await, h.cmd(now, line).await, "{line}");
    }
    for h in [&h, &moved] {
        let added = h
            .cmd(
                "2026-11-30T11:40:00Z",
                r#"/action add task:"After the move" owner:ceo"#,
            )
            .await;
        assert!(added.starts_with("Added action item 2:"), "{added}");
    }
    let before = h.chat.texts().len();
    for now in [
        // Tuesday 10:00 in Madrid is 09:00 UTC: its 15-minute reminder.
        "2026-12-01T08:45:00Z",
        "2026-12-01T08:46:00Z",
        "2026-12-01T12:00:00Z",
    ] {
        h.tick(now).await;
        moved.tick(now).await;
    }
    // Lanes post in parallel: compare what was posted, not in which order.
    let mut old_posts = h.chat.texts()[before..].to_vec();
    let mut new_posts = moved.chat.texts();
    old_posts.sort();
    new_posts.sort();
    assert!(
        new_posts
            .iter()
            .any(|t| t.contains("Reminder: Exec team starts in 15 minutes") && !t.contains("Late")),
        "the pending reminder was sent on time: {new_posts:#?}"
    );
    assert_eq!(new_posts, old_posts, "nothing lost, nothing twice");
}

#[tokio::test]
async fn an_export_imported_into_sqlite_and_back_holds_everything_and_sends_each_pending_reminder_once()
 {
    let middle_dir = tempfile::tempdir().unwrap();
    round_trip(format!(
        "sqlite://{}",
        middle_dir.path().join("middle.db").display()
    ))
    .await;
}

#[tokio::test]
#[ignore = "needs postgres (QUORUM_TEST_POSTGRES_URL)"]
async fn sqlite_to_postgresql_to_sqlite_holds_everything_and_sends_each_pending_reminder_once() {
    round_trip(support::core::fresh_postgres_database().await).await;
}

#[tokio::test]
async fn an_import_into_a_database_with_data_or_from_a_broken_file_is_refused_and_changes_nothing()
{
    let (h, _) = filled().await;
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    export(&h.url, &a);

    let (code, stdout, stderr) = import(&h.url, &a);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("quorum: the database already holds data (2 in series,"),
        "{stderr}"
    );
    let again = dir.path().join("again.json");
    export(&h.url, &again);
    assert_eq!(tables(&again), tables(&a));

    // A file cut short: the rows read so far are not kept.
    let target = format!("sqlite://{}", dir.path().join("new.db").display());
    let text = std::fs::read_to_string(&a).unwrap();
    let cut = dir.path().join("cut.json");
    std::fs::write(&cut, &text[..text.len() * 2 / 3]).unwrap();
    let (code, _, stderr) = import(&target, &cut);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("quorum: the file is not a complete Quorum export: EOF while parsing"),
        "{stderr}"
    );
    // A value of the wrong kind names its table and column.
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        text.replacen(
            "[1,\"acme\",\"Exec team\"",
            "[\"one\",\"acme\",\"Exec team\"",
            1,
        ),
    )
    .unwrap();
    let (code, _, stderr) = import(&target, &bad);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("series.id holds text where an integer was expected"),
        "{stderr}"
    );
    // Nothing was kept: the whole file still goes in.
    let (code, _, stderr) = import(&target, &a);
    assert_eq!(code, 0, "{stderr}");

    let (code, _, stderr) = support::run(
        &["export", "all", "--format", "csv"],
        &[("QUORUM_DATABASE_URL", &target)],
    );
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim(),
        "quorum: --format: `csv` is not a format of quorum export all; use json"
    );
    let (code, _, stderr) = import(&target, &dir.path().join("missing.json"));
    assert_eq!(code, 2);
    assert!(stderr.starts_with("quorum: cannot read "), "{stderr}");
}
