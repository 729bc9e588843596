//! `record-order {order_id, customer, total_cents}`: appends `OrderPlaced`,
//! once per order id. The flow `spenders` (wbx.toml) follows these events
//! from the event log: `wbx exec record-order` is how orders come in.

use serde::{Deserialize, Serialize};
use wbx_guest::{CommandError, Decide, Event, Exists, NewEvent, emit};

/// Tagged by order and by customer, so a decision can read either.
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct OrderPlaced {
    #[tag]
    pub order_id: String,
    #[tag]
    pub customer: String,
    pub total_cents: u64,
}

struct RecordOrder;

impl Decide for RecordOrder {
    type Input = OrderPlaced;
    type Folds = Exists<OrderPlaced>;

    fn folds(order: &OrderPlaced) -> Result<Self::Folds, CommandError> {
        if order.order_id.is_empty() || order.customer.is_empty() {
            return Err(CommandError::InvalidInput(
                "an order needs an order_id and a customer".into(),
            ));
        }
        if order.total_cents == 0 {
            return Err(CommandError::InvalidInput(
                "total_cents: an order costs something".into(),
            ));
        }
        Ok(Exists::tagged("order_id", &order.order_id))
    }

    fn decide(order: OrderPlaced, recorded: Self::Folds) -> Result<Vec<NewEvent>, CommandError> {
        if recorded.0 {
            return Err(CommandError::Rejected(format!(
                "order '{}' is recorded already",
                order.order_id
            )));
        }
        Ok(emit![order])
    }
}

wbx_guest::command!(RecordOrder);
