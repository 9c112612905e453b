//! Slack end to end on loopback: slash commands and button presses signed
//! like Slack signs them (by a helper, and once by slack_sdk itself) posted
//! to Quorum's real endpoints; what Quorum sends goes to a fake Slack Web API
//! that records it; Block Kit bodies are checked with slack_sdk's validation.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use quorum::chat::slack::SlackChat;
use quorum::config::Config;
use quorum::scheduler::Scheduler;
use serde_json::{Value, json};

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const TEAM: &str = "T0001TEAM";
const OTHER_TEAM: &str = "T0002TEAM";
const ANA: &str = "U0001ANA00";
const CFO: &str = "U0002CFO00";

#[derive(Default)]
struct FakeSlack {
    posts: Mutex<Vec<Value>>,
    responses: Mutex<Vec<Value>>,
    /// Answer this many next posts with ok:false and this error.
    fail: Mutex<Option<(usize, String)>>,
    /// Answer this many next posts with 429.
    limited: AtomicUsize,
    /// Forms opened with views.open.
    views: Mutex<Vec<Value>>,
    /// Direct messages opened with conversations.open (their bodies).
    opened: Mutex<Vec<Value>>,
    /// Answer this many next conversations.open with ok:false internal_error.
    open_fails: AtomicUsize,
    /// Answer every conversations.open with ok:false and this error.
    open_refused: Mutex<Option<String>>,
}

/// The direct-message channel the fake opens for `user`.
fn dm_channel(user: &str) -> String {
    format!("D{}", user.trim_start_matches('U'))
}

async fn conversations_open(
    State(fake): State<Arc<FakeSlack>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Json<Value> {
    assert_eq!(headers.get("authorization").unwrap(), "Bearer xoxb-test");
    if fake
        .open_fails
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return Json(json!({ "ok": false, "error": "internal_error" }));
    }
    if let Some(code) = fake.open_refused.lock().unwrap().clone() {
        return Json(json!({ "ok": false, "error": code }));
    }
    fake.opened.lock().unwrap().push(body.clone());
    let user = body["users"].as_str().unwrap_or_default();
    Json(json!({ "ok": true, "channel": { "id": dm_channel(user) } }))
}

async fn views_open(State(fake): State<Arc<FakeSlack>>, Json(body): Json<Value>) -> Json<Value> {
    fake.views.lock().unwrap().push(body);
    Json(json!({ "ok": true }))
}

async fn post_message(
    State(fake): State<Arc<FakeSlack>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    assert_eq!(headers.get("authorization").unwrap(), "Bearer xoxb-test");
    if fake
        .limited
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "").into_response();
    }
    {
        let mut fail = fake.fail.lock().unwrap();
        if let Some((n, code)) = fail.as_mut() {
            if *n > 0 {
                *n -= 1;
                return Json(json!({ "ok": false, "error": code })).into_response();
            }
        }
    }
    fake.posts.lock().unwrap().push(body.clone());
    Json(json!({ "ok": true, "channel": body["channel"], "ts": "1700000000.000100" }))
        .into_response()
}

async fn response_url(State(fake): State<Arc<FakeSlack>>, Json(body): Json<Value>) -> StatusCode {
    fake.responses.lock().unwrap().push(body);
    StatusCode::OK
}

struct Bot {
    _dir: tempfile::TempDir,
    base: String,
    fake: Arc<FakeSlack>,
    fake_base: String,
    app: quorum::app::App,
    scheduler: Scheduler<SlackChat>,
    http: reqwest::Client,
    replies: Mutex<Vec<Value>>,
}

async fn bot() -> Bot {
    bot_with("").await
}

/// A bot whose config has `extra` lines in its `[slack]` section and
/// `org_extra` lines in its `[org.cfo]` section.
async fn bot_with(extra: &str) -> Bot {
    bot_configured(extra, "").await
}

async fn bot_configured(extra: &str, org_extra: &str) -> Bot {
    let fake = Arc::new(FakeSlack::default());
    let router = axum::Router::new()
        .route("/api/chat.postMessage", axum::routing::post(post_message))
        .route("/api/views.open", axum::routing::post(views_open))
        .route(
            "/api/conversations.open",
            axum::routing::post(conversations_open),
        )
        .route("/respond", axum::routing::post(response_url))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fake_base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[database]\nurl = \"{}\"\n[defaults]\nchannel = \"C0000EXEC\"\n[org.cfo]\nname = \"CFO\"\nslack_user = \"{CFO}\"\nchannel = \"finance\"\n{org_extra}\n[slack]\napi_base = \"{fake_base}/api\"\n{extra}\n[slack.channels]\nfinance = \"C0000FIN\"\n",
        support::core::test_database(dir.path()).await
    );
    let config = Config::from_toml(&text, "t.toml").unwrap();
    let chat = Arc::new(
        SlackChat::new(
            &config.slack.api_base,
            "xoxb-test",
            config.slack.channels.clone(),
        )
        .unwrap(),
    );
    let (app, _) = quorum::start(config.clone(), chat.clone()).await.unwrap();
    let scheduler = Scheduler::new(app.store.clone(), &config, chat.clone(), Utc::now());
    let state = quorum::http::HttpState {
        app: app.clone(),
        discord_key: None,
        slack_secret: Some(SECRET.into()),
        slack_web: Some(chat.clone()),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, quorum::http::router(state))
            .await
            .unwrap()
    });
    Bot {
        _dir: dir,
        base,
        fake,
        fake_base,
        app,
        scheduler,
        http: reqwest::Client::new(),
        replies: Mutex::new(Vec::new()),
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

static TRIGGER: AtomicUsize = AtomicUsize::new(1);

impl Bot {
    async fn raw(
        &self,
        path: &str,
        body: &str,
        ts: i64,
        signature: Option<String>,
        retry: Option<&str>,
    ) -> reqwest::Response {
        let ts = ts.to_string();
        let sig = signature
            .unwrap_or_else(|| quorum::http::slack::signature(SECRET, &ts, body.as_bytes()));
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", ts)
            .header("x-slack-signature", sig);
        if let Some(n) = retry {
            req = req.header("x-slack-retry-num", n);
        }
        req.body(body.to_string()).send().await.unwrap()
    }

    fn command_body(&self, team: &str, user: &str, command: &str, text: &str) -> String {
        let trigger = format!("trig.{}", TRIGGER.fetch_add(1, Ordering::SeqCst));
        let url = format!("{}/respond", self.fake_base);
        form(&[
            ("team_id", team),
            ("channel_id", "C0000OPS"),
            ("user_id", user),
            ("command", command),
            ("text", text),
            ("response_url", &url),
            ("trigger_id", &trigger),
        ])
    }

    async fn command(&self, team: &str, user: &str, command: &str, text: &str) -> Value {
        let body = self.command_body(team, user, command, text);
        let resp = self
            .raw("/slack/commands", &body, Utc::now().timestamp(), None, None)
            .await;
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.unwrap();
        self.replies.lock().unwrap().push(v.clone());
        v
    }

    async fn press(&self, user: &str, action_id: &str) {
        let payload = json!({
            "type": "block_actions", "team": { "id": TEAM }, "user": { "id": user }, "channel": { "id": "C0000FIN" },
            "trigger_id": format!("press.{}", TRIGGER.fetch_add(1, Ordering::SeqCst)),
            "response_url": format!("{}/respond", self.fake_base),
            "actions": [{ "type": "button", "action_id": action_id, "value": action_id }]
        });
        let body = form(&[("payload", &payload.to_string())]);
        let resp = self
            .raw(
                "/slack/interactions",
                &body,
                Utc::now().timestamp(),
                None,
                None,
            )
            .await;
        assert_eq!(resp.status(), 200);
    }

    async fn wait_responses(&self, n: usize) -> Vec<Value> {
        for _ in 0..100 {
            if self.fake.responses.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        self.fake.responses.lock().unwrap().clone()
    }

    /// Every Block Kit body passes slack_sdk's validation.
    fn validate(&self) {
        require_slack_sdk();
        let mut all: Vec<Value> = self.fake.posts.lock().unwrap().clone();
        all.extend(self.replies.lock().unwrap().iter().cloned());
        all.extend(self.fake.responses.lock().unwrap().iter().cloned());
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(
            file.path(),
            all.iter().map(|v| format!("{v}\n")).collect::<String>(),
        )
        .unwrap();
        let script = r#"
import json, sys
from slack_sdk.models.blocks import Block
n = 0
for line in open(sys.argv[1]):
    msg = json.loads(line)
    blocks = msg.get("blocks") or []
    assert len(blocks) <= 50, "more than 50 blocks"
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
            .unwrap();
        assert!(
            out.status.success(),
            "Block Kit validation failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_command_family_works_through_signed_slash_commands() {
    scenario_each_command_family_works_through_signed_slash_commands().await;
}

/// The scenario of [`each_command_family_works_through_signed_slash_commands`]; returns the bot, for its bodies to be checked.
async fn scenario_each_command_family_works_through_signed_slash_commands() -> Bot {
    let b = bot().await;
    let v = b
        .command(
            TEAM,
            ANA,
            "/meeting",
            r#"add title:"Exec <team> & co" when:"weekly on monday at 10:00" tz:Europe/Madrid"#,
        )
        .await;
    assert_eq!(v["response_type"], "in_channel");
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .starts_with("Created series 1: Exec &lt;team&gt; &amp; co"),
        "user text is escaped: {v}"
    );
    let v = b
        .command(
            TEAM,
            ANA,
            "/decision",
            r#"record title:"Cut spend" category:budget rationale:"<!channel> look""#,
        )
        .await;
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .contains("as proposed: cfo holds the authority"),
        "{v}"
    );
    let v = b
        .command(
            TEAM,
            ANA,
            "/action",
            r#"add task:"Evaluate pgvector" owner:cto due:friday"#,
        )
        .await;
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .starts_with("Added action item 1"),
        "{v}"
    );
    let v = b
        .command(
            TEAM,
            ANA,
            "/escalate",
            // Critical: this ticks the real clock, and a non-critical ping
            // waits out nights and weekends.
            r#"topic:budget severity:critical summary:"Cloud bill doubled""#,
        )
        .await;
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .contains("went to cfo in #finance"),
        "{v}"
    );
    assert_eq!(v["response_type"], "ephemeral");
    // `/dashboard`: a private sign-in link for this person and team.
    let v = b.command(TEAM, ANA, "/dashboard", "").await;
    assert_eq!(v["response_type"], "ephemeral");
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .contains("/dashboard/login?token="),
        "{v}"
    );
    let v = b.command(TEAM, ANA, "/escalation", "list").await;
    assert!(
        v["text"].as_str().unwrap().starts_with("1 escalation:"),
        "{v}"
    );
    let v = b
        .command(TEAM, ANA, "/meeting", "add title:X when:fortnightly")
        .await;
    assert_eq!(v["response_type"], "ephemeral");
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .starts_with("when: `fortnightly` is not a cadence"),
        "{v}"
    );

    b.scheduler.tick(Utc::now()).await.unwrap();
    let posts = b.fake.posts.lock().unwrap().clone();
    let fin: Vec<&Value> = posts
        .iter()
        .filter(|p| p["channel"] == "C0000FIN")
        .collect();
    assert_eq!(
        fin.len(),
        2,
        "proposal and escalation go to the CFO's channel: {posts:#?}"
    );
    let esc = fin
        .iter()
        .find(|p| p["text"].as_str().unwrap().contains("ESCALATION"))
        .unwrap();
    assert!(
        esc["text"]
            .as_str()
            .unwrap()
            .starts_with(&format!("<@{CFO}> ")),
        "pings exactly the CFO: {esc}"
    );
    assert_eq!(
        esc["blocks"].as_array().unwrap().last().unwrap()["elements"][0]["action_id"],
        "esc:ack:1"
    );
    let proposal = fin
        .iter()
        .find(|p| p["text"].as_str().unwrap().contains("needs your approval"))
        .unwrap();
    assert!(
        !proposal.to_string().contains("<!channel>"),
        "typed text never pings the channel: {proposal}"
    );
    b
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_signatures_and_old_timestamps_get_401() {
    let b = bot().await;
    let body = b.command_body(TEAM, ANA, "/meeting", "list");
    let now = Utc::now().timestamp();
    let wrong = quorum::http::slack::signature("not the secret", &now.to_string(), body.as_bytes());
    assert_eq!(
        b.raw("/slack/commands", &body, now, Some(wrong), None)
            .await
            .status(),
        401
    );
    assert_eq!(
        b.raw("/slack/commands", &body, now - 301, None, None)
            .await
            .status(),
        401
    );
    assert_eq!(
        b.raw("/slack/interactions", &body, now - 400, None, None)
            .await
            .status(),
        401
    );
    let unsigned = b
        .http
        .post(format!("{}/slack/commands", b.base))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    assert_eq!(
        b.raw("/slack/commands", &body, now, None, None)
            .await
            .status(),
        200
    );
}

/// Python's slack_sdk is the reference for Slack's signing and Block Kit:
/// the tests that use it are ignored unless asked for (`--include-ignored`,
/// as CI does), and then they need it.
fn require_slack_sdk() {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import slack_sdk"])
        .status();
    assert!(
        matches!(probe, Ok(s) if s.success()),
        "needs python3 with slack_sdk: pip install slack_sdk"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs python3 with slack_sdk (pip install slack_sdk)"]
async fn every_block_kit_body_passes_slack_sdks_validation() {
    scenario_each_command_family_works_through_signed_slash_commands()
        .await
        .validate();
    scenario_a_button_press_acknowledges_an_escalation()
        .await
        .validate();
    scenario_a_429_burst_loses_and_doubles_nothing()
        .await
        .validate();
    scenario_the_attending_button_records_the_answer_and_the_next_reminder_shows_it()
        .await
        .validate();
    scenario_an_executive_who_chose_dm_gets_approval_requests_by_direct_message_opened_once()
        .await
        .validate();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs python3 with slack_sdk (pip install slack_sdk)"]
async fn a_request_signed_by_slack_sdk_is_accepted() {
    require_slack_sdk();
    let b = bot().await;
    let body = b.command_body(TEAM, ANA, "/meeting", "list");
    let ts = Utc::now().timestamp().to_string();
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; from slack_sdk.signature import SignatureVerifier as V; print(V(sys.argv[1]).generate_signature(timestamp=sys.argv[2], body=sys.argv[3]))"])
        .args([SECRET, &ts, &body])
        .output()
        .unwrap();
    let sig = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(
        sig,
        quorum::http::slack::signature(SECRET, &ts, body.as_bytes()),
        "the same signature as Slack's reference code"
    );
    let resp = b
        .raw(
            "/slack/commands",
            &body,
            ts.parse().unwrap(),
            Some(sig),
            None,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .contains("No meeting series yet"),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retried_request_never_acts_twice() {
    let b = bot().await;
    let body = b.command_body(TEAM, ANA, "/action", r#"add task:"Only once" owner:cto"#);
    let now = Utc::now().timestamp();
    assert_eq!(
        b.raw("/slack/commands", &body, now, None, None)
            .await
            .status(),
        200
    );
    let retry = b.raw("/slack/commands", &body, now, None, Some("1")).await;
    assert_eq!(retry.status(), 200);
    assert_eq!(
        retry.text().await.unwrap(),
        "",
        "a retry is acknowledged and ignored"
    );
    let actions = b
        .app
        .store
        .list_actions(TEAM, &Default::default())
        .await
        .unwrap();
    assert_eq!(actions.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_button_press_acknowledges_an_escalation() {
    scenario_a_button_press_acknowledges_an_escalation().await;
}

/// The scenario of [`a_button_press_acknowledges_an_escalation`]; returns the bot, for its bodies to be checked.
async fn scenario_a_button_press_acknowledges_an_escalation() -> Bot {
    let b = bot().await;
    b.command(
        TEAM,
        ANA,
        "/escalate",
        r#"topic:budget severity:critical summary:"Payroll failed""#,
    )
    .await;
    b.scheduler.tick(Utc::now()).await.unwrap();
    b.press(ANA, "esc:ack:1").await;
    let r = b.wait_responses(1).await;
    assert!(
        r[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("only cfo, exec-team, board may acknowledge escalation 1"),
        "{r:#?}"
    );
    assert_eq!(r[0]["response_type"], "ephemeral");
    b.press(CFO, "esc:ack:1").await;
    let r = b.wait_responses(2).await;
    assert!(
        r[1]["text"]
            .as_str()
            .unwrap()
            .starts_with("Acknowledged escalation 1"),
        "{r:#?}"
    );
    assert_eq!(
        b.app
            .store
            .escalation(TEAM, 1)
            .await
            .unwrap()
            .unwrap()
            .state,
        "acked"
    );
    b
}

#[tokio::test(flavor = "multi_thread")]
async fn ok_false_is_an_error_retried_when_temporary_and_failed_when_not() {
    let b = bot().await;
    let now = Utc::now();
    b.app
        .store
        .enqueue_notice(TEAM, "C0000A", "n1", "first", now.timestamp())
        .await
        .unwrap();
    *b.fake.fail.lock().unwrap() = Some((1, "internal_error".into()));
    let r = b.scheduler.tick(now).await.unwrap();
    assert_eq!((r.sent, r.retried), (0, 1));
    let r = b.scheduler.tick(now + Duration::seconds(10)).await.unwrap();
    assert_eq!(r.sent, 1, "sent on the retry");
    b.app
        .store
        .enqueue_notice(TEAM, "C0000B", "n2", "second", now.timestamp())
        .await
        .unwrap();
    *b.fake.fail.lock().unwrap() = Some((1, "channel_not_found".into()));
    let r = b.scheduler.tick(now + Duration::seconds(20)).await.unwrap();
    assert_eq!(
        r.failed, 1,
        "a permanent Slack error is recorded as failed, not retried forever"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_burst_loses_and_doubles_nothing() {
    scenario_a_429_burst_loses_and_doubles_nothing().await;
}

/// The scenario of [`a_429_burst_loses_and_doubles_nothing`]; returns the bot, for its bodies to be checked.
async fn scenario_a_429_burst_loses_and_doubles_nothing() -> Bot {
    let b = bot().await;
    let now = Utc::now();
    for i in 0..6 {
        b.app
            .store
            .enqueue_notice(
                TEAM,
                &format!("C000{i}X"),
                &format!("burst-{i}"),
                &format!("notice {i}"),
                now.timestamp(),
            )
            .await
            .unwrap();
    }
    b.fake.limited.store(4, Ordering::SeqCst);
    let mut t = now;
    for _ in 0..10 {
        b.scheduler.tick(t).await.unwrap();
        t += Duration::seconds(2);
    }
    let posts = b.fake.posts.lock().unwrap().clone();
    let texts: std::collections::HashSet<String> = posts
        .iter()
        .map(|p| p["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(posts.len(), 6, "each notice exactly once: {posts:#?}");
    assert_eq!(texts.len(), 6);
    b
}

#[tokio::test(flavor = "multi_thread")]
async fn two_teams_never_see_each_others_data() {
    let b = bot_with(&format!("teams = [\"{TEAM}\", \"{OTHER_TEAM}\"]")).await;
    b.command(
        TEAM,
        ANA,
        "/meeting",
        r#"add title:"Secret board prep" when:"daily at 10:00""#,
    )
    .await;
    b.command(TEAM, ANA, "/action", r#"add task:"Secret task" owner:cto"#)
        .await;
    for (cmd, text) in [
        ("/meeting", "list"),
        ("/action", "list"),
        ("/decision", "list"),
        ("/escalation", "list"),
    ] {
        let v = b.command(OTHER_TEAM, "U0009OTHER", cmd, text).await;
        assert!(
            !v["text"].as_str().unwrap().contains("Secret"),
            "{cmd} {text}: {v}"
        );
    }
    let v = b
        .command(OTHER_TEAM, "U0009OTHER", "/meeting", "cancel id:1")
        .await;
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .contains("there is no series 1 here"),
        "{v}"
    );
}

/// What the fake Slack received, as (channel, text).
fn slack_posts(b: &Bot) -> Vec<(String, String)> {
    b.fake
        .posts
        .lock()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["channel"].as_str().unwrap_or_default().to_string(),
                p["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_team_the_deployment_does_not_name_is_refused_and_changes_nothing() {
    let b = bot_with(&format!("teams = [\"{TEAM}\"]")).await;
    let v = b
        .command(
            OTHER_TEAM,
            "U0009OTHER",
            "/escalate",
            r#"topic:budget severity:critical summary:"Pay us""#,
        )
        .await;
    let text = v["text"].as_str().unwrap();
    assert!(
        text.starts_with("This workspace is not set up for Quorum; ask its operator"),
        "{v}"
    );
    assert_eq!(v["response_type"], "ephemeral");
    b.scheduler.tick(Utc::now()).await.unwrap();
    let posts = slack_posts(&b);
    assert!(
        !posts.iter().any(|(_, t)| t.contains("Pay us")),
        "team A's CFO is never pinged: {posts:?}"
    );
    assert!(
        b.app
            .store
            .escalation(OTHER_TEAM, 1)
            .await
            .unwrap()
            .is_none()
    );
    let v = b
        .command(TEAM, ANA, "/action", r#"add task:"Ours" owner:cfo"#)
        .await;
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .starts_with("Added action item 1"),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_no_team_named_the_first_team_is_the_only_one_served() {
    let b = bot().await;
    let v = b
        .command(TEAM, ANA, "/action", r#"add task:"Ours" owner:cfo"#)
        .await;
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .starts_with("Added action item 1"),
        "{v}"
    );
    let v = b
        .command(
            OTHER_TEAM,
            "U0009OTHER",
            "/escalate",
            r#"topic:budget severity:critical summary:"Pay us""#,
        )
        .await;
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .contains("not set up for Quorum"),
        "{v}"
    );
    b.scheduler.tick(Utc::now()).await.unwrap();
    let posts = slack_posts(&b);
    assert!(
        !posts.iter().any(|(_, t)| t.contains("Pay us")),
        "{posts:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slack_channel_id_is_posted_to_verbatim() {
    let b = bot().await;
    let v = b
        .command(
            TEAM,
            ANA,
            "/meeting",
            r#"add title:"Standup" when:"cron:* * * * * *" remind:0s channel:CUPPER001"#,
        )
        .await;
    assert!(v["text"].as_str().unwrap().contains("in #CUPPER001"), "{v}");
    let mut t = Utc::now();
    for _ in 0..3 {
        t += Duration::seconds(2);
        b.scheduler.tick(t).await.unwrap();
    }
    let posts = slack_posts(&b);
    assert!(!posts.is_empty());
    assert!(posts.iter().all(|(c, _)| c == "CUPPER001"), "{posts:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_messages_name_executives_without_another_platforms_id() {
    let b = bot_configured("", "user = \"100000000000000001\"").await;
    // Critical: this ticks the real clock, and a non-critical ping waits
    // out nights and weekends.
    b.command(
        TEAM,
        ANA,
        "/escalate",
        r#"topic:budget severity:critical summary:"Cloud bill doubled""#,
    )
    .await;
    b.command(
        TEAM,
        ANA,
        "/decision",
        r#"record title:"Cut cloud spend" category:budget rationale:"Bill doubled""#,
    )
    .await;
    b.scheduler.tick(Utc::now()).await.unwrap();
    let posts: Vec<_> = slack_posts(&b)
        .into_iter()
        .filter(|(c, _)| c == "C0000FIN")
        .collect();
    assert_eq!(posts.len(), 2, "{posts:?}");
    for (_, text) in &posts {
        assert!(!text.contains("100000000000000001"), "{text}");
        assert!(text.starts_with(&format!("<@{CFO}> CFO")), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_without_a_trigger_id_replayed_with_the_same_signature_acts_once() {
    let b = bot().await;
    let url = format!("{}/respond", b.fake_base);
    let body = form(&[
        ("team_id", TEAM),
        ("channel_id", "C0000OPS"),
        ("user_id", ANA),
        ("command", "/action"),
        ("text", r#"add task:"Only once" owner:cto"#),
        ("response_url", &url),
    ]);
    let now = Utc::now().timestamp();
    let first = b.raw("/slack/commands", &body, now, None, None).await;
    assert_eq!(first.status(), 200);
    let v: Value = first.json().await.unwrap();
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .starts_with("Added action item 1"),
        "{v}"
    );
    let replay = b.raw("/slack/commands", &body, now, None, None).await;
    assert_eq!(replay.status(), 200);
    let v: Value = replay.json().await.unwrap();
    assert!(
        v["text"].as_str().unwrap().starts_with("Already done"),
        "a replay changes nothing and says so: {v}"
    );
    let actions = b
        .app
        .store
        .list_actions(TEAM, &Default::default())
        .await
        .unwrap();
    assert_eq!(actions.len(), 1, "one action, not two");
    // The same text signed at another second is a new request.
    let again = b.raw("/slack/commands", &body, now + 1, None, None).await;
    let v: Value = again.json().await.unwrap();
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .starts_with("Added action item 2"),
        "{v}"
    );

    // A button press without a trigger id, twice with the same signature.
    b.command(
        TEAM,
        ANA,
        "/escalate",
        r#"topic:budget severity:critical summary:"Payroll failed""#,
    )
    .await;
    let payload = json!({
        "type": "block_actions", "team": { "id": TEAM }, "user": { "id": CFO }, "channel": { "id": "C0000FIN" },
        "response_url": url,
        "actions": [{ "type": "button", "action_id": "esc:ack:1", "value": "esc:ack:1" }]
    });
    let body = form(&[("payload", &payload.to_string())]);
    for _ in 0..2 {
        let resp = b.raw("/slack/interactions", &body, now, None, None).await;
        assert_eq!(resp.status(), 200);
    }
    let r = b.wait_responses(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let r2 = b.fake.responses.lock().unwrap().clone();
    assert_eq!(
        r2.len(),
        r.len(),
        "the replayed press was not answered: {r2:#?}"
    );
    assert_eq!(r.len(), 1, "{r:#?}");
    assert!(
        r[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Acknowledged escalation 1"),
        "{r:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn request_keys_older_than_the_replay_window_are_pruned_and_recent_ones_kept() {
    use quorum::store::INBOUND_KEEP_SECS;
    let b = bot().await;
    let store = &b.app.store;
    let now = Utc::now().timestamp();
    assert!(
        store
            .first_time("old", now - INBOUND_KEEP_SECS - 1)
            .await
            .unwrap()
    );
    assert!(
        store
            .first_time("recent", now - INBOUND_KEEP_SECS + 5)
            .await
            .unwrap()
    );
    assert_eq!(store.prune_inbound(now).await.unwrap(), 1);
    assert!(
        !store.first_time("recent", now).await.unwrap(),
        "a key within the window is still caught"
    );
    assert!(
        store.first_time("old", now).await.unwrap(),
        "an expired key was deleted"
    );

    // Recording requests prunes on its own, at most once a minute.
    let later = now + 10 * INBOUND_KEEP_SECS;
    assert!(store.first_time("new", later).await.unwrap());
    for key in ["old", "recent"] {
        assert!(
            store.first_time(key, later).await.unwrap(),
            "`{key}` was pruned when `new` was recorded"
        );
    }
    assert!(!store.first_time("new", later).await.unwrap());
}

/// Hold the database's write lock (as a long transaction elsewhere would)
/// until the returned sender is dropped or fired.
async fn hold_write_lock(url: &str) -> tokio::sync::oneshot::Sender<()> {
    use sqlx::Connection as _;
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let (locked, is_locked) = tokio::sync::oneshot::channel::<()>();
    let url = url.to_string();
    tokio::spawn(async move {
        if url.starts_with("sqlite:") {
            let mut c = sqlx::sqlite::SqliteConnection::connect(&url).await.unwrap();
            sqlx::Executor::execute(&mut c, "BEGIN IMMEDIATE")
                .await
                .unwrap();
            locked.send(()).unwrap();
            let _ = released.await;
            sqlx::Executor::execute(&mut c, "COMMIT").await.unwrap();
        } else {
            let mut c = sqlx::postgres::PgConnection::connect(&url).await.unwrap();
            sqlx::Executor::execute(
                &mut c,
                "BEGIN; LOCK TABLE inbound_requests, actions IN EXCLUSIVE MODE",
            )
            .await
            .unwrap();
            locked.send(()).unwrap();
            let _ = released.await;
            sqlx::Executor::execute(&mut c, "COMMIT").await.unwrap();
        }
    });
    is_locked.await.unwrap();
    release
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_whose_client_gives_up_before_it_is_recorded_is_not_lost() {
    let b = bot().await;
    b.command(TEAM, ANA, "/help", "").await;
    let body = b.command_body(
        TEAM,
        ANA,
        "/action",
        r#"add task:"Survives a hang-up" owner:cto"#,
    );
    let release = hold_write_lock(&b.app.config.database_url).await;
    // The client gives up while the command waits for the database, between
    // its retry guard and its effects.
    let ts = Utc::now().timestamp().to_string();
    let sig = quorum::http::slack::signature(SECRET, &ts, body.as_bytes());
    let gave_up = reqwest::Client::new()
        .post(format!("{}/slack/commands", b.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", &ts)
        .header("x-slack-signature", &sig)
        .timeout(std::time::Duration::from_millis(300))
        .body(body.clone())
        .send()
        .await;
    assert!(gave_up.is_err(), "the client hung up first: {gave_up:?}");
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    release.send(()).unwrap();
    let stored = || async {
        b.app
            .store
            .list_actions(TEAM, &Default::default())
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.task == "Survives a hang-up")
            .count()
    };
    let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while stored().await == 0 {
        assert!(
            std::time::Instant::now() < end,
            "the command was lost with its client"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Slack's retry of it acts no more.
    let retry = b
        .raw(
            "/slack/commands",
            &body,
            Utc::now().timestamp(),
            None,
            Some("1"),
        )
        .await;
    assert_eq!(retry.status(), 200);
    assert_eq!(stored().await, 1, "done once, neither lost nor doubled");
}

#[tokio::test(flavor = "multi_thread")]
async fn twin_requests_racing_past_the_repeat_check_act_once() {
    let b = bot().await;
    b.command(TEAM, ANA, "/help", "").await;
    for (command, text) in [
        ("/action", r#"add task:"Raced twice" owner:cto"#),
        (
            "/decision",
            r#"record title:"Raced twice" category:tech-stack rationale:"both arrive""#,
        ),
    ] {
        let body = b.command_body(TEAM, ANA, command, text);
        // Both copies pass the repeat check while the database is locked,
        // then race for it: one records the command with its guard, the
        // other is refused as a repeat, and nothing is written twice.
        let release = hold_write_lock(&b.app.config.database_url).await;
        let now = Utc::now().timestamp();
        let (one, two) = (
            b.raw("/slack/commands", &body, now, None, None),
            b.raw("/slack/commands", &body, now, None, Some("1")),
        );
        let answers = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(400)).await;
            release.send(()).unwrap();
        });
        let (one, two) = tokio::join!(one, two);
        answers.await.unwrap();
        let mut texts = Vec::new();
        for r in [one, two] {
            assert_eq!(r.status(), 200);
            let v: Value = r.json().await.unwrap();
            texts.push(v["text"].as_str().unwrap_or_default().to_string());
        }
        let (repeats, acted): (Vec<_>, Vec<_>) =
            texts.iter().partition(|t| t.starts_with("Already done"));
        assert!(
            repeats.len() == 1
                && (acted[0].starts_with("Added") || acted[0].starts_with("Recorded")),
            "one acted and one was a repeat: {texts:?}"
        );
    }
    let actions = b
        .app
        .store
        .list_actions(TEAM, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        actions.iter().filter(|a| a.task == "Raced twice").count(),
        1
    );
    let decisions = b
        .app
        .store
        .list_decisions(TEAM, None, None, None)
        .await
        .unwrap();
    assert_eq!(
        decisions
            .iter()
            .filter(|d| d.title == "Raced twice")
            .count(),
        1
    );
}

/// The tasks of every stored action item, and the keys of every recorded
/// request, read straight from the database.
async fn stored_tasks_and_keys(url: &str) -> (Vec<String>, Vec<String>) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let tasks: Vec<(String,)> = sqlx::query_as("SELECT task FROM actions")
        .fetch_all(&pool)
        .await
        .unwrap();
    let keys: Vec<(String,)> = sqlx::query_as("SELECT key FROM inbound_requests")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    (
        tasks.into_iter().map(|t| t.0).collect(),
        keys.into_iter().map(|k| k.0).collect(),
    )
}

/// The retry guard's key of a slash command's body.
fn guard_key_of(body: &str) -> String {
    let form: std::collections::HashMap<String, String> = serde_urlencoded::from_str(body).unwrap();
    format!("slack:{}:{}", form["team_id"], form["trigger_id"])
}

/// Make the database refuse any action item whose task is `Poisoned` (a
/// command that passes every check and fails in SQL), or stop refusing it.
async fn poison(url: &str, on: bool) {
    use sqlx::Connection as _;
    let statements: &[&str] = match (url.starts_with("sqlite:"), on) {
        (true, true) => &["CREATE TRIGGER poison BEFORE INSERT ON actions WHEN NEW.task = 'Poisoned'
              BEGIN SELECT RAISE(ABORT, 'poisoned task'); END"],
        (true, false) => &["DROP TRIGGER poison"],
        (false, true) => &[
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN IF NEW.task = 'Poisoned' THEN RAISE EXCEPTION 'poisoned task'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER poison BEFORE INSERT ON actions FOR EACH ROW EXECUTE FUNCTION poison()",
        ],
        (false, false) => &["DROP TRIGGER poison ON actions", "DROP FUNCTION poison()"],
    };
    sqlx::any::install_default_drivers();
    let mut c = sqlx::AnyConnection::connect(url).await.unwrap();
    for sql in statements {
        sqlx::Executor::execute(&mut c, *sql).await.unwrap();
    }
}

/// Send `bodies` at once while the database's write lock is held
/// elsewhere, so they queue together (on SQLite, into one group commit),
/// then release it; `before_release` runs just before. The answers' texts,
/// in the order of `bodies`.
async fn all_at_once(b: &Bot, bodies: &[String], before_release: impl FnOnce()) -> Vec<String> {
    let release = hold_write_lock(&b.app.config.database_url).await;
    let now = Utc::now().timestamp();
    let sent = futures_util::future::join_all(
        bodies
            .iter()
            .map(|body| b.raw("/slack/commands", body, now, None, None)),
    );
    let answered = async {
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        before_release();
        release.send(()).unwrap();
    };
    let (answers, ()) = tokio::join!(sent, answered);
    let mut texts = Vec::new();
    for r in answers {
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        texts.push(v["text"].as_str().unwrap_or_default().to_string());
    }
    texts
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_failing_among_many_at_once_fails_alone_and_the_others_are_stored_once_each() {
    let b = bot().await;
    b.command(TEAM, ANA, "/help", "").await;
    let url = b.app.config.database_url.clone();
    poison(&url, true).await;
    let tasks: Vec<String> = (0..24)
        .map(|i| {
            if i == 11 {
                "Poisoned".to_string()
            } else {
                format!("Batched {i}")
            }
        })
        .collect();
    let bodies: Vec<String> = tasks
        .iter()
        .map(|t| {
            b.command_body(
                TEAM,
                ANA,
                "/action",
                &format!(r#"add task:"{t}" owner:cto"#),
            )
        })
        .collect();
    let texts = all_at_once(&b, &bodies, || {}).await;
    for (task, text) in tasks.iter().zip(&texts) {
        if task == "Poisoned" {
            assert!(
                text.starts_with("Nothing was recorded"),
                "the failing command gets its own error: {text}"
            );
        } else {
            assert!(
                text.starts_with("Added action item"),
                "{task} is not held back by the failing one: {text}"
            );
        }
    }
    let (stored, keys) = stored_tasks_and_keys(&url).await;
    for task in &tasks {
        let n = stored.iter().filter(|s| *s == task).count();
        let want = usize::from(task != "Poisoned");
        assert_eq!(n, want, "{task} stored {n} times: {stored:?}");
    }
    // Each guard went with its command: the failing one's is not recorded
    // (so Slack's retry of it acts), every other one is.
    for (task, body) in tasks.iter().zip(&bodies) {
        assert_eq!(
            keys.contains(&guard_key_of(body)),
            task != "Poisoned",
            "{task}: {keys:?}"
        );
    }
    poison(&url, false).await;
    let retry = b
        .raw(
            "/slack/commands",
            &bodies[11],
            Utc::now().timestamp(),
            None,
            Some("1"),
        )
        .await;
    let v: Value = retry.json().await.unwrap();
    assert!(
        v["text"].as_str().unwrap().starts_with("Added action item"),
        "{v}"
    );
    let (stored, _) = stored_tasks_and_keys(&url).await;
    assert_eq!(stored.iter().filter(|s| *s == "Poisoned").count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_whose_commit_fails_records_nothing_and_every_command_says_so() {
    let b = bot().await;
    if b.app.store.backend() == quorum::store::Backend::Postgres {
        // Group commit is SQLite's; PostgreSQL commits each command alone.
        return;
    }
    b.command(TEAM, ANA, "/help", "").await;
    let url = b.app.config.database_url.clone();
    let tasks: Vec<String> = (0..12).map(|i| format!("Uncommitted {i}")).collect();
    let bodies: Vec<String> = tasks
        .iter()
        .map(|t| {
            b.command_body(
                TEAM,
                ANA,
                "/action",
                &format!(r#"add task:"{t}" owner:cto"#),
            )
        })
        .collect();
    let store = b.app.store.clone();
    let texts = all_at_once(&b, &bodies, move || {
        assert!(store.fail_next_command_commits(1));
    })
    .await;
    for text in &texts {
        assert!(
            text.starts_with("Nothing was recorded"),
            "no command of a batch that did not commit says it was recorded: {texts:?}"
        );
    }
    let (stored, keys) = stored_tasks_and_keys(&url).await;
    assert!(
        !stored.iter().any(|s| s.starts_with("Uncommitted")),
        "{stored:?}"
    );
    for body in &bodies {
        assert!(!keys.contains(&guard_key_of(body)), "{keys:?}");
    }
    // Nothing was recorded, so Slack's retries act, each once.
    for body in &bodies {
        let r = b
            .raw(
                "/slack/commands",
                body,
                Utc::now().timestamp(),
                None,
                Some("1"),
            )
            .await;
        let v: Value = r.json().await.unwrap();
        assert!(
            v["text"].as_str().unwrap().starts_with("Added action item"),
            "{v}"
        );
    }
    let (stored, _) = stored_tasks_and_keys(&url).await;
    for task in &tasks {
        assert_eq!(stored.iter().filter(|s| *s == task).count(), 1, "{task}");
    }
}

impl Bot {
    /// A reason form sent back, as Slack sends a `view_submission`.
    async fn submit_view(&self, user: &str, view: &Value, reason: &str) -> Value {
        let payload = json!({
            "type": "view_submission", "team": { "id": TEAM }, "user": { "id": user },
            "view": {
                "id": format!("V{}", TRIGGER.fetch_add(1, Ordering::SeqCst)),
                "callback_id": view["callback_id"],
                "private_metadata": view["private_metadata"],
                "state": { "values": { "reason": { "reason": { "type": "plain_text_input", "value": reason } } } }
            }
        });
        let body = form(&[("payload", &payload.to_string())]);
        let resp = self
            .raw(
                "/slack/interactions",
                &body,
                Utc::now().timestamp(),
                None,
                None,
            )
            .await;
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn approve_and_reject_buttons_run_the_decision_commands_and_reject_asks_for_the_reason() {
    let b = bot().await;
    for title in ["Cut spend", "Open an office"] {
        b.command(
            TEAM,
            ANA,
            "/decision",
            &format!(r#"record title:"{title}" category:budget rationale:"Bill doubled""#),
        )
        .await;
    }
    b.scheduler.tick(Utc::now()).await.unwrap();
    let request = b
        .fake
        .posts
        .lock()
        .unwrap()
        .iter()
        .find(|p| p["text"].as_str().unwrap().contains("decision 1"))
        .cloned()
        .expect("an approval request");
    let buttons: Vec<String> = request["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().unwrap().clone())
        .map(|e| e["action_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(buttons[..2], ["decision:approve:1", "decision:reject:1"]);
    assert_eq!(buttons.len(), 3, "then Snooze 1h: {buttons:?}");
    assert!(buttons[2].starts_with("snooze:"), "{buttons:?}");

    b.press(CFO, "decision:reject:1").await;
    let view = b
        .fake
        .views
        .lock()
        .unwrap()
        .last()
        .cloned()
        .expect("a form");
    assert!(view["trigger_id"].as_str().unwrap().starts_with("press."));
    let view = &view["view"];
    assert_eq!(view["type"], "modal");
    assert_eq!(view["callback_id"], "decision:reject:1");
    let status = |id| {
        let store = b.app.store.clone();
        async move { store.decision(TEAM, id).await.unwrap().unwrap().status }
    };
    assert_eq!(status(1).await, "proposed", "the form changes nothing");
    let v = b.submit_view(ANA, view, "No").await;
    assert_eq!(v["response_action"], "errors", "{v}");
    assert!(
        v["errors"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("only the cfo may reject decision 1"),
        "{v}"
    );
    let v = b.submit_view(CFO, view, "Not this quarter").await;
    assert_eq!(v["response_action"], "clear", "{v}");
    assert_eq!(status(1).await, "rejected");

    b.press(CFO, "decision:approve:2").await;
    let r = b.wait_responses(1).await;
    assert!(
        !r[0]["text"].as_str().unwrap().starts_with("only"),
        "{r:#?}"
    );
    assert_eq!(status(2).await, "approved");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_executive_who_chose_dm_gets_approval_requests_by_direct_message_opened_once() {
    scenario_an_executive_who_chose_dm_gets_approval_requests_by_direct_message_opened_once().await;
}

/// The scenario of [`an_executive_who_chose_dm_gets_approval_requests_by_direct_message_opened_once`]; returns the bot, for its bodies to be checked.
async fn scenario_an_executive_who_chose_dm_gets_approval_requests_by_direct_message_opened_once()
-> Bot {
    let b = bot_configured("", "notify = \"dm\"").await;
    // The first try to open the DM fails (Slack's temporary error).
    b.fake.open_fails.store(1, Ordering::SeqCst);
    for title in ["Cut spend", "Open an office"] {
        let v = b
            .command(
                TEAM,
                ANA,
                "/decision",
                &format!(r#"record title:"{title}" category:budget rationale:"Bill doubled""#),
            )
            .await;
        assert!(
            v["text"]
                .as_str()
                .unwrap()
                .contains("(pinged in a direct message to cfo)"),
            "{v}"
        );
    }
    let now = Utc::now();
    b.scheduler.tick(now).await.unwrap();
    assert_eq!(
        b.fake.open_fails.load(Ordering::SeqCst),
        0,
        "the DM was tried and failed"
    );
    assert!(
        b.fake.posts.lock().unwrap().is_empty(),
        "nothing is posted while the DM cannot be opened"
    );
    // Retried like any failed post: each request once, in the DM.
    b.scheduler.tick(now + Duration::minutes(5)).await.unwrap();
    let posts = b.fake.posts.lock().unwrap().clone();
    let requests: Vec<&Value> = posts
        .iter()
        .filter(|p| p["text"].as_str().unwrap().contains("needs your approval"))
        .collect();
    assert_eq!(requests.len(), 2, "{posts:#?}");
    assert!(
        requests.iter().all(|p| p["channel"] == dm_channel(CFO)),
        "to the cfo's DM, not #finance: {requests:#?}"
    );
    assert_eq!(
        *b.fake.opened.lock().unwrap(),
        [json!({ "users": CFO })],
        "the DM is opened once and remembered"
    );
    b.scheduler.tick(now + Duration::minutes(30)).await.unwrap();
    assert_eq!(b.fake.posts.lock().unwrap().len(), posts.len(), "no double");
    b
}

#[tokio::test(flavor = "multi_thread")]
async fn an_executive_without_notify_dm_is_asked_in_their_channel() {
    let b = bot().await;
    b.command(
        TEAM,
        ANA,
        "/decision",
        r#"record title:"Cut spend" category:budget rationale:"Bill doubled""#,
    )
    .await;
    b.scheduler.tick(Utc::now()).await.unwrap();
    let posts = b.fake.posts.lock().unwrap().clone();
    assert_eq!(posts.len(), 1, "{posts:#?}");
    assert_eq!(posts[0]["channel"], "C0000FIN");
    assert!(b.fake.opened.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_attending_button_records_the_answer_and_the_next_reminder_shows_it() {
    scenario_the_attending_button_records_the_answer_and_the_next_reminder_shows_it().await;
}

/// The scenario of [`the_attending_button_records_the_answer_and_the_next_reminder_shows_it`]; returns the bot, for its bodies to be checked.
async fn scenario_the_attending_button_records_the_answer_and_the_next_reminder_shows_it() -> Bot {
    let b = bot().await;
    let v = b
        .command(
            TEAM,
            ANA,
            "/meeting",
            r#"add title:"Exec team" when:"daily at 10:00" tz:UTC remind:1h,15m attendees:cfo"#,
        )
        .await;
    assert!(
        v["text"].as_str().unwrap().starts_with("Created series 1"),
        "{v}"
    );
    let next = b
        .app
        .store
        .series(TEAM, 1)
        .await
        .unwrap()
        .unwrap()
        .next_at
        .unwrap();
    let at = |secs: i64| chrono::DateTime::<Utc>::from_timestamp(next - secs, 0).unwrap();
    b.scheduler.tick(at(3600)).await.unwrap();
    let first = b.fake.posts.lock().unwrap().last().cloned().unwrap();
    let buttons: Vec<String> = first["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().unwrap().clone())
        .map(|e| e["action_id"].as_str().unwrap().to_string())
        .collect();
    let yes = format!("attend:yes:1:{next}");
    assert_eq!(
        buttons[..2],
        [yes.clone(), format!("attend:no:1:{next}")],
        "{first}"
    );
    assert!(
        !first["text"].as_str().unwrap().contains("Replies:"),
        "nobody answered yet: {first}"
    );

    // A signed block_actions request, as Slack sends the press.
    b.press(CFO, &yes).await;
    let r = b.wait_responses(1).await;
    assert!(
        r[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Noted: cfo attends Exec team"),
        "{r:#?}"
    );
    assert_eq!(r[0]["response_type"], "ephemeral");
    assert_eq!(
        b.app.store.attendance(1, next).await.unwrap(),
        [("cfo".to_string(), true)],
        "the answer is recorded for that occurrence"
    );

    b.scheduler.tick(at(900)).await.unwrap();
    let second = b.fake.posts.lock().unwrap().last().cloned().unwrap();
    assert_ne!(second, first);
    assert!(
        second["text"]
            .as_str()
            .unwrap()
            .contains("\nReplies: 1 attending (cfo)"),
        "{second}"
    );
    let fields: Vec<String> = second["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["fields"].as_array().cloned().unwrap_or_default())
        .map(|f| f["text"].as_str().unwrap().to_string())
        .collect();
    assert!(
        fields.contains(&"*Replies*\n1 attending (cfo)".to_string()),
        "{fields:?}"
    );
    b
}

#[tokio::test(flavor = "multi_thread")]
async fn a_direct_message_slack_refuses_for_good_goes_to_the_executives_channel() {
    let b = bot_configured("", "notify = \"dm\"").await;
    *b.fake.open_refused.lock().unwrap() = Some("user_not_found".into());
    b.command(
        TEAM,
        ANA,
        "/decision",
        r#"record title:"Cut spend" category:budget rationale:"Bill doubled""#,
    )
    .await;
    b.scheduler.tick(Utc::now()).await.unwrap();
    let posts = b.fake.posts.lock().unwrap().clone();
    assert_eq!(posts.len(), 1, "{posts:#?}");
    assert_eq!(
        posts[0]["channel"], "C0000FIN",
        "#finance, the cfo's channel"
    );
    assert!(
        posts[0]["text"]
            .as_str()
            .unwrap()
            .contains("needs your approval")
    );
}
