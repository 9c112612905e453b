//! The store's connection pools, counted: every acquire that finds no
//! connection free (all of them in use, and the pool at its size limit) is a
//! wait, counted in `/metrics` by pool. Queries run on `&Pool` exactly as on
//! sqlx's own pool (it is an `Executor` that hands each call on), so the
//! count covers every statement without a change where they are written.

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use sqlx::any::{Any, AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo};
use sqlx::{AnyPool, Describe, Either, Execute, Executor};

#[derive(Clone, Debug)]
pub(crate) struct Pool {
    inner: AnyPool,
    /// The `pool` label of its waits.
    name: &'static str,
}

impl std::ops::Deref for Pool {
    type Target = AnyPool;
    fn deref(&self) -> &AnyPool {
        &self.inner
    }
}

impl Pool {
    pub(crate) fn new(inner: AnyPool, name: &'static str) -> Pool {
        Pool { inner, name }
    }

    /// Whether an acquire now has to wait for another user's connection.
    pub(crate) fn is_exhausted(&self) -> bool {
        !self.inner.is_closed()
            && self.inner.num_idle() == 0
            && self.inner.size() >= self.inner.options().get_max_connections()
    }

    /// Count the acquire about to happen when it has to wait.
    fn note_acquire(&self) {
        if self.is_exhausted() {
            crate::metrics::pool_waited(self.name);
        }
    }

    pub(crate) async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<Any>, sqlx::Error> {
        self.note_acquire();
        self.inner.acquire().await
    }

    pub(crate) async fn begin_with(
        &self,
        statement: impl Into<std::borrow::Cow<'static, str>>,
    ) -> Result<sqlx::Transaction<'static, Any>, sqlx::Error> {
        self.note_acquire();
        self.inner.begin_with(statement).await
    }
}

impl<'p> Executor<'p> for &'_ Pool {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        self.note_acquire();
        (&self.inner).fetch_many(query)
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        self.note_acquire();
        (&self.inner).fetch_optional(query)
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement<'q>, sqlx::Error>>
    where
        'p: 'e,
    {
        self.note_acquire();
        (&self.inner).prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<Any>, sqlx::Error>>
    where
        'p: 'e,
    {
        self.note_acquire();
        (&self.inner).describe(sql)
    }
}

#[cfg(test)]
mod tests {
    /// The waits of `pool` as `/metrics` shows them.
    async fn waits(store: &crate::store::Store, pool: &str) -> f64 {
        let text = crate::metrics::render(store, chrono::Utc::now()).await;
        let series = format!("quorum_db_pool_waits_total{{pool=\"{pool}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(series.as_str()))
            .unwrap_or_else(|| panic!("no {series} in {text}"))
            .parse()
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_that_finds_every_connection_in_use_is_counted_as_a_wait_and_then_served() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("q.db").display());
        let store = crate::store::Store::connect(&url).await.unwrap();
        let before = waits(&store, "main").await;
        let max = store.pool.options().get_max_connections();
        let mut held = Vec::new();
        for _ in 0..max {
            held.push(store.pool.acquire().await.unwrap());
        }
        assert!(store.pool.is_exhausted());
        let reader = store.clone();
        let read = tokio::spawn(async move { reader.lag(0).await });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(!read.is_finished(), "the read waits for a connection");
        drop(held);
        assert_eq!(read.await.unwrap().unwrap(), 0);
        // The counter is the process's, and other tests in this binary use
        // pools at the same time: this wait is counted, theirs may be too.
        let after = waits(&store, "main").await;
        assert!(
            after >= before + 1.0,
            "the wait is counted: {before} -> {after}"
        );
        assert!(!store.pool.is_exhausted());
    }
}
