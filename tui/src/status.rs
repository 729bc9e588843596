//! The status bar's state: the project, the engine, the build in progress or
//! the last one, and the account of the last reload.

use std::time::{Duration, Instant};

use wbx_engine::{Observation, Tier};

#[derive(Debug, Clone)]
pub struct Status {
    pub project: String,
    /// Where the control API answers.
    pub api: String,
    pub build: BuildState,
    pub last_reload: Option<ReloadAccount>,
    /// `wbx.toml` was refused: why (the previous settings run).
    pub config_error: Option<String>,
    /// Observations skipped because the view fell behind.
    pub skipped: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildState {
    /// Nothing built since the start.
    Idle,
    Building {
        modules: Vec<String>,
        started: Instant,
        elapsed: Duration,
        frame: usize,
    },
    Built {
        modules: usize,
        elapsed: Duration,
    },
    Failed {
        modules: Vec<String>,
    },
}

impl BuildState {
    pub fn is_building(&self) -> bool {
        matches!(self, BuildState::Building { .. })
    }
}

/// Why a module was reloaded and what each step cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadAccount {
    pub module: String,
    pub from: Option<String>,
    pub to: String,
    pub trigger: String,
    pub cargo: Duration,
    pub compile: Duration,
    pub cached: bool,
    /// The compiler of the code swapped in.
    pub tier: Tier,
    /// Why Winch's code was not used, when it was asked for.
    pub fallback: Option<String>,
    /// Cranelift's compile time, once its code replaced Winch's.
    pub optimized: Option<Duration>,
    pub swap: Duration,
    pub latency: Duration,
}

impl Status {
    pub fn new(project: impl Into<String>, api: impl Into<String>) -> Status {
        Status {
            project: project.into(),
            api: api.into(),
            build: BuildState::Idle,
            last_reload: None,
            config_error: None,
            skipped: 0,
        }
    }

    /// Takes in what the status bar shows of an observation.
    pub fn observe(&mut self, observation: &Observation, now: Instant) {
        match observation {
            Observation::BuildStarted { modules, .. } => {
                self.build = BuildState::Building {
                    modules: modules.clone(),
                    started: now,
                    elapsed: Duration::ZERO,
                    frame: 0,
                };
            }
            Observation::BuildFinished {
                built,
                failed,
                elapsed,
                cancelled: false,
            } => {
                self.build = if failed.is_empty() {
                    BuildState::Built {
                        modules: built.len(),
                        elapsed: *elapsed,
                    }
                } else {
                    BuildState::Failed {
                        modules: failed.iter().map(|f| f.module.clone()).collect(),
                    }
                };
            }
            Observation::Reloaded {
                module,
                from,
                to,
                trigger,
                build,
                compile,
                fallback,
                swap,
                latency,
            } => {
                self.last_reload = Some(ReloadAccount {
                    module: module.clone(),
                    from: from.as_ref().map(ToString::to_string),
                    to: to.to_string(),
                    trigger: trigger.clone(),
                    cargo: *build,
                    compile: compile.compile_time,
                    cached: compile.cache_hit,
                    tier: compile.tier,
                    fallback: fallback.clone(),
                    optimized: None,
                    swap: *swap,
                    latency: *latency,
                });
            }
            Observation::ModuleTieredUp {
                module,
                version,
                compile,
            } => {
                if let Some(account) = &mut self.last_reload
                    && account.module == *module
                    && account.to == version.to_string()
                {
                    account.optimized = Some(compile.compile_time);
                }
            }
            Observation::ConfigReloaded { error } => self.config_error = error.clone(),
            _ => {}
        }
    }

    /// Turns the spinner; true when that changed something to draw.
    pub fn tick(&mut self, now: Instant) -> bool {
        match &mut self.build {
            BuildState::Building {
                started,
                elapsed,
                frame,
                ..
            } => {
                *elapsed = now.saturating_duration_since(*started);
                *frame = frame.wrapping_add(1);
                true
            }
            _ => false,
        }
    }
}
