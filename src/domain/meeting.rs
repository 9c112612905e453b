//! Meeting series values that validate on parse: titles, channels, attendees,
//! reminder lead times, and the durations they are written in.

use std::fmt;
use std::str::FromStr;

use chrono::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

fn bad<T>(msg: impl Into<String>) -> Result<T, ValueError> {
    Err(ValueError(msg.into()))
}

/// A span written as `15m`, `1d`, `1h30m`, `2w`, `30s`.
pub fn parse_duration(text: &str) -> Result<Duration, ValueError> {
    let t = text.trim().to_lowercase();
    let explain = || {
        ValueError(format!(
            "`{text}` is not a duration; use a number and a unit (s, m, h, d, w), such as 15m, 1h30m or 1d"
        ))
    };
    if t.is_empty() {
        return Err(explain());
    }
    let mut total = 0i64;
    let mut digits = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits.parse().map_err(|_| explain())?;
        digits.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(explain()),
        };
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(explain)?;
    }
    if !digits.is_empty() {
        return Err(explain());
    }
    // Bounded, so that no duration typed in chat or set in config can
    // overflow a date or a timer once it is added to one.
    const MAX_SECS: i64 = 100 * 366 * 86_400;
    if total > MAX_SECS {
        return Err(ValueError(format!(
            "`{text}` is too long; a duration is at most 100 years"
        )));
    }
    Ok(Duration::seconds(total))
}

/// `1d`, `1h30m`, `15m`, `0m`: the shortest exact form of a duration.
pub fn format_duration(d: Duration) -> String {
    let mut s = d.num_seconds();
    if s == 0 {
        return "0m".to_string();
    }
    let mut out = String::new();
    for (unit, size) in [
        ("w", 604_800),
        ("d", 86_400),
        ("h", 3600),
        ("m", 60),
        ("s", 1),
    ] {
        if s >= size {
            out.push_str(&format!("{}{unit}", s / size));
            s %= size;
        }
    }
    out
}

/// `in 1 day`, `in 15 minutes`, `now`: how far ahead a reminder is, in words.
pub fn humanize_lead(d: Duration) -> String {
    let s = d.num_seconds();
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match s {
        0 => "now".to_string(),
        s if s % 604_800 == 0 => format!("in {}", plural(s / 604_800, "week")),
        s if s % 86_400 == 0 => format!("in {}", plural(s / 86_400, "day")),
        s if s % 3600 == 0 => format!("in {}", plural(s / 3600, "hour")),
        s if s % 60 == 0 => format!("in {}", plural(s / 60, "minute")),
        s => format!("in {}", plural(s, "second")),
    }
}

/// Reminder lead times before each occurrence, longest first: `1d,15m`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadTimes(Vec<Duration>);

impl LeadTimes {
    pub const DEFAULT: &'static str = "1d,15m";
    const MAX: usize = 6;

    pub fn iter(&self) -> impl Iterator<Item = Duration> + '_ {
        self.0.iter().copied()
    }

    pub fn longest(&self) -> Duration {
        self.0.first().copied().unwrap_or_else(Duration::zero)
    }
}

impl Default for LeadTimes {
    fn default() -> Self {
        LeadTimes(vec![Duration::days(1), Duration::minutes(15)])
    }
}

impl FromStr for LeadTimes {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("none") {
            return Ok(LeadTimes(Vec::new()));
        }
        let mut leads = Vec::new();
        for part in t.split(',').map(str::trim) {
            let d = parse_duration(part).map_err(|e| {
                ValueError(format!(
                    "reminder lead times: {e}; write them like 1d,15m (or none)"
                ))
            })?;
            if d > Duration::weeks(4) {
                return bad(format!(
                    "reminder lead time `{part}` is more than 4 weeks ahead; use 4w or less"
                ));
            }
            if !leads.contains(&d) {
                leads.push(d);
            }
        }
        if leads.len() > Self::MAX {
            return bad(format!(
                "{} reminder lead times is too many; use at most {}",
                leads.len(),
                Self::MAX
            ));
        }
        leads.sort_by(|a, b| b.cmp(a));
        Ok(LeadTimes(leads))
    }
}

impl fmt::Display for LeadTimes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        // Each lead in one unit, as people write them: `0s`, `90m`, `2h`,
        // `1d` (never `0m` for `0s`, or `1h30m` for `90m`).
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|d| {
                let s = d.num_seconds();
                match s {
                    0 => "0s".to_string(),
                    s if s % 86_400 == 0 => format!("{}d", s / 86_400),
                    s if s % 3600 == 0 => format!("{}h", s / 3600),
                    s if s % 60 == 0 => format!("{}m", s / 60),
                    s => format!("{s}s"),
                }
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// How long each occurrence of a series lasts (`duration:45m`): from 5
/// minutes to 24 hours, 60 minutes unless said otherwise. An occurrence ends,
/// and its minutes are posted, at its time plus this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeetingLength(Duration);

impl MeetingLength {
    pub fn secs(self) -> i64 {
        self.0.num_seconds()
    }

    /// A stored length, trusted but still bounded.
    pub fn from_secs(secs: i64) -> MeetingLength {
        MeetingLength(Duration::seconds(secs.clamp(300, 86_400)))
    }
}

impl Default for MeetingLength {
    fn default() -> Self {
        MeetingLength(Duration::minutes(60))
    }
}

impl FromStr for MeetingLength {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let d = parse_duration(text)?;
        if d < Duration::minutes(5) || d > Duration::hours(24) {
            return bad(format!(
                "a meeting of `{text}` is out of range; use 5m to 24h, such as 45m or 1h30m"
            ));
        }
        Ok(MeetingLength(d))
    }
}

impl fmt::Display for MeetingLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

/// What Quorum attaches to an occurrence on its own: with `channel`,
/// decisions and action items recorded in the series' channel while the
/// meeting is on; with `none`, only those recorded with `meeting:N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Capture {
    #[default]
    None,
    Channel,
}

impl FromStr for Capture {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_lowercase().as_str() {
            "none" => Ok(Capture::None),
            "channel" => Ok(Capture::Channel),
            _ => bad(format!(
                "`{text}` is not a capture mode; use channel or none"
            )),
        }
    }
}

impl fmt::Display for Capture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Capture::None => "none",
            Capture::Channel => "channel",
        })
    }
}

/// A calendar date written `YYYY-MM-DD`, such as 2026-12-30.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day(pub chrono::NaiveDate);

impl FromStr for Day {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        if t.len() != 10 {
            return bad(format!(
                "`{text}` is not a date; write it as YYYY-MM-DD, such as 2026-12-30"
            ));
        }
        chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Day)
            .map_err(|_| {
                ValueError(format!(
                    "`{text}` is not a date in the calendar; write it as YYYY-MM-DD, such as 2026-12-30"
                ))
            })
    }
}

/// A time of day written `HH:MM` (24-hour), such as 10:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOfDay(pub chrono::NaiveTime);

impl FromStr for TimeOfDay {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        if t.len() > 5 {
            return bad(format!(
                "`{text}` is not a time; write it as HH:MM, such as 10:00"
            ));
        }
        chrono::NaiveTime::parse_from_str(t, "%H:%M")
            .map(TimeOfDay)
            .map_err(|_| {
                ValueError(format!(
                    "`{text}` is not a time; write it as HH:MM, such as 10:00"
                ))
            })
    }
}

/// A meeting title: 1 to 100 characters, one line, without control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl FromStr for Title {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match super::text::one_line("title", text, 100) {
            Ok(t) => Ok(Title(t)),
            Err(e) if e.0 == "the title is empty" => {
                bad("the title is empty; give one such as title:\"Exec team\"")
            }
            Err(e) => Err(e),
        }
    }
}

impl Title {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Title {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// A channel name such as `exec` (a leading `#` is dropped), or a platform id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRef(String);

impl FromStr for ChannelRef {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim().trim_start_matches('#');
        // Discord `<#123>` mentions arrive as text in the console grammar.
        let t = t
            .strip_prefix("<#")
            .and_then(|x| x.strip_suffix('>'))
            .unwrap_or(t);
        if t.is_empty() || t.chars().count() > 80 || !t.chars().all(is_name_char) {
            return bad(format!(
                "`{text}` is not a channel; use a name such as exec or #exec-team (letters, digits, - _ .)"
            ));
        }
        Ok(ChannelRef(fold_name(t)))
    }
}

/// Case-folds a name (`#Exec` is `exec`) but keeps a Slack id verbatim:
/// `C0123ABCD` (channel), `G...`, `D...`, `U...`/`W...` (user) are
/// capitals and digits, and Slack rejects them lowercased.
pub fn fold_name(name: &str) -> String {
    if is_slack_id(name) {
        name.to_string()
    } else {
        name.to_lowercase()
    }
}

/// A Slack channel or user id: `C`, `G`, `D`, `U` or `W`, then capitals and digits.
pub fn is_slack_id(s: &str) -> bool {
    (9..=24).contains(&s.len())
        && s.starts_with(['C', 'G', 'D', 'U', 'W'])
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && s.bytes().any(|b| b.is_ascii_digit())
}

impl ChannelRef {
    pub fn general() -> ChannelRef {
        ChannelRef("general".to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChannelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Attendees: executive role keys (`ceo`, `cto`) or chat user names, comma-separated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attendees(Vec<String>);

impl FromStr for Attendees {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut out: Vec<String> = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let name = part.trim_start_matches('@');
            let name = name
                .strip_prefix("<@")
                .and_then(|x| x.strip_suffix('>'))
                .map(|x| x.trim_start_matches('!'))
                .unwrap_or(name);
            if name.is_empty() || name.chars().count() > 64 || !name.chars().all(is_name_char) {
                return bad(format!(
                    "`{part}` is not an attendee; use role keys or user names separated by commas, such as ceo,cto"
                ));
            }
            let name = fold_name(name);
            if !out.contains(&name) {
                out.push(name);
            }
        }
        if out.len() > 50 {
            return bad("more than 50 attendees; invite a channel instead");
        }
        Ok(Attendees(out))
    }
}

impl Attendees {
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Attendees {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_times_are_echoed_as_people_write_them() {
        for (typed, shown) in [
            ("0s", "0s"),
            ("90m", "90m"),
            ("1d,15m", "1d,15m"),
            ("2h", "2h"),
            ("45s", "45s"),
        ] {
            let leads: LeadTimes = typed.parse().unwrap();
            assert_eq!(leads.to_string(), shown);
            assert_eq!(shown.parse::<LeadTimes>().unwrap(), leads, "round trip");
        }
    }

    #[test]
    fn absurd_durations_are_refused_not_overflowed() {
        assert!(parse_duration("9999999999999999999s").is_err());
        assert!(parse_duration("99999999999999w").is_err());
        let e = parse_duration("200000d").unwrap_err().to_string();
        assert!(e.contains("at most 100 years"), "{e}");
        assert_eq!(parse_duration("36500d").unwrap(), Duration::days(36500));
        for bad in [
            "10000000000000000s",
            "153722867280912930m",
            "9223372036854775807s",
            "9223372036854775808s",
            "1s9223372036854775807s",
            "5000000000000000d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        for bad in ["10000000000000000s", "5w", "1d,10000000000000000s"] {
            assert!(bad.parse::<LeadTimes>().is_err(), "{bad}");
        }
    }

    #[test]
    fn lead_times_parse_sort_and_print_canonically() {
        let l: LeadTimes = "15m, 1d,15m".parse().unwrap();
        assert_eq!(l.to_string(), "1d,15m");
        assert_eq!(l.longest(), Duration::days(1));
        // One unit each, as leads are usually written (issue 13: `remind:0s`
        // was echoed as `0m`).
        assert_eq!("1h30m".parse::<LeadTimes>().unwrap().to_string(), "90m");
        assert_eq!("none".parse::<LeadTimes>().unwrap().to_string(), "none");
        assert_eq!("0s".parse::<LeadTimes>().unwrap().to_string(), "0s");
    }

    #[test]
    fn bad_lead_times_are_explained() {
        let e = "1 day".parse::<LeadTimes>().unwrap_err().0;
        assert!(e.contains("`1 day` is not a duration"), "{e}");
        let e = "5w".parse::<LeadTimes>().unwrap_err().0;
        assert!(e.contains("more than 4 weeks"), "{e}");
        let e = "15".parse::<LeadTimes>().unwrap_err().0;
        assert!(e.contains("`15` is not a duration"), "{e}");
    }

    #[test]
    fn leads_read_as_words() {
        assert_eq!(humanize_lead(Duration::days(1)), "in 1 day");
        assert_eq!(humanize_lead(Duration::minutes(15)), "in 15 minutes");
        assert_eq!(humanize_lead(Duration::zero()), "now");
        assert_eq!(humanize_lead(Duration::minutes(90)), "in 90 minutes");
    }

    #[test]
    fn channels_drop_the_hash_and_reject_spaces() {
        assert_eq!("#Exec".parse::<ChannelRef>().unwrap().as_str(), "exec");
        assert_eq!(
            "CUPPER001".parse::<ChannelRef>().unwrap().as_str(),
            "CUPPER001",
            "a Slack channel id is kept verbatim"
        );
        assert_eq!(
            "#General".parse::<ChannelRef>().unwrap().as_str(),
            "general"
        );
        let a: Attendees = "<@U0002CFO00>,CTO".parse().unwrap();
        assert_eq!(a.iter().collect::<Vec<_>>(), ["U0002CFO00", "cto"]);
        assert!("exec team".parse::<ChannelRef>().is_err());
    }

    #[test]
    fn attendees_are_deduplicated_and_validated() {
        let a: Attendees = "ceo, CTO,@ana,ceo".parse().unwrap();
        assert_eq!(a.to_string(), "ceo,cto,ana");
        assert!("ceo;cto".parse::<Attendees>().is_err());
    }

    #[test]
    fn meeting_lengths_default_to_an_hour_and_stay_in_range() {
        assert_eq!(MeetingLength::default().to_string(), "1h");
        assert_eq!("45m".parse::<MeetingLength>().unwrap().secs(), 2700);
        let e = "2m".parse::<MeetingLength>().unwrap_err().0;
        assert!(e.contains("out of range"), "{e}");
        assert!("25h".parse::<MeetingLength>().is_err());
        assert!("soon".parse::<MeetingLength>().is_err());
        assert_eq!(MeetingLength::from_secs(-5).secs(), 300);
    }

    #[test]
    fn dates_and_times_are_strict() {
        assert_eq!(
            "2026-12-30".parse::<Day>().unwrap().0.to_string(),
            "2026-12-30"
        );
        let e = "2026-02-30".parse::<Day>().unwrap_err().0;
        assert!(e.contains("not a date in the calendar"), "{e}");
        assert!("30/12/2026".parse::<Day>().is_err());
        assert!("2026-12-300000".parse::<Day>().is_err());
        assert_eq!(
            "09:30".parse::<TimeOfDay>().unwrap().0.to_string(),
            "09:30:00"
        );
        assert!("25:00".parse::<TimeOfDay>().is_err());
        assert!("10am".parse::<TimeOfDay>().is_err());
    }

    #[test]
    fn capture_is_channel_or_none() {
        assert_eq!("Channel".parse::<Capture>().unwrap(), Capture::Channel);
        assert_eq!("none".parse::<Capture>().unwrap(), Capture::None);
        let e = "thread".parse::<Capture>().unwrap_err().0;
        assert!(e.contains("channel or none"), "{e}");
    }

    #[test]
    fn titles_must_be_one_short_line() {
        assert!("".parse::<Title>().is_err());
        assert!("a\nb".parse::<Title>().is_err());
        assert_eq!(
            " Exec team ".parse::<Title>().unwrap().as_str(),
            "Exec team"
        );
    }
}
