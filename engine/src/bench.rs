//! `wbx bench`: built-in scenarios, each measured next to its bare baseline
//! in the same run, with guests built from this repository's sources.
//!
//! | scenario | value | baseline (the limit) |
//! |---|---|---|
//! | `command-execution` | command executions/s: fresh instance, DCB read, fold, conditional append | instantiate + one SQLite append transaction |
//! | `projector-replay` | events/s replayed by the projector runtime into its read model | the same guest handler called on the same batches, each in a transaction |
//! | `replay` | events/s of `wbx replay`: the same history into a scratch read model | the same as `projector-replay`'s |
//! | `store-append` | conditional single-event appends/s | one plain SQLite insert transaction per event |
//! | `cache-load` | component loads/s from the compiled cache | cold compiles/s of the same component |
//! | `hot-swap` | swaps/s of a new version into a running engine (cargo excluded) | cold compiles/s of that version |
//!
//! Each is run several times; the median is reported with the spread.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::engine::{Engine, EngineConfig};
use crate::events::command::{CommandRequest, to_guest};
use crate::events::projector::{begin, finish};
use crate::events::{
    AppendCondition, AppendMeta, EventsRuntime, NewEvent, Query, QueryItem, ReadOptions,
};
use crate::host_sql::open_database;
use crate::host_state::InstanceOptions;
use crate::kind::ModuleKind;
use crate::limits::Limits;
use crate::project::StateLayout;
use crate::replay::{History, Replayer};

pub const SCENARIOS: [&str; 6] = [
    "command-execution",
    "projector-replay",
    "replay",
    "store-append",
    "cache-load",
    "hot-swap",
];

/// One scenario's result: `ratio = value / baseline`, higher is better.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    pub scenario: String,
    pub value: f64,
    pub unit: String,
    pub baseline: f64,
    pub ratio: f64,
    /// Smallest and largest value over the repetitions.
    #[serde(skip)]
    pub spread: (f64, f64),
}

#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Names from [`SCENARIOS`]; empty runs them all.
    pub scenarios: Vec<String>,
    /// Repetitions of each measurement; the median is reported.
    pub repetitions: usize,
    /// Work per repetition, as a fraction of the full size (tests use a tiny one).
    pub scale: f64,
}

/// The guest components the scenarios run.
pub struct Guests {
    pub counter: Vec<u8>,
    pub ledger: Vec<u8>,
    pub greeter: Vec<u8>,
    pub greeter_v2: Vec<u8>,
}

/// Builds the benchmark guests from this repository's sources (release
/// profile) and reads them.
pub fn build_guests(target_dir: &Path) -> Result<Guests> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guests/Cargo.toml");
    if !manifest.is_file() {
        bail!(
            "wbx bench builds its guests from the wbx repository, and {} is gone",
            manifest.display()
        );
    }
    let status =
        std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args([
                "build",
                "--quiet",
                "--release",
                "--target",
                crate::guest_build::GUEST_TARGET,
            ])
            .arg("--manifest-path")
            .arg(&manifest)
            .env("CARGO_TARGET_DIR", target_dir)
            .status()
            .context("cannot run cargo to build the benchmark guests")?;
    if !status.success() {
        bail!("building the benchmark guests failed");
    }
    let dir = target_dir.join("wasm32-wasip2/release");
    let read = |name: &str| {
        let path = dir.join(format!("{name}.wasm"));
        std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
    };
    Ok(Guests {
        counter: read("counter")?,
        ledger: read("ledger_v2")?,
        greeter: read("greeter")?,
        greeter_v2: read("greeter_v2")?,
    })
}

/// Runs the selected scenarios, reporting each result as it is measured.
pub async fn run(
    guests: &Guests,
    options: &BenchOptions,
    mut report: impl FnMut(&Measurement),
) -> Result<()> {
    for name in &options.scenarios {
        if !SCENARIOS.contains(&name.as_str()) {
            bail!(
                "no scenario named '{name}'; scenarios: {}",
                SCENARIOS.join(", ")
            );
        }
    }
    let selected =
        |name: &str| options.scenarios.is_empty() || options.scenarios.iter().any(|s| s == name);
    let size = |full: f64| ((full * options.scale).ceil() as usize).max(1);
    let reps = options.repetitions.max(1);

    if selected("command-execution") {
        let n = size(2_000.0);
        let value = median(reps, || command_execution(guests, n)).await?;
        let baseline = median(reps, || instantiate_and_insert(guests, n)).await?;
        report(&measurement(
            "command-execution",
            "executions/s",
            value,
            baseline,
        ));
    }
    if selected("projector-replay") || selected("replay") {
        // One baseline for both: the same handler over the same history.
        let n = size(50_000.0);
        let baseline = median(reps, || handler_loop(guests, n)).await?;
        if selected("projector-replay") {
            let value = median(reps, || projector_replay(guests, n)).await?;
            report(&measurement(
                "projector-replay",
                "events/s",
                value,
                baseline,
            ));
        }
        if selected("replay") {
            let value = median(reps, || scratch_replay(guests, n)).await?;
            report(&measurement("replay", "events/s", value, baseline));
        }
    }
    if selected("store-append") {
        let n = size(5_000.0);
        let value = median(reps, || async move { store_append(n) }).await?;
        let baseline = median(reps, || async move { sqlite_inserts(n) }).await?;
        report(&measurement("store-append", "appends/s", value, baseline));
    }
    if selected("cache-load") {
        let (value, baseline) = median_pair(reps, || cache_load(&guests.greeter)).await?;
        report(&measurement("cache-load", "loads/s", value, baseline));
    }
    if selected("hot-swap") {
        let (value, baseline) = median_pair(reps, || hot_swap(guests)).await?;
        report(&measurement("hot-swap", "swaps/s", value, baseline));
    }
    Ok(())
}

/// A scenario's result from the summaries of its value and its baseline.
pub fn measurement(
    scenario: &str,
    unit: &str,
    value: (f64, (f64, f64)),
    baseline: (f64, (f64, f64)),
) -> Measurement {
    Measurement {
        scenario: scenario.to_owned(),
        value: value.0,
        unit: unit.to_owned(),
        baseline: baseline.0,
        ratio: value.0 / baseline.0,
        spread: value.1,
    }
}

/// The median of `reps` runs, and the smallest and largest.
async fn median<F, Fut>(reps: usize, mut run: F) -> Result<(f64, (f64, f64))>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<f64>>,
{
    let mut values = Vec::with_capacity(reps);
    for _ in 0..reps {
        values.push(run().await?);
    }
    Ok(summarize(values))
}

/// [`median`] for scenarios that measure value and baseline together.
async fn median_pair<F, Fut>(
    reps: usize,
    mut run: F,
) -> Result<((f64, (f64, f64)), (f64, (f64, f64)))>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(f64, f64)>>,
{
    let (mut values, mut baselines) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let (value, baseline) = run().await?;
        values.push(value);
        baselines.push(baseline);
    }
    Ok((summarize(values), summarize(baselines)))
}

/// The median of `values`, and their smallest and largest.
pub fn summarize(mut values: Vec<f64>) -> (f64, (f64, f64)) {
    values.sort_by(|a, b| a.total_cmp(b));
    (
        values[values.len() / 2],
        (values[0], values[values.len() - 1]),
    )
}

pub fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// A scratch state directory and an engine without caches.
struct Scratch {
    _dir: tempfile::TempDir,
    state: StateLayout,
    engine: Arc<Engine>,
}

fn scratch() -> Result<Scratch> {
    let dir = tempfile::tempdir()?;
    let state = StateLayout::new(dir.path().join(".wbx"));
    state.create()?;
    let engine = Arc::new(Engine::new(EngineConfig {
        cache_dir: None,
        log_dir: None,
        limits: Limits::default(),
    })?);
    Ok(Scratch {
        _dir: dir,
        state,
        engine,
    })
}

fn counter_input(i: usize) -> String {
    format!(r#"{{"id":"c{}","by":1}}"#, i % 100)
}

async fn command_execution(guests: &Guests, n: usize) -> Result<f64> {
    let s = scratch()?;
    s.engine
        .load("counter", ModuleKind::Command, "0.1.0", &guests.counter)?;
    let runtime = EventsRuntime::open(s.engine.clone(), s.state.clone(), Default::default())?;
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
async fn instantiate_and_insert(guests: &Guests, n: usize) -> Result<f64> {
    let s = scratch()?;
    s.engine
        .load("counter", ModuleKind::Command, "0.1.0", &guests.counter)?;
    let conn = plain_table(&s.state.dir().join("plain.sqlite"))?;
    let start = Instant::now();
    for i in 0..n {
        let _instance = s.engine.instantiate("counter").await?;
        plain_insert(&conn, i)?;
    }
    Ok(per_second(n, start.elapsed()))
}

fn plain_table(path: &Path) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE events (position INTEGER PRIMARY KEY, type TEXT, tags TEXT, data TEXT);",
    )?;
    Ok(conn)
}

fn plain_insert(conn: &rusqlite::Connection, i: usize) -> Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    conn.prepare_cached(
        "INSERT INTO events (type, tags, data) VALUES ('Incremented', ?, '{\"by\":1}')",
    )?
    .execute([format!("counter:c{}", i % 100)])?;
    conn.execute_batch("COMMIT")?;
    Ok(())
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
fn ledger_over(guests: &Guests, n: usize) -> Result<(Scratch, Arc<EventsRuntime>)> {
    let s = scratch()?;
    s.engine
        .load("ledger", ModuleKind::Projector, "0.1.0", &guests.ledger)?;
    let runtime = EventsRuntime::open(s.engine.clone(), s.state.clone(), Default::default())?;
    for chunk in increments(n).chunks(1000) {
        runtime
            .store()
            .append(chunk, None, &AppendMeta::default())?;
    }
    Ok((s, runtime))
}

async fn projector_replay(guests: &Guests, n: usize) -> Result<f64> {
    let (_scratch, runtime) = ledger_over(guests, n)?;
    let head = runtime.store().head();
    let start = Instant::now();
    runtime.start();
    loop {
        let done = runtime
            .projectors()
            .first()
            .is_some_and(|p| p.position >= head);
        if done {
            break;
        }
        if let Some(error) = runtime.projectors().iter().find_map(|p| match &p.state {
            crate::events::projector::ProjectorState::Stopped { error } => Some(error.clone()),
            _ => None,
        }) {
            bail!("the projector stopped: {error}");
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    let elapsed = start.elapsed();
    runtime.shutdown().await;
    Ok(per_second(n, elapsed))
}

/// `wbx replay`: the same history through a scratch read model.
async fn scratch_replay(guests: &Guests, n: usize) -> Result<f64> {
    let (s, runtime) = ledger_over(guests, n)?;
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
async fn handler_loop(guests: &Guests, n: usize) -> Result<f64> {
    let (s, runtime) = ledger_over(guests, n)?;
    let events: Vec<_> = runtime
        .store()
        .read(&Query::all(), ReadOptions::default())?
        .iter()
        .map(to_guest)
        .collect();
    let options = InstanceOptions {
        database: Some(open_database(&s.state.projector_db("ledger"))?),
        ..InstanceOptions::default()
    };
    let mut instance = s.engine.instantiate_with("ledger", options).await?;
    begin(&mut instance)?;
    let initialized = instance.projector_init().await;
    finish(&mut instance, initialized)?;
    let start = Instant::now();
    for batch in events.chunks(crate::events::projector::BATCH as usize) {
        begin(&mut instance)?;
        let handled = instance.projector_handle(batch).await;
        finish(&mut instance, handled)?;
    }
    Ok(per_second(n, start.elapsed()))
}

fn store_append(n: usize) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let store = crate::events::EventStore::open(&dir.path().join("events.sqlite"))?;
    let start = Instant::now();
    for (i, event) in increments(n).into_iter().enumerate() {
        let condition = AppendCondition {
            fail_if_events_match: Query::new(vec![QueryItem::tags([format!(
                "counter:c{}",
                i % 100
            )])]),
            after: Some(store.head()),
        };
        store.append(&[event], Some(&condition), &AppendMeta::default())?;
    }
    Ok(per_second(n, start.elapsed()))
}

fn sqlite_inserts(n: usize) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let conn = plain_table(&dir.path().join("plain.sqlite"))?;
    let start = Instant::now();
    for i in 0..n {
        plain_insert(&conn, i)?;
    }
    Ok(per_second(n, start.elapsed()))
}

/// Loads/s from the cache, and cold compiles/s of the same bytes.
async fn cache_load(bytes: &[u8]) -> Result<(f64, f64)> {
    let dir = tempfile::tempdir()?;
    let config = || EngineConfig {
        cache_dir: Some(PathBuf::from(dir.path())),
        log_dir: None,
        limits: Limits::default(),
    };
    let cold = Engine::new(config())?.swap("m", ModuleKind::Command, "0.1.0", bytes)?;
    let warm = Engine::new(config())?.swap("m", ModuleKind::Command, "0.1.0", bytes)?;
    if !warm.compile.cache_hit {
        bail!("the second load missed the cache");
    }
    Ok((
        per_second(1, warm.compile.compile_time),
        per_second(1, cold.compile.compile_time),
    ))
}

/// A running module replaced by a version never compiled before.
async fn hot_swap(guests: &Guests) -> Result<(f64, f64)> {
    let cold = scratch()?;
    let compile = Instant::now();
    cold.engine
        .load("greeter", ModuleKind::Command, "0.2.0", &guests.greeter_v2)?;
    let compile = compile.elapsed();

    let s = scratch()?;
    s.engine
        .load("greeter", ModuleKind::Command, "0.1.0", &guests.greeter)?;
    let _in_flight = s.engine.instantiate("greeter").await?;
    let start = Instant::now();
    s.engine
        .swap("greeter", ModuleKind::Command, "0.2.0", &guests.greeter_v2)?;
    let _serving = s.engine.instantiate("greeter").await?;
    Ok((per_second(1, start.elapsed()), per_second(1, compile)))
}
