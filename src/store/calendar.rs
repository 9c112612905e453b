//! Calendar feed tokens: issued per chat user, stored as a public selector
//! and the SHA-256 of the secret verifier, revoked by setting `revoked_at`.

use anyhow::Context as _;
use sqlx::Row;

use super::Store;

/// A live token as the feed endpoint sees it.
#[derive(Debug, Clone)]
pub struct CalendarToken {
    pub workspace: String,
    pub verifier_hash: String,
}

impl Store {
    /// When `user` was last issued a live token in `workspace`, if ever.
    pub async fn live_calendar_token(
        &self,
        workspace: &str,
        user: &str,
    ) -> anyhow::Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT created_at FROM calendar_tokens
             WHERE workspace = $1 AND issued_to = $2 AND revoked_at IS NULL
             ORDER BY id DESC LIMIT 1",
        )
        .bind(workspace)
        .bind(user)
        .fetch_optional(&self.pool)
        .await
        .context("reading a calendar token")?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Revoke `user`'s live tokens in `workspace` and store a new one, in
    /// one transaction (a rotation never leaves two live tokens, nor none).
    pub async fn issue_calendar_token(
        &self,
        workspace: &str,
        user: &str,
        selector: &str,
        verifier_hash: &str,
        now: i64,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE calendar_tokens SET revoked_at = $1
             WHERE workspace = $2 AND issued_to = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(workspace)
        .bind(user)
        .execute(&mut *tx)
        .await
        .context("revoking calendar tokens")?;
        sqlx::query(
            "INSERT INTO calendar_tokens (workspace, issued_to, selector, verifier_hash, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(workspace)
        .bind(user)
        .bind(selector)
        .bind(verifier_hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .context("storing a calendar token")?;
        tx.commit().await.context("committing a calendar token")?;
        Ok(())
    }

    /// The live token with this selector, if any.
    pub async fn calendar_token(&self, selector: &str) -> anyhow::Result<Option<CalendarToken>> {
        let row = sqlx::query(
            "SELECT workspace, verifier_hash FROM calendar_tokens
             WHERE selector = $1 AND revoked_at IS NULL",
        )
        .bind(selector)
        .fetch_optional(&self.pool)
        .await
        .context("looking up a calendar token")?;
        Ok(row.map(|r| CalendarToken {
            workspace: r.get(0),
            verifier_hash: r.get(1),
        }))
    }

    /// Active series whose next occurrence is at or before `until`, soonest
    /// first (the heads-up a week ahead looks at these).
    pub async fn series_next_before(
        &self,
        until: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<super::SeriesRow>> {
        sqlx::query_as::<_, super::SeriesRow>(
            "SELECT * FROM series WHERE status = 'active' AND next_at IS NOT NULL AND next_at <= $1
             ORDER BY next_at, id LIMIT $2",
        )
        .bind(until)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .context("reading series coming up")
    }
}
