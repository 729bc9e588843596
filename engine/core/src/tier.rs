//! Code tiers: a component compiled by Cranelift (optimising: the code the
//! engine runs by default) or by Winch (wasmtime's baseline compiler: it
//! compiles several times faster and its code runs slower). `wbx dev`
//! swaps a changed module in on Winch code, so the change serves at once,
//! and moves it to Cranelift code compiled in the background.
//!
//! The compiler is a setting of a whole wasmtime engine, so each tier is a
//! [`Compiler`]: its own wasmtime engine, epoch ticker and linkers. An
//! instance belongs to the engine its component was compiled by.

use std::collections::HashMap;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;
use wasmtime::component::{HasSelf, Linker};

use crate::bindings::wbx::guest::log;
use crate::engine::{Allocator, EPOCH_TICK};
use crate::host_state::HostState;
use crate::kind::{Catalog, ModuleKind};
use crate::limits::Limits;

/// Which compiler made a module's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Optimised code, compiled at the speed of an optimising compiler.
    Cranelift,
    /// Baseline code, compiled in a fraction of the time.
    Winch,
}

impl Tier {
    pub fn name(self) -> &'static str {
        match self {
            Tier::Cranelift => "cranelift",
            Tier::Winch => "winch",
        }
    }

    /// Whether Winch runs here: wasmtime supports it fully on x86-64 only.
    pub fn winch_available() -> bool {
        cfg!(target_arch = "x86_64")
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One tier's wasmtime engine and a linker per kind for it.
pub(crate) struct Compiler {
    pub wasm: wasmtime::Engine,
    /// The base imports plus each kind's world's.
    pub linkers: HashMap<ModuleKind, Linker<HostState>>,
}

impl Compiler {
    pub(crate) fn new(
        tier: Tier,
        allocator: Allocator,
        limits: &Limits,
        kinds: &Catalog,
    ) -> Result<Compiler> {
        let mut config = wasmtime::Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .with_host_stack(Arc::new(crate::stacks::StackShelf::default()))
            .allocation_strategy(allocator.strategy(limits));
        match tier {
            // Only Cranelift reuses the functions an edit left alone.
            Tier::Cranelift => {
                config.enable_incremental_compilation(Arc::new(
                    crate::cache::FunctionCache::default(),
                ))?;
            }
            Tier::Winch => {
                config.strategy(wasmtime::Strategy::Winch);
            }
        }
        let wasm = wasmtime::Engine::new(&config)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("cannot make the {tier} engine"))?;
        spawn_epoch_ticker(&wasm).context("cannot start the epoch thread")?;
        let mut linkers = HashMap::new();
        for spec in kinds.iter() {
            if let Some(world) = spec.world {
                let mut linker = base_linker(&wasm)?;
                (world.link)(&mut linker)
                    .with_context(|| format!("cannot link world '{}'", world.name))?;
                linkers.insert(spec.kind, linker);
            }
        }
        Ok(Compiler { wasm, linkers })
    }
}

/// A linker with what every module may import: WASI p2, `wasi:http` (its
/// requests go through the instance's outgoing policy) and `wbx:guest/log`.
fn base_linker(wasm: &wasmtime::Engine) -> Result<Linker<HostState>> {
    let mut linker = Linker::new(wasm);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    log::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |state| state)?;
    Ok(linker)
}

/// Advances the engine's epoch every [`EPOCH_TICK`]. The thread holds only a
/// weak reference and ends once the engine (and every store and component
/// that keeps it alive) is gone.
fn spawn_epoch_ticker(engine: &wasmtime::Engine) -> std::io::Result<()> {
    let weak = engine.weak();
    thread::Builder::new()
        .name("wbx-epoch".into())
        .spawn(move || {
            let mut next = Instant::now();
            loop {
                next += EPOCH_TICK;
                thread::sleep(next.saturating_duration_since(Instant::now()));
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })
        .map(drop)
}
