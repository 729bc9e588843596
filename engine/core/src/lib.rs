//! `wbx-core`: what every runtime model of the wbx engine shares. It names
//! no model: each model is a sibling crate that plugs into it through the
//! traits of [`model`], [`kind`] and [`capability`], and the assembly
//! (`wbx-engine`) registers them. The crate graph makes that a fact: this
//! crate depends on no model crate.
//!
//! Code map:
//! - [`engine`]: [`Engine`], loading (compile or cache hit, world check),
//!   the atomic swap of a version, and a Winch version's move to Cranelift.
//! - [`tier`]: [`Tier`], the code tiers: per tier a wasmtime engine with
//!   its epoch ticker and a linker per kind (the base imports plus its
//!   world's).
//! - [`stacks`]: the fiber stacks guest calls run on, kept when an
//!   instance ends and lent to the next.
//! - [`instance`]: [`Guest`], one instance of a module version, and
//!   [`Guest::call`], the one call path: deadline armed, call timed, every
//!   failure a [`GuestError`] ([`error`]) naming the module and the cause.
//! - [`kind`]: [`ModuleKind`], the kinds models declare ([`KindSpec`]) and
//!   the worlds they link ([`World`]).
//! - [`model`]: [`Model`] and [`Runtime`], what a model implements;
//!   [`Models`] and [`Runtimes`], the registered ones iterated.
//! - [`capability`]: capabilities that cross models (executing a command,
//!   querying a read model) and the host side of `wbx:guest/commands`.
//! - [`host_state`]: [`HostState`], the `T` of every `Store<T>`: WASI
//!   context, limiter, deadline, outgoing HTTP, the models' [`Extensions`]
//!   ([`extensions`]), and `wbx:guest/log`.
//! - [`host_http`]: a guest's outgoing HTTP: the in-process router, the
//!   outside-host policy.
//! - [`bindings`]: the core's one `bindgen!` (`wbx:guest/log`, `commands`).
//! - [`registry`]: modules, their versions and status; the swap primitive.
//! - [`limits`]: per-store memory, table and time limits.
//! - [`cache`]: compiled components on disk, keyed by content hash.
//! - [`logs`]: guest logs and stdout/stderr, per module, in memory and on disk.
//! - [`observe`]: the observation stream views consume; models add their own
//!   payloads.
//! - [`project`]: a user's project: `wbx.toml` (each model reads its own
//!   tables), guest crates, `.wbx/`.
//! - [`versions`]: the components of versions that ran, kept for replays.
//! - [`guest_build`]: building guest crates for `wasm32-wasip2` through cargo.
//! - [`doctor`]: toolchain and project checks with fixes.
//! - [`bench`]: `wbx bench`'s measurements and summaries.
//! - [`api`]: what every model's control-API routes share (errors, closing).
//! - [`scenario`]: what every model's `wbx test` scenarios share (files, outcomes, diffs).
//! - [`sync`]: locks that survive a panic elsewhere.
//!
//! This crate knows nothing of terminals, clap or ratatui: it reports through
//! return values, callbacks and the observation stream.

pub mod api;
pub mod bench;
pub mod bindings;
pub mod cache;
pub mod capability;
pub mod doctor;
pub mod engine;
pub mod error;
pub mod extensions;
pub mod guest_build;
pub mod host_http;
pub mod host_state;
pub mod instance;
pub mod kind;
pub mod limits;
pub mod logs;
pub mod model;
pub mod observe;
pub mod project;
pub mod registry;
pub mod scenario;
pub mod stacks;
pub mod sync;
pub mod tier;
pub mod versions;

pub use engine::{Allocator, Engine, EngineConfig, SwapReport};
pub use error::{Failure, GuestError};
pub use extensions::Extensions;
pub use host_state::{HostState, InstanceSetup};
pub use instance::{Guest, WorldPre};
pub use kind::{Catalog, KindSpec, ModuleKind, World};
pub use limits::Limits;
pub use model::{BoxFuture, Model, ModelContext, Models, ModuleState, Runtime, Runtimes};
pub use observe::Observation;
pub use registry::{ModuleInfo, ModuleStatus, ModuleVersion};
pub use tier::Tier;
