//! Module kinds: what a guest crate declares itself to be, and the WIT world
//! each kind must implement.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kind a guest crate declares in `[package.metadata.wbx] kind = "…"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModuleKind {
    Command,
    Projector,
    Effect,
    Service,
    Actor,
    Source,
    Processor,
    Sink,
}

/// The WIT world a kind's components implement, and the interface they export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorldContract {
    pub world: &'static str,
    pub export: &'static str,
}

impl ModuleKind {
    pub const ALL: [ModuleKind; 8] = [
        ModuleKind::Command,
        ModuleKind::Projector,
        ModuleKind::Effect,
        ModuleKind::Service,
        ModuleKind::Actor,
        ModuleKind::Source,
        ModuleKind::Processor,
        ModuleKind::Sink,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ModuleKind::Command => "command",
            ModuleKind::Projector => "projector",
            ModuleKind::Effect => "effect",
            ModuleKind::Service => "service",
            ModuleKind::Actor => "actor",
            ModuleKind::Source => "source",
            ModuleKind::Processor => "processor",
            ModuleKind::Sink => "sink",
        }
    }

    /// The world this kind's components must implement, or `None` when this
    /// engine does not run that kind yet.
    pub fn contract(self) -> Option<WorldContract> {
        let (world, export) = match self {
            ModuleKind::Command => ("command-module", "wbx:guest/command@0.1.0"),
            ModuleKind::Projector => ("projector-module", "wbx:guest/projector@0.1.0"),
            ModuleKind::Effect => ("effect-module", "wbx:guest/effect@0.1.0"),
            ModuleKind::Service
            | ModuleKind::Actor
            | ModuleKind::Source
            | ModuleKind::Processor
            | ModuleKind::Sink => return None,
        };
        Some(WorldContract { world, export })
    }

    /// Services are addressed as `http://{namespace}.{module}/…`, so they need one.
    pub fn needs_namespace(self) -> bool {
        self == ModuleKind::Service
    }
}

impl fmt::Display for ModuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ModuleKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ModuleKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = ModuleKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown kind '{s}', expected one of: {}", names.join(", "))
            })
    }
}
