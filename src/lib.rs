//! Quorum: a chat-ops bot that runs an executive team's rhythm of meetings,
//! decisions and escalations. The binary in `main.rs` only wires the CLI;
//! everything else lives here so the tests can reach it.
//!
//! Data flows one way: adapter -> command -> service -> store; the scheduler
//! -> service -> chat.

pub mod app;
pub mod calendar;
pub mod chat;
pub mod command;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod leader;
pub mod metrics;
pub mod report;
pub mod scheduler;
pub mod service;
pub mod store;

use std::sync::Arc;

use anyhow::Context as _;

/// The workspace of the local console adapter.
pub const CONSOLE_WORKSPACE: &str = "console";

/// Open the store, recover deliveries a killed process left in flight,
/// create the config's missing series, and build the core and scheduler.
pub async fn start<C: chat::Chat>(
    config: config::Config,
    chat: Arc<C>,
) -> anyhow::Result<(app::App, Arc<scheduler::Scheduler<C>>)> {
    let now = chrono::Utc::now();
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    let store = store::Store::connect(&config.database_url)
        .await
        .with_context(|| "starting with the configured database")?
        .with_lease(config.lease.num_seconds());
    // On SQLite this process is the only one, so whatever is `sending` was
    // left by a dead predecessor. On PostgreSQL other live instances own
    // their in-flight rows: resetting them would send twice; their leases
    // lapse if they die, and claim_due takes them over then.
    let recovered = match store.backend() {
        store::Backend::Sqlite => store.recover_inflight().await?,
        store::Backend::Postgres => 0,
    };
    if recovered > 0 {
        tracing::warn!(
            count = recovered,
            "re-queued deliveries left in flight by a previous run"
        );
    }
    let config = Arc::new(config);
    let mut app = app::App::new(config.clone(), store.clone());
    let created = app.meetings.seed(&config, &config.series, now).await?;
    if created > 0 {
        tracing::info!(count = created, "created meeting series from the config");
    }
    let scheduler = Arc::new(scheduler::Scheduler::new(store, &config, chat, now));
    app.scheduler_wake = Some(scheduler.waker());
    app.scheduler_health = Some(scheduler.health());
    Ok((app, scheduler))
}
