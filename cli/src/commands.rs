//! One file per subcommand; `run` dispatches.

mod build;
mod doctor;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Build(args) => build::run(args),
        Command::Doctor(args) => doctor::run(args),
    }
}

/// The directory commands start from.
fn cwd() -> Result<std::path::PathBuf> {
    use anyhow::Context;
    std::env::current_dir().context("cannot read the current directory")
}
