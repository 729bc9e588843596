//! `wbx bench`'s framework: what a scenario reports, how repetitions are
//! summarised, and how a model hands its scenarios to the runner
//! ([`BenchGroup`]). The scenarios themselves live with what they measure:
//! each model's in its crate, the core's in the assembly.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::limits::Limits;

/// One scenario's result: `ratio = value / baseline`, higher is better.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    pub scenario: String,
    pub value: f64,
    pub unit: String,
    /// `None` for a figure with no bare baseline (a latency, memory per
    /// process): `--json` prints `null`.
    pub baseline: Option<f64>,
    pub ratio: Option<f64>,
    /// Smallest and largest value over the repetitions.
    #[serde(skip)]
    pub spread: (f64, f64),
}

#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Scenario names; empty runs them all.
    pub scenarios: Vec<String>,
    /// Repetitions of each measurement; the median is reported.
    pub repetitions: usize,
    /// Work per repetition, as a fraction of the full size (tests use a tiny one).
    pub scale: f64,
    /// The PostgreSQL server (a `postgres://` URL) the event store's
    /// scenarios run on, in scratch databases; SQLite files when `None`.
    pub store: Option<String>,
}

impl BenchOptions {
    /// Whether `name` is to be run.
    pub fn selected(&self, name: &str) -> bool {
        self.scenarios.is_empty() || self.scenarios.iter().any(|s| s == name)
    }

    /// `full` units of work, scaled, at least one.
    pub fn size(&self, full: f64) -> usize {
        ((full * self.scale).ceil() as usize).max(1)
    }

    pub fn reps(&self) -> usize {
        self.repetitions.max(1)
    }
}

/// The guest components the scenarios run, by crate name (built from the
/// repository's test guests).
#[derive(Debug, Default)]
pub struct BenchGuests(pub BTreeMap<String, Vec<u8>>);

impl BenchGuests {
    pub fn get(&self, name: &str) -> Result<&[u8]> {
        self.0
            .get(name)
            .map(Vec::as_slice)
            .with_context(|| format!("no benchmark guest named '{name}'"))
    }
}

/// What a group of scenarios runs with.
pub struct BenchRun<'a> {
    pub guests: &'a BenchGuests,
    pub options: &'a BenchOptions,
    /// Called with each result as soon as it is measured.
    pub report: &'a mut dyn FnMut(&Measurement),
}

pub type BenchFuture<'a> = Pin<Box<dyn Future<Output = Result<()>> + 'a>>;

/// Scenarios run together (they may share a baseline). `run` measures the
/// selected ones among `names` and reports each.
pub struct BenchGroup {
    pub names: &'static [&'static str],
    pub run: for<'a> fn(BenchRun<'a>) -> BenchFuture<'a>,
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
        baseline: Some(baseline.0),
        ratio: Some(value.0 / baseline.0),
        spread: value.1,
    }
}

/// A figure with no bare baseline to compare it with (a latency).
pub fn figure(scenario: &str, unit: &str, value: (f64, (f64, f64))) -> Measurement {
    Measurement {
        scenario: scenario.to_owned(),
        value: value.0,
        unit: unit.to_owned(),
        baseline: None,
        ratio: None,
        spread: value.1,
    }
}

/// The median of `reps` runs, and the smallest and largest.
pub async fn median<F, Fut>(reps: usize, mut run: F) -> Result<(f64, (f64, f64))>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<f64>>,
{
    let mut values = Vec::with_capacity(reps);
    for _ in 0..reps {
        values.push(run().await?);
    }
    Ok(summarize(values))
}

/// [`median`] for scenarios that measure value and baseline together.
pub async fn median_pair<F, Fut>(
    reps: usize,
    mut run: F,
) -> Result<((f64, (f64, f64)), (f64, (f64, f64)))>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(f64, f64)>>,
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

/// What a bare baseline's store holds for WASI and `wasi:http`, as every
/// module's store in the engine does: both contexts over one resource
/// table, nothing granted.
pub struct BareWasi {
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub table: ResourceTable,
}

impl Default for BareWasi {
    fn default() -> Self {
        BareWasi {
            wasi: WasiCtx::builder().build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
        }
    }
}

impl WasiView for BareWasi {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for BareWasi {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: Default::default(),
        }
    }
}

/// A baseline's store data: WASI and `wasi:http` ([`BareWasi`]) and the
/// engine's default resource limits, as every module's store has, and
/// what the baseline keeps of its own (`data`).
pub struct BareState<T = ()> {
    pub host: BareWasi,
    pub limits: StoreLimits,
    pub data: T,
}

impl<T: Send + 'static> BareState<T> {
    /// A store of `engine` holding `data`, the limits enforced.
    pub fn store(engine: &wasmtime::Engine, data: T) -> Store<BareState<T>> {
        let limits = Limits::default();
        let mut store = Store::new(
            engine,
            BareState {
                host: BareWasi::default(),
                limits: StoreLimitsBuilder::new()
                    .memory_size(limits.memory_bytes)
                    .table_elements(limits.table_elements)
                    .build(),
                data,
            },
        );
        store.limiter(|state| &mut state.limits);
        store
    }
}

impl<T: Send> WasiView for BareState<T> {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.host.ctx()
    }
}

impl<T: Send> WasiHttpView for BareState<T> {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        self.host.http()
    }
}

/// This process's resident memory, KiB (`VmRSS` of `/proc/self/status`:
/// `statm`'s resident pages, already in KiB whatever the page size).
pub fn resident_kib() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")
        .context("memory figures read /proc/self/status, which this system lacks")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
        .context("/proc/self/status has no readable VmRSS line")
}

/// Links every function `component` imports outside WASI to one that
/// traps, but those `linked` says the baseline defined already. Wasmtime's
/// `define_unknown_imports_as_traps` would also take the WASI interfaces
/// the component imports at a newer patch version than the linker's,
/// breaking the resources they share.
pub fn trap_outside_wasi<T: 'static>(
    linker: &mut Linker<T>,
    component: &Component,
    linked: impl Fn(&str, &str) -> bool,
) -> Result<()> {
    let engine = linker.engine().clone();
    for (name, item) in component.component_type().imports(&engine) {
        if name.starts_with("wasi:") {
            continue;
        }
        let ComponentItem::ComponentInstance(instance) = item.ty else {
            anyhow::bail!("the guest imports '{name}', which is no interface");
        };
        let mut functions = linker.instance(name)?;
        for (function, item) in instance.exports(&engine) {
            if linked(name, function) {
                continue;
            }
            if let ComponentItem::ComponentFunc(_) = item.ty {
                let what = format!("{name}#{function}");
                functions.func_new(function, move |_, _, _, _| {
                    Err(wasmtime::Error::msg(format!(
                        "{what} is not linked in the baseline"
                    )))
                })?;
            }
        }
    }
    Ok(())
}
