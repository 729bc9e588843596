//! The pipelines model's `wbx bench` scenarios, with the `numbers` source,
//! the `stage` processor and the `collect` sink of the test guests. The
//! rate with a baseline alternates with it within each repetition, so a
//! machine that slows down slows both.
//!
//! | scenario | value | baseline (the limit) |
//! |---|---|---|
//! | `pipeline` | elements/s through source → processor → sink (256-byte elements, batches of 64, queues of 64: the defaults), the processor passing each element on as it came: what the runtime costs | the same three guests called directly in one loop with the same batches: `pull`, `process`, `consume` |
//! | `pipeline-json` | the same with a processor that parses each element's JSON, adds two fields and writes it again: what a guest's own work weighs | the same, called directly |
//! | `pipeline-overhead` | µs the runtime adds to each element over the direct calls in `pipeline` (Torvyn's design target: under 5) | — |
//! | `pipeline-backpressure` | peak resident memory sending 10 × the elements through a sink 100 × slower than the source, in % of the peak with 1 × (flat: 100) | — |
//!
//! - [`groups`]: the one group, what the model registers.
//! - `Flows`: the engine side: one runtime over an engine without caches.
//! - `Bare`: the baseline: the three components compiled by a plain
//!   wasmtime engine, each instantiated once in a store of its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::json;
use wasmtime::Store;
use wasmtime::component::{Component, Linker};
use wbx_core::bench::{
    BareState, BenchFuture, BenchGroup, BenchOptions, BenchRun, Measurement, figure, measurement,
    per_second, resident_kib, summarize, trap_outside_wasi,
};
use wbx_core::project::{ModuleDecl, StateLayout};
use wbx_core::{Catalog, Engine, EngineConfig, Limits, ModuleKind};

use crate::bindings::processor_module::ProcessorModulePre;
use crate::bindings::sink_module::SinkModulePre;
use crate::bindings::source_module::SourceModulePre;
use crate::bindings::{Element, Output};
use crate::info::FlowStatus;
use crate::kinds::{KINDS, PROCESSOR, SINK, SOURCE};
use crate::runtime::PipelineRuntime;
use crate::settings::{
    DEFAULT_BATCH, DEFAULT_CAPACITY, DEFAULT_RETRIES, DEFAULT_TIMEOUT_MS, EdgeSpec, FlowSpec,
    NodeSpec, PipelineSettings, Policy, StageKind, StageSource,
};

/// Bytes in each element's payload.
const ELEMENT_SIZE: u64 = 256;
/// Elements a `pipeline` run sends through, at full size.
const ELEMENTS: f64 = 400_000.0;
/// Elements the slow-sink run sends at full size (and 10 × that).
const SLOW_ELEMENTS: f64 = 2_000.0;
/// How long a timed run may take before the scenario gives up on it.
const PATIENCE: Duration = Duration::from_secs(300);

pub fn groups() -> Vec<BenchGroup> {
    vec![BenchGroup {
        names: &[
            "pipeline",
            "pipeline-overhead",
            "pipeline-json",
            "pipeline-backpressure",
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
        let components = [
            ("numbers", SOURCE, guests.get("numbers")?),
            ("stage", PROCESSOR, guests.get("stage")?),
            ("collect", SINK, guests.get("collect")?),
        ];
        let flows = Flows::new(&components)?;
        let bare = Bare::new(&components)?;
        let through = ["pipeline", "pipeline-overhead"];
        if through.iter().any(|s| options.selected(s)) {
            let (value, baseline) = rates(&flows, &bare, options, PASS).await?;
            if options.selected("pipeline") {
                report(&measurement("pipeline", "elements/s", value, baseline));
            }
            if options.selected("pipeline-overhead") {
                let overhead = 1e6 / value.0 - 1e6 / baseline.0;
                report(&figure(
                    "pipeline-overhead",
                    "µs/element",
                    (overhead, (overhead, overhead)),
                ));
            }
        }
        if options.selected("pipeline-json") {
            let (value, baseline) = rates(&flows, &bare, options, JSON_WORK).await?;
            report(&measurement("pipeline-json", "elements/s", value, baseline));
        }
        if options.selected("pipeline-backpressure") {
            report(&backpressure(&flows, options).await?);
        }
        Ok(())
    })
}

/// The `stage` processor's config that passes each element on untouched.
const PASS: &str = r#"{"pass":true}"#;
/// Its config that parses, stamps and writes each element's JSON.
const JSON_WORK: &str = "null";

/// The pipeline's rate and the direct calls', alternating, each summarized,
/// with `processor` the `stage` processor's config.
async fn rates(
    flows: &Flows,
    bare: &Bare,
    options: &BenchOptions,
    processor: &str,
) -> Result<((f64, (f64, f64)), (f64, (f64, f64)))> {
    let n = options.size(ELEMENTS) as u64;
    let (mut values, mut baselines) = (Vec::new(), Vec::new());
    for _ in 0..options.reps() {
        values.push(flows.through(n, processor, None).await?.0);
        baselines.push(bare.through(n, processor).await?);
    }
    Ok((summarize(values), summarize(baselines)))
}

/// The peak resident memory sending 10 × the elements through a sink 100 ×
/// slower than the source, in % of the peak with 1 ×: the source is held
/// (not dropping, `through` checks) by `block` queues, so it stays flat.
async fn backpressure(flows: &Flows, options: &BenchOptions) -> Result<Measurement> {
    let n = options.size(SLOW_ELEMENTS) as u64;
    let mut shares = Vec::new();
    for _ in 0..options.reps() {
        let small = flows.through(n, PASS, Some(slow_sink())).await?.1;
        let large = flows.through(10 * n, PASS, Some(slow_sink())).await?.1;
        shares.push(100.0 * large as f64 / small.max(1) as f64);
    }
    Ok(figure(
        "pipeline-backpressure",
        "% of the 1× peak memory at 10×",
        summarize(shares),
    ))
}

/// The sink's config that makes it about 100 × slower than the source:
/// a pause per batch of 64 that the source fills in a few µs.
fn slow_sink() -> serde_json::Value {
    json!({ "delay_ms": 3 })
}

/// The engine side: a runtime whose one flow is made again for each run.
struct Flows {
    engine: Arc<Engine>,
    modules: Vec<ModuleDecl>,
    state: tempfile::TempDir,
}

impl Flows {
    fn new(components: &[(&str, ModuleKind, &[u8])]) -> Result<Self> {
        let engine = Arc::new(Engine::new(EngineConfig {
            cache_dir: None,
            log_dir: None,
            limits: Limits::default(),
            kinds: Catalog::new(KINDS.to_vec()),
        })?);
        let mut modules = Vec::new();
        for (name, kind, bytes) in components {
            engine.load(name, *kind, "0.1.0", bytes)?;
            modules.push(ModuleDecl::prebuilt(name, *kind, None, Default::default()));
        }
        Ok(Flows {
            engine,
            modules,
            state: tempfile::tempdir()?,
        })
    }

    /// Elements/s of `n` elements through a new flow, and the peak of
    /// resident memory meanwhile (KiB). `processor` and `sink` are the
    /// processor's and the sink's configs.
    async fn through(
        &self,
        n: u64,
        processor: &str,
        sink: Option<serde_json::Value>,
    ) -> Result<(f64, u64)> {
        let processor = serde_json::from_str(processor)?;
        let spec = flow_spec(n, processor, sink.unwrap_or(serde_json::Value::Null));
        let runtime = PipelineRuntime::new(
            self.engine.clone(),
            Arc::default(),
            StateLayout::new(self.state.path().to_owned()),
            &self.modules,
            PipelineSettings {
                flows: [(spec.name.clone(), spec)].into(),
            },
        );
        let before = resident_kib()?;
        let peak = Arc::new(AtomicU64::new(before));
        let done = Arc::new(AtomicBool::new(false));
        let sampler = tokio::spawn({
            let (peak, done) = (peak.clone(), done.clone());
            async move {
                while !done.load(Ordering::Relaxed) {
                    if let Ok(now) = resident_kib() {
                        peak.fetch_max(now, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        });
        let start = Instant::now();
        runtime.start_flow("bench").await?;
        // Its status alone, often: reading the whole flow's figures would
        // take the stages' locks while they run.
        while !runtime.status("bench")?.is_over() {
            if start.elapsed() > PATIENCE {
                bail!("the bench flow did not finish in {} s", PATIENCE.as_secs());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let elapsed = start.elapsed();
        let info = runtime.flow("bench").context("the bench flow is gone")?;
        done.store(true, Ordering::Relaxed);
        sampler.await?;
        wbx_core::Runtime::shutdown(runtime).await;
        if info.status != FlowStatus::Finished {
            bail!(
                "the bench flow ended {}: {:?}",
                info.status.as_str(),
                info.reason
            );
        }
        let sunk = info.stages.last().map(|s| s.out).unwrap_or_default();
        if sunk != n || info.edges.iter().any(|e| e.dropped > 0) {
            bail!("the bench flow lost elements: {n} sent, {sunk} reached the sink");
        }
        Ok((
            per_second(n as usize, elapsed),
            peak.load(Ordering::Relaxed),
        ))
    }
}

/// numbers → stage → collect, `n` elements of [`ELEMENT_SIZE`] bytes.
fn flow_spec(n: u64, processor: serde_json::Value, sink: serde_json::Value) -> FlowSpec {
    let node = |name: &str, kind: StageKind, config: serde_json::Value| NodeSpec {
        name: name.to_owned(),
        stage: StageSource::Module {
            module: name.to_owned(),
            kind,
        },
        ports: Vec::new(),
        config,
        timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
        retries: DEFAULT_RETRIES,
    };
    let edge = |from: &str, to: &str| EdgeSpec {
        from: from.to_owned(),
        port: None,
        to: to.to_owned(),
        capacity: DEFAULT_CAPACITY,
        low: DEFAULT_CAPACITY / 2,
        policy: Policy::Block,
    };
    FlowSpec {
        name: "bench".to_owned(),
        batch: DEFAULT_BATCH,
        start: false,
        nodes: vec![
            node(
                "numbers",
                StageKind::Source,
                json!({ "count": n, "size": ELEMENT_SIZE }),
            ),
            node("stage", StageKind::Processor, processor),
            node("collect", StageKind::Sink, sink),
        ],
        edges: vec![edge("numbers", "stage"), edge("stage", "collect")],
    }
}

/// The baseline: the three components, pre-instantiated by a plain engine.
struct Bare {
    source: SourceModulePre<BareState>,
    processor: ProcessorModulePre<BareState>,
    sink: SinkModulePre<BareState>,
}

impl Bare {
    fn new(components: &[(&str, ModuleKind, &[u8])]) -> Result<Self> {
        let engine = wasmtime::Engine::default();
        let pre = |bytes: &[u8]| -> Result<_> {
            let component = Component::new(&engine, bytes).map_err(|e| {
                anyhow::Error::from(e).context("the baseline cannot compile a stage")
            })?;
            let mut linker = Linker::new(&engine);
            wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
            wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
            trap_outside_wasi(&mut linker, &component, |_, _| false)?;
            Ok(linker.instantiate_pre(&component)?)
        };
        Ok(Bare {
            source: SourceModulePre::new(pre(components[0].2)?)?,
            processor: ProcessorModulePre::new(pre(components[1].2)?)?,
            sink: SinkModulePre::new(pre(components[2].2)?)?,
        })
    }

    fn store(&self) -> Store<BareState> {
        BareState::store(self.source.engine(), ())
    }

    /// Elements/s of `n` elements pulled, processed (`processor` is the
    /// processor's config) and consumed in one loop, a batch at a time.
    async fn through(&self, n: u64, processor_config: &str) -> Result<f64> {
        let failed = |what: &str, e: String| anyhow!("the bare {what} failed: {e}");
        let (mut s1, mut s2, mut s3) = (self.store(), self.store(), self.store());
        let source = self.source.instantiate_async(&mut s1).await?;
        let processor = self.processor.instantiate_async(&mut s2).await?;
        let sink = self.sink.instantiate_async(&mut s3).await?;
        let config = json!({ "count": n, "size": ELEMENT_SIZE }).to_string();
        let (source, processor, sink) = (
            source.wbx_guest_source(),
            processor.wbx_guest_processor(),
            sink.wbx_guest_sink(),
        );
        source
            .call_init(&mut s1, &config)
            .await?
            .map_err(|e| failed("source", e))?;
        processor
            .call_init(&mut s2, processor_config)
            .await?
            .map_err(|e| failed("processor", e))?;
        sink.call_init(&mut s3, "null")
            .await?
            .map_err(|e| failed("sink", e))?;
        let mut sequence = 0;
        let mut number = |outputs: Vec<Output>| -> Vec<Element> {
            outputs
                .into_iter()
                .map(|o| {
                    sequence += 1;
                    Element {
                        payload: o.payload,
                        content_type: o.content_type,
                        key: o.key,
                        sequence,
                        timestamp_ms: 0,
                    }
                })
                .collect()
        };
        let start = Instant::now();
        let mut sunk = 0;
        loop {
            let pulled = source
                .call_pull(&mut s1, DEFAULT_BATCH as u32)
                .await?
                .map_err(|e| failed("source", e))?;
            let batch = number(pulled.elements);
            let results = processor.call_process(&mut s2, &batch).await?;
            let mut outputs = Vec::with_capacity(batch.len());
            for result in results {
                outputs.extend(result.map_err(|e| failed("processor", e))?);
            }
            let outputs = number(outputs);
            sunk += outputs.len() as u64;
            sink.call_consume(&mut s3, &outputs)
                .await?
                .map_err(|e| failed("sink", e))?;
            if pulled.finished {
                break;
            }
        }
        if sunk != n {
            bail!("the bare loop sank {sunk} of {n} elements");
        }
        Ok(per_second(n as usize, start.elapsed()))
    }
}
