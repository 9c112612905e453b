//! Calendar feeds: issuing and rotating an executive's feed token, checking
//! a token from a URL, and gathering a workspace's series for the feed.
//!
//! A token is 64 bits of public selector and 128 bits of secret verifier,
//! both from the OS's random source, written as 48 hex characters. Only the
//! verifier's SHA-256 is stored; a token from a URL is checked by its
//! selector, then by comparing verifier hashes in constant time.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tracing::instrument;

use crate::calendar::FeedSeries;
use crate::config::Config;
use crate::domain::org::Actor;
use crate::error::{Result, user_err};
use crate::service::meetings::Series;
use crate::store::Store;

const SELECTOR_BYTES: usize = 8;
const VERIFIER_BYTES: usize = 16;
/// Hex characters in a token.
pub const TOKEN_LEN: usize = 2 * (SELECTOR_BYTES + VERIFIER_BYTES);

/// What `/meeting calendar` gives back.
#[derive(Debug, Clone)]
pub enum Issued {
    /// A new token (shown once).
    New(String),
    /// The actor already holds a live token, issued at this instant.
    Already(i64),
}

fn hash_hex(verifier: &str) -> String {
    hex::encode(Sha256::digest(verifier.as_bytes()))
}

/// Issue a token to `actor` unless they hold one (or `rotate`: revoke theirs
/// and issue another). Only executives of the workspace get one.
#[instrument(skip(store, config), fields(workspace = %actor.workspace, user = %actor.user))]
pub async fn issue(
    store: &Store,
    config: &Config,
    actor: &Actor,
    rotate: bool,
    now: DateTime<Utc>,
) -> Result<Issued> {
    if config.roles_for(actor).is_empty() {
        return user_err(
            "calendar feeds are for the executives of this workspace (the roles in the org chart); ask one of them for a link",
        );
    }
    if !rotate
        && let Some(at) = store
            .live_calendar_token(&actor.workspace, &actor.user)
            .await?
    {
        return Ok(Issued::Already(at));
    }
    let mut bytes = [0u8; SELECTOR_BYTES + VERIFIER_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("reading the OS random source for a calendar token: {e}"))?;
    let token = hex::encode(bytes);
    let (selector, verifier) = token.split_at(2 * SELECTOR_BYTES);
    store
        .issue_calendar_token(
            &actor.workspace,
            &actor.user,
            selector,
            &hash_hex(verifier),
            now.timestamp(),
        )
        .await?;
    tracing::info!(rotated = rotate, "calendar token issued");
    Ok(Issued::New(token))
}

/// The workspace a token from a URL opens, or `None` for a malformed,
/// unknown or revoked one (all three answer the same).
pub async fn workspace_of(store: &Store, token: &str) -> anyhow::Result<Option<String>> {
    if token.len() != TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let token = token.to_ascii_lowercase();
    let (selector, verifier) = token.split_at(2 * SELECTOR_BYTES);
    let Some(row) = store.calendar_token(selector).await? else {
        return Ok(None);
    };
    let given = hash_hex(verifier);
    let same: bool = given.as_bytes().ct_eq(row.verifier_hash.as_bytes()).into();
    Ok(same.then_some(row.workspace))
}

/// Whether `role`'s executive attends `series` (by role key or chat user).
fn attends(config: &Config, role: &str, series: &Series) -> bool {
    let exec = config.org.get(role);
    series.attendees.iter().any(|a| {
        a == role
            || exec
                .is_some_and(|e| e.user.as_deref() == Some(a) || e.slack_user.as_deref() == Some(a))
    })
}

/// The active series of `workspace` for the feed (only `role`'s, when
/// given), or `None` when `role` is not an executive of the org chart.
pub async fn feed_series(
    store: &Store,
    config: &Config,
    workspace: &str,
    role: Option<&str>,
) -> anyhow::Result<Option<Vec<FeedSeries>>> {
    if let Some(r) = role
        && config.org.get(r).is_none()
    {
        return Ok(None);
    }
    let mut out = Vec::new();
    for row in store.list_series(workspace).await? {
        let series = match Series::from_row(row) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "a series left out of the calendar feed");
                continue;
            }
        };
        if let Some(r) = role
            && !attends(config, r, &series)
        {
            continue;
        }
        let overrides = store.overrides(series.row.id, 0).await?;
        let agenda = match series.row.next_at {
            Some(next) => store
                .agenda(series.row.id, next)
                .await?
                .into_iter()
                .map(|i| i.text)
                .collect(),
            None => Vec::new(),
        };
        let attendees = series
            .attendees
            .iter()
            .map(|a| (a.to_string(), config.org.describe(a)))
            .collect();
        out.push(FeedSeries {
            series,
            overrides,
            agenda,
            attendees,
        });
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verifier_is_stored_as_its_sha256() {
        assert_eq!(
            hash_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(TOKEN_LEN, 48);
    }
}
