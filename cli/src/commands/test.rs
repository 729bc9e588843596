//! `wbx test [FILTER] [--json] [--no-build]`: builds the project, then runs
//! its scenarios against the built modules on scratch state: the events
//! model's (`scenarios/*.toml`, commands and projectors), then the mesh's
//! (`scenarios/services/*.toml`, requests to services). A failure shows a
//! diff of expected against actual; the exit code is non-zero when any
//! scenario fails or cannot run.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use wbx_engine::mesh::scenario as services;
use wbx_engine::scenario::{self, Outcome};

use crate::cli::TestArgs;
use crate::console::{self, DIM, GREEN, RED, Stream, paint};

pub fn run(args: TestArgs) -> Result<ExitCode> {
    let project = wbx_engine::project::open(&super::cwd()?)?;
    let filter = args.filter.as_deref().unwrap_or_default();
    let wanted = |file: &std::path::Path, module: &str, name: &str| {
        file.to_string_lossy().contains(filter) || module.contains(filter) || name.contains(filter)
    };
    let mut scenarios = scenario::load(&project)?;
    scenarios.retain(|s| wanted(&s.file, &s.module, &s.name));
    let mut requests = services::load(&project)?;
    requests.retain(|s| wanted(&s.file, &s.module, &s.name));
    if scenarios.is_empty() && requests.is_empty() {
        console::err(&format!(
            "no scenarios{} in {}/ or {}/ (see docs/testing.md for the format)",
            args.filter
                .as_ref()
                .map(|f| format!(" matching '{f}'"))
                .unwrap_or_default(),
            scenario::DIR,
            services::DIR
        ));
        return Ok(ExitCode::FAILURE);
    }
    if !args.no_build {
        let (report, _) = super::build::build_with_progress(&project, Vec::new(), false)?;
        if !report.success() {
            super::build::report_failure(&report);
            return Ok(ExitCode::FAILURE);
        }
    }
    let start = Instant::now();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let show = |outcome: &Outcome| {
        if args.json {
            console::out(&serde_json::to_string(outcome).unwrap_or_default());
        } else {
            print_outcome(outcome);
        }
    };
    let mut outcomes = Vec::new();
    if !scenarios.is_empty() {
        outcomes = runtime.block_on(scenario::run(&project, &scenarios, show))?;
    }
    if !requests.is_empty() {
        outcomes.extend(runtime.block_on(services::run(&project, &requests, show))?);
    }
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    if !args.json {
        let summary = format!(
            "{} passed, {failed} failed ({:.1} s)",
            outcomes.len() - failed,
            start.elapsed().as_secs_f64()
        );
        let color = if failed == 0 { GREEN } else { RED };
        console::out(&paint(Stream::Stdout, &summary, color));
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_outcome(outcome: &Outcome) {
    let place = format!("{}:{}", outcome.file.display(), outcome.line);
    if outcome.passed {
        console::out(&format!(
            "{} {place}  {}",
            paint(Stream::Stdout, "ok  ", GREEN),
            outcome.scenario
        ));
        return;
    }
    console::out(&format!(
        "{} {place}  {}  ({})",
        paint(Stream::Stdout, "FAIL", RED),
        outcome.scenario,
        outcome.module
    ));
    if let Some(error) = &outcome.error {
        console::out(&format!("     {error}"));
    }
    for line in outcome.diff.iter().flat_map(|d| d.lines()) {
        let style = match line.chars().next() {
            Some('-') => Some(RED),
            Some('+') => Some(GREEN),
            Some('@') => Some(DIM),
            _ => None,
        };
        let text = format!("     {line}");
        console::out(&style.map_or(text.clone(), |s| paint(Stream::Stdout, &text, s)));
    }
}
