//! `flag-big-spender {customer, total_cents}`: appends `BigSpenderFlagged`
//! for a customer, once. The flow's `flag` sink executes it; a sink may
//! get an element twice (after a failure), and the flow reads the event
//! log from the start again whenever it starts, so flagging a customer
//! who is flagged already is not an error: it appends nothing.

use serde::{Deserialize, Serialize};
use wbx_guest::{CommandError, Decide, Event, Exists, NewEvent, emit};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct BigSpenderFlagged {
    #[tag]
    pub customer: String,
    /// What the customer had spent when flagged.
    pub total_cents: u64,
}

struct FlagBigSpender;

impl Decide for FlagBigSpender {
    type Input = BigSpenderFlagged;
    type Folds = Exists<BigSpenderFlagged>;

    fn folds(flag: &BigSpenderFlagged) -> Result<Self::Folds, CommandError> {
        if flag.customer.is_empty() {
            return Err(CommandError::InvalidInput(
                "customer: must not be empty".into(),
            ));
        }
        Ok(Exists::tagged("customer", &flag.customer))
    }

    fn decide(
        flag: BigSpenderFlagged,
        flagged: Self::Folds,
    ) -> Result<Vec<NewEvent>, CommandError> {
        if flagged.0 {
            return Ok(Vec::new());
        }
        Ok(emit![flag])
    }
}

wbx_guest::command!(FlagBigSpender);
