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
//! a module's change of state out of a subscriber's queue. Every observation
//! says which channel it takes ([`Observation::channel`]): the core's
//! variants in one exhaustive match, a model's through [`ModelEvent`], which
//! has no default, so a new high-volume variant cannot land on the lifecycle
//! channel by accident.
//!
//! Models publish their own payloads as [`Observation::Model`]; a view that
//! knows a model downcasts them ([`ModelObservation::get`]).

use std::any::Any;
use std::fmt;
use std::sync::Arc;
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
        /// Why Winch's code was not used, when it was asked for.
        #[serde(skip_serializing_if = "Option::is_none")]
        fallback: Option<String>,
        #[serde(with = "duration_micros")]
        swap: Duration,
        /// From the change being seen to the new version serving, less cargo's time.
        #[serde(with = "duration_micros")]
        latency: Duration,
    },
    /// A module's version moved from Winch's code to Cranelift's, compiled
    /// in the background after a swap: the same version, faster code.
    ModuleTieredUp {
        module: String,
        version: ModuleVersion,
        #[serde(flatten)]
        compile: CompileReport,
    },
    /// Loading a module (or a new version of it) failed. A previous version, if
    /// any, keeps serving.
    ModuleFailed { module: String, error: String },
    /// A guest call failed: a trap, a timeout, a limit.
    CallFailed { module: String, error: String },
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
    /// Something a model's runtime did, in the model's own terms.
    Model(ModelObservation),
}

/// Which channel an observation travels on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Rare changes of state, never to be lost behind a storm of the others.
    Lifecycle,
    /// Many per second: logs, progress.
    Stream,
}

/// A model's own observation payload.
pub trait ModelEvent: Any + fmt::Debug + Send + Sync {
    /// The model that published it.
    fn model(&self) -> &'static str;
    /// The channel it takes: say so for every variant.
    fn channel(&self) -> Channel;
    /// As a JSON object, for whoever serializes observations.
    fn to_json(&self) -> serde_json::Value;
}

/// A model's payload on the core stream, cheap to clone.
#[derive(Debug, Clone)]
pub struct ModelObservation(Arc<dyn ModelEvent>);

impl ModelObservation {
    pub fn new(event: impl ModelEvent) -> Self {
        ModelObservation(Arc::new(event))
    }

    /// The payload, when it is a `T`.
    pub fn get<T: ModelEvent>(&self) -> Option<&T> {
        let event: &dyn Any = &*self.0;
        event.downcast_ref()
    }

    pub fn event(&self) -> &dyn ModelEvent {
        &*self.0
    }
}

impl Serialize for ModelObservation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.to_json().serialize(s)
    }
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
    /// The compiler whose code the module runs.
    pub tier: crate::tier::Tier,
}

mod duration_micros {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_micros() as u64)
    }
}

impl Observation {
    /// The channel this observation takes. No wildcard arm: a new variant
    /// must say which.
    pub fn channel(&self) -> Channel {
        match self {
            Observation::ModuleLoaded { .. }
            | Observation::ModuleSwapped { .. }
            | Observation::Reloaded { .. }
            | Observation::ModuleTieredUp { .. }
            | Observation::ModuleFailed { .. }
            | Observation::CallFailed { .. }
            | Observation::BuildStarted { .. }
            | Observation::BuildFinished { .. }
            | Observation::Unchanged { .. }
            | Observation::ConfigReloaded { .. } => Channel::Lifecycle,
            Observation::Log(_) => Channel::Stream,
            Observation::Model(model) => model.event().channel(),
        }
    }

    /// A model's payload of type `T`, when this is one.
    pub fn model<T: ModelEvent>(&self) -> Option<&T> {
        match self {
            Observation::Model(model) => model.get(),
            _ => None,
        }
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
        let channel = match observation.channel() {
            Channel::Lifecycle => &self.lifecycle,
            Channel::Stream => &self.stream,
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
