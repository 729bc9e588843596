//! [`PipelineRuntime`]: the project's flows over one engine, and what the
//! control API, the CLI and the interface ask of them: their state, one
//! stage opened, start, stop, pause, resume, push, tap, the dead letters
//! and their redrive.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;
use wbx_core::api::Closing;
use wbx_core::capability::Capabilities;
use wbx_core::project::{Manifest, ModuleDecl, StateLayout};
use wbx_core::sync::lock;
use wbx_core::{BoxFuture, Engine, ModuleState, Runtime};

use crate::element::{NewElement, now_ms};
use crate::flow::FlowRun;
use crate::info::{DeadLetter, ElementView, FlowInfo, FlowStatus, StageDetail};
use crate::run::RunThread;
use crate::settings::{FlowSpec, PipelineSettings, StageSource};

/// How long `stop` waits for a flow to drain before it answers anyway.
const DRAIN_WAIT: Duration = Duration::from_secs(30);

/// Why a flow operation did nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowError {
    NoSuchFlow(String),
    NoSuchStage {
        flow: String,
        stage: String,
    },
    NoSuchEdge {
        flow: String,
        edge: String,
    },
    /// The flow has no push node (or several and none was named).
    NoPushNode {
        flow: String,
        why: String,
    },
    /// The flow does not take elements now (it is over or stopping).
    NotRunning {
        flow: String,
        status: FlowStatus,
    },
    /// An `error` queue was full: the element was not taken.
    QueueFull {
        flow: String,
        from: String,
        to: String,
    },
    Failed(String),
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowError::NoSuchFlow(flow) => write!(f, "no flow named '{flow}' (see `wbx flows`)"),
            FlowError::NoSuchStage { flow, stage } => {
                write!(f, "flow '{flow}' has no stage named '{stage}'")
            }
            FlowError::NoSuchEdge { flow, edge } => write!(f, "flow '{flow}' has no edge {edge}"),
            FlowError::NoPushNode { flow, why } => write!(f, "flow '{flow}': {why}"),
            FlowError::NotRunning { flow, status } => write!(
                f,
                "flow '{flow}' is {}: start it with `wbx flow start {flow}`",
                status.as_str()
            ),
            FlowError::QueueFull { flow, from, to } => write!(
                f,
                "flow '{flow}': the queue {from} → {to} is full and its policy is error"
            ),
            FlowError::Failed(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for FlowError {}

/// A flow of the project: its latest run (a never-started run when it has
/// not run yet), and the thread of that run's tasks.
struct Slot {
    run: Arc<FlowRun>,
    thread: Option<RunThread>,
    /// False until its first run starts.
    started: bool,
    /// Numbers keep increasing across runs, so a sink can drop repeats.
    sequence: Arc<AtomicU64>,
}

pub struct PipelineRuntime {
    engine: Arc<Engine>,
    capabilities: Arc<Capabilities>,
    state: StateLayout,
    modules: Mutex<Vec<ModuleDecl>>,
    flows: Mutex<BTreeMap<String, Slot>>,
}

impl PipelineRuntime {
    pub fn new(
        engine: Arc<Engine>,
        capabilities: Arc<Capabilities>,
        state: StateLayout,
        modules: &[ModuleDecl],
        settings: PipelineSettings,
    ) -> Arc<PipelineRuntime> {
        let runtime = Arc::new(PipelineRuntime {
            engine,
            capabilities,
            state,
            modules: Mutex::new(modules.to_vec()),
            flows: Mutex::new(BTreeMap::new()),
        });
        for (name, spec) in settings.flows {
            runtime.add(name, spec, Arc::default());
        }
        runtime
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub fn capabilities(&self) -> &Arc<Capabilities> {
        &self.capabilities
    }

    /// A flow not started yet, numbering its elements from `sequence`.
    fn add(&self, name: String, spec: FlowSpec, sequence: Arc<AtomicU64>) {
        let run = self.new_run(spec, &sequence);
        lock(&self.flows).insert(
            name,
            Slot {
                run,
                thread: None,
                started: false,
                sequence,
            },
        );
    }

    fn new_run(&self, spec: FlowSpec, sequence: &Arc<AtomicU64>) -> Arc<FlowRun> {
        Arc::new(FlowRun::new(
            spec,
            self.engine.clone(),
            self.capabilities.clone(),
            &self.state,
            sequence.clone(),
        ))
    }

    fn run(&self, flow: &str) -> Result<Arc<FlowRun>, FlowError> {
        lock(&self.flows)
            .get(flow)
            .map(|slot| slot.run.clone())
            .ok_or_else(|| FlowError::NoSuchFlow(flow.to_owned()))
    }

    /// `flow`'s status alone: cheaper than [`Self::flow`], which reads
    /// every stage's figures.
    pub fn status(&self, flow: &str) -> Result<FlowStatus, FlowError> {
        Ok(self.run(flow)?.status().0)
    }

    pub fn flows(&self) -> Vec<FlowInfo> {
        let runs: Vec<Arc<FlowRun>> = lock(&self.flows).values().map(|s| s.run.clone()).collect();
        runs.iter().map(|run| run.info()).collect()
    }

    pub fn flow(&self, flow: &str) -> Option<FlowInfo> {
        self.run(flow).ok().map(|run| run.info())
    }

    pub fn stage(&self, flow: &str, stage: &str) -> Option<StageDetail> {
        let run = self.run(flow).ok()?;
        let index = run.stage_index(stage)?;
        let dead_letters = run
            .dead_letters
            .read()
            .unwrap_or_default()
            .into_iter()
            .filter(|letter| letter.stage == stage)
            .collect();
        let stats = run.stats(index);
        let cell = &run.stages[index];
        Some(StageDetail {
            flow: flow.to_owned(),
            stage: stats.info(&cell.node.name, &cell.module, cell.kind),
            latency: stats.latency(),
            last_in: stats.last_in(),
            last_out: stats.last_out(),
            errors: stats.last_errors(),
            dead_letters,
        })
    }

    /// Starts `flow` when it is not running: a new run, empty queues,
    /// fresh instances.
    pub async fn start_flow(&self, flow: &str) -> Result<FlowStatus, FlowError> {
        let mut flows = lock(&self.flows);
        let slot = flows
            .get_mut(flow)
            .ok_or_else(|| FlowError::NoSuchFlow(flow.to_owned()))?;
        if slot.run.live() {
            return Ok(slot.run.status().0);
        }
        // A run never started is this one (a tap may already be on it).
        let run = if slot.started {
            self.new_run(slot.run.spec.clone(), &slot.sequence)
        } else {
            slot.run.clone()
        };
        slot.started = true;
        run.set_status(FlowStatus::Starting, None);
        slot.thread = Some(crate::run::spawn(&run));
        slot.run = run.clone();
        Ok(run.status().0)
    }

    /// Stops `flow` once drained: its sources stop, what is queued goes
    /// through. Answers once it has stopped, or after a while with the
    /// status then.
    pub async fn stop_flow(&self, flow: &str) -> Result<FlowStatus, FlowError> {
        let run = self.run(flow)?;
        let over = run.over.notified();
        if !run.live() {
            return Ok(run.status().0);
        }
        run.update(|c| {
            c.stopping = true;
            c.paused = false;
            c.resumed += 1;
        });
        for (i, stage) in run.stages.iter().enumerate() {
            if stage.is_push() {
                for &edge in &run.stages[i].outputs {
                    run.edges[edge].close();
                }
            }
        }
        run.set_status_while_live(FlowStatus::Draining, None);
        if run.live() {
            let _ = tokio::time::timeout(DRAIN_WAIT, over).await;
        }
        Ok(run.status().0)
    }

    pub async fn pause_flow(&self, flow: &str) -> Result<FlowStatus, FlowError> {
        self.hold(flow, true)
    }

    pub async fn resume_flow(&self, flow: &str) -> Result<FlowStatus, FlowError> {
        self.hold(flow, false)
    }

    fn hold(&self, flow: &str, paused: bool) -> Result<FlowStatus, FlowError> {
        let run = self.run(flow)?;
        let (status, reason) = run.status();
        if !run.live() || run.control.borrow().stopping {
            return Err(FlowError::NotRunning {
                flow: flow.to_owned(),
                status,
            });
        }
        run.update(|c| {
            c.paused = paused;
            if !paused {
                c.resumed += 1;
            }
        });
        match (status, paused) {
            (FlowStatus::Running, true) => run.set_status_while_live(FlowStatus::Paused, None),
            (FlowStatus::Paused, false) => run.set_status_while_live(FlowStatus::Running, reason),
            _ => {}
        }
        Ok(run.status().0)
    }

    /// Puts `elements` into `flow` at its push node `node` (the only one
    /// when none is named); answers their sequence numbers once queued.
    pub async fn push(
        &self,
        flow: &str,
        node: Option<&str>,
        elements: Vec<NewElement>,
    ) -> Result<Vec<u64>, FlowError> {
        let run = self.run(flow)?;
        let pushes: Vec<usize> = (0..run.stages.len())
            .filter(|&i| run.stages[i].is_push())
            .collect();
        let stage = match node {
            Some(node) => {
                let index = run
                    .stage_index(node)
                    .ok_or_else(|| FlowError::NoSuchStage {
                        flow: flow.to_owned(),
                        stage: node.to_owned(),
                    })?;
                if !pushes.contains(&index) {
                    return Err(FlowError::NoPushNode {
                        flow: flow.to_owned(),
                        why: format!("node '{node}' is not a push source"),
                    });
                }
                index
            }
            None => match pushes.as_slice() {
                [one] => *one,
                [] => {
                    return Err(FlowError::NoPushNode {
                        flow: flow.to_owned(),
                        why: "it has no push source (a node `{ source = \"push\" }`)".to_owned(),
                    });
                }
                _ => {
                    return Err(FlowError::NoPushNode {
                        flow: flow.to_owned(),
                        why: "it has several push sources: name one".to_owned(),
                    });
                }
            },
        };
        let (status, _) = run.status();
        if !run.live() || run.control.borrow().stopping {
            return Err(FlowError::NotRunning {
                flow: flow.to_owned(),
                status,
            });
        }
        // One element at a time: an `error` queue's refusal stops the push
        // there, with none after it queued on any edge (the caller may send
        // them again).
        let mut sequences = Vec::with_capacity(elements.len());
        for element in elements {
            let element = element.numbered(run.next_sequence(), now_ms());
            let sequence = element.sequence;
            let refused = run.emit(stage, vec![element.clone()]).await.map_err(|_| {
                FlowError::NotRunning {
                    flow: flow.to_owned(),
                    status: run.status().0,
                }
            })?;
            if let Some((edge, _)) = refused.first() {
                let spec = &run.edges[*edge].spec;
                return Err(FlowError::QueueFull {
                    flow: flow.to_owned(),
                    from: spec.from.clone(),
                    to: spec.to.clone(),
                });
            }
            run.stats(stage).passed(std::slice::from_ref(&element));
            sequences.push(sequence);
        }
        Ok(sequences)
    }

    /// The elements passing `from` → `to` (leaving `port`) from now on.
    pub fn tap(
        &self,
        flow: &str,
        from: &str,
        port: Option<&str>,
        to: &str,
    ) -> Result<broadcast::Receiver<ElementView>, FlowError> {
        let run = self.run(flow)?;
        let edge = run
            .edges
            .iter()
            .find(|e| {
                e.spec.from == from
                    && e.spec.to == to
                    && (port.is_none() || e.spec.port.as_deref() == port)
            })
            .ok_or_else(|| FlowError::NoSuchEdge {
                flow: flow.to_owned(),
                edge: match port {
                    Some(port) => format!("{from}:{port} → {to}"),
                    None => format!("{from} → {to}"),
                },
            })?;
        Ok(edge.subscribe())
    }

    pub fn dead_letters(&self, flow: &str) -> Result<Vec<DeadLetter>, FlowError> {
        let run = self.run(flow)?;
        run.dead_letters
            .read()
            .map_err(|e| FlowError::Failed(format!("{e:#}")))
    }

    /// Sends every dead letter of `flow` again into the stage where it
    /// failed, with its sequence number; it leaves the file once queued.
    pub async fn redrive(&self, flow: &str) -> Result<usize, FlowError> {
        let run = self.run(flow)?;
        if !run.live() || run.control.borrow().stopping {
            return Err(FlowError::NotRunning {
                flow: flow.to_owned(),
                status: run.status().0,
            });
        }
        let file = run.dead_letters.clone();
        file.take(|letters| async {
            for letter in letters {
                let stage = run.stage_index(&letter.stage).ok_or_else(|| {
                    anyhow::anyhow!(
                        "a dead letter names stage '{}', not in the flow",
                        letter.stage
                    )
                })?;
                let element = letter.element.to_element().map_err(anyhow::Error::msg)?;
                let edge = *run.stages[stage].inputs.first().ok_or_else(|| {
                    anyhow::anyhow!("stage '{}' has no input to send it to", letter.stage)
                })?;
                run.edges[edge]
                    .push(element, run.on_hold(edge))
                    .await
                    .map_err(|refused| anyhow::anyhow!("the element was refused: {refused:?}"))?;
            }
            Ok(())
        })
        .await
        .map_err(|e| FlowError::Failed(format!("redrive of flow '{flow}' stopped: {e:#}")))
    }

    /// Every flow whose run is over starts again with `specs`; a running
    /// one with a changed spec drains and starts again with its new one.
    async fn converge(self: &Arc<Self>, specs: BTreeMap<String, FlowSpec>) {
        let old: Vec<String> = lock(&self.flows).keys().cloned().collect();
        let mut carried = BTreeMap::new();
        for name in old {
            let changed = specs
                .get(&name)
                .is_none_or(|spec| lock(&self.flows)[&name].run.spec != *spec);
            if changed {
                let _ = self.stop_flow(&name).await;
                self.end(&name).await;
                if let Some(slot) = lock(&self.flows).remove(&name) {
                    // Numbers go on, so a sink can still drop repeats; a
                    // flow someone started starts again.
                    carried.insert(name, (slot.sequence, slot.started));
                }
            }
        }
        for (name, spec) in specs {
            let (sequence, ran) = carried.remove(&name).unwrap_or_default();
            let start = spec.start || ran;
            let added = !lock(&self.flows).contains_key(&name);
            if added {
                self.add(name.clone(), spec, sequence);
            }
            if added && start {
                let _ = self.start_flow(&name).await;
            }
        }
    }

    /// Ends `flow`'s run now (after each task's current batch) and waits
    /// for its tasks.
    async fn end(&self, flow: &str) {
        let Some((run, thread)) = lock(&self.flows)
            .get_mut(flow)
            .map(|slot| (slot.run.clone(), slot.thread.take()))
        else {
            return;
        };
        run.update(|c| c.shutdown = true);
        for edge in &run.edges {
            edge.abort();
        }
        if let Some(thread) = thread {
            thread.join().await;
        }
    }
}

impl Runtime for PipelineRuntime {
    fn start(self: Arc<Self>) {
        let names: Vec<String> = lock(&self.flows)
            .iter()
            .filter(|(_, slot)| slot.run.spec.start)
            .map(|(name, _)| name.clone())
            .collect();
        tokio::spawn(async move {
            for name in names {
                let _ = self.start_flow(&name).await;
            }
        });
    }

    /// Stages of the module move to its new version between two batches.
    fn module_swapped(self: Arc<Self>, module: &str) {
        for slot in lock(&self.flows).values() {
            if slot.run.stages.iter().any(|s| s.module == module) {
                slot.run.update(|c| c.swapped += 1);
            }
        }
    }

    fn modules_changed(&self, modules: &[ModuleDecl]) {
        *lock(&self.modules) = modules.to_vec();
    }

    fn apply(self: Arc<Self>, manifest: &Manifest) -> BoxFuture<'static, anyhow::Result<()>> {
        let modules = lock(&self.modules).clone();
        let settings = crate::settings::settings(manifest, &modules);
        Box::pin(async move {
            let settings = settings?;
            self.converge(settings.flows).await;
            Ok(())
        })
    }

    fn shutdown(self: Arc<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let names: Vec<String> = lock(&self.flows).keys().cloned().collect();
            for name in names {
                self.end(&name).await;
            }
        })
    }

    fn routes(self: Arc<Self>, closing: Closing) -> axum::Router {
        crate::api::routes(self, closing)
    }

    fn states(&self) -> Vec<ModuleState> {
        let runs: Vec<Arc<FlowRun>> = lock(&self.flows).values().map(|s| s.run.clone()).collect();
        let mut states: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for run in &runs {
            for (i, stage) in run.stages.iter().enumerate() {
                if matches!(stage.node.stage, StageSource::Module { .. }) {
                    let status = run.stats(i).status.as_str();
                    states
                        .entry(stage.module.clone())
                        .or_default()
                        .push(format!("{}/{}: {status}", run.name, stage.node.name));
                }
            }
        }
        states
            .into_iter()
            .map(|(module, stages)| ModuleState {
                module,
                state: stages.join(", "),
                stopped: None,
                retrying: None,
            })
            .collect()
    }

    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}
