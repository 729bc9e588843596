//! The events model's tests, in one binary (each test binary links the
//! whole engine): the store, commands, projectors, effects and the DCB
//! adapter, against real guests.

#[path = "../../../tests/support/events.rs"]
mod events_support;
#[path = "../../../tests/support/postgres.rs"]
mod postgres_support;
#[path = "../../../tests/support/mod.rs"]
mod support;

#[macro_use]
mod stores;

mod dcb_api;
mod effects;
mod event_store;
mod events;
