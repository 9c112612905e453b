//! The iCalendar (RFC 5545) feed of a workspace's active series, built with
//! the `icalendar` crate, and the holidays read from an .ics file.
//!
//! - A rule series is one VEVENT: DTSTART in the series' zone (with a
//!   VTIMEZONE for it), its canonical RRULE, DURATION, the agenda and any
//!   heads-up in DESCRIPTION, its attendees, SEQUENCE = the series' revision.
//! - Skipped occurrences are EXDATEs. An occurrence moved with `/meeting
//!   move`, one the series' `shift` moved off a weekend or holiday, or one
//!   left on such a day, is an override (RECURRENCE-ID = the cadence's slot)
//!   saying so in its DESCRIPTION.
//! - A `cron:` series, which an RRULE cannot always express, is expanded into
//!   single events for the next [`CRON_DAYS`] days; a `once` series is one event.
//!
//! UIDs depend only on the workspace and series id (and a cron event's slot),
//! so a client that refreshes updates its events instead of duplicating them.
//! The crate has no VTIMEZONE (it would also stamp a DTSTAMP and a random UID
//! on any component it writes): Quorum writes those blocks itself, one
//! STANDARD or DAYLIGHT part per offset change found by probing `chrono-tz`,
//! and places them before the events.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};
use icalendar::{
    Calendar, CalendarDateTime, Component, DatePerhapsTime, Event, EventLike, Property,
};

use crate::domain::holiday::{Holidays, Placed, place};
use crate::domain::zone::Zone;
use crate::service::meetings::Series;
use crate::store::rows::Overrides;

/// How far ahead a `cron:` series is expanded into single events.
pub const CRON_DAYS: i64 = 90;
/// How far ahead overrides (moved and flagged occurrences) are written.
pub const HORIZON_DAYS: i64 = 800;
/// The most overrides one series writes (a daily series flags every weekend).
const MAX_OVERRIDES: usize = 400;
/// The most occurrences of one series the feed walks (a cron series firing
/// every few seconds would otherwise write millions of events).
const MAX_EVENTS: usize = 1_000;

/// One series as the feed shows it, with what the store knows about it.
#[derive(Debug, Clone)]
pub struct FeedSeries {
    pub series: Series,
    /// One-off changes: skipped, moved or cancelled occurrences (at the
    /// instant the series would have happened) and those moved in.
    pub overrides: Overrides,
    /// The agenda of the next occurrence.
    pub agenda: Vec<String>,
    /// Display names of the attendees (`ceo (Ana García)`), in order.
    pub attendees: Vec<(String, String)>,
}

/// The feed of `items` as iCalendar text.
pub fn feed(name: &str, items: &[FeedSeries], holidays: &Holidays, now: DateTime<Utc>) -> String {
    let mut cal = Calendar::new();
    cal.name(name);
    cal.append_property(
        Property::new("REFRESH-INTERVAL", "PT1H")
            .add_parameter("VALUE", "DURATION")
            .done(),
    );
    cal.append_property(Property::new("X-PUBLISHED-TTL", "PT1H"));
    let mut zones: BTreeMap<&'static str, (Zone, i64)> = BTreeMap::new();
    let mut events: Vec<Event> = Vec::new();
    for item in items {
        let s = &item.series;
        let start = series_start(s);
        zone_first(&mut zones, s.zone, start.timestamp());
        events.extend(series_events(item, holidays, now, start));
    }
    let until = now + Duration::days(HORIZON_DAYS + 366);
    let timezones: String = zones
        .values()
        .filter_map(|(zone, from)| vtimezone(*zone, *from, until.timestamp()))
        .collect();
    for e in events {
        cal.push(e);
    }
    let text = cal.done().to_string();
    // VTIMEZONE blocks go before the first component (RFC 5545 allows any
    // order; clients read zones more reliably first).
    let at = text
        .find("BEGIN:VEVENT")
        .or_else(|| text.find("END:VCALENDAR"))
        .unwrap_or(text.len());
    let mut out = String::with_capacity(text.len() + timezones.len());
    out.push_str(&text[..at]);
    out.push_str(&timezones);
    out.push_str(&text[at..]);
    out
}

fn zone_first(zones: &mut BTreeMap<&'static str, (Zone, i64)>, zone: Zone, at: i64) {
    let entry = zones.entry(zone.name()).or_insert((zone, at));
    entry.1 = entry.1.min(at);
}

/// Where a series' occurrences begin: its anchor day in its zone, or its
/// creation when later (nothing before the series existed is shown).
fn series_start(s: &Series) -> DateTime<Utc> {
    let midnight = s
        .zone
        .resolve(s.anchor.and_hms_opt(0, 0, 0).unwrap_or_default())
        .with_timezone(&Utc);
    let created = DateTime::<Utc>::from_timestamp(s.row.created_at, 0).unwrap_or(midnight);
    midnight.max(created) - Duration::seconds(1)
}

/// Stable per workspace and series: `series-7.T0123ABC@quorum`.
pub fn uid(s: &Series) -> String {
    let ws: String = s
        .row
        .workspace
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("series-{}.{ws}@quorum", s.row.id)
}

fn at_tz(at: &DateTime<Tz>) -> CalendarDateTime {
    CalendarDateTime::WithTimezone {
        date_time: at.naive_local(),
        tzid: at.timezone().name().to_string(),
    }
}

fn duration_value(secs: i64) -> String {
    if secs % 60 == 0 {
        format!("PT{}M", secs / 60)
    } else {
        format!("PT{secs}S")
    }
}

/// The parts every event of a series shares.
fn base_event(item: &FeedSeries, uid: &str, description: &str, now: DateTime<Utc>) -> Event {
    let s = &item.series;
    let mut e = Event::new();
    e.uid(uid)
        .summary(&s.row.title)
        .description(description)
        .timestamp(now)
        .sequence(u32::try_from(s.row.sequence.max(0)).unwrap_or(u32::MAX))
        .add_property("DURATION", duration_value(s.duration_secs()));
    if let Some(modified) = DateTime::<Utc>::from_timestamp(s.row.updated_at, 0) {
        e.last_modified(modified);
    }
    for (key, name) in &item.attendees {
        let cn: String = name
            .chars()
            .filter(|c| *c != '"' && !c.is_control())
            .collect();
        e.append_multi_property(
            Property::new("ATTENDEE", format!("urn:x-quorum:attendee:{key}"))
                .add_parameter("CN", &cn)
                .done(),
        );
    }
    e
}

/// `Sun 27 Dec 2026`
fn day(at: &DateTime<Tz>) -> String {
    at.format("%a %-d %b %Y").to_string()
}

/// What is said of one occurrence: moved from where, or why it is flagged.
pub fn note(p: &Placed, holidays: &Holidays) -> Option<String> {
    match p.original {
        Some(slot) => Some(format!(
            "Moved from {} ({}): the series shifts occurrences off weekends and holidays",
            day(&slot),
            holidays
                .flag(slot.date_naive())
                .map_or_else(|| "not a working day".to_string(), |f| f.to_string())
        )),
        None => holidays
            .flag(p.at.date_naive())
            .map(|f| format!("Heads-up: {} {f}", day(&p.at))),
    }
}

/// What is said of an occurrence moved with `/meeting move`, and of the day
/// it was moved to when that is a weekend or holiday.
fn moved_note(p: &Placed, to: &DateTime<Tz>, holidays: &Holidays) -> String {
    let mut note = format!(
        "Moved from {} {} to {} {} with /meeting move",
        day(&p.at),
        p.at.format("%H:%M"),
        day(to),
        to.format("%H:%M")
    );
    if let Some(f) = holidays.flag(to.date_naive()) {
        note.push_str(&format!("\nHeads-up: {} {f}", day(to)));
    }
    note
}

fn series_events(
    item: &FeedSeries,
    holidays: &Holidays,
    now: DateTime<Utc>,
    start: DateTime<Utc>,
) -> Vec<Event> {
    let s = &item.series;
    let uid = uid(s);
    let mut description = format!(
        "{} (Quorum series {}) in #{}\nWhen: {} ({})",
        s.row.title, s.row.id, s.row.channel, s.cadence, s.zone
    );
    if !item.agenda.is_empty() {
        let list: Vec<String> = item
            .agenda
            .iter()
            .enumerate()
            .map(|(i, t)| format!("{}) {t}", i + 1))
            .collect();
        description.push_str(&format!(
            "\nAgenda of the next meeting: {}",
            list.join("; ")
        ));
    }
    // Moved with /meeting move: where it was (after any shift) -> where it is.
    let moved: BTreeMap<i64, i64> = item
        .overrides
        .moved_in
        .iter()
        .filter(|(at, _)| !item.overrides.is_away(*at))
        .map(|(at, from)| (*from, *at))
        .collect();
    let skipped: BTreeSet<i64> = item
        .overrides
        .away
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| !moved.contains_key(t))
        .collect();
    let is_rule = s.cadence.rrule().is_some();
    let horizon = if is_rule || s.cadence.is_once() {
        now + Duration::days(HORIZON_DAYS)
    } else {
        now + Duration::days(CRON_DAYS)
    };
    // Every slot from the series' start to the horizon, placed by the shift.
    let slot_from = if is_rule || s.cadence.is_once() {
        start
    } else {
        start.max(now)
    };
    let shift =
        crate::service::meetings::effective_shift(&s.cadence, s.zone, s.anchor, slot_from, s.shift);
    let placed: Vec<Placed> = s
        .cadence
        .occurrences_after(s.zone, s.anchor, slot_from)
        .take_while(|at| at.with_timezone(&Utc) <= horizon)
        .take(MAX_EVENTS)
        .map(|slot| place(slot, s.zone, shift, holidays))
        .collect();
    // Two slots shifted onto one instant happen once: the cadence's own slot
    // there wins, else the first.
    let mut taken: BTreeMap<i64, usize> = BTreeMap::new();
    for (i, p) in placed.iter().enumerate() {
        let key = p.at.timestamp();
        match taken.get(&key) {
            Some(&j) if placed[j].original.is_none() => {}
            _ if p.original.is_none() || !taken.contains_key(&key) => {
                taken.insert(key, i);
            }
            _ => {}
        }
    }
    let happens = |i: usize, p: &Placed| {
        taken.get(&p.at.timestamp()) == Some(&i) && !skipped.contains(&p.at.timestamp())
    };

    if !is_rule {
        // Single events: the `once` occurrence, or a cron series' next days.
        let once = s.cadence.is_once();
        return placed
            .iter()
            .enumerate()
            .filter(|(i, p)| happens(*i, p))
            .map(|(_, p)| {
                let mut text = description.clone();
                if let Some(n) = note(p, holidays) {
                    text = format!("{n}\n{text}");
                }
                let uid = if once {
                    uid.clone()
                } else {
                    format!(
                        "{}-{}",
                        uid.trim_end_matches("@quorum"),
                        p.slot().timestamp()
                    ) + "@quorum"
                };
                let mut start = p.at;
                if let Some(to) = moved.get(&p.at.timestamp()) {
                    start = s.local(*to);
                    text = format!("{}\n{text}", moved_note(p, &start, holidays));
                }
                let mut e = base_event(item, &uid, &text, now);
                e.starts(at_tz(&start));
                e.done()
            })
            .collect();
    }

    let Some(first) = placed
        .first()
        .map(Placed::slot)
        .or_else(|| s.cadence.occurrences_after(s.zone, s.anchor, start).next())
    else {
        return Vec::new();
    };
    let flagged: Vec<String> = placed
        .iter()
        .enumerate()
        .filter(|(i, p)| happens(*i, p) && p.at.with_timezone(&Utc) > now)
        .filter_map(|(_, p)| note(p, holidays))
        .take(5)
        .collect();
    let mut main_text = description.clone();
    if !flagged.is_empty() {
        main_text.push_str(&format!("\n{}", flagged.join("\n")));
    }
    let mut main = base_event(item, &uid, &main_text, now);
    main.starts(at_tz(&first));
    if let Some(rule) = s.cadence.rrule() {
        main.add_property("RRULE", rule);
    }
    let mut exdates: BTreeSet<i64> = BTreeSet::new();
    let mut overrides = Vec::new();
    let mut placed_at: BTreeSet<i64> = BTreeSet::new();
    for (i, p) in placed.iter().enumerate() {
        placed_at.insert(p.at.timestamp());
        if !happens(i, p) {
            exdates.insert(p.slot().timestamp());
            continue;
        }
        if overrides.len() >= MAX_OVERRIDES {
            continue;
        }
        if let Some(to) = moved.get(&p.at.timestamp()) {
            let start = s.local(*to);
            let n = moved_note(p, &start, holidays);
            let mut e = base_event(item, &uid, &format!("{n}\n{description}"), now);
            e.starts(at_tz(&start));
            e.recurrence_id(DatePerhapsTime::DateTime(at_tz(&p.slot())));
            overrides.push(e.done());
            continue;
        }
        if let Some(n) = note(p, holidays) {
            let mut e = base_event(item, &uid, &format!("{n}\n{description}"), now);
            e.starts(at_tz(&p.at));
            e.recurrence_id(DatePerhapsTime::DateTime(at_tz(&p.slot())));
            overrides.push(e.done());
        }
    }
    // Skips beyond the horizon (or before a re-anchoring) are their own slots.
    exdates.extend(skipped.iter().filter(|t| !placed_at.contains(t)));
    let tzid = s.zone.name();
    for t in exdates {
        let Some(at) = s.zone.tz().timestamp_opt(t, 0).single() else {
            continue;
        };
        main.append_multi_property(
            Property::new(
                "EXDATE",
                at.naive_local().format("%Y%m%dT%H%M%S").to_string(),
            )
            .add_parameter("TZID", tzid)
            .done(),
        );
    }
    let mut out = vec![main.done()];
    out.extend(overrides);
    out
}

/// A VTIMEZONE for `zone` covering `from..until`: one STANDARD or DAYLIGHT
/// part per offset change in that span (found by probing daily, then to the
/// second), and one for the offset in force at `from`.
fn vtimezone(zone: Zone, from: i64, until: i64) -> Option<String> {
    let tz = zone.tz();
    let offset_at = |t: i64| {
        let at = tz.timestamp_opt(t, 0).single()?;
        Some(*at.offset())
    };
    let from = from.checked_sub(366 * 86_400)?;
    let mut parts: Vec<(i64, chrono_tz::TzOffset, chrono_tz::TzOffset)> = Vec::new();
    let first = offset_at(from)?;
    let mut prev_t = from;
    let mut prev = first;
    let mut t = from;
    while t < until {
        t = t.checked_add(86_400)?;
        let now = offset_at(t)?;
        if now.fix() != prev.fix() || now.abbreviation() != prev.abbreviation() {
            // Bisect to the first second of the new offset.
            let (mut lo, mut hi) = (prev_t, t);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                let o = offset_at(mid)?;
                if o.fix() == prev.fix() && o.abbreviation() == prev.abbreviation() {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            parts.push((hi, prev, now));
            prev = now;
        }
        prev_t = t;
    }
    let mut text = String::from("BEGIN:VTIMEZONE\r\n");
    text.push_str(&format!("TZID:{}\r\n", zone.name()));
    let mut push_part = |at_utc: i64,
                         from_off: chrono_tz::TzOffset,
                         to_off: chrono_tz::TzOffset| {
        let kind = if to_off.dst_offset().num_seconds() != 0 {
            "DAYLIGHT"
        } else {
            "STANDARD"
        };
        // DTSTART of an onset is the local time in the offset before it.
        let local: NaiveDateTime = DateTime::<Utc>::from_timestamp(at_utc, 0)
            .map(|d| d.naive_utc() + Duration::seconds(i64::from(from_off.fix().local_minus_utc())))
            .unwrap_or_default();
        text.push_str(&format!("BEGIN:{kind}\r\n"));
        text.push_str(&format!("DTSTART:{}\r\n", local.format("%Y%m%dT%H%M%S")));
        text.push_str(&format!("TZOFFSETFROM:{}\r\n", utc_offset(from_off)));
        text.push_str(&format!("TZOFFSETTO:{}\r\n", utc_offset(to_off)));
        if let Some(name) = to_off.abbreviation() {
            text.push_str(&format!("TZNAME:{name}\r\n"));
        }
        text.push_str(&format!("END:{kind}\r\n"));
    };
    push_part(from, first, first);
    for (at, before, after) in parts {
        push_part(at, before, after);
    }
    text.push_str("END:VTIMEZONE\r\n");
    Some(text)
}

/// `+0100`, `-0430`, `+0530`.
fn utc_offset(o: chrono_tz::TzOffset) -> String {
    let secs = o.fix().local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let m = secs.unsigned_abs() / 60;
    format!("{sign}{:02}{:02}", m / 60, m % 60)
}

/// The start dates of the events of an .ics file of holidays.
pub fn holidays_from_ics(text: &str) -> Result<Vec<NaiveDate>, String> {
    let unfolded = icalendar::parser::unfold(text);
    let cal = icalendar::parser::read_calendar(&unfolded)
        .map_err(|e| format!("not an iCalendar file: {}", e.lines().next().unwrap_or("")))?;
    let cal: Calendar = cal.into();
    let mut dates = Vec::new();
    for e in cal.events() {
        match e.get_start() {
            Some(start) => dates.push(NaiveDate::from(start)),
            None => return Err("an event has no DTSTART".to_string()),
        }
    }
    if dates.is_empty() {
        return Err("no events (holidays) in the file".to_string());
    }
    Ok(dates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holidays_are_read_from_the_start_dates_of_an_ics_file() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART;VALUE=DATE:20261225\r\nSUMMARY:Christmas\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:b\r\nDTSTART;VALUE=DATE:20270101\r\nSUMMARY:New year\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let got = holidays_from_ics(text).unwrap();
        assert_eq!(
            got,
            [
                NaiveDate::from_ymd_opt(2026, 12, 25).unwrap(),
                NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
            ]
        );
        assert!(holidays_from_ics("hello").is_err());
    }

    #[test]
    fn a_madrid_vtimezone_has_both_changes_of_the_year() {
        let zone: Zone = "Europe/Madrid".parse().unwrap();
        let from = Utc
            .with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
            .unwrap()
            .timestamp();
        let until = Utc
            .with_ymd_and_hms(2027, 12, 31, 0, 0, 0)
            .unwrap()
            .timestamp();
        let text = vtimezone(zone, from, until).unwrap();
        // 2026-10-25 03:00 CEST -> 02:00 CET; 2027-03-28 02:00 CET -> 03:00 CEST.
        assert!(text.contains("BEGIN:STANDARD\r\nDTSTART:20261025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET"), "{text}");
        assert!(text.contains("BEGIN:DAYLIGHT\r\nDTSTART:20270328T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST"), "{text}");
    }
}
