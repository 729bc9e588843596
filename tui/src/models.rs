//! The registration point of the interface: each model's part, in order.
//!
//! [`SPECS`] is what the key map and the help know of each model before an
//! engine runs; [`open`] makes each model's panes and session over a
//! running engine's runtimes. Adding a model is a line in each.

use wbx_engine::Runtimes;

use crate::model::{ModelParts, UiSpec};
use crate::panes;

/// The registered models' panes, keys and commands.
pub const SPECS: &[&UiSpec] = &[
    &panes::events::SPEC,
    &panes::mesh::SPEC,
    &panes::actors::SPEC,
    &panes::flows::SPEC,
];

/// Each registered model's part, over the runtime of its model.
pub fn open(runtimes: &Runtimes) -> Vec<ModelParts> {
    let mut parts = Vec::new();
    if let Some(events) = runtimes.get() {
        parts.push(panes::events::open(events));
    }
    if let Some(mesh) = runtimes.get() {
        parts.push(panes::mesh::open(mesh));
    }
    if let Some(actors) = runtimes.get() {
        parts.push(panes::actors::open(actors));
    }
    if let Some(pipelines) = runtimes.get() {
        parts.push(panes::flows::open(pipelines));
    }
    parts
}
