//! An edge: the bounded queue between a producer and a consumer stage, and
//! what makes backpressure real and visible.
//!
//! Under `block`, a producer that finds the queue full is held until the
//! consumer has taken it down to the low watermark (hysteresis, so a held
//! producer is not woken for every element). The drop policies drop and
//! count; `error` refuses the element to its producer, which sets it aside
//! as a dead letter. Each start and end of a hold is counted and published.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, broadcast};
use wbx_core::sync::lock;

use crate::element::Element;
use crate::info::{EdgeInfo, ElementView, Pressure};
use crate::settings::{EdgeSpec, Policy};

/// Elements a tap holds for a slow reader before it skips some.
const TAP_BUFFER: usize = 4096;
/// How many 100 ms samples of `held` the pressure is judged over (10 s).
const SAMPLES: usize = 100;

/// Why an element did not enter the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// An `error` queue was full: the index of the edge in its run.
    Full(usize),
    /// The flow is stopping: nothing waits for room any more.
    Closed,
}

pub struct Edge {
    pub spec: EdgeSpec,
    /// Its place among its run's edges.
    index: usize,
    state: Mutex<EdgeState>,
    /// Wakes the consumer stage (shared by all its input edges).
    items: Arc<Notify>,
    /// Wakes a held producer.
    room: Notify,
    /// Made on the first tap: most edges are never tapped.
    tap: OnceLock<broadcast::Sender<ElementView>>,
}

#[derive(Default)]
struct EdgeState {
    queue: VecDeque<Element>,
    held_since: Option<Instant>,
    blocked: Duration,
    high_water: usize,
    passed: u64,
    dropped: u64,
    triggered: u64,
    relieved: u64,
    /// The producer will add nothing more.
    closed: bool,
    /// Producers waiting for room give up (the flow is stopping).
    aborted: bool,
    samples: VecDeque<bool>,
}

/// A hold starting or ending, for the caller to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    Started,
    Ended,
}

impl Edge {
    pub fn new(index: usize, spec: EdgeSpec, items: Arc<Notify>) -> Edge {
        Edge {
            spec,
            index,
            state: Mutex::new(EdgeState::default()),
            items,
            room: Notify::new(),
            tap: OnceLock::new(),
        }
    }

    /// Queues `element` under the edge's policy; `on_hold` hears of a hold
    /// starting (and the caller waits through it).
    pub async fn push(&self, element: Element, on_hold: impl Fn(Hold)) -> Result<(), Refused> {
        match self.push_all(vec![element], on_hold).await?.is_empty() {
            true => Ok(()),
            false => Err(Refused::Full(self.index)),
        }
    }

    /// Queues `elements` in order under the edge's policy, waking the
    /// consumer once for each run of them (so it takes them as a batch,
    /// not one by one); `on_hold` hears of a hold starting, and the caller
    /// waits through it. Answers the elements an `error` queue refused.
    pub async fn push_all(
        &self,
        elements: Vec<Element>,
        on_hold: impl Fn(Hold),
    ) -> Result<Vec<Element>, Refused> {
        let mut pending = elements.into_iter().peekable();
        let mut refused = Vec::new();
        while pending.peek().is_some() {
            let tapped = self.tap.get().is_some_and(|tap| tap.receiver_count() > 0);
            let room = self.room.notified();
            let (queued, held) = {
                let mut state = lock(&self.state);
                // Closed: its consumer may have ended already.
                if state.aborted || state.closed {
                    return Err(Refused::Closed);
                }
                let (mut queued, mut held) = (0, false);
                while let Some(element) = pending.peek() {
                    let full = state.queue.len() >= self.spec.capacity;
                    match self.spec.policy {
                        Policy::Block if full || state.held_since.is_some() => {
                            if state.held_since.is_none() {
                                state.held_since = Some(Instant::now());
                                state.triggered += 1;
                                held = true;
                            }
                            break;
                        }
                        Policy::DropNewest if full => {
                            state.dropped += 1;
                            pending.next();
                        }
                        Policy::Error if full => {
                            state.dropped += 1;
                            refused.extend(pending.next());
                        }
                        _ => {
                            if full {
                                // Only `drop-oldest` gets here full.
                                state.queue.pop_front();
                                state.dropped += 1;
                            }
                            if tapped && let Some(tap) = self.tap.get() {
                                let _ = tap.send(ElementView::of(element));
                            }
                            // Untapped, all that fits goes in at once.
                            let n = if tapped || full {
                                1
                            } else {
                                (self.spec.capacity - state.queue.len()).min(pending.len())
                            };
                            state.queue.extend(pending.by_ref().take(n));
                            state.passed += n as u64;
                            state.high_water = state.high_water.max(state.queue.len());
                            queued += n;
                        }
                    }
                }
                (queued, held)
            };
            if queued > 0 {
                self.items.notify_one();
            }
            if held {
                on_hold(Hold::Started);
            }
            if pending.peek().is_some() {
                room.await;
            }
        }
        Ok(refused)
    }

    /// Takes up to `max` elements; `on_hold` hears of a hold ending.
    pub fn take(&self, max: usize, into: &mut Vec<Element>, on_hold: impl Fn(Hold)) {
        let mut state = lock(&self.state);
        let n = max.min(state.queue.len());
        into.extend(state.queue.drain(..n));
        if n == 0 {
            return;
        }
        let relieved = match state.held_since {
            Some(since) if state.queue.len() <= self.spec.low => {
                state.blocked += since.elapsed();
                state.held_since = None;
                state.relieved += 1;
                true
            }
            _ => false,
        };
        drop(state);
        if relieved {
            self.room.notify_waiters();
            on_hold(Hold::Ended);
        }
    }

    /// Room a producer may fill without being held: none while held. A
    /// producer that asks before it makes elements (a source) and finds the
    /// queue full is held from then on, as a push into it would be.
    pub fn room(&self, on_hold: impl Fn(Hold)) -> usize {
        let mut state = lock(&self.state);
        if state.held_since.is_some() {
            return 0;
        }
        let room = self.spec.capacity.saturating_sub(state.queue.len());
        if room == 0 {
            state.held_since = Some(Instant::now());
            state.triggered += 1;
            drop(state);
            on_hold(Hold::Started);
        }
        room
    }

    /// Room left, 0 while the producer is held; unlike [`Self::room`], a
    /// full queue does not start a hold.
    pub fn free(&self) -> usize {
        let state = lock(&self.state);
        match state.held_since {
            Some(_) => 0,
            None => self.spec.capacity.saturating_sub(state.queue.len()),
        }
    }

    /// Resolves when a consumer frees room after a hold: make it before
    /// looking at [`Self::room`], then await it when there was none.
    pub fn room_freed(&self) -> tokio::sync::futures::Notified<'_> {
        self.room.notified()
    }

    /// The producer will add nothing more.
    pub fn close(&self) {
        lock(&self.state).closed = true;
        self.items.notify_one();
    }

    /// Closed and empty: the consumer has seen everything.
    pub fn exhausted(&self) -> bool {
        let state = lock(&self.state);
        state.closed && state.queue.is_empty()
    }

    /// Producers waiting for room stop waiting.
    pub fn abort(&self) {
        lock(&self.state).aborted = true;
        self.room.notify_waiters();
    }

    /// Whether the producer is held now, for the pressure over the last
    /// seconds (sampled every 100 ms, as Flink does).
    pub fn sample(&self) {
        let mut state = lock(&self.state);
        let held = state.held_since.is_some();
        state.samples.push_back(held);
        if state.samples.len() > SAMPLES {
            state.samples.pop_front();
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ElementView> {
        self.tap
            .get_or_init(|| broadcast::channel(TAP_BUFFER).0)
            .subscribe()
    }

    pub fn info(&self) -> EdgeInfo {
        let state = lock(&self.state);
        let held_samples = state.samples.iter().filter(|held| **held).count();
        let share = held_samples as f64 / state.samples.len().max(1) as f64;
        let ongoing = state.held_since.map(|s| s.elapsed()).unwrap_or_default();
        EdgeInfo {
            from: self.spec.from.clone(),
            port: self.spec.port.clone(),
            to: self.spec.to.clone(),
            depth: state.queue.len(),
            capacity: self.spec.capacity,
            low: self.spec.low,
            policy: self.spec.policy,
            dropped: state.dropped,
            high_water: state.high_water,
            passed: state.passed,
            held: state.held_since.is_some(),
            blocked_ms: (state.blocked + ongoing).as_millis() as u64,
            backpressure: if share <= 0.1 {
                Pressure::Ok
            } else if share <= 0.5 {
                Pressure::Low
            } else {
                Pressure::High
            },
            triggered: state.triggered,
            relieved: state.relieved,
        }
    }
}
