//! `/action ...`: action items with owners, due dates and verification.
//!
//! ```text
//! /action add task:"Evaluate pgvector" owner:cto [due:2026-12-01|friday|"in 3 days"] [priority:high|medium|low] [meeting:N] [decision:N]
//! /action done id:N            /action verify id:N           /action reopen id:N reason:"..."
//! /action edit id:N [task:..] [owner:..] [due:..] [priority:..] [meeting:N] [decision:N]
//! /action list [owner:X] [status:S] [overdue:true] [page:N]          /action mine          /action show id:N
//! ```

use super::{CommandSpec, OptionSpec, Options, PAGE};
use crate::domain::action::{Owner, Priority, Status, check_task};
use crate::error::{Error, Result, user_err};

#[derive(Debug, Clone, Default)]
pub struct ActionFields {
    pub task: Option<String>,
    pub owner: Option<Owner>,
    /// Raw due text; resolved against the owner's zone by the service.
    pub due: Option<String>,
    pub priority: Option<Priority>,
    pub meeting: Option<i64>,
    pub decision: Option<i64>,
}

#[derive(Debug, Clone)]
pub enum ActionCommand {
    Add(ActionFields),
    Done {
        id: i64,
    },
    Verify {
        id: i64,
    },
    Reopen {
        id: i64,
        reason: String,
    },
    Edit {
        id: i64,
        fields: ActionFields,
    },
    List {
        owner: Option<Owner>,
        status: Option<Status>,
        overdue: bool,
        page: u32,
    },
    Mine,
    Show {
        id: i64,
    },
}

const ID: OptionSpec = OptionSpec {
    name: "id",
    required: true,
    help: "the action item id, as shown by /action list",
};
const TASK: OptionSpec = OptionSpec {
    name: "task",
    required: true,
    help: "what to do, e.g. \"Evaluate pgvector\"",
};
const OWNER: OptionSpec = OptionSpec {
    name: "owner",
    required: true,
    help: "an executive role (cto) or a user",
};
const DUE: OptionSpec = OptionSpec {
    name: "due",
    required: false,
    help: "YYYY-MM-DD, today, tomorrow, friday, next friday, \"in 3 days\"",
};
const PRIORITY: OptionSpec = OptionSpec {
    name: "priority",
    required: false,
    help: "high, medium (default) or low",
};
const MEETING: OptionSpec = OptionSpec {
    name: "meeting",
    required: false,
    help: "meeting series id it belongs to",
};
const DECISION: OptionSpec = OptionSpec {
    name: "decision",
    required: false,
    help: "decision id it follows from",
};
const fn optional(o: OptionSpec) -> OptionSpec {
    OptionSpec {
        required: false,
        ..o
    }
}

pub static SPECS: [CommandSpec; 8] = [
    CommandSpec {
        family: "action",
        name: "add",
        help: "add an action item",
        options: &[TASK, OWNER, DUE, PRIORITY, MEETING, DECISION],
    },
    CommandSpec {
        family: "action",
        name: "done",
        help: "mark an item done (it then needs verification)",
        options: &[ID],
    },
    CommandSpec {
        family: "action",
        name: "verify",
        help: "verify a done item (not by whoever marked it done)",
        options: &[ID],
    },
    CommandSpec {
        family: "action",
        name: "reopen",
        help: "reopen a done or verified item",
        options: &[
            ID,
            OptionSpec {
                name: "reason",
                required: true,
                help: "why it is not finished",
            },
        ],
    },
    CommandSpec {
        family: "action",
        name: "edit",
        help: "change an item's task, owner, due date, priority or links",
        options: &[
            ID,
            optional(TASK),
            optional(OWNER),
            DUE,
            PRIORITY,
            MEETING,
            DECISION,
        ],
    },
    CommandSpec {
        family: "action",
        name: "list",
        help: "list action items",
        options: &[
            optional(OWNER),
            OptionSpec {
                name: "status",
                required: false,
                help: "open, done, verified or reopened",
            },
            OptionSpec {
                name: "overdue",
                required: false,
                help: "true: only open items past their due date",
            },
            PAGE,
        ],
    },
    CommandSpec {
        family: "action",
        name: "mine",
        help: "your open items and those of your roles",
        options: &[],
    },
    CommandSpec {
        family: "action",
        name: "show",
        help: "an item and its history",
        options: &[ID],
    },
];

fn fields(o: &Options) -> Result<ActionFields> {
    let task = match o.raw("task") {
        None => None,
        Some(t) => Some(check_task(t).map_err(|e| Error::user(format!("task: {e}")))?),
    };
    Ok(ActionFields {
        task,
        owner: o.get("owner")?,
        due: o.raw("due").map(str::to_string),
        priority: o.get("priority")?,
        meeting: o.id("meeting")?,
        decision: o.id("decision")?,
    })
}

pub(super) fn build(spec: &CommandSpec, o: &Options) -> Result<ActionCommand> {
    let id = || o.id("id")?.ok_or_else(|| Error::user("id: missing"));
    Ok(match spec.name {
        "add" => ActionCommand::Add(fields(o)?),
        "done" => ActionCommand::Done { id: id()? },
        "verify" => ActionCommand::Verify { id: id()? },
        "reopen" => {
            let reason =
                crate::domain::text::one_line("reason", o.raw("reason").unwrap_or(""), 1000)
                    .map_err(|e| {
                        if e.0 == "the reason is empty" {
                            Error::user("reason: say why the item is reopened")
                        } else {
                            Error::user(format!("reason: {e}"))
                        }
                    })?;
            ActionCommand::Reopen { id: id()?, reason }
        }
        "edit" => {
            let f = fields(o)?;
            if f.task.is_none()
                && f.owner.is_none()
                && f.due.is_none()
                && f.priority.is_none()
                && f.meeting.is_none()
                && f.decision.is_none()
            {
                return user_err(
                    "/action edit needs something to change: task, owner, due, priority, meeting or decision",
                );
            }
            ActionCommand::Edit {
                id: id()?,
                fields: f,
            }
        }
        "list" => ActionCommand::List {
            owner: o.get("owner")?,
            status: o.get("status")?,
            overdue: match o.raw("overdue").map(|v| v.to_lowercase()) {
                None => false,
                Some(v) if v == "true" || v == "yes" => true,
                Some(v) if v == "false" || v == "no" => false,
                Some(v) => return user_err(format!("overdue: `{v}` is not true or false")),
            },
            page: o.page()?,
        },
        "mine" => ActionCommand::Mine,
        "show" => ActionCommand::Show { id: id()? },
        other => return user_err(format!("/action has no subcommand `{other}`")),
    })
}
