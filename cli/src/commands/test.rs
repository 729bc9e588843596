//! `wbx test [FILTER] [--json] [--no-build]`: builds the project, then runs
//! its scenarios against the built modules on scratch state, model by
//! model: the events model's (`scenarios/*.toml`, commands and
//! projectors), the mesh's (`scenarios/services/*.toml`, requests to
//! services), the actors' (`scenarios/actors/*.toml`, messages to an
//! actor), then the pipelines' (`scenarios/pipelines/*.toml`, elements
//! through a processor or a flow). A failure shows a diff of expected against actual; the exit
//! code is non-zero when any scenario fails or cannot run.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use tokio::runtime::Runtime;
use wbx_engine::actors::scenario as actors;
use wbx_engine::mesh::scenario as services;
use wbx_engine::pipelines::scenario as pipelines;
use wbx_engine::scenario::{self as events, Outcome};

use crate::cli::TestArgs;
use crate::console::{self, DIM, GREEN, RED, Stream, paint};

/// Shows one outcome, as text or as a JSON line.
type Show<'s> = dyn Fn(&Outcome) + 's;

/// Runs one model's scenarios, showing each outcome as it comes.
type Runner<'a> = Box<dyn FnOnce(&Runtime, &Show<'_>) -> Result<Vec<Outcome>> + 'a>;

/// One model's scenarios that the filter keeps, and how they run.
struct Set<'a> {
    dir: &'static str,
    count: usize,
    run: Runner<'a>,
}

impl<'a> Set<'a> {
    fn new<S: 'a>(
        dir: &'static str,
        mut scenarios: Vec<S>,
        keep: impl FnMut(&S) -> bool,
        run: impl FnOnce(&Runtime, &[S], &Show<'_>) -> Result<Vec<Outcome>> + 'a,
    ) -> Self {
        scenarios.retain(keep);
        Set {
            dir,
            count: scenarios.len(),
            run: Box::new(move |runtime, show| run(runtime, &scenarios, show)),
        }
    }
}

pub fn run(args: TestArgs) -> Result<ExitCode> {
    let project = wbx_engine::project::open(&super::cwd()?)?;
    let filter = args.filter.as_deref().unwrap_or_default();
    let wanted = |file: &Path, module: &str, name: &str| {
        file.to_string_lossy().contains(filter) || module.contains(filter) || name.contains(filter)
    };
    let sets = [
        Set::new(
            events::DIR,
            events::load(&project)?,
            |s| wanted(&s.file, &s.module, &s.name),
            |runtime, s, show| runtime.block_on(events::run(&project, s, show)),
        ),
        Set::new(
            services::DIR,
            services::load(&project)?,
            |s| wanted(&s.file, &s.module, &s.name),
            |runtime, s, show| runtime.block_on(services::run(&project, s, show)),
        ),
        Set::new(
            actors::DIR,
            actors::load(&project)?,
            |s| wanted(&s.file, &s.module, &s.name),
            |runtime, s, show| runtime.block_on(actors::run(&project, s, show)),
        ),
        Set::new(
            pipelines::DIR,
            pipelines::load(&project)?,
            |s| wanted(&s.file, &s.module, &s.name),
            |runtime, s, show| runtime.block_on(pipelines::run(&project, s, show)),
        ),
    ];
    if sets.iter().all(|set| set.count == 0) {
        let dirs: Vec<_> = sets.iter().map(|set| format!("{}/", set.dir)).collect();
        let (last, rest) = dirs.split_last().expect("every model has a folder");
        console::err(&format!(
            "no scenarios{} in {} or {last} (see docs/testing.md for the format)",
            args.filter
                .as_ref()
                .map(|f| format!(" matching '{f}'"))
                .unwrap_or_default(),
            rest.join(", "),
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
    let runtime = Runtime::new().context("cannot start the async runtime")?;
    let show = |outcome: &Outcome| {
        if args.json {
            console::out(&serde_json::to_string(outcome).unwrap_or_default());
        } else {
            print_outcome(outcome);
        }
    };
    let mut outcomes = Vec::new();
    for set in sets {
        if set.count > 0 {
            outcomes.extend((set.run)(&runtime, &show)?);
        }
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
