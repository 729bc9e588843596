//! The core's WIT bindings: one `bindgen!`, of the `core-imports` world
//! (`wbx:guest/log`, `wbx:guest/commands`, `wbx:guest/read-model`). Every model's worlds map
//! these interfaces onto this module with `with`, so one host
//! implementation of each serves every kind.

#![allow(missing_docs, clippy::all)]

wasmtime::component::bindgen!({
    world: "core-imports",
    path: "../../wit",
    imports: {
        "wbx:guest/commands.execute": async,
    },
});
