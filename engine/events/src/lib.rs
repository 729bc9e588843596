//! `wbx-events`: the events model. A DCB event store, and the command,
//! projector and effect runtimes over it, plugged into the core
//! (`wbx-core`) like every other model.
//!
//! Code map, in the shape every model crate has:
//! - [`model`]: [`EventsModel`], what the assembly registers.
//! - [`kinds`]: `command`, `projector`, `effect`, each with its world.
//! - [`bindings`]: the one `bindgen!` per world of the model.
//! - [`instances`]: an instance of each kind, with its typed calls.
//! - [`host_sql`]: the host side of `wbx:guest/sql` (the module's own
//!   database). `wbx:guest/commands` is the core's, over the
//!   [`wbx_core::capability::ExecuteCommand`] this model implements.
//! - [`runtime`]: [`EventsRuntime`], the store and the tasks: commands
//!   ([`command`]), projectors ([`projector`]), effects ([`effect`]).
//! - [`store`] (with [`query`], [`envelope`]): the DCB event store, on
//!   SQLite or PostgreSQL.
//! - [`observe`]: what the model publishes on the observation stream.
//! - [`settings`]: its tables of `wbx.toml` (`[effects]`).
//! - [`layout`]: its files in `.wbx/`.
//! - [`api`]: its control-API routes, the DCB adapter among them.
//! - [`bench`]: its `wbx bench` scenarios.
//! - [`replay`]: a history replayed through a projector into a scratch
//!   read model, whole or a step at a time, and read models compared.
//! - [`scenario`]: scenario tests of commands and projectors (`wbx test`).

pub mod api;
pub mod bench;
pub mod bindings;
pub mod command;
pub mod effect;
pub mod envelope;
pub mod host_sql;
pub mod instances;
pub mod kinds;
pub mod layout;
pub mod model;
pub mod observe;
mod position;
pub mod projector;
pub mod query;
pub mod replay;
pub mod runtime;
pub mod scenario;
pub mod settings;
pub mod store;

pub use envelope::{AppendMeta, NewEvent, StoredEvent};
pub use layout::EventsLayout;
pub use model::EventsModel;
pub use observe::EventsObservation;
pub use query::{AppendCondition, Browse, Query, QueryItem, ReadOptions};
pub use runtime::EventsRuntime;
pub use store::{AppendOutcome, Arrival, EventStore, Lease, StoreLocation};
