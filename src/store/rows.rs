//! Row types the store reads and writes.

/// A meeting series as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SeriesRow {
    pub id: i64,
    pub workspace: String,
    pub title: String,
    pub cadence: String,
    pub rrule: Option<String>,
    pub tz: String,
    pub anchor_date: String,
    pub channel: String,
    pub attendees: String,
    pub remind: String,
    pub status: String,
    pub next_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Revision of the series' definition: the calendar feed's SEQUENCE.
    #[sqlx(default)]
    pub sequence: i64,
    /// `none`, `next-weekday` or `previous-weekday`: what happens to an
    /// occurrence on a weekend or holiday.
    #[sqlx(default)]
    pub shift: String,
    /// How long each occurrence lasts (migration 0015).
    pub duration_secs: i64,
    /// `none` or `channel` (migration 0015).
    pub capture: String,
}

/// A series about to be inserted.
#[derive(Debug, Clone)]
pub struct NewSeries {
    pub workspace: String,
    pub title: String,
    pub cadence: String,
    pub rrule: Option<String>,
    pub tz: String,
    pub anchor_date: String,
    pub channel: String,
    pub attendees: String,
    pub remind: String,
    pub duration_secs: i64,
    pub capture: String,
    pub created_by: String,
    pub created_at: i64,
    /// `none`, `next-weekday` or `previous-weekday`.
    pub shift: String,
}

/// The next occurrence of a series and the reminders to queue for it.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub next_at: Option<i64>,
    pub reminders: Vec<PlannedReminder>,
}

#[derive(Debug, Clone)]
pub struct PlannedReminder {
    pub lead_secs: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgendaItem {
    pub id: i64,
    pub text: String,
    pub added_by: String,
    pub covered_at: Option<i64>,
    /// How many meetings it was carried from.
    pub carried: i64,
}

/// One-off changes to a series' occurrences: slots that will not take place
/// at their time (skipped, moved away, cancelled), with their state, and
/// occurrences moved in from another slot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub away: Vec<(i64, String)>,
    /// (when it takes place, the slot it was moved from)
    pub moved_in: Vec<(i64, i64)>,
}

impl Overrides {
    pub fn is_away(&self, at: i64) -> bool {
        self.away.iter().any(|(t, _)| *t == at)
    }
}

/// An occurrence as recorded.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OccurrenceRow {
    pub id: i64,
    pub workspace: String,
    pub series_id: i64,
    pub at: i64,
    pub original_at: Option<i64>,
    pub state: String,
    pub changed_by: String,
    pub changed_at: i64,
}

/// A note taken at an occurrence.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoteRow {
    pub id: i64,
    pub text: String,
    pub added_by: String,
    pub added_at: i64,
}

/// A delivery claimed for sending.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub workspace: String,
    pub kind: String,
    pub channel: String,
    pub series_id: Option<i64>,
    pub occurrence_at: Option<i64>,
    pub lead_secs: Option<i64>,
    pub body: Option<String>,
    pub due_at: i64,
    pub attempts: i64,
    pub escalation_id: Option<i64>,
    pub requires_state: Option<String>,
    pub mention: Option<String>,
}

/// A reminder recorded as missed after downtime.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MissedReminder {
    pub id: i64,
    pub workspace: String,
    pub channel: String,
    pub series_id: i64,
    pub occurrence_at: i64,
    pub lead_secs: i64,
    pub due_at: i64,
    pub title: String,
    pub tz: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryStatus {
    pub id: i64,
    pub occurrence_at: Option<i64>,
    pub lead_secs: Option<i64>,
    pub due_at: i64,
    pub state: String,
    pub late: i64,
    pub attempts: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DecisionRow {
    pub id: i64,
    pub workspace: String,
    pub title: String,
    pub category: String,
    pub rationale: String,
    pub decided_by: String,
    pub authority: String,
    pub recorded_by: String,
    pub status: String,
    pub meeting_id: Option<i64>,
    pub supersedes: Option<i64>,
    pub superseded_by: Option<i64>,
    pub settled_by: Option<String>,
    pub settle_note: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewDecision {
    pub workspace: String,
    pub title: String,
    pub category: String,
    pub rationale: String,
    pub decided_by: String,
    pub authority: String,
    pub recorded_by: String,
    pub status: String,
    pub meeting_id: Option<i64>,
    pub supersedes: Option<i64>,
}

impl NewDecision {
    /// The row this decision is once inserted with `id` at `now` (so a
    /// command's reply needs no read back).
    pub fn recorded(&self, id: i64, now: i64) -> DecisionRow {
        DecisionRow {
            id,
            workspace: self.workspace.clone(),
            title: self.title.clone(),
            category: self.category.clone(),
            rationale: self.rationale.clone(),
            decided_by: self.decided_by.clone(),
            authority: self.authority.clone(),
            recorded_by: self.recorded_by.clone(),
            status: self.status.clone(),
            meeting_id: self.meeting_id,
            supersedes: self.supersedes,
            superseded_by: None,
            settled_by: None,
            settle_note: None,
            created_at: now,
            updated_at: now,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ActionRow {
    pub id: i64,
    pub workspace: String,
    pub task: String,
    pub owner: String,
    pub due_date: Option<String>,
    pub priority: String,
    pub status: String,
    pub meeting_id: Option<i64>,
    pub decision_id: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub done_by: Option<String>,
    pub done_at: Option<i64>,
    pub verified_by: Option<String>,
    pub verified_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub actor: String,
    pub at: i64,
    pub change: String,
}

/// Filters of `/action list`.
#[derive(Debug, Clone, Default)]
pub struct ActionFilter {
    pub owner: Option<String>,
    pub status: Option<String>,
    /// Only open items due strictly before this date (YYYY-MM-DD).
    pub due_before: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EscalationRow {
    pub id: i64,
    pub workspace: String,
    pub topic: String,
    pub severity: String,
    pub summary: String,
    pub raised_by: String,
    pub raised_in: String,
    pub routed_to: String,
    pub level: i64,
    pub state: String,
    pub post_at: Option<i64>,
    pub deadline_at: Option<i64>,
    pub repeats: i64,
    pub acked_by: Option<String>,
    pub acked_at: Option<i64>,
    pub follow_up_at: Option<i64>,
    pub follow_ups: i64,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<i64>,
    pub resolution: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A message about an escalation, sent only while it is in `requires_state`.
#[derive(Debug, Clone)]
pub struct EscalationPost {
    pub key: String,
    pub channel: String,
    pub body: String,
    pub mention: Vec<String>,
    /// `None`: send whatever happens next (e.g. the note of a resolution).
    pub requires_state: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EscalationEvent {
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub detail: String,
}
