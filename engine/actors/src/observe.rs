//! What the actors model publishes on the core's observation stream, as
//! [`ActorObservation`] payloads: each process's start and exit, every
//! restart and escalation with its reason, each swap, and the sends that
//! reached no mailbox. Messages themselves are not published (they are
//! too many): each process keeps its own bounded trace instead.

use serde::Serialize;
use wbx_core::observe::{Channel, ModelEvent, ModelObservation};
use wbx_core::{Engine, Observation};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum ActorObservation {
    Spawned {
        pid: String,
        module: String,
        name: Option<String>,
        /// The spawning process; none for a boot tree's root or a spawn
        /// from outside.
        parent: Option<String>,
    },
    Exited {
        pid: String,
        module: String,
        name: Option<String>,
        reason: String,
    },
    /// A supervisor started a child again.
    Restarted {
        supervisor: String,
        child: String,
        old_pid: String,
        new_pid: String,
        /// Why the child that exited exited.
        reason: String,
        /// The child whose exit restarted this one too (one-for-all,
        /// rest-for-one); none when this is the child that exited.
        with: Option<String>,
    },
    /// A boot tree of `wbx.toml` did not start.
    TreeFailed { tree: String, error: String },
    /// A supervisor went over its restart intensity and exited: its parent
    /// decides.
    Escalated {
        supervisor: String,
        restarts: u32,
        period_s: u64,
    },
    /// A process moved to its module's new version at a message boundary.
    Swapped {
        pid: String,
        module: String,
        from: Option<String>,
        to: String,
        /// True when its state was handed over; false when it started
        /// again through `init`, or stayed on its version because the new
        /// one did not start (`note` says why).
        carried: bool,
        note: Option<String>,
    },
    /// A send reached no mailbox: the target was gone or its mailbox full.
    Undelivered {
        from: Option<String>,
        target: String,
        reason: String,
    },
}

impl ModelEvent for ActorObservation {
    fn model(&self) -> &'static str {
        "actors"
    }

    fn channel(&self) -> Channel {
        match self {
            ActorObservation::Undelivered { .. } => Channel::Stream,
            _ => Channel::Lifecycle,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl ActorObservation {
    /// Publishes this on `engine`'s stream.
    pub fn publish(self, engine: &Engine) {
        engine
            .observer()
            .publish(Observation::Model(ModelObservation::new(self)));
    }
}
