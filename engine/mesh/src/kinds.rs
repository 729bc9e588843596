//! The mesh model's kind: `service`, a component exporting the standard
//! `wasi:http/incoming-handler@0.2.x`. It links the base every module gets
//! (WASI, `wasi:http`, `log`) plus `commands` and `read-model`.

use wasmtime::component::Linker;
use wbx_core::capability::{link_commands, link_read_model};
use wbx_core::{HostState, KindSpec, ModuleKind, World};

use crate::bindings::ServicePre;

pub const SERVICE: ModuleKind = ModuleKind::new("service");

pub const KINDS: [KindSpec; 1] = [KindSpec {
    kind: SERVICE,
    needs_namespace: true,
    world: Some(World::of::<ServicePre>(
        "wasi:http/proxy",
        "wasi:http/incoming-handler@0.2.0",
        link_service,
    )),
}];

fn link_service(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    link_commands(linker)?;
    link_read_model(linker)
}
