//! `wbx send TARGET JSON|@FILE|- [--call] [--timeout-ms N]`: one message to
//! a process of the running engine, by pid or registered name (`POST
//! /api/actors/{target}/send`); exits 0 once it is in the mailbox. With
//! `--call` (`POST /api/actors/{target}/call`) it waits for the handler's
//! reply and prints it: indented for a terminal, one line for a program.
//!
//! The message is checked to be JSON here first, so a typo is shown where
//! it is (line, column and the line itself) rather than as the engine's
//! refusal.

use std::process::ExitCode;

use anyhow::Result;

use crate::actors;
use crate::cli::SendArgs;
use crate::console::{self, DIM, Stream, paint};
use crate::input;

pub fn run(args: SendArgs) -> Result<ExitCode> {
    actors::check_target(&args.target)?;
    let message = input::json(&args.message, "the message")?;
    let project = wbx_engine::project::open(&super::cwd()?)?;
    let Some(client) = actors::engine(&project) else {
        return Ok(ExitCode::FAILURE);
    };
    let route = if args.call {
        let mut route = actors::route(&args.target, "call");
        if let Some(ms) = args.timeout_ms {
            route += &format!("?timeout_ms={ms}");
        }
        route
    } else {
        actors::route(&args.target, "send")
    };
    let answer = client.post(&route, &[], &message)?;
    if answer.status != 200 {
        console::error(&actors::refusal(&client, &args.target, &answer));
        return Ok(ExitCode::FAILURE);
    }
    if args.call {
        console::out(&if console::terminal(Stream::Stdout) {
            serde_json::to_string_pretty(&answer.body)?
        } else {
            answer.text.trim().to_owned()
        });
    } else {
        console::err(&paint(
            Stream::Stderr,
            &format!("delivered to {}", args.target),
            DIM,
        ));
    }
    Ok(ExitCode::SUCCESS)
}
