//! What the mesh model publishes on the core's observation stream, as
//! [`MeshObservation`] payloads. Each variant names its channel.

use serde::Serialize;
use wbx_core::observe::{Channel, ModelEvent, ModelObservation};
use wbx_core::{Engine, Observation};

use crate::breaker::BreakerState;
use crate::calls::CallRecord;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum MeshObservation {
    /// A call through the mesh ended (answered, refused or broken off).
    Call(Box<CallRecord>),
    /// A service's circuit breaker changed state.
    Breaker {
        service: String,
        state: BreakerState,
        failures: u32,
    },
}

impl ModelEvent for MeshObservation {
    fn model(&self) -> &'static str {
        "mesh"
    }

    fn channel(&self) -> Channel {
        match self {
            MeshObservation::Call(_) => Channel::Stream,
            MeshObservation::Breaker { .. } => Channel::Lifecycle,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl MeshObservation {
    /// Publishes this on `engine`'s stream.
    pub fn publish(self, engine: &Engine) {
        engine
            .observer()
            .publish(Observation::Model(ModelObservation::new(self)));
    }
}
