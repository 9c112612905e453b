//! One fake chat server on loopback speaking just enough of Discord's REST
//! API (create message, with `enforce_nonce` de-duplication) and Slack's Web
//! API (`chat.postMessage`) for tests that run whole `quorum` processes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

/// Everything the fake was asked to post.
#[derive(Default)]
pub struct FakeChat {
    /// Discord: (channel, nonce, content) of every create-message request.
    pub discord_requests: Mutex<Vec<(String, String, String)>>,
    /// Discord: nonce -> id of the message it created (the first request).
    pub discord_messages: Mutex<HashMap<String, u64>>,
    /// Slack: (channel, text) of every chat.postMessage.
    pub slack_posts: Mutex<Vec<(String, String)>>,
}

impl FakeChat {
    /// Messages that exist in Discord channels (one per distinct nonce).
    pub fn discord_created(&self) -> usize {
        self.discord_messages.lock().unwrap().len()
    }

    /// How often each content reached Discord as a request.
    pub fn discord_contents(&self) -> HashMap<String, usize> {
        let mut seen = HashMap::new();
        for (_, _, content) in self.discord_requests.lock().unwrap().iter() {
            *seen.entry(content.clone()).or_insert(0) += 1;
        }
        seen
    }

    /// Nonces that came with two different contents (should never happen).
    pub fn discord_nonce_clashes(&self) -> usize {
        let mut by_nonce: HashMap<String, String> = HashMap::new();
        let mut clashes = 0;
        for (_, nonce, content) in self.discord_requests.lock().unwrap().iter() {
            match by_nonce.get(nonce) {
                Some(c) if c != content => clashes += 1,
                Some(_) => {}
                None => {
                    by_nonce.insert(nonce.clone(), content.clone());
                }
            }
        }
        clashes
    }

    /// How often each text was posted to Slack.
    pub fn slack_texts(&self) -> HashMap<String, usize> {
        let mut seen = HashMap::new();
        for (_, text) in self.slack_posts.lock().unwrap().iter() {
            *seen.entry(text.clone()).or_insert(0) += 1;
        }
        seen
    }
}

async fn discord_create(
    State(fake): State<Arc<FakeChat>>,
    Path(channel): Path<String>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let nonce = body["nonce"].as_str().unwrap_or_default().to_string();
    let content = body["content"].as_str().unwrap_or_default().to_string();
    fake.discord_requests
        .lock()
        .unwrap()
        .push((channel.clone(), nonce.clone(), content.clone()));
    let mut created = fake.discord_messages.lock().unwrap();
    let next = created.len() as u64 + 1;
    let id = if body["enforce_nonce"] == json!(true) && !nonce.is_empty() {
        *created.entry(nonce).or_insert(next)
    } else {
        created.insert(format!("unkeyed-{next}"), next);
        next
    };
    Json(json!({ "id": id.to_string(), "channel_id": channel, "content": content }))
}

/// The server every channel of the fake Discord belongs to.
pub const FAKE_GUILD: &str = "910000000000000001";

async fn discord_channel(Path(channel): Path<String>) -> Json<Value> {
    Json(json!({ "id": channel, "type": 0, "guild_id": FAKE_GUILD }))
}

async fn slack_post(State(fake): State<Arc<FakeChat>>, Json(body): Json<Value>) -> Json<Value> {
    let channel = body["channel"].as_str().unwrap_or_default().to_string();
    let text = body["text"].as_str().unwrap_or_default().to_string();
    fake.slack_posts
        .lock()
        .unwrap()
        .push((channel.clone(), text));
    Json(json!({ "ok": true, "channel": channel, "ts": "1700000000.000100" }))
}

/// Start the fake; returns it with its Discord and Slack API bases.
pub async fn start() -> (Arc<FakeChat>, String, String) {
    let fake = Arc::new(FakeChat::default());
    let app = axum::Router::new()
        .route(
            "/discord/api/v10/channels/{channel}/messages",
            axum::routing::post(discord_create),
        )
        .route(
            "/discord/api/v10/channels/{channel}",
            axum::routing::get(discord_channel),
        )
        .route(
            "/slack/api/chat.postMessage",
            axum::routing::post(slack_post),
        )
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (
        fake,
        format!("http://{addr}/discord/api/v10"),
        format!("http://{addr}/slack/api"),
    )
}
