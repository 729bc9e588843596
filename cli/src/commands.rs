//! One file per subcommand; `run` dispatches.

mod add;
mod bench;
mod build;
mod call;
mod dev;
mod doctor;
mod events;
mod exec;
mod export;
mod flow;
mod flows;
mod import;
mod kill;
mod new;
mod ps;
mod push;
mod replay;
mod routes;
mod run;
mod send;
mod tap;
mod test;
mod tree;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::New(args) => new::run(args),
        Command::Add(args) => add::run(args),
        Command::Test(args) => test::run(args),
        Command::Build(args) => build::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Dev(args) => dev::run(args),
        Command::Run(args) => run::run(args),
        Command::Exec(args) => exec::run(args),
        Command::Events(args) => events::run(args),
        Command::Export(args) => export::run(args),
        Command::Import(args) => import::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Call(args) => call::run(args),
        Command::Routes(args) => routes::run(args),
        Command::Ps(args) => ps::run(args),
        Command::Send(args) => send::run(args),
        Command::Tree(args) => tree::run(args),
        Command::Kill(args) => kill::run(args),
        Command::Flows(args) => flows::run(args),
        Command::Flow(args) => flow::run(args),
        Command::Push(args) => push::run(args),
        Command::Tap(args) => tap::run(args),
    }
}

/// The directory commands start from.
fn cwd() -> Result<std::path::PathBuf> {
    use anyhow::Context;
    std::env::current_dir().context("cannot read the current directory")
}
