//! `POST /slack/commands` and `POST /slack/interactions`: Slack slash
//! commands (the text after the command is the console grammar) and button
//! presses (block actions).
//!
//! Every request is checked with Slack's v0 signing (HMAC-SHA256 of
//! `v0:{timestamp}:{raw body}` with the signing secret, compared in constant
//! time) and rejected with 401 when it does not verify or its timestamp is
//! more than 5 minutes off. A request Slack retries (`X-Slack-Retry-Num`)
//! carries the same `trigger_id`; Quorum records each one it acts on, so a
//! retry never acts twice. A request without a `trigger_id` is recorded by
//! its signature instead: the same signed bytes verify for 5 minutes, and
//! the signature is kept longer than that, so a replay never acts twice either. Commands answer within 3 seconds: when the work
//! takes longer, Quorum acknowledges at once and finishes through `response_url`.

use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::HttpState;
use crate::app::Reply;
use crate::chat::slack::escape;
use crate::service::meetings::Actor;
use crate::store::MAX_SKEW_SECS;

/// Slack wants an answer within 3 seconds; leave room for the network.
const ANSWER_WITHIN: Duration = Duration::from_millis(2500);

/// Slack's v0 signature of `body` at `timestamp`.
pub fn signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// Check Slack's signature headers over `body`, in constant time.
pub fn verify(
    secret: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<(), &'static str> {
    let ts = headers
        .get("x-slack-request-timestamp")
        .and_then(|v| v.to_str().ok())
        .ok_or("no timestamp")?;
    let sig = headers
        .get("x-slack-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or("no signature")?;
    let when: i64 = ts.parse().map_err(|_| "bad timestamp")?;
    if now.abs_diff(when) > MAX_SKEW_SECS.unsigned_abs() {
        return Err("timestamp too far from now");
    }
    let hex_sig = sig.strip_prefix("v0=").ok_or("unknown signature version")?;
    let expected = hex::decode(hex_sig).map_err(|_| "bad signature encoding")?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| "bad secret")?;
    mac.update(format!("v0:{ts}:").as_bytes());
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| "signature does not verify")
}

fn unauthorized(why: &str) -> Response {
    tracing::info!(reason = why, "rejected a Slack request");
    (StatusCode::UNAUTHORIZED, "invalid request signature").into_response()
}

/// A reply as Slack's response JSON: escaped text in sections, with a fallback.
pub fn response(reply: &Reply) -> Value {
    let text = escape(&reply.text);
    let blocks: Vec<Value> = crate::chat::discord::split(&text, 3000)
        .into_iter()
        .filter(|t| !t.trim().is_empty())
        .take(49)
        .map(|t| json!({ "type": "section", "text": { "type": "mrkdwn", "text": t } }))
        .collect();
    json!({
        "response_type": if reply.ephemeral { "ephemeral" } else { "in_channel" },
        "text": text.chars().take(3000).collect::<String>(),
        "blocks": blocks,
    })
}

struct Checked {
    form: HashMap<String, String>,
    /// The verified `x-slack-signature`: the key of a request without a trigger id.
    signature: String,
}

/// Signature, then the retry guard. `None` with a response to send instead.
async fn check(state: &HttpState, headers: &HeaderMap, body: &[u8]) -> Result<Checked, Response> {
    let Some(secret) = &state.slack_secret else {
        return Err((
            StatusCode::NOT_FOUND,
            "Slack is not configured (SLACK_SIGNING_SECRET)",
        )
            .into_response());
    };
    let now = Utc::now().timestamp();
    if let Err(why) = verify(secret, headers, body, now) {
        return Err(unauthorized(why));
    }
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(body)
        .map_err(|e| (StatusCode::BAD_REQUEST, format!("not a form: {e}")).into_response())?;
    let signature = headers
        .get("x-slack-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    Ok(Checked { form, signature })
}

/// The retry guard's key: the trigger id when Slack sent one, else the signature.
fn guard_key(team: &str, trigger: &str, signature: &str) -> String {
    if trigger.is_empty() {
        format!("slack-sig:{signature}")
    } else {
        format!("slack:{team}:{trigger}")
    }
}

/// Whether this request already acted (its retry guard committed with its
/// effects). When the database cannot answer, the command could not be
/// recorded either: the caller answers at once that nothing was recorded,
/// instead of spending Slack's 3 seconds on a second attempt.
async fn seen(state: &HttpState, key: &str) -> Result<bool, Response> {
    match state.app.store.seen(key, Utc::now().timestamp()).await {
        Ok(seen) => Ok(seen),
        Err(e) => {
            let reply = Reply {
                text: crate::error::Error::Internal(e).to_user_text(),
                ephemeral: true,
                is_error: true,
            };
            Err(Json(response(&reply)).into_response())
        }
    }
}

/// A request refused because its twin, racing it, already acted (its key is
/// now recorded, and a refused request records none) is a repeat: it is
/// answered as one, not with the refusal.
async fn as_repeat(app: &crate::app::App, key: &str, reply: Reply) -> Reply {
    // A database that could not take the command cannot say whether a twin
    // did either: asking it again would only spend Slack's 3 seconds.
    if reply.is_error
        && !reply.text.starts_with(crate::error::DATABASE_UNAVAILABLE)
        && matches!(app.store.seen(key, Utc::now().timestamp()).await, Ok(true))
    {
        return Reply {
            text: crate::error::ALREADY_DONE.to_string(),
            ephemeral: true,
            is_error: true,
        };
    }
    reply
}

/// Post `reply` to Slack's `response_url` (a finished slow command, or the answer to a button).
async fn follow_up(url: &str, reply: &Reply) {
    if url.is_empty() {
        return;
    }
    let mut body = response(reply);
    body["replace_original"] = json!(false);
    match crate::chat::http_client()
        .build()
        .unwrap_or_default()
        .post(url)
        .json(&body)
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => tracing::error!(status = %r.status(), "Slack refused a response_url post"),
        Err(e) => tracing::error!(error = %e, "posting to Slack's response_url"),
    }
}

pub async fn commands(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    let Checked { form, signature } = match check(&state, &headers, &body).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let key = guard_key(&get("team_id"), &get("trigger_id"), &signature);
    // Slack marks its retries: those are looked up first and acknowledged in
    // silence if they acted. Any other repeat (a replay) is caught by the
    // guard, which commits with the command's first write and refuses a
    // second one ("Already done"); a read repeated is only read again. The
    // lookup was a quarter of a first attempt's database work.
    if headers.contains_key("x-slack-retry-num") {
        match seen(&state, &key).await {
            Ok(false) => {}
            Ok(true) => {
                tracing::info!(retry = ?headers.get("x-slack-retry-num"), "ignoring a repeated Slack command");
                return StatusCode::OK.into_response();
            }
            Err(answer) => return answer,
        }
    }
    let actor = Actor {
        workspace: get("team_id"),
        user: get("user_id"),
        channel: Some(get("channel_id")).filter(|c| !c.is_empty()),
        platform_roles: Vec::new(),
    };
    let line = format!("{} {}", get("command"), get("text"));
    let response_url = get("response_url");
    let app = state.app.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<Reply>();
    // The command runs in its own task, so a client that gives up does not
    // cancel it half-way; its retry guard commits with its first write.
    tokio::spawn(async move {
        let now = Utc::now();
        let reply = crate::store::with_request_guard(
            key.clone(),
            now.timestamp(),
            app.handle_line(&actor, &line, now),
        )
        .await;
        let reply = as_repeat(&app, &key, reply).await;
        if let Err(reply) = tx.send(reply) {
            // The request was already answered: finish through response_url.
            follow_up(&response_url, &reply).await;
        }
    });
    match tokio::time::timeout(ANSWER_WITHIN, rx).await {
        Ok(Ok(reply)) => Json(response(&reply)).into_response(),
        _ => {
            Json(json!({ "response_type": "ephemeral", "text": "Working on it…" })).into_response()
        }
    }
}

pub async fn interactions(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Checked { form, signature } = match check(&state, &headers, &body).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let payload: Value = match form.get("payload").map(|p| serde_json::from_str(p)) {
        Some(Ok(v)) => v,
        _ => return (StatusCode::BAD_REQUEST, "no payload").into_response(),
    };
    if payload["type"] == "view_submission" {
        return view_submission(&state, &payload, &signature).await;
    }
    if payload["type"] != "block_actions" {
        return StatusCode::OK.into_response();
    }
    let team = payload["team"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let trigger = payload["trigger_id"].as_str().unwrap_or_default();
    let pressed = payload["actions"][0]["action_id"]
        .as_str()
        .unwrap_or_default();
    // Reject asks for the reason in a form first; nothing changes until it
    // is sent (then `view_submission` runs the command).
    if let (Some(decision), Some(web)) = (crate::app::reject_target(pressed), &state.slack_web) {
        let channel = payload["channel"]["id"].as_str().unwrap_or_default();
        let view = reason_form(decision, channel);
        if let Err(e) = web
            .call(
                "views.open",
                &json!({ "trigger_id": trigger, "view": view }),
            )
            .await
        {
            tracing::warn!(error = %e, "could not open the reason form");
        }
        return StatusCode::OK.into_response();
    }
    let key = guard_key(&team, trigger, &signature);
    match seen(&state, &key).await {
        Ok(false) => {}
        Ok(true) => {
            tracing::info!(retry = ?headers.get("x-slack-retry-num"), "ignoring a repeated Slack button press");
            return StatusCode::OK.into_response();
        }
        Err(answer) => return answer,
    }
    let actor = actor_of(team, &payload, payload["channel"]["id"].as_str());
    let action = payload["actions"][0]["action_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let url = payload["response_url"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let app = state.app.clone();
    // Slack wants the 200 at once; the answer follows through response_url.
    tokio::spawn(async move {
        let now = Utc::now();
        let reply = crate::store::with_request_guard(
            key.clone(),
            now.timestamp(),
            app.press(&actor, &action, now),
        )
        .await;
        let reply = as_repeat(&app, &key, reply).await;
        let reply = Reply {
            ephemeral: true,
            ..reply
        };
        // A repeat that raced the original: the original answers.
        if reply.text != crate::error::ALREADY_DONE {
            follow_up(&url, &reply).await;
        }
    });
    StatusCode::OK.into_response()
}

/// The form a Reject button opens: one line for the reason.
pub fn reason_form(decision: i64, channel: &str) -> Value {
    json!({
        "type": "modal",
        "callback_id": format!("decision:reject:{decision}"),
        "private_metadata": channel,
        "title": { "type": "plain_text", "text": "Reject a decision" },
        "submit": { "type": "plain_text", "text": "Reject" },
        "close": { "type": "plain_text", "text": "Cancel" },
        "blocks": [
            {
                "type": "section",
                "text": { "type": "mrkdwn", "text": format!("Why is decision {decision} rejected? The reason is kept with it.") },
            },
            {
                "type": "input",
                "block_id": "reason",
                "label": { "type": "plain_text", "text": "Reason" },
                "element": { "type": "plain_text_input", "action_id": "reason", "max_length": 1000 },
            },
        ],
    })
}

/// A reason form was sent: reject the decision as the typed command would.
/// A refusal is shown in the form, under the reason; success closes it.
async fn view_submission(state: &HttpState, payload: &Value, signature: &str) -> Response {
    let view = &payload["view"];
    let Some(decision) =
        crate::app::reject_target(view["callback_id"].as_str().unwrap_or_default())
    else {
        return StatusCode::OK.into_response();
    };
    let team = payload["team"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let key = guard_key(&team, "", signature);
    match seen(state, &key).await {
        Ok(false) => {}
        Ok(true) => return StatusCode::OK.into_response(),
        Err(answer) => return answer,
    }
    let actor = actor_of(
        team,
        payload,
        view["private_metadata"].as_str().filter(|c| !c.is_empty()),
    );
    let reason = view["state"]["values"]["reason"]["reason"]["value"]
        .as_str()
        .unwrap_or_default();
    let now = Utc::now();
    let reply = crate::store::with_request_guard(
        key,
        now.timestamp(),
        state.app.reject_with_reason(&actor, decision, reason, now),
    )
    .await;
    if reply.is_error {
        return Json(json!({ "response_action": "errors", "errors": { "reason": reply.text } }))
            .into_response();
    }
    Json(json!({ "response_action": "clear" })).into_response()
}

/// Who pressed a button or submitted a form: the interaction payload's user, in the
/// channel the caller read from wherever that payload keeps it.
fn actor_of(workspace: String, payload: &Value, channel: Option<&str>) -> Actor {
    Actor {
        workspace,
        user: payload["user"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        channel: channel.map(str::to_string),
        platform_roles: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slacks_documented_signing_example() {
        let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let sig = signature(
            "8f742231b10e8888abcd99yyyzzz85a5",
            "1531420618",
            body.as_bytes(),
        );
        assert_eq!(
            sig,
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        );
        let mut headers = HeaderMap::new();
        headers.insert("x-slack-request-timestamp", "1531420618".parse().unwrap());
        headers.insert("x-slack-signature", sig.parse().unwrap());
        assert_eq!(
            verify(
                "8f742231b10e8888abcd99yyyzzz85a5",
                &headers,
                body.as_bytes(),
                1531420618
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                "8f742231b10e8888abcd99yyyzzz85a5",
                &headers,
                body.as_bytes(),
                1531420618 + 301
            ),
            Err("timestamp too far from now")
        );
        assert_eq!(
            verify("another secret", &headers, body.as_bytes(), 1531420618),
            Err("signature does not verify")
        );
    }

    #[test]
    fn a_hostile_timestamp_is_refused_without_overflow() {
        for ts in [
            i64::MIN.to_string(),
            i64::MAX.to_string(),
            "99999999999999999999".into(),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert("x-slack-request-timestamp", ts.parse().unwrap());
            headers.insert("x-slack-signature", "v0=00".parse().unwrap());
            assert!(
                verify("secret", &headers, b"", 1_800_000_000).is_err(),
                "{ts}"
            );
            assert!(verify("secret", &headers, b"", i64::MIN).is_err(), "{ts}");
        }
    }
}
