//! `wbx build [MODULE…] [--release] [--json]`: builds guest crates for
//! wasm32-wasip2, with a progress line per module and the compiler's
//! diagnostics as rustc renders them.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::json;
use wbx_engine::guest_build::{self, BuildEvent, BuildOptions, BuildReport, FailureNotes};
use wbx_engine::observe::BuildFailure;
use wbx_engine::project::Project;

use crate::cli::BuildArgs;
use crate::console::{self, DIM, GREEN, RED, Stream, YELLOW, paint};

pub fn run(args: BuildArgs) -> Result<ExitCode> {
    let project = wbx_engine::project::open(&super::cwd()?)?;
    let (report, _) = build_with_progress(&project, args.modules, args.release)?;
    if args.json {
        console::out(&report_json(&report).to_string());
    }
    if report.success() {
        Ok(ExitCode::SUCCESS)
    } else {
        report_failure(&report);
        Ok(ExitCode::FAILURE)
    }
}

/// Builds `modules` (all when empty) with a progress line per module; says
/// what failed and why.
pub fn build_with_progress(
    project: &Project,
    modules: Vec<String>,
    release: bool,
) -> Result<(BuildReport, Vec<BuildFailure>)> {
    let options = BuildOptions {
        modules,
        release,
        color: console::color(Stream::Stderr),
        cancel: None,
    };
    let mut progress = Progress::new();
    let mut notes = FailureNotes::default();
    let report = guest_build::build(project, &options, |event| {
        notes.record(&event);
        progress.on(event);
    })?;
    progress.finish(&report);
    let failures = notes.failures(&report);
    Ok((report, failures))
}

/// Says what failed and why, on stderr.
pub fn report_failure(report: &BuildReport) {
    if let Some(stderr) = &report.cargo_stderr {
        console::err(stderr);
    }
    if let Some(hint) = &report.hint {
        console::err(&format!(
            "{} {hint}",
            paint(Stream::Stderr, "hint:", YELLOW)
        ));
    }
    let names: Vec<_> = report
        .failed
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    console::error(&format!(
        "{} of {} failed to build: {}",
        report.failed.len(),
        console::count((report.failed.len() + report.built.len()) as u64, "module"),
        names.join(", ")
    ));
}

fn report_json(report: &BuildReport) -> serde_json::Value {
    json!({
        "success": report.success(),
        "elapsed_ms": report.elapsed.as_millis() as u64,
        "built": report.built.iter().map(|b| json!({
            "module": b.name,
            "artifact": b.artifact,
            "size": b.size,
            "elapsed_ms": b.elapsed.as_millis() as u64,
            "fresh": b.fresh,
        })).collect::<Vec<_>>(),
        "failed": report.failed.iter().map(|(name, errors)| json!({
            "module": name,
            "errors": errors,
        })).collect::<Vec<_>>(),
    })
}

/// A spinner per module on a terminal; plain lines anywhere else.
struct Progress {
    bars: MultiProgress,
    modules: Vec<(String, ProgressBar)>,
    deps: ProgressBar,
}

impl Progress {
    fn new() -> Self {
        let bars = MultiProgress::new();
        let deps = bars.add(ProgressBar::new_spinner());
        deps.set_style(style("{spinner} {msg:.dim}"));
        Progress {
            bars,
            modules: Vec::new(),
            deps,
        }
    }

    fn plain(&self) -> bool {
        self.bars.is_hidden()
    }

    fn line(&self, text: &str) {
        if self.plain() {
            console::err(text);
        } else {
            let _ = self.bars.println(text);
        }
    }

    fn on(&mut self, event: BuildEvent<'_>) {
        match event {
            BuildEvent::Planned { modules } => {
                let width = modules.iter().map(|m| m.name.len()).max().unwrap_or(0);
                for module in modules {
                    let bar = self
                        .bars
                        .insert_before(&self.deps, ProgressBar::new_spinner());
                    bar.set_style(style(&format!("{{spinner}} {{prefix:{width}}} {{msg}}")));
                    bar.set_prefix(module.name.clone());
                    bar.set_message(format!("{} building", module.kind));
                    bar.enable_steady_tick(Duration::from_millis(100));
                    self.modules.push((module.name.clone(), bar));
                }
                self.deps.enable_steady_tick(Duration::from_millis(100));
            }
            BuildEvent::Compiled { crate_name } => {
                self.deps.set_message(format!("compiled {crate_name}"));
            }
            BuildEvent::ModuleBuilt { module } => {
                let text = format!(
                    "{} {}  {:.1}s  {} KiB  {}{}",
                    paint(Stream::Stderr, "built", GREEN),
                    module.name,
                    module.elapsed.as_secs_f64(),
                    module.size.div_ceil(1024),
                    module.artifact.display(),
                    if module.fresh { " (up to date)" } else { "" }
                );
                self.finish_module(&module.name, &text);
            }
            BuildEvent::Diagnostic { rendered, .. } => self.line(rendered.trim_end()),
        }
    }

    fn finish_module(&self, name: &str, text: &str) {
        if self.plain() {
            console::err(text);
        } else if let Some((_, bar)) = self.modules.iter().find(|(n, _)| n == name) {
            bar.set_style(style("{msg}"));
            bar.finish_with_message(text.to_owned());
        }
    }

    fn finish(&self, report: &BuildReport) {
        for (name, errors) in &report.failed {
            let text = format!(
                "{} {name}  {}",
                paint(Stream::Stderr, "failed", RED),
                match errors {
                    0 => "cargo failed".to_owned(),
                    n => console::count(*n as u64, "error"),
                }
            );
            self.finish_module(name, &text);
        }
        self.deps.finish_and_clear();
        if report.success() {
            self.line(&paint(
                Stream::Stderr,
                &format!(
                    "{} built in {:.1}s",
                    console::count(report.built.len() as u64, "module"),
                    report.elapsed.as_secs_f64()
                ),
                DIM,
            ));
        }
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}
