//! Pipelines: flows of elements through sources, processors and sinks.
//!
//! A flow (`[flows.<name>]` in `wbx.toml`) is a graph of stages joined by
//! bounded queues. A module stage is one of three kinds, each a trait:
//!
//! - a [`Source`] produces elements when the host asks ([`Source::pull`]),
//!   until it says it has [`Pull::Finished`];
//! - a [`Processor`] turns each [`Element`] into zero or more [`Output`]s
//!   (a map, a filter, a router to named ports, an aggregate);
//! - a [`Sink`] consumes batches at the end of a flow and answers with a
//!   [`Verdict`] that can slow its input down or pause it.
//!
//! `init` gets the node's `config` from `wbx.toml` as JSON (`null` when it
//! has none). An `Err` from `process` or `consume` is that element's (or
//! batch's) failure: the host retries it, then sets it aside as a dead
//! letter. A panic traps the instance; the host restarts the stage.
//!
//! A crate declares its kind with `[package.metadata.wbx] kind = "source"`
//! (or `"processor"`, `"sink"`) and exports its stage with
//! [`export_source!`](crate::export_source),
//! [`export_processor!`](crate::export_processor) or
//! [`export_sink!`](crate::export_sink):
//!
//! - `export_processor!(Enrich with state)`, when `Enrich` is `Serialize +
//!   Deserialize`: the stage value is saved as JSON after each good batch
//!   and handed to a restarted instance or a new version instead of
//!   calling `init` (new fields need `#[serde(default)]`). `restore` gets
//!   no config, so what `init` read from it belongs in the value.
//! - `export_processor!(Enrich)`: nothing is saved; a restart or a new
//!   version starts again through `init`.
//!
//! Code map: this file holds the types and traits a stage is written with;
//! `pipeline/export.rs` is what the macros export (the stage value kept for
//! the instance's life); `pipeline/worlds.rs` generates the bindings of the
//! stage worlds, once each.
//!
//! ```no_run
//! use serde::{Deserialize, Serialize};
//! use serde_json::{Value, json};
//! use wbx_guest::pipeline::{Element, Output, Processor};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Enrich { site: String, handled: u64 }
//!
//! impl Processor for Enrich {
//!     fn init(config: Value) -> Result<Self, String> {
//!         let site = config["site"].as_str().unwrap_or("default").to_owned();
//!         Ok(Enrich { site, handled: 0 })
//!     }
//!
//!     fn process(&mut self, element: Element) -> Result<Vec<Output>, String> {
//!         let mut click: Value = element.json()?;
//!         if click["bot"] == true {
//!             return Ok(vec![]); // filtered out
//!         }
//!         self.handled += 1;
//!         click["site"] = json!(self.site);
//!         let port = if click["page"].is_string() { "pages" } else { "other" };
//!         let mut output = Output::json(&click)?.port(port);
//!         if let Some(key) = element.key {
//!             output = output.key(key);
//!         }
//!         Ok(vec![output])
//!     }
//! }
//!
//! wbx_guest::export_processor!(Enrich with state);
//! ```

#[doc(hidden)]
pub mod export;
#[doc(hidden)]
pub mod worlds;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use worlds::sink_module::exports::wbx::guest::sink::Verdict;
pub use worlds::source_module::wbx::guest::stage_types::{Element, Output};

/// The content type of [`Output::json`].
const JSON: &str = "application/json";
/// The content type of [`Output::text`].
const TEXT: &str = "text/plain";

impl Element {
    /// The payload read as JSON into `T` (`serde_json::Value` for any).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_slice(&self.payload).map_err(|e| {
            format!(
                "element {} ({}) is not the JSON this stage reads: {e}",
                self.sequence, self.content_type
            )
        })
    }

    /// The payload as UTF-8 text.
    pub fn text(&self) -> Result<&str, String> {
        std::str::from_utf8(&self.payload).map_err(|e| {
            format!(
                "element {} ({}) is not UTF-8 text: {e}",
                self.sequence, self.content_type
            )
        })
    }
}

impl Output {
    /// `value` as JSON (`application/json`).
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Output, String> {
        let payload = serde_json::to_vec(value)
            .map_err(|e| format!("the output cannot be serialised as JSON: {e}"))?;
        Ok(Output::bytes(payload, JSON))
    }

    /// `text` as `text/plain` (UTF-8).
    pub fn text(text: impl Into<String>) -> Output {
        Output::bytes(text.into().into_bytes(), TEXT)
    }

    /// Any bytes, with the content type that says what they are.
    pub fn bytes(payload: impl Into<Vec<u8>>, content_type: impl Into<String>) -> Output {
        Output {
            payload: payload.into(),
            content_type: content_type.into(),
            key: None,
            port: None,
        }
    }

    /// With a key (a user id, a page), for stages downstream that group.
    pub fn key(self, key: impl Into<String>) -> Output {
        Output {
            key: Some(key.into()),
            ..self
        }
    }

    /// To the edges leaving output port `port` only (a router's node
    /// declares its `ports`); without one, to the edges that name no port.
    pub fn port(self, port: impl Into<String>) -> Output {
        Output {
            port: Some(port.into()),
            ..self
        }
    }
}

/// What a [`Source::pull`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pull {
    /// These elements (maybe none for now: the host asks again a little
    /// later), and more to come.
    More(Vec<Output>),
    /// These last elements, and nothing more, ever: the flow drains and
    /// finishes.
    Finished(Vec<Output>),
}

/// A source: produces the elements a flow starts from.
pub trait Source: Sized + 'static {
    /// Starts the stage with its node's `config` (`null` when none). An
    /// error fails the stage.
    fn init(config: Value) -> Result<Self, String>;

    /// Up to `max` new elements; more than `max` is an error.
    fn pull(&mut self, max: usize) -> Result<Pull, String>;
}

/// A processor: what each element becomes.
pub trait Processor: Sized + 'static {
    fn init(config: Value) -> Result<Self, String>;

    /// The outputs of one element: none filters it out, several fan it
    /// out. An error fails this element only; the rest of its batch goes on.
    fn process(&mut self, element: Element) -> Result<Vec<Output>, String>;
}

/// A sink: where a flow's elements end.
pub trait Sink: Sized + 'static {
    fn init(config: Value) -> Result<Self, String>;

    /// Consumes a batch, all or nothing: after an error the host retries
    /// it, then sends it one element at a time to find the failing one, so
    /// an element may arrive more than once (its `sequence` stays the same).
    fn consume(&mut self, batch: Vec<Element>) -> Result<Verdict, String>;
}
