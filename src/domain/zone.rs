//! Time zones and wall-clock resolution: the `Zone` newtype (a validated IANA
//! name) and the one rule that turns a local wall-clock time into an instant.
//!
//! The rule, used by every cadence:
//! - a time inside a spring-forward gap moves forward by the gap's length
//!   (02:30 in a 02:00→03:00 gap becomes 03:30);
//! - a time inside a fall-back overlap happens once, at its first instance.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// A validated IANA time zone such as `Europe/Madrid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(Tz);

impl Zone {
    pub fn utc() -> Zone {
        Zone(chrono_tz::UTC)
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The instant at which the wall-clock time `local` happens in this zone,
    /// following the gap and overlap rule in the module doc.
    pub fn resolve(self, local: NaiveDateTime) -> DateTime<Tz> {
        resolve(self.0, local)
    }

    /// The wall-clock time in this zone at `instant`.
    pub fn local(self, instant: DateTime<Utc>) -> NaiveDateTime {
        instant.with_timezone(&self.0).naive_local()
    }
}

/// See the module doc for the rule.
pub fn resolve(tz: Tz, local: NaiveDateTime) -> DateTime<Tz> {
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(at) => at,
        chrono::LocalResult::Ambiguous(first, _) => first,
        chrono::LocalResult::None => {
            // Inside a gap: read the wall-clock time with the offset in force
            // just before the gap, which lands the gap's length later.
            let probe = local - Duration::days(1);
            let offset = match tz.offset_from_local_datetime(&probe) {
                chrono::LocalResult::Single(o) | chrono::LocalResult::Ambiguous(o, _) => o.fix(),
                chrono::LocalResult::None => tz.offset_from_utc_datetime(&probe).fix(),
            };
            let utc = local - Duration::seconds(i64::from(offset.local_minus_utc()));
            tz.from_utc_datetime(&utc)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ZoneError(pub String);

impl FromStr for Zone {
    type Err = ZoneError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(tz) = s.parse::<Tz>() {
            return Ok(Zone(tz));
        }
        if let Some(tz) = chrono_tz::TZ_VARIANTS
            .iter()
            .find(|tz| tz.name().eq_ignore_ascii_case(s))
        {
            return Ok(Zone(*tz));
        }
        let hint = chrono_tz::TZ_VARIANTS
            .iter()
            .map(|tz| {
                (
                    strsim::jaro_winkler(&tz.name().to_lowercase(), &s.to_lowercase()),
                    tz,
                )
            })
            .filter(|(score, _)| *score > 0.85)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, tz)| format!("did you mean `{}`? ", tz.name()))
            .unwrap_or_default();
        Err(ZoneError(format!(
            "`{s}` is not an IANA time zone; {hint}use a name such as Europe/Madrid, America/New_York or UTC"
        )))
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

/// `Mon 7 Dec 2026 10:00 CET` (seconds shown only when not zero).
pub fn human(at: &DateTime<Tz>) -> String {
    use chrono::Timelike as _;
    if at.second() == 0 {
        at.format("%a %-d %b %Y %H:%M %Z").to_string()
    } else {
        at.format("%a %-d %b %Y %H:%M:%S %Z").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    #[test]
    fn a_time_in_the_spring_gap_moves_forward_by_the_gap() {
        let madrid: Zone = "Europe/Madrid".parse().unwrap();
        let at = madrid.resolve(local(2026, 3, 29, 2, 30));
        assert_eq!(at.to_rfc3339(), "2026-03-29T03:30:00+02:00");
    }

    #[test]
    fn a_time_in_the_autumn_overlap_happens_at_its_first_instance() {
        let madrid: Zone = "Europe/Madrid".parse().unwrap();
        let at = madrid.resolve(local(2026, 10, 25, 2, 30));
        assert_eq!(at.to_rfc3339(), "2026-10-25T02:30:00+02:00");
    }

    #[test]
    fn sydney_gap_is_in_october() {
        let sydney: Zone = "Australia/Sydney".parse().unwrap();
        let at = sydney.resolve(local(2026, 10, 4, 2, 15));
        assert_eq!(at.to_rfc3339(), "2026-10-04T03:15:00+11:00");
    }

    #[test]
    fn zone_names_are_case_insensitive() {
        let z: Zone = "europe/madrid".parse().unwrap();
        assert_eq!(z.name(), "Europe/Madrid");
    }

    #[test]
    fn a_misspelt_zone_suggests_the_nearest_name() {
        let err = "Europe/Madird".parse::<Zone>().unwrap_err();
        assert!(err.0.contains("did you mean `Europe/Madrid`"), "{}", err.0);
    }

    #[test]
    fn an_unknown_zone_says_what_is_accepted() {
        let err = "Mars/Olympus".parse::<Zone>().unwrap_err();
        assert!(err.0.starts_with("`Mars/Olympus` is not an IANA time zone"));
        assert!(err.0.contains("Europe/Madrid"));
    }
}
