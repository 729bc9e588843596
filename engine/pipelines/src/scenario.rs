//! Scenario tests of a project's pipelines (`wbx test`).
//!
//! A project keeps them in `scenarios/pipelines/*.toml`, each file a list
//! of `[[scenario]]` tables, each testing one processor or one flow:
//!
//! ```toml
//! [[scenario]]
//! name = "enrich adds the section"
//! processor = "enrich"                       # a processor module
//! config = { sections = true }               # its init config (default: null)
//! input = [{ page = "/docs/a" }, { page = "/" }]   # elements (JSON), one batch
//! expect = { default = [{ section = "docs" }, { section = "home" }] }
//! # outputs per port, in order, each a subset; `default` is no port
//!
//! [[scenario]]
//! name = "clicks rank pages"
//! flow = "clicks"                            # a flow of wbx.toml
//! input = [{ page = "/a" }, { page = "/a" }] # pushed into its push source
//! expect = { top = [{ page = "/a", count = 2 }] }
//! # what reached each sink node, in order, each a subset
//! ```
//!
//! A processor scenario gets a fresh instance (`init` with `config`) and
//! the input as one batch; an element's error shows as `error[i]` in the
//! diff. A flow scenario starts the flow on scratch state (every model's
//! runtime opened, so a sink's commands run on a scratch event store),
//! pushes the input into its push source (`node` names one when it has
//! several), stops it — which drains every queue — and compares what
//! reached each sink; a flow with no push source runs until its sources
//! finish. What reached a sink is compared in the order of the elements'
//! sequence numbers (across its inputs, when several feed it). Elements a
//! port or sink receives beyond those expected fail the scenario, as
//! missing ones do.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value as Json;
use tokio::sync::broadcast::error::TryRecvError;
use toml::Spanned;
use wbx_core::project::Project;
use wbx_core::scenario::{self as shared, Problem, Table, diff, flatten, listing, shaped};

use crate::bindings::ProcessorWorld;
use crate::element::{Element, NewElement};
use crate::info::{ElementView, FlowStatus, StageStatus};
use crate::runtime::PipelineRuntime;
use crate::settings::{PipelineSettings, StageKind, StageSource};
use crate::stage::{GuestStage, StageContext};

pub use wbx_core::scenario::Outcome;

/// Where a project keeps its pipeline scenario files.
pub const DIR: &str = "scenarios/pipelines";

/// The longest a flow scenario may run.
const PATIENCE: Duration = Duration::from_secs(60);

/// The port name `expect` uses for elements sent to no port.
const DEFAULT_PORT: &str = "default";

pub type Scenario = shared::Scenario<Test>;

#[derive(Debug, Clone)]
pub struct Test {
    subject: Subject,
    input: Vec<Json>,
    /// Per port (a processor) or per sink node (a flow): the elements
    /// expected, each a subset.
    expect: BTreeMap<String, Vec<Json>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Subject {
    Processor { config: Json },
    Flow { node: Option<String> },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    processor: Option<Spanned<String>>,
    flow: Option<Spanned<String>>,
    config: Option<Json>,
    node: Option<Spanned<String>>,
    #[serde(default)]
    input: Vec<Json>,
    #[serde(default)]
    expect: BTreeMap<String, Vec<Json>>,
}

impl Table for RawScenario {
    fn name(&self) -> &str {
        &self.name
    }
}

/// Reads every `scenarios/pipelines/*.toml` of the project, in name order.
pub fn load(project: &Project) -> Result<Vec<Scenario>> {
    shared::read(project, DIR, |text, file| parse(text, file, project))
}

/// The scenarios of one file's `text`; `file` names it in errors.
pub fn parse(text: &str, file: &Path, project: &Project) -> Result<Vec<Scenario>> {
    let settings = crate::settings::settings(&project.manifest, &project.modules)?;
    let processors: Vec<String> = project
        .modules
        .iter()
        .filter(|m| m.kind == crate::kinds::PROCESSOR)
        .map(|m| m.name.clone())
        .collect();
    shared::parse(text, file, |raw| checked(raw, &processors, &settings))
}

fn checked(
    raw: RawScenario,
    processors: &[String],
    settings: &PipelineSettings,
) -> Result<(String, Test), Problem> {
    let (module, subject) = match (raw.processor, raw.flow) {
        (Some(processor), None) => {
            if let Some(node) = raw.node {
                return Err((
                    Some(node.span()),
                    "`node` is for a flow scenario".to_owned(),
                ));
            }
            if !processors.contains(processor.get_ref()) {
                return Err((
                    Some(processor.span()),
                    format!(
                        "no processor module named '{}' in this project; processors: {}",
                        processor.get_ref(),
                        listing(processors.iter().map(String::as_str))
                    ),
                ));
            }
            let config = raw.config.unwrap_or(Json::Null);
            (processor.into_inner(), Subject::Processor { config })
        }
        (None, Some(flow)) => {
            let Some(spec) = settings.flows.get(flow.get_ref()) else {
                return Err((
                    Some(flow.span()),
                    format!(
                        "no flow named '{}' in wbx.toml; flows: {}",
                        flow.get_ref(),
                        listing(settings.flows.keys().map(String::as_str))
                    ),
                ));
            };
            if raw.config.is_some() {
                return Err((
                    None,
                    "a flow's stages take their config from wbx.toml".to_owned(),
                ));
            }
            let sinks: Vec<&str> = spec
                .nodes
                .iter()
                .filter(|n| {
                    matches!(
                        n.stage,
                        StageSource::Module {
                            kind: StageKind::Sink,
                            ..
                        }
                    )
                })
                .map(|n| n.name.as_str())
                .collect();
            if let Some(unknown) = raw.expect.keys().find(|k| !sinks.contains(&k.as_str())) {
                return Err((
                    None,
                    format!(
                        "expect names '{unknown}', not a sink of flow '{}'; sinks: {}",
                        flow.get_ref(),
                        listing(sinks.iter().copied())
                    ),
                ));
            }
            let node = raw.node.map(Spanned::into_inner);
            (flow.into_inner(), Subject::Flow { node })
        }
        _ => {
            return Err((
                None,
                "a scenario tests a `processor` or a `flow`: name one of them".to_owned(),
            ));
        }
    };
    Ok((
        module,
        Test {
            subject,
            input: raw.input,
            expect: raw.expect,
        },
    ))
}

/// Runs `scenarios` against the project's built components, each on
/// scratch state of its own; `on_outcome` sees each result as it comes.
pub async fn run(
    project: &Project,
    scenarios: &[Scenario],
    on_outcome: impl FnMut(&Outcome),
) -> Result<Vec<Outcome>> {
    shared::run_in_models(project, scenarios, on_outcome, async |runtime, scenario| {
        let happened = match &scenario.test.subject {
            Subject::Processor { config } => processor(runtime, scenario, config).await?,
            Subject::Flow { node } => flow(runtime, scenario, node.as_deref()).await?,
        };
        Ok(compare(&scenario.test.expect, &happened))
    })
    .await
}

/// What came out: per port or sink, the elements in order; and errors.
#[derive(Debug, Default)]
struct Happened {
    out: BTreeMap<String, Vec<Json>>,
    errors: Vec<String>,
}

fn elements(input: &[Json]) -> Vec<Element> {
    input
        .iter()
        .enumerate()
        .map(|(i, value)| NewElement::json(value.to_string()).numbered(i as u64 + 1, 0))
        .collect()
}

fn json_of(payload: &[u8]) -> Json {
    serde_json::from_slice(payload)
        .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(payload).into_owned()))
}

async fn processor(
    runtime: &PipelineRuntime,
    scenario: &Scenario,
    config: &Json,
) -> Result<Happened> {
    let context = Arc::new(StageContext {
        engine: runtime.engine().clone(),
        capabilities: runtime.capabilities().clone(),
        module: scenario.module.clone(),
        config: config.to_string(),
        timeout: Duration::from_millis(crate::settings::DEFAULT_TIMEOUT_MS),
    });
    let (mut stage, _) = GuestStage::<ProcessorWorld>::start(context, None)
        .await
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("cannot start the processor '{}'", scenario.module))?;
    let batch = elements(&scenario.test.input);
    let results = stage
        .process(&batch)
        .await
        .map_err(|spent| anyhow::anyhow!("the processor failed: {}", spent.0))?;
    let mut happened = Happened::default();
    for (i, result) in results.into_iter().enumerate() {
        match result {
            Ok(outputs) => {
                for output in outputs {
                    let port = output
                        .port
                        .clone()
                        .unwrap_or_else(|| DEFAULT_PORT.to_owned());
                    happened
                        .out
                        .entry(port)
                        .or_default()
                        .push(json_of(&output.payload));
                }
            }
            Err(error) => happened.errors.push(format!("error[{i}]: {error}")),
        }
    }
    Ok(happened)
}

async fn flow(
    runtime: &PipelineRuntime,
    scenario: &Scenario,
    node: Option<&str>,
) -> Result<Happened> {
    let name = &scenario.module;
    let info = runtime.flow(name).context("the flow is gone")?;
    let sinks: Vec<String> = info
        .stages
        .iter()
        .filter(|s| s.kind == "sink")
        .map(|s| s.name.clone())
        .collect();
    // Read once the flow is over: every element that entered a sink's
    // queue is then in its tap, whatever the tasks' timing.
    let mut taps = Vec::new();
    for edge in info.edges.iter().filter(|e| sinks.contains(&e.to)) {
        let tap = runtime.tap(name, &edge.from, edge.port.as_deref(), &edge.to)?;
        taps.push((edge.to.clone(), tap));
    }
    runtime.start_flow(name).await?;
    let has_push = info
        .stages
        .iter()
        .any(|s| s.module == "push" && s.kind == "source");
    if has_push {
        let input = scenario
            .test
            .input
            .iter()
            .map(|v| NewElement::json(v.to_string()))
            .collect();
        runtime.push(name, node, input).await?;
        let stopped = tokio::time::timeout(PATIENCE, runtime.stop_flow(name)).await;
        if !matches!(stopped, Ok(Ok(FlowStatus::Stopped))) {
            bail!("the flow did not drain within {} s", PATIENCE.as_secs());
        }
    } else {
        if !scenario.test.input.is_empty() {
            bail!("flow '{name}' has no push source to send the input to");
        }
        let wait = async {
            loop {
                let status = runtime.flow(name).map(|f| f.status);
                if status.is_some_and(FlowStatus::is_over) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        if tokio::time::timeout(PATIENCE, wait).await.is_err() {
            bail!("the flow did not finish within {} s", PATIENCE.as_secs());
        }
    }
    let mut reached: BTreeMap<String, Vec<ElementView>> = BTreeMap::new();
    for (sink, mut tap) in taps {
        loop {
            match tap.try_recv() {
                Ok(element) => reached.entry(sink.clone()).or_default().push(element),
                Err(TryRecvError::Lagged(n)) => {
                    bail!("more elements than a scenario keeps: {n} skipped at {sink}")
                }
                Err(_) => break,
            }
        }
    }
    let out = reached
        .into_iter()
        .map(|(sink, mut elements)| {
            // In the order the flow numbered them, across a sink's inputs.
            elements.sort_by_key(|e| e.sequence);
            let values = elements
                .into_iter()
                .map(|e| e.payload.unwrap_or(Json::Null))
                .collect();
            (sink, values)
        })
        .collect();
    let mut happened = Happened {
        out,
        errors: Vec::new(),
    };
    let info = runtime.flow(name).context("the flow is gone")?;
    if let Some(reason) = info.reason {
        happened.errors.push(format!("flow: {reason}"));
    }
    for stage in &info.stages {
        if stage.dead_letters > 0 || stage.status == StageStatus::Failed {
            for letter in runtime
                .dead_letters(name)?
                .iter()
                .filter(|l| l.stage == stage.name)
            {
                happened.errors.push(format!(
                    "dead letter at {} (#{}): {}",
                    stage.name, letter.sequence, letter.error
                ));
            }
        }
    }
    Ok(happened)
}

/// `None` when what happened is what was expected, else the diff, one
/// element field a line (`top[0].count: 2`).
fn compare(expect: &BTreeMap<String, Vec<Json>>, happened: &Happened) -> Option<String> {
    let mut expected = Vec::new();
    let mut actual = Vec::new();
    let ports: std::collections::BTreeSet<&String> =
        expect.keys().chain(happened.out.keys()).collect();
    for port in ports {
        let want = expect.get(port).map(Vec::as_slice).unwrap_or_default();
        let got = happened
            .out
            .get(port)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for i in 0..want.len().max(got.len()) {
            let path = format!("{port}[{i}]");
            match (want.get(i), got.get(i)) {
                (Some(shape), Some(element)) => {
                    expected.extend(flatten(&path, shape));
                    actual.extend(flatten(&path, &shaped(element, shape)));
                }
                (Some(shape), None) => {
                    expected.extend(flatten(&path, shape));
                    actual.push(format!("{path}: (none)"));
                }
                (None, Some(element)) => {
                    expected.push(format!("{path}: (none)"));
                    actual.extend(flatten(&path, element));
                }
                (None, None) => {}
            }
        }
    }
    actual.extend(happened.errors.iter().cloned());
    diff(&expected.join("\n"), &actual.join("\n"))
}
