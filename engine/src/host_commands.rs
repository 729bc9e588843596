//! The host side of `wbx:guest/commands`: an effect executing a command.
//!
//! The command runs in-process through whatever implements [`RunCommand`]
//! (the events runtime). It inherits the effect's correlation id, and the
//! event the effect is handling becomes its triggering event.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::bindings::imports::wbx::guest::commands::{self, Executed, Failure};
use crate::events::command::{CommandError, CommandOutcome, CommandRequest};
use crate::host_state::HostState;

pub type CommandFuture<'a> =
    Pin<Box<dyn Future<Output = Result<CommandOutcome, CommandError>> + Send + 'a>>;

/// Runs a command for a guest.
pub trait RunCommand: Send + Sync {
    fn run(&self, request: CommandRequest) -> CommandFuture<'_>;
}

/// An effect instance's right to execute commands, and the ids they inherit.
#[derive(Clone)]
pub struct CommandContext {
    pub runner: Arc<dyn RunCommand>,
    /// Set by the effect runtime before each event it hands the guest.
    pub correlation_id: Option<String>,
    pub triggering_event_id: Option<String>,
}

impl commands::Host for HostState {
    async fn execute(
        &mut self,
        command: String,
        input: String,
        idempotency_key: Option<String>,
    ) -> Result<Executed, Failure> {
        let Some(context) = self.commands.clone() else {
            return Err(Failure::Failed(
                "this module may not execute commands: only effects may".into(),
            ));
        };
        let request = CommandRequest {
            command,
            input,
            idempotency_key,
            correlation_id: context.correlation_id,
            triggering_event_id: context.triggering_event_id,
        };
        match context.runner.run(request).await {
            Ok(outcome) => Ok(Executed {
                position: outcome.position,
                events: outcome.events.len() as u32,
                duplicate: outcome.duplicate,
            }),
            Err(error) => Err(match error {
                CommandError::UnknownCommand(m) => Failure::UnknownCommand(m),
                CommandError::InvalidInput(m) => Failure::InvalidInput(m),
                CommandError::Rejected(m) => Failure::Rejected(m),
                CommandError::Conflict { .. } => Failure::Conflict(error.to_string()),
                CommandError::Failed(e) => Failure::Failed(format!("{e:#}")),
            }),
        }
    }
}
