//! What views see of flows: `wbx flows` (one [`FlowInfo`] a flow, the
//! SPEC's shape and more), one stage opened ([`StageDetail`]), the elements
//! themselves ([`ElementView`]) and the dead letters ([`DeadLetter`]).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::element::Element;
use crate::settings::Policy;

/// A flow's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlowStatus {
    /// Its stages are being instantiated.
    Starting,
    Running,
    /// No stage takes elements; queues keep what they hold.
    Paused,
    /// Its sources stopped (finished, or asked to stop): what is queued
    /// goes through, then it stops.
    Draining,
    /// Every source finished and every queue drained.
    Finished,
    /// A stage could not start or run again; `reason` says which and why.
    Failed,
    /// Stopped by `wbx flow stop` (after draining), or never started.
    Stopped,
}

impl FlowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowStatus::Starting => "starting",
            FlowStatus::Running => "running",
            FlowStatus::Paused => "paused",
            FlowStatus::Draining => "draining",
            FlowStatus::Finished => "finished",
            FlowStatus::Failed => "failed",
            FlowStatus::Stopped => "stopped",
        }
    }

    /// True when the run has ended (finished, stopped) or cannot go on
    /// (failed: its failed stage waits for a new version).
    pub fn is_over(self) -> bool {
        matches!(
            self,
            FlowStatus::Finished | FlowStatus::Failed | FlowStatus::Stopped
        )
    }
}

/// What one stage is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageStatus {
    Starting,
    Running,
    Paused,
    /// Its sink asked for a pause in sending (for a time).
    Throttled,
    /// Its instance failed; a new one is being made.
    Restarting,
    /// Moving to its module's new version.
    Swapping,
    Finished,
    Failed,
}

impl StageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StageStatus::Starting => "starting",
            StageStatus::Running => "running",
            StageStatus::Paused => "paused",
            StageStatus::Throttled => "throttled",
            StageStatus::Restarting => "restarting",
            StageStatus::Swapping => "swapping",
            StageStatus::Finished => "finished",
            StageStatus::Failed => "failed",
        }
    }
}

/// How much of the last seconds an edge's producer was held (Flink's view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pressure {
    /// Held at most 10 % of the time.
    Ok,
    /// Up to half the time.
    Low,
    High,
}

/// `wbx flows --json`: one flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowInfo {
    pub name: String,
    pub status: FlowStatus,
    /// Why it failed (or what it failed to do while running).
    pub reason: Option<String>,
    pub stages: Vec<StageInfo>,
    pub edges: Vec<EdgeInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageInfo {
    pub name: String,
    /// The module it runs; `push` or `events` for a host source.
    pub module: String,
    pub kind: String,
    /// The module version its instance runs; none for a host source.
    pub version: Option<String>,
    pub status: StageStatus,
    /// Elements taken from its input queues.
    #[serde(rename = "in")]
    pub taken: u64,
    /// Elements it emitted (a sink: elements it consumed).
    pub out: u64,
    /// Elements that failed a call (each attempt counted).
    pub errors: u64,
    /// Elements set aside after their retries.
    pub dead_letters: u64,
    /// Times its instance was made again after a failure.
    pub restarts: u64,
    /// Elements out per second, over the last few seconds.
    pub per_second: f64,
    /// Guest time per element, from its batches' calls.
    pub p50_us: u64,
    pub p99_us: u64,
    /// Elements out per second, the last 60 seconds, oldest first.
    pub history: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdgeInfo {
    pub from: String,
    /// The router port it leaves from; none unless `from` is a router.
    pub port: Option<String>,
    pub to: String,
    /// Elements queued now.
    pub depth: usize,
    pub capacity: usize,
    /// The low watermark: a held producer goes on once depth is down to it.
    pub low: usize,
    pub policy: Policy,
    /// Elements dropped (`drop-oldest`, `drop-newest`) or refused (`error`).
    pub dropped: u64,
    /// The deepest it has been.
    pub high_water: usize,
    /// Elements that went through it.
    pub passed: u64,
    /// True while its producer is held (backpressure now).
    pub held: bool,
    /// Time its producer spent held, in total.
    pub blocked_ms: u64,
    pub backpressure: Pressure,
    /// Times backpressure started, and ended.
    pub triggered: u64,
    pub relieved: u64,
}

/// An element as people read it: the payload parsed when it is JSON, as
/// text when it is UTF-8, in base64 otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElementView {
    pub sequence: u64,
    pub timestamp_ms: u64,
    pub content_type: String,
    pub key: Option<String>,
    /// The port it left its producer by, when that is a router.
    pub port: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_base64: Option<String>,
}

impl ElementView {
    pub fn of(element: &Element) -> ElementView {
        let json = element.content_type.contains("json");
        let (payload, payload_base64) = match std::str::from_utf8(&element.payload) {
            Ok(text) => match serde_json::from_str::<Value>(text) {
                Ok(value) if json => (Some(value), None),
                _ => (Some(Value::String(text.to_owned())), None),
            },
            Err(_) => (None, Some(STANDARD.encode(&element.payload))),
        };
        ElementView {
            sequence: element.sequence,
            timestamp_ms: element.timestamp_ms,
            content_type: element.content_type.to_string(),
            key: element.key.clone(),
            port: element.port.clone(),
            payload,
            payload_base64,
        }
    }

    /// The element it shows, with its bytes exactly: what a redrive sends.
    pub fn to_element(&self) -> Result<Element, String> {
        let payload = match (&self.payload, &self.payload_base64) {
            (_, Some(encoded)) => STANDARD
                .decode(encoded)
                .map_err(|e| format!("payload_base64 is not base64: {e}"))?,
            (Some(Value::String(text)), None) if !self.content_type.contains("json") => {
                text.clone().into_bytes()
            }
            (Some(value), None) => serde_json::to_vec(value).expect("a JSON value serializes"),
            (None, None) => Vec::new(),
        };
        Ok(Element {
            payload: payload.into(),
            content_type: self.content_type.as_str().into(),
            key: self.key.clone(),
            sequence: self.sequence,
            timestamp_ms: self.timestamp_ms,
            port: self.port.clone(),
        })
    }
}

/// One bucket of a stage's latency histogram: calls' time per element up
/// to `le_us`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    pub le_us: u64,
    pub count: u64,
}

/// A failure of one element in one attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageError {
    pub at_ms: u64,
    pub sequence: Option<u64>,
    pub error: String,
}

/// An element set aside after its retries, with why: one line of
/// `.wbx/flows/<flow>/dead-letter.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub flow: String,
    pub stage: String,
    pub sequence: u64,
    pub error: String,
    pub attempts: u32,
    pub at_ms: u64,
    pub element: ElementView,
}

/// One stage opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageDetail {
    pub flow: String,
    pub stage: StageInfo,
    pub latency: Vec<Bucket>,
    pub last_in: Vec<ElementView>,
    pub last_out: Vec<ElementView>,
    pub errors: Vec<StageError>,
    pub dead_letters: Vec<DeadLetter>,
}
