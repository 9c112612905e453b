//! Use cases: each takes the store and the current instant and returns typed
//! outcomes. Services never format platform markup.

pub mod actions;
pub mod approvals;
pub mod attendance;
pub mod calendar;
pub mod dashboard;
pub mod decisions;
pub mod escalations;
pub mod meetings;
pub mod quiet;
pub mod report;
pub mod risks;
pub mod snoozed;
pub mod todo;

/// A person named in a command (an owner, an attendee) that is not an
/// executive's role but nearly one (`ctoo` for `cto`) is refused with the
/// role it probably meant, as categories and zones are; anyone else (a
/// person outside the org chart) is accepted as typed.
pub fn check_person(
    config: &crate::config::Config,
    what: &str,
    name: &str,
) -> crate::error::Result<()> {
    if config.org.get(name).is_some() {
        return Ok(());
    }
    let near = config
        .org
        .roles()
        .map(|r| (strsim::jaro_winkler(r, &name.to_lowercase()), r))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match near {
        Some((_, role)) => {
            let mut roles: Vec<&str> = config.org.roles().collect();
            roles.sort_unstable();
            crate::error::user_err(format!(
                "{what}: `{name}` is not in the org chart; did you mean `{role}`? Roles: {}",
                roles.join(", ")
            ))
        }
        None => Ok(()),
    }
}

/// Lines on one page of a list reply: short enough for a Slack section and
/// a Discord message.
pub const PAGE_SIZE: i64 = 20;

/// Counts stop here ("more than 1000"), so they cost the same however long
/// the history grows (counting to 10,000 took most of a list's 2.4 ms of CPU
/// at 10,000 items).
pub const COUNT_CAP: i64 = 1_000;

/// One page of a long list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub rows: Vec<T>,
    /// 1-based.
    pub page: u32,
    /// Matches in all, up to [`COUNT_CAP`]; `None` when not counted (search).
    pub total: Option<i64>,
    /// Whether a next page exists.
    pub more: bool,
}

impl<T> Page<T> {
    /// The rows after skipping `page - 1` pages, read as `PAGE_SIZE + 1` rows
    /// (the extra one only says whether there is more).
    pub fn from_extra(mut rows: Vec<T>, page: u32, total: Option<i64>) -> Page<T> {
        let more = rows.len() as i64 > PAGE_SIZE;
        rows.truncate(PAGE_SIZE as usize);
        Page {
            rows,
            page,
            total,
            more,
        }
    }

    /// Where page `page` starts.
    pub fn offset(page: u32) -> i64 {
        (i64::from(page.max(1)) - 1).saturating_mul(PAGE_SIZE)
    }
}
