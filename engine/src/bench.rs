//! `wbx bench`: the scenarios of every registered model, and the core's own,
//! each measured next to its bare baseline in the same run, with guests
//! built from this repository's sources.
//!
//! The core's scenarios (the models' are listed in their crates):
//!
//! | scenario | value | baseline (the limit) |
//! |---|---|---|
//! | `cache-load` | component loads/s from the compiled cache | cold compiles/s of the same component |
//! | `hot-swap` | swaps/s of a new version into a running engine as `wbx dev` makes them (Winch's code first, where Winch runs; cargo excluded) | cold Cranelift compiles/s of that version |
//! | `instantiate` | `counter` instances/s, each started and its first call made, from wasmtime's pooling allocator | the same from the on-demand allocator wbx runs with (its fiber stacks kept) |
//!
//! Each is run several times, value and baseline in turn within each
//! repetition; the median is reported with the spread.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use wbx_core::bench::{BenchFuture, BenchGroup, BenchGuests, BenchRun, median_pair};
use wbx_core::{Allocator, Engine, EngineConfig, InstanceSetup, Limits, Models, Tier};
use wbx_events::instances::CommandInstance;
use wbx_events::kinds::COMMAND;

use crate::models::models;

pub use wbx_core::bench::{
    BenchGuests as Guests, BenchOptions, Measurement, figure, measurement, per_second, summarize,
};

/// The guest crates of `tests/guests` the scenarios run.
const GUESTS: [&str; 9] = [
    "counter",
    "ledger_v2",
    "greeter",
    "greeter_v2",
    "echo",
    "probe",
    "numbers",
    "stage",
    "collect",
];

/// Every scenario group of `models`, then the core's.
fn groups(models: &Models) -> Vec<BenchGroup> {
    let core = BenchGroup {
        names: &["cache-load", "hot-swap", "instantiate"],
        run: run_core,
    };
    let mut groups: Vec<BenchGroup> = models.iter().flat_map(|m| m.bench()).collect();
    // The models' scenarios first, as `wbx bench` has always listed them.
    groups.push(core);
    groups
}

/// Every scenario's name, in the order they run.
pub fn scenarios() -> Vec<&'static str> {
    scenarios_of(&models())
}

fn scenarios_of(models: &Models) -> Vec<&'static str> {
    groups(models)
        .iter()
        .flat_map(|g| g.names.iter().copied())
        .collect()
}

/// Builds the benchmark guests from this repository's sources (release
/// profile) and reads them.
pub fn build_guests(target_dir: &Path) -> Result<BenchGuests> {
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
                wbx_core::guest_build::GUEST_TARGET,
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
    let mut guests = BenchGuests::default();
    for name in GUESTS {
        let path = dir.join(format!("{name}.wasm"));
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        guests.0.insert(name.to_owned(), bytes);
    }
    Ok(guests)
}

/// Runs the selected scenarios of the registered models and the core,
/// reporting each result as it is measured.
pub async fn run(
    guests: &BenchGuests,
    options: &BenchOptions,
    report: impl FnMut(&Measurement),
) -> Result<()> {
    run_models(&models(), guests, options, report).await
}

/// [`run`] for the scenarios of `models`.
pub async fn run_models(
    models: &Models,
    guests: &BenchGuests,
    options: &BenchOptions,
    mut report: impl FnMut(&Measurement),
) -> Result<()> {
    let known = scenarios_of(models);
    if let Some(name) = options
        .scenarios
        .iter()
        .find(|n| !known.contains(&n.as_str()))
    {
        bail!(
            "no scenario named '{name}'; scenarios: {}",
            known.join(", ")
        );
    }
    for group in groups(models) {
        if group.names.iter().any(|name| options.selected(name)) {
            let run = BenchRun {
                guests,
                options,
                report: &mut report,
            };
            (group.run)(run).await?;
        }
    }
    Ok(())
}

fn run_core(run: BenchRun<'_>) -> BenchFuture<'_> {
    Box::pin(async move {
        let BenchRun {
            guests,
            options,
            report,
        } = run;
        let reps = options.reps();
        if options.selected("cache-load") {
            let greeter = guests.get("greeter")?;
            let (value, baseline) = median_pair(reps, || cache_load(greeter)).await?;
            report(&measurement("cache-load", "loads/s", value, baseline));
        }
        if options.selected("hot-swap") {
            let (value, baseline) = median_pair(reps, || hot_swap(guests)).await?;
            report(&measurement("hot-swap", "swaps/s", value, baseline));
        }
        if options.selected("instantiate") {
            let counter = guests.get("counter")?;
            let n = options.size(5_000.0);
            let pooling = Allocator::Pooling { instances: 1_000 };
            let (value, baseline) = median_pair(reps, || async move {
                Ok((
                    instantiate(counter, pooling, n).await?,
                    instantiate(counter, Allocator::OnDemand, n).await?,
                ))
            })
            .await?;
            report(&measurement("instantiate", "instances/s", value, baseline));
        }
        Ok(())
    })
}

/// An engine of the registered models, without caches.
fn uncached() -> Result<Engine> {
    uncached_with(Allocator::OnDemand)
}

fn uncached_with(allocator: Allocator) -> Result<Engine> {
    let config = EngineConfig {
        cache_dir: None,
        log_dir: None,
        limits: Limits::default(),
        kinds: models().catalog(),
    };
    Engine::with_allocator(config, allocator)
}

/// `n` instances of `counter` from `allocator`, one after another, each
/// with its first call (`prepare`), which touches its memory and stack.
async fn instantiate(counter: &[u8], allocator: Allocator, n: usize) -> Result<f64> {
    let engine = uncached_with(allocator)?;
    engine.load("counter", COMMAND, "0.1.0", counter)?;
    let start = Instant::now();
    for i in 0..n {
        let mut instance =
            CommandInstance::new(&engine, "counter", InstanceSetup::default()).await?;
        let input = format!(r#"{{"id":"c{}","by":1}}"#, i % 100);
        if let Err(refused) = instance.prepare(&input).await? {
            bail!("counter refused {input}: {refused:?}");
        }
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
        kinds: models().catalog(),
    };
    let cold = Engine::new(config())?.swap("m", COMMAND, "0.1.0", bytes)?;
    let warm = Engine::new(config())?.swap("m", COMMAND, "0.1.0", bytes)?;
    if !warm.compile.cache_hit {
        bail!("the second load missed the cache");
    }
    Ok((
        per_second(1, warm.compile.compile_time),
        per_second(1, cold.compile.compile_time),
    ))
}

/// A running module replaced by a version never compiled before, as
/// `wbx dev` does it: Winch's code first, where Winch runs.
async fn hot_swap(guests: &BenchGuests) -> Result<(f64, f64)> {
    let (greeter, greeter_v2) = (guests.get("greeter")?, guests.get("greeter_v2")?);
    let compile = Instant::now();
    uncached()?.load("greeter", COMMAND, "0.2.0", greeter_v2)?;
    let compile = compile.elapsed();

    let engine = uncached()?;
    engine.load("greeter", COMMAND, "0.1.0", greeter)?;
    engine.ready(Tier::Winch);
    let _in_flight = CommandInstance::new(&engine, "greeter", InstanceSetup::default()).await?;
    let start = Instant::now();
    engine.swap_soonest("greeter", COMMAND, "0.2.0", greeter_v2)?;
    let _serving = CommandInstance::new(&engine, "greeter", InstanceSetup::default()).await?;
    Ok((per_second(1, start.elapsed()), per_second(1, compile)))
}
