//! `{{module-name}}`: a source. It produces `{"n": 1}`, `{"n": 2}`, … up
//! to the `count` of its node's config (`config = { count = 100 }` in
//! wbx.toml; 10 without one), then says it has finished: the flow drains
//! and finishes once all its sources have.
//!
//! The engine calls `pull(max)` whenever the queues after the node have
//! room, and not while a full one holds it: a source never runs ahead of
//! its slowest reader. A pull may answer fewer than `max` elements, even
//! none for now (`Pull::More(vec![])`: the engine asks again a little
//! later), and never more.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wbx_guest::pipeline::{Output, Pull, Source};

/// The node's `config` in wbx.toml.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    count: u64,
}

/// The stage's state, handed to a new version or a restarted instance
/// (see the macro at the end): where the count is. A field added later
/// needs `#[serde(default)]`, so that the state an older version saved
/// still reads.
#[derive(Serialize, Deserialize)]
struct {{ModuleName}} {
    /// The next number to produce.
    next: u64,
    /// The last one; what `init` read from the config belongs in the state,
    /// as a restored instance is not given its config again.
    last: u64,
}

impl Source for {{ModuleName}} {
    fn init(config: Value) -> Result<Self, String> {
        // `null` when the node has no config.
        let config: Option<Config> = serde_json::from_value(config)
            .map_err(|e| format!("{{module-name}}: bad config: {e}"))?;
        let last = config.map_or(10, |c| c.count);
        Ok({{ModuleName}} { next: 1, last })
    }

    fn pull(&mut self, max: usize) -> Result<Pull, String> {
        let mut outputs = Vec::new();
        while outputs.len() < max && self.next <= self.last {
            outputs.push(Output::json(&json!({ "n": self.next }))?);
            self.next += 1;
        }
        Ok(if self.next > self.last {
            Pull::Finished(outputs)
        } else {
            Pull::More(outputs)
        })
    }
}

// `with state`: a new version, or an instance made again after a failure,
// goes on from `next` instead of starting again. `export_source!({{ModuleName}})`
// would start each from `init`, producing the numbers again.
wbx_guest::export_source!({{ModuleName}} with state);
