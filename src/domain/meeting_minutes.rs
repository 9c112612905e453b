//! The minutes of one occurrence: what the meeting covered, carried over,
//! decided, assigned and noted, as a value, and its text form (the same in
//! chat, in `/meeting minutes` and in `quorum export minutes --format md`).

use serde::Serialize;

/// Minutes of one occurrence of a series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Minutes {
    pub series_id: i64,
    pub title: String,
    /// Local start in the series' zone, e.g. `Mon 7 Dec 2026 10:00`.
    pub starts: String,
    /// Local date, `YYYY-MM-DD`.
    pub date: String,
    pub zone: String,
    /// e.g. `1h`, `45m`.
    pub duration: String,
    /// The occurrence's state: held, moved, skipped, ...
    pub state: String,
    pub attendees: Vec<String>,
    /// Who said they could not make it (Can't make it, `/meeting attend
    /// answer:no`); they are not among `attendees`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<String>,
    pub agenda: Vec<AgendaOutcome>,
    pub decisions: Vec<MinutesDecision>,
    pub actions: Vec<MinutesAction>,
    pub notes: Vec<MinutesNote>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgendaOutcome {
    pub text: String,
    pub covered: bool,
    /// How many meetings this item had already been carried from.
    pub carried: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MinutesDecision {
    pub id: i64,
    pub title: String,
    pub status: String,
    /// The role holding the decision's authority, and who decided.
    pub authority: String,
    pub decided_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MinutesAction {
    pub id: i64,
    pub task: String,
    pub owner: String,
    pub due: Option<String>,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MinutesNote {
    pub by: String,
    pub text: String,
}

impl Minutes {
    /// Nothing was recorded: no agenda, decision, action item or note.
    pub fn is_empty(&self) -> bool {
        self.agenda.is_empty()
            && self.decisions.is_empty()
            && self.actions.is_empty()
            && self.notes.is_empty()
    }

    /// Plain text, one section per line group: what chat and
    /// `/meeting minutes` show.
    pub fn render(&self) -> String {
        // The time carries its zone's abbreviation: the zone is not repeated.
        let mut out = format!(
            "Minutes: {}, {} ({})",
            self.title, self.starts, self.duration
        );
        if self.state != "held" {
            out.push_str(&format!(" ({})", self.state));
        }
        if !self.attendees.is_empty() {
            out.push_str(&format!("\nAttendees: {}", self.attendees.join(", ")));
        }
        if !self.absent.is_empty() {
            out.push_str(&format!("\nCould not make it: {}", self.absent.join(", ")));
        }
        section(&mut out, "Agenda", &self.agenda, |a| {
            let outcome = if a.covered {
                "covered".to_string()
            } else {
                "carried over".to_string()
            };
            let before = match a.carried {
                0 => String::new(),
                1 => ", carried once before".to_string(),
                n => format!(", carried {n} times before"),
            };
            format!("{} ({outcome}{before})", a.text)
        });
        section(&mut out, "Decisions", &self.decisions, |d| {
            if d.status == "proposed" {
                format!(
                    "#{} {} (proposed by {}; authority {})",
                    d.id, d.title, d.decided_by, d.authority
                )
            } else {
                format!(
                    "#{} {} ({}; authority {}, decided by {})",
                    d.id, d.title, d.status, d.authority, d.decided_by
                )
            }
        });
        section(&mut out, "Action items", &self.actions, |a| {
            let due = a
                .due
                .as_deref()
                .map(|d| format!(", due {d}"))
                .unwrap_or_else(|| ", no due date".to_string());
            format!(
                "#{} {} (owner {}{due}; {})",
                a.id, a.task, a.owner, a.status
            )
        });
        section(&mut out, "Notes", &self.notes, |n| {
            format!("{}: {}", n.by, n.text)
        });
        if self.is_empty() {
            out.push_str("\nNothing was recorded.");
        }
        out
    }
}

impl Minutes {
    /// Markdown for the board (`quorum export minutes --format md`).
    pub fn to_markdown(&self) -> String {
        let text = self.render();
        let mut lines = text.lines();
        let mut out = match lines.next() {
            Some(head) => format!("## {}\n", head.trim_start_matches("Minutes: ")),
            None => String::new(),
        };
        for line in lines {
            if line.ends_with(':') && !line.starts_with("- ") {
                out.push_str(&format!("\n### {}\n\n", line.trim_end_matches(':')));
            } else if line.starts_with("Attendees: ") || line.starts_with("Could not make it: ") {
                out.push_str(&format!("\n{line}\n"));
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

fn section<T>(out: &mut String, name: &str, items: &[T], line: impl Fn(&T) -> String) {
    if items.is_empty() {
        return;
    }
    out.push_str(&format!("\n{name}:"));
    for i in items {
        out.push_str(&format!("\n- {}", line(i)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Minutes {
        Minutes {
            series_id: 3,
            title: "Exec team".to_string(),
            starts: "Mon 7 Dec 2026 10:00".to_string(),
            date: "2026-12-07".to_string(),
            zone: "Europe/Madrid".to_string(),
            duration: "1h".to_string(),
            state: "held".to_string(),
            attendees: vec!["cto (Ana)".to_string()],
            absent: Vec::new(),
            agenda: Vec::new(),
            decisions: Vec::new(),
            actions: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn empty_minutes_say_nothing_was_recorded() {
        let m = sample();
        assert!(m.is_empty());
        assert!(
            m.render().ends_with("Nothing was recorded."),
            "{}",
            m.render()
        );
    }

    #[test]
    fn each_section_lists_its_items_with_their_outcome() {
        let mut m = sample();
        m.agenda = vec![
            AgendaOutcome {
                text: "Q3 budget".to_string(),
                covered: true,
                carried: 0,
            },
            AgendaOutcome {
                text: "Hiring".to_string(),
                covered: false,
                carried: 2,
            },
        ];
        m.actions = vec![MinutesAction {
            id: 7,
            task: "Call the bank".to_string(),
            owner: "cfo".to_string(),
            due: Some("2026-12-11".to_string()),
            status: "open".to_string(),
        }];
        let text = m.render();
        assert!(!m.is_empty());
        assert!(text.contains("\n- Q3 budget (covered)"), "{text}");
        assert!(
            text.contains("\n- Hiring (carried over, carried 2 times before)"),
            "{text}"
        );
        assert!(
            text.contains("\n- #7 Call the bank (owner cfo, due 2026-12-11; open)"),
            "{text}"
        );
        assert!(!text.contains("Decisions:"), "{text}");
    }
}
