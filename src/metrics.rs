//! Prometheus metrics, served as text at `GET /metrics` (prometheus-client).
//!
//! Counters and histograms live in one process-wide registry and are bumped
//! by one-line calls at the places things happen ([`delivery`],
//! [`command`], [`chat_call`], [`rate_limit_wait`], [`tick`]). What the
//! database knows (the scheduler's lag, escalations by level and state, the
//! connection pool) is read when the endpoint is scraped, so it is true
//! across instances and restarts.
//!
//! Label values are closed sets (platforms, delivery kinds, command names,
//! outcomes, HTTP status codes, escalation levels from the config): never
//! user text, so the number of series stays bounded.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::store::Store;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    platform: &'static str,
    kind: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    command: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandName {
    command: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    platform: &'static str,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Platform {
    platform: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EscalationLabels {
    level: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolName {
    pool: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolState {
    state: &'static str,
}

struct Metrics {
    registry: Registry,
    deliveries: Family<DeliveryLabels, Counter>,
    commands: Family<CommandLabels, Counter>,
    command_seconds: Family<CommandName, Histogram>,
    chat_calls: Family<CallLabels, Counter>,
    rate_limit_waits: Family<Platform, Counter>,
    tick_seconds: Histogram,
    lag_seconds: Gauge,
    escalations: Family<EscalationLabels, Gauge>,
    pool: Family<PoolState, Gauge>,
    pool_max: Gauge,
    pool_waits: Counter,
    pool_size: Gauge,
    pool_acquire_waits: Family<PoolName, Counter>,
}

/// Buckets from 1 ms to about 16 s.
fn latency_buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 15)
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("quorum");
    let deliveries = Family::<DeliveryLabels, Counter>::default();
    registry.register(
        "deliveries",
        "Deliveries by platform, kind and outcome (sent, late, missed, retried, failed)",
        deliveries.clone(),
    );
    let commands = Family::<CommandLabels, Counter>::default();
    registry.register(
        "commands",
        "Commands handled, by command and outcome (ok, user_error, internal_error)",
        commands.clone(),
    );
    let command_seconds =
        Family::<CommandName, Histogram>::new_with_constructor(
            || Histogram::new(latency_buckets()),
        );
    registry.register(
        "command_duration_seconds",
        "How long a command took, by command",
        command_seconds.clone(),
    );
    let chat_calls = Family::<CallLabels, Counter>::default();
    registry.register(
        "chat_api_calls",
        "Calls to a chat platform's API, by platform and HTTP status (or `error` without one)",
        chat_calls.clone(),
    );
    let rate_limit_waits = Family::<Platform, Counter>::default();
    registry.register(
        "chat_rate_limit_waits",
        "Times a chat API's rate limit made a post wait, by platform",
        rate_limit_waits.clone(),
    );
    let tick_seconds = Histogram::new(latency_buckets());
    registry.register(
        "scheduler_tick_duration_seconds",
        "How long one scheduler tick took",
        tick_seconds.clone(),
    );
    let lag_seconds = Gauge::default();
    registry.register(
        "scheduler_lag_seconds",
        "Age of the oldest due, undelivered item (0 when nothing waits)",
        lag_seconds.clone(),
    );
    let escalations = Family::<EscalationLabels, Gauge>::default();
    registry.register(
        "escalations",
        "Escalations by current level and state",
        escalations.clone(),
    );
    let pool = Family::<PoolState, Gauge>::default();
    registry.register(
        "db_pool_connections",
        "Database connections open, by state (in_use, idle)",
        pool.clone(),
    );
    let pool_max = Gauge::default();
    registry.register(
        "db_pool_max_connections",
        "The most connections the pool opens",
        pool_max.clone(),
    );
    let pool_waits = Counter::default();
    registry.register(
        "db_pool_acquire_timeouts",
        "Commands that found no database connection free within the acquire timeout (2 s)",
        pool_waits.clone(),
    );
    let pool_size = Gauge::default();
    registry.register(
        "db_pool_size",
        "Database connections open (in use and idle)",
        pool_size.clone(),
    );
    let pool_acquire_waits = Family::<PoolName, Counter>::default();
    registry.register(
        "db_pool_waits",
        "Acquires that found no database connection free and waited for one, by pool (`main`: reads, and every query on PostgreSQL; `sqlite_writer`: SQLite's one write connection)",
        pool_acquire_waits.clone(),
    );
    for pool in ["main", "sqlite_writer"] {
        let _ = pool_acquire_waits.get_or_create(&PoolName { pool });
    }
    Metrics {
        registry,
        deliveries,
        commands,
        command_seconds,
        chat_calls,
        rate_limit_waits,
        tick_seconds,
        lag_seconds,
        escalations,
        pool,
        pool_max,
        pool_waits,
        pool_size,
        pool_acquire_waits,
    }
});

/// The platform a workspace's messages go to, as a label.
fn platform_of(workspace: &str) -> &'static str {
    match crate::domain::workspace::Kind::of(workspace).platform() {
        "local" => "console",
        p => p,
    }
}

/// A delivery of `kind` to `workspace` ended with `outcome`: `sent`,
/// `late` (sent, but late), `missed`, `retried` or `failed`.
pub fn delivery(workspace: &str, kind: &str, outcome: &'static str) {
    METRICS
        .deliveries
        .get_or_create(&DeliveryLabels {
            platform: platform_of(workspace),
            kind: kind.to_string(),
            outcome,
        })
        .inc();
}

/// A command finished after `took`; `outcome` is `ok`, `user_error` or
/// `internal_error`.
pub fn command(name: &str, outcome: &'static str, took: Duration) {
    METRICS
        .commands
        .get_or_create(&CommandLabels {
            command: name.to_string(),
            outcome,
        })
        .inc();
    METRICS
        .command_seconds
        .get_or_create(&CommandName {
            command: name.to_string(),
        })
        .observe(took.as_secs_f64());
}

/// A chat API call answered with `status` (an HTTP status, or none when the
/// request never got an answer).
pub fn chat_call(platform: &'static str, status: Option<u16>) {
    let status = status.map_or_else(|| "error".to_string(), |s| s.to_string());
    METRICS
        .chat_calls
        .get_or_create(&CallLabels { platform, status })
        .inc();
}

/// A chat API's rate limit made a post wait.
pub fn rate_limit_wait(platform: &'static str) {
    METRICS
        .rate_limit_waits
        .get_or_create(&Platform { platform })
        .inc();
}

/// One scheduler tick took `took`.
pub fn tick(took: Duration) {
    METRICS.tick_seconds.observe(took.as_secs_f64());
}

/// A command waited for a database connection and got none in time.
pub fn pool_wait() {
    METRICS.pool_waits.inc();
}

/// An acquire on `pool` found no connection free and waits for one.
pub fn pool_waited(pool: &'static str) {
    METRICS
        .pool_acquire_waits
        .get_or_create(&PoolName { pool })
        .inc();
}

/// The metrics as Prometheus text, after reading what the database knows.
/// A database that does not answer leaves those gauges at their last values
/// (readiness reports the fault).
pub async fn render(store: &Store, now: chrono::DateTime<chrono::Utc>) -> String {
    let m = &*METRICS;
    let (size, idle, max) = store.pool_stats();
    m.pool
        .get_or_create(&PoolState { state: "in_use" })
        .set(i64::from(size.saturating_sub(idle)));
    m.pool
        .get_or_create(&PoolState { state: "idle" })
        .set(i64::from(idle));
    m.pool_max.set(i64::from(max));
    m.pool_size.set(i64::from(size));
    let read = async {
        let lag = store.lag(now.timestamp()).await?;
        let escalations = store.escalation_counts().await?;
        anyhow::Ok((lag, escalations))
    };
    match tokio::time::timeout(Duration::from_secs(1), read).await {
        Ok(Ok((lag, escalations))) => {
            m.lag_seconds.set(lag.max(0));
            m.escalations.clear();
            for (level, state, count) in escalations {
                m.escalations
                    .get_or_create(&EscalationLabels { level, state })
                    .set(count);
            }
        }
        Ok(Err(e)) => tracing::warn!(error = ?e, "metrics: reading the database failed"),
        Err(_) => tracing::warn!("metrics: the database did not answer within 1s"),
    }
    let mut text = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &m.registry) {
        tracing::error!(error = ?e, "metrics: encoding failed");
    }
    text
}
