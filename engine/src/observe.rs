//! The observation stream: everything the engine does that a view may show.
//!
//! The engine publishes [`Observation`]s on broadcast channels; the TUI, the
//! plain `--no-tui` log and the control API consume only this stream plus the
//! engine's snapshot queries. A slow subscriber lags and skips (broadcast
//! semantics) instead of slowing the engine down; it learns how much it
//! skipped and can re-read the snapshots.
//!
//! Lifecycle observations (loads, swaps, failures) travel on a channel of
//! their own and are delivered first, so a storm of log lines can never push
//! a module's change of state out of a subscriber's queue.

use std::time::Duration;

use serde::Serialize;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::kind::ModuleKind;
use crate::logs::LogLine;
use crate::registry::ModuleVersion;

/// How many high-volume observations a subscriber may fall behind before it skips.
const STREAM_CAPACITY: usize = 4096;
/// The same for lifecycle observations, which are rare.
const LIFECYCLE_CAPACITY: usize = 1024;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Observation {
    /// A module was loaded for the first time.
    ModuleLoaded {
        module: String,
        kind: ModuleKind,
        version: ModuleVersion,
        #[serde(flatten)]
        compile: CompileReport,
    },
    /// A module's active version was replaced; calls already running finish on `from`.
    ModuleSwapped {
        module: String,
        from: ModuleVersion,
        to: ModuleVersion,
        #[serde(flatten)]
        compile: CompileReport,
    },
    /// `wbx dev` swapped a rebuilt module in: why and what it cost.
    Reloaded {
        module: String,
        from: Option<ModuleVersion>,
        to: ModuleVersion,
        /// The changed file that led to it, relative to the project root.
        trigger: String,
        #[serde(with = "duration_micros")]
        build: Duration,
        #[serde(flatten)]
        compile: CompileReport,
        #[serde(with = "duration_micros")]
        swap: Duration,
        /// From the change being seen to the new version serving, less cargo's time.
        #[serde(with = "duration_micros")]
        latency: Duration,
    },
    /// Loading a module (or a new version of it) failed. A previous version, if
    /// any, keeps serving.
    ModuleFailed { module: String, error: String },
    /// A guest call failed: a trap, a timeout, a limit.
    CallFailed { module: String, error: String },
    /// Events were appended at positions `first..=last` (by a command, or
    /// through the DCB API when `by` is none).
    Appended {
        first: u64,
        last: u64,
        by: Option<String>,
    },
    /// A projector stopped at `position` because handling the next batch failed.
    ProjectorStopped {
        module: String,
        position: u64,
        error: String,
    },
    /// A projector handled everything up to `position`.
    ProjectorCaughtUp { module: String, position: u64 },
    /// An effect failed on an event and will retry it.
    EffectRetrying {
        module: String,
        position: u64,
        attempt: u32,
        error: String,
    },
    /// `wbx dev` started building `modules` because `files` changed (or a
    /// rebuild was asked for: `files` is empty).
    BuildStarted {
        modules: Vec<String>,
        files: Vec<String>,
    },
    /// The build that started last ended: what built, what failed and why.
    BuildFinished {
        built: Vec<String>,
        failed: Vec<BuildFailure>,
        #[serde(with = "duration_micros")]
        elapsed: Duration,
        /// A newer change stopped it; another build follows.
        cancelled: bool,
    },
    /// `wbx dev` rebuilt a module into the very component that runs: nothing
    /// to swap.
    Unchanged { module: String },
    /// `wbx.toml` changed and was applied, or refused (`error`) while the
    /// previous settings keep running.
    ConfigReloaded { error: Option<String> },
    /// A guest log line or a line of its stdout/stderr.
    Log(LogLine),
}

/// A module that did not build, with the compiler's account of why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildFailure {
    pub module: String,
    pub errors: usize,
    /// The rendered error diagnostics, or cargo's own output when no
    /// diagnostic explains the failure.
    pub diagnostics: String,
}

/// How a component was obtained: compiled now or loaded from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CompileReport {
    pub cache_hit: bool,
    #[serde(with = "duration_micros")]
    pub compile_time: Duration,
}

mod duration_micros {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_micros() as u64)
    }
}

impl Observation {
    /// Loads, swaps and failures: rare, and never to be lost behind logs.
    pub fn is_lifecycle(&self) -> bool {
        !matches!(
            self,
            Observation::Log(_)
                | Observation::Appended { .. }
                | Observation::ProjectorCaughtUp { .. }
        )
    }
}

/// The sending side of the stream, cheap to clone.
#[derive(Debug, Clone)]
pub struct Observer {
    lifecycle: broadcast::Sender<Observation>,
    stream: broadcast::Sender<Observation>,
}

impl Default for Observer {
    fn default() -> Self {
        Observer {
            lifecycle: broadcast::channel(LIFECYCLE_CAPACITY).0,
            stream: broadcast::channel(STREAM_CAPACITY).0,
        }
    }
}

impl Observer {
    pub fn publish(&self, observation: Observation) {
        let channel = if observation.is_lifecycle() {
            &self.lifecycle
        } else {
            &self.stream
        };
        // No subscriber is not an error: nobody is watching yet.
        let _ = channel.send(observation);
    }

    pub fn subscribe(&self) -> Subscription {
        Subscription {
            lifecycle: self.lifecycle.subscribe(),
            stream: self.stream.subscribe(),
        }
    }
}

/// One subscriber's view of the stream: lifecycle observations first.
#[derive(Debug)]
pub struct Subscription {
    lifecycle: broadcast::Receiver<Observation>,
    stream: broadcast::Receiver<Observation>,
}

impl Subscription {
    /// The next observation. `Err(Lagged(n))` says `n` were skipped.
    pub async fn recv(&mut self) -> Result<Observation, RecvError> {
        tokio::select! {
            biased;
            o = self.lifecycle.recv() => o,
            o = self.stream.recv() => o,
        }
    }

    /// The next observation if one is waiting.
    pub fn try_recv(&mut self) -> Result<Observation, TryRecvError> {
        match self.lifecycle.try_recv() {
            Err(TryRecvError::Empty | TryRecvError::Closed) => self.stream.try_recv(),
            other => other,
        }
    }
}
