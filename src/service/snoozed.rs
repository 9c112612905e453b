//! A snoozed notice, when it comes due again, says what is true now rather
//! than what was true when it was first posted:
//!
//! - a daily chase lists only the items still open and due (an item done or
//!   given a later due date meanwhile is not chased again), each as it reads
//!   today (`due today` becomes `overdue since ...` after midnight), with the
//!   count in its title to match; nothing is posted when none is left;
//! - a verify chase is dropped once the item was verified or reopened, and
//!   says how long ago it was marked done as of now;
//! - an approval request is dropped once the decision was approved or
//!   rejected, and says how long it has waited as of now.
//!
//! Every snoozed copy also says when it was first posted; for a kind that
//! cannot be rebuilt that line is what tells the reader it is not news.

use chrono::{DateTime, Duration, Utc};

use crate::config::Config;
use crate::domain::notice::{Kind, Notice, ago, moment};
use crate::store::Store;

/// The id a button of `notice` carries after `prefix` (`action:done:`).
fn ids(notice: &Notice, prefix: &str) -> Vec<i64> {
    notice
        .actions
        .iter()
        .chain(
            notice
                .lists
                .iter()
                .flat_map(|l| l.items.iter().filter_map(|i| i.action.as_ref())),
        )
        .filter_map(|a| a.id.strip_prefix(prefix)?.parse().ok())
        .collect()
}

fn set_field(notice: &mut Notice, name: &str, value: String) {
    if let Some(f) = notice.fields.iter_mut().find(|f| f.name == name) {
        f.value = value;
        f.at = None;
    }
}

/// `notice` (a snoozed copy, `first_sent` set) as it should be posted now,
/// or `None` when there is nothing left to say.
pub async fn refresh(
    store: &Store,
    config: &Config,
    workspace: &str,
    mut notice: Notice,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Notice>> {
    let Some(first) = notice.first_sent else {
        return Ok(Some(notice));
    };
    match notice.kind {
        Kind::Chase => {
            let mut left = 0;
            for list in &mut notice.lists {
                let mut keep = Vec::with_capacity(list.items.len());
                for mut item in list.items.drain(..) {
                    let id = item
                        .action
                        .as_ref()
                        .and_then(|a| a.id.strip_prefix("action:done:")?.parse::<i64>().ok());
                    let Some(id) = id else {
                        keep.push(item);
                        continue;
                    };
                    let Some(a) = store.action(workspace, id).await? else {
                        continue;
                    };
                    let zone = config.zone_of(&a.owner);
                    let today = zone.local(now).date();
                    let first_day =
                        DateTime::<Utc>::from_timestamp(first, 0).map(|f| zone.local(f).date());
                    if first_day.is_some_and(|f| f < today) {
                        // A new day: that day's own chase names the item.
                        continue;
                    }
                    let today = today.to_string();
                    let due = a.due_date.as_deref().is_some_and(|d| d <= today.as_str());
                    if due && (a.status == "open" || a.status == "reopened") {
                        item.text = crate::service::actions::chase_item_text(&a, &today);
                        keep.push(item);
                    }
                }
                left += keep.len();
                list.items = keep;
            }
            let more = notice.lists.iter().any(|l| l.more.is_some());
            if left == 0 && !more {
                return Ok(None);
            }
            notice.title = crate::service::actions::chase_title(left, more);
        }
        Kind::VerifyChase => {
            let Some(id) = ids(&notice, "action:verify:").into_iter().next() else {
                return Ok(None);
            };
            let Some(a) = store.action(workspace, id).await? else {
                return Ok(None);
            };
            if a.status != "done" {
                return Ok(None);
            }
            if let Some(done_at) = a.done_at {
                let by = a.done_by.unwrap_or_default();
                let since = ago(Duration::seconds(now.timestamp().saturating_sub(done_at)));
                set_field(&mut notice, "Marked done", format!("by {by}, {since}"));
            }
        }
        Kind::ApprovalRequest => {
            let Some(id) = ids(&notice, "decision:approve:").into_iter().next() else {
                return Ok(None);
            };
            let Some(d) = store.decision(workspace, id).await? else {
                return Ok(None);
            };
            if d.status != "proposed" {
                return Ok(None);
            }
            let waited = ago(Duration::seconds(
                now.timestamp().saturating_sub(d.created_at),
            ));
            set_field(&mut notice, "Waiting", waited.replace(" ago", ""));
        }
        _ => {}
    }
    let zone = config.default_zone.tz();
    let first = DateTime::<Utc>::from_timestamp(first, 0).unwrap_or(now);
    let line = format!(
        "Snoozed; first sent {}.",
        moment(&first.with_timezone(&zone))
    );
    notice.context = Some(match notice.context.take() {
        Some(c) if !c.is_empty() => format!("{c} {line}"),
        _ => line,
    });
    Ok(Some(notice))
}
