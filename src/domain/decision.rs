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
