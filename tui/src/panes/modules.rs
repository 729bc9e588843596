//! The Modules pane: every module of the project with its kind, version,
//! state, reloads and last error, and, for a module that reads a log, its
//! position and lag. The core's observations change it here; a model tells
//! it what only the model knows (a module of its stopped, retrying, at a
//! position) through the setters.

use wbx_engine::model::ModuleState as RuntimeState;
use wbx_engine::observe::BuildFailure;
use wbx_engine::{ModuleInfo, ModuleKind, Observation, Tier};

use super::Cursor;

#[derive(Debug, Clone, Default)]
pub struct ModulesPane {
    pub rows: Vec<ModuleRow>,
    pub cursor: Cursor,
    /// The detail view of the selected module is open, scrolled this far.
    pub detail: Option<u16>,
    /// The log's head, to tell how far each module that reads it lags.
    pub head: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleRow {
    pub name: String,
    pub kind: ModuleKind,
    /// The active version; none until one loads.
    pub version: Option<String>,
    /// The compiler of the code it runs (`winch` until Cranelift's is ready).
    pub tier: Option<Tier>,
    pub reloads: u64,
    pub building: bool,
    /// The compiler's diagnostics of the last build, when it failed.
    pub build_error: Option<String>,
    /// Why the last version could not be loaded or swapped in.
    pub load_error: Option<String>,
    /// The last failed guest call: a trap, a timeout, a limit.
    pub call_error: Option<String>,
    pub calls_failed: u64,
    /// How far in the log the module got (a projector's read model).
    pub position: Option<u64>,
    /// Why its model's runtime stopped it (a projector's failing batch,
    /// an effect that cannot run).
    pub stopped: Option<String>,
    /// What it is retrying meanwhile (an effect's failed event).
    pub retrying: Option<String>,
}

/// What the status column says, most pressing first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleState {
    Building,
    /// The last build or load failed; an older version may still serve.
    Failed,
    /// Its model's runtime stopped it (a projector on a failing batch).
    Stopped,
    Running,
    /// Never loaded, nothing failed yet.
    Waiting,
}

impl ModuleState {
    pub fn as_str(self) -> &'static str {
        match self {
            ModuleState::Building => "building",
            ModuleState::Failed => "failed",
            ModuleState::Stopped => "stopped",
            ModuleState::Running => "running",
            ModuleState::Waiting => "not loaded",
        }
    }
}

impl ModuleRow {
    pub fn new(name: &str, kind: ModuleKind) -> ModuleRow {
        ModuleRow {
            name: name.to_owned(),
            kind,
            version: None,
            tier: None,
            reloads: 0,
            building: false,
            build_error: None,
            load_error: None,
            call_error: None,
            calls_failed: 0,
            position: None,
            stopped: None,
            retrying: None,
        }
    }

    pub fn state(&self) -> ModuleState {
        if self.building {
            ModuleState::Building
        } else if self.build_error.is_some() || self.load_error.is_some() {
            ModuleState::Failed
        } else if self.stopped.is_some() {
            ModuleState::Stopped
        } else if self.version.is_some() {
            ModuleState::Running
        } else {
            ModuleState::Waiting
        }
    }

    /// The error a person should read first, if any.
    pub fn first_error(&self) -> Option<&str> {
        self.build_error
            .as_deref()
            .or(self.load_error.as_deref())
            .or(self.stopped.as_deref())
            .or(self.retrying.as_deref())
            .or(self.call_error.as_deref())
    }
}

impl ModulesPane {
    /// The pane as the engine stands: the project's modules (`declared`),
    /// what the registry knows of them, what the models' runtimes say of
    /// them (`states`: stopped, retrying, with why), and the failures of
    /// the build that ran before the engine started.
    pub fn seed(
        declared: &[(String, ModuleKind)],
        infos: &[ModuleInfo],
        states: &[RuntimeState],
        first_build: &[BuildFailure],
    ) -> ModulesPane {
        let mut pane = ModulesPane::default();
        for (name, kind) in declared {
            pane.row(name, *kind);
        }
        for info in infos {
            let row = pane.row(&info.name, info.kind);
            row.version = info.version.as_ref().map(ToString::to_string);
            row.tier = info.tier;
            row.reloads = info.reloads;
            row.load_error = info.last_error.clone();
        }
        for state in states {
            if let Some(row) = pane.get_mut(&state.module) {
                row.stopped = state.stopped.clone();
                row.retrying = state.retrying.clone();
            }
        }
        for failure in first_build {
            if let Some(row) = pane.get_mut(&failure.module) {
                row.build_error = Some(failure.diagnostics.clone());
            }
        }
        pane.cursor.follow = false;
        pane
    }

    /// The row of `name`, added (as a `kind`) when there is none.
    pub fn row(&mut self, name: &str, kind: ModuleKind) -> &mut ModuleRow {
        let index = match self.rows.iter().position(|r| r.name == name) {
            Some(index) => index,
            None => {
                self.rows.push(ModuleRow::new(name, kind));
                self.rows.len() - 1
            }
        };
        &mut self.rows[index]
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut ModuleRow> {
        self.rows.iter_mut().find(|r| r.name == name)
    }

    pub fn selected(&self) -> Option<&ModuleRow> {
        self.rows.get(self.cursor.selected)
    }

    /// How far a projector's read model is behind the log.
    pub fn lag(&self, row: &ModuleRow) -> Option<u64> {
        row.position.map(|p| self.head.saturating_sub(p))
    }

    /// Takes in an observation; true when it changed the pane.
    pub fn observe(&mut self, observation: &Observation) -> bool {
        match observation {
            Observation::ModuleLoaded {
                module,
                kind,
                version,
                compile,
            } => {
                let row = self.row(module, *kind);
                row.version = Some(version.to_string());
                row.tier = Some(compile.tier);
                row.load_error = None;
            }
            Observation::ModuleSwapped {
                module,
                to,
                compile,
                ..
            } => {
                let Some(row) = self.get_mut(module) else {
                    return false;
                };
                row.version = Some(to.to_string());
                row.tier = Some(compile.tier);
                row.reloads += 1;
                row.load_error = None;
                // A new version resumes a stopped projector or retrying effect.
                row.stopped = None;
                row.retrying = None;
            }
            Observation::ModuleTieredUp {
                module, compile, ..
            } => {
                let Some(row) = self.get_mut(module) else {
                    return false;
                };
                row.tier = Some(compile.tier);
            }
            Observation::ModuleFailed { module, error } => {
                let Some(row) = self.get_mut(module) else {
                    return false;
                };
                row.load_error = Some(error.clone());
            }
            Observation::CallFailed { module, error } => {
                let Some(row) = self.get_mut(module) else {
                    return false;
                };
                row.call_error = Some(error.clone());
                row.calls_failed += 1;
            }
            Observation::BuildStarted { modules, .. } => {
                for name in modules {
                    if let Some(row) = self.get_mut(name) {
                        row.building = true;
                    }
                }
            }
            Observation::BuildFinished {
                built,
                failed,
                cancelled,
                ..
            } => {
                if *cancelled {
                    // Another build follows at once.
                    return false;
                }
                for row in &mut self.rows {
                    row.building = false;
                    if built.contains(&row.name) {
                        row.build_error = None;
                    }
                }
                for failure in failed {
                    if let Some(row) = self.get_mut(&failure.module) {
                        row.build_error = Some(failure.diagnostics.clone());
                    }
                }
            }
            _ => return false,
        }
        true
    }
}
