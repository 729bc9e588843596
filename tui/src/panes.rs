//! Each pane's state and how observations and keys change it. Drawing lives
//! in `view/`. The core's panes are here; each model's are in a folder of
//! their own (`events/`, `mesh/`, `actors/`, `flows/`), with their drawing.

pub mod actors;
pub mod events;
pub mod flows;
mod list;
mod logs;
pub mod mesh;
mod modules;
pub(crate) mod refresh;

pub use list::Cursor;
pub use logs::{LogFilter, LogsPane};
pub use modules::{ModuleRow, ModuleState, ModulesPane};
