//! `.wbx/`: where a project's run state lives. Nothing here is source; the
//! directory is ignored by git and can be deleted (at the cost of the event
//! store it will hold).

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateLayout {
    dir: PathBuf,
}

impl StateLayout {
    pub fn new(dir: PathBuf) -> Self {
        StateLayout { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Compiled components, keyed by content hash.
    pub fn cache_dir(&self) -> PathBuf {
        self.dir.join("cache")
    }

    /// Components of versions that ran, for `wbx replay --against VERSION`.
    pub fn versions_dir(&self) -> PathBuf {
        self.dir.join("versions")
    }

    /// `<module>.log` for each module.
    pub fn logs_dir(&self) -> PathBuf {
        self.dir.join("logs")
    }

    /// A module's own SQLite file, in the folder its model keeps such files
    /// in (`.wbx/<folder>/<module>.sqlite`).
    pub fn module_db(&self, folder: &str, module: &str) -> PathBuf {
        self.dir.join(folder).join(format!("{module}.sqlite"))
    }

    /// Names the running engine's API address while it runs.
    pub fn engine_json(&self) -> PathBuf {
        self.dir.join("engine.json")
    }

    /// Creates the directories the core uses (a model creates its own).
    pub fn create(&self) -> std::io::Result<()> {
        for dir in [self.cache_dir(), self.logs_dir()] {
            std::fs::create_dir_all(dir)?;
        }
        Ok(())
    }
}
