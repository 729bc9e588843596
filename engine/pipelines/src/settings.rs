//! The pipelines model's tables of `wbx.toml`, read strictly (located errors):
//!
//! ```toml
//! [flows.clicks]            # a flow named `clicks`
//! batch = 64                # elements per guest call, at most (default 64;
//!                           # never more than the input queue's capacity)
//! timeout-ms = 5000         # per element: a call on n elements gets n × this (default 5000)
//! retries = 2               # retries of a failing element before it becomes a dead letter (default 2)
//! start = true              # started with the engine (default true); else `wbx flow start clicks`
//!
//! [flows.clicks.nodes]      # the stages, each a name bound to what runs it
//! clicks  = { source = "push" }      # host source: elements from `wbx push` / the API
//! history = { source = "events", types = ["PageViewed"], tags = ["site:a"], from = 0 }
//!                                    # host source: the events of this query item (any
//!                                    # type / any tag when a list is absent or empty)
//!                                    # after position `from` (default 0 = all), then live
//! enrich  = "enrich"                 # a module of kind source, processor or sink
//! route   = { module = "router", ports = ["pages", "other"], config = { min = 3 }, timeout-ms = 1000, retries = 0 }
//!                                    # ports: the output ports a router emits to
//!                                    # config: any TOML value, given to init as JSON (null when absent)
//!                                    # timeout-ms, retries: this node's, instead of the flow's
//!
//! [[flows.clicks.edges]]    # one queue from a node to another
//! from = "clicks"
//! to = "enrich"
//! # port = "pages"          # only from a node that declares `ports` (then required): the port it leaves from
//! # capacity = 64           # queue capacity (default 64, 1 to 1 000 000)
//! # low = 32                # low watermark in elements (default capacity / 2; 0 to capacity - 1)
//! # policy = "block"        # block | drop-oldest | drop-newest | error
//! ```
//!
//! A flow is a graph without cycles: edges fan out (an element goes down
//! every edge leaving its node, or its port) and fan in (a node takes from
//! all its incoming edges). Every node is on an edge; nothing goes into a
//! source (a module of kind `source`, or a host source) nor out of a sink; a
//! processor has edges both in and out; every declared port has an edge
//! leaving from it. Flow and node names are letters, digits, `-` and `_`.
//!
//! The `[modules.NAME]` table of a source, processor or sink sets nothing
//! yet beyond what the core reads.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::time::Duration;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use toml::Spanned;
use wbx_core::ModuleKind;
use wbx_core::project::{Manifest, ManifestError, ModuleDecl};

/// The tables this model reads.
pub const SECTIONS: &[&str] = &["flows"];

/// An edge's queue capacity when it sets none.
pub const DEFAULT_CAPACITY: usize = 64;
/// Elements per guest call, at most, when a flow sets no `batch`: a default
/// queue's worth. A flow's stages take turns on one thread, so a producer
/// never fills a queue while its consumer works on a batch from it: a batch
/// of half the queue would only double the calls.
pub const DEFAULT_BATCH: usize = 64;
/// A stage's time per element when neither its node nor its flow sets one.
pub const DEFAULT_TIMEOUT_MS: u64 = 5000;
/// Retries of a failing element when neither its node nor its flow sets them.
pub const DEFAULT_RETRIES: u32 = 2;

const BATCH: Range<u64> = 1..1_000_001;
const TIMEOUT_MS: Range<u64> = 1..3_600_001;
const RETRIES: Range<u64> = 0..1_001;
const CAPACITY: Range<u64> = 1..1_000_001;

/// The pipelines model's settings, as the runtime uses them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipelineSettings {
    /// Every `[flows.NAME]`, by name.
    pub flows: BTreeMap<String, FlowSpec>,
}

/// One flow: its stages and the queues between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowSpec {
    pub name: String,
    /// Elements per guest call, at most.
    pub batch: usize,
    /// Started with the engine.
    pub start: bool,
    /// In file order.
    pub nodes: Vec<NodeSpec>,
    /// In file order.
    pub edges: Vec<EdgeSpec>,
}

impl FlowSpec {
    /// The node named `name`.
    pub fn node(&self, name: &str) -> Option<&NodeSpec> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

/// One node of a flow: a stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    pub name: String,
    pub stage: StageSource,
    /// The output ports it emits to (a router's); empty for most.
    pub ports: Vec<String>,
    /// Given to the stage's `init` (`null` when the node sets none).
    pub config: serde_json::Value,
    /// Per element: a call on n elements gets n × this.
    pub timeout: Duration,
    /// Retries of a failing element before it becomes a dead letter.
    pub retries: u32,
}

impl NodeSpec {
    /// What kind of stage it is (host sources are sources).
    pub fn kind(&self) -> StageKind {
        self.stage.kind()
    }
}

/// What runs a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageSource {
    /// A module of the project.
    Module { module: String, kind: StageKind },
    /// The host's push source: elements from `wbx push` or the API.
    Push,
    /// The host's events source: the events of one query item after
    /// position `from`, then live.
    Events {
        types: Vec<String>,
        tags: Vec<String>,
        from: u64,
    },
}

impl StageSource {
    /// What the stage is, host sources being sources.
    pub fn kind(&self) -> StageKind {
        match self {
            StageSource::Module { kind, .. } => *kind,
            StageSource::Push | StageSource::Events { .. } => StageKind::Source,
        }
    }

    /// The module's name, or the host source's (`push`, `events`).
    pub fn module(&self) -> &str {
        match self {
            StageSource::Module { module, .. } => module,
            StageSource::Push => PUSH,
            StageSource::Events { .. } => EVENTS,
        }
    }

    /// Whether the host runs it (not a module).
    pub fn is_host(&self) -> bool {
        !matches!(self, StageSource::Module { .. })
    }
}

const PUSH: &str = "push";
const EVENTS: &str = "events";

/// A stage's kind: its module kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageKind {
    Source,
    Processor,
    Sink,
}

impl StageKind {
    pub const ALL: [StageKind; 3] = [StageKind::Source, StageKind::Processor, StageKind::Sink];

    /// Its name, the module kind's (`processor`).
    pub fn as_str(self) -> &'static str {
        match self {
            StageKind::Source => "source",
            StageKind::Processor => "processor",
            StageKind::Sink => "sink",
        }
    }

    /// The stage kind of modules of `kind`, if it is one.
    pub fn of(kind: ModuleKind) -> Option<StageKind> {
        StageKind::ALL
            .into_iter()
            .find(|k| k.as_str() == kind.as_str())
    }
}

impl fmt::Display for StageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One edge of a flow: a bounded queue from a node (or one of its ports)
/// to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeSpec {
    pub from: String,
    /// The port of `from` it leaves from (`from` declares ports), else `None`.
    pub port: Option<String>,
    pub to: String,
    /// The queue's capacity in elements.
    pub capacity: usize,
    /// The low watermark: a producer held by a full queue goes on once it
    /// has drained to this.
    pub low: usize,
    pub policy: Policy,
}

/// What a full queue does with one more element.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// Holds the producer until the queue drains to its low watermark.
    #[default]
    Block,
    /// Drops the oldest element queued (counted).
    DropOldest,
    /// Drops the new element (counted).
    DropNewest,
    /// Refuses the new element: its producer gets an error (counted).
    Error,
}

impl Policy {
    pub const ALL: [Policy; 4] = [
        Policy::Block,
        Policy::DropOldest,
        Policy::DropNewest,
        Policy::Error,
    ];

    /// Its name in `wbx.toml` and JSON (`drop-oldest`).
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Block => "block",
            Policy::DropOldest => "drop-oldest",
            Policy::DropNewest => "drop-newest",
            Policy::Error => "error",
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a flow's table, [flows.NAME]"
)]
struct FlowTable {
    batch: Option<Spanned<u64>>,
    timeout_ms: Option<Spanned<u64>>,
    retries: Option<Spanned<u64>>,
    start: Option<bool>,
    #[serde(default)]
    nodes: Nodes,
    #[serde(default)]
    edges: Vec<EdgeTable>,
}

/// `[flows.NAME.nodes]`, in file order.
#[derive(Debug, Default)]
struct Nodes(Vec<(Spanned<String>, Spanned<NodeValue>)>);

impl<'de> Deserialize<'de> for Nodes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodesVisitor;
        impl<'de> Visitor<'de> for NodesVisitor {
            type Value = Nodes;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of nodes")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Nodes, A::Error> {
                let mut nodes = Vec::new();
                while let Some(name) = map.next_key::<Spanned<String>>()? {
                    nodes.push((name, map.next_value()?));
                }
                // File order, whatever order the reader's map keeps.
                nodes.sort_by_key(|(name, _)| name.span().start);
                Ok(Nodes(nodes))
            }
        }
        deserializer.deserialize_map(NodesVisitor)
    }
}

/// A node's value: a module's name or a table.
#[derive(Debug)]
enum NodeValue {
    Module(String),
    Table(Box<NodeTable>),
}

impl<'de> Deserialize<'de> for NodeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = NodeValue;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a module's name, or a table: { module = \"…\" }, { source = \"push\" } \
                     or { source = \"events\" }",
                )
            }

            fn visit_str<E: serde::de::Error>(self, module: &str) -> Result<NodeValue, E> {
                Ok(NodeValue::Module(module.to_owned()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<NodeValue, A::Error> {
                let table =
                    NodeTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(NodeValue::Table(Box::new(table)))
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
}

/// A node's table: every key any shape of node takes; which go together
/// is checked after.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct NodeTable {
    module: Option<Spanned<String>>,
    source: Option<Spanned<String>>,
    ports: Option<Spanned<Vec<Spanned<String>>>>,
    config: Option<Spanned<toml::Value>>,
    timeout_ms: Option<Spanned<u64>>,
    retries: Option<Spanned<u64>>,
    types: Option<Spanned<Vec<String>>>,
    tags: Option<Spanned<Vec<String>>>,
    from: Option<Spanned<u64>>,
}

impl NodeTable {
    /// The keys it sets besides `module` and `source`, each with where its value is.
    fn keys(&self) -> Vec<(&'static str, Range<usize>)> {
        [
            ("ports", self.ports.as_ref().map(Spanned::span)),
            ("config", self.config.as_ref().map(Spanned::span)),
            ("timeout-ms", self.timeout_ms.as_ref().map(Spanned::span)),
            ("retries", self.retries.as_ref().map(Spanned::span)),
            ("types", self.types.as_ref().map(Spanned::span)),
            ("tags", self.tags.as_ref().map(Spanned::span)),
            ("from", self.from.as_ref().map(Spanned::span)),
        ]
        .into_iter()
        .filter_map(|(key, span)| Some((key, span?)))
        .collect()
    }
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "an edge's table, [[flows.NAME.edges]]"
)]
struct EdgeTable {
    from: Spanned<String>,
    to: Spanned<String>,
    port: Option<Spanned<String>>,
    capacity: Option<Spanned<u64>>,
    low: Option<Spanned<u64>>,
    policy: Option<Spanned<String>>,
}

/// What a `[modules.NAME]` table of a source, processor or sink may set:
/// nothing yet, so any key is an error naming its place.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModuleTable {}

/// The pipelines model's tables of `manifest`, checked against the
/// project's modules.
pub fn settings(
    manifest: &Manifest,
    modules: &[ModuleDecl],
) -> Result<PipelineSettings, ManifestError> {
    let tables: BTreeMap<Spanned<String>, FlowTable> = manifest.section("flows")?;
    let reader = Reader { manifest, modules };
    let mut settings = PipelineSettings::default();
    for (name, table) in &tables {
        let flow = reader.flow(name, table)?;
        settings.flows.insert(flow.name.clone(), flow);
    }
    Ok(settings)
}

/// The model's check: its tables read strictly (a name that is not a
/// module of the right kind is a located error), and the `[modules.NAME]`
/// table of each of its modules.
pub fn check(manifest: &Manifest, modules: &[ModuleDecl]) -> Result<Vec<String>, ManifestError> {
    for module in modules.iter().filter(|m| StageKind::of(m.kind).is_some()) {
        manifest.module_table::<ModuleTable>(&module.name)?;
    }
    settings(manifest, modules)?;
    Ok(Vec::new())
}

/// A flow or node name: letters, digits, `-` and `_` (it goes into paths
/// and URLs).
fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `a, b, c`, or `none`.
fn listed<S: AsRef<str>>(names: &[S]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    let names: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
    names.join(", ")
}

/// The first TOML date in `value`, if any: JSON has none.
fn date_in(value: &toml::Value) -> Option<&toml::value::Datetime> {
    match value {
        toml::Value::Datetime(date) => Some(date),
        toml::Value::Array(items) => items.iter().find_map(date_in),
        toml::Value::Table(table) => table.values().find_map(date_in),
        _ => None,
    }
}

/// A node as read, with where its parts are, for the checks of the graph.
struct Read {
    spec: NodeSpec,
    name_at: Range<usize>,
    ports_at: Vec<Range<usize>>,
}

/// An edge as read, with where its parts are.
struct ReadEdge {
    spec: EdgeSpec,
    from_at: Range<usize>,
    to_at: Range<usize>,
}

impl ReadEdge {
    /// `from → to`, or `from:port → to`.
    fn label(&self) -> String {
        let spec = &self.spec;
        match &spec.port {
            Some(port) => format!("{}:{port} → {}", spec.from, spec.to),
            None => format!("{} → {}", spec.from, spec.to),
        }
    }
}

/// Reads `[flows.NAME]` tables into specs.
struct Reader<'a> {
    manifest: &'a Manifest,
    modules: &'a [ModuleDecl],
}

impl Reader<'_> {
    fn flow(&self, name: &Spanned<String>, table: &FlowTable) -> Result<FlowSpec, ManifestError> {
        let manifest = self.manifest;
        let flow = name.get_ref();
        if !is_name(flow) {
            return Err(manifest.error_at(
                name.span(),
                format!("[flows] '{flow}' is not a flow name: use letters, digits, '-' and '_'"),
            ));
        }
        let section = format!("flows.{flow}");
        manifest.check_range(&section, "batch", &table.batch, BATCH)?;
        manifest.check_range(&section, "timeout-ms", &table.timeout_ms, TIMEOUT_MS)?;
        manifest.check_range(&section, "retries", &table.retries, RETRIES)?;
        let timeout_ms = table
            .timeout_ms
            .as_ref()
            .map_or(DEFAULT_TIMEOUT_MS, |v| *v.get_ref());
        let retries = table
            .retries
            .as_ref()
            .map_or(DEFAULT_RETRIES, |v| *v.get_ref() as u32);
        if table.nodes.0.is_empty() {
            return Err(manifest.error_at(
                name.span(),
                format!("[{section}] the flow has no nodes: declare them in [{section}.nodes]"),
            ));
        }
        let mut nodes = Vec::new();
        for (node, value) in &table.nodes.0 {
            nodes.push(self.node(&section, node, value, timeout_ms, retries)?);
        }
        let mut edges: Vec<ReadEdge> = Vec::new();
        for edge in &table.edges {
            let edge = self.edge(&section, &nodes, edge)?;
            if let Some(twin) = edges.iter().find(|e| {
                e.spec.from == edge.spec.from
                    && e.spec.port == edge.spec.port
                    && e.spec.to == edge.spec.to
            }) {
                return Err(manifest.error_at(
                    edge.from_at.clone(),
                    format!("[{section}.edges] {}: the same edge twice", twin.label()),
                ));
            }
            edges.push(edge);
        }
        self.connections(&section, &nodes, &edges)?;
        self.acyclic(flow, &section, &nodes, &edges)?;
        Ok(FlowSpec {
            name: flow.clone(),
            batch: table
                .batch
                .as_ref()
                .map_or(DEFAULT_BATCH, |v| *v.get_ref() as usize),
            start: table.start.unwrap_or(true),
            nodes: nodes.into_iter().map(|n| n.spec).collect(),
            edges: edges.into_iter().map(|e| e.spec).collect(),
        })
    }

    fn node(
        &self,
        flow: &str,
        name: &Spanned<String>,
        value: &Spanned<NodeValue>,
        timeout_ms: u64,
        retries: u32,
    ) -> Result<Read, ManifestError> {
        let manifest = self.manifest;
        let section = format!("{flow}.nodes");
        let node = name.get_ref();
        if !is_name(node) {
            return Err(manifest.error_at(
                name.span(),
                format!(
                    "[{section}] '{node}' is not a node name: use letters, digits, '-' and '_'"
                ),
            ));
        }
        let mut read = Read {
            spec: NodeSpec {
                name: node.clone(),
                stage: StageSource::Push,
                ports: Vec::new(),
                config: serde_json::Value::Null,
                timeout: Duration::from_millis(timeout_ms),
                retries,
            },
            name_at: name.span(),
            ports_at: Vec::new(),
        };
        let table = match value.get_ref() {
            NodeValue::Module(module) => {
                read.spec.stage = self.module(&section, node, module, value.span())?;
                return Ok(read);
            }
            NodeValue::Table(table) => table,
        };
        let (shape, keys): (&str, &[&str]) = match (&table.module, &table.source) {
            (Some(module), None) => {
                read.spec.stage = self.module(&section, node, module.get_ref(), module.span())?;
                (
                    "a module node",
                    &["module", "ports", "config", "timeout-ms", "retries"],
                )
            }
            (None, Some(source)) => match source.get_ref().as_str() {
                PUSH => {
                    read.spec.stage = StageSource::Push;
                    ("a push source", &["source"])
                }
                EVENTS => {
                    let list = |v: &Option<Spanned<Vec<String>>>| {
                        v.as_ref().map(|v| v.get_ref().clone()).unwrap_or_default()
                    };
                    read.spec.stage = StageSource::Events {
                        types: list(&table.types),
                        tags: list(&table.tags),
                        from: table.from.as_ref().map_or(0, |v| *v.get_ref()),
                    };
                    ("an events source", &["source", "types", "tags", "from"])
                }
                other => {
                    return Err(manifest.error_at(
                        source.span(),
                        format!(
                            "[{section}] {node}: '{other}' is not a host source: push or events \
                             (a module of kind source is {{ module = \"…\" }})"
                        ),
                    ));
                }
            },
            (Some(_), Some(source)) => {
                return Err(manifest.error_at(
                    source.span(),
                    format!("[{section}] {node}: a node has a module or a source, not both"),
                ));
            }
            (None, None) => {
                return Err(manifest.error_at(
                    value.span(),
                    format!(
                        "[{section}] {node}: a node is a module's name, or a table with a module \
                         ({{ module = \"…\" }}) or a host source ({{ source = \"push\" }} or \
                         {{ source = \"events\" }})"
                    ),
                ));
            }
        };
        if let Some((key, at)) = table.keys().into_iter().find(|(k, _)| !keys.contains(k)) {
            return Err(manifest.error_at(
                at,
                format!(
                    "[{section}] {node}: {shape} takes no `{key}` (its keys: {})",
                    keys.join(", ")
                ),
            ));
        }
        let at = format!("{section}.{node}");
        manifest.check_range(&at, "timeout-ms", &table.timeout_ms, TIMEOUT_MS)?;
        manifest.check_range(&at, "retries", &table.retries, RETRIES)?;
        if let Some(ms) = &table.timeout_ms {
            read.spec.timeout = Duration::from_millis(*ms.get_ref());
        }
        if let Some(n) = &table.retries {
            read.spec.retries = *n.get_ref() as u32;
        }
        if let Some(config) = &table.config {
            if let Some(date) = date_in(config.get_ref()) {
                return Err(manifest.error_at(
                    config.span(),
                    format!(
                        "[{section}] {node}: config holds a date ({date}), which JSON has not: \
                         write it as a string"
                    ),
                ));
            }
            read.spec.config = serde_json::to_value(config.get_ref()).unwrap_or_default();
        }
        if let Some(ports) = &table.ports {
            if read.spec.kind() == StageKind::Sink {
                return Err(manifest.error_at(
                    ports.span(),
                    format!("[{section}] {node}: a sink has no output ports"),
                ));
            }
            for port in ports.get_ref() {
                let name = port.get_ref();
                if read.spec.ports.contains(name) {
                    return Err(manifest.error_at(
                        port.span(),
                        format!("[{section}] {node}: port '{name}' is declared twice"),
                    ));
                }
                read.spec.ports.push(name.clone());
                read.ports_at.push(port.span());
            }
        }
        Ok(read)
    }

    /// Module `module` as a stage: a module of the project, of a stage kind.
    fn module(
        &self,
        section: &str,
        node: &str,
        module: &str,
        at: Range<usize>,
    ) -> Result<StageSource, ManifestError> {
        let Some(decl) = self.modules.iter().find(|m| m.name == module) else {
            let stages: Vec<&str> = self
                .modules
                .iter()
                .filter(|m| StageKind::of(m.kind).is_some())
                .map(|m| m.name.as_str())
                .collect();
            return Err(self.manifest.error_at(
                at,
                format!(
                    "[{section}] {node}: '{module}' is not a module of the project \
                     (sources, processors and sinks: {})",
                    listed(&stages)
                ),
            ));
        };
        match StageKind::of(decl.kind) {
            Some(kind) => Ok(StageSource::Module {
                module: module.to_owned(),
                kind,
            }),
            None => Err(self.manifest.error_at(
                at,
                format!(
                    "[{section}] {node}: '{module}' is a {}, not a source, processor or sink",
                    decl.kind
                ),
            )),
        }
    }

    fn edge(
        &self,
        flow: &str,
        nodes: &[Read],
        edge: &EdgeTable,
    ) -> Result<ReadEdge, ManifestError> {
        let manifest = self.manifest;
        let section = format!("{flow}.edges");
        let node = |end: &Spanned<String>, key: &str| {
            nodes
                .iter()
                .find(|n| &n.spec.name == end.get_ref())
                .ok_or_else(|| {
                    let names: Vec<&str> = nodes.iter().map(|n| n.spec.name.as_str()).collect();
                    manifest.error_at(
                        end.span(),
                        format!(
                            "[{section}] {key} = '{}' is not a node of the flow (nodes: {})",
                            end.get_ref(),
                            listed(&names)
                        ),
                    )
                })
        };
        let from = node(&edge.from, "from")?;
        let to = node(&edge.to, "to")?;
        manifest.check_range(&section, "capacity", &edge.capacity, CAPACITY)?;
        let capacity = edge
            .capacity
            .as_ref()
            .map_or(DEFAULT_CAPACITY, |v| *v.get_ref() as usize);
        manifest.check_range(&section, "low", &edge.low, 0..capacity as u64)?;
        let policy = match &edge.policy {
            None => Policy::default(),
            Some(p) => Policy::ALL
                .into_iter()
                .find(|policy| policy.as_str() == p.get_ref())
                .ok_or_else(|| {
                    manifest.error_at(
                        p.span(),
                        format!(
                            "[{section}] policy: '{}' is not block, drop-oldest, drop-newest or error",
                            p.get_ref()
                        ),
                    )
                })?,
        };
        let read = ReadEdge {
            spec: EdgeSpec {
                from: from.spec.name.clone(),
                port: edge.port.as_ref().map(|p| p.get_ref().clone()),
                to: to.spec.name.clone(),
                capacity,
                low: edge
                    .low
                    .as_ref()
                    .map_or(capacity / 2, |v| *v.get_ref() as usize),
                policy,
            },
            from_at: edge.from.span(),
            to_at: edge.to.span(),
        };
        let label = read.label();
        if to.spec.kind() == StageKind::Source {
            return Err(manifest.error_at(
                read.to_at.clone(),
                format!(
                    "[{section}] {label}: '{}' is a source; no edge goes into a source",
                    to.spec.name
                ),
            ));
        }
        if from.spec.kind() == StageKind::Sink {
            return Err(manifest.error_at(
                read.from_at.clone(),
                format!(
                    "[{section}] {label}: '{}' is a sink; no edge leaves a sink",
                    from.spec.name
                ),
            ));
        }
        let ports = &from.spec.ports;
        match &edge.port {
            Some(port) if ports.is_empty() => {
                return Err(manifest.error_at(
                    port.span(),
                    format!(
                        "[{section}] {label}: '{}' declares no ports, so an edge from it names none",
                        from.spec.name
                    ),
                ));
            }
            Some(port) if !ports.contains(port.get_ref()) => {
                return Err(manifest.error_at(
                    port.span(),
                    format!(
                        "[{section}] {label}: '{}' is not a port of '{}' (ports: {})",
                        port.get_ref(),
                        from.spec.name,
                        listed(ports)
                    ),
                ));
            }
            None if !ports.is_empty() => {
                return Err(manifest.error_at(
                    read.from_at.clone(),
                    format!(
                        "[{section}] {label}: '{}' declares ports ({}): name the one this edge \
                         leaves from, e.g. port = \"{}\"",
                        from.spec.name,
                        listed(ports),
                        ports[0]
                    ),
                ));
            }
            _ => {}
        }
        Ok(read)
    }

    /// Every node on an edge, a processor's both in and out, every port
    /// with an edge leaving from it.
    fn connections(
        &self,
        flow: &str,
        nodes: &[Read],
        edges: &[ReadEdge],
    ) -> Result<(), ManifestError> {
        let section = format!("{flow}.nodes");
        for node in nodes {
            let name = &node.spec.name;
            let has_in = edges.iter().any(|e| &e.spec.to == name);
            let has_out = edges.iter().any(|e| &e.spec.from == name);
            let problem = match (has_in, has_out) {
                (false, false) => Some("no edge comes into it or leaves it"),
                (true, false) if node.spec.kind() == StageKind::Processor => {
                    Some("a processor needs an edge leaving it; none does")
                }
                (false, true) if node.spec.kind() == StageKind::Processor => {
                    Some("a processor needs an edge coming into it; none does")
                }
                _ => None,
            };
            if let Some(problem) = problem {
                return Err(self.manifest.error_at(
                    node.name_at.clone(),
                    format!("[{section}] {name}: {problem}"),
                ));
            }
            for (port, at) in node.spec.ports.iter().zip(&node.ports_at) {
                if !edges
                    .iter()
                    .any(|e| &e.spec.from == name && e.spec.port.as_ref() == Some(port))
                {
                    return Err(self.manifest.error_at(
                        at.clone(),
                        format!("[{section}] {name}: no edge leaves from port '{port}'"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// No cycle: a located error naming the nodes of the first one found.
    fn acyclic(
        &self,
        flow: &str,
        section: &str,
        nodes: &[Read],
        edges: &[ReadEdge],
    ) -> Result<(), ManifestError> {
        let index = |name: &str| nodes.iter().position(|n| n.spec.name == name);
        // Each node's outgoing edges, as (target, edge).
        let mut out: Vec<Vec<(usize, usize)>> = vec![Vec::new(); nodes.len()];
        for (e, edge) in edges.iter().enumerate() {
            if let (Some(from), Some(to)) = (index(&edge.spec.from), index(&edge.spec.to)) {
                out[from].push((to, e));
            }
        }
        let mut done = BTreeSet::new();
        for start in 0..nodes.len() {
            if done.contains(&start) {
                continue;
            }
            // Depth first: the path from `start`, each node with the next
            // of its edges to follow.
            let mut path: Vec<(usize, usize)> = vec![(start, 0)];
            while let Some((node, next)) = path.last_mut() {
                let node = *node;
                let Some(&(to, e)) = out[node].get(*next) else {
                    done.insert(node);
                    path.pop();
                    continue;
                };
                *next += 1;
                if let Some(at) = path.iter().position(|(n, _)| *n == to) {
                    let mut cycle: Vec<&str> = path[at..]
                        .iter()
                        .map(|(n, _)| nodes[*n].spec.name.as_str())
                        .collect();
                    cycle.push(&nodes[to].spec.name);
                    return Err(self.manifest.error_at(
                        edges[e].from_at.clone(),
                        format!(
                            "[{section}.edges] flow {flow} has a cycle: {}",
                            cycle.join(" → ")
                        ),
                    ));
                }
                if !done.contains(&to) {
                    path.push((to, 0));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use serde_json::json;

    use super::*;

    fn modules() -> Vec<ModuleDecl> {
        [
            ("gen", "source"),
            ("enrich", "processor"),
            ("router", "processor"),
            ("top", "sink"),
            ("store", "sink"),
            ("hello", "service"),
        ]
        .into_iter()
        .map(|(name, kind)| {
            ModuleDecl::prebuilt(name, ModuleKind::new(kind), None, PathBuf::from(name))
        })
        .collect()
    }

    fn read(text: &str) -> Result<PipelineSettings, ManifestError> {
        let manifest = Manifest::parse(text, Path::new("wbx.toml"), SECTIONS)?;
        check(&manifest, &modules())?;
        settings(&manifest, &modules())
    }

    /// The error `text` makes: its line and its message.
    fn error(text: &str) -> (usize, String) {
        let error = read(text).unwrap_err();
        assert_eq!(error.path, Path::new("wbx.toml"));
        let (line, _) = error.position.expect("a located error");
        (line, error.message)
    }

    /// A flow `f` of `nodes` and `edges` (TOML lines): the nodes table on
    /// line 2, the first node on line 3.
    fn flow(nodes: &str, edges: &str) -> String {
        format!("[flows.f]\n[flows.f.nodes]\n{nodes}\n{edges}")
    }

    fn edge(from: &str, to: &str) -> String {
        format!("[[flows.f.edges]]\nfrom = \"{from}\"\nto = \"{to}\"\n")
    }

    #[test]
    fn no_flows_is_no_settings() {
        assert_eq!(read("").unwrap(), PipelineSettings::default());
        assert_eq!(read("[project]\nname = \"x\"\n").unwrap().flows.len(), 0);
    }

    #[test]
    fn defaults() {
        let s = read(&flow("a = \"gen\"\nb = \"top\"", &edge("a", "b"))).unwrap();
        let f = &s.flows["f"];
        assert_eq!(f.name, "f");
        assert_eq!(f.batch, DEFAULT_BATCH);
        assert!(f.start);
        assert_eq!(
            f.nodes[0],
            NodeSpec {
                name: "a".into(),
                stage: StageSource::Module {
                    module: "gen".into(),
                    kind: StageKind::Source
                },
                ports: vec![],
                config: serde_json::Value::Null,
                timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
                retries: DEFAULT_RETRIES,
            }
        );
        assert_eq!(f.nodes[1].kind(), StageKind::Sink);
        assert_eq!(
            f.edges,
            [EdgeSpec {
                from: "a".into(),
                port: None,
                to: "b".into(),
                capacity: DEFAULT_CAPACITY,
                low: DEFAULT_CAPACITY / 2,
                policy: Policy::Block,
            }]
        );
        // The low watermark follows the capacity.
        let s = read(&flow(
            "a = \"gen\"\nb = \"top\"",
            "[[flows.f.edges]]\nfrom = \"a\"\nto = \"b\"\ncapacity = 9\n",
        ))
        .unwrap();
        assert_eq!(
            (s.flows["f"].edges[0].capacity, s.flows["f"].edges[0].low),
            (9, 4)
        );
    }

    #[test]
    fn a_full_flow() {
        let text = r#"
[flows.clicks]
batch = 8
timeout-ms = 200
retries = 5
start = false
edges = [
  { from = "zclicks", to = "enrich", capacity = 16, low = 2, policy = "drop-oldest" },
  { from = "history", to = "enrich", policy = "error" },
  { from = "all", to = "archive" },
  { from = "enrich", to = "route", policy = "drop-newest" },
  { from = "enrich", to = "archive" },
  { from = "route", port = "pages", to = "top" },
  { from = "route", port = "pages", to = "archive" },
  { from = "route", port = "other", to = "other" },
]

[flows.clicks.nodes]
zclicks = { source = "push" }
history = { source = "events", types = ["PageViewed"], tags = ["site:a"], from = 7 }
all = { source = "events" }
enrich = "enrich"
route = { module = "router", ports = ["pages", "other"], config = { min = 3, names = ["a"], ratio = 0.5 }, timeout-ms = 1000, retries = 0 }
top = "top"
archive = { module = "store" }
other = "store"

[flows.second.nodes]
a = "gen"
b = "top"

[[flows.second.edges]]
from = "a"
to = "b"
"#;
        let s = read(text).unwrap();
        assert_eq!(s.flows.keys().collect::<Vec<_>>(), ["clicks", "second"]);
        let f = &s.flows["clicks"];
        assert_eq!((f.batch, f.start), (8, false));
        // File order, not the names' order.
        let names: Vec<&str> = f.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "zclicks", "history", "all", "enrich", "route", "top", "archive", "other"
            ]
        );
        let node = |name| f.node(name).unwrap();
        assert_eq!(node("zclicks").stage, StageSource::Push);
        assert_eq!(node("zclicks").stage.module(), "push");
        assert!(node("zclicks").stage.is_host());
        assert_eq!(
            node("history").stage,
            StageSource::Events {
                types: vec!["PageViewed".into()],
                tags: vec!["site:a".into()],
                from: 7
            }
        );
        assert_eq!(
            node("all").stage,
            StageSource::Events {
                types: vec![],
                tags: vec![],
                from: 0
            }
        );
        assert_eq!(node("all").kind(), StageKind::Source);
        assert_eq!(node("all").stage.module(), "events");
        // The flow's timeout and retries, unless the node sets its own.
        assert_eq!(node("enrich").timeout, Duration::from_millis(200));
        assert_eq!(node("enrich").retries, 5);
        assert_eq!(node("enrich").kind(), StageKind::Processor);
        let route = node("route");
        assert_eq!(
            route.stage,
            StageSource::Module {
                module: "router".into(),
                kind: StageKind::Processor
            }
        );
        assert_eq!(route.ports, ["pages", "other"]);
        assert_eq!(
            route.config,
            json!({"min": 3, "names": ["a"], "ratio": 0.5})
        );
        assert_eq!(route.timeout, Duration::from_millis(1000));
        assert_eq!(route.retries, 0);
        assert_eq!(node("archive").stage.module(), "store");
        assert_eq!(node("other").stage.module(), "store");
        assert_eq!(node("top").config, serde_json::Value::Null);

        let edge = |from: &str, port: Option<&str>, to: &str, capacity, low, policy| EdgeSpec {
            from: from.into(),
            port: port.map(Into::into),
            to: to.into(),
            capacity,
            low,
            policy,
        };
        assert_eq!(
            f.edges,
            [
                edge("zclicks", None, "enrich", 16, 2, Policy::DropOldest),
                edge("history", None, "enrich", 64, 32, Policy::Error),
                edge("all", None, "archive", 64, 32, Policy::Block),
                edge("enrich", None, "route", 64, 32, Policy::DropNewest),
                edge("enrich", None, "archive", 64, 32, Policy::Block),
                edge("route", Some("pages"), "top", 64, 32, Policy::Block),
                edge("route", Some("pages"), "archive", 64, 32, Policy::Block),
                edge("route", Some("other"), "other", 64, 32, Policy::Block),
            ]
        );
        assert_eq!(s.flows["second"].nodes.len(), 2);
        assert!(s.flows["second"].start);
    }

    #[test]
    fn names_as_json() {
        assert_eq!(
            serde_json::to_value(Policy::ALL).unwrap(),
            json!(["block", "drop-oldest", "drop-newest", "error"])
        );
        for policy in Policy::ALL {
            assert_eq!(json!(policy), json!(policy.as_str()));
        }
        assert_eq!(json!(StageKind::Processor), json!("processor"));
        assert_eq!(
            StageKind::of(ModuleKind::new("sink")),
            Some(StageKind::Sink)
        );
        assert_eq!(StageKind::of(ModuleKind::new("actor")), None);
    }

    #[test]
    fn flow_errors() {
        let ok_nodes = "a = \"gen\"\nb = \"top\"\n";
        let cases: Vec<(String, usize, &str)> = vec![
            (
                "[flows]\nf = 3\n".into(),
                2,
                "invalid type: integer `3`, expected a flow's table, [flows.NAME]",
            ),
            (
                "[flows.f]\nbatch = 0\n".into(),
                2,
                "[flows.f] batch = 0 is out of range: expected 1 to 1000000",
            ),
            (
                "[flows.f]\ntimeout-ms = 0\n".into(),
                2,
                "[flows.f] timeout-ms = 0 is out of range: expected 1 to 3600000",
            ),
            (
                "[flows.f]\nretries = 1001\n".into(),
                2,
                "[flows.f] retries = 1001 is out of range: expected 0 to 1000",
            ),
            (
                "[flows.f]\nbatch = 1\n".into(),
                1,
                "[flows.f] the flow has no nodes: declare them in [flows.f.nodes]",
            ),
            (
                format!("[flows.f]\nspeed = 3\n[flows.f.nodes]\n{ok_nodes}"),
                2,
                "unknown field `speed`, expected one of `batch`, `timeout-ms`, `retries`, \
                 `start`, `nodes`, `edges`",
            ),
            (
                format!("[flows.\"a b\".nodes]\n{ok_nodes}"),
                1,
                "[flows] 'a b' is not a flow name: use letters, digits, '-' and '_'",
            ),
        ];
        for (text, line, message) in cases {
            assert_eq!(error(&text), (line, message.to_owned()), "{text}");
        }
    }

    #[test]
    fn node_errors() {
        let cases: Vec<(&str, &str)> = vec![
            (
                "x = \"nope\"",
                "[flows.f.nodes] x: 'nope' is not a module of the project \
                 (sources, processors and sinks: gen, enrich, router, top, store)",
            ),
            (
                "x = { module = \"nope\" }",
                "[flows.f.nodes] x: 'nope' is not a module of the project \
                 (sources, processors and sinks: gen, enrich, router, top, store)",
            ),
            (
                "x = \"hello\"",
                "[flows.f.nodes] x: 'hello' is a service, not a source, processor or sink",
            ),
            (
                "x = { source = \"kafka\" }",
                "[flows.f.nodes] x: 'kafka' is not a host source: push or events \
                 (a module of kind source is { module = \"…\" })",
            ),
            (
                "x = { ports = [\"a\"] }",
                "[flows.f.nodes] x: a node is a module's name, or a table with a module \
                 ({ module = \"…\" }) or a host source ({ source = \"push\" } or \
                 { source = \"events\" })",
            ),
            (
                "x = { module = \"gen\", source = \"push\" }",
                "[flows.f.nodes] x: a node has a module or a source, not both",
            ),
            (
                "x = { source = \"push\", config = 1 }",
                "[flows.f.nodes] x: a push source takes no `config` (its keys: source)",
            ),
            (
                "x = { source = \"events\", ports = [\"a\"] }",
                "[flows.f.nodes] x: an events source takes no `ports` \
                 (its keys: source, types, tags, from)",
            ),
            (
                "x = { module = \"enrich\", from = 3 }",
                "[flows.f.nodes] x: a module node takes no `from` \
                 (its keys: module, ports, config, timeout-ms, retries)",
            ),
            (
                "x = { module = \"enrich\", timeout-ms = 0 }",
                "[flows.f.nodes.x] timeout-ms = 0 is out of range: expected 1 to 3600000",
            ),
            (
                "x = { module = \"enrich\", retries = 5000 }",
                "[flows.f.nodes.x] retries = 5000 is out of range: expected 0 to 1000",
            ),
            (
                "x = { module = \"top\", ports = [\"a\"] }",
                "[flows.f.nodes] x: a sink has no output ports",
            ),
            (
                "x = { module = \"router\", ports = [\"a\", \"a\"] }",
                "[flows.f.nodes] x: port 'a' is declared twice",
            ),
            (
                "x = { module = \"enrich\", config = { at = [1979-05-27] } }",
                "[flows.f.nodes] x: config holds a date (1979-05-27), which JSON has not: \
                 write it as a string",
            ),
            (
                "\"x y\" = \"enrich\"",
                "[flows.f.nodes] 'x y' is not a node name: use letters, digits, '-' and '_'",
            ),
            (
                "x = { module = \"enrich\", speed = 1 }",
                "unknown field `speed`, expected one of `module`, `source`, `ports`, \
                 `config`, `timeout-ms`, `retries`, `types`, `tags`, `from`",
            ),
            (
                "x = 3",
                "invalid type: integer `3`, expected a module's name, or a table: \
                 { module = \"…\" }, { source = \"push\" } or { source = \"events\" }",
            ),
        ];
        for (node, message) in cases {
            // The bad node on line 4, after a good one.
            let text = flow(&format!("a = \"gen\"\n{node}"), "");
            assert_eq!(error(&text), (4, message.to_owned()), "{text}");
        }
        // A node as a table of its own: located at its key.
        let text = flow(
            "a = \"gen\"\n[flows.f.nodes.x]\nmodule = \"enrich\"\nsource = \"push\"",
            "",
        );
        assert_eq!(
            error(&text),
            (
                6,
                "[flows.f.nodes] x: a node has a module or a source, not both".to_owned()
            )
        );
    }

    #[test]
    fn edge_errors() {
        let nodes = "s = \"gen\"\np = \"enrich\"\nr = { module = \"router\", ports = [\"hi\", \"lo\"] }\n\
                     k = \"top\"\nh = { source = \"push\" }";
        // Good edges on lines 8 to 24, the bad one from line 25 (its `from`
        // on 26, `to` on 27, its next keys on 28 and 29).
        let good = [
            edge("s", "p"),
            edge("h", "p"),
            edge("p", "r"),
            "[[flows.f.edges]]\nfrom = \"r\"\nport = \"hi\"\nto = \"k\"\n".to_owned(),
            "[[flows.f.edges]]\nfrom = \"r\"\nport = \"lo\"\nto = \"k\"\n".to_owned(),
        ]
        .concat();
        let cases: Vec<(&str, usize, &str)> = vec![
            (
                "from = \"x\"\nto = \"k\"",
                26,
                "[flows.f.edges] from = 'x' is not a node of the flow (nodes: s, p, r, k, h)",
            ),
            (
                "from = \"p\"\nto = \"y\"",
                27,
                "[flows.f.edges] to = 'y' is not a node of the flow (nodes: s, p, r, k, h)",
            ),
            (
                "from = \"p\"\nto = \"s\"",
                27,
                "[flows.f.edges] p → s: 's' is a source; no edge goes into a source",
            ),
            (
                "from = \"p\"\nto = \"h\"",
                27,
                "[flows.f.edges] p → h: 'h' is a source; no edge goes into a source",
            ),
            (
                "from = \"k\"\nto = \"p\"",
                26,
                "[flows.f.edges] k → p: 'k' is a sink; no edge leaves a sink",
            ),
            (
                "from = \"p\"\nto = \"k\"\nport = \"hi\"",
                28,
                "[flows.f.edges] p:hi → k: 'p' declares no ports, so an edge from it names none",
            ),
            (
                "from = \"r\"\nto = \"k\"\nport = \"mid\"",
                28,
                "[flows.f.edges] r:mid → k: 'mid' is not a port of 'r' (ports: hi, lo)",
            ),
            (
                "from = \"r\"\nto = \"k\"",
                26,
                "[flows.f.edges] r → k: 'r' declares ports (hi, lo): name the one this edge \
                 leaves from, e.g. port = \"hi\"",
            ),
            (
                "from = \"s\"\nto = \"p\"",
                26,
                "[flows.f.edges] s → p: the same edge twice",
            ),
            (
                "from = \"r\"\nto = \"k\"\nport = \"lo\"",
                26,
                "[flows.f.edges] r:lo → k: the same edge twice",
            ),
            (
                "from = \"s\"\nto = \"k\"\ncapacity = 0",
                28,
                "[flows.f.edges] capacity = 0 is out of range: expected 1 to 1000000",
            ),
            (
                "from = \"s\"\nto = \"k\"\ncapacity = 1000001",
                28,
                "[flows.f.edges] capacity = 1000001 is out of range: expected 1 to 1000000",
            ),
            (
                "from = \"s\"\nto = \"k\"\ncapacity = 8\nlow = 8",
                29,
                "[flows.f.edges] low = 8 is out of range: expected 0 to 7",
            ),
            (
                "from = \"s\"\nto = \"k\"\nlow = 64",
                28,
                "[flows.f.edges] low = 64 is out of range: expected 0 to 63",
            ),
            (
                "from = \"s\"\nto = \"k\"\npolicy = \"fast\"",
                28,
                "[flows.f.edges] policy: 'fast' is not block, drop-oldest, drop-newest or error",
            ),
            ("to = \"k\"", 25, "missing field `from`"),
            (
                "from = \"s\"\nto = \"k\"\nweight = 1",
                28,
                "unknown field `weight`, expected one of `from`, `to`, `port`, `capacity`, \
                 `low`, `policy`",
            ),
        ];
        for (bad, line, message) in cases {
            let text = flow(nodes, &format!("{good}[[flows.f.edges]]\n{bad}\n"));
            assert_eq!(error(&text), (line, message.to_owned()), "{text}");
        }
        // The good edges alone make a good flow.
        read(&flow(nodes, &good)).unwrap();
    }

    #[test]
    fn graph_errors() {
        // Nodes on lines 3.., edges after them.
        let cases: Vec<(&str, String, usize, &str)> = vec![
            (
                "s = \"gen\"\nk = \"top\"\nlone = \"store\"",
                edge("s", "k"),
                5,
                "[flows.f.nodes] lone: no edge comes into it or leaves it",
            ),
            (
                "s = \"gen\"\nk = \"top\"\nh = { source = \"push\" }",
                edge("s", "k"),
                5,
                "[flows.f.nodes] h: no edge comes into it or leaves it",
            ),
            (
                "s = \"gen\"\np = \"enrich\"\nk = \"top\"",
                [edge("s", "p"), edge("s", "k")].concat(),
                4,
                "[flows.f.nodes] p: a processor needs an edge leaving it; none does",
            ),
            (
                "s = \"gen\"\np = \"enrich\"\nk = \"top\"",
                [edge("s", "k"), edge("p", "k")].concat(),
                4,
                "[flows.f.nodes] p: a processor needs an edge coming into it; none does",
            ),
            (
                "s = \"gen\"\nr = { module = \"router\", ports = [\"hi\",\n  \"lo\"] }\nk = \"top\"",
                [
                    edge("s", "r"),
                    "[[flows.f.edges]]\nfrom = \"r\"\nport = \"hi\"\nto = \"k\"\n".to_owned(),
                ]
                .concat(),
                5,
                "[flows.f.nodes] r: no edge leaves from port 'lo'",
            ),
            (
                // Lines 6.. : s → a (7), a → b (10), b → c (13), c → a (16).
                "s = \"gen\"\na = \"enrich\"\nb = \"enrich\"\nc = \"enrich\"",
                [
                    edge("s", "a"),
                    edge("a", "b"),
                    edge("b", "c"),
                    edge("c", "a"),
                ]
                .concat(),
                17,
                "[flows.f.edges] flow f has a cycle: a → b → c → a",
            ),
            (
                // A processor feeding itself, besides a good way out.
                "s = \"gen\"\na = \"enrich\"\nk = \"top\"",
                [edge("s", "a"), edge("a", "k"), edge("a", "a")].concat(),
                13,
                "[flows.f.edges] flow f has a cycle: a → a",
            ),
        ];
        for (nodes, edges, line, message) in cases {
            let text = flow(nodes, &edges);
            assert_eq!(error(&text), (line, message.to_owned()), "{text}");
        }
    }

    #[test]
    fn a_module_table_of_a_stage_sets_nothing() {
        let (line, message) = error("[modules.enrich]\nmailbox = 3\n");
        assert_eq!(line, 2);
        assert!(message.contains("unknown field `mailbox`"), "{message}");
        // The core's keys stay the core's.
        read("[modules.enrich]\nenv = { A = \"1\" }\n").unwrap();
    }
}
