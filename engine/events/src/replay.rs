//! Replaying a history through a projector into a scratch read model: for
//! `wbx replay` (a whole history, one version or two compared) and for the
//! terminal interface's step view (one event at a time, forward and back).
//!
//! A replay never touches the live store or the live read model: the
//! history is only read, the read model is a fresh SQLite file of the
//! replay's own, and the projector instance is a new one. Events are
//! handled in batches, each in one transaction, as the projector runtime
//! does; when a batch fails, its events are handled again one by one to
//! name the event that failed.

pub mod read_model;

/// The components of versions that ran, kept for replays (in the core).
pub use wbx_core::versions;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};

use read_model::{ReadModel, TableDiff};
use wbx_core::{Engine, ModuleVersion};

use crate::bindings::imports::wbx::guest::types::Event;
use crate::command::{to_guest, to_query};
use crate::host_sql::open_database;
use crate::instances::ProjectorInstance;
use crate::projector::{begin, finish, in_transaction, with_database};
use crate::{EventStore, Query, ReadOptions, StoredEvent};

/// Events handed to the projector at a time.
const BATCH: usize = 500;

/// One projector instance over a scratch read model.
pub struct Replayer {
    engine: Arc<Engine>,
    module: String,
    /// The version replayed: every instance, also one made again after a
    /// trap, must be of it.
    version: Option<ModuleVersion>,
    database: PathBuf,
    instance: ProjectorInstance,
    query: Query,
    /// The position of the last event handled (0 before any).
    pub position: u64,
    /// Events handled so far.
    pub handled: u64,
}

impl Replayer {
    /// A fresh read model at `database` (any file there is replaced), made
    /// by the active version of `module`: subscription read, `init` run.
    pub async fn start(engine: Arc<Engine>, module: &str, database: &Path) -> Result<Replayer> {
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", database.display()));
            if file.exists() {
                std::fs::remove_file(&file)
                    .with_context(|| format!("cannot remove {}", file.display()))?;
            }
        }
        let version = engine.version_of(module);
        let mut instance = instance(&engine, module, database).await?;
        let query = to_query(instance.subscription().await?);
        query
            .validate()
            .map_err(|e| anyhow!("projector '{module}' subscribes with a bad query: {e}"))?;
        in_transaction(&mut instance, |i| Box::pin(async { Ok(i.init().await?) }))
            .await
            .with_context(|| format!("{module}: init failed"))?;
        Ok(Replayer {
            engine,
            module: module.to_owned(),
            version,
            database: database.to_owned(),
            instance,
            query,
            position: 0,
            handled: 0,
        })
    }

    /// The events the projector subscribes to.
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// Hands `events` (matching the subscription, in order) to the
    /// projector in one transaction. When that fails, the events are
    /// handled again one at a time, so the read model keeps those before
    /// the failing one, and the error names the event that failed.
    pub async fn apply(&mut self, events: &[Event]) -> Result<()> {
        let Some(last) = events.last() else {
            return Ok(());
        };
        match self.handle(events).await {
            Ok(()) => {
                self.position = last.position;
                self.handled += events.len() as u64;
                Ok(())
            }
            Err(error) => {
                // A trap spends the instance; the read model rolled back.
                if self.engine.version_of(&self.module) != self.version {
                    return Err(error.context(format!(
                        "{} was replaced by a new version during the replay",
                        self.module
                    )));
                }
                self.instance = instance(&self.engine, &self.module, &self.database).await?;
                if let [event] = events {
                    return Err(error.context(format!(
                        "{} failed on the event at position {} ({})",
                        self.module, event.position, event.event_type
                    )));
                }
                for event in events {
                    Box::pin(self.apply(std::slice::from_ref(event))).await?;
                }
                // Every event went through alone: the batch failed as a whole.
                Err(error.context(format!(
                    "{} failed on the batch of positions {}..={}",
                    self.module, events[0].position, last.position
                )))
            }
        }
    }

    async fn handle(&mut self, events: &[Event]) -> Result<()> {
        begin(&mut self.instance)?;
        let result = self.instance.handle(events).await.map_err(Into::into);
        finish(&mut self.instance, result)
    }

    /// Every event of `history` the projector subscribes to, up to `to`;
    /// the time it took.
    pub async fn replay(&mut self, history: &mut History, to: Option<u64>) -> Result<Duration> {
        let start = Instant::now();
        loop {
            let batch = history.next_batch(&self.query, to, BATCH)?;
            if batch.is_empty() {
                return Ok(start.elapsed());
            }
            self.apply(&batch).await?;
        }
    }

    pub fn read_model(&mut self) -> Result<ReadModel> {
        read_model::dump(self.instance.database().context("the replay's database")?)
    }
}

async fn instance(engine: &Engine, module: &str, database: &Path) -> Result<ProjectorInstance> {
    let setup = with_database(open_database(database)?);
    ProjectorInstance::new(engine, module, setup).await
}

/// Where the events come from: a store (read only) or an exported file.
pub enum History {
    Store {
        store: EventStore,
        /// The next position to read from.
        next: u64,
    },
    File {
        path: PathBuf,
        lines: std::io::Lines<std::io::BufReader<std::fs::File>>,
        line: usize,
    },
}

impl History {
    pub fn store(store: EventStore) -> History {
        History::Store { store, next: 1 }
    }

    /// A history as `wbx export` writes it: one event as JSON a line.
    pub fn file(path: &Path) -> Result<History> {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        Ok(History::File {
            path: path.to_owned(),
            lines: std::io::BufReader::new(file).lines(),
            line: 0,
        })
    }

    /// The next at most `limit` events matching `query`, none past `to`,
    /// as the projector sees them.
    pub fn next_batch(
        &mut self,
        query: &Query,
        to: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Event>> {
        let to = to.unwrap_or(u64::MAX);
        match self {
            History::Store { store, next } => {
                if *next > to {
                    return Ok(Vec::new());
                }
                let mut batch =
                    store.read_for_guest(query, ReadOptions::forward(*next, limit as u64))?;
                batch.retain(|e| e.position <= to);
                *next = match batch.last() {
                    Some(last) if batch.len() == limit => last.position + 1,
                    // Fewer than asked: nothing more matches up to `to`.
                    _ => to.saturating_add(1),
                };
                Ok(batch)
            }
            History::File { path, lines, line } => {
                let mut batch = Vec::new();
                while batch.len() < limit {
                    let Some(text) = lines.next() else { break };
                    *line += 1;
                    let text = text.with_context(|| format!("cannot read {}", path.display()))?;
                    if text.trim().is_empty() {
                        continue;
                    }
                    let event: StoredEvent = serde_json::from_str(&text).with_context(|| {
                        format!(
                            "{}:{line}: not an event as `wbx export` writes it",
                            path.display()
                        )
                    })?;
                    if event.position > to {
                        break;
                    }
                    if query.matches(&event.event_type, &event.tags) {
                        batch.push(to_guest(&event));
                    }
                }
                Ok(batch)
            }
        }
    }
}

/// Where the step view should go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The last event the projector subscribes to at or before a position.
    Position(u64),
    Next,
    Previous,
}

/// Where the step view is: the event handled last and what it changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub projector: String,
    /// The event handled last; none before the first.
    pub event: Option<StoredEvent>,
    /// What that event changed in the read model.
    pub changes: Vec<TableDiff>,
    /// Events handled from the start up to here.
    pub handled: u64,
    /// The positions of the subscribed events before and after this one.
    pub previous: Option<u64>,
    pub next: Option<u64>,
}

/// Steps one projector through the store's history, one event at a time.
/// Forward steps handle the events in between; a step back replays from
/// the start into a fresh read model.
pub struct Stepper {
    engine: Arc<Engine>,
    module: String,
    store: EventStore,
    dir: tempfile::TempDir,
    replayer: Option<Replayer>,
    /// The last step that succeeded.
    last: Option<Step>,
}

impl Stepper {
    pub fn new(engine: Arc<Engine>, store: EventStore, module: &str) -> Result<Stepper> {
        Ok(Stepper {
            engine,
            module: module.to_owned(),
            store,
            dir: tempfile::tempdir().context("cannot make a scratch directory for the replay")?,
            replayer: None,
            last: None,
        })
    }

    pub fn module(&self) -> &str {
        &self.module
    }

    // `&mut self` rather than `&self` here and in `advance`: a `Replayer`
    // is `Send` but not `Sync`, and these futures must be `Send`.
    async fn fresh(&mut self) -> Result<Replayer> {
        Replayer::start(
            self.engine.clone(),
            &self.module,
            &self.dir.path().join("read-model.sqlite"),
        )
        .await
    }

    /// The subscribed event nearest `from` in a direction, if any.
    fn neighbour(&self, query: &Query, from: u64, backwards: bool) -> Result<Option<StoredEvent>> {
        if backwards && from == 0 {
            return Ok(None);
        }
        Ok(self
            .store
            .read(
                query,
                if backwards {
                    ReadOptions::backward(Some(from), 1)
                } else {
                    ReadOptions::forward(from, 1)
                },
            )?
            .pop())
    }

    pub async fn step(&mut self, target: Target) -> Result<Step> {
        // A new version of the projector: its own replay, from the start.
        let active = self.engine.version_of(&self.module);
        if self.replayer.as_ref().is_some_and(|r| r.version != active) {
            self.replayer = None;
            self.last = None;
        }
        let mut replayer = match self.replayer.take() {
            Some(replayer) => replayer,
            None => self.fresh().await?,
        };
        let query = replayer.query().clone();
        // Where the last good step stands; after a failure the replayer
        // was dropped, and the steps go on from here.
        let at = self
            .last
            .as_ref()
            .and_then(|s| s.event.as_ref())
            .map_or(0, |e| e.position);
        let goal = match target {
            Target::Position(p) => self.neighbour(&query, p, true)?,
            Target::Next => match self.neighbour(&query, at + 1, false)? {
                Some(event) => Some(event),
                None => self.neighbour(&query, at, true)?,
            },
            Target::Previous => self.neighbour(&query, at.saturating_sub(1), true)?,
        };
        let goal_position = goal.as_ref().map_or(0, |e| e.position);
        if goal_position == at
            && replayer.position == at
            && let Some(last) = &self.last
        {
            // Where it already is: no need to replay anything.
            let step = last.clone();
            self.replayer = Some(replayer);
            return Ok(step);
        }
        if goal_position < replayer.position
            || (goal_position == replayer.position && goal_position > 0)
        {
            // Back (or the same event again): from the start.
            replayer = self.fresh().await?;
        }
        // After a failure the read model is where the failure left it: the
        // replayer is dropped, and the next step starts from scratch.
        let (event, changes) = self.advance(&mut replayer, goal).await?;
        let position = replayer.position;
        let step = Step {
            projector: self.module.clone(),
            previous: self
                .neighbour(&query, position.saturating_sub(1), true)?
                .map(|e| e.position),
            next: self
                .neighbour(&query, position + 1, false)?
                .map(|e| e.position),
            event,
            changes,
            handled: replayer.handled,
        };
        self.last = Some(step.clone());
        self.replayer = Some(replayer);
        Ok(step)
    }

    /// Handles the events before `goal`, then `goal` alone, with what it changed.
    async fn advance(
        &mut self,
        replayer: &mut Replayer,
        goal: Option<StoredEvent>,
    ) -> Result<(Option<StoredEvent>, Vec<TableDiff>)> {
        let Some(goal) = goal else {
            return Ok((None, Vec::new()));
        };
        let mut history = History::Store {
            store: self.store.clone(),
            next: replayer.position + 1,
        };
        replayer
            .replay(&mut history, Some(goal.position - 1))
            .await?;
        let before = replayer.read_model()?;
        replayer.apply(&[to_guest(&goal)]).await?;
        let after = replayer.read_model()?;
        Ok((Some(goal), read_model::diff(&before, &after)))
    }
}
