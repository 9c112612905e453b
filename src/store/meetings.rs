//! Occurrences and what happens at them: one-off moves, the occurrence in
//! progress, notes, covered agenda items and their carry-over, decisions and
//! action items attached to an occurrence, and what minutes are made of.

use anyhow::Context as _;
use sqlx::Row;

use super::{
    ActionRow, DecisionRow, NoteRow, OccurrenceRow, Plan, SeriesRow, Store, set_occurrence_state,
    update_series_in,
};

impl Store {
    /// Move the occurrence at `from` to `to`, then the series to `plan`, in
    /// one transaction. The slot keeps its record in state `moved`; the new
    /// occurrence names the slot it replaces (the original one, when it had
    /// been moved before).
    pub async fn move_occurrence(
        &self,
        row: &SeriesRow,
        from: i64,
        to: i64,
        by: &str,
        plan: &Plan,
        now: i64,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        let original: Option<i64> =
            sqlx::query("SELECT original_at FROM occurrences WHERE series_id = $1 AND at = $2")
                .bind(row.id)
                .bind(from)
                .fetch_optional(&mut *tx)
                .await
                .context("reading the occurrence to move")?
                .and_then(|r| r.get::<Option<i64>, _>(0));
        set_occurrence_state(&mut tx, row, from, "moved", by, now).await?;
        sqlx::query(
            "INSERT INTO occurrences (workspace, series_id, at, original_at, state, changed_by, changed_at)
             VALUES ($1, $2, $3, $4, 'scheduled', $5, $6)",
        )
        .bind(&row.workspace)
        .bind(row.id)
        .bind(to)
        .bind(original.unwrap_or(from))
        .bind(by)
        .bind(now)
        .execute(&mut *tx)
        .await
        .context("recording a moved occurrence")?;
        update_series_in(&mut tx, row, plan, now).await?;
        tx.commit().await.context("committing a moved occurrence")?;
        Ok(())
    }

    /// The occurrence of `series_id` at `at`, if recorded.
    pub async fn occurrence(
        &self,
        series_id: i64,
        at: i64,
    ) -> anyhow::Result<Option<OccurrenceRow>> {
        sqlx::query_as::<_, OccurrenceRow>(
            "SELECT * FROM occurrences WHERE series_id = $1 AND at = $2",
        )
        .bind(series_id)
        .bind(at)
        .fetch_optional(&self.pool)
        .await
        .context("reading an occurrence")
    }

    /// The latest held occurrence of `series_id` that started at or before
    /// `now` and at or after `since`.
    pub async fn latest_held(
        &self,
        series_id: i64,
        since: i64,
        now: i64,
    ) -> anyhow::Result<Option<OccurrenceRow>> {
        sqlx::query_as::<_, OccurrenceRow>(
            "SELECT * FROM occurrences WHERE series_id = $1 AND state = 'held' AND at >= $2 AND at <= $3
             ORDER BY at DESC LIMIT 1",
        )
        .bind(series_id)
        .bind(since)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .context("finding the current occurrence")
    }

    /// Held occurrences of `series_id`, latest first, at most `limit`.
    pub async fn held_occurrences(
        &self,
        series_id: i64,
        before: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<OccurrenceRow>> {
        sqlx::query_as::<_, OccurrenceRow>(
            "SELECT * FROM occurrences WHERE series_id = $1 AND state = 'held' AND at <= $2
             ORDER BY at DESC LIMIT $3",
        )
        .bind(series_id)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .context("listing held occurrences")
    }

    /// Active series of `workspace` posting to `channel` (for capture).
    /// On SQLite, a channel that no series captures is answered from memory
    /// (see [`super::capture`]).
    pub async fn capturing_series(
        &self,
        workspace: &str,
        channel: &str,
    ) -> anyhow::Result<Vec<SeriesRow>> {
        if let Some(cache) = &self.capture {
            match cache.lookup(workspace, channel) {
                super::capture::Known::No => return Ok(Vec::new()),
                super::capture::Known::Maybe => {}
                super::capture::Known::Unloaded(generation) => {
                    let pairs: Vec<(String, String)> = sqlx::query_as(
                        "SELECT DISTINCT workspace, channel FROM series
                         WHERE capture = 'channel' AND status = 'active'",
                    )
                    .fetch_all(&self.pool)
                    .await
                    .context("finding the channels meetings capture")?;
                    cache.store(generation, pairs);
                }
            }
        }
        sqlx::query_as::<_, SeriesRow>(
            "SELECT * FROM series WHERE workspace = $1 AND channel = $2 AND capture = 'channel' AND status = 'active'
             ORDER BY id LIMIT 20",
        )
        .bind(workspace)
        .bind(channel)
        .fetch_all(&self.pool)
        .await
        .context("finding series that capture a channel")
    }

    pub async fn add_note(
        &self,
        row: &SeriesRow,
        occurrence_at: i64,
        text: &str,
        by: &str,
        now: i64,
    ) -> anyhow::Result<i64> {
        self.add_to_occurrence(OccurrenceText::Note, row, occurrence_at, text, by, now)
            .await
    }

    /// Insert a line of text attached to one occurrence (a note or an agenda item): the
    /// two tables share their columns.
    pub(super) async fn add_to_occurrence(
        &self,
        kind: OccurrenceText,
        row: &SeriesRow,
        occurrence_at: i64,
        text: &str,
        by: &str,
        now: i64,
    ) -> anyhow::Result<i64> {
        let (sql, what) = match kind {
            OccurrenceText::Note => (
                "INSERT INTO meeting_notes (workspace, series_id, occurrence_at, text, added_by, added_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                "adding a meeting note",
            ),
            OccurrenceText::AgendaItem => (
                "INSERT INTO agenda_items (workspace, series_id, occurrence_at, text, added_by, added_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                "adding an agenda item",
            ),
        };
        let mut tx = self.begin().await?;
        let id = sqlx::query(sql)
            .bind(&row.workspace)
            .bind(row.id)
            .bind(occurrence_at)
            .bind(text)
            .bind(by)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .context(what)?
            .get(0);
        tx.commit().await.context(what)?;
        Ok(id)
    }

    pub async fn notes(&self, series_id: i64, occurrence_at: i64) -> anyhow::Result<Vec<NoteRow>> {
        sqlx::query_as::<_, NoteRow>(
            "SELECT id, text, added_by, added_at FROM meeting_notes
             WHERE series_id = $1 AND occurrence_at = $2 ORDER BY id LIMIT 200",
        )
        .bind(series_id)
        .bind(occurrence_at)
        .fetch_all(&self.pool)
        .await
        .context("reading meeting notes")
    }

    /// Mark agenda item `item_id` covered. False when it already was.
    pub async fn cover_agenda_item(&self, item_id: i64, now: i64) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE agenda_items SET covered_at = $1 WHERE id = $2 AND covered_at IS NULL",
        )
        .bind(now)
        .bind(item_id)
        .execute(&mut *tx)
        .await
        .context("marking an agenda item covered")?
        .rows_affected();
        tx.commit()
            .await
            .context("marking an agenda item covered")?;
        Ok(n == 1)
    }

    /// Copy the uncovered agenda items of the occurrence at `from` to the
    /// occurrence at `to`, each once (a second call copies nothing), with
    /// its carry count one higher.
    pub async fn carry_over(
        &self,
        row: &SeriesRow,
        from: i64,
        to: i64,
        now: i64,
    ) -> anyhow::Result<u64> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "INSERT INTO agenda_items (workspace, series_id, occurrence_at, text, added_by, added_at, carried, carried_from)
             SELECT workspace, series_id, $1, text, added_by, $2, carried + 1, id FROM agenda_items
             WHERE series_id = $3 AND occurrence_at = $4 AND covered_at IS NULL
             ORDER BY id
             ON CONFLICT (carried_from) DO NOTHING",
        )
        .bind(to)
        .bind(now)
        .bind(row.id)
        .bind(from)
        .execute(&mut *tx)
        .await
        .context("carrying agenda items over")?
        .rows_affected();
        tx.commit().await.context("carrying agenda items over")?;
        Ok(n)
    }

    /// Attach a decision or an action item to an occurrence (first attach wins).
    pub async fn attach_item(
        &self,
        series_id: i64,
        occurrence_at: i64,
        entity: &str,
        entity_id: i64,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO occurrence_items (series_id, occurrence_at, entity, entity_id)
             VALUES ($1, $2, $3, $4) ON CONFLICT (entity, entity_id) DO NOTHING",
        )
        .bind(series_id)
        .bind(occurrence_at)
        .bind(entity)
        .bind(entity_id)
        .execute(&mut *tx)
        .await
        .context("attaching an item to an occurrence")?;
        tx.commit()
            .await
            .context("attaching an item to an occurrence")?;
        Ok(())
    }

    pub async fn occurrence_decisions(
        &self,
        series_id: i64,
        occurrence_at: i64,
    ) -> anyhow::Result<Vec<DecisionRow>> {
        sqlx::query_as::<_, DecisionRow>(
            "SELECT d.* FROM decisions d JOIN occurrence_items i ON i.entity = 'decision' AND i.entity_id = d.id
             WHERE i.series_id = $1 AND i.occurrence_at = $2 ORDER BY d.id LIMIT 200",
        )
        .bind(series_id)
        .bind(occurrence_at)
        .fetch_all(&self.pool)
        .await
        .context("reading an occurrence's decisions")
    }

    pub async fn occurrence_actions(
        &self,
        series_id: i64,
        occurrence_at: i64,
    ) -> anyhow::Result<Vec<ActionRow>> {
        sqlx::query_as::<_, ActionRow>(
            "SELECT a.* FROM actions a JOIN occurrence_items i ON i.entity = 'action' AND i.entity_id = a.id
             WHERE i.series_id = $1 AND i.occurrence_at = $2 ORDER BY a.id LIMIT 200",
        )
        .bind(series_id)
        .bind(occurrence_at)
        .fetch_all(&self.pool)
        .await
        .context("reading an occurrence's action items")
    }
}

/// What [`Store::add_to_occurrence`] inserts.
#[derive(Clone, Copy, Debug)]
pub(super) enum OccurrenceText {
    Note,
    AgendaItem,
}
