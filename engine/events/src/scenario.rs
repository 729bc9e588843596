//! Scenario tests of a project's commands and projectors (`wbx test`).
//!
//! A project keeps them in `scenarios/*.toml`, each file a list of
//! `[[scenario]]` tables:
//!
//! ```toml
//! [[scenario]]
//! name = "a task id is added once"
//! given = [{ type = "TaskAdded", tags = ["task_id:milk"], data = { task_id = "milk" } }]
//! command = "add-task"
//! input = { task_id = "milk", title = "Buy milk" }
//! rejected = "on the board already"      # or `invalid = "…"`, or
//! # then = [{ type = "TaskAdded", tags = ["task_id:milk"], data = { title = "Buy milk" } }]
//!
//! [[scenario]]
//! name = "the board lists tasks"
//! given = […]
//! projector = "board"
//! query = "SELECT task_id, done FROM tasks ORDER BY task_id"
//! rows = [["milk", 0]]
//! ```
//!
//! Each scenario runs on a scratch store of its own, against the project's
//! built components loaded once into one engine: the given events are
//! appended, then the command executes (as `wbx exec` would) or the
//! projector catches up from position 0 and the query runs on its read
//! model. Effects do not run. Expected events match when they come in the
//! same order and number, with the same type, the same tags when `tags` is
//! given, and `data` a subset of the event's data (objects compared key by
//! key, anything else whole). On failure the outcome carries a unified diff
//! of what was expected against what happened, both written the same way,
//! so the diff shows only what differs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use toml::Spanned;

use wbx_core::project::{Project, StateLayout, line_column, load_modules};
use wbx_core::{Engine, EngineConfig, ModuleKind};

use crate::EventsRuntime;
use crate::command::{CommandError, CommandRequest};
use crate::effect::EffectSettings;
use crate::envelope::{AppendMeta, NewEvent};
use crate::host_sql::value_to_json;
use crate::kinds::{COMMAND, PROJECTOR};

/// Where a project keeps its scenario files.
pub const DIR: &str = "scenarios";

/// The longest a projector may take to catch up with a scenario's events.
const CATCH_UP: Duration = Duration::from_secs(30);

/// One scenario, read and checked.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The file, relative to the project root.
    pub file: PathBuf,
    pub line: usize,
    pub name: String,
    /// The command or projector it tests.
    pub module: String,
    given: Vec<NewEvent>,
    check: Check,
}

#[derive(Debug, Clone)]
enum Check {
    Command { input: String, expect: Expect },
    Projector { query: String, rows: Vec<Json> },
}

#[derive(Debug, Clone)]
enum Expect {
    Events(Vec<Json>),
    Rejected(String),
    Invalid(String),
}

/// What running one scenario gave.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub file: PathBuf,
    pub line: usize,
    pub scenario: String,
    pub module: String,
    pub passed: bool,
    /// Failed: expected against actual, a unified diff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Could not run (the module did not load, a bad query, a stopped projector).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub elapsed_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileText {
    #[serde(default)]
    scenario: Vec<Spanned<RawScenario>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    #[serde(default)]
    given: Vec<GivenEvent>,
    command: Option<Spanned<String>>,
    input: Option<toml::Value>,
    then: Option<Vec<ExpectedEvent>>,
    rejected: Option<String>,
    invalid: Option<String>,
    projector: Option<Spanned<String>>,
    query: Option<String>,
    rows: Option<Vec<Vec<toml::Value>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GivenEvent {
    #[serde(rename = "type")]
    event_type: String,
    #[serde(default)]
    tags: Vec<String>,
    data: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedEvent {
    #[serde(rename = "type")]
    event_type: String,
    tags: Option<Vec<String>>,
    data: Option<toml::Value>,
}

/// Reads every `scenarios/*.toml` of the project, in name order. The first
/// bad file stops it, with the file, line and column of the problem.
pub fn load(project: &Project) -> Result<Vec<Scenario>> {
    let dir = project.root.join(DIR);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut scenarios = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let relative = path.strip_prefix(&project.root).unwrap_or(&path);
        scenarios.extend(parse(&text, relative, project)?);
    }
    Ok(scenarios)
}

/// The scenarios of one file's `text`; `file` names it in errors.
pub fn parse(text: &str, file: &Path, project: &Project) -> Result<Vec<Scenario>> {
    let located = |span: std::ops::Range<usize>, message: &str| {
        let (line, column) = line_column(text, span.start);
        anyhow::anyhow!("{}:{line}:{column}: {message}", file.display())
    };
    let parsed: FileText = toml::from_str(text).map_err(|e| match e.span() {
        Some(span) => located(span, e.message().trim()),
        None => anyhow::anyhow!("{}: {}", file.display(), e.message().trim()),
    })?;
    parsed
        .scenario
        .into_iter()
        .map(|raw| {
            let span = raw.span();
            let raw = raw.into_inner();
            let name = raw.name.clone();
            let (module, given, check) = checked(raw, project).map_err(|(at, message)| {
                located(
                    at.unwrap_or(span.clone()),
                    &format!("scenario '{name}': {message}"),
                )
            })?;
            Ok(Scenario {
                file: file.to_owned(),
                line: line_column(text, span.start).0,
                name,
                module,
                given,
                check,
            })
        })
        .collect()
}

type Problem = (Option<std::ops::Range<usize>>, String);

/// The scenario's module, given events and check, or what is wrong and where.
fn checked(raw: RawScenario, project: &Project) -> Result<(String, Vec<NewEvent>, Check), Problem> {
    let given = raw
        .given
        .into_iter()
        .map(|event| NewEvent {
            event_type: event.event_type,
            tags: event.tags,
            data: event
                .data
                .map_or_else(|| "{}".to_owned(), |d| to_json(&d).to_string()),
        })
        .collect();
    let module = |name: Spanned<String>, kind: ModuleKind| -> Result<String, Problem> {
        match project.module(name.get_ref()) {
            Some(m) if m.kind == kind => Ok(name.into_inner()),
            _ => Err((
                Some(name.span()),
                format!(
                    "no {kind} named '{}' in this project; {kind}s: {}",
                    name.get_ref(),
                    names_of(project, kind)
                ),
            )),
        }
    };
    let problem = |message: &str| Err((None, message.to_owned()));
    match (raw.command, raw.projector) {
        (Some(command), None) => {
            if raw.query.is_some() || raw.rows.is_some() {
                return problem("`query` and `rows` go with a `projector`, not a `command`");
            }
            let expect = match (raw.then, raw.rejected, raw.invalid) {
                (Some(then), None, None) => Expect::Events(then.iter().map(expected).collect()),
                (None, Some(text), None) => Expect::Rejected(text),
                (None, None, Some(text)) => Expect::Invalid(text),
                _ => {
                    return problem(
                        "a command scenario needs one of `then`, `rejected` or `invalid`",
                    );
                }
            };
            let input = raw.input.as_ref().map_or(json!({}), to_json).to_string();
            let command = module(command, COMMAND)?;
            Ok((command, given, Check::Command { input, expect }))
        }
        (None, Some(projector)) => {
            if raw.input.is_some()
                || raw.then.is_some()
                || raw.rejected.is_some()
                || raw.invalid.is_some()
            {
                return problem(
                    "`input`, `then`, `rejected` and `invalid` go with a `command`, not a `projector`",
                );
            }
            let (Some(query), Some(rows)) = (raw.query, raw.rows) else {
                return problem("a projector scenario needs a `query` and the `rows` it returns");
            };
            let rows = rows
                .iter()
                .map(|row| Json::Array(row.iter().map(to_json).collect()))
                .collect();
            let projector = module(projector, PROJECTOR)?;
            Ok((projector, given, Check::Projector { query, rows }))
        }
        _ => problem("a scenario names either a `command` or a `projector`"),
    }
}

fn names_of(project: &Project, kind: ModuleKind) -> String {
    let names: Vec<_> = project
        .modules
        .iter()
        .filter(|m| m.kind == kind)
        .map(|m| m.name.as_str())
        .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// An expected event as the JSON it is compared in.
fn expected(event: &ExpectedEvent) -> Json {
    let mut out = Map::new();
    out.insert("type".into(), event.event_type.clone().into());
    if let Some(tags) = &event.tags {
        out.insert("tags".into(), json!(tags));
    }
    if let Some(data) = &event.data {
        out.insert("data".into(), to_json(data));
    }
    Json::Object(out)
}

/// TOML as JSON: what inputs, data and expected rows are compared as.
fn to_json(value: &toml::Value) -> Json {
    match value {
        toml::Value::String(s) => s.clone().into(),
        toml::Value::Integer(n) => (*n).into(),
        toml::Value::Float(x) => (*x).into(),
        toml::Value::Boolean(b) => (*b).into(),
        toml::Value::Datetime(d) => d.to_string().into(),
        toml::Value::Array(items) => items.iter().map(to_json).collect(),
        toml::Value::Table(table) => {
            Json::Object(table.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

/// Runs `scenarios` against the project's built components, each on a
/// scratch store of its own; `on_outcome` sees each result as it comes.
pub async fn run(
    project: &Project,
    scenarios: &[Scenario],
    mut on_outcome: impl FnMut(&Outcome),
) -> Result<Vec<Outcome>> {
    let scratch = tempfile::tempdir().context("cannot make a scratch directory")?;
    let engine = Arc::new(Engine::new(EngineConfig {
        // Compiled components are keyed by content: sharing the project's
        // cache is safe and spares compiling them again.
        cache_dir: Some(project.state.cache_dir()),
        log_dir: Some(scratch.path().join("logs")),
        limits: project.manifest.limits(),
        kinds: project.models.catalog(),
    })?);
    let wanted: Vec<_> = project
        .modules
        .iter()
        .filter(|m| scenarios.iter().any(|s| s.module == m.name))
        .cloned()
        .collect();
    let only_wanted = Project {
        modules: wanted,
        ..project.clone()
    };
    let failures: Vec<(String, String)> = load_modules(&engine, &only_wanted, false)
        .into_iter()
        .filter_map(|l| l.result.err().map(|e| (l.module.name, format!("{e:#}"))))
        .collect();

    let mut outcomes = Vec::new();
    for (n, scenario) in scenarios.iter().enumerate() {
        let start = Instant::now();
        let result = match failures.iter().find(|(name, _)| *name == scenario.module) {
            Some((_, error)) => Err(anyhow::anyhow!("{error}")),
            None => {
                let state = StateLayout::new(scratch.path().join(n.to_string()));
                run_one(&engine, state, scenario).await
            }
        };
        let (passed, diff, error) = match result {
            Ok(None) => (true, None, None),
            Ok(Some(diff)) => (false, Some(diff), None),
            Err(error) => (false, None, Some(format!("{error:#}"))),
        };
        let outcome = Outcome {
            file: scenario.file.clone(),
            line: scenario.line,
            scenario: scenario.name.clone(),
            module: scenario.module.clone(),
            passed,
            diff,
            error,
            elapsed_ms: start.elapsed().as_millis() as u64,
        };
        on_outcome(&outcome);
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// One scenario on the store in `state`: `None` when it passes, else the diff.
async fn run_one(
    engine: &Arc<Engine>,
    state: StateLayout,
    scenario: &Scenario,
) -> Result<Option<String>> {
    state.create().context("cannot lay out a scratch store")?;
    let runtime = EventsRuntime::open(engine.clone(), state, EffectSettings::default())?;
    if !scenario.given.is_empty() {
        runtime
            .store()
            .append(&scenario.given, None, &AppendMeta::default())
            .context("cannot append the given events")?;
    }
    let result = match &scenario.check {
        Check::Command { input, expect } => {
            let request = CommandRequest {
                command: scenario.module.clone(),
                input: input.clone(),
                ..CommandRequest::default()
            };
            let outcome = runtime.execute(request).await;
            Ok(compare_command(expect, outcome.map(|o| o.events)))
        }
        Check::Projector { query, rows } => {
            let actual = project(&runtime, &scenario.module, query).await;
            actual.map(|actual| compare(&lines(rows), &lines(&actual)))
        }
    };
    runtime.shutdown().await;
    result
}

/// Starts the projector, waits until it has handled every event, queries.
async fn project(runtime: &Arc<EventsRuntime>, projector: &str, query: &str) -> Result<Vec<Json>> {
    let head = runtime.store().head();
    runtime.start_module(projector);
    runtime.wait_caught_up(projector, head, CATCH_UP).await?;
    let runtime = runtime.clone();
    let (name, sql) = (projector.to_owned(), query.to_owned());
    let rows = tokio::task::spawn_blocking(move || runtime.query_read_model(&name, &sql, &[]))
        .await
        .context("the query did not finish")?
        .with_context(|| format!("query `{query}`"))?;
    Ok(rows
        .rows
        .iter()
        .map(|row| Json::Array(row.iter().map(value_to_json).collect()))
        .collect())
}

/// `None` when the command did what was expected, else the diff.
fn compare_command(
    expect: &Expect,
    outcome: Result<Vec<crate::envelope::StoredEvent>, CommandError>,
) -> Option<String> {
    let events = match outcome {
        Ok(events) => events,
        Err(error) => {
            let expected = match expect {
                Expect::Events(expected) => pretty(expected),
                Expect::Rejected(text) => format!("rejected: …{text}…"),
                Expect::Invalid(text) => format!("invalid input: …{text}…"),
            };
            let passes = match (expect, &error) {
                (Expect::Rejected(text), CommandError::Rejected(message))
                | (Expect::Invalid(text), CommandError::InvalidInput(message)) => {
                    message.contains(text.as_str())
                }
                _ => false,
            };
            return if passes {
                None
            } else {
                compare(&expected, &error.to_string())
            };
        }
    };
    let no_shape = Vec::new();
    let (expected, shapes) = match expect {
        Expect::Events(expected) => (pretty(expected), expected),
        Expect::Rejected(text) => (format!("rejected: …{text}…"), &no_shape),
        Expect::Invalid(text) => (format!("invalid input: …{text}…"), &no_shape),
    };
    let actual: Vec<Json> = events
        .iter()
        .enumerate()
        .map(|(i, event)| {
            let whole = json!({
                "type": event.event_type,
                "tags": event.tags,
                "data": serde_json::from_str::<Json>(event.data.get()).unwrap_or(Json::Null),
            });
            match shapes.get(i) {
                Some(shape) => shaped(&whole, shape),
                None => whole,
            }
        })
        .collect();
    compare(&expected, &pretty(&actual))
}

/// `actual` cut down to the keys `shape` names, object by object: what is
/// left equals `shape` exactly when `shape` is a subset of `actual`.
fn shaped(actual: &Json, shape: &Json) -> Json {
    match (actual, shape) {
        (Json::Object(actual), Json::Object(shape)) => Json::Object(
            shape
                .iter()
                .filter_map(|(key, want)| {
                    actual
                        .get(key)
                        .map(|have| (key.clone(), shaped(have, want)))
                })
                .collect(),
        ),
        _ => actual.clone(),
    }
}

/// Events a few lines each, data flattened to one line a field, so a diff
/// points at the field that differs:
///
/// ```text
/// event 1: TaskAdded
///   tags: ["task_id:milk"]
///   data.title: "Buy milk"
/// ```
fn pretty(events: &[Json]) -> String {
    let mut out = Vec::new();
    for (n, event) in events.iter().enumerate() {
        let event_type = event["type"].as_str().unwrap_or("?");
        out.push(format!("event {}: {event_type}", n + 1));
        if let Some(tags) = event.get("tags") {
            out.push(format!("  tags: {tags}"));
        }
        if let Some(data) = event.get("data") {
            flatten("data", data, &mut out);
        }
    }
    if out.is_empty() {
        out.push("no events".to_owned());
    }
    out.join("\n")
}

fn flatten(path: &str, value: &Json, out: &mut Vec<String>) {
    match value {
        Json::Object(fields) if !fields.is_empty() => {
            for (key, value) in fields {
                flatten(&format!("{path}.{key}"), value, out);
            }
        }
        _ => out.push(format!("  {path}: {value}")),
    }
}

/// One compact JSON value a line: rows diff row by row.
fn lines(values: &[Json]) -> String {
    values
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `None` when equal, else the unified diff of `expected` against `actual`.
fn compare(expected: &str, actual: &str) -> Option<String> {
    if expected == actual {
        return None;
    }
    let (expected, actual) = (format!("{expected}\n"), format!("{actual}\n"));
    let diff = similar::TextDiff::from_lines(&expected, &actual);
    Some(
        diff.unified_diff()
            .context_radius(3)
            .header("expected", "actual")
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shaping_keeps_only_expected_keys() {
        let actual = json!({"type": "A", "tags": ["k:v"], "data": {"a": 1, "b": {"c": 2, "d": 3}}});
        let shape = json!({"type": "A", "data": {"b": {"c": 2}, "e": 5}});
        assert_eq!(
            shaped(&actual, &shape),
            json!({"type": "A", "data": {"b": {"c": 2}}})
        );
    }

    #[test]
    fn a_difference_is_a_unified_diff() {
        assert_eq!(compare("a\nb", "a\nb"), None);
        let diff = compare("[1]\n[2]", "[1]\n[3]").unwrap();
        assert_eq!(
            diff,
            "--- expected\n+++ actual\n@@ -1,2 +1,2 @@\n [1]\n-[2]\n+[3]\n"
        );
    }
}
