//! `wbx`: a terminal-first workbench for WebAssembly guest modules.
//!
//! Code map:
//! - [`cli`]: the clap definition of every subcommand and flag.
//! - [`commands`]: one file per subcommand, each a thin layer over
//!   `wbx-engine` (and `wbx-scaffold` for `new` and `add`) that turns
//!   results into output and an exit code.
//! - [`console`]: the only place that writes to stdout and stderr.
//! - [`client`]: talking to a running engine over its control API;
//!   [`actors`]: what the process commands (`ps`, `send`, `tree`, `kill`)
//!   share over it; [`flows`]: what the flow commands (`flows`, `flow`,
//!   `push`, `tap`) share.
//! - [`input`]: JSON the user gives (an argument, `@FILE`, standard input),
//!   checked before anything is sent.
//! - [`table`]: the text tables of the commands that list things.
//! - [`observations`], [`show`]: engine observations and events as lines.
//!
//! `main` parses, runs, prints the error chain on failure and maps it to an
//! exit code; nothing else in wbx exits the process.

mod actors;
mod cli;
mod client;
mod commands;
mod console;
mod flows;
mod input;
mod observations;
mod show;
mod table;

use std::process::ExitCode;

use clap::Parser;

/// Elements, events and messages are made on one thread and freed on
/// another all the time; glibc's allocator spends that time waiting on its
/// arena locks, mimalloc does not (docs/ARCHITECTURE.md has the figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            console::error(&format!("{error:#}"));
            ExitCode::FAILURE
        }
    }
}
