//! Decisions: categories, the executive holding each category's authority,
//! and the decision lifecycle (proposed -> approved | rejected; any settled
//! decision may later be superseded by a newer one).

use std::fmt;
use std::str::FromStr;

use super::meeting::ValueError;

/// The seed's decision framework, with the role that decides each category.
pub const DEFAULT_CATEGORIES: [(&str, &str); 11] = [
    ("tech-stack", "cto"),
    ("architecture", "cto"),
    ("investment", "cfo"),
    ("partnership", "ceo"),
    ("security", "cto"),
    ("budget", "cfo"),
    ("hiring", "cto"),
    ("product", "cpo"),
    ("operations", "coo"),
    ("strategy", "ceo"),
    ("other", "ceo"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionStatus {
    Proposed,
    Approved,
    Rejected,
    Superseded,
}

impl DecisionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionStatus::Proposed => "proposed",
            DecisionStatus::Approved => "approved",
            DecisionStatus::Rejected => "rejected",
            DecisionStatus::Superseded => "superseded",
        }
    }
}

impl FromStr for DecisionStatus {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "proposed" => Ok(DecisionStatus::Proposed),
            "approved" | "decided" => Ok(DecisionStatus::Approved),
            "rejected" => Ok(DecisionStatus::Rejected),
            "superseded" => Ok(DecisionStatus::Superseded),
            _ => Err(ValueError(format!(
                "`{s}` is not a decision status; use proposed, approved, rejected or superseded"
            ))),
        }
    }
}

impl fmt::Display for DecisionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A category key as typed: lowercase, `-` for spaces. Whether it is one of
/// the configured categories is checked against the config.
pub fn normalize_category(s: &str) -> String {
    s.trim().to_lowercase().replace([' ', '_'], "-")
}

/// A field of a decision (title, rationale, reason): one line of one to
/// `max` characters, without control characters.
pub fn check_text(what: &str, text: &str, max: usize) -> Result<String, ValueError> {
    super::text::one_line(what, text, max)
}

/// Who a decision is by, in words that never pass an attribution off as an
/// approval: only who approved (the authority who settled it, or the
/// recorder when they held the authority) is called the approver.
///
/// `approved by cfo`, `proposed by ana for cfo`, `decided by ana, approved
/// by cto`, `approved by cfo, recorded by ana`, `rejected by cfo; proposed by ana`.
pub fn attribution(
    status: &str,
    decided_by: &str,
    recorded_by: &str,
    settled_by: Option<&str>,
) -> String {
    let proposed = if decided_by == recorded_by {
        format!("proposed by {recorded_by}")
    } else {
        format!("proposed by {recorded_by} for {decided_by}")
    };
    match status {
        "approved" | "superseded" => {
            let approver = settled_by.unwrap_or(recorded_by);
            let mut out = if decided_by == approver {
                format!("approved by {approver}")
            } else {
                format!("decided by {decided_by}, approved by {approver}")
            };
            if recorded_by != approver {
                out.push_str(&format!(", recorded by {recorded_by}"));
            }
            out
        }
        "rejected" => match settled_by {
            Some(s) => format!("rejected by {s}; {proposed}"),
            None => format!("rejected; {proposed}"),
        },
        _ => proposed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attribution_never_reads_as_an_approval() {
        let table = [
            (
                ("proposed", "cfo", "mallory", None),
                "proposed by mallory for cfo",
            ),
            (("proposed", "ana", "ana", None), "proposed by ana"),
            (("approved", "cto", "cto", None), "approved by cto"),
            (
                ("approved", "cfo", "mallory", Some("cfo")),
                "approved by cfo, recorded by mallory",
            ),
            (
                ("approved", "ana", "cto", None),
                "decided by ana, approved by cto",
            ),
            (
                ("superseded", "ceo", "ana", Some("cto")),
                "decided by ceo, approved by cto, recorded by ana",
            ),
            (
                ("rejected", "cfo", "mallory", Some("cfo")),
                "rejected by cfo; proposed by mallory for cfo",
            ),
        ];
        for ((status, decided, recorded, settled), want) in table {
            assert_eq!(attribution(status, decided, recorded, settled), want);
        }
    }
}
