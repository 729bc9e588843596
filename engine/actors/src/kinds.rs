//! The actors model's kind: `actor`, a component of the `actor-module`
//! world. It links the base every module gets (WASI, `wasi:http`, `log`)
//! plus `process`, `commands` and `read-model`, so an actor can call
//! services and run commands like a service can.

use wasmtime::component::{HasSelf, Linker};
use wbx_core::capability::{link_commands, link_read_model};
use wbx_core::{HostState, KindSpec, ModuleKind, World};

use crate::bindings::ActorPre;
use crate::bindings::actor_module::wbx::guest::process;

pub const ACTOR: ModuleKind = ModuleKind::new("actor");

pub const KINDS: [KindSpec; 1] = [KindSpec::runs(
    ACTOR,
    World::of::<ActorPre>(
        "wbx:guest/actor-module",
        "wbx:guest/actor@0.1.0",
        link_actor,
    ),
)];

fn link_actor(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    process::add_to_linker::<_, HasSelf<HostState>>(linker, |state| state)?;
    link_commands(linker)?;
    link_read_model(linker)
}
