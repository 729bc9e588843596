//! [`EventsRuntime`]: the event store plus everything that runs over it: the
//! command executor, a task per projector and per effect, and read-only
//! queries of read models.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::command::{self, CommandError, CommandOutcome, CommandRequest};
use super::effect::{Effect, EffectSettings, EffectStatus, EffectStatuses};
use super::projector::{Projector, ProjectorStatus, Statuses};
use super::store::EventStore;
use crate::bindings::imports::wbx::guest::sql::{Rows, Value};
use crate::engine::Engine;
use crate::host_commands::{CommandFuture, RunCommand};
use crate::kind::ModuleKind;
use crate::project::StateLayout;

pub struct EventsRuntime {
    engine: Arc<Engine>,
    store: EventStore,
    state: StateLayout,
    projectors: Statuses,
    effects: EffectStatuses,
    /// Projectors and effects whose tasks run.
    started: Mutex<std::collections::BTreeSet<String>>,
    /// Per projector: a request to rebuild its read model.
    rebuilds: Mutex<std::collections::BTreeMap<String, Arc<tokio::sync::Notify>>>,
    effect_settings: Mutex<EffectSettings>,
    /// Stops the projectors.
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Effects have their own stop, so new settings can restart them alone.
    effects_stop: Mutex<watch::Sender<bool>>,
    effect_tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl EventsRuntime {
    /// Opens the project's event store; nothing runs until [`EventsRuntime::start`].
    pub fn open(
        engine: Arc<Engine>,
        state: StateLayout,
        effect_settings: EffectSettings,
    ) -> Result<Arc<EventsRuntime>> {
        let store = EventStore::open(&state.events_db())?;
        Ok(Arc::new(EventsRuntime {
            engine,
            store,
            state,
            projectors: Statuses::default(),
            effects: EffectStatuses::default(),
            started: Mutex::default(),
            rebuilds: Mutex::default(),
            effect_settings: Mutex::new(effect_settings),
            stop: watch::channel(false).0,
            tasks: Mutex::new(Vec::new()),
            effects_stop: Mutex::new(watch::channel(false).0),
            effect_tasks: Mutex::new(Vec::new()),
        }))
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Starts a task for every loaded projector and effect.
    pub fn start(self: &Arc<Self>) {
        for module in self.engine.modules() {
            self.start_module(&module.name);
        }
    }

    /// Starts the task of a projector or effect that has none yet (one that
    /// was first loaded after [`EventsRuntime::start`]); nothing otherwise.
    pub fn start_module(self: &Arc<Self>, name: &str) {
        if !lock(&self.started).insert(name.to_owned()) {
            return;
        }
        match self.engine.kind_of(name) {
            Some(ModuleKind::Projector) => self.start_projector(name),
            Some(ModuleKind::Effect) => {
                let stop = lock(&self.effects_stop).subscribe();
                let settings = lock(&self.effect_settings).clone();
                self.start_effect(name, settings, stop);
            }
            _ => {
                lock(&self.started).remove(name);
            }
        }
    }

    fn start_projector(self: &Arc<Self>, name: &str) {
        let rebuild = Arc::new(tokio::sync::Notify::new());
        lock(&self.rebuilds).insert(name.to_owned(), rebuild.clone());
        let projector = Projector {
            database: self.state.projector_db(name),
            name: name.to_owned(),
            engine: self.engine.clone(),
            store: self.store.clone(),
            statuses: self.projectors.clone(),
            rebuild,
        };
        lock(&self.tasks).push(tokio::spawn(projector.run(self.stop.subscribe())));
    }

    fn start_effect(
        self: &Arc<Self>,
        name: &str,
        settings: EffectSettings,
        stop: watch::Receiver<bool>,
    ) {
        let effect = Effect {
            database: self.state.effect_db(name),
            name: name.to_owned(),
            engine: self.engine.clone(),
            store: self.store.clone(),
            commands: self.clone(),
            settings,
            statuses: self.effects.clone(),
        };
        lock(&self.effect_tasks).push(tokio::spawn(effect.run(stop)));
    }

    /// Starts every started effect again (after new settings).
    fn start_effects(self: &Arc<Self>) {
        let settings = lock(&self.effect_settings).clone();
        let stop = lock(&self.effects_stop).subscribe();
        let started = lock(&self.started).clone();
        for name in started {
            if self.engine.kind_of(&name) == Some(ModuleKind::Effect) {
                self.start_effect(&name, settings.clone(), stop.clone());
            }
        }
    }

    async fn stop_effects(&self) {
        lock(&self.effects_stop).send_replace(true);
        let tasks = std::mem::take(&mut *lock(&self.effect_tasks));
        for task in tasks {
            let _ = task.await;
        }
        *lock(&self.effects_stop) = watch::channel(false).0;
    }

    /// New effect settings (from a changed `wbx.toml`): the effects finish
    /// what they hold, then start again with them from their saved positions.
    pub async fn apply_effect_settings(self: &Arc<Self>, settings: EffectSettings) {
        if *lock(&self.effect_settings) == settings {
            return;
        }
        self.stop_effects().await;
        *lock(&self.effect_settings) = settings;
        self.start_effects();
    }

    /// Stops every task after its current batch and waits for them.
    pub async fn shutdown(&self) {
        self.stop.send_replace(true);
        let tasks = std::mem::take(&mut *lock(&self.tasks));
        for task in tasks {
            let _ = task.await;
        }
        self.stop_effects().await;
    }

    pub async fn execute(&self, request: CommandRequest) -> Result<CommandOutcome, CommandError> {
        command::execute(&self.engine, &self.store, request).await
    }

    /// Asks a running projector to rebuild its read model from the log.
    pub fn rebuild_projector(&self, projector: &str) -> Result<()> {
        match lock(&self.rebuilds).get(projector) {
            Some(rebuild) => {
                rebuild.notify_one();
                Ok(())
            }
            None => bail!(
                "no running projector named '{projector}'; projectors: {}",
                self.engine.module_names(ModuleKind::Projector)
            ),
        }
    }

    pub fn projectors(&self) -> Vec<ProjectorStatus> {
        lock(&self.projectors).values().cloned().collect()
    }

    pub fn effects(&self) -> Vec<EffectStatus> {
        lock(&self.effects).values().cloned().collect()
    }

    /// A read-only query of an effect's own database.
    pub fn query_effect_state(&self, effect: &str, sql: &str, params: &[Value]) -> Result<Rows> {
        self.query_module_database(ModuleKind::Effect, effect, sql, params)
    }

    /// A read-only query of a projector's read model.
    pub fn query_read_model(&self, projector: &str, sql: &str, params: &[Value]) -> Result<Rows> {
        self.query_module_database(ModuleKind::Projector, projector, sql, params)
    }

    fn query_module_database(
        &self,
        kind: ModuleKind,
        name: &str,
        sql: &str,
        params: &[Value],
    ) -> Result<Rows> {
        let path = match kind {
            _ if self.engine.kind_of(name) != Some(kind) => bail!(
                "no {kind} named '{name}'; {kind}s: {}",
                self.engine.module_names(kind)
            ),
            ModuleKind::Projector => self.state.projector_db(name),
            _ => self.state.effect_db(name),
        };
        query_database(&path, sql, params)
    }
}

impl RunCommand for EventsRuntime {
    fn run(&self, request: CommandRequest) -> CommandFuture<'_> {
        Box::pin(self.execute(request))
    }
}

/// Runs `sql` on a database opened read-only: a query cannot change it.
pub fn query_database(path: &PathBuf, sql: &str, params: &[Value]) -> Result<Rows> {
    if !path.is_file() {
        bail!("{} does not exist yet", path.display());
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open {}", path.display()))?;
    // A query reaches this file only: no ATTACH of others.
    conn.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_ATTACHED, 0)?;
    let mut statement = conn.prepare(sql).context("bad query")?;
    Ok(crate::host_sql::rows_of(&mut statement, params)?)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
