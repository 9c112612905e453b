//! The durable delivery loop. The database is the source of truth: series
//! carry their next occurrence, and every reminder is a row in `deliveries`
//! that moves pending -> sending -> sent (or missed, failed, cancelled).
//!
//! One [`Scheduler::tick`] does all work due at `now`, in this order:
//! 1. series whose occurrence has passed move to their next one, queueing its
//!    reminders (only the next occurrence is ever materialised, so memory and
//!    rows stay proportional to the number of series); the occurrence passed
//!    is recorded as held and its minutes are queued, in the same
//!    transaction, as a notice due at its end and rendered when sent;
//! 2. reminders never attempted and more than the grace period late (they fell
//!    due while Quorum was down) are marked missed, with one summary notice
//!    per channel;
//! 3. escalation steps, chases, heads-ups on occurrences that fall on a
//!    weekend or holiday (a week ahead) and the weekly update queue their notices;
//! 4. due deliveries are claimed and handed to **lanes**, one per destination
//!    (workspace and channel). A lane posts its deliveries one at a time in due
//!    order and waits out its destination's pacing or rate limit itself, so a
//!    slow, hanging or rate-limited destination holds up nobody else. Posts in
//!    flight across all lanes are capped (`[scheduler] concurrency`), and when
//!    the cap is reached the next free slot goes to the most urgent post:
//!    escalations (critical first), then reminders, then chases and digests.
//!    A failed send is retried with exponential backoff and, after the last
//!    try, recorded as failed and logged, never dropped silently; the rest of
//!    a failing destination's queue is handed back to be tried with it.
//!
//! Every step and every delivery runs supervised: a panic or an error is
//! logged with the row's id and counted, and the rest goes on.
//!
//! [`Scheduler::run`] calls `tick` whenever work falls due, without waiting
//! for slow lanes; tests call `tick(now)` directly with a controlled clock,
//! and it returns once every lane is idle.

mod gate;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use futures_util::FutureExt as _;
use tokio::sync::Notify;
use tracing::{Instrument as _, info_span};

use crate::chat::{Body, Chat, Notice, Outgoing, ReminderView};
use crate::config::Config;
use crate::service::meetings::{Meetings, Series};
use crate::store::{DeliveryRow, MissedReminder, Store};

pub use gate::Priority;

/// Tries before a delivery is recorded as failed (about 40 minutes of backoff).
pub const MAX_ATTEMPTS: i64 = 10;
/// A delivery accepted by the platform more than this after its time is late.
const LATE_AFTER_SECS: i64 = 60;
/// Deliveries claimed at a time when few are due; while claims come back
/// full, each next claim of the tick takes twice as many, up to
/// [`MAX_BATCH`] (one `UPDATE ... RETURNING` per batch).
const BATCH: i64 = 100;
const MAX_BATCH: i64 = 2_000;
/// Deliveries held in lanes at most; beyond it the loop waits for lanes to
/// drain before claiming more (claims are leased: never hold more than can
/// be sent within a lease).
const MAX_QUEUED: usize = 10_000;
/// The longest the run loop sleeps between looks for work.
pub const MAX_WAKE: StdDuration = StdDuration::from_secs(5);

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
    /// Steps or deliveries that failed unexpectedly (an error or a panic),
    /// were logged and skipped.
    pub faults: usize,
}

/// What the run loop shows readiness: when it last finished a tick, and
/// whether it is running.
#[derive(Debug, Default)]
pub struct Health {
    /// Unix milliseconds of the end of the last tick (0: none yet).
    pub last_tick_ms: AtomicI64,
    /// The run loop is running (set by `run`, cleared when it stops or dies).
    pub running: AtomicBool,
    /// Ticks, steps and deliveries that failed unexpectedly since start.
    pub faults: AtomicUsize,
    /// Claims of due deliveries made since start (each one statement
    /// taking a batch).
    pub claims: AtomicUsize,
}

/// Counts of one tick's deliveries, shared with the lanes that do them.
#[derive(Default)]
struct Tally {
    sent: AtomicUsize,
    retried: AtomicUsize,
    failed: AtomicUsize,
    faults: AtomicUsize,
}

/// One claimed delivery waiting in its destination's lane.
struct Job {
    row: DeliveryRow,
    /// The lease this instance holds on the row, and when it was last renewed.
    held_until: i64,
    renewed_at: i64,
    priority: Priority,
    /// The tick's clock: its `now` plus the time since it started.
    now: DateTime<Utc>,
    started: Instant,
    tally: Arc<Tally>,
}

impl Job {
    fn clock(&self) -> DateTime<Utc> {
        self.now + Duration::from_std(self.started.elapsed()).unwrap_or_default()
    }
}

/// A destination: deliveries to one of these go out one at a time, in order.
type Dest = (String, String);

/// How one delivery ended, for its lane.
enum Outcome {
    Done,
    /// The destination failed or is rate limited until then: what else its
    /// lane holds is tried then too, not now.
    DestinationDown(i64),
}

pub struct Scheduler<C: Chat> {
    inner: Arc<Inner<C>>,
}

struct Inner<C: Chat> {
    store: Store,
    meetings: Meetings,
    chat: Arc<C>,
    config: Arc<Config>,
    actions: crate::service::actions::Actions,
    escalations: crate::service::escalations::Escalations,
    risks: crate::service::risks::Risks,
    /// When this process started: reminders due before it fell due during downtime.
    started_at: DateTime<Utc>,
    wake: Arc<Notify>,
    /// Set on shutdown: finish the messages in flight, give back the rest.
    draining: AtomicBool,
    drain: Notify,
    /// Destination -> deliveries waiting in its lane; a key is present
    /// exactly while its lane task runs.
    lanes: Mutex<HashMap<Dest, VecDeque<Job>>>,
    /// Deliveries in lanes, waiting or in flight.
    queued: AtomicUsize,
    idle: Notify,
    /// Notified when lanes that were full have drained to half.
    room: Notify,
    gate: Arc<gate::Gate>,
    health: Arc<Health>,
    /// Sent marks waiting for the next group commit, and who waits on each.
    marks: Mutex<Vec<SentMark>>,
    /// Held by the delivery that commits the waiting marks.
    committing: tokio::sync::Mutex<()>,
    /// The ten-minute window of the last heads-up scan: a week ahead needs
    /// no finer grain, and a busy loop need not re-plan every series.
    headsup_window: std::sync::atomic::AtomicI64,
}

/// How often the heads-up on weekends and holidays is looked for, in seconds.
const HEADSUP_EVERY_SECS: i64 = 600;

/// A post the platform accepted, to be recorded: (id, sent_at, late), and
/// where to say whether the record was committed.
type SentMark = (
    (i64, i64, bool),
    tokio::sync::oneshot::Sender<Result<(), String>>,
);

impl<C: Chat> Scheduler<C> {
    pub fn new(store: Store, config: &Config, chat: Arc<C>, started_at: DateTime<Utc>) -> Self {
        Scheduler {
            inner: Arc::new(Inner {
                meetings: Meetings {
                    store: store.clone(),
                    holidays: Arc::new(config.holidays.clone()),
                },
                actions: crate::service::actions::Actions {
                    store: store.clone(),
                },
                escalations: crate::service::escalations::Escalations {
                    store: store.clone(),
                },
                risks: crate::service::risks::Risks {
                    store: store.clone(),
                },
                store,
                chat,
                config: Arc::new(config.clone()),
                started_at,
                wake: Arc::new(Notify::new()),
                draining: AtomicBool::new(false),
                drain: Notify::new(),
                lanes: Mutex::new(HashMap::new()),
                queued: AtomicUsize::new(0),
                idle: Notify::new(),
                room: Notify::new(),
                gate: gate::Gate::new(config.concurrency),
                health: Arc::new(Health::default()),
                marks: Mutex::new(Vec::new()),
                headsup_window: std::sync::atomic::AtomicI64::new(i64::MIN),
                committing: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Notify this to make the run loop look for work at once (after a command).
    pub fn waker(&self) -> Arc<Notify> {
        self.inner.wake.clone()
    }

    /// The run loop's liveness, for readiness.
    pub fn health(&self) -> Arc<Health> {
        self.inner.health.clone()
    }

    /// Do all work due at `now` and wait until every delivery it started
    /// (and any the run loop has in flight) is done.
    pub async fn tick(&self, now: DateTime<Utc>) -> anyhow::Result<TickReport> {
        let tally = Arc::new(Tally::default());
        let result = self.inner.clone().tick_once(now, &tally).await;
        self.inner.wait_idle().await;
        let mut report = result?;
        report.sent = tally.sent.load(Ordering::SeqCst);
        report.retried = tally.retried.load(Ordering::SeqCst);
        report.failed = tally.failed.load(Ordering::SeqCst);
        report.faults += tally.faults.load(Ordering::SeqCst);
        Ok(report)
    }

    /// Call `tick` whenever work falls due until `shutdown` resolves. Each
    /// tick runs as its own task: one that fails or panics is logged and
    /// counted, and the loop goes on. On shutdown, the posts in flight are
    /// finished and recorded and everything else is handed back.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        let inner = &self.inner;
        inner.health.running.store(true, Ordering::SeqCst);
        tokio::pin!(shutdown);
        let mut failures = 0u32;
        loop {
            let now = Utc::now();
            let tally = Arc::new(Tally::default());
            let task = {
                let (inner, tally) = (inner.clone(), tally.clone());
                let span = info_span!("tick", at = %now);
                let started = std::time::Instant::now();
                tokio::spawn(
                    async move {
                        let r = inner.tick_once(now, &tally).await;
                        crate::metrics::tick(started.elapsed());
                        r
                    }
                    .instrument(span),
                )
            };
            tokio::pin!(task);
            let result = tokio::select! {
                r = &mut task => r,
                _ = &mut shutdown => {
                    inner.stop();
                    let _ = task.await;
                    inner.wait_idle().await;
                    inner.health.running.store(false, Ordering::SeqCst);
                    return;
                }
            };
            let ok = match result {
                Ok(Ok(_)) => true,
                Ok(Err(e)) => {
                    tracing::error!(error = ?e, "scheduler tick failed; retrying");
                    false
                }
                Err(e) => {
                    tracing::error!(error = %e, "scheduler tick panicked; the loop goes on");
                    false
                }
            };
            if ok {
                failures = 0;
                inner
                    .health
                    .last_tick_ms
                    .store(Utc::now().timestamp_millis(), Ordering::SeqCst);
            } else {
                failures = failures.saturating_add(1);
                inner.health.faults.fetch_add(1, Ordering::Relaxed);
            }
            // Registered before lanes are looked at, so that draining to
            // half meanwhile is not missed.
            let room = inner.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            let wait = if !ok {
                // Back off while the database is down: 1 s, 2 s, ... 5 s.
                StdDuration::from_secs(u64::from(failures.min(5)))
            } else if inner.queued.load(Ordering::SeqCst) >= MAX_QUEUED {
                // Lanes are full: look again when they have drained to
                // half (`room`), or within a second for the other steps.
                // (A tick every 50 ms while full cost more than the
                // deliveries it claimed.)
                StdDuration::from_secs(1)
            } else {
                match inner.store.next_wake().await {
                    Ok(Some(at)) => {
                        let ms = at
                            .saturating_mul(1000)
                            .saturating_sub(Utc::now().timestamp_millis())
                            .clamp(0, MAX_WAKE.as_millis() as i64);
                        StdDuration::from_millis(ms as u64 + 5)
                    }
                    Ok(None) => MAX_WAKE,
                    Err(e) => {
                        tracing::error!(error = ?e, "cannot read the next wake-up time");
                        StdDuration::from_secs(1)
                    }
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = inner.wake.notified() => {}
                _ = &mut room => {}
                _ = &mut shutdown => {
                    inner.stop();
                    inner.wait_idle().await;
                    inner.health.running.store(false, Ordering::SeqCst);
                    return;
                }
            }
        }
    }
}

/// Holds one place in `queued` while a dispatch claims rows.
struct Dispatching<'a, C: Chat>(&'a Inner<C>);

impl<'a, C: Chat> Dispatching<'a, C> {
    fn new(inner: &'a Inner<C>) -> Self {
        inner.queued.fetch_add(1, Ordering::SeqCst);
        Dispatching(inner)
    }
}

impl<C: Chat> Drop for Dispatching<'_, C> {
    fn drop(&mut self) {
        self.0.done(1);
    }
}

impl<C: Chat> Inner<C> {
    fn stop(&self) {
        self.draining.store(true, Ordering::SeqCst);
        self.drain.notify_waiters();
    }

    async fn wait_idle(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.queued.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }

    /// Run one step of a tick as its own task: an error or a panic is
    /// logged and counted, and the tick goes on with its other steps.
    async fn step<T: Send + 'static>(
        self: &Arc<Self>,
        name: &'static str,
        report: &mut TickReport,
        work: impl std::future::Future<Output = anyhow::Result<T>> + Send + 'static,
    ) -> Option<T> {
        let outcome = tokio::spawn(work.in_current_span()).await;
        match outcome {
            Ok(Ok(v)) => return Some(v),
            Ok(Err(e)) => tracing::error!(step = name, error = ?e, "scheduler step failed"),
            Err(e) => tracing::error!(step = name, error = %e, "scheduler step panicked"),
        }
        report.faults += 1;
        self.health.faults.fetch_add(1, Ordering::Relaxed);
        None
    }

    /// One tick: the steps, then the due deliveries handed to lanes. Fails
    /// (for the run loop to back off) when claiming deliveries fails.
    async fn tick_once(
        self: Arc<Self>,
        now: DateTime<Utc>,
        tally: &Arc<Tally>,
    ) -> anyhow::Result<TickReport> {
        let mut report = TickReport::default();
        let me = self.clone();
        report.advanced = self
            .step("advance series", &mut report, async move {
                me.meetings.advance_due(now).await
            })
            .await
            .unwrap_or(0);
        let me = self.clone();
        let missed = self
            .step("sweep missed reminders", &mut report, async move {
                let cutoff = (now - me.config.grace).timestamp();
                let grace = me.config.grace;
                me.store
                    .sweep_missed(cutoff, now.timestamp(), |list| {
                        summarize_missed(list, grace)
                    })
                    .await
            })
            .await
            .unwrap_or_default();
        if !missed.is_empty() {
            tracing::warn!(count = missed.len(), "reminders missed during downtime");
        }
        report.missed = missed.len();
        for m in &missed {
            crate::metrics::delivery(&m.workspace, "reminder", "missed");
        }
        let me = self.clone();
        report.escalations = self
            .step("escalations", &mut report, async move {
                me.escalations.run_due(&me.config, now).await
            })
            .await
            .unwrap_or(0);
        let me = self.clone();
        report.chases += self
            .step("chase overdue items", &mut report, async move {
                me.actions.chase_due(&me.config, now).await
            })
            .await
            .unwrap_or(0);
        let me = self.clone();
        report.chases += self
            .step("chase unverified items", &mut report, async move {
                me.actions.chase_unverified(&me.config, now).await
            })
            .await
            .unwrap_or(0);
        let me = self.clone();
        report.chases += self
            .step("chase unanswered approvals", &mut report, async move {
                let approvals = crate::service::approvals::Approvals {
                    store: me.store.clone(),
                    escalations: me.escalations.clone(),
                };
                approvals.run_due(&me.config, now).await
            })
            .await
            .unwrap_or(0);
        let window = now.timestamp().div_euclid(HEADSUP_EVERY_SECS);
        if self.headsup_window.swap(window, Ordering::SeqCst) != window {
            let me = self.clone();
            report.chases += self
                .step(
                    "heads-up on weekends and holidays",
                    &mut report,
                    async move { me.meetings.warn_unusual_dates(now).await },
                )
                .await
                .unwrap_or(0);
        }
        let me = self.clone();
        report.chases += self
            .step("risk reviews", &mut report, async move {
                me.risks.remind_reviews(&me.config, now).await
            })
            .await
            .unwrap_or(0);
        let me = self.clone();
        report.chases += self
            .step("weekly update", &mut report, async move {
                me.actions.weekly_digest(&me.config, now).await
            })
            .await
            .unwrap_or(0);
        let me = self.clone();
        report.chases += self
            .step("monthly and quarterly updates", &mut report, async move {
                crate::service::report::queue_period_updates(&me.store, &me.config, now).await
            })
            .await
            .unwrap_or(0);
        self.dispatch(now, tally).await?;
        Ok(report)
    }

    /// Claim what is due and hand it to the lanes, until nothing more is due
    /// or the lanes hold as much as they may.
    async fn dispatch(
        self: &Arc<Self>,
        now: DateTime<Utc>,
        tally: &Arc<Tally>,
    ) -> anyhow::Result<()> {
        // The tick's clock moves on while it claims: claims and their
        // renewals are timed by it, so a long tick never hands out a lease
        // that has already lapsed.
        let started = Instant::now();
        let lease = self.store.lease_secs();
        // While rows are being claimed they are in no lane yet: count the
        // dispatch itself as queued, so `wait_idle` (a tick's end, or the
        // console's last tick at end of input) cannot find the scheduler idle
        // between a claim and its rows reaching their lanes.
        let _dispatching = Dispatching::new(self);
        let mut batch = BATCH;
        let mut claims = 0;
        while !self.draining.load(Ordering::SeqCst) {
            // The dispatch's own place does not count against the lanes.
            let queued = self.queued.load(Ordering::SeqCst).saturating_sub(1);
            let room = MAX_QUEUED.saturating_sub(queued);
            if room == 0 {
                break;
            }
            let limit = batch.min(i64::try_from(room).unwrap_or(MAX_BATCH));
            let t = (now + Duration::from_std(started.elapsed()).unwrap_or_default()).timestamp();
            let claimed = if claims == 0 {
                self.store.claim_due(t, limit).await?
            } else {
                self.store.claim_more(t, limit).await?
            };
            claims += 1;
            self.health.claims.fetch_add(1, Ordering::Relaxed);
            let n = claimed.len() as i64;
            let escalations: Vec<i64> = claimed.iter().filter_map(|d| d.escalation_id).collect();
            let critical: HashSet<i64> = match self.store.critical_escalations(&escalations).await {
                Ok(list) => list.into_iter().collect(),
                Err(e) => {
                    tracing::warn!(error = ?e, "cannot read escalation severities; no critical-first order this time");
                    HashSet::new()
                }
            };
            for row in claimed {
                let priority = match row.escalation_id {
                    Some(e) if critical.contains(&e) => gate::CRITICAL_ESCALATION,
                    Some(_) => gate::ESCALATION,
                    None if row.kind == "reminder" => gate::REMINDER,
                    None => gate::NOTICE,
                };
                self.enqueue(Job {
                    row,
                    held_until: t + lease,
                    renewed_at: t,
                    priority,
                    now,
                    started,
                    tally: tally.clone(),
                });
            }
            if n < limit {
                break;
            }
            // Many are due: claim more at a time.
            batch = batch.saturating_mul(2).min(MAX_BATCH);
        }
        Ok(())
    }

    fn enqueue(self: &Arc<Self>, job: Job) {
        let dest = (job.row.workspace.clone(), job.row.channel.clone());
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(queue) = lanes.get_mut(&dest) {
            queue.push_back(job);
            return;
        }
        lanes.insert(dest.clone(), VecDeque::from([job]));
        drop(lanes);
        let me = self.clone();
        let span = info_span!("lane", workspace = %dest.0, channel = %dest.1);
        tokio::spawn(async move { me.lane(dest).await }.instrument(span));
    }

    /// Mark `n` deliveries as no longer in a lane.
    fn done(&self, n: usize) {
        if n == 0 {
            return;
        }
        let before = self.queued.fetch_sub(n, Ordering::SeqCst);
        if before == n {
            self.idle.notify_waiters();
        }
        if before > MAX_QUEUED / 2 && before - n <= MAX_QUEUED / 2 {
            self.room.notify_waiters();
        }
    }

    /// The next delivery of `dest`'s lane, or None (and the lane is closed).
    fn next_job(&self, dest: &Dest) -> Option<Job> {
        let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
        let job = lanes.get_mut(dest).and_then(VecDeque::pop_front);
        if job.is_none() {
            lanes.remove(dest);
        }
        job
    }

    /// Everything still waiting in `dest`'s lane, which is closed.
    fn take_rest(&self, dest: &Dest) -> Vec<Job> {
        let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
        lanes.remove(dest).map(Vec::from).unwrap_or_default()
    }

    /// A lane: post `dest`'s deliveries one at a time, in order.
    async fn lane(self: Arc<Self>, dest: Dest) {
        while let Some(job) = self.next_job(&dest) {
            if self.draining.load(Ordering::SeqCst) {
                let mut rest = self.take_rest(&dest);
                rest.insert(0, job);
                self.hand_back(rest, None).await;
                return;
            }
            let (id, attempts, tally) = (job.row.id, job.row.attempts, job.tally.clone());
            let held_until = job.held_until;
            // A panic in a delivery is caught here (without a task of its
            // own per delivery: that cost a spawn and a wake-up per post).
            let span = info_span!("deliver", delivery = id, kind = %job.row.kind);
            let outcome = std::panic::AssertUnwindSafe(self.clone().deliver(job).instrument(span))
                .catch_unwind()
                .await;
            let outcome = match outcome {
                Ok(Ok(o)) => o,
                Ok(Err(e)) => {
                    tracing::error!(delivery = id, error = ?e, "a delivery failed unexpectedly");
                    self.fault(id, attempts, held_until, &tally).await
                }
                Err(e) => {
                    let what = e
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| e.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!(delivery = id, panic = %what, "a delivery panicked; the lane goes on");
                    self.fault(id, attempts, held_until, &tally).await
                }
            };
            self.done(1);
            if let Outcome::DestinationDown(at) = outcome {
                let rest = self.take_rest(&dest);
                self.hand_back(rest, Some(at)).await;
                return;
            }
        }
    }

    /// A delivery that errored or panicked: count it, and retry it later (or
    /// give up after its tries) so that it never blocks the queue.
    async fn fault(&self, id: i64, attempts: i64, held_until: i64, tally: &Tally) -> Outcome {
        tally.faults.fetch_add(1, Ordering::SeqCst);
        self.health.faults.fetch_add(1, Ordering::Relaxed);
        let now = Utc::now().timestamp();
        let result = if attempts >= MAX_ATTEMPTS {
            tally.failed.fetch_add(1, Ordering::SeqCst);
            self.store
                .mark_failed(id, "failed unexpectedly; see the log")
                .await
        } else {
            tally.retried.fetch_add(1, Ordering::SeqCst);
            self.store
                .mark_retry(
                    id,
                    now.saturating_add(backoff(attempts)),
                    "failed unexpectedly; see the log",
                )
                .await
        };
        if let Err(e) = result {
            // The claim lapses with its lease and the row is tried again then.
            tracing::error!(delivery = id, held_until, error = ?e, "cannot record a failed delivery");
        }
        Outcome::Done
    }

    /// Give back claims a lane will not attempt now: at once (a stop), or
    /// at `at` (their destination is down).
    async fn hand_back(&self, jobs: Vec<Job>, at: Option<i64>) {
        let n = jobs.len();
        let mut by_lease: HashMap<i64, Vec<i64>> = HashMap::new();
        for j in &jobs {
            by_lease.entry(j.held_until).or_default().push(j.row.id);
        }
        for (held_until, ids) in by_lease {
            if let Err(e) = self.store.release_claims(&ids, held_until, at).await {
                tracing::error!(error = ?e, count = ids.len(), "cannot hand back claims; they return when their lease lapses");
            }
        }
        self.done(n);
    }

    /// Renew the lease of `job` and of the deliveries behind it in its lane
    /// when half of it has passed; false when `job`'s claim was lost.
    async fn renew(&self, job: &mut Job) -> anyhow::Result<bool> {
        let lease = self.store.lease_secs();
        let t = job.clock().timestamp();
        if (t - job.renewed_at).saturating_mul(2) < lease {
            return Ok(true);
        }
        let dest = (job.row.workspace.clone(), job.row.channel.clone());
        let old = job.held_until;
        let mut ids = vec![job.row.id];
        {
            let lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(q) = lanes.get(&dest) {
                ids.extend(q.iter().filter(|j| j.held_until == old).map(|j| j.row.id));
            }
        }
        let kept: HashSet<i64> = self
            .store
            .extend_claims(&ids, old, t)
            .await?
            .into_iter()
            .collect();
        let mut lost = 0;
        {
            let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(q) = lanes.get_mut(&dest) {
                q.retain_mut(|j| {
                    if j.held_until != old {
                        return true;
                    }
                    if kept.contains(&j.row.id) {
                        (j.held_until, j.renewed_at) = (t + lease, t);
                        true
                    } else {
                        lost += 1;
                        false
                    }
                });
            }
        }
        self.done(lost);
        (job.held_until, job.renewed_at) = (t + lease, t);
        Ok(kept.contains(&job.row.id))
    }

    /// Run `work` unless a stop comes first (then None).
    async fn unless_stopping<T>(&self, work: impl std::future::Future<Output = T>) -> Option<T> {
        let stop = self.drain.notified();
        tokio::pin!(stop);
        stop.as_mut().enable();
        if self.draining.load(Ordering::SeqCst) {
            return None;
        }
        tokio::select! {
            v = work => Some(v),
            _ = stop => None,
        }
    }

    async fn deliver(self: Arc<Self>, mut job: Job) -> anyhow::Result<Outcome> {
        // The destination's own pacing or rate limit is waited out here,
        // in its lane, before taking one of the posts in flight.
        let probe = Outgoing {
            workspace: job.row.workspace.clone(),
            channel: job.row.channel.clone(),
            key: String::new(),
            body: Body::Notice(String::new()),
            mention: Vec::new(),
            buttons: Vec::new(),
        };
        let wait = self.chat.hold(&probe).unwrap_or_default();
        let paced = if wait.is_zero() {
            !self.draining.load(Ordering::SeqCst)
        } else {
            self.unless_stopping(tokio::time::sleep(wait))
                .await
                .is_some()
        };
        let permit = if paced {
            self.unless_stopping(self.gate.acquire(job.priority)).await
        } else {
            None
        };
        let Some(_permit) = permit else {
            self.hand_back_one(&job).await;
            return Ok(Outcome::Done);
        };
        if !self.renew(&mut job).await? {
            // Another instance took it over after our lease lapsed.
            return Ok(Outcome::Done);
        }
        let d = &job.row;
        let Some(body) = self.body(d, job.clock()).await? else {
            self.store.mark_cancelled(d.id).await?;
            return Ok(Outcome::Done);
        };
        let message = message(d, body);
        let d = &job.row;
        // A post about an escalation goes out under the escalation's lock and
        // only while it is still in the state the post was meant for.
        let lock = match (d.escalation_id, &d.requires_state) {
            (Some(id), Some(required)) => {
                let lock = self.store.lock_escalation(id).await?;
                if lock.state.as_deref() != Some(required.as_str()) {
                    tracing::info!(escalation = id, "not sending: the escalation moved on");
                    lock.cancel(d.id).await?;
                    return Ok(Outcome::Done);
                }
                Some(lock)
            }
            _ => None,
        };
        let result = self.chat.post(&message).await;
        // Sent is when the platform accepted it, by the tick's clock.
        let at = job.clock();
        let tally = &job.tally;
        if let Some(lock) = lock {
            if result.is_ok() {
                lock.sent(d.id, at.timestamp()).await?;
                tally.sent.fetch_add(1, Ordering::SeqCst);
                crate::metrics::delivery(&d.workspace, &d.kind, "sent");
                return Ok(Outcome::Done);
            }
            lock.release().await?;
        }
        let late = self.is_late(d.due_at, at);
        let t = at.timestamp();
        match result {
            Ok(()) => {
                self.record_sent(d.id, t, late).await?;
                tally.sent.fetch_add(1, Ordering::SeqCst);
                crate::metrics::delivery(&d.workspace, &d.kind, if late { "late" } else { "sent" });
                Ok(Outcome::Done)
            }
            Err(crate::chat::SendError::RetryAfter(wait)) => {
                // Rate limits are not failures: wait as told (bounded by the
                // adapter, at most an hour), without using up a try.
                // The second in which the wait ends: claims are by whole
                // seconds, and the adapter's own hold covers the rest.
                let wait_ms = wait.min(crate::chat::MAX_WAIT).as_millis() as i64;
                tracing::info!(retry_in_ms = wait_ms, "rate limited by the chat API");
                let next = at
                    .timestamp_millis()
                    .saturating_add(wait_ms)
                    .div_euclid(1000);
                self.store.mark_rate_limited(d.id, next).await?;
                tally.retried.fetch_add(1, Ordering::SeqCst);
                crate::metrics::delivery(&d.workspace, &d.kind, "retried");
                Ok(Outcome::DestinationDown(next))
            }
            Err(crate::chat::SendError::Retry(e)) if d.attempts < MAX_ATTEMPTS => {
                let wait = backoff(d.attempts);
                tracing::warn!(attempt = d.attempts, retry_in_secs = wait, error = %e, "send failed; will retry");
                let next = t.saturating_add(wait);
                self.store.mark_retry(d.id, next, &e).await?;
                tally.retried.fetch_add(1, Ordering::SeqCst);
                crate::metrics::delivery(&d.workspace, &d.kind, "retried");
                Ok(Outcome::DestinationDown(next))
            }
            Err(e) => {
                tracing::error!(attempt = d.attempts, error = %e, channel = %d.channel, "giving up on a delivery");
                self.store.mark_failed(d.id, &e.to_string()).await?;
                tally.failed.fetch_add(1, Ordering::SeqCst);
                crate::metrics::delivery(&d.workspace, &d.kind, "failed");
                Ok(Outcome::Done)
            }
        }
    }

    /// Record a post as sent, committed together with the marks of the posts
    /// that finished meanwhile (group commit: one transaction, not one per
    /// post). The caller still holds its slot, so posts sent but not yet
    /// recorded never outnumber the posts in flight: a crash repeats at most
    /// what was in flight, as before.
    async fn record_sent(&self, id: i64, at: i64, late: bool) -> anyhow::Result<()> {
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        self.marks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(((id, at, late), tx));
        // Wait for the turn to commit, unless a delivery that commits
        // meanwhile takes our mark with its own.
        let _turn = tokio::select! {
            biased;
            done = &mut rx => {
                return done
                    .map_err(|_| anyhow::anyhow!("the sent mark was lost"))?
                    .map_err(anyhow::Error::msg);
            }
            turn = self.committing.lock() => turn,
        };
        if let Ok(done) = rx.try_recv() {
            return done.map_err(anyhow::Error::msg);
        }
        let batch = std::mem::take(&mut *self.marks.lock().unwrap_or_else(|p| p.into_inner()));
        let rows: Vec<(i64, i64, bool)> = batch.iter().map(|(m, _)| *m).collect();
        let result = self
            .store
            .mark_sent(&rows)
            .await
            .map_err(|e| format!("{e:#}"));
        for (_, waiter) in batch {
            let _ = waiter.send(result.clone());
        }
        rx.await
            .map_err(|_| anyhow::anyhow!("the sent mark was lost"))?
            .map_err(anyhow::Error::msg)
    }

    /// A delivery due at `due_at` and sent at `at` is late when it fell due
    /// while Quorum was down or went out more than a minute after its time.
    fn is_late(&self, due_at: i64, at: DateTime<Utc>) -> bool {
        due_at.saturating_mul(1000) < self.started_at.timestamp_millis()
            || at.timestamp().saturating_sub(due_at) > LATE_AFTER_SECS
    }

    /// Give back one claim not attempted because of a stop.
    async fn hand_back_one(&self, job: &Job) {
        if let Err(e) = self
            .store
            .release_claims(&[job.row.id], job.held_until, None)
            .await
        {
            tracing::error!(error = ?e, delivery = job.row.id, "cannot hand back a claim; it returns when its lease lapses");
        }
    }

    async fn body(&self, d: &DeliveryRow, now: DateTime<Utc>) -> anyhow::Result<Option<Body>> {
        if d.kind == "notice" {
            // Minutes name their occurrence and are rendered now that it
            // has ended, closing it (its uncovered agenda carries over).
            if let (None, Some(series_id), Some(at)) = (&d.body, d.series_id, d.occurrence_at) {
                let minutes = self
                    .meetings
                    .close(&self.config, &d.workspace, series_id, at, now)
                    .await?;
                return Ok(minutes.map(|m| Body::Notice(m.render())));
            }
            return Ok(match d.body.as_deref().map(|b| (b, Notice::from_json(b))) {
                // A snoozed copy says what is true now (or nothing).
                Some((_, Some(n))) if n.first_sent.is_some() => crate::service::snoozed::refresh(
                    &self.store,
                    &self.config,
                    &d.workspace,
                    n,
                    now,
                )
                .await?
                .map(|n| Body::Message(Box::new(n))),
                Some((_, Some(n))) => Some(Body::Message(Box::new(n))),
                Some((b, None)) => Some(Body::Notice(b.to_string())),
                None => None,
            });
        }
        let late = self.is_late(d.due_at, now);
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
        let today = series.local(occurrence).date_naive().to_string();
        // A few more than are shown, so that duplicates dropped from them
        // still leave a full list.
        let (rows, total) = self
            .store
            .open_actions_for_meeting(
                &d.workspace,
                &owners,
                series_id,
                &today,
                (REMINDER_ITEMS * 4) as i64,
            )
            .await?;
        let (actions, more_actions) = reminder_items(rows, total, &today, REMINDER_ITEMS);
        let mention: Vec<String> = series
            .attendees
            .iter()
            .flat_map(|a| self.config.user_of(a))
            .collect();
        Ok(Some(Body::Reminder(Box::new(ReminderView {
            series_id,
            title: series.row.title.clone(),
            at: series.local(occurrence),
            duration: Duration::seconds(series.length.secs()),
            lead: Duration::seconds(lead),
            attendees,
            mention,
            agenda: agenda
                .into_iter()
                .map(|i| match i.carried {
                    0 => i.text,
                    1 => format!("{} (carried over)", i.text),
                    n => format!("{} (carried over {n} times)", i.text),
                })
                .collect(),
            actions,
            more_actions,
            replies: crate::service::attendance::summary(
                &self.store.attendance(series_id, occurrence).await?,
            ),
            late_from: late.then(|| series.local(d.due_at)),
        }))))
    }
}

/// The message a delivery posts: its body, who it pings, its buttons.
fn message(d: &DeliveryRow, body: Body) -> Outgoing {
    let mention = match &body {
        Body::Reminder(r) => r.mention.clone(),
        Body::Notice(_) | Body::Message(_) => d
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
    let button = |label: &str, id: String, command: String, primary: bool| crate::chat::Button {
        label: label.to_string(),
        id,
        command,
        primary,
    };
    let ack = |e: i64| {
        button(
            "Acknowledge",
            format!("esc:ack:{e}"),
            format!("/escalation ack id:{e}"),
            true,
        )
    };
    let resolve = |e: i64, primary: bool| {
        button(
            "Resolve",
            format!("esc:resolve:{e}"),
            format!("/escalation resolve id:{e} note:\"...\""),
            primary,
        )
    };
    let buttons = match (&body, d.escalation_id, d.requires_state.as_deref()) {
        (Body::Reminder(r), _, _) => {
            let occurrence = d.occurrence_at.unwrap_or_default();
            vec![
                button(
                    "Attending",
                    format!("attend:yes:{}:{occurrence}", r.series_id),
                    format!("/meeting attend id:{}", r.series_id),
                    true,
                ),
                button(
                    "Can't make it",
                    format!("attend:no:{}:{occurrence}", r.series_id),
                    format!("/meeting attend id:{} answer:no", r.series_id),
                    false,
                ),
                button(
                    "Snooze 1h",
                    format!("snooze:{}", d.id),
                    String::new(),
                    false,
                ),
            ]
        }
        // Chases and approval requests can wait an hour; their own
        // buttons (Done, Verify, Approve, Reject) are in the notice.
        (Body::Message(n), None, _)
            if matches!(
                n.kind,
                crate::domain::notice::Kind::Chase
                    | crate::domain::notice::Kind::VerifyChase
                    | crate::domain::notice::Kind::ApprovalRequest
            ) =>
        {
            vec![button(
                "Snooze 1h",
                format!("snooze:{}", d.id),
                String::new(),
                false,
            )]
        }
        (_, Some(e), Some("open")) => vec![ack(e), resolve(e, false)],
        (_, Some(e), Some("acked")) => vec![resolve(e, true)],
        _ => Vec::new(),
    };
    Outgoing {
        workspace: d.workspace.clone(),
        channel: d.channel.clone(),
        key: format!("quorum-{}", d.id),
        body,
        mention,
        buttons,
    }
}

/// How many open action items a reminder lists before "+N more".
const REMINDER_ITEMS: usize = 8;

/// The open items a reminder lists: each once, overdue ones first (marked),
/// then by due date (undated last), then by priority; at most `max`, and
/// how many were left out.
fn reminder_items(
    rows: Vec<crate::store::ActionRow>,
    total: i64,
    today: &str,
    max: usize,
) -> (Vec<String>, usize) {
    let fetched = rows.len();
    let mut seen = std::collections::HashSet::new();
    let mut rows: Vec<_> = rows
        .into_iter()
        .filter(|a| seen.insert((a.owner.clone(), a.task.to_lowercase())))
        .collect();
    // Items beyond those read: counted, not shown (duplicates among them
    // cannot be told apart without reading them).
    let unread = usize::try_from(total).unwrap_or(0).saturating_sub(fetched);
    let rank = |p: &str| match p {
        "high" => 0,
        "medium" => 1,
        _ => 2,
    };
    rows.sort_by(|a, b| {
        // Sorts false first: overdue items lead.
        let not_overdue =
            |r: &crate::store::ActionRow| r.due_date.as_deref().is_none_or(|d| d >= today);
        not_overdue(a)
            .cmp(&not_overdue(b))
            .then(a.due_date.is_none().cmp(&b.due_date.is_none()))
            .then(a.due_date.cmp(&b.due_date))
            .then(rank(&a.priority).cmp(&rank(&b.priority)))
            .then(a.id.cmp(&b.id))
    });
    let more = rows.len().saturating_sub(max).saturating_add(unread);
    let lines = rows
        .into_iter()
        .take(max)
        .map(|a| match a.due_date.as_deref() {
            Some(d) if d < today => format!("OVERDUE #{} {} ({}, due {d})", a.id, a.task, a.owner),
            Some(d) => format!("#{} {} ({}, due {d})", a.id, a.task, a.owner),
            None => format!("#{} {} ({})", a.id, a.task, a.owner),
        })
        .collect();
    (lines, more)
}

/// Seconds to wait after failed attempt number `attempt` (1-based): 5 s doubling, at most 10 min.
pub fn backoff(attempt: i64) -> i64 {
    let exp = (attempt - 1).clamp(0, 10) as u32;
    (5i64 << exp).min(600)
}

fn summarize_missed(list: &[MissedReminder], grace: Duration) -> String {
    use crate::domain::notice::{Kind, List, More, moment, span};
    let mut missed = List::new("Not sent");
    for m in list.iter().take(20) {
        let zone: crate::domain::zone::Zone =
            m.tz.parse()
                .unwrap_or_else(|_| crate::domain::zone::Zone::utc());
        let at = DateTime::<Utc>::from_timestamp(m.occurrence_at, 0)
            .unwrap_or_default()
            .with_timezone(&zone.tz());
        missed = missed.item(format!(
            "{}, {} (the reminder {} before)",
            m.title,
            moment(&at),
            span(Duration::seconds(m.lead_secs))
        ));
    }
    if list.len() > 20 {
        missed.more = Some(More {
            count: list.len() - 20,
            command: "/meeting list".to_string(),
        });
    }
    Notice::new(
        Kind::MissedReminders,
        format!(
            "Quorum was down: {} reminder{} fell due more than {} ago and {} not sent",
            list.len(),
            if list.len() == 1 { "" } else { "s" },
            span(grace),
            if list.len() == 1 { "was" } else { "were" },
        ),
    )
    .list(missed)
    .to_json()
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
