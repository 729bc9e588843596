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

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};
use toml::Spanned;

use wbx_core::project::{Project, StateLayout};
use wbx_core::scenario::{self as shared, Problem, Table, diff, flatten, listing, shaped};
use wbx_core::{Engine, ModuleKind};

use crate::EventsRuntime;
use crate::command::{CommandError, CommandRequest};
use crate::effect::EffectSettings;
use crate::envelope::{AppendMeta, NewEvent};
use crate::host_sql::value_to_json;
use crate::kinds::{COMMAND, PROJECTOR};

pub use wbx_core::scenario::Outcome;

/// Where a project keeps its scenario files.
pub const DIR: &str = "scenarios";

/// The longest a projector may take to catch up with a scenario's events.
const CATCH_UP: Duration = Duration::from_secs(30);

/// One scenario, read and checked; its module is the command or projector
/// it tests.
pub type Scenario = shared::Scenario<Test>;

/// What a scenario appends, then checks.
#[derive(Debug, Clone)]
pub struct Test {
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

impl Table for RawScenario {
    fn name(&self) -> &str {
        &self.name
    }
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
    shared::read(project, DIR, |text, file| parse(text, file, project))
}

/// The scenarios of one file's `text`; `file` names it in errors.
pub fn parse(text: &str, file: &Path, project: &Project) -> Result<Vec<Scenario>> {
    shared::parse(text, file, |raw| checked(raw, project))
}

/// The scenario's module, given events and check, or what is wrong and where.
fn checked(raw: RawScenario, project: &Project) -> Result<(String, Test), Problem> {
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
                    listing(
                        project
                            .modules
                            .iter()
                            .filter(|m| m.kind == kind)
                            .map(|m| m.name.as_str())
                    )
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
            let check = Check::Command { input, expect };
            Ok((command, Test { given, check }))
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
            let check = Check::Projector { query, rows };
            Ok((projector, Test { given, check }))
        }
        _ => problem("a scenario names either a `command` or a `projector`"),
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
    on_outcome: impl FnMut(&Outcome),
) -> Result<Vec<Outcome>> {
    let scratch = tempfile::tempdir().context("cannot make a scratch directory")?;
    let engine = shared::engine(project, scratch.path())?;
    // Only the modules the scenarios test: a scenario runs one command or
    // projector and nothing it could reach.
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
    let unloaded = shared::unloaded(&engine, &only_wanted);
    let one = async |state, scenario: &Scenario| run_one(&engine, state, scenario).await;
    Ok(shared::run_each(scenarios, scratch.path(), &unloaded, on_outcome, one).await)
}

/// One scenario on the store in `state`: `None` when it passes, else the diff.
async fn run_one(
    engine: &Arc<Engine>,
    state: StateLayout,
    scenario: &Scenario,
) -> Result<Option<String>> {
    state.create().context("cannot lay out a scratch store")?;
    let runtime = EventsRuntime::open(engine.clone(), state, EffectSettings::default())?;
    let Test { given, check } = &scenario.test;
    if !given.is_empty() {
        runtime
            .store()
            .append(given, None, &AppendMeta::default())
            .context("cannot append the given events")?;
    }
    let result = match check {
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
            actual.map(|actual| diff(&lines(rows), &lines(&actual)))
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
                diff(&expected, &error.to_string())
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
    diff(&expected, &pretty(&actual))
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
            out.extend(
                flatten("data", data)
                    .iter()
                    .map(|field| format!("  {field}")),
            );
        }
    }
    if out.is_empty() {
        out.push("no events".to_owned());
    }
    out.join("\n")
}

/// One compact JSON value a line: rows diff row by row.
fn lines(values: &[Json]) -> String {
    values
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_written_a_field_a_line() {
        let events = [json!({
            "type": "TaskAdded",
            "tags": ["task_id:milk"],
            "data": {"at": {"day": 1}, "title": "Buy milk"},
        })];
        assert_eq!(
            pretty(&events),
            "event 1: TaskAdded\n  tags: [\"task_id:milk\"]\n  data.at.day: 1\n  data.title: \"Buy milk\""
        );
        assert_eq!(pretty(&[]), "no events");
    }
}
