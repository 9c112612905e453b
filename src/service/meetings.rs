//! Meeting use cases: create, list, skip, move, cancel, edit a series, manage
//! its agenda and notes, attach decisions and action items to the occurrence
//! under way, move a series past an occurrence and close it with its minutes
//! (for the scheduler). Each takes the store and the current instant and
//! returns typed outcomes.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use tracing::instrument;

use crate::command::meeting::{MeetingChanges, NewMeeting};
use crate::config::{Config, SeriesSeed};
use crate::domain::holiday::{Holidays, Placed, Shift, place, placed_in_order};
use crate::domain::meeting::{Attendees, Capture, LeadTimes, MeetingLength};
use crate::domain::meeting_minutes::{
    AgendaOutcome, Minutes, MinutesAction, MinutesDecision, MinutesNote,
};
use crate::domain::notice::{Kind, Notice};
use crate::domain::recurrence::Cadence;
use crate::domain::zone::Zone;
use crate::error::{Error, Result, user_err};
use crate::store::{AgendaItem, NewSeries, Overrides, Plan, PlannedReminder, SeriesRow, Store};

/// Who is acting (a domain value; kept here under its old path too).
pub use crate::domain::org::Actor;

/// A stored series with its values parsed back into domain types.
#[derive(Debug, Clone)]
pub struct Series {
    pub row: SeriesRow,
    pub cadence: Cadence,
    pub zone: Zone,
    pub anchor: NaiveDate,
    pub remind: LeadTimes,
    pub attendees: Attendees,
    pub shift: Shift,
    pub length: MeetingLength,
    pub capture: Capture,
}

impl Series {
    pub fn from_row(row: SeriesRow) -> anyhow::Result<Series> {
        let cadence: Cadence = row.cadence.parse().map_err(|e| {
            anyhow::anyhow!("stored cadence of series {} does not parse: {e}", row.id)
        })?;
        let zone: Zone = row
            .tz
            .parse()
            .map_err(|e| anyhow::anyhow!("stored zone of series {} does not parse: {e}", row.id))?;
        let anchor = NaiveDate::parse_from_str(&row.anchor_date, "%Y-%m-%d")
            .map_err(|e| anyhow::anyhow!("stored anchor of series {}: {e}", row.id))?;
        let remind: LeadTimes = row
            .remind
            .parse()
            .map_err(|e| anyhow::anyhow!("stored lead times of series {}: {e}", row.id))?;
        let attendees: Attendees = row
            .attendees
            .parse()
            .map_err(|e| anyhow::anyhow!("stored attendees of series {}: {e}", row.id))?;
        let shift: Shift = row
            .shift
            .parse()
            .map_err(|e| anyhow::anyhow!("stored shift of series {}: {e}", row.id))?;
        let capture: Capture = row
            .capture
            .parse()
            .map_err(|e| anyhow::anyhow!("stored capture of series {}: {e}", row.id))?;
        Ok(Series {
            length: MeetingLength::from_secs(row.duration_secs),
            row,
            cadence,
            zone,
            anchor,
            remind,
            attendees,
            shift,
            capture,
        })
    }

    /// How long one meeting lasts: the recorded duration, bounded to a day,
    /// or an hour.
    pub fn duration_secs(&self) -> i64 {
        self.length.secs()
    }

    /// Occurrences strictly after `from`, after this series' shift rule.
    pub fn placed_after<'a>(
        &'a self,
        from: DateTime<Utc>,
        holidays: &'a Holidays,
    ) -> Box<dyn Iterator<Item = Placed> + 'a> {
        occurrences(
            &self.cadence,
            self.zone,
            self.anchor,
            from,
            self.shift,
            holidays,
        )
    }

    pub fn local(&self, at: i64) -> DateTime<Tz> {
        self.zone
            .tz()
            .timestamp_opt(at, 0)
            .single()
            .unwrap_or_else(|| {
                self.zone
                    .tz()
                    .from_utc_datetime(&DateTime::<Utc>::UNIX_EPOCH.naive_utc())
            })
    }

    /// The next `n` occurrences after `from`, with what changed about each:
    /// `skipped`, `moved`, `moved from Mon 7 Dec 2026 10:00`.
    pub fn upcoming(
        &self,
        from: DateTime<Utc>,
        n: usize,
        overrides: &Overrides,
        holidays: &Holidays,
    ) -> Vec<(Placed, Option<String>)> {
        let regular = self.placed_after(from, holidays).take(n).map(|p| {
            let label = overrides
                .away
                .iter()
                .find(|(t, _)| *t == p.at.timestamp())
                .map(|(_, state)| state.clone());
            (p, label)
        });
        let moved_in = overrides
            .moved_in
            .iter()
            .filter(|(at, _)| *at > from.timestamp() && !overrides.is_away(*at))
            .map(|(at, original)| {
                let label = format!(
                    "moved from {}",
                    crate::domain::zone::human(&self.local(*original))
                );
                (
                    Placed {
                        at: self.local(*at),
                        original: None,
                    },
                    Some(label),
                )
            });
        let mut all: Vec<(Placed, Option<String>)> = regular.chain(moved_in).collect();
        all.sort_by_key(|(p, _)| p.at.timestamp());
        all.dedup_by_key(|(p, _)| p.at.timestamp());
        all.into_iter().take(n).collect()
    }

    /// When the occurrence at `at` ends.
    pub fn end_of(&self, at: i64) -> i64 {
        at.saturating_add(self.length.secs())
    }
}

/// Occurrences in a week from which a series counts as meeting daily.
const DAILY_OR_MORE: usize = 7;

/// The heads-up a week before an occurrence moved with `/meeting move` from
/// `from` onto a weekend or holiday.
pub fn moved_heads_up(s: &Series, p: &Placed, from: &DateTime<Tz>, holidays: &Holidays) -> Notice {
    let human = crate::domain::zone::human;
    Notice::new(
        Kind::Note,
        format!(
            "Heads-up: {} (series {}) on {} {}",
            s.row.title,
            s.row.id,
            human(&p.at),
            holidays
                .flag(p.at.date_naive())
                .map_or_else(String::new, |f| f.to_string())
        ),
    )
    .time("When", &p.at)
    .para(format!(
        "It was moved there from {} with /meeting move; /meeting move id:{} moves it again.",
        human(from),
        s.row.id
    ))
}

/// The heads-up notice a week before an occurrence on a weekend or holiday.
pub fn heads_up(s: &Series, p: &Placed, holidays: &Holidays) -> Notice {
    let human = crate::domain::zone::human;
    match p.original {
        Some(slot) => Notice::new(
            Kind::Note,
            format!(
                "Heads-up: {} (series {}) moves from {} to {}",
                s.row.title,
                s.row.id,
                human(&slot),
                human(&p.at)
            ),
        )
        .time("When", &p.at)
        .para(format!(
            "The original date {}, and the series shifts such occurrences.",
            holidays
                .flag(slot.date_naive())
                .map_or_else(|| "is not a working day".to_string(), |f| f.to_string())
        )),
        None => Notice::new(
            Kind::Note,
            format!(
                "Heads-up: {} (series {}) on {} {}",
                s.row.title,
                s.row.id,
                human(&p.at),
                holidays
                    .flag(p.at.date_naive())
                    .map_or_else(String::new, |f| f.to_string())
            ),
        )
        .time("When", &p.at)
        .para(format!(
            "Keep it, skip it (/meeting skip id:{} skips the next one) or set a shift with /meeting edit id:{} shift:next-weekday.",
            s.row.id, s.row.id
        )),
    }
}

/// The shift a series applies: none for a series that meets more than once
/// a day, since moving one occurrence onto another day's would only pile
/// them up (and walking such a series back two weeks costs too much).
pub fn effective_shift(
    cadence: &Cadence,
    zone: Zone,
    anchor: NaiveDate,
    from: DateTime<Utc>,
    shift: Shift,
) -> Shift {
    if shift == Shift::None {
        return shift;
    }
    let mut two = cadence.occurrences_after(zone, anchor, from);
    match (two.next(), two.next()) {
        (Some(a), Some(b)) if b - a < chrono::Duration::hours(20) => Shift::None,
        _ => shift,
    }
}

/// A series' occurrences strictly after `from` with `shift` applied: the
/// cadence's own instants when it does not shift, else each slot moved off
/// weekends and holidays (slots up to the shift limit before `from` are
/// walked too, since one of them may be moved to after it).
pub fn occurrences<'a>(
    cadence: &'a Cadence,
    zone: Zone,
    anchor: NaiveDate,
    from: DateTime<Utc>,
    shift: Shift,
    holidays: &'a Holidays,
) -> Box<dyn Iterator<Item = Placed> + 'a> {
    let shift = effective_shift(cadence, zone, anchor, from, shift);
    if shift == Shift::None {
        return Box::new(
            cadence
                .occurrences_after(zone, anchor, from)
                .map(move |at| place(at, zone, Shift::None, holidays)),
        );
    }
    let back = chrono::Duration::days(crate::domain::holiday::SHIFT_LIMIT_DAYS + 1);
    let start = from.checked_sub_signed(back).unwrap_or(from);
    Box::new(
        placed_in_order(
            cadence.occurrences_after(zone, anchor, start),
            zone,
            shift,
            holidays,
        )
        .filter(move |p| p.at.with_timezone(&Utc) > from),
    )
}

/// The first occurrence after `after` that takes place: a slot of the
/// cadence (placed by the series' shift) that was not skipped or moved away,
/// or an occurrence moved in.
pub fn next_after(
    cadence: &Cadence,
    zone: Zone,
    anchor: NaiveDate,
    after: DateTime<Utc>,
    overrides: &Overrides,
    (shift, holidays): (Shift, &Holidays),
) -> Option<i64> {
    let regular = occurrences(cadence, zone, anchor, after, shift, holidays)
        .map(|p| p.at.timestamp())
        .take(10_000)
        .find(|t| !overrides.is_away(*t));
    let moved_in = overrides
        .moved_in
        .iter()
        .map(|(at, _)| *at)
        .filter(|at| *at > after.timestamp() && !overrides.is_away(*at))
        .min();
    match (regular, moved_in) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The first occurrence that takes place after `after`, and the reminders due at
/// or after `reference` (earlier ones are not queued: they were either
/// handled already or lie before the series existed). When a series moves
/// past an occurrence, `reference` is that occurrence, so a daily meeting's
/// `1d` reminder, due exactly then, is kept.
#[expect(
    clippy::too_many_arguments,
    reason = "one plain function the scheduler and every use case share"
)]
pub fn plan(
    cadence: &Cadence,
    zone: Zone,
    anchor: NaiveDate,
    leads: &LeadTimes,
    after: DateTime<Utc>,
    reference: i64,
    overrides: &Overrides,
    shifting: (Shift, &Holidays),
) -> Plan {
    let next = next_after(cadence, zone, anchor, after, overrides, shifting);
    let reminders = match next {
        Some(at) => leads
            .iter()
            .map(|d| d.num_seconds())
            .filter(|lead| at - lead >= reference)
            .map(|lead_secs| PlannedReminder { lead_secs })
            .collect(),
        None => Vec::new(),
    };
    Plan {
        next_at: next,
        reminders,
    }
}

fn ts(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}

#[derive(Clone)]
pub struct Meetings {
    pub store: Store,
    /// `[calendar] holidays`: the shift rule moves occurrences off these.
    pub holidays: std::sync::Arc<Holidays>,
}

impl Meetings {
    pub(crate) async fn load(&self, workspace: &str, id: i64) -> Result<Series> {
        match self.store.series(workspace, id).await? {
            Some(row) if row.status == "active" => Ok(Series::from_row(row)?),
            Some(row) => user_err(format!(
                "series {id} ({}) is {}; see /meeting list for active series",
                row.title, row.status
            )),
            None => user_err(format!("there is no series {id} here; see /meeting list")),
        }
    }

    #[instrument(skip(self, config, new), fields(workspace = %actor.workspace, user = %actor.user))]
    pub async fn add(
        &self,
        config: &Config,
        actor: &Actor,
        new: NewMeeting,
        now: DateTime<Utc>,
    ) -> Result<Series> {
        for a in new.attendees.iter() {
            super::check_person(config, "attendees", a)?;
        }
        let zone = new.zone.unwrap_or(config.default_zone);
        let channel = match (new.channel, &actor.channel) {
            (Some(c), _) => c.to_string(),
            (None, Some(here)) => here.clone(),
            (None, None) => config.default_channel.to_string(),
        };
        let remind = new.remind.unwrap_or_else(|| config.default_remind.clone());
        let anchor = zone.local(now).date();
        let shift = new.shift.unwrap_or_default();
        let none = Overrides::default();
        let plan = plan(
            &new.cadence,
            zone,
            anchor,
            &remind,
            now,
            ts(now),
            &none,
            (shift, &self.holidays),
        );
        if plan.next_at.is_none() {
            return user_err(format!(
                "`{}` has no occurrence after now ({}); pick a future date",
                new.cadence,
                now.with_timezone(&zone.tz()).format("%Y-%m-%d %H:%M %Z")
            ));
        }
        let row = NewSeries {
            workspace: actor.workspace.clone(),
            title: new.title.to_string(),
            cadence: new.cadence.to_string(),
            rrule: new.cadence.rrule(),
            tz: zone.name().to_string(),
            anchor_date: anchor.format("%Y-%m-%d").to_string(),
            channel,
            attendees: new.attendees.to_string(),
            remind: remind.to_string(),
            duration_secs: new.duration.unwrap_or_default().secs(),
            capture: new.capture.unwrap_or_default().to_string(),
            created_by: actor.user.clone(),
            created_at: ts(now),
            shift: shift.to_string(),
        };
        let id = self.store.insert_series(&row, &plan).await?;
        tracing::info!(series = id, "series created");
        self.load(&actor.workspace, id).await
    }

    /// Create the config's series that do not exist yet (matched by title).
    pub async fn seed(
        &self,
        config: &Config,
        seeds: &[SeriesSeed],
        now: DateTime<Utc>,
    ) -> anyhow::Result<usize> {
        let mut created = 0;
        for s in seeds {
            if self
                .store
                .series_by_title(&s.workspace, s.title.as_str())
                .await?
                .is_some()
            {
                continue;
            }
            let actor = Actor {
                workspace: s.workspace.clone(),
                user: "config".to_string(),
                channel: None,
                platform_roles: Vec::new(),
            };
            let new = NewMeeting {
                title: s.title.clone(),
                cadence: s.cadence.clone(),
                zone: Some(s.zone),
                channel: Some(s.channel.clone()),
                remind: Some(s.remind.clone()),
                attendees: s.attendees.clone(),
                duration: Some(s.duration),
                capture: Some(s.capture),
                shift: Some(s.shift),
            };
            match self.add(config, &actor, new, now).await {
                Ok(_) => created += 1,
                Err(Error::User(msg)) => {
                    tracing::warn!(title = %s.title, "series from config not created: {msg}")
                }
                Err(Error::Internal(e)) => return Err(e),
            }
        }
        Ok(created)
    }

    pub async fn list(&self, actor: &Actor) -> Result<Vec<Series>> {
        let rows = self.store.list_series(&actor.workspace).await?;
        rows.into_iter()
            .map(|r| Series::from_row(r).map_err(Error::from))
            .collect()
    }

    pub async fn get(&self, actor: &Actor, id: i64) -> Result<Series> {
        self.load(&actor.workspace, id).await
    }

    pub async fn overrides(&self, series: &Series, now: DateTime<Utc>) -> Result<Overrides> {
        Ok(self.store.overrides(series.row.id, ts(now)).await?)
    }

    /// Skip the next occurrence; returns (series, skipped occurrence).
    #[instrument(skip(self), fields(workspace = %actor.workspace, user = %actor.user))]
    pub async fn skip(&self, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<(Series, i64)> {
        let s = self.load(&actor.workspace, id).await?;
        let Some(skipped) = s.row.next_at else {
            return user_err(format!("series {id} has no next occurrence to skip"));
        };
        let mut overrides = self.store.overrides(id, ts(now)).await?;
        overrides.away.push((skipped, "skipped".to_string()));
        let plan = plan(
            &s.cadence,
            s.zone,
            s.anchor,
            &s.remind,
            now,
            ts(now),
            &overrides,
            (s.shift, &self.holidays),
        );
        self.store
            .skip_occurrence(&s.row, skipped, &actor.user, &plan, ts(now))
            .await?;
        let s = Series::from_row(
            self.store
                .series(&actor.workspace, id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("series {id} vanished"))?,
        )?;
        Ok((s, skipped))
    }

    #[instrument(skip(self), fields(workspace = %actor.workspace, user = %actor.user))]
    pub async fn cancel(&self, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<Series> {
        let s = self.load(&actor.workspace, id).await?;
        if !self
            .store
            .cancel_series(&actor.workspace, id, ts(now))
            .await?
        {
            return user_err(format!("series {id} was already cancelled"));
        }
        Ok(s)
    }

    #[instrument(skip(self, changes), fields(workspace = %actor.workspace, user = %actor.user))]
    pub async fn edit(
        &self,
        actor: &Actor,
        id: i64,
        changes: MeetingChanges,
        now: DateTime<Utc>,
    ) -> Result<Series> {
        let s = self.load(&actor.workspace, id).await?;
        let mut row = s.row.clone();
        let cadence = changes.cadence.clone().unwrap_or_else(|| s.cadence.clone());
        let zone = changes.zone.unwrap_or(s.zone);
        let remind = changes.remind.clone().unwrap_or_else(|| s.remind.clone());
        let shift = changes.shift.unwrap_or(s.shift);
        let timing_changed = changes.cadence.is_some() || changes.zone.is_some();
        let anchor = if timing_changed {
            zone.local(now).date()
        } else {
            s.anchor
        };
        if let Some(t) = &changes.title {
            row.title = t.to_string();
        }
        if let Some(c) = &changes.channel {
            row.channel = c.to_string();
        }
        if let Some(a) = &changes.attendees {
            row.attendees = a.to_string();
        }
        row.cadence = cadence.to_string();
        row.rrule = cadence.rrule();
        row.tz = zone.name().to_string();
        row.anchor_date = anchor.format("%Y-%m-%d").to_string();
        row.remind = remind.to_string();
        row.shift = shift.to_string();
        if let Some(l) = changes.duration {
            row.duration_secs = l.secs();
        }
        if let Some(c) = changes.capture {
            row.capture = c.to_string();
        }
        let overrides = self.store.overrides(id, ts(now)).await?;
        let plan = plan(
            &cadence,
            zone,
            anchor,
            &remind,
            now,
            ts(now),
            &overrides,
            (shift, &self.holidays),
        );
        if plan.next_at.is_none() {
            return user_err(format!(
                "`{cadence}` has no occurrence after now; nothing was changed"
            ));
        }
        self.store.update_series(&row, &plan, ts(now)).await?;
        self.load(&actor.workspace, id).await
    }

    /// Add an item to the next occurrence's agenda, or mark item `done`
    /// (1-based) of the current occurrence (the next one when none is under
    /// way) covered. Returns the series, the occurrence and its agenda as
    /// it now stands.
    pub async fn agenda(
        &self,
        actor: &Actor,
        id: i64,
        item: Option<String>,
        done: Option<usize>,
        now: DateTime<Utc>,
    ) -> Result<(Series, i64, Vec<AgendaItem>)> {
        let s = self.load(&actor.workspace, id).await?;
        let occurrence = match done {
            Some(_) => match self.current(&s, now).await? {
                Some(at) => Some(at),
                None => s.row.next_at,
            },
            None => s.row.next_at,
        };
        let Some(occurrence) = occurrence else {
            return user_err(format!("series {id} has no next occurrence"));
        };
        if let Some(text) = item {
            self.store
                .add_agenda_item(&s.row, occurrence, &text, &actor.user, ts(now))
                .await?;
        }
        let items = self.store.agenda(id, occurrence).await?;
        if let Some(n) = done {
            let when = crate::domain::zone::human(&s.local(occurrence));
            let Some(target) = n.checked_sub(1).and_then(|i| items.get(i)) else {
                return user_err(format!(
                    "the agenda of {} on {when} has {} item{}; there is no item {n}",
                    s.row.title,
                    items.len(),
                    if items.len() == 1 { "" } else { "s" }
                ));
            };
            if !self.store.cover_agenda_item(target.id, ts(now)).await? {
                return user_err(format!(
                    "item {n} ({}) of {} on {when} is already covered",
                    target.text, s.row.title
                ));
            }
            let items = self.store.agenda(id, occurrence).await?;
            return Ok((s, occurrence, items));
        }
        Ok((s, occurrence, items))
    }

    /// The occurrence of `s` under way at `now`, or the last one if it
    /// ended less than a day ago: what `meeting:N` attaches to.
    pub async fn current(&self, s: &Series, now: DateTime<Utc>) -> Result<Option<i64>> {
        let since = ts(now)
            .saturating_sub(s.length.secs())
            .saturating_sub(86_400);
        Ok(self
            .store
            .latest_held(s.row.id, since, ts(now))
            .await?
            .map(|o| o.at))
    }

    /// Move the next occurrence to `date` at `time` (the cadence's usual
    /// time when not given), in the series' zone. Returns the series, the
    /// slot it was, and when it now is.
    #[instrument(skip(self), fields(workspace = %actor.workspace, user = %actor.user))]
    pub async fn move_next(
        &self,
        actor: &Actor,
        id: i64,
        date: NaiveDate,
        time: Option<chrono::NaiveTime>,
        now: DateTime<Utc>,
    ) -> Result<(Series, i64, i64)> {
        let s = self.load(&actor.workspace, id).await?;
        let Some(from) = s.row.next_at else {
            return user_err(format!("series {id} has no next occurrence to move"));
        };
        if from <= ts(now) {
            return user_err(format!(
                "{} on {} has already begun; move the next one once it is over",
                s.row.title,
                crate::domain::zone::human(&s.local(from))
            ));
        }
        let time = time.unwrap_or_else(|| s.local(from).time());
        let to = crate::domain::zone::resolve(s.zone.tz(), date.and_time(time)).timestamp();
        let target = crate::domain::zone::human(&s.local(to));
        if to <= ts(now) {
            return user_err(format!(
                "{target} is in the past; move the meeting to a later date"
            ));
        }
        if to == from {
            return user_err(format!(
                "the next occurrence of {} is already {target}",
                s.row.title
            ));
        }
        let mut overrides = self.store.overrides(id, ts(now)).await?;
        overrides.away.push((from, "moved".to_string()));
        // Only the next occurrence moves: it may not land on or after the one after it.
        if let Some(after) = next_after(
            &s.cadence,
            s.zone,
            s.anchor,
            now,
            &overrides,
            (s.shift, &self.holidays),
        ) {
            if to >= after {
                return user_err(format!(
                    "{target} is on or after the following occurrence ({}); /meeting move moves only the next one, so skip it instead",
                    crate::domain::zone::human(&s.local(after))
                ));
            }
        }
        if self.store.occurrence(id, to).await?.is_some() {
            return user_err(format!(
                "{} already has an occurrence at {target}",
                s.row.title
            ));
        }
        overrides.moved_in.push((to, from));
        let plan = plan(
            &s.cadence,
            s.zone,
            s.anchor,
            &s.remind,
            now,
            ts(now),
            &overrides,
            (s.shift, &self.holidays),
        );
        self.store
            .move_occurrence(&s.row, from, to, &actor.user, &plan, ts(now))
            .await?;
        let s = self.load(&actor.workspace, id).await?;
        Ok((s, from, to))
    }

    /// Add a note to the current occurrence (the next one when none is under way).
    #[instrument(skip(self, text), fields(workspace = %actor.workspace, user = %actor.user))]
    pub async fn note(
        &self,
        actor: &Actor,
        id: i64,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<(Series, i64)> {
        let s = self.load(&actor.workspace, id).await?;
        let at = match self.current(&s, now).await? {
            Some(at) => at,
            None => match s.row.next_at {
                Some(at) => at,
                None => {
                    return user_err(format!("series {id} has no occurrence to take notes for"));
                }
            },
        };
        self.store
            .add_note(&s.row, at, text, &actor.user, ts(now))
            .await?;
        Ok((s, at))
    }

    /// Attach a decision or an action item just recorded to its meeting:
    /// with `meeting:N`, the current occurrence of series N; without, the
    /// meeting under way in the channel it was recorded in, for series
    /// that capture their channel. Returns (series, occurrence) when attached.
    pub async fn attach(
        &self,
        actor: &Actor,
        meeting: Option<i64>,
        entity: &str,
        entity_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<(Series, i64)>> {
        let candidates: Vec<Series> = match (meeting, &actor.channel) {
            (Some(id), _) => match self.store.series(&actor.workspace, id).await? {
                Some(row) => vec![Series::from_row(row)?],
                None => Vec::new(),
            },
            (None, Some(channel)) => self
                .store
                .capturing_series(&actor.workspace, channel)
                .await?
                .into_iter()
                .filter_map(|r| Series::from_row(r).ok())
                .collect(),
            (None, None) => Vec::new(),
        };
        for s in candidates {
            let Some(at) = self.current(&s, now).await? else {
                continue;
            };
            // Captured from the channel only while the meeting is on.
            if meeting.is_none() && ts(now) >= s.end_of(at) {
                continue;
            }
            self.store
                .attach_item(s.row.id, at, entity, entity_id)
                .await?;
            return Ok(Some((s, at)));
        }
        Ok(None)
    }

    /// The minutes of the occurrence of `s` at `at`.
    pub async fn minutes_of(
        &self,
        config: &Config,
        s: &Series,
        at: i64,
    ) -> anyhow::Result<Minutes> {
        let state = self
            .store
            .occurrence(s.row.id, at)
            .await?
            .map_or_else(|| "held".to_string(), |o| o.state);
        let local = s.local(at);
        let agenda = self
            .store
            .agenda(s.row.id, at)
            .await?
            .into_iter()
            .map(|i| AgendaOutcome {
                text: i.text,
                covered: i.covered_at.is_some(),
                carried: i.carried,
            })
            .collect();
        let decisions = self
            .store
            .occurrence_decisions(s.row.id, at)
            .await?
            .into_iter()
            .map(|d| MinutesDecision {
                id: d.id,
                title: d.title,
                status: d.status,
                authority: d.authority,
                decided_by: d.decided_by,
            })
            .collect();
        let actions = self
            .store
            .occurrence_actions(s.row.id, at)
            .await?
            .into_iter()
            .map(|a| MinutesAction {
                id: a.id,
                task: a.task,
                owner: a.owner,
                due: a.due_date,
                status: a.status,
            })
            .collect();
        let notes = self
            .store
            .notes(s.row.id, at)
            .await?
            .into_iter()
            .map(|n| MinutesNote {
                by: n.added_by,
                text: n.text,
            })
            .collect();
        let absent: Vec<String> = self
            .store
            .attendance(s.row.id, at)
            .await?
            .into_iter()
            .filter(|(_, attending)| !attending)
            .map(|(person, _)| person)
            .collect();
        Ok(Minutes {
            series_id: s.row.id,
            title: s.row.title.clone(),
            starts: crate::domain::zone::human(&local),
            date: local.format("%Y-%m-%d").to_string(),
            zone: s.zone.name().to_string(),
            duration: s.length.to_string(),
            state,
            attendees: s
                .attendees
                .iter()
                .filter(|a| !absent.iter().any(|p| p == a))
                .map(|a| config.org.describe(a))
                .collect(),
            absent: absent.iter().map(|p| config.org.describe(p)).collect(),
            agenda,
            decisions,
            actions,
            notes,
        })
    }

    /// Close the occurrence of series `series_id` at `at` (its end has
    /// come): carry its uncovered agenda items over to the next occurrence
    /// (once, however often this runs) and return its minutes, or None when
    /// nothing was recorded and `[meetings] minutes` is not `always`, or the
    /// series is gone.
    pub async fn close(
        &self,
        config: &Config,
        workspace: &str,
        series_id: i64,
        at: i64,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<Minutes>> {
        let Some(row) = self.store.series(workspace, series_id).await? else {
            return Ok(None);
        };
        let s = Series::from_row(row)?;
        if let Some(next) = s.row.next_at.filter(|n| *n > at) {
            self.store.carry_over(&s.row, at, next, ts(now)).await?;
        }
        let minutes = self.minutes_of(config, &s, at).await?;
        if minutes.is_empty() && !config.minutes_always {
            return Ok(None);
        }
        Ok(Some(minutes))
    }

    /// Minutes of past occurrences of series `id`, latest first: the one on
    /// `date` (local) when given, else the last `limit`.
    pub async fn past_minutes(
        &self,
        config: &Config,
        workspace: &str,
        id: i64,
        date: Option<NaiveDate>,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<(Series, Vec<Minutes>)> {
        let row = match self.store.series(workspace, id).await? {
            Some(row) => row,
            None => return user_err(format!("there is no series {id} here; see /meeting list")),
        };
        let s = Series::from_row(row)?;
        let held = self
            .store
            .held_occurrences(id, ts(now), if date.is_some() { 2000 } else { limit })
            .await?;
        let mut out = Vec::new();
        for o in held {
            if s.end_of(o.at) > ts(now) {
                continue;
            }
            if date.is_some_and(|d| s.local(o.at).date_naive() != d) {
                continue;
            }
            out.push(self.minutes_of(config, &s, o.at).await?);
        }
        Ok((s, out))
    }

    /// Every past occurrence's minutes of series `id`, latest first, as
    /// `md` or `json` (for `quorum export minutes`).
    pub async fn export_minutes(
        &self,
        config: &Config,
        workspace: &str,
        id: i64,
        format: &str,
        now: DateTime<Utc>,
    ) -> Result<String> {
        if id <= 0 {
            return user_err(format!(
                "--series: `{id}` is not a series id; see /meeting list"
            ));
        }
        if format != "md" && format != "json" {
            return user_err(format!(
                "--format: `{format}` is not a format; use md or json"
            ));
        }
        let (s, list) = self
            .past_minutes(config, workspace, id, None, 1000, now)
            .await?;
        if format == "json" {
            let mut text = serde_json::to_string_pretty(&list)
                .map_err(|e| anyhow::anyhow!("writing minutes as JSON: {e}"))?;
            text.push('\n');
            return Ok(text);
        }
        let mut out = format!("# Minutes of {} (series {})\n", s.row.title, s.row.id);
        if list.is_empty() {
            out.push_str("\nNo occurrence has ended yet.\n");
        }
        for m in &list {
            out.push('\n');
            out.push_str(&m.to_markdown());
        }
        Ok(out)
    }

    /// Queue a heads-up, once, for each occurrence in the coming week that
    /// falls on a weekend or holiday (or was shifted off one), in its series'
    /// channel. Goes through the delivery queue under a dedupe key, so it is
    /// sent once whatever the number of ticks or instances.
    pub async fn warn_unusual_dates(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let week = chrono::Duration::days(7);
        let until = now + week;
        let mut queued = 0;
        for row in self
            .store
            .series_next_before(until.timestamp(), 1_000)
            .await?
        {
            let s = match Series::from_row(row) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "a series left out of the heads-up");
                    continue;
                }
            };
            // A series that meets daily or more often has weekends in its
            // rhythm: no heads-up (and the walk stays a few steps long).
            let week: Vec<Placed> = s
                .placed_after(now, &self.holidays)
                .take_while(|p| p.at.with_timezone(&Utc) <= until)
                .take(DAILY_OR_MORE)
                .collect();
            if week.len() >= DAILY_OR_MORE {
                continue;
            }
            let flagged: Vec<Placed> = week
                .into_iter()
                .filter(|p| p.original.is_some() || self.holidays.flag(p.at.date_naive()).is_some())
                .collect();
            let overrides = self.store.overrides(s.row.id, ts(now)).await?;
            // Moved with /meeting move onto a weekend or holiday: the same
            // heads-up, saying where it was.
            let moved: Vec<(Placed, DateTime<Tz>)> = overrides
                .moved_in
                .iter()
                .filter(|(at, _)| *at <= until.timestamp() && !overrides.is_away(*at))
                .map(|(at, from)| {
                    let p = Placed {
                        at: s.local(*at),
                        original: None,
                    };
                    (p, s.local(*from))
                })
                .filter(|(p, _)| self.holidays.flag(p.at.date_naive()).is_some())
                .collect();
            let flagged = flagged
                .into_iter()
                .map(|p| (p, None))
                .chain(moved.into_iter().map(|(p, from)| (p, Some(from))));
            for (p, moved_from) in flagged {
                let at = p.at.timestamp();
                if overrides.is_away(at) {
                    continue;
                }
                let key = format!("headsup:{}:{at}", s.row.id);
                if self.store.has_delivery(&key).await? {
                    continue;
                }
                let body = match moved_from {
                    Some(from) => moved_heads_up(&s, &p, &from, &self.holidays),
                    None => heads_up(&s, &p, &self.holidays),
                }
                .to_json();
                if self
                    .store
                    .enqueue_notice(&s.row.workspace, &s.row.channel, &key, &body, ts(now))
                    .await?
                {
                    tracing::info!(series = s.row.id, occurrence = at, "heads-up queued");
                    queued += 1;
                }
            }
        }
        Ok(queued)
    }

    /// Move every series whose occurrence has passed to its next one and
    /// queue that occurrence's reminders. Bounded per call.
    pub async fn advance_due(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let mut advanced = 0;
        for _round in 0..50 {
            let due = self.store.series_due(ts(now), 500).await?;
            if due.is_empty() {
                break;
            }
            // Plan the whole batch, then write it in one transaction: the
            // skips come in one query and the commit is paid once per batch.
            let rows: Vec<(SeriesRow, i64)> = due
                .into_iter()
                .filter_map(|r| r.next_at.map(|p| (r, p)))
                .collect();
            let ids: Vec<i64> = rows.iter().map(|(r, _)| r.id).collect();
            let passed: Vec<i64> = rows.iter().map(|(_, p)| *p).collect();
            let overrides = self.store.overrides_after(&ids, &passed).await?;
            let batch: Vec<(SeriesRow, i64, Plan)> = rows
                .into_iter()
                .map(|(row, passed)| {
                    let plan = match Series::from_row(row.clone()) {
                        Ok(s) => {
                            let after =
                                DateTime::<Utc>::from_timestamp(passed, 0).unwrap_or(now);
                            let none = Overrides::default();
                            let o = overrides.get(&row.id).unwrap_or(&none);
                            plan(
                                &s.cadence,
                                s.zone,
                                s.anchor,
                                &s.remind,
                                after,
                                passed,
                                o,
                                (s.shift, &self.holidays),
                            )
                        }
                        Err(e) => {
                            tracing::error!(series = row.id, error = %e, "ending a series that cannot be read");
                            Plan::default()
                        }
                    };
                    (row, passed, plan)
                })
                .collect();
            if batch.is_empty() {
                break;
            }
            advanced += self.store.advance_many(&batch, ts(now)).await?;
        }
        Ok(advanced)
    }
}
