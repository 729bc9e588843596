//! `{{module-name}}`: a sink. It logs each element it takes (`wbx dev`
//! prints the lines, the Logs pane shows them), JSON as JSON and anything
//! else as text, then answers with a verdict:
//!
//! - `Verdict::Accept`: send more when there is more;
//! - `Verdict::Throttle(ms)`: send nothing for `ms` (here `throttle_ms`
//!   of the node's config, `config = { throttle_ms = 100 }` in wbx.toml),
//!   while the queue before it fills and holds what feeds it;
//! - `Verdict::Pause`: send nothing until the flow is resumed.
//!
//! A batch is taken whole or not at all: after an `Err` the engine sends
//! it again (then one element at a time), so an element may come twice.
//! Its `sequence` is the same both times: a sink that must not act twice
//! keeps the ones it has seen, or executes a command with an idempotency
//! key.

use serde::Deserialize;
use serde_json::Value;
use wbx_guest::pipeline::{Element, Sink, Verdict};

/// The node's `config` in wbx.toml; every key optional.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    throttle_ms: u64,
}

struct {{ModuleName}} {
    throttle_ms: u64,
}

impl Sink for {{ModuleName}} {
    fn init(config: Value) -> Result<Self, String> {
        // `null` when the node has no config: the defaults.
        let config: Option<Config> = serde_json::from_value(config)
            .map_err(|e| format!("{{module-name}}: bad config: {e}"))?;
        let throttle_ms = config.unwrap_or_default().throttle_ms;
        Ok({{ModuleName}} { throttle_ms })
    }

    fn consume(&mut self, batch: Vec<Element>) -> Result<Verdict, String> {
        for element in &batch {
            let shown = match element.json::<Value>() {
                Ok(json) => json.to_string(),
                Err(_) => String::from_utf8_lossy(&element.payload).into_owned(),
            };
            wbx_guest::info!("#{} {shown}", element.sequence);
        }
        Ok(match self.throttle_ms {
            0 => Verdict::Accept,
            ms => Verdict::Throttle(ms),
        })
    }
}

// No state: a new version, or an instance made again after a failure,
// starts through `init`. `export_sink!({{ModuleName}} with state)` would
// hand the value over instead (it must then be Serialize + Deserialize).
wbx_guest::export_sink!({{ModuleName}});
