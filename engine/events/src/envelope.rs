//! Events as stored and as appended: the envelope around a guest's payload.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// An event in the store. Serialized, it is one line of an exported history.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredEvent {
    pub position: u64,
    /// A UUIDv7 made by the host when the event was appended.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub tags: Vec<String>,
    /// The payload, kept as the JSON text it was appended as.
    pub data: Box<RawValue>,
    #[serde(with = "rfc3339_ms")]
    pub timestamp: SystemTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggering_event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

impl PartialEq for StoredEvent {
    fn eq(&self, other: &Self) -> bool {
        self.position == other.position
            && self.id == other.id
            && self.event_type == other.event_type
            && self.tags == other.tags
            && self.data.get() == other.data.get()
            && self.timestamp == other.timestamp
            && self.correlation_id == other.correlation_id
            && self.causation_id == other.causation_id
            && self.triggering_event_id == other.triggering_event_id
            && self.idempotency_key == other.idempotency_key
    }
}

impl StoredEvent {
    pub fn timestamp_ms(&self) -> u64 {
        to_ms(self.timestamp)
    }
}

/// An event to append: what a guest (or a DCB client) decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// JSON text; checked to be JSON when appended.
    pub data: String,
}

/// What the host adds to every event of one append.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendMeta {
    pub correlation_id: Option<String>,
    pub causation_id: Option<String>,
    pub triggering_event_id: Option<String>,
    /// With a key, the append is refused as a duplicate when an event with
    /// that key exists; checked in the same transaction as the write.
    pub idempotency_key: Option<String>,
    /// Defaults to now; commands pass their execution's fixed clock.
    pub timestamp: Option<SystemTime>,
}

pub(crate) fn to_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64
}

pub(crate) fn from_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

mod rfc3339_ms {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_rfc3339_millis(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}
