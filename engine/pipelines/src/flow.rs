//! One flow while it runs: its edges (the queues), a cell per node (stats,
//! status, which edges it reads and feeds), the control every stage task
//! watches (pause, stop, shutdown, a new version), and the flow's status.
//!
//! A run of a flow is one [`FlowRun`]: starting a finished flow again
//! makes a new run, with empty queues and fresh instances.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, watch};
use wbx_core::Engine;
use wbx_core::capability::Capabilities;
use wbx_core::project::StateLayout;
use wbx_core::sync::lock;

use crate::dead_letter::DeadLetterFile;
use crate::edge::{Edge, Hold, Refused};
use crate::element::Element;
use crate::element::now_ms;
use crate::info::{DeadLetter, ElementView, FlowInfo, FlowStatus, StageStatus};
use crate::observe::FlowObservation;
use crate::settings::{FlowSpec, NodeSpec, StageSource};
use crate::stats::StageStats;

/// What every stage task of a run watches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Control {
    /// No stage takes elements.
    pub paused: bool,
    /// Sources stop; what is queued goes through.
    pub stopping: bool,
    /// Every task ends after its current batch (the engine stops).
    pub shutdown: bool,
    /// Bumped on each resume: a sink's own pause ends too.
    pub resumed: u64,
    /// Bumped when a module of a stage has a new version.
    pub swapped: u64,
}

/// One node of a run.
pub struct StageCell {
    pub node: NodeSpec,
    /// The module it runs; `push` or `events` for a host source.
    pub module: String,
    pub kind: &'static str,
    pub stats: Mutex<StageStats>,
    /// Wakes it when an input edge gets an element.
    pub items: Arc<Notify>,
    /// Indices into [`FlowRun::edges`].
    pub inputs: Vec<usize>,
    pub outputs: Vec<usize>,
}

impl StageCell {
    /// A push source: it has no task; pushes come from outside.
    pub fn is_push(&self) -> bool {
        matches!(self.node.stage, StageSource::Push)
    }
}

pub struct FlowRun {
    pub name: String,
    pub spec: FlowSpec,
    pub engine: Arc<Engine>,
    pub capabilities: Arc<Capabilities>,
    pub dead_letters: Arc<DeadLetterFile>,
    pub edges: Vec<Arc<Edge>>,
    pub stages: Vec<StageCell>,
    pub control: watch::Sender<Control>,
    sequence: Arc<AtomicU64>,
    status: Mutex<(FlowStatus, Option<String>)>,
    /// Stage tasks not yet started, and not yet ended.
    starting: AtomicUsize,
    running: AtomicUsize,
    /// Signalled when the run is over.
    pub over: Notify,
}

impl FlowRun {
    /// A run of `spec`; its sequence numbers go on from `sequence`.
    pub fn new(
        spec: FlowSpec,
        engine: Arc<Engine>,
        capabilities: Arc<Capabilities>,
        state: &StateLayout,
        sequence: Arc<AtomicU64>,
    ) -> FlowRun {
        let items: Vec<Arc<Notify>> = spec.nodes.iter().map(|_| Arc::new(Notify::new())).collect();
        let index = |name: &str| {
            spec.nodes
                .iter()
                .position(|n| n.name == name)
                .expect("settings checked every edge's nodes")
        };
        let edges: Vec<Arc<Edge>> = spec
            .edges
            .iter()
            .enumerate()
            .map(|(i, e)| Arc::new(Edge::new(i, e.clone(), items[index(&e.to)].clone())))
            .collect();
        let stages = spec
            .nodes
            .iter()
            .zip(items)
            .map(|(node, items)| {
                let module = node.stage.module().to_owned();
                // A host source runs no module, whatever the project names.
                let version = match node.stage.is_host() {
                    true => None,
                    false => engine.version_of(&module).map(|v| v.to_string()),
                };
                StageCell {
                    inputs: edge_indices(&spec, |e| e.to == node.name),
                    outputs: edge_indices(&spec, |e| e.from == node.name),
                    node: node.clone(),
                    stats: Mutex::new(StageStats::new(version)),
                    module,
                    kind: node.kind().as_str(),
                    items,
                }
            })
            .collect();
        FlowRun {
            name: spec.name.clone(),
            dead_letters: Arc::new(DeadLetterFile::new(state, &spec.name)),
            spec,
            engine,
            capabilities,
            edges,
            stages,
            control: watch::channel(Control::default()).0,
            sequence,
            // Not started yet: nothing to publish until it is.
            status: Mutex::new((FlowStatus::Stopped, None)),
            starting: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            over: Notify::new(),
        }
    }

    pub fn status(&self) -> (FlowStatus, Option<String>) {
        lock(&self.status).clone()
    }

    /// Sets the flow's status and publishes it when it changed.
    pub fn set_status(&self, status: FlowStatus, reason: Option<String>) {
        self.change_status(|_| true, status, reason);
    }

    /// Sets the flow's status while a task of the run is alive, so a run
    /// that has just ended keeps its final status (the last task takes
    /// this lock after it stopped counting as alive).
    pub fn set_status_while_live(&self, status: FlowStatus, reason: Option<String>) {
        self.change_status(FlowRun::live, status, reason);
    }

    fn change_status(
        &self,
        allowed: impl Fn(&Self) -> bool,
        status: FlowStatus,
        reason: Option<String>,
    ) {
        {
            let mut current = lock(&self.status);
            if !allowed(self) || *current == (status, reason.clone()) {
                return;
            }
            *current = (status, reason.clone());
        }
        FlowObservation::Status {
            flow: self.name.clone(),
            status,
            reason,
        }
        .publish(&self.engine);
    }

    /// True while a task of the run is alive (a failed stage's task is: it
    /// waits for a new version).
    pub fn live(&self) -> bool {
        self.running.load(Ordering::SeqCst) > 0
    }

    /// The next sequence number of the flow.
    pub fn next_sequence(&self) -> u64 {
        self.next_sequences(1)
    }

    /// The first of the flow's next `n` sequence numbers, taken at once.
    pub fn next_sequences(&self, n: usize) -> u64 {
        self.sequence.fetch_add(n as u64, Ordering::Relaxed) + 1
    }

    pub fn stats(&self, stage: usize) -> MutexGuard<'_, StageStats> {
        lock(&self.stages[stage].stats)
    }

    pub fn set_stage_status(&self, stage: usize, status: StageStatus) {
        self.stats(stage).status = status;
    }

    /// `count` stage tasks are about to start.
    pub fn tasks(&self, count: usize) {
        self.starting.store(count, Ordering::SeqCst);
        self.running.store(count, Ordering::SeqCst);
        if count == 0 {
            self.started();
        }
    }

    /// A stage task has its instance: once all have, the flow runs.
    pub fn stage_started(&self) {
        if self.starting.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.started();
        }
    }

    fn started(&self) {
        // A push source has no task: it runs when its flow does.
        for (i, stage) in self.stages.iter().enumerate() {
            if stage.is_push() {
                self.set_stage_status(i, StageStatus::Running);
            }
        }
        let control = *self.control.borrow();
        let (status, _) = self.status();
        if status == FlowStatus::Starting {
            self.set_status(
                if control.paused {
                    FlowStatus::Paused
                } else {
                    FlowStatus::Running
                },
                None,
            );
        }
    }

    /// A stage task ended; the last one ends the run.
    pub fn stage_ended(&self) {
        if self.running.fetch_sub(1, Ordering::SeqCst) == 1 {
            for (i, stage) in self.stages.iter().enumerate() {
                if stage.is_push() {
                    self.set_stage_status(i, StageStatus::Finished);
                }
            }
            let control = *self.control.borrow();
            let (status, reason) = self.status();
            if control.shutdown || status == FlowStatus::Failed {
                self.set_status(FlowStatus::Stopped, reason);
            } else if control.stopping {
                self.set_status(FlowStatus::Stopped, None);
            } else {
                self.set_status(FlowStatus::Finished, None);
            }
            self.over.notify_waiters();
        }
    }

    pub fn update(&self, change: impl FnOnce(&mut Control)) {
        self.control.send_modify(change);
    }

    /// The edge's hold starting or ending, published.
    pub fn on_hold(&self, edge: usize) -> impl Fn(Hold) + '_ {
        move |hold| {
            let spec = &self.edges[edge].spec;
            FlowObservation::Backpressure {
                flow: self.name.clone(),
                from: spec.from.clone(),
                port: spec.port.clone(),
                to: spec.to.clone(),
                held: hold == Hold::Started,
            }
            .publish(&self.engine);
        }
    }

    /// Sets `element` aside at `stage` after `attempts`, with `error`.
    pub fn dead_letter(&self, stage: usize, element: &Element, error: &str, attempts: u32) {
        let letter = DeadLetter {
            flow: self.name.clone(),
            stage: self.stages[stage].node.name.clone(),
            sequence: element.sequence,
            error: error.to_owned(),
            attempts,
            at_ms: now_ms(),
            element: ElementView::of(element),
        };
        // Written before it is counted: whoever sees the count finds the
        // letter in the file.
        let written = self.dead_letters.append(&letter);
        let mut stats = self.stats(stage);
        stats.dead_letters += 1;
        if let Err(e) = written {
            // The element is still published and counted; the stage's
            // errors say its line is missing from the file.
            stats.failed(
                Some(element.sequence),
                &format!("the dead letter was not written: {e:#}"),
            );
        }
        drop(stats);
        FlowObservation::DeadLettered {
            flow: self.name.clone(),
            stage: letter.stage,
            sequence: element.sequence,
            error: error.to_owned(),
        }
        .publish(&self.engine);
    }

    /// Sampled every 100 ms: the edges' pressure; every second, the rates.
    pub fn sample(&self, second: bool) {
        for edge in &self.edges {
            edge.sample();
        }
        if second {
            for stage in 0..self.stages.len() {
                self.stats(stage).sample();
            }
        }
    }

    pub fn info(&self) -> FlowInfo {
        // The status first: a flow that says `finished` has its stages'
        // final counts in the same snapshot (its stages may be newer than
        // its status, never older).
        let (status, reason) = self.status();
        FlowInfo {
            name: self.name.clone(),
            status,
            reason,
            stages: (0..self.stages.len()).map(|i| self.stage_info(i)).collect(),
            edges: self.edges.iter().map(|e| e.info()).collect(),
        }
    }

    pub fn stage_info(&self, stage: usize) -> crate::info::StageInfo {
        let cell = &self.stages[stage];
        self.stats(stage)
            .info(&cell.node.name, &cell.module, cell.kind)
    }

    /// Passes `elements`, from `stage`, in order to every output edge of
    /// each one's port, waiting while a `block` queue holds the producer.
    /// Answers what `error` queues refused, with the edge of each.
    pub async fn emit(
        &self,
        stage: usize,
        elements: Vec<Element>,
    ) -> Result<Vec<(usize, Element)>, Refused> {
        let mut refused = Vec::new();
        let mut elements = elements;
        let outputs = &self.stages[stage].outputs;
        for (i, &edge) in outputs.iter().enumerate() {
            let port = &self.edges[edge].spec.port;
            // The last edge takes the elements themselves; the others a
            // copy, which shares the payload's bytes.
            let mine: Vec<Element> = if i + 1 == outputs.len() {
                std::mem::take(&mut elements)
                    .into_iter()
                    .filter(|e| e.port == *port)
                    .collect()
            } else {
                elements
                    .iter()
                    .filter(|e| e.port == *port)
                    .cloned()
                    .collect()
            };
            if mine.is_empty() {
                continue;
            }
            let out = self.edges[edge].push_all(mine, self.on_hold(edge)).await?;
            refused.extend(out.into_iter().map(|element| (edge, element)));
        }
        Ok(refused)
    }

    pub fn stage_index(&self, name: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.node.name == name)
    }
}

fn edge_indices(spec: &FlowSpec, keep: impl Fn(&crate::settings::EdgeSpec) -> bool) -> Vec<usize> {
    spec.edges
        .iter()
        .enumerate()
        .filter(|(_, e)| keep(e))
        .map(|(i, _)| i)
        .collect()
}
