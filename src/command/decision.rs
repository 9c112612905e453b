//! `/decision ...`: the decision log.
//!
//! ```text
//! /decision record title:"Adopt PostgreSQL" category:tech-stack rationale:"..." [decided_by:cto] [meeting:N] [supersedes:N]
//! /decision approve id:N
//! /decision reject id:N reason:"..."
//! /decision list [category:X] [since:2026-01-01] [status:S]
//! /decision show id:N
//! /decision search query:"postgres"
//! ```

use chrono::NaiveDate;

use super::{CommandSpec, OptionSpec, Options, PAGE};
use crate::domain::decision::{DecisionStatus, check_text, normalize_category};
use crate::error::{Error, Result, user_err};

#[derive(Debug, Clone)]
pub enum DecisionCommand {
    Record {
        title: String,
        category: String,
        rationale: String,
        decided_by: Option<String>,
        meeting: Option<i64>,
        supersedes: Option<i64>,
    },
    Approve {
        id: i64,
    },
    Reject {
        id: i64,
        reason: String,
    },
    List {
        category: Option<String>,
        since: Option<NaiveDate>,
        status: Option<DecisionStatus>,
        page: u32,
    },
    Show {
        id: i64,
    },
    Search {
        query: String,
        page: u32,
    },
}

const ID: OptionSpec = OptionSpec {
    name: "id",
    required: true,
    help: "the decision id, as shown by /decision list",
};

pub static SPECS: [CommandSpec; 6] = [
    CommandSpec {
        family: "decision",
        name: "record",
        help: "record a decision: who decided what, in which category, why",
        options: &[
            OptionSpec {
                name: "title",
                required: true,
                help: "what was decided, e.g. \"Adopt PostgreSQL\"",
            },
            OptionSpec {
                name: "category",
                required: true,
                help: "tech-stack, architecture, investment, partnership, security, budget, hiring, product, operations, strategy, other",
            },
            OptionSpec {
                name: "rationale",
                required: true,
                help: "why",
            },
            OptionSpec {
                name: "decided_by",
                required: false,
                help: "role or user who decided (default: you)",
            },
            OptionSpec {
                name: "meeting",
                required: false,
                help: "the meeting series id where it was decided",
            },
            OptionSpec {
                name: "supersedes",
                required: false,
                help: "id of the decision this one replaces",
            },
        ],
    },
    CommandSpec {
        family: "decision",
        name: "approve",
        help: "approve a proposed decision (its category's authority only)",
        options: &[ID],
    },
    CommandSpec {
        family: "decision",
        name: "reject",
        help: "reject a proposed decision (its category's authority only)",
        options: &[
            ID,
            OptionSpec {
                name: "reason",
                required: true,
                help: "why it is rejected",
            },
        ],
    },
    CommandSpec {
        family: "decision",
        name: "list",
        help: "list decisions, newest first",
        options: &[
            OptionSpec {
                name: "category",
                required: false,
                help: "only this category",
            },
            OptionSpec {
                name: "since",
                required: false,
                help: "only decisions recorded on or after YYYY-MM-DD",
            },
            OptionSpec {
                name: "status",
                required: false,
                help: "proposed, approved, rejected or superseded",
            },
            PAGE,
        ],
    },
    CommandSpec {
        family: "decision",
        name: "show",
        help: "the whole record of a decision and its history",
        options: &[ID],
    },
    CommandSpec {
        family: "decision",
        name: "search",
        help: "full-text search of titles and rationales, best match first",
        options: &[
            OptionSpec {
                name: "query",
                required: true,
                help: "words to look for, e.g. postgres",
            },
            PAGE,
        ],
    },
];

fn text(o: &Options, name: &str, what: &str, max: usize) -> Result<String> {
    check_text(what, o.raw(name).unwrap_or(""), max)
        .map_err(|e| Error::user(format!("{name}: {e}")))
}

fn who(o: &Options, name: &str) -> Result<Option<String>> {
    Ok(o.get::<crate::domain::action::Owner>(name)?
        .map(|w| w.to_string()))
}

pub(super) fn build(spec: &CommandSpec, o: &Options) -> Result<DecisionCommand> {
    let id = || o.id("id")?.ok_or_else(|| Error::user("id: missing"));
    Ok(match spec.name {
        "record" => DecisionCommand::Record {
            title: text(o, "title", "title", 200)?,
            category: normalize_category(o.raw("category").unwrap_or("")),
            rationale: text(o, "rationale", "rationale", 4000)?,
            decided_by: who(o, "decided_by")?,
            meeting: o.id("meeting")?,
            supersedes: o.id("supersedes")?,
        },
        "approve" => DecisionCommand::Approve { id: id()? },
        "reject" => DecisionCommand::Reject {
            id: id()?,
            reason: text(o, "reason", "reason", 1000)?,
        },
        "list" => DecisionCommand::List {
            category: o.raw("category").map(normalize_category),
            since: match o.raw("since") {
                None => None,
                Some(s) => Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                    Error::user(format!(
                        "since: `{s}` is not a date; use YYYY-MM-DD such as 2026-01-01"
                    ))
                })?),
            },
            status: o.get("status")?,
            page: o.page()?,
        },
        "show" => DecisionCommand::Show { id: id()? },
        "search" => {
            let query = o.raw("query").unwrap_or("").trim().to_string();
            if query.is_empty() {
                return user_err("query: give some words to search for");
            }
            DecisionCommand::Search {
                query,
                page: o.page()?,
            }
        }
        other => return user_err(format!("/decision has no subcommand `{other}`")),
    })
}
