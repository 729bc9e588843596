//! What one guest store may use: memory, tables, instances and time.
//!
//! The limiter remembers what it refused, so that when a guest traps after a
//! failed allocation the error can say it hit the memory limit instead of
//! showing only the guest's own abort.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::ResourceLimiter;

use crate::sync::lock;

/// Per-store limits. The defaults suit a development machine; `wbx.toml`'s
/// `[engine]` table overrides them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest linear memory a guest may grow to, in bytes.
    pub memory_bytes: usize,
    /// Largest table a guest may grow to, in elements.
    pub table_elements: usize,
    /// How long one guest call may run before it is interrupted.
    pub call_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 64 << 20,
            table_elements: 100_000,
            call_timeout: Duration::from_secs(5),
        }
    }
}

/// What the limiter refused, kept for the error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Memory { desired: usize, limit: usize },
    Table { desired: usize, limit: usize },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Memory { desired, limit } => write!(
                f,
                "memory limit reached: the guest asked to grow its memory to {} but the limit is {}",
                mib(*desired),
                mib(*limit)
            ),
            Refusal::Table { desired, limit } => write!(
                f,
                "table limit reached: the guest asked for {desired} table elements but the limit is {limit}"
            ),
        }
    }
}

fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

/// The `ResourceLimiter` installed in every guest store.
#[derive(Debug)]
pub(crate) struct Limiter {
    limits: Limits,
    /// Shared with the instance, which reads it to explain a failed call.
    pub(crate) refused: Arc<Mutex<Option<Refusal>>>,
    /// The linear memory the instance holds, readable while it runs.
    pub(crate) memory: MemoryGauge,
}

impl Limiter {
    pub(crate) fn new(limits: Limits) -> Self {
        Limiter {
            limits,
            refused: Arc::default(),
            memory: MemoryGauge::default(),
        }
    }
}

/// The bytes of linear memory one instance holds (every memory it has),
/// shared so views can read it while the instance is busy.
#[derive(Debug, Clone, Default)]
pub struct MemoryGauge(Arc<AtomicUsize>);

impl MemoryGauge {
    pub fn bytes(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limits.memory_bytes {
            *lock(&self.refused) = Some(Refusal::Memory {
                desired,
                limit: self.limits.memory_bytes,
            });
            return Ok(false);
        }
        self.memory
            .0
            .fetch_add(desired.saturating_sub(current), Ordering::Relaxed);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limits.table_elements {
            *lock(&self.refused) = Some(Refusal::Table {
                desired,
                limit: self.limits.table_elements,
            });
            return Ok(false);
        }
        Ok(true)
    }
}
