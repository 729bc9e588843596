//! The library's events, their tags, and helpers shared by its modules.
//!
//! Tags are `book:<id>` and `member:<id>`: a decision about a book reads the
//! events tagged with that book, a decision about a member those tagged with
//! that member, and a loan, which touches both, reads both.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wbx_guest::{CommandError, Event, NewEvent, QueryItem};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BookAdded {
    pub book_id: String,
    pub title: String,
    pub copies: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemberRegistered {
    pub member_id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BookLent {
    pub book_id: String,
    pub member_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BookReturned {
    pub book_id: String,
    pub member_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BadgeAwarded {
    pub member_id: String,
    pub badge: String,
}

pub fn book_tag(book_id: &str) -> String {
    format!("book:{book_id}")
}

pub fn member_tag(member_id: &str) -> String {
    format!("member:{member_id}")
}

/// A query item: any of `types`, carrying `tag`.
pub fn item(types: &[&str], tag: String) -> QueryItem {
    QueryItem {
        types: types.iter().map(|t| (*t).to_owned()).collect(),
        tags: vec![tag],
    }
}

/// The command's input, or `invalid-input` saying what is wrong with it.
pub fn input<T: DeserializeOwned>(json: &str) -> Result<T, CommandError> {
    serde_json::from_str(json).map_err(|e| CommandError::InvalidInput(e.to_string()))
}

/// Checks an id: 1 to 64 letters, digits, `-` or `_`.
pub fn id(field: &str, value: &str) -> Result<(), CommandError> {
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

/// A new event of `event_type` with `payload` as its data.
pub fn event<T: Serialize>(event_type: &str, tags: Vec<String>, payload: &T) -> NewEvent {
    NewEvent {
        event_type: event_type.to_owned(),
        tags,
        data: serde_json::to_string(payload).unwrap_or_else(|_| "null".to_owned()),
    }
}

/// The payload of a stored event, if it has the expected shape.
pub fn payload<T: DeserializeOwned>(event: &Event) -> Option<T> {
    serde_json::from_str(&event.data).ok()
}

/// Holds a command's input and what its fold has seen, for the one
/// execution an instance lives for.
pub struct Execution<I, S> {
    cell: std::cell::RefCell<Option<(I, S)>>,
}

impl<I, S: Default> Execution<I, S> {
    pub const fn new() -> Self {
        Execution {
            cell: std::cell::RefCell::new(None),
        }
    }

    pub fn start(&self, input: I) {
        *self.cell.borrow_mut() = Some((input, S::default()));
    }

    pub fn fold(&self, f: impl FnOnce(&I, &mut S)) {
        if let Some((input, state)) = self.cell.borrow_mut().as_mut() {
            f(input, state);
        }
    }

    pub fn finish(&self) -> Result<(I, S), CommandError> {
        self.cell
            .borrow_mut()
            .take()
            .ok_or_else(|| CommandError::InvalidInput("decide before prepare".into()))
    }
}

impl<I, S: Default> Default for Execution<I, S> {
    fn default() -> Self {
        Self::new()
    }
}
