//! Dates that need a warning: weekends and configured holidays, and how a
//! series may shift an occurrence off them (`next-weekday`,
//! `previous-weekday`). Pure: the holidays are a set of dates given by config.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Weekday};
use chrono_tz::Tz;

use super::zone::Zone;

/// How far a shift looks for a working day before giving up (and leaving
/// the occurrence where it is, flagged): two weeks covers any holiday season.
pub const SHIFT_LIMIT_DAYS: i64 = 14;

/// The configured holidays (`[calendar] holidays`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holidays(BTreeSet<NaiveDate>);

impl Holidays {
    pub fn new(dates: impl IntoIterator<Item = NaiveDate>) -> Holidays {
        Holidays(dates.into_iter().collect())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.0.contains(&date)
    }

    /// Why `date` is not a working day, if it is not one.
    pub fn flag(&self, date: NaiveDate) -> Option<DayFlag> {
        if self.contains(date) {
            Some(DayFlag::Holiday(date))
        } else if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            Some(DayFlag::Weekend(date.weekday()))
        } else {
            None
        }
    }

    /// The working day `shift` moves `date` to: `date` itself when it is a
    /// working day or the series does not shift, `None` when no working day
    /// lies within [`SHIFT_LIMIT_DAYS`].
    pub fn shifted(&self, date: NaiveDate, shift: Shift) -> Option<NaiveDate> {
        let step = match shift {
            Shift::None => return Some(date),
            Shift::NextWeekday => 1,
            Shift::PreviousWeekday => -1,
        };
        (0..=SHIFT_LIMIT_DAYS)
            .filter_map(|n| date.checked_add_signed(Duration::days(n * step)))
            .find(|d| self.flag(*d).is_none())
    }
}

/// Why a day is not a working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayFlag {
    Weekend(Weekday),
    Holiday(NaiveDate),
}

impl fmt::Display for DayFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DayFlag::Weekend(d) => write!(f, "falls on a {}", weekday_name(*d)),
            DayFlag::Holiday(d) => write!(f, "falls on a holiday ({})", d.format("%Y-%m-%d")),
        }
    }
}

fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
    }
}

/// What a series does with an occurrence on a weekend or holiday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shift {
    /// Keep it there, flagged.
    #[default]
    None,
    NextWeekday,
    PreviousWeekday,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a shift; use next-weekday, previous-weekday or none")]
pub struct ShiftError(pub String);

impl FromStr for Shift {
    type Err = ShiftError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "" => Ok(Shift::None),
            "next-weekday" => Ok(Shift::NextWeekday),
            "previous-weekday" => Ok(Shift::PreviousWeekday),
            _ => Err(ShiftError(s.to_string())),
        }
    }
}

impl fmt::Display for Shift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Shift::None => "none",
            Shift::NextWeekday => "next-weekday",
            Shift::PreviousWeekday => "previous-weekday",
        })
    }
}

/// One occurrence after the shift rule: when it happens, and the cadence's
/// own slot when it was moved off a weekend or holiday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub at: DateTime<Tz>,
    /// The cadence's slot, when `at` was shifted from it.
    pub original: Option<DateTime<Tz>>,
}

impl Placed {
    /// The cadence's own slot (the calendar's RECURRENCE-ID).
    pub fn slot(&self) -> DateTime<Tz> {
        self.original.unwrap_or(self.at)
    }
}

/// Place one cadence slot: moved to the shifted day at the same wall-clock
/// time (resolved again in the zone, so DST holds), or left where it is.
pub fn place(slot: DateTime<Tz>, zone: Zone, shift: Shift, holidays: &Holidays) -> Placed {
    let date = slot.date_naive();
    match holidays.shifted(date, shift) {
        Some(d) if d != date => Placed {
            at: zone.resolve(d.and_time(slot.time())),
            original: Some(slot),
        },
        _ => Placed {
            at: slot,
            original: None,
        },
    }
}

/// Shifted occurrences in order of when they happen, from cadence slots in
/// order. A shift moves a slot by at most [`SHIFT_LIMIT_DAYS`], so a placed
/// occurrence is released once the slots have moved past it by more than
/// that: nothing later can land before it. Two slots shifted onto the same
/// instant (a daily series' Saturday and Monday) happen once.
pub fn placed_in_order<'a>(
    slots: impl Iterator<Item = DateTime<Tz>> + 'a,
    zone: Zone,
    shift: Shift,
    holidays: &'a Holidays,
) -> impl Iterator<Item = Placed> + 'a {
    let mut pending: std::collections::BTreeMap<i64, Placed> = Default::default();
    let mut slots = slots.fuse();
    let margin = (SHIFT_LIMIT_DAYS + 1) * 86_400;
    std::iter::from_fn(move || {
        loop {
            let first = pending.first_key_value().map(|(k, _)| *k);
            match slots.next() {
                Some(slot) => {
                    let p = place(slot, zone, shift, holidays);
                    let key = p.at.timestamp();
                    // The cadence's own slot wins over one shifted onto it.
                    match pending.get(&key) {
                        Some(existing) if existing.original.is_none() => {}
                        _ => {
                            pending.insert(key, p);
                        }
                    }
                    if let Some(first) = first
                        && first < slot.timestamp().saturating_sub(margin)
                    {
                        return pending.pop_first().map(|(_, p)| p);
                    }
                }
                None => return pending.pop_first().map(|(_, p)| p),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_weekend_and_a_holiday_are_flagged_a_working_day_is_not() {
        let h = Holidays::new([d("2026-12-25")]);
        assert_eq!(
            h.flag(d("2026-12-27")).unwrap().to_string(),
            "falls on a Sunday"
        );
        assert_eq!(
            h.flag(d("2026-12-25")).unwrap().to_string(),
            "falls on a holiday (2026-12-25)"
        );
        assert_eq!(h.flag(d("2026-12-28")), None);
    }

    #[test]
    fn shifting_skips_weekends_and_holidays_in_its_direction() {
        let h = Holidays::new([d("2026-12-25"), d("2026-12-28")]);
        // Thursday 24th is a working day; Friday 25th a holiday.
        assert_eq!(
            h.shifted(d("2026-12-25"), Shift::PreviousWeekday),
            Some(d("2026-12-24"))
        );
        // Saturday 26th -> Monday 28th is a holiday -> Tuesday 29th.
        assert_eq!(
            h.shifted(d("2026-12-26"), Shift::NextWeekday),
            Some(d("2026-12-29"))
        );
        assert_eq!(
            h.shifted(d("2026-12-26"), Shift::None),
            Some(d("2026-12-26"))
        );
    }

    #[test]
    fn a_shift_with_no_working_day_in_two_weeks_leaves_the_date() {
        let h = Holidays::new((0..30).map(|n| d("2026-12-01") + Duration::days(n)));
        assert_eq!(h.shifted(d("2026-12-10"), Shift::NextWeekday), None);
        let zone: Zone = "Europe/Madrid".parse().unwrap();
        let slot = zone.tz().with_ymd_and_hms(2026, 12, 10, 10, 0, 0).unwrap();
        assert_eq!(place(slot, zone, Shift::NextWeekday, &h).at, slot);
    }

    #[test]
    fn shifted_daily_slots_come_out_in_order_and_once() {
        let zone: Zone = "Europe/Madrid".parse().unwrap();
        let h = Holidays::default();
        // Daily at 10:00 from Friday 2026-12-04 for ten days.
        let slots = (0..10).map(|n| {
            zone.resolve(
                (d("2026-12-04") + Duration::days(n))
                    .and_hms_opt(10, 0, 0)
                    .unwrap(),
            )
        });
        let days: Vec<String> = placed_in_order(slots, zone, Shift::NextWeekday, &h)
            .map(|p| p.at.format("%a %d").to_string())
            .collect();
        assert_eq!(
            days,
            [
                "Fri 04", "Mon 07", "Tue 08", "Wed 09", "Thu 10", "Fri 11", "Mon 14"
            ]
        );
    }

    #[test]
    fn a_shift_keeps_the_wall_clock_time_across_a_dst_change() {
        // Sunday 2026-03-29 is Madrid's spring change; the Saturday before
        // at 10:00 (UTC+1) moves to Monday 10:00 (UTC+2).
        let zone: Zone = "Europe/Madrid".parse().unwrap();
        let slot = zone.resolve(d("2026-03-28").and_hms_opt(10, 0, 0).unwrap());
        let p = place(slot, zone, Shift::NextWeekday, &Holidays::default());
        assert_eq!(p.at.to_rfc3339(), "2026-03-30T10:00:00+02:00");
        assert_eq!(p.original, Some(slot));
    }

    #[test]
    fn shift_names_parse_and_print_back() {
        for s in ["none", "next-weekday", "previous-weekday"] {
            assert_eq!(s.parse::<Shift>().unwrap().to_string(), s);
        }
        let e = "tomorrow".parse::<Shift>().unwrap_err().to_string();
        assert!(e.contains("next-weekday, previous-weekday or none"), "{e}");
    }
}
