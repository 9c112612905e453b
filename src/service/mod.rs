//! Use cases: each takes the store and the current instant and returns typed
//! outcomes. Services never format platform markup.

pub mod actions;
pub mod decisions;
pub mod escalations;
pub mod meetings;
pub mod todo;
