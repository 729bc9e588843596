//! Test support shared by the engine's test binaries (the assembly's and
//! each model crate's): the guest components under `engine/tests/guests`,
//! built from source once per test run into the shared
//! `target/wasm-guests` directory, and engines and runtimes over them.

#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use wbx_core::{Catalog, Engine, EngineConfig, Limits};

#[path = "guests.rs"]
mod guests;
pub use guests::*;

/// An engine of `kinds` whose cache and logs live in `state`.
pub fn engine_of(state: &Path, limits: Limits, kinds: Catalog) -> Engine {
    Engine::new(EngineConfig {
        cache_dir: Some(state.join("cache")),
        log_dir: Some(state.join("logs")),
        limits,
        kinds,
    })
    .expect("creating an engine")
}

/// Waits (polling every 10 ms) until `done`, failing the test after 20 s.
pub async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
