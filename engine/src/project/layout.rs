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

    /// `<module>.log` for each module.
    /// Components of versions that ran, for `wbx replay --against VERSION`.
    pub fn versions_dir(&self) -> PathBuf {
        self.dir.join("versions")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.dir.join("logs")
    }

    /// The event store.
    pub fn events_db(&self) -> PathBuf {
        self.dir.join("events.sqlite")
    }

    /// A projector's read model.
    pub fn projector_db(&self, projector: &str) -> PathBuf {
        self.dir
            .join("projectors")
            .join(format!("{projector}.sqlite"))
    }

    /// An effect's own state.
    pub fn effect_db(&self, effect: &str) -> PathBuf {
        self.dir.join("effects").join(format!("{effect}.sqlite"))
    }

    /// Names the running engine's API address while it runs.
    pub fn engine_json(&self) -> PathBuf {
        self.dir.join("engine.json")
    }

    /// Creates the directories.
    pub fn create(&self) -> std::io::Result<()> {
        for dir in [
            self.cache_dir(),
            self.logs_dir(),
            self.dir.join("projectors"),
            self.dir.join("effects"),
        ] {
            std::fs::create_dir_all(dir)?;
        }
        Ok(())
    }
}
