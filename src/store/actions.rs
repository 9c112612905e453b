//! Action items, their audit trail, and TODO.md sync state.

use anyhow::Context as _;
use sqlx::Row;

use super::{ActionFilter, ActionRow, Store, audit};

/// The filter of action lists (binds $1 to $7).
/// The WHERE clause of an action filter: only the conditions it sets, so
/// each combination is its own statement and the database can use the index
/// that serves it (`(CAST($2 AS TEXT) IS NULL OR owner = $3)` hid the owner
/// from both planners: `/action list owner:x status:open` walked the whole
/// urgency index when x had no open item, 886 ms at a million items on
/// PostgreSQL). Parameters follow `$1` (the workspace) in the order owner,
/// status, due_before; the next free number is returned.
fn action_filter(f: &ActionFilter) -> (String, usize) {
    let mut sql = String::from("workspace = $1");
    let mut n = 1;
    if f.owner.is_some() {
        n += 1;
        sql.push_str(&format!(" AND owner = ${n}"));
    }
    if f.status.is_some() {
        n += 1;
        sql.push_str(&format!(" AND status = ${n}"));
    }
    if f.due_before.is_some() {
        n += 1;
        sql.push_str(&format!(
            " AND status IN ('open', 'reopened') AND due_date IS NOT NULL AND due_date < ${n}"
        ));
    }
    (sql, n + 1)
}

/// Bind an action filter's values in [`action_filter`]'s order.
fn bind_filter<'q, O>(
    mut q: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    workspace: &'q str,
    f: &'q ActionFilter,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    q = q.bind(workspace);
    for v in [&f.owner, &f.status, &f.due_before].into_iter().flatten() {
        q = q.bind(v.as_str());
    }
    q
}

/// [`URGENCY`] as a sort key.
fn urgency(a: &ActionRow) -> (u8, bool, Option<&str>, i64) {
    let rank = match a.priority.as_str() {
        "high" => 0,
        "medium" => 1,
        _ => 2,
    };
    (rank, a.due_date.is_none(), a.due_date.as_deref(), a.id)
}

/// Most urgent first; the order of the `actions_by_urgency`,
/// `actions_by_owner` and `actions_open_by_owner` indexes.
const URGENCY: &str = "CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END,
                      due_date IS NULL, due_date, id";

impl Store {
    pub async fn insert_action(&self, a: &ActionRow, now: i64) -> anyhow::Result<i64> {
        let due = a
            .due_date
            .as_deref()
            .map(|d| format!(", due {d}"))
            .unwrap_or_default();
        let change = format!(
            "created for {} ({} priority{due}) as {}",
            a.owner, a.priority, a.status
        );
        if self.backend == super::Backend::Sqlite {
            let guard = super::first_write_guard();
            // On a file: the row, its audit entry and the request's guard
            // in one savepoint of the writer's next group commit.
            let (row, change2) = (a.clone(), change.clone());
            let work: super::writer::Work =
                Box::new(move |c| insert_action_row(c, &row, now, &change2));
            if let Some(id) = self.command_write(guard.clone(), work).await {
                return id.context("inserting an action item");
            }
            // In memory: one script, the row, its audit entry (bound as
            // $14) and the request's guard, in one transaction and one
            // round trip.
            let sql = super::script(
                "INSERT INTO actions (workspace, task, owner, due_date, priority, status, meeting_id, decision_id,
                                      created_by, created_at, updated_at, done_by, done_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13);
                 INSERT INTO audit (workspace, entity, entity_id, actor, at, change)
                 VALUES ($1, 'action', last_insert_rowid(), $9, $10, $14);
                 SELECT entity_id FROM audit WHERE id = last_insert_rowid();",
                14,
                guard.is_some(),
            );
            let rows = self
                .run_script(action_binds(sqlx::query(&sql), a, now).bind(&change), guard)
                .await
                .context("inserting an action item")?;
            return rows
                .first()
                .map(|r| r.get::<i64, _>(0))
                .context("inserting an action item: no id came back");
        }
        // PostgreSQL: the request's guard, the row and its audit entry
        // (actor $9, at $10, change $14) in one statement.
        let guard = super::first_write_guard();
        let sql = super::pg_record(
            "INSERT INTO actions (workspace, task, owner, due_date, priority, status, meeting_id, decision_id,
                                  created_by, created_at, updated_at, done_by, done_at)",
            13,
            "'action', id, $9, $10, $14",
            guard.is_some(),
        );
        self.record_pg(
            action_binds(sqlx::query(&sql), a, now).bind(&change),
            guard,
            "inserting an action item",
        )
        .await
    }

    pub async fn action(&self, workspace: &str, id: i64) -> anyhow::Result<Option<ActionRow>> {
        sqlx::query_as::<_, ActionRow>("SELECT * FROM actions WHERE workspace = $1 AND id = $2")
            .bind(workspace)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .context("reading an action item")
    }

    /// Write `row` back if it still has `expected_updated_at` (so two edits
    /// never silently overwrite each other), with an audit entry.
    pub async fn save_action(
        &self,
        row: &ActionRow,
        expected_updated_at: i64,
        actor: &str,
        change: &str,
        now: i64,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE actions SET task = $1, owner = $2, due_date = $3, priority = $4, status = $5, meeting_id = $6,
                    decision_id = $7, done_by = $8, done_at = $9, verified_by = $10, verified_at = $11, updated_at = $12
             WHERE workspace = $13 AND id = $14 AND updated_at = $15",
        )
        .bind(&row.task)
        .bind(&row.owner)
        .bind(&row.due_date)
        .bind(&row.priority)
        .bind(&row.status)
        .bind(row.meeting_id)
        .bind(row.decision_id)
        .bind(&row.done_by)
        .bind(row.done_at)
        .bind(&row.verified_by)
        .bind(row.verified_at)
        .bind(now.max(expected_updated_at + 1))
        .bind(&row.workspace)
        .bind(row.id)
        .bind(expected_updated_at)
        .execute(&mut *tx)
        .await
        .context("updating an action item")?
        .rows_affected();
        if n == 1 {
            audit(
                &mut tx,
                &row.workspace,
                "action",
                row.id,
                actor,
                now,
                change,
            )
            .await?;
        }
        tx.commit()
            .await
            .context("committing an action item update")?;
        Ok(n == 1)
    }

    pub async fn list_actions(
        &self,
        workspace: &str,
        f: &ActionFilter,
    ) -> anyhow::Result<Vec<ActionRow>> {
        self.page_actions(workspace, f, 0, 1000).await
    }

    /// One page of action items, most urgent first: `limit` rows after `offset`.
    pub async fn page_actions(
        &self,
        workspace: &str,
        f: &ActionFilter,
        offset: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<ActionRow>> {
        let (filter, n) = action_filter(f);
        let sql = format!(
            "SELECT * FROM actions WHERE {filter} ORDER BY {URGENCY} LIMIT ${n} OFFSET ${}",
            n + 1
        );
        bind_filter(sqlx::query_as::<_, ActionRow>(&sql), workspace, f)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await
            .context("listing action items")
    }

    /// How many action items match, counting no further than `cap` (so a
    /// count costs the same however long the history grows).
    pub async fn count_actions(
        &self,
        workspace: &str,
        f: &ActionFilter,
        cap: i64,
    ) -> anyhow::Result<i64> {
        let (filter, n) = action_filter(f);
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM actions WHERE {filter} LIMIT ${n}) capped"
        );
        let (count,): (i64,) = bind_filter(sqlx::query_as(&sql), workspace, f)
            .bind(cap)
            .fetch_one(&self.pool)
            .await
            .context("counting action items")?;
        Ok(count)
    }

    /// The open items of any of `owners` (a person's roles and user id),
    /// most urgent first: the first `limit`, and how many there are, counted
    /// up to `cap`. Read from `actions_open_by_owner` (migration 0024), so
    /// done and verified items, however many, cost nothing.
    pub async fn open_actions_of(
        &self,
        workspace: &str,
        owners: &[String],
        limit: i64,
        cap: i64,
    ) -> anyhow::Result<(Vec<ActionRow>, i64)> {
        // One statement per owner, each read in order from the partial
        // index and cut at `limit`, merged here: with `owner IN (...)`
        // PostgreSQL walked the whole urgency index instead when the owners
        // had no open item (1.4 s at a million items).
        let sql = format!(
            "SELECT * FROM actions
             WHERE workspace = $1 AND owner = $2 AND status IN ('open', 'reopened')
             ORDER BY {URGENCY} LIMIT $3"
        );
        let count_sql = "SELECT COUNT(*) FROM (SELECT 1 FROM actions
             WHERE workspace = $1 AND owner = $2 AND status IN ('open', 'reopened') LIMIT $3) capped";
        let mut rows: Vec<ActionRow> = Vec::new();
        let mut total = 0i64;
        let mut seen = std::collections::HashSet::new();
        for owner in owners.iter().take(50) {
            if !seen.insert(owner.as_str()) {
                continue;
            }
            rows.extend(
                sqlx::query_as::<_, ActionRow>(&sql)
                    .bind(workspace)
                    .bind(owner.as_str())
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .context("listing open action items")?,
            );
            let (n,): (i64,) = sqlx::query_as(count_sql)
                .bind(workspace)
                .bind(owner.as_str())
                .bind(cap)
                .fetch_one(&self.pool)
                .await
                .context("counting open action items")?;
            total = total.saturating_add(n);
        }
        rows.sort_by(|a, b| urgency(a).cmp(&urgency(b)));
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        Ok((rows, total.min(cap)))
    }

    /// Open items owned by any of `owners` or tied to meeting series
    /// `series_id`: the first `limit` of them, overdue (due before `today`)
    /// first, then by due date, priority and id, and how many there are in
    /// all. Sorted and cut by the database, so a reminder costs the same
    /// whatever the size of the attendees' backlog.
    pub async fn open_actions_for_meeting(
        &self,
        workspace: &str,
        owners: &[String],
        series_id: i64,
        today: &str,
        limit: i64,
    ) -> anyhow::Result<(Vec<ActionRow>, i64)> {
        // Attendee lists are short; the cap keeps the statement bounded all the same.
        let owners = &owners[..owners.len().min(200)];
        let placeholders: Vec<String> = (0..owners.len()).map(|i| format!("${}", i + 4)).collect();
        let who = if owners.is_empty() {
            "meeting_id = $2".to_string()
        } else {
            format!(
                "(meeting_id = $2 OR owner IN ({}))",
                placeholders.join(", ")
            )
        };
        // `$3` (today) orders the rows; the filter names it too, so that
        // the count binds the same parameters and PostgreSQL knows its type.
        let filter = format!(
            "workspace = $1 AND status IN ('open', 'reopened') AND {who} AND CAST($3 AS TEXT) IS NOT NULL"
        );
        let rows_sql = format!(
            "SELECT * FROM actions WHERE {filter}
             ORDER BY (due_date IS NULL OR due_date >= $3), due_date IS NULL, due_date,
                      CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, id
             LIMIT {limit}"
        );
        let count_sql = format!("SELECT COUNT(*) FROM actions WHERE {filter}");
        let mut rows = sqlx::query_as::<_, ActionRow>(&rows_sql)
            .bind(workspace)
            .bind(series_id)
            .bind(today);
        let mut count = sqlx::query(&count_sql)
            .bind(workspace)
            .bind(series_id)
            .bind(today);
        for o in owners {
            rows = rows.bind(o);
            count = count.bind(o);
        }
        let rows = rows
            .fetch_all(&self.pool)
            .await
            .context("reading open action items for a meeting")?;
        // Fewer rows than asked for are all there are: no count needed
        // (a reminder's render reads one statement less).
        let fetched = rows.len() as i64;
        if fetched < limit {
            return Ok((rows, fetched));
        }
        let total: i64 = count
            .fetch_one(&self.pool)
            .await
            .context("counting open action items for a meeting")?
            .try_get(0)?;
        Ok((rows, total))
    }

    /// What the daily chase lists: open items due on or before `date`
    /// (YYYY-MM-DD), across workspaces, that have not been escalated as
    /// overdue for their current due date; at most `per_owner` for each
    /// workspace and owner (earliest due first), each with how many that
    /// owner has in all. Capped by the database, so a tick costs the same
    /// whatever the backlog: at a million items the uncapped read returned
    /// 99,171 rows and held up the tick for seconds.
    pub async fn chase_candidates(
        &self,
        date: &str,
        per_owner: i64,
    ) -> anyhow::Result<Vec<(ActionRow, i64)>> {
        let rows = sqlx::query(
            "SELECT * FROM (
               SELECT a.*,
                      ROW_NUMBER() OVER (PARTITION BY a.workspace, a.owner ORDER BY a.due_date, a.id) AS chase_rank,
                      COUNT(*) OVER (PARTITION BY a.workspace, a.owner) AS chase_total
               FROM actions a
               WHERE a.status IN ('open', 'reopened') AND a.due_date IS NOT NULL AND a.due_date <= $1
                 AND NOT EXISTS (SELECT 1 FROM escalations e
                                 WHERE e.source = 'overdue:' || a.id || ':' || a.due_date)
             ) ranked
             WHERE chase_rank <= $2
             ORDER BY workspace, owner, due_date, id",
        )
        .bind(date)
        .bind(per_owner)
        .fetch_all(&self.pool)
        .await
        .context("reading due action items")?;
        rows.iter()
            .map(|r| {
                use sqlx::FromRow as _;
                Ok((ActionRow::from_row(r)?, r.try_get::<i64, _>("chase_total")?))
            })
            .collect()
    }

    /// Items done (not verified) for at least `period` seconds whose
    /// verification chase of the current round (`verify:<workspace>:<id>:<round>`,
    /// round = whole periods since done) is not queued yet: oldest first, at
    /// most `limit`. Items already chased this round are skipped by the
    /// database, so a tick does not re-offer every unverified item.
    pub async fn unverified_to_chase(
        &self,
        now: i64,
        period: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<ActionRow>> {
        let period = period.max(1);
        let cutoff = now.saturating_sub(period);
        sqlx::query_as::<_, ActionRow>(
            "SELECT * FROM actions a
             WHERE a.status = 'done' AND a.done_at <= $1
               AND NOT EXISTS (SELECT 1 FROM deliveries d
                               WHERE d.dedupe_key = 'verify:' || a.workspace || ':' || a.id || ':' || (($2 - a.done_at) / $3))
             ORDER BY a.done_at, a.id LIMIT $4",
        )
        .bind(cutoff)
        .bind(now)
        .bind(period)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .context("reading unverified action items")
    }

    /// Workspaces with any decision or action item.
    pub async fn active_workspaces(&self) -> anyhow::Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT workspace FROM actions UNION SELECT workspace FROM decisions ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await
        .context("listing workspaces")?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Items of `owner` whose task reads exactly `task`, oldest first (to
    /// match an imported line without a marker to the item it repeats).
    pub async fn actions_with_task(
        &self,
        workspace: &str,
        owner: &str,
        task: &str,
    ) -> anyhow::Result<Vec<ActionRow>> {
        sqlx::query_as::<_, ActionRow>(
            "SELECT * FROM actions WHERE workspace = $1 AND owner = $2 AND task = $3 ORDER BY id",
        )
        .bind(workspace)
        .bind(owner)
        .bind(task)
        .fetch_all(&self.pool)
        .await
        .context("finding action items by task")
    }

    /// Rendered lines at the last export, import or sync of `file`, by action id.
    pub async fn todo_snapshot(
        &self,
        workspace: &str,
        file: &str,
    ) -> anyhow::Result<Vec<(i64, String)>> {
        let rows =
            sqlx::query("SELECT action_id, line FROM todo_sync WHERE workspace = $1 AND file = $2")
                .bind(workspace)
                .bind(file)
                .fetch_all(&self.pool)
                .await
                .context("reading the TODO.md sync state")?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Record these items' lines for `file`, keeping the other items'.
    pub async fn save_todo_snapshot(
        &self,
        workspace: &str,
        file: &str,
        lines: &[(i64, String)],
    ) -> anyhow::Result<()> {
        self.write_todo_snapshot(workspace, file, lines, false)
            .await
    }

    /// Record exactly these items' lines for `file`, forgetting any other.
    pub async fn replace_todo_snapshot(
        &self,
        workspace: &str,
        file: &str,
        lines: &[(i64, String)],
    ) -> anyhow::Result<()> {
        self.write_todo_snapshot(workspace, file, lines, true).await
    }

    async fn write_todo_snapshot(
        &self,
        workspace: &str,
        file: &str,
        lines: &[(i64, String)],
        replace: bool,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        if replace {
            sqlx::query("DELETE FROM todo_sync WHERE workspace = $1 AND file = $2")
                .bind(workspace)
                .bind(file)
                .execute(&mut *tx)
                .await
                .context("clearing the TODO.md sync state")?;
        }
        for (id, line) in lines {
            sqlx::query(
                "INSERT INTO todo_sync (workspace, file, action_id, line) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (workspace, file, action_id) DO UPDATE SET line = excluded.line",
            )
            .bind(workspace)
            .bind(file)
            .bind(id)
            .bind(line)
            .execute(&mut *tx)
            .await
            .context("saving the TODO.md sync state")?;
        }
        tx.commit()
            .await
            .context("committing the TODO.md sync state")?;
        Ok(())
    }
}

/// SQLite, inside the command writer's savepoint: an action item and its
/// audit entry; the item's id.
fn insert_action_row(
    c: &rusqlite::Connection,
    a: &ActionRow,
    now: i64,
    change: &str,
) -> rusqlite::Result<i64> {
    let id: i64 = c
        .prepare_cached(
            "INSERT INTO actions (workspace, task, owner, due_date, priority, status, meeting_id, decision_id,
                                  created_by, created_at, updated_at, done_by, done_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12) RETURNING id",
        )?
        .query_row(
            rusqlite::params![
                a.workspace,
                a.task,
                a.owner,
                a.due_date,
                a.priority,
                a.status,
                a.meeting_id,
                a.decision_id,
                a.created_by,
                now,
                a.done_by,
                a.done_at,
            ],
            |r| r.get(0),
        )?;
    super::writer::audit_new(c, &a.workspace, "action", id, &a.created_by, now, change)?;
    Ok(id)
}

/// The thirteen values of a new action item's row, in column order.
fn action_binds<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    a: &'q ActionRow,
    now: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(&a.workspace)
        .bind(&a.task)
        .bind(&a.owner)
        .bind(&a.due_date)
        .bind(&a.priority)
        .bind(&a.status)
        .bind(a.meeting_id)
        .bind(a.decision_id)
        .bind(&a.created_by)
        .bind(now)
        .bind(now)
        .bind(&a.done_by)
        .bind(a.done_at)
}
