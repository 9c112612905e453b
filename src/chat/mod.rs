//! Sending: one trait for every chat platform, and the platform-neutral
//! messages the scheduler hands to it. Adapters render these in their own
//! markup; the core never formats platform markup.

pub mod console;
pub mod discord;
pub mod gateway;
pub mod slack;

use std::future::Future;

use chrono::{DateTime, Duration};
use chrono_tz::Tz;

/// A message Quorum posts on its own (not a reply to a command).
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub workspace: String,
    pub channel: String,
    /// Stable per delivery: adapters with idempotency keys (Discord's nonce)
    /// derive them from it, so a re-send after a crash is a no-op.
    pub key: String,
    pub body: Body,
    /// Chat users this message pings, and nobody else: adapters set the
    /// platform's allowed mentions to exactly these.
    pub mention: Vec<String>,
    /// Buttons, for platforms that have them (Acknowledge, Snooze, ...).
    pub buttons: Vec<Button>,
}

/// A button on a message: pressing it runs the command its `id` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    /// `esc:ack:7`, `esc:resolve:7`, `snooze:42`, `action:done:3`, ...
    pub id: String,
    pub primary: bool,
}

#[derive(Debug, Clone)]
pub enum Body {
    Reminder(Box<ReminderView>),
    /// Plain text, such as the summary of reminders missed during downtime.
    Notice(String),
}

/// Everything a reminder shows: which meeting, when (in the series' zone),
/// who attends, and the agenda.
#[derive(Debug, Clone)]
pub struct ReminderView {
    pub series_id: i64,
    pub title: String,
    pub at: DateTime<Tz>,
    pub lead: Duration,
    /// Attendees as shown, e.g. `cto (Ana García)`; `mention` are the chat users to ping.
    pub attendees: Vec<String>,
    pub mention: Vec<String>,
    pub agenda: Vec<String>,
    /// Open action items of the attendees and of the series.
    pub actions: Vec<String>,
    /// Set when the reminder went out late (it fell due while Quorum was down).
    pub late_from: Option<DateTime<Tz>>,
}

/// Why a send failed: retry later, or never.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("temporary failure: {0}")]
    Retry(String),
    #[error("permanent failure: {0}")]
    Permanent(String),
    /// Rate limited: try again after this long.
    #[error("rate limited for {0:?}")]
    RetryAfter(std::time::Duration),
}

pub trait Chat: Send + Sync + 'static {
    fn post(&self, message: &Outgoing) -> impl Future<Output = Result<(), SendError>> + Send;
}

/// Sends through the platform a workspace belongs to: Slack team ids start
/// with `T` (or `E` for Enterprise Grid); Discord guild ids are digits.
pub struct Platforms {
    pub discord: Option<discord::DiscordChat>,
    pub slack: Option<slack::SlackChat>,
}

impl Chat for Platforms {
    async fn post(&self, message: &Outgoing) -> Result<(), SendError> {
        let slack_team = message.workspace.starts_with('T') || message.workspace.starts_with('E');
        match (&self.discord, &self.slack, slack_team) {
            (_, Some(s), true) | (None, Some(s), false) => s.post(message).await,
            (Some(d), _, _) => d.post(message).await,
            (None, None, _) => Err(SendError::Permanent(
                "no chat platform is configured".into(),
            )),
        }
    }
}
