//! `wbx-engine`: the assembly. It registers the runtime models with the
//! core and runs them together: boot, the control API, the dev loop and
//! `wbx bench` iterate the registered models and never name one.
//!
//! The crates under `engine/`:
//! - `wbx-core` (`engine/core`): what every model shares, and names none
//!   (wasmtime host, registry, cache, limits, logs, observations, the
//!   project model, builds, doctor);
//! - one sibling crate per model, each in the same shape: `wbx-events`
//!   (`engine/events`), `wbx-mesh` (`engine/mesh`), `wbx-actors`
//!   (`engine/actors`);
//! - this crate, which depends on all of them.
//!
//! Code map:
//! - [`models`]: the registration point, the list of models.
//! - [`boot`]: a project's modules loaded into an engine, with every model's runtime.
//! - [`api`]: the control API (the core's routes and each model's) and `.wbx/engine.json`.
//! - [`dev`]: the `wbx dev` loop: watch, debounce, rebuild what changed, swap,
//!   hand each swapped module to its model.
//! - [`bench`]: `wbx bench`: every model's scenarios and the core's.
//! - [`project`] and [`doctor`]: the core's, read with the registered models.
//!
//! The core's and the models' crates are re-exported under their own names
//! (`wbx_engine::events` is `wbx-events`, `wbx_engine::mesh` is `wbx-mesh`,
//! listed in `models.rs`), so the CLI
//! and the interface depend on this crate alone.

pub mod api;
pub mod bench;
pub mod boot;
pub mod dev;
pub mod models;

pub use models::crates::*;
pub use wbx_core::{
    Catalog, Engine, EngineConfig, GuestError, KindSpec, Limits, ModuleInfo, ModuleKind,
    ModuleStatus, ModuleVersion, Observation, Runtimes, SwapReport, Tier, cache, capability,
    guest_build, host_http, limits, logs, model, observe, registry, versions,
};
pub use wbx_events::{replay, scenario};

/// The project model of the core, read with the registered models.
pub mod project {
    use std::path::Path;

    pub use wbx_core::project::*;

    /// Opens the project that contains `start` (see [`Project::open`]).
    pub fn open(start: &Path) -> anyhow::Result<Project> {
        Project::open(start, &crate::models::models())
    }
}

/// `wbx doctor`: the core's checks, with the registered models' kinds.
pub mod doctor {
    use std::path::Path;

    pub use wbx_core::doctor::{Check, MIN_RUST, Report};

    /// Runs every check that applies at `cwd`.
    pub fn run(cwd: &Path) -> Report {
        wbx_core::doctor::run(cwd, &crate::models::models())
    }
}
