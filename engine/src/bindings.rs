//! The WIT worlds as Rust: one `bindgen!` per world of `wit/`, and nowhere else.
//!
//! The `imports` world holds everything a module may import; the kind worlds
//! reuse its interfaces through `with`, so one host implementation serves
//! them all.

#![allow(missing_docs, clippy::all)]

pub mod imports {
    wasmtime::component::bindgen!({
        world: "imports",
        path: "../wit",
        imports: {
            "wbx:guest/commands.execute": async,
        },
    });
}

pub mod command {
    wasmtime::component::bindgen!({
        world: "command-module",
        path: "../wit",
        exports: { default: async },
        with: {
            "wbx:guest/log": super::imports::wbx::guest::log,
            "wbx:guest/types": super::imports::wbx::guest::types,
        },
    });
}

pub mod projector {
    wasmtime::component::bindgen!({
        world: "projector-module",
        path: "../wit",
        exports: { default: async },
        with: {
            "wbx:guest/log": super::imports::wbx::guest::log,
            "wbx:guest/types": super::imports::wbx::guest::types,
            "wbx:guest/sql": super::imports::wbx::guest::sql,
        },
    });
}

pub mod effect {
    wasmtime::component::bindgen!({
        world: "effect-module",
        path: "../wit",
        exports: { default: async },
        with: {
            "wbx:guest/log": super::imports::wbx::guest::log,
            "wbx:guest/types": super::imports::wbx::guest::types,
            "wbx:guest/sql": super::imports::wbx::guest::sql,
            "wbx:guest/commands": super::imports::wbx::guest::commands,
        },
    });
}

pub use imports::wbx::guest::types::{Event, NewEvent, QueryItem};
