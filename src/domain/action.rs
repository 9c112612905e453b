//! Action items: priorities, statuses, owners and the due-date grammar.
//!
//! Due dates (in the owner's or the workspace's zone, decided by the caller):
//! `2026-12-01`, `today`, `tomorrow`, a weekday (`friday`: the next Friday,
//! today included; `next friday`: strictly after today), `in 3 days`,
//! `in 2 weeks`, `in 1 month`, and the short forms `in 3d`, `in 2w`.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Duration, Months, NaiveDate, Weekday};

use super::meeting::ValueError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    High,
    Medium,
    Low,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::High, Priority::Medium, Priority::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Medium => "medium",
            Priority::Low => "low",
        }
    }
}

impl FromStr for Priority {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "high" | "h" | "p1" => Ok(Priority::High),
            "medium" | "med" | "m" | "p2" => Ok(Priority::Medium),
            "low" | "l" | "p3" => Ok(Priority::Low),
            _ => Err(ValueError(format!(
                "`{s}` is not a priority; use high, medium or low"
            ))),
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// open -> done -> verified; done or verified -> reopened -> done ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Open,
    Done,
    Verified,
    Reopened,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Done => "done",
            Status::Verified => "verified",
            Status::Reopened => "reopened",
        }
    }

    /// Not finished: open or reopened.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Open | Status::Reopened)
    }
}

impl FromStr for Status {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "open" => Ok(Status::Open),
            "done" => Ok(Status::Done),
            "verified" => Ok(Status::Verified),
            "reopened" => Ok(Status::Reopened),
            _ => Err(ValueError(format!(
                "`{s}` is not a status; use open, done, verified or reopened"
            ))),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An owner: an executive role key (`cto`) or a chat user (`ana`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Owner(String);

impl FromStr for Owner {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().trim_start_matches('@');
        let t = t
            .strip_prefix("<@")
            .and_then(|x| x.strip_suffix('>'))
            .map(|x| x.trim_start_matches('!'))
            .unwrap_or(t);
        if t.is_empty()
            || t.chars().count() > 64
            || !t
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(ValueError(format!(
                "`{s}` is not an owner; use a role such as cto or a user name"
            )));
        }
        Ok(Owner(crate::domain::meeting::fold_name(t)))
    }
}

impl Owner {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A task description: one line, 1 to 300 characters, without control characters.
pub fn check_task(text: &str) -> Result<String, ValueError> {
    super::text::one_line("task", text, 300).map_err(|e| {
        if e.0 == "the task is empty" {
            ValueError("the task is empty; describe it, e.g. task:\"Evaluate pgvector\"".into())
        } else {
            e
        }
    })
}

const DAY_NAMES: [(&str, Weekday); 7] = [
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
];

fn weekday(word: &str) -> Option<Weekday> {
    DAY_NAMES
        .iter()
        .find(|(name, _)| *name == word || (word.len() >= 3 && name.starts_with(word)))
        .map(|(_, d)| *d)
}

/// How far from today a due date may be: about 100 years.
const MAX_DUE_DAYS: i64 = 36_600;

/// Parse a due date relative to `today` (the local date where it applies).
pub fn parse_due(text: &str, today: NaiveDate) -> Result<NaiveDate, ValueError> {
    let t = text.trim().to_lowercase();
    let explain = || {
        ValueError(format!(
            "`{text}` is not a due date; use YYYY-MM-DD, today, tomorrow, a weekday (friday, next friday) or in <N> days|weeks|months"
        ))
    };
    if let Ok(d) = NaiveDate::parse_from_str(&t, "%Y-%m-%d") {
        // Due dates are stored and compared as YYYY-MM-DD text: keep them
        // within a century of today (four-digit years, sensible order).
        if d.signed_duration_since(today).num_days().abs() > MAX_DUE_DAYS {
            return Err(ValueError(format!(
                "`{text}` is more than 100 years from today"
            )));
        }
        return Ok(d);
    }
    if t.len() == 10 && t.as_bytes()[4] == b'-' {
        return Err(ValueError(format!("`{text}` is not a real date")));
    }
    let past_the_end = || ValueError(format!("`{text}` is past the last date Quorum can hold"));
    let after = |days: i64| {
        today
            .checked_add_signed(Duration::try_days(days).ok_or_else(past_the_end)?)
            .ok_or_else(past_the_end)
    };
    match t.as_str() {
        "today" => return Ok(today),
        "tomorrow" => return after(1),
        _ => {}
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    let days_until = |d: Weekday| {
        (7 + d.num_days_from_monday() as i64 - today.weekday().num_days_from_monday() as i64) % 7
    };
    match words.as_slice() {
        [w] if weekday(w).is_some() => {
            let d = weekday(w).ok_or_else(explain)?;
            after(days_until(d))
        }
        ["next", w] if weekday(w).is_some() => {
            let d = weekday(w).ok_or_else(explain)?;
            let n = days_until(d);
            after(if n == 0 { 7 } else { n })
        }
        ["in", rest @ ..] => {
            let (n, unit): (&str, &str) = match rest {
                [n, unit] => (n, unit),
                [short] => {
                    let split = short
                        .find(|c: char| !c.is_ascii_digit())
                        .unwrap_or(short.len());
                    (&short[..split], &short[split..])
                }
                _ => return Err(explain()),
            };
            let n: u32 = n.parse().map_err(|_| explain())?;
            if n > 3660 {
                return Err(ValueError(format!("`{text}` is too far ahead")));
            }
            match unit {
                "d" | "day" | "days" => after(n.into()),
                "w" | "week" | "weeks" => after(i64::from(n) * 7),
                "month" | "months" => today.checked_add_months(Months::new(n)).ok_or_else(explain),
                _ => Err(explain()),
            }
        }
        _ => Err(explain()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn due_dates_read_like_people_write_them() {
        let today = d("2026-11-24"); // a Tuesday
        let table = [
            ("2026-12-01", "2026-12-01"),
            ("today", "2026-11-24"),
            ("Tomorrow", "2026-11-25"),
            ("friday", "2026-11-27"),
            ("tuesday", "2026-11-24"),
            ("next tuesday", "2026-12-01"),
            ("next fri", "2026-11-27"),
            ("in 3 days", "2026-11-27"),
            ("in 3d", "2026-11-27"),
            ("in 2 weeks", "2026-12-08"),
            ("in 1 month", "2026-12-24"),
        ];
        for (input, want) in table {
            assert_eq!(parse_due(input, today).unwrap(), d(want), "{input}");
        }
    }

    #[test]
    fn bad_due_dates_say_what_is_accepted() {
        let today = d("2026-11-24");
        for bad in [
            "someday",
            "in three days",
            "2026-02-30",
            "in 3 fortnights",
            "",
        ] {
            let e = parse_due(bad, today).unwrap_err().0;
            assert!(
                e.contains("is not a") || e.contains("not a real date"),
                "{bad}: {e}"
            );
        }
        assert!(
            parse_due("2026-02-30", today)
                .unwrap_err()
                .0
                .contains("not a real date")
        );
    }

    #[test]
    fn absurd_due_dates_are_refused_not_overflowed() {
        let today = d("2026-11-24");
        for bad in [
            "9999-12-31",
            "0001-01-01",
            "+262142-12-31",
            "-0001-01-01",
            "in 4294967295 days",
            "in 99999999999999999999 days",
            "in 3661 weeks",
            "in 4294967295 months",
        ] {
            assert!(parse_due(bad, today).is_err(), "{bad}");
        }
        assert_eq!(parse_due("2126-11-24", today).unwrap(), d("2126-11-24"));
        assert_eq!(
            parse_due("in 3660 weeks", today).unwrap(),
            today + Duration::weeks(3660)
        );
        let far = NaiveDate::MAX - Duration::days(3);
        assert!(
            parse_due("in 3660 days", far).is_err(),
            "past the last date"
        );
        assert!(parse_due("tomorrow", NaiveDate::MAX).is_err());
    }

    #[test]
    fn priorities_statuses_and_owners_parse() {
        assert_eq!("HIGH".parse::<Priority>().unwrap(), Priority::High);
        assert!("urgent".parse::<Priority>().is_err());
        assert_eq!("reopened".parse::<Status>().unwrap(), Status::Reopened);
        assert_eq!("@CTO".parse::<Owner>().unwrap().as_str(), "cto");
        assert!("two words".parse::<Owner>().is_err());
    }
}
