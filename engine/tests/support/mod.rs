//! Test support shared by the engine's test binaries (the assembly's and
//! each model crate's): the guest components under `engine/tests/guests`,
//! built from source once per test run into the shared
//! `target/wasm-guests` directory, and engines and runtimes over them.

#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use wbx_core::{Catalog, Engine, EngineConfig, Limits, ModuleKind, ModuleVersion, Tier};

#[path = "guests.rs"]
mod guests;
pub use guests::*;

/// Swaps the guest `guest_name` in as `module`'s `version` with `tier`'s
/// code, and checks that the module runs that code.
pub fn swap_in(
    engine: &Engine,
    tier: Tier,
    module: &str,
    kind: ModuleKind,
    guest_name: &str,
    version: &str,
) -> ModuleVersion {
    let bytes = guest_bytes(guest_name);
    let swap = engine.swap_in(tier, module, kind, version, &bytes).unwrap();
    assert_eq!(swap.fallback, None, "{tier} compiles {guest_name}");
    assert_eq!(engine.tier_of(module), Some(tier));
    swap.version
}

/// Runs the test named (an `async fn(Tier)`) once on each code tier, as
/// `NAME::cranelift` and `NAME::winch`, under the attributes given.
#[allow(unused_macros)]
macro_rules! on_both_tiers {
    ($(#[$attr:meta])* $name:ident) => {
        mod $name {
            $(#[$attr])*
            async fn cranelift() {
                super::$name(wbx_core::Tier::Cranelift).await
            }
            $(#[$attr])*
            async fn winch() {
                super::$name(wbx_core::Tier::Winch).await
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_both_tiers;

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
