//! Workspaces: which platform a workspace id belongs to, read from its shape.
//! Slack team ids are `T...` (or `E...` for an Enterprise Grid org), Discord
//! guilds are snowflakes, Discord direct messages are `dm-<user>`; anything
//! else is local (the console, or series the config file creates).

/// The platform a workspace id belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The console, or the operator's own config-defined workspace.
    Local,
    Slack,
    /// A Discord server.
    Guild,
    /// A Discord direct message with the bot.
    Direct,
}

impl Kind {
    pub fn of(workspace: &str) -> Kind {
        if is_slack_team(workspace) {
            Kind::Slack
        } else if is_guild(workspace) {
            Kind::Guild
        } else if workspace.starts_with("dm-") {
            Kind::Direct
        } else {
            Kind::Local
        }
    }

    /// The platform's name, as operators read it in config (`[slack]`, `[discord]`).
    pub fn platform(self) -> &'static str {
        match self {
            Kind::Slack => "slack",
            Kind::Guild | Kind::Direct => "discord",
            Kind::Local => "local",
        }
    }
}

/// Slack team ids: `T` (or `E` for an Enterprise Grid org) and uppercase letters or digits.
pub fn is_slack_team(id: &str) -> bool {
    (3..=32).contains(&id.len())
        && (id.starts_with('T') || id.starts_with('E'))
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Discord ids (guilds, channels, users): snowflakes of 17 to 20 digits.
pub fn is_guild(id: &str) -> bool {
    (17..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workspace_id_says_its_platform() {
        assert_eq!(Kind::of("T0001TEAM"), Kind::Slack);
        assert_eq!(Kind::of("E0001GRID"), Kind::Slack);
        assert_eq!(Kind::of("900000000000000001"), Kind::Guild);
        assert_eq!(Kind::of("dm-900000000000000010"), Kind::Direct);
        assert_eq!(Kind::of("console"), Kind::Local);
        assert_eq!(Kind::of("acme"), Kind::Local);
        assert_eq!(
            Kind::of("Team"),
            Kind::Local,
            "lowercase letters are no team id"
        );
        assert_eq!(Kind::of("12345"), Kind::Local, "too short for a snowflake");
    }
}
