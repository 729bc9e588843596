//! The mesh model's tests, in one binary (each test binary links the whole
//! engine): routing, the mesh's answers, limits, the breaker, streaming,
//! hot swap under load and the gateway, against real guest services.

#[path = "../../../tests/support/mod.rs"]
mod support;

mod gateway;
mod javascript;
mod routing;
