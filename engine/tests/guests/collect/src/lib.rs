//! A sink for the engine's tests: takes every batch and counts its
//! elements, or slows its input down, pauses it, fails or traps as its
//! config says. It logs nothing.
//!
//! Config (every key optional; `null` is all defaults; an unknown key
//! fails `init`):
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `delay_ms` | 0 | sleeps this long per batch |
//! | `throttle_ms` | none | answers `throttle(T)` after every batch taken |
//! | `pause_after` | none | answers `pause` after the batch that takes the count to N or more; once (remembered in the state) |
//! | `fail_on` | none | a batch with an element whose payload contains this text fails (`Err`), not taken |
//! | `exec` | none | executes this command of the project for each element, its payload the input: a failure fails the batch |
//! | `trap_after` | none | panics (the instance traps) in the batch holding the N-th element this instance is given since its `init` or `restore-state`: a restarted instance counts from 0 again, so a retried batch of fewer than N passes |
//!
//! In that order: the trap, the delay, `fail_on`, `exec`, counting, `pause_after`,
//! `throttle_ms`; else `accept`.
//!
//! State: `{"consumed": n, "paused": bool, "config": {…}}`, where
//! `consumed` counts the elements of the batches taken, in all (an element
//! sent again after a failure counts again) and `paused` says whether
//! `pause_after` has fired.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wbx_guest::pipeline::{Element, Sink, Verdict};

#[derive(Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    delay_ms: u64,
    throttle_ms: Option<u64>,
    pause_after: Option<u64>,
    fail_on: Option<String>,
    trap_after: Option<u64>,
    exec: Option<String>,
}

#[derive(Serialize, Deserialize, Default)]
struct Collect {
    consumed: u64,
    paused: bool,
    config: Config,
    /// What `trap_after` counts: not saved, so it starts again with each
    /// instance.
    #[serde(skip)]
    given: u64,
}

impl Sink for Collect {
    fn init(config: Value) -> Result<Self, String> {
        // `null` (no config) reads as None: all defaults.
        let config: Config = serde_json::from_value::<Option<Config>>(config)
            .map_err(|e| format!("collect: bad config: {e}"))?
            .unwrap_or_default();
        Ok(Collect {
            config,
            ..Collect::default()
        })
    }

    fn consume(&mut self, batch: Vec<Element>) -> Result<Verdict, String> {
        let size = batch.len() as u64;
        self.given += size;
        if self.config.trap_after.is_some_and(|n| self.given >= n) {
            panic!("collect traps on its element {}", self.given);
        }
        if self.config.delay_ms > 0 {
            std::thread::sleep(Duration::from_millis(self.config.delay_ms));
        }
        if let Some(text) = &self.config.fail_on
            && let Some(failing) = batch
                .iter()
                .find(|e| String::from_utf8_lossy(&e.payload).contains(text.as_str()))
        {
            return Err(format!("element {} contains {text:?}", failing.sequence));
        }
        if let Some(command) = &self.config.exec {
            for element in &batch {
                wbx_guest::commands::execute(command, element.text()?, None)
                    .map_err(|e| format!("{command} failed on element {}: {e:?}", element.sequence))?;
            }
        }
        self.consumed += size;
        if !self.paused && self.config.pause_after.is_some_and(|n| self.consumed >= n) {
            self.paused = true;
            return Ok(Verdict::Pause);
        }
        Ok(self
            .config
            .throttle_ms
            .map_or(Verdict::Accept, Verdict::Throttle))
    }
}

wbx_guest::export_sink!(Collect with state);
