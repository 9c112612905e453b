//! The durable delivery loop. The database is the source of truth: series
//! carry their next occurrence, and every reminder is a row in `deliveries`
//! that moves pending -> sending -> sent (or missed, failed, cancelled).
//!
//! One [`Scheduler::tick`] does all work due at `now`, in this order:
//! 1. series whose occurrence has passed move to their next one, queueing its
//!    reminders (only the next occurrence is ever materialised, so memory and
//!    rows stay proportional to the number of series);
//! 2. reminders never attempted and more than the grace period late (they fell
//!    due while Quorum was down) are marked missed, with one summary notice
//!    per channel;
//! 3. due deliveries are claimed, sent, and recorded as sent; a failed send is
//!    retried with exponential backoff and, after the last try, recorded as
//!    failed and logged, never dropped silently.
//!
//! [`Scheduler::run`] calls `tick` whenever work falls due, sleeping in
//! between; tests call `tick(now)` directly with a controlled clock.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::Notify;
use tracing::{Instrument as _, info_span};

use crate::chat::{Body, Chat, Outgoing, ReminderView};
use crate::config::Config;
use crate::service::meetings::{Meetings, Series};
use crate::store::{DeliveryRow, MissedReminder, Store};

/// Tries before a delivery is recorded as failed (about 40 minutes of backoff).
pub const MAX_ATTEMPTS: i64 = 10;
/// Deliveries later than this (without downtime) are marked late too.
const LATE_AFTER_SECS: i64 = 60;

/// What one tick did, for tests and logs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TickReport {
    pub advanced: usize,
    pub missed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    /// Chases and weekly updates queued.
    pub chases: usize,
    /// Escalations that were posted, climbed, repeated or followed up.
    pub escalations: usize,
}

pub struct Scheduler<C: Chat> {
    store: Store,
    meetings: Meetings,
    chat: Arc<C>,
    config: Arc<Config>,
    actions: crate::service::actions::Actions,
    escalations: crate::service::escalations::Escalations,
    /// When this process started: reminders due before it fell due during downtime.
    started_at: DateTime<Utc>,
    wake: Arc<Notify>,
    /// Set on shutdown: finish the message in flight, give back the rest.
    draining: AtomicBool,
}

/// Deliveries claimed at a time.
const BATCH: i64 = 100;

impl<C: Chat> Scheduler<C> {
    pub fn new(store: Store, config: &Config, chat: Arc<C>, started_at: DateTime<Utc>) -> Self {
        Scheduler {
            meetings: Meetings {
                store: store.clone(),
            },
            actions: crate::service::actions::Actions {
                store: store.clone(),
            },
            escalations: crate::service::escalations::Escalations {
                store: store.clone(),
            },
            store,
            chat,
            config: Arc::new(config.clone()),
            started_at,
            wake: Arc::new(Notify::new()),
            draining: AtomicBool::new(false),
        }
    }

    /// Notify this to make the run loop look for work at once (after a command).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Do all work due at `now`.
    pub async fn tick(&self, now: DateTime<Utc>) -> anyhow::Result<TickReport> {
        let mut report = TickReport {
            advanced: self.meetings.advance_due(now).await?,
            ..TickReport::default()
        };
        let cutoff = (now - self.config.grace).timestamp();
        let grace = self.config.grace;
        let missed = self
            .store
            .sweep_missed(cutoff, now.timestamp(), |list| {
                summarize_missed(list, grace)
            })
            .await?;
        if !missed.is_empty() {
            tracing::warn!(count = missed.len(), "reminders missed during downtime");
        }
        report.missed = missed.len();
        report.escalations = self.escalations.run_due(&self.config, now).await?;
        report.chases = self.actions.chase_due(&self.config, now).await?
            + self.actions.chase_unverified(&self.config, now).await?
            + self.actions.weekly_digest(&self.config, now).await?;
        // The tick's clock moves on while it delivers: claims and their
        // renewals are timed by it, so a long tick (Slack's pacing, a slow
        // API) never hands out a lease that has already lapsed.
        let started = std::time::Instant::now();
        let clock = || now + Duration::from_std(started.elapsed()).unwrap_or_default();
        let lease = self.store.lease_secs();
        while !self.draining.load(Ordering::SeqCst) {
            let claimed_at = clock().timestamp();
            let mut queue: VecDeque<DeliveryRow> =
                self.store.claim_due(claimed_at, BATCH).await?.into();
            let n = queue.len() as i64;
            let (mut renewed_at, mut held_until) = (claimed_at, claimed_at + lease);
            while let Some(d) = queue.pop_front() {
                // This delivery and the rest of the batch, still claimed.
                let held = || -> Vec<i64> {
                    std::iter::once(d.id)
                        .chain(queue.iter().map(|d| d.id))
                        .collect()
                };
                if self.draining.load(Ordering::SeqCst) {
                    // Stopping: what this batch has not attempted goes back
                    // to the queue for another instance, now.
                    self.store.release_claims(&held(), held_until).await?;
                    return Ok(report);
                }
                let t = clock().timestamp();
                if (t - renewed_at) * 2 >= lease {
                    let kept = self.store.extend_claims(&held(), held_until, t).await?;
                    (renewed_at, held_until) = (t, t + lease);
                    queue.retain(|q| kept.contains(&q.id));
                    if !kept.contains(&d.id) {
                        continue;
                    }
                }
                let span = info_span!("deliver", delivery = d.id, workspace = %d.workspace, kind = %d.kind);
                self.deliver(d, now, &mut report).instrument(span).await?;
            }
            if n < BATCH {
                break;
            }
        }
        Ok(report)
    }

    async fn deliver(
        &self,
        d: DeliveryRow,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> anyhow::Result<()> {
        let late = d.due_at * 1000 < self.started_at.timestamp_millis()
            || now.timestamp() - d.due_at > LATE_AFTER_SECS;
        let Some(body) = self.body(&d, late).await? else {
            self.store.mark_cancelled(d.id).await?;
            return Ok(());
        };
        let mention = match &body {
            Body::Reminder(r) => r.mention.clone(),
            Body::Notice(_) => d
                .mention
                .as_deref()
                .map(|m| {
                    m.split(',')
                        .filter(|u| !u.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        };
        let button = |label: &str, id: String, primary: bool| crate::chat::Button {
            label: label.to_string(),
            id,
            primary,
        };
        let buttons = match (&body, d.escalation_id, d.requires_state.as_deref()) {
            (Body::Reminder(_), _, _) => {
                vec![button("Snooze 1h", format!("snooze:{}", d.id), false)]
            }
            (_, Some(e), Some("open")) => vec![
                button("Acknowledge", format!("esc:ack:{e}"), true),
                button("Resolve", format!("esc:resolve:{e}"), false),
            ],
            (_, Some(e), Some("acked")) => {
                vec![button("Resolve", format!("esc:resolve:{e}"), true)]
            }
            _ => Vec::new(),
        };
        let message = Outgoing {
            workspace: d.workspace.clone(),
            channel: d.channel.clone(),
            key: format!("quorum-{}", d.id),
            body,
            mention,
            buttons,
        };
        // A post about an escalation goes out under the escalation's lock and
        // only while it is still in the state the post was meant for.
        let lock = match (d.escalation_id, &d.requires_state) {
            (Some(id), Some(required)) => {
                let lock = self.store.lock_escalation(id).await?;
                if lock.state.as_deref() != Some(required.as_str()) {
                    tracing::info!(escalation = id, "not sending: the escalation moved on");
                    lock.cancel(d.id).await?;
                    return Ok(());
                }
                Some(lock)
            }
            _ => None,
        };
        let result = self.chat.post(&message).await;
        if let Some(lock) = lock {
            if result.is_ok() {
                lock.sent(d.id, now.timestamp()).await?;
                report.sent += 1;
                return Ok(());
            }
            lock.release().await?;
        }
        match result {
            Ok(()) => {
                self.store.mark_sent(d.id, now.timestamp(), late).await?;
                report.sent += 1;
            }
            Err(crate::chat::SendError::RetryAfter(wait)) if d.attempts < MAX_ATTEMPTS * 3 => {
                // Rate limits are not failures: wait as told, and do not use up the tries quickly.
                let secs = wait.as_secs_f64().ceil().max(1.0) as i64;
                tracing::info!(retry_in_secs = secs, "rate limited by the chat API");
                self.store
                    .mark_retry(d.id, now.timestamp() + secs, "rate limited")
                    .await?;
                report.retried += 1;
            }
            Err(crate::chat::SendError::Retry(e)) if d.attempts < MAX_ATTEMPTS => {
                let wait = backoff(d.attempts);
                tracing::warn!(attempt = d.attempts, retry_in_secs = wait, error = %e, "send failed; will retry");
                self.store
                    .mark_retry(d.id, now.timestamp() + wait, &e)
                    .await?;
                report.retried += 1;
            }
            Err(e) => {
                tracing::error!(attempt = d.attempts, error = %e, channel = %d.channel, "giving up on a delivery");
                self.store.mark_failed(d.id, &e.to_string()).await?;
                report.failed += 1;
            }
        }
        Ok(())
    }

    async fn body(&self, d: &DeliveryRow, late: bool) -> anyhow::Result<Option<Body>> {
        if d.kind == "notice" {
            return Ok(d.body.clone().map(Body::Notice));
        }
        let (Some(series_id), Some(occurrence), Some(lead)) =
            (d.series_id, d.occurrence_at, d.lead_secs)
        else {
            anyhow::bail!("reminder delivery {} lacks its series or occurrence", d.id);
        };
        let Some(row) = self.store.series(&d.workspace, series_id).await? else {
            return Ok(None);
        };
        if row.status == "cancelled" {
            return Ok(None);
        }
        let series = Series::from_row(row)?;
        let agenda = self.store.agenda(series_id, occurrence).await?;
        let attendees: Vec<String> = series
            .attendees
            .iter()
            .map(|a| self.config.org.describe(a))
            .collect();
        let owners: Vec<String> = series.attendees.iter().map(str::to_string).collect();
        let actions = self
            .store
            .open_actions_for_meeting(&d.workspace, &owners, series_id)
            .await?
            .into_iter()
            .take(15)
            .map(|a| {
                let due = a.due_date.map(|d| format!(", due {d}")).unwrap_or_default();
                format!("#{} {} ({}{due})", a.id, a.task, a.owner)
            })
            .collect();
        let mention: Vec<String> = series
            .attendees
            .iter()
            .flat_map(|a| self.config.user_of(a))
            .collect();
        Ok(Some(Body::Reminder(Box::new(ReminderView {
            series_id,
            title: series.row.title.clone(),
            at: series.local(occurrence),
            lead: Duration::seconds(lead),
            attendees,
            mention,
            agenda: agenda.into_iter().map(|i| i.text).collect(),
            actions,
            late_from: late.then(|| series.local(d.due_at)),
        }))))
    }

    /// Call `tick` whenever work falls due until `shutdown` resolves; a tick
    /// in progress always finishes first.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let now = Utc::now();
            let span = info_span!("tick", at = %now);
            let tick = self.tick(now).instrument(span);
            tokio::pin!(tick);
            let result = tokio::select! {
                r = &mut tick => r,
                _ = &mut shutdown => {
                    // The message in flight is finished and recorded; the
                    // rest of the batch is handed back; then we stop.
                    self.draining.store(true, Ordering::SeqCst);
                    if let Err(e) = tick.await {
                        tracing::error!(error = ?e, "the last scheduler tick failed");
                    }
                    return;
                }
            };
            if let Err(e) = result {
                tracing::error!(error = ?e, "scheduler tick failed; retrying in 1s");
                tokio::select! {
                    _ = tokio::time::sleep(StdDuration::from_secs(1)) => continue,
                    _ = &mut shutdown => return,
                }
            }
            let wait = match self.store.next_wake().await {
                Ok(Some(at)) => {
                    let ms = (at * 1000 - Utc::now().timestamp_millis()).clamp(0, 5_000);
                    StdDuration::from_millis(ms as u64 + 5)
                }
                Ok(None) => StdDuration::from_secs(5),
                Err(e) => {
                    tracing::error!(error = ?e, "cannot read the next wake-up time");
                    StdDuration::from_secs(1)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.wake.notified() => {}
                _ = &mut shutdown => return,
            }
        }
    }
}

/// Seconds to wait after failed attempt number `attempt` (1-based): 5 s doubling, at most 10 min.
pub fn backoff(attempt: i64) -> i64 {
    let exp = (attempt - 1).clamp(0, 10) as u32;
    (5i64 << exp).min(600)
}

fn summarize_missed(list: &[MissedReminder], grace: Duration) -> String {
    let mut parts: Vec<String> = list
        .iter()
        .take(20)
        .map(|m| {
            let zone: crate::domain::zone::Zone =
                m.tz.parse()
                    .unwrap_or_else(|_| crate::domain::zone::Zone::utc());
            let at = DateTime::<Utc>::from_timestamp(m.occurrence_at, 0)
                .unwrap_or_default()
                .with_timezone(&zone.tz());
            format!(
                "{} on {} ({} before)",
                m.title,
                crate::domain::zone::human(&at),
                crate::domain::meeting::format_duration(Duration::seconds(m.lead_secs))
            )
        })
        .collect();
    if list.len() > 20 {
        parts.push(format!("and {} more", list.len() - 20));
    }
    format!(
        "Quorum was down: {} reminder{} fell due more than {} ago and {} not sent: {}",
        list.len(),
        if list.len() == 1 { "" } else { "s" },
        crate::domain::meeting::format_duration(grace),
        if list.len() == 1 { "was" } else { "were" },
        parts.join("; ")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_from_five_seconds_up_to_ten_minutes() {
        assert_eq!(super::backoff(1), 5);
        assert_eq!(super::backoff(2), 10);
        assert_eq!(super::backoff(5), 80);
        assert_eq!(super::backoff(9), 600);
    }
}
