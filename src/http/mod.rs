//! Quorum's HTTP server (axum): Discord's interactions endpoint and a health
//! probe. Adapters here turn a platform request into the platform-neutral
//! command and the core's reply into the platform's response.

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
}

pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/discord/interactions", post(discord::interactions))
        .route("/slack/commands", post(slack::commands))
        .route("/slack/interactions", post(slack::interactions))
        .route("/healthz", get(healthz))
        .with_state(state)
}

/// 200 when this instance can reach its database, 503 otherwise.
async fn healthz(State(state): State<HttpState>) -> (StatusCode, &'static str) {
    match state.app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(e) => {
            tracing::error!(error = ?e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n")
        }
    }
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
