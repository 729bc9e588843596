//! `wbx dev [--port N] [--gateway-port N] [--no-tui]`: builds the project, runs it as `wbx run`
//! does, and watches the sources: each change rebuilds only the modules it
//! affects and swaps them into the running engine, with an account of
//! which file triggered which reload and what each step cost.
//!
//! In a terminal it opens the terminal interface (`wbx-tui`); with
//! `--no-tui`, or when stdin or stdout is not a terminal, it prints plain
//! lines instead, for scripts and logs.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use tokio::sync::{mpsc, watch};
use wbx_engine::boot::{Booted, boot};
use wbx_engine::dev::{DevEvent, DevLoop, Reload};
use wbx_engine::guest_build::BuildEvent;
use wbx_engine::project::Project;
use wbx_tui::{FirstBuild, KeyMap, Session};

use super::build;
use super::run::{ControlApi, open_idle_project, report_loads, serve, stop_signal};
use crate::cli::{DevArgs, Ports};
use crate::console::{self, DIM, GREEN, RED, Stream, YELLOW, paint};

pub fn run(args: DevArgs) -> Result<ExitCode> {
    let project = open_idle_project()?;
    let tui = !args.no_tui && std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    // A broken key map is reported before anything starts.
    let keys = if tui { Some(KeyMap::load()?) } else { None };
    // The first build: what builds runs; what fails is reported, not fatal.
    let (first, failures) = build::build_with_progress(&project, Vec::new(), false)?;
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
            match keys {
                Some(keys) => {
                    let first = FirstBuild {
                        built: first.built.len(),
                        elapsed: first.elapsed,
                        failures,
                    };
                    serve_tui(&project, booted, args.ports, first, keys).await
                }
                None => serve_plain(&project, booted, args.ports).await,
            }
        })
}

fn dev_loop(project: &Project, booted: &Booted, color: bool) -> DevLoop {
    DevLoop {
        project: project.clone(),
        engine: booted.engine.clone(),
        runtimes: booted.runtimes.clone(),
        color,
    }
}

async fn serve_plain(project: &Project, booted: Booted, ports: Ports) -> Result<ExitCode> {
    report_loads(&booted);
    let dev = dev_loop(project, &booted, console::color(Stream::Stderr));
    let root = project.root.clone();
    serve(project, booted, ports, move |stop| {
        tokio::spawn(async move {
            // Plain mode has no way to ask for rebuilds: saving a file does.
            let (_rebuild, rebuilds) = mpsc::unbounded_channel();
            let result = dev.run(stop, rebuilds, |event| print(&root, event)).await;
            if let Err(error) = result {
                console::error(&format!("{error:#}"));
            }
        });
    })
    .await
}

/// The engine, the dev loop and the control API behind the terminal
/// interface, until the person quits (or Ctrl-C/SIGTERM arrives).
async fn serve_tui(
    project: &Project,
    booted: Booted,
    ports: Ports,
    first_build: FirstBuild,
    keys: KeyMap,
) -> Result<ExitCode> {
    let dev = dev_loop(project, &booted, false);
    let runtimes = booted.runtimes.clone();
    runtimes.start();
    let api = ControlApi::start(project, &booted.engine, &runtimes, ports).await?;

    let (stop, stopped) = watch::channel(false);
    let (rebuild, rebuilds) = mpsc::unbounded_channel();
    // The screen belongs to the interface: the loop reports through
    // observations, and an error of its own is kept for after.
    let watcher = tokio::spawn(dev.run(stopped, rebuilds, |_| {}));
    let session = Session {
        project: project.name().to_owned(),
        api: api.url.clone(),
        engine: booted.engine.clone(),
        runtimes: runtimes.clone(),
        declared: project
            .modules
            .iter()
            .map(|m| (m.name.clone(), m.kind))
            .collect(),
        first_build,
        rebuilds: rebuild,
    };
    let shown = wbx_tui::run(session, keys, stop_signal()).await;
    stop.send_replace(true);
    api.stop(&runtimes).await?;
    if let Ok(Err(error)) = watcher.await {
        console::error(&format!("the watcher failed: {error:#}"));
    }
    shown?;
    Ok(ExitCode::SUCCESS)
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
        "{} {} {from} -> {} ({} changed): cargo {:.2} s, {} {}{}, swap {}; {} without cargo{}",
        paint(Stream::Stderr, "reloaded", GREEN),
        r.module,
        r.swap.version,
        relative(root, &r.trigger),
        r.build.as_secs_f64(),
        r.swap.compile.tier,
        ms(r.swap.compile.compile_time),
        if r.swap.compile.cache_hit {
            " (cached)"
        } else {
            ""
        },
        ms(r.swap.install),
        ms(r.latency),
        match &r.swap.fallback {
            Some(why) => format!(" (Winch could not compile it: {why})"),
            None => String::new(),
        }
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
                .map(|(name, errors)| match errors {
                    0 => format!("{name} (cargo failed)"),
                    n => format!("{name} ({})", console::count(*n as u64, "error")),
                })
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
        DevEvent::NotKept { module, error } => format!(
            "{} {module}: not kept for replays: {error}",
            paint(Stream::Stderr, "warning", YELLOW)
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
