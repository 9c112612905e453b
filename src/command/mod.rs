//! The text grammar shared by the console and the Slack adapter, turned into a
//! platform-neutral [`Command`]. Discord builds the same `Command` from its
//! typed options through [`from_options`].
//!
//! ```text
//! /meeting add title:"Exec team" when:"monthly on the first monday at 10:00" tz:Europe/Madrid
//! ```
//! A line is a command path (`/meeting add`) followed by `name:value`
//! options; a value with spaces is quoted with "..." (typographic quotes
//! work too). Option names are case-insensitive; each may appear once.

pub mod action;
pub mod dashboard;
pub mod decision;
pub mod escalation;
pub mod meeting;
pub mod risk;

use crate::error::{Error, Result, user_err};

pub use action::ActionCommand;
pub use decision::DecisionCommand;
pub use escalation::EscalationCommand;
pub use meeting::MeetingCommand;
pub use risk::RiskCommand;

/// A command, whatever platform it came from.
#[derive(Debug, Clone)]
pub enum Command {
    Help {
        topic: Option<String>,
    },
    Meeting(MeetingCommand),
    Decision(DecisionCommand),
    Action(ActionCommand),
    Escalation(EscalationCommand),
    Risk(RiskCommand),
    /// `/dashboard`: a sign-in link to the dashboard page.
    Dashboard,
}

impl Command {
    /// Whether the command only reads (lists, shows, searches, help): it
    /// changes nothing that is due, so the scheduler need not wake for it.
    pub fn reads_only(&self) -> bool {
        match self {
            Command::Help { .. } => true,
            Command::Meeting(m) => matches!(
                m,
                MeetingCommand::List
                    | MeetingCommand::Next { .. }
                    | MeetingCommand::Minutes { .. }
                    | MeetingCommand::Agenda {
                        item: None,
                        done: None,
                        ..
                    }
            ),
            Command::Decision(d) => matches!(
                d,
                DecisionCommand::List { .. }
                    | DecisionCommand::Show { .. }
                    | DecisionCommand::Search { .. }
            ),
            Command::Action(a) => matches!(
                a,
                ActionCommand::List { .. } | ActionCommand::Mine | ActionCommand::Show { .. }
            ),
            Command::Escalation(e) => matches!(
                e,
                EscalationCommand::List { .. } | EscalationCommand::Show { .. }
            ),
            Command::Risk(r) => matches!(r, RiskCommand::List { .. }),
            Command::Dashboard => true,
        }
    }
}

/// One option of a command family: its name, whether it is required, and
/// what it means (shown in `/help` and used for Discord registration).
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    pub name: &'static str,
    pub required: bool,
    pub help: &'static str,
}

/// `page:N` of a long list (20 lines a page).
pub const PAGE: OptionSpec = OptionSpec {
    name: "page",
    required: false,
    help: "which page of a long list: 1 (the default), 2, 3, ...",
};

/// The highest page a list may be asked for.
pub const MAX_PAGE: u32 = 100_000;

/// One subcommand: `/meeting add`, with its options.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    pub family: &'static str,
    pub name: &'static str,
    pub help: &'static str,
    pub options: &'static [OptionSpec],
}

impl CommandSpec {
    /// `/meeting add`, or `/escalate` for a family without subcommands.
    pub fn title(&self) -> String {
        if self.name.is_empty() {
            format!("/{}", self.family)
        } else {
            format!("/{} {}", self.family, self.name)
        }
    }
}

/// Every command Quorum understands, for help and registration.
pub fn specs() -> Vec<&'static CommandSpec> {
    meeting::SPECS
        .iter()
        .chain(decision::SPECS.iter())
        .chain(action::SPECS.iter())
        .chain(escalation::ESCALATE.iter())
        .chain(escalation::SPECS.iter())
        .chain(risk::SPECS.iter())
        .chain(dashboard::DASHBOARD.iter())
        .collect()
}

/// `/meeting add`, tokenised: the words of the path and the options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub path: Vec<String>,
    pub options: Vec<(String, String)>,
}

fn unquote_char(c: char) -> Option<char> {
    match c {
        '"' => Some('"'),
        '\u{201C}' => Some('\u{201D}'),
        '\u{201D}' => Some('\u{201D}'),
        '\'' => Some('\''),
        _ => None,
    }
}

/// Split a line into its command path and `name:value` options.
pub fn tokenize(line: &str) -> Result<Invocation> {
    let line = line.trim();
    let Some(rest) = line.strip_prefix('/') else {
        return user_err(format!(
            "`{}` is not a command; commands start with /, for example /meeting list (try /help)",
            line.split_whitespace().next().unwrap_or(line)
        ));
    };
    let mut path = Vec::new();
    let mut options: Vec<(String, String)> = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut word = String::new();
        let mut value: Option<String> = None;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            if c == ':' && value.is_none() {
                let mut v = String::new();
                if let Some(close) = chars.peek().copied().and_then(unquote_char) {
                    chars.next();
                    let mut closed = false;
                    for c in chars.by_ref() {
                        if c == close || (close == '\u{201D}' && c == '\u{201C}') {
                            closed = true;
                            break;
                        }
                        v.push(c);
                    }
                    if !closed {
                        return user_err(format!("the value of `{word}` has no closing quote"));
                    }
                    if chars.peek().is_some_and(|c| !c.is_whitespace()) {
                        return user_err(format!(
                            "put a space after the closing quote of `{word}`"
                        ));
                    }
                } else {
                    while let Some(&c) = chars.peek() {
                        if c.is_whitespace() {
                            break;
                        }
                        v.push(c);
                        chars.next();
                    }
                }
                value = Some(v);
                break;
            }
            word.push(c);
        }
        match value {
            Some(v) => {
                let name = word.to_lowercase();
                if name.is_empty() {
                    return user_err(format!("`:{v}` has no option name before the colon"));
                }
                if options.iter().any(|(n, _)| *n == name) {
                    return user_err(format!("option `{name}` is given twice"));
                }
                options.push((name, v));
            }
            None if options.is_empty() => path.push(word.to_lowercase()),
            None => {
                return user_err(format!(
                    "`{word}` is not an option; options look like name:value, with quotes around spaces, e.g. title:\"Exec team\""
                ));
            }
        }
    }
    if path.is_empty() {
        return user_err("a command needs a name, for example /meeting list (try /help)");
    }
    Ok(Invocation { path, options })
}

/// Options of one invocation, checked against the command's spec.
pub struct Options {
    spec: &'static CommandSpec,
    values: Vec<(String, String)>,
}

impl Options {
    fn new(spec: &'static CommandSpec, values: Vec<(String, String)>) -> Result<Options> {
        for (name, _) in &values {
            if !spec.options.iter().any(|o| o.name == name) {
                let names: Vec<&str> = spec.options.iter().map(|o| o.name).collect();
                let hint = names
                    .iter()
                    .map(|n| (strsim::jaro_winkler(n, name), n))
                    .filter(|(s, _)| *s > 0.8)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, n)| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                let list = if names.is_empty() {
                    "it takes no options".to_string()
                } else {
                    format!("its options are {}", names.join(", "))
                };
                return user_err(format!(
                    "{} has no option `{name}`{hint} ({list})",
                    spec.title()
                ));
            }
        }
        for o in spec.options.iter().filter(|o| o.required) {
            if !values.iter().any(|(n, _)| n == o.name) {
                return user_err(format!(
                    "{} needs {}:... ({}); see /help {}",
                    spec.title(),
                    o.name,
                    o.help,
                    spec.title().trim_start_matches('/')
                ));
            }
        }
        Ok(Options { spec, values })
    }

    pub fn raw(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Parse option `name` with `FromStr`, prefixing errors with its name.
    pub fn get<T>(&self, name: &str) -> Result<Option<T>>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        match self.raw(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<T>()
                .map(Some)
                .map_err(|e| Error::user(format!("{name}: {e}"))),
        }
    }

    pub fn require<T>(&self, name: &str) -> Result<T>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        self.get(name)?
            .ok_or_else(|| Error::user(format!("{} needs {name}:...", self.spec.title())))
    }

    /// A record id: a positive whole number, `#` allowed.
    /// The `page` option: 1 when absent.
    pub fn page(&self) -> Result<u32> {
        match self.raw("page") {
            None => Ok(1),
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or_else(|| {
                    Error::user(format!(
                        "page: `{v}` is not a page; use a whole number from 1 to {MAX_PAGE}, such as page:2"
                    ))
                }),
        }
    }

    pub fn id(&self, name: &str) -> Result<Option<i64>> {
        match self.raw(name) {
            None => Ok(None),
            Some(v) => v
                .trim_start_matches('#')
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .map(Some)
                .ok_or_else(|| {
                    Error::user(format!(
                        "{name}: `{v}` is not an id; ids are whole numbers such as {name}:3 (see /{} list)",
                        self.spec.family
                    ))
                }),
        }
    }
}

/// Parse one line of the text grammar.
pub fn parse(line: &str) -> Result<Command> {
    tokenize(line).and_then(from_invocation).map_err(one_line)
}

/// Build a command from a path and named options, as any adapter has them.
pub fn from_options(path: &[&str], options: Vec<(String, String)>) -> Result<Command> {
    from_invocation(Invocation {
        path: path.iter().map(|s| s.to_lowercase()).collect(),
        options,
    })
    .map_err(one_line)
}

/// A refusal is one line of chat whatever was typed: control characters
/// and line breaks quoted back from a value are shown escaped (`\n`).
fn one_line(e: Error) -> Error {
    match e {
        Error::User(text) if text.chars().any(breaks_the_line) => Error::User(
            text.chars()
                .map(|c| match breaks_the_line(c) {
                    true => c.escape_default().to_string(),
                    false => c.to_string(),
                })
                .collect(),
        ),
        other => other,
    }
}

fn breaks_the_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

fn from_invocation(inv: Invocation) -> Result<Command> {
    let Some(family) = inv.path.first().map(String::as_str) else {
        return user_err("a command needs a name, for example /meeting list (try /help)");
    };
    match family {
        "help" => {
            let topic = inv.path[1..].join(" ");
            if let Some((name, _)) = inv.options.first() {
                return user_err(format!(
                    "/help takes no options (got `{name}`); try /help meeting add"
                ));
            }
            Ok(Command::Help {
                topic: Some(topic).filter(|t| !t.is_empty()),
            })
        }
        "escalate" => {
            if inv.path.len() > 1 {
                return user_err(format!(
                    "`{}` is not an option of /escalate; options look like name:value, e.g. topic:budget",
                    inv.path[1]
                ));
            }
            let opts = Options::new(&escalation::ESCALATE[0], inv.options)?;
            Ok(Command::Escalation(escalation::build(
                &escalation::ESCALATE[0],
                &opts,
            )?))
        }
        "dashboard" => {
            if let Some(word) = inv.path.get(1) {
                return user_err(format!("/dashboard takes nothing after it (got `{word}`)"));
            }
            Options::new(&dashboard::DASHBOARD[0], inv.options)?;
            Ok(Command::Dashboard)
        }
        "meeting" | "decision" | "action" | "escalation" | "risk" => {
            let Some(sub) = inv.path.get(1) else {
                return user_err(format!(
                    "/{family} needs a subcommand: {}",
                    subcommand_names(family)
                ));
            };
            let Some(spec) = specs()
                .into_iter()
                .find(|s| s.family == family && s.name == sub)
            else {
                return user_err(format!(
                    "/{family} has no subcommand `{sub}`; use one of {}",
                    subcommand_names(family)
                ));
            };
            if inv.path.len() > 2 {
                return user_err(format!(
                    "`{}` is not an option; options look like name:value",
                    inv.path[2]
                ));
            }
            let opts = Options::new(spec, inv.options)?;
            Ok(match family {
                "meeting" => Command::Meeting(meeting::build(spec, &opts)?),
                "decision" => Command::Decision(decision::build(spec, &opts)?),
                "escalation" => Command::Escalation(escalation::build(spec, &opts)?),
                "risk" => Command::Risk(risk::build(spec, &opts)?),
                _ => Command::Action(action::build(spec, &opts)?),
            })
        }
        other => {
            let families = [
                "meeting",
                "decision",
                "action",
                "escalate",
                "escalation",
                "risk",
                "dashboard",
                "help",
            ];
            let hint = families
                .iter()
                .map(|f| (strsim::jaro_winkler(f, other), f))
                .filter(|(s, _)| *s > 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, f)| format!("did you mean /{f}? "))
                .unwrap_or_default();
            user_err(format!(
                "/{other} is not a command; {hint}commands: /meeting, /decision, /action, /escalate, /escalation, /risk, /dashboard, /help"
            ))
        }
    }
}

fn subcommand_names(family: &str) -> String {
    specs()
        .iter()
        .filter(|s| s.family == family)
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The text of `/help [topic]`.
pub fn help(topic: Option<&str>) -> Result<String> {
    let all = specs();
    let topic = topic.map(|t| t.trim().trim_start_matches('/').to_lowercase());
    let chosen: Vec<&&CommandSpec> = match topic.as_deref() {
        None => all.iter().collect(),
        Some(t) => all
            .iter()
            .filter(|s| s.family == t || s.title().trim_start_matches('/') == t)
            .collect(),
    };
    if chosen.is_empty() {
        return user_err(format!(
            "no help for `{}`; try /help or /help meeting",
            topic.unwrap_or_default()
        ));
    }
    let mut out = String::new();
    if topic.is_none() {
        // One line per family, so the overview fits any chat (Discord cuts
        // a message at 2,000 characters); `/help meeting` lists each command.
        out.push_str("Quorum commands (options are name:value; quote values with spaces):\n");
        let mut families: Vec<(&str, Vec<&str>, &str)> = Vec::new();
        for s in &chosen {
            match families.iter_mut().find(|(f, _, _)| *f == s.family) {
                Some((_, subs, _)) => subs.push(s.name),
                None => families.push((s.family, vec![s.name], s.help)),
            }
        }
        for (family, subs, help) in families {
            let subs: Vec<&str> = subs.into_iter().filter(|s| !s.is_empty()).collect();
            let what = family_help(family).unwrap_or(help);
            if subs.is_empty() {
                out.push_str(&format!("/{family} - {what}\n"));
            } else {
                out.push_str(&format!("/{family} {} - {what}\n", subs.join("|")));
            }
        }
        out.push_str("/help [command] - this help; /help meeting (or decision, action, escalate, escalation, risk) shows the options");
        return Ok(out);
    }
    let detailed = chosen.len() == 1;
    for s in chosen {
        let usage: Vec<String> = s
            .options
            .iter()
            .map(|o| {
                if o.required {
                    format!("{}:...", o.name)
                } else {
                    format!("[{}:...]", o.name)
                }
            })
            .collect();
        out.push_str(
            &format!("{} {} - {}\n", s.title(), usage.join(" "), s.help).replace("  -", " -"),
        );
        if detailed {
            for o in s.options {
                out.push_str(&format!("  {}: {}\n", o.name, o.help));
            }
        }
    }
    out.push_str("/help [command] - this help; /help meeting (or decision, action, escalate, escalation, risk) shows the options");
    Ok(out)
}

/// What a family of commands is for, in the `/help` overview.
fn family_help(family: &str) -> Option<&'static str> {
    Some(match family {
        "meeting" => {
            "recurring meetings: reminders, agendas, notes, minutes, attendance and calendar feeds"
        }
        "decision" => {
            "the decision log: who decided what, in which category, why; approvals and search"
        }
        "action" => "action items with owners, due dates, priorities and verification",
        "escalation" => {
            "follow an escalation: acknowledge, resolve, move up, reassign, list, timeline"
        }
        "risk" => "the risk register: severity, owner, mitigation plan, reviews",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_help_overview_names_every_command_and_fits_a_discord_message() {
        let overview = help(None).unwrap();
        assert!(overview.chars().count() < 2000, "{overview}");
        for s in specs() {
            let line = overview
                .lines()
                .find(|l| l.starts_with(&format!("/{} ", s.family)))
                .unwrap_or_else(|| panic!("no line for /{}: {overview}", s.family));
            assert!(
                s.name.is_empty() || line.contains(s.name),
                "/{} {} missing: {line}",
                s.family,
                s.name
            );
        }
    }

    #[test]
    fn reads_wake_nothing_and_writes_wake_the_scheduler() {
        for line in [
            "/help",
            "/action list page:2",
            "/action mine",
            "/decision search query:x",
            "/meeting next",
            "/meeting agenda id:1",
            "/escalation list",
        ] {
            assert!(parse(line).unwrap().reads_only(), "{line}");
        }
        for line in [
            r#"/action add task:"x" owner:cto"#,
            "/action done id:1",
            r#"/meeting agenda id:1 item:"budget""#,
            "/meeting skip id:1",
            "/escalation ack id:1",
        ] {
            assert!(!parse(line).unwrap().reads_only(), "{line}");
        }
    }

    use super::*;

    fn tok(line: &str) -> Invocation {
        tokenize(line).unwrap()
    }

    fn tok_err(line: &str) -> String {
        tokenize(line).unwrap_err().to_string()
    }

    #[test]
    fn quoted_and_bare_values_are_split_from_the_path() {
        let inv = tok(
            r#"/meeting add title:"Exec team" tz:Europe/Madrid when:"weekly on monday at 10:00""#,
        );
        assert_eq!(inv.path, ["meeting", "add"]);
        assert_eq!(
            inv.options,
            [
                ("title".to_string(), "Exec team".to_string()),
                ("tz".to_string(), "Europe/Madrid".to_string()),
                ("when".to_string(), "weekly on monday at 10:00".to_string())
            ]
        );
    }

    #[test]
    fn typographic_quotes_work_like_straight_ones() {
        let inv = tok("/meeting agenda id:1 item:\u{201C}Q3 budget\u{201D}");
        assert_eq!(
            inv.options[1],
            ("item".to_string(), "Q3 budget".to_string())
        );
    }

    #[test]
    fn a_colon_inside_a_value_is_kept() {
        let inv = tok("/meeting add when:cron:0 title:x");
        assert_eq!(inv.options[0], ("when".to_string(), "cron:0".to_string()));
    }

    #[test]
    fn tokenizer_errors_are_specific() {
        assert!(tok_err("meeting list").contains("commands start with /"));
        assert!(tok_err(r#"/meeting add title:"Exec"#).contains("no closing quote"));
        assert!(tok_err("/meeting add title:a title:b").contains("given twice"));
        assert!(tok_err("/meeting add title:a stray").contains("`stray` is not an option"));
        assert!(tok_err("/").contains("needs a name"));
    }

    #[test]
    fn unknown_commands_and_options_suggest_the_right_one() {
        let e = parse("/meting list").unwrap_err().to_string();
        assert!(e.contains("did you mean /meeting?"), "{e}");
        let e = parse("/meeting ad").unwrap_err().to_string();
        assert!(e.contains("no subcommand `ad`"), "{e}");
        let e = parse("/meeting skip idd:3").unwrap_err().to_string();
        assert!(e.contains("has no option `idd`; did you mean `id`?"), "{e}");
        let e = parse("/meeting skip").unwrap_err().to_string();
        assert!(e.contains("/meeting skip needs id:"), "{e}");
        let e = parse("/meeting skip id:abc").unwrap_err().to_string();
        assert!(e.contains("`abc` is not an id"), "{e}");
    }

    #[test]
    fn help_lists_every_meeting_subcommand() {
        let h = help(Some("meeting")).unwrap();
        for s in ["add", "list", "next", "skip", "cancel", "edit", "agenda"] {
            assert!(h.contains(&format!("/meeting {s}")), "{s} missing from {h}");
        }
        let h = help(Some("meeting add")).unwrap();
        assert!(h.contains("  when:"), "{h}");
        assert!(help(Some("nothing")).is_err());
    }
}
