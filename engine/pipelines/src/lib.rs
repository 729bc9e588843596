//! `wbx-pipelines`: the pipelines model. A flow is a graph of stages —
//! sources, processors, sinks (guest modules), and the host's own sources
//! (`push`, the events of the log) — joined by bounded queues. The host
//! calls each guest stage with batches; a full `block` queue holds its
//! producer until it drains to its low watermark, so memory stays bounded
//! however slow a sink is, and every drop under a drop policy is counted.
//! A stage moves to a new version between two batches with its state
//! handed over, so no element is lost, repeated or handled half by one
//! version.
//!
//! Code map (the shape every model crate has):
//! - [`model`]: [`PipelinesModel`], what the assembly registers.
//! - [`kinds`]: `source`, `processor`, `sink` and what they link.
//! - [`bindings`]: the three stage worlds (one `bindgen!` each), with the
//!   optional `stage-state` export found by name, and batches lowered from
//!   the host's elements as they are.
//! - [`runtime`]: [`PipelineRuntime`]: the flows, and what views ask.
//! - The flow core: [`flow`] (one run of a flow: its edges, stage cells,
//!   control and status), [`edge`] (a bounded queue: policies, holds,
//!   pressure, the tap), [`run`] (the stage tasks, on a thread of the
//!   run's own: batches, retries, restarts, swaps, sink verdicts, the
//!   events source), [`stage`] (a
//!   guest stage's instance: start, restart, swap, state), [`element`],
//!   [`stats`], [`dead_letter`].
//! - [`info`]: what views see: `wbx flows`, a stage opened, elements.
//! - [`observe`]: [`FlowObservation`]: statuses, restarts, dead letters,
//!   backpressure, swaps.
//! - [`settings`]: the `[flows.NAME]` tables of `wbx.toml`.
//! - [`api`]: its control-API routes.
//! - [`bench`]: its `wbx bench` scenarios (throughput against direct
//!   calls, with a pass-through processor and a JSON one, per-element
//!   overhead, memory under a slow sink).
//! - [`scenario`]: `wbx test`'s pipeline scenarios (`scenarios/pipelines/*.toml`).
//! - `tests/it/`: its tests, one binary, against real guests.

pub mod api;
pub mod bench;
pub mod bindings;
pub mod dead_letter;
pub mod edge;
pub mod element;
pub mod flow;
pub mod info;
pub mod kinds;
pub mod model;
pub mod observe;
pub mod run;
pub mod runtime;
pub mod scenario;
pub mod settings;
pub mod stage;
pub mod stats;

pub use model::PipelinesModel;
pub use observe::FlowObservation;
pub use runtime::{FlowError, PipelineRuntime};
