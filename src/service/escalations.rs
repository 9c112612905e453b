//! Escalation use cases: raise one (routed by topic to an executive, posted
//! at the matching step of the path), acknowledge, resolve, raise a level by
//! hand, reassign, list, show; and the scheduler's part: post when working
//! hours begin, climb when a deadline passes, repeat at the last level, and
//! follow up on acknowledged but unresolved ones.
//!
//! Every change is a compare-and-set on the escalation row (a lost race
//! changes nothing), and every post requires a state that is checked under
//! the escalation's lock when it is sent, so nothing goes out for an
//! escalation after its acknowledgement or resolution has been committed.

use chrono::{DateTime, Utc};
use tracing::instrument;

use crate::config::Config;
use crate::domain::escalation::{Severity, Step, steps};
use crate::domain::notice::{Kind, Notice};
use crate::error::{Error, Result, user_err};
use crate::service::meetings::Actor;
use crate::store::{EscalationEvent, EscalationPost, EscalationRow, Store};

#[derive(Clone)]
pub struct Escalations {
    pub store: Store,
}

/// What `/escalate` asks for.
pub struct Raise {
    pub topic: String,
    pub severity: Severity,
    pub summary: String,
    /// Start at this level instead of the routed executive's.
    pub level: Option<String>,
}

/// What `/escalate` did, for the reply.
pub struct Raised {
    pub row: EscalationRow,
    pub step: String,
    pub channel: String,
    pub why: String,
    pub next: Option<String>,
}

pub struct Timeline {
    pub row: EscalationRow,
    pub steps: Vec<String>,
    pub events: Vec<EscalationEvent>,
}

fn severity(row: &EscalationRow) -> Severity {
    row.severity.parse().unwrap_or(Severity::High)
}

fn path(config: &Config, row: &EscalationRow) -> Vec<Step> {
    steps(&config.escalation.path, &row.routed_to, severity(row))
}

/// The step at `level`, clamped to the path (the path may have changed
/// since the row was written); `None` only when the path has no step for
/// this escalation at all.
fn step_at(steps: &[Step], level: i64) -> Option<(usize, &Step)> {
    let last = steps.len().checked_sub(1)?;
    let i = usize::try_from(level).unwrap_or(0).min(last);
    steps.get(i).map(|s| (i, s))
}

/// The user error when config leaves an escalation without a step.
fn no_step(row: &EscalationRow) -> Error {
    Error::user(format!(
        "escalation.path has no level for a {} escalation (the board takes only critical and high ones); ask an admin to add one, then see quorum check-config",
        row.severity
    ))
}

fn channel(config: &Config, row: &EscalationRow, step: &Step) -> String {
    let policy = &config.escalation;
    if let Some(role) = &step.role {
        return config.channel_of(role);
    }
    if step.team {
        return policy
            .exec_team_channel
            .clone()
            .unwrap_or_else(|| config.default_channel.to_string());
    }
    if let Some(c) = step.label.strip_prefix('#') {
        return c.to_string();
    }
    policy
        .department_channel
        .clone()
        .unwrap_or_else(|| row.raised_in.clone())
}

/// The chat users a post at `step` pings: the step's executive (and its
/// deputy: the CEO at the board's step), or for the executive team every
/// executive but the board. Nobody else.
fn mention(config: &Config, step: &Step) -> Vec<String> {
    match (&step.role, step.team) {
        (Some(role), _) => {
            let mut users = config.user_of(role);
            for u in step.deputy.iter().flat_map(|d| config.user_of(d)) {
                if !users.contains(&u) {
                    users.push(u);
                }
            }
            users
        }
        (None, true) => config
            .org
            .roles()
            .filter(|r| *r != "board")
            .flat_map(|r| config.user_of(r))
            .collect(),
        _ => Vec::new(),
    }
}

/// `at` in the default zone, for a notice's time field.
fn local_at(config: &Config, at: i64) -> Option<DateTime<chrono_tz::Tz>> {
    DateTime::<Utc>::from_timestamp(at, 0).map(|t| t.with_timezone(&config.default_zone.tz()))
}

/// A deadline or posting time, in the default zone, to the minute.
fn local(config: &Config, at: i64) -> String {
    local_at(config, at)
        .map(|t| crate::domain::notice::moment(&t))
        .unwrap_or_default()
}

fn ts(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}

/// Who is addressed at a step, as text.
fn addressee(config: &Config, step: &Step) -> String {
    match &step.role {
        Some(role) => config.org.addressee(role),
        None if step.team => "Executive team".to_string(),
        None => "Department".to_string(),
    }
}

fn ping(
    config: &Config,
    row: &EscalationRow,
    step: &Step,
    deadline: i64,
    below: Option<&str>,
    key: String,
) -> EscalationPost {
    let mut n = Notice::new(
        Kind::Escalation,
        format!(
            "ESCALATION #{} [{}] {}: {}",
            row.id,
            row.severity.to_uppercase(),
            row.topic,
            row.summary
        ),
    )
    .to(addressee(config, step))
    .field(
        "Raised by",
        format!("{} in #{}", row.raised_by, row.raised_in),
    );
    if let Some(at) = local_at(config, deadline) {
        n = n.time("Acknowledge by", &at);
    }
    if let Some(below) = below {
        n = n.para(below);
    }
    let body = n.to_json();
    EscalationPost {
        key,
        channel: channel(config, row, step),
        body,
        mention: mention(config, step),
        requires_state: Some("open".to_string()),
    }
}

fn note(row: &EscalationRow, key: &str, notice: Notice, requires: Option<&str>) -> EscalationPost {
    EscalationPost {
        key: key.to_string(),
        channel: row.raised_in.clone(),
        body: notice.to_json(),
        mention: Vec::new(),
        requires_state: requires.map(str::to_string),
    }
}

fn ev(actor: &str, kind: &str, detail: impl Into<String>) -> (String, String, String) {
    (actor.to_string(), kind.to_string(), detail.into())
}

/// Who a post at `step` reaches, for quiet hours.
fn reached(step: &Step) -> crate::service::quiet::To<'_> {
    use crate::service::quiet::To;
    match (&step.role, step.team) {
        (Some(role), _) => To::Person(role),
        (None, true) => To::Team,
        (None, false) => To::Channel,
    }
}

/// Put `row` at step `level` from `now`: posted at once (state open, with a
/// deadline) unless the step's executive is outside working hours and the
/// escalation is not critical (state waiting until they begin).
fn place(
    config: &Config,
    row: &mut EscalationRow,
    level: usize,
    step: &Step,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    row.level = i64::try_from(level).unwrap_or(i64::MAX);
    let at = crate::service::quiet::next_allowed(config, reached(step), now);
    match severity(row) {
        s if s != Severity::Critical && at > now => {
            row.state = "waiting".into();
            row.post_at = Some(ts(at));
            row.deadline_at = None;
            Some(at)
        }
        _ => {
            row.state = "open".into();
            row.post_at = None;
            row.deadline_at = Some(ts(config.escalation.window(severity(row)).deadline(now)));
            None
        }
    }
}

/// A new open escalation, not yet placed on its path: who raised it, where,
/// and whose area it is; the caller sets topic, severity and summary.
fn fresh(
    workspace: &str,
    raised_by: &str,
    raised_in: &str,
    routed: &str,
    now: DateTime<Utc>,
) -> EscalationRow {
    EscalationRow {
        id: 0,
        workspace: workspace.to_string(),
        topic: String::new(),
        severity: String::new(),
        summary: String::new(),
        raised_by: raised_by.to_string(),
        raised_in: raised_in.to_string(),
        routed_to: routed.to_string(),
        level: 0,
        state: "open".into(),
        post_at: None,
        deadline_at: None,
        repeats: 0,
        acked_by: None,
        acked_at: None,
        follow_up_at: None,
        follow_ups: 0,
        resolved_by: None,
        resolved_at: None,
        resolution: None,
        created_at: ts(now),
        updated_at: ts(now),
    }
}

/// The first post of an escalation just placed at step `level` (see
/// [`place`]): its timeline entry, and the ping unless it waits for working
/// hours (`waits`).
fn first_post(
    config: &Config,
    row: &EscalationRow,
    level: usize,
    step: &Step,
    waits: Option<DateTime<Utc>>,
) -> (Vec<(String, String, String)>, Vec<EscalationPost>) {
    match waits {
        Some(at) => (
            vec![ev(
                "quorum",
                "waiting",
                format!(
                    "{} is outside working hours; posting at {}",
                    step.label,
                    local(config, ts(at))
                ),
            )],
            Vec::new(),
        ),
        None => (
            vec![ev(
                "quorum",
                "posted",
                format!("to {} in #{}", step.label, channel(config, row, step)),
            )],
            vec![ping(
                config,
                row,
                step,
                row.deadline_at.unwrap_or_default(),
                None,
                format!("ping:{level}:0"),
            )],
        ),
    }
}

impl Escalations {
    async fn load(&self, workspace: &str, id: i64) -> Result<EscalationRow> {
        match self.store.escalation(workspace, id).await? {
            Some(e) => Ok(e),
            None => user_err(format!(
                "there is no escalation {id} here; see /escalation list"
            )),
        }
    }

    /// Whether `user` may acknowledge or resolve `row`: the current step's
    /// executive or anyone above it on the path (any executive at the
    /// executive-team step; the board or the CEO at the board's step; anyone
    /// at a department step), or anyone when the config says so.
    pub fn may_act(config: &Config, row: &EscalationRow, actor: &Actor) -> bool {
        if config.escalation.ack_by_anyone {
            return true;
        }
        let roles = config.roles_for(actor);
        let steps = path(config, row);
        let Some((level, step)) = step_at(&steps, row.level) else {
            return false;
        };
        if step.role.is_none() && !step.team {
            return true;
        }
        steps
            .get(level..)
            .unwrap_or_default()
            .iter()
            .any(|s| s.held_by(&roles))
    }

    fn refuse(config: &Config, row: &EscalationRow, user: &str, what: &str) -> Error {
        let steps = path(config, row);
        let Some((level, here)) = step_at(&steps, row.level) else {
            return no_step(row);
        };
        let above = steps.get(level..).unwrap_or_default();
        let mut who: Vec<String> = above.iter().map(|s| s.label.clone()).collect();
        // A deputy is named unless the executive team, which includes them, is.
        if !above.iter().any(|s| s.team) {
            for d in above.iter().filter_map(|s| s.deputy.clone()) {
                if !who.contains(&d) {
                    who.push(d);
                }
            }
        }
        Error::user(format!(
            "only {} may {what} escalation {} (it is at {}); you are {user}",
            who.join(", "),
            row.id,
            here.label
        ))
    }

    async fn save(
        &self,
        before: &EscalationRow,
        after: &EscalationRow,
        events: &[(String, String, String)],
        posts: &[EscalationPost],
        cancel: bool,
        now: DateTime<Utc>,
    ) -> Result<EscalationRow> {
        if !self
            .store
            .save_escalation(after, before.updated_at, events, posts, cancel, ts(now))
            .await?
        {
            return user_err(format!(
                "escalation {} changed just now (by someone else or by its deadline); see /escalation show id:{} and try again",
                before.id, before.id
            ));
        }
        self.load(&before.workspace, before.id).await
    }

    #[instrument(skip(self, config, request), fields(workspace = %actor.workspace, user = %actor.user))]
    pub async fn raise(
        &self,
        config: &Config,
        actor: &Actor,
        request: Raise,
        now: DateTime<Utc>,
    ) -> Result<Raised> {
        let Raise {
            topic,
            severity,
            summary,
            level,
        } = request;
        let (routed, why) = match config.escalation.route(&topic) {
            Some(role) => (role.to_string(), format!("{topic} is the {role}'s area")),
            None => {
                let known: Vec<&str> = config
                    .escalation
                    .routes
                    .iter()
                    .map(|(t, _)| t.as_str())
                    .collect();
                (
                    "cto".to_string(),
                    format!(
                        "`{topic}` has no route (known topics: {}), so it goes to CTO review",
                        known.join(", ")
                    ),
                )
            }
        };
        let raised_in = actor
            .channel
            .clone()
            .unwrap_or_else(|| config.default_channel.to_string());
        let mut row = EscalationRow {
            topic,
            severity: severity.to_string(),
            summary,
            ..fresh(&actor.workspace, &actor.user, &raised_in, &routed, now)
        };
        let steps = path(config, &row);
        if steps.is_empty() {
            return Err(no_step(&row));
        }
        let start = match level.as_deref() {
            Some(l) => {
                let l = l.trim().trim_start_matches('#').to_lowercase();
                let l = if l == "relevant" { routed.clone() } else { l };
                steps
                    .iter()
                    .position(|s| {
                        s.label.trim_start_matches('#') == l
                            || s.role.as_deref() == Some(l.as_str())
                    })
                    .ok_or_else(|| {
                        let labels: Vec<&str> = steps.iter().map(|s| s.label.as_str()).collect();
                        Error::user(format!(
                            "level: `{l}` is not on this escalation's path ({})",
                            labels.join(", ")
                        ))
                    })?
            }
            None => steps
                .iter()
                .position(|s| s.role.as_deref() == Some(routed.as_str()))
                .unwrap_or(0),
        };
        let step = steps.get(start).ok_or_else(|| no_step(&row))?;
        let waits = place(config, &mut row, start, step, now);
        let id = self
            .store
            .insert_escalation(
                &row,
                &[ev(
                    &actor.user,
                    "raised",
                    format!("{} {}: {}; {why}", row.severity, row.topic, row.summary),
                )],
                &[],
                ts(now),
            )
            .await?;
        row.id = id;
        // The first ping is written once the id is known, so it can name it.
        let (events, posts) = first_post(config, &row, start, step, waits);
        let before = self.load(&actor.workspace, id).await?;
        let row = self
            .save(&before, &before, &events, &posts, false, now)
            .await?;
        let next = steps.get(start + 1).map(|s| s.label.clone());
        Ok(Raised {
            channel: channel(config, &row, step),
            step: step.label.clone(),
            why,
            next,
            row,
        })
    }

    /// Raise an escalation Quorum starts on its own about `source` (a
    /// proposed decision nobody answered, an action item overdue too long):
    /// routed to `routed` (the executive who did not act) and posted at the
    /// step above theirs on the path, or at the first step when they are not
    /// on it. Raised once per `source`: `None` when it already was.
    #[instrument(skip(self, config, summary), fields(workspace = %workspace))]
    #[expect(
        clippy::too_many_arguments,
        reason = "one value per field of the escalation"
    )]
    pub async fn raise_about(
        &self,
        config: &Config,
        workspace: &str,
        source: &str,
        topic: &str,
        summary: String,
        routed: &str,
        raised_in: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<EscalationRow>> {
        let mut row = EscalationRow {
            topic: topic.to_string(),
            severity: Severity::Medium.to_string(),
            summary,
            ..fresh(workspace, "quorum", raised_in, routed, now)
        };
        let steps = path(config, &row);
        let Some(last) = steps.len().checked_sub(1) else {
            tracing::warn!(
                source,
                "escalation.path has no level for a medium escalation; not raised"
            );
            return Ok(None);
        };
        let start = steps
            .iter()
            .position(|s| s.role.as_deref() == Some(routed))
            .map_or(0, |p| (p + 1).min(last));
        let Some(step) = steps.get(start) else {
            return Ok(None);
        };
        let waits = place(config, &mut row, start, step, now);
        let Some(id) = self
            .store
            .insert_escalation_from(
                &row,
                Some(source),
                &[ev(
                    "quorum",
                    "raised",
                    format!("{} {}: {}", row.severity, row.topic, row.summary),
                )],
                &[],
                ts(now),
            )
            .await?
        else {
            return Ok(None);
        };
        row.id = id;
        let (events, posts) = first_post(config, &row, start, step, waits);
        let Some(before) = self.store.escalation(workspace, id).await? else {
            return Ok(None);
        };
        match self
            .store
            .save_escalation(&before, before.updated_at, &events, &posts, false, ts(now))
            .await?
        {
            true => Ok(self.store.escalation(workspace, id).await?),
            false => Ok(Some(before)),
        }
    }

    pub async fn ack(
        &self,
        config: &Config,
        actor: &Actor,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<EscalationRow> {
        // The scheduler may move the escalation between our read and write:
        // then read again and decide again.
        for _ in 0..5 {
            let row = self.load(&actor.workspace, id).await?;
            match row.state.as_str() {
                "open" | "waiting" => {}
                "acked" => {
                    return user_err(format!(
                        "escalation {id} was already acknowledged by {}",
                        row.acked_by.unwrap_or_default()
                    ));
                }
                _ => return user_err(format!("escalation {id} is resolved")),
            }
            if !Self::may_act(config, &row, actor) {
                return Err(Self::refuse(config, &row, &actor.user, "acknowledge"));
            }
            let mut b = row.clone();
            b.state = "acked".into();
            b.acked_by = Some(actor.user.clone());
            b.acked_at = Some(ts(now));
            b.deadline_at = None;
            b.post_at = None;
            b.follow_up_at = Some(ts(now + config.escalation.follow_up));
            let posts = [note(
                &row,
                "ack",
                Notice::new(
                    Kind::Note,
                    format!(
                        "Escalation #{id} ({} {}) was acknowledged by {}",
                        row.severity, row.topic, actor.user
                    ),
                ),
                None,
            )];
            if self
                .store
                .save_escalation(
                    &b,
                    row.updated_at,
                    &[ev(&actor.user, "acked", "acknowledged")],
                    &posts,
                    true,
                    ts(now),
                )
                .await?
            {
                return self.load(&actor.workspace, id).await;
            }
        }
        user_err(format!(
            "escalation {id} keeps changing; try again in a moment"
        ))
    }

    pub async fn resolve(
        &self,
        config: &Config,
        actor: &Actor,
        id: i64,
        text: String,
        now: DateTime<Utc>,
    ) -> Result<EscalationRow> {
        for _ in 0..5 {
            let row = self.load(&actor.workspace, id).await?;
            if row.state == "resolved" {
                return user_err(format!("escalation {id} is already resolved"));
            }
            if !Self::may_act(config, &row, actor)
                && row.acked_by.as_deref() != Some(actor.user.as_str())
            {
                return Err(Self::refuse(config, &row, &actor.user, "resolve"));
            }
            let mut b = row.clone();
            b.state = "resolved".into();
            b.resolved_by = Some(actor.user.clone());
            b.resolved_at = Some(ts(now));
            b.resolution = Some(text.clone());
            b.deadline_at = None;
            b.post_at = None;
            b.follow_up_at = None;
            let posts = [note(
                &row,
                "resolved",
                Notice::new(
                    Kind::Note,
                    format!(
                        "Escalation #{id} ({} {}) was resolved by {}",
                        row.severity, row.topic, actor.user
                    ),
                )
                .field("Resolution", text.clone()),
                None,
            )];
            if self
                .store
                .save_escalation(
                    &b,
                    row.updated_at,
                    &[ev(&actor.user, "resolved", text.clone())],
                    &posts,
                    true,
                    ts(now),
                )
                .await?
            {
                return self.load(&actor.workspace, id).await;
            }
        }
        user_err(format!(
            "escalation {id} keeps changing; try again in a moment"
        ))
    }

    /// Move up one level now (by hand).
    pub async fn raise_level(
        &self,
        config: &Config,
        actor: &Actor,
        id: i64,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<EscalationRow> {
        let row = self.load(&actor.workspace, id).await?;
        if row.state != "open" && row.state != "waiting" {
            return user_err(format!(
                "escalation {id} is {}; only open escalations move up",
                row.state
            ));
        }
        if !Self::may_act(config, &row, actor) && row.raised_by != actor.user {
            return Err(Self::refuse(config, &row, &actor.user, "raise"));
        }
        let steps = path(config, &row);
        let (level, here) = step_at(&steps, row.level).ok_or_else(|| no_step(&row))?;
        let Some(up) = steps.get(level + 1) else {
            return user_err(format!(
                "escalation {id} is already at the last level ({})",
                here.label
            ));
        };
        let below = format!(
            "Moved up by {}: {}.",
            actor.user,
            reason.trim_end_matches('.')
        );
        let (b, events, posts) = self.climb_to(
            config,
            &row,
            (here, level + 1, up),
            &below,
            actor.user.as_str(),
            now,
        );
        self.save(&row, &b, &events, &posts, true, now).await
    }

    pub async fn reassign(
        &self,
        config: &Config,
        actor: &Actor,
        id: i64,
        to: String,
        now: DateTime<Utc>,
    ) -> Result<EscalationRow> {
        let row = self.load(&actor.workspace, id).await?;
        if row.state == "resolved" {
            return user_err(format!("escalation {id} is resolved"));
        }
        if !Self::may_act(config, &row, actor) {
            return Err(Self::refuse(config, &row, &actor.user, "reassign"));
        }
        if !crate::domain::org::is_role_key(&to) {
            return user_err(format!("to: `{to}` is not a role; use one such as coo"));
        }
        if to == row.routed_to {
            return user_err(format!("escalation {id} is already with the {to}"));
        }
        let mut b = row.clone();
        b.routed_to = to.clone();
        let steps = path(config, &b);
        let (level, step) = match steps
            .iter()
            .position(|s| s.role.as_deref() == Some(to.as_str()))
        {
            Some(i) => steps.get(i).map(|s| (i, s)),
            None => step_at(&steps, row.level),
        }
        .ok_or_else(|| no_step(&b))?;
        b.acked_by = None;
        b.acked_at = None;
        b.follow_up_at = None;
        let waits = place(config, &mut b, level, step, now);
        let mut events = vec![ev(
            &actor.user,
            "reassigned",
            format!("from {} to {to}", row.routed_to),
        )];
        let mut posts = Vec::new();
        let below = format!("Reassigned from {} by {}.", row.routed_to, actor.user);
        match waits {
            Some(at) => events.push(ev(
                "quorum",
                "waiting",
                format!(
                    "{to} is outside working hours; posting at {}",
                    local(config, ts(at))
                ),
            )),
            None => posts.push(ping(
                config,
                &b,
                step,
                b.deadline_at.unwrap_or_default(),
                Some(&below),
                format!("reassign:{}:{}", level, ts(now)),
            )),
        }
        self.save(&row, &b, &events, &posts, true, now).await
    }

    pub async fn list(
        &self,
        config: &Config,
        actor: &Actor,
        open: bool,
        mine: bool,
    ) -> Result<Vec<EscalationRow>> {
        let rows = self.store.list_escalations(&actor.workspace, open).await?;
        if !mine {
            return Ok(rows);
        }
        let roles = config.roles_for(actor);
        Ok(rows
            .into_iter()
            .filter(|r| {
                let steps = path(config, r);
                let here = step_at(&steps, r.level).map(|(_, s)| s);
                r.raised_by == actor.user
                    || r.acked_by.as_deref() == Some(actor.user.as_str())
                    || here.is_some_and(|s| s.role.is_some() && s.held_by(&roles))
            })
            .collect())
    }

    pub async fn show(&self, config: &Config, actor: &Actor, id: i64) -> Result<Timeline> {
        let row = self.load(&actor.workspace, id).await?;
        let events = self.store.escalation_events(id).await?;
        let steps = path(config, &row).into_iter().map(|s| s.label).collect();
        Ok(Timeline { row, steps, events })
    }

    /// The new row, events and posts for moving `row` from step `from` to
    /// step `step`, number `level` of its path.
    fn climb_to(
        &self,
        config: &Config,
        row: &EscalationRow,
        (from, level, step): (&Step, usize, &Step),
        below: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> (
        EscalationRow,
        Vec<(String, String, String)>,
        Vec<EscalationPost>,
    ) {
        let mut b = row.clone();
        b.repeats = 0;
        let waits = place(config, &mut b, level, step, now);
        let from = &from.label;
        let mut events = vec![ev(
            actor,
            "climbed",
            format!("from {from} to {}: {below}", step.label),
        )];
        // The note tells where the escalation was raised that it moved; when
        // that is where the ping goes too, the ping says it (one post).
        let pinged_there = waits.is_none() && channel(config, &b, step) == row.raised_in;
        let mut posts = Vec::new();
        if !pinged_there {
            posts.push(note(
                row,
                &format!("climb-note:{level}"),
                Notice::new(
                    Kind::Climb,
                    format!(
                        "Escalation #{} moved up from {from} to {}",
                        row.id, step.label
                    ),
                )
                .field("Severity", row.severity.clone())
                .field("Topic", row.topic.clone())
                .para(below),
                Some(if waits.is_some() { "waiting" } else { "open" }),
            ));
        }
        match waits {
            Some(at) => events.push(ev(
                "quorum",
                "waiting",
                format!(
                    "{} is outside working hours; posting at {}",
                    step.label,
                    local(config, ts(at))
                ),
            )),
            None => posts.push(ping(
                config,
                &b,
                step,
                b.deadline_at.unwrap_or_default(),
                Some(below),
                format!("ping:{level}:0"),
            )),
        }
        (b, events, posts)
    }

    /// The scheduler's part, for everything due at `now`. Returns how many
    /// escalations moved.
    pub async fn run_due(&self, config: &Config, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let mut moved = 0;
        for row in self.store.escalations_due(ts(now)).await? {
            let steps = path(config, &row);
            let Some((level, step)) = step_at(&steps, row.level) else {
                tracing::warn!(
                    escalation = row.id,
                    severity = %row.severity,
                    "escalation.path has no level for this escalation; it is left as it is"
                );
                continue;
            };
            let (b, events, posts, cancel) = match (row.state.as_str(), steps.get(level + 1)) {
                ("waiting", _) => {
                    let mut b = row.clone();
                    b.state = "open".into();
                    b.post_at = None;
                    b.deadline_at =
                        Some(ts(config.escalation.window(severity(&row)).deadline(now)));
                    let post = ping(
                        config,
                        &b,
                        step,
                        b.deadline_at.unwrap_or_default(),
                        Some("Posted now that working hours have begun."),
                        format!("ping:{level}:w{}", ts(now)),
                    );
                    (
                        b,
                        vec![ev(
                            "quorum",
                            "posted",
                            format!("to {} in #{}", step.label, post.channel),
                        )],
                        vec![post],
                        false,
                    )
                }
                ("open", Some(up)) => {
                    let window = config.escalation.window(severity(&row));
                    let below = format!("Nobody at {} acknowledged within {window}.", step.label);
                    let (b, e, p) =
                        self.climb_to(config, &row, (step, level + 1, up), &below, "quorum", now);
                    (b, e, p, true)
                }
                ("open", None)
                    if row.repeats < i64::from(config.escalation.max_repeats)
                        && severity(&row) != Severity::Critical
                        && crate::service::quiet::is_quiet(config, reached(step), now) =>
                {
                    // A repeat in quiet hours waits for them to end, and
                    // goes out then as the next reminder.
                    let mut b = row.clone();
                    b.repeats += 1;
                    let at = crate::service::quiet::next_allowed(config, reached(step), now);
                    b.state = "waiting".into();
                    b.post_at = Some(ts(at));
                    b.deadline_at = None;
                    let event = ev(
                        "quorum",
                        "waiting",
                        format!(
                            "ping {} at {} held for working hours; posting at {}",
                            b.repeats,
                            step.label,
                            local(config, ts(at))
                        ),
                    );
                    (b, vec![event], Vec::new(), false)
                }
                ("open", None) if row.repeats < i64::from(config.escalation.max_repeats) => {
                    let mut b = row.clone();
                    b.repeats += 1;
                    b.deadline_at =
                        Some(ts(config.escalation.window(severity(&row)).deadline(now)));
                    let below = format!(
                        "Reminder {} of {}: still not acknowledged.",
                        b.repeats, config.escalation.max_repeats
                    );
                    let post = ping(
                        config,
                        &b,
                        step,
                        b.deadline_at.unwrap_or_default(),
                        Some(&below),
                        format!("ping:{level}:{}", b.repeats),
                    );
                    let event = ev(
                        "quorum",
                        "repeated",
                        format!("ping {} at {}", b.repeats, step.label),
                    );
                    (b, vec![event], vec![post], true)
                }
                ("open", None) => {
                    let mut b = row.clone();
                    b.deadline_at = None;
                    let text = Notice::new(
                        Kind::Note,
                        format!(
                            "Escalation #{} was not acknowledged at {} after {} reminders",
                            row.id, step.label, row.repeats
                        ),
                    )
                    .para("Quorum has stopped pinging. It stays open.");
                    (
                        b,
                        vec![ev(
                            "quorum",
                            "gave-up",
                            format!("no acknowledgement at {}", step.label),
                        )],
                        vec![note(&row, "gave-up", text, Some("open"))],
                        false,
                    )
                }
                ("acked", _) => {
                    let mut b = row.clone();
                    let acker = row.acked_by.clone().unwrap_or_default();
                    let mut posts = Vec::new();
                    if row.follow_ups < i64::from(config.escalation.max_repeats) {
                        b.follow_ups += 1;
                        b.follow_up_at = Some(ts(now + config.escalation.follow_up));
                        let mention: Vec<String> = config
                            .roles_of(&acker)
                            .iter()
                            .flat_map(|r| config.user_of(r))
                            .collect();
                        posts.push(EscalationPost {
                            key: format!("follow-up:{}", b.follow_ups),
                            channel: config.channel_of(&acker),
                            body: Notice::new(
                                Kind::Note,
                                format!(
                                    "escalation #{} you acknowledged is still unresolved",
                                    row.id
                                ),
                            )
                            .to(acker.clone())
                            .field("Severity", row.severity.clone())
                            .field("Topic", format!("{}: {}", row.topic, row.summary))
                            .to_json(),
                            mention: if mention.is_empty() {
                                vec![acker.clone()]
                            } else {
                                mention
                            },
                            requires_state: Some("acked".into()),
                        });
                    } else {
                        b.follow_up_at = None;
                    }
                    (
                        b,
                        vec![ev("quorum", "follow-up", format!("reminded {acker}"))],
                        posts,
                        false,
                    )
                }
                _ => continue,
            };
            if self
                .store
                .save_escalation(&b, row.updated_at, &events, &posts, cancel, ts(now))
                .await?
            {
                moved += 1;
            }
        }
        Ok(moved)
    }
}
