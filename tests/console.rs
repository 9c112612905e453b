//! The console binary end to end: real process, real SQLite file, real clock.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use support::{Console, deliveries, occurrence_of, reminders, temp_db};

const EVERY_2S: &str = r#"/meeting add title:"Stand-up" when:"cron:*/2 * * * * *" channel:ops remind:0s attendees:ceo,cto"#;

fn assert_unique(lines: &[String]) -> Vec<String> {
    let occ: Vec<String> = lines.iter().map(|l| occurrence_of(l)).collect();
    let set: HashSet<&String> = occ.iter().collect();
    assert_eq!(
        set.len(),
        occ.len(),
        "a reminder was posted twice: {lines:#?}"
    );
    occ
}

/// Every occurrence from the first to the last reminder row is there, two seconds apart.
fn assert_contiguous(rows: &[(i64, String, bool)]) {
    for pair in rows.windows(2) {
        assert_eq!(
            pair[1].0 - pair[0].0,
            2,
            "an occurrence is missing between rows: {rows:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cron_series_firing_every_two_seconds_delivers_each_reminder_exactly_once() {
    let (_dir, db) = temp_db();
    let mut c = Console::start(&db, &[], &[]);
    c.ask(EVERY_2S, "Created series 1");
    std::thread::sleep(Duration::from_secs(9));
    let lines = c.kill();
    let sent = reminders(&lines);
    assert!(
        sent.len() >= 3,
        "expected at least 3 reminders in 9 s: {lines:#?}"
    );
    assert!(
        sent.iter()
            .all(|l| l.starts_with("[#ops] Reminder: Stand-up starts now"))
    );
    assert!(sent[0].contains("Attendees: ceo, cto"));
    assert_unique(&sent);
    let rows = deliveries(&db).await;
    assert_contiguous(&rows);
    let sent_rows = rows.iter().filter(|r| r.1 == "sent").count();
    assert_eq!(
        sent_rows,
        sent.len(),
        "every printed reminder is recorded as sent, and only those"
    );
    assert!(
        rows.iter()
            .all(|r| r.1 == "sent" || r.1 == "pending" || r.1 == "sending")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_the_console_with_sigkill_and_restarting_loses_and_doubles_nothing() {
    let (_dir, db) = temp_db();
    let mut first = Console::start(&db, &[], &[]);
    first.ask(EVERY_2S, "Created series 1");
    std::thread::sleep(Duration::from_millis(4500));
    let before = reminders(&first.kill());
    std::thread::sleep(Duration::from_millis(3000));
    let second = Console::start(&db, &[], &[]);
    std::thread::sleep(Duration::from_millis(5000));
    let after = reminders(&second.kill());
    let all: Vec<String> = before.iter().chain(after.iter()).cloned().collect();
    assert!(
        !before.is_empty() && !after.is_empty(),
        "{before:#?} {after:#?}"
    );
    assert_unique(&all);
    assert!(
        after.iter().any(|l| l.contains("(Late: was due")),
        "a reminder due during the downtime is sent late on start: {after:#?}"
    );
    let rows = deliveries(&db).await;
    assert_contiguous(&rows);
    let sent = rows.iter().filter(|r| r.1 == "sent").count();
    assert_eq!(
        sent,
        all.len(),
        "rows sent == lines printed across both runs: {rows:?}"
    );
    assert!(
        !rows.iter().any(|r| r.1 == "missed" || r.1 == "failed"),
        "{rows:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reminders_due_during_downtime_follow_the_grace_rule() {
    let (_dir, db) = temp_db();
    let env = [("QUORUM_SCHEDULER_GRACE", "4s")];
    let mut first = Console::start(&db, &env, &[]);
    first.ask(EVERY_2S, "Created series 1");
    std::thread::sleep(Duration::from_millis(2500));
    let before = reminders(&first.kill());
    std::thread::sleep(Duration::from_secs(10));
    let second = Console::start(&db, &env, &[]);
    let summary = second
        .wait_for(
            Duration::from_secs(5),
            |l| l.contains("] Quorum was down"),
            0,
        )
        .expect("a summary of missed reminders");
    std::thread::sleep(Duration::from_secs(3));
    let lines = second.kill();
    assert!(summary.starts_with("[#ops] Quorum was down: "), "{summary}");
    assert!(
        summary.contains("fell due more than 4 seconds ago"),
        "{summary}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("] Quorum was down"))
            .count(),
        1,
        "one summary: {lines:#?}"
    );
    let after = reminders(&lines);
    let late: Vec<&String> = after
        .iter()
        .filter(|l| l.contains("(Late: was due"))
        .collect();
    assert!(
        !late.is_empty(),
        "reminders within the grace period are sent late: {after:#?}"
    );
    let all: Vec<String> = before.iter().chain(after.iter()).cloned().collect();
    assert_unique(&all);
    let rows = deliveries(&db).await;
    assert_contiguous(&rows);
    let missed = rows.iter().filter(|r| r.1 == "missed").count();
    assert!(
        missed >= 2,
        "about 3 of the 5 downtime reminders are older than 4 s: {rows:?}"
    );
    assert!(
        summary.contains(&format!("{missed} reminders")),
        "summary counts them: {summary}"
    );
    assert_eq!(
        rows.iter().filter(|r| r.1 == "sent" && r.2).count(),
        late.len()
    );
    assert_eq!(rows.iter().filter(|r| r.1 == "sent").count(), all.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agenda_is_shown_in_the_next_reminder_then_archived() {
    let (_dir, db) = temp_db();
    let mut c = Console::start(&db, &[], &[]);
    c.ask(
        r#"/meeting add title:"Exec team" when:"cron:*/5 * * * * *" channel:exec remind:0s"#,
        "Created series 1",
    );
    // Right after an occurrence there are about five seconds to add items.
    c.wait_for(Duration::from_secs(7), |l| l.contains("] Reminder"), 0)
        .expect("a first reminder");
    c.ask(
        r#"/meeting agenda id:1 item:"Q3 budget""#,
        "Added. Agenda of Exec team",
    );
    c.ask(
        r#"/meeting agenda id:1 item:"Hiring plan""#,
        "2) Hiring plan",
    );
    let n = c.lines().len();
    let with_items = c
        .wait_for(Duration::from_secs(7), |l| l.contains("] Reminder"), n)
        .expect("the next reminder");
    assert!(
        with_items.contains("Agenda:\n    1. Q3 budget\n    2. Hiring plan"),
        "{with_items}"
    );
    let n = c.lines().len();
    let after = c
        .wait_for(Duration::from_secs(7), |l| l.contains("] Reminder"), n)
        .expect("the reminder after that");
    assert!(
        after.contains("Agenda: none yet"),
        "items are archived with their occurrence: {after}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn meeting_commands_reply_and_change_the_database() {
    let (_dir, db) = temp_db();
    let mut c = Console::start(&db, &[], &["--as", "ana"]);
    let banner = c
        .wait_for(
            Duration::from_secs(10),
            |l| l.starts_with("Quorum console"),
            0,
        )
        .expect("a banner at start");
    assert_eq!(
        banner,
        format!(
            "Quorum console (executive-team meetings, decisions, actions, escalations) on sqlite://{}, as ana; type /help",
            db.display()
        )
    );
    assert_eq!(c.lines()[0], banner, "the banner is the first line");
    c.ask(
        r#"/meeting add title:"Exec team" when:"monthly on the first monday at 10:00" tz:Europe/Madrid channel:exec remind:1d,15m attendees:ceo,cto"#,
        "Created series 1: Exec team (monthly on the first monday at 10:00, Europe/Madrid) in #exec",
    );
    let list = c.ask("/meeting list", "1 series:");
    assert!(list.contains("1 series:"));
    c.ask("/meeting next id:1", "Next occurrences of Exec team");
    let skipped = c.ask("/meeting skip id:1", "Skipped Exec team on Mon ");
    assert!(skipped.contains("Next: Mon "), "{skipped}");
    c.ask(
        r#"/meeting edit id:1 when:"weekly on friday at 16:00""#,
        "Updated series 1: Exec team (weekly on friday at 16:00",
    );
    c.ask("/meeting cancel id:1", "Cancelled series 1: Exec team");
    c.ask("/meeting list", "No meeting series yet");
    c.ask("/help meeting add", "/meeting add title:... when:...");
    let rows = deliveries(&db).await;
    assert!(
        rows.iter().all(|r| r.1 == "cancelled"),
        "cancelling a series cancels its reminders: {rows:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_one_clear_line_and_changes_nothing() {
    let (_dir, db) = temp_db();
    let mut c = Console::start(&db, &[], &[]);
    let cases = [
        (
            r#"/meeting add title:"X" when:"fortnightly on monday at 10:00""#,
            "error: when: `fortnightly` is not a cadence; try `every 2 weeks on monday at 10:00`",
        ),
        (
            r#"/meeting add title:"X" when:"weekly on monday at 10:00" tz:Europe/Madird"#,
            "error: tz: `Europe/Madird` is not an IANA time zone; did you mean `Europe/Madrid`?",
        ),
        (
            r#"/meeting add title:"X" when:"once on 2001-01-01 at 10:00""#,
            "error: `once on 2001-01-01 at 10:00` has no occurrence after now",
        ),
        (
            "/meeting skip id:42",
            "error: there is no series 42 here; see /meeting list",
        ),
        ("/meeting cancel id:x", "error: id: `x` is not an id"),
        (
            "/meeting add when:daily",
            "error: /meeting add needs title:...",
        ),
        (
            r#"/meeting add title:"X" when:"daily at 9" remind:1day"#,
            "error: when: `9` is not a time of day",
        ),
        (
            r#"/meeting add title:"X" when:"daily at 09:00" remind:1day"#,
            "error: remind: reminder lead times: `1day` is not a duration",
        ),
        (
            "/meeting frobnicate",
            "error: /meeting has no subcommand `frobnicate`",
        ),
        (
            "hello",
            "error: `hello` is not a command; commands start with /",
        ),
    ];
    for (line, expected) in cases {
        let got = c.ask(line, "error:");
        assert!(
            got.starts_with(expected),
            "{line}\n got: {got}\nwant: {expected}"
        );
    }
    c.ask("/meeting list", "No meeting series yet");
    let errors = c.lines().iter().filter(|l| l.starts_with("error:")).count();
    assert_eq!(
        errors,
        cases.len(),
        "each bad command gets exactly one error line"
    );
    assert!(deliveries(&db).await.is_empty());
}

#[test]
fn exit_on_eof_exits_cleanly_after_the_last_command() {
    let (_dir, db) = temp_db();
    let mut c = Console::start(&db, &[], &["--exit-on-eof"]);
    c.send("/meeting list");
    let (status, lines) = c.finish();
    assert!(status.success());
    assert!(
        lines.iter().any(|l| l.contains("No meeting series yet")),
        "{lines:#?}"
    );
}

#[test]
fn end_of_input_posts_what_the_last_commands_made_due_before_exiting() {
    // As the README's heredoc example does: commands, then end of input at
    // once. The ping an escalation makes is due now: it is posted before the
    // console exits, not left for the next start. (Critical: this runs on
    // the real clock, and a non-critical one waits out nights and weekends.)
    let (_dir, db) = temp_db();
    let mut c = Console::start(&db, &[], &["--exit-on-eof"]);
    c.send(r#"/escalate topic:budget severity:critical summary:"Cloud bill doubled""#);
    let (status, lines) = c.finish();
    assert!(status.success());
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("[#") && l.contains("ESCALATION #1")),
        "{lines:#?}"
    );
}

#[test]
fn a_sigterm_during_start_up_stops_cleanly() {
    // A database that accepts the connection and never answers keeps Quorum
    // in start-up. A SIGTERM then is a clean stop (status 0, nothing was
    // started), not a death by signal or a wait for the connect timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let url = format!("postgres://quorum:quorum@127.0.0.1:{port}/quorum");
    let console = Console::start_url(&url, &[], &[]);
    let (_held, _) = silent.accept().expect("Quorum connects");
    std::thread::sleep(Duration::from_millis(200));
    let (status, _) = console.terminate();
    assert!(status.success(), "a clean stop: {status:?}");
}

#[test]
fn the_dashboard_in_a_console_without_web_pages_says_how_to_serve_them_and_issues_no_link() {
    let (_dir, db) = temp_db();
    let mut c = Console::start(&db, &[], &[]);
    let reply = c.ask("/dashboard", "dashboard");
    let lines = c.kill();
    assert!(reply.contains("quorum console --serve"), "{lines:#?}");
    assert!(
        !reply.contains("token="),
        "no link that leads nowhere: {reply}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_console_started_with_serve_serves_the_dashboard_link_it_gives() {
    let (_dir, db) = temp_db();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut c = Console::start(&db, &[("QUORUM_HTTP_LISTEN", &listen)], &["--serve"]);
    let reply = c.ask("/dashboard", "sign-in link");
    let link = reply
        .split_whitespace()
        .find(|w| w.starts_with("http://") && w.contains("token="))
        .expect("a link")
        .to_string();
    assert!(link.starts_with(&format!("http://{listen}/dashboard/login?token=")));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed_in = client
        .get(&link)
        .send()
        .await
        .expect("the console serves it");
    assert_eq!(signed_in.status().as_u16(), 303, "the link signs in");
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_string();
    let page = client
        .get(format!("http://{listen}/dashboard"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("<html"));
    c.kill();
}

#[test]
fn a_direct_message_prints_whom_it_is_for_not_its_target() {
    // An executive who prefers direct messages: the approval request a
    // proposal makes goes to them alone, and the console says so as
    // `[@cfo]`, where Slack and Discord open a DM.
    let (dir, db) = temp_db();
    let config = dir.path().join("quorum.toml");
    std::fs::write(
        &config,
        r#"
[org.cfo]
name = "Chief Financial Officer"
channel = "cfo"
slack_user = "U0123ABCD"
notify = "dm"

[decisions.categories]
budget = "cfo"
"#,
    )
    .unwrap();
    let config = config.display().to_string();
    let mut c = Console::start(&db, &[], &["--config", &config, "--exit-on-eof"]);
    c.send(r#"/decision record title:"Raise the cloud budget" category:budget rationale:"growth""#);
    let (status, lines) = c.finish();
    assert!(status.success(), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("[@cfo] ") && l.contains("Raise the cloud budget")),
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.contains("[#dm:")), "{lines:#?}");
}
