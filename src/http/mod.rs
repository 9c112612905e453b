//! Quorum's HTTP server (axum): Discord's and Slack's endpoints, health and
//! readiness probes, the calendar feeds and the dashboard. Adapters here turn a platform request into the platform-neutral
//! command and the core's reply into the platform's response.

pub mod calendar;
pub mod dashboard;
pub mod discord;
pub mod slack;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};

use crate::app::App;

#[derive(Clone)]
pub struct HttpState {
    pub app: App,
    /// Discord application's public key; without it the Discord endpoint answers 404.
    pub discord_key: Option<ed25519_dalek::VerifyingKey>,
    /// Slack signing secret; without it the Slack endpoints answer 404.
    pub slack_secret: Option<String>,
    /// Slack's Web API, for the forms buttons open (`views.open`); without
    /// it a Reject button says what to type instead.
    pub slack_web: Option<std::sync::Arc<crate::chat::slack::SlackChat>>,
}

pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/discord/interactions", post(discord::interactions))
        .route("/slack/commands", post(slack::commands))
        .route("/slack/interactions", post(slack::interactions))
        .route("/calendar/{file}", get(calendar::workspace_feed))
        .route("/calendar/{token}/{file}", get(calendar::role_feed))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/dashboard/login", get(dashboard::login))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Liveness: the process is up and serving. No database call, so it answers
/// at once whatever the database is doing.
async fn healthz() -> (StatusCode, &'static str) {
    (StatusCode::OK, "ok\n")
}

/// Prometheus metrics as text (see [`crate::metrics`]). Public paths are
/// chosen by the reverse proxy: deploy/nginx/quorum.conf never passes this on.
async fn metrics(State(state): State<HttpState>) -> impl axum::response::IntoResponse {
    let text = crate::metrics::render(&state.app.store, chrono::Utc::now()).await;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
}

/// How long readiness waits for the database.
const READY_DB_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// Readiness: the database answers within a second with every migration
/// applied, the scheduler loop finished a tick within twice its longest
/// sleep, and the oldest due, undelivered item is younger than
/// `[scheduler] max_lag`. 200 with the checks as JSON when all hold, 503
/// with the same JSON and a `reason` when one fails.
async fn readyz(State(state): State<HttpState>) -> (StatusCode, axum::Json<serde_json::Value>) {
    let app = &state.app;
    let now = chrono::Utc::now();
    let mut reasons: Vec<String> = Vec::new();
    let checks = async {
        app.store.ready().await?;
        app.store.lag(now.timestamp()).await
    };
    let lag = match tokio::time::timeout(READY_DB_TIMEOUT, checks).await {
        Ok(Ok(lag)) => Some(lag),
        Ok(Err(e)) => {
            tracing::warn!(error = ?e, "readiness: database check failed");
            reasons.push(format!("database: {e}"));
            None
        }
        Err(_) => {
            reasons.push("database: no answer within 1s".to_string());
            None
        }
    };
    let database = if lag.is_some() { "ok" } else { "unavailable" };
    let max_lag = app.config.max_lag.num_seconds();
    if let Some(lag) = lag
        && lag > max_lag
    {
        reasons.push(format!(
            "lag: the oldest due delivery has waited {lag}s (max_lag {max_lag}s)"
        ));
    }
    let mut scheduler = serde_json::json!(null);
    if let Some(h) = &app.scheduler_health {
        use std::sync::atomic::Ordering;
        let running = h.running.load(Ordering::SeqCst);
        let last = h.last_tick_ms.load(Ordering::SeqCst);
        let age_ms = now.timestamp_millis().saturating_sub(last);
        let limit_ms = 2 * crate::scheduler::MAX_WAKE.as_millis() as i64;
        if !running {
            reasons.push("scheduler: the loop is not running".to_string());
        } else if last == 0 || age_ms > limit_ms {
            reasons.push(format!(
                "scheduler: no tick finished in the last {}s",
                limit_ms / 1000
            ));
        }
        scheduler = serde_json::json!({
            "running": running,
            "last_tick_age_ms": (last > 0).then_some(age_ms),
            "faults": h.faults.load(Ordering::Relaxed),
        });
    }
    let ready = reasons.is_empty();
    let body = serde_json::json!({
        "ready": ready,
        "reason": (!ready).then(|| reasons.join("; ")),
        "database": database,
        "lag_secs": lag,
        "max_lag_secs": max_lag,
        "scheduler": scheduler,
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body))
}

/// Serve until `shutdown` resolves.
pub async fn serve(
    state: HttpState,
    listen: &str,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    tracing::info!(address = %listen, "HTTP server listening");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP")
}

/// Serve on a listener already bound, until the task is dropped (the
/// console's `--serve`).
pub async fn serve_on(listener: tokio::net::TcpListener, state: HttpState) -> anyhow::Result<()> {
    use anyhow::Context as _;
    axum::serve(listener, router(state))
        .await
        .context("serving HTTP")
}

/// Parse a hex Ed25519 public key (`DISCORD_PUBLIC_KEY`).
pub fn parse_public_key(hex_key: &str) -> anyhow::Result<ed25519_dalek::VerifyingKey> {
    let bytes = hex::decode(hex_key.trim())
        .map_err(|_| anyhow::anyhow!("DISCORD_PUBLIC_KEY is not hex"))?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("DISCORD_PUBLIC_KEY must be 32 bytes (64 hex characters)"))?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map_err(|_| anyhow::anyhow!("DISCORD_PUBLIC_KEY is not a valid Ed25519 key"))
}
