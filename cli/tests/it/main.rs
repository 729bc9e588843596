//! The `wbx` binary as a user runs it, in one test binary (each module was
//! its own binary, and each linked the whole engine once more).
//!
//! Tests run in parallel. Each project a test builds is its own copy with
//! its own target directory, so no test sees another's build; they share
//! cargo's build directory (`target/wasm-guests`), so each dependency
//! compiles once per run (see `support`).

/// The engine's test guests (services for the mesh tests, actors for the
/// process commands'), built once per run.
#[path = "../../../engine/tests/support/guests.rs"]
mod guests;
/// A PostgreSQL server of the tests' own, for the shared event store.
#[path = "../../../engine/tests/support/postgres.rs"]
mod postgres_support;
mod support;

mod actors;
mod actors_dev;
mod bench;
mod cli;
mod dev;
mod flows;
mod library;
mod mesh;
mod new;
mod pipelines_example;
mod replay;
mod store;
mod tui;
