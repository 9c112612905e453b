//! Configuration: a TOML file (`--config`, default `quorum.toml` when present)
//! with `QUORUM_`-prefixed environment overrides, validated at start. Any
//! unknown key or bad value stops start-up with `file:line:column: what`.
//! Secrets (tokens, signing keys) never live here: they come from the environment.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::Duration;
use serde::Deserialize;
use toml::Spanned;

use crate::domain::meeting::{
    Attendees, Capture, ChannelRef, LeadTimes, MeetingLength, Title, parse_duration,
};
use crate::domain::org::{Executive, Org, is_role_key};
use crate::domain::recurrence::Cadence;
use crate::domain::workspace::{is_guild, is_slack_team};
use crate::domain::zone::Zone;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://quorum.db";
pub const DEFAULT_CONFIG_FILE: &str = "quorum.toml";
/// Posts in flight at once, by default.
pub const DEFAULT_CONCURRENCY: usize = 32;
/// The most posts in flight a deployment may ask for.
pub const MAX_CONCURRENCY: usize = 1024;

fn check_concurrency(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_CONCURRENCY).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{text}` is not a concurrency; use a whole number from 1 to {MAX_CONCURRENCY}, such as 32"
        )),
    }
}

/// Lags and leases: at least a second, at most a day.
fn check_span(d: Duration) -> Result<Duration, String> {
    if d < Duration::seconds(1) || d > Duration::days(1) {
        return Err("must be between 1s and 1d".to_string());
    }
    Ok(d)
}

/// Every environment override, as the README documents them.
pub const ENV_OVERRIDES: &[&str] = &[
    "QUORUM_DATABASE_URL",
    "QUORUM_SCHEDULER_GRACE",
    "QUORUM_SCHEDULER_LEASE",
    "QUORUM_SCHEDULER_CONCURRENCY",
    "QUORUM_SCHEDULER_MAX_LAG",
    "QUORUM_HTTP_LISTEN",
    "QUORUM_HTTP_PUBLIC_URL",
    "QUORUM_DISCORD_API_BASE",
    "QUORUM_DISCORD_GATEWAY_URL",
    "QUORUM_DISCORD_GUILDS",
    "QUORUM_SLACK_API_BASE",
    "QUORUM_SLACK_TEAMS",
    "QUORUM_DEFAULTS_TIMEZONE",
];

/// Every secret `quorum` reads from the environment (never from the file,
/// never logged).
pub const SECRETS: &[&str] = &[
    "DISCORD_TOKEN",
    "DISCORD_PUBLIC_KEY",
    "DISCORD_APPLICATION_ID",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
];

/// The environment variables of logging: the filter and the format.
pub const LOG_VARIABLES: &[&str] = &["QUORUM_LOG", "QUORUM_LOG_FORMAT"];

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    /// How late a reminder may still be sent after downtime.
    pub grace: Duration,
    /// How long a claimed delivery is reserved for the instance that claimed
    /// it; after that another instance takes it over.
    pub lease: Duration,
    /// Posts in flight at once across all destinations (`[scheduler] concurrency`).
    pub concurrency: usize,
    /// Readiness fails when the oldest due, undelivered item is older than
    /// this (`[scheduler] max_lag`).
    pub max_lag: Duration,
    pub default_zone: Zone,
    pub default_channel: ChannelRef,
    pub default_remind: LeadTimes,
    pub org: Org,
    pub series: Vec<SeriesSeed>,
    /// Decision categories and the role holding each one's authority.
    pub categories: Vec<(String, String)>,
    /// Zones of executives (role key -> zone); others use `default_zone`.
    pub zones: BTreeMap<String, Zone>,
    /// Local time of the daily chase of overdue and due-today items.
    pub chase_at: chrono::NaiveTime,
    /// How long a done item may wait for verification before it is chased.
    pub verify_after: Duration,
    /// An item overdue this long is escalated to the owner's manager on the
    /// path instead of being chased again (`[actions] escalate_overdue_after`).
    pub escalate_overdue_after: crate::domain::escalation::Window,
    /// A proposed decision unanswered this long is chased to its authority
    /// (`[decisions] chase_after`).
    pub approval_chase_after: crate::domain::escalation::Window,
    /// ... and this long, escalated along the path (`[decisions] escalate_after`).
    pub approval_escalate_after: crate::domain::escalation::Window,
    /// The weekly written update: weekday, local time, channel.
    pub digest_day: chrono::Weekday,
    pub digest_at: chrono::NaiveTime,
    pub digest_channel: ChannelRef,
    /// `[digest.monthly]`: the monthly update, when the section is present.
    pub digest_monthly: Option<PeriodDigest>,
    /// `[digest.quarterly]`: the quarterly update, when the section is present.
    pub digest_quarterly: Option<PeriodDigest>,
    /// `[meetings] minutes = "always"`: post minutes even for a meeting
    /// with nothing recorded (the default, `"recorded"`, posts none then).
    pub minutes_always: bool,
    pub escalation: EscalationPolicy,
    /// Working hours by role; roles without them are always reachable.
    pub working_hours: BTreeMap<String, crate::domain::escalation::WorkingHours>,
    /// Roles whose notices come by direct message (`[org.cto] notify = "dm"`).
    pub notify_dm: std::collections::BTreeSet<String>,
    /// Where the HTTP server listens (`[http] listen`).
    pub http_listen: String,
    /// The address people reach this server at (`[http] public_url`), for
    /// links Quorum hands out such as calendar feeds.
    pub public_url: Option<String>,
    /// `[calendar] holidays`: dates flagged like weekends, and skipped by
    /// a series' `shift`.
    pub holidays: crate::domain::holiday::Holidays,
    pub discord: DiscordSettings,
    pub slack: SlackSettings,
}

/// `[slack]`: where Slack's Web API is, and channel ids.
#[derive(Debug, Clone)]
pub struct SlackSettings {
    pub api_base: String,
    /// The Slack workspaces (team ids, `T...`) this deployment serves
    /// (`[slack] teams`). Empty: the first team that uses Quorum is pinned
    /// as its one workspace.
    pub teams: Vec<String>,
    /// Quorum channel names to Slack channel ids (C...).
    pub channels: std::collections::HashMap<String, String>,
}

impl Default for SlackSettings {
    fn default() -> Self {
        SlackSettings {
            api_base: "https://slack.com/api".to_string(),
            teams: Vec::new(),
            channels: Default::default(),
        }
    }
}

/// `[discord]`: where Discord's REST API is, the application, and channel ids.
#[derive(Debug, Clone)]
pub struct DiscordSettings {
    pub api_base: String,
    pub application_id: Option<String>,
    /// Register commands in this guild only (instant, for development).
    pub dev_guild: Option<String>,
    /// The Discord servers (guild ids) this deployment serves
    /// (`[discord] guilds`). Empty: the first guild that uses Quorum is
    /// pinned as its one workspace.
    pub guilds: Vec<String>,
    /// Quorum channel names to Discord channel ids.
    pub channels: std::collections::HashMap<String, String>,
    /// Connect to the gateway when DISCORD_TOKEN is set (off: endpoint only).
    pub gateway: bool,
    /// Gateway shards in all; each is held by one instance at a time.
    pub shards: u32,
    /// Where the gateway is found: REST discovery (`GET /gateway/bot`) goes to
    /// `api_base`; this overrides the websocket URL it returns, so tests and
    /// proxies never dial Discord (`[discord] gateway_url`).
    pub gateway_url: Option<String>,
}

impl Default for DiscordSettings {
    fn default() -> Self {
        DiscordSettings {
            api_base: "https://discord.com/api/v10".to_string(),
            application_id: None,
            dev_guild: None,
            guilds: Vec::new(),
            channels: Default::default(),
            gateway: true,
            shards: 1,
            gateway_url: None,
        }
    }
}

/// `[digest.monthly]` or `[digest.quarterly]`: posted on the first working
/// day after the period (weekends and `[calendar] holidays` skipped) at
/// `time` in the default zone, to `channel`.
#[derive(Debug, Clone)]
pub struct PeriodDigest {
    pub at: chrono::NaiveTime,
    /// Default: `[escalation] exec_team_channel`, else `[digest] channel`.
    pub channel: ChannelRef,
}

/// The escalation policy is a domain value the services only read; the
/// config builds and validates it at start.
pub use crate::domain::escalation::EscalationPolicy;

/// A meeting series the config asks for; created at start when missing.
#[derive(Debug, Clone)]
pub struct SeriesSeed {
    pub workspace: String,
    pub title: Title,
    pub cadence: Cadence,
    pub zone: Zone,
    pub channel: ChannelRef,
    pub attendees: Attendees,
    pub remind: LeadTimes,
    pub duration: MeetingLength,
    pub capture: Capture,
    pub shift: crate::domain::holiday::Shift,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: DEFAULT_DATABASE_URL.to_string(),
            grace: Duration::hours(1),
            lease: Duration::seconds(60),
            concurrency: DEFAULT_CONCURRENCY,
            max_lag: Duration::minutes(5),
            default_zone: Zone::utc(),
            default_channel: ChannelRef::general(),
            default_remind: LeadTimes::default(),
            org: Org::default(),
            series: Vec::new(),
            categories: crate::domain::decision::DEFAULT_CATEGORIES
                .iter()
                .map(|(c, r)| (c.to_string(), r.to_string()))
                .collect(),
            zones: BTreeMap::new(),
            chase_at: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
            verify_after: Duration::days(3),
            escalate_overdue_after: crate::domain::escalation::Window::BusinessDays(5),
            approval_chase_after: crate::domain::escalation::Window::Span(Duration::days(2)),
            approval_escalate_after: crate::domain::escalation::Window::Span(Duration::days(7)),
            digest_day: chrono::Weekday::Fri,
            digest_at: chrono::NaiveTime::from_hms_opt(16, 0, 0).unwrap_or_default(),
            digest_channel: ChannelRef::general(),
            digest_monthly: None,
            digest_quarterly: None,
            minutes_always: false,
            escalation: EscalationPolicy::default(),
            working_hours: BTreeMap::new(),
            notify_dm: Default::default(),
            http_listen: "127.0.0.1:8080".to_string(),
            public_url: None,
            holidays: Default::default(),
            discord: DiscordSettings::default(),
            slack: SlackSettings::default(),
        }
    }
}

/// A configuration problem, located in its file where possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub origin: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.origin, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.origin, self.message),
            _ => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    database: RawDatabase,
    #[serde(default)]
    scheduler: RawScheduler,
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    org: BTreeMap<String, Spanned<RawExecutive>>,
    #[serde(default)]
    series: Vec<Spanned<RawSeries>>,
    #[serde(default)]
    decisions: RawDecisions,
    #[serde(default)]
    actions: RawActions,
    #[serde(default)]
    digest: RawDigest,
    #[serde(default)]
    meetings: RawMeetings,
    #[serde(default)]
    escalation: RawEscalation,
    #[serde(default)]
    http: RawHttp,
    #[serde(default)]
    calendar: RawCalendar,
    #[serde(default)]
    discord: RawDiscord,
    #[serde(default)]
    slack: RawSlack,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSlack {
    api_base: Option<Spanned<String>>,
    teams: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    channels: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    listen: Option<Spanned<String>>,
    public_url: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    /// A list of `YYYY-MM-DD` dates, or the path of an .ics file of holidays
    /// (relative to the config file).
    holidays: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDiscord {
    api_base: Option<Spanned<String>>,
    application_id: Option<String>,
    dev_guild: Option<String>,
    guilds: Option<Spanned<Vec<String>>>,
    gateway: Option<bool>,
    shards: Option<Spanned<u32>>,
    gateway_url: Option<Spanned<String>>,
    #[serde(default)]
    channels: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawEscalation {
    path: Option<Spanned<Vec<String>>>,
    routes: Option<Spanned<BTreeMap<String, String>>>,
    deadlines: Option<Spanned<BTreeMap<String, String>>>,
    department_channel: Option<Spanned<String>>,
    exec_team_channel: Option<Spanned<String>>,
    max_repeats: Option<u32>,
    follow_up: Option<Spanned<String>>,
    ack_by_anyone: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDecisions {
    /// category -> role holding its authority
    categories: Option<Spanned<BTreeMap<String, String>>>,
    chase_after: Option<Spanned<String>>,
    escalate_after: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawActions {
    chase_at: Option<Spanned<String>>,
    verify_after: Option<Spanned<String>>,
    escalate_overdue_after: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMeetings {
    minutes: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDigest {
    day: Option<Spanned<String>>,
    time: Option<Spanned<String>>,
    channel: Option<Spanned<String>>,
    monthly: Option<RawPeriodDigest>,
    quarterly: Option<RawPeriodDigest>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPeriodDigest {
    time: Option<Spanned<String>>,
    channel: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawScheduler {
    grace: Option<Spanned<String>>,
    lease: Option<Spanned<String>>,
    concurrency: Option<Spanned<toml::Value>>,
    max_lag: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    timezone: Option<Spanned<String>>,
    channel: Option<Spanned<String>>,
    remind: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExecutive {
    name: String,
    user: Option<String>,
    channel: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    working_hours: Option<Spanned<String>>,
    /// How notices addressed to the executive alone reach them: "channel"
    /// (their channel, the default) or "dm" (a direct message).
    notify: Option<Spanned<String>>,
    /// The executive's Slack user id (U...), beside `user` for Discord.
    slack_user: Option<String>,
    /// A Discord role id standing for the executive.
    discord_role: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeries {
    title: Spanned<String>,
    when: Spanned<String>,
    tz: Option<Spanned<String>>,
    channel: Option<Spanned<String>>,
    #[serde(default)]
    attendees: Vec<Spanned<String>>,
    remind: Option<Spanned<String>>,
    workspace: Option<String>,
    duration: Option<Spanned<String>>,
    capture: Option<Spanned<String>>,
    shift: Option<Spanned<String>>,
}

struct Locator<'a> {
    origin: &'a str,
    text: &'a str,
}

impl Locator<'_> {
    fn at(&self, span: Option<Range<usize>>, message: impl Into<String>) -> ConfigError {
        let (line, column) = match span {
            Some(span) => {
                let before = &self.text[..span.start.min(self.text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before
                    .rfind('\n')
                    .map_or(before.len(), |i| before.len() - i - 1)
                    + 1;
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        ConfigError {
            origin: self.origin.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    fn parse<T>(&self, value: &Spanned<String>, what: &str) -> Result<T, ConfigError>
    where
        T: std::str::FromStr,
        T::Err: fmt::Display,
    {
        value
            .get_ref()
            .parse::<T>()
            .map_err(|e| self.at(Some(value.span()), format!("{what}: {e}")))
    }
}

impl Config {
    /// Load from `path` (or `quorum.toml` when it exists and no path is
    /// given), then apply environment overrides.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars()
            .filter(|(k, _)| k.starts_with("QUORUM_"))
            .collect();
        let chosen: Option<PathBuf> = match path {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|p| p.exists()),
        };
        let mut config = match chosen {
            Some(p) => {
                let origin = p.display().to_string();
                let text = std::fs::read_to_string(&p).map_err(|e| ConfigError {
                    origin: origin.clone(),
                    line: None,
                    column: None,
                    message: format!("cannot read the config file: {e}"),
                })?;
                Config::from_toml(&text, &origin)?
            }
            None => Config::default(),
        };
        config.apply_env(&env)?;
        Ok(config)
    }

    /// Apply `QUORUM_*` overrides ([`ENV_OVERRIDES`]); each applies whatever
    /// the file holds.
    pub fn apply_env(&mut self, env: &[(String, String)]) -> Result<(), ConfigError> {
        for (key, value) in env {
            let fail = |message: String| ConfigError {
                origin: key.clone(),
                line: None,
                column: None,
                message,
            };
            match key.as_str() {
                "QUORUM_DATABASE_URL" => {
                    self.database_url = check_database_url(value).map_err(fail)?
                }
                "QUORUM_SCHEDULER_GRACE" => {
                    self.grace = parse_duration(value).map_err(|e| fail(e.to_string()))?;
                }
                "QUORUM_HTTP_LISTEN" => self.http_listen = check_listen(value).map_err(fail)?,
                "QUORUM_HTTP_PUBLIC_URL" => {
                    self.public_url = Some(check_base(value).map_err(fail)?)
                }
                "QUORUM_DISCORD_API_BASE" => {
                    self.discord.api_base = check_base(value).map_err(fail)?
                }
                "QUORUM_SLACK_API_BASE" => self.slack.api_base = check_base(value).map_err(fail)?,
                "QUORUM_SLACK_TEAMS" => {
                    self.slack.teams =
                        check_ids(split_list(value), is_slack_team, TEAM_ID).map_err(fail)?
                }
                "QUORUM_DISCORD_GUILDS" => {
                    self.discord.guilds =
                        check_ids(split_list(value), is_guild, GUILD_ID).map_err(fail)?
                }
                "QUORUM_SCHEDULER_LEASE" => {
                    self.lease = parse_duration(value)
                        .map_err(|e| e.to_string())
                        .and_then(check_span)
                        .map_err(fail)?;
                }
                "QUORUM_SCHEDULER_CONCURRENCY" => {
                    self.concurrency = check_concurrency(value).map_err(fail)?;
                }
                "QUORUM_SCHEDULER_MAX_LAG" => {
                    self.max_lag = parse_duration(value)
                        .map_err(|e| e.to_string())
                        .and_then(check_span)
                        .map_err(fail)?;
                }
                "QUORUM_DISCORD_GATEWAY_URL" => {
                    self.discord.gateway_url = Some(check_gateway(value).map_err(fail)?);
                }
                "QUORUM_DEFAULTS_TIMEZONE" => {
                    self.default_zone = value
                        .parse()
                        .map_err(|e: crate::domain::zone::ZoneError| fail(e.to_string()))?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Parse and validate a TOML document; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let loc = Locator { origin, text };
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| loc.at(e.span(), e.message().trim().to_string()))?;
        let mut config = Config::default();
        if let Some(url) = &raw.database.url {
            config.database_url = check_database_url(url.get_ref())
                .map_err(|m| loc.at(Some(url.span()), format!("database.url: {m}")))?;
        }
        if let Some(grace) = &raw.scheduler.grace {
            config.grace = parse_duration(grace.get_ref())
                .map_err(|e| loc.at(Some(grace.span()), format!("scheduler.grace: {e}")))?;
        }
        if let Some(lease) = &raw.scheduler.lease {
            config.lease = parse_duration(lease.get_ref())
                .map_err(|e| e.to_string())
                .and_then(check_span)
                .map_err(|e| loc.at(Some(lease.span()), format!("scheduler.lease: {e}")))?;
        }
        if let Some(n) = &raw.scheduler.concurrency {
            let text = match n.get_ref() {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            config.concurrency = check_concurrency(&text)
                .map_err(|e| loc.at(Some(n.span()), format!("scheduler.concurrency: {e}")))?;
        }
        if let Some(lag) = &raw.scheduler.max_lag {
            config.max_lag = parse_duration(lag.get_ref())
                .map_err(|e| e.to_string())
                .and_then(check_span)
                .map_err(|e| loc.at(Some(lag.span()), format!("scheduler.max_lag: {e}")))?;
        }
        if let Some(tz) = &raw.defaults.timezone {
            config.default_zone = loc.parse(tz, "defaults.timezone")?;
        }
        if let Some(channel) = &raw.defaults.channel {
            config.default_channel = loc.parse(channel, "defaults.channel")?;
        }
        if let Some(remind) = &raw.defaults.remind {
            config.default_remind = loc.parse(remind, "defaults.remind")?;
        }
        let mut executives = Vec::new();
        for (role, exec) in &raw.org {
            if !is_role_key(role) {
                return Err(loc.at(
                    Some(exec.span()),
                    format!("org.{role}: role keys are lowercase words such as ceo, cto or vp-eng"),
                ));
            }
            let e = exec.get_ref();
            let channel = match &e.channel {
                Some(c) => Some(
                    loc.parse::<ChannelRef>(c, &format!("org.{role}.channel"))?
                        .to_string(),
                ),
                None => None,
            };
            if let Some(tz) = &e.timezone {
                config.zones.insert(
                    role.clone(),
                    loc.parse(tz, &format!("org.{role}.timezone"))?,
                );
            }
            if let Some(wh) = &e.working_hours {
                let zone = config
                    .zones
                    .get(role)
                    .copied()
                    .unwrap_or(config.default_zone);
                let hours = crate::domain::escalation::WorkingHours::parse(wh.get_ref(), zone)
                    .map_err(|err| {
                        loc.at(Some(wh.span()), format!("org.{role}.working_hours: {err}"))
                    })?;
                config.working_hours.insert(role.clone(), hours);
            }
            if let Some(notify) = &e.notify {
                match notify.get_ref().as_str() {
                    "channel" => {}
                    "dm" => {
                        config.notify_dm.insert(role.clone());
                    }
                    other => {
                        return Err(loc.at(
                            Some(notify.span()),
                            format!(
                                "org.{role}.notify: `{other}` is not a way to notify; use \"channel\" or \"dm\""
                            ),
                        ));
                    }
                }
            }
            executives.push(Executive {
                role: role.clone(),
                name: e.name.clone(),
                user: e.user.clone(),
                slack_user: e.slack_user.clone(),
                discord_role: e.discord_role.clone(),
                channel,
            });
        }
        config.org = Org::new(executives);
        config.digest_channel = config.default_channel.clone();
        if let Some(cats) = &raw.decisions.categories {
            let mut list = Vec::new();
            for (cat, role) in cats.get_ref() {
                let key = crate::domain::decision::normalize_category(cat);
                if key.is_empty() || !is_role_key(&key) || !is_role_key(role) {
                    return Err(loc.at(
                        Some(cats.span()),
                        format!("decisions.categories: `{cat} = \"{role}\"` must map a category word to a role key such as cto"),
                    ));
                }
                list.push((key, role.clone()));
            }
            if list.is_empty() {
                return Err(loc.at(
                    Some(cats.span()),
                    "decisions.categories is empty; list at least one category",
                ));
            }
            config.categories = list;
        }
        if let Some(t) = &raw.actions.chase_at {
            config.chase_at = parse_clock(t.get_ref())
                .map_err(|m| loc.at(Some(t.span()), format!("actions.chase_at: {m}")))?;
        }
        if let Some(d) = &raw.actions.verify_after {
            config.verify_after = parse_duration(d.get_ref())
                .map_err(|e| loc.at(Some(d.span()), format!("actions.verify_after: {e}")))?;
        }
        for (value, name, slot) in [
            (
                &raw.actions.escalate_overdue_after,
                "actions.escalate_overdue_after",
                &mut config.escalate_overdue_after,
            ),
            (
                &raw.decisions.chase_after,
                "decisions.chase_after",
                &mut config.approval_chase_after,
            ),
            (
                &raw.decisions.escalate_after,
                "decisions.escalate_after",
                &mut config.approval_escalate_after,
            ),
        ] {
            if let Some(v) = value {
                *slot = v
                    .get_ref()
                    .parse()
                    .map_err(|e| loc.at(Some(v.span()), format!("{name}: {e}")))?;
            }
        }
        if let Some(day) = &raw.digest.day {
            config.digest_day = day.get_ref().parse::<chrono::Weekday>().map_err(|_| {
                loc.at(
                    Some(day.span()),
                    format!("digest.day: `{}` is not a weekday", day.get_ref()),
                )
            })?;
        }
        if let Some(m) = &raw.meetings.minutes {
            config.minutes_always = match m.get_ref().as_str() {
                "always" => true,
                "recorded" => false,
                other => {
                    return Err(loc.at(
                        Some(m.span()),
                        format!(
                            "meetings.minutes: `{other}` is not a choice; use \"recorded\" (post minutes when something was recorded) or \"always\""
                        ),
                    ));
                }
            };
        }
        if let Some(t) = &raw.digest.time {
            config.digest_at = parse_clock(t.get_ref())
                .map_err(|m| loc.at(Some(t.span()), format!("digest.time: {m}")))?;
        }
        if let Some(c) = &raw.digest.channel {
            config.digest_channel = loc.parse(c, "digest.channel")?;
        }
        let e = &raw.escalation;
        let policy = &mut config.escalation;
        if let Some(path) = &e.path {
            let mut levels = Vec::new();
            for l in path.get_ref() {
                levels.push(
                    l.parse().map_err(|err| {
                        loc.at(Some(path.span()), format!("escalation.path: {err}"))
                    })?,
                );
            }
            if levels.is_empty() {
                return Err(loc.at(
                    Some(path.span()),
                    "escalation.path is empty; list at least one level",
                ));
            }
            policy.path = levels;
        }
        if let Some(routes) = &e.routes {
            for (topic, role) in routes.get_ref() {
                if !is_role_key(role) {
                    return Err(loc.at(Some(routes.span()), format!("escalation.routes: `{role}` (for {topic}) is not a role key such as cfo")));
                }
                let topic = crate::domain::decision::normalize_category(topic);
                policy.routes.retain(|(t, _)| *t != topic);
                policy.routes.push((topic, role.clone()));
            }
        }
        if let Some(deadlines) = &e.deadlines {
            for (sev, window) in deadlines.get_ref() {
                let sev: crate::domain::escalation::Severity = sev.parse().map_err(|err| {
                    loc.at(
                        Some(deadlines.span()),
                        format!("escalation.deadlines: {err}"),
                    )
                })?;
                let window: crate::domain::escalation::Window = window.parse().map_err(|err| {
                    loc.at(
                        Some(deadlines.span()),
                        format!("escalation.deadlines.{sev}: {err}"),
                    )
                })?;
                policy.windows.retain(|(s, _)| *s != sev);
                policy.windows.push((sev, window));
            }
        }
        if let Some(c) = &e.department_channel {
            policy.department_channel = Some(
                loc.parse::<ChannelRef>(c, "escalation.department_channel")?
                    .to_string(),
            );
        }
        if let Some(c) = &e.exec_team_channel {
            policy.exec_team_channel = Some(
                loc.parse::<ChannelRef>(c, "escalation.exec_team_channel")?
                    .to_string(),
            );
        }
        if let Some(n) = e.max_repeats {
            policy.max_repeats = n;
        }
        for (raw_period, name) in [
            (&raw.digest.monthly, "monthly"),
            (&raw.digest.quarterly, "quarterly"),
        ] {
            let Some(p) = raw_period else { continue };
            let at = match &p.time {
                Some(t) => parse_clock(t.get_ref())
                    .map_err(|m| loc.at(Some(t.span()), format!("digest.{name}.time: {m}")))?,
                None => chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
            };
            let channel = match &p.channel {
                Some(c) => loc.parse(c, &format!("digest.{name}.channel"))?,
                None => match &policy.exec_team_channel {
                    Some(c) => c.parse().unwrap_or_else(|_| config.digest_channel.clone()),
                    None => config.digest_channel.clone(),
                },
            };
            let digest = Some(PeriodDigest { at, channel });
            match name {
                "monthly" => config.digest_monthly = digest,
                _ => config.digest_quarterly = digest,
            }
        }
        if let Some(f) = &e.follow_up {
            policy.follow_up = parse_duration(f.get_ref())
                .map_err(|err| loc.at(Some(f.span()), format!("escalation.follow_up: {err}")))?;
        }
        if let Some(a) = e.ack_by_anyone {
            policy.ack_by_anyone = a;
        }
        if let Err(m) = config.check_path() {
            let span = e.path.as_ref().map(|p| p.span());
            return Err(loc.at(span, format!("escalation.path: {m}")));
        }
        if let Some(u) = &raw.http.public_url {
            config.public_url = Some(
                check_base(u.get_ref())
                    .map_err(|m| loc.at(Some(u.span()), format!("http.public_url: {m}")))?,
            );
        }
        if let Some(h) = &raw.calendar.holidays {
            config.holidays = holidays(h.get_ref(), origin)
                .map_err(|m| loc.at(Some(h.span()), format!("calendar.holidays: {m}")))?;
        }
        if let Some(l) = &raw.http.listen {
            config.http_listen = check_listen(l.get_ref())
                .map_err(|m| loc.at(Some(l.span()), format!("http.listen: {m}")))?;
        }
        if let Some(g) = &raw.discord.gateway_url {
            config.discord.gateway_url = Some(
                check_gateway(g.get_ref())
                    .map_err(|m| loc.at(Some(g.span()), format!("discord.gateway_url: {m}")))?,
            );
        }
        if let Some(b) = &raw.discord.api_base {
            config.discord.api_base = check_base(b.get_ref())
                .map_err(|m| loc.at(Some(b.span()), format!("discord.api_base: {m}")))?;
        }
        if let Some(g) = &raw.discord.guilds {
            config.discord.guilds = check_ids(g.get_ref().clone(), is_guild, GUILD_ID)
                .map_err(|m| loc.at(Some(g.span()), format!("discord.guilds: {m}")))?;
        }
        if let Some(t) = &raw.slack.teams {
            config.slack.teams = check_ids(t.get_ref().clone(), is_slack_team, TEAM_ID)
                .map_err(|m| loc.at(Some(t.span()), format!("slack.teams: {m}")))?;
        }
        config.discord.application_id = raw.discord.application_id.clone();
        config.discord.dev_guild = raw.discord.dev_guild.clone();
        if let Some(g) = raw.discord.gateway {
            config.discord.gateway = g;
        }
        if let Some(n) = &raw.discord.shards {
            if !(1..=1024).contains(n.get_ref()) {
                return Err(loc.at(
                    Some(n.span()),
                    format!(
                        "discord.shards: {} is out of range; use 1 (the default) up to 1024",
                        n.get_ref()
                    ),
                ));
            }
            config.discord.shards = *n.get_ref();
        }
        if let Some(b) = &raw.slack.api_base {
            config.slack.api_base = check_base(b.get_ref())
                .map_err(|m| loc.at(Some(b.span()), format!("slack.api_base: {m}")))?;
        }
        for (name, id) in &raw.slack.channels {
            config
                .slack
                .channels
                .insert(name.to_lowercase(), id.clone());
        }
        for (name, id) in &raw.discord.channels {
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(loc.at(
                    None,
                    format!("discord.channels.{name}: `{id}` is not a Discord channel id (digits)"),
                ));
            }
            config
                .discord
                .channels
                .insert(name.to_lowercase(), id.clone());
        }
        for (i, s) in raw.series.iter().enumerate() {
            let n = i + 1;
            let s = s.get_ref();
            let title: Title = loc.parse(&s.title, &format!("series #{n} title"))?;
            let cadence: Cadence = loc.parse(&s.when, &format!("series #{n} ({title}) when"))?;
            let zone = match &s.tz {
                Some(tz) => loc.parse(tz, &format!("series #{n} ({title}) tz"))?,
                None => config.default_zone,
            };
            let channel = match &s.channel {
                Some(c) => loc.parse(c, &format!("series #{n} ({title}) channel"))?,
                None => config.default_channel.clone(),
            };
            let remind = match &s.remind {
                Some(r) => loc.parse(r, &format!("series #{n} ({title}) remind"))?,
                None => config.default_remind.clone(),
            };
            let duration = match &s.duration {
                Some(d) => loc.parse(d, &format!("series #{n} ({title}) duration"))?,
                None => MeetingLength::default(),
            };
            let capture = match &s.capture {
                Some(c) => loc.parse(c, &format!("series #{n} ({title}) capture"))?,
                None => Capture::default(),
            };
            let mut names = Vec::new();
            for a in &s.attendees {
                let one: Attendees = loc.parse(a, &format!("series #{n} ({title}) attendees"))?;
                names.extend(one.iter().map(str::to_string));
            }
            let attendees: Attendees = names.join(",").parse().map_err(|e| {
                loc.at(
                    Some(s.title.span()),
                    format!("series #{n} ({title}) attendees: {e}"),
                )
            })?;
            let shift = match &s.shift {
                Some(v) => loc.parse(v, &format!("series #{n} ({title}) shift"))?,
                None => Default::default(),
            };
            config.series.push(SeriesSeed {
                workspace: s
                    .workspace
                    .clone()
                    .unwrap_or_else(|| crate::CONSOLE_WORKSPACE.to_string()),
                title,
                cadence,
                zone,
                channel,
                attendees,
                remind,
                duration,
                capture,
                shift,
            });
        }
        Ok(config)
    }
}

/// The most holidays a config may list (a century of public holidays).
const MAX_HOLIDAYS: usize = 5_000;
/// The largest holiday .ics file read.
const MAX_HOLIDAY_FILE: u64 = 4 * 1024 * 1024;

/// `[calendar] holidays`: a list of dates, or an .ics file (relative to the
/// config file) whose events' start dates are the holidays.
fn holidays(value: &toml::Value, origin: &str) -> Result<crate::domain::holiday::Holidays, String> {
    let parse = |t: &str| {
        chrono::NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d").map_err(|_| {
            format!("`{t}` is not a date; write dates as YYYY-MM-DD, such as 2026-12-25")
        })
    };
    let dates: Vec<chrono::NaiveDate> = match value {
        toml::Value::Array(items) => items
            .iter()
            .map(|v| match v {
                toml::Value::String(t) => parse(t),
                other => Err(format!(
                    "`{other}` is not a date; write dates as \"YYYY-MM-DD\""
                )),
            })
            .collect::<Result<_, _>>()?,
        toml::Value::String(path) => {
            let path = Path::new(origin)
                .parent()
                .map_or_else(|| PathBuf::from(path), |dir| dir.join(path));
            let size = std::fs::metadata(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?
                .len();
            if size > MAX_HOLIDAY_FILE {
                return Err(format!("{} is larger than 4 MiB", path.display()));
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            crate::calendar::holidays_from_ics(&text)
                .map_err(|e| format!("{}: {e}", path.display()))?
        }
        _ => {
            return Err(
                "use a list of dates such as [\"2026-12-25\"] or the path of an .ics file"
                    .to_string(),
            );
        }
    };
    if dates.len() > MAX_HOLIDAYS {
        return Err(format!("more than {MAX_HOLIDAYS} holidays"));
    }
    Ok(crate::domain::holiday::Holidays::new(dates))
}

fn check_listen(text: &str) -> Result<String, String> {
    text.parse::<std::net::SocketAddr>()
        .map(|_| text.to_string())
        .map_err(|_| {
            format!("`{text}` is not an address to listen on; use HOST:PORT such as 127.0.0.1:8080")
        })
}

fn check_base(text: &str) -> Result<String, String> {
    if text.starts_with("http://") || text.starts_with("https://") {
        Ok(text.trim_end_matches('/').to_string())
    } else {
        Err(format!("`{text}` is not an http(s) URL"))
    }
}

fn check_gateway(text: &str) -> Result<String, String> {
    if text.starts_with("ws://") || text.starts_with("wss://") {
        Ok(text.trim_end_matches('/').to_string())
    } else {
        Err(format!("`{text}` is not a websocket URL (ws:// or wss://)"))
    }
}

const TEAM_ID: &str = "a Slack team id (T followed by capitals and digits, such as T0123ABCD)";
const GUILD_ID: &str = "a Discord server (guild) id (17 to 20 digits)";

/// `T0123ABC, T0456DEF` -> the ids, trimmed, empty ones dropped.
fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn check_ids(ids: Vec<String>, check: fn(&str) -> bool, what: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let id = id.trim().to_string();
        if !check(&id) {
            return Err(format!("`{id}` is not {what}"));
        }
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

fn parse_clock(text: &str) -> Result<chrono::NaiveTime, String> {
    chrono::NaiveTime::parse_from_str(text.trim(), "%H:%M")
        .map_err(|_| format!("`{text}` is not a time of day; use HH:MM such as 09:00"))
}

impl Config {
    /// The role holding the authority of `category`, if it is a category.
    pub fn authority_of(&self, category: &str) -> Option<&str> {
        self.categories
            .iter()
            .find(|(c, _)| c == category)
            .map(|(_, r)| r.as_str())
    }

    /// Whether `role` is one the config gives someone: an `[org.<role>]`
    /// entry, a decision category's authority, or an escalation route's
    /// executive. Its holders are the entry's chat users and platform role,
    /// and in the console the user named after it.
    pub fn is_known_role(&self, role: &str) -> bool {
        self.org.get(role).is_some()
            || self.categories.iter().any(|(_, r)| r == role)
            || self.escalation.routes.iter().any(|(_, r)| r == role)
    }

    /// Every level of the escalation path has someone who can act on it, and
    /// every severity has a level (the board takes only critical and high).
    fn check_path(&self) -> Result<(), String> {
        use crate::domain::escalation::{BOARD, BOARD_DEPUTY, Level, Severity, steps};
        let path = &self.escalation.path;
        if steps(path, BOARD_DEPUTY, Severity::Low).is_empty() {
            return Err(
                "medium and low escalations never reach the board, so they would have no level; add one before board, such as exec-team"
                    .to_string(),
            );
        }
        if self.escalation.ack_by_anyone {
            return Ok(());
        }
        for level in path {
            let (name, actable) = match level {
                Level::Department | Level::Channel(_) => continue,
                Level::ExecTeam => (
                    "exec-team".to_string(),
                    self.org.roles().any(|r| r != BOARD)
                        || self.categories.iter().any(|(_, r)| r != BOARD),
                ),
                // Topics without a route go to the CTO review step.
                Level::Relevant => ("relevant".to_string(), self.is_known_role("cto")),
                Level::Role(r) => (
                    r.clone(),
                    self.is_known_role(r) || (r == BOARD && self.is_known_role(BOARD_DEPUTY)),
                ),
            };
            if !actable {
                let role = if name == "relevant" {
                    "cto"
                } else {
                    name.as_str()
                };
                return Err(format!(
                    "nobody can act at level `{name}`; add [org.{role}] with the user who holds it, or remove the level"
                ));
            }
        }
        Ok(())
    }

    /// The zone of an owner: their configured zone or the workspace default.
    pub fn zone_of(&self, owner: &str) -> Zone {
        self.zones.get(owner).copied().unwrap_or(self.default_zone)
    }

    /// Roles `user` holds: roles whose configured chat user is `user`, and
    /// the role named `user` itself (so the console's `--as cto` acts as CTO).
    pub fn roles_of(&self, user: &str) -> Vec<String> {
        let mut roles: Vec<String> = self
            .org
            .roles()
            .filter(|r| {
                self.org.get(r).is_some_and(|e| {
                    e.user.as_deref() == Some(user) || e.slack_user.as_deref() == Some(user)
                })
            })
            .map(str::to_string)
            .collect();
        let known = self.is_known_role(user) || user == crate::domain::escalation::BOARD;
        if known && !roles.iter().any(|r| r == user) {
            roles.push(user.to_string());
        }
        roles
    }

    /// Who to ping for a role: its Discord and Slack user ids, and its
    /// Discord role as `&id`; each platform's adapter pings the ids that are its own.
    pub fn user_of(&self, role: &str) -> Vec<String> {
        self.org
            .get(role)
            .map(|e| {
                e.user
                    .iter()
                    .chain(e.slack_user.iter())
                    .cloned()
                    .chain(e.discord_role.iter().map(|r| format!("&{r}")))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Roles an actor holds: by user (see [`Config::roles_of`]) and by the
    /// platform roles they have (`[org.cfo] discord_role = "..."`).
    pub fn roles_for(&self, actor: &crate::domain::org::Actor) -> Vec<String> {
        let mut roles = self.roles_of(&actor.user);
        for role in self.org.roles() {
            let by_platform = self
                .org
                .get(role)
                .and_then(|e| e.discord_role.as_ref())
                .is_some_and(|r| actor.platform_roles.contains(r));
            if by_platform && !roles.iter().any(|x| x == role) {
                roles.push(role.to_string());
            }
        }
        roles
    }

    /// Where a notice addressed to `who` alone goes in `workspace`: a direct
    /// message (see [`crate::domain::direct`]) when they chose `notify =
    /// "dm"` and have a chat user id of that workspace's platform, otherwise
    /// their channel (see [`Config::warnings`] for the executives this
    /// leaves on their channel).
    pub fn personal_channel(&self, workspace: &str, who: &str) -> String {
        let channel = self.channel_of(who);
        if !self.notify_dm.contains(who) {
            return channel;
        }
        let ids = self.direct_ids(workspace, who);
        if ids.is_empty() {
            return channel;
        }
        crate::domain::direct::target(who, &ids, &channel)
    }

    /// The chat user ids `who` can get a direct message at in `workspace`:
    /// Slack's for a Slack team, Discord's for a server or DM, either for
    /// the config's own workspaces (the adapter sending it picks its own).
    fn direct_ids(&self, workspace: &str, who: &str) -> Vec<String> {
        use crate::domain::workspace::Kind;
        let Some(e) = self.org.get(who) else {
            return Vec::new();
        };
        let slack = e
            .slack_user
            .iter()
            .filter(|u| crate::chat::slack::is_user_id(u));
        let discord = e
            .user
            .iter()
            .filter(|u| crate::chat::discord::is_snowflake(u));
        match Kind::of(workspace) {
            Kind::Slack => slack.cloned().collect(),
            Kind::Guild | Kind::Direct => discord.cloned().collect(),
            Kind::Local => slack.chain(discord).cloned().collect(),
        }
    }

    /// What is valid but probably not meant, one line each: an executive
    /// with `notify = "dm"` and no chat user id to send it to.
    pub fn warnings(&self) -> Vec<String> {
        self.notify_dm
            .iter()
            .filter(|role| self.direct_ids("", role).is_empty())
            .map(|role| {
                format!(
                    "org.{role}: notify = \"dm\" needs a chat user id (user = a Discord user id, slack_user = a Slack user id); until then its notices go to #{}",
                    self.channel_of(role)
                )
            })
            .collect()
    }

    pub fn channel_of(&self, who: &str) -> String {
        self.org
            .get(who)
            .and_then(|e| e.channel.clone())
            .unwrap_or_else(|| self.default_channel.to_string())
    }
}

fn check_database_url(url: &str) -> Result<String, String> {
    if url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://")
    {
        Ok(url.to_string())
    } else {
        Err(format!(
            "`{url}` is not a database url; use sqlite://quorum.db or postgres://user:password@host/database"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config, String> {
        Config::from_toml(text, "q.toml").map_err(|e| e.to_string())
    }

    #[test]
    fn monthly_and_quarterly_updates_are_on_when_their_section_is_present() {
        let c = load("").unwrap();
        assert!(c.digest_monthly.is_none() && c.digest_quarterly.is_none());
        let c = load(
            "[escalation]\nexec_team_channel = \"exec\"\n[digest.monthly]\n[digest.quarterly]\ntime = \"10:30\"\nchannel = \"board\"\n",
        )
        .unwrap();
        let m = c.digest_monthly.unwrap();
        assert_eq!(
            (m.at.to_string().as_str(), m.channel.as_str()),
            ("09:00:00", "exec")
        );
        let q = c.digest_quarterly.unwrap();
        assert_eq!(
            (q.at.to_string().as_str(), q.channel.as_str()),
            ("10:30:00", "board")
        );
        let e = load("[digest.monthly]\ntime = \"9am\"\n").unwrap_err();
        assert!(e.starts_with("q.toml:2:"), "{e}");
        assert!(
            e.contains("digest.monthly.time: `9am` is not a time of day"),
            "{e}"
        );
        let e = load("[digest.quarterly]\nday = \"monday\"\n").unwrap_err();
        assert!(e.contains("unknown field `day`"), "{e}");
    }

    #[test]
    fn the_example_config_in_deploy_is_valid() {
        let text = include_str!("../deploy/quorum.example.toml");
        let c = Config::from_toml(text, "quorum.example.toml").unwrap();
        assert!(
            c.series.len() >= 10,
            "the example holds the seed's whole rhythm"
        );
        assert!(c.org.get("cto").is_some());
    }

    #[test]
    fn meetings_minutes_and_series_duration_and_capture_are_read_and_checked() {
        let c = Config::from_toml(
            "[meetings]\nminutes = \"always\"\n[[series]]\ntitle = \"Ops\"\nwhen = \"daily at 10:00\"\nduration = \"45m\"\ncapture = \"channel\"\n",
            "q.toml",
        )
        .unwrap();
        assert!(c.minutes_always);
        assert_eq!(c.series[0].duration.to_string(), "45m");
        assert_eq!(c.series[0].capture, Capture::Channel);
        let d = Config::from_toml(
            "[[series]]\ntitle = \"Ops\"\nwhen = \"daily at 10:00\"\n",
            "q.toml",
        )
        .unwrap();
        assert!(!d.minutes_always);
        assert_eq!(d.series[0].duration, MeetingLength::default());
        let e = load("[meetings]\nminutes = \"sometimes\"\n").unwrap_err();
        assert!(
            e.starts_with("q.toml:2:11: meetings.minutes: `sometimes` is not a choice"),
            "{e}"
        );
        let e = load("[[series]]\ntitle = \"Ops\"\nwhen = \"daily at 10:00\"\nduration = \"2m\"\n")
            .unwrap_err();
        assert!(
            e.starts_with(
                "q.toml:4:12: series #1 (Ops) duration: a meeting of `2m` is out of range"
            ),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_key_names_the_line() {
        let e = load("[database]\nurl = \"sqlite://x.db\"\ncolour = 1\n").unwrap_err();
        assert!(e.starts_with("q.toml:3:1: unknown field `colour`"), "{e}");
    }

    #[test]
    fn a_bad_cadence_names_the_line_and_the_series() {
        let e = load("[[series]]\ntitle = \"Ops\"\nwhen = \"fortnightly on monday at 10:00\"\n")
            .unwrap_err();
        assert!(
            e.starts_with("q.toml:3:8: series #1 (Ops) when: `fortnightly` is not a cadence"),
            "{e}"
        );
    }

    #[test]
    fn absurd_durations_in_the_file_are_errors_not_panics() {
        for (text, key) in [
            (
                "[scheduler]\ngrace = \"10000000000000000s\"\n",
                "scheduler.grace",
            ),
            (
                "[scheduler]\nlease = \"10000000000000000s\"\n",
                "scheduler.lease",
            ),
            (
                "[scheduler]\nmax_lag = \"99999999999999999999m\"\n",
                "scheduler.max_lag",
            ),
            (
                "[escalation.deadlines]\nlow = \"10000000000000000s\"\n",
                "escalation.deadlines.low",
            ),
            (
                "[escalation.deadlines]\nlow = \"4294967295bd\"\n",
                "escalation.deadlines.low",
            ),
            (
                "[escalation]\nfollow_up = \"10000000000000000s\"\n",
                "escalation.follow_up",
            ),
        ] {
            let e = load(text).unwrap_err();
            assert!(e.contains(key) && !e.contains('\n'), "{text}: {e}");
        }
    }

    #[test]
    fn delivery_settings_are_bounded_and_located() {
        let c = load("[scheduler]\nconcurrency = 64\nmax_lag = \"2m\"\n[discord]\ngateway_url = \"ws://127.0.0.1:9\"\n").unwrap();
        assert_eq!(c.concurrency, 64);
        assert_eq!(c.max_lag, Duration::minutes(2));
        assert_eq!(c.discord.gateway_url.as_deref(), Some("ws://127.0.0.1:9"));
        assert_eq!(load("").unwrap().concurrency, DEFAULT_CONCURRENCY);
        let e = load("[scheduler]\nconcurrency = 5000\n").unwrap_err();
        assert!(e.contains("q.toml:2:15: scheduler.concurrency"), "{e}");
        let e = load("[scheduler]\nlease = \"0s\"\n").unwrap_err();
        assert!(e.contains("between 1s and 1d"), "{e}");
        let mut c = Config::default();
        assert!(
            c.apply_env(&[("QUORUM_SCHEDULER_CONCURRENCY".into(), "-1".into())])
                .is_err()
        );
        c.apply_env(&[("QUORUM_SCHEDULER_CONCURRENCY".into(), "8".into())])
            .unwrap();
        assert_eq!(c.concurrency, 8);
    }

    #[test]
    fn holidays_a_public_url_and_a_shift_are_read_and_bad_ones_named() {
        let c = load("[http]\npublic_url = \"https://q.example.com/\"\n[calendar]\nholidays = [\"2026-12-25\"]\n[[series]]\ntitle = \"Review\"\nwhen = \"monthly on day 27 at 10:00\"\nshift = \"next-weekday\"\n").unwrap();
        assert_eq!(c.public_url.as_deref(), Some("https://q.example.com"));
        assert!(
            c.holidays
                .contains(chrono::NaiveDate::from_ymd_opt(2026, 12, 25).unwrap())
        );
        assert_eq!(c.series[0].shift.to_string(), "next-weekday");
        let e = load("[calendar]\nholidays = [\"2026-13-01\"]\n").unwrap_err();
        assert!(
            e.contains("q.toml:2:12: calendar.holidays: `2026-13-01` is not a date"),
            "{e}"
        );
        let e = load("[calendar]\nholidays = \"no-such-file.ics\"\n").unwrap_err();
        assert!(
            e.contains("calendar.holidays: cannot read no-such-file.ics"),
            "{e}"
        );
        let e = load("[[series]]\ntitle = \"R\"\nwhen = \"daily at 10:00\"\nshift = \"later\"\n")
            .unwrap_err();
        assert!(
            e.contains("series #1 (R) shift: `later` is not a shift"),
            "{e}"
        );
        let e = load("[http]\npublic_url = \"quorum.example.com\"\n").unwrap_err();
        assert!(
            e.contains("http.public_url: `quorum.example.com` is not an http(s) URL"),
            "{e}"
        );
    }

    #[test]
    fn holidays_may_come_from_an_ics_file_next_to_the_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("holidays.ics"),
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART;VALUE=DATE:20270106\r\nSUMMARY:Epiphany\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        )
        .unwrap();
        let origin = dir.path().join("quorum.toml");
        let c = Config::from_toml(
            "[calendar]\nholidays = \"holidays.ics\"\n",
            &origin.display().to_string(),
        )
        .unwrap();
        assert!(
            c.holidays
                .contains(chrono::NaiveDate::from_ymd_opt(2027, 1, 6).unwrap())
        );
        assert_eq!(c.holidays.len(), 1);
    }

    #[test]
    fn a_bad_zone_grace_and_url_are_each_reported() {
        let e = load("[defaults]\ntimezone = \"Europe/Madird\"\n").unwrap_err();
        assert!(
            e.contains("q.toml:2:12: defaults.timezone: `Europe/Madird` is not an IANA time zone"),
            "{e}"
        );
        let e = load("[scheduler]\ngrace = \"soon\"\n").unwrap_err();
        assert!(
            e.contains("q.toml:2:9: scheduler.grace: `soon` is not a duration"),
            "{e}"
        );
        let e = load("[database]\nurl = \"mysql://x\"\n").unwrap_err();
        assert!(
            e.contains("database.url: `mysql://x` is not a database url"),
            "{e}"
        );
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut c = load("[database]\nurl = \"sqlite://a.db\"\n").unwrap();
        c.apply_env(&[("QUORUM_DATABASE_URL".into(), "sqlite://b.db".into())])
            .unwrap();
        assert_eq!(c.database_url, "sqlite://b.db");
        let e = c
            .apply_env(&[("QUORUM_SCHEDULER_GRACE".into(), "x".into())])
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("QUORUM_SCHEDULER_GRACE: `x` is not a duration")
        );
    }

    /// A file that sets every value an override can change, to other values.
    const FULL_FILE: &str = "[database]\nurl = \"sqlite://file.db\"\n[scheduler]\ngrace = \"2h\"\nlease = \"30s\"\nconcurrency = 16\nmax_lag = \"10m\"\n[http]\nlisten = \"127.0.0.1:1\"\n[defaults]\ntimezone = \"Europe/Madrid\"\n[discord]\napi_base = \"http://file/discord\"\ngateway_url = \"ws://file\"\nguilds = [\"100000000000000001\"]\n[slack]\napi_base = \"http://file/slack\"\nteams = [\"T0001FILE\"]\n";

    /// An override, a value for it, and what it must change.
    type Case = (&'static str, &'static str, fn(&Config) -> bool);

    fn overrides() -> Vec<Case> {
        vec![
            ("QUORUM_DATABASE_URL", "sqlite://env.db", |c| {
                c.database_url == "sqlite://env.db"
            }),
            ("QUORUM_SCHEDULER_GRACE", "3h", |c| {
                c.grace == Duration::hours(3)
            }),
            ("QUORUM_SCHEDULER_LEASE", "45s", |c| {
                c.lease == Duration::seconds(45)
            }),
            ("QUORUM_SCHEDULER_CONCURRENCY", "7", |c| c.concurrency == 7),
            ("QUORUM_SCHEDULER_MAX_LAG", "7m", |c| {
                c.max_lag == Duration::minutes(7)
            }),
            ("QUORUM_HTTP_LISTEN", "127.0.0.1:2", |c| {
                c.http_listen == "127.0.0.1:2"
            }),
            ("QUORUM_HTTP_PUBLIC_URL", "https://env.example", |c| {
                c.public_url.as_deref() == Some("https://env.example")
            }),
            ("QUORUM_DISCORD_API_BASE", "http://env/discord", |c| {
                c.discord.api_base == "http://env/discord"
            }),
            ("QUORUM_DISCORD_GATEWAY_URL", "ws://env", |c| {
                c.discord.gateway_url.as_deref() == Some("ws://env")
            }),
            (
                "QUORUM_DISCORD_GUILDS",
                "200000000000000001, 200000000000000002",
                |c| c.discord.guilds == ["200000000000000001", "200000000000000002"],
            ),
            ("QUORUM_SLACK_API_BASE", "http://env/slack", |c| {
                c.slack.api_base == "http://env/slack"
            }),
            ("QUORUM_SLACK_TEAMS", "T0002ENV", |c| {
                c.slack.teams == ["T0002ENV"]
            }),
            ("QUORUM_DEFAULTS_TIMEZONE", "Asia/Tokyo", |c| {
                c.default_zone.to_string() == "Asia/Tokyo"
            }),
        ]
    }

    #[test]
    fn every_documented_environment_override_applies_whatever_the_file_holds() {
        let table = overrides();
        let names: Vec<&str> = table.iter().map(|(k, _, _)| *k).collect();
        assert_eq!(names, ENV_OVERRIDES, "one case per override");
        for (key, value, applied) in table {
            for file in [FULL_FILE, ""] {
                let mut c = load(file).unwrap();
                assert!(!applied(&c), "{key}: the file alone already has the value");
                c.apply_env(&[(key.to_string(), value.to_string())])
                    .unwrap_or_else(|e| panic!("{key}: {e}"));
                assert!(applied(&c), "{key}={value} did not apply over {file:?}");
            }
            let mut c = Config::default();
            let e = c
                .apply_env(&[(key.to_string(), "\u{1}bad value".to_string())])
                .unwrap_err();
            assert!(e.to_string().starts_with(key), "{key}: {e}");
        }
    }

    #[test]
    fn the_readme_lists_exactly_the_environment_overrides() {
        let readme = include_str!("../README.md");
        let start = readme
            .find("Environment overrides:")
            .expect("the README lists the overrides");
        let end = readme[start..]
            .find("Logs go")
            .map_or(readme.len(), |e| start + e);
        let listed: Vec<&str> = readme[start..end]
            .split('`')
            .filter(|w| w.starts_with("QUORUM_"))
            .collect();
        let mut want = ENV_OVERRIDES.to_vec();
        want.sort_unstable();
        let mut got = listed.clone();
        got.sort_unstable();
        assert_eq!(got, want);
    }

    #[test]
    fn a_path_level_nobody_can_act_at_is_rejected_naming_the_level() {
        let e = load("[escalation]\npath = [\"department\", \"vp-eng\"]\n").unwrap_err();
        assert_eq!(
            e,
            "q.toml:2:8: escalation.path: nobody can act at level `vp-eng`; add [org.vp-eng] with the user who holds it, or remove the level"
        );
        let c = load(
            "[escalation]\npath = [\"department\", \"vp-eng\"]\n[org.vp-eng]\nname = \"VP Eng\"\n",
        );
        assert!(c.is_ok(), "{c:?}");
    }

    #[test]
    fn a_path_that_leaves_medium_escalations_without_a_level_is_rejected() {
        let e = load("[escalation]\npath = [\"board\"]\n").unwrap_err();
        assert!(
            e.starts_with(
                "q.toml:2:8: escalation.path: medium and low escalations never reach the board"
            ),
            "{e}"
        );
        assert!(load("[escalation]\npath = [\"exec-team\", \"board\"]\n").is_ok());
    }

    #[test]
    fn the_board_step_is_actable_through_the_ceo() {
        // No [org.board], and nothing names the ceo: nobody at the board.
        let without_ceo = "[decisions.categories]\nbudget = \"cfo\"\n[escalation]\npath = [\"cfo\", \"board\"]\n[escalation.routes]\nstrategy = \"cfo\"\nmarket = \"cfo\"\nrisk = \"cfo\"\n";
        let e = load(without_ceo).unwrap_err();
        assert!(e.contains("nobody can act at level `board`"), "{e}");
        assert!(load(&format!("{without_ceo}[org.ceo]\nname = \"CEO\"\n")).is_ok());
        assert!(load(&format!("{without_ceo}[org.board]\nname = \"Board\"\n")).is_ok());
    }

    #[test]
    fn a_bad_role_key_is_rejected() {
        let e = load("[org.CTO]\nname = \"Ana\"\n").unwrap_err();
        assert!(e.contains("org.CTO: role keys are lowercase"), "{e}");
    }
}
