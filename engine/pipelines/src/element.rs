//! An element as the host holds it between stages: its payload shared (a
//! fan-out copies no bytes), its sequence number and timestamp given by the
//! flow, and the port it left its producer by.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

pub const JSON: &str = "application/json";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub payload: Bytes,
    pub content_type: Arc<str>,
    pub key: Option<String>,
    pub sequence: u64,
    pub timestamp_ms: u64,
    pub port: Option<String>,
}

/// An element from outside a flow (`wbx push`, an event), before the flow
/// numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewElement {
    pub payload: Bytes,
    pub content_type: Arc<str>,
    pub key: Option<String>,
}

impl NewElement {
    /// A JSON element: `payload` is JSON text.
    pub fn json(payload: impl Into<Bytes>) -> NewElement {
        NewElement {
            payload: payload.into(),
            content_type: JSON.into(),
            key: None,
        }
    }

    /// The element numbered `sequence`, entering its flow now.
    pub fn numbered(self, sequence: u64, timestamp_ms: u64) -> Element {
        Element {
            payload: self.payload,
            content_type: self.content_type,
            key: self.key,
            sequence,
            timestamp_ms,
            port: None,
        }
    }
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
