//! Recurrence: the cadence grammar, its canonical RFC 5545 form, and
//! DST-correct expansion into instants.
//!
//! Grammar (case-insensitive, `HH:MM` is 24-hour, `9am`/`5:30pm` also work):
//! ```text
//! daily at HH:MM
//! weekdays at HH:MM
//! weekly on monday[,thursday...] at HH:MM
//! every N weeks on tuesday at HH:MM          phase anchored on the series' start date
//! monthly on day 15 at HH:MM                  months without that day are skipped (RFC 5545)
//! monthly on the first|second|third|fourth|last monday at HH:MM
//! monthly on the last day at HH:MM
//! quarterly on day 1 at HH:MM [starting february]     default months: jan, apr, jul, oct
//! quarterly on the first monday at HH:MM [starting february]
//! yearly on january 15 at HH:MM
//! yearly on the first monday of december at HH:MM
//! once on 2026-12-01 at HH:MM
//! cron:<5 or 6 fields>                        optional leading seconds; L, # and W allowed
//! ```
//! Rules are expanded as wall-clock times (the `rrule` crate over a floating
//! clock, `croner` for cron), then each wall-clock time is placed in the
//! series' zone by [`crate::domain::zone::resolve`]. Doing the zone step
//! ourselves keeps one DST rule for every kind of cadence.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

use super::zone::Zone;

/// A validated cadence. Its `Display` is the canonical text form.
#[derive(Debug, Clone)]
pub struct Cadence {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Once(NaiveDateTime),
    Rule(Rule),
    Cron {
        expr: String,
        cron: Box<croner::Cron>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freq {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DayOfMonth {
    Day(u32),
    LastDay,
    Nth(i8, Weekday),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    freq: Freq,
    /// Week interval for `Weekly`, 1 otherwise.
    interval: u32,
    /// Plain weekdays for `Weekly` (and `weekdays`).
    days: Vec<Weekday>,
    /// Which day of the month for `Monthly` and `Yearly`.
    day_of_month: Option<DayOfMonth>,
    /// BYMONTH: quarterly and yearly.
    months: Vec<u32>,
    quarterly: bool,
    time: NaiveTime,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CadenceError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, CadenceError> {
    Err(CadenceError(msg.into()))
}

const KINDS: &str = "daily, weekdays, weekly on <day> (or every <day>), every N weeks on <day>, monthly on ..., quarterly on ..., yearly on ..., once on YYYY-MM-DD, or cron:<expression>";
const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const ORDINALS: [(&str, i8); 9] = [
    ("first", 1),
    ("1st", 1),
    ("second", 2),
    ("2nd", 2),
    ("third", 3),
    ("3rd", 3),
    ("fourth", 4),
    ("4th", 4),
    ("last", -1),
];

fn suggest(word: &str, candidates: &[&str]) -> String {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(c, word), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

fn parse_weekday(word: &str) -> Result<Weekday, CadenceError> {
    let w = word
        .strip_suffix('s')
        .filter(|w| w.ends_with("day"))
        .unwrap_or(word);
    for (name, day) in WEEKDAYS {
        if w == name || (w.len() >= 3 && name.starts_with(w) && w.len() <= name.len()) {
            return Ok(day);
        }
    }
    let names: Vec<&str> = WEEKDAYS.iter().map(|(n, _)| *n).collect();
    err(format!(
        "`{word}` is not a weekday{}",
        suggest(word, &names)
    ))
}

fn parse_month(word: &str) -> Result<u32, CadenceError> {
    for (i, name) in MONTHS.iter().enumerate() {
        if word == *name || (word.len() >= 3 && name.starts_with(word)) {
            return Ok(i as u32 + 1);
        }
    }
    err(format!("`{word}` is not a month{}", suggest(word, &MONTHS)))
}

fn parse_time(word: &str) -> Result<NaiveTime, CadenceError> {
    let bad = || {
        CadenceError(format!(
            "`{word}` is not a time of day; use 24-hour HH:MM such as 09:30 (or 9:30am)"
        ))
    };
    let (body, pm) = if let Some(b) = word.strip_suffix("pm") {
        (b, Some(true))
    } else if let Some(b) = word.strip_suffix("am") {
        (b, Some(false))
    } else {
        (word, None)
    };
    let (h, m) = match body.split_once(':') {
        Some((h, m)) if m.len() == 2 => (h, m),
        Some(_) => return Err(bad()),
        None if pm.is_some() => (body, "00"),
        None => return Err(bad()),
    };
    if h.is_empty() || h.len() > 2 || !h.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let mut h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if let Some(pm) = pm {
        if !(1..=12).contains(&h) {
            return Err(bad());
        }
        h = match (h, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    NaiveTime::from_hms_opt(h, m, 0).ok_or_else(bad)
}

struct Tokens<'a> {
    words: Vec<&'a str>,
    pos: usize,
    text: &'a str,
}

impl<'a> Tokens<'a> {
    fn next(&mut self) -> Option<&'a str> {
        let w = self.words.get(self.pos).copied();
        self.pos += 1;
        w
    }

    fn peek(&self) -> Option<&'a str> {
        self.words.get(self.pos).copied()
    }

    fn expect(&mut self, word: &str, example: &str) -> Result<(), CadenceError> {
        match self.next() {
            Some(w) if w == word => Ok(()),
            Some(w) => err(format!(
                "expected `{word}` but found `{w}` in `{}`; for example `{example}`",
                self.text
            )),
            None => err(format!(
                "`{}` is incomplete: expected `{word}`; for example `{example}`",
                self.text
            )),
        }
    }

    fn time(&mut self, example: &str) -> Result<NaiveTime, CadenceError> {
        match self.next() {
            Some("at") => {}
            Some(w) => {
                return err(format!(
                    "expected `at HH:MM` but found `{w}`; for example `{example}`"
                ));
            }
            None => {
                return err(format!(
                    "`{}` has no time: end it with `at HH:MM`, for example `{example}`",
                    self.text
                ));
            }
        }
        match self.next() {
            Some(w) => parse_time(w),
            None => err(format!(
                "`{}` has no time after `at`; for example `{example}`",
                self.text
            )),
        }
    }

    fn end(&mut self) -> Result<(), CadenceError> {
        match self.next() {
            None => Ok(()),
            Some(w) => err(format!("unexpected `{w}` at the end of `{}`", self.text)),
        }
    }

    /// `monday`, `monday,thursday`, `monday and thursday`, `mon, thu`.
    fn weekdays(&mut self) -> Result<Vec<Weekday>, CadenceError> {
        let mut days = Vec::new();
        loop {
            match self.peek() {
                Some("," | "and") => {
                    self.pos += 1;
                }
                Some("at") | None => break,
                Some(w) => {
                    self.pos += 1;
                    let d = parse_weekday(w)?;
                    if !days.contains(&d) {
                        days.push(d);
                    }
                }
            }
        }
        if days.is_empty() {
            return err(format!(
                "`{}` names no weekday; for example `weekly on monday at 10:00`",
                self.text
            ));
        }
        days.sort_by_key(|d| d.num_days_from_monday());
        Ok(days)
    }

    fn number(&mut self, what: &str, example: &str) -> Result<u32, CadenceError> {
        match self.next() {
            Some(w) => w
                .trim_end_matches(|c: char| c.is_ascii_alphabetic())
                .parse::<u32>()
                .ok()
                .filter(|_| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
                .ok_or_else(|| {
                    CadenceError(format!("`{w}` is not a {what}; for example `{example}`"))
                }),
            None => err(format!(
                "`{}` is missing the {what}; for example `{example}`",
                self.text
            )),
        }
    }

    /// After `on`: `day 15`, `the last day`, `the first monday`.
    fn day_of_month(&mut self, example: &str) -> Result<DayOfMonth, CadenceError> {
        match self.next() {
            Some("day") => {
                let d = self.number("day of the month", example)?;
                if !(1..=31).contains(&d) {
                    return err(format!("day {d} is not a day of the month; use 1 to 31"));
                }
                Ok(DayOfMonth::Day(d))
            }
            Some("the") => {
                let ord = self.next().unwrap_or("");
                let Some(n) = ORDINALS.iter().find(|(w, _)| *w == ord).map(|(_, n)| *n) else {
                    return err(format!(
                        "`{ord}` is not an ordinal; use first, second, third, fourth or last, for example `{example}`"
                    ));
                };
                match self.next() {
                    Some("day") if n == -1 => Ok(DayOfMonth::LastDay),
                    Some("day") => err(format!("`the {ord} day` is ambiguous; write `day {n}`")),
                    Some(w) => Ok(DayOfMonth::Nth(n, parse_weekday(w)?)),
                    None => err(format!(
                        "`{}` is missing a weekday after `{ord}`; for example `{example}`",
                        self.text
                    )),
                }
            }
            Some(w) => err(format!(
                "expected `day N` or `the first <weekday>` after `on`, found `{w}`; for example `{example}`"
            )),
            None => err(format!(
                "`{}` is incomplete; for example `{example}`",
                self.text
            )),
        }
    }
}

impl FromStr for Cadence {
    type Err = CadenceError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return err(format!("the cadence is empty; use {KINDS}"));
        }
        if let Some(expr) = text
            .get(..5)
            .filter(|head| head.eq_ignore_ascii_case("cron:"))
            .and_then(|_| text.get(5..))
        {
            return parse_cron(expr.trim());
        }
        let lower = text.to_lowercase();
        let spaced = lower.replace(',', " , ");
        let mut t = Tokens {
            words: spaced.split_whitespace().collect(),
            pos: 0,
            text,
        };
        // `starting <month>` may stand anywhere after the head; pull it out first.
        let mut starting = None;
        if let Some(i) = t.words.iter().position(|w| *w == "starting") {
            let Some(month) = t.words.get(i + 1) else {
                return err("`starting` needs a month, for example `starting february`");
            };
            starting = Some(parse_month(month)?);
            t.words.drain(i..i + 2);
        }
        let head = t.next().unwrap_or("");
        let mut rule = Rule {
            freq: Freq::Daily,
            interval: 1,
            days: Vec::new(),
            day_of_month: None,
            months: Vec::new(),
            quarterly: false,
            time: NaiveTime::MIN,
        };
        match head {
            "daily" => {
                rule.time = t.time("daily at 09:00")?;
            }
            "weekdays" => {
                rule.freq = Freq::Weekly;
                rule.days = WEEKDAYS[..5].iter().map(|(_, d)| *d).collect();
                rule.time = t.time("weekdays at 09:00")?;
            }
            "weekly" | "biweekly" | "bi-weekly" => {
                const EX: &str = "weekly on monday at 10:00";
                rule.freq = Freq::Weekly;
                rule.interval = if head == "weekly" { 1 } else { 2 };
                t.expect("on", EX)?;
                rule.days = t.weekdays()?;
                rule.time = t.time(EX)?;
            }
            "every" => {
                const EX: &str = "every 2 weeks on tuesday at 09:30";
                rule.freq = Freq::Weekly;
                rule.interval = match t.peek() {
                    Some("week") => 1,
                    Some("weekday" | "weekdays") => {
                        t.next();
                        rule.days = WEEKDAYS[..5].iter().map(|(_, d)| *d).collect();
                        rule.time = t.time("every weekday at 09:00")?;
                        return finish(rule, starting, t);
                    }
                    Some("day") => {
                        t.next();
                        rule.freq = Freq::Daily;
                        rule.time = t.time("every day at 09:00")?;
                        return finish(rule, starting, t);
                    }
                    // `every monday at 9:00`, `every other tuesday and thursday at 10:00`:
                    // how people say weekly and bi-weekly.
                    Some("other") => {
                        t.next();
                        rule.interval = 2;
                        if matches!(t.peek(), Some("week")) {
                            t.next();
                            t.expect("on", "every other week on monday at 10:00")?;
                        }
                        rule.days = t.weekdays()?;
                        rule.time = t.time("every other monday at 10:00")?;
                        return finish(rule, starting, t);
                    }
                    Some(w) if parse_weekday(w).is_ok() => {
                        rule.days = t.weekdays()?;
                        rule.time = t.time("every monday at 09:00")?;
                        return finish(rule, starting, t);
                    }
                    Some(w) if !w.starts_with(|c: char| c.is_ascii_digit()) => {
                        let names: Vec<&str> = WEEKDAYS.iter().map(|(n, _)| *n).collect();
                        return err(format!(
                            "`{w}` is not a weekday or a number of weeks{}; for example `every monday at 09:00` or `{EX}`",
                            suggest(w, &names)
                        ));
                    }
                    _ => t.number("number of weeks", EX)?,
                };
                match t.next() {
                    Some("week" | "weeks") => {}
                    Some(w) => {
                        return err(format!(
                            "`every {} {w}` is not supported; only weeks repeat with `every N`, for example `{EX}` (use daily, monthly or cron: for other intervals)",
                            rule.interval
                        ));
                    }
                    None => return err(format!("`{text}` is incomplete; for example `{EX}`")),
                }
                if !(1..=52).contains(&rule.interval) {
                    return err(format!(
                        "every {} weeks is out of range; use 1 to 52",
                        rule.interval
                    ));
                }
                t.expect("on", EX)?;
                rule.days = t.weekdays()?;
                rule.time = t.time(EX)?;
            }
            "monthly" | "quarterly" => {
                let ex = if head == "monthly" {
                    "monthly on the first monday at 10:00"
                } else {
                    "quarterly on the first monday at 09:00"
                };
                rule.freq = Freq::Monthly;
                t.expect("on", ex)?;
                rule.day_of_month = Some(t.day_of_month(ex)?);
                rule.time = t.time(ex)?;
                if head == "quarterly" {
                    rule.quarterly = true;
                    let first = starting.take().unwrap_or(1);
                    let mut months: Vec<u32> =
                        (0..4).map(|q| (first - 1 + 3 * q) % 12 + 1).collect();
                    months.sort_unstable();
                    rule.months = months;
                }
            }
            "yearly" | "annually" => {
                const EX: &str = "yearly on january 15 at 09:00";
                rule.freq = Freq::Yearly;
                t.expect("on", EX)?;
                match t.peek() {
                    Some("the") => {
                        let dom =
                            t.day_of_month("yearly on the first monday of december at 09:00")?;
                        if matches!(dom, DayOfMonth::Day(_)) {
                            return err("write `yearly on january 15 at 09:00` for a fixed date");
                        }
                        t.expect("of", "yearly on the first monday of december at 09:00")?;
                        let month = parse_month(t.next().unwrap_or(""))?;
                        rule.day_of_month = Some(dom);
                        rule.months = vec![month];
                    }
                    Some(w) => {
                        t.next();
                        let month = parse_month(w)?;
                        let day = t.number("day of the month", EX)?;
                        let max = days_in_month(2024, month);
                        if day == 0 || day > max {
                            return err(format!(
                                "{} has no day {day}; use 1 to {max}",
                                capitalize(MONTHS[month as usize - 1])
                            ));
                        }
                        rule.day_of_month = Some(DayOfMonth::Day(day));
                        rule.months = vec![month];
                    }
                    None => return err(format!("`{text}` is incomplete; for example `{EX}`")),
                }
                rule.time = t.time(EX)?;
            }
            "once" => {
                const EX: &str = "once on 2026-12-01 at 10:00";
                t.expect("on", EX)?;
                let date_word = t.next().unwrap_or("");
                let date = NaiveDate::parse_from_str(date_word, "%Y-%m-%d").map_err(|_| {
                    CadenceError(format!(
                        "`{date_word}` is not a date; use YYYY-MM-DD, for example `{EX}`"
                    ))
                })?;
                let time = t.time(EX)?;
                t.end()?;
                if starting.is_some() {
                    return err("`starting <month>` only goes with quarterly cadences");
                }
                return Ok(Cadence {
                    kind: Kind::Once(date.and_time(time)),
                });
            }
            "" => return err(format!("the cadence is empty; use {KINDS}")),
            other => {
                let hint = match other {
                    "fortnightly" => "; try `every 2 weeks on monday at 10:00`".to_string(),
                    "hourly" | "minutely" => "; try `cron:0 * * * *` for every hour".to_string(),
                    _ => suggest(
                        other,
                        &[
                            "daily",
                            "weekdays",
                            "weekly",
                            "every",
                            "monthly",
                            "quarterly",
                            "yearly",
                            "once",
                        ],
                    ),
                };
                return err(format!(
                    "`{other}` is not a cadence{hint}. Cadences: {KINDS}"
                ));
            }
        }
        finish(rule, starting, t)
    }
}

fn finish(rule: Rule, starting: Option<u32>, mut t: Tokens<'_>) -> Result<Cadence, CadenceError> {
    t.end()?;
    if starting.is_some() {
        return err("`starting <month>` only goes with quarterly cadences");
    }
    Ok(Cadence {
        kind: Kind::Rule(rule),
    })
}

fn parse_cron(expr: &str) -> Result<Cadence, CadenceError> {
    let fields = expr.split_whitespace().count();
    let help = "use 5 fields (minute hour day-of-month month day-of-week) or 6 with a leading seconds field, for example `cron:0 9 * * 1-5`";
    if !(5..=6).contains(&fields) {
        return err(format!(
            "`cron:{expr}` has {fields} field{}; {help}",
            if fields == 1 { "" } else { "s" }
        ));
    }
    let parser = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .year(croner::parser::Year::Disallowed)
        .build();
    let cron = parser.parse(expr).map_err(|e| {
        CadenceError(format!(
            "`cron:{expr}` is not a valid cron expression ({e}); {help}"
        ))
    })?;
    let probe = NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc());
    if probe
        .and_then(|p| cron.find_next_occurrence(&p, false).ok())
        .is_none()
    {
        return err(format!(
            "`cron:{expr}` never fires; check the day and month fields"
        ));
    }
    let normal = expr.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok(Cadence {
        kind: Kind::Cron {
            expr: normal,
            cron: Box::new(cron),
        },
    })
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    next.map(|d| d.pred_opt().map_or(31, |p| p.day()))
        .unwrap_or(31)
}

fn weekday_name(d: Weekday) -> &'static str {
    WEEKDAYS[d.num_days_from_monday() as usize].0
}

fn ordinal_name(n: i8) -> &'static str {
    match n {
        1 => "first",
        2 => "second",
        3 => "third",
        4 => "fourth",
        _ => "last",
    }
}

fn rfc_day(d: Weekday) -> &'static str {
    ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][d.num_days_from_monday() as usize]
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Once(at) => write!(f, "once on {} at {}", at.date(), at.format("%H:%M")),
            Kind::Cron { expr, .. } => write!(f, "cron:{expr}"),
            Kind::Rule(r) => {
                let time = r.time.format("%H:%M");
                let days = || {
                    r.days
                        .iter()
                        .map(|d| weekday_name(*d))
                        .collect::<Vec<_>>()
                        .join(",")
                };
                let dom = |d: &DayOfMonth| match d {
                    DayOfMonth::Day(n) => format!("day {n}"),
                    DayOfMonth::LastDay => "the last day".to_string(),
                    DayOfMonth::Nth(n, w) => {
                        format!("the {} {}", ordinal_name(*n), weekday_name(*w))
                    }
                };
                match r.freq {
                    Freq::Daily => write!(f, "daily at {time}"),
                    Freq::Weekly
                        if r.interval == 1
                            && r.days.len() == 5
                            && r.days.iter().all(|d| d.num_days_from_monday() < 5) =>
                    {
                        write!(f, "weekdays at {time}")
                    }
                    Freq::Weekly if r.interval == 1 => write!(f, "weekly on {} at {time}", days()),
                    Freq::Weekly => write!(f, "every {} weeks on {} at {time}", r.interval, days()),
                    Freq::Monthly => {
                        let d = r.day_of_month.as_ref().map(dom).unwrap_or_default();
                        if r.quarterly {
                            write!(f, "quarterly on {d} at {time}")?;
                            match r.months.first() {
                                Some(1) | None => Ok(()),
                                Some(m) => write!(f, " starting {}", MONTHS[*m as usize - 1]),
                            }
                        } else {
                            write!(f, "monthly on {d} at {time}")
                        }
                    }
                    Freq::Yearly => {
                        let month = MONTHS[r.months.first().copied().unwrap_or(1) as usize - 1];
                        match &r.day_of_month {
                            Some(DayOfMonth::Day(n)) => {
                                write!(f, "yearly on {month} {n} at {time}")
                            }
                            Some(d) => write!(f, "yearly on {} of {month} at {time}", dom(d)),
                            None => write!(f, "yearly on {month} 1 at {time}"),
                        }
                    }
                }
            }
        }
    }
}

impl Rule {
    fn rrule(&self) -> String {
        let mut parts = vec![format!(
            "FREQ={}",
            match self.freq {
                Freq::Daily => "DAILY",
                Freq::Weekly => "WEEKLY",
                Freq::Monthly => "MONTHLY",
                Freq::Yearly => "YEARLY",
            }
        )];
        if self.interval > 1 {
            parts.push(format!("INTERVAL={}", self.interval));
        }
        if !self.months.is_empty() {
            let m: Vec<String> = self.months.iter().map(|m| m.to_string()).collect();
            parts.push(format!("BYMONTH={}", m.join(",")));
        }
        if !self.days.is_empty() {
            let d: Vec<&str> = self.days.iter().map(|d| rfc_day(*d)).collect();
            parts.push(format!("BYDAY={}", d.join(",")));
        }
        match &self.day_of_month {
            Some(DayOfMonth::Day(n)) => parts.push(format!("BYMONTHDAY={n}")),
            Some(DayOfMonth::LastDay) => parts.push("BYMONTHDAY=-1".to_string()),
            Some(DayOfMonth::Nth(n, d)) => parts.push(format!("BYDAY={n}{}", rfc_day(*d))),
            None => {}
        }
        parts.push(format!("BYHOUR={}", self.time.format("%-H")));
        parts.push(format!("BYMINUTE={}", self.time.format("%-M")));
        parts.push("BYSECOND=0".to_string());
        if self.freq == Freq::Weekly {
            parts.push("WKST=MO".to_string());
        }
        parts.join(";")
    }
}

impl Cadence {
    /// The canonical RFC 5545 form: an RRULE value for rules, `None` for a
    /// single occurrence or a cron expression (which have no RRULE).
    pub fn rrule(&self) -> Option<String> {
        match &self.kind {
            Kind::Rule(r) => Some(r.rrule()),
            _ => None,
        }
    }

    /// True for `once on ...`: a series that ends after one occurrence.
    pub fn is_once(&self) -> bool {
        matches!(self.kind, Kind::Once(_))
    }

    /// The wall-clock times of this cadence, in order, starting somewhat
    /// before `from_local` (callers filter on the resolved instant).
    fn wall_clock_from(
        &self,
        anchor: NaiveDate,
        from_local: NaiveDateTime,
    ) -> Box<dyn Iterator<Item = NaiveDateTime> + '_> {
        match &self.kind {
            Kind::Once(at) => Box::new(std::iter::once(*at)),
            Kind::Cron { cron, .. } => {
                // A DST gap moves a time forward by at most a few hours.
                let start = (from_local - Duration::hours(3)).and_utc();
                Box::new(cron.clone().iter_after(start).map(|dt| dt.naive_utc()))
            }
            Kind::Rule(r) => {
                let from_date = from_local.date() - Duration::days(1);
                let start = if r.interval > 1 {
                    // Keep the phase: move the anchor forward by whole periods.
                    let period = i64::from(r.interval) * 7;
                    let gap = (from_date - anchor).num_days() - period;
                    if gap > 0 {
                        anchor + Duration::days(gap / period * period)
                    } else {
                        anchor
                    }
                } else {
                    from_date
                };
                let set = format!(
                    "DTSTART:{}T{}Z\nRRULE:{}",
                    start.format("%Y%m%d"),
                    r.time.format("%H%M%S"),
                    r.rrule()
                );
                match set.parse::<rrule::RRuleSet>() {
                    Ok(set) => Box::new(set.into_iter().map(|dt| dt.naive_utc())),
                    Err(e) => {
                        tracing::error!(rule = %set, error = %e, "a validated rule failed to expand");
                        Box::new(std::iter::empty())
                    }
                }
            }
        }
    }

    /// Occurrences strictly after `from`, in `zone`, in order.
    pub fn occurrences_after(
        &self,
        zone: Zone,
        anchor: NaiveDate,
        from: DateTime<Utc>,
    ) -> impl Iterator<Item = DateTime<Tz>> + '_ {
        let from_local = zone.local(from);
        let mut last = from;
        self.wall_clock_from(anchor, from_local)
            // Bound the walk: a rule always matches within a few years.
            .take_while(move |local| local.year() <= from_local.year() + 30)
            .filter_map(move |local| {
                let at = zone.resolve(local);
                let utc = at.with_timezone(&Utc);
                if utc > last {
                    last = utc;
                    Some(at)
                } else {
                    None
                }
            })
    }

    /// The first occurrence strictly after `from`.
    pub fn next_after(
        &self,
        zone: Zone,
        anchor: NaiveDate,
        from: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        self.occurrences_after(zone, anchor, from)
            .next()
            .map(|d| d.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preview(spec: &str, tz: &str, from: &str, n: usize) -> Vec<String> {
        let cadence: Cadence = spec.parse().unwrap();
        let zone: Zone = tz.parse().unwrap();
        let from = DateTime::parse_from_rfc3339(from)
            .unwrap()
            .with_timezone(&Utc);
        let anchor = zone.local(from).date();
        cadence
            .occurrences_after(zone, anchor, from)
            .take(n)
            .map(|d| d.to_rfc3339())
            .collect()
    }

    fn parse_err(spec: &str) -> String {
        spec.parse::<Cadence>().unwrap_err().0
    }

    #[test]
    fn canonical_text_and_rrule_for_each_kind() {
        let table = [
            (
                "daily at 9:00",
                "daily at 09:00",
                Some("FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
            ),
            (
                "Weekdays at 09:00",
                "weekdays at 09:00",
                Some("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9;BYMINUTE=0;BYSECOND=0;WKST=MO"),
            ),
            (
                "weekly on Thursday, Monday at 10:00",
                "weekly on monday,thursday at 10:00",
                Some("FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=10;BYMINUTE=0;BYSECOND=0;WKST=MO"),
            ),
            (
                "every 2 weeks on tuesday at 09:30",
                "every 2 weeks on tuesday at 09:30",
                Some("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;BYHOUR=9;BYMINUTE=30;BYSECOND=0;WKST=MO"),
            ),
            (
                "monthly on day 15 at 09:00",
                "monthly on day 15 at 09:00",
                Some("FREQ=MONTHLY;BYMONTHDAY=15;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
            ),
            (
                "monthly on the first monday at 10:00",
                "monthly on the first monday at 10:00",
                Some("FREQ=MONTHLY;BYDAY=1MO;BYHOUR=10;BYMINUTE=0;BYSECOND=0"),
            ),
            (
                "monthly on the last day at 5pm",
                "monthly on the last day at 17:00",
                Some("FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=17;BYMINUTE=0;BYSECOND=0"),
            ),
            (
                "quarterly on the first monday at 09:00",
                "quarterly on the first monday at 09:00",
                Some("FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=1MO;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
            ),
            (
                "quarterly on day 1 at 09:00 starting february",
                "quarterly on day 1 at 09:00 starting february",
                Some("FREQ=MONTHLY;BYMONTH=2,5,8,11;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
            ),
            (
                "quarterly on day 1 at 09:00 starting december",
                "quarterly on day 1 at 09:00 starting march",
                Some("FREQ=MONTHLY;BYMONTH=3,6,9,12;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
            ),
            (
                "yearly on january 15 at 09:00",
                "yearly on january 15 at 09:00",
                Some("FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=15;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
            ),
            (
                "yearly on the first monday of december at 09:00",
                "yearly on the first monday of december at 09:00",
                Some("FREQ=YEARLY;BYMONTH=12;BYDAY=1MO;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
            ),
            (
                "once on 2026-12-01 at 10:00",
                "once on 2026-12-01 at 10:00",
                None,
            ),
            ("CRON:0  9 * * 1-5", "cron:0 9 * * 1-5", None),
            // How people say it, read as the canonical forms above.
            (
                "every monday at 9:00",
                "weekly on monday at 09:00",
                Some("FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0;BYSECOND=0;WKST=MO"),
            ),
            (
                "Every Tuesday and Thursday at 10:30",
                "weekly on tuesday,thursday at 10:30",
                Some("FREQ=WEEKLY;BYDAY=TU,TH;BYHOUR=10;BYMINUTE=30;BYSECOND=0;WKST=MO"),
            ),
            (
                "every other friday at 16:00",
                "every 2 weeks on friday at 16:00",
                Some("FREQ=WEEKLY;INTERVAL=2;BYDAY=FR;BYHOUR=16;BYMINUTE=0;BYSECOND=0;WKST=MO"),
            ),
            (
                "every other week on monday at 10:00",
                "every 2 weeks on monday at 10:00",
                Some("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYHOUR=10;BYMINUTE=0;BYSECOND=0;WKST=MO"),
            ),
            (
                "every day at 8:00",
                "daily at 08:00",
                Some("FREQ=DAILY;BYHOUR=8;BYMINUTE=0;BYSECOND=0"),
            ),
            (
                "every weekday at 9:00",
                "weekdays at 09:00",
                Some("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9;BYMINUTE=0;BYSECOND=0;WKST=MO"),
            ),
        ];
        for (input, text, rrule) in table {
            let c: Cadence = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(c.to_string(), text, "{input}");
            assert_eq!(c.rrule().as_deref(), rrule, "{input}");
            let again: Cadence = text.parse().unwrap();
            assert_eq!(
                again.to_string(),
                text,
                "canonical text re-parses to itself"
            );
        }
    }

    #[test]
    fn bad_cadences_say_what_is_wrong() {
        let table = [
            (
                "fortnightly on monday at 10:00",
                "`fortnightly` is not a cadence; try `every 2 weeks on monday at 10:00`",
            ),
            (
                "weekly on mondy at 10:00",
                "`mondy` is not a weekday; did you mean `monday`?",
            ),
            ("weekly on monday", "has no time: end it with `at HH:MM`"),
            ("daily at 25:00", "`25:00` is not a time of day"),
            (
                "monthly on day 32 at 10:00",
                "day 32 is not a day of the month",
            ),
            (
                "monthly on the fifth monday at 10:00",
                "`fifth` is not an ordinal",
            ),
            ("yearly on february 30 at 10:00", "February has no day 30"),
            (
                "weekly on monday at 10:00 starting march",
                "only goes with quarterly",
            ),
            ("once on 2026-13-01 at 10:00", "`2026-13-01` is not a date"),
            ("cron:* * *", "has 3 fields"),
            ("cron:0 9 * * 8", "is not a valid cron expression"),
            ("cron:0 0 30 2 *", "never fires"),
            ("every 3 days at 10:00", "only weeks repeat"),
            (
                "every mondy at 10:00",
                "`mondy` is not a weekday or a number of weeks; did you mean `monday`?",
            ),
            ("every other at 10:00", "names no weekday"),
            ("", "the cadence is empty"),
        ];
        for (input, expected) in table {
            let e = parse_err(input);
            assert!(
                e.contains(expected),
                "{input:?} gave {e:?}, expected {expected:?}"
            );
        }
    }

    #[test]
    fn weekly_keeps_wall_clock_across_madrid_dst() {
        assert_eq!(
            preview(
                "weekly on monday at 10:00",
                "Europe/Madrid",
                "2026-03-20T00:00:00Z",
                3
            ),
            [
                "2026-03-23T10:00:00+01:00",
                "2026-03-30T10:00:00+02:00",
                "2026-04-06T10:00:00+02:00"
            ]
        );
    }

    #[test]
    fn new_york_fall_back_overlap_fires_once_at_first_instance() {
        assert_eq!(
            preview(
                "daily at 01:30",
                "America/New_York",
                "2026-10-31T12:00:00Z",
                3
            ),
            [
                "2026-11-01T01:30:00-04:00",
                "2026-11-02T01:30:00-05:00",
                "2026-11-03T01:30:00-05:00"
            ]
        );
    }

    #[test]
    fn new_york_spring_gap_moves_forward() {
        assert_eq!(
            preview(
                "daily at 02:30",
                "America/New_York",
                "2026-03-07T12:00:00Z",
                2
            ),
            ["2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00"]
        );
    }

    #[test]
    fn sydney_southern_hemisphere_dst() {
        assert_eq!(
            preview(
                "daily at 02:30",
                "Australia/Sydney",
                "2026-10-03T12:00:00Z",
                2
            ),
            ["2026-10-04T03:30:00+11:00", "2026-10-05T02:30:00+11:00"]
        );
        assert_eq!(
            preview(
                "daily at 02:30",
                "Australia/Sydney",
                "2026-04-04T12:00:00Z",
                2
            ),
            ["2026-04-05T02:30:00+11:00", "2026-04-06T02:30:00+10:00"]
        );
    }

    #[test]
    fn kolkata_has_no_dst() {
        assert_eq!(
            preview(
                "weekly on monday at 10:00",
                "Asia/Kolkata",
                "2026-03-20T00:00:00Z",
                2
            ),
            ["2026-03-23T10:00:00+05:30", "2026-03-30T10:00:00+05:30"]
        );
    }

    #[test]
    fn fifth_weekday_is_not_required_last_is_used() {
        // "last friday" of months with four and five Fridays.
        assert_eq!(
            preview(
                "monthly on the last friday at 09:00",
                "UTC",
                "2026-01-01T00:00:00Z",
                3
            ),
            [
                "2026-01-30T09:00:00+00:00",
                "2026-02-27T09:00:00+00:00",
                "2026-03-27T09:00:00+00:00"
            ]
        );
    }

    #[test]
    fn day_31_skips_short_months_and_last_day_does_not() {
        assert_eq!(
            preview(
                "monthly on day 31 at 09:00",
                "UTC",
                "2026-01-01T00:00:00Z",
                3
            ),
            [
                "2026-01-31T09:00:00+00:00",
                "2026-03-31T09:00:00+00:00",
                "2026-05-31T09:00:00+00:00"
            ]
        );
        assert_eq!(
            preview(
                "monthly on the last day at 17:00",
                "UTC",
                "2028-01-01T00:00:00Z",
                2
            ),
            ["2028-01-31T17:00:00+00:00", "2028-02-29T17:00:00+00:00"]
        );
    }

    #[test]
    fn february_29_happens_in_leap_years_only() {
        assert_eq!(
            preview(
                "yearly on february 29 at 09:00",
                "UTC",
                "2026-01-01T00:00:00Z",
                2
            ),
            ["2028-02-29T09:00:00+00:00", "2032-02-29T09:00:00+00:00"]
        );
    }

    #[test]
    fn every_two_weeks_is_anchored_on_the_start_date() {
        let c: Cadence = "every 2 weeks on tuesday at 09:30".parse().unwrap();
        let zone: Zone = "UTC".parse().unwrap();
        let anchor = NaiveDate::from_ymd_opt(2026, 1, 6).unwrap(); // a Tuesday
        let from = DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let got: Vec<String> = c
            .occurrences_after(zone, anchor, from)
            .take(2)
            .map(|d| d.to_rfc3339())
            .collect();
        // 2026-01-06 + 46 weeks = 2026-11-24 (in phase, but before `from`'s 12:00? no: 09:30 < 12:00).
        assert_eq!(
            got,
            ["2026-12-08T09:30:00+00:00", "2026-12-22T09:30:00+00:00"]
        );
    }

    #[test]
    fn quarterly_defaults_to_january_april_july_october() {
        assert_eq!(
            preview(
                "quarterly on the first monday at 09:00",
                "UTC",
                "2026-01-10T00:00:00Z",
                3
            ),
            [
                "2026-04-06T09:00:00+00:00",
                "2026-07-06T09:00:00+00:00",
                "2026-10-05T09:00:00+00:00"
            ]
        );
    }

    #[test]
    fn once_happens_once_and_then_never() {
        assert_eq!(
            preview(
                "once on 2026-12-01 at 10:00",
                "Europe/Madrid",
                "2026-11-24T00:00:00Z",
                5
            ),
            ["2026-12-01T10:00:00+01:00"]
        );
        assert!(
            preview(
                "once on 2026-12-01 at 10:00",
                "Europe/Madrid",
                "2026-12-02T00:00:00Z",
                5
            )
            .is_empty()
        );
    }

    #[test]
    fn a_multibyte_character_where_cron_would_be_is_an_error_not_a_panic() {
        for text in [
            "u\u{201C}\u{201D}s0 qion",
            "cro\u{e9}:0 * * * *",
            "\u{1F600}\u{1F600}",
        ] {
            assert!(text.parse::<Cadence>().is_err(), "{text}");
        }
        assert!("CRON:0 10 * * *".parse::<Cadence>().is_ok());
    }

    #[test]
    fn cron_sunday_is_0_or_7_and_seconds_are_optional() {
        let a = preview("cron:0 10 * * 0", "UTC", "2026-11-24T00:00:00Z", 1);
        let b = preview("cron:0 10 * * 7", "UTC", "2026-11-24T00:00:00Z", 1);
        assert_eq!(a, ["2026-11-29T10:00:00+00:00"]);
        assert_eq!(a, b);
        assert_eq!(
            preview("cron:*/20 * * * * *", "UTC", "2026-11-24T00:00:00Z", 2),
            ["2026-11-24T00:00:20+00:00", "2026-11-24T00:00:40+00:00"]
        );
    }

    #[test]
    fn cron_daily_in_the_gap_fires_once_moved_forward_and_once_in_the_overlap() {
        assert_eq!(
            preview(
                "cron:30 2 * * *",
                "Europe/Madrid",
                "2026-03-28T12:00:00Z",
                2
            ),
            ["2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"]
        );
        assert_eq!(
            preview(
                "cron:30 2 * * *",
                "Europe/Madrid",
                "2026-10-24T12:00:00Z",
                2
            ),
            ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]
        );
    }

    #[test]
    fn cron_last_and_nth_weekday() {
        assert_eq!(
            preview("cron:0 9 * * 5L", "UTC", "2026-11-01T00:00:00Z", 1),
            ["2026-11-27T09:00:00+00:00"]
        );
        assert_eq!(
            preview("cron:0 9 * * 1#1", "UTC", "2026-11-24T00:00:00Z", 1),
            ["2026-12-07T09:00:00+00:00"]
        );
        assert_eq!(
            preview("cron:0 9 15W * *", "UTC", "2026-11-01T00:00:00Z", 1),
            ["2026-11-16T09:00:00+00:00"]
        );
    }

    #[test]
    fn occurrences_are_strictly_after_from() {
        assert_eq!(
            preview("daily at 10:00", "UTC", "2026-11-24T10:00:00Z", 1),
            ["2026-11-25T10:00:00+00:00"]
        );
    }
}
