//! Running an effect: events routed by partition key to one of N keyed
//! lanes or to the global lane, each lane handling its events in order with
//! its own instance, failures retried with backoff, and the effect's
//! position saved as the highest contiguous acknowledged one.
//!
//! Lanes finish out of order; the saved position only moves past an event
//! once it and every event before it are acknowledged, so a restart never
//! skips an unhandled event (it may handle again one that finished after
//! the mark, which is why effects are at-least-once: make them idempotent,
//! for example with idempotency keys on the commands they execute).
//!
//! An effect runs on one engine at a time of those sharing the event store:
//! it first takes the store's lease on its name (at once on SQLite; on
//! PostgreSQL it waits while another engine holds it, and takes over when
//! that engine stops or dies). Its mark is kept in the store too, so the
//! engine that takes over goes on from where the other left off.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use rusqlite::Connection;
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use wbx_core::capability::{CommandGrant, ExecuteCommand};
use wbx_core::host_http::OutsideHosts;
use wbx_core::sync::lock;
use wbx_core::{Engine, Extensions, InstanceSetup};

use crate::command::{to_guest, to_query};
use crate::envelope::StoredEvent;
use crate::host_sql::{ModuleDatabase, open_database};
use crate::instances::EffectInstance;
use crate::observe::EventsObservation;
use crate::position::{EFFECT, wait_for_new_version};
use crate::query::ReadOptions;
use crate::store::{EventStore, Lease};

/// Events read from the log at a time.
const BATCH: u64 = 500;
/// Events dispatched and not yet acknowledged, over all lanes, before the
/// dispatcher waits. Lanes have no queue limit of their own, so a lane stuck
/// retrying never holds up the others; this window bounds what it can
/// gather meanwhile.
const WINDOW: usize = 1024;

/// How effects run: lanes, retry backoff, and the hosts each may reach
/// over HTTP (`wbx.toml`, `[effects]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectSettings {
    pub keyed_lanes: usize,
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// Effect name → hosts (`host` or `host:port`) it may send requests to.
    pub allow_http: BTreeMap<String, Vec<String>>,
}

impl Default for EffectSettings {
    fn default() -> Self {
        EffectSettings {
            keyed_lanes: 8,
            retry_initial: Duration::from_secs(1),
            retry_max: Duration::from_secs(600),
            allow_http: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EffectStatus {
    pub name: String,
    /// Every event up to here is acknowledged.
    pub position: u64,
    /// Positions handed to lanes and not yet acknowledged.
    pub in_flight: Vec<u64>,
    /// The last failure, while an event is being retried.
    pub retrying: Option<String>,
    /// Why the effect is not running, when it is not.
    pub stopped: Option<String>,
}

pub type EffectStatuses = Arc<Mutex<std::collections::BTreeMap<String, EffectStatus>>>;

/// The acknowledgement mark: the position below which everything is done.
struct Marks {
    saved: u64,
    dispatched: u64,
    in_flight: BTreeSet<u64>,
}

impl Marks {
    /// The highest position with nothing unacknowledged at or below it.
    fn contiguous(&self) -> u64 {
        match self.in_flight.first() {
            Some(&lowest) => lowest - 1,
            None => self.dispatched,
        }
    }
}

pub(crate) struct Effect {
    pub name: String,
    pub database: PathBuf,
    pub engine: Arc<Engine>,
    pub store: EventStore,
    pub commands: Arc<dyn ExecuteCommand>,
    pub settings: EffectSettings,
    pub statuses: EffectStatuses,
}

struct Shared {
    name: String,
    database: PathBuf,
    /// Keeps the mark where the next engine to hold the lease finds it.
    store: EventStore,
    marks: Mutex<Marks>,
    statuses: EffectStatuses,
    /// Signalled on every acknowledgement, for a dispatcher at the window.
    acked: tokio::sync::Notify,
}

impl Shared {
    fn publish_status(&self, retrying: Option<String>, stopped: Option<String>) {
        let marks = lock(&self.marks);
        let mut statuses = lock(&self.statuses);
        let previous = statuses.get(&self.name);
        let status = EffectStatus {
            name: self.name.clone(),
            position: marks.saved,
            in_flight: marks.in_flight.iter().copied().collect(),
            retrying: retrying.or_else(|| previous.and_then(|p| p.retrying.clone())),
            stopped,
        };
        statuses.insert(self.name.clone(), status);
    }

    fn clear_retrying(&self) {
        let mut statuses = lock(&self.statuses);
        if let Some(status) = statuses.get_mut(&self.name) {
            status.retrying = None;
        }
    }

    /// Acknowledges `position` and saves the new contiguous mark.
    fn ack(&self, conn: &Connection, position: u64) -> Result<()> {
        lock(&self.marks).in_flight.remove(&position);
        self.acked.notify_one();
        self.settle(conn)
    }

    fn in_flight(&self) -> usize {
        lock(&self.marks).in_flight.len()
    }

    /// Saves the contiguous mark if it moved. The save happens under the
    /// lock, so two lanes can never write their marks out of order.
    fn settle(&self, conn: &Connection) -> Result<()> {
        {
            let mut marks = lock(&self.marks);
            let mark = marks.contiguous();
            if mark > marks.saved {
                EFFECT.save(conn, mark)?;
                self.store.save_effect_mark(&self.name, mark)?;
                marks.saved = mark;
            }
        }
        self.publish_status(None, None);
        Ok(())
    }
}

fn lane_for(key: Option<&str>, keyed_lanes: usize) -> usize {
    match key {
        None => 0,
        Some(key) => {
            let mut hasher = DefaultHasher::new();
            key.hash(&mut hasher);
            1 + (hasher.finish() % keyed_lanes.max(1) as u64) as usize
        }
    }
}

enum Ended {
    Stop,
    NewVersion,
    LeaseLost,
}

impl Effect {
    /// Runs until `stop` turns true; a new version of the module takes over
    /// once the lanes have finished what they hold.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut versions = self.engine.watch_versions();
        let Some(mut lease) = self.take_lease(&mut stop).await else {
            return;
        };
        loop {
            versions.mark_unchanged();
            let running = self.engine.version_of(&self.name);
            match self.run_version(&mut stop, &mut versions, &mut lease).await {
                Ok(Ended::Stop) => return,
                Ok(Ended::NewVersion) => continue,
                Ok(Ended::LeaseLost) => {
                    self.set_stopped(
                        "lost its lease on the shared event store (the connection broke); \
                         waiting to take it again"
                            .to_owned(),
                    );
                    match self.take_lease(&mut stop).await {
                        Some(again) => lease = again,
                        None => return,
                    }
                }
                Err(error) => {
                    self.set_stopped(format!("{error:#}"));
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

    /// The store's lease on this effect, waited for (its status says so
    /// while another engine holds it); `None` when asked to stop first.
    /// A failure to take it is retried: the effect must not run without it.
    async fn take_lease(&self, stop: &mut watch::Receiver<bool>) -> Option<Lease> {
        let name = format!("effect:{}", self.name);
        let mut delay = Duration::from_millis(200);
        loop {
            let waiting = async {
                // Shown only when the lease is not there at once.
                tokio::time::sleep(Duration::from_millis(500)).await;
                let why = "another engine sharing the event store runs this effect; \
                           this one takes over when that one stops";
                self.set_not_running(why.to_owned());
                EventsObservation::EffectWaiting {
                    module: self.name.clone(),
                    why: why.to_owned(),
                }
                .publish(&self.engine);
                std::future::pending::<()>().await
            };
            let taken = tokio::select! {
                taken = self.store.lease(&name) => taken,
                _ = waiting => unreachable!("waiting never ends"),
                _ = stop.changed() => return None,
            };
            match taken {
                Ok(lease) => return Some(lease),
                Err(error) => {
                    self.set_not_running(format!("cannot take its lease: {error:#}"));
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = stop.changed() => return None,
                    }
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    /// Records in its status why the effect does not run.
    fn set_not_running(&self, why: String) {
        let mut statuses = lock(&self.statuses);
        let status = statuses
            .entry(self.name.clone())
            .or_insert_with(|| EffectStatus {
                name: self.name.clone(),
                position: 0,
                in_flight: Vec::new(),
                retrying: None,
                stopped: None,
            });
        status.stopped = Some(why);
    }

    /// Records and publishes that the effect cannot run, and why.
    fn set_stopped(&self, error: String) {
        self.set_not_running(error.clone());
        EventsObservation::EffectStopped {
            module: self.name.clone(),
            error,
        }
        .publish(&self.engine);
    }

    async fn run_version(
        &self,
        stop: &mut watch::Receiver<bool>,
        versions: &mut watch::Receiver<u64>,
        lease: &mut Lease,
    ) -> Result<Ended> {
        let conn = open_database(&self.database)?;
        // Another engine may have run it further meanwhile.
        let shared_mark = self.store.effect_mark(&self.name)?.unwrap_or(0);
        let position = EFFECT.read(&conn)?.max(shared_mark);
        let version = self.engine.version_of(&self.name);
        let shared = Arc::new(Shared {
            name: self.name.clone(),
            database: self.database.clone(),
            store: self.store.clone(),
            marks: Mutex::new(Marks {
                saved: position,
                dispatched: position,
                in_flight: BTreeSet::new(),
            }),
            statuses: self.statuses.clone(),
            acked: tokio::sync::Notify::new(),
        });
        shared.publish_status(None, None);
        EventsObservation::EffectStarted {
            module: self.name.clone(),
            position,
        }
        .publish(&self.engine);

        // The dispatcher's own instance answers `subscription` and `partition-key`.
        let mut router =
            EffectInstance::new(&self.engine, &self.name, self.setup(&self.database)?).await?;
        let query = to_query(router.subscription().await?);
        query
            .validate()
            .map_err(|e| anyhow!("effect '{}' subscribes with a bad query: {e}", self.name))?;

        let lanes: Vec<_> = (0..=self.settings.keyed_lanes)
            .map(|_| {
                let (tx, rx) = mpsc::unbounded_channel::<StoredEvent>();
                let lane = Lane {
                    effect: self.name.clone(),
                    engine: self.engine.clone(),
                    commands: self.commands.clone(),
                    outside_hosts: self.outside_hosts(),
                    retry_initial: self.settings.retry_initial,
                    retry_max: self.settings.retry_max,
                    shared: shared.clone(),
                };
                (tx, tokio::spawn(lane.run(rx, stop.clone())))
            })
            .collect();

        let mut head = self.store.watch_head();
        let mut next_from = position + 1;
        let ended = 'dispatch: loop {
            if *stop.borrow() {
                break Ok(Ended::Stop);
            }
            if self.engine.version_of(&self.name) != version {
                break Ok(Ended::NewVersion);
            }
            if lease.is_lost() {
                break Ok(Ended::LeaseLost);
            }
            head.mark_unchanged();
            let head_seen = self.store.head();
            let batch = self
                .store
                .read(&query, ReadOptions::forward(next_from, BATCH))?;
            let complete = (batch.len() as u64) < BATCH;
            for event in batch {
                // A failing partition key sends the event to the global lane
                // (the failure is reported as a failed call) and spends the
                // router, so the next event gets a fresh one.
                let key = match router.partition_key(&to_guest(&event)).await {
                    Ok(key) => key,
                    Err(_) => {
                        router = EffectInstance::new(
                            &self.engine,
                            &self.name,
                            self.setup(&self.database)?,
                        )
                        .await?;
                        None
                    }
                };
                let lane = lane_for(key.as_deref(), self.settings.keyed_lanes);
                let position = event.position;
                // At the window: wait for an acknowledgement, or the stop.
                while shared.in_flight() >= WINDOW && !*stop.borrow() {
                    tokio::select! {
                        _ = shared.acked.notified() => {}
                        _ = stop.changed() => {}
                    }
                }
                if *stop.borrow() {
                    break 'dispatch Ok(Ended::Stop);
                }
                {
                    let mut marks = lock(&shared.marks);
                    marks.in_flight.insert(position);
                    marks.dispatched = position;
                }
                next_from = position + 1;
                if lanes[lane].0.send(event).is_err() {
                    break 'dispatch Err(anyhow!("effect '{}': lane {lane} ended", self.name));
                }
            }
            if complete {
                // Everything up to the head read at is dispatched.
                {
                    let mut marks = lock(&shared.marks);
                    marks.dispatched = marks.dispatched.max(head_seen);
                }
                next_from = next_from.max(head_seen + 1);
                shared.settle(&conn)?;
                tokio::select! {
                    _ = stop.changed() => {}
                    _ = versions.changed() => {}
                    _ = head.changed() => {}
                    _ = lease.lost() => {}
                }
            }
        };
        // Let the lanes finish what they hold, then hand over.
        for (tx, task) in lanes {
            drop(tx);
            let _ = task.await;
        }
        ended
    }

    fn setup(&self, database: &std::path::Path) -> Result<InstanceSetup> {
        setup_for(database, &self.commands, &self.outside_hosts())
    }

    fn outside_hosts(&self) -> OutsideHosts {
        OutsideHosts {
            hosts: self
                .settings
                .allow_http
                .get(&self.name)
                .cloned()
                .unwrap_or_default(),
        }
    }
}

/// What an effect's instance gets: its database, the right to execute
/// commands, and the hosts it may reach.
fn setup_for(
    database: &std::path::Path,
    commands: &Arc<dyn ExecuteCommand>,
    outside_hosts: &OutsideHosts,
) -> Result<InstanceSetup> {
    Ok(InstanceSetup {
        outside_hosts: outside_hosts.clone(),
        extensions: Extensions::default()
            .with(ModuleDatabase::open(database)?)
            .with(CommandGrant {
                executor: commands.clone(),
                correlation_id: None,
                triggering_event_id: None,
            }),
        ..InstanceSetup::default()
    })
}

/// One lane: its own instance, its events in order, retries with backoff.
struct Lane {
    effect: String,
    engine: Arc<Engine>,
    commands: Arc<dyn ExecuteCommand>,
    outside_hosts: OutsideHosts,
    retry_initial: Duration,
    retry_max: Duration,
    shared: Arc<Shared>,
}

impl Lane {
    /// Handles events until the dispatcher closes the queue. A stop ends a
    /// retry wait: the event stays unacknowledged and is handled again on
    /// the next start.
    async fn run(
        self,
        mut events: mpsc::UnboundedReceiver<StoredEvent>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut versions = self.engine.watch_versions();
        let conn = match open_database(&self.shared.database) {
            Ok(conn) => conn,
            Err(error) => return self.stopped(format!("cannot open its database: {error:#}")),
        };
        let mut instance = None;
        while let Some(event) = events.recv().await {
            let mut attempt = 0;
            let mut backoff = self.retry_initial;
            loop {
                attempt += 1;
                match self.handle(&mut instance, &event).await {
                    Ok(()) => break,
                    Err(error) => {
                        // A trap spends the instance: take a fresh one next time.
                        instance = None;
                        let error = format!("{error:#}");
                        self.shared.publish_status(
                            Some(format!("position {}: {error}", event.position)),
                            None,
                        );
                        EventsObservation::EffectRetrying {
                            module: self.effect.clone(),
                            position: event.position,
                            attempt,
                            error,
                        }
                        .publish(&self.engine);
                        // A new version (a fix) ends the wait: retry with it now.
                        tokio::select! {
                            _ = tokio::time::sleep(backoff) => {}
                            _ = versions.changed() => backoff = self.retry_initial,
                            _ = stop.changed() => return,
                        }
                        backoff = (backoff * 2).min(self.retry_max);
                    }
                }
            }
            self.shared.clear_retrying();
            if let Err(error) = self.shared.ack(&conn, event.position) {
                return self.stopped(format!("cannot save the position: {error:#}"));
            }
        }
    }

    /// The lane cannot go on: the effect's status and the stream say why.
    fn stopped(&self, error: String) {
        self.shared.publish_status(None, Some(error.clone()));
        EventsObservation::EffectStopped {
            module: self.effect.clone(),
            error,
        }
        .publish(&self.engine);
    }

    async fn handle(
        &self,
        instance: &mut Option<EffectInstance>,
        event: &StoredEvent,
    ) -> Result<()> {
        if instance.is_none() {
            let setup = setup_for(&self.shared.database, &self.commands, &self.outside_hosts)?;
            *instance = Some(EffectInstance::new(&self.engine, &self.effect, setup).await?);
        }
        let guest = instance.as_mut().context("effect instance")?;
        if let Some(grant) = guest.grant() {
            grant.correlation_id = event
                .correlation_id
                .clone()
                .or_else(|| Some(event.id.clone()));
            grant.triggering_event_id = Some(event.id.clone());
        }
        guest
            .handle(&to_guest(event))
            .await?
            .map_err(|e| anyhow!("the effect returned an error: {e}"))
    }
}
