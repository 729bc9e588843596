//! `orders` (`shop.orders`): places orders by executing the events model's
//! `place-order` command; the order id is the idempotency key, so a retried
//! request places nothing twice.
//!
//! | route | answer |
//! |---|---|
//! | `POST /orders` `{order_id, item_id, quantity, total_cents}` | 201 `{order_id, position, duplicate}`; 400 invalid |
//!
//! Posting an order id again places nothing: the answer says `duplicate`.

use serde::{Deserialize, Serialize};
use wbx_guest::commands::{self, Failure};
use wbx_guest::service::{Request, Response, Service};

#[derive(Deserialize, Serialize)]
struct Order {
    order_id: String,
    item_id: String,
    quantity: u32,
    total_cents: u64,
}

#[derive(Serialize)]
struct Placed {
    order_id: String,
    /// The position of the `OrderPlaced` event in the store; none for a
    /// duplicate.
    position: Option<u64>,
    duplicate: bool,
}

struct Orders;

impl Service for Orders {
    fn handle(request: Request) -> Response {
        match (request.method.as_str(), request.path_only()) {
            ("POST", "/orders") => match request.json::<Order>() {
                Ok(order) => place(&order),
                Err(e) => Response::status(400).with_body(e),
            },
            (method, path) => Response::status(404)
                .with_body(format!("no route {method} {path}; routes: POST /orders")),
        }
    }
}

fn place(order: &Order) -> Response {
    let input = serde_json::to_string(order).unwrap_or_default();
    match commands::execute("place-order", &input, Some(&order.order_id)) {
        Ok(executed) => Response::json(&Placed {
            order_id: order.order_id.clone(),
            position: executed.position,
            duplicate: executed.duplicate,
        })
        .with_status(201),
        Err(Failure::InvalidInput(m)) => Response::status(400).with_body(m),
        Err(Failure::Rejected(m)) => Response::status(409).with_body(m),
        Err(other) => Response::status(500).with_body(format!("place-order: {other:?}")),
    }
}

wbx_guest::export_service!(Orders);
