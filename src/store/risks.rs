//! The risk register: risks, their audit entries (entity `risk`), open
//! risks for lists, updates and the dashboard, and the reviews that fall due.

use anyhow::Context as _;
use sqlx::Row;

use super::{Store, audit};

/// A risk as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RiskRow {
    pub id: i64,
    pub workspace: String,
    pub title: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    pub owner: String,
    pub mitigation: String,
    /// `weekly`, `monthly` or `quarterly`.
    pub review: String,
    /// `open`, `mitigating`, `accepted` or `closed`.
    pub status: String,
    /// When its owner is next reminded to review it; `None` once closed.
    pub next_review_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_by: Option<String>,
    pub closed_at: Option<i64>,
}

/// Most severe first, then oldest first.
const RISK_ORDER: &str =
    "CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, id";

/// The most rows a risk list reads.
const RISK_LIMIT: i64 = 500;

impl Store {
    /// Insert a risk (its id is ignored) and its audit entry; returns the id.
    pub async fn insert_risk(&self, r: &RiskRow) -> anyhow::Result<i64> {
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO risks (workspace, title, severity, owner, mitigation, review, status, next_review_at,
                                created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(&r.workspace)
        .bind(&r.title)
        .bind(&r.severity)
        .bind(&r.owner)
        .bind(&r.mitigation)
        .bind(&r.review)
        .bind(&r.status)
        .bind(r.next_review_at)
        .bind(&r.created_by)
        .bind(r.created_at)
        .bind(r.updated_at)
        .fetch_one(&mut *tx)
        .await
        .context("inserting a risk")?
        .get(0);
        let change = format!(
            "added for {} ({} severity, {} review)",
            r.owner, r.severity, r.review
        );
        audit(
            &mut tx,
            &r.workspace,
            "risk",
            id,
            &r.created_by,
            r.created_at,
            &change,
        )
        .await?;
        tx.commit().await.context("committing a new risk")?;
        Ok(id)
    }

    pub async fn risk(&self, workspace: &str, id: i64) -> anyhow::Result<Option<RiskRow>> {
        sqlx::query_as::<_, RiskRow>("SELECT * FROM risks WHERE workspace = $1 AND id = $2")
            .bind(workspace)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .context("reading a risk")
    }

    /// Write `row` back if it still has `expected_updated_at` (two updates
    /// never silently overwrite each other), with an audit entry. Returns
    /// false, writing nothing, when someone changed it first.
    pub async fn save_risk(
        &self,
        row: &RiskRow,
        expected_updated_at: i64,
        actor: &str,
        change: &str,
        now: i64,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE risks SET title = $1, severity = $2, owner = $3, mitigation = $4, review = $5, status = $6,
                    next_review_at = $7, closed_by = $8, closed_at = $9, updated_at = $10
             WHERE workspace = $11 AND id = $12 AND updated_at = $13",
        )
        .bind(&row.title)
        .bind(&row.severity)
        .bind(&row.owner)
        .bind(&row.mitigation)
        .bind(&row.review)
        .bind(&row.status)
        .bind(row.next_review_at)
        .bind(&row.closed_by)
        .bind(row.closed_at)
        .bind(now.max(expected_updated_at.saturating_add(1)))
        .bind(&row.workspace)
        .bind(row.id)
        .bind(expected_updated_at)
        .execute(&mut *tx)
        .await
        .context("updating a risk")?
        .rows_affected();
        if n != 1 {
            return Ok(false);
        }
        audit(&mut tx, &row.workspace, "risk", row.id, actor, now, change).await?;
        tx.commit().await.context("committing a risk update")?;
        Ok(true)
    }

    /// The open (not closed) risks of `workspace`, most severe first; only
    /// `owner`'s when given. This is the query the dashboard and the
    /// written updates show the risk register with.
    pub async fn open_risks(
        &self,
        workspace: &str,
        owner: Option<&str>,
    ) -> anyhow::Result<Vec<RiskRow>> {
        sqlx::query_as::<_, RiskRow>(&format!(
            "SELECT * FROM risks WHERE workspace = $1 AND status != 'closed'
               AND (CAST($2 AS TEXT) IS NULL OR owner = $3)
             ORDER BY {RISK_ORDER} LIMIT $4"
        ))
        .bind(workspace)
        .bind(owner)
        .bind(owner)
        .bind(RISK_LIMIT)
        .fetch_all(&self.pool)
        .await
        .context("listing open risks")
    }

    /// Every risk of `workspace` (closed ones too), most severe first.
    pub async fn all_risks(
        &self,
        workspace: &str,
        owner: Option<&str>,
    ) -> anyhow::Result<Vec<RiskRow>> {
        sqlx::query_as::<_, RiskRow>(&format!(
            "SELECT * FROM risks WHERE workspace = $1 AND (CAST($2 AS TEXT) IS NULL OR owner = $3)
             ORDER BY CASE status WHEN 'closed' THEN 1 ELSE 0 END, {RISK_ORDER} LIMIT $4"
        ))
        .bind(workspace)
        .bind(owner)
        .bind(owner)
        .bind(RISK_LIMIT)
        .fetch_all(&self.pool)
        .await
        .context("listing risks")
    }

    /// Risks closed in `[since, until)`, for the written updates.
    pub async fn risks_closed_between(
        &self,
        workspace: &str,
        since: i64,
        until: i64,
    ) -> anyhow::Result<Vec<RiskRow>> {
        sqlx::query_as::<_, RiskRow>(
            "SELECT * FROM risks WHERE workspace = $1 AND status = 'closed' AND closed_at >= $2 AND closed_at < $3
             ORDER BY closed_at, id LIMIT $4",
        )
        .bind(workspace)
        .bind(since)
        .bind(until)
        .bind(RISK_LIMIT)
        .fetch_all(&self.pool)
        .await
        .context("listing closed risks")
    }

    /// Open risks (of every workspace) whose review is due at `now`.
    pub async fn risks_due_review(&self, now: i64, limit: i64) -> anyhow::Result<Vec<RiskRow>> {
        sqlx::query_as::<_, RiskRow>(
            "SELECT * FROM risks WHERE status != 'closed' AND next_review_at <= $1
             ORDER BY next_review_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .context("finding risks due for review")
    }

    /// Move a risk's review from `due` (the one just queued) to `next`.
    /// Only moves it when it is still at `due`, so instances racing on the
    /// same review move it once, and an update in between wins.
    pub async fn advance_risk_review(&self, id: i64, due: i64, next: i64) -> anyhow::Result<bool> {
        let n = sqlx::query(
            "UPDATE risks SET next_review_at = $1 WHERE id = $2 AND next_review_at = $3 AND status != 'closed'",
        )
        .bind(next)
        .bind(id)
        .bind(due)
        .execute(&self.pool)
        .await
        .context("moving a risk's next review")?
        .rows_affected();
        Ok(n == 1)
    }
}
