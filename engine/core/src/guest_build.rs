//! Building guest crates for `wasm32-wasip2` through cargo's JSON messages.
//!
//! One `cargo build` builds every selected module (cargo shares the work on
//! common dependencies). Progress, diagnostics and finished artifacts arrive
//! as [`BuildEvent`]s through a callback, so the CLI can draw progress bars
//! and `wbx dev` can show the same in its build pane.

use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use cargo_metadata::Message;
use cargo_metadata::diagnostic::DiagnosticLevel;

use crate::observe::BuildFailure;
use crate::project::{ModuleDecl, Project};

pub const GUEST_TARGET: &str = "wasm32-wasip2";

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Module names to build; empty builds all of them.
    pub modules: Vec<String>,
    pub release: bool,
    /// Ask the compiler for ANSI-coloured diagnostics.
    pub color: bool,
    /// Set it to stop the build (cargo is killed); the report says so.
    pub cancel: Option<Arc<AtomicBool>>,
}

#[derive(Debug)]
pub enum BuildEvent<'a> {
    /// The modules this build will produce, in order.
    Planned { modules: &'a [ModuleDecl] },
    /// A dependency finished compiling.
    Compiled { crate_name: &'a str },
    /// A module's component is ready.
    ModuleBuilt { module: &'a BuiltModule },
    /// A compiler error or warning, rendered as rustc renders it.
    Diagnostic {
        module: Option<&'a str>,
        is_error: bool,
        rendered: &'a str,
    },
}

#[derive(Debug, Clone)]
pub struct BuiltModule {
    pub name: String,
    pub artifact: PathBuf,
    pub size: u64,
    /// Time from the start of the build until this artifact was ready.
    pub elapsed: Duration,
    /// Cargo found it up to date and did not recompile it.
    pub fresh: bool,
}

#[derive(Debug, Clone, Default)]
pub struct BuildReport {
    pub built: Vec<BuiltModule>,
    /// Modules that did not build, each with its count of compiler errors.
    pub failed: Vec<(String, usize)>,
    /// What cargo itself said on failure when no compiler diagnostic explains it.
    pub cargo_stderr: Option<String>,
    /// A fix for a cause we recognise, such as the missing wasm target.
    pub hint: Option<String>,
    pub elapsed: Duration,
    /// The build was stopped through [`BuildOptions::cancel`].
    pub cancelled: bool,
}

impl BuildReport {
    pub fn success(&self) -> bool {
        self.failed.is_empty()
    }
}

/// Builds the selected modules of `project`. A prebuilt module has
/// nothing to build: it is reported built when its file is there.
pub fn build(
    project: &Project,
    options: &BuildOptions,
    mut on_event: impl FnMut(BuildEvent<'_>),
) -> Result<BuildReport> {
    let planned = select(project, &options.modules)?;
    on_event(BuildEvent::Planned { modules: &planned });
    let start = Instant::now();
    let (selected, prebuilt): (Vec<_>, Vec<_>) = planned.into_iter().partition(|m| m.is_crate());
    let mut report = BuildReport::default();
    for module in &prebuilt {
        let artifact = module.artifact_path(&project.target_dir, options.release);
        match std::fs::metadata(&artifact) {
            Ok(meta) => {
                let built = BuiltModule {
                    name: module.name.clone(),
                    artifact,
                    size: meta.len(),
                    elapsed: start.elapsed(),
                    fresh: true,
                };
                on_event(BuildEvent::ModuleBuilt { module: &built });
                report.built.push(built);
            }
            Err(e) => {
                on_event(BuildEvent::Diagnostic {
                    module: Some(&module.name),
                    is_error: true,
                    rendered: &format!(
                        "prebuilt module '{}': cannot read {}: {e}",
                        module.name,
                        artifact.display()
                    ),
                });
                report.failed.push((module.name.clone(), 1));
            }
        }
    }
    if selected.is_empty() {
        report.elapsed = start.elapsed();
        return Ok(report);
    }

    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .current_dir(&project.root)
        .args(["build", "--target", GUEST_TARGET, "--manifest-path"])
        .arg(project.root.join("Cargo.toml"))
        .arg(if options.color {
            "--message-format=json-diagnostic-rendered-ansi"
        } else {
            "--message-format=json"
        })
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if options.release {
        command.arg("--release");
    }
    for module in &selected {
        command.arg("--package").arg(&module.name);
    }
    let mut child = command.spawn().context("cannot run cargo")?;
    let mut stderr = child.stderr.take().context("cargo's stderr")?;
    let stdout = child.stdout.take().context("cargo's stdout")?;
    let child = Arc::new(Mutex::new(child));
    let finished = Arc::new(AtomicBool::new(false));
    let canceller = options.cancel.clone().map(|cancel| {
        let (child, finished) = (child.clone(), finished.clone());
        std::thread::spawn(move || {
            while !finished.load(Ordering::SeqCst) {
                if cancel.load(Ordering::SeqCst) {
                    let _ = crate::sync::lock(&child).kill();
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    });
    // Drained on its own thread so a chatty cargo never blocks on a full pipe.
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    let by_id: BTreeMap<_, _> = selected.iter().map(|m| (&m.package_id, m)).collect();
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    for message in Message::parse_stream(BufReader::new(stdout)) {
        match message.context("cannot read cargo's output")? {
            Message::CompilerArtifact(artifact) => match by_id.get(&artifact.package_id) {
                Some(module) => {
                    let Some(wasm) = artifact
                        .filenames
                        .iter()
                        .find(|f| f.extension() == Some("wasm"))
                    else {
                        continue;
                    };
                    let built = BuiltModule {
                        name: module.name.clone(),
                        artifact: wasm.clone().into_std_path_buf(),
                        size: std::fs::metadata(wasm).map(|m| m.len()).unwrap_or(0),
                        elapsed: start.elapsed(),
                        fresh: artifact.fresh,
                    };
                    on_event(BuildEvent::ModuleBuilt { module: &built });
                    report.built.push(built);
                }
                None => on_event(BuildEvent::Compiled {
                    crate_name: &artifact.target.name,
                }),
            },
            Message::CompilerMessage(message) => {
                let is_error = matches!(
                    message.message.level,
                    DiagnosticLevel::Error | DiagnosticLevel::Ice
                );
                let module = by_id.get(&message.package_id).map(|m| m.name.as_str());
                if is_error {
                    *errors.entry(module.unwrap_or("").to_owned()).or_default() += 1;
                }
                let rendered = message
                    .message
                    .rendered
                    .as_deref()
                    .unwrap_or(&message.message.message);
                if rendered.contains("target may not be installed") {
                    report.hint = Some(format!("rustup target add {GUEST_TARGET}"));
                }
                on_event(BuildEvent::Diagnostic {
                    module,
                    is_error,
                    rendered,
                });
            }
            _ => {}
        }
    }
    let status = crate::sync::lock(&child)
        .wait()
        .context("waiting for cargo")?;
    finished.store(true, Ordering::SeqCst);
    if let Some(canceller) = canceller {
        let _ = canceller.join();
    }
    let stderr = stderr_reader.join().unwrap_or_default();
    report.elapsed = start.elapsed();
    report.cancelled = options
        .cancel
        .as_ref()
        .is_some_and(|c| c.load(Ordering::SeqCst));

    for module in &selected {
        if !report.built.iter().any(|b| b.name == module.name) {
            let count = errors.get(&module.name).copied().unwrap_or(0);
            report.failed.push((module.name.clone(), count));
        }
    }
    if !status.success() && errors.is_empty() {
        report.cargo_stderr = Some(stderr.trim().to_owned());
        if report.failed.is_empty() {
            // Cargo failed before or after our modules (a dependency, a lock
            // file): nothing built counts as a success.
            report.failed = selected.iter().map(|m| (m.name.clone(), 0)).collect();
            report
                .built
                .retain(|b| prebuilt.iter().any(|m| m.name == b.name));
        }
    }
    Ok(report)
}

/// The declarations of the modules named, in project order; all when none are named.
fn select(project: &Project, names: &[String]) -> Result<Vec<ModuleDecl>> {
    if project.modules.is_empty() {
        bail!(
            "the project declares no guest crates: add [package.metadata.wbx] kind = \"…\" \
             to a workspace member"
        );
    }
    if names.is_empty() {
        return Ok(project.modules.clone());
    }
    names
        .iter()
        .map(|name| {
            project.module(name).cloned().with_context(|| {
                format!(
                    "no module named '{name}' in this project; modules: {}",
                    project.module_names()
                )
            })
        })
        .collect()
}

/// Error diagnostics gathered per module while a build runs, to say later
/// why each failed module failed.
#[derive(Debug, Default)]
pub struct FailureNotes {
    by_module: BTreeMap<String, String>,
    /// Errors in crates that are not modules (a shared library crate): they
    /// explain every failed module that has none of its own.
    unattributed: String,
}

impl FailureNotes {
    pub fn record(&mut self, event: &BuildEvent<'_>) {
        if let BuildEvent::Diagnostic {
            module,
            is_error: true,
            rendered,
        } = event
        {
            let notes = match module {
                Some(module) => self.by_module.entry((*module).to_owned()).or_default(),
                None => &mut self.unattributed,
            };
            notes.push_str(rendered);
            if !notes.ends_with('\n') {
                notes.push('\n');
            }
        }
    }

    /// Each failed module of `report` with what explains its failure.
    pub fn failures(&self, report: &BuildReport) -> Vec<BuildFailure> {
        report
            .failed
            .iter()
            .map(|(module, errors)| {
                let own = self.by_module.get(module).map(String::as_str);
                let diagnostics = own
                    .or(Some(self.unattributed.as_str()).filter(|u| !u.is_empty()))
                    .or(report.cargo_stderr.as_deref())
                    .unwrap_or("cargo failed without a diagnostic")
                    .trim_end()
                    .to_owned();
                BuildFailure {
                    module: module.clone(),
                    errors: *errors,
                    diagnostics,
                }
            })
            .collect()
    }
}
