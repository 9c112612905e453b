//! `/meeting ...`: recurring meeting series.
//!
//! ```text
//! /meeting add title:"Exec team" when:"monthly on the first monday at 10:00" [tz:Europe/Madrid]
//!              [channel:exec] [remind:1d,15m] [attendees:ceo,cto] [duration:45m] [capture:channel]
//! /meeting list
//! /meeting next [id:N]
//! /meeting skip id:N
//! /meeting move id:N date:2026-12-30 [time:10:00]
//! /meeting cancel id:N
//! /meeting edit id:N [when:"..."] [tz:...] [title:"..."] [channel:...] [remind:...] [attendees:...]
//!               [duration:...] [capture:...]
//! /meeting agenda id:N [item:"Q3 budget"] [done:2]
//! /meeting notes id:N text:"..."
//! /meeting minutes id:N [date:2026-12-07]
//! /meeting calendar [rotate:true]
//! /meeting attend id:N [answer:yes|no]
//! ```
//! `add` and `edit` also take `shift:next-weekday|previous-weekday|none`.

use super::{CommandSpec, OptionSpec, Options};
use crate::domain::holiday::Shift;
use crate::domain::meeting::{
    Attendees, Capture, ChannelRef, Day, LeadTimes, MeetingLength, TimeOfDay, Title,
};
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
        done: Option<usize>,
    },
    Move {
        id: i64,
        date: Day,
        time: Option<TimeOfDay>,
    },
    Notes {
        id: i64,
        text: String,
    },
    Minutes {
        id: i64,
        date: Option<Day>,
    },
    /// Calendar feed links (privately); `rotate` revokes and replaces them.
    Calendar {
        rotate: bool,
    },
    /// Attending (or, `answer:no`, can't make it) the next meeting of a
    /// series; a reminder's button names its occurrence in `at`.
    Attend {
        id: i64,
        attending: bool,
        at: Option<i64>,
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
    pub duration: Option<MeetingLength>,
    pub capture: Option<Capture>,
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
    pub duration: Option<MeetingLength>,
    pub capture: Option<Capture>,
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
const DURATION: OptionSpec = OptionSpec {
    name: "duration",
    required: false,
    help: "how long each occurrence lasts, e.g. 45m or 1h30m (default 60m)",
};
const CAPTURE: OptionSpec = OptionSpec {
    name: "capture",
    required: false,
    help: "channel: what is recorded in its channel during a meeting joins the minutes (default none)",
};
const DATE: OptionSpec = OptionSpec {
    name: "date",
    required: true,
    help: "a date, YYYY-MM-DD, e.g. 2026-12-30",
};
const fn optional(o: OptionSpec) -> OptionSpec {
    OptionSpec {
        required: false,
        ..o
    }
}

pub static SPECS: [CommandSpec; 12] = [
    CommandSpec {
        family: "meeting",
        name: "add",
        help: "create a recurring meeting series with reminders",
        options: &[
            TITLE, WHEN, TZ, CHANNEL, REMIND, ATTENDEES, DURATION, CAPTURE, SHIFT,
        ],
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
        help: "change a series' cadence, zone, title, channel, reminders, attendees, duration, capture or shift",
        options: &[
            ID,
            optional(WHEN),
            TZ,
            optional(TITLE),
            CHANNEL,
            REMIND,
            ATTENDEES,
            DURATION,
            CAPTURE,
            SHIFT,
        ],
    },
    CommandSpec {
        family: "meeting",
        name: "agenda",
        help: "add an item to the next occurrence's agenda, mark one covered, or show the agenda",
        options: &[
            ID,
            OptionSpec {
                name: "item",
                required: false,
                help: "the agenda item to add, e.g. \"Q3 budget\"",
            },
            OptionSpec {
                name: "done",
                required: false,
                help: "the number of the item the meeting covered, e.g. 2",
            },
        ],
    },
    CommandSpec {
        family: "meeting",
        name: "move",
        help: "move only the next occurrence of a series to another date (and time)",
        options: &[
            ID,
            DATE,
            OptionSpec {
                name: "time",
                required: false,
                help: "the new local time, HH:MM (default: the usual time)",
            },
        ],
    },
    CommandSpec {
        family: "meeting",
        name: "notes",
        help: "add a note to the meeting under way (or the next one)",
        options: &[
            ID,
            OptionSpec {
                name: "text",
                required: true,
                help: "the note, e.g. \"Budget approved pending audit\"",
            },
        ],
    },
    CommandSpec {
        family: "meeting",
        name: "minutes",
        help: "show the minutes of past occurrences (of one date with date)",
        options: &[ID, optional(DATE)],
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
    CommandSpec {
        family: "meeting",
        name: "attend",
        help: "attend the next meeting, or answer:no: you can't make it",
        options: &[
            ID,
            OptionSpec {
                name: "answer",
                required: false,
                help: "yes (default) or no",
            },
        ],
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
            duration: o.get("duration")?,
            capture: o.get("capture")?,
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
                duration: o.get("duration")?,
                capture: o.get("capture")?,
                shift: o.get("shift")?,
            };
            if changes.title.is_none()
                && changes.cadence.is_none()
                && changes.zone.is_none()
                && changes.channel.is_none()
                && changes.remind.is_none()
                && changes.attendees.is_none()
                && changes.duration.is_none()
                && changes.capture.is_none()
                && changes.shift.is_none()
            {
                return user_err(
                    "/meeting edit needs something to change: when, tz, title, channel, remind, attendees, duration, capture or shift",
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
            let done = match o.raw("done") {
                None => None,
                Some(t) => match t.trim().parse::<usize>() {
                    Ok(n) if (1..=500).contains(&n) => Some(n),
                    _ => {
                        return user_err(format!(
                            "done: `{t}` is not an item number; use the number shown by /meeting agenda, such as 2"
                        ));
                    }
                },
            };
            if item.is_some() && done.is_some() {
                return user_err("/meeting agenda takes item or done, not both");
            }
            MeetingCommand::Agenda {
                id: id()?,
                item,
                done,
            }
        }
        "move" => MeetingCommand::Move {
            id: id()?,
            date: o.require("date")?,
            time: o.get("time")?,
        },
        "notes" => {
            let text = o.raw("text").unwrap_or_default();
            let text = crate::domain::text::one_line("note", text, 1000)
                .map_err(|e| Error::user(format!("text: {e}")))?;
            MeetingCommand::Notes { id: id()?, text }
        }
        "minutes" => MeetingCommand::Minutes {
            id: id()?,
            date: o.get("date")?,
        },
        "calendar" => MeetingCommand::Calendar {
            rotate: match o.raw("rotate").map(str::to_lowercase).as_deref() {
                None | Some("false") | Some("no") => false,
                Some("true") | Some("yes") => true,
                Some(v) => return user_err(format!("rotate: `{v}` is not true or false")),
            },
        },
        "attend" => MeetingCommand::Attend {
            id: id()?,
            attending: match o.raw("answer").map(str::to_lowercase).as_deref() {
                None | Some("yes") | Some("true") => true,
                Some("no") | Some("false") => false,
                Some(v) => {
                    return user_err(format!(
                        "answer: `{v}` is not yes or no (no: you can't make it)"
                    ));
                }
            },
            at: None,
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
        let e = parse("/meeting move id:1 date:2026-02-30")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("date: `2026-02-30` is not a date"), "{e}");
        let e = parse("/meeting move id:1 date:2026-12-30 time:25:00")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("time: `25:00` is not a time"), "{e}");
        let e = parse("/meeting agenda id:1 done:0")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an item number"), "{e}");
        let e = parse("/meeting add title:x when:\"daily at 10:00\" duration:2m")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("duration: a meeting of `2m`"), "{e}");
        let e = parse("/meeting agenda id:1 item:\"\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("empty"), "{e}");
    }
}
