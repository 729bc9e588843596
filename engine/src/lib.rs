//! `wbx-engine`: the wbx host for WebAssembly guest modules.
//!
//! Code map:
//! - [`bench`]: the `wbx bench` scenarios and their bare baselines.
//! - [`api`]: the control API (HTTP on loopback) and `.wbx/engine.json`.
//! - [`boot`]: a project's modules loaded into an engine, with its events runtime.
//! - [`engine`]: [`Engine`], one wasmtime engine per process with its epoch
//!   ticker, the shared linker, loading (compile or cache hit, world check)
//!   and the atomic swap of a module's version.
//! - [`guest`]: [`GuestInstance`], typed calls into one instance, and the
//!   errors that name the module and the cause (trap, panic, timeout, limit).
//! - [`registry`]: modules, their versions and status; the swap primitive.
//! - [`kind`]: module kinds and the WIT world each must implement.
//! - [`bindings`]: the one `bindgen!` per world of `wit/`.
//! - [`host_state`]: `HostState`, the `T` of every `Store<T>`: WASI context,
//!   limiter, deadline, what each kind is given, and `wbx:guest/log`.
//! - [`host_sql`], [`host_commands`], [`host_http`]: the host side of
//!   `wbx:guest/sql`, `wbx:guest/commands` and allow-listed `wasi:http`.
//! - [`events`]: the DCB event store and the command, projector and effect
//!   runtimes.
//! - [`limits`]: per-store memory, table and time limits.
//! - [`cache`]: compiled components on disk, keyed by content hash.
//! - [`logs`]: guest logs and stdout/stderr, per module, in memory and on disk.
//! - [`observe`]: the observation stream views consume.
//! - [`project`]: a user's project: `wbx.toml`, guest crates, `.wbx/`.
//! - [`guest_build`]: building guest crates for `wasm32-wasip2` through cargo.
//! - [`dev`]: the `wbx dev` loop: watch, debounce, rebuild what changed, swap.
//! - [`doctor`]: toolchain and project checks with fixes.
//! - [`replay`]: a history replayed through a projector into a scratch read
//!   model, whole (`wbx replay`) or a step at a time (the step view), and
//!   read models compared table by table.
//! - [`scenario`]: scenario tests of commands and projectors (`wbx test`):
//!   read from `scenarios/*.toml`, run on scratch stores, diffs on failure.
//!
//! This crate knows nothing of terminals, clap or ratatui: it reports through
//! return values, callbacks and the observation stream.

pub mod api;
pub mod bench;
pub mod bindings;
pub mod boot;
pub mod cache;
pub mod dev;
pub mod doctor;
pub mod engine;
pub mod events;
pub mod guest;
pub mod guest_build;
pub mod host_commands;
pub mod host_http;
pub mod host_sql;
pub mod host_state;
pub mod kind;
pub mod limits;
pub mod logs;
pub mod observe;
pub mod project;
pub mod registry;
pub mod replay;
pub mod scenario;

pub use engine::{Engine, EngineConfig, SwapReport};
pub use guest::GuestInstance;
pub use kind::ModuleKind;
pub use limits::Limits;
pub use observe::Observation;
pub use registry::{ModuleInfo, ModuleStatus, ModuleVersion};
