//! `wbx-actors`: the actors model. An actor module is a component of the
//! `actor-module` world; each process is one long-lived instance of it
//! with a pid, a bounded mailbox and its state in its linear memory, and
//! the engine gives processes Erlang's tools: spawn, send, timers,
//! request/reply, links, monitors, exit signals, a registry and
//! supervisors. A new version reaches each process at a message boundary,
//! its state handed over, its pid, mailbox, links and name kept.
//!
//! Code map (the shape every model crate has):
//! - [`model`]: [`ActorsModel`], what the assembly registers.
//! - [`kinds`]: `actor` and what it links (`process`, `commands`, `read-model`).
//! - [`bindings`]: the `actor-module` world (one `bindgen!`), with the
//!   optional `actor-state` and `actor-inspect` exports found by name.
//! - [`runtime`]: [`ActorRuntime`]: the boot trees and what views ask.
//! - [`system`]: [`System`](system::System): spawn, send, call, timers,
//!   exit signals — the operations every way in shares.
//! - The process core, which knows no WebAssembly:
//!   [`table`] (entries, mailboxes, links, monitors, names, delivery and
//!   exit rules), [`process`] (one process's loop over a [`process::Body`]),
//!   [`supervisor`] (a supervisor as a body), [`spec`] (a tree's
//!   description), [`message`], [`pid`].
//! - [`guest`]: a guest as a body: `init`, `handle`, the hot swap;
//!   [`host`]: the host side of `wbx:guest/process`.
//! - [`info`]: what views see: `wbx ps`, `wbx tree`, one process opened.
//! - [`observe`]: [`ActorObservation`]: spawns, exits, restarts,
//!   escalations, swaps, undelivered sends.
//! - [`settings`]: each actor's `[modules.NAME]` table and `[supervisors.NAME]`.
//! - [`api`]: its control-API routes.
//! - [`bench`]: its `wbx bench` scenarios (spawn, ping-pong, ring,
//!   fork-join, memory per idle process).
//! - [`scenario`]: `wbx test`'s actor scenarios (`scenarios/actors/*.toml`).
//! - `tests/it/`: its tests, one binary, against real guests.

pub mod api;
pub mod bench;
pub mod bindings;
pub mod guest;
pub mod host;
pub mod info;
pub mod kinds;
pub mod message;
pub mod model;
pub mod observe;
pub mod pid;
pub mod process;
pub mod runtime;
pub mod scenario;
pub mod settings;
pub mod spec;
pub mod supervisor;
pub mod system;
pub mod table;

pub use message::ActorError;
pub use model::ActorsModel;
pub use observe::ActorObservation;
pub use pid::Pid;
pub use runtime::ActorRuntime;
