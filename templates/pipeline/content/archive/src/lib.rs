//! `archive`: where the bots' views end, slowly on purpose. After each
//! batch it answers `throttle`: "send me nothing for `delay_ms` per element
//! taken" (`config = { delay_ms = 200 }` in wbx.toml: five a second). The
//! engine holds its queue meanwhile, so a burst of bot views fills the
//! queue `route → archive` (`wbx flows` shows its depth against its
//! capacity, and the stage `throttled`); that edge's policy, `drop-oldest`,
//! drops the oldest when it is full, and counts each drop.
//!
//! A sink may also answer `Verdict::Pause`: nothing more until the flow is
//! resumed (`wbx flow resume clicks`).

use serde::Deserialize;
use serde_json::Value;
use wbx_guest::pipeline::{Element, Sink, Verdict};

/// The node's `config` in wbx.toml.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    delay_ms: u64,
}

/// The one field of a view this stage reads.
#[derive(Deserialize)]
struct View {
    user: String,
}

struct Archive {
    delay_ms: u64,
}

impl Sink for Archive {
    fn init(config: Value) -> Result<Self, String> {
        // `null` when the node has no config: no delay.
        let config: Option<Config> =
            serde_json::from_value(config).map_err(|e| format!("archive: bad config: {e}"))?;
        let delay_ms = config.unwrap_or_default().delay_ms;
        Ok(Archive { delay_ms })
    }

    fn consume(&mut self, batch: Vec<Element>) -> Result<Verdict, String> {
        let users = batch
            .iter()
            .map(|e| e.json().map(|View { user }| user))
            .collect::<Result<Vec<_>, _>>()?;
        let (first, last) = match (batch.first(), batch.last()) {
            (Some(first), Some(last)) => (first.sequence, last.sequence),
            _ => return Ok(Verdict::Accept),
        };
        let views = if batch.len() == 1 { "view" } else { "views" };
        wbx_guest::info!(
            "archived {} bot {views} (#{first} to #{last}): {}",
            batch.len(),
            users.join(", ")
        );
        Ok(match self.delay_ms {
            0 => Verdict::Accept,
            ms => Verdict::Throttle(ms * batch.len() as u64),
        })
    }
}

wbx_guest::export_sink!(Archive);
