//! What the events model publishes on the core's observation stream, as
//! [`EventsObservation`] payloads. Each variant names its channel.

use serde::Serialize;
use wbx_core::observe::{Channel, ModelEvent, ModelObservation};
use wbx_core::{Engine, Observation};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum EventsObservation {
    /// Events were appended at positions `first..=last` (by a command, or
    /// through the DCB API when `by` is none).
    Appended {
        first: u64,
        last: u64,
        by: Option<String>,
    },
    /// Another engine sharing the event store appended at positions
    /// `first..=last` (PostgreSQL only), and this engine heard of it.
    Arrived { first: u64, last: u64 },
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
    /// An effect stopped: it cannot run (its database cannot be opened, its
    /// subscription failed) until a new version or a restart.
    EffectStopped { module: String, error: String },
    /// An effect waits to run: another engine sharing the event store holds
    /// its lease, and this one takes over when that one stops.
    EffectWaiting { module: String, why: String },
    /// An effect runs here, from `position`: started, taken over, or moved
    /// on to a new version.
    EffectStarted { module: String, position: u64 },
}

impl ModelEvent for EventsObservation {
    fn model(&self) -> &'static str {
        "events"
    }

    fn channel(&self) -> Channel {
        match self {
            EventsObservation::Appended { .. }
            | EventsObservation::Arrived { .. }
            | EventsObservation::ProjectorCaughtUp { .. } => Channel::Stream,
            EventsObservation::ProjectorStopped { .. }
            | EventsObservation::EffectRetrying { .. }
            | EventsObservation::EffectStopped { .. }
            | EventsObservation::EffectWaiting { .. }
            | EventsObservation::EffectStarted { .. } => Channel::Lifecycle,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl EventsObservation {
    /// Publishes this on `engine`'s stream.
    pub fn publish(self, engine: &Engine) {
        engine
            .observer()
            .publish(Observation::Model(ModelObservation::new(self)));
    }
}
