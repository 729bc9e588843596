//! The board's events. Tags come from the fields marked `#[tag]`: a task's
//! events are tagged `task_id:<id>`, so a decision about one task reads
//! that task's events and nothing else.

use serde::{Deserialize, Serialize};
use wbx_guest::{CommandError, Event};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct TaskAdded {
    #[tag]
    pub task_id: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct TaskCompleted {
    #[tag]
    pub task_id: String,
}

/// Checks an id: 1 to 64 letters, digits, `-` or `_`.
pub fn check_id(value: &str) -> Result<(), CommandError> {
    let ok = (1..=64).contains(&value.len())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(CommandError::InvalidInput(
            "task_id: 1 to 64 letters, digits, '-' or '_'".into(),
        ))
    }
}
