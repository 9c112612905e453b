//! The platform-neutral core: a command comes in, the services decide, a
//! reply goes out. Every adapter (console, Discord, Slack) calls
//! [`App::handle`]; replies are plain text that adapters may dress up.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::command::{
    self, ActionCommand, Command, DecisionCommand, EscalationCommand, MeetingCommand,
};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::service::actions::Actions;
use crate::service::decisions::Decisions;
use crate::service::escalations::Escalations;
use crate::service::meetings::{Actor, Meetings, Series};
use crate::store::Store;

mod risk;
use crate::store::{ActionRow, AuditRow, DecisionRow, EscalationRow};

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
    pub decisions: Decisions,
    pub actions: Actions,
    pub escalations: Escalations,
    pub risks: crate::service::risks::Risks,
    /// Woken after a command changes what is due.
    pub scheduler_wake: Option<Arc<Notify>>,
    /// The scheduler's run loop, as readiness sees it.
    pub scheduler_health: Option<Arc<crate::scheduler::Health>>,
    /// Whether this process serves the web pages its links point at (the
    /// dashboard, the calendar feeds): `quorum run` does, and the console
    /// only with `--serve`.
    pub serves_web: bool,
    /// Workspaces pinned per platform (when the config names none), once known.
    pinned: Arc<std::sync::Mutex<Vec<(&'static str, String)>>>,
}

impl App {
    pub fn new(config: Arc<Config>, store: Store) -> App {
        App {
            meetings: Meetings {
                store: store.clone(),
                holidays: Arc::new(config.holidays.clone()),
            },
            decisions: Decisions {
                store: store.clone(),
            },
            actions: Actions {
                store: store.clone(),
            },
            escalations: Escalations {
                store: store.clone(),
            },
            risks: crate::service::risks::Risks {
                store: store.clone(),
            },
            config,
            store,
            scheduler_wake: None,
            scheduler_health: None,
            serves_web: true,
            pinned: Default::default(),
        }
    }

    /// Whether `actor`'s workspace is one this deployment serves: the console
    /// and config-defined workspaces always; a Slack team or Discord server
    /// when the config names it (`[slack] teams`, `[discord] guilds`), or,
    /// when it names none, when it is the first that used Quorum (pinned).
    /// The org chart and channel maps belong to these workspaces only.
    pub async fn admit(&self, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
        use crate::domain::workspace::Kind;
        let ws = actor.workspace.as_str();
        let kind = Kind::of(ws);
        let named = match kind {
            Kind::Local => return Ok(()),
            Kind::Direct => {
                return Err(Error::user(
                    "Quorum works in your server's channels, not in direct messages: type the command in a channel.",
                ));
            }
            Kind::Slack => &self.config.slack.teams,
            Kind::Guild => &self.config.discord.guilds,
        };
        let key = match kind {
            Kind::Slack => "`[slack] teams`",
            _ => "`[discord] guilds`",
        };
        let refuse = || {
            tracing::warn!(
                workspace = ws,
                "refused a command from a workspace this deployment does not serve"
            );
            Err(Error::user(format!(
                "This workspace is not set up for Quorum; ask its operator (they add {ws} to {key})."
            )))
        };
        if !named.is_empty() {
            return if named.iter().any(|n| n == ws) {
                Ok(())
            } else {
                refuse()
            };
        }
        let platform = kind.platform();
        let known = self.pinned.lock().ok().and_then(|p| {
            p.iter()
                .find(|(k, _)| *k == platform)
                .map(|(_, w)| w.clone())
        });
        let pinned = match known {
            Some(w) => w,
            None => {
                let w = self
                    .store
                    .pin_workspace(platform, ws, now.timestamp())
                    .await?;
                if w == ws {
                    tracing::info!(
                        platform,
                        workspace = ws,
                        "serving this workspace (the first to use Quorum; name workspaces in the config to serve several)"
                    );
                }
                if let Ok(mut p) = self.pinned.lock() {
                    p.push((platform, w.clone()));
                }
                w
            }
        };
        if pinned == ws { Ok(()) } else { refuse() }
    }

    /// Parse and run one line of the text grammar.
    pub async fn handle_line(&self, actor: &Actor, line: &str, now: DateTime<Utc>) -> Reply {
        let started = std::time::Instant::now();
        match command::parse(line) {
            Ok(cmd) => self.handle(actor, cmd, now).await,
            Err(e) => {
                crate::metrics::command(&unparsed_name(line), "user_error", started.elapsed());
                error_reply(&e)
            }
        }
    }

    /// A button on one of Quorum's messages was pressed: `esc:ack:7`,
    /// `esc:resolve:7`, `action:done:3`, `action:verify:3`, `snooze:42`,
    /// `attend:yes:3:1796032800` (series 3's occurrence at that instant).
    pub async fn press(&self, actor: &Actor, id: &str, now: DateTime<Utc>) -> Reply {
        if let Err(e) = self.admit(actor, now).await {
            return error_reply(&e);
        }
        let parts: Vec<&str> = id.split(':').collect();
        let n = |s: &str| s.parse::<i64>().ok();
        let cmd = match parts.as_slice() {
            ["esc", "ack", x] => n(x).map(|id| Command::Escalation(EscalationCommand::Ack { id })),
            ["esc", "resolve", x] => n(x).map(|id| {
                Command::Escalation(EscalationCommand::Resolve {
                    id,
                    note: "resolved with the button".into(),
                })
            }),
            ["action", "done", x] => n(x).map(|id| Command::Action(ActionCommand::Done { id })),
            ["action", "verify", x] => n(x).map(|id| Command::Action(ActionCommand::Verify { id })),
            ["risk", "close", x] => {
                n(x).map(|id| Command::Risk(command::RiskCommand::Close { id }))
            }
            ["decision", "approve", x] => {
                n(x).map(|id| Command::Decision(DecisionCommand::Approve { id }))
            }
            // Chat platforms open a form for the reason instead (see
            // `reject_with_reason`); anywhere else, say what to type.
            ["decision", "reject", x] => {
                return match n(x) {
                    Some(id) => error_reply(&Error::user(format!(
                        "Rejecting needs a reason: /decision reject id:{id} reason:\"...\""
                    ))),
                    None => error_reply(&Error::user(format!("unknown button `{id}`"))),
                };
            }
            ["attend", answer @ ("yes" | "no"), series, at] => match (n(series), n(at)) {
                (Some(id), Some(at)) => Some(Command::Meeting(MeetingCommand::Attend {
                    id,
                    attending: *answer == "yes",
                    at: Some(at),
                })),
                _ => None,
            },
            ["snooze", x] => {
                let Some(delivery) = n(x) else {
                    return error_reply(&Error::user(format!("unknown button `{id}`")));
                };
                let in_an_hour = now + chrono::Duration::hours(1);
                let at = in_an_hour.timestamp();
                let who = self
                    .config
                    .roles_for(actor)
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| actor.user.clone());
                let snoozed = match self.store.snooze(&actor.workspace, delivery, at).await {
                    Ok(false) => {
                        // A chase or an approval request comes back in the
                        // presser's working time, not at night.
                        let back = crate::service::quiet::next_allowed(
                            &self.config,
                            crate::service::quiet::To::Person(&who),
                            in_an_hour,
                        );
                        self.store
                            .snooze_notice(&actor.workspace, delivery, back.timestamp())
                            .await
                            .map(|done| done.then_some(("this", back)))
                    }
                    other => other.map(|done| done.then_some(("this reminder", in_an_hour))),
                };
                return match snoozed {
                    Ok(Some((what, back))) if back > in_an_hour => {
                        let zone = self.config.zone_of(&who).tz();
                        Reply::private(format!(
                            "Snoozed: I will post {what} again on {} (your next working time).",
                            crate::domain::notice::moment(&back.with_timezone(&zone))
                        ))
                    }
                    Ok(Some((what, _))) => {
                        Reply::private(format!("Snoozed: I will post {what} again in 1 hour."))
                    }
                    Ok(None) => error_reply(&Error::user(
                        "That message cannot be snoozed now (its meeting was cancelled, it is from another workspace, or it is already snoozed).",
                    )),
                    Err(e) => error_reply(&Error::Internal(e)),
                };
            }
            _ => None,
        };
        match cmd {
            Some(cmd) => self.handle(actor, cmd, now).await,
            None => error_reply(&Error::user(format!("unknown button `{id}`"))),
        }
    }

    /// The reason form of a Reject button was sent: reject decision `id`
    /// exactly as `/decision reject id:N reason:"..."` would (same checks
    /// of the reason, same authority check).
    pub async fn reject_with_reason(
        &self,
        actor: &Actor,
        id: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Reply {
        match crate::domain::decision::check_text("reason", reason, 1000) {
            Ok(reason) => {
                self.handle(
                    actor,
                    Command::Decision(DecisionCommand::Reject { id, reason }),
                    now,
                )
                .await
            }
            Err(e) => error_reply(&Error::user(format!("reason: {}", e.0))),
        }
    }

    /// Run one command.
    pub async fn handle(&self, actor: &Actor, cmd: Command, now: DateTime<Utc>) -> Reply {
        let name = command_name(&cmd);
        let span = tracing::info_span!("command", workspace = %actor.workspace, user = %actor.user, command = %name);
        let reads_only = cmd.reads_only();
        let started = std::time::Instant::now();
        let result = tracing::Instrument::instrument(self.run(actor, cmd, now), span).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(Error::User(_)) => "user_error",
            Err(Error::Internal(e)) => {
                let timed_out = |c: &(dyn std::error::Error + 'static)| {
                    matches!(c.downcast_ref(), Some(sqlx::Error::PoolTimedOut))
                };
                if e.chain().any(timed_out) {
                    crate::metrics::pool_wait();
                }
                "internal_error"
            }
        };
        crate::metrics::command(&name, outcome, started.elapsed());
        // Only a command that may have changed what is due wakes the
        // scheduler (a wake runs a whole round of queries).
        if let (Some(wake), false) = (&self.scheduler_wake, reads_only || result.is_err()) {
            wake.notify_one();
        }
        result.unwrap_or_else(|e| error_reply(&e))
    }

    async fn run(&self, actor: &Actor, cmd: Command, now: DateTime<Utc>) -> Result<Reply> {
        self.admit(actor, now).await?;
        match cmd {
            Command::Help { topic } => command::help(topic.as_deref()).map(Reply::private),
            Command::Meeting(m) => self.meeting(actor, m, now).await,
            Command::Decision(d) => self.decision(actor, d, now).await,
            Command::Action(a) => self.action(actor, a, now).await,
            Command::Escalation(e) => self.escalation(actor, e, now).await,
            Command::Risk(r) => self.risk(actor, r, now).await,
            Command::Dashboard if !self.serves_web => Ok(Reply::private(format!(
                "This console serves no web pages, so a dashboard link would lead nowhere. Start it with `quorum console --serve` (the dashboard is then at http://{}/dashboard) and type /dashboard again.",
                self.config.http_listen
            ))),
            Command::Dashboard => {
                let token = crate::service::dashboard::issue_link(&self.store, actor, now).await?;
                Ok(Reply::private(crate::service::dashboard::link_text(
                    &self.config,
                    &token,
                )))
            }
        }
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
                let overrides = m.overrides(&s, now).await?;
                let holidays = &self.config.holidays;
                let upcoming = s.upcoming(now, 5, &overrides, holidays);
                let lines: Vec<String> = upcoming
                    .iter()
                    .map(|(p, label)| {
                        format!(
                            "- {}{}{}",
                            crate::domain::zone::human(&p.at),
                            label
                                .as_deref()
                                .map(|l| format!(" ({l})"))
                                .unwrap_or_default(),
                            day_warning(p, holidays)
                        )
                    })
                    .collect();
                Ok(Reply::private(format!(
                    "Next occurrences of {} ({}, {}, {} each):\n{}",
                    s.row.title,
                    s.cadence,
                    s.zone,
                    s.length,
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
                    .map(|s| {
                        format!(
                            "- {}: {} [series {}]{}",
                            next_text(s),
                            s.row.title,
                            s.row.id,
                            s.row
                                .next_at
                                .map(|at| next_warning(s, at, &self.config.holidays))
                                .unwrap_or_default()
                        )
                    })
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
                // Like `/meeting add`: a near-miss of a role is refused
                // with the role it probably meant.
                for a in changes.attendees.iter().flat_map(|a| a.iter()) {
                    crate::service::check_person(&self.config, "attendees", a)?;
                }
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
            MeetingCommand::Agenda { id, item, done } => {
                let added = item.is_some();
                let (s, at, items) = m.agenda(actor, id, item, done, now).await?;
                let list = if items.is_empty() {
                    "nothing yet".to_string()
                } else {
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, t)| {
                            let mut marks = Vec::new();
                            if t.covered_at.is_some() {
                                marks.push("covered".to_string());
                            }
                            match t.carried {
                                0 => {}
                                1 => marks.push("carried".to_string()),
                                n => marks.push(format!("carried {n} times")),
                            }
                            let marks = if marks.is_empty() {
                                String::new()
                            } else {
                                format!(" [{}]", marks.join(", "))
                            };
                            format!("{}) {}{marks}", i + 1, t.text)
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                let head = match (added, done) {
                    (true, _) => "Added. Agenda".to_string(),
                    (_, Some(n)) => format!("Marked item {n} covered. Agenda"),
                    _ => "Agenda".to_string(),
                };
                let when = crate::domain::zone::human(&s.local(at));
                let reply = format!("{head} of {} on {when}: {list}", s.row.title);
                Ok(if added || done.is_some() {
                    Reply::ok(reply)
                } else {
                    Reply::private(reply)
                })
            }
            MeetingCommand::Move { id, date, time } => {
                let (s, from, to) = m
                    .move_next(actor, id, date.0, time.map(|t| t.0), now)
                    .await?;
                Ok(Reply::ok(format!(
                    "Moved {} from {} to {}; its reminders follow it. Next: {}",
                    s.row.title,
                    crate::domain::zone::human(&s.local(from)),
                    crate::domain::zone::human(&s.local(to)),
                    next_text(&s)
                )))
            }
            MeetingCommand::Notes { id, text } => {
                let (s, at) = m.note(actor, id, &text, now).await?;
                Ok(Reply::ok(format!(
                    "Noted for the minutes of {} on {}.",
                    s.row.title,
                    crate::domain::zone::human(&s.local(at))
                )))
            }
            MeetingCommand::Minutes { id, date } => {
                let (s, list) = m
                    .past_minutes(
                        &self.config,
                        &actor.workspace,
                        id,
                        date.map(|d| d.0),
                        3,
                        now,
                    )
                    .await?;
                if list.is_empty() {
                    return Ok(Reply::private(match date {
                        Some(d) => format!("{} has no minutes for {}.", s.row.title, d.0),
                        None => format!(
                            "{} has no minutes yet: no occurrence has ended.",
                            s.row.title
                        ),
                    }));
                }
                let text: Vec<String> = list.iter().map(|m| m.render()).collect();
                Ok(Reply::private(text.join("\n\n")))
            }
            MeetingCommand::Attend { id, attending, at } => {
                let a = m
                    .attend(&self.config, actor, id, at, attending, now)
                    .await?;
                let when = crate::domain::zone::human(&a.series.local(a.at));
                Ok(Reply::private(if attending {
                    format!(
                        "Noted: {} attends {} on {when}.",
                        a.person, a.series.row.title
                    )
                } else {
                    format!(
                        "Noted: {} can't make it to {} on {when}; the minutes will say so.",
                        a.person, a.series.row.title
                    )
                }))
            }
            MeetingCommand::Calendar { rotate } => {
                use crate::service::calendar::{Issued, issue};
                match issue(&self.store, &self.config, actor, rotate, now).await? {
                    Issued::Already(at) => Ok(Reply::private(format!(
                        "Your calendar links were issued on {} and are shown only once (Quorum keeps only a hash of them). To get new ones, revoking the old: /meeting calendar rotate:true",
                        date_of(at, &self.config)
                    ))),
                    Issued::New(token) => Ok(Reply::private(self.calendar_links(&token, rotate))),
                }
            }
        }
    }

    /// The feed links of a token: the workspace's, then each executive's.
    fn calendar_links(&self, token: &str, rotated: bool) -> String {
        let c = &self.config;
        let base = c
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", c.http_listen));
        let mut out = String::new();
        if rotated {
            out.push_str("Your previous calendar links are revoked. ");
        }
        out.push_str("Your calendar feeds (keep them private: anyone with a link can read it; subscribe by URL in Google Calendar or Outlook):\n");
        out.push_str(&format!("- every series: {base}/calendar/{token}.ics"));
        for role in c.org.roles() {
            out.push_str(&format!(
                "\n- {}: {base}/calendar/{token}/{role}.ics",
                c.org.describe(role)
            ));
        }
        if !self.serves_web {
            out.push_str("\n(This console serves no web pages: these links work while `quorum run` or `quorum console --serve` serves this database.)");
        } else if c.public_url.is_none() {
            out.push_str(
                "\n(Set [http] public_url so these links work from outside this machine.)",
            );
        }
        out
    }
}

/// ` - heads-up: falls on a Sunday` or ` (moved from Sun 27 Dec 2026, a Sunday)`.
fn day_warning(
    p: &crate::domain::holiday::Placed,
    holidays: &crate::domain::holiday::Holidays,
) -> String {
    match p.original {
        Some(slot) => format!(
            " (moved from {}, which {})",
            slot.format("%a %-d %b"),
            holidays
                .flag(slot.date_naive())
                .map_or_else(|| "is not a working day".to_string(), |f| f.to_string())
        ),
        None => holidays
            .flag(p.at.date_naive())
            .map(|f| format!(" - heads-up: {f}"))
            .unwrap_or_default(),
    }
}

/// [`day_warning`] for a series' stored next occurrence.
fn next_warning(s: &Series, at: i64, holidays: &crate::domain::holiday::Holidays) -> String {
    let from = DateTime::<Utc>::from_timestamp(at - 1, 0).unwrap_or_default();
    match s.placed_after(from, holidays).next() {
        Some(p) if p.at.timestamp() == at => day_warning(&p, holidays),
        _ => holidays
            .flag(s.local(at).date_naive())
            .map(|f| format!(" - heads-up: {f}"))
            .unwrap_or_default(),
    }
}

impl App {
    /// Attach what was just recorded to its meeting; the words saying so
    /// for the reply. A failure here is logged and does not undo the record.
    async fn attach(
        &self,
        actor: &Actor,
        meeting: Option<i64>,
        entity: &str,
        id: i64,
        now: DateTime<Utc>,
    ) -> String {
        match self.meetings.attach(actor, meeting, entity, id, now).await {
            Ok(Some((s, at))) => format!(
                " Attached to the minutes of {} on {}.",
                s.row.title,
                crate::domain::zone::human(&s.local(at))
            ),
            Ok(None) => String::new(),
            Err(e) => {
                tracing::error!(entity, id, error = %e, "could not attach a record to its meeting");
                String::new()
            }
        }
    }

    async fn decision(
        &self,
        actor: &Actor,
        cmd: DecisionCommand,
        now: DateTime<Utc>,
    ) -> Result<Reply> {
        let d = &self.decisions;
        let c = &self.config;
        match cmd {
            cmd @ DecisionCommand::Record { .. } => {
                let meeting = match &cmd {
                    DecisionCommand::Record { meeting, .. } => *meeting,
                    _ => None,
                };
                let r = d.record(c, actor, cmd, now).await?;
                let attached = self.attach(actor, meeting, "decision", r.row.id, now).await;
                let tail = match &r.routed_to {
                    Some((role, channel)) => format!(
                        " as proposed: {} holds the authority for {}, so it waits for their approval (pinged in {})",
                        role,
                        r.row.category,
                        crate::domain::direct::shown(channel)
                    ),
                    None => " as approved".to_string(),
                };
                Ok(Reply::ok(format!(
                    "Recorded decision {}: {}{tail}.{attached}",
                    r.row.id, r.row.title
                )))
            }
            DecisionCommand::Approve { id } => {
                let row = d.settle(c, actor, id, true, None, now).await?;
                let also = row
                    .supersedes
                    .map(|o| format!(" It supersedes decision {o}."))
                    .unwrap_or_default();
                Ok(Reply::ok(format!(
                    "Approved decision {}: {}.{also}",
                    row.id, row.title
                )))
            }
            DecisionCommand::Reject { id, reason } => {
                let row = d.settle(c, actor, id, false, Some(reason), now).await?;
                Ok(Reply::ok(format!(
                    "Rejected decision {}: {}.",
                    row.id, row.title
                )))
            }
            DecisionCommand::List {
                category,
                since,
                status,
                page,
            } => {
                if let Some(cat) = &category {
                    if c.authority_of(cat).is_none() {
                        return Err(Error::user(format!(
                            "category: `{cat}` is not a decision category"
                        )));
                    }
                }
                let mut next = String::from("/decision list");
                if let Some(cat) = &category {
                    next.push_str(&format!(" category:{cat}"));
                }
                if let Some(d) = since {
                    next.push_str(&format!(" since:{d}"));
                }
                if let Some(st) = &status {
                    next.push_str(&format!(" status:{}", st.as_str()));
                }
                let rows = d
                    .list(
                        actor,
                        category.as_deref(),
                        since,
                        status.map(|s| s.as_str()),
                        page,
                    )
                    .await?;
                if rows.rows.is_empty() {
                    return Ok(Reply::private(if page > 1 {
                        format!("No decisions on page {page}; try {next}")
                    } else {
                        "No decisions match.".to_string()
                    }));
                }
                let lines: Vec<String> = rows.rows.iter().map(|r| decision_line(r, c)).collect();
                Ok(Reply::private(paged(
                    &rows,
                    ("decision", "decisions"),
                    lines,
                    &next,
                )))
            }
            DecisionCommand::Show { id } => {
                let r = d.show(actor, id).await?;
                let row = &r.row;
                let mut out = format!(
                    "Decision {}: {}\nCategory: {} (authority: {})\nStatus: {}\nBy: {}\nRecorded by {} on {}\nRationale: {}",
                    row.id,
                    row.title,
                    row.category,
                    row.authority,
                    row.status,
                    by_whom(row),
                    row.recorded_by,
                    date_of(row.created_at, c),
                    row.rationale
                );
                if let Some(m) = row.meeting_id {
                    out.push_str(&format!("\nMeeting: series {m}"));
                }
                if let Some(o) = row.supersedes {
                    out.push_str(&format!("\nSupersedes: decision {o}"));
                }
                if let Some(n) = row.superseded_by {
                    out.push_str(&format!("\nSuperseded by: decision {n}"));
                }
                if let Some(note) = &row.settle_note {
                    out.push_str(&format!("\nReason: {note}"));
                }
                out.push_str(&history_text(&r.history, c));
                Ok(Reply::private(out))
            }
            DecisionCommand::Search { query, page } => {
                let rows = d.search(actor, &query, page).await?;
                if rows.rows.is_empty() {
                    return Ok(Reply::private(if page > 1 {
                        format!("No more decisions mention \"{query}\".")
                    } else {
                        format!("No decision mentions \"{query}\".")
                    }));
                }
                let lines: Vec<String> = rows.rows.iter().map(|r| decision_line(r, c)).collect();
                let n = lines.len();
                let head = if page == 1 && !rows.more {
                    format!("{n} match{}, best first:", if n == 1 { "" } else { "es" })
                } else {
                    let first = crate::service::Page::<DecisionRow>::offset(page) + 1;
                    format!("Matches {first}-{}, best first:", first + n as i64 - 1)
                };
                let mut out = format!("{head}\n{}", lines.join("\n"));
                if rows.more {
                    out.push_str(&format!(
                        "\nNext page: /decision search query:\"{query}\" page:{}",
                        page + 1
                    ));
                }
                Ok(Reply::private(out))
            }
        }
    }

    async fn action(&self, actor: &Actor, cmd: ActionCommand, now: DateTime<Utc>) -> Result<Reply> {
        let a = &self.actions;
        let c = &self.config;
        match cmd {
            ActionCommand::Add(f) => {
                let meeting = f.meeting;
                let row = a.add(c, actor, f, now).await?;
                let attached = self.attach(actor, meeting, "action", row.id, now).await;
                Ok(Reply::ok(format!(
                    "Added action item {}{attached}",
                    action_line(&row)
                )))
            }
            ActionCommand::Done { id } => {
                let row = a.done(actor, id, now).await?;
                Ok(Reply::ok(format!(
                    "Marked action item {} done: {}. It now needs verification by someone other than you: /action verify id:{}",
                    row.id, row.task, row.id
                )))
            }
            ActionCommand::Verify { id } => {
                let row = a.verify(actor, id, now).await?;
                Ok(Reply::ok(format!(
                    "Verified action item {}: {} (done by {}).",
                    row.id,
                    row.task,
                    row.done_by.unwrap_or_default()
                )))
            }
            ActionCommand::Reopen { id, reason } => {
                let row = a.reopen(actor, id, &reason, now).await?;
                Ok(Reply::ok(format!(
                    "Reopened action item {}: {}.",
                    row.id, row.task
                )))
            }
            ActionCommand::Edit { id, fields } => {
                let row = a.edit(c, actor, id, fields, now).await?;
                Ok(Reply::ok(format!(
                    "Updated action item {}",
                    action_line(&row)
                )))
            }
            ActionCommand::List {
                owner,
                status,
                overdue,
                page,
            } => {
                let mut next = String::from("/action list");
                if let Some(o) = &owner {
                    next.push_str(&format!(" owner:{o}"));
                }
                if let Some(st) = &status {
                    next.push_str(&format!(" status:{st}"));
                }
                if overdue {
                    next.push_str(" overdue:true");
                }
                let rows = a
                    .list(
                        c,
                        actor,
                        crate::service::actions::ListQuery {
                            owner: owner.map(|o| o.to_string()),
                            status,
                            overdue,
                            page,
                        },
                        now,
                    )
                    .await?;
                if rows.rows.is_empty() {
                    return Ok(Reply::private(if page > 1 {
                        format!("No action items on page {page}; try {next}")
                    } else {
                        "No action items match.".to_string()
                    }));
                }
                let lines: Vec<String> = rows.rows.iter().map(action_line).collect();
                Ok(Reply::private(paged(
                    &rows,
                    ("action item", "action items"),
                    lines,
                    &next,
                )))
            }
            ActionCommand::Mine => {
                let (rows, total) = a.mine(c, actor).await?;
                let mut out = action_list(&rows, "You have no open action items.");
                if total > rows.len() as i64 {
                    let all = if total >= crate::service::COUNT_CAP {
                        format!("more than {}", crate::service::COUNT_CAP)
                    } else {
                        total.to_string()
                    };
                    let owner = c
                        .roles_for(actor)
                        .into_iter()
                        .next()
                        .unwrap_or_else(|| actor.user.clone());
                    out = out.replacen(
                        &format!("{} action items:", rows.len()),
                        &format!("{all} open action items, the {} most urgent:", rows.len()),
                        1,
                    );
                    out.push_str(&format!(
                        "\nAll of them: /action list owner:{owner} status:open"
                    ));
                }
                Ok(Reply::private(out))
            }
            ActionCommand::Show { id } => {
                let r = a.show(actor, id).await?;
                let mut out = format!("Action item {}", action_line(&r.row));
                if let Some(m) = r.row.meeting_id {
                    out.push_str(&format!("\nMeeting: series {m}"));
                }
                if let Some(d) = r.row.decision_id {
                    out.push_str(&format!("\nDecision: {d}"));
                }
                out.push_str(&history_text(&r.history, c));
                Ok(Reply::private(out))
            }
        }
    }
}

impl App {
    async fn escalation(
        &self,
        actor: &Actor,
        cmd: EscalationCommand,
        now: DateTime<Utc>,
    ) -> Result<Reply> {
        let e = &self.escalations;
        let c = &self.config;
        match cmd {
            EscalationCommand::Raise {
                topic,
                severity,
                summary,
                level,
            } => {
                let request = crate::service::escalations::Raise {
                    topic,
                    severity,
                    summary,
                    level,
                };
                let r = e.raise(c, actor, request, now).await?;
                let when = match (r.row.state.as_str(), r.row.post_at, r.row.deadline_at) {
                    ("waiting", Some(at), _) => format!(
                        "The {} is outside working hours, so it will be posted at {}.",
                        r.step,
                        date_of(at, c)
                    ),
                    (_, _, Some(d)) => format!(
                        "Acknowledge by {}{}.",
                        date_of(d, c),
                        r.next
                            .as_ref()
                            .map(|n| format!(" or it climbs to {n}"))
                            .unwrap_or_default()
                    ),
                    _ => String::new(),
                };
                Ok(Reply::private(format!(
                    "Escalation {} ({} {}) went to {} in #{}: {}. {when}",
                    r.row.id, r.row.severity, r.row.topic, r.step, r.channel, r.why
                )))
            }
            EscalationCommand::Ack { id } => {
                e.ack(c, actor, id, now).await?;
                Ok(Reply::ok(format!(
                    "Acknowledged escalation {id}; it will not climb further. Resolve it with /escalation resolve id:{id} note:\"...\""
                )))
            }
            EscalationCommand::Resolve { id, note } => {
                e.resolve(c, actor, id, note, now).await?;
                Ok(Reply::ok(format!("Resolved escalation {id}.")))
            }
            EscalationCommand::Up { id, reason } => {
                let row = e.raise_level(c, actor, id, reason, now).await?;
                Ok(Reply::ok(format!(
                    "Escalation {id} moved up to level {} ({}).",
                    row.level + 1,
                    row.state
                )))
            }
            EscalationCommand::Reassign { id, to } => {
                let row = e.reassign(c, actor, id, to, now).await?;
                Ok(Reply::ok(format!(
                    "Escalation {id} now goes to the {} ({}).",
                    row.routed_to, row.state
                )))
            }
            EscalationCommand::List { open, mine } => {
                let rows = e.list(c, actor, open, mine).await?;
                if rows.is_empty() {
                    return Ok(Reply::private("No escalations match."));
                }
                let lines: Vec<String> = rows.iter().map(|r| escalation_line(r, c)).collect();
                Ok(Reply::private(format!(
                    "{} escalation{}:\n{}",
                    rows.len(),
                    plural(rows.len()),
                    lines.join("\n")
                )))
            }
            EscalationCommand::Show { id } => {
                let t = e.show(c, actor, id).await?;
                let r = &t.row;
                let mut out = format!(
                    "Escalation {}: [{}] {}: {}\nRaised by {} in #{} on {}; routed to {}\nPath: {}\nNow: {} at {}",
                    r.id,
                    r.severity,
                    r.topic,
                    r.summary,
                    r.raised_by,
                    r.raised_in,
                    date_of(r.created_at, c),
                    r.routed_to,
                    t.steps.join(" -> "),
                    r.state,
                    t.steps.get(r.level as usize).cloned().unwrap_or_default()
                );
                if let Some(d) = r.deadline_at {
                    out.push_str(&format!(", deadline {}", date_of(d, c)));
                }
                if let Some(note) = &r.resolution {
                    out.push_str(&format!("\nResolution: {note}"));
                }
                out.push_str("\nTimeline:");
                for ev in &t.events {
                    out.push_str(&format!(
                        "\n- {} {} {}: {}",
                        date_of(ev.at, c),
                        ev.actor,
                        ev.kind,
                        ev.detail
                    ));
                }
                Ok(Reply::private(out))
            }
        }
    }
}

/// One escalation in a list, at the level it is at now (not where it
/// started): `1. [critical open] budget: Payroll failed (now at exec-team,
/// level 4 of 5; routed to cfo; raised by ana on ...)`.
fn escalation_line(r: &EscalationRow, c: &Config) -> String {
    let severity = r
        .severity
        .parse()
        .unwrap_or(crate::domain::escalation::Severity::High);
    let steps = crate::domain::escalation::steps(&c.escalation.path, &r.routed_to, severity);
    let here = usize::try_from(r.level)
        .unwrap_or(0)
        .min(steps.len().saturating_sub(1));
    let at = match steps.get(here) {
        Some(step) => format!(
            "now at {}, level {} of {}",
            step.label,
            here + 1,
            steps.len()
        ),
        None => format!("level {}", r.level.saturating_add(1)),
    };
    format!(
        "{}. [{} {}] {}: {} ({at}; routed to {}; raised by {} on {})",
        r.id,
        r.severity,
        r.state,
        r.topic,
        r.summary,
        r.routed_to,
        r.raised_by,
        date_of(r.created_at, c)
    )
}

/// A page of a list: `3 decisions:` when it all fits, else `1,234 decisions
/// (21-40 shown):` and how to ask for the next page.
fn paged<T>(
    p: &crate::service::Page<T>,
    (one, many): (&str, &str),
    lines: Vec<String>,
    next: &str,
) -> String {
    let n = lines.len();
    let head = if p.page == 1 && !p.more {
        format!("{n} {}:", if n == 1 { one } else { many })
    } else {
        let first = crate::service::Page::<T>::offset(p.page) + 1;
        let last = first + n as i64 - 1;
        let total = match p.total {
            Some(t) if t >= crate::service::COUNT_CAP => {
                format!("More than {} {many}", crate::service::COUNT_CAP)
            }
            Some(t) => format!("{t} {}", if t == 1 { one } else { many }),
            None => many.to_string(),
        };
        format!("{total} ({first}-{last} shown):")
    };
    let mut out = format!("{head}\n{}", lines.join("\n"));
    if p.more {
        out.push_str(&format!("\nNext page: {next} page:{}", p.page + 1));
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn date_of(at: i64, c: &Config) -> String {
    DateTime::<Utc>::from_timestamp(at, 0)
        .map(|t| {
            t.with_timezone(&c.default_zone.tz())
                .format("%Y-%m-%d %H:%M %Z")
                .to_string()
        })
        .unwrap_or_default()
}

fn decision_line(r: &DecisionRow, c: &Config) -> String {
    format!(
        "{}. [{}] {} ({}, {}, {})",
        r.id,
        r.status,
        r.title,
        r.category,
        by_whom(r),
        date_of(r.created_at, c)
    )
}

fn by_whom(r: &DecisionRow) -> String {
    crate::domain::decision::attribution(
        &r.status,
        &r.decided_by,
        &r.recorded_by,
        r.settled_by.as_deref(),
    )
}

/// `12: Evaluate pgvector [cto, high, due 2026-12-01, open]`
pub fn action_line(a: &ActionRow) -> String {
    let due = a
        .due_date
        .as_deref()
        .map(|d| format!(", due {d}"))
        .unwrap_or_default();
    format!(
        "{}: {} [{}, {}{due}, {}]",
        a.id, a.task, a.owner, a.priority, a.status
    )
}

fn action_list(rows: &[ActionRow], empty: &str) -> String {
    if rows.is_empty() {
        return empty.to_string();
    }
    let lines: Vec<String> = rows.iter().map(action_line).collect();
    format!(
        "{} action item{}:\n{}",
        rows.len(),
        plural(rows.len()),
        lines.join("\n")
    )
}

fn history_text(history: &[AuditRow], c: &Config) -> String {
    let mut out = String::from("\nHistory:");
    for h in history {
        out.push_str(&format!(
            "\n- {} {}: {}",
            date_of(h.at, c),
            h.actor,
            h.change
        ));
    }
    out
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

/// The decision a Reject button (`decision:reject:N`) or its reason form is
/// for: chat platforms answer that button with a form asking the reason.
pub fn reject_target(id: &str) -> Option<i64> {
    id.strip_prefix("decision:reject:")?
        .parse()
        .ok()
        .filter(|n: &i64| *n > 0)
}

fn error_reply(e: &Error) -> Reply {
    Reply {
        text: e.to_user_text(),
        ephemeral: true,
        is_error: true,
    }
}

/// A command's name for logs and metrics, e.g. `meeting add`, `help`: the
/// family and the variant, read from the derived `Debug` so that a command
/// added later is named without a change here. A closed set (never user
/// text), so it is safe as a metrics label.
fn command_name(cmd: &Command) -> String {
    let debug = format!("{cmd:?}");
    let word = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_lowercase()
    };
    let family = word(&debug);
    match debug[family.len()..].strip_prefix('(') {
        Some(rest) => format!("{family} {}", word(rest)),
        None => family,
    }
}

/// The metrics name of a line that did not parse: its family when it names
/// one (`meeting`), else `unknown` (never the user's text).
fn unparsed_name(line: &str) -> String {
    let word = line
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_ascii_lowercase();
    match word.as_str() {
        "help" | "meeting" | "decision" | "action" | "escalate" | "escalation" | "risk"
        | "dashboard" => word,
        _ => "unknown".to_string(),
    }
}

#[cfg(test)]
mod command_name_tests {
    use super::*;

    #[test]
    fn a_command_is_named_by_its_family_and_variant_never_its_text() {
        let cases = [
            ("/help", "help"),
            ("/meeting list", "meeting list"),
            ("/action add task:\"secret plan\" owner:cto", "action add"),
            ("/escalation ack id:3", "escalation ack"),
        ];
        for (line, want) in cases {
            let cmd = crate::command::parse(line).unwrap();
            assert_eq!(command_name(&cmd), want, "{line}");
        }
        assert_eq!(unparsed_name("/meeting add when:fortnightly"), "meeting");
        assert_eq!(unparsed_name("/secret-plan x"), "unknown");
    }
}
