//! Direct messages as a delivery's destination. An executive with
//! `[org.<role>] notify = "dm"` gets the notices addressed to them alone
//! (chases, approval requests, risk reviews) by direct message. Such a
//! delivery's channel is a target written here and read back by each chat
//! adapter:
//!
//! ```text
//! dm:cfo:U0123ABCD,123456789012345678:finance
//!    role  chat user ids                fallback channel
//! ```
//!
//! Each adapter opens the direct message with the id of its own platform's
//! shape (Slack `U...`/`W...`, Discord snowflakes) and posts there; with no
//! id of its own it posts to the fallback channel. Role keys, ids and
//! channel names never hold a `:`, so the target reads back unambiguously.

const PREFIX: &str = "dm:";

/// Where a direct message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Direct<'a> {
    /// The executive's role key (`cfo`).
    pub role: &'a str,
    /// Their chat user ids, any platform.
    pub users: Vec<&'a str>,
    /// The channel to post to when no id fits the platform.
    pub fallback: &'a str,
}

impl Direct<'_> {
    /// The first of the ids that `fits` (an adapter passes its own id check).
    pub fn user(&self, fits: impl Fn(&str) -> bool) -> Option<&str> {
        self.users.iter().copied().find(|u| fits(u))
    }
}

/// The channel value of a direct message to `role` (ids without a `:` or
/// `,` are kept; the others cannot be written into a target and are left out).
pub fn target(role: &str, users: &[String], fallback: &str) -> String {
    let ids: Vec<&str> = users
        .iter()
        .map(String::as_str)
        .filter(|u| !u.is_empty() && !u.contains([':', ',']))
        .collect();
    format!("{PREFIX}{role}:{}:{fallback}", ids.join(","))
}

/// The direct message a channel value names, if it names one.
pub fn parse(channel: &str) -> Option<Direct<'_>> {
    let rest = channel.strip_prefix(PREFIX)?;
    let mut parts = rest.splitn(3, ':');
    let role = parts.next().filter(|r| !r.is_empty())?;
    let users = parts.next()?.split(',').filter(|u| !u.is_empty()).collect();
    let fallback = parts.next()?;
    Some(Direct {
        role,
        users,
        fallback,
    })
}

/// How people read a destination: `#finance`, or `a direct message to cfo`.
pub fn shown(channel: &str) -> String {
    match parse(channel) {
        Some(d) => format!("a direct message to {}", d.role),
        None => format!("#{channel}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_reads_back_as_written() {
        let t = target(
            "cfo",
            &["U0123ABCD".to_string(), "123456789012345678".to_string()],
            "finance",
        );
        assert_eq!(t, "dm:cfo:U0123ABCD,123456789012345678:finance");
        let d = parse(&t).unwrap();
        assert_eq!(d.role, "cfo");
        assert_eq!(d.users, ["U0123ABCD", "123456789012345678"]);
        assert_eq!(d.fallback, "finance");
        assert_eq!(
            d.user(|u| u.bytes().all(|b| b.is_ascii_digit())),
            Some("123456789012345678")
        );
    }

    #[test]
    fn ordinary_channels_are_not_direct_messages() {
        assert_eq!(parse("finance"), None);
        assert_eq!(parse("C0000FIN"), None);
        assert_eq!(parse("dm:"), None, "no role");
        assert_eq!(shown("finance"), "#finance");
        assert_eq!(shown("dm:cfo:U0123ABCD:finance"), "a direct message to cfo");
    }

    #[test]
    fn ids_that_would_break_the_target_are_left_out() {
        let t = target("cto", &["a:b".to_string(), "U1,2".to_string()], "cto");
        let d = parse(&t).unwrap();
        assert!(d.users.is_empty());
        assert_eq!(d.fallback, "cto");
    }
}
