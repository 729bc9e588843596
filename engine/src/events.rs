//! The events model: a DCB event store, and the command, projector and
//! effect runtimes over it.

pub mod command;
pub mod effect;
pub mod envelope;
mod position;
pub mod projector;
pub mod query;
pub mod runtime;
pub mod store;

pub use envelope::{AppendMeta, NewEvent, StoredEvent};
pub use query::{AppendCondition, Browse, Query, QueryItem, ReadOptions};
pub use runtime::EventsRuntime;
pub use store::{AppendOutcome, EventStore};
