//! `{{module-name}} {id, note}`: records a note under an id, once per id.
//! Its event is defined here; move it to a shared crate when other modules
//! need it.

use serde::{Deserialize, Serialize};
use wbx_guest::{CommandError, Decide, Event, Exists, NewEvent, emit};

/// Tagged `id:<id>`, so the decision reads this id's events only.
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct {{ModuleName}}Recorded {
    #[tag]
    pub id: String,
    pub note: String,
}

struct {{ModuleName}};

impl Decide for {{ModuleName}} {
    type Input = {{ModuleName}}Recorded;
    type Folds = Exists<{{ModuleName}}Recorded>;

    /// Validates the input and names the events the decision needs.
    fn folds(input: &Self::Input) -> Result<Self::Folds, CommandError> {
        if input.id.is_empty() {
            return Err(CommandError::InvalidInput("id: must not be empty".into()));
        }
        Ok(Exists::tagged("id", &input.id))
    }

    fn decide(input: Self::Input, recorded: Self::Folds) -> Result<Vec<NewEvent>, CommandError> {
        if recorded.0 {
            return Err(CommandError::Rejected(format!(
                "'{}' is recorded already",
                input.id
            )));
        }
        Ok(emit![input])
    }
}

wbx_guest::command!({{ModuleName}});
