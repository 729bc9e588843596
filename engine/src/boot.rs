//! Starting a project's engine: load every built module of the project,
//! report each, keep each loaded version for later replays, and open every
//! registered model's runtime over the project's state.

use std::sync::Arc;

use anyhow::Result;
use wbx_core::project::{Loaded, Project, load_modules};
use wbx_core::{Engine, Runtimes, versions};

/// The engine of a project, its models' runtimes, and how each module loaded.
pub struct Booted {
    pub engine: Arc<Engine>,
    pub runtimes: Runtimes,
    pub loaded: Vec<Loaded>,
    /// Loaded versions that could not be kept for replays (the modules run).
    pub not_kept: Vec<String>,
}

impl Booted {
    /// The modules that failed to load.
    pub fn failures(&self) -> impl Iterator<Item = &Loaded> {
        self.loaded.iter().filter(|l| l.result.is_err())
    }

    /// The runtime of the model whose runtime type is `R`.
    pub fn runtime<R: wbx_core::Runtime>(&self) -> Option<Arc<R>> {
        self.runtimes.get::<R>()
    }

    /// The events model's runtime (every engine registers it).
    pub fn events(&self) -> Arc<wbx_events::EventsRuntime> {
        self.runtime()
            .expect("the events model is registered in models.rs")
    }

    /// The mesh model's runtime (every engine registers it).
    pub fn mesh(&self) -> Arc<wbx_mesh::MeshRuntime> {
        self.runtime()
            .expect("the mesh model is registered in models.rs")
    }

    /// The actors model's runtime (every engine registers it).
    pub fn actors(&self) -> Arc<wbx_actors::ActorRuntime> {
        self.runtime()
            .expect("the actors model is registered in models.rs")
    }

    pub fn pipelines(&self) -> Arc<wbx_pipelines::PipelineRuntime> {
        self.runtime()
            .expect("the pipelines model is registered in models.rs")
    }
}

/// Loads the project's built components (`release` picks the profile) into a
/// new engine and opens the registered models' runtimes. A module that is
/// not built or does not load is reported in [`Booted::loaded`]; the rest run.
pub fn boot(project: &Project, release: bool) -> Result<Booted> {
    let engine = Arc::new(Engine::new(project.engine_config()?)?);
    engine.set_envs(project.manifest.module_envs()?);
    let loaded = load_modules(&engine, project, release);
    let mut not_kept = Vec::new();
    for loaded in &loaded {
        if let Ok(version) = &loaded.result {
            // Only for later replays: the module runs either way.
            let kept = std::fs::read(&loaded.artifact)
                .map_err(anyhow::Error::from)
                .and_then(|bytes| {
                    versions::keep(
                        &project.state.versions_dir(),
                        &loaded.module.name,
                        version,
                        &bytes,
                    )
                });
            if let Err(error) = kept {
                not_kept.push(format!(
                    "{}: cannot keep version {version} for replays: {error:#}",
                    loaded.module.name
                ));
            }
        }
    }
    let runtimes = Runtimes::open(
        &project.models,
        &engine,
        &project.state,
        &project.manifest,
        &project.modules,
    )?;
    Ok(Booted {
        engine,
        runtimes,
        loaded,
        not_kept,
    })
}
