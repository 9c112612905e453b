//! `/escalate` and `/escalation ...`: escalations along the executive path.
//!
//! ```text
//! /escalate topic:budget severity:high summary:"Cloud bill doubled in November" [level:cto]
//! /escalation ack id:N              /escalation resolve id:N note:"..."
//! /escalation raise id:N reason:"..."   /escalation reassign id:N to:coo
//! /escalation list [open:true] [mine:true]   /escalation show id:N
//! ```

use super::{CommandSpec, OptionSpec, Options};
use crate::domain::decision::normalize_category;
use crate::domain::escalation::Severity;
use crate::domain::text::one_line;
use crate::error::{Error, Result, user_err};

#[derive(Debug, Clone)]
pub enum EscalationCommand {
    Raise {
        topic: String,
        severity: Severity,
        summary: String,
        level: Option<String>,
    },
    Ack {
        id: i64,
    },
    Resolve {
        id: i64,
        note: String,
    },
    Up {
        id: i64,
        reason: String,
    },
    Reassign {
        id: i64,
        to: String,
    },
    List {
        open: bool,
        mine: bool,
    },
    Show {
        id: i64,
    },
}

const ID: OptionSpec = OptionSpec {
    name: "id",
    required: true,
    help: "the escalation id, as shown by /escalation list",
};

/// `/escalate` has no subcommand: its spec's name is empty.
pub static ESCALATE: [CommandSpec; 1] = [CommandSpec {
    family: "escalate",
    name: "",
    help: "raise an escalation: routed by topic to the right executive, climbing the path until acknowledged",
    options: &[
        OptionSpec {
            name: "topic",
            required: true,
            help: "budget, security, operations, roadmap, strategy, ... (routes to cfo, cto, coo, cpo, ceo)",
        },
        OptionSpec {
            name: "severity",
            required: true,
            help: "critical, high, medium or low",
        },
        OptionSpec {
            name: "summary",
            required: true,
            help: "what is wrong, e.g. \"Cloud bill doubled in November\"",
        },
        OptionSpec {
            name: "level",
            required: false,
            help: "start at this level of the path (department, cto, relevant, exec-team, board)",
        },
    ],
}];

pub static SPECS: [CommandSpec; 6] = [
    CommandSpec {
        family: "escalation",
        name: "ack",
        help: "acknowledge an escalation (stops it climbing)",
        options: &[ID],
    },
    CommandSpec {
        family: "escalation",
        name: "resolve",
        help: "resolve an escalation",
        options: &[
            ID,
            OptionSpec {
                name: "note",
                required: true,
                help: "how it was resolved",
            },
        ],
    },
    CommandSpec {
        family: "escalation",
        name: "raise",
        help: "move an escalation up one level now",
        options: &[
            ID,
            OptionSpec {
                name: "reason",
                required: true,
                help: "why it goes up",
            },
        ],
    },
    CommandSpec {
        family: "escalation",
        name: "reassign",
        help: "send an escalation to another executive",
        options: &[
            ID,
            OptionSpec {
                name: "to",
                required: true,
                help: "the role, e.g. coo",
            },
        ],
    },
    CommandSpec {
        family: "escalation",
        name: "list",
        help: "list escalations",
        options: &[
            OptionSpec {
                name: "open",
                required: false,
                help: "true: only unresolved ones",
            },
            OptionSpec {
                name: "mine",
                required: false,
                help: "true: raised by you, acknowledged by you, or at your level",
            },
        ],
    },
    CommandSpec {
        family: "escalation",
        name: "show",
        help: "the timeline: every post, ack, climb and resolve",
        options: &[ID],
    },
];

fn flag(o: &Options, name: &str) -> Result<bool> {
    match o.raw(name).map(|v| v.to_lowercase()) {
        None => Ok(false),
        Some(v) if v == "true" || v == "yes" => Ok(true),
        Some(v) if v == "false" || v == "no" => Ok(false),
        Some(v) => user_err(format!("{name}: `{v}` is not true or false")),
    }
}

/// A one-line text option, cleaned of control characters (see [`crate::domain::text`]).
fn text(o: &Options, name: &str, max: usize) -> Result<String> {
    one_line(name, o.raw(name).unwrap_or(""), max).map_err(|e| Error::user(format!("{name}: {e}")))
}

pub(super) fn build(spec: &CommandSpec, o: &Options) -> Result<EscalationCommand> {
    let id = || o.id("id")?.ok_or_else(|| Error::user("id: missing"));
    Ok(match (spec.family, spec.name) {
        ("escalate", _) => {
            let topic = normalize_category(&text(o, "topic", 64)?);
            if topic.is_empty() || !topic.chars().all(|c| c.is_alphanumeric() || c == '-') {
                return user_err(format!(
                    "topic: `{topic}` is not a topic; use a word such as budget or security"
                ));
            }
            EscalationCommand::Raise {
                topic,
                severity: o.require("severity")?,
                summary: text(o, "summary", 500)?,
                level: o.raw("level").map(str::to_string),
            }
        }
        (_, "ack") => EscalationCommand::Ack { id: id()? },
        (_, "resolve") => EscalationCommand::Resolve {
            id: id()?,
            note: text(o, "note", 1000)?,
        },
        (_, "raise") => EscalationCommand::Up {
            id: id()?,
            reason: text(o, "reason", 500)?,
        },
        (_, "reassign") => EscalationCommand::Reassign {
            id: id()?,
            to: text(o, "to", 32)?.to_lowercase(),
        },
        (_, "list") => EscalationCommand::List {
            open: flag(o, "open")?,
            mine: flag(o, "mine")?,
        },
        (_, "show") => EscalationCommand::Show { id: id()? },
        (_, other) => return user_err(format!("/escalation has no subcommand `{other}`")),
    })
}
