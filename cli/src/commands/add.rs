//! `wbx add <kind> <name> [--no-build]`: a module crate of a kind added to
//! the current project from its module template (with a scenario file for
//! kinds that have scenarios), registered in the workspace, then built.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::AddArgs;
use crate::console::{self, GREEN, Stream, paint};

pub fn run(args: AddArgs) -> Result<ExitCode> {
    let project = wbx_engine::project::open(&super::cwd()?)?;
    if project.module(&args.name).is_some() {
        anyhow::bail!(
            "the project has a module named '{}' already; modules: {}",
            args.name,
            project.module_names()
        );
    }
    let written = wbx_scaffold::add_module(&project.root, &args.kind, &args.name)?;
    let mut files: Vec<_> = written
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    files.sort();
    console::out(&format!(
        "{} {} '{}' to the workspace: {}",
        paint(Stream::Stdout, "added", GREEN),
        args.kind,
        args.name,
        files.join(", ")
    ));
    if args.no_build {
        return Ok(ExitCode::SUCCESS);
    }
    let project = wbx_engine::project::open(&project.root)?;
    let (report, _) = super::build::build_with_progress(&project, vec![args.name], false)?;
    if report.success() {
        Ok(ExitCode::SUCCESS)
    } else {
        super::build::report_failure(&report);
        Ok(ExitCode::FAILURE)
    }
}
