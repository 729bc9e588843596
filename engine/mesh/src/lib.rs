//! `wbx-mesh`: the mesh model. Services are ordinary `wasi:http` components
//! (`wasi:http/incoming-handler@0.2.x`), one fresh instance per request;
//! they call each other as `http://{namespace}.{module}/…` with their own
//! HTTP client, and the engine routes those calls in-process, streaming
//! both bodies. The gateway lets requests in from outside.
//!
//! Code map (the shape every model crate has):
//! - [`model`]: [`MeshModel`], what the assembly registers; opening it
//!   makes the mesh the engine's in-process router.
//! - [`kinds`]: `service` and what it links (`commands`, `read-model`).
//! - [`bindings`]: the service world (`wasi:http/proxy`, from
//!   `wasmtime-wasi-http`) as the core's `WorldPre`.
//! - [`runtime`]: [`MeshRuntime`] and the one call path,
//!   [`MeshRuntime::dispatch`]: resolve, hop limit, breaker, body limit,
//!   concurrency, a fresh instance, the answer streamed and recorded.
//! - [`router`]: the core's `RouteHttp` over the runtime (module → module).
//! - [`gateway`]: HTTP from outside, by `Host` or first path segment.
//! - [`body`]: the request body counted and limited, the response body
//!   counted and aborted when the service fails after its head.
//! - [`breaker`]: a circuit breaker per service.
//! - [`calls`]: the call log and per-route figures; [`routes`]: `wbx routes`.
//! - [`trace`]: W3C `traceparent`.
//! - [`observe`]: [`MeshObservation`]: each call, breaker changes.
//! - [`settings`]: `[mesh]` and each service's `[modules.NAME]` table.
//! - [`api`]: its control-API routes.
//! - [`scenario`]: `wbx test`'s service scenarios (`scenarios/services/*.toml`).
//! - `tests/it/`: its tests, one binary, against real guests.

pub mod api;
pub mod bench;
pub mod bindings;
pub mod body;
pub mod breaker;
pub mod calls;
pub mod gateway;
pub mod kinds;
pub mod model;
pub mod observe;
pub mod router;
pub mod routes;
pub mod runtime;
pub mod scenario;
pub mod settings;
pub mod trace;

pub use calls::CallRecord;
pub use model::MeshModel;
pub use observe::MeshObservation;
pub use runtime::MeshRuntime;
