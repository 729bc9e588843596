//! `{{module-name}}`: an actor keeping a small key-value store in its
//! process.
//!
//! | message | what it does | as a call, it replies |
//! |---|---|---|
//! | `{"put": {"key": "k", "value": …}}` | stores the value under the key | the value it replaced, or `null` |
//! | `{"get": "k"}` | nothing | the value, or `null` |
//!
//! Send with a cast (`wbx send {{module-name}} '{"put": {"key": "a", "value": 1}}'`)
//! when no answer is needed, with a call (`wbx send {{module-name}} --call '{"get": "a"}'`)
//! when one is. A process starts only when something spawns it: list it
//! in a supervisor's `children` in wbx.toml (with `register = "{{module-name}}"`
//! to reach it by name), or spawn it from another actor with
//! `wbx_guest::actor::spawn("{{module-name}}", &args, SpawnOptions::default())`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wbx_guest::actor::{Actor, Message};

/// The process's state: handed to the new version on a hot swap (see the
/// macro at the end), shown by the Actors pane. A field added later needs
/// `#[serde(default)]`, so that the state the old version saved still reads.
#[derive(Serialize, Deserialize)]
struct {{ModuleName}} {
    entries: BTreeMap<String, Value>,
}

/// What it is sent, as JSON.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Op {
    Put { key: String, value: Value },
    Get(String),
}

impl Actor for {{ModuleName}} {
    /// Whatever the spawn passes; this actor needs nothing.
    type Args = Value;
    type Message = Op;
    type Reply = Value;

    fn init(_args: Value) -> Result<Self, String> {
        Ok({{ModuleName}} {
            entries: BTreeMap::new(),
        })
    }

    fn handle(&mut self, message: Message<Op>) -> Result<Option<Value>, String> {
        // A cast and a call carry the same messages; only a call's sender
        // waits for what this returns. An `Err(reason)` would end the
        // process with that reason.
        let Some(op) = message.body() else {
            // An exit or down message: only for a process that traps
            // exits or monitors others, which this one does not.
            return Ok(None);
        };
        Ok(match op {
            Op::Put { key, value } => self.entries.insert(key.clone(), value.clone()),
            Op::Get(key) => self.entries.get(key).cloned(),
        })
    }
}

// `with state`: the entries survive a hot swap. `export_actor!({{ModuleName}})`
// would hand nothing over, and each process would start again through `init`.
wbx_guest::export_actor!({{ModuleName}} with state);
