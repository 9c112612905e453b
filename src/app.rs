//! The platform-neutral core: a command comes in, the services decide, a
//! reply goes out. Every adapter (console, Discord, Slack) calls
//! [`App::handle`]; replies are plain text that adapters may dress up.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::command::{self, Command, MeetingCommand};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::service::meetings::{Actor, Meetings, Series};
use crate::store::Store;

/// A reply to the person who typed the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub text: String,
    /// Errors and private lists: shown only to the caller where the platform can.
    pub ephemeral: bool,
    pub is_error: bool,
}

impl Reply {
    fn ok(text: impl Into<String>) -> Reply {
        Reply {
            text: text.into(),
            ephemeral: false,
            is_error: false,
        }
    }

    fn private(text: impl Into<String>) -> Reply {
        Reply {
            text: text.into(),
            ephemeral: true,
            is_error: false,
        }
    }
}

#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub store: Store,
    pub meetings: Meetings,
    /// Woken after a command changes what is due.
    pub scheduler_wake: Option<Arc<Notify>>,
}

impl App {
    pub fn new(config: Arc<Config>, store: Store) -> App {
        App {
            meetings: Meetings {
                store: store.clone(),
            },
            config,
            store,
            scheduler_wake: None,
        }
    }

    /// Parse and run one line of the text grammar.
    pub async fn handle_line(&self, actor: &Actor, line: &str, now: DateTime<Utc>) -> Reply {
        match command::parse(line) {
            Ok(cmd) => self.handle(actor, cmd, now).await,
            Err(e) => error_reply(&e),
        }
    }

    /// Run one command.
    pub async fn handle(&self, actor: &Actor, cmd: Command, now: DateTime<Utc>) -> Reply {
        let span = tracing::info_span!("command", workspace = %actor.workspace, user = %actor.user);
        let _enter = span.enter();
        let result = match cmd {
            Command::Help { topic } => command::help(topic.as_deref()).map(Reply::private),
            Command::Meeting(m) => self.meeting(actor, m, now).await,
        };
        if let Some(wake) = &self.scheduler_wake {
            wake.notify_one();
        }
        result.unwrap_or_else(|e| error_reply(&e))
    }

    async fn meeting(
        &self,
        actor: &Actor,
        cmd: MeetingCommand,
        now: DateTime<Utc>,
    ) -> Result<Reply> {
        let m = &self.meetings;
        match cmd {
            MeetingCommand::Add(new) => {
                let s = m.add(&self.config, actor, new, now).await?;
                Ok(Reply::ok(format!(
                    "Created series {}: {} ({}, {}) in #{}; next {}; reminders {}{}",
                    s.row.id,
                    s.row.title,
                    s.cadence,
                    s.zone,
                    s.row.channel,
                    next_text(&s),
                    s.remind,
                    attendees_text(&s)
                )))
            }
            MeetingCommand::List => {
                let list = m.list(actor).await?;
                if list.is_empty() {
                    return Ok(Reply::private(
                        "No meeting series yet. Create one with /meeting add title:\"Exec team\" when:\"weekly on monday at 10:00\"",
                    ));
                }
                let lines: Vec<String> = list
                    .iter()
                    .map(|s| {
                        format!(
                            "{}. {} - {} ({}) in #{}; next {}; reminders {}{}",
                            s.row.id,
                            s.row.title,
                            s.cadence,
                            s.zone,
                            s.row.channel,
                            next_text(s),
                            s.remind,
                            attendees_text(s)
                        )
                    })
                    .collect();
                Ok(Reply::private(format!(
                    "{} series:\n{}",
                    list.len(),
                    lines.join("\n")
                )))
            }
            MeetingCommand::Next { id: Some(id) } => {
                let s = m.get(actor, id).await?;
                let skips = m.skips(&s, now).await?;
                let upcoming = s.upcoming(now, 5, &skips);
                let lines: Vec<String> = upcoming
                    .iter()
                    .map(|(at, skipped)| {
                        format!(
                            "- {}{}",
                            crate::domain::zone::human(at),
                            if *skipped { " (skipped)" } else { "" }
                        )
                    })
                    .collect();
                Ok(Reply::private(format!(
                    "Next occurrences of {} ({}, {}):\n{}",
                    s.row.title,
                    s.cadence,
                    s.zone,
                    if lines.is_empty() {
                        "- none".to_string()
                    } else {
                        lines.join("\n")
                    }
                )))
            }
            MeetingCommand::Next { id: None } => {
                let list = m.list(actor).await?;
                let lines: Vec<String> = list
                    .iter()
                    .filter(|s| s.row.next_at.is_some())
                    .take(10)
                    .map(|s| format!("- {}: {} [series {}]", next_text(s), s.row.title, s.row.id))
                    .collect();
                if lines.is_empty() {
                    return Ok(Reply::private("Nothing is scheduled."));
                }
                Ok(Reply::private(format!("Coming up:\n{}", lines.join("\n"))))
            }
            MeetingCommand::Skip { id } => {
                let (s, skipped) = m.skip(actor, id, now).await?;
                Ok(Reply::ok(format!(
                    "Skipped {} on {}; its reminders are cancelled. Next: {}",
                    s.row.title,
                    crate::domain::zone::human(&s.local(skipped)),
                    next_text(&s)
                )))
            }
            MeetingCommand::Cancel { id } => {
                let s = m.cancel(actor, id, now).await?;
                Ok(Reply::ok(format!(
                    "Cancelled series {}: {}. No more reminders will be sent for it.",
                    s.row.id, s.row.title
                )))
            }
            MeetingCommand::Edit { id, changes } => {
                let s = m.edit(actor, id, changes, now).await?;
                Ok(Reply::ok(format!(
                    "Updated series {}: {} ({}, {}) in #{}; next {}; reminders {}{}",
                    s.row.id,
                    s.row.title,
                    s.cadence,
                    s.zone,
                    s.row.channel,
                    next_text(&s),
                    s.remind,
                    attendees_text(&s)
                )))
            }
            MeetingCommand::Agenda { id, item } => {
                let added = item.is_some();
                let (s, items) = m.agenda(actor, id, item, now).await?;
                let list = if items.is_empty() {
                    "nothing yet".to_string()
                } else {
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, t)| format!("{}) {t}", i + 1))
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                let head = if added { "Added. Agenda" } else { "Agenda" };
                let reply = format!("{head} of {} on {}: {list}", s.row.title, next_text(&s));
                Ok(if added {
                    Reply::ok(reply)
                } else {
                    Reply::private(reply)
                })
            }
        }
    }
}

fn next_text(s: &Series) -> String {
    match s.row.next_at {
        Some(at) => crate::domain::zone::human(&s.local(at)),
        None => "none".to_string(),
    }
}

fn attendees_text(s: &Series) -> String {
    if s.attendees.is_empty() {
        String::new()
    } else {
        format!("; attendees {}", s.attendees)
    }
}

fn error_reply(e: &Error) -> Reply {
    Reply {
        text: e.to_user_text(),
        ephemeral: true,
        is_error: true,
    }
}
