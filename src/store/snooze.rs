//! Snooze on notices other than reminders: a chase, a verify chase or an
//! approval request is posted again, as it was, an hour later.

use anyhow::Context as _;

use super::Store;

impl Store {
    /// Post notice delivery `id` again at `at` (its Snooze button). False
    /// when there is no such notice in `workspace`, or it is one that cannot
    /// be snoozed (an escalation's posts, minutes), or it was already
    /// snoozed to that moment.
    pub async fn snooze_notice(&self, workspace: &str, id: i64, at: i64) -> anyhow::Result<bool> {
        let n = sqlx::query(
            "INSERT INTO deliveries (workspace, kind, dedupe_key, channel, body, due_at, next_try_at, mention)
             SELECT d.workspace, 'notice', 'snooze:' || CAST(d.id AS TEXT) || ':' || $1, d.channel, d.body, $2, $3, d.mention
             FROM deliveries d
             WHERE d.id = $4 AND d.workspace = $5 AND d.kind = 'notice'
               AND d.escalation_id IS NULL AND d.body IS NOT NULL
             ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(at.to_string())
        .bind(at)
        .bind(at)
        .bind(id)
        .bind(workspace)
        .execute(&self.pool)
        .await
        .context("snoozing a notice")?
        .rows_affected();
        Ok(n == 1)
    }
}
