//! The registration point: every runtime model the engine runs, in order.
//!
//! Boot, the control API, the dev loop, `wbx bench` and `wbx doctor` iterate
//! what [`models`] returns and never name a model. Adding a model is a line
//! in [`models`], a line in [`crates`] (so the CLI and the interface reach
//! its types through this crate), and, for its kinds that projects may
//! declare before the model exists, removing them from [`PLANNED`].

use std::sync::Arc;

use wbx_core::{KindSpec, Models};

/// Kinds projects may already declare (SPEC.md lists them) that no
/// registered model runs yet: loading one says so.
pub const PLANNED: &[KindSpec] = &[];

/// Each model's crate, under the model's name (`wbx_engine::events`).
pub mod crates {
    pub use wbx_actors as actors;
    pub use wbx_events as events;
    pub use wbx_mesh as mesh;
    pub use wbx_pipelines as pipelines;
}

/// The registered models.
pub fn models() -> Models {
    Models::new(
        vec![
            Arc::new(wbx_events::EventsModel),
            Arc::new(wbx_mesh::MeshModel),
            Arc::new(wbx_actors::ActorsModel),
            Arc::new(wbx_pipelines::PipelinesModel),
        ],
        PLANNED,
    )
}
