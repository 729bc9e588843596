//! `wbx exec <command> [--input JSON|@FILE] [--idempotency-key K]`: executes
//! a command in the running engine, or, when none runs, on the project's
//! store with its built modules.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use wbx_engine::boot::boot;
use wbx_engine::events::command::{CommandError, CommandRequest};
use wbx_engine::project::Project;

use crate::cli::ExecArgs;
use crate::client::{Client, error_message};
use crate::console::{self, GREEN, Stream, paint};
use crate::show::event_line;

pub fn run(args: ExecArgs) -> Result<ExitCode> {
    let project = wbx_engine::project::open(&super::cwd()?)?;
    let input = match &args.input {
        Some(input) => read_input(input)?,
        None => NO_INPUT.to_owned(),
    };
    let outcome = match Client::running(&project) {
        Some(client) => {
            let mut headers = Vec::new();
            if let Some(key) = &args.idempotency_key {
                headers.push(("idempotency-key", key.as_str()));
            }
            if let Some(id) = &args.correlation_id {
                headers.push(("correlation-id", id.as_str()));
            }
            let answer =
                client.post(&format!("/api/commands/{}", args.command), &headers, &input)?;
            if answer.status == 200 {
                Ok(answer.body)
            } else {
                Err(Refusal {
                    invalid_input: answer.body["error"] == "invalid-input",
                    message: error_message(&answer.body),
                })
            }
        }
        None => execute_locally(&project, &args, input)?,
    };
    match outcome {
        Ok(outcome) => {
            print_outcome(&outcome, args.json);
            Ok(ExitCode::SUCCESS)
        }
        Err(refusal) => {
            console::error(&refusal.text(&args));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// What a command gets when no `--input` is given.
const NO_INPUT: &str = "{}";

/// Why a command did not run: its error as the engine words it.
struct Refusal {
    /// The command could not use its input.
    invalid_input: bool,
    message: String,
}

impl Refusal {
    /// The engine's message; for an input the user never typed, one that
    /// says so and how to give one, without the guest's line and column of
    /// that input.
    fn text(&self, args: &ExecArgs) -> String {
        if !self.invalid_input || args.input.is_some() {
            return self.message.clone();
        }
        let reason = self
            .message
            .strip_prefix("invalid input: ")
            .unwrap_or(&self.message);
        format!(
            "{}: invalid input: no --input was given (the command got `{NO_INPUT}`): {}; \
             give one with --input JSON or --input @FILE",
            args.command,
            without_position(reason)
        )
    }
}

/// `reason` without a trailing " at line L column C", as serde_json ends
/// its messages.
fn without_position(reason: &str) -> &str {
    let Some((before, position)) = reason.rsplit_once(" at line ") else {
        return reason;
    };
    let numbers = position
        .split_once(" column ")
        .is_some_and(|(line, column)| {
            [line, column]
                .iter()
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        });
    if numbers { before } else { reason }
}

/// `--input`: JSON text, or `@path` to read it from a file; checked to be JSON.
fn read_input(input: &str) -> Result<String> {
    let text = match input.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("--input: cannot read {path}"))?
        }
        None => input.to_owned(),
    };
    if let Err(e) = serde_json::from_str::<Value>(&text) {
        bail!("--input is not JSON: {e}");
    }
    Ok(text)
}

/// Runs the command in this process against the project's store. Returns
/// the outcome as the API would, or the command's error message.
fn execute_locally(
    project: &Project,
    args: &ExecArgs,
    input: String,
) -> Result<Result<Value, Refusal>> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let booted = boot(project, false)?;
        if let Some(Err(error)) = booted
            .failures()
            .find(|l| l.module.name == args.command)
            .map(|l| &l.result)
        {
            bail!("{error:#}");
        }
        let request = CommandRequest {
            command: args.command.clone(),
            input,
            idempotency_key: args.idempotency_key.clone(),
            correlation_id: args.correlation_id.clone(),
            triggering_event_id: None,
        };
        Ok(match booted.events().execute(request).await {
            Ok(outcome) => Ok(serde_json::to_value(outcome)?),
            Err(error) => Err(Refusal {
                invalid_input: matches!(error, CommandError::InvalidInput(_)),
                message: error.to_string(),
            }),
        })
    })
}

fn print_outcome(outcome: &Value, json: bool) {
    if json {
        console::out(&outcome.to_string());
        return;
    }
    let events = outcome["events"].as_array().cloned().unwrap_or_default();
    if outcome["duplicate"] == true {
        console::out("nothing done: this idempotency key was used before");
    } else if events.is_empty() {
        console::out("decided: no events to append");
    } else {
        console::out(&format!(
            "{} {} at position {}",
            paint(Stream::Stdout, "appended", GREEN),
            console::count(events.len() as u64, "event"),
            outcome["position"]
        ));
        for event in &events {
            console::out(&event_line(event));
        }
    }
}
