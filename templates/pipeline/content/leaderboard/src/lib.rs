//! `leaderboard`: where the people's views end. It logs each page's new
//! count as it comes (`wbx dev` prints the lines; the Logs pane shows
//! them):
//!
//! ```text
//! [leaderboard] #1 /docs: 3 views
//! ```
//!
//! A sink takes a batch whole or not at all: after an error, the engine
//! sends the batch again (then element by element), so an element may
//! arrive twice; its `sequence` is the same both times.

use serde::Deserialize;
use serde_json::Value;
use wbx_guest::pipeline::{Element, Sink, Verdict};

/// What `top-pages` sends.
#[derive(Deserialize)]
struct Counted {
    page: String,
    views: u64,
    rank: u64,
}

struct Leaderboard;

impl Sink for Leaderboard {
    fn init(_config: Value) -> Result<Self, String> {
        Ok(Leaderboard)
    }

    fn consume(&mut self, batch: Vec<Element>) -> Result<Verdict, String> {
        // Read them all first: a batch with a bad element logs nothing.
        let counts = batch
            .iter()
            .map(Element::json)
            .collect::<Result<Vec<Counted>, _>>()?;
        for Counted { page, views, rank } in counts {
            let plural = if views == 1 { "view" } else { "views" };
            wbx_guest::info!("#{rank} {page}: {views} {plural}");
        }
        Ok(Verdict::Accept)
    }
}

wbx_guest::export_sink!(Leaderboard);
