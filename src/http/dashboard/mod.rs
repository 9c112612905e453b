//! `GET /dashboard/login?token=...` exchanges a one-use link from
//! `/dashboard` for a session cookie and redirects to `GET /dashboard`, the
//! page of the session's workspace (see [`page`]). There is no other way
//! in: without a live session the page answers 401, and the session alone
//! names the workspace shown.

pub mod chart;
pub mod page;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::HttpState;
use crate::service::dashboard::{self as service, Filters, SESSION_HOURS};
use crate::store::dashboard::LinkRefused;

/// The session cookie's name.
pub const COOKIE: &str = "quorum_dashboard";

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    token: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    exec: Option<String>,
    category: Option<String>,
}

/// Headers every dashboard answer carries: not cached, not framed, no
/// scripts, and no referrer (the login URL holds a token).
fn guarded(status: StatusCode, body: String, extra: &[(header::HeaderName, String)]) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    for (name, value) in extra {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.append(name.clone(), v);
        }
    }
    r
}

fn message(status: StatusCode, title: &str, text: &str) -> Response {
    guarded(status, page::message(title, text).into_string(), &[])
}

fn unavailable() -> Response {
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        "The dashboard is unavailable",
        "Quorum could not read its database just now. Try again in a minute.",
    )
}

/// `GET /dashboard/login?token=...`.
pub async fn login(State(state): State<HttpState>, Query(q): Query<LoginQuery>) -> Response {
    let Some(token) = q.token.filter(|t| !t.is_empty()) else {
        return message(
            StatusCode::BAD_REQUEST,
            "No sign-in token",
            "This address needs the token of a sign-in link. Type /dashboard in chat for a new link.",
        );
    };
    let app = &state.app;
    match service::sign_in(&app.store, &token, chrono::Utc::now()).await {
        Ok(Ok(session)) => {
            let secure = app
                .config
                .public_url
                .as_deref()
                .is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"));
            let cookie = format!(
                "{COOKIE}={}; Path=/dashboard; Max-Age={}; HttpOnly; SameSite=Lax{}",
                session.cookie,
                SESSION_HOURS * 3600,
                if secure { "; Secure" } else { "" }
            );
            let mut r = guarded(
                StatusCode::SEE_OTHER,
                String::new(),
                &[
                    (header::SET_COOKIE, cookie),
                    (header::LOCATION, "/dashboard".to_string()),
                ],
            );
            r.headers_mut().remove(header::CONTENT_TYPE);
            r
        }
        Ok(Err(LinkRefused::Unknown)) => message(
            StatusCode::NOT_FOUND,
            "Unknown sign-in link",
            "Quorum does not know this sign-in link. Type /dashboard in chat for a new one.",
        ),
        Ok(Err(LinkRefused::Used)) => message(
            StatusCode::GONE,
            "This sign-in link was already used",
            "Each link works once. Type /dashboard in chat for a new one.",
        ),
        Ok(Err(LinkRefused::Expired)) => message(
            StatusCode::GONE,
            "This sign-in link has expired",
            "Links work for 15 minutes. Type /dashboard in chat for a new one.",
        ),
        Err(e) => {
            tracing::error!(error = ?e, "dashboard sign-in failed");
            unavailable()
        }
    }
}

/// The value of our cookie in a request's `Cookie` headers.
fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_string())
}

/// `GET /dashboard[?exec=cfo&category=budget]`.
pub async fn dashboard(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let app = &state.app;
    let now = chrono::Utc::now();
    let holder = match cookie_value(&headers) {
        None => None,
        Some(c) => match service::session(&app.store, &c, now).await {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = ?e, "reading a dashboard session failed");
                return unavailable();
            }
        },
    };
    let Some(holder) = holder else {
        return message(
            StatusCode::UNAUTHORIZED,
            "Sign in to the dashboard",
            "Type /dashboard in your workspace's chat for a private sign-in link. Sessions last 12 hours.",
        );
    };
    let filters = match Filters::parse(&app.config, q.exec.as_deref(), q.category.as_deref()) {
        Ok(f) => f,
        Err(e) => return message(StatusCode::BAD_REQUEST, "That filter does not apply", &e),
    };
    match service::gather(&app.store, &app.config, &holder, filters, now).await {
        Ok(d) => guarded(
            StatusCode::OK,
            page::render(&d, &app.config).into_string(),
            &[],
        ),
        Err(e) => {
            tracing::error!(error = ?e, workspace = %holder.workspace, "building the dashboard failed");
            unavailable()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; quorum_dashboard=abc ; b=2"),
        );
        assert_eq!(cookie_value(&h).as_deref(), Some("abc"));
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("quorum_dashboardx=1"),
        );
        assert_eq!(cookie_value(&h), None);
    }
}
