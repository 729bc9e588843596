//! `totals`: the running total of each customer's orders, from the
//! `OrderPlaced` events the flow's `orders` source reads from the event
//! log. An element from an events source is the event as the log holds
//! it (as `wbx events --json` prints it):
//!
//! ```text
//! {"position": 7, "type": "OrderPlaced", "tags": ["order_id:o7", "customer:ann"],
//!  "data": {"order_id": "o7", "customer": "ann", "total_cents": 2500}, "id": "…", "timestamp": "…"}
//! ```
//!
//! For each order it sends, by port `all`, the customer's new totals
//! (`{"customer": "ann", "orders": 3, "total_cents": 7500}`), and by port
//! `big`, once per customer, the order that takes the customer to
//! `big_cents` or more (`config = { big_cents = 100000 }` in wbx.toml):
//! `{"customer": "ann", "total_cents": 100500}`, the input of the command
//! `flag-big-spender` that the `flag` sink executes.
//!
//! The totals are the stage's state (`with state`): saved after each good
//! batch, handed to a new version of this crate under `wbx dev`, or to an
//! instance made again after a trap. They are not kept across runs of the
//! flow: a new run (the engine starting again) reads the log from its
//! first order again, and adds everything up again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wbx_guest::pipeline::{Element, Output, Processor};

const ALL: &str = "all";
const BIG: &str = "big";

/// The node's `config` in wbx.toml.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    big_cents: u64,
}

/// An event of the log, the part of it this stage reads.
#[derive(Deserialize)]
struct Logged {
    #[serde(rename = "type")]
    event_type: String,
    data: Order,
}

/// `OrderPlaced`'s data. This crate declares what it reads: between the
/// command and this stage, the contract is the JSON.
#[derive(Deserialize)]
struct Order {
    customer: String,
    total_cents: u64,
}

#[derive(Default, Serialize, Deserialize)]
struct Customer {
    orders: u64,
    total_cents: u64,
    /// Sent by `big` already.
    big: bool,
}

/// The stage's state. `big_cents` comes from the config, read by `init`:
/// an instance restored from a saved state is given no config.
#[derive(Serialize, Deserialize)]
struct Totals {
    big_cents: u64,
    customers: BTreeMap<String, Customer>,
}

impl Processor for Totals {
    fn init(config: Value) -> Result<Self, String> {
        let config: Config = serde_json::from_value(config)
            .map_err(|e| format!("totals: its config needs big_cents: {e}"))?;
        Ok(Totals {
            big_cents: config.big_cents,
            customers: BTreeMap::new(),
        })
    }

    fn process(&mut self, element: Element) -> Result<Vec<Output>, String> {
        let Logged { event_type, data } = element.json()?;
        if event_type != "OrderPlaced" {
            return Err(format!("totals reads OrderPlaced events, not {event_type}"));
        }
        let customer = self.customers.entry(data.customer.clone()).or_default();
        customer.orders += 1;
        customer.total_cents += data.total_cents;
        let totals = json!({
            "customer": data.customer,
            "orders": customer.orders,
            "total_cents": customer.total_cents,
        });
        let mut outputs = vec![Output::json(&totals)?.port(ALL).key(&data.customer)];
        if !customer.big && customer.total_cents >= self.big_cents {
            customer.big = true;
            let big = json!({ "customer": data.customer, "total_cents": customer.total_cents });
            outputs.push(Output::json(&big)?.port(BIG).key(&data.customer));
        }
        Ok(outputs)
    }
}

wbx_guest::export_processor!(Totals with state);
