//! `/meeting ...`: recurring meeting series.
//!
//! ```text
//! /meeting add title:"Exec team" when:"monthly on the first monday at 10:00" [tz:Europe/Madrid]
//!              [channel:exec] [remind:1d,15m] [attendees:ceo,cto]
//! /meeting list
//! /meeting next [id:N]
//! /meeting skip id:N
//! /meeting cancel id:N
//! /meeting edit id:N [when:"..."] [tz:...] [title:"..."] [channel:...] [remind:...] [attendees:...]
//! /meeting agenda id:N [item:"Q3 budget"]
//! /meeting calendar [rotate:true]
//! ```
//! `add` and `edit` also take `shift:next-weekday|previous-weekday|none`.

use super::{CommandSpec, OptionSpec, Options};
use crate::domain::holiday::Shift;
use crate::domain::meeting::{Attendees, ChannelRef, LeadTimes, Title};
use crate::domain::recurrence::Cadence;
use crate::domain::zone::Zone;
use crate::error::{Error, Result, user_err};

#[derive(Debug, Clone)]
pub enum MeetingCommand {
    Add(NewMeeting),
    List,
    Next {
        id: Option<i64>,
    },
    Skip {
        id: i64,
    },
    Cancel {
        id: i64,
    },
    Edit {
        id: i64,
        changes: MeetingChanges,
    },
    Agenda {
        id: i64,
        item: Option<String>,
    },
    /// Calendar feed links (privately); `rotate` revokes and replaces them.
    Calendar {
        rotate: bool,
    },
}

#[derive(Debug, Clone)]
pub struct NewMeeting {
    pub title: Title,
    pub cadence: Cadence,
    pub zone: Option<Zone>,
    pub channel: Option<ChannelRef>,
    pub remind: Option<LeadTimes>,
    pub attendees: Attendees,
    pub shift: Option<Shift>,
}

#[derive(Debug, Clone, Default)]
pub struct MeetingChanges {
    pub title: Option<Title>,
    pub cadence: Option<Cadence>,
    pub zone: Option<Zone>,
    pub channel: Option<ChannelRef>,
    pub remind: Option<LeadTimes>,
    pub attendees: Option<Attendees>,
    pub shift: Option<Shift>,
}

const ID: OptionSpec = OptionSpec {
    name: "id",
    required: true,
    help: "the series id, as shown by /meeting list",
};
const TITLE: OptionSpec = OptionSpec {
    name: "title",
    required: true,
    help: "the meeting's name, e.g. \"Exec team\"",
};
const WHEN: OptionSpec = OptionSpec {
    name: "when",
    required: true,
    help: "the cadence, e.g. \"weekly on monday at 10:00\", \"monthly on the first monday at 10:00\", \"cron:0 9 * * 1-5\"",
};
const TZ: OptionSpec = OptionSpec {
    name: "tz",
    required: false,
    help: "IANA time zone of the series, e.g. Europe/Madrid (default from config)",
};
const CHANNEL: OptionSpec = OptionSpec {
    name: "channel",
    required: false,
    help: "where reminders are posted (default from config)",
};
const REMIND: OptionSpec = OptionSpec {
    name: "remind",
    required: false,
    help: "lead times before each occurrence, e.g. 1d,15m (or none)",
};
const ATTENDEES: OptionSpec = OptionSpec {
    name: "attendees",
    required: false,
    help: "role keys or users, comma-separated, e.g. ceo,cto",
};
const SHIFT: OptionSpec = OptionSpec {
    name: "shift",
    required: false,
    help: "move occurrences off weekends and holidays: next-weekday, previous-weekday or none",
};
const fn optional(o: OptionSpec) -> OptionSpec {
    OptionSpec {
        required: false,
        ..o
    }
}

pub static SPECS: [CommandSpec; 8] = [
    CommandSpec {
        family: "meeting",
        name: "add",
        help: "create a recurring meeting series with reminders",
        options: &[TITLE, WHEN, TZ, CHANNEL, REMIND, ATTENDEES, SHIFT],
    },
    CommandSpec {
        family: "meeting",
        name: "list",
        help: "list this workspace's meeting series",
        options: &[],
    },
    CommandSpec {
        family: "meeting",
        name: "next",
        help: "show upcoming occurrences (of one series with id)",
        options: &[optional(ID)],
    },
    CommandSpec {
        family: "meeting",
        name: "skip",
        help: "skip the next occurrence of a series",
        options: &[ID],
    },
    CommandSpec {
        family: "meeting",
        name: "cancel",
        help: "cancel a series and its pending reminders",
        options: &[ID],
    },
    CommandSpec {
        family: "meeting",
        name: "edit",
        help: "change a series' cadence, zone, title, channel, reminders, attendees or shift",
        options: &[
            ID,
            optional(WHEN),
            TZ,
            optional(TITLE),
            CHANNEL,
            REMIND,
            ATTENDEES,
            SHIFT,
        ],
    },
    CommandSpec {
        family: "meeting",
        name: "agenda",
        help: "add an item to the next occurrence's agenda, or show the agenda",
        options: &[
            ID,
            OptionSpec {
                name: "item",
                required: false,
                help: "the agenda item to add, e.g. \"Q3 budget\"",
            },
        ],
    },
    CommandSpec {
        family: "meeting",
        name: "calendar",
        help: "your private calendar feed links (.ics) for this workspace and each executive",
        options: &[OptionSpec {
            name: "rotate",
            required: false,
            help: "true: revoke your current links and issue new ones",
        }],
    },
];

pub(super) fn build(spec: &CommandSpec, o: &Options) -> Result<MeetingCommand> {
    let id = || -> Result<i64> {
        o.id("id")?
            .ok_or_else(|| crate::error::Error::user("id: missing"))
    };
    Ok(match spec.name {
        "add" => MeetingCommand::Add(NewMeeting {
            title: o.require("title")?,
            cadence: o.require("when")?,
            zone: o.get("tz")?,
            channel: o.get("channel")?,
            remind: o.get("remind")?,
            attendees: o.get("attendees")?.unwrap_or_default(),
            shift: o.get("shift")?,
        }),
        "list" => MeetingCommand::List,
        "next" => MeetingCommand::Next { id: o.id("id")? },
        "skip" => MeetingCommand::Skip { id: id()? },
        "cancel" => MeetingCommand::Cancel { id: id()? },
        "edit" => {
            let changes = MeetingChanges {
                title: o.get("title")?,
                cadence: o.get("when")?,
                zone: o.get("tz")?,
                channel: o.get("channel")?,
                remind: o.get("remind")?,
                attendees: o.get("attendees")?,
                shift: o.get("shift")?,
            };
            if changes.title.is_none()
                && changes.cadence.is_none()
                && changes.zone.is_none()
                && changes.channel.is_none()
                && changes.remind.is_none()
                && changes.attendees.is_none()
                && changes.shift.is_none()
            {
                return user_err(
                    "/meeting edit needs something to change: when, tz, title, channel, remind, attendees or shift",
                );
            }
            MeetingCommand::Edit { id: id()?, changes }
        }
        "agenda" => {
            let item = match o.raw("item") {
                None => None,
                Some(t) => Some(
                    crate::domain::text::one_line("agenda item", t, 300)
                        .map_err(|e| Error::user(format!("item: {e}")))?,
                ),
            };
            MeetingCommand::Agenda { id: id()?, item }
        }
        "calendar" => MeetingCommand::Calendar {
            rotate: match o.raw("rotate").map(str::to_lowercase).as_deref() {
                None | Some("false") | Some("no") => false,
                Some("true") | Some("yes") => true,
                Some(v) => return user_err(format!("rotate: `{v}` is not true or false")),
            },
        },
        other => return user_err(format!("/meeting has no subcommand `{other}`")),
    })
}

#[cfg(test)]
mod tests {
    use crate::command::{Command, parse};

    use super::*;

    fn meeting(line: &str) -> MeetingCommand {
        match parse(line).unwrap() {
            Command::Meeting(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn add_parses_every_option_into_domain_values() {
        let m = meeting(
            r#"/meeting add title:"Exec team" when:"monthly on the first monday at 10:00" tz:Europe/Madrid channel:exec remind:1d,15m attendees:ceo,cto"#,
        );
        let MeetingCommand::Add(n) = m else { panic!() };
        assert_eq!(n.title.as_str(), "Exec team");
        assert_eq!(
            n.cadence.to_string(),
            "monthly on the first monday at 10:00"
        );
        assert_eq!(n.zone.unwrap().name(), "Europe/Madrid");
        assert_eq!(n.channel.unwrap().as_str(), "exec");
        assert_eq!(n.remind.unwrap().to_string(), "1d,15m");
        assert_eq!(n.attendees.to_string(), "ceo,cto");
    }

    #[test]
    fn bad_values_name_their_option() {
        let e = parse(r#"/meeting add title:x when:"fortnightly""#)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("when: `fortnightly` is not a cadence"), "{e}");
        let e = parse(r#"/meeting add title:x when:"daily at 10:00" tz:Mars/Base"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("tz: `Mars/Base` is not an IANA time zone"),
            "{e}"
        );
        let e = parse("/meeting calendar rotate:maybe")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "rotate: `maybe` is not true or false");
        let e = parse("/meeting add title:x when:\"daily at 10:00\" shift:tomorrow")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("shift: `tomorrow` is not a shift"), "{e}");
        let e = parse("/meeting edit id:1").unwrap_err().to_string();
        assert!(e.contains("needs something to change"), "{e}");
        let e = parse("/meeting agenda id:1 item:\"\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("empty"), "{e}");
    }
}
