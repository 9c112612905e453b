//! The periods written updates and board packs cover: a week, a calendar
//! month (`2026-11`) or a quarter (`2026Q4`), as half-open date ranges, and
//! the first working day after one (when its update is posted).

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Duration, NaiveDate};

use super::holiday::{Holidays, Shift};
use super::meeting::ValueError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeriodKind {
    Week,
    Month,
    Quarter,
}

impl PeriodKind {
    /// `weekly`, `monthly`, `quarterly`.
    pub fn adjective(self) -> &'static str {
        match self {
            PeriodKind::Week => "weekly",
            PeriodKind::Month => "monthly",
            PeriodKind::Quarter => "quarterly",
        }
    }
}

/// Days `start` (inclusive) to `end` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub kind: PeriodKind,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// The years a period may name.
const YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

impl Period {
    pub fn month(year: i32, month: u32) -> Option<Period> {
        if !YEARS.contains(&year) {
            return None;
        }
        let start = NaiveDate::from_ymd_opt(year, month, 1)?;
        let end = match month {
            12 => NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?,
            m => NaiveDate::from_ymd_opt(year, m + 1, 1)?,
        };
        Some(Period {
            kind: PeriodKind::Month,
            start,
            end,
        })
    }

    pub fn quarter(year: i32, quarter: u32) -> Option<Period> {
        if !(1..=4).contains(&quarter) {
            return None;
        }
        let first = Period::month(year, quarter * 3 - 2)?;
        let last = Period::month(year, quarter * 3)?;
        Some(Period {
            kind: PeriodKind::Quarter,
            start: first.start,
            end: last.end,
        })
    }

    /// The seven days from `start`.
    pub fn week(start: NaiveDate) -> Option<Period> {
        Some(Period {
            kind: PeriodKind::Week,
            start,
            end: start.checked_add_signed(Duration::days(7))?,
        })
    }

    /// The month or quarter holding `date`.
    pub fn containing(kind: PeriodKind, date: NaiveDate) -> Option<Period> {
        match kind {
            PeriodKind::Month => Period::month(date.year(), date.month()),
            PeriodKind::Quarter => Period::quarter(date.year(), date.month0() / 3 + 1),
            PeriodKind::Week => Period::week(
                date - Duration::days(i64::from(date.weekday().num_days_from_monday())),
            ),
        }
    }

    /// The period before this one, of the same kind.
    pub fn previous(&self) -> Option<Period> {
        Period::containing(self.kind, self.start.pred_opt()?)
    }

    /// The last day of the period.
    pub fn last_day(&self) -> NaiveDate {
        self.end.pred_opt().unwrap_or(self.end)
    }

    /// When its update is posted: the first working day (no weekend, no
    /// `[calendar] holidays` date) after the period.
    pub fn first_working_day_after(&self, holidays: &Holidays) -> Option<NaiveDate> {
        holidays.shifted(self.end, Shift::NextWeekday)
    }

    /// `November 2026`, `Q4 2026`, `Mon 16 Nov to Sun 22 Nov 2026`.
    pub fn label(&self) -> String {
        match self.kind {
            PeriodKind::Month => self.start.format("%B %Y").to_string(),
            PeriodKind::Quarter => {
                format!("Q{} {}", self.start.month0() / 3 + 1, self.start.year())
            }
            PeriodKind::Week => format!(
                "{} to {}",
                self.start.format("%a %-d %b"),
                self.last_day().format("%a %-d %b %Y")
            ),
        }
    }
}

/// The form `quorum report --period` takes: `2026-11` or `2026Q4`.
impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            PeriodKind::Month => write!(f, "{}", self.start.format("%Y-%m")),
            PeriodKind::Quarter => {
                write!(f, "{}Q{}", self.start.year(), self.start.month0() / 3 + 1)
            }
            PeriodKind::Week => write!(f, "{}", self.start),
        }
    }
}

impl FromStr for Period {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Period, ValueError> {
        let t = s.trim().to_uppercase();
        let bad = || {
            ValueError(format!(
                "`{s}` is not a period; use a quarter such as 2026Q4 or a month such as 2026-11"
            ))
        };
        if t.len() > 8 {
            return Err(bad());
        }
        let year = |y: &str| -> Result<i32, ValueError> {
            if y.len() != 4 || !y.chars().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            y.parse::<i32>().map_err(|_| bad())
        };
        if let Some((y, q)) = t.split_once('Q') {
            let y = year(y.trim_end_matches('-'))?;
            let q: u32 = match q {
                "1" | "2" | "3" | "4" => q.parse().map_err(|_| bad())?,
                _ => {
                    return Err(ValueError(format!(
                        "`{s}` names no quarter; quarters are Q1 to Q4, such as 2026Q4"
                    )));
                }
            };
            return Period::quarter(y, q).ok_or_else(bad);
        }
        if let Some((y, m)) = t.split_once('-') {
            let y = year(y)?;
            if m.len() != 2 || !m.chars().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            let m: u32 = m.parse().map_err(|_| bad())?;
            if !(1..=12).contains(&m) {
                return Err(ValueError(format!(
                    "`{s}` names no month; months are 01 to 12, such as 2026-11"
                )));
            }
            return Period::month(y, m).ok_or_else(bad);
        }
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn quarters_and_months_parse_to_half_open_ranges() {
        let q: Period = "2026Q4".parse().unwrap();
        assert_eq!((q.start, q.end), (d("2026-10-01"), d("2027-01-01")));
        assert_eq!(q.label(), "Q4 2026");
        assert_eq!(q.to_string(), "2026Q4");
        assert_eq!("2026-q1".parse::<Period>().unwrap().end, d("2026-04-01"));
        let m: Period = "2026-11".parse().unwrap();
        assert_eq!((m.start, m.end), (d("2026-11-01"), d("2026-12-01")));
        assert_eq!(m.label(), "November 2026");
        assert_eq!("2026-12".parse::<Period>().unwrap().end, d("2027-01-01"));
    }

    #[test]
    fn bad_periods_say_what_a_period_looks_like() {
        for (text, want) in [
            ("2026Q5", "names no quarter"),
            ("2026-13", "names no month"),
            ("2026-00", "names no month"),
            ("Q4", "is not a period"),
            ("20260-11", "is not a period"),
            ("november", "is not a period"),
            ("99999999999Q1", "is not a period"),
            ("", "is not a period"),
        ] {
            let e = text.parse::<Period>().unwrap_err().0;
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn the_previous_period_and_the_first_working_day_after_it() {
        let m = Period::containing(PeriodKind::Month, d("2026-11-15")).unwrap();
        assert_eq!(m.previous().unwrap().to_string(), "2026-10");
        let q = Period::containing(PeriodKind::Quarter, d("2027-01-04")).unwrap();
        assert_eq!(q.previous().unwrap().to_string(), "2026Q4");
        // 1 Nov 2026 is a Sunday: October's update goes out on Monday 2 Nov,
        // or on Tuesday when that Monday is a holiday.
        let oct: Period = "2026-10".parse().unwrap();
        assert_eq!(
            oct.first_working_day_after(&Holidays::default()),
            Some(d("2026-11-02"))
        );
        let hol = Holidays::new([d("2026-11-02")]);
        assert_eq!(oct.first_working_day_after(&hol), Some(d("2026-11-03")));
        let w = Period::containing(PeriodKind::Week, d("2026-11-26")).unwrap();
        assert_eq!(w.label(), "Mon 23 Nov to Sun 29 Nov 2026");
    }
}
