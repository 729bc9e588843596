//! The WIT worlds as Rust: one `bindgen!` per world of `wit/`, and nowhere else.
//!
//! The `host` world holds what every module may import; the kind worlds reuse
//! its interfaces through `with`, so one host implementation serves them all.

#![allow(missing_docs, clippy::all)]

pub mod host {
    wasmtime::component::bindgen!({
        world: "host",
        path: "../wit",
    });
}

pub mod command {
    wasmtime::component::bindgen!({
        world: "command-module",
        path: "../wit",
        exports: { default: async },
        with: {
            "wbx:guest/log": super::host::wbx::guest::log,
            "wbx:guest/types": super::host::wbx::guest::types,
        },
    });
}

pub mod projector {
    wasmtime::component::bindgen!({
        world: "projector-module",
        path: "../wit",
        exports: { default: async },
        with: {
            "wbx:guest/log": super::host::wbx::guest::log,
            "wbx:guest/types": super::host::wbx::guest::types,
        },
    });
}

pub mod effect {
    wasmtime::component::bindgen!({
        world: "effect-module",
        path: "../wit",
        exports: { default: async },
        with: {
            "wbx:guest/log": super::host::wbx::guest::log,
            "wbx:guest/types": super::host::wbx::guest::types,
        },
    });
}

pub use host::wbx::guest::types::{Event, NewEvent, QueryItem};
