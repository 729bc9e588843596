//! `route`: a router. The node declares two output ports in wbx.toml
//! (`ports = ["people", "bots"]`) and each view leaves by one of them:
//! those `enrich` marked `"bot": true` by `bots`, to the archive; the
//! others by `people`, to `top-pages`. Each edge leaving the node names
//! its port; an output to a port no edge leaves from would fail.
//!
//! The view goes on as it came, payload and key untouched: a router only
//! chooses the way.

use serde::Deserialize;
use serde_json::Value;
use wbx_guest::pipeline::{Element, Output, Processor};

const PEOPLE: &str = "people";
const BOTS: &str = "bots";

/// The one field of an enriched view this stage reads.
#[derive(Deserialize)]
struct Marked {
    #[serde(default)]
    bot: bool,
}

struct Route;

impl Processor for Route {
    fn init(_config: Value) -> Result<Self, String> {
        Ok(Route)
    }

    fn process(&mut self, element: Element) -> Result<Vec<Output>, String> {
        let Marked { bot } = element.json()?;
        let port = if bot { BOTS } else { PEOPLE };
        let mut output = Output::bytes(element.payload, element.content_type).port(port);
        if let Some(key) = element.key {
            output = output.key(key);
        }
        Ok(vec![output])
    }
}

wbx_guest::export_processor!(Route);
