//! A user's project: the `wbx.toml` at its root, the guest crates its Cargo
//! workspace declares, and the `.wbx/` directory where run state lives.

pub mod layout;
pub mod load;
pub mod manifest;
pub mod modules;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub use layout::StateLayout;
pub use load::{Loaded, load_modules};
pub use manifest::{Manifest, ManifestError, line_column};
pub use modules::{Discovery, ModuleDecl};

use crate::engine::EngineConfig;
use crate::model::Models;

/// The file that marks a project's root.
pub const MANIFEST_FILE: &str = "wbx.toml";

/// The directory beside it where run state lives.
pub const STATE_DIR: &str = ".wbx";

#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    pub manifest: Manifest,
    pub modules: Vec<ModuleDecl>,
    /// Cargo's target directory for this workspace.
    pub target_dir: PathBuf,
    /// Workspace crate directories and the modules built from each.
    pub crate_dirs: Vec<(PathBuf, Vec<String>)>,
    pub state: StateLayout,
    /// The models the project was read with: their kinds and tables.
    pub models: Models,
}

impl Project {
    /// The nearest directory at or above `start` that holds a `wbx.toml`.
    pub fn find_root(start: &Path) -> Option<PathBuf> {
        start
            .ancestors()
            .find(|dir| dir.join(MANIFEST_FILE).is_file())
            .map(Path::to_path_buf)
    }

    /// Opens the project that contains `start`: reads `wbx.toml` strictly and
    /// finds the guest crates, both against the kinds and tables of `models`.
    /// Every problem found is reported, not only the first.
    pub fn open(start: &Path, models: &Models) -> Result<Project> {
        let Some(root) = Self::find_root(start) else {
            bail!(
                "not inside a wbx project: no {MANIFEST_FILE} in {} or any parent directory \
                 (create a project with `wbx new`)",
                start.display()
            );
        };
        let manifest = Manifest::load(&root.join(MANIFEST_FILE), &models.sections())?;
        let catalog = models.catalog();
        let mut discovery = modules::discover(&root, &catalog)?;
        let prebuilt = modules::prebuilt(&manifest, &root, &catalog, &discovery.modules)?;
        discovery.modules.extend(prebuilt);
        discovery.modules.sort_by(|a, b| a.name.cmp(&b.name));
        discovery
            .problems
            .extend(models.check(&manifest, &discovery.modules)?);
        if !discovery.problems.is_empty() {
            bail!(
                "the project's guest crates have problems:\n  - {}",
                discovery.problems.join("\n  - ")
            );
        }
        let state = StateLayout::new(root.join(STATE_DIR));
        Ok(Project {
            manifest,
            modules: discovery.modules,
            target_dir: discovery.target_dir,
            crate_dirs: discovery.crate_dirs,
            state,
            root,
            models: models.clone(),
        })
    }

    /// The modules a change to `path` means rebuilding: those built from the
    /// crate that holds it (the innermost), or all of them for a file of the
    /// workspace itself (its `Cargo.toml`, `Cargo.lock`).
    pub fn modules_affected_by(&self, path: &Path) -> Vec<String> {
        let prebuilt: Vec<String> = self
            .modules
            .iter()
            .filter(|m| m.component.as_deref() == Some(path))
            .map(|m| m.name.clone())
            .collect();
        if !prebuilt.is_empty() || path.extension().is_some_and(|e| e == "wasm") {
            return prebuilt;
        }
        let owner = self
            .crate_dirs
            .iter()
            .filter(|(dir, _)| path.starts_with(dir) && dir.as_path() != self.root)
            .max_by_key(|(dir, _)| dir.components().count());
        match owner {
            Some((_, modules)) => modules.clone(),
            // A file of the workspace itself rebuilds every crate; any other
            // file outside the crates (notes, a log written there) nothing.
            None if is_workspace_file(&self.root, path) => self
                .modules
                .iter()
                .filter(|m| m.is_crate())
                .map(|m| m.name.clone())
                .collect(),
            None => Vec::new(),
        }
    }

    pub fn module(&self, name: &str) -> Option<&ModuleDecl> {
        self.modules.iter().find(|m| m.name == name)
    }

    /// The module names, for error messages.
    pub fn module_names(&self) -> String {
        let names: Vec<_> = self.modules.iter().map(|m| m.name.as_str()).collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    }

    /// The name shown for the project: `[project] name`, else the directory's.
    pub fn name(&self) -> String {
        self.manifest.project.name.clone().unwrap_or_else(|| {
            self.root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "project".to_owned())
        })
    }

    /// Engine settings for this project; creates `.wbx/` as needed.
    pub fn engine_config(&self) -> Result<EngineConfig> {
        self.state
            .create()
            .context("cannot lay out the project's .wbx directory")?;
        Ok(EngineConfig {
            cache_dir: Some(self.state.cache_dir()),
            log_dir: Some(self.state.logs_dir()),
            limits: self.manifest.limits(),
            kinds: self.models.catalog(),
        })
    }
}

/// Whether `path`, outside every crate, is part of how the workspace builds:
/// its `Cargo.toml` or `Cargo.lock`, its toolchain file, cargo's config.
fn is_workspace_file(root: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(root) else {
        return false;
    };
    relative.starts_with(".cargo")
        || matches!(
            relative.to_str(),
            Some("Cargo.toml" | "Cargo.lock" | "rust-toolchain" | "rust-toolchain.toml")
        )
}
