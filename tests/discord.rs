//! Discord end to end on loopback: interactions signed with a key the test
//! generates, posted to Quorum's real `/discord/interactions` endpoint; what
//! Quorum posts goes to a fake Discord REST server that records it (and can
//! answer 429s); every JSON body is checked against Discord's OpenAPI
//! description.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::{Signer, SigningKey};
use quorum::chat::discord::DiscordChat;
use quorum::chat::{Chat, Outgoing, SendError};
use quorum::config::Config;
use quorum::scheduler::Scheduler;
use serde_json::{Value, json};

/// What the fake Discord saw.
#[derive(Default)]
struct FakeDiscord {
    requests: Mutex<Vec<(String, Value)>>,
    /// nonce -> message id: Discord's `enforce_nonce` de-duplication.
    created: Mutex<HashMap<String, u64>>,
    /// Answer this many next requests with 429.
    storm: AtomicUsize,
    /// Channel lookups (`GET /channels/{id}`), by channel.
    lookups: Mutex<HashMap<String, usize>>,
    /// Bodies of `POST /users/@me/channels` (opening a DM).
    dm_opens: Mutex<Vec<Value>>,
    /// Answer this many next DM opens with 500.
    dm_fails: AtomicUsize,
    /// Refuse messages in the DM channel (the user takes no DMs).
    dm_closed: std::sync::atomic::AtomicBool,
}

/// The DM channel the fake opens with a user.
const DM_CHANNEL: &str = "930000000000000011";

async fn open_dm(
    State(fake): State<Arc<FakeDiscord>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    assert_eq!(headers.get("authorization").unwrap(), "Bot test-token");
    fake.dm_opens.lock().unwrap().push(body.clone());
    if fake
        .dm_fails
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return (StatusCode::INTERNAL_SERVER_ERROR, "upstream hiccup").into_response();
    }
    Json(json!({ "id": DM_CHANNEL, "type": 1, "recipients": [{ "id": body["recipient_id"] }] }))
        .into_response()
}

async fn create_message(
    State(fake): State<Arc<FakeDiscord>>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    assert_eq!(headers.get("authorization").unwrap(), "Bot test-token");
    fake.requests
        .lock()
        .unwrap()
        .push((channel.clone(), body.clone()));
    if channel == DM_CHANNEL && fake.dm_closed.load(Ordering::SeqCst) {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({ "message": "Cannot send messages to this user", "code": 50007 })),
        )
            .into_response();
    }
    if fake
        .storm
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset-after", "0.05")],
            Json(json!({ "message": "You are being rate limited.", "retry_after": 0.05, "global": false })),
        )
            .into_response();
    }
    let nonce = body["nonce"].as_str().unwrap_or_default().to_string();
    let mut created = fake.created.lock().unwrap();
    let next = created.len() as u64 + 1;
    let id = *created.entry(nonce).or_insert(next);
    Json(json!({ "id": id.to_string(), "channel_id": channel, "content": body["content"] }))
        .into_response()
}

/// Channels `2000...` belong to another server, the rest to [`GUILD`].
async fn channel_of(State(fake): State<Arc<FakeDiscord>>, Path(channel): Path<String>) -> Response {
    *fake
        .lookups
        .lock()
        .unwrap()
        .entry(channel.clone())
        .or_default() += 1;
    let guild = if channel.starts_with("2000") {
        OTHER_GUILD
    } else {
        GUILD
    };
    Json(json!({ "id": channel, "type": 0, "guild_id": guild })).into_response()
}

const OTHER_GUILD: &str = "200000000000000000";

async fn start_fake() -> (Arc<FakeDiscord>, String) {
    let fake = Arc::new(FakeDiscord::default());
    let app = axum::Router::new()
        .route(
            "/api/v10/channels/{channel}/messages",
            axum::routing::post(create_message),
        )
        .route(
            "/api/v10/channels/{channel}",
            axum::routing::get(channel_of),
        )
        .route("/api/v10/users/@me/channels", axum::routing::post(open_dm))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (fake, format!("http://{addr}/api/v10"))
}

struct Bot {
    _dir: tempfile::TempDir,
    url: String,
    key: SigningKey,
    http: reqwest::Client,
    app: quorum::app::App,
    scheduler: Scheduler<DiscordChat>,
    fake: Arc<FakeDiscord>,
    /// Every interaction response, for the schema check.
    responses: Mutex<Vec<Value>>,
}

const GUILD: &str = "900000000000000001";

/// A fresh interaction id: a Discord snowflake created now (milliseconds
/// since Discord's 2015 epoch in the high bits, a counter in the low ones).
fn snowflake() -> String {
    snowflake_at(Utc::now())
}

fn snowflake_at(at: DateTime<Utc>) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let ms = (at.timestamp_millis() - 1_420_070_400_000) as u64;
    let n = N.fetch_add(1, Ordering::SeqCst) as u64 & 0x3F_FFFF;
    ((ms << 22) | n).to_string()
}
const CHANNEL: &str = "900000000000000002";
const ANA: &str = "900000000000000010";
const CFO_USER: &str = "900000000000000011";
const CTO_ROLE: &str = "900000000000000050";

async fn bot() -> Bot {
    bot_with_cfo("").await
}

/// A bot whose `[org.cfo]` section has `cfo_extra` lines too.
async fn bot_with_cfo(cfo_extra: &str) -> Bot {
    let (fake, base) = start_fake().await;
    let dir = tempfile::tempdir().unwrap();
    let db = support::core::test_database(dir.path()).await;
    let text = format!(
        "[database]\nurl = \"{db}\"\n[defaults]\nchannel = \"{CHANNEL}\"\n[org.cfo]\nname = \"CFO\"\nuser = \"{CFO_USER}\"\nchannel = \"finance\"\n{cfo_extra}\n[org.cto]\nname = \"CTO\"\ndiscord_role = \"{CTO_ROLE}\"\nchannel = \"{CHANNEL}\"\n[discord]\napi_base = \"{base}\"\n[discord.channels]\nfinance = \"900000000000000003\"\n"
    );
    let config = Config::from_toml(&text, "t.toml").unwrap();
    let chat = Arc::new(
        DiscordChat::new(
            &config.discord.api_base,
            "test-token",
            config.discord.channels.clone(),
        )
        .unwrap(),
    );
    let (app, _) = quorum::start(config.clone(), chat.clone()).await.unwrap();
    let scheduler = Scheduler::new(app.store.clone(), &config, chat, Utc::now());
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let state = quorum::http::HttpState {
        app: app.clone(),
        discord_key: Some(key.verifying_key()),
        slack_secret: None,
        slack_web: None,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, quorum::http::router(state))
            .await
            .unwrap()
    });
    Bot {
        _dir: dir,
        url: format!("http://{addr}/discord/interactions"),
        key,
        http: reqwest::Client::new(),
        app,
        scheduler,
        fake,
        responses: Mutex::new(Vec::new()),
    }
}

impl Bot {
    async fn raw(&self, body: &str, timestamp: i64, sign_with: &SigningKey) -> reqwest::Response {
        let ts = timestamp.to_string();
        let sig = sign_with.sign(format!("{ts}{body}").as_bytes());
        self.http
            .post(&self.url)
            .header("X-Signature-Ed25519", hex::encode(sig.to_bytes()))
            .header("X-Signature-Timestamp", ts)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    async fn interact(&self, payload: Value) -> Value {
        let resp = self
            .raw(&payload.to_string(), Utc::now().timestamp(), &self.key)
            .await;
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.unwrap();
        self.responses.lock().unwrap().push(v.clone());
        v
    }

    /// A slash command as Discord sends it, from ana in the test channel.
    async fn command(&self, name: &str, sub: Option<&str>, options: Value) -> Value {
        let opts = match sub {
            Some(s) => json!([{ "type": 1, "name": s, "options": options }]),
            None => options,
        };
        self.interact(json!({
            "type": 2, "id": snowflake(), "application_id": "2", "token": "t", "version": 1,
            "guild_id": GUILD, "channel_id": CHANNEL,
            "member": { "user": { "id": ANA, "username": "ana" } },
            "data": { "id": "3", "name": name, "type": 1, "options": opts }
        }))
        .await
    }

    /// A slash command from a member holding `roles`.
    async fn command_with_roles(
        &self,
        name: &str,
        sub: &str,
        roles: &[&str],
        options: Value,
    ) -> Value {
        self.interact(json!({
            "type": 2, "id": snowflake(), "application_id": "2", "token": "t", "version": 1,
            "guild_id": GUILD, "channel_id": CHANNEL,
            "member": { "user": { "id": "900000000000000099", "username": "bo" }, "roles": roles },
            "data": { "id": "3", "name": name, "type": 1, "options": [{ "type": 1, "name": sub, "options": options }] }
        }))
        .await
    }

    async fn press(&self, user: &str, custom_id: &str) -> Value {
        self.interact(json!({
            "type": 3, "id": snowflake(), "application_id": "2", "token": "t", "version": 1,
            "guild_id": GUILD, "channel_id": CHANNEL,
            "member": { "user": { "id": user, "username": "x" } },
            "data": { "custom_id": custom_id, "component_type": 2 }
        }))
        .await
    }

    fn posted(&self) -> Vec<(String, Value)> {
        self.fake.requests.lock().unwrap().clone()
    }

    /// Check every body against Discord's OpenAPI description (the schemas
    /// Quorum sends, vendored from Discord's official spec in tests/fixtures).
    fn validate(&self) {
        let validator = discord_schema;
        let message = validator("MessageCreateRequest");
        let callback = validator("CreateMessageInteractionCallbackRequest");
        let dm = validator("CreatePrivateChannelRequest");
        let mut bodies: Vec<(&jsonschema::Validator, Value)> = self
            .posted()
            .into_iter()
            .map(|(_, body)| (&message, body))
            .collect();
        bodies.extend(
            self.fake
                .dm_opens
                .lock()
                .unwrap()
                .iter()
                .map(|body| (&dm, body.clone())),
        );
        bodies.extend(
            self.responses
                .lock()
                .unwrap()
                .iter()
                .filter(|r| r["type"] == 4)
                .map(|r| (&callback, r.clone())),
        );
        assert!(!bodies.is_empty(), "something to validate");
        let bad: Vec<String> = bodies
            .iter()
            .flat_map(|(v, body)| {
                v.iter_errors(body)
                    .take(3)
                    .map(move |e| format!("{e} at {} in {body}", e.instance_path()))
            })
            .collect();
        assert!(
            bad.is_empty(),
            "bodies do not match Discord's OpenAPI description:\n{}",
            bad.join("\n")
        );
    }
}

/// A validator for one schema of Discord's OpenAPI description.
fn discord_schema(name: &str) -> jsonschema::Validator {
    let spec: Value =
        serde_json::from_str(include_str!("fixtures/discord-openapi-subset.json")).unwrap();
    jsonschema::draft202012::new(&json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": spec["components"],
        "$ref": format!("#/components/schemas/{name}"),
    }))
    .unwrap()
}

#[test]
fn the_openapi_check_of_opening_a_dm_wants_a_snowflake() {
    let v = discord_schema("CreatePrivateChannelRequest");
    assert!(v.is_valid(&json!({ "recipient_id": CFO_USER })));
    assert!(!v.is_valid(&json!({ "recipient_id": "cfo" })));
    assert!(!v.is_valid(&json!({ "recipient_id": 900000000000000011u64 })));
}

#[test]
fn the_openapi_check_catches_what_discord_would_refuse() {
    let v = discord_schema("MessageCreateRequest");
    assert!(v.is_valid(&json!({ "content": "hi", "allowed_mentions": { "parse": [] } })));
    assert!(!v.is_valid(&json!({ "content": "x".repeat(4001) })));
    assert!(!v.is_valid(&json!({ "content": "hi", "allowed_mentions": { "parse": ["bogus"] } })));
}

fn content(v: &Value) -> &str {
    v["data"]["content"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn healthz_answers_without_asking_the_database() {
    let b = bot().await;
    let url = b.url.replace("/discord/interactions", "/healthz");
    let resp = b.http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "ok\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn ping_is_answered_with_pong() {
    let b = bot().await;
    let v = b
        .interact(
            json!({ "type": 1, "id": "1", "application_id": "2", "token": "t", "version": 1 }),
        )
        .await;
    assert_eq!(v, json!({ "type": 1 }));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_signatures_and_old_timestamps_get_401() {
    let b = bot().await;
    let body = json!({ "type": 1 }).to_string();
    let stranger = SigningKey::from_bytes(&[9u8; 32]);
    assert_eq!(
        b.raw(&body, Utc::now().timestamp(), &stranger)
            .await
            .status(),
        401
    );
    assert_eq!(
        b.raw(&body, Utc::now().timestamp() - 301, &b.key)
            .await
            .status(),
        401
    );
    assert_eq!(
        b.raw(&body, Utc::now().timestamp() + 301, &b.key)
            .await
            .status(),
        401
    );
    let unsigned = b.http.post(&b.url).body(body.clone()).send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
    // A valid signature over a different body does not verify either.
    let ts = Utc::now().timestamp().to_string();
    let sig = b.key.sign(format!("{ts}{body}").as_bytes());
    let tampered = b
        .http
        .post(&b.url)
        .header("X-Signature-Ed25519", hex::encode(sig.to_bytes()))
        .header("X-Signature-Timestamp", ts)
        .body(json!({ "type": 2 }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), 401);
    assert_eq!(
        b.raw(&body, Utc::now().timestamp(), &b.key).await.status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_command_family_works_through_signed_interactions() {
    let b = bot().await;
    let v = b
        .command(
            "meeting",
            Some("add"),
            json!([
                { "name": "title", "type": 3, "value": "Exec team" },
                { "name": "when", "type": 3, "value": "weekly on monday at 10:00" },
                { "name": "tz", "type": 3, "value": "Europe/Madrid" }
            ]),
        )
        .await;
    assert_eq!(v["type"], 4);
    assert!(
        content(&v).starts_with("Created series 1: Exec team"),
        "{v}"
    );
    assert!(
        content(&v).contains(&format!("in #{CHANNEL}")),
        "the channel it was typed in: {v}"
    );
    let v = b
        .command(
            "decision",
            Some("record"),
            json!([
                { "name": "title", "type": 3, "value": "Adopt PostgreSQL" },
                { "name": "category", "type": 3, "value": "budget" },
                { "name": "rationale", "type": 3, "value": "@everyone look" }
            ]),
        )
        .await;
    assert!(
        content(&v).contains("as proposed: cfo holds the authority"),
        "{v}"
    );
    assert_eq!(
        v["data"]["allowed_mentions"],
        json!({ "parse": [] }),
        "replies ping nobody"
    );
    let v = b.command("action", Some("add"), json!([{ "name": "task", "type": 3, "value": "Evaluate pgvector" }, { "name": "owner", "type": 3, "value": "cto" }])).await;
    assert!(content(&v).starts_with("Added action item 1"), "{v}");
    let v = b
        .command(
            "escalate",
            None,
            json!([
                { "name": "topic", "type": 3, "value": "budget" },
                // Critical: this ticks the real clock, and a non-critical
                // ping waits out nights and weekends.
                { "name": "severity", "type": 3, "value": "critical" },
                { "name": "summary", "type": 3, "value": "Cloud bill doubled" }
            ]),
        )
        .await;
    assert!(content(&v).contains("went to cfo in #finance"), "{v}");
    assert_eq!(v["data"]["flags"], 64);
    let v = b.command("meeting", Some("list"), json!([])).await;
    assert_eq!(v["data"]["flags"], 64, "lists are private");
    let v = b.command("help", None, json!([])).await;
    assert!(content(&v).contains("/escalate"), "{v}");
    // The workspace is the guild: the console sees none of it.
    let console = b
        .app
        .store
        .list_series(quorum::CONSOLE_WORKSPACE)
        .await
        .unwrap();
    assert!(console.is_empty());
    assert_eq!(b.app.store.list_series(GUILD).await.unwrap().len(), 1);

    // What the scheduler posts: the proposal ping and the escalation, each to
    // its channel id, pinging exactly the CFO.
    b.scheduler.tick(Utc::now()).await.unwrap();
    let posted = b.posted();
    let to_finance: Vec<&Value> = posted
        .iter()
        .filter(|(c, _)| c == "900000000000000003")
        .map(|(_, b)| b)
        .collect();
    assert_eq!(
        to_finance.len(),
        2,
        "the proposal and the escalation go to the CFO's channel: {posted:#?}"
    );
    let esc = to_finance
        .iter()
        .find(|b| b["content"].as_str().unwrap().contains("ESCALATION"))
        .unwrap();
    assert_eq!(
        esc["allowed_mentions"],
        json!({ "parse": [], "users": [CFO_USER], "roles": [] })
    );
    assert!(
        esc["content"]
            .as_str()
            .unwrap()
            .starts_with(&format!("<@{CFO_USER}> ")),
        "{esc}"
    );
    assert_eq!(
        esc["components"][0]["components"][0]["custom_id"],
        "esc:ack:1"
    );
    assert_eq!(esc["enforce_nonce"], true);
    let proposal = posted
        .iter()
        .find(|(_, b)| {
            b["content"]
                .as_str()
                .unwrap_or_default()
                .contains("needs your approval")
        })
        .unwrap();
    assert_eq!(
        proposal.1["allowed_mentions"],
        json!({ "parse": [], "users": [CFO_USER], "roles": [] }),
        "typed text can never ping @everyone"
    );
    b.validate();
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_ephemeral_and_helpful() {
    let b = bot().await;
    let v = b
        .command(
            "meeting",
            Some("add"),
            json!([
                { "name": "title", "type": 3, "value": "X" },
                { "name": "when", "type": 3, "value": "fortnightly on monday at 10:00" }
            ]),
        )
        .await;
    assert_eq!(v["data"]["flags"], 64);
    assert!(
        content(&v).starts_with(
            "when: `fortnightly` is not a cadence; try `every 2 weeks on monday at 10:00`"
        ),
        "{v}"
    );
    let v = b
        .command(
            "escalation",
            Some("ack"),
            json!([{ "name": "id", "type": 4, "value": 99 }]),
        )
        .await;
    assert_eq!(
        content(&v),
        "there is no escalation 99 here; see /escalation list"
    );
    let v = b.press(ANA, "esc:frobnicate:1").await;
    assert_eq!(content(&v), "unknown button `esc:frobnicate:1`");
    b.validate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_button_press_acknowledges_an_escalation() {
    let b = bot().await;
    b.command(
        "escalate",
        None,
        json!([
            { "name": "topic", "type": 3, "value": "budget" },
            { "name": "severity", "type": 3, "value": "critical" },
            { "name": "summary", "type": 3, "value": "Payroll failed" }
        ]),
    )
    .await;
    b.scheduler.tick(Utc::now()).await.unwrap();
    let v = b.press(ANA, "esc:ack:1").await;
    assert!(
        content(&v).starts_with("only cfo, exec-team, board may acknowledge escalation 1"),
        "{v}"
    );
    let v = b.press(CFO_USER, "esc:ack:1").await;
    assert!(content(&v).starts_with("Acknowledged escalation 1"), "{v}");
    let row = b.app.store.escalation(GUILD, 1).await.unwrap().unwrap();
    assert_eq!(row.state, "acked");
    assert_eq!(row.acked_by.as_deref(), Some(CFO_USER));
    let before = b.posted().len();
    b.scheduler
        .tick(Utc::now() + Duration::hours(1))
        .await
        .unwrap();
    let after = b.posted();
    assert!(
        after[before..].iter().all(|(_, m)| !m["content"]
            .as_str()
            .unwrap_or_default()
            .contains("ESCALATION")),
        "no ping after the ack"
    );
    b.validate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_storm_loses_and_doubles_nothing() {
    let b = bot().await;
    let now = Utc::now();
    for i in 0..12 {
        b.app
            .store
            .enqueue_notice(
                GUILD,
                CHANNEL,
                &format!("storm-{i}"),
                &format!("notice {i}"),
                now.timestamp(),
            )
            .await
            .unwrap();
    }
    b.fake.storm.store(30, Ordering::SeqCst);
    let mut t = now;
    for _ in 0..40 {
        b.scheduler.tick(t).await.unwrap();
        t += Duration::seconds(1);
        if b.fake.created.lock().unwrap().len() == 12 {
            break;
        }
    }
    let created = b.fake.created.lock().unwrap().clone();
    assert_eq!(created.len(), 12, "every notice arrives once");
    let texts: std::collections::HashSet<String> = b
        .posted()
        .iter()
        .map(|(_, m)| m["content"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(texts.len(), 12);
    assert!(b.posted().len() > 12, "the storm was answered with retries");
    b.validate();
}

/// Posts through Discord, then fails the first time as if Quorum crashed
/// before recording the send.
struct CrashAfterSend {
    inner: DiscordChat,
    crashed: AtomicUsize,
}

impl Chat for CrashAfterSend {
    async fn post(&self, m: &Outgoing) -> Result<(), SendError> {
        self.inner.post(m).await?;
        if self.crashed.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(SendError::Retry("crashed before recording".into()));
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_between_send_and_record_does_not_double_a_reminder() {
    let (fake, base) = start_fake().await;
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        database_url: support::core::test_database(dir.path()).await,
        ..Config::default()
    };
    let chat = Arc::new(CrashAfterSend {
        inner: DiscordChat::new(&base, "test-token", HashMap::new()).unwrap(),
        crashed: AtomicUsize::new(0),
    });
    let (app, _) = quorum::start(config.clone(), chat.clone()).await.unwrap();
    let t0: DateTime<Utc> = "2026-11-24T00:00:00Z".parse().unwrap();
    let actor = support::core::actor(GUILD, ANA);
    let r = app
        .handle_line(&actor, &format!(r#"/meeting add title:"Ops" when:"daily at 10:00" tz:UTC remind:15m channel:{CHANNEL}"#), t0)
        .await;
    assert!(!r.is_error, "{}", r.text);
    let scheduler = Scheduler::new(app.store.clone(), &config, chat, t0);
    scheduler
        .tick("2026-11-24T09:45:00Z".parse().unwrap())
        .await
        .unwrap();
    scheduler
        .tick("2026-11-24T09:45:10Z".parse().unwrap())
        .await
        .unwrap();
    let requests = fake.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "sent, then sent again after the 'crash'");
    assert_eq!(
        requests[0].1["nonce"], requests[1].1["nonce"],
        "with the same nonce"
    );
    assert_eq!(
        fake.created.lock().unwrap().len(),
        1,
        "so Discord created one message"
    );
    let body = &requests[0].1;
    assert!(
        body["content"]
            .as_str()
            .unwrap()
            .contains("<t:1795514400:F>"),
        "Discord timestamps: {body}"
    );
    let labels: Vec<&str> = body["components"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["Attending", "Can't make it", "Snooze 1h"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn application_commands_mirror_the_console_grammar() {
    let cmds = quorum::chat::discord::application_commands(&Config::default().categories);
    let names: Vec<&str> = cmds
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "meeting",
            "decision",
            "action",
            "escalate",
            "escalation",
            "risk",
            "dashboard",
            "help"
        ]
    );
    let meeting = &cmds[0];
    let add = meeting["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "add")
        .unwrap();
    let opts: Vec<&str> = add["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        opts,
        [
            "title",
            "when",
            "tz",
            "channel",
            "remind",
            "attendees",
            "duration",
            "capture",
            "shift"
        ]
    );
    let escalate = &cmds[3];
    let sev = escalate["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "severity")
        .unwrap();
    assert_eq!(sev["choices"].as_array().unwrap().len(), 4);
    for c in cmds.as_array().unwrap() {
        assert!(c["description"].as_str().unwrap().chars().count() <= 100);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_executive_can_be_a_discord_role() {
    let b = bot().await;
    let opts = json!([
        { "name": "title", "type": 3, "value": "Adopt PostgreSQL" },
        { "name": "category", "type": 3, "value": "tech-stack" },
        { "name": "rationale", "type": 3, "value": "Mature" }
    ]);
    let v = b
        .command_with_roles("decision", "record", &[CTO_ROLE], opts.clone())
        .await;
    assert!(
        content(&v).ends_with("as approved."),
        "a member with the CTO role holds the CTO's authority: {v}"
    );
    let v = b
        .command_with_roles("decision", "record", &["900000000000000051"], opts)
        .await;
    assert!(content(&v).contains("as proposed"), "{v}");
    b.command(
        "escalate",
        None,
        json!([
            { "name": "topic", "type": 3, "value": "security" },
            { "name": "severity", "type": 3, "value": "critical" },
            { "name": "summary", "type": 3, "value": "Key leaked" }
        ]),
    )
    .await;
    b.scheduler.tick(Utc::now()).await.unwrap();
    let posted = b.posted();
    let ping = posted
        .iter()
        .find(|(_, m)| {
            m["content"]
                .as_str()
                .unwrap_or_default()
                .contains("ESCALATION")
        })
        .unwrap();
    assert!(
        ping.1["content"]
            .as_str()
            .unwrap()
            .starts_with(&format!("<@&{CTO_ROLE}> ")),
        "{}",
        ping.1
    );
    assert_eq!(
        ping.1["allowed_mentions"],
        json!({ "parse": [], "users": [], "roles": [CTO_ROLE] })
    );
    b.validate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_cannot_post_into_another_servers_channel() {
    let b = bot().await;
    let foreign = "200000000000000001";
    for (title, channel) in [("Theirs", foreign), ("Ours", CHANNEL)] {
        let v = b
            .command(
                "meeting",
                Some("add"),
                json!([
                    { "name": "title", "type": 3, "value": title },
                    { "name": "when", "type": 3, "value": "cron:* * * * * *" },
                    { "name": "remind", "type": 3, "value": "0s" },
                    { "name": "channel", "type": 3, "value": channel },
                ]),
            )
            .await;
        assert!(content(&v).starts_with("Created series"), "{v}");
    }
    let mut t = Utc::now();
    for _ in 0..3 {
        t += Duration::seconds(2);
        b.scheduler.tick(t).await.unwrap();
    }
    let posted = b.posted();
    assert!(
        posted.iter().all(|(c, _)| c != foreign),
        "nothing reaches the other server: {posted:?}"
    );
    assert!(posted.iter().any(|(c, _)| c == CHANNEL), "{posted:?}");
    let states = b.app.store.deliveries_of(GUILD, 1).await.unwrap();
    let tried: Vec<_> = states.iter().filter(|d| d.state != "pending").collect();
    assert!(!tried.is_empty());
    assert!(tried.iter().all(|d| d.state == "failed"), "{states:?}");
    let lookups = b.fake.lookups.lock().unwrap().clone();
    assert_eq!(
        lookups.get(CHANNEL),
        Some(&1),
        "a channel's server is asked once: {lookups:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_server_is_refused_when_none_is_named() {
    let b = bot().await;
    let ours = b.command("decision", Some("list"), json!([])).await;
    assert!(!content(&ours).contains("not set up"), "{ours}");
    let v = b
        .interact(json!({
            "type": 2, "id": snowflake(), "application_id": "2", "token": "t", "version": 1,
            "guild_id": OTHER_GUILD, "channel_id": "200000000000000001",
            "member": { "user": { "id": ANA, "username": "ana" } },
            "data": { "id": "3", "name": "escalate", "type": 1, "options": [
                { "name": "topic", "type": 3, "value": "budget" },
                { "name": "severity", "type": 3, "value": "critical" },
                { "name": "summary", "type": 3, "value": "Pay us" },
            ] }
        }))
        .await;
    assert!(
        content(&v).starts_with("This workspace is not set up for Quorum"),
        "{v}"
    );
    assert_eq!(v["data"]["flags"], 64, "ephemeral");
    assert!(
        b.app
            .store
            .escalation(OTHER_GUILD, 1)
            .await
            .unwrap()
            .is_none()
    );
}

/// A `/decision record` interaction from ana with interaction id `id`.
fn decision_record(id: &str) -> String {
    json!({
        "type": 2, "id": id, "application_id": "2", "token": "t", "version": 1,
        "guild_id": GUILD, "channel_id": CHANNEL,
        "member": { "user": { "id": ANA, "username": "ana" } },
        "data": { "id": "3", "name": "decision", "type": 1, "options": [{ "type": 1, "name": "record", "options": [
            { "name": "title", "type": 3, "value": "Adopt PostgreSQL" },
            { "name": "category", "type": 3, "value": "budget" },
            { "name": "rationale", "type": 3, "value": "Mature" }
        ]}]}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_interaction_acts_once_whether_resent_or_re_signed() {
    let b = bot().await;
    let body = decision_record(&snowflake());
    let now = Utc::now().timestamp();
    let mut answers = Vec::new();
    // The same signed bytes twice, then the same interaction id re-signed
    // with a later timestamp.
    for ts in [now, now, now + 2] {
        let resp = b.raw(&body, ts, &b.key).await;
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.unwrap();
        b.responses.lock().unwrap().push(v.clone());
        answers.push(v);
    }
    assert!(
        content(&answers[0]).starts_with("Recorded decision 1"),
        "{}",
        answers[0]
    );
    for v in &answers[1..] {
        assert_eq!(
            content(v),
            "Already done: this request was handled before, so nothing changed."
        );
        assert_eq!(v["data"]["flags"], 64, "only the sender sees it");
    }
    let decisions = b
        .app
        .store
        .list_decisions(GUILD, None, None, None)
        .await
        .unwrap();
    assert_eq!(decisions.len(), 1, "one decision, not three");
    // A new interaction with the same options is a new request.
    let v = b
        .interact(serde_json::from_str(&decision_record(&snowflake())).unwrap())
        .await;
    assert!(content(&v).starts_with("Recorded decision 2"), "{v}");
    b.validate();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interaction_older_than_the_replay_window_is_refused() {
    let b = bot().await;
    let old = snowflake_at(Utc::now() - Duration::minutes(20));
    let resp = b
        .raw(&decision_record(&old), Utc::now().timestamp(), &b.key)
        .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        content(&v),
        "This request has expired; run the command again."
    );
    assert_eq!(v["data"]["flags"], 64);
    let resp = b
        .raw(
            &decision_record("not-a-snowflake"),
            Utc::now().timestamp(),
            &b.key,
        )
        .await;
    assert_eq!(resp.status(), 400);
    assert!(
        b.app
            .store
            .list_decisions(GUILD, None, None, None)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A form submission (interaction type 5) as Discord sends it.
async fn submit(b: &Bot, user: &str, custom_id: &str, reason: &str) -> Value {
    b.interact(json!({
        "type": 5, "id": snowflake(), "application_id": "2", "token": "t", "version": 1,
        "guild_id": GUILD, "channel_id": CHANNEL,
        "member": { "user": { "id": user, "username": "x" } },
        "data": { "custom_id": custom_id, "components": [{ "type": 1, "components": [
            { "type": 4, "custom_id": "reason", "value": reason }
        ] }] }
    }))
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn approval_requests_carry_approve_and_reject_and_reject_asks_for_the_reason() {
    let b = bot().await;
    for title in ["Cut cloud spend", "Hire a CFO deputy"] {
        b.command(
            "decision",
            Some("record"),
            json!([
                { "name": "title", "type": 3, "value": title },
                { "name": "category", "type": 3, "value": "budget" },
                { "name": "rationale", "type": 3, "value": "The bill doubled" }
            ]),
        )
        .await;
    }
    b.scheduler.tick(Utc::now()).await.unwrap();
    let request = b
        .posted()
        .into_iter()
        .map(|(_, m)| m)
        .find(|m| content(&json!({ "data": m })).contains("decision 1"))
        .expect("an approval request");
    let ids: Vec<&str> = request["components"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids[..2], ["decision:approve:1", "decision:reject:1"]);
    assert_eq!(ids.len(), 3, "then Snooze 1h: {ids:?}");
    assert!(ids[2].starts_with("snooze:"), "{ids:?}");
    assert!(
        content(&json!({ "data": request })).contains("**Rationale:** The bill doubled"),
        "{request}"
    );

    // Reject opens a form for the reason; nothing changes yet.
    let v = b.press(ANA, "decision:reject:1").await;
    assert_eq!(v["type"], 9, "{v}");
    assert_eq!(v["data"]["custom_id"], "decision:reject:1");
    assert_eq!(
        v["data"]["components"][0]["components"][0]["custom_id"],
        "reason"
    );
    assert_eq!(decision_status(&b, 1).await, "proposed");
    // The form runs the same command, with the same authority check.
    let v = submit(&b, ANA, "decision:reject:1", "Too soon").await;
    assert!(
        content(&v).starts_with("only the cfo may reject decision 1"),
        "{v}"
    );
    let v = submit(&b, CFO_USER, "decision:reject:1", "   ").await;
    assert_eq!(content(&v), "reason: the reason is empty", "{v}");
    assert_eq!(decision_status(&b, 1).await, "proposed");
    let v = submit(&b, CFO_USER, "decision:reject:1", "Too soon").await;
    assert!(!content(&v).starts_with("only"), "{v}");
    assert_eq!(decision_status(&b, 1).await, "rejected");

    let v = b.press(ANA, "decision:approve:2").await;
    assert!(
        content(&v).starts_with("only the cfo may approve decision 2"),
        "{v}"
    );
    b.press(CFO_USER, "decision:approve:2").await;
    assert_eq!(decision_status(&b, 2).await, "approved");
    b.validate();
}

async fn decision_status(b: &Bot, id: i64) -> String {
    b.app
        .store
        .decision(GUILD, id)
        .await
        .unwrap()
        .unwrap()
        .status
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cant_make_it_button_records_the_answer_and_the_next_reminder_counts_it() {
    let b = bot().await;
    let v = b
        .command(
            "meeting",
            Some("add"),
            json!([
                { "name": "title", "type": 3, "value": "Exec team" },
                { "name": "when", "type": 3, "value": "daily at 10:00" },
                { "name": "tz", "type": 3, "value": "UTC" },
                { "name": "remind", "type": 3, "value": "1h,15m" },
                { "name": "attendees", "type": 3, "value": "cfo" }
            ]),
        )
        .await;
    assert!(content(&v).starts_with("Created series 1"), "{v}");
    let next = b
        .app
        .store
        .series(GUILD, 1)
        .await
        .unwrap()
        .unwrap()
        .next_at
        .unwrap();
    let at = |secs: i64| DateTime::<Utc>::from_timestamp(next - secs, 0).unwrap();
    b.scheduler.tick(at(3600)).await.unwrap();
    let first = b.posted().last().unwrap().1.clone();
    let ids: Vec<&str> = first["components"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["custom_id"].as_str().unwrap())
        .collect();
    let no = format!("attend:no:1:{next}");
    assert_eq!(
        ids[..2],
        [format!("attend:yes:1:{next}").as_str(), no.as_str()]
    );
    let v = b.press(CFO_USER, &no).await;
    assert_eq!(v["data"]["flags"], 64, "the answer is private: {v}");
    assert!(
        content(&v).starts_with("Noted: cfo can't make it to Exec team"),
        "{v}"
    );
    b.scheduler.tick(at(900)).await.unwrap();
    let second = b.posted().last().unwrap().1.clone();
    assert!(
        second["content"]
            .as_str()
            .unwrap()
            .contains("**Replies:** can't make it: cfo"),
        "{second}"
    );
    b.validate();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_executive_who_chose_dm_gets_approval_requests_in_a_dm_opened_once() {
    let b = bot_with_cfo("notify = \"dm\"").await;
    b.fake.dm_fails.store(1, Ordering::SeqCst);
    for title in ["Cut spend", "Open an office"] {
        let v = b
            .command(
                "decision",
                Some("record"),
                json!([
                    { "name": "title", "type": 3, "value": title },
                    { "name": "category", "type": 3, "value": "budget" },
                    { "name": "rationale", "type": 3, "value": "Bill doubled" }
                ]),
            )
            .await;
        assert!(
            content(&v).contains("(pinged in a direct message to cfo)"),
            "{v}"
        );
    }
    let now = Utc::now();
    b.scheduler.tick(now).await.unwrap();
    assert!(b.posted().is_empty(), "the DM could not be opened yet");
    // Retried like any failed post: each request once, in the DM.
    b.scheduler.tick(now + Duration::minutes(5)).await.unwrap();
    let posted = b.posted();
    assert_eq!(posted.len(), 2, "{posted:#?}");
    assert!(
        posted.iter().all(|(channel, body)| channel == DM_CHANNEL
            && body["content"]
                .as_str()
                .unwrap()
                .contains("needs your approval")),
        "{posted:#?}"
    );
    let opens = b.fake.dm_opens.lock().unwrap().clone();
    assert_eq!(
        opens,
        [
            json!({ "recipient_id": CFO_USER }),
            json!({ "recipient_id": CFO_USER })
        ],
        "one failed try, then opened once and remembered"
    );
    assert!(
        !b.fake.lookups.lock().unwrap().contains_key(DM_CHANNEL),
        "a DM Quorum opened needs no server check"
    );
    b.scheduler.tick(now + Duration::minutes(30)).await.unwrap();
    assert_eq!(b.posted().len(), 2, "no double");
    b.validate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_direct_message_discord_refuses_goes_to_the_executives_channel_once() {
    let b = bot_with_cfo("notify = \"dm\"").await;
    b.fake.dm_closed.store(true, Ordering::SeqCst);
    b.command(
        "decision",
        Some("record"),
        json!([
            { "name": "title", "type": 3, "value": "Cut spend" },
            { "name": "category", "type": 3, "value": "budget" },
            { "name": "rationale", "type": 3, "value": "Bill doubled" }
        ]),
    )
    .await;
    let now = Utc::now();
    b.scheduler.tick(now).await.unwrap();
    b.scheduler.tick(now + Duration::minutes(5)).await.unwrap();
    let channels: Vec<String> = b.posted().into_iter().map(|(c, _)| c).collect();
    assert_eq!(
        channels,
        [DM_CHANNEL, "900000000000000003"],
        "tried in the DM, then posted in #finance, once"
    );
    b.validate();
}
