//! Snooze on notices other than reminders: a chase, a verify chase or an
//! approval request is posted again an hour later. The copy remembers when
//! the notice was first posted (`Notice::first_sent`), so that it is brought
//! up to date before it goes out (see `service::snoozed`).

use anyhow::Context as _;
use sqlx::Row as _;

use super::Store;
use crate::domain::notice::Notice;

impl Store {
    /// Post notice delivery `id` again at `at` (its Snooze button). False
    /// when there is no such notice in `workspace`, or it is one that cannot
    /// be snoozed (an escalation's posts, minutes), or it was already
    /// snoozed to that moment.
    pub async fn snooze_notice(&self, workspace: &str, id: i64, at: i64) -> anyhow::Result<bool> {
        let Some(row) = sqlx::query(
            "SELECT channel, body, mention, COALESCE(sent_at, due_at) AS first FROM deliveries
             WHERE id = $1 AND workspace = $2 AND kind = 'notice'
               AND escalation_id IS NULL AND body IS NOT NULL",
        )
        .bind(id)
        .bind(workspace)
        .fetch_optional(&self.pool)
        .await
        .context("reading the notice to snooze")?
        else {
            return Ok(false);
        };
        let channel: String = row.try_get("channel")?;
        let body: String = row.try_get("body")?;
        let mention: Option<String> = row.try_get("mention")?;
        let first: i64 = row.try_get("first")?;
        // A copy of a copy keeps the first time it was posted.
        let body = match Notice::from_json(&body) {
            Some(mut n) => {
                n.first_sent.get_or_insert(first);
                n.to_json()
            }
            None => body,
        };
        let n = sqlx::query(
            "INSERT INTO deliveries (workspace, kind, dedupe_key, channel, body, due_at, next_try_at, mention)
             VALUES ($1, 'notice', $2, $3, $4, $5, $6, $7)
             ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(workspace)
        .bind(format!("snooze:{id}:{at}"))
        .bind(channel)
        .bind(body)
        .bind(at)
        .bind(at)
        .bind(mention)
        .execute(&self.pool)
        .await
        .context("snoozing a notice")?
        .rows_affected();
        Ok(n == 1)
    }
}
