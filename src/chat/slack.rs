//! Slack, outgoing: `chat.postMessage` through the Web API with reqwest.
//!
//! - Slack answers errors as HTTP 200 with `"ok": false`: those are errors,
//!   with Slack's error code in the log (temporary ones are retried).
//! - A 429 is waited out as its `Retry-After` header says; and Quorum keeps
//!   to about one message per second per channel on its own.
//! - Every notice is rendered from the one message model
//!   (`domain::notice`) as Block Kit: the title, a fields section, text and
//!   list sections (an item's own button as the section's accessory), a
//!   context block and the buttons, within Slack's limits (3000 characters a
//!   section, 10 fields, 50 blocks), with a plain `text` fallback. User text is escaped (`&`, `<`, `>`), so it can never ping
//!   `@channel` or `@here`; people are mentioned as `<@U123>` only when meant.
//!   Times use `<!date^UNIX^{date_short_pretty} {time}|fallback>`.
//!
//! A direct message (a delivery whose channel is a `domain::direct` target)
//! goes to the channel `conversations.open` returns for the user, opened once
//! per user and remembered; a failure to open it fails the post like any
//! other (retried when temporary); one for good (`user_not_found`,
//! `missing_scope`) sends the message to the executive's channel instead.
//!
//! Slack has no idempotency key: a crash between send and record can repeat
//! the one message in flight (at most one per crash).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Button, Chat, Outgoing, SendError};

const SECTION_LIMIT: usize = 3000;
const MAX_BLOCKS: usize = 50;

pub struct SlackChat {
    http: reqwest::Client,
    base: String,
    token: String,
    channels: HashMap<String, String>,
    /// Channel -> when its last message went out.
    last: Mutex<HashMap<String, Instant>>,
    /// User id -> their direct-message channel, once opened.
    dms: Mutex<HashMap<String, String>>,
}

/// Escape user text for Slack's mrkdwn.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Slack user ids look like `U0123ABC` or `W0123ABC`.
pub fn is_user_id(s: &str) -> bool {
    s.len() >= 9
        && (s.starts_with('U') || s.starts_with('W'))
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn date(at: i64, fallback: &str) -> String {
    format!(
        "<!date^{at}^{{date_short_pretty}} {{time}}|{}>",
        escape(fallback)
    )
}

fn sections(text: &str) -> Vec<Value> {
    crate::chat::discord::split(text, SECTION_LIMIT)
        .into_iter()
        .filter(|t| !t.trim().is_empty())
        .map(|t| json!({ "type": "section", "text": { "type": "mrkdwn", "text": t } }))
        .collect()
}

fn button(b: &Button) -> Value {
    let label: String = b.label.chars().take(75).collect();
    let mut v = json!({
        "type": "button",
        "text": { "type": "plain_text", "text": label },
        "action_id": b.id,
        "value": b.id,
    });
    if b.primary {
        v["style"] = json!("primary");
    }
    v
}

fn buttons(list: &[Button]) -> Option<Value> {
    if list.is_empty() {
        return None;
    }
    let elements: Vec<Value> = list.iter().take(25).map(button).collect();
    Some(json!({ "type": "actions", "elements": elements }))
}

/// A field's value in Slack mrkdwn: a moment as `<!date^...>`, so each
/// reader sees it in their own zone.
fn value(f: &crate::domain::notice::Field) -> String {
    match f.at {
        Some(at) => date(at, &f.value),
        None => escape(&f.value),
    }
}

/// The Block Kit message and its plain-text fallback: the title as a
/// section (with whom it pings), the fields as a fields section, text and
/// lists as sections (an item with a button of its own carries it as the
/// section's accessory), the context as a context block, and the buttons.
pub fn blocks(message: &Outgoing) -> (Vec<Value>, String) {
    let pings: Vec<String> = message
        .mention
        .iter()
        .filter(|u| is_user_id(u))
        .map(|u| format!("<@{u}>"))
        .collect();
    let pings = if pings.is_empty() {
        String::new()
    } else {
        format!("{} ", pings.join(" "))
    };
    let n = message.notice();
    let mut out = Vec::new();
    let headline = escape(&n.headline());
    out.extend(sections(&format!("{pings}*{headline}*")));
    let mut fallback = format!("{pings}{headline}");
    // A fields section holds at most 10 fields of 2000 characters.
    for chunk in n.fields.chunks(10) {
        let fields: Vec<Value> = chunk
            .iter()
            .map(|f| {
                let text: String = format!("*{}*\n{}", escape(&f.name), value(f))
                    .chars()
                    .take(2000)
                    .collect();
                json!({ "type": "mrkdwn", "text": text })
            })
            .collect();
        out.push(json!({ "type": "section", "fields": fields }));
    }
    for f in &n.fields {
        fallback.push_str(&format!("\n{}: {}", f.name, escape(&f.value)));
    }
    for t in &n.text {
        out.extend(sections(&escape(t)));
        fallback.push_str(&format!("\n{}", escape(t)));
    }
    for list in &n.lists {
        let mut text = format!("*{}*", escape(&list.heading));
        let flush = |text: &mut String, out: &mut Vec<Value>| {
            if !text.is_empty() {
                out.extend(sections(text));
                text.clear();
            }
        };
        for (i, item) in list.items.iter().enumerate() {
            let mark = if list.numbered {
                format!("{}.", i + 1)
            } else {
                "•".to_string()
            };
            let line = format!("{mark} {}", escape(&item.text));
            match &item.action {
                Some(a) => {
                    flush(&mut text, &mut out);
                    let line: String = line.chars().take(SECTION_LIMIT).collect();
                    out.push(json!({
                        "type": "section",
                        "text": { "type": "mrkdwn", "text": line },
                        "accessory": button(a),
                    }));
                }
                None => {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(&line);
                }
            }
        }
        if let Some(more) = &list.more {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&format!(
                "+{} more: `{}`",
                more.count,
                escape(&more.command)
            ));
        }
        flush(&mut text, &mut out);
    }
    let mut context: Vec<String> = Vec::new();
    if let Some(c) = &n.context {
        context.push(escape(c));
    }
    if !context.is_empty() {
        let elements: Vec<Value> = context
            .into_iter()
            .map(|t| {
                let t: String = t.chars().take(SECTION_LIMIT).collect();
                json!({ "type": "mrkdwn", "text": t })
            })
            .collect();
        out.push(json!({ "type": "context", "elements": elements }));
    }
    if let Some(actions) = buttons(&n.actions) {
        out.truncate(MAX_BLOCKS - 1);
        out.push(actions);
    }
    out.truncate(MAX_BLOCKS);
    let fallback: String = fallback.chars().take(3000).collect();
    (out, fallback)
}

impl SlackChat {
    pub fn new(
        base: &str,
        token: &str,
        channels: HashMap<String, String>,
    ) -> anyhow::Result<SlackChat> {
        Ok(SlackChat {
            http: super::http_client().build()?,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            channels,
            last: Mutex::new(HashMap::new()),
            dms: Mutex::new(HashMap::new()),
        })
    }

    fn channel_id(&self, channel: &str) -> String {
        self.channels
            .get(channel)
            .cloned()
            .unwrap_or_else(|| channel.to_string())
    }

    /// Post `message` to the channel with id `channel`.
    async fn send(&self, channel: &str, message: &Outgoing) -> Result<(), SendError> {
        let (blocks, text) = blocks(message);
        self.pace(channel).await;
        self.call(
            "chat.postMessage",
            &json!({ "channel": channel, "text": text, "blocks": blocks }),
        )
        .await
        .map(|_| ())
    }

    /// The channel id a message goes to, without asking Slack: `None` for a
    /// direct message whose channel is not open yet.
    fn known_destination(&self, channel: &str) -> Option<String> {
        let Some(direct) = crate::domain::direct::parse(channel) else {
            return Some(self.channel_id(channel));
        };
        match direct.user(is_user_id) {
            Some(user) => self.dms.lock().ok()?.get(user).cloned(),
            None => Some(self.channel_id(direct.fallback)),
        }
    }

    /// `user`'s direct-message channel: `conversations.open` the first time,
    /// remembered after (Slack returns the same channel each time).
    async fn open_dm(&self, user: &str) -> Result<String, SendError> {
        if let Some(known) = self.dms.lock().ok().and_then(|d| d.get(user).cloned()) {
            return Ok(known);
        }
        let answer = self
            .call("conversations.open", &json!({ "users": user }))
            .await?;
        let id = answer["channel"]["id"]
            .as_str()
            .filter(|id| !id.is_empty() && id.len() <= 64)
            .ok_or_else(|| {
                SendError::Retry("Slack's conversations.open answer has no channel id".into())
            })?
            .to_string();
        if let Ok(mut dms) = self.dms.lock() {
            dms.insert(user.to_string(), id.clone());
        }
        Ok(id)
    }

    /// How long until `channel` may take its next message (about one a second).
    fn wait_for(&self, channel: &str) -> Option<Duration> {
        let last = self.last.lock().ok()?;
        let next = *last.get(channel)? + Duration::from_secs(1);
        next.checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    async fn pace(&self, channel: &str) {
        let wait = {
            let Ok(mut last) = self.last.lock() else {
                return;
            };
            let now = Instant::now();
            let next = last
                .get(channel)
                .map_or(now, |t| (*t + Duration::from_secs(1)).max(now));
            last.insert(channel.to_string(), next);
            next - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// One Web API call; Slack's `ok: false` becomes an error.
    pub async fn call(&self, method: &str, body: &Value) -> Result<Value, SendError> {
        let resp = self
            .http
            .post(format!("{}/{method}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .inspect_err(|_| crate::metrics::chat_call("slack", None))
            .map_err(|e| SendError::Retry(format!("Slack unreachable: {e}")))?;
        let status = resp.status();
        crate::metrics::chat_call("slack", Some(status.as_u16()));
        if status.as_u16() == 429 {
            crate::metrics::rate_limit_wait("slack");
            let secs = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(1.0);
            return Err(SendError::RetryAfter(super::bounded_wait(
                secs,
                "Slack Retry-After",
            )));
        }
        if status.is_server_error() {
            return Err(SendError::Retry(format!("Slack answered {status}")));
        }
        let v: Value = resp
            .json()
            .await
            .map_err(|e| SendError::Retry(format!("Slack's answer is not JSON: {e}")))?;
        if v["ok"].as_bool() == Some(true) {
            return Ok(v);
        }
        let code = v["error"].as_str().unwrap_or("unknown_error").to_string();
        tracing::error!(method, error = %code, "Slack answered ok:false");
        match code.as_str() {
            "ratelimited" => {
                crate::metrics::rate_limit_wait("slack");
                Err(SendError::RetryAfter(Duration::from_secs(1)))
            }
            "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout" => {
                Err(SendError::Retry(format!("Slack error {code}")))
            }
            _ => Err(SendError::Permanent(format!("Slack error {code}"))),
        }
    }
}

impl Chat for SlackChat {
    async fn post(&self, message: &Outgoing) -> Result<(), SendError> {
        let Some(direct) = crate::domain::direct::parse(&message.channel) else {
            return self.send(&self.channel_id(&message.channel), message).await;
        };
        if let Some(user) = direct.user(is_user_id) {
            // Refused for good (the user is gone, or the app lacks
            // im:write): the executive's channel rather than nothing.
            let sent = async { self.send(&self.open_dm(user).await?, message).await };
            if let Some(outcome) = super::direct_or_fallback(direct.role, sent).await {
                return outcome;
            }
        }
        self.send(&self.channel_id(direct.fallback), message).await
    }

    fn hold(&self, message: &Outgoing) -> Option<Duration> {
        self.wait_for(&self.known_destination(&message.channel)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::Body;

    #[test]
    fn user_text_cannot_ping_the_channel() {
        assert_eq!(
            escape("<!channel> & <!here>"),
            "&lt;!channel&gt; &amp; &lt;!here&gt;"
        );
    }

    #[test]
    fn long_notices_become_several_sections_within_limits() {
        let m = Outgoing {
            workspace: "T1".into(),
            channel: "C1".into(),
            key: "k".into(),
            body: Body::Notice("word ".repeat(2000)),
            mention: vec!["U012ABCDEF".into(), "123456789012345678".into()],
            buttons: vec![Button {
                label: "Acknowledge".into(),
                id: "esc:ack:1".into(),
                command: "/escalation ack id:1".into(),
                primary: true,
            }],
        };
        let (blocks, text) = blocks(&m);
        assert!(blocks.len() >= 4);
        assert!(blocks.iter().all(|b| {
            b["text"]["text"]
                .as_str()
                .is_none_or(|t| t.chars().count() <= SECTION_LIMIT)
        }));
        assert!(
            text.starts_with("<@U012ABCDEF> word"),
            "only Slack ids are pinged: {text}"
        );
        assert_eq!(blocks.last().unwrap()["type"], "actions");
    }
}
