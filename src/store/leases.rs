//! Named leases for singleton work shared by several instances.

use anyhow::Context as _;

use super::Store;

impl Store {
    /// Take or renew the lease `name` for `holder` until `now + ttl_secs`.
    /// True when `holder` holds it afterwards: it was free, had lapsed, or
    /// was already `holder`'s. One statement, so two instances racing for a
    /// free lease cannot both win.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl_secs: i64,
        now: i64,
    ) -> anyhow::Result<bool> {
        let n = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
             WHERE leases.holder = excluded.holder OR leases.expires_at <= $4",
        )
        .bind(name)
        .bind(holder)
        .bind(now + ttl_secs)
        .bind(now)
        .execute(&self.pool)
        .await
        .with_context(|| format!("taking the lease `{name}`"))?
        .rows_affected();
        Ok(n == 1)
    }

    /// Give the lease up at once (a graceful stop), if `holder` still has it.
    pub async fn release_lease(&self, name: &str, holder: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await
            .with_context(|| format!("releasing the lease `{name}`"))?;
        Ok(())
    }

    /// Who holds `name` now, if anyone does.
    pub async fn lease_holder(&self, name: &str, now: i64) -> anyhow::Result<Option<String>> {
        sqlx::query_scalar("SELECT holder FROM leases WHERE name = $1 AND expires_at > $2")
            .bind(name)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .context("reading a lease")
    }
}
