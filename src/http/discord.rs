//! `POST /discord/interactions`: Discord's outgoing-webhook model.
//!
//! Every request is checked against the application's Ed25519 public key
//! (signature over timestamp + body) and rejected with 401 when it does not
//! verify or its timestamp is more than 5 minutes off. PING is answered with
//! `{"type":1}`; slash commands and button presses become the same
//! platform-neutral `Command` the console builds from text, and the core's
//! reply goes back as a type 4 response (flag 64, ephemeral, for errors and
//! private lists).
//!
//! A signature proves who sent a request, not that it is new: the same signed
//! bytes verify for 5 minutes. So each interaction's `id` is recorded before
//! it acts (like Slack's `trigger_id`), and a repeat is answered "Already
//! done" and changes nothing. An interaction id is a snowflake holding the
//! time Discord created it: one created longer ago than recorded ids are
//! kept ([`INBOUND_KEEP_SECS`], less the allowed clock skew) could no longer
//! be told from a replay, so it is refused as expired.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use ed25519_dalek::{Signature, Verifier as _};
use serde::Deserialize;
use serde_json::{Value, json};

use super::HttpState;
use crate::app::Reply;
use crate::chat::discord::{MAX_CONTENT, escape};
use crate::command::{self, Command};
use crate::service::meetings::Actor;
use crate::store::{INBOUND_KEEP_SECS, MAX_SKEW_SECS};

const EPHEMERAL: u64 = 64;
/// Discord's epoch (2015-01-01), in unix milliseconds, for snowflake times.
const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;

#[derive(Deserialize)]
struct Interaction {
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    data: Option<Value>,
    guild_id: Option<String>,
    channel_id: Option<String>,
    member: Option<Member>,
    user: Option<User>,
}

#[derive(Deserialize)]
struct Member {
    user: User,
    #[serde(default)]
    roles: Vec<String>,
}

#[derive(Deserialize)]
struct User {
    id: String,
}

fn unauthorized(why: &str) -> Response {
    tracing::info!(reason = why, "rejected a Discord request");
    (StatusCode::UNAUTHORIZED, "invalid request signature").into_response()
}

/// Check Discord's signature headers over `body`.
pub fn verify(
    key: &ed25519_dalek::VerifyingKey,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<(), &'static str> {
    let sig = headers
        .get("x-signature-ed25519")
        .and_then(|v| v.to_str().ok())
        .ok_or("no signature")?;
    let ts = headers
        .get("x-signature-timestamp")
        .and_then(|v| v.to_str().ok())
        .ok_or("no timestamp")?;
    let when: i64 = ts.parse().map_err(|_| "bad timestamp")?;
    if now.abs_diff(when) > MAX_SKEW_SECS.unsigned_abs() {
        return Err("timestamp too far from now");
    }
    let sig: [u8; 64] = hex::decode(sig)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("bad signature encoding")?;
    let mut message = ts.as_bytes().to_vec();
    message.extend_from_slice(body);
    key.verify(&message, &Signature::from_bytes(&sig))
        .map_err(|_| "signature does not verify")
}

pub async fn interactions(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(key) = state.discord_key else {
        return (
            StatusCode::NOT_FOUND,
            "Discord is not configured (DISCORD_PUBLIC_KEY)",
        )
            .into_response();
    };
    let now = Utc::now();
    if let Err(why) = verify(&key, &headers, &body, now.timestamp()) {
        return unauthorized(why);
    }
    let interaction: Interaction = match serde_json::from_slice(&body) {
        Ok(i) => i,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, format!("not an interaction: {e}")).into_response();
        }
    };
    let platform_roles = interaction
        .member
        .as_ref()
        .map(|m| m.roles.clone())
        .unwrap_or_default();
    let user = interaction
        .member
        .map(|m| m.user.id)
        .or(interaction.user.map(|u| u.id))
        .unwrap_or_default();
    let actor = Actor {
        workspace: interaction
            .guild_id
            .clone()
            .unwrap_or_else(|| format!("dm-{user}")),
        user,
        channel: interaction.channel_id.clone(),
        platform_roles,
    };
    let data = interaction.data.unwrap_or(Value::Null);
    if interaction.kind == 1 {
        return Json(json!({ "type": 1 })).into_response();
    }
    // Autocomplete only reads; everything else acts at most once: its key
    // commits with its first write (so a request dropped half-way left no
    // key, and its retry acts).
    let id = interaction.id.as_deref().unwrap_or_default();
    if interaction.kind != 4 {
        if let Some(answer) = replay_guard(&state.app.store, id, now.timestamp()).await {
            return answer;
        }
    }
    let span = tracing::info_span!("discord", workspace = %actor.workspace, user = %actor.user, kind = interaction.kind);
    let work = tracing::Instrument::instrument(
        dispatch(&state.app, &actor, interaction.kind, &data, now),
        span,
    );
    let response = if interaction.kind == 4 {
        work.await
    } else {
        crate::store::with_request_guard(format!("discord:{id}"), now.timestamp(), work).await
    };
    Json(response).into_response()
}

/// `None` when interaction `id` is new (it is recorded now); otherwise the
/// answer to send instead of acting.
async fn replay_guard(store: &crate::store::Store, id: &str, now: i64) -> Option<Response> {
    let Some(created) = snowflake_secs(id) else {
        return Some(
            (
                StatusCode::BAD_REQUEST,
                "not an interaction: its id is not a Discord snowflake",
            )
                .into_response(),
        );
    };
    let notice = |text: &str| Some(Json(respond(&error_reply(text.to_string()))).into_response());
    if created < now.saturating_sub(INBOUND_KEEP_SECS - MAX_SKEW_SECS) {
        tracing::info!(
            interaction = id,
            created,
            "refused an expired Discord interaction"
        );
        return notice("This request has expired; run the command again.");
    }
    match store.seen(&format!("discord:{id}"), now).await {
        Ok(false) => None,
        Ok(true) => {
            tracing::info!(interaction = id, "ignoring a repeated Discord interaction");
            notice("Already done: this request was handled before, so nothing changed.")
        }
        Err(e) => notice(&crate::error::Error::Internal(e).to_user_text()),
    }
}

/// When Discord created the object with snowflake `id`, in unix seconds.
fn snowflake_secs(id: &str) -> Option<i64> {
    let n: u64 = id.parse().ok()?;
    let ms = i64::try_from(n >> 22).ok()?.checked_add(DISCORD_EPOCH_MS)?;
    Some(ms / 1000)
}

/// Run one interaction (either path: the HTTP endpoint or the gateway) and
/// return Discord's response body.
pub async fn dispatch(
    app: &crate::app::App,
    actor: &Actor,
    kind: u8,
    data: &Value,
    now: chrono::DateTime<Utc>,
) -> Value {
    let reply = match kind {
        2 => match to_command(data) {
            Ok(cmd) => app.handle(actor, cmd, now).await,
            Err(e) => error_reply(e.to_user_text()),
        },
        3 => {
            let id = data
                .get("custom_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if let Some(decision) = crate::app::reject_target(id) {
                return reason_modal(decision);
            }
            app.press(actor, id, now).await
        }
        5 => {
            let id = data
                .get("custom_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match crate::app::reject_target(id) {
                Some(decision) => {
                    app.reject_with_reason(actor, decision, &modal_value(data, "reason"), now)
                        .await
                }
                None => error_reply(format!("Quorum does not know the form `{id}`.")),
            }
        }
        4 => {
            return json!({ "type": 8, "data": { "choices": autocomplete(app, actor, data).await } });
        }
        other => error_reply(format!(
            "Quorum does not handle interactions of type {other}."
        )),
    };
    respond(&reply)
}

/// A MODAL response (type 9) asking for the reason of rejecting `decision`;
/// its submission (type 5) comes back with the same custom id.
fn reason_modal(decision: i64) -> Value {
    json!({
        "type": 9,
        "data": {
            "custom_id": format!("decision:reject:{decision}"),
            "title": format!("Reject decision {decision}"),
            "components": [{
                "type": 1,
                "components": [{
                    "type": 4,
                    "custom_id": "reason",
                    "label": "Why is it rejected?",
                    "style": 1,
                    "min_length": 1,
                    "max_length": 1000,
                    "required": true,
                }],
            }],
        },
    })
}

/// The value of text input `name` in a modal submission.
fn modal_value(data: &Value, name: &str) -> String {
    data.get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|row| {
            row.get("components")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .find(|c| c.get("custom_id").and_then(Value::as_str) == Some(name))
        .and_then(|c| c.get("value").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default()
}

fn error_reply(text: String) -> Reply {
    Reply {
        text,
        ephemeral: true,
        is_error: true,
    }
}

/// A type 4 response for a reply, within Discord's limits; nobody is pinged.
pub fn respond(reply: &Reply) -> Value {
    let mut text = reply.text.clone();
    if text.chars().count() > MAX_CONTENT {
        let keep: String = text.chars().take(MAX_CONTENT - 60).collect();
        let cut = keep.rfind('\n').unwrap_or(keep.len());
        text = format!(
            "{}\n… (more not shown; narrow it with options)",
            &keep[..cut]
        );
    }
    let mut data = json!({ "content": text, "allowed_mentions": { "parse": [] } });
    if reply.ephemeral {
        data["flags"] = json!(EPHEMERAL);
    }
    json!({ "type": 4, "data": data })
}

fn option_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// Application command data -> the platform-neutral command: `/meeting add`
/// arrives as name `meeting` with one SUB_COMMAND option `add` holding the
/// named options; `/escalate` has its options directly.
pub fn to_command(data: &Value) -> crate::error::Result<Command> {
    let name = data.get("name").and_then(Value::as_str).unwrap_or_default();
    let empty = Vec::new();
    let options = data
        .get("options")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let (path, opts): (Vec<&str>, &Vec<Value>) = match options.first() {
        Some(first) if first.get("type").and_then(Value::as_u64) == Some(1) => (
            vec![
                name,
                first
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            ],
            first
                .get("options")
                .and_then(Value::as_array)
                .unwrap_or(&empty),
        ),
        _ => (vec![name], options),
    };
    let named: Vec<(String, String)> = opts
        .iter()
        .filter_map(|o| {
            let n = o.get("name")?.as_str()?.to_string();
            Some((n, option_value(o.get("value")?)))
        })
        .collect();
    command::from_options(&path, named)
}

/// Choices for an `id` option being typed: the workspace's records, newest first.
async fn autocomplete(app: &crate::app::App, actor: &Actor, data: &Value) -> Vec<Value> {
    let family = data.get("name").and_then(Value::as_str).unwrap_or_default();
    let store = &app.store;
    let list: Vec<(i64, String)> = match family {
        "meeting" => store
            .list_series(&actor.workspace)
            .await
            .map(|v| v.into_iter().map(|s| (s.id, s.title)).collect())
            .unwrap_or_default(),
        "decision" => store
            .list_decisions(&actor.workspace, None, None, None)
            .await
            .map(|v| v.into_iter().map(|d| (d.id, d.title)).collect())
            .unwrap_or_default(),
        "action" => store
            .list_actions(&actor.workspace, &Default::default())
            .await
            .map(|v| v.into_iter().map(|a| (a.id, a.task)).collect())
            .unwrap_or_default(),
        "escalation" => store
            .list_escalations(&actor.workspace, true)
            .await
            .map(|v| v.into_iter().map(|e| (e.id, e.summary)).collect())
            .unwrap_or_default(),
        "risk" => store
            .open_risks(&actor.workspace, None)
            .await
            .map(|v| v.into_iter().map(|r| (r.id, r.title)).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    list.into_iter()
        .take(25)
        .map(|(id, title)| {
            let name: String = format!("{id}: {}", escape(&title))
                .chars()
                .take(100)
                .collect();
            json!({ "name": name, "value": id })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::EscalationCommand;

    #[test]
    fn subcommand_options_map_to_the_same_command_as_the_text_grammar() {
        let data = json!({
            "name": "meeting",
            "options": [{ "type": 1, "name": "add", "options": [
                { "name": "title", "type": 3, "value": "Exec team" },
                { "name": "when", "type": 3, "value": "weekly on monday at 10:00" },
                { "name": "tz", "type": 3, "value": "Europe/Madrid" }
            ]}]
        });
        let Command::Meeting(crate::command::MeetingCommand::Add(m)) = to_command(&data).unwrap()
        else {
            panic!("not a meeting add")
        };
        assert_eq!(m.title.as_str(), "Exec team");
        assert_eq!(m.zone.unwrap().name(), "Europe/Madrid");
    }

    #[test]
    fn escalate_takes_its_options_directly_and_integers_become_ids() {
        let data = json!({ "name": "escalate", "options": [
            { "name": "topic", "type": 3, "value": "budget" },
            { "name": "severity", "type": 3, "value": "high" },
            { "name": "summary", "type": 3, "value": "Bill doubled" }
        ]});
        assert!(matches!(
            to_command(&data).unwrap(),
            Command::Escalation(EscalationCommand::Raise { .. })
        ));
        let data = json!({ "name": "escalation", "options": [{ "type": 1, "name": "ack", "options": [{ "name": "id", "type": 4, "value": 7 }] }] });
        assert!(matches!(
            to_command(&data).unwrap(),
            Command::Escalation(EscalationCommand::Ack { id: 7 })
        ));
    }

    #[test]
    fn a_hostile_timestamp_is_refused_without_overflow() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
        for ts in [
            i64::MIN.to_string(),
            i64::MAX.to_string(),
            "99999999999999999999".into(),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert("x-signature-ed25519", "00".repeat(64).parse().unwrap());
            headers.insert("x-signature-timestamp", ts.parse().unwrap());
            assert!(
                verify(&key, &headers, b"{}", 1_800_000_000).is_err(),
                "{ts}"
            );
            assert!(verify(&key, &headers, b"{}", i64::MIN).is_err(), "{ts}");
        }
    }

    #[test]
    fn a_snowflake_tells_when_discord_created_it() {
        // Discord's documented example: 175928847299117063 is 2016-04-30 11:18:25.796 UTC.
        assert_eq!(snowflake_secs("175928847299117063"), Some(1_462_015_105));
        assert_eq!(snowflake_secs(&u64::MAX.to_string()), Some(5_818_116_911));
        for bad in ["", "-1", "abc", "1e9", "99999999999999999999999"] {
            assert_eq!(snowflake_secs(bad), None, "{bad}");
        }
    }

    #[test]
    fn long_replies_are_cut_within_the_limit() {
        let reply = Reply {
            text: "row\n".repeat(1000),
            ephemeral: true,
            is_error: false,
        };
        let v = respond(&reply);
        assert!(v["data"]["content"].as_str().unwrap().chars().count() <= MAX_CONTENT);
        assert_eq!(v["data"]["flags"], 64);
    }
}
