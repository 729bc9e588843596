//! The events model's `wbx bench` scenarios, each measured next to its bare
//! baseline in the same run. Value and baseline alternate within each
//! repetition, so a machine that slows down slows both.
//!
//! | scenario | value | baseline (the limit) |
//! |---|---|---|
//! | `command-execution` | command executions/s: fresh instance, DCB read, fold, conditional append | instantiate + one SQLite append transaction |
//! | `projector-replay` | events/s replayed by the projector runtime into its read model | the same guest handler called on the same batches, each in a transaction |
//! | `replay` | events/s of `wbx replay`: the same history into a scratch read model | the same as `projector-replay`'s |
//! | `store-append` | conditional single-event appends/s | one plain SQLite insert transaction per event |
//! | `store-append-concurrent-W` | the same from W = 1, 8, 64 writer threads at once | W threads each making plain insert transactions |
//!
//! With `--store postgres://…` (`BenchOptions::store`) every store and
//! every baseline's table are on that PostgreSQL server instead, each run
//! in a scratch database it creates and drops ([`ScratchDatabase`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use wbx_core::bench::{
    BenchFuture, BenchGroup, BenchGuests, BenchOptions, BenchRun, measurement, median_pair,
    per_second, summarize,
};
use wbx_core::project::StateLayout;
use wbx_core::{Catalog, Engine, EngineConfig, Limits};

use crate::command::{CommandRequest, to_guest};
use crate::instances::ProjectorInstance;
use crate::kinds::{COMMAND, KINDS, PROJECTOR};
use crate::layout::EventsLayout;
use crate::projector::{begin, finish, with_database};
use crate::replay::{History, Replayer};
use crate::store::postgres::ScratchDatabase;
use crate::{
    AppendCondition, AppendMeta, EventStore, EventsRuntime, NewEvent, Query, QueryItem,
    ReadOptions, StoreLocation, host_sql::open_database,
};

/// The events model's scenarios.
pub fn groups() -> Vec<BenchGroup> {
    vec![BenchGroup {
        names: &[
            "command-execution",
            "projector-replay",
            "replay",
            "store-append",
            "store-append-concurrent-1",
            "store-append-concurrent-8",
            "store-append-concurrent-64",
        ],
        run: run_group,
    }]
}

fn run_group(run: BenchRun<'_>) -> BenchFuture<'_> {
    Box::pin(async move {
        let BenchRun {
            guests,
            options,
            report,
        } = run;
        let reps = options.reps();
        if options.selected("command-execution") {
            let n = options.size(2_000.0);
            let (value, baseline) = median_pair(reps, || async move {
                Ok((
                    command_execution(guests, options, n).await?,
                    instantiate_and_insert(guests, options, n).await?,
                ))
            })
            .await?;
            report(&measurement(
                "command-execution",
                "executions/s",
                value,
                baseline,
            ));
        }
        let projector = options.selected("projector-replay");
        let scratch = options.selected("replay");
        if projector || scratch {
            // One baseline for both: the same handler over the same history.
            let n = options.size(50_000.0);
            let (mut baselines, mut projected, mut replayed) = (vec![], vec![], vec![]);
            for _ in 0..reps {
                baselines.push(handler_loop(guests, options, n).await?);
                if projector {
                    projected.push(projector_replay(guests, options, n).await?);
                }
                if scratch {
                    replayed.push(scratch_replay(guests, options, n).await?);
                }
            }
            let baseline = summarize(baselines);
            if projector {
                let value = summarize(projected);
                report(&measurement(
                    "projector-replay",
                    "events/s",
                    value,
                    baseline,
                ));
            }
            if scratch {
                let value = summarize(replayed);
                report(&measurement("replay", "events/s", value, baseline));
            }
        }
        if options.selected("store-append") {
            let n = options.size(5_000.0);
            let (value, baseline) = median_pair(reps, || async move {
                Ok((store_append(options, n)?, plain_inserts(options, n).await?))
            })
            .await?;
            report(&measurement("store-append", "appends/s", value, baseline));
        }
        for writers in WRITERS {
            let name = format!("store-append-concurrent-{writers}");
            if options.selected(&name) {
                let n = options.size(5_000.0).max(writers);
                let (value, baseline) = median_pair(reps, || async move {
                    Ok((
                        concurrent_appends(options, writers, n)?,
                        concurrent_plain_inserts(options, writers, n).await?,
                    ))
                })
                .await?;
                report(&measurement(&name, "appends/s", value, baseline));
            }
        }
        Ok(())
    })
}

/// A scratch state directory, an engine without caches, and where the
/// run's store is: a SQLite file in the directory, or a scratch database
/// on the server `--store` names.
struct Scratch {
    _dir: tempfile::TempDir,
    state: StateLayout,
    engine: Arc<Engine>,
    store: StoreLocation,
    _database: Option<ScratchDatabase>,
}

impl Scratch {
    fn runtime(&self) -> Result<Arc<EventsRuntime>> {
        Ok(EventsRuntime::with_store(
            self.engine.clone(),
            self.state.clone(),
            Default::default(),
            EventStore::connect(&self.store)?,
        ))
    }
}

fn scratch(options: &BenchOptions) -> Result<Scratch> {
    let dir = tempfile::tempdir()?;
    let state = StateLayout::new(dir.path().join(".wbx"));
    state.create()?;
    let engine = Arc::new(Engine::new(EngineConfig {
        cache_dir: None,
        log_dir: None,
        limits: Limits::default(),
        kinds: Catalog::new(KINDS.to_vec()),
    })?);
    let (store, database) = match &options.store {
        None => (StoreLocation::Sqlite(state.events_db()), None),
        Some(url) => {
            let database = ScratchDatabase::create(url)?;
            (
                StoreLocation::Postgres(database.url.clone()),
                Some(database),
            )
        }
    };
    Ok(Scratch {
        _dir: dir,
        state,
        engine,
        store,
        _database: database,
    })
}

fn counter_input(i: usize) -> String {
    format!(r#"{{"id":"c{}","by":1}}"#, i % 100)
}

async fn command_execution(guests: &BenchGuests, options: &BenchOptions, n: usize) -> Result<f64> {
    let s = scratch(options)?;
    s.engine
        .load("counter", COMMAND, "0.1.0", guests.get("counter")?)?;
    let runtime = s.runtime()?;
    let start = Instant::now();
    for i in 0..n {
        let request = CommandRequest {
            command: "counter".into(),
            input: counter_input(i),
            ..CommandRequest::default()
        };
        runtime
            .execute(request)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(per_second(n, start.elapsed()))
}

/// The limit for a command: a fresh instance and one append transaction.
async fn instantiate_and_insert(
    guests: &BenchGuests,
    options: &BenchOptions,
    n: usize,
) -> Result<f64> {
    let s = scratch(options)?;
    s.engine
        .load("counter", COMMAND, "0.1.0", guests.get("counter")?)?;
    let plain = Plain::open(&s).await?;
    let start = Instant::now();
    for i in 0..n {
        let _instance =
            crate::instances::CommandInstance::new(&s.engine, "counter", Default::default())
                .await?;
        plain.insert(i).await?;
    }
    Ok(per_second(n, start.elapsed()))
}

/// The baselines' table of events, on the run's backend, with one plain
/// insert transaction per event.
enum Plain {
    Sqlite(std::sync::Mutex<rusqlite::Connection>),
    Postgres(tokio_postgres::Client, tokio_postgres::Statement),
}

impl Plain {
    async fn open(s: &Scratch) -> Result<Plain> {
        match &s.store {
            StoreLocation::Sqlite(_) => {
                let conn = rusqlite::Connection::open(s.state.dir().join("plain.sqlite"))?;
                conn.execute_batch(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                     CREATE TABLE events (position INTEGER PRIMARY KEY, type TEXT, tags TEXT, \
                     data TEXT);",
                )?;
                Ok(Plain::Sqlite(conn.into()))
            }
            StoreLocation::Postgres(url) => {
                let (client, connection) =
                    tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
                tokio::spawn(connection);
                client
                    .batch_execute(
                        "CREATE TABLE plain_events (position BIGSERIAL PRIMARY KEY, type TEXT, \
                         tags TEXT, data TEXT)",
                    )
                    .await?;
                let insert = client
                    .prepare(
                        "INSERT INTO plain_events (type, tags, data) \
                         VALUES ('Incremented', $1, '{\"by\":1}')",
                    )
                    .await?;
                Ok(Plain::Postgres(client, insert))
            }
        }
    }

    async fn insert(&self, i: usize) -> Result<()> {
        let tag = format!("counter:c{}", i % 100);
        match self {
            Plain::Sqlite(conn) => {
                let conn = wbx_core::sync::lock(conn);
                conn.execute_batch("BEGIN IMMEDIATE")?;
                conn.prepare_cached(
                    "INSERT INTO events (type, tags, data) VALUES ('Incremented', ?, '{\"by\":1}')",
                )?
                .execute([tag])?;
                conn.execute_batch("COMMIT")?;
            }
            // Outside a transaction block, each statement is its own.
            Plain::Postgres(client, insert) => {
                client.execute(insert, &[&tag]).await?;
            }
        }
        Ok(())
    }
}

fn increments(n: usize) -> Vec<NewEvent> {
    (0..n)
        .map(|i| NewEvent {
            event_type: "Incremented".into(),
            tags: vec![format!("counter:c{}", i % 100)],
            data: format!(r#"{{"id":"c{}","by":1}}"#, i % 100),
        })
        .collect()
}

/// The ledger projector loaded over a store of `n` increments.
fn ledger_over(
    guests: &BenchGuests,
    options: &BenchOptions,
    n: usize,
) -> Result<(Scratch, Arc<EventsRuntime>)> {
    let s = scratch(options)?;
    s.engine
        .load("ledger", PROJECTOR, "0.1.0", guests.get("ledger_v2")?)?;
    let runtime = s.runtime()?;
    for chunk in increments(n).chunks(1000) {
        runtime
            .store()
            .append(chunk, None, &AppendMeta::default())?;
    }
    Ok((s, runtime))
}

async fn projector_replay(guests: &BenchGuests, options: &BenchOptions, n: usize) -> Result<f64> {
    let (_scratch, runtime) = ledger_over(guests, options, n)?;
    let head = runtime.store().head();
    let start = Instant::now();
    runtime.start();
    runtime
        .wait_caught_up("ledger", head, Duration::from_secs(600))
        .await?;
    let elapsed = start.elapsed();
    runtime.shutdown().await;
    Ok(per_second(n, elapsed))
}

/// `wbx replay`: the same history through a scratch read model.
async fn scratch_replay(guests: &BenchGuests, options: &BenchOptions, n: usize) -> Result<f64> {
    let (s, runtime) = ledger_over(guests, options, n)?;
    let database = s.state.dir().join("replay.sqlite");
    let mut replayer = Replayer::start(s.engine.clone(), "ledger", &database).await?;
    let mut history = History::store(runtime.store().clone());
    let elapsed = replayer.replay(&mut history, None).await?;
    if replayer.handled != n as u64 {
        bail!("the replay handled {} of {n} events", replayer.handled);
    }
    Ok(per_second(n, elapsed))
}

/// The limit for replay: the handler called on the same batches, each in
/// its own transaction, without reading the store or keeping a position.
async fn handler_loop(guests: &BenchGuests, options: &BenchOptions, n: usize) -> Result<f64> {
    let (s, runtime) = ledger_over(guests, options, n)?;
    let events: Vec<_> = runtime
        .store()
        .read(&Query::all(), ReadOptions::default())?
        .iter()
        .map(to_guest)
        .collect();
    let setup = with_database(open_database(&s.state.projector_db("ledger"))?);
    let mut instance = ProjectorInstance::new(&s.engine, "ledger", setup).await?;
    begin(&mut instance)?;
    let initialized = instance.init().await.map_err(Into::into);
    finish(&mut instance, initialized)?;
    let start = Instant::now();
    for batch in events.chunks(crate::projector::BATCH as usize) {
        begin(&mut instance)?;
        let handled = instance.handle(batch).await.map_err(Into::into);
        finish(&mut instance, handled)?;
    }
    Ok(per_second(n, start.elapsed()))
}

fn store_append(options: &BenchOptions, n: usize) -> Result<f64> {
    let s = scratch(options)?;
    let store = EventStore::connect(&s.store)?;
    let start = Instant::now();
    for i in 0..n {
        append_on(&store, &format!("c{}", i % 100), i)?;
    }
    Ok(per_second(n, start.elapsed()))
}

/// An `Incremented` event of counter `id`, appended on the condition that
/// no event of the counter came after the head as read just before; an
/// error unless it is appended.
fn append_on(store: &EventStore, id: &str, i: usize) -> Result<()> {
    let tag = format!("counter:{id}");
    let event = NewEvent {
        event_type: "Incremented".into(),
        tags: vec![tag.clone()],
        data: format!(r#"{{"id":"{id}","by":1,"i":{i}}}"#),
    };
    let condition = AppendCondition {
        fail_if_events_match: Query::new(vec![QueryItem::tags([tag])]),
        after: Some(store.head()),
    };
    match store.append(&[event], Some(&condition), &AppendMeta::default())? {
        crate::AppendOutcome::Appended { .. } => Ok(()),
        refused => bail!("the append to counter {id} was refused: {refused:?}"),
    }
}

/// The numbers of writers `store-append-concurrent` runs with.
const WRITERS: [usize; 3] = [1, 8, 64];

/// `n` conditional appends from `writers` threads at once, each writer on
/// tags of its own so that no condition fails.
fn concurrent_appends(options: &BenchOptions, writers: usize, n: usize) -> Result<f64> {
    let s = scratch(options)?;
    let store = EventStore::connect(&s.store)?;
    let elapsed = in_threads(writers, n, |writer, i| {
        append_on(&store, &format!("w{writer}"), i)
    })?;
    if store.head() != n as u64 {
        bail!("{} of {n} appends are in the store", store.head());
    }
    Ok(per_second(n, elapsed))
}

/// The limit: `n` plain insert transactions from `writers` threads at once.
async fn concurrent_plain_inserts(options: &BenchOptions, writers: usize, n: usize) -> Result<f64> {
    let s = scratch(options)?;
    let plain = Plain::open(&s).await?;
    let runtime = tokio::runtime::Handle::current();
    let elapsed = in_threads(writers, n, |_, i| runtime.block_on(plain.insert(i)))?;
    Ok(per_second(n, elapsed))
}

/// Runs `work(writer, i)` for `i` in `0..n`, spread over `writers` threads
/// started together; how long it took.
fn in_threads(
    writers: usize,
    n: usize,
    work: impl Fn(usize, usize) -> Result<()> + Sync,
) -> Result<Duration> {
    // The threads block; the runtime's other tasks (a PostgreSQL
    // connection's) move off this one meanwhile.
    tokio::task::block_in_place(|| {
        let start = std::sync::Barrier::new(writers + 1);
        std::thread::scope(|scope| {
            let threads: Vec<_> = (0..writers)
                .map(|writer| {
                    let (start, work) = (&start, &work);
                    scope.spawn(move || {
                        start.wait();
                        (writer..n)
                            .step_by(writers)
                            .try_for_each(|i| work(writer, i))
                    })
                })
                .collect();
            start.wait();
            let clock = Instant::now();
            for thread in threads {
                thread.join().expect("a writer panicked")?;
            }
            Ok(clock.elapsed())
        })
    })
}

async fn plain_inserts(options: &BenchOptions, n: usize) -> Result<f64> {
    let s = scratch(options)?;
    let plain = Plain::open(&s).await?;
    let start = Instant::now();
    for i in 0..n {
        plain.insert(i).await?;
    }
    Ok(per_second(n, start.elapsed()))
}
