//! The executive dashboard: sign-in links and sessions, the page's filters,
//! and what each section of the page shows, read from the store.
//!
//! - `/dashboard` issues a link token: 256 random bits from the OS, written
//!   as 64 hex characters, valid for [`LINK_MINUTES`] and one use. Only its
//!   SHA-256 is stored, with the workspace and person it was issued to.
//! - Using it opens a session whose cookie value is another 256 random bits,
//!   valid for [`SESSION_HOURS`]; again only the hash is stored. The session
//!   alone says which workspace the page shows: nothing in the URL does.
//! - Dates ("today", "this week", the weekly buckets of the chart) are in the
//!   workspace's zone (`[defaults] timezone`).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use tracing::instrument;

use crate::config::Config;
use crate::domain::holiday::{DayFlag, Placed};
use crate::domain::org::Actor;
use crate::service::meetings::Series;
use crate::store::Store;
use crate::store::dashboard::{Holder, LinkRefused};
use crate::store::rows::{ActionRow, DecisionRow};

/// How long a sign-in link is valid.
pub const LINK_MINUTES: i64 = 15;
/// How long a session lasts.
pub const SESSION_HOURS: i64 = 12;
/// Random bytes in a link token and in a session cookie.
const SECRET_BYTES: usize = 32;
/// Days the meetings strip shows, today included.
pub const STRIP_DAYS: i64 = 14;
/// Weeks the chart shows, this one included (a quarter).
pub const CHART_WEEKS: i64 = 13;
/// Days of recent decisions.
pub const DECISION_DAYS: i64 = 30;
/// The most occurrences the strip lists (and reads agendas for).
const MAX_OCCURRENCES: usize = 60;

fn secret() -> anyhow::Result<String> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("reading the OS random source for a dashboard secret: {e}"))?;
    Ok(hex::encode(bytes))
}

fn hash_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `s` has the shape of a secret Quorum issued (so nothing else is
/// hashed or looked up).
fn well_formed(s: &str) -> bool {
    s.len() == 2 * SECRET_BYTES && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Issue a sign-in link token to `actor` for their workspace.
#[instrument(skip(store), fields(workspace = %actor.workspace, user = %actor.user))]
pub async fn issue_link(
    store: &Store,
    actor: &Actor,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let token = secret()?;
    let holder = Holder {
        workspace: actor.workspace.clone(),
        person: actor.user.clone(),
    };
    let now = now.timestamp();
    store
        .insert_dashboard_link(&hash_hex(&token), &holder, now, now + LINK_MINUTES * 60)
        .await?;
    tracing::info!("dashboard link issued");
    Ok(token)
}

/// Where this server is reached: `[http] public_url`, else its listen address.
pub fn base_url(config: &Config) -> String {
    config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.http_listen))
}

/// The reply to `/dashboard`: the link and what it is good for.
pub fn link_text(config: &Config, token: &str) -> String {
    let mut out = format!(
        "Your dashboard sign-in link (valid for {LINK_MINUTES} minutes and one use; it opens a {SESSION_HOURS}-hour session in your browser, so do not share it): {}/dashboard/login?token={token}",
        base_url(config).trim_end_matches('/')
    );
    if config.public_url.is_none() {
        out.push_str("\n(Set [http] public_url so this link works from outside this machine.)");
    }
    out
}

/// A session opened by a link: the cookie's value and whose it is.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub holder: Holder,
}

/// Exchange a link token for a session (once).
#[instrument(skip_all)]
pub async fn sign_in(
    store: &Store,
    token: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Result<Session, LinkRefused>> {
    if !well_formed(token) {
        return Ok(Err(LinkRefused::Unknown));
    }
    let cookie = secret()?;
    let now = now.timestamp();
    let got = store
        .exchange_dashboard_link(
            &hash_hex(&token.to_ascii_lowercase()),
            &hash_hex(&cookie),
            now,
            now + SESSION_HOURS * 3600,
        )
        .await?;
    Ok(got.map(|holder| {
        tracing::info!(workspace = %holder.workspace, user = %holder.person, "dashboard session opened");
        Session { cookie, holder }
    }))
}

/// Whose live session a cookie value is.
pub async fn session(
    store: &Store,
    cookie: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Holder>> {
    if !well_formed(cookie) {
        return Ok(None);
    }
    store
        .dashboard_session(&hash_hex(&cookie.to_ascii_lowercase()), now.timestamp())
        .await
}

/// `?exec=cfo&category=budget`, checked against the config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub exec: Option<String>,
    pub category: Option<String>,
}

impl Filters {
    /// Check the query's values; an unknown executive or category is an
    /// error naming what would work.
    pub fn parse(
        config: &Config,
        exec: Option<&str>,
        category: Option<&str>,
    ) -> Result<Filters, String> {
        let exec = match exec.map(str::trim).filter(|e| !e.is_empty()) {
            None => None,
            Some(e) => {
                let e = e.to_ascii_lowercase();
                if config.org.get(&e).is_none() {
                    let roles: Vec<&str> = config.org.roles().collect();
                    return Err(format!(
                        "`{}` is not an executive of this workspace; use one of: {}",
                        clip(&e),
                        roles.join(", ")
                    ));
                }
                Some(e)
            }
        };
        let category = match category.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                let c = crate::domain::decision::normalize_category(c);
                if !config.categories.iter().any(|(k, _)| *k == c) {
                    let known: Vec<&str> =
                        config.categories.iter().map(|(k, _)| k.as_str()).collect();
                    return Err(format!(
                        "`{}` is not a decision category; use one of: {}",
                        clip(&c),
                        known.join(", ")
                    ));
                }
                Some(c)
            }
        };
        Ok(Filters { exec, category })
    }
}

/// At most 40 characters of a value quoted back.
fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// One day of the meetings strip.
#[derive(Debug, Clone)]
pub struct Day {
    pub date: NaiveDate,
    /// A weekend or holiday.
    pub flag: Option<DayFlag>,
    pub meetings: Vec<Occurrence>,
}

/// One occurrence on the strip.
#[derive(Debug, Clone)]
pub struct Occurrence {
    pub series_id: i64,
    pub title: String,
    /// `10:00 Europe/Madrid`.
    pub time: String,
    pub at: i64,
    /// `skipped`, `cancelled`, `moved from ...`.
    pub label: Option<String>,
    /// Moved off a weekend or holiday, or falling on one.
    pub note: Option<String>,
    pub agenda: Vec<String>,
}

/// An escalation not yet resolved.
#[derive(Debug, Clone)]
pub struct OpenEscalation {
    pub id: i64,
    pub severity: String,
    pub topic: String,
    pub summary: String,
    pub state: String,
    pub routed_to: String,
    /// `cto`, and its number on the path: level 2 of 4.
    pub step: String,
    pub level: usize,
    pub levels: usize,
    pub age_secs: i64,
    /// Seconds until it climbs (open) or is posted (waiting); `None` when
    /// nothing more will happen on its own.
    pub climbs_in: Option<i64>,
}

/// Action items of one owner.
#[derive(Debug, Clone, Default)]
pub struct OwnerItems {
    pub overdue: Vec<ActionRow>,
    pub due_this_week: Vec<ActionRow>,
    pub awaiting_verification: Vec<ActionRow>,
}

/// Counts of one executive (or other owner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerCount {
    pub owner: String,
    pub overdue: i64,
    pub due_this_week: i64,
    pub awaiting_verification: i64,
}

/// A decision awaiting approval and how long it has waited.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub decision: DecisionRow,
    pub waited_secs: i64,
}

/// One week of the chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Week {
    /// The Monday it starts on.
    pub start: NaiveDate,
    pub opened: i64,
    pub closed: i64,
    pub escalations: i64,
}

/// Everything the page shows.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub workspace: String,
    pub person: String,
    pub filters: Filters,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    pub zone: String,
    pub days: Vec<Day>,
    pub escalations: Vec<OpenEscalation>,
    /// By owner (display name), owners in order.
    pub actions: BTreeMap<String, OwnerItems>,
    pub counts: Vec<OwnerCount>,
    /// Decisions of the last 30 days by category.
    pub recent: BTreeMap<String, Vec<DecisionRow>>,
    pub waiting: Vec<Waiting>,
    pub weeks: Vec<Week>,
    /// Open risks (not closed), most severe first; those of the filtered
    /// executive only when the page is filtered.
    pub risks: Vec<crate::store::RiskRow>,
}

/// The executive an owner, decider or attendee stands for: the role itself,
/// or the role whose chat user it is.
fn exec_of(config: &Config, who: &str) -> Option<String> {
    if config.org.get(who).is_some() {
        return Some(who.to_string());
    }
    config.roles_of(who).into_iter().next()
}

fn is_exec(config: &Config, who: &str, exec: &str) -> bool {
    who == exec || exec_of(config, who).as_deref() == Some(exec)
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        _ => 3,
    }
}

/// Gather the page for `holder` at `now`.
#[instrument(skip(store, config), fields(workspace = %holder.workspace))]
pub async fn gather(
    store: &Store,
    config: &Config,
    holder: &Holder,
    filters: Filters,
    now: DateTime<Utc>,
) -> anyhow::Result<Dashboard> {
    let ws = holder.workspace.as_str();
    let zone = config.default_zone;
    let today = zone.local(now).date();
    let exec = filters.exec.as_deref();

    let days = strip(store, config, ws, exec, today, now).await?;

    // Escalations: critical first, then the highest level, then the oldest.
    let mut escalations: Vec<OpenEscalation> = Vec::new();
    for r in store.dashboard_escalations(ws).await? {
        let severity = r
            .severity
            .parse()
            .unwrap_or(crate::domain::escalation::Severity::High);
        let steps =
            crate::domain::escalation::steps(&config.escalation.path, &r.routed_to, severity);
        let here = usize::try_from(r.level)
            .unwrap_or(0)
            .min(steps.len().saturating_sub(1));
        let step = steps.get(here);
        if let Some(e) = exec
            && r.routed_to != e
            && step.and_then(|s| s.role.as_deref()) != Some(e)
        {
            continue;
        }
        let climbs_at = match r.state.as_str() {
            "open" => r.deadline_at,
            "waiting" => r.post_at,
            _ => None,
        };
        escalations.push(OpenEscalation {
            id: r.id,
            step: step.map_or_else(|| format!("level {}", here + 1), |s| s.label.clone()),
            level: here + 1,
            levels: steps.len().max(1),
            age_secs: now.timestamp().saturating_sub(r.created_at).max(0),
            climbs_in: climbs_at.map(|t| t.saturating_sub(now.timestamp()).max(0)),
            severity: r.severity,
            topic: r.topic,
            summary: r.summary,
            state: r.state,
            routed_to: r.routed_to,
        });
    }
    escalations.sort_by_key(|e| {
        (
            severity_rank(&e.severity),
            std::cmp::Reverse(e.level),
            std::cmp::Reverse(e.age_secs),
            e.id,
        )
    });

    // Action items: overdue and due through Sunday, and done ones.
    let week_end = today + Duration::days(i64::from(6 - today.weekday().num_days_from_monday()));
    let (today_s, week_end_s) = (today.to_string(), week_end.to_string());
    let (due, done) = store.dashboard_actions(ws, &week_end_s).await?;
    let mine = |a: &ActionRow| exec.is_none_or(|e| is_exec(config, &a.owner, e));
    let mut actions: BTreeMap<String, OwnerItems> = BTreeMap::new();
    for a in due.into_iter().filter(mine) {
        let group = actions.entry(config.org.describe(&a.owner)).or_default();
        match a.due_date.as_deref() {
            Some(d) if d < today_s.as_str() => group.overdue.push(a),
            _ => group.due_this_week.push(a),
        }
    }
    for a in done.into_iter().filter(mine) {
        actions
            .entry(config.org.describe(&a.owner))
            .or_default()
            .awaiting_verification
            .push(a);
    }
    // Counts per executive: every executive of the org chart (zeros too),
    // then any other owner with something to count.
    let mut by_exec: BTreeMap<String, OwnerCount> = config
        .org
        .roles()
        .map(|r| {
            (
                r.to_string(),
                OwnerCount {
                    owner: r.to_string(),
                    overdue: 0,
                    due_this_week: 0,
                    awaiting_verification: 0,
                },
            )
        })
        .collect();
    for (owner, overdue, due_week, awaiting) in store
        .dashboard_action_counts(ws, &today_s, &week_end_s)
        .await?
    {
        let key = exec_of(config, &owner).unwrap_or(owner);
        let c = by_exec.entry(key.clone()).or_insert(OwnerCount {
            owner: key,
            overdue: 0,
            due_this_week: 0,
            awaiting_verification: 0,
        });
        c.overdue = c.overdue.saturating_add(overdue);
        c.due_this_week = c.due_this_week.saturating_add(due_week);
        c.awaiting_verification = c.awaiting_verification.saturating_add(awaiting);
    }
    let counts: Vec<OwnerCount> = by_exec
        .into_values()
        .filter(|c| exec.is_none_or(|e| c.owner == e))
        .collect();

    // Decisions: the last 30 days by category, and those awaiting approval.
    let wanted = |d: &DecisionRow| {
        filters.category.as_deref().is_none_or(|c| d.category == c)
            && exec.is_none_or(|e| is_exec(config, &d.decided_by, e) || d.authority == e)
    };
    let since = now.timestamp() - DECISION_DAYS * 86_400;
    let mut recent: BTreeMap<String, Vec<DecisionRow>> = BTreeMap::new();
    for d in store
        .dashboard_recent_decisions(ws, since)
        .await?
        .into_iter()
        .filter(wanted)
    {
        recent.entry(d.category.clone()).or_default().push(d);
    }
    let waiting = store
        .dashboard_proposed_decisions(ws)
        .await?
        .into_iter()
        .filter(wanted)
        .map(|d| Waiting {
            waited_secs: now.timestamp().saturating_sub(d.created_at).max(0),
            decision: d,
        })
        .collect();

    let weeks = chart(store, config, ws, today).await?;
    let risks = store
        .open_risks(ws, None)
        .await?
        .into_iter()
        .filter(|r| exec.is_none_or(|e| is_exec(config, &r.owner, e)))
        .collect();
    Ok(Dashboard {
        workspace: holder.workspace.clone(),
        person: holder.person.clone(),
        filters,
        now,
        today,
        zone: zone.name().to_string(),
        days,
        escalations,
        actions,
        counts,
        recent,
        waiting,
        weeks,
        risks,
    })
}

/// Whether `exec` attends `series` (by role key or chat user).
fn attends(config: &Config, exec: &str, series: &Series) -> bool {
    series.attendees.iter().any(|a| is_exec(config, a, exec))
}

/// The next [`STRIP_DAYS`] days with each active series' occurrences.
async fn strip(
    store: &Store,
    config: &Config,
    ws: &str,
    exec: Option<&str>,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Day>> {
    let holidays = &config.holidays;
    let zone = config.default_zone;
    let last = today + Duration::days(STRIP_DAYS - 1);
    let mut days: Vec<Day> = (0..STRIP_DAYS)
        .map(|i| {
            let date = today + Duration::days(i);
            Day {
                date,
                flag: holidays.flag(date),
                meetings: Vec::new(),
            }
        })
        .collect();
    let mut listed = 0usize;
    for row in store.list_series(ws).await? {
        let s = match Series::from_row(row) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "a series left off the dashboard");
                continue;
            }
        };
        if let Some(e) = exec
            && !attends(config, e, &s)
        {
            continue;
        }
        let overrides = store.overrides(s.row.id, now.timestamp()).await?;
        // The strip's days are in the workspace's zone; enough occurrences
        // of a daily series to fill it, and a few more for skipped ones.
        let upcoming = s.upcoming(now, 2 * STRIP_DAYS as usize + 8, &overrides, holidays);
        for (p, label) in upcoming {
            let date = zone.local(p.at.with_timezone(&Utc)).date();
            if date > last || listed >= MAX_OCCURRENCES {
                break;
            }
            let Some(day) = days.iter_mut().find(|d| d.date == date) else {
                continue;
            };
            let at = p.at.timestamp();
            let away = label
                .as_deref()
                .is_some_and(|l| !l.starts_with("moved from"));
            let agenda = if away {
                Vec::new()
            } else {
                store
                    .agenda(s.row.id, at)
                    .await?
                    .into_iter()
                    .filter(|i| i.covered_at.is_none())
                    .map(|i| i.text)
                    .collect()
            };
            listed += 1;
            day.meetings.push(Occurrence {
                series_id: s.row.id,
                title: s.row.title.clone(),
                time: format!("{} {}", p.at.format("%H:%M"), s.zone),
                at,
                label,
                note: day_note(&p, holidays),
                agenda,
            });
        }
    }
    for d in &mut days {
        d.meetings.sort_by_key(|m| (m.at, m.series_id));
    }
    Ok(days)
}

fn day_note(p: &Placed, holidays: &crate::domain::holiday::Holidays) -> Option<String> {
    crate::calendar::note(p, holidays)
}

/// Opened and closed action items and escalations for each of the last
/// [`CHART_WEEKS`] weeks (Monday to Sunday), this one last.
async fn chart(
    store: &Store,
    config: &Config,
    ws: &str,
    today: NaiveDate,
) -> anyhow::Result<Vec<Week>> {
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let first = monday - Duration::weeks(CHART_WEEKS - 1);
    let since = config
        .default_zone
        .resolve(first.and_hms_opt(0, 0, 0).unwrap_or_default())
        .timestamp();
    let (opened, closed, raised) = store.dashboard_weekly(ws, since).await?;
    let count = |list: &[(i64, i64)], week: i64| {
        list.iter().find(|(w, _)| *w == week).map_or(0, |(_, n)| *n)
    };
    Ok((0..CHART_WEEKS)
        .map(|w| Week {
            start: first + Duration::weeks(w),
            opened: count(&opened, w),
            closed: count(&closed, w),
            escalations: count(&raised, w),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_secrets_of_the_issued_shape_are_looked_up() {
        assert!(well_formed(&"a".repeat(64)));
        assert!(!well_formed(&"a".repeat(63)));
        assert!(!well_formed(&format!("{}g", "a".repeat(63))));
        assert!(!well_formed(""));
        assert_eq!(hash_hex("abc").len(), 64);
    }

    #[test]
    fn an_unknown_executive_or_category_is_refused_by_name() {
        let config = Config::default();
        let role = config.org.roles().next().map(str::to_string);
        if let Some(role) = role {
            let f = Filters::parse(&config, Some(&role), None).unwrap();
            assert_eq!(f.exec.as_deref(), Some(role.as_str()));
        }
        let e = Filters::parse(&config, Some("nobody"), None).unwrap_err();
        assert!(e.contains("`nobody` is not an executive"), "{e}");
        let e = Filters::parse(&config, None, Some("astrology")).unwrap_err();
        assert!(e.contains("`astrology` is not a decision category"), "{e}");
        assert_eq!(
            Filters::parse(&config, Some(""), Some(" ")).unwrap(),
            Filters::default()
        );
    }
}
