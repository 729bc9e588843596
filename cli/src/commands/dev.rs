//! `wbx dev [--port N] [--no-tui]`: builds the project, runs it as `wbx run`
//! does, and watches the sources: each change rebuilds only the modules it
//! affects and swaps them into the running engine, with a line saying which
//! file triggered which reload and what each step cost.
//!
//! The output is plain lines (`--no-tui` asks for them explicitly, for
//! scripts that must not get a terminal interface).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use wbx_engine::boot::boot;
use wbx_engine::dev::{DevEvent, DevLoop, Reload};
use wbx_engine::guest_build::BuildEvent;

use super::build;
use super::run::{open_idle_project, report_loads, serve};
use crate::cli::DevArgs;
use crate::console::{self, DIM, GREEN, RED, Stream, YELLOW, paint};

pub fn run(args: DevArgs) -> Result<ExitCode> {
    let project = open_idle_project()?;
    // The first build: what builds runs; what fails is reported, not fatal.
    let first = build::build_with_progress(&project, Vec::new(), false)?;
    if !first.success() {
        build::report_failure(&first);
        console::err(&paint(
            Stream::Stderr,
            "dev: fix the errors and save; the failed modules are rebuilt then",
            YELLOW,
        ));
    }
    tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")?
        .block_on(async {
            let booted = boot(&project, false)?;
            report_loads(&booted);
            let dev = DevLoop {
                project: project.clone(),
                engine: booted.engine.clone(),
                runtime: booted.runtime.clone(),
                color: console::color(Stream::Stderr),
            };
            let root = project.root.clone();
            serve(&project, booted, args.port, move |stop| {
                tokio::spawn(async move {
                    let result = dev.run(stop, |event| print(&root, event)).await;
                    if let Err(error) = result {
                        console::error(&format!("{error:#}"));
                    }
                });
            })
            .await
        })
}

fn relative<'a>(root: &Path, path: &'a Path) -> std::borrow::Cow<'a, str> {
    path.strip_prefix(root).unwrap_or(path).to_string_lossy()
}

fn ms(d: std::time::Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn reload_line(root: &Path, r: &Reload) -> String {
    let from = r
        .swap
        .previous
        .as_ref()
        .map_or("(new)".to_owned(), ToString::to_string);
    format!(
        "{} {} {from} -> {} ({} changed): cargo {:.2} s, compile {}{}, swap {}; {} without cargo",
        paint(Stream::Stderr, "reloaded", GREEN),
        r.module,
        r.swap.version,
        relative(root, &r.trigger),
        r.build.as_secs_f64(),
        ms(r.swap.compile.compile_time),
        if r.swap.compile.cache_hit {
            " (cached)"
        } else {
            ""
        },
        ms(r.swap.install),
        ms(r.latency),
    )
}

fn print(root: &Path, event: DevEvent<'_>) {
    let line = match event {
        DevEvent::Watching { root } => format!("dev: watching {}", root.display()),
        DevEvent::Changed { files, modules } => {
            let files: Vec<_> = files.iter().map(|f| relative(root, f)).collect();
            format!(
                "{} {}: building {}",
                paint(Stream::Stderr, "changed", DIM),
                files.join(", "),
                modules.join(", ")
            )
        }
        DevEvent::Restarted => paint(Stream::Stderr, "a newer change: building again", DIM),
        DevEvent::Build(BuildEvent::Diagnostic { rendered, .. }) => rendered.trim_end().to_owned(),
        DevEvent::Build(_) => return,
        DevEvent::BuildFinished { report } => {
            if report.success() {
                return;
            }
            let failed: Vec<_> = report
                .failed
                .iter()
                .map(|(name, errors)| format!("{name} ({errors} errors)"))
                .collect();
            format!(
                "{} {}: the running versions keep serving",
                paint(Stream::Stderr, "build failed", RED),
                failed.join(", ")
            )
        }
        DevEvent::Reloaded(reload) => reload_line(root, reload),
        DevEvent::Unchanged { module } => format!("{module}: built, unchanged"),
        DevEvent::SwapFailed { module, error } => format!(
            "{} {module}: {error} (the running version keeps serving)",
            paint(Stream::Stderr, "not swapped", RED)
        ),
        DevEvent::ConfigApplied => "wbx.toml: applied".to_owned(),
        DevEvent::ConfigRefused { error } => format!(
            "{} {error} (the previous settings keep running)",
            paint(Stream::Stderr, "wbx.toml refused:", RED)
        ),
        DevEvent::WatchError { error } => {
            format!("{} {error}", paint(Stream::Stderr, "watch:", RED))
        }
    };
    console::err(&line);
}
