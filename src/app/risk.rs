//! `/risk ...` replies: the risk register as chat text.

use chrono::{DateTime, Utc};

use super::{App, Reply, date_of, plural};
use crate::command::RiskCommand;
use crate::config::Config;
use crate::error::Result;
use crate::service::meetings::Actor;
use crate::store::RiskRow;

/// One risk on one line: `#3 [high] Supplier insolvent (owner cto, open, review monthly; next 2026-12-24)`.
pub fn risk_line(r: &RiskRow, c: &Config) -> String {
    let next = match r.next_review_at {
        Some(t) if r.status != "closed" => format!("; next review {}", day_of(t, c)),
        _ => String::new(),
    };
    format!(
        "#{} [{}] {} (owner {}, {}, review {}{next})",
        r.id, r.severity, r.title, r.owner, r.status, r.review
    )
}

fn day_of(at: i64, c: &Config) -> String {
    DateTime::<Utc>::from_timestamp(at, 0)
        .map(|t| c.default_zone.local(t).date().to_string())
        .unwrap_or_default()
}

impl App {
    pub(super) async fn risk(
        &self,
        actor: &Actor,
        cmd: RiskCommand,
        now: DateTime<Utc>,
    ) -> Result<Reply> {
        let c = &self.config;
        let r = &self.risks;
        match cmd {
            RiskCommand::Add(f) => {
                let row = r.add(c, actor, f, now).await?;
                Ok(Reply::ok(format!(
                    "Added risk {}\nMitigation: {}",
                    risk_line(&row, c),
                    row.mitigation
                )))
            }
            RiskCommand::Update { id, fields } => {
                let row = r.update(c, actor, id, fields, now).await?;
                let record = r.record(&actor.workspace, row.id).await?;
                let last = record
                    .history
                    .last()
                    .map(|h| format!(": {}", h.change))
                    .unwrap_or_default();
                Ok(Reply::ok(format!(
                    "Updated risk {}{last}",
                    risk_line(&row, c)
                )))
            }
            RiskCommand::Close { id } => {
                let row = r.close(actor, id, now).await?;
                Ok(Reply::ok(format!(
                    "Closed risk {}: {}. Its reviews stop.",
                    row.id, row.title
                )))
            }
            RiskCommand::List { owner, all } => {
                let owner = owner.map(|o| o.to_string());
                let rows = r.list(actor, owner.as_deref(), all).await?;
                if rows.is_empty() {
                    let whose = owner.map(|o| format!(" owned by {o}")).unwrap_or_default();
                    return Ok(Reply::private(format!(
                        "No {}risks{whose}. Add one with /risk add title:\"...\" severity:high owner:cto mitigation:\"...\"",
                        if all { "" } else { "open " }
                    )));
                }
                let lines: Vec<String> = rows
                    .iter()
                    .map(|row| {
                        let mut line = risk_line(row, c);
                        if row.status == "closed" {
                            if let Some(at) = row.closed_at {
                                line.push_str(&format!(" closed {}", date_of(at, c)));
                            }
                        }
                        format!("{line}\n  Mitigation: {}", row.mitigation)
                    })
                    .collect();
                Ok(Reply::private(format!(
                    "{} {}risk{}, most severe first:\n{}",
                    rows.len(),
                    if all { "" } else { "open " },
                    plural(rows.len()),
                    lines.join("\n")
                )))
            }
        }
    }
}
