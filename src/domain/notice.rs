//! The one message model of every notice Quorum posts unasked (reminders,
//! approval requests, chases, weekly updates, escalation pings, summaries):
//! a title line, short labelled fields, paragraphs, lists whose items may
//! carry their own button, a quiet context line, and buttons. Each chat
//! adapter renders it in its own markup (`chat::slack`, `chat::discord`,
//! `chat::console`); nothing here knows any platform.
//!
//! Notices are stored in the delivery queue as JSON (the `body` column), so
//! what a post says is fixed when it is queued and survives a restart.

use chrono::{DateTime, Duration};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// What kind of notice this is (for logs, tests and per-kind rendering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Reminder,
    ApprovalRequest,
    Chase,
    VerifyChase,
    WeeklyUpdate,
    Escalation,
    Climb,
    MissedReminders,
    Note,
    /// A risk's owner is asked to review it (`/risk ...`).
    RiskReview,
    /// The monthly or quarterly written update.
    PeriodUpdate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: Kind,
    /// Who it is for, as shown before the title (`CFO (Chief Financial)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// One line saying what this is.
    pub title: String,
    /// Short labelled values (When, Category, Raised by, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    /// Paragraphs of prose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<List>,
    /// A quiet last line (why this was sent, when it was late).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
    /// Set on a snoozed copy: when the notice was first posted (Unix
    /// seconds). Such a copy is brought up to date before it is posted again
    /// (see `service::snoozed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_sent: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    /// The value as text, in the zone the notice is written for.
    pub value: String,
    /// When the value is a moment: platforms that can show it in each
    /// reader's own zone (Slack, Discord) do so, with `value` as fallback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct List {
    pub heading: String,
    pub items: Vec<Item>,
    /// Numbered (an agenda) rather than bulleted.
    #[serde(default)]
    pub numbered: bool,
    /// Items left out, and the command that shows them all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub more: Option<More>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct More {
    pub count: usize,
    pub command: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub text: String,
    /// A button for this item alone (Done on a chased action item).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
}

/// A button: pressing it runs the command its `id` names, exactly as typing
/// `command` would (same path, same authority checks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub label: String,
    /// `esc:ack:7`, `esc:resolve:7`, `snooze:42`, `action:done:3`,
    /// `decision:approve:5`, ...
    pub id: String,
    /// The command a console user types instead of pressing it.
    pub command: String,
    #[serde(default)]
    pub primary: bool,
}

impl Notice {
    pub fn new(kind: Kind, title: impl Into<String>) -> Notice {
        Notice {
            kind,
            to: None,
            title: title.into(),
            fields: Vec::new(),
            text: Vec::new(),
            lists: Vec::new(),
            context: None,
            actions: Vec::new(),
            first_sent: None,
        }
    }

    pub fn to(mut self, who: impl Into<String>) -> Notice {
        self.to = Some(who.into());
        self
    }

    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Notice {
        self.fields.push(Field {
            name: name.into(),
            value: value.into(),
            at: None,
        });
        self
    }

    /// A field holding a moment, shown in `at`'s zone without seconds.
    pub fn time(mut self, name: impl Into<String>, at: &DateTime<Tz>) -> Notice {
        self.fields.push(Field {
            name: name.into(),
            value: moment(at),
            at: Some(at.timestamp()),
        });
        self
    }

    pub fn para(mut self, text: impl Into<String>) -> Notice {
        self.text.push(text.into());
        self
    }

    pub fn list(mut self, list: List) -> Notice {
        self.lists.push(list);
        self
    }

    pub fn context(mut self, text: impl Into<String>) -> Notice {
        self.context = Some(text.into());
        self
    }

    pub fn action(mut self, action: Action) -> Notice {
        self.actions.push(action);
        self
    }

    /// The title line as one plain sentence: `to: title`.
    pub fn headline(&self) -> String {
        match &self.to {
            Some(to) => format!("{to}: {}", self.title),
            None => self.title.clone(),
        }
    }

    /// The JSON stored in the delivery queue.
    pub fn to_json(&self) -> String {
        // Serializing plain strings, numbers and enums cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| self.headline())
    }

    /// A stored body: a notice if it is one, `None` for plain text (queued
    /// before notices had structure).
    pub fn from_json(body: &str) -> Option<Notice> {
        if !body.starts_with('{') {
            return None;
        }
        serde_json::from_str(body).ok()
    }
}

impl List {
    pub fn new(heading: impl Into<String>) -> List {
        List {
            heading: heading.into(),
            items: Vec::new(),
            numbered: false,
            more: None,
        }
    }

    pub fn item(mut self, text: impl Into<String>) -> List {
        self.items.push(Item {
            text: text.into(),
            action: None,
        });
        self
    }

    pub fn item_with(mut self, text: impl Into<String>, action: Action) -> List {
        self.items.push(Item {
            text: text.into(),
            action: Some(action),
        });
        self
    }
}

impl Action {
    pub fn new(label: &str, id: String, command: String) -> Action {
        Action {
            label: label.to_string(),
            id,
            command,
            primary: false,
        }
    }

    pub fn primary(mut self) -> Action {
        self.primary = true;
        self
    }
}

/// A moment as people read it: `Tue 24 Nov 2026 11:05 CET`, never with
/// seconds, the zone named once.
pub fn moment(at: &DateTime<Tz>) -> String {
    at.format("%a %-d %b %Y %H:%M %Z").to_string()
}

/// A length of time in words, in its largest exact unit: `1 hour`,
/// `15 minutes`, `2 days`, `90 seconds`.
pub fn span(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match s {
        0 => "0 minutes".to_string(),
        s if s % 604_800 == 0 => plural(s / 604_800, "week"),
        s if s % 86_400 == 0 => plural(s / 86_400, "day"),
        s if s % 3600 == 0 => plural(s / 3600, "hour"),
        s if s % 60 == 0 => plural(s / 60, "minute"),
        s => plural(s, "second"),
    }
}

/// How long ago, in words: `just now`, `5 minutes ago`, `3 hours ago`,
/// `3 days ago`, `2 weeks ago` (the largest whole unit).
pub fn ago(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    let plural = |n: i64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    match s {
        s if s < 60 => "just now".to_string(),
        s if s < 3600 => plural(s / 60, "minute"),
        s if s < 86_400 => plural(s / 3600, "hour"),
        s if s < 14 * 86_400 => plural(s / 86_400, "day"),
        s => plural(s / 604_800, "week"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_words_in_their_largest_unit() {
        assert_eq!(ago(Duration::seconds(20)), "just now");
        assert_eq!(ago(Duration::minutes(1)), "1 minute ago");
        assert_eq!(
            ago(Duration::hours(5) + Duration::minutes(59)),
            "5 hours ago"
        );
        assert_eq!(ago(Duration::days(3) + Duration::hours(2)), "3 days ago");
        assert_eq!(
            ago(Duration::weeks(1) + Duration::days(2) + Duration::hours(2)),
            "9 days ago"
        );
        assert_eq!(ago(Duration::weeks(3)), "3 weeks ago");
        assert_eq!(ago(Duration::seconds(-5)), "just now");
    }

    #[test]
    fn moments_have_no_seconds_and_name_the_zone_once() {
        let madrid: Tz = "Europe/Madrid".parse().unwrap();
        let at = DateTime::from_timestamp(1_795_000_003, 0)
            .unwrap()
            .with_timezone(&madrid);
        let text = moment(&at);
        assert_eq!(text.matches("CE").count(), 1, "{text}");
        assert_eq!(text.matches(':').count(), 1, "{text}");
    }

    #[test]
    fn a_notice_survives_the_queue_and_plain_text_stays_plain() {
        let n = Notice::new(Kind::Chase, "2 action items need you today")
            .to("CTO")
            .field("Owner", "cto")
            .list(List::new("Items").item_with(
                "#1 Rotate keys",
                Action::new(
                    "Done #1",
                    "action:done:1".into(),
                    "/action done id:1".into(),
                ),
            ));
        assert_eq!(Notice::from_json(&n.to_json()), Some(n));
        assert_eq!(Notice::from_json("Weekly update: 0 decisions"), None);
    }
}
