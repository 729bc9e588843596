//! Module kinds: what a guest crate declares itself to be, and the WIT world
//! each kind must implement.
//!
//! The core knows no kind by name. Each model declares its kinds as
//! [`KindSpec`]s (a name, whether it needs a namespace, and the world it
//! runs, if any); the assembly hands them all to the core as one
//! [`Catalog`], which the project model parses declarations against and the
//! engine links components with.

use std::any::Any;
use std::fmt;

use serde::Serialize;
use wasmtime::component::{InstancePre, Linker};

use crate::host_state::HostState;
use crate::instance::WorldPre;

/// The kind a guest crate declares in `[package.metadata.wbx] kind = "…"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleKind(&'static str);

impl ModuleKind {
    /// A kind named `name`; models declare theirs as constants.
    pub const fn new(name: &'static str) -> Self {
        ModuleKind(name)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for ModuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for ModuleKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

/// A kind as its model declares it.
#[derive(Clone, Copy)]
pub struct KindSpec {
    pub kind: ModuleKind,
    /// Addressed as `http://{namespace}.{module}/…`, so it needs a namespace.
    pub needs_namespace: bool,
    /// The world its components implement; `None` while the engine does
    /// not run the kind yet (projects may declare it; loading one says so).
    pub world: Option<World>,
}

impl KindSpec {
    /// A kind the engine runs, with the world its components implement.
    pub const fn runs(kind: ModuleKind, world: World) -> Self {
        KindSpec {
            kind,
            needs_namespace: false,
            world: Some(world),
        }
    }

    /// A kind projects may declare but the engine does not run yet.
    pub const fn planned(kind: ModuleKind, needs_namespace: bool) -> Self {
        KindSpec {
            kind,
            needs_namespace,
            world: None,
        }
    }
}

/// A WIT world: what a kind's components export and import, and how the
/// engine links them.
#[derive(Clone, Copy)]
pub struct World {
    /// The world's full name (`wbx:guest/command-module`).
    pub name: &'static str,
    /// The interface its components must export.
    pub export: &'static str,
    /// Adds the world's imports beyond the base every module gets (WASI,
    /// `wasi:http`, `wbx:guest/log`): a module links only its own world.
    pub link: fn(&mut Linker<HostState>) -> anyhow::Result<()>,
    /// Checks a pre-instantiated component against the world's shape and
    /// keeps the typed result the model instantiates from.
    pub typed: fn(InstancePre<HostState>) -> wasmtime::Result<Box<dyn Any + Send + Sync>>,
}

impl World {
    /// The world whose typed pre-instance is `P`.
    pub const fn of<P: WorldPre>(
        name: &'static str,
        export: &'static str,
        link: fn(&mut Linker<HostState>) -> anyhow::Result<()>,
    ) -> Self {
        World {
            name,
            export,
            link,
            typed: typed::<P>,
        }
    }
}

fn typed<P: WorldPre>(pre: InstancePre<HostState>) -> wasmtime::Result<Box<dyn Any + Send + Sync>> {
    Ok(Box::new(P::new(pre)?))
}

/// Every kind the registered models declare, in their order.
#[derive(Clone, Default)]
pub struct Catalog {
    kinds: Vec<KindSpec>,
}

impl Catalog {
    pub fn new(kinds: Vec<KindSpec>) -> Self {
        Catalog { kinds }
    }

    pub fn get(&self, kind: ModuleKind) -> Option<&KindSpec> {
        self.kinds.iter().find(|spec| spec.kind == kind)
    }

    pub fn iter(&self) -> impl Iterator<Item = &KindSpec> {
        self.kinds.iter()
    }

    /// The kind named `name`, or an error listing the kinds there are.
    pub fn parse(&self, name: &str) -> Result<ModuleKind, String> {
        self.kinds
            .iter()
            .map(|spec| spec.kind)
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| {
                let names: Vec<_> = self.kinds.iter().map(|s| s.kind.as_str()).collect();
                format!(
                    "unknown kind '{name}', expected one of: {}",
                    names.join(", ")
                )
            })
    }

    /// The names of the kinds the engine runs, for messages.
    pub fn running(&self) -> String {
        let names: Vec<_> = self
            .kinds
            .iter()
            .filter(|spec| spec.world.is_some())
            .map(|spec| spec.kind.as_str())
            .collect();
        names.join(", ")
    }
}

impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.kinds.iter().map(|spec| spec.kind))
            .finish()
    }
}
