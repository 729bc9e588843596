//! A source for the engine's tests: counts `start`, `start + 1`, … and
//! finishes once it has produced `count` elements.
//!
//! Config (every key optional; `null` is all defaults; an unknown key
//! fails `init`):
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `count` | u64::MAX (never finishes, in practice) | how many elements, in all |
//! | `start` | 1 | the first number |
//! | `size` | 0 | each payload's length in bytes, padded; 0: as small as it gets |
//!
//! Each element is `application/json`, without a key: `{"n":k}` when
//! `size` is 0, else `{"n":k,"pad":"xx…"}` with as many `x` as make the
//! payload `size` bytes (none when `size` is below the unpadded length).
//! A pull gives at most the `max` asked for; the pull that produces the
//! last element says finished (with `count` 0, the first pull does).
//!
//! State (saved after each good batch; a restarted instance or a new
//! version goes on from it): `{"next": k, "end": e, "size": s}`, where
//! `next` is the number the next pull starts from and `end` is
//! `start + count` (saturating).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wbx_guest::pipeline::{Output, Pull, Source};

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Config {
    count: u64,
    start: u64,
    size: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            count: u64::MAX,
            start: 1,
            size: 0,
        }
    }
}

/// Restore gets no config, so what init read from it is kept here.
#[derive(Serialize, Deserialize)]
struct Numbers {
    next: u64,
    end: u64,
    size: usize,
}

impl Source for Numbers {
    fn init(config: Value) -> Result<Self, String> {
        // `null` (no config) reads as None: all defaults.
        let config: Config = serde_json::from_value::<Option<Config>>(config)
            .map_err(|e| format!("numbers: bad config: {e}"))?
            .unwrap_or_default();
        Ok(Numbers {
            next: config.start,
            end: config.start.saturating_add(config.count),
            size: config.size,
        })
    }

    fn pull(&mut self, max: usize) -> Result<Pull, String> {
        let take = (self.end - self.next).min(max as u64);
        let outputs = (self.next..self.next + take)
            .map(|n| self.element(n))
            .collect();
        self.next += take;
        Ok(if self.next == self.end {
            Pull::Finished(outputs)
        } else {
            Pull::More(outputs)
        })
    }
}

impl Numbers {
    fn element(&self, n: u64) -> Output {
        let payload = if self.size == 0 {
            format!(r#"{{"n":{n}}}"#)
        } else {
            let unpadded = format!(r#"{{"n":{n},"pad":""}}"#).len();
            let pad = "x".repeat(self.size.saturating_sub(unpadded));
            format!(r#"{{"n":{n},"pad":"{pad}"}}"#)
        };
        Output::bytes(payload, "application/json")
    }
}

wbx_guest::export_source!(Numbers with state);
