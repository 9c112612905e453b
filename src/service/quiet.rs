//! When a notice that can wait may be posted to someone: chases, approval
//! chases and non-critical escalation pings respect the recipient's quiet
//! time; critical escalations never wait (their callers do not ask).
//!
//! An executive with `working_hours` (`[org.cfo] working_hours = "mon-fri
//! 09:00-18:00"`, in their `timezone`) is reachable only within them, so
//! weekends are skipped unless the hours name them. Anyone else (an
//! executive without hours, a person outside the org chart, a department
//! channel) is reachable on weekdays of their zone (the default zone for
//! people outside the org chart) from `[actions] chase_at` (09:00, when
//! Quorum's working day starts) to midnight: a notice due at night waits
//! for chase_at, one due at a weekend for Monday at chase_at. The executive
//! team is reachable when any of its executives is.

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};

use crate::config::Config;

/// Who a notice is for.
#[derive(Debug, Clone, Copy)]
pub enum To<'a> {
    /// An executive's role, or a person's name.
    Person(&'a str),
    /// Every executive but the board (the executive-team step).
    Team,
    /// A channel with nobody in particular (a department step).
    Channel,
}

/// `at` when `who` may be notified then, else the next moment they may.
pub fn next_allowed(config: &Config, who: To<'_>, at: DateTime<Utc>) -> DateTime<Utc> {
    match who {
        To::Person(p) => person(config, p, at),
        To::Channel => person(config, "", at),
        To::Team => config
            .org
            .roles()
            .filter(|r| *r != "board")
            .map(|r| person(config, r, at))
            .min()
            .unwrap_or_else(|| person(config, "", at)),
    }
}

/// Whether `at` is quiet time for `who`.
pub fn is_quiet(config: &Config, who: To<'_>, at: DateTime<Utc>) -> bool {
    next_allowed(config, who, at) > at
}

fn person(config: &Config, who: &str, at: DateTime<Utc>) -> DateTime<Utc> {
    if let Some(hours) = config.working_hours.get(who) {
        return hours.next_open(at);
    }
    let zone = config.zone_of(who);
    let local = zone.local(at);
    let days = match local.weekday() {
        Weekday::Sat => 2,
        Weekday::Sun => 1,
        _ if local.time() >= config.chase_at => return at,
        _ => 0,
    };
    let day = local.date() + Duration::days(days);
    zone.resolve(day.and_time(config.chase_at))
        .with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::escalation::WorkingHours;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn config() -> Config {
        let mut c = Config::default();
        let madrid = "Europe/Madrid".parse().unwrap();
        c.zones.insert("cfo".into(), madrid);
        c.working_hours.insert(
            "cfo".into(),
            WorkingHours::parse("mon-fri 09:00-18:00", madrid).unwrap(),
        );
        c.zones
            .insert("ceo".into(), "America/New_York".parse().unwrap());
        c
    }

    #[test]
    fn an_executive_with_working_hours_is_reachable_only_within_them() {
        let c = config();
        let cfo = To::Person("cfo");
        // Tuesday 12:00 Madrid.
        let noon = at("2026-11-24T11:00:00Z");
        assert_eq!(next_allowed(&c, cfo, noon), noon);
        // Tuesday 23:30 Madrid waits for Wednesday 09:00 Madrid.
        assert_eq!(
            next_allowed(&c, cfo, at("2026-11-24T22:30:00Z")),
            at("2026-11-25T08:00:00Z")
        );
        // Saturday waits for Monday 09:00 Madrid.
        assert!(is_quiet(&c, cfo, at("2026-11-28T11:00:00Z")));
        assert_eq!(
            next_allowed(&c, cfo, at("2026-11-28T11:00:00Z")),
            at("2026-11-30T08:00:00Z")
        );
    }

    #[test]
    fn anyone_without_hours_is_reachable_on_weekdays_of_their_zone() {
        let c = config();
        // Friday 22:00 New York is Saturday in UTC, still Friday for the ceo.
        let friday_night = at("2026-11-28T03:00:00Z");
        assert!(!is_quiet(&c, To::Person("ceo"), friday_night));
        assert!(
            is_quiet(&c, To::Person("bob"), friday_night),
            "UTC Saturday"
        );
        // A weekday before chase_at waits for it.
        assert_eq!(
            next_allowed(&c, To::Person("bob"), at("2026-11-24T03:00:00Z")),
            at("2026-11-24T09:00:00Z")
        );
        // Sunday holds until Monday at chase_at (09:00) in their zone.
        assert_eq!(
            next_allowed(&c, To::Person("ceo"), at("2026-11-29T15:00:00Z")),
            at("2026-11-30T14:00:00Z")
        );
        assert_eq!(
            next_allowed(&c, To::Channel, at("2026-11-29T15:00:00Z")),
            at("2026-11-30T09:00:00Z")
        );
    }

    #[test]
    fn the_executive_team_is_reachable_when_any_executive_is() {
        let mut c = config();
        c.org = crate::domain::org::Org::new(vec![crate::domain::org::Executive {
            role: "cfo".into(),
            name: String::new(),
            user: None,
            slack_user: None,
            discord_role: None,
            channel: None,
        }]);
        // Only the cfo, with hours: the team sleeps when the cfo does.
        assert_eq!(
            next_allowed(&c, To::Team, at("2026-11-24T22:30:00Z")),
            at("2026-11-25T08:00:00Z")
        );
    }
}
