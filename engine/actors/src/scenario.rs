//! Scenario tests of a project's actors (`wbx test`).
//!
//! A project keeps them in `scenarios/actors/*.toml` (a folder of their
//! own, as the services' are, so each model reads its files strictly),
//! each file a list of `[[scenario]]` tables:
//!
//! ```toml
//! [[scenario]]
//! name = "a counter adds what it is sent"
//! actor = "counter"                    # the actor module under test
//! args = { start = 1 }                 # init's args (default: null)
//! register = "counter"                 # a registered name (default: none)
//! others = [{ module = "logger", register = "logger", args = {} }]
//! steps = [
//!   { send = { add = 2 } },                          # a cast to the actor
//!   { call = { get = {} }, reply = { count = 3 } },  # a call; the reply a subset
//!   { send = { line = "hi" }, to = "logger" },       # to another process
//! ]
//! expect = { state = { count = 3 }, sent = [{ to = "logger", message = { line = "added 2" } }] }
//! # or `expect.exit = "normal"`: the actor exits, with this reason
//! ```
//!
//! Each scenario runs on scratch state of its own against the project's
//! built components, loaded once into one engine: every registered model's
//! runtime is opened over the scratch state (as `wbx run` opens them over
//! the project's), so an actor's commands run on a scratch event store and
//! its calls to services go through the mesh. No supervision tree of
//! `wbx.toml` is started: the `others` are spawned in order, then the
//! actor, all unsupervised; then the steps are made one after another (a
//! call waits for its reply, a send does not). Once the actor's mailbox is
//! empty and it is idle (or it has exited), its `inspect` state, the
//! messages it sent (its trace's `out` lines, in order) and its exit are
//! compared with `expect`. An actor that exits when no `expect.exit` says
//! so fails its scenario. On failure the outcome carries a unified diff of
//! what was expected against what happened, one fact a line, both written
//! the same way (what happened cut down to what is expected), so the diff
//! shows only what differs.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_json::Value as Json;
use toml::Spanned;
use wbx_core::observe::Subscription;
use wbx_core::project::Project;
use wbx_core::scenario::{self as shared, Problem, Table, diff, flatten, listing, shaped};

use crate::observe::ActorObservation;
use crate::pid::Pid;
use crate::runtime::ActorRuntime;
use crate::settings::actor_names;
use crate::table::{Entry, Status};

pub use wbx_core::scenario::Outcome;

/// Where a project keeps its actor scenario files.
pub const DIR: &str = "scenarios/actors";

/// The longest a call of a step waits for its reply, and the longest the
/// actor may take to be idle after the steps: beyond any handler's own
/// deadline, so they only end a scenario that would hang.
const PATIENCE: Duration = Duration::from_secs(60);

/// How long an actor expected to exit, and idle after the steps, is given
/// to exit (a timer it set may end it).
const EXIT_WAIT: Duration = Duration::from_secs(5);

/// How often the actor is looked at while waiting for it to be idle.
const POLL: Duration = Duration::from_millis(10);

/// One scenario, read and checked; its module is the actor under test.
pub type Scenario = shared::Scenario<Test>;

/// What a scenario starts, does and expects.
#[derive(Debug, Clone)]
pub struct Test {
    args: Json,
    register: Option<String>,
    others: Vec<Other>,
    steps: Vec<Step>,
    expect: Expected,
}

/// A process started before the actor.
#[derive(Debug, Clone)]
struct Other {
    module: String,
    args: Json,
    register: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// A cast to `to` (the actor when `None`).
    Send { to: Option<String>, message: Json },
    /// A call to `to`; `reply` is what the reply holds at least.
    Call {
        to: Option<String>,
        message: Json,
        reply: Option<Json>,
    },
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Expected {
    state: Option<Json>,
    sent: Option<Vec<ExpectedSend>>,
    exit: Option<String>,
}

/// A message the actor sent: its target exactly, its body a subset.
#[derive(Debug, Clone, PartialEq)]
struct ExpectedSend {
    to: Option<String>,
    message: Option<Json>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    actor: Spanned<String>,
    args: Option<Json>,
    register: Option<String>,
    #[serde(default)]
    others: Vec<Spanned<RawOther>>,
    #[serde(default)]
    steps: Vec<Spanned<RawStep>>,
    expect: Option<Spanned<RawExpect>>,
}

impl Table for RawScenario {
    fn name(&self) -> &str {
        &self.name
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOther {
    module: Spanned<String>,
    args: Option<Json>,
    register: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    send: Option<Json>,
    call: Option<Json>,
    reply: Option<Spanned<Json>>,
    to: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    state: Option<Spanned<Json>>,
    sent: Option<Vec<Spanned<RawSent>>>,
    exit: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSent {
    to: Option<String>,
    message: Option<Json>,
}

/// Reads every `scenarios/actors/*.toml` of the project, in name order.
/// The first bad file stops it, with the file, line and column of the problem.
pub fn load(project: &Project) -> Result<Vec<Scenario>> {
    shared::read(project, DIR, |text, file| parse(text, file, project))
}

/// The scenarios of one file's `text`; `file` names it in errors.
pub fn parse(text: &str, file: &Path, project: &Project) -> Result<Vec<Scenario>> {
    let actors = actor_names(&project.modules);
    shared::parse(text, file, |raw| checked(raw, &actors))
}

/// The scenario's actor and the rest of it, checked against the project's
/// `actors`, or what is wrong and where.
fn checked(raw: RawScenario, actors: &[String]) -> Result<(String, Test), Problem> {
    let actor = |module: &Spanned<String>| {
        if actors.contains(module.get_ref()) {
            Ok(module.get_ref().clone())
        } else {
            Err((
                Some(module.span()),
                format!(
                    "no actor module named '{}' in this project; actors: {}",
                    module.get_ref(),
                    listing(actors.iter().map(String::as_str))
                ),
            ))
        }
    };
    let module = actor(&raw.actor)?;
    let others = raw
        .others
        .into_iter()
        .map(|other| {
            let other = other.into_inner();
            Ok(Other {
                module: actor(&other.module)?,
                args: other.args.unwrap_or(Json::Null),
                register: other.register,
            })
        })
        .collect::<Result<_, Problem>>()?;
    let steps = raw
        .steps
        .into_iter()
        .enumerate()
        .map(|(n, step)| {
            let span = step.span();
            checked_step(step.into_inner())
                .map_err(|(at, message)| (at.or(Some(span)), format!("step {}: {message}", n + 1)))
        })
        .collect::<Result<_, Problem>>()?;
    let expect = match raw.expect {
        Some(expect) => expected(expect.into_inner())?,
        None => Expected::default(),
    };
    Ok((
        module,
        Test {
            args: raw.args.unwrap_or(Json::Null),
            register: raw.register,
            others,
            steps,
            expect,
        },
    ))
}

fn checked_step(raw: RawStep) -> Result<Step, Problem> {
    match (raw.send, raw.call) {
        (Some(_), Some(_)) => Err((None, "a step is a `send` or a `call`, not both".to_owned())),
        (None, None) => Err((
            None,
            "a step needs a `send` (a cast) or a `call` (a request that waits for a reply)"
                .to_owned(),
        )),
        (Some(message), None) => match raw.reply {
            Some(reply) => Err((
                Some(reply.span()),
                "a `send` has no reply to expect: make the step a `call`".to_owned(),
            )),
            None => Ok(Step::Send {
                to: raw.to,
                message,
            }),
        },
        (None, Some(message)) => Ok(Step::Call {
            to: raw.to,
            message,
            reply: raw.reply.map(Spanned::into_inner),
        }),
    }
}

fn expected(raw: RawExpect) -> Result<Expected, Problem> {
    if let (Some(state), Some(_)) = (&raw.state, &raw.exit) {
        return Err((
            Some(state.span()),
            "an actor expected to exit has no state left to read: expect `state` or `exit`, \
             not both"
                .to_owned(),
        ));
    }
    let sent = raw
        .sent
        .map(|sent| {
            sent.into_iter()
                .enumerate()
                .map(|(n, one)| {
                    let span = one.span();
                    let one = one.into_inner();
                    if one.to.is_none() && one.message.is_none() {
                        return Err((
                            Some(span),
                            format!("expect.sent[{n}] names neither `to` nor `message`"),
                        ));
                    }
                    Ok(ExpectedSend {
                        to: one.to,
                        message: one.message,
                    })
                })
                .collect::<Result<Vec<_>, Problem>>()
        })
        .transpose()?;
    Ok(Expected {
        state: raw.state.map(Spanned::into_inner),
        sent,
        exit: raw.exit,
    })
}

/// Runs `scenarios` against the project's built components, each on
/// scratch state of its own; `on_outcome` sees each result as it comes.
pub async fn run(
    project: &Project,
    scenarios: &[Scenario],
    on_outcome: impl FnMut(&Outcome),
) -> Result<Vec<Outcome>> {
    shared::run_in_models(project, scenarios, on_outcome, async |actors, scenario| {
        Ok(compare(&scenario.test, &happened(actors, scenario).await?))
    })
    .await
}

/// What a scenario saw happen.
#[derive(Debug)]
struct Happened {
    /// Per step: a call's reply, `None` for a send, or why it failed.
    steps: Vec<Result<Option<Json>, String>>,
    /// The actor's state, or why there is none; `None` when not asked for.
    state: Option<Result<Json, String>>,
    /// Its sends in order: the target as it wrote it, and the body.
    sent: Vec<(String, Json)>,
    exit: Option<String>,
}

async fn happened(runtime: &ActorRuntime, scenario: &Scenario) -> Result<Happened> {
    let test = &scenario.test;
    for other in &test.others {
        runtime
            .spawn(
                &other.module,
                &other.args.to_string(),
                other.register.clone(),
            )
            .await
            .with_context(|| format!("cannot start '{}' (one of `others`)", other.module))?;
    }
    // Taken before the actor starts: it may exit before it can be watched.
    let mut exits = runtime.system().engine.subscribe();
    let pid = runtime
        .spawn(
            &scenario.module,
            &test.args.to_string(),
            test.register.clone(),
        )
        .await
        .with_context(|| format!("cannot start the actor '{}'", scenario.module))?;
    let Some(entry) = runtime.system().table.get(pid) else {
        let reason = exit_observed(&mut exits, pid, &scenario.module).await;
        anyhow::bail!(
            "the actor {pid} exited as soon as it started ({}), before the steps",
            reason.as_deref().unwrap_or("its reason was not seen")
        );
    };
    let target = pid.to_string();
    let mut steps = Vec::new();
    for step in &test.steps {
        steps.push(make(runtime, step, &target).await);
    }
    settle(&entry).await?;
    if test.expect.exit.is_some() && exit_of(&entry).is_none() {
        let _ = tokio::time::timeout(EXIT_WAIT, entry.wait_exit()).await;
    }
    let exit = exit_of(&entry);
    let state = match (&test.expect.state, &exit) {
        (None, _) => None,
        (Some(_), Some(reason)) => Some(Err(format!("the actor exited: {reason}"))),
        (Some(_), None) => Some(match runtime.detail(&target).await {
            Ok(detail) => detail.state.ok_or_else(|| {
                "none: the actor exports no `inspect`, or did not answer within a second".to_owned()
            }),
            Err(e) => Err(e.to_string()),
        }),
    };
    let sent = entry
        .lock()
        .trace
        .iter()
        .filter(|line| line.direction == "out")
        .map(|line| {
            (
                line.peer.clone().unwrap_or_default(),
                json_or_text(&line.body),
            )
        })
        .collect();
    Ok(Happened {
        steps,
        state,
        sent,
        exit,
    })
}

/// Makes one step: a call's reply (parsed), `None` for a send, or why it
/// did not happen.
async fn make(runtime: &ActorRuntime, step: &Step, actor: &str) -> Result<Option<Json>, String> {
    match step {
        Step::Send { to, message } => runtime
            .send(to.as_deref().unwrap_or(actor), &message.to_string())
            .map(|()| None)
            .map_err(|e| e.to_string()),
        Step::Call { to, message, .. } => runtime
            .call(
                to.as_deref().unwrap_or(actor),
                &message.to_string(),
                PATIENCE,
            )
            .await
            .map(|reply| Some(json_or_text(&reply)))
            .map_err(|e| e.to_string()),
    }
}

/// Waits until the actor has exited, or is idle with an empty mailbox at
/// two looks in a row with nothing handled between them (a message taken
/// from the mailbox is marked running a moment later, so one look could
/// fall in between).
async fn settle(entry: &Entry) -> Result<()> {
    let start = Instant::now();
    let mut quiet_at = None;
    loop {
        if exit_of(entry).is_some() {
            return Ok(());
        }
        let (status, waiting, handled) = {
            let shared = entry.lock();
            (shared.status, shared.mailbox.len(), shared.handled)
        };
        let quiet = status == Status::Idle && waiting == 0;
        if quiet && quiet_at == Some(handled) {
            return Ok(());
        }
        quiet_at = quiet.then_some(handled);
        if start.elapsed() > PATIENCE {
            anyhow::bail!(
                "the actor {} was still busy {} s after the steps ({}, {waiting} messages waiting)",
                entry.pid,
                PATIENCE.as_secs(),
                serde_json::to_value(status)
                    .ok()
                    .and_then(|s| s.as_str().map(str::to_owned))
                    .unwrap_or_default()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

fn exit_of(entry: &Entry) -> Option<String> {
    entry.exited.borrow().clone()
}

/// The reason of `pid`'s exit as the engine published it, if it comes
/// within [`EXIT_WAIT`].
async fn exit_observed(exits: &mut Subscription, pid: Pid, module: &str) -> Option<String> {
    let pid = pid.to_string();
    let seen = async {
        loop {
            // A lag skips observations; the exit may still come after.
            let Ok(observation) = exits.recv().await else {
                continue;
            };
            if let Some(ActorObservation::Exited {
                pid: p,
                module: m,
                reason,
                ..
            }) = observation.model::<ActorObservation>()
                && *p == pid
                && m == module
            {
                return reason.clone();
            }
        }
    };
    tokio::time::timeout(EXIT_WAIT, seen).await.ok()
}

/// `text` parsed when it is JSON, else as a string (a trace keeps only a
/// body's first bytes, so a long one is cut).
fn json_or_text(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.to_owned()))
}

/// `None` when what happened is what `test` expects, else the diff. Both
/// sides are written the same way, one fact a line:
///
/// ```text
/// step 2 reply.count: 3
/// state.count: 3
/// sent[0].to: "logger"
/// sent[0].message.line: "added 2"
/// exit: "normal"
/// ```
///
/// `exit` is always written (`exit: (none)` while the actor runs), so an
/// exit no scenario expected fails it and says why.
fn compare(test: &Test, happened: &Happened) -> Option<String> {
    let mut expected = Vec::new();
    let mut actual = Vec::new();
    for (n, (step, result)) in test.steps.iter().zip(&happened.steps).enumerate() {
        let n = n + 1;
        match (step, result) {
            (Step::Send { .. }, Err(why)) => actual.push(format!("step {n}: (not sent: {why})")),
            (
                Step::Call {
                    reply: Some(shape), ..
                },
                result,
            ) => {
                let path = format!("step {n} reply");
                expected.extend(flatten(&path, shape));
                match result {
                    Ok(Some(reply)) => actual.extend(flatten(&path, &shaped(reply, shape))),
                    Ok(None) => actual.push(format!("{path}: (none)")),
                    Err(why) => actual.push(format!("{path}: (no reply: {why})")),
                }
            }
            // A call whose reply is not asked about may fail: the actor
            // may exit handling it.
            _ => {}
        }
    }
    if let Some(shape) = &test.expect.state {
        expected.extend(flatten("state", shape));
        match &happened.state {
            Some(Ok(state)) => actual.extend(flatten("state", &shaped(state, shape))),
            Some(Err(why)) => actual.push(format!("state: ({why})")),
            None => actual.push("state: (not read)".to_owned()),
        }
    }
    if let Some(sends) = &test.expect.sent {
        for n in 0..sends.len().max(happened.sent.len()) {
            let path = format!("sent[{n}]");
            let one = happened.sent.get(n);
            match (sends.get(n), one) {
                (Some(want), Some((to, message))) => {
                    if let Some(target) = &want.to {
                        expected.push(format!("{path}.to: {}", Json::from(target.as_str())));
                        actual.push(format!("{path}.to: {}", Json::from(to.as_str())));
                    }
                    if let Some(shape) = &want.message {
                        let path = format!("{path}.message");
                        expected.extend(flatten(&path, shape));
                        actual.extend(flatten(&path, &shaped(message, shape)));
                    }
                }
                (Some(want), None) => {
                    if let Some(target) = &want.to {
                        expected.push(format!("{path}.to: {}", Json::from(target.as_str())));
                    }
                    if let Some(shape) = &want.message {
                        expected.extend(flatten(&format!("{path}.message"), shape));
                    }
                    actual.push(format!("{path}: (none)"));
                }
                (None, Some((to, message))) => {
                    actual.push(format!("{path}.to: {}", Json::from(to.as_str())));
                    actual.extend(flatten(&format!("{path}.message"), message));
                }
                (None, None) => {}
            }
        }
    }
    // Always written, so an exit no one expected shows against `(none)`.
    let exit = |reason: Option<&String>| match reason {
        Some(reason) => format!("exit: {}", Json::from(reason.as_str())),
        None => "exit: (none)".to_owned(),
    };
    expected.push(exit(test.expect.exit.as_ref()));
    actual.push(exit(happened.exit.as_ref()));
    diff(&expected.join("\n"), &actual.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(text: &str) -> Result<Vec<Scenario>> {
        let actors = ["counter".to_owned(), "logger".to_owned()];
        shared::parse(text, Path::new("scenarios/actors/x.toml"), |raw| {
            checked(raw, &actors)
        })
    }

    fn error(text: &str) -> String {
        read(text).unwrap_err().to_string()
    }

    #[test]
    fn a_scenario_reads_its_processes_steps_and_expectations() {
        let text = r#"
[[scenario]]
name = "adds"
actor = "counter"
args = { start = 1 }
register = "counter"
others = [{ module = "logger", register = "logger" }]
steps = [
  { send = { add = 2 } },
  { call = { get = {} }, reply = { count = 3 } },
  { call = "ping", to = "logger" },
]
expect = { state = { count = 3 }, sent = [{ to = "logger", message = { line = "added 2" } }, { to = "x" }] }
"#;
        let read = read(text).unwrap();
        let scenario = &read[0];
        assert_eq!((scenario.module.as_str(), scenario.line), ("counter", 2));
        let test = &scenario.test;
        assert_eq!(test.args, json!({"start": 1}));
        assert_eq!(test.register.as_deref(), Some("counter"));
        assert_eq!(test.others[0].module, "logger");
        assert_eq!(test.others[0].args, Json::Null);
        assert_eq!(
            test.steps,
            [
                Step::Send {
                    to: None,
                    message: json!({"add": 2})
                },
                Step::Call {
                    to: None,
                    message: json!({"get": {}}),
                    reply: Some(json!({"count": 3}))
                },
                Step::Call {
                    to: Some("logger".into()),
                    message: json!("ping"),
                    reply: None
                },
            ]
        );
        assert_eq!(
            test.expect,
            Expected {
                state: Some(json!({"count": 3})),
                sent: Some(vec![
                    ExpectedSend {
                        to: Some("logger".into()),
                        message: Some(json!({"line": "added 2"}))
                    },
                    ExpectedSend {
                        to: Some("x".into()),
                        message: None
                    },
                ]),
                exit: None,
            }
        );
    }

    #[test]
    fn mistakes_are_located_and_say_what_is_wrong() {
        assert_eq!(
            error("[[scenario]]\nname = \"a\"\nactor = \"countr\"\n"),
            "scenarios/actors/x.toml:3:9: scenario 'a': no actor module named 'countr' in this \
             project; actors: counter, logger"
        );
        assert_eq!(
            error(
                "[[scenario]]\nname = \"a\"\nactor = \"counter\"\nothers = [{ module = \"log\" }]\n"
            ),
            "scenarios/actors/x.toml:4:22: scenario 'a': no actor module named 'log' in this \
             project; actors: counter, logger"
        );
        assert_eq!(
            error("[[scenario]]\nname = \"a\"\nactor = \"counter\"\nsteps = [{ to = \"x\" }]\n"),
            "scenarios/actors/x.toml:4:10: scenario 'a': step 1: a step needs a `send` (a cast) \
             or a `call` (a request that waits for a reply)"
        );
        assert_eq!(
            error(
                "[[scenario]]\nname = \"a\"\nactor = \"counter\"\n\
                 steps = [{ send = 1 }, { send = 1, call = 2 }]\n"
            ),
            "scenarios/actors/x.toml:4:24: scenario 'a': step 2: a step is a `send` or a `call`, \
             not both"
        );
        assert_eq!(
            error(
                "[[scenario]]\nname = \"a\"\nactor = \"counter\"\n\
                 steps = [{ send = 1, reply = 2 }]\n"
            ),
            "scenarios/actors/x.toml:4:30: scenario 'a': step 1: a `send` has no reply to \
             expect: make the step a `call`"
        );
        assert_eq!(
            error(
                "[[scenario]]\nname = \"a\"\nactor = \"counter\"\n\
                 expect = { state = { n = 1 }, exit = \"normal\" }\n"
            ),
            "scenarios/actors/x.toml:4:20: scenario 'a': an actor expected to exit has no state \
             left to read: expect `state` or `exit`, not both"
        );
        assert_eq!(
            error(
                "[[scenario]]\nname = \"a\"\nactor = \"counter\"\n\
                 expect = { sent = [{ to = \"x\" }, {}] }\n"
            ),
            "scenarios/actors/x.toml:4:34: scenario 'a': expect.sent[1] names neither `to` nor \
             `message`"
        );
        let unknown =
            error("[[scenario]]\nname = \"a\"\nactor = \"counter\"\nsteps = [{ cast = 1 }]\n");
        assert!(
            unknown.starts_with("scenarios/actors/x.toml:4:12: unknown field `cast`"),
            "{unknown}"
        );
    }

    fn test(steps: Vec<Step>, expect: Expected) -> Test {
        Test {
            args: Json::Null,
            register: None,
            others: Vec::new(),
            steps,
            expect,
        }
    }

    fn call(reply: Option<Json>) -> Step {
        Step::Call {
            to: None,
            message: json!("get"),
            reply,
        }
    }

    fn happened(steps: Vec<Result<Option<Json>, String>>, sent: &[(&str, Json)]) -> Happened {
        Happened {
            steps,
            state: Some(Ok(json!({"count": 3, "seen": [1]}))),
            sent: sent
                .iter()
                .map(|(to, message)| (to.to_string(), message.clone()))
                .collect(),
            exit: None,
        }
    }

    #[test]
    fn what_happened_matches_when_it_holds_what_is_expected() {
        let expect = Expected {
            state: Some(json!({"count": 3})),
            sent: Some(vec![ExpectedSend {
                to: Some("logger".into()),
                message: Some(json!({"line": "added"})),
            }]),
            exit: None,
        };
        let steps = vec![
            Step::Send {
                to: None,
                message: json!(1),
            },
            call(Some(json!({"count": 3}))),
            call(None),
        ];
        let seen = happened(
            vec![
                Ok(None),
                Ok(Some(json!({"count": 3, "extra": true}))),
                Err("'<0.1>' exited before replying: normal".into()),
            ],
            &[("logger", json!({"line": "added", "at": 5}))],
        );
        assert_eq!(compare(&test(steps, expect), &seen), None);
    }

    #[test]
    fn a_difference_shows_one_fact_a_line() {
        let expect = Expected {
            state: Some(json!({"count": 4})),
            sent: Some(vec![
                ExpectedSend {
                    to: Some("logger".into()),
                    message: None,
                },
                ExpectedSend {
                    to: None,
                    message: Some(json!({"line": "two"})),
                },
            ]),
            exit: Some("normal".into()),
        };
        let steps = vec![
            call(Some(json!({"count": 3}))),
            Step::Send {
                to: Some("gone".into()),
                message: json!(1),
            },
        ];
        let seen = happened(
            vec![
                Ok(Some(json!({"count": 2}))),
                Err("no process 'gone'".into()),
            ],
            &[("<0.3>", json!({"line": "one"}))],
        );
        assert_eq!(
            compare(&test(steps, expect), &seen).unwrap(),
            "--- expected\n+++ actual\n@@ -1,5 +1,6 @@\n\
             -step 1 reply.count: 3\n-state.count: 4\n-sent[0].to: \"logger\"\n\
             -sent[1].message.line: \"two\"\n-exit: \"normal\"\n\
             +step 1 reply.count: 2\n+step 2: (not sent: no process 'gone')\n\
             +state.count: 3\n+sent[0].to: \"<0.3>\"\n+sent[1]: (none)\n\
             +exit: (none)\n"
        );
    }

    #[test]
    fn an_unexpected_send_or_exit_shows() {
        let expect = Expected {
            sent: Some(Vec::new()),
            ..Expected::default()
        };
        let mut seen = happened(Vec::new(), &[("logger", json!({"line": "hi"}))]);
        seen.exit = Some("boom".into());
        assert_eq!(
            compare(&test(Vec::new(), expect), &seen).unwrap(),
            "--- expected\n+++ actual\n@@ -1 +1,3 @@\n-exit: (none)\n\
             +sent[0].to: \"logger\"\n+sent[0].message.line: \"hi\"\n+exit: \"boom\"\n"
        );
    }
}
