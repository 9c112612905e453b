//! What the written updates and the board pack read: the decisions,
//! escalations, action items and meetings of a period, bounded.

use anyhow::Context as _;
use sqlx::Row;

use super::{ActionRow, DecisionRow, EscalationRow, Store};

/// The most rows of one kind a period's report reads.
pub const REPORT_LIMIT: i64 = 2_000;

/// How many occurrences of one series were in one state in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccurrenceCount {
    pub series_id: i64,
    pub title: String,
    /// `held`, `skipped`, `cancelled` or `moved`.
    pub state: String,
    pub count: i64,
}

impl Store {
    /// Workspaces with anything to report: decisions, action items,
    /// escalations, risks or meeting series.
    pub async fn reporting_workspaces(&self) -> anyhow::Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT workspace FROM actions UNION SELECT workspace FROM decisions
             UNION SELECT workspace FROM escalations UNION SELECT workspace FROM risks
             UNION SELECT workspace FROM series ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await
        .context("listing workspaces to report on")?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Decisions recorded in `[since, until)`, oldest first.
    pub async fn decisions_between(
        &self,
        workspace: &str,
        since: i64,
        until: i64,
    ) -> anyhow::Result<Vec<DecisionRow>> {
        sqlx::query_as::<_, DecisionRow>(
            "SELECT * FROM decisions WHERE workspace = $1 AND created_at >= $2 AND created_at < $3
             ORDER BY created_at, id LIMIT $4",
        )
        .bind(workspace)
        .bind(since)
        .bind(until)
        .bind(REPORT_LIMIT)
        .fetch_all(&self.pool)
        .await
        .context("reading a period's decisions")
    }

    /// Escalations raised or resolved in `[since, until)`, and those still
    /// unresolved; oldest first.
    pub async fn escalations_for_period(
        &self,
        workspace: &str,
        since: i64,
        until: i64,
    ) -> anyhow::Result<Vec<EscalationRow>> {
        sqlx::query_as::<_, EscalationRow>(
            "SELECT * FROM escalations WHERE workspace = $1 AND created_at < $3
               AND ((created_at >= $2) OR (resolved_at >= $2 AND resolved_at < $3) OR state != 'resolved')
             ORDER BY id LIMIT $4",
        )
        .bind(workspace)
        .bind(since)
        .bind(until)
        .bind(REPORT_LIMIT)
        .fetch_all(&self.pool)
        .await
        .context("reading a period's escalations")
    }

    /// How many times escalations of `workspace` climbed a level in
    /// `[since, until)`.
    pub async fn escalation_climbs_between(
        &self,
        workspace: &str,
        since: i64,
        until: i64,
    ) -> anyhow::Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM escalation_events v JOIN escalations e ON e.id = v.escalation_id
             WHERE e.workspace = $1 AND v.at >= $2 AND v.at < $3 AND v.kind IN ('climbed', 'raised-manually')",
        )
        .bind(workspace)
        .bind(since)
        .bind(until)
        .fetch_one(&self.pool)
        .await
        .context("counting a period's climbs")?;
        Ok(row.get::<i64, _>(0))
    }

    /// Action items opened, done or verified in `[since, until)`, and those
    /// open now; by owner.
    pub async fn actions_for_period(
        &self,
        workspace: &str,
        since: i64,
        until: i64,
    ) -> anyhow::Result<Vec<ActionRow>> {
        sqlx::query_as::<_, ActionRow>(
            "SELECT * FROM actions WHERE workspace = $1 AND created_at < $3
               AND ((created_at >= $2) OR (done_at >= $2 AND done_at < $3) OR (verified_at >= $2 AND verified_at < $3)
                    OR status IN ('open', 'reopened') OR done_at >= $3)
             ORDER BY owner, id LIMIT $4",
        )
        .bind(workspace)
        .bind(since)
        .bind(until)
        .bind(REPORT_LIMIT)
        .fetch_all(&self.pool)
        .await
        .context("reading a period's action items")
    }

    /// Occurrences of `workspace`'s series in `[since, until)`, counted by
    /// series and state.
    pub async fn occurrence_counts(
        &self,
        workspace: &str,
        since: i64,
        until: i64,
    ) -> anyhow::Result<Vec<OccurrenceCount>> {
        let rows = sqlx::query(
            "SELECT o.series_id, s.title, o.state, COUNT(*) FROM occurrences o JOIN series s ON s.id = o.series_id
             WHERE o.workspace = $1 AND o.at >= $2 AND o.at < $3
             GROUP BY o.series_id, s.title, o.state ORDER BY o.series_id, o.state",
        )
        .bind(workspace)
        .bind(since)
        .bind(until)
        .fetch_all(&self.pool)
        .await
        .context("counting a period's meetings")?;
        Ok(rows
            .into_iter()
            .map(|r| OccurrenceCount {
                series_id: r.get(0),
                title: r.get(1),
                state: r.get(2),
                count: r.get(3),
            })
            .collect())
    }
}
