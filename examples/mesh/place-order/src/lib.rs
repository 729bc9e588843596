//! `place-order {order_id, item_id, quantity, total_cents}`: an order id is
//! placed once, for 1 to 10 of an item. `orders` executes it for each
//! `POST /orders`; `wbx exec place-order` does too.

use serde::{Deserialize, Serialize};
use wbx_guest::{CommandError, Decide, Event, Exists, NewEvent, emit};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct OrderPlaced {
    #[tag]
    pub order_id: String,
    #[tag]
    pub item_id: String,
    pub quantity: u32,
    pub total_cents: u64,
}

struct PlaceOrder;

impl Decide for PlaceOrder {
    type Input = OrderPlaced;
    type Folds = Exists<OrderPlaced>;

    fn folds(order: &OrderPlaced) -> Result<Self::Folds, CommandError> {
        if order.order_id.is_empty() || order.item_id.is_empty() {
            return Err(CommandError::InvalidInput(
                "an order needs an order_id and an item_id".into(),
            ));
        }
        if !(1..=10).contains(&order.quantity) {
            return Err(CommandError::InvalidInput(format!(
                "quantity {} is not between 1 and 10",
                order.quantity
            )));
        }
        Ok(Exists::tagged("order_id", &order.order_id))
    }

    fn decide(order: OrderPlaced, placed: Self::Folds) -> Result<Vec<NewEvent>, CommandError> {
        if placed.0 {
            return Err(CommandError::Rejected(format!(
                "order '{}' is placed already",
                order.order_id
            )));
        }
        Ok(emit![order])
    }
}

wbx_guest::command!(PlaceOrder);
