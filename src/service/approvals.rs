//! Approval chasing: a proposed decision nobody has answered is chased to
//! its authority after `[decisions] chase_after` (default 2 days), with its
//! rationale and the Approve / Reject buttons, and after `[decisions]
//! escalate_after` (default 7 days) it is escalated along the path like an
//! escalation, starting above the authority. Each happens once per decision
//! (a delivery key, an escalation source); a chase that falls due in the
//! authority's quiet time (see `service::quiet`) is queued when it ends.

use chrono::{DateTime, Duration, Utc};
use tracing::instrument;

use crate::config::Config;
use crate::domain::decision::attribution;
use crate::domain::escalation::Window;
use crate::domain::notice::{Action, Kind, Notice, ago};
use crate::service::escalations::Escalations;
use crate::service::quiet::{self, To};
use crate::store::{DecisionRow, Store};

#[derive(Clone)]
pub struct Approvals {
    pub store: Store,
    pub escalations: Escalations,
}

/// The shortest time a window can span: what to look back at least.
fn shortest(w: Window) -> Duration {
    match w {
        Window::Span(d) => d,
        Window::BusinessDays(n) => Duration::days(i64::from(n)),
    }
}

impl Approvals {
    /// Chase or escalate every proposed decision whose time has come.
    /// Returns how many notices and escalations were queued.
    #[instrument(skip_all)]
    pub async fn run_due(&self, config: &Config, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let look =
            shortest(config.approval_chase_after).min(shortest(config.approval_escalate_after));
        let cutoff = now.checked_sub_signed(look).unwrap_or(now).timestamp();
        let mut queued = 0;
        for d in self.store.proposed_before(cutoff).await? {
            let Some(created) = DateTime::<Utc>::from_timestamp(d.created_at, 0) else {
                continue;
            };
            if config.approval_escalate_after.deadline(created) <= now {
                if self.escalate(config, &d, created, now).await? {
                    queued += 1;
                }
            } else if config.approval_chase_after.deadline(created) <= now
                && !quiet::is_quiet(config, To::Person(&d.authority), now)
                && self.chase(config, &d, created, now).await?
            {
                queued += 1;
            }
        }
        Ok(queued)
    }

    async fn chase(
        &self,
        config: &Config,
        d: &DecisionRow,
        created: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let escalates = config.approval_escalate_after.deadline(created);
        let mut n = Notice::new(
            Kind::ApprovalRequest,
            format!(
                "decision {} \"{}\" still needs your approval",
                d.id, d.title
            ),
        )
        .to(config.org.addressee(&d.authority))
        .field("Category", d.category.clone())
        .field(
            "Proposed by",
            attribution("proposed", &d.decided_by, &d.recorded_by, None)
                .trim_start_matches("proposed by ")
                .to_string(),
        )
        .field("Waiting", ago(now - created).replace(" ago", ""));
        if !d.rationale.trim().is_empty() {
            n = n.field("Rationale", d.rationale.clone());
        }
        let local = escalates.with_timezone(&config.zone_of(&d.authority).tz());
        n = n.time("Escalated if unanswered by", &local);
        let body = n
            .action(
                Action::new(
                    "Approve",
                    format!("decision:approve:{}", d.id),
                    format!("/decision approve id:{}", d.id),
                )
                .primary(),
            )
            .action(Action::new(
                "Reject",
                format!("decision:reject:{}", d.id),
                format!("/decision reject id:{} reason:\"...\"", d.id),
            ))
            .to_json();
        self.store
            .enqueue_notice_for(
                &d.workspace,
                &config.personal_channel(&d.workspace, &d.authority),
                &format!("decision-chase:{}", d.id),
                &body,
                now.timestamp(),
                &config.user_of(&d.authority),
            )
            .await
    }

    async fn escalate(
        &self,
        config: &Config,
        d: &DecisionRow,
        created: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let summary = format!(
            "decision {} \"{}\" has waited {} for the {}'s approval",
            d.id,
            d.title,
            ago(now - created).replace(" ago", ""),
            d.authority
        );
        let raised = self
            .escalations
            .raise_about(
                config,
                &d.workspace,
                &format!("decision:{}", d.id),
                &d.category,
                summary,
                &d.authority,
                &config.channel_of(&d.authority),
                now,
            )
            .await?;
        if let Some(e) = &raised {
            tracing::info!(
                decision = d.id,
                escalation = e.id,
                "unanswered approval escalated"
            );
        }
        Ok(raised.is_some())
    }
}
