//! [`EventsRuntime`]: the event store plus everything that runs over it: the
//! command executor, a task per projector and per effect, and read-only
//! queries of read models.

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use wbx_core::api::Closing;
use wbx_core::capability::{
    CommandFuture, ExecuteCommand, FollowEvents, FollowedEvent, QueryReadModel,
};
use wbx_core::project::{Manifest, StateLayout};
use wbx_core::sync::lock;
use wbx_core::{BoxFuture, Engine, ModuleKind, ModuleState, Runtime};

use crate::bindings::imports::wbx::guest::sql::{Rows, Value};
use crate::command::{self, CommandError, CommandOutcome, CommandRequest};
use crate::effect::{Effect, EffectSettings, EffectStatus, EffectStatuses};
use crate::host_sql::rows_to_json;
use crate::kinds::{EFFECT, PROJECTOR};
use crate::layout::EventsLayout;
use crate::observe::EventsObservation;
use crate::projector::{Projector, ProjectorState, ProjectorStatus, Statuses};
use crate::query::{Query, QueryItem, ReadOptions};
use crate::store::EventStore;

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
    /// Opens the event store in `state` (SQLite); nothing runs until
    /// [`EventsRuntime::start`].
    pub fn open(
        engine: Arc<Engine>,
        state: StateLayout,
        effect_settings: EffectSettings,
    ) -> Result<Arc<EventsRuntime>> {
        let store = EventStore::open(&state.events_db())?;
        Ok(EventsRuntime::with_store(
            engine,
            state,
            effect_settings,
            store,
        ))
    }

    /// A runtime over `store`, wherever it is; read models and effects'
    /// states stay in `state`.
    pub fn with_store(
        engine: Arc<Engine>,
        state: StateLayout,
        effect_settings: EffectSettings,
        store: EventStore,
    ) -> Arc<EventsRuntime> {
        Arc::new(EventsRuntime {
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
        })
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Starts a task for every loaded projector and effect, and one that
    /// tells the engine's subscribers of other engines' appends.
    pub fn start(self: &Arc<Self>) {
        for module in self.engine.modules() {
            self.start_module(&module.name);
        }
        let arrivals = self.store.watch_arrivals();
        let task = publish_arrivals(self.engine.clone(), arrivals, self.stop.subscribe());
        lock(&self.tasks).push(tokio::spawn(task));
    }

    /// Starts the task of a projector or effect that has none yet (one that
    /// was first loaded after [`EventsRuntime::start`]); nothing otherwise.
    pub fn start_module(self: &Arc<Self>, name: &str) {
        if !lock(&self.started).insert(name.to_owned()) {
            return;
        }
        match self.engine.kind_of(name) {
            Some(PROJECTOR) => self.start_projector(name),
            Some(EFFECT) => {
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
            if self.engine.kind_of(&name) == Some(EFFECT) {
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
                self.engine.module_names(PROJECTOR)
            ),
        }
    }

    /// Waits until `projector` has handled every event up to `position`, on
    /// its observations rather than by polling; an error when it stops
    /// instead, or after `within`.
    pub async fn wait_caught_up(
        &self,
        projector: &str,
        position: u64,
        within: std::time::Duration,
    ) -> Result<()> {
        // Subscribed before the status is read: a change after the read
        // is an observation this loop receives.
        let mut observations = self.engine.subscribe();
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let status = lock(&self.projectors).get(projector).cloned();
            if let Some(status) = status {
                match status.state {
                    ProjectorState::Live if status.position >= position => return Ok(()),
                    ProjectorState::Stopped { error } => bail!(
                        "projector '{projector}' stopped at position {}: {error}",
                        status.position
                    ),
                    _ => {}
                }
            }
            match tokio::time::timeout_at(deadline, observations.recv()).await {
                Ok(Ok(_) | Err(RecvError::Lagged(_))) => {}
                Ok(Err(RecvError::Closed)) => bail!("the engine stopped"),
                Err(_) => bail!(
                    "projector '{projector}' did not catch up within {} s",
                    within.as_secs()
                ),
            }
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
        self.query_module_database(EFFECT, effect, sql, params)
    }

    /// A read-only query of a projector's read model.
    pub fn query_read_model(&self, projector: &str, sql: &str, params: &[Value]) -> Result<Rows> {
        self.query_module_database(PROJECTOR, projector, sql, params)
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
            PROJECTOR => self.state.projector_db(name),
            _ => self.state.effect_db(name),
        };
        query_database(&path, sql, params)
    }
}

impl ExecuteCommand for EventsRuntime {
    fn execute(&self, request: CommandRequest) -> CommandFuture<'_> {
        Box::pin(async move {
            let outcome = EventsRuntime::execute(self, request).await?;
            Ok(outcome.done())
        })
    }
}

impl QueryReadModel for EventsRuntime {
    fn query(
        &self,
        name: &str,
        sql: &str,
        params: &[serde_json::Value],
    ) -> Result<serde_json::Value> {
        let params: Vec<Value> = params.iter().map(json_to_value).collect();
        Ok(rows_to_json(&self.query_read_model(name, sql, &params)?))
    }
}

impl FollowEvents for EventsRuntime {
    fn read_after(
        &self,
        types: &[String],
        tags: &[String],
        after: u64,
        limit: usize,
    ) -> Result<Vec<FollowedEvent>> {
        let query = Query {
            items: vec![QueryItem {
                types: types.to_vec(),
                tags: tags.to_vec(),
            }],
        };
        self.store
            .read(&query, ReadOptions::forward(after + 1, limit as u64))?
            .into_iter()
            .map(|event| {
                Ok(FollowedEvent {
                    position: event.position,
                    json: serde_json::to_string(&event)?,
                })
            })
            .collect()
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.store.watch_head()
    }
}

impl Runtime for EventsRuntime {
    fn start(self: Arc<Self>) {
        EventsRuntime::start(&self);
    }

    fn module_swapped(self: Arc<Self>, module: &str) {
        self.start_module(module);
    }

    fn apply(self: Arc<Self>, manifest: &Manifest) -> BoxFuture<'static, Result<()>> {
        let settings = crate::settings::effect_settings(manifest);
        Box::pin(async move {
            self.apply_effect_settings(settings?).await;
            Ok(())
        })
    }

    fn shutdown(self: Arc<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move { EventsRuntime::shutdown(&self).await })
    }

    fn routes(self: Arc<Self>, closing: Closing) -> axum::Router {
        crate::api::routes(self, closing)
    }

    fn states(&self) -> Vec<ModuleState> {
        let projectors = self.projectors().into_iter().map(|p| {
            let (state, stopped) = match p.state {
                ProjectorState::Stopped { error } => ("stopped", Some(error)),
                ProjectorState::Starting => ("starting", None),
                ProjectorState::CatchingUp => ("catching-up", None),
                ProjectorState::Rebuilding => ("rebuilding", None),
                ProjectorState::Live => ("live", None),
            };
            ModuleState {
                module: p.name,
                state: state.to_owned(),
                stopped,
                retrying: None,
            }
        });
        let effects = self.effects().into_iter().map(|e| ModuleState {
            module: e.name,
            state: if e.stopped.is_some() {
                "stopped"
            } else {
                "running"
            }
            .to_owned(),
            stopped: e.stopped,
            retrying: e.retrying,
        });
        projectors.chain(effects).collect()
    }

    fn as_any(self: Arc<Self>) -> Arc<dyn std::any::Any + Send + Sync> {
        self
    }
}

/// Runs `sql` on a database opened read-only: a query cannot change it.
pub fn query_database(path: &std::path::Path, sql: &str, params: &[Value]) -> Result<Rows> {
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

/// A JSON parameter as an SQL value: numbers stay numbers, booleans become
/// 0 and 1, arrays and objects their JSON text.
fn json_to_value(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Integer(i64::from(*b)),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Real(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::Text(s.clone()),
        other => Value::Text(other.to_string()),
    }
}

/// Publishes each append another engine made to the shared store as an
/// observation, as this engine's own appends are (the Events pane and
/// `wbx run` follow the log by them), until `stop`.
async fn publish_arrivals(
    engine: Arc<Engine>,
    mut arrivals: tokio::sync::broadcast::Receiver<crate::store::Arrival>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let arrival = tokio::select! {
            arrival = arrivals.recv() => arrival,
            _ = stop.changed() => return,
        };
        match arrival {
            Ok(arrival) => EventsObservation::Arrived {
                first: arrival.first,
                last: arrival.last,
            }
            .publish(&engine),
            // Missed some: the next one carries the head, which is what
            // followers use.
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        }
    }
}
