//! The assembled engine's tests, in one binary (each test binary links the
//! whole engine): the core against real guests, and a toy model added
//! through the registration point.

#[path = "../support/events.rs"]
mod events_support;
#[path = "../support/mod.rs"]
mod support;

mod actors;
mod api;
mod engine;
mod mesh;
mod pipelines;
mod toy_model;
