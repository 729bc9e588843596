//! Starting a project's engine: load every built module of the project,
//! report each, and open the events runtime over the project's store.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};

use crate::engine::Engine;
use crate::events::EventsRuntime;
use crate::project::{ModuleDecl, Project};
use crate::registry::ModuleVersion;
use crate::replay::versions;

/// What loading one module gave.
pub struct Loaded {
    pub module: ModuleDecl,
    pub artifact: PathBuf,
    pub result: Result<ModuleVersion>,
}

/// The engine of a project, its events runtime, and how each module loaded.
pub struct Booted {
    pub engine: Arc<Engine>,
    pub runtime: Arc<EventsRuntime>,
    pub loaded: Vec<Loaded>,
}

impl Booted {
    /// The modules that failed to load.
    pub fn failures(&self) -> impl Iterator<Item = &Loaded> {
        self.loaded.iter().filter(|l| l.result.is_err())
    }
}

/// Loads the project's built components (`release` picks the profile) into a
/// new engine. A module that is not built or does not load is reported in
/// [`Booted::loaded`]; the rest run.
pub fn boot(project: &Project, release: bool) -> Result<Booted> {
    let engine = Arc::new(Engine::new(project.engine_config()?)?);
    let loaded = load_modules(&engine, project, release);
    for loaded in &loaded {
        if let Ok(version) = &loaded.result
            && let Ok(bytes) = std::fs::read(&loaded.artifact)
        {
            // Only for later replays: the module runs either way.
            let versions = project.state.versions_dir();
            let _ = versions::keep(&versions, &loaded.module.name, version, &bytes);
        }
    }
    let runtime = EventsRuntime::open(
        engine.clone(),
        project.state.clone(),
        project.manifest.effect_settings(),
    )
    .context("cannot open the project's event store")?;
    Ok(Booted {
        engine,
        runtime,
        loaded,
    })
}

/// Loads every built module of `project` into `engine`, each with its result.
pub fn load_modules(engine: &Engine, project: &Project, release: bool) -> Vec<Loaded> {
    project
        .modules
        .iter()
        .map(|module| {
            let artifact = module.artifact_path(&project.target_dir, release);
            let result = if artifact.is_file() {
                engine.load_file(&module.name, module.kind, &module.version, &artifact)
            } else {
                Err(anyhow!(
                    "module '{}' is not built (no {}): run `wbx build`",
                    module.name,
                    artifact.display()
                ))
            };
            Loaded {
                module: module.clone(),
                artifact,
                result,
            }
        })
        .collect()
}
