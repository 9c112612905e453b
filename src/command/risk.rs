//! `/risk ...`: the risk register.
//!
//! ```text
//! /risk add title:"Key supplier insolvent" severity:high owner:cto mitigation:"Second source by Q1" [review:monthly]
//! /risk list [owner:cto] [all:true]
//! /risk update id:N [title:...] [severity:...] [owner:...] [mitigation:...] [review:...] [status:...]
//! /risk close id:N
//! ```

use super::{CommandSpec, OptionSpec, Options};
use crate::domain::action::Owner;
use crate::domain::decision::check_text;
use crate::domain::risk::{Review, RiskStatus, Severity};
use crate::error::{Error, Result, user_err};

/// The fields `/risk add` and `/risk update` may set.
#[derive(Debug, Clone, Default)]
pub struct RiskFields {
    pub title: Option<String>,
    pub severity: Option<Severity>,
    pub owner: Option<Owner>,
    pub mitigation: Option<String>,
    pub review: Option<Review>,
    pub status: Option<RiskStatus>,
}

impl RiskFields {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.severity.is_none()
            && self.owner.is_none()
            && self.mitigation.is_none()
            && self.review.is_none()
            && self.status.is_none()
    }
}

#[derive(Debug, Clone)]
pub enum RiskCommand {
    Add(RiskFields),
    List { owner: Option<Owner>, all: bool },
    Update { id: i64, fields: RiskFields },
    Close { id: i64 },
}

const ID: OptionSpec = OptionSpec {
    name: "id",
    required: true,
    help: "the risk id, as shown by /risk list",
};

const TITLE_HELP: &str = "the risk in a few words, e.g. \"Key supplier insolvent\"";
const SEVERITY_HELP: &str = "low, medium, high or critical";
const OWNER_HELP: &str = "who owns the risk and is reminded to review it, e.g. cto";
const MITIGATION_HELP: &str = "the mitigation plan";
const REVIEW_HELP: &str =
    "how often the owner reviews it: weekly, monthly (the default) or quarterly";

pub static SPECS: [CommandSpec; 4] = [
    CommandSpec {
        family: "risk",
        name: "add",
        help: "add a risk to the register: severity, owner, mitigation plan, review cadence",
        options: &[
            OptionSpec {
                name: "title",
                required: true,
                help: TITLE_HELP,
            },
            OptionSpec {
                name: "severity",
                required: true,
                help: SEVERITY_HELP,
            },
            OptionSpec {
                name: "owner",
                required: true,
                help: OWNER_HELP,
            },
            OptionSpec {
                name: "mitigation",
                required: true,
                help: MITIGATION_HELP,
            },
            OptionSpec {
                name: "review",
                required: false,
                help: REVIEW_HELP,
            },
        ],
    },
    CommandSpec {
        family: "risk",
        name: "list",
        help: "open risks, most severe first",
        options: &[
            OptionSpec {
                name: "owner",
                required: false,
                help: "only this owner's risks",
            },
            OptionSpec {
                name: "all",
                required: false,
                help: "true to include closed risks",
            },
        ],
    },
    CommandSpec {
        family: "risk",
        name: "update",
        help: "change a risk: title, severity, owner, mitigation, review or status",
        options: &[
            ID,
            OptionSpec {
                name: "title",
                required: false,
                help: TITLE_HELP,
            },
            OptionSpec {
                name: "severity",
                required: false,
                help: SEVERITY_HELP,
            },
            OptionSpec {
                name: "owner",
                required: false,
                help: OWNER_HELP,
            },
            OptionSpec {
                name: "mitigation",
                required: false,
                help: MITIGATION_HELP,
            },
            OptionSpec {
                name: "review",
                required: false,
                help: REVIEW_HELP,
            },
            OptionSpec {
                name: "status",
                required: false,
                help: "open, mitigating, accepted or closed",
            },
        ],
    },
    CommandSpec {
        family: "risk",
        name: "close",
        help: "close a risk: it leaves the register and its reviews stop",
        options: &[ID],
    },
];

fn text(o: &Options, name: &str, max: usize) -> Result<Option<String>> {
    match o.raw(name) {
        None => Ok(None),
        Some(v) => check_text(name, v, max)
            .map(Some)
            .map_err(|e| Error::user(format!("{name}: {e}"))),
    }
}

fn fields(o: &Options) -> Result<RiskFields> {
    Ok(RiskFields {
        title: text(o, "title", 200)?,
        severity: o.get("severity")?,
        owner: o.get("owner")?,
        mitigation: text(o, "mitigation", 2000)?,
        review: o.get("review")?,
        status: o.get("status")?,
    })
}

pub(super) fn build(spec: &CommandSpec, o: &Options) -> Result<RiskCommand> {
    let id = || o.id("id")?.ok_or_else(|| Error::user("id: missing"));
    Ok(match spec.name {
        "add" => RiskCommand::Add(fields(o)?),
        "list" => RiskCommand::List {
            owner: o.get("owner")?,
            all: match o.raw("all").map(|v| v.trim().to_lowercase()) {
                None => false,
                Some(v) if v == "true" || v == "yes" => true,
                Some(v) if v == "false" || v == "no" => false,
                Some(v) => return user_err(format!("all: `{v}` is not true or false")),
            },
        },
        "update" => {
            let fields = fields(o)?;
            if fields.is_empty() {
                return user_err(
                    "/risk update needs something to change: title, severity, owner, mitigation, review or status",
                );
            }
            RiskCommand::Update { id: id()?, fields }
        }
        "close" => RiskCommand::Close { id: id()? },
        other => return user_err(format!("/risk has no subcommand `{other}`")),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Command, parse};
    use super::*;

    fn risk(line: &str) -> RiskCommand {
        match parse(line).unwrap() {
            Command::Risk(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn add_takes_every_field_and_review_defaults_to_none_here() {
        let RiskCommand::Add(f) = risk(
            r#"/risk add title:"Supplier insolvent" severity:High owner:@CTO mitigation:"Second source""#,
        ) else {
            panic!()
        };
        assert_eq!(f.title.as_deref(), Some("Supplier insolvent"));
        assert_eq!(f.severity, Some(Severity::High));
        assert_eq!(f.owner.unwrap().as_str(), "cto");
        assert_eq!(f.review, None);
    }

    #[test]
    fn bad_values_are_refused_with_the_option_named() {
        let e = parse(r#"/risk add title:x severity:hihg owner:cto mitigation:y"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("severity: `hihg` is not a severity; did you mean `high`?"),
            "{e}"
        );
        let e = parse("/risk update id:1").unwrap_err().to_string();
        assert!(e.contains("needs something to change"), "{e}");
        let e = parse("/risk update id:1 status:done")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`done` is not a risk status"), "{e}");
        let e = parse(r#"/risk add title:x severity:low owner:cto"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/risk add needs mitigation:"), "{e}");
        let e = parse("/risk close id:zero").unwrap_err().to_string();
        assert!(e.contains("`zero` is not an id"), "{e}");
    }
}
