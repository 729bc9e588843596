//! The pipelines model's kinds: `source`, `processor` and `sink`, each a
//! component of its world. They link the base every module gets (WASI,
//! `wasi:http`, `log`) plus `commands` and `read-model`, so a sink can end
//! a flow in the event log and any stage can look things up.

use wasmtime::component::Linker;
use wbx_core::capability::{link_commands, link_read_model};
use wbx_core::{HostState, KindSpec, ModuleKind, World};

use crate::bindings::{ProcessorWorld, SinkWorld, SourceWorld, StagePre};

pub const SOURCE: ModuleKind = ModuleKind::new("source");
pub const PROCESSOR: ModuleKind = ModuleKind::new("processor");
pub const SINK: ModuleKind = ModuleKind::new("sink");

pub const KINDS: [KindSpec; 3] = [
    KindSpec::runs(
        SOURCE,
        World::of::<StagePre<SourceWorld>>(
            "wbx:guest/source-module",
            "wbx:guest/source@0.1.0",
            link_stage,
        ),
    ),
    KindSpec::runs(
        PROCESSOR,
        World::of::<StagePre<ProcessorWorld>>(
            "wbx:guest/processor-module",
            "wbx:guest/processor@0.1.0",
            link_stage,
        ),
    ),
    KindSpec::runs(
        SINK,
        World::of::<StagePre<SinkWorld>>(
            "wbx:guest/sink-module",
            "wbx:guest/sink@0.1.0",
            link_stage,
        ),
    ),
];

fn link_stage(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    link_commands(linker)?;
    link_read_model(linker)
}
