//! `wbx send TARGET JSON|@FILE|- [--call] [--timeout-ms N]`: one message to
//! a process of the running engine, by pid or registered name (`POST
//! /api/actors/{target}/send`); exits 0 once it is in the mailbox. With
//! `--call` (`POST /api/actors/{target}/call`) it waits for the handler's
//! reply and prints it: indented for a terminal, one line for a program.
//!
//! The message is checked to be JSON here first, so a typo is shown where
//! it is (line, column and the line itself) rather than as the engine's
//! refusal.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::actors;
use crate::cli::SendArgs;
use crate::console::{self, DIM, Stream, paint};

pub fn run(args: SendArgs) -> Result<ExitCode> {
    actors::check_target(&args.target)?;
    let message = read_message(&args.message)?;
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

/// The message's text: the argument itself, a file's (`@FILE`) or standard
/// input's (`-`), checked to be JSON.
fn read_message(argument: &str) -> Result<String> {
    let (text, origin) = if argument == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the message from standard input")?;
        (text, "the message on standard input".to_owned())
    } else if let Some(path) = argument.strip_prefix('@') {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the message from {path}"))?;
        (text, format!("the message in {path}"))
    } else {
        (argument.to_owned(), "the message".to_owned())
    };
    if let Err(error) = serde_json::from_str::<Value>(&text) {
        bail!("{}", not_json(&origin, &text, &error));
    }
    Ok(text)
}

/// Characters of a long line shown on each side of the error.
const CONTEXT: usize = 40;

/// Where `text` stops being JSON: the reason, its line and column, and the
/// line itself with a caret under the place.
fn not_json(origin: &str, text: &str, error: &serde_json::Error) -> String {
    let (line, column) = (error.line(), error.column());
    let full = error.to_string();
    let reason = full
        .strip_suffix(&format!(" at line {line} column {column}"))
        .unwrap_or(&full);
    let mut said = format!("{origin} is not JSON at line {line}, column {column}: {reason}");
    let Some(source) = text.lines().nth(line.saturating_sub(1)) else {
        return said;
    };
    // serde_json counts columns in bytes; the caret goes under characters.
    let before = source
        .char_indices()
        .take_while(|(i, _)| *i < column.saturating_sub(1))
        .count();
    let chars: Vec<char> = source
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    let start = before.saturating_sub(CONTEXT);
    let end = (before + CONTEXT).min(chars.len());
    let mut shown: String = chars[start..end].iter().collect();
    let mut caret = before - start;
    if start > 0 {
        shown.insert(0, '…');
        caret += 1;
    }
    if end < chars.len() {
        shown.push('…');
    }
    let gutter = line.to_string();
    said += &format!(
        "\n  {gutter} | {shown}\n  {} | {}^",
        " ".repeat(gutter.len()),
        " ".repeat(caret)
    );
    said
}
