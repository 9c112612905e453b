//! The material of the written updates (weekly, monthly, quarterly) and of
//! the board pack, gathered once for a workspace and a period: decisions
//! (with who approved them) and approvals pending, escalations and their
//! outcomes, action-item throughput per owner, meetings held and skipped,
//! next week's meetings, and the risk register. Rendering lives in
//! `crate::report` (notices, Markdown, HTML); this module only reads.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::config::Config;
use crate::domain::period::{Period, PeriodKind};
use crate::service::meetings::Series;
use crate::store::{ActionRow, DecisionRow, EscalationRow, RiskRow, Store};

/// One owner's action items in the period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Throughput {
    pub owner: String,
    pub opened: usize,
    /// Marked done in the period.
    pub closed: usize,
    pub verified: usize,
    /// Still open at the period's end (or now, if sooner) and past due.
    pub overdue: usize,
    /// Still open at the period's end (or now, if sooner).
    pub open: usize,
}

/// One series' meetings in the period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeetingTally {
    pub title: String,
    pub held: i64,
    /// Skipped or cancelled.
    pub skipped: i64,
}

/// An escalation as the report shows it: the row and the level it is at.
#[derive(Debug, Clone)]
pub struct EscalationLine {
    pub row: EscalationRow,
    /// `exec-team`, `board`, ... (where it is now, or was when resolved).
    pub level: String,
    pub raised_in_period: bool,
    pub resolved_in_period: bool,
}

/// A meeting coming up (weekly update only).
#[derive(Debug, Clone)]
pub struct Upcoming {
    pub title: String,
    pub at: DateTime<Tz>,
    /// `skipped`, `moved from ...`: what changed about it.
    pub note: Option<String>,
}

/// Everything one update or board pack says.
#[derive(Debug, Clone)]
pub struct PeriodReport {
    pub workspace: String,
    pub period: Period,
    /// The period as UTC instants, `[since, until)`, in the default zone.
    pub since: i64,
    pub until: i64,
    pub decisions: Vec<DecisionRow>,
    /// Decisions still waiting for their authority.
    pub pending: Vec<DecisionRow>,
    pub escalations: Vec<EscalationLine>,
    pub climbs: i64,
    pub throughput: Vec<Throughput>,
    pub overdue: Vec<ActionRow>,
    pub meetings: Vec<MeetingTally>,
    pub next_meetings: Vec<Upcoming>,
    pub open_risks: Vec<RiskRow>,
    pub closed_risks: Vec<RiskRow>,
}

impl PeriodReport {
    pub fn raised(&self) -> usize {
        self.escalations
            .iter()
            .filter(|e| e.raised_in_period)
            .count()
    }

    pub fn resolved(&self) -> usize {
        self.escalations
            .iter()
            .filter(|e| e.resolved_in_period)
            .count()
    }

    pub fn totals(&self) -> Throughput {
        let mut t = Throughput::default();
        for o in &self.throughput {
            t.opened += o.opened;
            t.closed += o.closed;
            t.verified += o.verified;
            t.overdue += o.overdue;
            t.open += o.open;
        }
        t
    }

    /// Nothing happened in the period and nothing is overdue: a weekly
    /// update is not sent for such a week.
    pub fn is_quiet(&self) -> bool {
        let t = self.totals();
        self.decisions.is_empty()
            && self.raised() == 0
            && self.resolved() == 0
            && self.climbs == 0
            && t.opened == 0
            && t.closed == 0
            && t.verified == 0
            && t.overdue == 0
    }
}

/// The first instant of `date` in the default zone.
pub fn start_of(config: &Config, date: chrono::NaiveDate) -> i64 {
    config
        .default_zone
        .resolve(date.and_time(NaiveTime::MIN))
        .timestamp()
}

/// Read what `period` holds for `workspace`, as known at `now`; the
/// period runs from midnight to midnight in the default zone.
pub async fn gather(
    store: &Store,
    config: &Config,
    workspace: &str,
    period: Period,
    now: DateTime<Utc>,
) -> anyhow::Result<PeriodReport> {
    let since = start_of(config, period.start);
    let until = start_of(config, period.end);
    gather_between(store, config, workspace, period, since, until, now).await
}

/// [`gather`] for the instants `[since, until)` (the weekly update's week
/// runs from one update to the next).
pub async fn gather_between(
    store: &Store,
    config: &Config,
    workspace: &str,
    period: Period,
    since: i64,
    until: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<PeriodReport> {
    let decisions = store.decisions_between(workspace, since, until).await?;
    let pending = store
        .list_decisions(workspace, None, None, Some("proposed"))
        .await?
        .into_iter()
        .rev()
        .collect();
    let escalations = store
        .escalations_for_period(workspace, since, until)
        .await?
        .into_iter()
        .map(|row| {
            let severity = row
                .severity
                .parse()
                .unwrap_or(crate::domain::escalation::Severity::High);
            let steps =
                crate::domain::escalation::steps(&config.escalation.path, &row.routed_to, severity);
            let here = usize::try_from(row.level)
                .unwrap_or(0)
                .min(steps.len().saturating_sub(1));
            let level = steps
                .get(here)
                .map(|s| s.label.clone())
                .unwrap_or_else(|| row.routed_to.clone());
            let in_period = |t: Option<i64>| t.is_some_and(|t| t >= since && t < until);
            EscalationLine {
                raised_in_period: in_period(Some(row.created_at)),
                resolved_in_period: in_period(row.resolved_at),
                level,
                row,
            }
        })
        .collect();
    let climbs = store
        .escalation_climbs_between(workspace, since, until)
        .await?;
    let actions = store.actions_for_period(workspace, since, until).await?;
    let end = until.min(now.timestamp());
    let mut owners: BTreeMap<String, Throughput> = BTreeMap::new();
    let mut overdue = Vec::new();
    for a in actions {
        let t = owners.entry(a.owner.clone()).or_insert_with(|| Throughput {
            owner: a.owner.clone(),
            ..Default::default()
        });
        let in_period = |x: Option<i64>| x.is_some_and(|x| x >= since && x < until);
        t.opened += usize::from(in_period(Some(a.created_at)));
        t.closed += usize::from(in_period(a.done_at));
        t.verified += usize::from(in_period(a.verified_at));
        let open_at_end = a.created_at < end && a.done_at.is_none_or(|d| d >= end);
        if open_at_end {
            t.open += 1;
            // Overdue: its due date (in the owner's zone) was before the day
            // the period ended (or today).
            let today = DateTime::<Utc>::from_timestamp(end, 0)
                .map(|e| config.zone_of(&a.owner).local(e).date().to_string())
                .unwrap_or_default();
            if a.due_date.as_deref().is_some_and(|d| d < today.as_str()) {
                t.overdue += 1;
                overdue.push(a);
            }
        }
    }
    let mut meetings: BTreeMap<i64, MeetingTally> = BTreeMap::new();
    for c in store.occurrence_counts(workspace, since, until).await? {
        let m = meetings.entry(c.series_id).or_insert_with(|| MeetingTally {
            title: c.title.clone(),
            ..Default::default()
        });
        match c.state.as_str() {
            "held" => m.held += c.count,
            "skipped" | "cancelled" => m.skipped += c.count,
            _ => {}
        }
    }
    let next_meetings = match period.kind {
        PeriodKind::Week => upcoming(store, config, workspace, until).await?,
        _ => Vec::new(),
    };
    Ok(PeriodReport {
        workspace: workspace.to_string(),
        period,
        since,
        until,
        decisions,
        pending,
        escalations,
        climbs,
        throughput: owners.into_values().collect(),
        overdue,
        meetings: meetings.into_values().collect(),
        next_meetings,
        open_risks: store.open_risks(workspace, None).await?,
        closed_risks: store.risks_closed_between(workspace, since, until).await?,
    })
}

/// The meetings of the seven days from `from`.
async fn upcoming(
    store: &Store,
    config: &Config,
    workspace: &str,
    from: i64,
) -> anyhow::Result<Vec<Upcoming>> {
    let Some(start) = DateTime::<Utc>::from_timestamp(from.saturating_sub(1), 0) else {
        return Ok(Vec::new());
    };
    let end = from.saturating_add(7 * 86_400);
    let mut out = Vec::new();
    for row in store.list_series(workspace).await? {
        if row.status != "active" {
            continue;
        }
        let title = row.title.clone();
        let series = match Series::from_row(row) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = ?e, "a stored series does not parse; left out of the update");
                continue;
            }
        };
        let overrides = store.overrides(series.row.id, start.timestamp()).await?;
        for (placed, note) in series.upcoming(start, 14, &overrides, &config.holidays) {
            if placed.at.timestamp() >= end {
                break;
            }
            out.push(Upcoming {
                title: title.clone(),
                at: placed.at,
                note,
            });
        }
    }
    out.sort_by_key(|u| u.at.timestamp());
    Ok(out)
}

/// How late a monthly or quarterly update may still be posted after
/// downtime: it is the period's record, so a few days late beats never.
pub const PERIOD_UPDATE_LATE_DAYS: i64 = 7;

/// Queue the monthly and quarterly updates that are due: each on the first
/// working day after its period, at its configured time in the default
/// zone, once per workspace and period (the delivery's key names both, so
/// instances ticking together queue it once).
pub async fn queue_period_updates(
    store: &Store,
    config: &Config,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let mut queued = 0;
    for (kind, settings) in [
        (PeriodKind::Month, &config.digest_monthly),
        (PeriodKind::Quarter, &config.digest_quarterly),
    ] {
        let Some(settings) = settings else { continue };
        let zone = config.default_zone;
        let today = zone.local(now).date();
        let Some(period) = Period::containing(kind, today).and_then(|p| p.previous()) else {
            continue;
        };
        let Some(day) = period.first_working_day_after(&config.holidays) else {
            continue;
        };
        let due = zone.resolve(day.and_time(settings.at)).with_timezone(&Utc);
        if now < due || now - due > chrono::Duration::days(PERIOD_UPDATE_LATE_DAYS) {
            continue;
        }
        for workspace in store.reporting_workspaces().await? {
            let key = format!("digest-{}:{workspace}:{period}", kind.adjective());
            if store.has_delivery(&key).await? {
                continue;
            }
            let report = gather(store, config, &workspace, period, now).await?;
            if report.is_quiet()
                && report.open_risks.is_empty()
                && report.closed_risks.is_empty()
                && report.meetings.is_empty()
            {
                continue;
            }
            let body = crate::report::period_notice(config, &report, now.timestamp()).to_json();
            if store
                .enqueue_notice(
                    &workspace,
                    settings.channel.as_str(),
                    &key,
                    &body,
                    now.timestamp(),
                )
                .await?
            {
                queued += 1;
            }
        }
    }
    Ok(queued)
}
