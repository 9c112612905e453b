//! Backups of a SQLite database while it is in use: `VACUUM INTO` writes a
//! consistent copy (one read transaction, so it sees one moment of the
//! database however busy it is) without stopping writers for long.

use std::path::Path;

use anyhow::Context as _;
use sqlx::Row as _;

use super::{Backend, Store};

impl Store {
    /// Write a consistent copy of this SQLite database to `out`, which must
    /// not exist yet.
    pub async fn backup_to(&self, out: &Path) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.backend == Backend::Sqlite,
            "backups of PostgreSQL are pg_dump's job"
        );
        let target = out
            .to_str()
            .context("the backup path is not valid UTF-8")?
            .to_string();
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await
            .with_context(|| format!("writing the backup {}", out.display()))?;
        Ok(())
    }

    /// SQLite's own check of the whole file: `ok`, or what is wrong.
    pub async fn integrity(&self) -> anyhow::Result<String> {
        let row = sqlx::query("PRAGMA integrity_check")
            .fetch_one(&self.pool)
            .await
            .context("checking the database's integrity")?;
        Ok(row.try_get::<String, _>(0)?)
    }

    /// Fold SQLite's write-ahead log into the file (before the file is moved).
    pub async fn checkpoint(&self) -> anyhow::Result<()> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await
                .context("checkpointing the database")?;
        }
        Ok(())
    }

    /// Close every connection (one-shot commands, before touching the file).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
