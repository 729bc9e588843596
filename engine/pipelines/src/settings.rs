//! Placeholder types until the full reader lands (same public API).
use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wbx_core::project::{Manifest, ManifestError, ModuleDecl};

pub const SECTIONS: &[&str] = &["flows"];
pub const DEFAULT_CAPACITY: usize = 64;
pub const DEFAULT_BATCH: usize = 32;
pub const DEFAULT_TIMEOUT_MS: u64 = 5000;
pub const DEFAULT_RETRIES: u32 = 2;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PipelineSettings {
    pub flows: BTreeMap<String, FlowSpec>,
}
#[derive(Debug, Clone, PartialEq)]
pub struct FlowSpec {
    pub name: String,
    pub batch: usize,
    pub start: bool,
    pub nodes: Vec<NodeSpec>,
    pub edges: Vec<EdgeSpec>,
}
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    pub name: String,
    pub stage: StageSource,
    pub ports: Vec<String>,
    pub config: serde_json::Value,
    pub timeout: Duration,
    pub retries: u32,
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageSource {
    Module { module: String, kind: StageKind },
    Push,
    Events { types: Vec<String>, tags: Vec<String>, from: u64 },
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageKind {
    Source,
    Processor,
    Sink,
}
impl StageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StageKind::Source => "source",
            StageKind::Processor => "processor",
            StageKind::Sink => "sink",
        }
    }
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeSpec {
    pub from: String,
    pub port: Option<String>,
    pub to: String,
    pub capacity: usize,
    pub low: usize,
    pub policy: Policy,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    Block,
    DropOldest,
    DropNewest,
    Error,
}
pub fn check(_manifest: &Manifest, _modules: &[ModuleDecl]) -> Result<Vec<String>, ManifestError> {
    Ok(Vec::new())
}
pub fn settings(
    _manifest: &Manifest,
    _modules: &[ModuleDecl],
) -> Result<PipelineSettings, ManifestError> {
    Ok(PipelineSettings::default())
}
