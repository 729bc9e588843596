//! `top-pages`: counts the views of each page people visit, and passes
//! each view on as the page's new count and its rank among all pages:
//!
//! ```text
//! in:  {"page": "/docs", "section": "docs", "user": "ann", "bot": false}
//! out: {"page": "/docs", "views": 3, "rank": 1}   key: /docs
//! ```
//!
//! The counts live in the stage (the `TopPages` value below), not in a
//! database. `export_processor!(TopPages with state)` has the engine save
//! them after each good batch and hand them to the next version when this
//! file changes under `wbx dev`, between two batches: the counts carry on
//! under the new code, no view counted twice or missed. A field added to
//! `TopPages` later needs `#[serde(default)]`, so that the state the old
//! version saved still reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wbx_guest::pipeline::{Element, Output, Processor};

/// The stage's state: views per page.
#[derive(Default, Serialize, Deserialize)]
struct TopPages {
    views: BTreeMap<String, u64>,
}

/// The one field of an enriched view this stage reads.
#[derive(Deserialize)]
struct View {
    page: String,
}

impl Processor for TopPages {
    fn init(_config: Value) -> Result<Self, String> {
        Ok(TopPages::default())
    }

    fn process(&mut self, element: Element) -> Result<Vec<Output>, String> {
        let View { page } = element.json()?;
        let count = self.views.entry(page.clone()).or_default();
        *count += 1;
        let views = *count;
        // 1 + the pages seen more often: pages level on views share a rank.
        let rank = 1 + self.views.values().filter(|&&v| v > views).count();
        let counted = json!({ "page": page, "views": views, "rank": rank });
        Ok(vec![Output::json(&counted)?.key(page)])
    }
}

wbx_guest::export_processor!(TopPages with state);
