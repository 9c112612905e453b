//! Quorum: a chat-ops bot that runs an executive team's rhythm of meetings,
//! decisions and escalations. The binary in `main.rs` only wires the CLI;
//! everything else lives here so the tests can reach it.

pub mod domain;
