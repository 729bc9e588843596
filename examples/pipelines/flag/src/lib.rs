//! `flag`: the flow's end in the event log. For each big spender `totals`
//! sends (`{"customer": "ann", "total_cents": 100500}`), it executes the
//! command `flag-big-spender`, which appends `BigSpenderFlagged`:
//! `wbx events --type BigSpenderFlagged` lists them.
//!
//! Sinks are at least once: a batch that failed is sent again, so a
//! customer may come twice, and a new run of the flow reads the log from
//! its first order again. The command is what makes that safe: it flags a
//! customer once, and appends nothing the second time. A command that
//! fails (the event store unreachable, say) fails the batch: the engine
//! tries again, then sets the element aside as a dead letter
//! (`wbx flow redrive spenders` sends it again).

use serde_json::Value;
use wbx_guest::commands::execute;
use wbx_guest::pipeline::{Element, Sink, Verdict};

const COMMAND: &str = "flag-big-spender";

struct Flag;

impl Sink for Flag {
    fn init(_config: Value) -> Result<Self, String> {
        Ok(Flag)
    }

    fn consume(&mut self, batch: Vec<Element>) -> Result<Verdict, String> {
        for element in &batch {
            // The element is the command's input as it is.
            let input = element.text()?;
            let executed = execute(COMMAND, input, None).map_err(|failure| {
                format!(
                    "{COMMAND} failed on element {}: {failure:?}",
                    element.sequence
                )
            })?;
            if executed.events > 0 {
                wbx_guest::info!("flagged a big spender: {input}");
            }
        }
        Ok(Verdict::Accept)
    }
}

wbx_guest::export_sink!(Flag);
