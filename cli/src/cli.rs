//! The command line: every subcommand and flag, with its help text.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "wbx",
    version,
    about = "A terminal-first workbench for WebAssembly guest modules",
    long_about = "A terminal-first workbench for WebAssembly guest modules.\n\n\
                  Builds the guest crates of a project for wasm32-wasip2 and runs them \
                  in a local wasmtime engine.",
    after_help = "Run `wbx doctor` first on a new machine; `wbx <command> --help` for details."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the project's guest crates for wasm32-wasip2
    Build(BuildArgs),
    /// Check the toolchain, the wasm target and the project, with fixes
    Doctor(DoctorArgs),
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Modules to build (all when none are named)
    #[arg(value_name = "MODULE")]
    pub modules: Vec<String>,
    /// Build with the release profile
    #[arg(long)]
    pub release: bool,
    /// Print the result as JSON on stdout (diagnostics still go to stderr)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print the checks as JSON
    #[arg(long)]
    pub json: bool,
}
