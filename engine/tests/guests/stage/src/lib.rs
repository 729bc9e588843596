//! A processor for the engine's tests: stamps each JSON object it gets and
//! passes it on, or misbehaves as its config says. `stage-v2` builds this
//! source stamping version 2 and taking the state `stage` saves;
//! `stage-nostate` stamps version 2 too but has no `stage-state` export, so
//! a restart or a swap to it starts again through `init`.
//!
//! Each element's payload must be a JSON object (else the element fails).
//! By default the stage emits it, with the input's key, with two fields
//! added (others pass through):
//! `"seen"`, how many elements this stage has handled in all (carried in
//! its state, so it goes on across restarts and swaps; an element that
//! fails does not count, one filtered out does), and `"version"`: 1, or 2
//! in `stage-v2` and `stage-nostate`.
//!
//! Config (every key optional; `null` is all defaults; an unknown key
//! fails `init`):
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `trap_after` | none | panics (the instance traps) on the N-th element this instance is given since its `init` or `restore-state`: a restarted instance counts from 0 again, so the retried element passes, and N = 1 traps on every element |
//! | `trap_on` | none | panics on the element whose `n` is this, whatever the instance: a poison element |
//! | `fail_on` | none | an element whose payload contains this text fails (`Err`, saying `fail_on`); a bug `stage-v2` fixes: it ignores `fail_on` |
//! | `sleep_ms` | 0 | sleeps this long per element (only on the element whose `n` is `sleep_on`, when set) |
//! | `sleep_on` | none | see `sleep_ms` |
//! | `route` | false | emits to port `even` or `odd` by the input's `n` (an element without a whole `n` fails) |
//! | `filter_odd` | false | drops elements whose `n` is odd (keeps those without one) |
//! | `fan` | none | emits K copies of each element, each with `"fan": i` (0 ≤ i < K); K = 0 drops it |
//! | `pass` | false | passes each element on as it came (payload, content type, key), counting `seen`, and nothing else: what `wbx bench` measures the runtime with |
//!
//! In that order: `pass`, `trap_after`, reading the object, `trap_on`, the
//! sleep, `fail_on`, `route`'s port, counting `seen`, `filter_odd`, `fan`.
//!
//! State: `{"seen": n, "config": {…}}` (the config as read by `init`,
//! since restore gets none); `version` is always the running code's.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use wbx_guest::pipeline::{Element, Output, Processor};

const VERSION: u64 = if cfg!(feature = "v2") { 2 } else { 1 };

#[derive(Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    trap_after: Option<u64>,
    trap_on: Option<u64>,
    fail_on: Option<String>,
    sleep_ms: u64,
    sleep_on: Option<u64>,
    route: bool,
    filter_odd: bool,
    fan: Option<u64>,
    pass: bool,
}

#[derive(Serialize, Deserialize, Default)]
struct Stage {
    seen: u64,
    config: Config,
    /// What `trap_after` counts: not saved, so it starts again with each
    /// instance and a trap does not repeat on the retried element.
    #[serde(skip)]
    given: u64,
}

impl Processor for Stage {
    fn init(config: Value) -> Result<Self, String> {
        // `null` (no config) reads as None: all defaults.
        let config: Config = serde_json::from_value::<Option<Config>>(config)
            .map_err(|e| format!("stage: bad config: {e}"))?
            .unwrap_or_default();
        Ok(Stage {
            config,
            ..Stage::default()
        })
    }

    fn process(&mut self, element: Element) -> Result<Vec<Output>, String> {
        self.given += 1;
        if self.config.pass {
            self.seen += 1;
            let mut output = Output::bytes(element.payload, element.content_type);
            output.key = element.key;
            return Ok(vec![output]);
        }
        if self.config.trap_after.is_some_and(|n| self.given >= n) {
            panic!("stage traps on element {}", element.sequence);
        }
        let mut object: Map<String, Value> = element.json()?;
        let n = object.get("n").and_then(Value::as_u64);
        if n.is_some() && self.config.trap_on == n {
            panic!("stage traps on n = {}", n.unwrap_or_default());
        }
        if self.config.sleep_ms > 0 && self.config.sleep_on.is_none_or(|on| Some(on) == n) {
            std::thread::sleep(Duration::from_millis(self.config.sleep_ms));
        }
        if let Some(text) = &self.config.fail_on
            && VERSION == 1
            && String::from_utf8_lossy(&element.payload).contains(text.as_str())
        {
            return Err(format!(
                "fail_on: element {} contains {text:?}",
                element.sequence
            ));
        }
        let port = match (self.config.route, n) {
            (false, _) => None,
            (true, Some(n)) => Some(if n % 2 == 0 { "even" } else { "odd" }),
            (true, None) => {
                return Err(format!(
                    "element {} has no whole number n to route by",
                    element.sequence
                ));
            }
        };
        self.seen += 1;
        if self.config.filter_odd && n.is_some_and(|n| n % 2 == 1) {
            return Ok(vec![]);
        }
        object.insert("seen".into(), json!(self.seen));
        object.insert("version".into(), json!(VERSION));
        let copies: Vec<Value> = match self.config.fan {
            None => vec![Value::Object(object)],
            Some(k) => (0..k)
                .map(|i| {
                    let mut copy = object.clone();
                    copy.insert("fan".into(), json!(i));
                    Value::Object(copy)
                })
                .collect(),
        };
        copies
            .iter()
            .map(|copy| {
                let mut output = Output::json(copy)?;
                if let Some(port) = port {
                    output = output.port(port);
                }
                if let Some(key) = &element.key {
                    output = output.key(key.as_str());
                }
                Ok(output)
            })
            .collect()
    }
}

#[cfg(feature = "state")]
wbx_guest::export_processor!(Stage with state);
#[cfg(not(feature = "state"))]
wbx_guest::export_processor!(Stage);
