//! Meeting use cases: create, list, skip, cancel, edit a series, manage its
//! agenda, and move a series past an occurrence (for the scheduler). Each
//! takes the store and the current instant and returns typed outcomes.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use tracing::instrument;

use crate::command::meeting::{MeetingChanges, NewMeeting};
use crate::config::{Config, SeriesSeed};
use crate::domain::holiday::{Holidays, Placed, Shift, place, placed_in_order};
use crate::domain::meeting::{Attendees, LeadTimes};
use crate::domain::recurrence::Cadence;
use crate::domain::zone::Zone;
use crate::error::{Error, Result, user_err};
use crate::store::{NewSeries, Plan, PlannedReminder, SeriesRow, Store};

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
}

/// Length of a meeting when the series records none.
pub const DEFAULT_DURATION_SECS: i64 = 3600;

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
        Ok(Series {
            row,
            cadence,
            zone,
            anchor,
            remind,
            attendees,
            shift,
        })
    }

    /// How long one meeting lasts: the recorded duration, bounded to a day,
    /// or an hour.
    pub fn duration_secs(&self) -> i64 {
        match self.row.duration_secs {
            Some(d) if (60..=86_400).contains(&d) => d,
            _ => DEFAULT_DURATION_SECS,
        }
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

    /// The next `n` occurrences after `from`, with whether each is skipped.
    pub fn upcoming(
        &self,
        from: DateTime<Utc>,
        n: usize,
        skips: &[i64],
        holidays: &Holidays,
    ) -> Vec<(Placed, bool)> {
        self.placed_after(from, holidays)
            .take(n)
            .map(|p| {
                let skipped = skips.contains(&p.at.timestamp());
                (p, skipped)
            })
            .collect()
    }
}

/// Occurrences in a week from which a series counts as meeting daily.
const DAILY_OR_MORE: usize = 7;

/// The heads-up a week before an occurrence on a weekend or holiday.
pub fn heads_up_text(s: &Series, p: &Placed, holidays: &Holidays) -> String {
    let human = crate::domain::zone::human;
    match p.original {
        Some(slot) => format!(
            "Heads-up: {} (series {}) moves from {} to {}: the original date {}, and the series shifts such occurrences.",
            s.row.title,
            s.row.id,
            human(&slot),
            human(&p.at),
            holidays
                .flag(slot.date_naive())
                .map_or_else(|| "is not a working day".to_string(), |f| f.to_string())
        ),
        None => format!(
            "Heads-up: {} (series {}) on {} {}. Keep it, skip it (/meeting skip id:{} skips the next one) or set a shift with /meeting edit id:{} shift:next-weekday.",
            s.row.title,
            s.row.id,
            human(&p.at),
            holidays
                .flag(p.at.date_naive())
                .map_or_else(String::new, |f| f.to_string()),
            s.row.id,
            s.row.id
        ),
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

/// The first non-skipped occurrence after `after`, and the reminders due at
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
    skips: &[i64],
    (shift, holidays): (Shift, &Holidays),
) -> Plan {
    let next = occurrences(cadence, zone, anchor, after, shift, holidays)
        .map(|p| p.at.timestamp())
        .find(|t| !skips.contains(t));
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
    async fn load(&self, workspace: &str, id: i64) -> Result<Series> {
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
        let zone = new.zone.unwrap_or(config.default_zone);
        let channel = match (new.channel, &actor.channel) {
            (Some(c), _) => c.to_string(),
            (None, Some(here)) => here.clone(),
            (None, None) => config.default_channel.to_string(),
        };
        let remind = new.remind.unwrap_or_else(|| config.default_remind.clone());
        let anchor = zone.local(now).date();
        let shift = new.shift.unwrap_or_default();
        let plan = plan(
            &new.cadence,
            zone,
            anchor,
            &remind,
            now,
            ts(now),
            &[],
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

    pub async fn skips(&self, series: &Series, now: DateTime<Utc>) -> Result<Vec<i64>> {
        Ok(self.store.skips(series.row.id, ts(now)).await?)
    }

    /// Skip the next occurrence; returns (series, skipped occurrence).
    #[instrument(skip(self), fields(workspace = %actor.workspace, user = %actor.user))]
    pub async fn skip(&self, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<(Series, i64)> {
        let s = self.load(&actor.workspace, id).await?;
        let Some(skipped) = s.row.next_at else {
            return user_err(format!("series {id} has no next occurrence to skip"));
        };
        let mut skips = self.store.skips(id, ts(now)).await?;
        skips.push(skipped);
        let after = DateTime::<Utc>::from_timestamp(skipped, 0).unwrap_or(now);
        let plan = plan(
            &s.cadence,
            s.zone,
            s.anchor,
            &s.remind,
            after,
            ts(now),
            &skips,
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
        let skips = self.store.skips(id, ts(now)).await?;
        let plan = plan(
            &cadence,
            zone,
            anchor,
            &remind,
            now,
            ts(now),
            &skips,
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

    /// Add an item to the next occurrence's agenda; returns the series and
    /// the agenda as it now stands.
    pub async fn agenda(
        &self,
        actor: &Actor,
        id: i64,
        item: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(Series, Vec<String>)> {
        let s = self.load(&actor.workspace, id).await?;
        let Some(next) = s.row.next_at else {
            return user_err(format!("series {id} has no next occurrence"));
        };
        if let Some(text) = item {
            self.store
                .add_agenda_item(&s.row, next, &text, &actor.user, ts(now))
                .await?;
        }
        let items = self
            .store
            .agenda(id, next)
            .await?
            .into_iter()
            .map(|i| i.text)
            .collect();
        Ok((s, items))
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
            if flagged.is_empty() {
                continue;
            }
            let skips = self.store.skips(s.row.id, ts(now)).await?;
            for p in flagged {
                let at = p.at.timestamp();
                if skips.contains(&at) {
                    continue;
                }
                let key = format!("headsup:{}:{at}", s.row.id);
                if self.store.has_delivery(&key).await? {
                    continue;
                }
                let body = heads_up_text(&s, &p, &self.holidays);
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
            let skips = self.store.skips_after(&ids, &passed).await?;
            let batch: Vec<(SeriesRow, i64, Plan)> = rows
                .into_iter()
                .map(|(row, passed)| {
                    let plan = match Series::from_row(row.clone()) {
                        Ok(s) => {
                            let after =
                                DateTime::<Utc>::from_timestamp(passed, 0).unwrap_or(now);
                            let none = Vec::new();
                            let skips = skips.get(&row.id).unwrap_or(&none);
                            plan(
                                &s.cadence,
                                s.zone,
                                s.anchor,
                                &s.remind,
                                after,
                                passed,
                                skips,
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
