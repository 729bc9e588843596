//! Where the events model keeps its files in a project's `.wbx/`.

use std::path::PathBuf;

use wbx_core::project::StateLayout;

/// The events model's files, as methods of the core's [`StateLayout`].
pub trait EventsLayout {
    /// The event store.
    fn events_db(&self) -> PathBuf;
    /// A projector's read model.
    fn projector_db(&self, projector: &str) -> PathBuf;
    /// An effect's own state.
    fn effect_db(&self, effect: &str) -> PathBuf;
}

impl EventsLayout for StateLayout {
    fn events_db(&self) -> PathBuf {
        self.dir().join("events.sqlite")
    }

    fn projector_db(&self, projector: &str) -> PathBuf {
        self.module_db("projectors", projector)
    }

    fn effect_db(&self, effect: &str) -> PathBuf {
        self.module_db("effects", effect)
    }
}
