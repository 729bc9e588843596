//! `wbx doctor [--json]`: toolchain, wasm target and project checks, each
//! failure with its fix. Exits non-zero when any check fails.

use std::process::ExitCode;

use anyhow::Result;
use wbx_engine::doctor;

use crate::cli::DoctorArgs;
use crate::console::{self, DIM, GREEN, RED, Stream, paint};

pub fn run(args: DoctorArgs) -> Result<ExitCode> {
    let report = doctor::run(&super::cwd()?);
    if args.json {
        console::out(&serde_json::to_string_pretty(&report)?);
    } else {
        let width = report
            .checks
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(0);
        for check in &report.checks {
            let mark = if check.ok {
                paint(Stream::Stdout, "ok  ", GREEN)
            } else {
                paint(Stream::Stdout, "FAIL", RED)
            };
            console::out(&format!("{mark} {:width$}  {}", check.name, check.detail));
            if let Some(fix) = &check.fix {
                console::out(&format!("     {:width$}  fix: {fix}", ""));
            }
        }
        match &report.project {
            Some(root) => console::out(&paint(
                Stream::Stdout,
                &format!("project: {}", root.display()),
                DIM,
            )),
            None => console::out(&paint(
                Stream::Stdout,
                "not inside a wbx project (no wbx.toml here or above): project checks skipped",
                DIM,
            )),
        }
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
