//! Risk register use cases: add, update, close and list risks (each change
//! in the audit trail), and the review reminders: when a risk's review falls
//! due its owner is reminded once through the delivery queue, and the next
//! review is set a week, a month or a quarter on.

use chrono::{DateTime, Utc};
use tracing::instrument;

use crate::command::risk::RiskFields;
use crate::config::Config;
use crate::domain::notice::{Action, Kind, Notice};
use crate::domain::risk::{Review, RiskStatus, Severity};
use crate::error::{Result, user_err};
use crate::service::meetings::Actor;
use crate::store::{AuditRow, RiskRow, Store};

#[derive(Clone)]
pub struct Risks {
    pub store: Store,
}

/// A risk and its history.
pub struct RiskRecord {
    pub row: RiskRow,
    pub history: Vec<AuditRow>,
}

/// How many due reviews one scheduler tick queues at most.
const REVIEWS_PER_TICK: i64 = 200;

fn next_review(review: Review, now: DateTime<Utc>) -> Option<i64> {
    review.next_after(now).map(|t| t.timestamp())
}

impl Risks {
    pub async fn load(&self, workspace: &str, id: i64) -> Result<RiskRow> {
        match self.store.risk(workspace, id).await? {
            Some(r) => Ok(r),
            None => user_err(format!("there is no risk {id} here; see /risk list")),
        }
    }

    #[instrument(skip(self, config, f), fields(workspace = %actor.workspace, user = %actor.user))]
    pub async fn add(
        &self,
        config: &Config,
        actor: &Actor,
        f: RiskFields,
        now: DateTime<Utc>,
    ) -> Result<RiskRow> {
        let (Some(title), Some(severity), Some(owner), Some(mitigation)) =
            (f.title, f.severity, f.owner, f.mitigation)
        else {
            return user_err(
                "/risk add needs title:..., severity:..., owner:... and mitigation:...",
            );
        };
        super::check_person(config, "owner", owner.as_str())?;
        if f.status == Some(RiskStatus::Closed) {
            return user_err("status: a new risk cannot be closed; add it, then /risk close it");
        }
        let review = f.review.unwrap_or(Review::Monthly);
        let mut row = RiskRow {
            id: 0,
            workspace: actor.workspace.clone(),
            title,
            severity: severity.to_string(),
            owner: owner.to_string(),
            mitigation,
            review: review.to_string(),
            status: f.status.unwrap_or(RiskStatus::Open).to_string(),
            next_review_at: next_review(review, now),
            created_by: actor.user.clone(),
            created_at: now.timestamp(),
            updated_at: now.timestamp(),
            closed_by: None,
            closed_at: None,
        };
        row.id = self.store.insert_risk(&row).await?;
        Ok(row)
    }

    #[instrument(skip(self, config, f), fields(workspace = %actor.workspace, user = %actor.user, id))]
    pub async fn update(
        &self,
        config: &Config,
        actor: &Actor,
        id: i64,
        f: RiskFields,
        now: DateTime<Utc>,
    ) -> Result<RiskRow> {
        let before = self.load(&actor.workspace, id).await?;
        if before.status == "closed" && f.status.is_none_or(|s| s == RiskStatus::Closed) {
            return user_err(format!(
                "risk {id} is closed; reopen it with /risk update id:{id} status:open"
            ));
        }
        let mut after = before.clone();
        let mut changes = Vec::new();
        if let Some(t) = f.title {
            if t != before.title {
                changes.push(format!("title \"{}\" -> \"{t}\"", before.title));
                after.title = t;
            }
        }
        if let Some(s) = f.severity {
            if s.as_str() != before.severity {
                changes.push(format!("severity {} -> {s}", before.severity));
                after.severity = s.to_string();
            }
        }
        if let Some(o) = f.owner {
            super::check_person(config, "owner", o.as_str())?;
            if o.as_str() != before.owner {
                changes.push(format!("owner {} -> {o}", before.owner));
                after.owner = o.to_string();
            }
        }
        if let Some(m) = f.mitigation {
            if m != before.mitigation {
                changes.push("mitigation changed".to_string());
                after.mitigation = m;
            }
        }
        let mut reschedule = false;
        if let Some(r) = f.review {
            if r.as_str() != before.review {
                changes.push(format!("review {} -> {r}", before.review));
                after.review = r.to_string();
                reschedule = true;
            }
        }
        if let Some(s) = f.status {
            if s.as_str() != before.status {
                changes.push(format!("status {} -> {s}", before.status));
                after.status = s.to_string();
                if s == RiskStatus::Closed {
                    after.closed_by = Some(actor.user.clone());
                    after.closed_at = Some(now.timestamp());
                    after.next_review_at = None;
                } else if before.status == "closed" {
                    after.closed_by = None;
                    after.closed_at = None;
                    reschedule = true;
                }
            }
        }
        if changes.is_empty() {
            return user_err(format!(
                "risk {id} already has those values; nothing changed (see /risk list)"
            ));
        }
        if reschedule && after.status != "closed" {
            let review: Review = after
                .review
                .parse()
                .map_err(|e| anyhow::anyhow!("stored review cadence: {e}"))?;
            after.next_review_at = next_review(review, now);
        }
        self.save(&before, &after, actor, &changes.join("; "), now)
            .await
    }

    #[instrument(skip(self), fields(workspace = %actor.workspace, user = %actor.user, id))]
    pub async fn close(&self, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<RiskRow> {
        let before = self.load(&actor.workspace, id).await?;
        if before.status == "closed" {
            return user_err(format!("risk {id} is already closed"));
        }
        let mut after = before.clone();
        after.status = RiskStatus::Closed.to_string();
        after.closed_by = Some(actor.user.clone());
        after.closed_at = Some(now.timestamp());
        after.next_review_at = None;
        self.save(&before, &after, actor, "closed", now).await
    }

    async fn save(
        &self,
        before: &RiskRow,
        after: &RiskRow,
        actor: &Actor,
        change: &str,
        now: DateTime<Utc>,
    ) -> Result<RiskRow> {
        if !self
            .store
            .save_risk(
                after,
                before.updated_at,
                &actor.user,
                change,
                now.timestamp(),
            )
            .await?
        {
            return user_err(format!(
                "risk {} was changed by someone else just now; see /risk list and try again",
                before.id
            ));
        }
        self.load(&actor.workspace, before.id).await
    }

    pub async fn list(
        &self,
        actor: &Actor,
        owner: Option<&str>,
        all: bool,
    ) -> Result<Vec<RiskRow>> {
        Ok(match all {
            true => self.store.all_risks(&actor.workspace, owner).await?,
            false => self.store.open_risks(&actor.workspace, owner).await?,
        })
    }

    pub async fn record(&self, workspace: &str, id: i64) -> Result<RiskRecord> {
        let row = self.load(workspace, id).await?;
        let history = self.store.audit_trail(workspace, "risk", id).await?;
        Ok(RiskRecord { row, history })
    }

    /// Remind each owner of the risks whose review is due, once per review:
    /// the notice's key names the risk and the review's instant, so two
    /// instances (or a retry after a crash between the two writes) queue it
    /// once; then the review moves on from the instant it was due.
    pub async fn remind_reviews(
        &self,
        config: &Config,
        now: DateTime<Utc>,
    ) -> anyhow::Result<usize> {
        let due = self
            .store
            .risks_due_review(now.timestamp(), REVIEWS_PER_TICK)
            .await?;
        let mut queued = 0;
        for r in due {
            let Some(at) = r.next_review_at else { continue };
            let key = format!("risk-review:{}:{}:{at}", r.workspace, r.id);
            let body = review_notice(config, &r).to_json();
            if self
                .store
                .enqueue_notice_for(
                    &r.workspace,
                    &config.personal_channel(&r.workspace, &r.owner),
                    &key,
                    &body,
                    now.timestamp(),
                    &config.user_of(&r.owner),
                )
                .await?
            {
                queued += 1;
            }
            let review: Review = r.review.parse().unwrap_or(Review::Monthly);
            // The next review after the one due, skipping any missed while
            // Quorum was down (one reminder covers them).
            let mut next = at;
            while next <= now.timestamp() {
                let Some(n) = DateTime::<Utc>::from_timestamp(next, 0)
                    .and_then(|t| review.next_after(t))
                    .map(|t| t.timestamp())
                else {
                    break;
                };
                next = n;
            }
            if next > at {
                self.store.advance_risk_review(r.id, at, next).await?;
            }
        }
        Ok(queued)
    }
}

/// The reminder a risk's owner gets when its review is due.
pub fn review_notice(config: &Config, r: &RiskRow) -> Notice {
    let severity = r
        .severity
        .parse::<Severity>()
        .map(|s| s.to_string())
        .unwrap_or_else(|_| r.severity.clone());
    Notice::new(
        Kind::RiskReview,
        format!("Time to review risk {}: {}", r.id, r.title),
    )
    .to(config.org.describe(&r.owner))
    .field("Severity", severity)
    .field("Status", r.status.clone())
    .field("Review", r.review.clone())
    .field("Mitigation", r.mitigation.clone())
    .context(format!(
        "reviewed {} by its owner; change it with /risk update id:{} or close it with /risk close id:{}",
        r.review, r.id, r.id
    ))
    .action(Action::new(
        "Close",
        format!("risk:close:{}", r.id),
        format!("/risk close id:{}", r.id),
    ))
}
