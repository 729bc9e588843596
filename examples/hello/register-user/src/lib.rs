//! Registers a user under a unique username.
//!
//! The decision needs only the events tagged with that username, so the
//! query is one item, `UserRegistered` + `username:<name>`: two registrations
//! of the same name conflict, registrations of different names never do.

use std::cell::{Cell, RefCell};

use wbx_guest::{Command, CommandError, Event, NewEvent, QueryItem};

#[derive(serde::Deserialize)]
struct Input {
    username: String,
    email: String,
}

thread_local! {
    static INPUT: RefCell<Option<Input>> = const { RefCell::new(None) };
    static TAKEN: Cell<bool> = const { Cell::new(false) };
}

struct RegisterUser;

impl Command for RegisterUser {
    fn prepare(input: String) -> Result<Vec<QueryItem>, CommandError> {
        let input: Input = serde_json::from_str(&input)
            .map_err(|e| CommandError::InvalidInput(e.to_string()))?;
        let valid = (3..=32).contains(&input.username.len())
            && input.username.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(CommandError::InvalidInput(
                "username: 3 to 32 letters, digits or underscores".into(),
            ));
        }
        if !input.email.contains('@') {
            return Err(CommandError::InvalidInput("email: not an address".into()));
        }
        let query = vec![QueryItem {
            types: vec!["UserRegistered".into()],
            tags: vec![format!("username:{}", input.username)],
        }];
        INPUT.with(|slot| *slot.borrow_mut() = Some(input));
        Ok(query)
    }

    fn fold(events: Vec<Event>) {
        if !events.is_empty() {
            TAKEN.with(|taken| taken.set(true));
        }
    }

    fn decide() -> Result<Vec<NewEvent>, CommandError> {
        let input = INPUT
            .with(|slot| slot.borrow_mut().take())
            .ok_or_else(|| CommandError::InvalidInput("no input".into()))?;
        if TAKEN.with(Cell::get) {
            return Err(CommandError::Rejected(format!(
                "username '{}' is taken",
                input.username
            )));
        }
        wbx_guest::info!("registering {}", input.username);
        Ok(vec![NewEvent {
            event_type: "UserRegistered".into(),
            tags: vec![format!("username:{}", input.username)],
            data: serde_json::json!({ "username": input.username, "email": input.email })
                .to_string(),
        }])
    }
}

wbx_guest::export_command!(RegisterUser);
