//! `{{module-name}}`: a processor. It passes each JSON object on with the
//! number of objects it has passed so far, and filters out the rest:
//!
//! ```text
//! {"page": "/docs"}   →  {"page": "/docs", "passed": 1}
//! "some text"         →  (nothing)
//! {"page": "/"}       →  {"page": "/", "passed": 2}
//! ```
//!
//! `process` answers zero or more outputs per element: none filters it
//! out, several fan it out, and `.port("name")` on an output sends it by
//! one of the node's `ports` (a router). An `Err` fails that element only:
//! the engine tries it again, then sets it aside as a dead letter.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wbx_guest::pipeline::{Element, Output, Processor};

/// The stage's state, handed to a new version or a restarted instance
/// (see the macro at the end). A field added later needs
/// `#[serde(default)]`, so that the state an older version saved still
/// reads.
#[derive(Serialize, Deserialize)]
struct {{ModuleName}} {
    passed: u64,
}

impl Processor for {{ModuleName}} {
    /// `config` is the node's `config` in wbx.toml, as JSON (`null` when it
    /// has none); this stage needs none.
    fn init(_config: Value) -> Result<Self, String> {
        Ok({{ModuleName}} { passed: 0 })
    }

    fn process(&mut self, element: Element) -> Result<Vec<Output>, String> {
        // Not JSON, or JSON but not an object: filtered out.
        let Ok(Value::Object(mut object)) = element.json::<Value>() else {
            return Ok(Vec::new());
        };
        self.passed += 1;
        object.insert("passed".into(), json!(self.passed));
        let mut output = Output::json(&object)?;
        // The key, if the element had one, goes on with it.
        if let Some(key) = element.key {
            output = output.key(key);
        }
        Ok(vec![output])
    }
}

// `with state`: `passed` survives a hot swap and a restart.
// `export_processor!({{ModuleName}})` would start each from `init`.
wbx_guest::export_processor!({{ModuleName}} with state);
