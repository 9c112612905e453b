//! Decisions and the audit trail.

use anyhow::Context as _;
use sqlx::Row;

use super::{DecisionRow, NewDecision, Store, audit};
use crate::store::AuditRow;

/// What became of a write that may supersede another decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Written (the decision's id).
    Done(i64),
    /// The decision was no longer proposed: someone settled it first.
    NotProposed,
    /// The decision it supersedes is no longer approved (another decision
    /// superseded it first); nothing was written.
    Stale,
}

/// The filter of decision lists (binds $1 to $7).
const DECISION_FILTER: &str = "workspace = $1
               AND (CAST($2 AS TEXT) IS NULL OR category = $3) AND (CAST($4 AS BIGINT) IS NULL OR created_at >= $5)
               AND (CAST($6 AS TEXT) IS NULL OR status = $7)";

/// How many of the newest matches a decision search ranks: its cost stays
/// bounded however long the log grows; older matches need more words.
pub const SEARCH_WINDOW: i64 = 1000;

/// PostgreSQL: how many of a workspace's newest decisions are matched in
/// order before older ones are looked up through the GIN index.
const SEARCH_RECENT: i64 = 5000;

/// Search words up to this length match as prefixes (SQLite indexes 1-4
/// character prefixes); longer ones match whole words and their forms.
const PREFIX_CHARS: usize = 4;

impl Store {
    /// Insert a decision (and its audit entry); when it is approved and
    /// supersedes another, mark that one superseded in the same transaction,
    /// only while it is still approved.
    pub async fn insert_decision(&self, d: &NewDecision, now: i64) -> anyhow::Result<Settled> {
        let change = format!("recorded as {}", d.status);
        if self.backend == super::Backend::Sqlite && d.supersedes.is_none() {
            let guard = super::first_write_guard();
            // On a file: the row, its audit entry and the request's guard
            // in one savepoint of the writer's next group commit.
            let (row, change2) = (d.clone(), change.clone());
            let work: super::writer::Work =
                Box::new(move |c| insert_decision_row(c, &row, now, &change2));
            if let Some(id) = self.command_write(guard.clone(), work).await {
                return id.map(Settled::Done).context("inserting a decision");
            }
            // In memory: one script, the row, its audit entry (bound as
            // $13) and the request's guard, in one transaction and one
            // round trip.
            let sql = super::script(
                "INSERT INTO decisions (workspace, title, category, rationale, decided_by, authority, recorded_by,
                                        status, meeting_id, supersedes, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12);
                 INSERT INTO audit (workspace, entity, entity_id, actor, at, change)
                 VALUES ($1, 'decision', last_insert_rowid(), $7, $11, $13);
                 SELECT entity_id FROM audit WHERE id = last_insert_rowid();",
                13,
                guard.is_some(),
            );
            let rows = self
                .run_script(
                    decision_binds(sqlx::query(&sql), d, now).bind(&change),
                    guard,
                )
                .await
                .context("inserting a decision")?;
            return rows
                .first()
                .map(|r| Settled::Done(r.get::<i64, _>(0)))
                .context("inserting a decision: no id came back");
        }
        if self.backend == super::Backend::Postgres && d.supersedes.is_none() {
            // The request's guard, the row and its audit entry (actor $7,
            // at $11, change $13) in one statement.
            let guard = super::first_write_guard();
            let sql = super::pg_record(
                "INSERT INTO decisions (workspace, title, category, rationale, decided_by, authority, recorded_by,
                                        status, meeting_id, supersedes, created_at, updated_at)",
                12,
                "'decision', id, $7, $11, $13",
                guard.is_some(),
            );
            return self
                .record_pg(
                    decision_binds(sqlx::query(&sql), d, now).bind(&change),
                    guard,
                    "inserting a decision",
                )
                .await
                .map(Settled::Done);
        }
        let mut tx = self.begin().await?;
        let id: i64 = decision_binds(
            sqlx::query(
                "INSERT INTO decisions (workspace, title, category, rationale, decided_by, authority, recorded_by,
                                        status, meeting_id, supersedes, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            ),
            d,
            now,
        )
        .fetch_one(&mut *tx)
        .await
        .context("inserting a decision")?
        .get(0);
        audit(
            &mut tx,
            &d.workspace,
            "decision",
            id,
            &d.recorded_by,
            now,
            &change,
        )
        .await?;
        if d.status == "approved" {
            if let Some(old) = d.supersedes {
                if !supersede(&mut tx, &d.workspace, old, id, &d.recorded_by, now).await? {
                    return Ok(Settled::Stale);
                }
            }
        }
        tx.commit().await.context("committing a decision")?;
        Ok(Settled::Done(id))
    }

    /// Proposed decisions recorded at or before `cutoff` and not yet
    /// escalated, oldest first (at most 500 a call).
    pub async fn proposed_before(&self, cutoff: i64) -> anyhow::Result<Vec<DecisionRow>> {
        sqlx::query_as::<_, DecisionRow>(
            "SELECT * FROM decisions d WHERE d.status = 'proposed' AND d.created_at <= $1
               AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.source = 'decision:' || CAST(d.id AS TEXT))
             ORDER BY d.created_at, d.id LIMIT 500",
        )
        .bind(cutoff)
        .fetch_all(&self.pool)
        .await
        .context("reading proposed decisions")
    }

    pub async fn decision(&self, workspace: &str, id: i64) -> anyhow::Result<Option<DecisionRow>> {
        sqlx::query_as::<_, DecisionRow>("SELECT * FROM decisions WHERE workspace = $1 AND id = $2")
            .bind(workspace)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .context("reading a decision")
    }

    /// Settle a proposed decision: approve (superseding what it replaces,
    /// while that is still approved) or reject. Nothing is written unless
    /// the answer is `Done`.
    pub async fn settle_decision(
        &self,
        workspace: &str,
        id: i64,
        status: &str,
        by: &str,
        note: Option<&str>,
        now: i64,
    ) -> anyhow::Result<Settled> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "UPDATE decisions SET status = $1, settled_by = $2, settle_note = $3, updated_at = $4
             WHERE workspace = $5 AND id = $6 AND status = 'proposed' RETURNING supersedes",
        )
        .bind(status)
        .bind(by)
        .bind(note)
        .bind(now)
        .bind(workspace)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .context("settling a decision")?;
        let Some(row) = row else {
            return Ok(Settled::NotProposed);
        };
        let change = match note {
            Some(n) => format!("{status}: {n}"),
            None => status.to_string(),
        };
        audit(&mut tx, workspace, "decision", id, by, now, &change).await?;
        let supersedes: Option<i64> = row.get(0);
        if let (Some(old), "approved") = (supersedes, status) {
            if !supersede(&mut tx, workspace, old, id, by, now).await? {
                return Ok(Settled::Stale);
            }
        }
        tx.commit().await.context("committing a settled decision")?;
        Ok(Settled::Done(id))
    }

    pub async fn list_decisions(
        &self,
        workspace: &str,
        category: Option<&str>,
        since: Option<i64>,
        status: Option<&str>,
    ) -> anyhow::Result<Vec<DecisionRow>> {
        self.page_decisions(workspace, category, since, status, 0, 500)
            .await
    }

    /// One page of decisions, newest first: `limit` rows after `offset`.
    pub async fn page_decisions(
        &self,
        workspace: &str,
        category: Option<&str>,
        since: Option<i64>,
        status: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<DecisionRow>> {
        sqlx::query_as::<_, DecisionRow>(&format!(
            "SELECT * FROM decisions WHERE {DECISION_FILTER}
             ORDER BY created_at DESC, id DESC LIMIT $8 OFFSET $9"
        ))
        .bind(workspace)
        .bind(category)
        .bind(category)
        .bind(since)
        .bind(since)
        .bind(status)
        .bind(status)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await
        .context("listing decisions")
    }

    /// How many decisions match, counting no further than `cap`.
    pub async fn count_decisions(
        &self,
        workspace: &str,
        category: Option<&str>,
        since: Option<i64>,
        status: Option<&str>,
        cap: i64,
    ) -> anyhow::Result<i64> {
        let row = sqlx::query(&format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM decisions WHERE {DECISION_FILTER} LIMIT $8) capped"
        ))
        .bind(workspace)
        .bind(category)
        .bind(category)
        .bind(since)
        .bind(since)
        .bind(status)
        .bind(status)
        .bind(cap)
        .fetch_one(&self.pool)
        .await
        .context("counting decisions")?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    /// Full-text search, best match first, among the newest
    /// [`SEARCH_WINDOW`] matches so that its cost does not grow with the log.
    /// SQLite: title matches first, then the newest (migration 0018 puts the
    /// workspace and 1-4 character prefixes in the index); PostgreSQL:
    /// ts_rank with the title above category and rationale. Words of up to
    /// four characters match as prefixes (`fin` finds finance); longer ones
    /// match the word and its forms (`hiring` finds hired).
    pub async fn search_decisions(
        &self,
        workspace: &str,
        words: &[String],
    ) -> anyhow::Result<Vec<DecisionRow>> {
        self.search_decisions_page(workspace, words, 0, 20, false)
            .await
    }

    /// One page of [`Store::search_decisions`]: `limit` matches after `offset`.
    /// `all_prefixes` matches every word as a prefix: dearer for long words,
    /// which is why it is only the fallback when whole words found nothing.
    pub async fn search_decisions_page(
        &self,
        workspace: &str,
        words: &[String],
        offset: i64,
        limit: i64,
        all_prefixes: bool,
    ) -> anyhow::Result<Vec<DecisionRow>> {
        let prefix = |w: &String| all_prefixes || w.chars().count() <= PREFIX_CHARS;
        let (sql, query) = match self.backend {
            super::Backend::Sqlite => {
                // Both sub-queries read the index newest first and stop at
                // the window (no sort, no ranking of every match). The title
                // matches are an `IN` list, which SQLite builds into an
                // index once; a LEFT JOIN on them was a nested loop in the
                // SQLite sqlx bundles (1,000 x 1,000 rows, 60 ms a search). A title
                // match among the newest matches is among the newest title
                // matches, so the second one finds every title match the
                // first one holds.
                let words = words
                    .iter()
                    .map(|w| {
                        if prefix(w) {
                            format!("\"{w}\"*")
                        } else {
                            format!("\"{w}\"")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                let ws = format!("workspace:\"{}\"", workspace.replace('"', "\"\""));
                (
                    format!(
                        "SELECT d.* FROM
                           (SELECT rowid AS id FROM decisions_fts WHERE decisions_fts MATCH $1
                            ORDER BY rowid DESC LIMIT {SEARCH_WINDOW}) f
                         JOIN decisions d ON d.id = f.id
                         WHERE d.workspace = $2
                         ORDER BY f.id NOT IN
                                    (SELECT rowid FROM decisions_fts WHERE decisions_fts MATCH $5
                                     ORDER BY rowid DESC LIMIT {SEARCH_WINDOW}),
                                  d.id DESC
                         LIMIT $3 OFFSET $4"
                    ),
                    (
                        format!("{ws} AND {{title rationale category}}:({words})"),
                        Some(format!("{ws} AND {{title}}:({words})")),
                    ),
                )
            }
            super::Backend::Postgres => {
                let query = words
                    .iter()
                    .map(|w| {
                        if prefix(w) {
                            format!("{w}:*")
                        } else {
                            w.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" & ");
                return self
                    .search_decisions_pg(workspace, &query, offset, limit)
                    .await;
            }
        };
        let (query, title_query) = query;
        let mut q = sqlx::query_as::<_, DecisionRow>(&sql)
            .bind(query)
            .bind(workspace)
            .bind(limit)
            .bind(offset);
        if let Some(title_query) = title_query {
            q = q.bind(title_query);
        }
        q.fetch_all(&self.pool).await.context("searching decisions")
    }

    /// PostgreSQL's search (migration 0023): the newest [`SEARCH_RECENT`]
    /// documents of the workspace are read in order from `(workspace, id)`
    /// and matched; only when they hold too few matches for the page asked
    /// are older ones (up to [`SEARCH_WINDOW`] in all) looked up through
    /// the GIN index, as a bitmap (index
    /// scans off for that statement: the planner cannot estimate a prefix
    /// query's matches, and walking a million documents backwards for a word
    /// found nowhere took 17 s). The matches found are ranked with ts_rank.
    async fn search_decisions_pg(
        &self,
        workspace: &str,
        query: &str,
        offset: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<DecisionRow>> {
        let mut tx = self.pool.begin().await.context("searching decisions")?;
        // `workspace` as a range of one value, not `=`: with `=` the
        // planner drops it from the ORDER BY and may walk the primary key
        // backwards through every other workspace's newer decisions (200,000
        // of them, 160 ms, in the bench); the range keeps `(workspace, id)`.
        let recent = |param: &str| {
            format!(
                "SELECT id, doc FROM decisions_fts WHERE workspace >= {param} AND workspace <= {param}
                 ORDER BY workspace DESC, id DESC LIMIT {SEARCH_RECENT}"
            )
        };
        let (scanned, oldest): (i64, i64) = sqlx::query_as(&format!(
            "SELECT COUNT(*), COALESCE(MIN(id), 0) FROM ({}) r",
            recent("$1")
        ))
        .bind(workspace)
        .fetch_one(&mut *tx)
        .await
        .context("searching decisions")?;
        let mut ids: Vec<i64> = sqlx::query_scalar(&format!(
            "SELECT id FROM ({}) r WHERE doc @@ to_tsquery('english', $1)
             ORDER BY id DESC LIMIT {SEARCH_WINDOW}",
            recent("$2")
        ))
        .bind(query)
        .bind(workspace)
        .fetch_all(&mut *tx)
        .await
        .context("searching decisions")?;
        // Enough matches among the newest for the page asked: rank those
        // (a common word never reaches the bitmap, which would visit every
        // older match). Otherwise look further back, up to the window.
        let missing = SEARCH_WINDOW - ids.len() as i64;
        let short = (ids.len() as i64) < offset.saturating_add(limit);
        if short && missing > 0 && scanned == SEARCH_RECENT {
            sqlx::query("SET LOCAL enable_indexscan = off")
                .execute(&mut *tx)
                .await?;
            sqlx::query("SET LOCAL enable_seqscan = off")
                .execute(&mut *tx)
                .await?;
            let older: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM decisions_fts
                 WHERE workspace = $2 AND doc @@ to_tsquery('english', $1) AND id < $3
                 ORDER BY id DESC LIMIT $4",
            )
            .bind(query)
            .bind(workspace)
            .bind(oldest)
            .bind(missing)
            .fetch_all(&mut *tx)
            .await
            .context("searching older decisions")?;
            ids.extend(older);
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Integers from the database, so written into the statement as
        // they are (the Any driver binds no arrays).
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let rows = sqlx::query_as::<_, DecisionRow>(&format!(
            "SELECT d.* FROM decisions d JOIN decisions_fts f ON f.id = d.id
             WHERE d.id IN ({list})
             ORDER BY ts_rank(f.doc, to_tsquery('english', $1)) DESC, d.id DESC
             LIMIT $2 OFFSET $3"
        ))
        .bind(query)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *tx)
        .await
        .context("searching decisions")?;
        tx.commit().await.context("searching decisions")?;
        Ok(rows)
    }

    pub async fn audit_trail(
        &self,
        workspace: &str,
        entity: &str,
        id: i64,
    ) -> anyhow::Result<Vec<AuditRow>> {
        sqlx::query_as::<_, AuditRow>(
            "SELECT actor, at, change FROM audit WHERE workspace = $1 AND entity = $2 AND entity_id = $3 ORDER BY id",
        )
        .bind(workspace)
        .bind(entity)
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .context("reading the audit trail")
    }
}

/// Mark `old` superseded by `new` if it is approved; false (and nothing
/// written) otherwise. The caller drops the transaction on false.
async fn supersede(
    tx: &mut super::Tx,
    workspace: &str,
    old: i64,
    new: i64,
    by: &str,
    now: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE decisions SET status = 'superseded', superseded_by = $1, updated_at = $2
         WHERE workspace = $3 AND id = $4 AND status = 'approved'",
    )
    .bind(new)
    .bind(now)
    .bind(workspace)
    .bind(old)
    .execute(&mut **tx)
    .await
    .context("marking a decision superseded")?
    .rows_affected();
    if done == 0 {
        return Ok(false);
    }
    audit(
        tx,
        workspace,
        "decision",
        old,
        by,
        now,
        &format!("superseded by decision {new}"),
    )
    .await?;
    Ok(true)
}

/// SQLite, inside the command writer's savepoint: a decision (superseding
/// none) and its audit entry; the decision's id.
fn insert_decision_row(
    c: &rusqlite::Connection,
    d: &NewDecision,
    now: i64,
    change: &str,
) -> rusqlite::Result<i64> {
    let id: i64 = c
        .prepare_cached(
            "INSERT INTO decisions (workspace, title, category, rationale, decided_by, authority, recorded_by,
                                    status, meeting_id, supersedes, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11) RETURNING id",
        )?
        .query_row(
            rusqlite::params![
                d.workspace,
                d.title,
                d.category,
                d.rationale,
                d.decided_by,
                d.authority,
                d.recorded_by,
                d.status,
                d.meeting_id,
                d.supersedes,
                now,
            ],
            |r| r.get(0),
        )?;
    super::writer::audit_new(c, &d.workspace, "decision", id, &d.recorded_by, now, change)?;
    Ok(id)
}

/// The twelve values of a new decision's row, in column order.
fn decision_binds<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    d: &'q NewDecision,
    now: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(&d.workspace)
        .bind(&d.title)
        .bind(&d.category)
        .bind(&d.rationale)
        .bind(&d.decided_by)
        .bind(&d.authority)
        .bind(&d.recorded_by)
        .bind(&d.status)
        .bind(d.meeting_id)
        .bind(d.supersedes)
        .bind(now)
        .bind(now)
}
