//! Test support for crates that have the events model: engines of its
//! kinds and a world of guests over a fresh event store.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use wbx_core::project::StateLayout;
use wbx_core::{Catalog, Engine, Limits, ModuleKind};
use wbx_events::effect::EffectSettings;
use wbx_events::{EventStore, EventsLayout, EventsRuntime, StoreLocation};

use crate::support::{engine_of, guest};

/// An engine of the events model's kinds whose cache and logs live in `state`.
pub fn engine_in(state: &Path, limits: Limits) -> Engine {
    engine_of(
        state,
        limits,
        Catalog::new(wbx_events::kinds::KINDS.to_vec()),
    )
}

/// An engine with the given test guests loaded, and an events runtime over
/// a fresh store, all in a temporary directory.
pub struct World {
    pub dir: tempfile::TempDir,
    pub state: StateLayout,
    pub engine: Arc<Engine>,
    pub runtime: Arc<EventsRuntime>,
}

pub fn world(modules: &[(&str, ModuleKind)], settings: EffectSettings) -> World {
    world_on(None, modules, settings)
}

/// [`world`] over the store at `store` (a SQLite file in the world's
/// directory when `None`).
pub fn world_on(
    store: Option<StoreLocation>,
    modules: &[(&str, ModuleKind)],
    settings: EffectSettings,
) -> World {
    let dir = tempfile::tempdir().unwrap();
    let state = StateLayout::new(dir.path().join(".wbx"));
    let engine = Arc::new(engine_in(state.dir(), Limits::default()));
    for (name, kind) in modules {
        engine
            .load_file(name, *kind, "0.1.0", &guest(name))
            .unwrap();
    }
    let store = store.unwrap_or_else(|| StoreLocation::Sqlite(state.events_db()));
    let store = EventStore::connect(&store).unwrap();
    let runtime = EventsRuntime::with_store(engine.clone(), state.clone(), settings, store);
    World {
        dir,
        state,
        engine,
        runtime,
    }
}
