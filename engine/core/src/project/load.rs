//! A project's built modules loaded into an engine, each with its result.

use std::path::PathBuf;

use anyhow::{Result, anyhow};

use super::{ModuleDecl, Project};
use crate::engine::Engine;
use crate::registry::ModuleVersion;

/// What loading one module gave.
pub struct Loaded {
    pub module: ModuleDecl,
    pub artifact: PathBuf,
    pub result: Result<ModuleVersion>,
}

/// Loads every built module of `project` (`release` picks the profile) into
/// `engine`. A module that is not built or does not load has its error in
/// its [`Loaded`]; the rest run.
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
