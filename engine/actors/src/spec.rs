//! A supervision tree's description, [`SupervisorSpec`]: what `wbx.toml`'s
//! `[supervisors.NAME]` tables become, and what a guest passes as the
//! arguments of a spawn of [`SUPERVISOR`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The module name a guest spawns to start a supervisor (no module can
/// have it: module names have no `:`).
pub const SUPERVISOR: &str = "wbx:supervisor";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SupervisorSpec {
    #[serde(default)]
    pub strategy: Strategy,
    /// At most this many restarts ...
    #[serde(default = "default_intensity")]
    pub intensity: u32,
    /// ... within this many seconds; over it, the supervisor exits.
    #[serde(default = "default_period")]
    pub period_s: u64,
    #[serde(default)]
    pub children: Vec<ChildSpec>,
}

fn default_intensity() -> u32 {
    3
}

fn default_period() -> u64 {
    5
}

impl SupervisorSpec {
    pub fn period(&self) -> Duration {
        Duration::from_secs(self.period_s)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Restart the child that exited.
    #[default]
    OneForOne,
    /// Stop every other child, then restart them all.
    OneForAll,
    /// Stop the children started after the one that exited, then restart
    /// it and them.
    RestForOne,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::OneForOne => "one-for-one",
            Strategy::OneForAll => "one-for-all",
            Strategy::RestForOne => "rest-for-one",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Restart {
    /// Always restarted.
    #[default]
    Permanent,
    /// Restarted when it exits abnormally (not `normal` or `shutdown`).
    Transient,
    /// Never restarted.
    Temporary,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ChildSpec {
    pub id: String,
    /// A process of this actor module ...
    #[serde(default)]
    pub module: Option<String>,
    /// ... or a supervisor: one of the two.
    #[serde(default)]
    pub supervisor: Option<Box<SupervisorSpec>>,
    /// `init`'s arguments, for a module.
    #[serde(default)]
    pub args: serde_json::Value,
    #[serde(default)]
    pub restart: Restart,
    /// Registers the child under this name.
    #[serde(default)]
    pub register: Option<String>,
}

impl ChildSpec {
    /// The module a spawn names, and its arguments as JSON text; an error
    /// when the child names both a module and a supervisor, or neither.
    pub fn spawn_args(&self) -> Result<(String, String), String> {
        match (&self.module, &self.supervisor) {
            (Some(module), None) => Ok((module.clone(), self.args.to_string())),
            (None, Some(supervisor)) => Ok((
                SUPERVISOR.to_owned(),
                serde_json::to_string(supervisor).unwrap_or_default(),
            )),
            _ => Err(format!(
                "child '{}' must name either a module or a supervisor",
                self.id
            )),
        }
    }
}
