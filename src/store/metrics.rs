//! What `/metrics` reads from the database: escalations by level and state,
//! and the connection pool's numbers.

use anyhow::Context as _;
use sqlx::Row as _;

use super::Store;

impl Store {
    /// (level, state, count) of every escalation: `level` is the index of
    /// its step on the escalation path. Resolved ones are counted too, so
    /// a rate of resolutions can be read from the series.
    pub async fn escalation_counts(&self) -> anyhow::Result<Vec<(String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT level, state, count(*) FROM escalations GROUP BY level, state ORDER BY level, state",
        )
        .fetch_all(&self.pool)
        .await
        .context("counting escalations by level and state")?;
        rows.iter()
            .map(|r| {
                let level: i64 = r.try_get(0)?;
                let state: String = r.try_get(1)?;
                let count: i64 = r.try_get(2)?;
                Ok((level.to_string(), state, count))
            })
            .collect::<Result<_, sqlx::Error>>()
            .context("reading escalation counts")
    }

    /// (open, idle, max) connections of the pool.
    pub fn pool_stats(&self) -> (u32, u32, u32) {
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
        (
            self.pool.size(),
            idle.min(self.pool.size()),
            self.pool.options().get_max_connections(),
        )
    }
}
