//! The risk register's values: a risk's severity, how often it is reviewed,
//! and its status, each parsed from what people type with a specific error
//! (and a suggestion for a near miss); and when the next review falls due.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Months, Utc};

use super::meeting::ValueError;

/// The closest of `choices` to `typed`, when it is close enough to suggest.
fn near<'a>(typed: &str, choices: &[&'a str]) -> Option<&'a str> {
    choices
        .iter()
        .map(|c| (strsim::jaro_winkler(c, typed), *c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

fn refuse(typed: &str, what: &str, choices: &[&str]) -> ValueError {
    let hint = near(&typed.trim().to_lowercase(), choices)
        .map(|c| format!("did you mean `{c}`? "))
        .unwrap_or_default();
    ValueError(format!(
        "`{typed}` is not a {what}; {hint}use one of {}",
        choices.join(", ")
    ))
}

macro_rules! word_enum {
    ($name:ident, $what:literal, $( $variant:ident = $text:literal ),+ $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $( $variant ),+ }

        impl $name {
            pub const ALL: &'static [&'static str] = &[$( $text ),+];

            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text ),+ }
            }
        }

        impl FromStr for $name {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, ValueError> {
                match s.trim().to_lowercase().as_str() {
                    $( $text => Ok($name::$variant), )+
                    _ => Err(refuse(s, $what, Self::ALL)),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

word_enum!(
    Severity,
    "severity",
    Low = "low",
    Medium = "medium",
    High = "high",
    Critical = "critical"
);
word_enum!(
    Review,
    "review cadence",
    Weekly = "weekly",
    Monthly = "monthly",
    Quarterly = "quarterly"
);
word_enum!(
    RiskStatus,
    "risk status",
    Open = "open",
    Mitigating = "mitigating",
    Accepted = "accepted",
    Closed = "closed",
);

impl Severity {
    /// Critical first when sorting by this.
    pub fn rank(self) -> u8 {
        match self {
            Severity::Critical => 0,
            Severity::High => 1,
            Severity::Medium => 2,
            Severity::Low => 3,
        }
    }
}

impl Review {
    /// When the review after one at `from` falls due: a week, a calendar
    /// month or three later (the 31st becomes the month's last day).
    pub fn next_after(self, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Review::Weekly => from.checked_add_signed(Duration::days(7)),
            Review::Monthly => from.checked_add_months(Months::new(1)),
            Review::Quarterly => from.checked_add_months(Months::new(3)),
        }
    }
}

/// The rank of a stored severity (unknown text sorts last).
pub fn severity_rank(text: &str) -> u8 {
    text.parse::<Severity>().map(Severity::rank).unwrap_or(9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_parse_in_any_case_and_near_misses_get_a_suggestion() {
        assert_eq!("HIGH".parse::<Severity>().unwrap(), Severity::High);
        let e = "hihg".parse::<Severity>().unwrap_err().0;
        assert_eq!(
            e,
            "`hihg` is not a severity; did you mean `high`? use one of low, medium, high, critical"
        );
        let e = "purple".parse::<Severity>().unwrap_err().0;
        assert!(!e.contains("did you mean"), "{e}");
    }

    #[test]
    fn a_review_cadence_is_weekly_monthly_or_quarterly() {
        assert_eq!("quarterly".parse::<Review>().unwrap(), Review::Quarterly);
        let e = "montly".parse::<Review>().unwrap_err().0;
        assert!(e.contains("did you mean `monthly`?"), "{e}");
        assert!("daily".parse::<Review>().is_err());
    }

    #[test]
    fn the_next_review_is_a_week_a_month_or_a_quarter_later() {
        let t = DateTime::parse_from_rfc3339("2026-01-31T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let d = |r: Review| r.next_after(t).unwrap().to_rfc3339();
        assert_eq!(d(Review::Weekly), "2026-02-07T09:00:00+00:00");
        assert_eq!(d(Review::Monthly), "2026-02-28T09:00:00+00:00");
        assert_eq!(d(Review::Quarterly), "2026-04-30T09:00:00+00:00");
        assert_eq!(Review::Monthly.next_after(DateTime::<Utc>::MAX_UTC), None);
    }

    #[test]
    fn critical_sorts_first() {
        assert!(severity_rank("critical") < severity_rank("high"));
        assert!(severity_rank("low") < severity_rank("nonsense"));
    }
}
