//! `ledger`: logs each customer's new totals as `totals` sends them
//! (`wbx run` and `wbx dev` print the lines):
//!
//! ```text
//! [ledger] ann: 3 orders, 75.00 in all
//! ```

use serde::Deserialize;
use serde_json::Value;
use wbx_guest::pipeline::{Element, Sink, Verdict};

#[derive(Deserialize)]
struct Totals {
    customer: String,
    orders: u64,
    total_cents: u64,
}

struct Ledger;

impl Sink for Ledger {
    fn init(_config: Value) -> Result<Self, String> {
        Ok(Ledger)
    }

    fn consume(&mut self, batch: Vec<Element>) -> Result<Verdict, String> {
        for element in &batch {
            let Totals {
                customer,
                orders,
                total_cents,
            } = element.json()?;
            let plural = if orders == 1 { "order" } else { "orders" };
            wbx_guest::info!(
                "{customer}: {orders} {plural}, {}.{:02} in all",
                total_cents / 100,
                total_cents % 100
            );
        }
        Ok(Verdict::Accept)
    }
}

wbx_guest::export_sink!(Ledger);
