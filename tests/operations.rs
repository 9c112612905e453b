//! Running Quorum for years: one writer per SQLite file, logs fit for files
//! and journald, metrics, backups. Every test drives the real binary.

mod support;

use support::{Console, run, temp_db};

#[test]
fn a_second_console_or_run_on_a_sqlite_file_in_use_refuses_naming_the_first() {
    let (_dir, db) = temp_db();
    let url = format!("sqlite://{}", db.display());
    let mut first = Console::start(&db, &[], &[]);
    first.ask("/help", "meeting");
    for args in [&["console", "--exit-on-eof"][..], &["run"][..]] {
        let (code, out, err) = run(
            args,
            &[
                ("QUORUM_DATABASE_URL", &url),
                ("SLACK_BOT_TOKEN", "xoxb-unused"),
                ("SLACK_SIGNING_SECRET", "unused"),
                ("QUORUM_HTTP_LISTEN", "127.0.0.1:0"),
            ],
        );
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(out.is_empty(), "{out}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            err.contains(&format!(
                "{} is in use by quorum console (pid {}",
                db.display(),
                first.pid()
            )),
            "{err}"
        );
    }
    // The first is untouched and still answers.
    first.ask("/meeting list", "No meeting series yet");
}

#[test]
fn a_lock_left_by_a_killed_instance_never_blocks_the_restart() {
    let (_dir, db) = temp_db();
    let mut first = Console::start(&db, &[], &[]);
    first.ask("/help", "meeting");
    let pid = first.pid();
    first.kill();
    let lock = std::fs::read_to_string(db.with_extension("db.lock")).unwrap();
    assert!(
        lock.contains(&format!("pid {pid}")),
        "the dead holder's note stays: {lock}"
    );
    let mut second = Console::start(&db, &[], &[]);
    second.ask("/meeting list", "No meeting series yet");
    let lock = std::fs::read_to_string(db.with_extension("db.lock")).unwrap();
    assert!(lock.contains(&format!("pid {}", second.pid())), "{lock}");
    let (status, _) = second.terminate();
    assert!(status.success());
}

const SLACK_TOKEN: &str = "xoxb-SECRET-slack-b0t-7f3a";
const SIGNING: &str = "signing-SECRET-s1g-91c2";
const DISCORD_TOKEN: &str = "discord-SECRET-t0ken-44be";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Send one signed Slack slash command; the reply's text.
async fn slack(base: &str, text: &str, trigger: &str) -> String {
    let ts = chrono::Utc::now().timestamp().to_string();
    let body = serde_urlencoded::to_string([
        ("team_id", "T0001TEAM"),
        ("channel_id", "C0000OPS"),
        ("user_id", "U0000ANA1"),
        ("command", text.split_whitespace().next().unwrap()),
        ("text", text.split_once(' ').map_or("", |(_, t)| t)),
        ("response_url", "http://127.0.0.1:9/respond"),
        ("trigger_id", trigger),
    ])
    .unwrap();
    let sig = quorum::http::slack::signature(SIGNING, &ts, body.as_bytes());
    reqwest::Client::new()
        .post(format!("{base}/slack/commands"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", ts)
        .header("x-slack-signature", sig)
        .timeout(std::time::Duration::from_secs(10))
        .body(body)
        .send()
        .await
        .expect("a reply")
        .text()
        .await
        .unwrap()
}

/// Prometheus text, parsed strictly: every sample line is `name{labels} value`
/// with a valid name and a number; the exposition ends with `# EOF`.
fn parse_metrics(text: &str) -> std::collections::HashMap<String, f64> {
    assert_eq!(text.lines().last(), Some("# EOF"), "{text}");
    let mut samples = std::collections::HashMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        let name = series.split('{').next().unwrap();
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                && !name.starts_with(|c: char| c.is_ascii_digit()),
            "bad metric name in {line}"
        );
        if let Some(labels) = series.strip_prefix(name) {
            assert!(
                labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                "{line}"
            );
        }
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line}"));
        samples.insert(series.to_string(), value);
    }
    samples
}

#[tokio::test(flavor = "multi_thread")]
async fn run_serves_parseable_metrics_and_logs_json_at_debug_without_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("quorum.db").display());
    metrics_and_logs(dir, &url, 4.0).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL (QUORUM_TEST_POSTGRES_URL)"]
async fn run_on_postgres_serves_parseable_metrics_and_logs_json_without_a_secret() {
    let url = support::core::fresh_postgres_database().await;
    metrics_and_logs(tempfile::tempdir().unwrap(), &url, 8.0).await;
}

/// A `quorum run` that is stopped however the test ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn metrics_and_logs(dir: tempfile::TempDir, url: &str, pool_max: f64) {
    let (fake, discord_api, slack_api) = support::fakes::start().await;
    let config = dir.path().join("quorum.toml");
    let example = std::fs::read_to_string("deploy/quorum.example.toml").unwrap();
    std::fs::write(&config, format!("{example}\n[discord]\ngateway = false\n")).unwrap();
    let log = dir.path().join("quorum.log");
    let port = free_port();
    let public_key = hex::encode(
        ed25519_dalek::SigningKey::from_bytes(&[7; 32])
            .verifying_key()
            .to_bytes(),
    );
    let mut child = Running(
        std::process::Command::new(support::bin())
            .args([
                "--config",
                config.to_str().unwrap(),
                "--log-format",
                "json",
                "run",
            ])
            .env("QUORUM_DATABASE_URL", url)
            .env("QUORUM_HTTP_LISTEN", format!("127.0.0.1:{port}"))
            .env("QUORUM_LOG", "debug")
            .env("QUORUM_SLACK_API_BASE", &slack_api)
            .env("QUORUM_DISCORD_API_BASE", &discord_api)
            .env("SLACK_BOT_TOKEN", SLACK_TOKEN)
            .env("SLACK_SIGNING_SECRET", SIGNING)
            .env("DISCORD_TOKEN", DISCORD_TOKEN)
            .env("DISCORD_PUBLIC_KEY", &public_key)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start quorum run"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(std::time::Instant::now() < end, "quorum run never answered");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A series due every second, posting to the fake Slack; a bad command; an escalation.
    let added = slack(
        &base,
        r#"/meeting add title:"Pulse" when:"cron:* * * * * *" remind:0s"#,
        "trig.1",
    )
    .await;
    assert!(added.contains("Created series"), "{added}");
    let bad = slack(
        &base,
        r#"/meeting add title:"x" when:"fortnightly""#,
        "trig.2",
    )
    .await;
    assert!(bad.contains("fortnightly"), "{bad}");
    let raised = slack(
        &base,
        r#"/escalate topic:budget severity:high summary:"Runway""#,
        "trig.3",
    )
    .await;
    assert!(raised.to_lowercase().contains("escalation"), "{raised}");
    let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !fake.slack_texts().keys().any(|t| t.contains("Pulse")) {
        assert!(std::time::Instant::now() < end, "no reminder reached Slack");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let scrape = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(scrape.status(), 200);
    let kind = scrape.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let text = scrape.text().await.unwrap();
    let m = parse_metrics(&text);
    let get = |k: &str| *m.get(k).unwrap_or_else(|| panic!("no {k} in\n{text}"));
    assert_eq!(
        get(r#"quorum_commands_total{command="meeting add",outcome="ok"}"#),
        1.0
    );
    // A line that does not parse is counted under its family.
    assert_eq!(
        get(r#"quorum_commands_total{command="meeting",outcome="user_error"}"#),
        1.0
    );
    assert_eq!(
        get(r#"quorum_command_duration_seconds_count{command="meeting add"}"#),
        1.0
    );
    let inf = m.iter().find(|(k, _)| {
        k.starts_with("quorum_command_duration_seconds_bucket{")
            && k.contains(r#"command="meeting add""#)
            && k.contains(r#"le="+Inf""#)
    });
    assert_eq!(inf.map(|(_, v)| *v), Some(1.0), "{text}");
    assert!(
        get(r#"quorum_deliveries_total{platform="slack",kind="reminder",outcome="sent"}"#) >= 1.0
    );
    assert!(get(r#"quorum_chat_api_calls_total{platform="slack",status="200"}"#) >= 1.0);
    assert!(get("quorum_scheduler_tick_duration_seconds_count") >= 1.0);
    assert!(get("quorum_scheduler_lag_seconds") >= 0.0);
    assert_eq!(get("quorum_db_pool_max_connections"), pool_max);
    assert!(get(r#"quorum_db_pool_connections{state="idle"}"#) >= 0.0);
    assert!(get(r#"quorum_db_pool_connections{state="in_use"}"#) >= 0.0);
    let size = get("quorum_db_pool_size");
    assert!((1.0..=pool_max).contains(&size), "{text}");
    assert_eq!(
        size,
        get(r#"quorum_db_pool_connections{state="in_use"}"#)
            + get(r#"quorum_db_pool_connections{state="idle"}"#)
    );
    // Every acquire that waited is counted (src/store/pool.rs makes one wait).
    assert!(get(r#"quorum_db_pool_waits_total{pool="main"}"#) >= 0.0);
    assert!(get(r#"quorum_db_pool_waits_total{pool="sqlite_writer"}"#) >= 0.0);
    let escalations: f64 = m
        .iter()
        .filter(|(k, _)| k.starts_with("quorum_escalations{level="))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(escalations, 1.0, "{text}");

    std::process::Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(child.0.wait().unwrap().success());
    let log = std::fs::read_to_string(&log).unwrap();
    for secret in [SLACK_TOKEN, SIGNING, DISCORD_TOKEN] {
        assert!(!log.contains(secret), "a secret reached the log");
        assert!(
            !log.contains(&secret[8..20]),
            "part of a secret reached the log"
        );
    }
    assert!(!log.contains('\u{1b}'), "no colour codes in a file");
    let mut in_command_span = 0;
    for line in log.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
        let spans = v["spans"].as_array().cloned().unwrap_or_default();
        if spans.iter().any(|s| {
            s["name"] == "command" && s["command"] == "meeting add" && s["workspace"] == "T0001TEAM"
        }) {
            in_command_span += 1;
        }
    }
    assert!(
        in_command_span > 0,
        "no event inside a command span:\n{log}"
    );
}

#[test]
fn text_logs_written_to_a_file_carry_no_colour_codes() {
    let (dir, db) = temp_db();
    let log = dir.path().join("console.log");
    let out = std::process::Command::new(support::bin())
        .args(["console", "--exit-on-eof"])
        .env("QUORUM_DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("QUORUM_LOG", "debug")
        .stdin(std::fs::File::open("/dev/null").unwrap())
        .stderr(std::fs::File::create(&log).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success());
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("DEBUG"), "debug lines were written: {log}");
    assert!(!log.contains('\u{1b}'), "colour codes in a file");
}

async fn count(db: &std::path::Path, table: &str) -> i64 {
    use sqlx::Connection as _;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    n
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_taken_while_commands_run_restores_only_when_nothing_uses_the_database() {
    let (dir, db) = temp_db();
    let url = format!("sqlite://{}", db.display());
    let env = [("QUORUM_DATABASE_URL", url.as_str())];
    let backup = dir.path().join("backup.db");
    let backup_arg = backup.to_str().unwrap().to_string();
    let mut console = Console::start(&db, &[], &["--as", "cto"]);
    console.ask("/help", "meeting");
    // Commands keep arriving while the backup is written.
    let writer = std::thread::spawn(move || {
        for i in 0..200 {
            console.send(&format!("/action add task:\"Item {i}\" owner:cto"));
        }
        console.ask("/action add task:\"Last\" owner:cto", "Last");
        console
    });
    std::thread::sleep(std::time::Duration::from_millis(150));
    let (code, out, err) = run(&["backup", "--out", &backup_arg], &env);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("backup of "), "{out}");
    let console = writer.join().unwrap();
    let saved = count(&backup, "actions").await;
    let audit = count(&backup, "audit").await;
    assert!(saved >= 1, "the backup holds what was recorded before it");
    assert!(
        audit >= saved,
        "and each item's audit ({audit} for {saved})"
    );
    let (code, _, err) = run(&["backup", "--out", &backup_arg], &env);
    assert_eq!(code, 2, "an existing backup is never overwritten: {err}");

    let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while count(&db, "actions").await < 201 {
        assert!(
            std::time::Instant::now() < end,
            "the console never recorded every item"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // While the console runs, restore refuses and names it, even with --force.
    let (code, _, err) = run(&["restore", &backup_arg, "--force"], &env);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("in use by quorum console (pid {}", console.pid())),
        "{err}"
    );
    assert_eq!(count(&db, "actions").await, 201, "nothing changed");
    let (status, _) = console.terminate();
    assert!(status.success());

    let (code, _, err) = run(&["restore", &backup_arg], &env);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("add --force"), "{err}");
    assert_eq!(count(&db, "actions").await, 201, "nothing changed");

    let (code, out, err) = run(&["restore", &backup_arg, "--force"], &env);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("restored "), "{out}");
    assert_eq!(count(&db, "actions").await, saved);
    assert_eq!(count(&db, "audit").await, audit);
    let mut again = Console::start(&db, &[], &["--as", "cto"]);
    again.ask(
        "/action add task:\"After restore\" owner:cto",
        "After restore",
    );
    drop(again);
    assert_eq!(count(&db, "actions").await, saved + 1);
}

#[test]
fn backup_and_restore_of_postgres_say_to_use_its_own_tools() {
    let env = [(
        "QUORUM_DATABASE_URL",
        "postgres://quorum@127.0.0.1:9/quorum",
    )];
    let (code, _, err) = run(&["backup", "--out", "/nonexistent/x.db"], &env);
    assert_eq!(code, 2);
    assert!(err.contains("use pg_dump"), "{err}");
    let (code, _, err) = run(&["restore", "Cargo.toml"], &env);
    assert_eq!(code, 2);
    assert!(err.contains("use pg_restore"), "{err}");
}
