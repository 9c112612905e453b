//! The dashboard's sign-in links and sessions (only SHA-256 hashes of their
//! secrets are stored), and the bounded, indexed reads the page is built
//! from. Every read is scoped by workspace and capped by a LIMIT or a GROUP BY.

use anyhow::Context as _;
use sqlx::Row;

use super::Store;
use super::rows::{ActionRow, DecisionRow, EscalationRow};

/// Who a link or session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub workspace: String,
    pub person: String,
}

/// Why a link did not open a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefused {
    Unknown,
    Used,
    Expired,
}

/// The most rows of one kind the page lists.
pub const MAX_ROWS: i64 = 200;

/// Per-week counts of the chart: (week index from the start, count).
pub type Weekly = Vec<(i64, i64)>;

/// Per-owner counts: (owner, overdue, due this week, done awaiting verification).
pub type OwnerCounts = Vec<(String, i64, i64, i64)>;

impl Store {
    /// Store a new sign-in link.
    pub async fn insert_dashboard_link(
        &self,
        token_hash: &str,
        holder: &Holder,
        now: i64,
        expires_at: i64,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        // Links past their time are of no use to anyone: prune them here.
        sqlx::query("DELETE FROM dashboard_links WHERE expires_at < $1")
            .bind(now.saturating_sub(86_400))
            .execute(&mut *tx)
            .await
            .context("pruning old dashboard links")?;
        sqlx::query(
            "INSERT INTO dashboard_links (token_hash, workspace, person, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(&holder.workspace)
        .bind(&holder.person)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .context("storing a dashboard link")?;
        tx.commit().await.context("committing a dashboard link")?;
        Ok(())
    }

    /// Use a link once and open a session for its holder, in one
    /// transaction: the link is consumed by a conditional UPDATE, so of two
    /// racing uses exactly one gets the session.
    pub async fn exchange_dashboard_link(
        &self,
        link_hash: &str,
        session_hash: &str,
        now: i64,
        session_expires_at: i64,
    ) -> anyhow::Result<Result<Holder, LinkRefused>> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "UPDATE dashboard_links SET used_at = $1
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1
             RETURNING workspace, person",
        )
        .bind(now)
        .bind(link_hash)
        .fetch_optional(&mut *tx)
        .await
        .context("using a dashboard link")?;
        let Some(row) = row else {
            let why = sqlx::query("SELECT used_at FROM dashboard_links WHERE token_hash = $1")
                .bind(link_hash)
                .fetch_optional(&mut *tx)
                .await
                .context("reading a dashboard link")?;
            tx.commit().await.context("closing a dashboard link read")?;
            return Ok(Err(match why {
                None => LinkRefused::Unknown,
                Some(r) if r.get::<Option<i64>, _>(0).is_some() => LinkRefused::Used,
                Some(_) => LinkRefused::Expired,
            }));
        };
        let holder = Holder {
            workspace: row.get(0),
            person: row.get(1),
        };
        sqlx::query("DELETE FROM dashboard_sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("pruning expired dashboard sessions")?;
        sqlx::query(
            "INSERT INTO dashboard_sessions (token_hash, workspace, person, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(session_hash)
        .bind(&holder.workspace)
        .bind(&holder.person)
        .bind(now)
        .bind(session_expires_at)
        .execute(&mut *tx)
        .await
        .context("storing a dashboard session")?;
        tx.commit()
            .await
            .context("committing a dashboard session")?;
        Ok(Ok(holder))
    }

    /// The holder of a live session.
    pub async fn dashboard_session(
        &self,
        session_hash: &str,
        now: i64,
    ) -> anyhow::Result<Option<Holder>> {
        let row = sqlx::query(
            "SELECT workspace, person FROM dashboard_sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(session_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .context("reading a dashboard session")?;
        Ok(row.map(|r| Holder {
            workspace: r.get(0),
            person: r.get(1),
        }))
    }

    /// Escalations not yet resolved (waiting, open, acknowledged).
    pub async fn dashboard_escalations(
        &self,
        workspace: &str,
    ) -> anyhow::Result<Vec<EscalationRow>> {
        sqlx::query_as::<_, EscalationRow>(
            "SELECT * FROM escalations WHERE workspace = $1 AND state IN ('waiting', 'open', 'acked')
             ORDER BY id LIMIT $2",
        )
        .bind(workspace)
        .bind(MAX_ROWS)
        .fetch_all(&self.pool)
        .await
        .context("reading open escalations")
    }

    /// Open items due on or before `until` (YYYY-MM-DD), soonest first, and
    /// done items awaiting verification, oldest first.
    pub async fn dashboard_actions(
        &self,
        workspace: &str,
        until: &str,
    ) -> anyhow::Result<(Vec<ActionRow>, Vec<ActionRow>)> {
        let due = sqlx::query_as::<_, ActionRow>(
            "SELECT * FROM actions WHERE workspace = $1 AND status IN ('open', 'reopened')
             AND due_date IS NOT NULL AND due_date <= $2 ORDER BY due_date, id LIMIT $3",
        )
        .bind(workspace)
        .bind(until)
        .bind(MAX_ROWS)
        .fetch_all(&self.pool)
        .await
        .context("reading action items due")?;
        let done = sqlx::query_as::<_, ActionRow>(
            "SELECT * FROM actions WHERE workspace = $1 AND status = 'done'
             ORDER BY done_at, id LIMIT $2",
        )
        .bind(workspace)
        .bind(MAX_ROWS)
        .fetch_all(&self.pool)
        .await
        .context("reading action items awaiting verification")?;
        Ok((due, done))
    }

    /// Per owner: open items overdue (due before `today`), due from `today`
    /// to `week_end`, and done items awaiting verification.
    pub async fn dashboard_action_counts(
        &self,
        workspace: &str,
        today: &str,
        week_end: &str,
    ) -> anyhow::Result<OwnerCounts> {
        let rows = sqlx::query(
            "SELECT owner,
                    SUM(CASE WHEN status IN ('open', 'reopened') AND due_date < $2 THEN 1 ELSE 0 END),
                    SUM(CASE WHEN status IN ('open', 'reopened') AND due_date >= $2 AND due_date <= $3 THEN 1 ELSE 0 END),
                    SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END)
             FROM actions
             WHERE workspace = $1 AND status IN ('open', 'reopened', 'done')
             GROUP BY owner ORDER BY owner LIMIT $4",
        )
        .bind(workspace)
        .bind(today)
        .bind(week_end)
        .bind(MAX_ROWS)
        .fetch_all(&self.pool)
        .await
        .context("counting action items per owner")?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .filter(|(_, a, b, c): &(String, i64, i64, i64)| a + b + c > 0)
            .collect())
    }

    /// Decisions recorded since `since` (unix seconds), newest first.
    pub async fn dashboard_recent_decisions(
        &self,
        workspace: &str,
        since: i64,
    ) -> anyhow::Result<Vec<DecisionRow>> {
        sqlx::query_as::<_, DecisionRow>(
            "SELECT * FROM decisions WHERE workspace = $1 AND created_at >= $2
             ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(workspace)
        .bind(since)
        .bind(MAX_ROWS)
        .fetch_all(&self.pool)
        .await
        .context("reading recent decisions")
    }

    /// Decisions awaiting approval, longest waiting first.
    pub async fn dashboard_proposed_decisions(
        &self,
        workspace: &str,
    ) -> anyhow::Result<Vec<DecisionRow>> {
        sqlx::query_as::<_, DecisionRow>(
            "SELECT * FROM decisions WHERE workspace = $1 AND status = 'proposed'
             ORDER BY created_at, id LIMIT $2",
        )
        .bind(workspace)
        .bind(MAX_ROWS)
        .fetch_all(&self.pool)
        .await
        .context("reading decisions awaiting approval")
    }

    /// Per week from `since` (week 0 starts at `since`): action items
    /// opened, action items closed (marked done), escalations raised.
    pub async fn dashboard_weekly(
        &self,
        workspace: &str,
        since: i64,
    ) -> anyhow::Result<(Weekly, Weekly, Weekly)> {
        let weekly = |sql: &'static str, what: &'static str| async move {
            let rows = sqlx::query(sql)
                .bind(since)
                .bind(workspace)
                .fetch_all(&self.pool)
                .await
                .with_context(|| format!("counting {what} per week"))?;
            anyhow::Ok(
                rows.iter()
                    .map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1)))
                    .collect::<Weekly>(),
            )
        };
        let opened = weekly(
            "SELECT (created_at - $1) / 604800 AS week, COUNT(*) FROM actions
             WHERE workspace = $2 AND created_at >= $1 GROUP BY week ORDER BY week",
            "action items opened",
        )
        .await?;
        let closed = weekly(
            "SELECT (done_at - $1) / 604800 AS week, COUNT(*) FROM actions
             WHERE workspace = $2 AND done_at IS NOT NULL AND done_at >= $1 GROUP BY week ORDER BY week",
            "action items closed",
        )
        .await?;
        let raised = weekly(
            "SELECT (created_at - $1) / 604800 AS week, COUNT(*) FROM escalations
             WHERE workspace = $2 AND created_at >= $1 GROUP BY week ORDER BY week",
            "escalations raised",
        )
        .await?;
        Ok((opened, closed, raised))
    }
}
