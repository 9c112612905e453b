//! Attendance answers per occurrence: who said they attend a meeting and
//! who said they cannot make it.

use anyhow::Context as _;
use sqlx::Row;

use super::Store;

impl Store {
    /// Record `person`'s answer for the occurrence of series `series_id` at
    /// `occurrence_at`; a later answer replaces an earlier one.
    pub async fn set_attendance(
        &self,
        workspace: &str,
        series_id: i64,
        occurrence_at: i64,
        person: &str,
        attending: bool,
        now: i64,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO attendance (workspace, series_id, occurrence_at, person, attending, answered_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (series_id, occurrence_at, person)
             DO UPDATE SET attending = excluded.attending, answered_at = excluded.answered_at",
        )
        .bind(workspace)
        .bind(series_id)
        .bind(occurrence_at)
        .bind(person)
        .bind(i64::from(attending))
        .bind(now)
        .execute(&self.pool)
        .await
        .context("recording an attendance answer")?;
        Ok(())
    }

    /// The answers for one occurrence, in the order they were given:
    /// (person, attending).
    pub async fn attendance(
        &self,
        series_id: i64,
        occurrence_at: i64,
    ) -> anyhow::Result<Vec<(String, bool)>> {
        let rows = sqlx::query(
            "SELECT person, attending FROM attendance
             WHERE series_id = $1 AND occurrence_at = $2
             ORDER BY answered_at, person LIMIT 500",
        )
        .bind(series_id)
        .bind(occurrence_at)
        .fetch_all(&self.pool)
        .await
        .context("reading attendance answers")?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1) != 0))
            .collect())
    }
}
