//! The org chart: executives by role key (`ceo`, `cto`, ...), with their name,
//! chat user and channel.

use std::collections::BTreeMap;

/// Who is acting, where, and when.
#[derive(Debug, Clone)]
pub struct Actor {
    pub workspace: String,
    pub user: String,
    /// The channel the command was typed in, when there is one.
    pub channel: Option<String>,
    /// Platform roles the user holds (Discord role ids), for executives
    /// configured by role rather than by user.
    pub platform_roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executive {
    pub role: String,
    pub name: String,
    /// The executive's chat user (a platform user id or name), when known.
    pub user: Option<String>,
    /// The executive's Slack user id, when Quorum also runs in Slack.
    pub slack_user: Option<String>,
    /// A Discord role id standing for this executive: members holding it act
    /// with the executive's authority, and it is pinged as `<@&id>`.
    pub discord_role: Option<String>,
    /// The executive's own channel, when configured.
    pub channel: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Org {
    executives: BTreeMap<String, Executive>,
}

impl Org {
    pub fn new(executives: impl IntoIterator<Item = Executive>) -> Self {
        Org {
            executives: executives
                .into_iter()
                .map(|e| (e.role.clone(), e))
                .collect(),
        }
    }

    pub fn get(&self, role: &str) -> Option<&Executive> {
        self.executives.get(role)
    }

    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.executives.keys().map(String::as_str)
    }

    /// `ceo (Ana García)` for a known role, the name itself otherwise.
    pub fn describe(&self, who: &str) -> String {
        match self.get(who) {
            Some(e) if !e.name.is_empty() => format!("{} ({})", e.role, e.name),
            _ => who.to_string(),
        }
    }
}

impl Org {
    /// How a message addresses the holder of `role` on every platform:
    /// `CFO (Ana García)`, or `CFO`. Never a platform id: each adapter pings
    /// the executive in its own way beside this text.
    pub fn addressee(&self, role: &str) -> String {
        match self.get(role) {
            Some(e) if !e.name.is_empty() && !e.name.eq_ignore_ascii_case(role) => {
                format!("{} ({})", role.to_uppercase(), e.name)
            }
            _ => role.to_uppercase(),
        }
    }
}

/// Role keys are short lowercase words: `ceo`, `cto`, `vp-eng`.
pub fn is_role_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && key.len() <= 32
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}
