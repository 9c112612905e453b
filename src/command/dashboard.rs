//! `/dashboard`: a private sign-in link to the workspace's dashboard page.
//!
//! ```text
//! /dashboard
//! ```

use super::CommandSpec;

/// `/dashboard` has no subcommand: its spec's name is empty.
pub static DASHBOARD: [CommandSpec; 1] = [CommandSpec {
    family: "dashboard",
    name: "",
    help: "a private sign-in link (15 minutes, one use) to this workspace's dashboard page",
    options: &[],
}];
