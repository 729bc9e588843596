//! Executing a command: a fresh instance, the query it asks for, the events
//! read for that query folded in, its decision, and a conditional append.
//!
//! The append's condition is the command's own query after the last
//! position it read, so a concurrent write that would have changed the
//! decision makes the append fail; the command is then run again from
//! scratch, up to [`MAX_ATTEMPTS`] times.

use std::fmt;
use std::time::SystemTime;

use anyhow::anyhow;
use serde::Serialize;

use wbx_core::capability::{CommandDone, CommandRefused};
use wbx_core::{Engine, InstanceSetup};

use crate::bindings;
use crate::bindings::command::exports::wbx::guest::command::Error as Refusal;
use crate::envelope::{AppendMeta, NewEvent, StoredEvent};
use crate::instances::CommandInstance;
use crate::kinds::COMMAND;
use crate::observe::EventsObservation;
use crate::query::{AppendCondition, Query, QueryItem, ReadOptions};
use crate::store::{AppendOutcome, EventStore};

/// A command to run: the core's, since other models run commands too.
pub use wbx_core::capability::CommandRequest;

/// Executions of one request before a conflict is reported.
pub const MAX_ATTEMPTS: u32 = 5;
/// Events handed to `fold` at a time.
const FOLD_BATCH: u64 = 1000;

#[derive(Debug, Clone, Serialize)]
pub struct CommandOutcome {
    pub command: String,
    /// Position of the last appended event; none when nothing was appended.
    pub position: Option<u64>,
    pub events: Vec<StoredEvent>,
    /// The idempotency key had been used: nothing was done.
    pub duplicate: bool,
    pub correlation_id: String,
    /// New for every execution; every event it appends carries it.
    pub causation_id: String,
    pub attempts: u32,
}

#[derive(Debug)]
pub enum CommandError {
    UnknownCommand(String),
    /// The guest could not use the input.
    InvalidInput(String),
    /// The guest understood the input and said no.
    Rejected(String),
    /// Every attempt lost its race to a concurrent write.
    Conflict {
        command: String,
        attempts: u32,
    },
    /// A trap, a timeout, a store error: the command could not run.
    Failed(anyhow::Error),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::UnknownCommand(m) => f.write_str(m),
            CommandError::InvalidInput(m) => write!(f, "invalid input: {m}"),
            CommandError::Rejected(m) => write!(f, "rejected: {m}"),
            CommandError::Conflict { command, attempts } => write!(
                f,
                "conflict: command '{command}' lost to concurrent writes {attempts} times in a row"
            ),
            CommandError::Failed(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for CommandError {}

impl From<anyhow::Error> for CommandError {
    fn from(error: anyhow::Error) -> Self {
        CommandError::Failed(error)
    }
}

impl From<wbx_core::GuestError> for CommandError {
    fn from(error: wbx_core::GuestError) -> Self {
        CommandError::Failed(error.into())
    }
}

impl From<Refusal> for CommandError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::InvalidInput(m) => CommandError::InvalidInput(m),
            Refusal::Rejected(m) => CommandError::Rejected(m),
        }
    }
}

impl CommandOutcome {
    /// What a caller in another model sees of it.
    pub fn done(&self) -> CommandDone {
        CommandDone {
            position: self.position,
            events: self.events.len() as u32,
            duplicate: self.duplicate,
        }
    }
}

impl From<CommandError> for CommandRefused {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::UnknownCommand(m) => CommandRefused::UnknownCommand(m),
            CommandError::InvalidInput(m) => CommandRefused::InvalidInput(m),
            CommandError::Rejected(m) => CommandRefused::Rejected(m),
            CommandError::Conflict { .. } => CommandRefused::Conflict(error.to_string()),
            CommandError::Failed(e) => CommandRefused::Failed(format!("{e:#}")),
        }
    }
}

/// The guest's view of a stored event.
pub fn to_guest(event: &StoredEvent) -> bindings::Event {
    bindings::Event {
        id: event.id.clone(),
        position: event.position,
        event_type: event.event_type.clone(),
        tags: event.tags.clone(),
        data: event.data.get().to_owned(),
        timestamp_ms: event.timestamp_ms(),
    }
}

pub(crate) fn to_query(items: Vec<bindings::QueryItem>) -> Query {
    Query::new(
        items
            .into_iter()
            .map(|i| QueryItem {
                types: i.types,
                tags: i.tags,
            })
            .collect(),
    )
}

pub async fn execute(
    engine: &Engine,
    store: &EventStore,
    request: CommandRequest,
) -> Result<CommandOutcome, CommandError> {
    match engine.kind_of(&request.command) {
        Some(COMMAND) => {}
        Some(kind) => {
            return Err(CommandError::UnknownCommand(format!(
                "'{}' is a {kind}, not a command",
                request.command
            )));
        }
        None => {
            return Err(CommandError::UnknownCommand(format!(
                "no command named '{}'; commands: {}",
                request.command,
                engine.module_names(COMMAND)
            )));
        }
    }
    let causation_id = uuid::Uuid::now_v7().to_string();
    let correlation_id = request
        .correlation_id
        .clone()
        .unwrap_or_else(|| causation_id.clone());
    let mut outcome = CommandOutcome {
        command: request.command.clone(),
        position: None,
        events: Vec::new(),
        duplicate: false,
        correlation_id,
        causation_id,
        attempts: 0,
    };
    if let Some(key) = &request.idempotency_key
        && store.has_idempotency_key(key)?
    {
        outcome.duplicate = true;
        return Ok(outcome);
    }
    // One execution, one time: every attempt sees and stamps the same clock.
    let clock = SystemTime::now();
    let meta = AppendMeta {
        correlation_id: Some(outcome.correlation_id.clone()),
        causation_id: Some(outcome.causation_id.clone()),
        triggering_event_id: request.triggering_event_id.clone(),
        idempotency_key: request.idempotency_key.clone(),
        timestamp: Some(clock),
    };

    while outcome.attempts < MAX_ATTEMPTS {
        outcome.attempts += 1;
        let setup = InstanceSetup {
            fixed_clock: Some(clock),
            ..InstanceSetup::default()
        };
        let mut instance = CommandInstance::new(engine, &request.command, setup).await?;
        let query = to_query(instance.prepare(&request.input).await??);
        query
            .validate()
            .map_err(|e| anyhow!("command '{}' asked for a bad query: {e}", request.command))?;

        let mut last_read = 0;
        loop {
            let batch =
                store.read_for_command(&query, ReadOptions::forward(last_read + 1, FOLD_BATCH))?;
            let Some(last) = batch.last() else { break };
            last_read = last.position;
            instance.fold(&batch).await?;
            if (batch.len() as u64) < FOLD_BATCH {
                break;
            }
        }

        let decided = instance.decide().await??;
        if decided.is_empty() {
            return Ok(outcome);
        }
        let events: Vec<NewEvent> = decided
            .into_iter()
            .map(|e| NewEvent {
                event_type: e.event_type,
                tags: e.tags,
                data: e.data,
            })
            .collect();
        let condition = AppendCondition {
            fail_if_events_match: query,
            after: Some(last_read),
        };
        let (appended, stored) = store
            .append_stored(&events, Some(&condition), &meta)
            .map_err(|e| {
                e.context(format!(
                    "command '{}' decided events the store refused",
                    request.command
                ))
            })?;
        match appended {
            AppendOutcome::Appended { first, last } => {
                outcome.position = Some(last);
                outcome.events = stored;
                EventsObservation::Appended {
                    first,
                    last,
                    by: Some(request.command.clone()),
                }
                .publish(engine);
                return Ok(outcome);
            }
            AppendOutcome::Duplicate => {
                outcome.duplicate = true;
                return Ok(outcome);
            }
            AppendOutcome::ConditionFailed => continue,
        }
    }
    Err(CommandError::Conflict {
        command: request.command,
        attempts: outcome.attempts,
    })
}
