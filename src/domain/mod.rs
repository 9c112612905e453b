//! Pure domain logic: no IO, no async, nothing of ours imported from outside `domain`.

pub mod action;
pub mod decision;
pub mod direct;
pub mod escalation;
pub mod holiday;
pub mod meeting;
pub mod meeting_minutes;
pub mod notice;
pub mod org;
pub mod period;
pub mod recurrence;
pub mod risk;
pub mod text;
pub mod todo;
pub mod workspace;
pub mod zone;
