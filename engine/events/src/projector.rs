//! Running a projector: one long-lived instance, its own SQLite database,
//! and its position in the log kept in that database.
//!
//! Each batch is handled inside one SQLite transaction that also moves the
//! position, so a crash, a trap or a guest error never applies an event
//! twice or skips one: the batch either commits whole with its position, or
//! rolls back whole. A failed batch stops the projector with its error; it
//! starts again from its position when a new version of the module is
//! loaded. A new version loaded while it runs takes over between batches,
//! from the same position.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow};
use serde::Serialize;
use tokio::sync::watch;

use wbx_core::sync::lock;
use wbx_core::{Engine, Extensions, InstanceSetup, ModuleVersion};

use crate::command::to_query;
use crate::host_sql::{ModuleDatabase, open_database};
use crate::instances::ProjectorInstance;
use crate::observe::EventsObservation;
use crate::position::{MAJOR, PROJECTOR, wait_for_new_version};
use crate::query::ReadOptions;
use crate::store::EventStore;

/// Events handed to `handle` at a time.
pub const BATCH: u64 = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum ProjectorState {
    Starting,
    CatchingUp,
    /// Replaying the log into a fresh read model; the old one stays readable.
    Rebuilding,
    /// Handled everything up to the log's head.
    Live,
    /// Stopped by a failed batch; waits for a new version.
    Stopped {
        error: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct ProjectorStatus {
    pub name: String,
    /// The last log position reflected in the read model.
    pub position: u64,
    #[serde(flatten)]
    pub state: ProjectorState,
    /// Read models rebuilt from scratch and put in place so far.
    pub rebuilds: u64,
}

/// The statuses of every projector, shared with views.
pub type Statuses = Arc<Mutex<std::collections::BTreeMap<String, ProjectorStatus>>>;

pub(crate) struct Projector {
    pub name: String,
    pub database: PathBuf,
    pub engine: Arc<Engine>,
    pub store: EventStore,
    pub statuses: Statuses,
    /// Wakes the projector to rebuild its read model from scratch.
    pub rebuild: Arc<tokio::sync::Notify>,
}

enum Ended {
    /// Asked to stop.
    Stop,
    /// A new version is active: run it from the saved position (or rebuild,
    /// when its major version differs from the read model's).
    NewVersion,
    /// A rebuild was asked for.
    Rebuild,
    /// Rebuilding only: the fresh read model reached the head.
    CaughtUp,
}

/// `1.2.3` → `1`: a change of major version means a new read model.
fn major(version: &ModuleVersion) -> &str {
    version.crate_version.split('.').next().unwrap_or("")
}

impl Projector {
    fn set(&self, position: u64, state: ProjectorState) {
        let mut statuses = lock(&self.statuses);
        let rebuilds = statuses.get(&self.name).map_or(0, |s| s.rebuilds);
        statuses.insert(
            self.name.clone(),
            ProjectorStatus {
                name: self.name.clone(),
                position,
                state,
                rebuilds,
            },
        );
    }

    fn count_rebuild(&self) {
        let mut statuses = lock(&self.statuses);
        if let Some(status) = statuses.get_mut(&self.name) {
            status.rebuilds += 1;
        }
    }

    /// Runs until `stop` turns true, across versions and failures.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut versions = self.engine.watch_versions();
        let mut rebuild_requested = false;
        loop {
            versions.mark_unchanged();
            let running = self.engine.version_of(&self.name);
            // A read model made by another major version is rebuilt, whatever
            // happened in between (failures, minor swaps, restarts).
            let stale = running.as_ref().is_some_and(|v| {
                self.read_model_major()
                    .is_some_and(|made_by| made_by != major(v))
            });
            let ended = if stale || rebuild_requested {
                rebuild_requested = false;
                self.rebuild(&mut stop, &mut versions).await
            } else {
                let live = self.database.clone();
                self.run_version(&live, false, &mut stop, &mut versions)
                    .await
            };
            match ended {
                Ok(Ended::Stop) => return,
                Ok(Ended::Rebuild) => rebuild_requested = true,
                Ok(_) => continue,
                Err(error) => {
                    let error = format!("{error:#}");
                    let position = self.saved_position().unwrap_or(0);
                    self.set(
                        position,
                        ProjectorState::Stopped {
                            error: error.clone(),
                        },
                    );
                    EventsObservation::ProjectorStopped {
                        module: self.name.clone(),
                        position,
                        error,
                    }
                    .publish(&self.engine);
                    // Wait for a fix: a new version of any module wakes us;
                    // start again only when ours changed.
                    if !wait_for_new_version(
                        &self.engine,
                        &self.name,
                        running,
                        &mut stop,
                        &mut versions,
                    )
                    .await
                    {
                        return;
                    }
                }
            }
        }
    }

    /// The major version that made the live read model, if it says.
    fn read_model_major(&self) -> Option<String> {
        let conn = open_database(&self.database).ok()?;
        MAJOR.read(&conn).ok().flatten()
    }

    fn saved_position(&self) -> Result<u64> {
        PROJECTOR.read(&open_database(&self.database)?)
    }

    /// Replays the whole log into a fresh read model next to the live one
    /// (which stays readable meanwhile), then puts it in the live one's place.
    async fn rebuild(
        &self,
        stop: &mut watch::Receiver<bool>,
        versions: &mut watch::Receiver<u64>,
    ) -> Result<Ended> {
        let fresh = self.database.with_extension("rebuilding.sqlite");
        remove_database(&fresh)?;
        match self.run_version(&fresh, true, stop, versions).await? {
            Ended::CaughtUp => {}
            other => {
                remove_database(&fresh)?;
                return Ok(other);
            }
        }
        remove_database(&self.database)?;
        std::fs::rename(&fresh, &self.database).with_context(|| {
            format!(
                "cannot put the rebuilt {} in place",
                self.database.display()
            )
        })?;
        self.count_rebuild();
        Ok(Ended::CaughtUp)
    }

    /// Runs the active version over `database` until stopped or replaced;
    /// with `rebuilding`, only until it has caught up with the head.
    async fn run_version(
        &self,
        database: &std::path::Path,
        rebuilding: bool,
        stop: &mut watch::Receiver<bool>,
        versions: &mut watch::Receiver<u64>,
    ) -> Result<Ended> {
        let conn = open_database(database)?;
        let mut position = PROJECTOR.read(&conn)?;
        self.set(
            position,
            if rebuilding {
                ProjectorState::Rebuilding
            } else {
                ProjectorState::Starting
            },
        );
        let version = self.engine.version_of(&self.name);
        let mut instance =
            ProjectorInstance::new(&self.engine, &self.name, with_database(conn)).await?;
        let query = to_query(instance.subscription().await?);
        query
            .validate()
            .map_err(|e| anyhow!("projector '{}' subscribes with a bad query: {e}", self.name))?;
        in_transaction(&mut instance, |instance| {
            Box::pin(async { Ok(instance.init().await?) })
        })
        .await
        .context("init failed")?;
        if let Some(version) = &version {
            MAJOR.save(
                instance.database().context("projector database")?,
                major(version),
            )?;
        }

        let mut head = self.store.watch_head();
        loop {
            if *stop.borrow() {
                return Ok(Ended::Stop);
            }
            if self.engine.version_of(&self.name) != version {
                return Ok(Ended::NewVersion);
            }
            head.mark_unchanged();
            let head_seen = self.store.head();
            let batch = self
                .store
                .read_for_guest(&query, ReadOptions::forward(position + 1, BATCH))?;
            let complete = (batch.len() as u64) < BATCH;
            // A short read saw every matching event up to the head it read at.
            let next = match batch.last() {
                Some(last) if complete => last.position.max(head_seen),
                Some(last) => last.position,
                None => head_seen.max(position),
            };
            if batch.is_empty() {
                if next > position {
                    PROJECTOR.save(instance.database().context("projector database")?, next)?;
                    position = next;
                }
            } else {
                let range = format!(
                    "positions {}..={}",
                    batch[0].position,
                    batch[batch.len() - 1].position
                );
                if !rebuilding {
                    self.set(position, ProjectorState::CatchingUp);
                }
                in_transaction(&mut instance, |instance| {
                    Box::pin(async move {
                        let handled = instance.handle(&batch).await?;
                        if handled.is_ok() {
                            PROJECTOR
                                .save(instance.database().context("projector database")?, next)?;
                        }
                        Ok(handled)
                    })
                })
                .await
                .with_context(|| format!("handling {range} failed"))?;
                position = next;
            }
            if complete && rebuilding {
                return Ok(Ended::CaughtUp);
            }
            if complete {
                self.set(position, ProjectorState::Live);
                EventsObservation::ProjectorCaughtUp {
                    module: self.name.clone(),
                    position,
                }
                .publish(&self.engine);
                tokio::select! {
                    _ = stop.changed() => return Ok(Ended::Stop),
                    _ = self.rebuild.notified() => return Ok(Ended::Rebuild),
                    _ = versions.changed() => {}
                    _ = head.changed() => {}
                }
            }
        }
    }
}

/// What a projector's instance gets: its read model.
pub fn with_database(conn: rusqlite::Connection) -> InstanceSetup {
    InstanceSetup {
        extensions: Extensions::default().with(ModuleDatabase::new(conn)),
        ..InstanceSetup::default()
    }
}

/// Deletes a database file and its WAL companions.
fn remove_database(path: &std::path::Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", file.display())),
        }
    }
    Ok(())
}

type GuestCall<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Result<(), String>>> + Send + 'a>>;

/// Runs `call` inside a transaction on the instance's database: committed
/// when the guest succeeds, rolled back on its error or trap.
pub(crate) async fn in_transaction(
    instance: &mut ProjectorInstance,
    call: impl for<'a> FnOnce(&'a mut ProjectorInstance) -> GuestCall<'a>,
) -> Result<()> {
    begin(instance)?;
    let result = call(instance).await;
    finish(instance, result)
}

/// Opens the transaction a guest call runs in.
pub(crate) fn begin(instance: &mut ProjectorInstance) -> Result<()> {
    instance
        .database()
        .context("projector database")?
        .execute_batch("BEGIN IMMEDIATE")
        .map_err(Into::into)
}

/// Commits what the guest call did when it succeeded, rolls it back when
/// it returned an error or trapped.
pub(crate) fn finish(
    instance: &mut ProjectorInstance,
    result: Result<Result<(), String>>,
) -> Result<()> {
    let conn = instance.database().context("projector database")?;
    match result {
        Ok(Ok(())) => conn.execute_batch("COMMIT").map_err(Into::into),
        Ok(Err(guest_error)) => {
            conn.execute_batch("ROLLBACK")?;
            Err(anyhow!("the projector returned an error: {guest_error}"))
        }
        Err(trap) => {
            // The instance is spent, but the connection is ours to clean.
            let _ = conn.execute_batch("ROLLBACK");
            Err(trap)
        }
    }
}
