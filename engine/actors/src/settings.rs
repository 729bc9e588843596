//! The actors model's tables of `wbx.toml`, read strictly (located errors):
//!
//! ```toml
//! [modules.counter]          # one actor module's settings
//! mailbox = 1000             # mailbox capacity (default 1024)
//! timeout-ms = 5000          # a handler's deadline (default: [engine] call-timeout-ms)
//! allow-http = ["api.example.org"]   # hosts outside the engine it may call
//!
//! [supervisors.root]         # a supervision tree started at boot, registered as `root`
//! strategy = "one-for-one"   # one-for-one | one-for-all | rest-for-one
//! intensity = 3              # at most 3 restarts ...
//! period-s = 5               # ... within 5 s; over it the supervisor exits
//! children = [
//!   { id = "counter", module = "counter", args = { start = 0 }, restart = "permanent", register = "counter" },
//!   { id = "pool", supervisor = "pool" },   # a nested tree: [supervisors.pool]
//! ]
//! ```
//!
//! A `[supervisors.NAME]` table no other table names as a child is a root,
//! started at boot; a nested one is registered under its table's name.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use wbx_core::host_http::OutsideHosts;
use wbx_core::project::{Manifest, ManifestError, ModuleDecl};

use crate::kinds::ACTOR;
use crate::spec::{ChildSpec, Restart, Strategy, SupervisorSpec};

/// The tables this model reads.
pub const SECTIONS: &[&str] = &["supervisors"];

/// A mailbox's capacity when `wbx.toml` sets none.
pub const DEFAULT_MAILBOX: usize = 1024;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ActorTable {
    mailbox: Option<Spanned<u64>>,
    timeout_ms: Option<Spanned<u64>>,
    #[serde(default)]
    allow_http: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SupervisorTable {
    strategy: Option<Spanned<String>>,
    intensity: Option<Spanned<u64>>,
    period_s: Option<Spanned<u64>>,
    #[serde(default)]
    children: Vec<ChildTable>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ChildTable {
    id: Spanned<String>,
    module: Option<Spanned<String>>,
    supervisor: Option<Spanned<String>>,
    args: Option<toml::Value>,
    restart: Option<Spanned<String>>,
    register: Option<Spanned<String>>,
}

/// The actors model's settings, as the runtime uses them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActorSettings {
    pub modules: BTreeMap<String, ModuleSettings>,
    /// The trees started at boot, by their root's table name.
    pub trees: BTreeMap<String, SupervisorSpec>,
}

impl ActorSettings {
    /// Module `name`'s settings (the defaults when it sets none).
    pub fn module(&self, name: &str) -> ModuleSettings {
        self.modules.get(name).cloned().unwrap_or_default()
    }
}

/// One actor module's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSettings {
    pub mailbox: usize,
    /// `None`: the engine's call timeout.
    pub timeout: Option<Duration>,
    pub outside: OutsideHosts,
}

impl Default for ModuleSettings {
    fn default() -> Self {
        ModuleSettings {
            mailbox: DEFAULT_MAILBOX,
            timeout: None,
            outside: OutsideHosts::default(),
        }
    }
}

const MAILBOX: Range<u64> = 1..10_000_001;
const TIMEOUT_MS: Range<u64> = 1..3_600_001;
const INTENSITY: Range<u64> = 0..1_000_001;
const PERIOD_S: Range<u64> = 1..86_401;

/// The actors model's tables of `manifest`, checked against the project's
/// actor modules.
pub fn settings(manifest: &Manifest, actors: &[String]) -> Result<ActorSettings, ManifestError> {
    let mut settings = ActorSettings::default();
    for actor in actors {
        let table: ActorTable = manifest.module_table(actor)?;
        let name = format!("modules.{actor}");
        manifest.check_range(&name, "mailbox", &table.mailbox, MAILBOX)?;
        manifest.check_range(&name, "timeout-ms", &table.timeout_ms, TIMEOUT_MS)?;
        let outside = manifest.outside_hosts(&name, &table.allow_http)?;
        let value = |v: &Option<Spanned<u64>>| v.as_ref().map(|v| *v.get_ref());
        settings.modules.insert(
            actor.clone(),
            ModuleSettings {
                mailbox: value(&table.mailbox).map_or(DEFAULT_MAILBOX, |v| v as usize),
                timeout: value(&table.timeout_ms).map(Duration::from_millis),
                outside,
            },
        );
    }
    let tables: BTreeMap<String, SupervisorTable> = manifest.section("supervisors")?;
    let nested: Vec<&Spanned<String>> = tables
        .values()
        .flat_map(|t| t.children.iter().filter_map(|c| c.supervisor.as_ref()))
        .collect();
    for name in &nested {
        if !tables.contains_key(name.get_ref()) {
            return Err(manifest.error_at(
                name.span(),
                format!(
                    "no [supervisors.{0}] table for the child supervisor '{0}'",
                    name.get_ref()
                ),
            ));
        }
    }
    let reader = Reader {
        manifest,
        tables: &tables,
        actors,
    };
    for (name, table) in &tables {
        if nested.iter().any(|n| n.get_ref() == name) {
            continue;
        }
        let spec = reader.spec(name, table, &mut vec![name.clone()])?;
        settings.trees.insert(name.clone(), spec);
    }
    if settings.trees.is_empty()
        && let Some(child) = nested.first()
    {
        return Err(manifest.error_at(
            child.span(),
            "the supervisors name each other in a cycle: no tree has a root".to_owned(),
        ));
    }
    Ok(settings)
}

/// Reads `[supervisors.NAME]` tables into specs, nested tables inlined.
struct Reader<'a> {
    manifest: &'a Manifest,
    tables: &'a BTreeMap<String, SupervisorTable>,
    actors: &'a [String],
}

impl Reader<'_> {
    fn spec(
        &self,
        name: &str,
        table: &SupervisorTable,
        path: &mut Vec<String>,
    ) -> Result<SupervisorSpec, ManifestError> {
        let section = format!("supervisors.{name}");
        let manifest = self.manifest;
        manifest.check_range(&section, "intensity", &table.intensity, INTENSITY)?;
        manifest.check_range(&section, "period-s", &table.period_s, PERIOD_S)?;
        let strategy = match &table.strategy {
            None => Strategy::default(),
            Some(s) => match s.get_ref().as_str() {
                "one-for-one" => Strategy::OneForOne,
                "one-for-all" => Strategy::OneForAll,
                "rest-for-one" => Strategy::RestForOne,
                other => {
                    return Err(manifest.error_at(
                        s.span(),
                        format!(
                            "[{section}] strategy: '{other}' is not one-for-one, one-for-all or rest-for-one"
                        ),
                    ));
                }
            },
        };
        let mut spec = SupervisorSpec {
            strategy,
            intensity: table.intensity.as_ref().map_or(3, |v| *v.get_ref() as u32),
            period_s: table.period_s.as_ref().map_or(5, |v| *v.get_ref()),
            children: Vec::new(),
        };
        for child in &table.children {
            spec.children.push(self.child(&section, child, path)?);
        }
        if let Err(why) = crate::supervisor::check(&spec) {
            let at = table.children.first().map_or(0..0, |c| c.id.span());
            return Err(manifest.error_at(at, format!("[{section}] {why}")));
        }
        Ok(spec)
    }

    fn child(
        &self,
        section: &str,
        child: &ChildTable,
        path: &mut Vec<String>,
    ) -> Result<ChildSpec, ManifestError> {
        let manifest = self.manifest;
        let id = child.id.get_ref();
        let restart = match &child.restart {
            None => Restart::default(),
            Some(r) => match r.get_ref().as_str() {
                "permanent" => Restart::Permanent,
                "transient" => Restart::Transient,
                "temporary" => Restart::Temporary,
                other => {
                    return Err(manifest.error_at(
                        r.span(),
                        format!(
                            "[{section}] child '{id}': restart '{other}' is not permanent, transient or temporary"
                        ),
                    ));
                }
            },
        };
        let args = child
            .args
            .as_ref()
            .map(|a| serde_json::to_value(a).unwrap_or_default())
            .unwrap_or_default();
        let mut spec = ChildSpec {
            id: id.clone(),
            module: None,
            supervisor: None,
            args,
            restart,
            register: child.register.as_ref().map(|r| r.get_ref().clone()),
        };
        match (&child.module, &child.supervisor) {
            (Some(module), None) => {
                if !self.actors.contains(module.get_ref()) {
                    return Err(manifest.error_at(
                        module.span(),
                        format!(
                            "[{section}] child '{id}': '{}' is not an actor module of the project (actors: {})",
                            module.get_ref(),
                            if self.actors.is_empty() { "none".to_owned() } else { self.actors.join(", ") }
                        ),
                    ));
                }
                spec.module = Some(module.get_ref().clone());
            }
            (None, Some(nested)) => {
                let name = nested.get_ref();
                if path.contains(name) {
                    return Err(manifest.error_at(
                        nested.span(),
                        format!("[{section}] child '{id}': supervisor '{name}' contains itself ({} → {name})", path.join(" → ")),
                    ));
                }
                path.push(name.clone());
                let inner = self.spec(name, &self.tables[name], path)?;
                path.pop();
                spec.supervisor = Some(Box::new(inner));
                spec.register.get_or_insert_with(|| name.clone());
            }
            _ => {
                return Err(manifest.error_at(
                    child.id.span(),
                    format!("[{section}] child '{id}' must name either a module or a supervisor"),
                ));
            }
        }
        Ok(spec)
    }
}

/// The model's check: its tables read strictly.
pub fn check(manifest: &Manifest, modules: &[ModuleDecl]) -> Result<Vec<String>, ManifestError> {
    settings(manifest, &actor_names(modules))?;
    Ok(Vec::new())
}

/// The names of the project's actor modules.
pub fn actor_names(modules: &[ModuleDecl]) -> Vec<String> {
    ModuleDecl::names_of(modules, ACTOR)
}
