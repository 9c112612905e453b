//! Discord, outgoing: messages through Discord's REST API (v10) with reqwest.
//!
//! - `allowed_mentions` is always exactly the users a message means to ping
//!   (`parse` is empty), so text a user typed can never ping `@everyone`,
//!   `@here` or a role.
//! - Content stays within 2000 characters: longer text is split on line
//!   breaks into several messages, never rejected.
//! - Every message carries a `nonce` derived from its delivery, with
//!   `enforce_nonce`, so a re-send after a crash between send and record
//!   returns the message Discord already created instead of a second one.
//! - Rate limits: a 429 is answered by waiting its `retry_after` (returned to
//!   the scheduler, which retries then); a bucket with `X-RateLimit-Remaining: 0`
//!   holds further sends on that route until `X-RateLimit-Reset-After`, with a
//!   little jitter so a reopened window does not get a thundering herd.
//! - A direct message (a delivery whose channel is a `domain::direct`
//!   target) goes to the DM channel `POST /users/@me/channels` returns for
//!   the user, opened once per user and remembered; a failure to open it
//!   fails the post like any other (retried when temporary); a refusal for
//!   good (the user takes no DMs from the bot) sends the message to the
//!   executive's channel instead.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Button, Chat, Notice, Outgoing, SendError};

/// Discord's limit on message content.
pub const MAX_CONTENT: usize = 2000;

pub struct DiscordChat {
    http: reqwest::Client,
    base: String,
    token: String,
    /// Channel names used in Quorum (`cfo`) to Discord channel ids.
    channels: HashMap<String, String>,
    /// Route -> instant before which that route must not be used.
    holds: Mutex<HashMap<String, Instant>>,
    /// The next free slot of Discord's global limit (50 requests a second).
    global: Mutex<Instant>,
    /// The servers the deployment names (`[discord] guilds`).
    guilds: Vec<String>,
    /// Channel id -> its server (`None`: a direct-message channel), learned
    /// once from `GET /channels/{id}`; a channel never changes server.
    owners: Mutex<HashMap<String, Option<String>>>,
    /// User id -> their direct-message channel, once opened.
    dms: Mutex<HashMap<String, String>>,
}

/// Spacing of requests under Discord's global limit of 50 a second.
const GLOBAL_SPACING: Duration = Duration::from_millis(20);

impl DiscordChat {
    pub fn new(
        base: &str,
        token: &str,
        channels: HashMap<String, String>,
    ) -> anyhow::Result<DiscordChat> {
        let http = super::http_client()
            .user_agent("DiscordBot (https://github.com/quorum, 0.1) Quorum")
            .build()?;
        Ok(DiscordChat {
            http,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            channels,
            holds: Mutex::new(HashMap::new()),
            global: Mutex::new(Instant::now()),
            guilds: Vec::new(),
            owners: Mutex::new(HashMap::new()),
            dms: Mutex::new(HashMap::new()),
        })
    }

    /// The servers this deployment names: messages of config-defined
    /// workspaces may go only to their channels.
    pub fn with_guilds(mut self, guilds: Vec<String>) -> DiscordChat {
        self.guilds = guilds;
        self
    }

    /// A workspace's messages go only to its own channels: a server's to that
    /// server's channels, a direct message's to a direct-message channel, the
    /// config's own (console-style) workspaces to the named servers.
    async fn check_owner(&self, workspace: &str, channel_id: &str) -> Result<(), SendError> {
        use crate::domain::workspace::Kind;
        let kind = Kind::of(workspace);
        if matches!(kind, Kind::Local | Kind::Slack) && self.guilds.is_empty() {
            return Ok(());
        }
        let owner = self.owner_of(channel_id).await?;
        let fits = match kind {
            Kind::Guild => owner.as_deref() == Some(workspace),
            Kind::Direct => owner.is_none(),
            Kind::Local | Kind::Slack => owner.as_ref().is_some_and(|g| self.guilds.contains(g)),
        };
        if fits {
            return Ok(());
        }
        Err(SendError::Permanent(format!(
            "channel {channel_id} belongs to {}, not to workspace {workspace}: Quorum posts a workspace's messages only to its own channels",
            owner.map_or_else(|| "a direct message".to_string(), |g| format!("server {g}"))
        )))
    }

    /// The server a channel belongs to, asked of Discord once and remembered.
    async fn owner_of(&self, channel_id: &str) -> Result<Option<String>, SendError> {
        if let Some(known) = self
            .owners
            .lock()
            .ok()
            .and_then(|o| o.get(channel_id).cloned())
        {
            return Ok(known);
        }
        let route = format!("channels/{channel_id}");
        self.wait_for_bucket(&route).await;
        let resp = self
            .http
            .get(format!("{}/{route}", self.base))
            .header("Authorization", format!("Bot {}", self.token))
            .send()
            .await
            .inspect_err(|_| crate::metrics::chat_call("discord", None))
            .map_err(|e| SendError::Retry(format!("Discord unreachable: {e}")))?;
        let status = resp.status();
        crate::metrics::chat_call("discord", Some(status.as_u16()));
        self.note_headers(&route, resp.headers());
        let text = resp.text().await.unwrap_or_default();
        if status.is_success() {
            let channel: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                SendError::Retry(format!("Discord's channel {channel_id} did not parse: {e}"))
            })?;
            let owner = channel
                .get("guild_id")
                .and_then(|g| g.as_str())
                .map(str::to_string);
            if let Ok(mut o) = self.owners.lock() {
                o.insert(channel_id.to_string(), owner.clone());
            }
            return Ok(owner);
        }
        Err(failure(status, &text, || {
            format!(
                "channel {channel_id} cannot be seen by Quorum (Discord answered {status}); check the id and the bot's access"
            )
        }))
    }

    /// `user`'s direct-message channel: `POST /users/@me/channels` the
    /// first time, remembered after (Discord returns the same channel).
    async fn open_dm(&self, user: &str) -> Result<String, SendError> {
        if let Some(known) = self.dms.lock().ok().and_then(|d| d.get(user).cloned()) {
            return Ok(known);
        }
        let route = "users/@me/channels";
        self.wait_for_bucket(route).await;
        let resp = self
            .http
            .post(format!("{}/{route}", self.base))
            .header("Authorization", format!("Bot {}", self.token))
            .json(&serde_json::json!({ "recipient_id": user }))
            .send()
            .await
            .inspect_err(|_| crate::metrics::chat_call("discord", None))
            .map_err(|e| SendError::Retry(format!("Discord unreachable: {e}")))?;
        let status = resp.status();
        crate::metrics::chat_call("discord", Some(status.as_u16()));
        self.note_headers(route, resp.headers());
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(failure(status, &text, || {
                format!("Discord refused a direct message to user {user} ({status}): {text}")
            }));
        }
        let id = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_string))
            .filter(|id| is_snowflake(id))
            .ok_or_else(|| {
                SendError::Retry("Discord's DM channel answer has no channel id".into())
            })?;
        if let Ok(mut dms) = self.dms.lock() {
            dms.insert(user.to_string(), id.clone());
        }
        Ok(id)
    }

    /// Post `message` in `channel` (a name or an id), which must belong to
    /// the message's workspace.
    async fn post_in_channel(&self, channel: &str, message: &Outgoing) -> Result<(), SendError> {
        let channel_id = self.channel_id(channel)?;
        self.check_owner(&message.workspace, &channel_id).await?;
        self.send_all(&channel_id, message).await
    }

    /// Every part of `message` to `channel_id`. Every part is sent each
    /// time: the nonces make parts Discord already has a no-op, so a retry
    /// after a partial send doubles nothing.
    async fn send_all(&self, channel_id: &str, message: &Outgoing) -> Result<(), SendError> {
        for body in bodies(message) {
            self.send_one(channel_id, &body).await?;
        }
        Ok(())
    }

    fn channel_id(&self, channel: &str) -> Result<String, SendError> {
        if !channel.is_empty() && channel.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(channel.to_string());
        }
        self.channels.get(channel).cloned().ok_or_else(|| {
            SendError::Permanent(format!(
                "channel #{channel} has no Discord id; add it under [discord.channels] as {channel} = \"<channel id>\""
            ))
        })
    }

    /// How long `route`'s bucket is still empty.
    fn bucket_wait(&self, route: &str) -> Option<Duration> {
        let until = self.holds.lock().ok()?.get(route).copied()?;
        until
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    async fn wait_for_bucket(&self, route: &str) {
        if let Some(wait) = self.bucket_wait(route) {
            crate::metrics::rate_limit_wait("discord");
            tokio::time::sleep(wait).await;
        }
        // Discord's global limit: take the next 20 ms slot.
        let wait = match self.global.lock() {
            Ok(mut next) => {
                let now = Instant::now();
                let slot = (*next).max(now);
                *next = slot + GLOBAL_SPACING;
                slot - now
            }
            Err(_) => Duration::ZERO,
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    fn note_headers(&self, route: &str, headers: &reqwest::header::HeaderMap) {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let remaining = get("x-ratelimit-remaining").and_then(|v| v.parse::<u64>().ok());
        let reset_after = get("x-ratelimit-reset-after").and_then(|v| v.parse::<f64>().ok());
        if let (Some(0), Some(after)) = (remaining, reset_after) {
            let jitter = Duration::from_millis(rand_jitter_ms());
            if let Ok(mut h) = self.holds.lock() {
                h.insert(
                    route.to_string(),
                    Instant::now()
                        + super::bounded_wait(after, "Discord X-RateLimit-Reset-After")
                        + jitter,
                );
            }
        }
    }

    async fn send_one(&self, channel_id: &str, body: &serde_json::Value) -> Result<(), SendError> {
        let route = format!("channels/{channel_id}/messages");
        self.wait_for_bucket(&route).await;
        let resp = self
            .http
            .post(format!("{}/{route}", self.base))
            .header("Authorization", format!("Bot {}", self.token))
            .json(body)
            .send()
            .await
            .inspect_err(|_| crate::metrics::chat_call("discord", None))
            .map_err(|e| SendError::Retry(format!("Discord unreachable: {e}")))?;
        let status = resp.status();
        crate::metrics::chat_call("discord", Some(status.as_u16()));
        self.note_headers(&route, resp.headers());
        if status.is_success() {
            return Ok(());
        }
        let text = resp.text().await.unwrap_or_default();
        Err(failure(status, &text, || {
            format!("Discord answered {status}: {text}")
        }))
    }
}

/// What a failed Discord answer means: a 429 waits its (bounded)
/// `retry_after`, a 5xx is tried again, anything else is permanent and says
/// `permanent()`.
fn failure(
    status: reqwest::StatusCode,
    text: &str,
    permanent: impl FnOnce() -> String,
) -> SendError {
    if status.as_u16() == 429 {
        let retry_after = serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.get("retry_after").and_then(|r| r.as_f64()))
            .unwrap_or(1.0);
        crate::metrics::rate_limit_wait("discord");
        return SendError::RetryAfter(super::bounded_wait(retry_after, "Discord retry_after"));
    }
    if status.is_server_error() {
        return SendError::Retry(format!("Discord answered {status}: {text}"));
    }
    SendError::Permanent(permanent())
}

fn rand_jitter_ms() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    u64::from(nanos % 250)
}

/// A nonce Discord accepts (at most 25 characters), stable per delivery and part.
pub fn nonce(key: &str, part: usize) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes().chain(part.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("q{h:x}")
}

/// Discord's own markup for a message: the title in bold (after whom it
/// pings), fields as `**Name:** value`, lists as Markdown lists, the context
/// as subtext; moments as `<t:UNIX:F>` so each reader sees their own zone.
/// Long lists are cut (with a "+N more" line) to keep within one message.
pub fn content(message: &Outgoing) -> String {
    let mut n = message.notice();
    let pings: Vec<String> = message
        .mention
        .iter()
        .filter_map(|m| match m.strip_prefix('&') {
            Some(role) if is_snowflake(role) => Some(format!("<@&{role}>")),
            None if is_snowflake(m) => Some(format!("<@{m}>")),
            _ => None,
        })
        .collect();
    loop {
        let text = markdown(&n, &pings);
        if text.chars().count() <= MAX_CONTENT || !shorten(&mut n) {
            return text;
        }
    }
}

/// Drop the last item of the longest list, counting it under "+N more";
/// false when there is nothing left to drop.
fn shorten(n: &mut Notice) -> bool {
    let Some(list) = n
        .lists
        .iter_mut()
        .filter(|l| !l.items.is_empty())
        .max_by_key(|l| l.items.len())
    else {
        return false;
    };
    list.items.pop();
    match &mut list.more {
        Some(more) => more.count = more.count.saturating_add(1),
        None => {
            list.more = Some(crate::domain::notice::More {
                count: 1,
                command: String::new(),
            })
        }
    }
    true
}

fn markdown(n: &Notice, pings: &[String]) -> String {
    let mut out = String::new();
    if !pings.is_empty() {
        out.push_str(&pings.join(" "));
        out.push(' ');
    }
    out.push_str(&format!("**{}**", escape(&n.headline())));
    for f in &n.fields {
        let value = match f.at {
            Some(at) => format!("<t:{at}:F> (<t:{at}:R>)"),
            None => escape(&f.value),
        };
        out.push_str(&format!("\n**{}:** {value}", escape(&f.name)));
    }
    for t in &n.text {
        out.push_str(&format!("\n{}", escape(t)));
    }
    for list in &n.lists {
        out.push_str(&format!("\n**{}**", escape(&list.heading)));
        for (i, item) in list.items.iter().enumerate() {
            if list.numbered {
                out.push_str(&format!("\n{}. {}", i + 1, escape(&item.text)));
            } else {
                out.push_str(&format!("\n- {}", escape(&item.text)));
            }
        }
        if let Some(more) = &list.more {
            if more.command.is_empty() {
                out.push_str(&format!("\n+{} more", more.count));
            } else {
                out.push_str(&format!("\n+{} more: `{}`", more.count, more.command));
            }
        }
    }
    if let Some(c) = &n.context {
        out.push_str(&format!("\n-# {}", escape(c)));
    }
    out
}

/// Keep user text from being read as markup or mentions.
pub fn escape(s: &str) -> String {
    s.replace('@', "@\u{200b}").replace('<', "\\<")
}

pub fn is_snowflake(s: &str) -> bool {
    (17..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// Split `text` into pieces of at most `max` characters, on line breaks where possible.
pub fn split(text: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        let mut line = line.to_string();
        while line.chars().count() > max {
            let head: String = line.chars().take(max).collect();
            line = line.chars().skip(max).collect();
            if !current.is_empty() {
                parts.push(std::mem::take(&mut current));
            }
            parts.push(head);
        }
        if current.chars().count() + line.chars().count() > max {
            parts.push(std::mem::take(&mut current));
        }
        current.push_str(&line);
    }
    if !current.trim().is_empty() || parts.is_empty() {
        parts.push(current);
    }
    parts
        .into_iter()
        .map(|p| p.trim_end().to_string())
        .collect()
}

/// Action rows of buttons: five to a row, at most five rows.
pub fn components(buttons: &[Button]) -> serde_json::Value {
    let list: Vec<serde_json::Value> = buttons
        .iter()
        .take(25)
        .map(|b| {
            serde_json::json!({
                "type": 2,
                "style": if b.primary { 1 } else { 2 },
                "label": b.label.chars().take(80).collect::<String>(),
                "custom_id": b.id,
            })
        })
        .collect();
    let rows: Vec<serde_json::Value> = list
        .chunks(5)
        .map(|row| serde_json::json!({ "type": 1, "components": row }))
        .collect();
    serde_json::Value::Array(rows)
}

/// The buttons of a message: its items' own (Done #3), then its own.
fn all_buttons(message: &Outgoing) -> Vec<Button> {
    let n = message.notice();
    let mut out: Vec<Button> = n
        .lists
        .iter()
        .flat_map(|l| l.items.iter().filter_map(|i| i.action.clone()))
        .collect();
    out.extend(n.actions);
    out
}

/// The JSON bodies (one per part) for posting `message`.
pub fn bodies(message: &Outgoing) -> Vec<serde_json::Value> {
    let users: Vec<&String> = message.mention.iter().filter(|u| is_snowflake(u)).collect();
    let roles: Vec<&str> = message
        .mention
        .iter()
        .filter_map(|m| m.strip_prefix('&'))
        .filter(|r| is_snowflake(r))
        .collect();
    let parts = split(&content(message), MAX_CONTENT);
    let buttons = all_buttons(message);
    let last = parts.len() - 1;
    parts
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let mut body = serde_json::json!({
                "content": text,
                "allowed_mentions": { "parse": [], "users": users, "roles": roles },
                "nonce": nonce(&message.key, i),
                "enforce_nonce": true,
            });
            if i == last && !buttons.is_empty() {
                body["components"] = components(&buttons);
            }
            body
        })
        .collect()
}

impl Chat for DiscordChat {
    async fn post(&self, message: &Outgoing) -> Result<(), SendError> {
        let Some(direct) = crate::domain::direct::parse(&message.channel) else {
            return self.post_in_channel(&message.channel, message).await;
        };
        if let Some(user) = direct.user(is_snowflake) {
            // A DM Quorum opened itself belongs to no server: no owner
            // check. Refused for good (the user left, or takes no DMs): the
            // executive's channel rather than nothing.
            let sent = async { self.send_all(&self.open_dm(user).await?, message).await };
            if let Some(outcome) = super::direct_or_fallback(direct.role, sent).await {
                return outcome;
            }
        }
        self.post_in_channel(direct.fallback, message).await
    }

    fn hold(&self, message: &Outgoing) -> Option<Duration> {
        let channel_id = match crate::domain::direct::parse(&message.channel) {
            None => self.channel_id(&message.channel).ok()?,
            Some(direct) => match direct.user(is_snowflake) {
                Some(user) => self.dms.lock().ok()?.get(user).cloned()?,
                None => self.channel_id(direct.fallback).ok()?,
            },
        };
        self.bucket_wait(&format!("channels/{channel_id}/messages"))
    }
}

/// Quorum's slash commands as Discord application commands, built from the
/// same specs as the text grammar, so both stay the same.
pub fn application_commands(categories: &[(String, String)]) -> serde_json::Value {
    use crate::command::{CommandSpec, OptionSpec, specs};
    let clip = |s: &str| -> String { s.chars().take(100).collect() };
    let option = |o: &OptionSpec| -> serde_json::Value {
        let choices = |list: Vec<&str>| -> serde_json::Value {
            list.into_iter()
                .map(|c| serde_json::json!({ "name": c, "value": c }))
                .collect()
        };
        let mut v = serde_json::json!({ "name": o.name, "description": clip(o.help), "required": o.required });
        match o.name {
            "id" => {
                v["type"] = 4.into();
                v["min_value"] = 1.into();
                v["autocomplete"] = true.into();
            }
            "meeting" | "decision" | "supersedes" | "page" => {
                v["type"] = 4.into();
                v["min_value"] = 1.into();
            }
            "overdue" | "open" | "mine" => v["type"] = 5.into(),
            "channel" => v["type"] = 7.into(),
            "severity" => {
                v["type"] = 3.into();
                v["choices"] = choices(vec!["critical", "high", "medium", "low"]);
            }
            "priority" => {
                v["type"] = 3.into();
                v["choices"] = choices(vec!["high", "medium", "low"]);
            }
            "category" => {
                v["type"] = 3.into();
                v["choices"] = choices(
                    categories
                        .iter()
                        .take(25)
                        .map(|(c, _)| c.as_str())
                        .collect(),
                );
            }
            _ => v["type"] = 3.into(),
        }
        v
    };
    let options_of = |s: &CommandSpec| -> Vec<serde_json::Value> {
        let mut opts: Vec<&OptionSpec> = s.options.iter().collect();
        opts.sort_by_key(|o| !o.required);
        opts.into_iter().map(option).collect()
    };
    let all = specs();
    let mut families: Vec<&str> = all.iter().map(|s| s.family).collect();
    families.dedup();
    let mut out = Vec::new();
    for family in families {
        let members: Vec<&&CommandSpec> = all.iter().filter(|s| s.family == family).collect();
        if members.len() == 1 && members[0].name.is_empty() {
            out.push(serde_json::json!({
                "name": family, "type": 1, "description": clip(members[0].help), "options": options_of(members[0]),
            }));
        } else {
            let subs: Vec<serde_json::Value> = members
                .iter()
                .map(|s| serde_json::json!({ "name": s.name, "type": 1, "description": clip(s.help), "options": options_of(s) }))
                .collect();
            out.push(serde_json::json!({
                "name": family, "type": 1, "description": format!("Quorum: {family}"), "options": subs,
            }));
        }
    }
    out.push(serde_json::json!({ "name": "help", "type": 1, "description": "How to use Quorum", "options": [] }));
    serde_json::Value::Array(out)
}

/// Register the commands (globally, or in `guild` for fast iteration).
pub async fn register(
    base: &str,
    token: &str,
    application_id: &str,
    guild: Option<&str>,
    commands: &serde_json::Value,
) -> anyhow::Result<usize> {
    let url = match guild {
        Some(g) => format!("{base}/applications/{application_id}/guilds/{g}/commands"),
        None => format!("{base}/applications/{application_id}/commands"),
    };
    let resp = super::http_client()
        .build()?
        .put(url)
        .header("Authorization", format!("Bot {token}"))
        .json(commands)
        .send()
        .await?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        anyhow::bail!("Discord refused the commands ({status}): {text}");
    }
    Ok(commands.as_array().map_or(0, Vec::len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_split_on_line_breaks_within_the_limit() {
        let text: String = (0..300)
            .map(|i| format!("line {i:03} of a long list\n"))
            .collect();
        let parts = split(&text, MAX_CONTENT);
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|p| p.chars().count() <= MAX_CONTENT));
        assert_eq!(parts.join("\n"), text.trim_end());
        let one_line = "x".repeat(4500);
        assert_eq!(split(&one_line, MAX_CONTENT).len(), 3);
    }

    #[test]
    fn nonces_are_short_stable_and_distinct() {
        assert_eq!(nonce("quorum-7", 0), nonce("quorum-7", 0));
        assert_ne!(nonce("quorum-7", 0), nonce("quorum-7", 1));
        assert_ne!(nonce("quorum-7", 0), nonce("quorum-8", 0));
        assert!(nonce("quorum-123456789", 3).len() <= 25);
    }

    #[test]
    fn typed_text_cannot_mention_anyone() {
        assert_eq!(
            escape("hi @everyone <@&123>"),
            "hi @\u{200b}everyone \\<@\u{200b}&123>"
        );
    }
}
