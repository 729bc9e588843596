//! `enrich`: the first stage of the flow `clicks`. Each page view pushed
//! into the flow comes out cleaned, with what the stages after it need:
//!
//! ```text
//! in:  {"page": "/Docs/intro/?ref=mail", "user": "ann"}
//! out: {"page": "/docs/intro", "section": "docs", "user": "ann", "bot": false}   key: ann
//! ```
//!
//! - `page` loses its query string, its fragment and a trailing `/`, and is
//!   lower-cased; `section` is its first segment (`home` for `/`).
//! - `bot` is true when the user, or the view's `agent`, holds one of the
//!   words of the node's config (`config = { bots = ["bot", "crawler"] }`
//!   in wbx.toml); `route` sends those to the archive.
//!
//! A view that is not a JSON object with a `page` fails: the engine tries
//! it again (`retries` in wbx.toml), then sets it aside as a dead letter,
//! which `wbx flows` counts and `wbx flow redrive clicks` sends again.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wbx_guest::pipeline::{Element, Output, Processor};

/// The words that mark a bot when the node gives none.
const BOTS: [&str; 2] = ["bot", "crawler"];

/// A page view, as `wbx push clicks` sends it.
#[derive(Deserialize)]
struct View {
    page: String,
    #[serde(default)]
    user: Option<String>,
    /// A user agent, when the view has one.
    #[serde(default)]
    agent: Option<String>,
}

/// What `route` and `top-pages` read.
#[derive(Serialize)]
struct Enriched {
    page: String,
    section: String,
    user: String,
    bot: bool,
}

/// The node's `config` in wbx.toml.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    bots: Vec<String>,
}

/// No state of its own: a new version, or a restart, starts again through
/// `init` with the same config, and loses nothing by it.
struct Enrich {
    bots: Vec<String>,
}

impl Processor for Enrich {
    fn init(config: Value) -> Result<Self, String> {
        // `null` when the node has no config: the default words.
        let config: Option<Config> =
            serde_json::from_value(config).map_err(|e| format!("enrich: bad config: {e}"))?;
        let bots = match config {
            Some(config) => config.bots,
            None => BOTS.map(String::from).to_vec(),
        };
        Ok(Enrich {
            bots: bots.iter().map(|word| word.to_lowercase()).collect(),
        })
    }

    fn process(&mut self, element: Element) -> Result<Vec<Output>, String> {
        let view: View = element.json()?;
        let page = clean(&view.page);
        let section = match page.split('/').nth(1) {
            Some("") | None => "home".to_owned(),
            Some(first) => first.to_owned(),
        };
        let user = view.user.unwrap_or_else(|| "anonymous".to_owned());
        let bot = self.is_bot(&user) || view.agent.as_deref().is_some_and(|a| self.is_bot(a));
        let enriched = Enriched {
            page,
            section,
            user: user.clone(),
            bot,
        };
        // Keyed by user: a stage downstream may group by it.
        Ok(vec![Output::json(&enriched)?.key(user)])
    }
}

impl Enrich {
    fn is_bot(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        self.bots.iter().any(|word| name.contains(word.as_str()))
    }
}

/// `/Docs/intro/?ref=mail#top` → `/docs/intro`; `` → `/`.
fn clean(page: &str) -> String {
    let path = page.split(['?', '#']).next().unwrap_or_default();
    let path = path.trim_end_matches('/').to_lowercase();
    if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    }
}

wbx_guest::export_processor!(Enrich);
