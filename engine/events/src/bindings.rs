//! The events model's WIT worlds as Rust: one `bindgen!` per world, and
//! nowhere else.
//!
//! The `events-imports` world holds the model's own imports (`types`,
//! `sql`); the kind worlds reuse its interfaces through `with`, and
//! `wbx:guest/log` and `wbx:guest/commands` come from the core's bindings,
//! so one host implementation of each serves every kind of every model.

#![allow(missing_docs, clippy::all)]

use wasmtime::component::InstancePre;
use wbx_core::{HostState, ModuleKind, WorldPre};

pub mod imports {
    wasmtime::component::bindgen!({
        world: "events-imports",
        path: "../../wit",
        with: {
            "wbx:guest/log": wbx_core::bindings::wbx::guest::log,
        },
    });
}

pub mod command {
    wasmtime::component::bindgen!({
        world: "command-module",
        path: "../../wit",
        exports: { default: async },
        with: {
            "wbx:guest/log": wbx_core::bindings::wbx::guest::log,
            "wbx:guest/types": super::imports::wbx::guest::types,
        },
    });
}

pub mod projector {
    wasmtime::component::bindgen!({
        world: "projector-module",
        path: "../../wit",
        exports: { default: async },
        with: {
            "wbx:guest/log": wbx_core::bindings::wbx::guest::log,
            "wbx:guest/types": super::imports::wbx::guest::types,
            "wbx:guest/sql": super::imports::wbx::guest::sql,
        },
    });
}

pub mod effect {
    wasmtime::component::bindgen!({
        world: "effect-module",
        path: "../../wit",
        exports: { default: async },
        with: {
            "wbx:guest/log": wbx_core::bindings::wbx::guest::log,
            "wbx:guest/types": super::imports::wbx::guest::types,
            "wbx:guest/sql": super::imports::wbx::guest::sql,
            "wbx:guest/commands": wbx_core::bindings::wbx::guest::commands,
        },
    });
}

pub use imports::wbx::guest::types::{Event, NewEvent, QueryItem};

/// Each kind world's typed pre-instance, for the core to link and
/// instantiate.
macro_rules! world_pre {
    ($pre:ty, $bindings:ty, $kind:expr) => {
        impl WorldPre for $pre {
            const KIND: ModuleKind = $kind;
            type Bindings = $bindings;

            fn new(pre: InstancePre<HostState>) -> wasmtime::Result<Self> {
                <$pre>::new(pre)
            }

            fn instantiate(
                &self,
                store: &mut wasmtime::Store<HostState>,
            ) -> impl Future<Output = wasmtime::Result<$bindings>> + Send {
                self.instantiate_async(store)
            }
        }
    };
}

world_pre!(
    command::CommandModulePre<HostState>,
    command::CommandModule,
    crate::kinds::COMMAND
);
world_pre!(
    projector::ProjectorModulePre<HostState>,
    projector::ProjectorModule,
    crate::kinds::PROJECTOR
);
world_pre!(
    effect::EffectModulePre<HostState>,
    effect::EffectModule,
    crate::kinds::EFFECT
);
