//! The `wbx dev` loop: watch the project, rebuild only the modules a change
//! affects, and swap each rebuilt module into the running engine.
//!
//! - Changes are debounced ([`DEBOUNCE`]); files under the target directory,
//!   `.wbx/`, `.git/` and editor temporaries are ignored, so the build's own
//!   output never triggers a build.
//! - A changed file maps to the crate that holds it, then to every module
//!   built from that crate (through path dependencies too).
//! - A change during a build cancels it and starts a new one with both
//!   changes.
//! - A module that fails to build keeps its running version; the compiler's
//!   diagnostics are reported.
//! - A rebuilt module is swapped in on Winch's code where Winch runs
//!   ([`Engine::swap_soonest`]); once all of a change's modules are in,
//!   Cranelift compiles them one at a time and its code replaces Winch's
//!   ([`Engine::tier_up_later`]).
//! - A changed `wbx.toml` is re-read and checked by the core and every
//!   model: applied (limits, each model's tables) or refused with its
//!   located error while the old settings keep running.
//! - A swapped module is handed to its model's runtime, which follows its
//!   kind's rules (the events model: a command's next execution runs the
//!   new version; a projector continues from its position, or rebuilds
//!   when the major version changed; an effect finishes what it holds and
//!   resumes from its saved position).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::{mpsc, watch};

use wbx_core::guest_build::{self, BuildEvent, BuildOptions, BuildReport, FailureNotes};
use wbx_core::project::{MANIFEST_FILE, Project};
use wbx_core::{Engine, Observation, Runtimes, SwapReport, Tier};

/// Quiet time that ends a burst of changes.
pub const DEBOUNCE: Duration = Duration::from_millis(10);

/// The trigger of a reload that was asked for rather than caused by a change.
pub const REQUESTED: &str = "(rebuild requested)";

/// What the loop reports, in order.
#[derive(Debug)]
pub enum DevEvent<'a> {
    Watching {
        root: &'a Path,
    },
    /// A burst of changes, and the modules to rebuild for it.
    Changed {
        files: &'a [PathBuf],
        modules: &'a [String],
    },
    /// The build in progress was cancelled by a newer change.
    Restarted,
    Build(BuildEvent<'a>),
    BuildFinished {
        report: &'a BuildReport,
    },
    Reloaded(&'a Reload),
    /// A module built but its component is the one already running.
    Unchanged {
        module: &'a str,
    },
    /// A module built but could not be swapped in (its old version runs on).
    SwapFailed {
        module: &'a str,
        error: String,
    },
    /// A module was swapped in, but its component could not be kept for
    /// later replays (`wbx replay --against VERSION`).
    NotKept {
        module: &'a str,
        error: String,
    },
    ConfigApplied,
    ConfigRefused {
        error: String,
    },
    /// The watcher itself failed.
    WatchError {
        error: String,
    },
}

/// One module swapped, and what it cost.
#[derive(Debug, Clone)]
pub struct Reload {
    pub module: String,
    pub swap: SwapReport,
    /// The first changed file that led to this reload.
    pub trigger: PathBuf,
    /// Cargo's time for the whole build.
    pub build: Duration,
    /// From the change being seen to the new version serving, without cargo.
    pub latency: Duration,
}

/// Whether a changed path can matter: not build output, not run state, not
/// an editor's temporary file.
pub fn is_relevant(project: &Project, path: &Path) -> bool {
    if project
        .modules
        .iter()
        .any(|m| m.component.as_deref() == Some(path))
    {
        return true;
    }
    if path.starts_with(&project.target_dir)
        || path.starts_with(project.state.dir())
        || path.components().any(|c| {
            let c = c.as_os_str();
            c == ".git" || c == "target" || c == ".wbx"
        })
    {
        return false;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    !(name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name.starts_with(".#")
        || (name.starts_with('#') && name.ends_with('#'))
        || name == "4913")
}

pub struct DevLoop {
    pub project: Project,
    pub engine: Arc<Engine>,
    pub runtimes: Runtimes,
    pub color: bool,
}

impl DevLoop {
    /// Watches until `stop` turns true. Each name received on `rebuilds` asks
    /// for that module to be rebuilt and swapped as if its sources changed.
    pub async fn run(
        mut self,
        mut stop: watch::Receiver<bool>,
        mut rebuilds: mpsc::UnboundedReceiver<String>,
        mut report: impl FnMut(DevEvent<'_>) + Send,
    ) -> Result<()> {
        let (tx, mut changes) = mpsc::unbounded_channel();
        let mut watcher = notify::recommended_watcher(move |event| {
            let _ = tx.send(event);
        })
        .context("cannot start the file watcher")?;
        watcher
            .watch(&self.project.root, RecursiveMode::Recursive)
            .with_context(|| format!("cannot watch {}", self.project.root.display()))?;
        report(DevEvent::Watching {
            root: &self.project.root,
        });
        if Tier::winch_available() {
            // The first swap should not wait for Winch's engine to be made.
            let engine = self.engine.clone();
            tokio::task::spawn_blocking(move || engine.ready(Tier::Winch));
        }

        let mut pending: Vec<PathBuf> = Vec::new();
        // Modules asked for whose build a newer change cancelled.
        let mut owed: BTreeMap<String, PathBuf> = BTreeMap::new();
        let mut seen_at = Instant::now();
        loop {
            if pending.is_empty() && owed.is_empty() {
                tokio::select! {
                    _ = stop.changed() => return Ok(()),
                    event = changes.recv() => match event {
                        Some(event) => {
                            seen_at = Instant::now();
                            self.collect(event, &mut pending, &mut report);
                        }
                        None => return Ok(()),
                    },
                    Some(module) = rebuilds.recv() => {
                        seen_at = Instant::now();
                        owed.insert(module, PathBuf::from(REQUESTED));
                    }
                }
                continue;
            }
            if !pending.is_empty() {
                // Debounce: wait for a quiet moment.
                tokio::select! {
                    _ = stop.changed() => return Ok(()),
                    event = tokio::time::timeout(DEBOUNCE, changes.recv()) => match event {
                        Ok(Some(event)) => {
                            self.collect(event, &mut pending, &mut report);
                            continue;
                        }
                        Ok(None) => return Ok(()),
                        Err(_) => {}
                    },
                }
            }
            let files = std::mem::take(&mut pending);
            if files
                .iter()
                .any(|f| f.file_name().is_some_and(|n| n == MANIFEST_FILE))
            {
                self.reload_config(&mut report).await;
            }
            if files
                .iter()
                .any(|f| f.file_name().is_some_and(|n| n == "Cargo.toml"))
            {
                // New crates or dependencies: map files to modules afresh.
                if let Ok(project) = Project::open(&self.project.root, &self.project.models) {
                    self.runtimes.modules_changed(&project.modules);
                    self.project = project;
                }
            }
            // Files that still exist first: an editor's temporary file, gone
            // by now, makes a poor name for the change. Workspace-wide files
            // (Cargo.lock, the root Cargo.toml) last: a module's own file
            // names its reload better.
            let mut files = files;
            let root = self.project.root.clone();
            files.sort_by_key(|f| (!f.exists(), f.parent() == Some(root.as_path())));
            let mut triggers = std::mem::take(&mut owed);
            for file in files.iter().filter(|f| !f.ends_with(MANIFEST_FILE)) {
                for module in self.project.modules_affected_by(file) {
                    triggers.entry(module).or_insert_with(|| file.clone());
                }
            }
            if triggers.is_empty() {
                continue;
            }
            let shown: Vec<PathBuf> = match files.iter().filter(|f| f.exists()).count() {
                0 => files.clone(),
                _ => files.iter().filter(|f| f.exists()).cloned().collect(),
            };
            let built = self
                .rebuild(
                    &triggers,
                    &shown,
                    seen_at,
                    &mut changes,
                    &mut pending,
                    &mut stop,
                    &mut report,
                )
                .await;
            if *stop.borrow() {
                return Ok(());
            }
            if !built {
                // Cancelled by a newer change, now in `pending`: build for
                // both changes.
                for file in files {
                    if !pending.contains(&file) {
                        pending.push(file);
                    }
                }
                owed.extend(
                    triggers
                        .into_iter()
                        .filter(|(_, trigger)| trigger.as_os_str() == REQUESTED),
                );
                report(DevEvent::Restarted);
            }
        }
    }

    /// Builds the modules of `triggers` and swaps in what built; `false` when
    /// a newer change (or the stop) cancelled the build. A build that cannot
    /// even start (a module gone from the workspace, cargo missing) is
    /// reported as failed, and watching goes on.
    #[allow(clippy::too_many_arguments)]
    async fn rebuild(
        &self,
        triggers: &BTreeMap<String, PathBuf>,
        files: &[PathBuf],
        seen_at: Instant,
        changes: &mut mpsc::UnboundedReceiver<notify::Result<notify::Event>>,
        pending: &mut Vec<PathBuf>,
        stop: &mut watch::Receiver<bool>,
        report: &mut (impl FnMut(DevEvent<'_>) + Send),
    ) -> bool {
        let modules: Vec<String> = triggers.keys().cloned().collect();
        report(DevEvent::Changed {
            files,
            modules: &modules,
        });
        self.engine.observer().publish(Observation::BuildStarted {
            modules: modules.clone(),
            files: files.iter().map(|f| self.relative(f)).collect(),
        });
        let (build, notes) = match self
            .build(modules.clone(), changes, pending, stop, report)
            .await
        {
            Ok(built) => built,
            Err(error) => (
                BuildReport {
                    failed: modules.iter().map(|m| (m.clone(), 0)).collect(),
                    cargo_stderr: Some(format!("{error:#}")),
                    ..BuildReport::default()
                },
                FailureNotes::default(),
            ),
        };
        self.engine.observer().publish(Observation::BuildFinished {
            built: build.built.iter().map(|b| b.name.clone()).collect(),
            failed: if build.cancelled {
                Vec::new()
            } else {
                notes.failures(&build)
            },
            elapsed: build.elapsed,
            cancelled: build.cancelled,
        });
        if build.cancelled {
            return false;
        }
        report(DevEvent::BuildFinished { report: &build });
        self.swap_built(&build, triggers, seen_at, report);
        true
    }

    /// `path` relative to the project root, for people to read.
    fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.project.root)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }

    fn collect(
        &self,
        event: notify::Result<notify::Event>,
        pending: &mut Vec<PathBuf>,
        report: &mut impl FnMut(DevEvent<'_>),
    ) {
        match event {
            Ok(event) => {
                if matches!(event.kind, EventKind::Access(_)) {
                    return;
                }
                for path in event.paths {
                    if is_relevant(&self.project, &path) && !pending.contains(&path) {
                        pending.push(path);
                    }
                }
            }
            Err(error) => report(DevEvent::WatchError {
                error: error.to_string(),
            }),
        }
    }

    /// Builds `modules`; a relevant change meanwhile cancels the build (the
    /// report says so) and lands in `pending`.
    async fn build(
        &self,
        modules: Vec<String>,
        changes: &mut mpsc::UnboundedReceiver<notify::Result<notify::Event>>,
        pending: &mut Vec<PathBuf>,
        stop: &mut watch::Receiver<bool>,
        report: &mut (impl FnMut(DevEvent<'_>) + Send),
    ) -> Result<(BuildReport, FailureNotes)> {
        let cancel = Arc::new(AtomicBool::new(false));
        let options = BuildOptions {
            modules,
            release: false,
            color: self.color,
            cancel: Some(cancel.clone()),
        };
        let project = self.project.clone();
        // Build events cross from the blocking build thread as owned lines.
        let (lines_tx, mut lines) = mpsc::unbounded_channel::<OwnedBuildEvent>();
        let mut build = tokio::task::spawn_blocking(move || {
            guest_build::build(&project, &options, |event| {
                let _ = lines_tx.send(OwnedBuildEvent::from(&event));
            })
        });
        let mut notes = FailureNotes::default();
        loop {
            tokio::select! {
                finished = &mut build => {
                    while let Ok(line) = lines.try_recv() {
                        line.report(report, &mut notes);
                    }
                    let result = finished.context("the build task failed")??;
                    return Ok((result, notes));
                }
                Some(line) = lines.recv() => line.report(report, &mut notes),
                // Stopping kills cargo; the build ends at once as cancelled.
                _ = stop.changed() => cancel.store(true, Ordering::SeqCst),
                Some(event) = changes.recv() => {
                    let before = pending.len();
                    self.collect(event, pending, report);
                    if pending.len() > before {
                        cancel.store(true, Ordering::SeqCst);
                    }
                }
            }
        }
    }

    fn swap_built(
        &self,
        build: &BuildReport,
        triggers: &BTreeMap<String, PathBuf>,
        seen_at: Instant,
        report: &mut impl FnMut(DevEvent<'_>),
    ) {
        // Versions on Winch's code, moved to Cranelift's once all are in.
        let mut tier_ups = Vec::new();
        for built in &build.built {
            let Some(decl) = self.project.module(&built.name) else {
                continue;
            };
            let bytes = match std::fs::read(&built.artifact) {
                Ok(bytes) => bytes,
                Err(e) => {
                    report(DevEvent::SwapFailed {
                        module: &built.name,
                        error: format!("cannot read {}: {e}", built.artifact.display()),
                    });
                    continue;
                }
            };
            let hash = wbx_core::cache::content_hash(&bytes);
            if self
                .engine
                .version_of(&built.name)
                .is_some_and(|v| hash.starts_with(&v.hash) && v.crate_version == decl.version)
            {
                self.engine.observer().publish(Observation::Unchanged {
                    module: built.name.clone(),
                });
                report(DevEvent::Unchanged {
                    module: &built.name,
                });
                continue;
            }
            match self
                .engine
                .swap_soonest(&decl.name, decl.kind, &decl.version, &bytes)
            {
                Ok(swap) => {
                    let latency = seen_at.elapsed().saturating_sub(build.elapsed);
                    // Only for later replays (`--against VERSION`).
                    let versions = self.project.state.versions_dir();
                    if let Err(error) =
                        wbx_core::versions::keep(&versions, &built.name, &swap.version, &bytes)
                    {
                        report(DevEvent::NotKept {
                            module: &built.name,
                            error: format!("{error:#}"),
                        });
                    }
                    let reload = Reload {
                        module: built.name.clone(),
                        swap,
                        trigger: triggers.get(&built.name).cloned().unwrap_or_default(),
                        build: build.elapsed,
                        latency,
                    };
                    self.engine.observer().publish(Observation::Reloaded {
                        module: reload.module.clone(),
                        from: reload.swap.previous.clone(),
                        to: reload.swap.version.clone(),
                        trigger: self.relative(&reload.trigger),
                        build: reload.build,
                        compile: reload.swap.compile,
                        fallback: reload.swap.fallback.clone(),
                        swap: reload.swap.install,
                        latency: reload.latency,
                    });
                    if reload.swap.compile.tier == Tier::Winch {
                        tier_ups.push((reload.module.clone(), reload.swap.version.clone(), bytes));
                    }
                    // Its model moves on to it (or starts it, when its
                    // first build failed).
                    self.runtimes.module_swapped(&reload.module, decl.kind);
                    report(DevEvent::Reloaded(&reload));
                }
                Err(error) => report(DevEvent::SwapFailed {
                    module: &built.name,
                    error: format!("{error:#}"),
                }),
            }
        }
        if !tier_ups.is_empty() {
            // Full-speed code follows; Winch's serves meanwhile.
            self.engine.tier_up_later(tier_ups);
        }
    }

    /// `wbx.toml` changed: the project is read again (so a prebuilt module
    /// declared meanwhile is found), checked by the core and every model,
    /// and applied; a refused one changes nothing.
    async fn reload_config(&mut self, report: &mut impl FnMut(DevEvent<'_>)) {
        let project = match Project::open(&self.project.root, &self.project.models) {
            Ok(project) => project,
            Err(error) => return self.config_refused(format!("{error:#}"), report),
        };
        let manifest = project.manifest.clone();
        let envs = match manifest.module_envs() {
            Ok(envs) => envs,
            Err(error) => return self.config_refused(error.to_string(), report),
        };
        // Prebuilt modules declared or moved meanwhile: loaded before any
        // model may route to them.
        let mut loaded = Vec::new();
        for module in project
            .modules
            .iter()
            .filter(|m| !m.is_crate() && self.project.module(&m.name) != Some(*m))
        {
            let path = module.artifact_path(&project.target_dir, false);
            match self
                .engine
                .load_file(&module.name, module.kind, &module.version, &path)
            {
                Ok(_) => loaded.push((module.name.clone(), module.kind)),
                Err(error) => report(DevEvent::SwapFailed {
                    module: &module.name,
                    error: format!("{error:#}"),
                }),
            }
        }
        self.runtimes.modules_changed(&project.modules);
        if let Err(error) = self.runtimes.apply(&manifest).await {
            self.runtimes.modules_changed(&self.project.modules);
            return self.config_refused(format!("{error:#}"), report);
        }
        self.engine.set_limits(manifest.limits());
        self.engine.set_envs(envs);
        self.project = project;
        self.engine
            .observer()
            .publish(Observation::ConfigReloaded { error: None });
        report(DevEvent::ConfigApplied);
        for (module, kind) in loaded {
            self.runtimes.module_swapped(&module, kind);
        }
    }

    fn config_refused(&self, error: String, report: &mut impl FnMut(DevEvent<'_>)) {
        self.engine.observer().publish(Observation::ConfigReloaded {
            error: Some(error.clone()),
        });
        report(DevEvent::ConfigRefused { error });
    }
}

/// A [`BuildEvent`] that owns its data, to cross threads.
enum OwnedBuildEvent {
    Compiled(String),
    Diagnostic {
        module: Option<String>,
        is_error: bool,
        rendered: String,
    },
    Other,
}

impl From<&BuildEvent<'_>> for OwnedBuildEvent {
    fn from(event: &BuildEvent<'_>) -> Self {
        match event {
            BuildEvent::Compiled { crate_name } => {
                OwnedBuildEvent::Compiled((*crate_name).to_owned())
            }
            BuildEvent::Diagnostic {
                module,
                is_error,
                rendered,
            } => OwnedBuildEvent::Diagnostic {
                module: module.map(str::to_owned),
                is_error: *is_error,
                rendered: (*rendered).to_owned(),
            },
            _ => OwnedBuildEvent::Other,
        }
    }
}

impl OwnedBuildEvent {
    fn report(&self, report: &mut impl FnMut(DevEvent<'_>), notes: &mut FailureNotes) {
        let event = match self {
            OwnedBuildEvent::Compiled(crate_name) => BuildEvent::Compiled { crate_name },
            OwnedBuildEvent::Diagnostic {
                module,
                is_error,
                rendered,
            } => BuildEvent::Diagnostic {
                module: module.as_deref(),
                is_error: *is_error,
                rendered,
            },
            OwnedBuildEvent::Other => return,
        };
        notes.record(&event);
        report(DevEvent::Build(event));
    }
}
