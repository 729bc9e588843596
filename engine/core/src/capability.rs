//! Capabilities that cross models: declared here as traits, implemented by
//! the model that owns them, used by any model whose modules need them.
//!
//! - [`ExecuteCommand`]: run a command of the project (the host side of
//!   `wbx:guest/commands` is here, over a [`CommandGrant`] extension).
//! - [`QueryReadModel`]: a read-only query of a read model (and the host
//!   side of `wbx:guest/read-model` over a [`ReadModelGrant`] extension).
//! - [`FollowEvents`]: the event log read in order, and its head watched.
//!
//! A model never depends on a sibling model: the assembly fills the
//! [`Capabilities`] every model is opened with, from the models that provide
//! them.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use wasmtime::component::{HasSelf, Linker};

use crate::bindings::wbx::guest::commands::{self, Executed, Failure};
use crate::bindings::wbx::guest::read_model;
use crate::extensions::Extensions;
use crate::host_state::HostState;

/// A command to run, with the ids its events inherit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandRequest {
    pub command: String,
    /// The input, as JSON text.
    pub input: String,
    pub idempotency_key: Option<String>,
    pub correlation_id: Option<String>,
    /// The event that led to this command (set when an event's handler runs it).
    pub triggering_event_id: Option<String>,
}

/// What running a command did, as a caller in another model sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandDone {
    /// The position of the last appended event; none when nothing was appended.
    pub position: Option<u64>,
    /// How many events were appended.
    pub events: u32,
    /// True when the idempotency key had been seen: nothing was done.
    pub duplicate: bool,
}

/// Why a command did nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandRefused {
    UnknownCommand(String),
    InvalidInput(String),
    Rejected(String),
    Conflict(String),
    Failed(String),
}

pub type CommandFuture<'a> =
    Pin<Box<dyn Future<Output = Result<CommandDone, CommandRefused>> + Send + 'a>>;

/// Runs the project's commands.
pub trait ExecuteCommand: Send + Sync {
    fn execute(&self, request: CommandRequest) -> CommandFuture<'_>;
}

/// An instance's right to execute commands, and the ids they inherit: an
/// extension of its host state.
#[derive(Clone)]
pub struct CommandGrant {
    pub executor: Arc<dyn ExecuteCommand>,
    /// Set by the instance's runtime before each call that may execute.
    pub correlation_id: Option<String>,
    pub triggering_event_id: Option<String>,
}

/// Adds `wbx:guest/commands` to a world's linker.
pub fn link_commands(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    Ok(commands::add_to_linker::<_, HasSelf<HostState>>(
        linker,
        |state| state,
    )?)
}

impl commands::Host for HostState {
    async fn execute(
        &mut self,
        command: String,
        input: String,
        idempotency_key: Option<String>,
    ) -> Result<Executed, Failure> {
        let Some(grant) = self.extensions.get::<CommandGrant>().cloned() else {
            return Err(Failure::Failed(
                "this module was not granted the right to execute commands".into(),
            ));
        };
        let request = CommandRequest {
            command,
            input,
            idempotency_key,
            correlation_id: grant.correlation_id,
            triggering_event_id: grant.triggering_event_id,
        };
        match grant.executor.execute(request).await {
            Ok(done) => Ok(Executed {
                position: done.position,
                events: done.events,
                duplicate: done.duplicate,
            }),
            Err(refused) => Err(match refused {
                CommandRefused::UnknownCommand(m) => Failure::UnknownCommand(m),
                CommandRefused::InvalidInput(m) => Failure::InvalidInput(m),
                CommandRefused::Rejected(m) => Failure::Rejected(m),
                CommandRefused::Conflict(m) => Failure::Conflict(m),
                CommandRefused::Failed(m) => Failure::Failed(m),
            }),
        }
    }
}

/// Answers read-only queries of read models.
pub trait QueryReadModel: Send + Sync {
    /// Runs `sql` with `?` parameters on the read model `name`; rows as a
    /// JSON array of objects.
    fn query(
        &self,
        name: &str,
        sql: &str,
        params: &[serde_json::Value],
    ) -> anyhow::Result<serde_json::Value>;
}

/// An instance's right to query read models: an extension of its host state.
#[derive(Clone)]
pub struct ReadModelGrant(pub Arc<dyn QueryReadModel>);

/// Adds `wbx:guest/read-model` to a world's linker.
pub fn link_read_model(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    Ok(read_model::add_to_linker::<_, HasSelf<HostState>>(
        linker,
        |state| state,
    )?)
}

impl read_model::Host for HostState {
    fn query(
        &mut self,
        projector: String,
        statement: String,
        params: String,
    ) -> Result<String, String> {
        let Some(ReadModelGrant(query)) = self.extensions.get::<ReadModelGrant>().cloned() else {
            return Err("this module was not granted queries of read models".into());
        };
        let params: Vec<serde_json::Value> = if params.trim().is_empty() {
            Vec::new()
        } else {
            serde_json::from_str(&params)
                .map_err(|e| format!("params must be a JSON array: {e}"))?
        };
        let rows = query
            .query(&projector, &statement, &params)
            .map_err(|e| format!("{e:#}"))?;
        Ok(rows.to_string())
    }
}

/// An event of the log as another model receives it: its position, and
/// its whole envelope as JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowedEvent {
    pub position: u64,
    pub json: String,
}

/// Reads the project's event log in order and says when it grows: what a
/// flow that starts from the events of the log follows.
pub trait FollowEvents: Send + Sync {
    /// At most `limit` events after position `after` whose type is one of
    /// `types` (none: any) and whose tags include all of `tags`.
    fn read_after(
        &self,
        types: &[String],
        tags: &[String],
        after: u64,
        limit: usize,
    ) -> anyhow::Result<Vec<FollowedEvent>>;

    /// The log's head position, changing as events are appended.
    fn watch_head(&self) -> tokio::sync::watch::Receiver<u64>;
}

/// The cross-model capabilities of one engine, each provided by at most
/// one model. Filled while the models open; read when an instance is made.
#[derive(Default)]
pub struct Capabilities {
    commands: OnceLock<Arc<dyn ExecuteCommand>>,
    read_models: OnceLock<Arc<dyn QueryReadModel>>,
    events: OnceLock<Arc<dyn FollowEvents>>,
}

impl Capabilities {
    pub fn provide_commands(&self, executor: Arc<dyn ExecuteCommand>) {
        // The first provider wins; the assembly registers one per capability.
        let _ = self.commands.set(executor);
    }

    pub fn provide_read_models(&self, query: Arc<dyn QueryReadModel>) {
        let _ = self.read_models.set(query);
    }

    pub fn provide_events(&self, events: Arc<dyn FollowEvents>) {
        let _ = self.events.set(events);
    }

    pub fn events(&self) -> Option<Arc<dyn FollowEvents>> {
        self.events.get().cloned()
    }

    pub fn commands(&self) -> Option<Arc<dyn ExecuteCommand>> {
        self.commands.get().cloned()
    }

    pub fn read_models(&self) -> Option<Arc<dyn QueryReadModel>> {
        self.read_models.get().cloned()
    }
    /// Grants an instance's `extensions` every capability provided: the
    /// commands (their events correlated to `correlation_id`) and the read
    /// models.
    pub fn grant(&self, extensions: &mut Extensions, correlation_id: Option<String>) {
        if let Some(executor) = self.commands() {
            extensions.insert(CommandGrant {
                executor,
                correlation_id,
                triggering_event_id: None,
            });
        }
        if let Some(query) = self.read_models() {
            extensions.insert(ReadModelGrant(query));
        }
    }
}
