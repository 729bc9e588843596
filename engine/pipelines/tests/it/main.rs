//! The pipelines model's tests, in one binary (each test binary links the
//! whole engine), against real guest stages.

#[path = "../../../tests/support/mod.rs"]
mod support;
