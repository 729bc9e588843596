//! What a stage counts as it runs, for views: elements in and out, errors,
//! restarts, its rate (sampled each second), the guest time per element (a
//! histogram), the last elements in (with the batch the guest has now) and
//! out, and the last errors.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use crate::element::{Element, now_ms};
use crate::info::{Bucket, ElementView, StageError, StageInfo, StageStatus};

/// Elements, errors kept for a stage's detail.
const LAST: usize = 16;
/// Seconds of rate history.
const HISTORY: usize = 60;
/// Seconds the rate is averaged over.
const RATE_WINDOW: usize = 3;
/// Histogram buckets: up to 2^i µs, the last one for everything above.
const BUCKETS: usize = 24;

pub struct StageStats {
    pub status: StageStatus,
    pub version: Option<String>,
    pub taken: u64,
    pub out: u64,
    pub errors: u64,
    pub dead_letters: u64,
    pub restarts: u64,
    buckets: [u64; BUCKETS],
    /// Elements out per second, the last [`HISTORY`] seconds.
    history: VecDeque<u64>,
    out_at_last_sample: u64,
    last_in: VecDeque<Element>,
    /// The batch the guest has now, shown after `last_in`.
    in_flight: Option<Batch>,
    last_out: VecDeque<Element>,
    last_errors: VecDeque<StageError>,
}

/// A batch taken off a stage's inputs, shared between the stage's call and
/// its stats while the call runs.
pub type Batch = Arc<Vec<Element>>;

impl StageStats {
    pub fn new(version: Option<String>) -> StageStats {
        StageStats {
            status: StageStatus::Starting,
            version,
            taken: 0,
            out: 0,
            errors: 0,
            dead_letters: 0,
            restarts: 0,
            buckets: [0; BUCKETS],
            history: VecDeque::with_capacity(HISTORY),
            out_at_last_sample: 0,
            last_in: VecDeque::new(),
            in_flight: None,
            last_out: VecDeque::new(),
            last_errors: VecDeque::new(),
        }
    }

    /// `batch` went in: counted, and shown among the last elements in
    /// while the guest has it.
    pub fn took(&mut self, batch: &Batch) {
        self.taken += batch.len() as u64;
        self.in_flight = Some(batch.clone());
    }

    /// The guest is done with `batch`: its last elements are kept for
    /// views, moved rather than copied (copies cost the busiest flows a few
    /// per cent; the stats' own share of the batch goes first, so there is
    /// nothing to copy).
    pub fn given(&mut self, batch: Batch) {
        self.in_flight = None;
        let mut elements = Arc::unwrap_or_clone(batch);
        let tail = elements.len().saturating_sub(LAST);
        keep_last(&mut self.last_in, elements.drain(tail..));
    }

    /// The guest failed on `batch`: its last elements are kept (copies:
    /// failures are rare), and the elements answered, to be tried again.
    pub fn failed_on(&mut self, batch: Batch, error: &str) -> Vec<Element> {
        self.failed(None, error);
        self.in_flight = None;
        let elements = Arc::unwrap_or_clone(batch);
        keep_copies(&mut self.last_in, &elements);
        elements
    }

    /// Elements a host stage (a push, the events source) passed on as they
    /// came: in and out at once.
    pub fn passed(&mut self, elements: &[Element]) {
        self.taken += elements.len() as u64;
        keep_copies(&mut self.last_in, elements);
        self.emitted(elements);
    }

    /// Elements came out (a sink: were consumed).
    pub fn emitted(&mut self, out: &[Element]) {
        self.out += out.len() as u64;
        keep_copies(&mut self.last_out, out);
    }

    /// A guest call on `elements` elements took `took`.
    pub fn timed(&mut self, took: Duration, elements: usize) {
        if elements == 0 {
            return;
        }
        let per_element = took.as_micros() as u64 / elements as u64;
        let bucket = (u64::BITS - per_element.leading_zeros()) as usize;
        self.buckets[bucket.min(BUCKETS - 1)] += elements as u64;
    }

    pub fn failed(&mut self, sequence: Option<u64>, error: &str) {
        self.errors += 1;
        if self.last_errors.len() == LAST {
            self.last_errors.pop_front();
        }
        self.last_errors.push_back(StageError {
            at_ms: now_ms(),
            sequence,
            error: error.to_owned(),
        });
    }

    /// Called once a second: the rate history moves on.
    pub fn sample(&mut self) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(self.out - self.out_at_last_sample);
        self.out_at_last_sample = self.out;
    }

    fn percentile(&self, share: f64) -> u64 {
        let total: u64 = self.buckets.iter().sum();
        if total == 0 {
            return 0;
        }
        let rank = (total as f64 * share).ceil() as u64;
        let mut seen = 0;
        for (i, count) in self.buckets.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return upper_bound(i);
            }
        }
        upper_bound(BUCKETS - 1)
    }

    pub fn info(&self, name: &str, module: &str, kind: &str) -> StageInfo {
        let recent: Vec<u64> = self
            .history
            .iter()
            .rev()
            .take(RATE_WINDOW)
            .copied()
            .collect();
        StageInfo {
            name: name.to_owned(),
            module: module.to_owned(),
            kind: kind.to_owned(),
            version: self.version.clone(),
            status: self.status,
            taken: self.taken,
            out: self.out,
            errors: self.errors,
            dead_letters: self.dead_letters,
            restarts: self.restarts,
            per_second: recent.iter().sum::<u64>() as f64 / recent.len().max(1) as f64,
            p50_us: self.percentile(0.5),
            p99_us: self.percentile(0.99),
            history: self.history.iter().copied().collect(),
        }
    }

    pub fn latency(&self) -> Vec<Bucket> {
        let last = self.buckets.iter().rposition(|c| *c > 0).unwrap_or(0);
        (0..=last)
            .map(|i| Bucket {
                le_us: upper_bound(i),
                count: self.buckets[i],
            })
            .collect()
    }

    pub fn last_in(&self) -> Vec<ElementView> {
        let flight = self
            .in_flight
            .as_deref()
            .map_or(&[][..], |batch| &batch[batch.len().saturating_sub(LAST)..]);
        let older = (self.last_in.len() + flight.len()).saturating_sub(LAST);
        self.last_in
            .iter()
            .skip(older)
            .chain(flight)
            .map(ElementView::of)
            .collect()
    }

    pub fn last_out(&self) -> Vec<ElementView> {
        self.last_out.iter().map(ElementView::of).collect()
    }

    pub fn last_errors(&self) -> Vec<StageError> {
        self.last_errors.iter().cloned().collect()
    }
}

/// The largest per-element time bucket `i` holds, in µs.
fn upper_bound(i: usize) -> u64 {
    if i == 0 { 0 } else { (1u64 << i) - 1 }
}

/// Keeps copies of the last of `elements` at the end of `ring`.
fn keep_copies(ring: &mut VecDeque<Element>, elements: &[Element]) {
    let tail = &elements[elements.len().saturating_sub(LAST)..];
    keep_last(ring, tail.iter().cloned());
}

/// Keeps `tail` (at most [`LAST`] elements) at the end of `ring`.
fn keep_last(ring: &mut VecDeque<Element>, tail: impl Iterator<Item = Element>) {
    for element in tail {
        if ring.len() == LAST {
            ring.pop_front();
        }
        ring.push_back(element);
    }
}
