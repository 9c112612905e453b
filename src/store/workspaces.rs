//! The workspace each platform is pinned to when the config names none.

use anyhow::Context as _;
use sqlx::Row;

use super::Store;

impl Store {
    /// Pin `workspace` as `platform`'s one workspace unless one is pinned
    /// already; returns the pinned one (the first to ask wins, on every instance).
    pub async fn pin_workspace(
        &self,
        platform: &str,
        workspace: &str,
        now: i64,
    ) -> anyhow::Result<String> {
        sqlx::query(
            "INSERT INTO pinned_workspaces (platform, workspace, at) VALUES ($1, $2, $3)
             ON CONFLICT (platform) DO NOTHING",
        )
        .bind(platform)
        .bind(workspace)
        .bind(now)
        .execute(&self.pool)
        .await
        .context("pinning a workspace")?;
        let row = sqlx::query("SELECT workspace FROM pinned_workspaces WHERE platform = $1")
            .bind(platform)
            .fetch_one(&self.pool)
            .await
            .context("reading the pinned workspace")?;
        Ok(row.try_get("workspace")?)
    }
}
