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

/// A button on a message: pressing it runs the command its `id` names, the
/// same command a console user types (`command`).
pub use crate::domain::notice::Action as Button;
pub use crate::domain::notice::Notice;
use crate::domain::notice::{Kind, List};

#[derive(Debug, Clone)]
pub enum Body {
    Reminder(Box<ReminderView>),
    /// A notice with structure: title, fields, lists, buttons.
    Message(Box<Notice>),
    /// Plain text (queued before notices had structure).
    Notice(String),
}

impl Body {
    /// The one message model every adapter renders.
    pub fn notice(&self) -> Notice {
        match self {
            Body::Reminder(r) => r.notice(),
            Body::Message(n) => (**n).clone(),
            Body::Notice(text) => {
                let mut lines = text.lines();
                let mut n = Notice::new(Kind::Note, lines.next().unwrap_or_default());
                n.text = lines
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string)
                    .collect();
                n
            }
        }
    }
}

impl Outgoing {
    /// The notice this message shows, with the message's own buttons
    /// (an escalation's Acknowledge, a reminder's Snooze) after its own.
    pub fn notice(&self) -> Notice {
        let mut n = self.body.notice();
        for b in &self.buttons {
            if !n.actions.iter().any(|a| a.id == b.id) {
                n.actions.push(b.clone());
            }
        }
        n
    }
}

/// Everything a reminder shows: which meeting, when (in the series' zone),
/// who attends, and the agenda.
#[derive(Debug, Clone)]
pub struct ReminderView {
    pub series_id: i64,
    pub title: String,
    pub at: DateTime<Tz>,
    /// How long the meeting lasts.
    pub duration: Duration,
    pub lead: Duration,
    /// Attendees as shown, e.g. `cto (Ana García)`; `mention` are the chat users to ping.
    pub attendees: Vec<String>,
    pub mention: Vec<String>,
    pub agenda: Vec<String>,
    /// Open action items of the attendees and of the series.
    pub actions: Vec<String>,
    /// Open items left out of `actions`.
    pub more_actions: usize,
    /// Attending / Can't make it answers so far (`2 attending (ceo, cto);
    /// can't make it: cfo`), when anyone answered.
    pub replies: Option<String>,
    /// Set when the reminder went out late (it fell due while Quorum was down).
    pub late_from: Option<DateTime<Tz>>,
}

impl ReminderView {
    /// The reminder as a notice: when (in the series' zone, once), who,
    /// the agenda, and the attendees' open items.
    pub fn notice(&self) -> Notice {
        use crate::domain::notice::moment;
        let when = if self.lead.is_zero() {
            "starts now".to_string()
        } else {
            format!(
                "starts {}",
                crate::domain::meeting::humanize_lead(self.lead)
            )
        };
        // The meeting's own time, as scheduled (seconds only if it has them).
        let mut n = Notice::new(Kind::Reminder, format!("Reminder: {} {when}", self.title));
        n.fields.push(crate::domain::notice::Field {
            name: "When".to_string(),
            value: crate::domain::zone::human(&self.at),
            at: Some(self.at.timestamp()),
        });
        n = n.field(
            "Length",
            crate::domain::meeting::format_duration(self.duration),
        );
        if !self.attendees.is_empty() {
            n = n.field("Attendees", self.attendees.join(", "));
        }
        if let Some(replies) = &self.replies {
            n = n.field("Replies", replies.clone());
        }
        let mut agenda = List::new("Agenda");
        agenda.numbered = true;
        for item in &self.agenda {
            agenda = agenda.item(item.clone());
        }
        if agenda.items.is_empty() {
            n = n.field("Agenda", "none yet");
        } else {
            n = n.list(agenda);
        }
        if !self.actions.is_empty() {
            let mut open = List::new("Open action items");
            for a in &self.actions {
                open = open.item(a.clone());
            }
            if self.more_actions > 0 {
                open.more = Some(crate::domain::notice::More {
                    count: self.more_actions,
                    command: "/action list".to_string(),
                });
            }
            n = n.list(open);
        }
        if let Some(due) = &self.late_from {
            n = n.context(format!(
                "Late: was due {} while Quorum was offline.",
                moment(due)
            ));
        }
        n
    }
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

/// A direct message to the executive `role`, posted by `send` (open the DM,
/// post there): its outcome, or `None` when the platform refused it for
/// good (the user is gone, takes no DMs, or the app may not open one), so
/// the caller posts in the executive's channel rather than losing it.
pub async fn direct_or_fallback(
    role: &str,
    send: impl Future<Output = Result<(), SendError>>,
) -> Option<Result<(), SendError>> {
    match send.await {
        Err(SendError::Permanent(why)) => {
            tracing::warn!(
                role,
                error = %why,
                "cannot send a direct message; posting in the channel instead"
            );
            None
        }
        other => Some(other),
    }
}

pub trait Chat: Send + Sync + 'static {
    fn post(&self, message: &Outgoing) -> impl Future<Output = Result<(), SendError>> + Send;

    /// How long `message`'s destination must still be left alone (Slack's
    /// pacing, a Discord bucket at zero). The scheduler waits this out in
    /// that destination's own lane, holding nobody else up.
    fn hold(&self, _message: &Outgoing) -> Option<std::time::Duration> {
        None
    }
}

/// The longest any chat API may make Quorum wait: a `Retry-After` or a
/// rate-limit reset beyond it is clamped (and logged).
pub const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(3600);

/// A wait a chat API asked for, in seconds, as a bounded duration: negative,
/// NaN or infinite values and anything beyond [`MAX_WAIT`] are clamped and
/// logged, never allowed to panic or overflow.
pub fn bounded_wait(secs: f64, what: &'static str) -> std::time::Duration {
    if !secs.is_finite() || secs > MAX_WAIT.as_secs_f64() {
        tracing::warn!(
            value = secs,
            what,
            "chat API asked for an absurd wait; clamped to 1 hour"
        );
        return MAX_WAIT;
    }
    std::time::Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(MAX_WAIT)
}

/// Connect timeout of every outgoing HTTP call.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);
/// Total timeout of every outgoing HTTP call: short enough that a stop
/// (SIGTERM) finishing the post in flight still exits within 10 seconds.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(7);

/// An HTTP client with Quorum's connect and total timeouts.
pub fn http_client() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
}

/// Sends through the platform a workspace belongs to: Slack team ids start
/// with `T` (or `E` for Enterprise Grid); Discord guild ids are digits.
pub struct Platforms {
    pub discord: Option<discord::DiscordChat>,
    pub slack: Option<slack::SlackChat>,
}

enum Via<'a> {
    Discord(&'a discord::DiscordChat),
    Slack(&'a slack::SlackChat),
    Nowhere,
}

impl Platforms {
    fn via(&self, message: &Outgoing) -> Via<'_> {
        let slack_team = message.workspace.starts_with('T') || message.workspace.starts_with('E');
        match (&self.discord, &self.slack, slack_team) {
            (_, Some(s), true) | (None, Some(s), false) => Via::Slack(s),
            (Some(d), _, _) => Via::Discord(d),
            (None, None, _) => Via::Nowhere,
        }
    }
}

impl Chat for Platforms {
    async fn post(&self, message: &Outgoing) -> Result<(), SendError> {
        match self.via(message) {
            Via::Slack(s) => s.post(message).await,
            Via::Discord(d) => d.post(message).await,
            Via::Nowhere => Err(SendError::Permanent(
                "no chat platform is configured".into(),
            )),
        }
    }

    fn hold(&self, message: &Outgoing) -> Option<std::time::Duration> {
        match self.via(message) {
            Via::Slack(s) => s.hold(message),
            Via::Discord(d) => d.hold(message),
            Via::Nowhere => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_waits_are_clamped_to_an_hour() {
        assert_eq!(bounded_wait(1e300, "t"), MAX_WAIT);
        assert_eq!(bounded_wait(f64::INFINITY, "t"), MAX_WAIT);
        assert_eq!(bounded_wait(f64::NAN, "t"), MAX_WAIT);
        assert_eq!(bounded_wait(-5.0, "t"), std::time::Duration::ZERO);
        assert_eq!(
            bounded_wait(1.5, "t"),
            std::time::Duration::from_millis(1500)
        );
    }
}
