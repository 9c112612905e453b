//! `GET /calendar/{token}.ics` (a workspace's active series) and
//! `GET /calendar/{token}/{role}.ics` (the series that executive attends).
//! A malformed, unknown or revoked token, and an unknown role, answer 404
//! with the same body, so a guess learns nothing.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::HttpState;
use crate::service::calendar;

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

pub async fn workspace_feed(State(state): State<HttpState>, Path(file): Path<String>) -> Response {
    match file.strip_suffix(".ics") {
        Some(token) => serve(&state, token, None).await,
        None => not_found(),
    }
}

pub async fn role_feed(
    State(state): State<HttpState>,
    Path((token, file)): Path<(String, String)>,
) -> Response {
    match file.strip_suffix(".ics") {
        Some(role) => serve(&state, &token, Some(role)).await,
        None => not_found(),
    }
}

async fn serve(state: &HttpState, token: &str, role: Option<&str>) -> Response {
    let app = &state.app;
    let now = chrono::Utc::now();
    let result = async {
        let Some(workspace) = calendar::workspace_of(&app.store, token).await? else {
            return Ok(None);
        };
        let Some(items) = calendar::feed_series(&app.store, &app.config, &workspace, role).await?
        else {
            return Ok(None);
        };
        let name = match role {
            Some(r) => format!("Quorum: {}", app.config.org.describe(r)),
            None => "Quorum: executive meetings".to_string(),
        };
        anyhow::Ok(Some(crate::calendar::feed(
            &name,
            &items,
            &app.config.holidays,
            now,
        )))
    }
    .await;
    match result {
        Ok(Some(body)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            body,
        )
            .into_response(),
        Ok(None) => not_found(),
        Err(e) => {
            tracing::error!(error = ?e, "calendar feed failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the calendar is unavailable; try again\n",
            )
                .into_response()
        }
    }
}
