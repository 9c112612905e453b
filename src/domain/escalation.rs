//! Escalation policy: severities and their acknowledgement windows, topic
//! routing, the path of levels along the org chart, and working hours.
//! Pure functions only; the service stores and schedules what they decide.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc, Weekday};

use super::meeting::ValueError;
use super::zone::Zone;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

impl FromStr for Severity {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "critical" | "sev1" | "p1" => Ok(Severity::Critical),
            "high" | "sev2" | "p2" => Ok(Severity::High),
            "medium" | "sev3" | "p3" => Ok(Severity::Medium),
            "low" | "sev4" | "p4" => Ok(Severity::Low),
            _ => Err(ValueError(format!(
                "`{s}` is not a severity; use critical, high, medium or low"
            ))),
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long a level has to acknowledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Span(Duration),
    /// Whole working days (Monday to Friday), same time of day.
    BusinessDays(u32),
}

impl FromStr for Window {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_lowercase();
        if let Some(n) = t
            .strip_suffix("bd")
            .or_else(|| t.strip_suffix(" business day"))
            .or_else(|| t.strip_suffix(" business days"))
        {
            let n: u32 = n.trim().parse().map_err(|_| {
                ValueError(format!("`{s}` is not a number of business days, e.g. 1bd"))
            })?;
            if n > Window::MAX_BUSINESS_DAYS {
                return Err(ValueError(format!(
                    "`{s}` is too long; a window is at most {} business days (about 100 years)",
                    Window::MAX_BUSINESS_DAYS
                )));
            }
            return Ok(Window::BusinessDays(n.max(1)));
        }
        let d = super::meeting::parse_duration(&t)?;
        if d < Duration::minutes(1) {
            return Err(ValueError(format!("`{s}` is too short; use at least 1m")));
        }
        Ok(Window::Span(d))
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Window::Span(d) => f.write_str(&super::meeting::format_duration(*d)),
            Window::BusinessDays(1) => f.write_str("1 business day"),
            Window::BusinessDays(n) => write!(f, "{n} business days"),
        }
    }
}

impl Window {
    /// The longest business-day window, like the 100 years of a duration.
    pub const MAX_BUSINESS_DAYS: u32 = 26_000;

    /// The deadline for a post at `from`; the end of time when it would
    /// fall past what a date can hold.
    pub fn deadline(self, from: DateTime<Utc>) -> DateTime<Utc> {
        self.checked_deadline(from)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    fn checked_deadline(self, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Window::Span(d) => from.checked_add_signed(d),
            Window::BusinessDays(n) => {
                // Any seven days in a row hold five working days: skip whole
                // weeks, then walk the last one to five days.
                let weeks = n.saturating_sub(1) / 5;
                let mut at = from.checked_add_signed(Duration::try_weeks(i64::from(weeks))?)?;
                let mut left = n - weeks * 5;
                while left > 0 {
                    at = at.checked_add_signed(Duration::days(1))?;
                    if !matches!(at.weekday(), Weekday::Sat | Weekday::Sun) {
                        left -= 1;
                    }
                }
                Some(at)
            }
        }
    }
}

/// One step of the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    /// The channel the escalation was raised in (or a configured one).
    Department,
    /// An executive role, e.g. `cto` for the CTO review step.
    Role(String),
    /// The executive the topic routes to.
    Relevant,
    /// The executive team channel.
    ExecTeam,
    /// A fixed channel.
    Channel(String),
}

impl FromStr for Level {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_lowercase();
        Ok(match t.as_str() {
            "department" | "dept" => Level::Department,
            "relevant" | "c-level" => Level::Relevant,
            "exec-team" | "executive-team" | "exec" => Level::ExecTeam,
            _ if t.starts_with('#') && t.len() > 1 => Level::Channel(t[1..].to_string()),
            _ if super::org::is_role_key(&t) => Level::Role(t),
            _ => {
                return Err(ValueError(format!(
                    "`{s}` is not a level; use department, a role such as cto, relevant, exec-team, or #channel"
                )));
            }
        })
    }
}

/// A level made concrete for one escalation: who is responsible, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Shown to people: `department`, `cto`, `exec-team`, `board`.
    pub label: String,
    /// The role that owns this step, if one does.
    pub role: Option<String>,
    /// True for the executive team: any executive may act.
    pub team: bool,
    /// Another role that may act here: the CEO at the board's step.
    pub deputy: Option<String>,
}

/// The role key of the board.
pub const BOARD: &str = "board";

/// Who acts for the board in chat: the CEO answers to the board and takes
/// what reaches it there, so an escalation at the board's step is one the CEO
/// may acknowledge and resolve (board members rarely live in the team's chat).
pub const BOARD_DEPUTY: &str = "ceo";

/// The concrete path of one escalation: `routed` fills `relevant`, repeated
/// roles are dropped, and `board` is kept only for critical and high ones
/// (a high one reaches it only when the executive team lets it time out).
pub fn steps(path: &[Level], routed: &str, severity: Severity) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    for level in path {
        let step = match level {
            Level::Department => Step {
                label: "department".into(),
                role: None,
                team: false,
                deputy: None,
            },
            Level::Role(r) => Step {
                label: r.clone(),
                role: Some(r.clone()),
                team: false,
                deputy: (r == BOARD).then(|| BOARD_DEPUTY.to_string()),
            },
            Level::Relevant => Step {
                label: routed.to_string(),
                role: Some(routed.to_string()),
                team: false,
                deputy: (routed == BOARD).then(|| BOARD_DEPUTY.to_string()),
            },
            Level::ExecTeam => Step {
                label: "exec-team".into(),
                role: None,
                team: true,
                deputy: None,
            },
            Level::Channel(c) => Step {
                label: format!("#{c}"),
                role: None,
                team: false,
                deputy: None,
            },
        };
        if step.role.as_deref() == Some(BOARD) && severity > Severity::High {
            continue;
        }
        if step.role.is_some() && out.iter().any(|s| s.role == step.role) {
            continue;
        }
        out.push(step);
    }
    out
}

impl Step {
    /// Whether someone holding `roles` acts at this step: its executive or
    /// deputy, or for the executive team any executive but the board.
    pub fn held_by(&self, roles: &[String]) -> bool {
        roles.iter().any(|r| {
            self.role.as_ref() == Some(r)
                || self.deputy.as_ref() == Some(r)
                || (self.team && r != BOARD)
        })
    }
}

/// Working hours: days of the week and a daily window, in a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    pub days: Vec<Weekday>,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub zone: Zone,
}

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

impl WorkingHours {
    /// `mon-fri 09:00-18:00`, `mon,tue,thu 08:30-17:00`.
    pub fn parse(text: &str, zone: Zone) -> Result<WorkingHours, ValueError> {
        let bad = || {
            ValueError(format!(
                "`{text}` is not working hours; write them like mon-fri 09:00-18:00"
            ))
        };
        let t = text.trim().to_lowercase();
        let (days_part, hours_part) = t.split_once(' ').ok_or_else(bad)?;
        let day = |w: &str| DAYS.iter().find(|(n, _)| w.starts_with(n)).map(|(_, d)| *d);
        let mut days = Vec::new();
        for part in days_part.split(',') {
            match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (day(a).ok_or_else(bad)?, day(b).ok_or_else(bad)?);
                    let mut d = a;
                    loop {
                        days.push(d);
                        if d == b {
                            break;
                        }
                        d = d.succ();
                    }
                }
                None => days.push(day(part).ok_or_else(bad)?),
            }
        }
        let (s, e) = hours_part.trim().split_once('-').ok_or_else(bad)?;
        let start = NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| bad())?;
        let end = NaiveTime::parse_from_str(e.trim(), "%H:%M").map_err(|_| bad())?;
        if end <= start {
            return Err(ValueError(format!(
                "`{text}`: working hours must end after they start"
            )));
        }
        Ok(WorkingHours {
            days,
            start,
            end,
            zone,
        })
    }

    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let local = self.zone.local(at);
        self.days.contains(&local.weekday())
            && local.time() >= self.start
            && local.time() < self.end
    }

    /// `at` if within working hours, else the start of the next working period.
    pub fn next_open(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        if self.is_open(at) {
            return at;
        }
        let local = self.zone.local(at);
        for offset in 0..8 {
            let date = local.date() + Duration::days(offset);
            if !self.days.contains(&date.weekday()) {
                continue;
            }
            let start = self
                .zone
                .resolve(date.and_time(self.start))
                .with_timezone(&Utc);
            if start > at {
                return start;
            }
        }
        at
    }
}

impl fmt::Display for WorkingHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days: Vec<&str> = self
            .days
            .iter()
            .map(|d| DAYS[d.num_days_from_monday() as usize].0)
            .collect();
        write!(
            f,
            "{} {}-{} {}",
            days.join(","),
            self.start.format("%H:%M"),
            self.end.format("%H:%M"),
            self.zone
        )
    }
}

/// Default topic routes of the seed: which executive owns which area.
pub const DEFAULT_ROUTES: [(&str, &str); 17] = [
    ("budget", "cfo"),
    ("investment", "cfo"),
    ("cost", "cfo"),
    ("operations", "coo"),
    ("capacity", "coo"),
    ("vendors", "coo"),
    ("crisis", "coo"),
    ("roadmap", "cpo"),
    ("build-vs-buy", "cpo"),
    ("platform", "cpo"),
    ("architecture", "cto"),
    ("stack", "cto"),
    ("security", "cto"),
    ("infrastructure", "cto"),
    ("strategy", "ceo"),
    ("market", "ceo"),
    ("risk", "ceo"),
];

/// How escalations are routed and climb.
#[derive(Debug, Clone)]
pub struct EscalationPolicy {
    pub path: Vec<Level>,
    pub routes: Vec<(String, String)>,
    pub windows: Vec<(Severity, Window)>,
    pub department_channel: Option<String>,
    /// `None`: the default channel.
    pub exec_team_channel: Option<String>,
    /// Pings repeated at the last level before giving up.
    pub max_repeats: u32,
    /// An acknowledged, unresolved escalation reminds its acknowledger this often.
    pub follow_up: Duration,
    /// Anyone may acknowledge and resolve, not only the path's executives.
    pub ack_by_anyone: bool,
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        EscalationPolicy {
            path: vec![
                Level::Department,
                Level::Role("cto".into()),
                Level::Relevant,
                Level::ExecTeam,
                Level::Role("board".into()),
            ],
            routes: DEFAULT_ROUTES
                .iter()
                .map(|(t, r)| (t.to_string(), r.to_string()))
                .collect(),
            windows: vec![
                (Severity::Critical, Window::Span(Duration::minutes(15))),
                (Severity::High, Window::Span(Duration::hours(1))),
                (Severity::Medium, Window::Span(Duration::hours(4))),
                (Severity::Low, Window::BusinessDays(1)),
            ],
            department_channel: None,
            exec_team_channel: None,
            max_repeats: 3,
            follow_up: Duration::hours(4),
            ack_by_anyone: false,
        }
    }
}

impl EscalationPolicy {
    pub fn window(&self, s: Severity) -> Window {
        self.windows
            .iter()
            .find(|(sev, _)| *sev == s)
            .map(|(_, w)| *w)
            .unwrap_or(Window::Span(Duration::hours(1)))
    }

    pub fn route(&self, topic: &str) -> Option<&str> {
        self.routes
            .iter()
            .find(|(t, _)| t == topic)
            .map(|(_, r)| r.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn absurd_windows_are_refused_and_deadlines_never_overflow() {
        for bad in [
            "10000000000000000s",
            "4294967295bd",
            "99999999999999999999bd",
            "26001bd",
            "-1bd",
        ] {
            assert!(bad.parse::<Window>().is_err(), "{bad}");
        }
        let longest: Window = "26000bd".parse().unwrap();
        let monday = at("2026-11-23T10:00:00Z");
        let d = longest.deadline(monday);
        assert!(d > monday + Duration::days(36_000) && d < monday + Duration::days(36_500));
        // Near the end of time the deadline saturates instead of panicking.
        let end = DateTime::<Utc>::MAX_UTC - Duration::days(3);
        assert_eq!(longest.deadline(end), DateTime::<Utc>::MAX_UTC);
        assert_eq!(
            Window::Span(Duration::days(36_500)).deadline(end),
            DateTime::<Utc>::MAX_UTC
        );
        assert_eq!(
            Window::BusinessDays(u32::MAX).deadline(monday),
            DateTime::<Utc>::MAX_UTC
        );
    }

    #[test]
    fn skipping_whole_weeks_lands_where_walking_day_by_day_does() {
        let walk = |from: DateTime<Utc>, n: u32| {
            let mut at = from;
            let mut left = n;
            while left > 0 {
                at += Duration::days(1);
                if !matches!(at.weekday(), Weekday::Sat | Weekday::Sun) {
                    left -= 1;
                }
            }
            at
        };
        for day in 0..7 {
            let from = at("2026-11-23T10:00:00Z") + Duration::days(day);
            for n in 1..40 {
                assert_eq!(
                    Window::BusinessDays(n).deadline(from),
                    walk(from, n),
                    "{from} + {n}bd"
                );
            }
        }
    }

    fn path() -> Vec<Level> {
        ["department", "cto", "relevant", "exec-team", "board"]
            .iter()
            .map(|l| l.parse().unwrap())
            .collect()
    }

    fn labels(s: &[Step]) -> Vec<&str> {
        s.iter().map(|s| s.label.as_str()).collect()
    }

    #[test]
    fn the_path_fills_in_the_relevant_executive_and_skips_repeats() {
        assert_eq!(
            labels(&steps(&path(), "cfo", Severity::High)),
            ["department", "cto", "cfo", "exec-team", "board"]
        );
        assert_eq!(
            labels(&steps(&path(), "cto", Severity::Critical)),
            ["department", "cto", "exec-team", "board"]
        );
    }

    #[test]
    fn the_board_is_reached_only_by_critical_and_high() {
        assert_eq!(
            labels(&steps(&path(), "cfo", Severity::Medium)),
            ["department", "cto", "cfo", "exec-team"]
        );
        assert_eq!(
            labels(&steps(&path(), "cfo", Severity::Low)),
            ["department", "cto", "cfo", "exec-team"]
        );
    }

    #[test]
    fn the_ceo_acts_for_the_board_and_nobody_else_does() {
        let board = steps(&path(), "cfo", Severity::Critical)
            .pop()
            .expect("the board's step");
        assert_eq!(board.label, "board");
        let roles = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(board.held_by(&roles(&["board"])));
        assert!(board.held_by(&roles(&["ceo"])));
        assert!(!board.held_by(&roles(&["cfo", "cto"])));
        assert!(!board.held_by(&[]));
    }

    #[test]
    fn windows_parse_and_business_days_skip_weekends() {
        assert_eq!(
            "15m".parse::<Window>().unwrap(),
            Window::Span(Duration::minutes(15))
        );
        let w: Window = "1bd".parse().unwrap();
        // Friday 10:00 + 1 business day = Monday 10:00.
        assert_eq!(
            w.deadline(at("2026-11-27T10:00:00Z")),
            at("2026-11-30T10:00:00Z")
        );
        assert!("soon".parse::<Window>().is_err());
    }

    #[test]
    fn working_hours_open_and_next_open_in_the_zone() {
        let wh =
            WorkingHours::parse("mon-fri 09:00-18:00", "Europe/Madrid".parse().unwrap()).unwrap();
        assert!(
            wh.is_open(at("2026-11-24T08:00:00Z")),
            "09:00 Madrid on a Tuesday"
        );
        assert!(!wh.is_open(at("2026-11-24T17:00:00Z")), "18:00 Madrid");
        assert_eq!(
            wh.next_open(at("2026-11-24T17:00:00Z")),
            at("2026-11-25T08:00:00Z")
        );
        assert_eq!(
            wh.next_open(at("2026-11-27T20:00:00Z")),
            at("2026-11-30T08:00:00Z"),
            "Friday night waits for Monday"
        );
        assert_eq!(
            wh.to_string(),
            "mon,tue,wed,thu,fri 09:00-18:00 Europe/Madrid"
        );
        assert!(WorkingHours::parse("weekdays", Zone::utc()).is_err());
        assert!(WorkingHours::parse("mon-fri 18:00-09:00", Zone::utc()).is_err());
    }

    #[test]
    fn severities_and_levels_parse_with_clear_errors() {
        assert_eq!("HIGH".parse::<Severity>().unwrap(), Severity::High);
        assert!(
            "urgent"
                .parse::<Severity>()
                .unwrap_err()
                .0
                .contains("critical, high, medium or low")
        );
        assert_eq!(
            "#ops".parse::<Level>().unwrap(),
            Level::Channel("ops".into())
        );
        assert!("Bad Level".parse::<Level>().is_err());
    }
}
