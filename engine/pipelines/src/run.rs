//! The stage tasks of a run: one task per node (a push source has none:
//! pushes come from outside). Each task waits while the flow is paused,
//! moves to a new version of its module between two batches, takes a batch
//! from its input queues, calls its guest, and passes what came out on,
//! held by full `block` queues.
//!
//! A failing element is tried again alone, up to the node's `retries`, and
//! then set aside as a dead letter. A failed call (a trap, a timeout) makes
//! the instance again from the state saved after its last good batch, and
//! sends the batch again one element at a time, which finds the element
//! that failed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::bindings::{Output, ProcessorWorld, SinkWorld, SourceWorld, StageWorld, Verdict};
use crate::element::{Element, NewElement, now_ms};
use crate::flow::{Control, FlowRun};
use crate::info::{FlowStatus, StageStatus};
use crate::observe::FlowObservation;
use crate::settings::{Policy, StageSource};
use crate::stage::{GuestStage, Spent, StageCalls, StageContext, Started};
use crate::stats::Batch;

/// The task ends now: the engine (or the run) is shutting down.
#[derive(Debug)]
pub struct Shutdown;

/// How long an idle source waits before it is asked again, at most.
const IDLE_MAX: Duration = Duration::from_millis(200);

/// The thread a run's tasks share: a tokio runtime of one thread, so a
/// batch passes from stage to stage without waking another thread (which
/// cost more than the stages' own work, measured), and a busy flow never
/// holds up the engine's workers (its API, the other models, other flows).
pub struct RunThread {
    /// Resolves when every task of the run has ended.
    ended: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl RunThread {
    /// Waits for every task of the run to end.
    pub async fn join(self) {
        if let Some(ended) = self.ended {
            let _ = ended.await;
        }
    }
}

/// Starts the tasks of every node of `run` on a thread of the run's own.
pub fn spawn(run: &Arc<FlowRun>) -> RunThread {
    let tasks: Vec<usize> = (0..run.stages.len())
        .filter(|i| !run.stages[*i].is_push())
        .collect();
    let count = tasks.len();
    run.tasks(count);
    let (ended, on_end) = tokio::sync::oneshot::channel();
    let thread = {
        let run = run.clone();
        std::thread::Builder::new()
            .name(format!("wbx-flow-{}", run.name))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                match runtime {
                    Ok(runtime) => runtime.block_on(run_tasks(run, tasks)),
                    Err(e) => cannot_run(&run, &e, tasks.len()),
                }
                let _ = ended.send(());
            })
    };
    match thread {
        Ok(_) => RunThread {
            ended: Some(on_end),
        },
        Err(e) => {
            cannot_run(run, &e, count);
            RunThread { ended: None }
        }
    }
}

/// The run's tasks, on the run's thread, until every one has ended.
async fn run_tasks(run: Arc<FlowRun>, tasks: Vec<usize>) {
    let sampler = tokio::spawn(sample(run.clone()));
    let handles: Vec<_> = tasks
        .into_iter()
        .map(|stage| tokio::spawn(Runner::new(run.clone(), stage).run()))
        .chain([sampler])
        .collect();
    for handle in handles {
        let _ = handle.await;
    }
}

/// The run could not get its thread: it fails, saying why.
fn cannot_run(run: &FlowRun, error: &std::io::Error, tasks: usize) {
    run.set_status(
        FlowStatus::Failed,
        Some(format!("cannot start the flow's thread: {error}")),
    );
    for _ in 0..tasks {
        run.stage_ended();
    }
}

/// Samples the run's pressure every 100 ms and its rates every second.
async fn sample(run: Arc<FlowRun>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut ticks = 0u64;
    loop {
        tick.tick().await;
        ticks += 1;
        run.sample(ticks.is_multiple_of(10));
        if !run.live() {
            return;
        }
    }
}

/// What [`Runner::next_batch`] found.
enum Next {
    Batch(Batch),
    /// A module has a new version: look at it before the next batch.
    Swap,
    /// Every input is closed and drained, or the run shuts down.
    Done,
}

struct Runner {
    run: Arc<FlowRun>,
    stage: usize,
    control: watch::Receiver<Control>,
    swaps_seen: u64,
    /// The input edge taken from first, turning (fan-in fairness).
    next_input: usize,
    /// The content type of the last element the stage emitted: the next
    /// one most often has the same, and then shares it.
    content_type: Arc<str>,
}

impl Runner {
    fn new(run: Arc<FlowRun>, stage: usize) -> Runner {
        let control = run.control.subscribe();
        let swaps_seen = control.borrow().swapped;
        Runner {
            run,
            stage,
            control,
            swaps_seen,
            next_input: 0,
            content_type: Arc::from(crate::element::JSON),
        }
    }

    async fn run(mut self) {
        let node = self.run.stages[self.stage].node.clone();
        let result = match &node.stage {
            StageSource::Module { kind, .. } => match kind {
                crate::settings::StageKind::Source => self.guest::<SourceWorld>().await,
                crate::settings::StageKind::Processor => self.guest::<ProcessorWorld>().await,
                crate::settings::StageKind::Sink => self.guest::<SinkWorld>().await,
            },
            StageSource::Events { types, tags, from } => {
                self.set_status(StageStatus::Running);
                self.run.stage_started();
                self.events(types, tags, *from).await
            }
            StageSource::Push => unreachable!("a push source has no task"),
        };
        // A stage ended by a stop (not the engine's) lets those after it drain.
        let stopped = !self.shutting_down() && self.control.borrow().stopping;
        if result.is_ok() || stopped {
            for &edge in &self.run.stages[self.stage].outputs {
                self.run.edges[edge].close();
            }
        }
        if result.is_ok() {
            self.set_status(StageStatus::Finished);
        }
        self.run.stage_ended();
    }

    async fn guest<W: StageCalls>(&mut self) -> Result<(), Shutdown>
    where
        Runner: Drive<W>,
    {
        let cell = &self.run.stages[self.stage];
        let context = Arc::new(StageContext {
            engine: self.run.engine.clone(),
            capabilities: self.run.capabilities.clone(),
            module: cell.module.clone(),
            config: cell.node.config.to_string(),
            timeout: cell.node.timeout,
        });
        let mut stage = loop {
            match GuestStage::<W>::start(context.clone(), None).await {
                Ok((stage, _)) => break stage,
                Err(e) => self.failed(&e).await?,
            }
        };
        self.recovered(&stage.version.to_string());
        self.run.stage_started();
        self.drive(&mut stage).await
    }

    fn cell(&self) -> &crate::flow::StageCell {
        &self.run.stages[self.stage]
    }

    fn name(&self) -> String {
        self.cell().node.name.clone()
    }

    fn set_status(&self, status: StageStatus) {
        self.run.set_stage_status(self.stage, status);
    }

    /// At most this many elements a call.
    fn batch_size(&self) -> usize {
        let inputs = self
            .cell()
            .inputs
            .iter()
            .map(|&e| self.run.edges[e].spec.capacity);
        inputs
            .min()
            .unwrap_or(usize::MAX)
            .min(self.run.spec.batch)
            .max(1)
    }

    fn shutting_down(&self) -> bool {
        self.control.borrow().shutdown
    }

    /// Waits while the flow is paused.
    async fn gate(&mut self) -> Result<(), Shutdown> {
        loop {
            let control = *self.control.borrow_and_update();
            if control.shutdown {
                return Err(Shutdown);
            }
            if !control.paused {
                return Ok(());
            }
            self.set_status(StageStatus::Paused);
            if self.control.changed().await.is_err() {
                return Err(Shutdown);
            }
            self.set_status(StageStatus::Running);
        }
    }

    /// True once, when a module has had a new version since last asked.
    fn swap_due(&mut self) -> bool {
        let swapped = self.control.borrow().swapped;
        let due = swapped != self.swaps_seen;
        self.swaps_seen = swapped;
        due
    }

    /// The next batch of a processor or a sink, moved to its module's new
    /// version first when one came; `None` once its inputs are drained.
    async fn next_for<W: StageCalls>(
        &mut self,
        stage: &mut GuestStage<W>,
    ) -> Result<Option<Batch>, Shutdown> {
        loop {
            match self.next_batch().await {
                Next::Batch(batch) => return Ok(Some(batch)),
                Next::Swap => self.swap(stage).await,
                Next::Done if self.shutting_down() => return Err(Shutdown),
                Next::Done => return Ok(None),
            }
        }
    }

    async fn next_batch(&mut self) -> Next {
        loop {
            if self.gate().await.is_err() {
                return Next::Done;
            }
            if self.swap_due() {
                return Next::Swap;
            }
            let items = self.cell().items.clone();
            let woken = items.notified();
            let batch = self.take(self.batch_size());
            if !batch.is_empty() {
                let batch = Arc::new(batch);
                self.run.stats(self.stage).took(&batch);
                return Next::Batch(batch);
            }
            let inputs = &self.cell().inputs;
            if inputs.iter().all(|&e| self.run.edges[e].exhausted()) {
                return Next::Done;
            }
            tokio::select! {
                _ = woken => {}
                changed = self.control.changed() => if changed.is_err() { return Next::Done },
            }
        }
    }

    /// Up to `max` elements from the inputs, the first input turning.
    fn take(&mut self, max: usize) -> Vec<Element> {
        let run = &self.run;
        let inputs = &run.stages[self.stage].inputs;
        let mut batch = Vec::with_capacity(max);
        for i in 0..inputs.len() {
            let edge = inputs[(self.next_input + i) % inputs.len()];
            run.edges[edge].take(max - batch.len(), &mut batch, run.on_hold(edge));
            if batch.len() == max {
                break;
            }
        }
        self.next_input = self.next_input.wrapping_add(1);
        batch
    }

    /// Passes `elements` on; an `error` queue that is full sets what it
    /// refused aside at the stage that queue feeds.
    async fn emit(&self, elements: Vec<Element>) -> Result<(), Shutdown> {
        let refused = match self.run.emit(self.stage, elements).await {
            Ok(refused) => refused,
            Err(_) => return Err(Shutdown),
        };
        for (edge, element) in refused {
            let spec = &self.run.edges[edge].spec;
            let to = self
                .run
                .stage_index(&spec.to)
                .expect("an edge's node exists");
            let error = format!(
                "the queue {} → {} was full (policy error)",
                spec.from, spec.to
            );
            self.run.dead_letter(to, &element, &error, 1);
        }
        Ok(())
    }

    /// Numbers what a stage emitted for one input (its timestamp kept) and
    /// passes it on.
    async fn emit_outputs(
        &mut self,
        outputs: Vec<Output>,
        timestamp_ms: u64,
    ) -> Result<(), Shutdown> {
        let mut elements = Vec::with_capacity(outputs.len());
        self.number(outputs, timestamp_ms, &mut elements);
        self.emit_numbered(elements).await
    }

    /// Numbers `outputs` in order onto `into`, each with `timestamp_ms`.
    fn number(&mut self, outputs: Vec<Output>, timestamp_ms: u64, into: &mut Vec<Element>) {
        let first = self.run.next_sequences(outputs.len());
        for (sequence, output) in (first..).zip(outputs) {
            if *self.content_type != *output.content_type {
                self.content_type = Arc::from(output.content_type);
            }
            into.push(Element {
                payload: output.payload.into(),
                content_type: self.content_type.clone(),
                key: output.key,
                sequence,
                timestamp_ms,
                port: output.port,
            });
        }
    }

    /// Counts numbered elements out of the stage and passes them on.
    async fn emit_numbered(&self, elements: Vec<Element>) -> Result<(), Shutdown> {
        self.run.stats(self.stage).emitted(&elements);
        self.emit(elements).await
    }

    /// Why `outputs` cannot all be passed on: a port no edge leaves.
    fn unroutable(&self, outputs: &[Output]) -> Option<String> {
        let edges = &self.cell().outputs;
        outputs.iter().find_map(|output| {
            let routed = edges
                .iter()
                .any(|&e| self.run.edges[e].spec.port == output.port);
            match (&output.port, routed) {
                (_, true) => None,
                (Some(port), false) => {
                    Some(format!("it emitted to port '{port}', which no edge leaves"))
                }
                (None, false) => {
                    Some("it emitted to no port, and every edge leaving it names one".to_owned())
                }
            }
        })
    }

    /// The stage could not start: the flow says so, and the stage waits for
    /// a new version of its module (or the end of the run).
    async fn failed(&mut self, error: &str) -> Result<(), Shutdown> {
        self.set_status(StageStatus::Failed);
        self.run.set_status(
            FlowStatus::Failed,
            Some(format!("stage '{}': {error}", self.name())),
        );
        loop {
            if self.control.changed().await.is_err() || self.shutting_down() {
                return Err(Shutdown);
            }
            // A stop ends it: it has nothing to drain.
            if self.control.borrow().stopping {
                return Err(Shutdown);
            }
            if self.swap_due() {
                return Ok(());
            }
        }
    }

    /// The stage runs again after failing to start.
    fn recovered(&self, version: &str) {
        self.run.stats(self.stage).version = Some(version.to_owned());
        self.set_status(StageStatus::Running);
        let (status, _) = self.run.status();
        if status == FlowStatus::Failed {
            let control = *self.control.borrow();
            self.run.set_status(
                if control.paused {
                    FlowStatus::Paused
                } else {
                    FlowStatus::Running
                },
                None,
            );
        }
    }

    /// Makes the instance again after a failed call on `sequence`.
    async fn restart<W: StageCalls>(
        &mut self,
        stage: &mut GuestStage<W>,
        sequence: Option<u64>,
        error: &str,
    ) -> Result<(), Shutdown> {
        self.set_status(StageStatus::Restarting);
        self.run.stats(self.stage).restarts += 1;
        FlowObservation::StageRestarted {
            flow: self.run.name.clone(),
            stage: self.name(),
            sequence,
            error: error.to_owned(),
        }
        .publish(&self.run.engine);
        loop {
            match stage.restart().await {
                Ok(_) => {
                    self.recovered(&stage.version.to_string());
                    return Ok(());
                }
                Err(e) => self.failed(&e).await?,
            }
        }
    }

    /// Moves the stage to its module's new version, if there is one.
    async fn swap<W: StageCalls>(&mut self, stage: &mut GuestStage<W>) {
        self.set_status(StageStatus::Swapping);
        let swapped = stage.swap().await;
        self.set_status(StageStatus::Running);
        let (carried, note) = match swapped {
            None => return,
            Some(Ok(started)) => (started == Started::Restored, None),
            Some(Err(e)) => (false, Some(format!("stayed on {}: {e}", stage.version))),
        };
        self.run.stats(self.stage).version = Some(stage.version.to_string());
        FlowObservation::StageSwapped {
            flow: self.run.name.clone(),
            stage: self.name(),
            version: stage.version.to_string(),
            carried,
            note,
        }
        .publish(&self.run.engine);
    }

    /// Saves the stage's state after a good batch: a failed save is an
    /// error of the stage, and a restart starts from the state before.
    async fn save<W: StageCalls>(&self, stage: &mut GuestStage<W>) {
        if let Err(e) = stage.save().await {
            self.run.stats(self.stage).failed(None, &e);
        }
    }

    /// A call on a whole batch failed: counted, the batch kept among the
    /// last elements in as the failure's context, and its elements answered
    /// to be tried one by one.
    fn batch_failed(&self, error: &str, batch: Batch) -> Vec<Element> {
        self.run.stats(self.stage).failed_on(batch, error)
    }

    /// One failed attempt at `element`: counted; when it was the last, the
    /// element is set aside. True when it may be tried again.
    fn attempt_failed(&self, element: &Element, error: &str, attempts: u32) -> bool {
        self.run
            .stats(self.stage)
            .failed(Some(element.sequence), error);
        if attempts > self.cell().node.retries {
            self.run.dead_letter(self.stage, element, error, attempts);
            false
        } else {
            true
        }
    }

    /// Waits until every `block` output has room, and says how much (at
    /// most a batch). Other policies never hold a producer.
    async fn room(&mut self) -> Result<usize, Shutdown> {
        let batch = self.run.spec.batch;
        // Most often there is room: no need to get ready to wait for it.
        let room = self.free_room(batch);
        if room > 0 {
            return Ok(room);
        }
        // The stages take turns on the flow's thread, and the consumer of a
        // queue this stage just filled is most often ready to take from it:
        // its turn first, so that a queue drained at once holds nobody (a
        // hold at every batch cost a steady flow its share of the time).
        tokio::task::yield_now().await;
        let room = self.free_room(batch);
        if room > 0 {
            return Ok(room);
        }
        loop {
            let held: Vec<usize> = self.block_outputs().collect();
            let edges = self.run.edges.clone();
            let freed: Vec<_> = held.iter().map(|&e| edges[e].room_freed()).collect();
            let room = held
                .iter()
                .map(|&e| edges[e].room(self.run.on_hold(e)))
                .min()
                .unwrap_or(batch)
                .min(batch);
            if room > 0 {
                return Ok(room);
            }
            let any_freed = futures_util::future::select_all(freed.into_iter().map(Box::pin));
            tokio::select! {
                _ = any_freed => {}
                changed = self.control.changed() => if changed.is_err() { return Err(Shutdown) },
            }
            self.gate().await?;
            if self.control.borrow().stopping {
                return Ok(0);
            }
        }
    }

    /// The room every `block` output has without holding the stage, at
    /// most `batch`.
    fn free_room(&self, batch: usize) -> usize {
        let free = self.block_outputs().map(|e| self.run.edges[e].free());
        free.min().unwrap_or(batch).min(batch)
    }

    /// The stage's output edges whose queues hold it when full.
    fn block_outputs(&self) -> impl Iterator<Item = usize> + '_ {
        self.cell()
            .outputs
            .iter()
            .copied()
            .filter(|&e| self.run.edges[e].spec.policy == Policy::Block)
    }

    /// Sleeps `wait`, or less when the run's control changes.
    async fn pause_for(&mut self, wait: Duration) -> Result<(), Shutdown> {
        tokio::select! {
            _ = tokio::time::sleep(wait) => Ok(()),
            changed = self.control.changed() => changed.map_err(|_| Shutdown),
        }
    }

    /// The events source: the log's events of its query after `from`, then
    /// each new one as it is appended.
    async fn events(
        &mut self,
        types: &[String],
        tags: &[String],
        from: u64,
    ) -> Result<(), Shutdown> {
        let Some(log) = self.run.capabilities.events() else {
            loop {
                self.failed("no event log: the events model is not running")
                    .await?;
            }
        };
        let mut head = log.watch_head();
        let mut position = from;
        loop {
            self.gate().await?;
            if self.control.borrow().stopping {
                return Ok(());
            }
            let room = self.room().await?;
            if room == 0 {
                continue;
            }
            head.mark_unchanged();
            let events = match log.read_after(types, tags, position, room) {
                Ok(events) => events,
                Err(e) => {
                    self.run.stats(self.stage).failed(None, &format!("{e:#}"));
                    self.pause_for(IDLE_MAX).await?;
                    continue;
                }
            };
            if events.is_empty() {
                tokio::select! {
                    changed = head.changed() => if changed.is_err() { return Err(Shutdown) },
                    changed = self.control.changed() => if changed.is_err() { return Err(Shutdown) },
                }
                continue;
            }
            let now = now_ms();
            let elements: Vec<Element> = events
                .into_iter()
                .map(|event| {
                    position = event.position;
                    NewElement::json(event.json).numbered(self.run.next_sequence(), now)
                })
                .collect();
            self.run.stats(self.stage).passed(&elements);
            self.emit(elements).await?;
        }
    }
}

/// How a guest stage of world `W` runs once started.
trait Drive<W: StageWorld> {
    async fn drive(&mut self, stage: &mut GuestStage<W>) -> Result<(), Shutdown>;
}

impl Drive<SourceWorld> for Runner {
    async fn drive(&mut self, stage: &mut GuestStage<SourceWorld>) -> Result<(), Shutdown> {
        let mut idle = Duration::from_millis(1);
        loop {
            self.gate().await?;
            if self.control.borrow().stopping {
                return Ok(());
            }
            if self.swap_due() {
                self.swap(stage).await;
            }
            let room = self.room().await?;
            if room == 0 {
                continue;
            }
            let started = Instant::now();
            let pulled = match stage.pull(room as u32).await {
                Ok(Ok(pulled)) => pulled,
                Ok(Err(e)) => {
                    self.run.stats(self.stage).failed(None, &e);
                    self.pause_for(IDLE_MAX).await?;
                    continue;
                }
                Err(Spent(e)) => {
                    self.run.stats(self.stage).failed(None, &e);
                    self.restart(stage, None, &e).await?;
                    continue;
                }
            };
            let produced = pulled.elements.len();
            self.run
                .stats(self.stage)
                .timed(started.elapsed(), produced);
            if let Some(error) = self.unroutable(&pulled.elements) {
                self.run.stats(self.stage).failed(None, &error);
            } else {
                self.emit_outputs(pulled.elements, now_ms()).await?;
            }
            self.save(stage).await;
            if pulled.finished {
                return Ok(());
            }
            if produced == 0 {
                self.pause_for(idle).await?;
                idle = (idle * 2).min(IDLE_MAX);
            } else {
                idle = Duration::from_millis(1);
            }
        }
    }
}

impl Drive<ProcessorWorld> for Runner {
    async fn drive(&mut self, stage: &mut GuestStage<ProcessorWorld>) -> Result<(), Shutdown> {
        while let Some(batch) = self.next_for(stage).await? {
            let started = Instant::now();
            match stage.process(&batch).await {
                Ok(results) if results.len() == batch.len() => {
                    self.run
                        .stats(self.stage)
                        .timed(started.elapsed(), batch.len());
                    // What passed goes on at once, a batch per edge; what
                    // failed is tried again alone afterwards.
                    let mut failed = Vec::new();
                    let mut passed = Vec::with_capacity(batch.len());
                    for (element, result) in batch.iter().zip(results) {
                        match result {
                            Ok(outputs) => match self.unroutable(&outputs) {
                                None => self.number(outputs, element.timestamp_ms, &mut passed),
                                Some(error) => failed.push((element.clone(), error)),
                            },
                            Err(error) => failed.push((element.clone(), error)),
                        }
                    }
                    self.run.stats(self.stage).given(batch);
                    self.emit_numbered(passed).await?;
                    self.save(stage).await;
                    for (element, error) in failed {
                        if self.attempt_failed(&element, &error, 1) {
                            self.process_alone(stage, element, 1).await?;
                        }
                    }
                }
                Ok(results) => {
                    let error = format!(
                        "process returned {} results for {} elements",
                        results.len(),
                        batch.len()
                    );
                    for element in self.batch_failed(&error, batch) {
                        self.process_alone(stage, element, 0).await?;
                    }
                }
                Err(Spent(error)) => {
                    let batch = self.batch_failed(&error, batch);
                    self.restart(stage, None, &error).await?;
                    for element in batch {
                        self.process_alone(stage, element, 0).await?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl Runner {
    /// Tries `element` alone until it passes or has had its retries.
    async fn process_alone(
        &mut self,
        stage: &mut GuestStage<ProcessorWorld>,
        element: Element,
        mut attempts: u32,
    ) -> Result<(), Shutdown> {
        loop {
            attempts += 1;
            let error = match stage.process(std::slice::from_ref(&element)).await {
                Ok(mut results) if results.len() == 1 => match results.pop().expect("one") {
                    Ok(outputs) => match self.unroutable(&outputs) {
                        None => {
                            self.emit_outputs(outputs, element.timestamp_ms).await?;
                            self.save(stage).await;
                            return Ok(());
                        }
                        Some(error) => error,
                    },
                    Err(error) => error,
                },
                Ok(results) => format!("process returned {} results for 1 element", results.len()),
                Err(Spent(error)) => {
                    self.restart(stage, Some(element.sequence), &error).await?;
                    error
                }
            };
            if !self.attempt_failed(&element, &error, attempts) {
                return Ok(());
            }
        }
    }

    /// Consumes `element` alone until it is taken or has had its retries.
    async fn consume_alone(
        &mut self,
        stage: &mut GuestStage<SinkWorld>,
        element: Element,
    ) -> Result<Option<Verdict>, Shutdown> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let error = match stage.consume(std::slice::from_ref(&element)).await {
                Ok(Ok(verdict)) => {
                    self.run
                        .stats(self.stage)
                        .emitted(std::slice::from_ref(&element));
                    self.save(stage).await;
                    return Ok(Some(verdict));
                }
                Ok(Err(error)) => error,
                Err(Spent(error)) => {
                    self.restart(stage, Some(element.sequence), &error).await?;
                    error
                }
            };
            if !self.attempt_failed(&element, &error, attempts) {
                return Ok(None);
            }
        }
    }

    /// Holds the sink's input as its verdict asks.
    async fn obey(&mut self, verdict: Verdict) -> Result<(), Shutdown> {
        match verdict {
            Verdict::Accept => Ok(()),
            Verdict::Throttle(ms) => {
                self.set_status(StageStatus::Throttled);
                let until = Instant::now() + Duration::from_millis(ms);
                while Instant::now() < until && !self.control.borrow().stopping {
                    self.pause_for(until - Instant::now()).await?;
                    if self.shutting_down() {
                        return Err(Shutdown);
                    }
                }
                self.set_status(StageStatus::Running);
                Ok(())
            }
            Verdict::Pause => {
                self.set_status(StageStatus::Paused);
                let resumed = self.control.borrow().resumed;
                loop {
                    let control = *self.control.borrow_and_update();
                    if control.shutdown {
                        return Err(Shutdown);
                    }
                    if control.resumed != resumed || control.stopping {
                        break;
                    }
                    if self.control.changed().await.is_err() {
                        return Err(Shutdown);
                    }
                }
                self.set_status(StageStatus::Running);
                Ok(())
            }
        }
    }
}

impl Drive<SinkWorld> for Runner {
    async fn drive(&mut self, stage: &mut GuestStage<SinkWorld>) -> Result<(), Shutdown> {
        while let Some(batch) = self.next_for(stage).await? {
            let started = Instant::now();
            let verdict = match stage.consume(&batch).await {
                Ok(Ok(verdict)) => {
                    {
                        let mut stats = self.run.stats(self.stage);
                        stats.timed(started.elapsed(), batch.len());
                        stats.emitted(&batch);
                        stats.given(batch);
                    }
                    self.save(stage).await;
                    verdict
                }
                failure => {
                    let error = match &failure {
                        Err(Spent(error)) | Ok(Err(error)) => error.clone(),
                        Ok(Ok(_)) => unreachable!("matched above"),
                    };
                    let batch = self.batch_failed(&error, batch);
                    if let Err(Spent(error)) = &failure {
                        self.restart(stage, None, error).await?;
                    }
                    let mut last = Verdict::Accept;
                    for element in batch {
                        if let Some(verdict) = self.consume_alone(stage, element).await? {
                            last = verdict;
                        }
                    }
                    last
                }
            };
            self.obey(verdict).await?;
        }
        Ok(())
    }
}
