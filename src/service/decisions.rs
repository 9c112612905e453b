//! Decision use cases: record (approved when the recorder holds the
//! category's authority, proposed and routed to that executive otherwise),
//! approve, reject, list, show, search, export.

use chrono::{DateTime, NaiveTime, Utc};
use tracing::instrument;

use crate::command::DecisionCommand;
use crate::config::Config;
use crate::domain::decision::attribution;
use crate::domain::notice::{Action, Kind, Notice};
use crate::error::{Result, user_err};
use crate::service::meetings::Actor;
use crate::store::{AuditRow, DecisionRow, NewDecision, Settled, Store};

#[derive(Clone)]
pub struct Decisions {
    pub store: Store,
}

/// A decision with its history, for `show`.
pub struct DecisionRecord {
    pub row: DecisionRow,
    pub history: Vec<AuditRow>,
}

/// What `/decision record` did.
pub struct Recorded {
    pub row: DecisionRow,
    /// Set when it needs approval: the role that was pinged and where.
    pub routed_to: Option<(String, String)>,
}

impl Decisions {
    async fn load(&self, workspace: &str, id: i64) -> Result<DecisionRow> {
        match self.store.decision(workspace, id).await? {
            Some(d) => Ok(d),
            None => user_err(format!(
                "there is no decision {id} here; see /decision list"
            )),
        }
    }

    /// The decision `old` that a new one is to supersede: it must exist and
    /// be approved (a proposed one is rejected instead, and a superseded
    /// one already has its successor).
    async fn replaceable(&self, workspace: &str, old: i64) -> Result<DecisionRow> {
        let d = self.store.decision(workspace, old).await?.ok_or_else(|| {
            crate::error::Error::user(format!(
                "supersedes: there is no decision {old} here; see /decision list"
            ))
        })?;
        match d.status.as_str() {
            "approved" => Ok(d),
            "superseded" => user_err(format!(
                "supersedes: decision {old} is already superseded by decision {}",
                d.superseded_by.unwrap_or_default()
            )),
            other => user_err(format!(
                "supersedes: decision {old} is {other}; only an approved decision can be superseded"
            )),
        }
    }

    fn check_category(config: &Config, category: &str) -> Result<String> {
        match config.authority_of(category) {
            Some(role) => Ok(role.to_string()),
            None => {
                let names: Vec<&str> = config.categories.iter().map(|(c, _)| c.as_str()).collect();
                let hint = names
                    .iter()
                    .map(|n| (strsim::jaro_winkler(n, category), n))
                    .filter(|(s, _)| *s > 0.8)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, n)| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                user_err(format!(
                    "category: `{category}` is not a decision category{hint} Categories: {}",
                    names.join(", ")
                ))
            }
        }
    }

    #[instrument(skip(self, config, cmd), fields(workspace = %actor.workspace, user = %actor.user))]
    pub async fn record(
        &self,
        config: &Config,
        actor: &Actor,
        cmd: DecisionCommand,
        now: DateTime<Utc>,
    ) -> Result<Recorded> {
        let DecisionCommand::Record {
            title,
            category,
            rationale,
            decided_by,
            meeting,
            supersedes,
        } = cmd
        else {
            return user_err("not a record command");
        };
        let authority = Self::check_category(config, &category)?;
        if let Some(m) = meeting {
            if self.store.series(&actor.workspace, m).await?.is_none() {
                return user_err(format!(
                    "meeting: there is no meeting series {m} here; see /meeting list"
                ));
            }
        }
        let replaced = match supersedes {
            Some(old) => Some(self.replaceable(&actor.workspace, old).await?),
            None => None,
        };
        let roles = config.roles_for(actor);
        let holds = roles.contains(&authority);
        // Approved at once, it would supersede at once: that needs the
        // replaced decision's authority too. A proposal supersedes nothing
        // until it is approved, and its approver is checked then.
        if let (true, Some(old)) = (holds, &replaced) {
            if !roles.contains(&old.authority) {
                return user_err(format!(
                    "supersedes: decision {} is a {} decision, and only the {} may supersede it; you are {}",
                    old.id, old.category, old.authority, actor.user
                ));
            }
        }
        let status = if holds { "approved" } else { "proposed" };
        let new = NewDecision {
            workspace: actor.workspace.clone(),
            title: title.clone(),
            category: category.clone(),
            rationale,
            decided_by: decided_by.unwrap_or_else(|| actor.user.clone()),
            authority: authority.clone(),
            recorded_by: actor.user.clone(),
            status: status.to_string(),
            meeting_id: meeting,
            supersedes,
        };
        let id = match self.store.insert_decision(&new, now.timestamp()).await? {
            Settled::Done(id) => id,
            Settled::NotProposed | Settled::Stale => {
                return user_err(format!(
                    "supersedes: decision {} was superseded by another decision just now; see /decision show id:{}",
                    supersedes.unwrap_or_default(),
                    supersedes.unwrap_or_default()
                ));
            }
        };
        let mut routed_to = None;
        if !holds {
            let channel = config.personal_channel(&actor.workspace, &authority);
            let who = config.org.addressee(&authority);
            let body = approval_request(&who, id, &title, &category, &new).to_json();
            let mention: Vec<String> = config.user_of(&authority).into_iter().collect();
            self.store
                .enqueue_notice_for(
                    &actor.workspace,
                    &channel,
                    &format!("decision-proposed:{id}"),
                    &body,
                    now.timestamp(),
                    &mention,
                )
                .await?;
            routed_to = Some((authority, channel));
        }
        Ok(Recorded {
            row: new.recorded(id, now.timestamp()),
            routed_to,
        })
    }

    #[instrument(skip(self, config, reason), fields(workspace = %actor.workspace, user = %actor.user))]
    pub async fn settle(
        &self,
        config: &Config,
        actor: &Actor,
        id: i64,
        approve: bool,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<DecisionRow> {
        let d = self.load(&actor.workspace, id).await?;
        if d.status != "proposed" {
            return user_err(format!(
                "decision {id} is {}, not proposed; only proposed decisions are approved or rejected",
                d.status
            ));
        }
        if !config.roles_for(actor).contains(&d.authority) {
            return user_err(format!(
                "only the {} may {} decision {id} (category {}); you are {}",
                d.authority,
                if approve { "approve" } else { "reject" },
                d.category,
                actor.user
            ));
        }
        if let (true, Some(old)) = (approve, d.supersedes) {
            let replaced = self.load(&actor.workspace, old).await?;
            if replaced.status != "approved" {
                return user_err(format!(
                    "decision {id} would supersede decision {old}, which is {} now; reject it and record it again if it still applies",
                    replaced.status
                ));
            }
            if !config.roles_for(actor).contains(&replaced.authority) {
                return user_err(format!(
                    "decision {id} supersedes decision {old} ({}), so approving it needs the {}'s authority as well; you are {}",
                    replaced.category, replaced.authority, actor.user
                ));
            }
        }
        let status = if approve { "approved" } else { "rejected" };
        match self
            .store
            .settle_decision(
                &actor.workspace,
                id,
                status,
                &actor.user,
                reason.as_deref(),
                now.timestamp(),
            )
            .await?
        {
            Settled::Done(_) => self.load(&actor.workspace, id).await,
            Settled::NotProposed => user_err(format!(
                "decision {id} was settled by someone else just now; see /decision show id:{id}"
            )),
            Settled::Stale => user_err(format!(
                "decision {id} would supersede decision {}, which was superseded by another decision just now; reject it and record it again if it still applies",
                d.supersedes.unwrap_or_default()
            )),
        }
    }

    pub async fn list(
        &self,
        actor: &Actor,
        category: Option<&str>,
        since: Option<chrono::NaiveDate>,
        status: Option<&str>,
        page: u32,
    ) -> Result<crate::service::Page<DecisionRow>> {
        use crate::service::{COUNT_CAP, PAGE_SIZE, Page};
        let since = since.map(|d| d.and_time(NaiveTime::MIN).and_utc().timestamp());
        let ws = &actor.workspace;
        let total = self
            .store
            .count_decisions(ws, category, since, status, COUNT_CAP)
            .await?;
        let rows = self
            .store
            .page_decisions(
                ws,
                category,
                since,
                status,
                Page::<DecisionRow>::offset(page),
                PAGE_SIZE + 1,
            )
            .await?;
        Ok(Page::from_extra(rows, page, Some(total)))
    }

    pub async fn show(&self, actor: &Actor, id: i64) -> Result<DecisionRecord> {
        let row = self.load(&actor.workspace, id).await?;
        let history = self
            .store
            .audit_trail(&actor.workspace, "decision", id)
            .await?;
        Ok(DecisionRecord { row, history })
    }

    /// Words are matched as prefixes, all of them required; punctuation is ignored.
    pub async fn search(
        &self,
        actor: &Actor,
        query: &str,
        page: u32,
    ) -> Result<crate::service::Page<DecisionRow>> {
        use crate::service::{PAGE_SIZE, Page};
        let words: Vec<String> = query
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        if words.is_empty() {
            return user_err("query: give some words to search for");
        }
        let search = |all_prefixes| {
            self.store.search_decisions_page(
                &actor.workspace,
                &words,
                Page::<DecisionRow>::offset(page),
                PAGE_SIZE + 1,
                all_prefixes,
            )
        };
        let mut rows = search(false).await?;
        // Nothing for the whole words: the user may have typed the start of
        // one (`pinec` for Pinecone). Words of up to four letters were
        // prefixes already.
        if rows.is_empty() && words.iter().any(|w| w.chars().count() > 4) {
            rows = search(true).await?;
        }
        Ok(Page::from_extra(rows, page, None))
    }
}

/// Formats of `quorum export decisions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Markdown,
    Csv,
    Json,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "md" | "markdown" => Ok(ExportFormat::Markdown),
            "csv" => Ok(ExportFormat::Csv),
            "json" => Ok(ExportFormat::Json),
            other => Err(format!(
                "`{other}` is not an export format; use md, csv or json"
            )),
        }
    }
}

#[derive(serde::Serialize)]
struct ExportRow<'a> {
    id: i64,
    date: String,
    title: &'a str,
    category: &'a str,
    status: &'a str,
    /// Who the recorder said decided it: an attribution, not an approval
    /// (the column keeps its name: exports are a contract).
    decided_by: &'a str,
    authority: &'a str,
    recorded_by: &'a str,
    #[serde(skip)]
    by: String,
    meeting: Option<i64>,
    supersedes: Option<i64>,
    superseded_by: Option<i64>,
    rationale: &'a str,
    /// Who approved it (empty unless it was approved); added last, so
    /// readers of the earlier columns keep working.
    approved_by: &'a str,
    /// Who rejected it, and why (empty unless it was rejected).
    rejected_by: &'a str,
    reject_reason: &'a str,
    /// When it was approved or rejected (`YYYY-MM-DD HH:MM` in the default
    /// zone; empty while proposed).
    settled_at: String,
}

impl Decisions {
    /// The decision log, oldest first, as a document for board minutes.
    pub async fn export(
        &self,
        config: &Config,
        workspace: &str,
        since: Option<chrono::NaiveDate>,
        format: ExportFormat,
    ) -> anyhow::Result<String> {
        let since_ts = since.map(|d| d.and_time(NaiveTime::MIN).and_utc().timestamp());
        let mut rows = self
            .store
            .list_decisions(workspace, None, since_ts, None)
            .await?;
        rows.reverse();
        let date = |at: i64| {
            DateTime::<Utc>::from_timestamp(at, 0)
                .map(|t| {
                    t.with_timezone(&config.default_zone.tz())
                        .format("%Y-%m-%d")
                        .to_string()
                })
                .unwrap_or_default()
        };
        let minute = |at: i64| {
            DateTime::<Utc>::from_timestamp(at, 0)
                .map(|t| {
                    t.with_timezone(&config.default_zone.tz())
                        .format("%Y-%m-%d %H:%M")
                        .to_string()
                })
                .unwrap_or_default()
        };
        // When each was approved or rejected: its settling entry in the
        // audit trail, or its recording when it was approved as recorded.
        let mut settled = std::collections::HashMap::new();
        for r in rows.iter().filter(|r| r.status != "proposed") {
            let trail = self.store.audit_trail(workspace, "decision", r.id).await?;
            let at = trail
                .iter()
                .find(|a| a.change.starts_with("approved") || a.change.starts_with("rejected"))
                .map_or(r.created_at, |a| a.at);
            settled.insert(r.id, minute(at));
        }
        let export: Vec<ExportRow> = rows
            .iter()
            .map(|r| ExportRow {
                id: r.id,
                date: date(r.created_at),
                title: &r.title,
                category: &r.category,
                status: &r.status,
                decided_by: &r.decided_by,
                authority: &r.authority,
                recorded_by: &r.recorded_by,
                approved_by: match r.status.as_str() {
                    "approved" | "superseded" => r.settled_by.as_deref().unwrap_or(&r.recorded_by),
                    _ => "",
                },
                rejected_by: match r.status.as_str() {
                    "rejected" => r.settled_by.as_deref().unwrap_or_default(),
                    _ => "",
                },
                reject_reason: match r.status.as_str() {
                    "rejected" => r.settle_note.as_deref().unwrap_or_default(),
                    _ => "",
                },
                settled_at: settled.get(&r.id).cloned().unwrap_or_default(),
                by: attribution(
                    &r.status,
                    &r.decided_by,
                    &r.recorded_by,
                    r.settled_by.as_deref(),
                ),
                meeting: r.meeting_id,
                supersedes: r.supersedes,
                superseded_by: r.superseded_by,
                rationale: &r.rationale,
            })
            .collect();
        Ok(match format {
            ExportFormat::Json => serde_json::to_string_pretty(&export)? + "\n",
            ExportFormat::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                for r in &export {
                    w.serialize(r)?;
                }
                if export.is_empty() {
                    w.write_record([
                        "id",
                        "date",
                        "title",
                        "category",
                        "status",
                        "decided_by",
                        "authority",
                        "recorded_by",
                        "meeting",
                        "supersedes",
                        "superseded_by",
                        "rationale",
                        "approved_by",
                        "rejected_by",
                        "reject_reason",
                        "settled_at",
                    ])?;
                }
                String::from_utf8(
                    w.into_inner()
                        .map_err(|e| anyhow::anyhow!("writing CSV: {e}"))?,
                )?
            }
            ExportFormat::Markdown => {
                let mut out = format!(
                    "# Decision log\n\n{} decision{}{}.\n",
                    export.len(),
                    if export.len() == 1 { "" } else { "s" },
                    since
                        .map(|d| format!(" recorded since {d}"))
                        .unwrap_or_default()
                );
                for r in &export {
                    out.push_str(&format!(
                        "\n## {}. {}\n\n- Date: {}\n- Category: {} (authority: {})\n- Status: {}\n- By: {}\n- Recorded by: {}\n",
                        r.id, r.title, r.date, r.category, r.authority, r.status, r.by, r.recorded_by
                    ));
                    if !r.approved_by.is_empty() {
                        out.push_str(&format!(
                            "- Approved by: {} on {}\n",
                            r.approved_by, r.settled_at
                        ));
                    }
                    if !r.rejected_by.is_empty() {
                        out.push_str(&format!(
                            "- Rejected by: {} on {}: {}\n",
                            r.rejected_by, r.settled_at, r.reject_reason
                        ));
                    }
                    if let Some(m) = r.meeting {
                        out.push_str(&format!("- Meeting: series {m}\n"));
                    }
                    if let Some(o) = r.supersedes {
                        out.push_str(&format!("- Supersedes: decision {o}\n"));
                    }
                    if let Some(n) = r.superseded_by {
                        out.push_str(&format!("- Superseded by: decision {n}\n"));
                    }
                    out.push_str(&format!("\n{}\n", r.rationale));
                }
                out
            }
        })
    }
}

/// The notice asking a decision's authority to approve or reject it: what,
/// which category, who proposed it, why, and a button for each answer.
fn approval_request(who: &str, id: i64, title: &str, category: &str, new: &NewDecision) -> Notice {
    let mut n = Notice::new(
        Kind::ApprovalRequest,
        format!("decision {id} \"{title}\" needs your approval"),
    )
    .to(who)
    .field("Category", category)
    .field(
        "Proposed by",
        attribution("proposed", &new.decided_by, &new.recorded_by, None)
            .trim_start_matches("proposed by ")
            .to_string(),
    );
    if !new.rationale.trim().is_empty() {
        n = n.field("Rationale", new.rationale.clone());
    }
    n.action(
        Action::new(
            "Approve",
            format!("decision:approve:{id}"),
            format!("/decision approve id:{id}"),
        )
        .primary(),
    )
    .action(Action::new(
        "Reject",
        format!("decision:reject:{id}"),
        format!("/decision reject id:{id} reason:\"...\""),
    ))
}
