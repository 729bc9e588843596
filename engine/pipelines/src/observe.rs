//! What the pipelines model publishes on the core's observation stream, as
//! [`FlowObservation`] payloads: each flow's status, each stage restarted
//! or swapped, each dead letter, and backpressure starting and ending on an
//! edge. Elements themselves are not published (they are too many): `wbx
//! tap` and a stage's detail show them.

use serde::Serialize;
use wbx_core::observe::{Channel, ModelEvent, ModelObservation};
use wbx_core::{Engine, Observation};

use crate::info::FlowStatus;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum FlowObservation {
    Status {
        flow: String,
        status: FlowStatus,
        reason: Option<String>,
    },
    /// A stage's instance failed (a trap, a timeout) and was made again.
    StageRestarted {
        flow: String,
        stage: String,
        /// The element it failed on, once known.
        sequence: Option<u64>,
        error: String,
    },
    /// An element failed every attempt and was set aside.
    DeadLettered {
        flow: String,
        stage: String,
        sequence: u64,
        error: String,
    },
    /// An edge's producer is held (`held`), or goes on again.
    Backpressure {
        flow: String,
        from: String,
        port: Option<String>,
        to: String,
        held: bool,
    },
    /// A stage moved to its module's new version between two batches.
    StageSwapped {
        flow: String,
        stage: String,
        version: String,
        /// True when its state was handed over; false when it started
        /// again through `init`, or stayed on its version because the new
        /// one did not start (`note` says why).
        carried: bool,
        note: Option<String>,
    },
}

impl ModelEvent for FlowObservation {
    fn model(&self) -> &'static str {
        "pipelines"
    }

    fn channel(&self) -> Channel {
        match self {
            FlowObservation::Backpressure { .. } => Channel::Stream,
            _ => Channel::Lifecycle,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl FlowObservation {
    /// Publishes this on `engine`'s stream.
    pub fn publish(self, engine: &Engine) {
        engine
            .observer()
            .publish(Observation::Model(ModelObservation::new(self)));
    }
}
