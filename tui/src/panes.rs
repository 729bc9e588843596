//! Each pane's state and how observations and keys change it. Drawing lives
//! in `view/`.

mod events;
mod list;
mod logs;
mod modules;
mod replay;

pub use events::{EventFilter, EventsPane};
pub use list::Cursor;
pub use logs::{LogFilter, LogsPane};
pub use modules::{ModuleRow, ModuleState, ModulesPane};
pub use replay::ReplayPane;
