//! Action item use cases: add, done, verify (never by whoever marked it
//! done), reopen, edit, list, mine, show; the daily chase, the chase of
//! unverified items, and the weekly written update.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use tracing::instrument;

use crate::command::action::ActionFields;
use crate::config::Config;
use crate::domain::action::{Priority, Status, parse_due};
use crate::domain::notice::{Action, Kind, List, Notice};
use crate::error::{Error, Result, user_err};
use crate::service::meetings::Actor;
use crate::store::{ActionFilter, ActionRow, AuditRow, Store};

#[derive(Clone)]
pub struct Actions {
    pub store: Store,
}

pub struct ActionRecord {
    pub row: ActionRow,
    pub history: Vec<AuditRow>,
}

/// Today's date where `owner` lives.
pub fn today_for(config: &Config, owner: &str, now: DateTime<Utc>) -> NaiveDate {
    config.zone_of(owner).local(now).date()
}

/// What `/action list` asks for.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub owner: Option<String>,
    pub status: Option<Status>,
    /// Only open items past their due date, in each owner's zone.
    pub overdue: bool,
    /// 1-based.
    pub page: u32,
}

/// The most items one daily chase lists (earliest due first); the rest are
/// counted under "+N more".
const CHASE_ITEMS: i64 = 10;

/// The most verification chases one tick queues; the rest follow on the next
/// ticks (each is its own message), so a backlog never holds up a tick.
const VERIFY_CHASES_PER_TICK: i64 = 500;

impl Actions {
    pub async fn load(&self, workspace: &str, id: i64) -> Result<ActionRow> {
        match self.store.action(workspace, id).await? {
            Some(a) => Ok(a),
            None => user_err(format!(
                "there is no action item {id} here; see /action list"
            )),
        }
    }

    async fn check_links(
        &self,
        workspace: &str,
        meeting: Option<i64>,
        decision: Option<i64>,
    ) -> Result<()> {
        if let Some(m) = meeting {
            if self.store.series(workspace, m).await?.is_none() {
                return user_err(format!(
                    "meeting: there is no meeting series {m} here; see /meeting list"
                ));
            }
        }
        if let Some(d) = decision {
            if self.store.decision(workspace, d).await?.is_none() {
                return user_err(format!(
                    "decision: there is no decision {d} here; see /decision list"
                ));
            }
        }
        Ok(())
    }

    fn due(
        config: &Config,
        owner: &str,
        text: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<String>> {
        match text {
            None => Ok(None),
            Some(t) if t.trim().eq_ignore_ascii_case("none") => Ok(None),
            Some(t) => parse_due(t, today_for(config, owner, now))
                .map(|d| Some(d.to_string()))
                .map_err(|e| Error::user(format!("due: {e}"))),
        }
    }

    #[instrument(skip(self, config, f), fields(workspace = %actor.workspace, user = %actor.user))]
    pub async fn add(
        &self,
        config: &Config,
        actor: &Actor,
        f: ActionFields,
        now: DateTime<Utc>,
    ) -> Result<ActionRow> {
        let (Some(task), Some(owner)) = (f.task, f.owner) else {
            return user_err("/action add needs task:... and owner:...");
        };
        super::check_person(config, "owner", owner.as_str())?;
        let due = Self::due(config, owner.as_str(), f.due.as_deref(), now)?;
        self.check_links(&actor.workspace, f.meeting, f.decision)
            .await?;
        let row = ActionRow {
            id: 0,
            workspace: actor.workspace.clone(),
            task,
            owner: owner.to_string(),
            due_date: due,
            priority: f.priority.unwrap_or(Priority::Medium).to_string(),
            status: Status::Open.to_string(),
            meeting_id: f.meeting,
            decision_id: f.decision,
            created_by: actor.user.clone(),
            created_at: now.timestamp(),
            updated_at: now.timestamp(),
            done_by: None,
            done_at: None,
            verified_by: None,
            verified_at: None,
        };
        // The row is known: it is not read back.
        let id = self.store.insert_action(&row, now.timestamp()).await?;
        Ok(ActionRow { id, ..row })
    }

    async fn save(
        &self,
        before: &ActionRow,
        after: &ActionRow,
        actor: &Actor,
        change: &str,
        now: DateTime<Utc>,
    ) -> Result<ActionRow> {
        if !self
            .store
            .save_action(
                after,
                before.updated_at,
                &actor.user,
                change,
                now.timestamp(),
            )
            .await?
        {
            return user_err(format!(
                "action item {} was changed by someone else just now; see /action show id:{} and try again",
                before.id, before.id
            ));
        }
        self.load(&actor.workspace, before.id).await
    }

    pub async fn done(&self, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<ActionRow> {
        let a = self.load(&actor.workspace, id).await?;
        let status: Status = a
            .status
            .parse()
            .map_err(|e| anyhow::anyhow!("stored status: {e}"))?;
        if !status.is_open() {
            return user_err(format!("action item {id} is already {status}"));
        }
        let mut b = a.clone();
        b.status = Status::Done.to_string();
        b.done_by = Some(actor.user.clone());
        b.done_at = Some(now.timestamp());
        self.save(&a, &b, actor, "marked done (needs verification)", now)
            .await
    }

    pub async fn verify(&self, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<ActionRow> {
        let a = self.load(&actor.workspace, id).await?;
        match a.status.as_str() {
            "done" => {}
            "verified" => return user_err(format!("action item {id} is already verified")),
            other => {
                return user_err(format!(
                    "action item {id} is {other}; only done items can be verified"
                ));
            }
        }
        if a.done_by.as_deref() == Some(actor.user.as_str()) {
            return user_err(format!(
                "you marked action item {id} done, so someone else must verify it (VERIFICATION REQUIRED)"
            ));
        }
        let mut b = a.clone();
        b.status = Status::Verified.to_string();
        b.verified_by = Some(actor.user.clone());
        b.verified_at = Some(now.timestamp());
        self.save(&a, &b, actor, "verified", now).await
    }

    pub async fn reopen(
        &self,
        actor: &Actor,
        id: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<ActionRow> {
        let a = self.load(&actor.workspace, id).await?;
        if a.status == "open" || a.status == "reopened" {
            return user_err(format!("action item {id} is already {}", a.status));
        }
        let mut b = a.clone();
        b.status = Status::Reopened.to_string();
        b.done_by = None;
        b.done_at = None;
        b.verified_by = None;
        b.verified_at = None;
        self.save(&a, &b, actor, &format!("reopened: {reason}"), now)
            .await
    }

    pub async fn edit(
        &self,
        config: &Config,
        actor: &Actor,
        id: i64,
        f: ActionFields,
        now: DateTime<Utc>,
    ) -> Result<ActionRow> {
        let a = self.load(&actor.workspace, id).await?;
        self.check_links(&actor.workspace, f.meeting, f.decision)
            .await?;
        let mut b = a.clone();
        let mut changes = Vec::new();
        if let Some(t) = f.task {
            if t != a.task {
                changes.push(format!("task: \"{}\" -> \"{t}\"", a.task));
                b.task = t;
            }
        }
        if let Some(o) = f.owner {
            super::check_person(config, "owner", o.as_str())?;
            if o.as_str() != a.owner {
                changes.push(format!("owner: {} -> {o}", a.owner));
                b.owner = o.to_string();
            }
        }
        if f.due.is_some() {
            let due = Self::due(config, &b.owner, f.due.as_deref(), now)?;
            if due != a.due_date {
                changes.push(format!(
                    "due: {} -> {}",
                    a.due_date.as_deref().unwrap_or("none"),
                    due.as_deref().unwrap_or("none")
                ));
                b.due_date = due;
            }
        }
        if let Some(p) = f.priority {
            if p.as_str() != a.priority {
                changes.push(format!("priority: {} -> {p}", a.priority));
                b.priority = p.to_string();
            }
        }
        if f.meeting.is_some() && f.meeting != a.meeting_id {
            changes.push(format!("meeting: {:?} -> {:?}", a.meeting_id, f.meeting));
            b.meeting_id = f.meeting;
        }
        if f.decision.is_some() && f.decision != a.decision_id {
            changes.push(format!("decision: {:?} -> {:?}", a.decision_id, f.decision));
            b.decision_id = f.decision;
        }
        if changes.is_empty() {
            return user_err(format!(
                "action item {id} already has those values; nothing changed"
            ));
        }
        self.save(&a, &b, actor, &changes.join("; "), now).await
    }

    pub async fn list(
        &self,
        config: &Config,
        actor: &Actor,
        query: ListQuery,
        now: DateTime<Utc>,
    ) -> Result<crate::service::Page<ActionRow>> {
        use crate::service::{COUNT_CAP, PAGE_SIZE, Page};
        let ListQuery {
            owner,
            status,
            overdue,
            page,
        } = query;
        let filter = ActionFilter {
            due_before: overdue.then(|| config.default_zone.local(now).date().to_string()),
            owner,
            status: status.map(|s| s.to_string()),
        };
        let total = self
            .store
            .count_actions(&actor.workspace, &filter, COUNT_CAP)
            .await?;
        let mut rows = self
            .store
            .page_actions(
                &actor.workspace,
                &filter,
                Page::<ActionRow>::offset(page),
                PAGE_SIZE + 1,
            )
            .await?;
        if overdue {
            // Overdue is judged in each owner's own zone.
            rows.retain(|a| {
                a.due_date
                    .as_deref()
                    .is_some_and(|d| d < today_for(config, &a.owner, now).to_string().as_str())
            });
        }
        Ok(Page::from_extra(rows, page, Some(total)))
    }

    /// The open items of the actor (their roles and user id), the most
    /// urgent [`crate::service::PAGE_SIZE`], and how many there are (up to
    /// [`crate::service::COUNT_CAP`]).
    pub async fn mine(&self, config: &Config, actor: &Actor) -> Result<(Vec<ActionRow>, i64)> {
        let mut who = config.roles_for(actor);
        who.push(actor.user.clone());
        who.dedup();
        Ok(self
            .store
            .open_actions_of(
                &actor.workspace,
                &who,
                crate::service::PAGE_SIZE,
                crate::service::COUNT_CAP,
            )
            .await?)
    }

    pub async fn show(&self, actor: &Actor, id: i64) -> Result<ActionRecord> {
        let row = self.load(&actor.workspace, id).await?;
        let history = self
            .store
            .audit_trail(&actor.workspace, "action", id)
            .await?;
        Ok(ActionRecord { row, history })
    }

    /// Once a day at `chase_at` in each owner's zone: one message listing the
    /// owner's overdue and due-today items (nothing when there is nothing).
    pub async fn chase_due(&self, config: &Config, now: DateTime<Utc>) -> anyhow::Result<usize> {
        // Owners anywhere are at most 14 h ahead of UTC.
        let horizon = (now + Duration::hours(14)).date_naive().to_string();
        let items = self.store.chase_candidates(&horizon, CHASE_ITEMS).await?;
        let mut groups: std::collections::BTreeMap<(String, String), (Vec<ActionRow>, i64)> =
            Default::default();
        for (a, total) in items {
            let group = groups
                .entry((a.workspace.clone(), a.owner.clone()))
                .or_default();
            group.0.push(a);
            group.1 = total;
        }
        let mut queued = 0;
        for ((workspace, owner), (list, total)) in groups {
            let zone = config.zone_of(&owner);
            let local = zone.local(now);
            if local.time() < config.chase_at {
                continue;
            }
            if crate::service::quiet::is_quiet(
                config,
                crate::service::quiet::To::Person(&owner),
                now,
            ) {
                continue;
            }
            let today = local.date().to_string();
            let mut due: Vec<&ActionRow> = Vec::new();
            for a in list
                .iter()
                .filter(|a| a.due_date.as_deref().is_some_and(|d| d <= today.as_str()))
            {
                if !self.escalated_overdue(config, a, now).await? {
                    due.push(a);
                }
            }
            if due.is_empty() {
                continue;
            }
            let mut items = List::new("Items");
            for a in &due {
                items = items.item_with(
                    chase_item_text(a, &today),
                    Action::new(
                        &format!("Done #{}", a.id),
                        format!("action:done:{}", a.id),
                        format!("/action done id:{}", a.id),
                    ),
                );
            }
            // Items past the cap were not read; they are due by the horizon,
            // so "more than" rather than a count that could be a day off.
            let unread = usize::try_from(total)
                .unwrap_or(0)
                .saturating_sub(list.len());
            if unread > 0 {
                items.more = Some(crate::domain::notice::More {
                    count: unread,
                    command: "/action mine".to_string(),
                });
            }
            let title = chase_title(due.len(), unread > 0);
            let body = Notice::new(Kind::Chase, title)
                .to(config.org.describe(&owner))
                .list(items)
                .to_json();
            let key = format!("chase:{workspace}:{owner}:{today}");
            if self
                .store
                .enqueue_notice_for(
                    &workspace,
                    &config.personal_channel(&workspace, &owner),
                    &key,
                    &body,
                    now.timestamp(),
                    &config.user_of(&owner).into_iter().collect::<Vec<_>>(),
                )
                .await?
            {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Whether `a` has been overdue for `[actions] escalate_overdue_after`
    /// and so is (now, or already was) escalated to the owner's manager on
    /// the path instead of being chased again. Once per item and due date:
    /// a new due date starts the count again.
    async fn escalated_overdue(
        &self,
        config: &Config,
        a: &ActionRow,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let Some(due) = a
            .due_date
            .as_deref()
            .and_then(|d| d.parse::<NaiveDate>().ok())
        else {
            return Ok(false);
        };
        let zone = config.zone_of(&a.owner);
        let Some(overdue_from) = due.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)) else {
            return Ok(false);
        };
        let since = zone.resolve(overdue_from).with_timezone(&Utc);
        if config.escalate_overdue_after.deadline(since) > now {
            return Ok(false);
        }
        let source = format!("overdue:{}:{due}", a.id);
        if self.store.escalation_from(&source).await?.is_some() {
            return Ok(true);
        }
        let summary = format!(
            "action item #{} \"{}\" ({}) has been overdue since {due}",
            a.id, a.task, a.owner
        );
        let escalations = crate::service::escalations::Escalations {
            store: self.store.clone(),
        };
        let raised = escalations
            .raise_about(
                config,
                &a.workspace,
                &source,
                "overdue",
                summary,
                &a.owner,
                &config.channel_of(&a.owner),
                now,
            )
            .await?;
        if let Some(e) = raised {
            tracing::info!(
                action = a.id,
                escalation = e.id,
                "chronically overdue item escalated"
            );
        }
        Ok(true)
    }

    /// Items done but unverified for `verify_after` are chased to whoever can
    /// verify them (the owner when someone else marked it done, otherwise
    /// the executive team channel), again every `verify_after`.
    pub async fn chase_unverified(
        &self,
        config: &Config,
        now: DateTime<Utc>,
    ) -> anyhow::Result<usize> {
        let period = config.verify_after.num_seconds().max(60);
        let items = self
            .store
            .unverified_to_chase(now.timestamp(), period, VERIFY_CHASES_PER_TICK)
            .await?;
        let mut queued = 0;
        for a in items {
            let done_at = a.done_at.unwrap_or(now.timestamp());
            let round = (now.timestamp() - done_at) / period;
            let done_by = a.done_by.clone().unwrap_or_default();
            use crate::service::quiet::To;
            let (who, channel, to) = if done_by != a.owner {
                (
                    config.org.describe(&a.owner),
                    config.personal_channel(&a.workspace, &a.owner),
                    To::Person(&a.owner),
                )
            } else if a.created_by != done_by {
                (
                    a.created_by.clone(),
                    config.personal_channel(&a.workspace, &a.created_by),
                    To::Person(&a.created_by),
                )
            } else {
                (
                    "Executive team".to_string(),
                    config.default_channel.to_string(),
                    To::Team,
                )
            };
            // In the recipient's quiet time the round waits: a later tick
            // queues it (under the same key) once they may be reached.
            if crate::service::quiet::is_quiet(config, to, now) {
                continue;
            }
            let body = Notice::new(
                Kind::VerifyChase,
                format!("action item #{} \"{}\" needs verification", a.id, a.task),
            )
            .to(who)
            .field(
                "Marked done",
                format!(
                    "by {done_by}, {}",
                    crate::domain::notice::ago(Duration::seconds(now.timestamp() - done_at))
                ),
            )
            .field("Owner", a.owner.clone())
            .para("Someone other than whoever marked it done verifies it.")
            .action(
                Action::new(
                    "Verify",
                    format!("action:verify:{}", a.id),
                    format!("/action verify id:{}", a.id),
                )
                .primary(),
            )
            .to_json();
            let key = format!("verify:{}:{}:{round}", a.workspace, a.id);
            if self
                .store
                .enqueue_notice(&a.workspace, &channel, &key, &body, now.timestamp())
                .await?
            {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// The weekly written update, due each `digest_day` at `digest_at` in the
    /// default zone; sent once, at most the grace period late (after
    /// downtime), and not at all for a week in which nothing happened.
    pub async fn weekly_digest(
        &self,
        config: &Config,
        now: DateTime<Utc>,
    ) -> anyhow::Result<usize> {
        let zone = config.default_zone;
        let local = zone.local(now);
        let back = (7 + local.weekday().num_days_from_monday() as i64
            - config.digest_day.num_days_from_monday() as i64)
            % 7;
        let mut date = local.date() - Duration::days(back);
        if back == 0 && local.time() < config.digest_at {
            date -= Duration::days(7);
        }
        let due = zone
            .resolve(date.and_time(config.digest_at))
            .with_timezone(&Utc);
        if now < due || now - due > config.grace {
            return Ok(0);
        }
        let since = (due - Duration::days(7)).timestamp();
        let until = due.timestamp();
        let mut queued = 0;
        for workspace in self.store.reporting_workspaces().await? {
            let key = format!("digest:{workspace}:{date}");
            if self.store.has_delivery(&key).await? {
                continue;
            }
            let Some(body) = self
                .digest_text(config, &workspace, since, until, now)
                .await?
            else {
                continue;
            };
            if self
                .store
                .enqueue_notice(
                    &workspace,
                    config.digest_channel.as_str(),
                    &key,
                    &body,
                    now.timestamp(),
                )
                .await?
            {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// The weekly update's notice for `[since, until)`, or `None` for a
    /// week in which nothing happened (see [`crate::report::weekly_notice`]).
    async fn digest_text(
        &self,
        config: &Config,
        workspace: &str,
        since: i64,
        until: i64,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<String>> {
        let zone = config.default_zone;
        let first = zone.local(DateTime::<Utc>::from_timestamp(since, 0).unwrap_or(now));
        let last = zone.local(DateTime::<Utc>::from_timestamp(until - 1, 0).unwrap_or(now));
        let Some(period) = crate::domain::period::Period::week(first.date()) else {
            return Ok(None);
        };
        let report = crate::service::report::gather_between(
            &self.store,
            config,
            workspace,
            period,
            since,
            until,
            now,
        )
        .await?;
        if report.is_quiet() {
            return Ok(None);
        }
        let title = format!(
            "Weekly update: {} to {}",
            first.date().format("%a %-d %b"),
            last.date().format("%a %-d %b %Y")
        );
        Ok(Some(
            crate::report::weekly_notice(config, &report, title, now.timestamp()).to_json(),
        ))
    }
}

/// The daily chase's title: `2 action items need you today`, or `More than
/// 10 ...` when items were left out (`more`).
pub fn chase_title(due: usize, more: bool) -> String {
    if more {
        format!("More than {due} action items need you today")
    } else {
        format!(
            "{due} action item{} need{} you today",
            if due == 1 { "" } else { "s" },
            if due == 1 { "s" } else { "" },
        )
    }
}

/// A chased item as the daily chase lists it on `today` (the owner's date):
/// `#3 Budget (high, due today)` or `(high, overdue since 2026-11-20)`.
pub fn chase_item_text(a: &ActionRow, today: &str) -> String {
    let when = match a.due_date.as_deref() {
        Some(d) if d == today => "due today".to_string(),
        Some(d) => format!("overdue since {d}"),
        None => String::new(),
    };
    format!("#{} {} ({}, {when})", a.id, a.task, a.priority)
}
