//! The library's events. Tags come from the fields marked `#[tag]`:
//! `book_id:<id>` and `member_id:<id>`. A decision about a book reads the
//! events tagged with that book, one about a member those tagged with that
//! member, and a loan, which touches both, reads both.

use serde::{Deserialize, Serialize};
use wbx_guest::{CommandError, Event};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct BookAdded {
    #[tag]
    pub book_id: String,
    pub title: String,
    pub copies: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct MemberRegistered {
    #[tag]
    pub member_id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct BookLent {
    #[tag]
    pub book_id: String,
    #[tag]
    pub member_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct BookReturned {
    #[tag]
    pub book_id: String,
    #[tag]
    pub member_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct BadgeAwarded {
    #[tag]
    pub member_id: String,
    #[tag]
    pub badge: String,
}

/// Checks an id: 1 to 64 letters, digits, `-` or `_`.
pub fn check_id(field: &str, value: &str) -> Result<(), CommandError> {
    let ok = (1..=64).contains(&value.len())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(CommandError::InvalidInput(format!(
            "{field}: 1 to 64 letters, digits, '-' or '_'"
        )))
    }
}
