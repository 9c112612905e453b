//! Every kind of notice Quorum posts unasked, made through the real path
//! (commands, then scheduler ticks with a controlled clock), rendered for
//! each platform and compared with the snapshots in `tests/snapshots/`:
//! reminder, approval request, chase, verify chase, weekly update,
//! escalation ping, climb, missed-reminder summary, risk review and monthly
//! update.
//!
//! A snapshot that differs fails with both texts. After a deliberate change,
//! `QUORUM_UPDATE_SNAPSHOTS=1 cargo test --test notices` rewrites them;
//! review the diff before committing.
//!
//! Slack bodies are also checked with slack_sdk (ignored unless asked for,
//! like the other slack_sdk tests) and Discord bodies against the vendored
//! OpenAPI description.

mod support;

use std::path::PathBuf;

use chrono::Duration;
use quorum::chat::Outgoing;
use quorum::config::Config;
use quorum::domain::notice::Kind;
use serde_json::{Value, json};
use support::core::{Harness, harness_with, reopen};

const ORG: &str = r#"
[defaults]
channel = "exec-team"
timezone = "Europe/Madrid"

[escalation]
path = ["department", "cto", "relevant", "exec-team", "board"]

[digest.monthly]

[org.ceo]
name = "Chief Executive"
user = "U0CEO00001"
channel = "ceo"

[org.cto]
name = "Chief Technology"
user = "U0CTO00001"
channel = "cto"

[org.cfo]
name = "Chief Financial"
user = "U0CFO00001"
channel = "cfo"

[org.coo]
name = "Chief Operating"
user = "U0COO00001"
channel = "coo"

[org.cpo]
name = "Chief Product"
user = "U0CPO00001"
channel = "cpo"

[org.board]
name = "Board"
user = "U0BRD00001"
channel = "board"
"#;

/// Tuesday 24 November 2026, 09:00 UTC (10:00 in Madrid).
const T0: &str = "2026-11-24T09:00:00Z";

fn config() -> Config {
    Config::from_toml(ORG, "notices.toml").unwrap()
}

fn posts(h: &Harness) -> Vec<Outgoing> {
    h.chat.posts.lock().unwrap().clone()
}

fn kind(m: &Outgoing) -> Kind {
    m.body.notice().kind
}

/// The first post of `kind` (panics with every post when there is none).
fn first(h: &Harness, k: Kind) -> Outgoing {
    let all = posts(h);
    all.iter()
        .find(|m| kind(m) == k)
        .cloned()
        .unwrap_or_else(|| panic!("no {k:?} among {:#?}", h.chat.texts()))
}

/// One post of every kind, made as people would make them.
async fn every_kind() -> Vec<(&'static str, Outgoing)> {
    let h = harness_with(T0, config()).await;
    h.cmd(
        T0,
        r#"/meeting add title:"Exec team" when:"weekly on tuesday at 12:00" remind:1h attendees:ceo,cto"#,
    )
    .await;
    h.cmd(T0, r#"/meeting agenda id:1 item:"Q1 budget""#).await;
    h.cmd(T0, r#"/meeting agenda id:1 item:"Hiring plan""#)
        .await;
    h.cmd(
        T0,
        r#"/action add task:"Rotate keys" owner:cto due:2026-11-20 priority:high"#,
    )
    .await;
    h.cmd(
        T0,
        r#"/action add task:"Board deck" owner:ceo due:2026-11-30"#,
    )
    .await;
    h.cmd(T0, r#"/action add task:"Vendor review" owner:cto"#)
        .await;
    h.cmd(
        T0,
        r#"/action add task:"Pricing page" owner:cpo due:2026-11-23"#,
    )
    .await;
    h.as_user("cpo", T0, "/action done id:4").await;
    h.as_user(
        "cto",
        T0,
        r#"/decision record title:"Cut cloud spend 10%" category:budget rationale:"The bill doubled since June""#,
    )
    .await;
    h.as_user(
        "cto",
        T0,
        r#"/escalate topic:security severity:critical summary:"Card processor down" level:department"#,
    )
    .await;
    h.cmd(
        T0,
        r#"/risk add title:"Key supplier insolvent" severity:critical owner:cfo mitigation:"Second source by Q1" review:weekly"#,
    )
    .await;
    // 10:00 Madrid: the approval request, the cto's daily chase, the
    // escalation's first ping.
    h.tick(T0).await;
    // 15 minutes unacknowledged: it climbs from the department to the cto.
    h.tick("2026-11-24T09:15:00Z").await;
    // 11:00 Madrid: the 1h reminder of the 12:00 meeting.
    h.tick("2026-11-24T10:00:00Z").await;
    // Three days after it was marked done, the item is still unverified.
    h.tick("2026-11-27T09:00:00Z").await;
    // Friday 16:00 Madrid: the weekly update.
    h.tick("2026-11-27T15:00:00Z").await;
    let mut out = vec![
        ("reminder", first(&h, Kind::Reminder)),
        ("approval-request", first(&h, Kind::ApprovalRequest)),
        ("chase", first(&h, Kind::Chase)),
        ("verify-chase", first(&h, Kind::VerifyChase)),
        ("weekly-update", first(&h, Kind::WeeklyUpdate)),
        ("escalation", first(&h, Kind::Escalation)),
        ("climb", first(&h, Kind::Climb)),
    ];
    // Down from Friday to the next Wednesday: the reminder of Tuesday's
    // meeting is reported, not sent.
    let Harness { dir, url, .. } = h;
    let config = Config {
        grace: Duration::hours(1),
        ..config()
    };
    let h = reopen(dir, url, "2026-12-02T09:00:00Z", config).await;
    h.tick("2026-12-02T09:00:00Z").await;
    out.push(("missed-reminders", first(&h, Kind::MissedReminders)));
    // Its weekly review fell due on Tuesday; November's update went out on
    // Tuesday 1 December, the first working day after it (both late, by
    // the downtime).
    out.push(("risk-review", first(&h, Kind::RiskReview)));
    out.push(("monthly-update", first(&h, Kind::PeriodUpdate)));
    out
}

fn snapshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/notices")
        .join(name)
}

/// Compare `actual` with the stored snapshot `name` (or write it, when
/// QUORUM_UPDATE_SNAPSHOTS is set). Returns the mismatch, if any.
fn check(name: &str, actual: &str) -> Option<String> {
    let path = snapshot_path(name);
    if std::env::var_os("QUORUM_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    (expected != actual).then(|| {
        format!(
            "snapshot {name} differs\n--- expected ({})\n{expected}\n--- actual\n{actual}\n",
            path.display()
        )
    })
}

fn slack_body(m: &Outgoing) -> Value {
    let (blocks, text) = quorum::chat::slack::blocks(m);
    json!({ "channel": m.channel, "text": text, "blocks": blocks })
}

fn discord_bodies(m: &Outgoing) -> Value {
    Value::Array(quorum::chat::discord::bodies(m))
}

#[tokio::test]
async fn every_notice_kind_matches_its_snapshot_on_every_platform() {
    let mut failures = Vec::new();
    for (name, m) in every_kind().await {
        let console = format!("[#{}] {}\n", m.channel, quorum::chat::console::render(&m));
        let slack = format!("{:#}\n", slack_body(&m));
        let discord = format!("{:#}\n", discord_bodies(&m));
        failures.extend(check(&format!("{name}.console.txt"), &console));
        failures.extend(check(&format!("{name}.slack.json"), &slack));
        failures.extend(check(&format!("{name}.discord.json"), &discord));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn notices_read_as_people_expect_on_the_console() {
    let all = every_kind().await;
    for (name, m) in &all {
        let text = quorum::chat::console::render(m);
        assert!(!text.contains("[series"), "{name}: {text}");
        assert!(
            !text.lines().any(|l| l.matches(':').count() > 3),
            "{name}: no time with seconds or run-on line: {text}"
        );
        assert!(
            text.lines().count() > 1,
            "{name} is more than one line: {text}"
        );
    }
    let text = |n: &str| {
        all.iter()
            .find(|(name, _)| *name == n)
            .map(|(_, m)| quorum::chat::console::render(m))
            .unwrap()
    };
    let reminder = text("reminder");
    assert!(
        reminder.contains("When: Tue 24 Nov 2026 12:00 CET\n"),
        "the zone once, no seconds: {reminder}"
    );
    assert!(
        reminder.contains("\n    - OVERDUE #1 Rotate keys (cto, due 2026-11-20)\n    - #2 Board deck (ceo, due 2026-11-30)\n    - #3 Vendor review (cto)"),
        "overdue first, then by due date: {reminder}"
    );
    let approval = text("approval-request");
    assert!(approval.contains("Rationale: The bill doubled since June"));
    assert!(approval.contains("[Approve] /decision approve id:1"));
    let verify = text("verify-chase");
    assert!(
        verify.contains("Marked done: by cpo, 3 days ago"),
        "{verify}"
    );
    let weekly = text("weekly-update");
    assert!(
        weekly.starts_with("Weekly update: Fri 20 Nov to Fri 27 Nov 2026"),
        "{weekly}"
    );
}

#[tokio::test]
async fn discord_bodies_of_every_kind_match_the_openapi_description() {
    let spec: Value =
        serde_json::from_str(include_str!("fixtures/discord-openapi-subset.json")).unwrap();
    let validator = jsonschema::draft202012::new(&json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": spec["components"],
        "$ref": "#/components/schemas/MessageCreateRequest",
    }))
    .unwrap();
    for (name, m) in every_kind().await {
        for body in quorum::chat::discord::bodies(&m) {
            let errors: Vec<String> = validator
                .iter_errors(&body)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{name}: {errors:?} in {body}");
            assert!(body["content"].as_str().unwrap().chars().count() <= 2000);
        }
    }
}

#[tokio::test]
#[ignore = "needs python3 with slack_sdk (pip install slack_sdk)"]
async fn slack_bodies_of_every_kind_pass_slack_sdks_validation() {
    let all: String = every_kind()
        .await
        .iter()
        .map(|(_, m)| format!("{}\n", slack_body(m)))
        .collect();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), all).unwrap();
    let script = r#"
import json, sys
from slack_sdk.models.blocks import Block
n = 0
for line in open(sys.argv[1]):
    msg = json.loads(line)
    blocks = msg["blocks"]
    assert 0 < len(blocks) <= 50, "1 to 50 blocks"
    assert msg.get("text"), "no fallback text"
    for b in blocks:
        Block.parse(b).validate_json()
        n += 1
print("validated", n, "blocks")
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(file.path())
        .output()
        .expect("python3 with slack_sdk");
    assert!(
        out.status.success(),
        "Block Kit validation failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn the_buttons_of_chases_run_the_same_commands_with_the_same_checks() {
    let h = harness_with(T0, config()).await;
    h.cmd(
        T0,
        r#"/action add task:"Rotate keys" owner:cto due:2026-11-20"#,
    )
    .await;
    h.tick(T0).await;
    let chase = first(&h, Kind::Chase);
    let done = chase.body.notice().lists[0].items[0]
        .action
        .clone()
        .expect("a Done button on the item");
    assert_eq!(done.id, "action:done:1");
    let press = |user: &'static str, id: String| {
        let app = h.app.clone();
        async move {
            app.press(
                &support::core::actor("acme", user),
                &id,
                support::core::at("2026-11-24T09:30:00Z"),
            )
            .await
        }
    };
    let r = press("cto", done.id.clone()).await;
    assert!(!r.is_error, "{}", r.text);
    let item = h.app.store.action("acme", 1).await.unwrap().unwrap();
    assert_eq!(item.status, "done");
    // Three days on, the verify chase carries Verify; the one who marked it
    // done may not verify it, by button or by command.
    h.tick("2026-11-27T09:30:00Z").await;
    let verify = first(&h, Kind::VerifyChase).body.notice().actions[0].clone();
    assert_eq!(verify.id, "action:verify:1");
    assert_eq!(verify.command, "/action verify id:1");
    let r = press("cto", verify.id.clone()).await;
    assert!(r.is_error, "{}", r.text);
    let typed = h
        .fails("cto", "2026-11-27T09:31:00Z", &verify.command)
        .await;
    assert_eq!(r.text, typed, "the button says what the command says");
    let r = press("ana", verify.id.clone()).await;
    assert!(!r.is_error, "{}", r.text);
    let item = h.app.store.action("acme", 1).await.unwrap().unwrap();
    assert_eq!(item.status, "verified");
}
