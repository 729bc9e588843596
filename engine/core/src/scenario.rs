//! What every model's scenario tests (`wbx test`) share. A model owns its
//! scenario format (the tables of its files, what they are checked
//! against) and how one scenario runs; the rest is the same for all and
//! lives here, so every model reads files, reports errors and results and
//! draws diffs the same way.
//!
//! Code map:
//! - [`Scenario`]: one scenario, read and checked: where it is written, its
//!   name, the module it tests, and the model's own part.
//! - [`read`] and [`parse`]: a project folder's `*.toml` files in name
//!   order, each a list of `[[scenario]]` tables read strictly (unknown
//!   fields refused); every error located at `file:line:column`, a model's
//!   [`Problem`] at the span it names or else at its scenario.
//! - [`run_in_models`]: a model's scenarios against every module, each
//!   with every model's runtime opened on scratch state (the mesh's, the
//!   actors').
//! - [`engine`], [`unloaded`] and [`run_each`]: one engine for a run, the
//!   modules that did not load, and each scenario run on scratch state of
//!   its own into an [`Outcome`], the one shape `wbx test` shows.
//! - [`shaped`], [`flatten`] and [`diff`]: comparing JSON as a subset,
//!   writing it one field a line, and the unified diff of expected against
//!   actual, so a failure shows only what differs.
//! - [`listing`]: names for a message (`a, b`, or `none`).

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use toml::Spanned;

use crate::project::{Project, StateLayout, line_column, load_modules};
use crate::{Engine, EngineConfig, Runtime, Runtimes};

/// One scenario, read and checked; `T` is the model's part (what it sets
/// up, does and expects).
#[derive(Debug, Clone)]
pub struct Scenario<T> {
    /// The file, relative to the project root.
    pub file: PathBuf,
    pub line: usize,
    pub name: String,
    /// The module it tests.
    pub module: String,
    pub test: T,
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
    /// Could not run (the module did not load, or what the model met: a
    /// bad query, a stopped projector, no answer in time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub elapsed_ms: u64,
}

/// What is wrong with a scenario table, and where: a span of the file, or
/// `None` for the scenario as a whole.
pub type Problem = (Option<Range<usize>>, String);

/// A model's `[[scenario]]` table, as read from a file.
pub trait Table: DeserializeOwned {
    /// The scenario's `name`, which errors about it quote.
    fn name(&self) -> &str;
}

#[derive(Deserialize)]
// The derived bound would ask `R: Default` for `#[serde(default)]`, which
// only the `Vec` needs.
#[serde(deny_unknown_fields, bound = "R: Deserialize<'de>")]
struct FileText<R> {
    #[serde(default)]
    scenario: Vec<Spanned<R>>,
}

/// Reads every `*.toml` of the project's folder `dir` (relative to its
/// root), in name order, through `parse_file` (given the text and the
/// file relative to the root). No folder, no scenarios; the first bad file
/// stops it.
pub fn read<S>(
    project: &Project,
    dir: &str,
    mut parse_file: impl FnMut(&str, &Path) -> Result<Vec<S>>,
) -> Result<Vec<S>> {
    let dir = project.root.join(dir);
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
        scenarios.extend(parse_file(&text, relative)?);
    }
    Ok(scenarios)
}

/// The scenarios of one file's `text`; `file` names it in errors. `check`
/// turns each table into the module it tests and the model's part, or
/// says what is wrong and where.
pub fn parse<R: Table, T>(
    text: &str,
    file: &Path,
    mut check: impl FnMut(R) -> Result<(String, T), Problem>,
) -> Result<Vec<Scenario<T>>> {
    let located = |span: Range<usize>, message: &str| {
        let (line, column) = line_column(text, span.start);
        anyhow::anyhow!("{}:{line}:{column}: {message}", file.display())
    };
    let parsed: FileText<R> = toml::from_str(text).map_err(|e| match e.span() {
        Some(span) => located(span, e.message().trim()),
        None => anyhow::anyhow!("{}: {}", file.display(), e.message().trim()),
    })?;
    parsed
        .scenario
        .into_iter()
        .map(|raw| {
            let span = raw.span();
            let raw = raw.into_inner();
            let name = raw.name().to_owned();
            let (module, test) = check(raw).map_err(|(at, message)| {
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
                test,
            })
        })
        .collect()
}

/// The engine a run loads the project's components into: the project's
/// limits and kinds, logs kept in `scratch`.
pub fn engine(project: &Project, scratch: &Path) -> Result<Arc<Engine>> {
    Ok(Arc::new(Engine::new(EngineConfig {
        // Compiled components are keyed by content: sharing the project's
        // cache is safe and spares compiling them again.
        cache_dir: Some(project.state.cache_dir()),
        log_dir: Some(scratch.join("logs")),
        limits: project.manifest.limits(),
        kinds: project.models.catalog(),
    })?))
}

/// Loads `project`'s built modules into `engine`: the name and error of
/// each that did not load, which its scenarios then report.
pub fn unloaded(engine: &Engine, project: &Project) -> Vec<(String, String)> {
    load_modules(engine, project, false)
        .into_iter()
        .filter_map(|l| l.result.err().map(|e| (l.module.name, format!("{e:#}"))))
        .collect()
}

/// Runs each of `scenarios` through `run_one`, on state of its own under
/// `scratch` (a scenario whose module is in `unloaded` fails with its load
/// error instead); `on_outcome` sees each result as it comes. `run_one`
/// gives `None` when the scenario passes, else the diff.
pub async fn run_each<T>(
    scenarios: &[Scenario<T>],
    scratch: &Path,
    unloaded: &[(String, String)],
    mut on_outcome: impl FnMut(&Outcome),
    mut run_one: impl AsyncFnMut(StateLayout, &Scenario<T>) -> Result<Option<String>>,
) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for (n, scenario) in scenarios.iter().enumerate() {
        let start = Instant::now();
        let result = match unloaded.iter().find(|(name, _)| *name == scenario.module) {
            Some((_, error)) => Err(anyhow::anyhow!("{error}")),
            None => {
                let state = StateLayout::new(scratch.join(n.to_string()));
                run_one(state, scenario).await
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
    outcomes
}

/// Runs `scenarios` against every one of the project's built modules,
/// each scenario on scratch state of its own with every registered model's
/// runtime opened over it (as `wbx run` opens them over the project's), so
/// what the module reaches (another model's modules, a service, a command)
/// runs too; nothing is started. `test` gets the runtime of model `R` and
/// the scenario, and gives `None` when it passes, else the diff;
/// `on_outcome` sees each result as it comes.
pub async fn run_in_models<T, R: Runtime>(
    project: &Project,
    scenarios: &[Scenario<T>],
    on_outcome: impl FnMut(&Outcome),
    test: impl AsyncFn(&Arc<R>, &Scenario<T>) -> Result<Option<String>>,
) -> Result<Vec<Outcome>> {
    let scratch = tempfile::tempdir().context("cannot make a scratch directory")?;
    let engine = engine(project, scratch.path())?;
    engine.set_envs(project.manifest.module_envs()?);
    let unloaded = unloaded(&engine, project);
    let one = async |state: StateLayout, scenario: &Scenario<T>| {
        state.create().context("cannot lay out scratch state")?;
        let runtimes = Runtimes::open(
            &project.models,
            &engine,
            &state,
            &project.manifest,
            &project.modules,
        )?;
        let result = match runtimes.get::<R>() {
            Some(runtime) => test(&runtime, scenario).await,
            None => Err(anyhow::anyhow!(
                "the model of '{}' is not registered in this engine",
                scenario.module
            )),
        };
        runtimes.shutdown().await;
        result
    };
    Ok(run_each(scenarios, scratch.path(), &unloaded, on_outcome, one).await)
}

/// `actual` cut down to the keys `shape` names, object by object: what is
/// left equals `shape` exactly when `shape` is a subset of `actual`.
pub fn shaped(actual: &Json, shape: &Json) -> Json {
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

/// `value` one line a field, under `path`: `json.items.count: 3`, so a
/// diff points at the field that differs.
pub fn flatten(path: &str, value: &Json) -> Vec<String> {
    let mut out = Vec::new();
    flatten_into(path, value, &mut out);
    out
}

fn flatten_into(path: &str, value: &Json, out: &mut Vec<String>) {
    match value {
        Json::Object(fields) if !fields.is_empty() => {
            for (key, value) in fields {
                flatten_into(&format!("{path}.{key}"), value, out);
            }
        }
        _ => out.push(format!("{path}: {value}")),
    }
}

/// `None` when equal, else the unified diff of `expected` against `actual`.
pub fn diff(expected: &str, actual: &str) -> Option<String> {
    if expected == actual {
        return None;
    }
    let (expected, actual) = (format!("{expected}\n"), format!("{actual}\n"));
    Some(
        similar::TextDiff::from_lines(&expected, &actual)
            .unified_diff()
            .context_radius(3)
            .header("expected", "actual")
            .to_string(),
    )
}

/// `names` for a message: `a, b`, or `none`.
pub fn listing<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<_> = names.into_iter().collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Named {
        name: String,
        module: Option<Spanned<String>>,
    }

    impl Table for Named {
        fn name(&self) -> &str {
            &self.name
        }
    }

    fn check(raw: Named) -> Result<(String, ()), Problem> {
        match raw.module {
            Some(module) if module.get_ref() == "known" => Ok((module.into_inner(), ())),
            Some(module) => Err((Some(module.span()), "unknown module".into())),
            None => Err((None, "no module".into())),
        }
    }

    #[test]
    fn a_file_gives_each_scenario_where_it_starts() {
        let text = "[[scenario]]\nname = \"a\"\nmodule = \"known\"\n\n[[scenario]]\nname = \"b\"\nmodule = \"known\"\n";
        let read = parse(text, Path::new("s/x.toml"), check).unwrap();
        let seen: Vec<_> = read
            .iter()
            .map(|s| (s.name.as_str(), s.line, s.module.as_str()))
            .collect();
        assert_eq!(seen, [("a", 1), ("b", 5)].map(|(n, l)| (n, l, "known")));
        assert_eq!(read[0].file, Path::new("s/x.toml"));
    }

    #[test]
    fn a_problem_is_located_at_its_span_or_its_scenario() {
        let error = |text: &str| {
            parse(text, Path::new("s/x.toml"), check)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error("[[scenario]]\nname = \"a\"\nmodule = \"nope\"\n"),
            "s/x.toml:3:10: scenario 'a': unknown module"
        );
        assert_eq!(
            error("\n[[scenario]]\nname = \"a\"\n"),
            "s/x.toml:2:1: scenario 'a': no module"
        );
        assert!(
            error("[[scenario]]\nname = \"a\"\nmodul = 1\n")
                .starts_with("s/x.toml:3:1: unknown field `modul`"),
            "{}",
            error("[[scenario]]\nname = \"a\"\nmodul = 1\n")
        );
    }

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
    fn flattening_gives_a_line_a_field() {
        let value = json!({"a": 1, "b": {"c": "x", "d": {}}});
        assert_eq!(
            flatten("json", &value),
            ["json.a: 1", "json.b.c: \"x\"", "json.b.d: {}"]
        );
    }

    #[test]
    fn a_difference_is_a_unified_diff() {
        assert_eq!(diff("a\nb", "a\nb"), None);
        let shown = diff("[1]\n[2]", "[1]\n[3]").unwrap();
        assert_eq!(
            shown,
            "--- expected\n+++ actual\n@@ -1,2 +1,2 @@\n [1]\n-[2]\n+[3]\n"
        );
    }
}
