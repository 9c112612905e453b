//! The two kinds of error: one a user may read (safe, specific, helpful) and
//! an internal one, shown as "Something went wrong (ref XYZ)" while the whole
//! chain goes to the log under the same reference.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input or a refused action: the text is shown to the user as is.
    #[error("{0}")]
    User(String),
    /// Anything else: logged in full, shown only by reference.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn user(msg: impl Into<String>) -> Self {
        Error::User(msg.into())
    }

    /// The text a user may see. Internal errors are logged here, once.
    pub fn to_user_text(&self) -> String {
        match self {
            Error::User(msg) => msg.clone(),
            Error::Internal(e)
                if e.chain()
                    .any(|c| c.downcast_ref::<crate::store::AlreadyHandled>().is_some()) =>
            {
                ALREADY_DONE.to_string()
            }
            Error::Internal(e) => {
                let reference = error_reference();
                tracing::error!(reference = %reference, error = ?e, "internal error");
                if is_database_unavailable(e) {
                    return format!(
                        "{DATABASE_UNAVAILABLE} Try again in a moment (ref {reference})."
                    );
                }
                format!("Something went wrong (ref {reference}). The details are in Quorum's log.")
            }
        }
    }
}

/// How the answer to a command the database could not take begins.
pub const DATABASE_UNAVAILABLE: &str = "Nothing was recorded: the database is unavailable.";

/// The answer to a request that already acted.
pub const ALREADY_DONE: &str = "Already done: this request was handled before, so nothing changed.";

/// Whether `e` comes from the database failing (unreachable, read-only,
/// full, gone), as opposed to a bug: the user is told plainly that nothing
/// was recorded.
pub fn is_database_unavailable(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<sqlx::Error>().is_some()
            || c.downcast_ref::<rusqlite::Error>().is_some()
            || c.downcast_ref::<crate::store::Unavailable>().is_some()
    })
}

fn error_reference() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    format!("{:X}", (t ^ (n << 40)) & 0xFF_FFFF)
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Shorthand: `return user_err("...")`.
pub fn user_err<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::User(msg.into()))
}
