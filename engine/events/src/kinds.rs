//! The events model's kinds, each with its world and what it links: a
//! command imports `log` only; a projector adds `sql` (its read model); an
//! effect adds `sql` (its own state) and `commands`.

use wasmtime::component::{HasSelf, Linker};
use wbx_core::capability::link_commands;
use wbx_core::{HostState, KindSpec, ModuleKind, World};

use crate::bindings::imports::wbx::guest::sql;
use crate::bindings::{command, effect, projector};

pub const COMMAND: ModuleKind = ModuleKind::new("command");
pub const PROJECTOR: ModuleKind = ModuleKind::new("projector");
pub const EFFECT: ModuleKind = ModuleKind::new("effect");

pub const KINDS: [KindSpec; 3] = [
    KindSpec::runs(
        COMMAND,
        World::of::<command::CommandModulePre<HostState>>(
            "wbx:guest/command-module",
            "wbx:guest/command@0.1.0",
            link_nothing,
        ),
    ),
    KindSpec::runs(
        PROJECTOR,
        World::of::<projector::ProjectorModulePre<HostState>>(
            "wbx:guest/projector-module",
            "wbx:guest/projector@0.1.0",
            link_sql,
        ),
    ),
    KindSpec::runs(
        EFFECT,
        World::of::<effect::EffectModulePre<HostState>>(
            "wbx:guest/effect-module",
            "wbx:guest/effect@0.1.0",
            link_effect,
        ),
    ),
];

fn link_nothing(_: &mut Linker<HostState>) -> anyhow::Result<()> {
    Ok(())
}

fn link_sql(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    Ok(sql::add_to_linker::<_, HasSelf<HostState>>(
        linker,
        |state| state,
    )?)
}

fn link_effect(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    link_sql(linker)?;
    link_commands(linker)
}
