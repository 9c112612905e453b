//! Escalations, their timeline, and the lock that keeps a ping from going
//! out after an acknowledgement has been committed.

use anyhow::Context as _;
use sqlx::Row;

use super::{EscalationEvent, EscalationPost, EscalationRow, Store};

impl Store {
    /// Insert an escalation with its first events and posts.
    pub async fn insert_escalation(
        &self,
        e: &EscalationRow,
        events: &[(String, String, String)],
        posts: &[EscalationPost],
        now: i64,
    ) -> anyhow::Result<i64> {
        self.insert_escalation_from(e, None, events, posts, now)
            .await?
            .context("an escalation without a source was not inserted")
    }

    /// [`Store::insert_escalation`] for an escalation Quorum raises on its
    /// own about `source` (`decision:7`, `overdue:12`): `None` when one was
    /// already raised about it, so each is raised once.
    pub async fn insert_escalation_from(
        &self,
        e: &EscalationRow,
        source: Option<&str>,
        events: &[(String, String, String)],
        posts: &[EscalationPost],
        now: i64,
    ) -> anyhow::Result<Option<i64>> {
        let mut tx = self.begin().await?;
        let id: Option<i64> = sqlx::query(
            "INSERT INTO escalations (workspace, topic, severity, summary, raised_by, raised_in, routed_to, level, state,
                                      post_at, deadline_at, created_at, updated_at, source)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (source) DO NOTHING RETURNING id",
        )
        .bind(&e.workspace)
        .bind(&e.topic)
        .bind(&e.severity)
        .bind(&e.summary)
        .bind(&e.raised_by)
        .bind(&e.raised_in)
        .bind(&e.routed_to)
        .bind(e.level)
        .bind(&e.state)
        .bind(e.post_at)
        .bind(e.deadline_at)
        .bind(now)
        .bind(now)
        .bind(source)
        .fetch_optional(&mut *tx)
        .await
        .context("inserting an escalation")?
        .map(|r| r.get(0));
        let Some(id) = id else {
            return Ok(None);
        };
        write_events_and_posts(&mut tx, &e.workspace, id, events, posts, now).await?;
        tx.commit().await.context("committing an escalation")?;
        Ok(Some(id))
    }

    /// The escalation Quorum raised about `source`, if it did.
    pub async fn escalation_from(&self, source: &str) -> anyhow::Result<Option<i64>> {
        sqlx::query_scalar::<_, i64>("SELECT id FROM escalations WHERE source = $1")
            .bind(source)
            .fetch_optional(&self.pool)
            .await
            .context("looking up an escalation by its source")
    }

    pub async fn escalation(
        &self,
        workspace: &str,
        id: i64,
    ) -> anyhow::Result<Option<EscalationRow>> {
        sqlx::query_as::<_, EscalationRow>(
            "SELECT * FROM escalations WHERE workspace = $1 AND id = $2",
        )
        .bind(workspace)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .context("reading an escalation")
    }

    pub async fn list_escalations(
        &self,
        workspace: &str,
        open_only: bool,
    ) -> anyhow::Result<Vec<EscalationRow>> {
        sqlx::query_as::<_, EscalationRow>(
            "SELECT * FROM escalations WHERE workspace = $1 AND ($2 = 0 OR state != 'resolved') ORDER BY id DESC LIMIT 200",
        )
        .bind(workspace)
        .bind(i64::from(open_only))
        .fetch_all(&self.pool)
        .await
        .context("listing escalations")
    }

    pub async fn escalation_events(&self, id: i64) -> anyhow::Result<Vec<EscalationEvent>> {
        sqlx::query_as::<_, EscalationEvent>(
            "SELECT at, actor, kind, detail FROM escalation_events WHERE escalation_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .context("reading an escalation's timeline")
    }

    /// Escalations with something due at `now`: a deadline passed, working
    /// hours begun, or a follow-up due.
    pub async fn escalations_due(&self, now: i64) -> anyhow::Result<Vec<EscalationRow>> {
        sqlx::query_as::<_, EscalationRow>(
            "SELECT * FROM escalations
             WHERE (state = 'open' AND deadline_at <= $1) OR (state = 'waiting' AND post_at <= $2)
                OR (state = 'acked' AND follow_up_at <= $3)
             ORDER BY id LIMIT 500",
        )
        .bind(now)
        .bind(now)
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .context("finding due escalations")
    }

    /// Write `row` if nobody changed the escalation since `expected_updated_at`;
    /// with its events and posts, and (when `cancel_pending`) cancelling the
    /// posts still waiting for the old state. Returns false when it lost a race.
    pub async fn save_escalation(
        &self,
        row: &EscalationRow,
        expected_updated_at: i64,
        events: &[(String, String, String)],
        posts: &[EscalationPost],
        cancel_pending: bool,
        now: i64,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE escalations SET routed_to = $1, level = $2, state = $3, post_at = $4, deadline_at = $5, repeats = $6,
                    acked_by = $7, acked_at = $8, follow_up_at = $9, follow_ups = $10, resolved_by = $11, resolved_at = $12,
                    resolution = $13, updated_at = $14
             WHERE id = $15 AND workspace = $16 AND updated_at = $17",
        )
        .bind(&row.routed_to)
        .bind(row.level)
        .bind(&row.state)
        .bind(row.post_at)
        .bind(row.deadline_at)
        .bind(row.repeats)
        .bind(&row.acked_by)
        .bind(row.acked_at)
        .bind(row.follow_up_at)
        .bind(row.follow_ups)
        .bind(&row.resolved_by)
        .bind(row.resolved_at)
        .bind(&row.resolution)
        .bind(now.max(expected_updated_at + 1))
        .bind(row.id)
        .bind(&row.workspace)
        .bind(expected_updated_at)
        .execute(&mut *tx)
        .await
        .context("updating an escalation")?
        .rows_affected();
        if n == 1 {
            if cancel_pending {
                sqlx::query(
                    "UPDATE deliveries SET state = 'cancelled' WHERE escalation_id = $1 AND state = 'pending' AND requires_state IS NOT NULL",
                )
                .bind(row.id)
                .execute(&mut *tx)
                .await
                .context("cancelling an escalation's pending posts")?;
            }
            write_events_and_posts(&mut tx, &row.workspace, row.id, events, posts, now).await?;
        }
        tx.commit()
            .await
            .context("committing an escalation update")?;
        Ok(n == 1)
    }

    /// Take the escalation's lock (the database's write lock here; a row lock
    /// in PostgreSQL) and read its state. A delivery is posted while the lock
    /// is held, so an acknowledgement either commits before (and the post is
    /// cancelled) or waits until the post is recorded.
    pub async fn lock_escalation(&self, id: i64) -> anyhow::Result<EscalationLock> {
        let mut tx = self.begin().await?;
        let sql = match self.backend {
            super::Backend::Sqlite => "SELECT state FROM escalations WHERE id = $1",
            super::Backend::Postgres => "SELECT state FROM escalations WHERE id = $1 FOR UPDATE",
        };
        let state: Option<String> = sqlx::query(sql)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .context("locking an escalation")?
            .map(|r| r.get(0));
        Ok(EscalationLock { tx, state })
    }
}

pub struct EscalationLock {
    tx: super::Tx,
    pub state: Option<String>,
}

impl EscalationLock {
    pub async fn sent(mut self, delivery_id: i64, now: i64) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE deliveries SET state = 'sent', sent_at = $1, lease_until = NULL WHERE id = $2",
        )
        .bind(now)
        .bind(delivery_id)
        .execute(&mut *self.tx)
        .await
        .context("recording a sent escalation post")?;
        self.tx
            .commit()
            .await
            .context("committing a sent escalation post")
    }

    pub async fn cancel(mut self, delivery_id: i64) -> anyhow::Result<()> {
        sqlx::query("UPDATE deliveries SET state = 'cancelled', lease_until = NULL WHERE id = $1")
            .bind(delivery_id)
            .execute(&mut *self.tx)
            .await
            .context("cancelling a stale escalation post")?;
        self.tx
            .commit()
            .await
            .context("committing a cancelled escalation post")
    }

    /// Let go without recording anything (the send failed).
    pub async fn release(self) -> anyhow::Result<()> {
        self.tx
            .rollback()
            .await
            .context("releasing an escalation lock")
    }
}

async fn write_events_and_posts(
    tx: &mut super::Tx,
    workspace: &str,
    id: i64,
    events: &[(String, String, String)],
    posts: &[EscalationPost],
    now: i64,
) -> anyhow::Result<()> {
    for (actor, kind, detail) in events {
        sqlx::query("INSERT INTO escalation_events (escalation_id, at, actor, kind, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(now)
            .bind(actor)
            .bind(kind)
            .bind(detail)
            .execute(&mut **tx)
            .await
            .context("recording an escalation event")?;
    }
    for p in posts {
        sqlx::query(
            "INSERT INTO deliveries (workspace, kind, dedupe_key, channel, body, due_at, next_try_at, escalation_id, requires_state, mention)
             VALUES ($1, 'notice', $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(workspace)
        .bind(format!("esc:{id}:{}", p.key))
        .bind(&p.channel)
        .bind(&p.body)
        .bind(now)
        .bind(now)
        .bind(id)
        .bind(&p.requires_state)
        .bind(p.mention.join(","))
        .execute(&mut **tx)
        .await
        .context("queueing an escalation post")?;
    }
    Ok(())
}
