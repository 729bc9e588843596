//! The pipelines model's part of the interface: the Flows pane (after
//! `vector top` and Flink's backpressure view: each flow as its graph of
//! stages, with the queue of every edge against its capacity, the
//! pressure on it, its drops; each stage's rates with a sparkline,
//! latencies, errors and dead letters; one stage opened with its latency
//! histogram and the elements themselves), the keys that start, stop,
//! pause, resume and redrive a flow, `:push`, and the session that carries
//! them out on the pipeline runtime.
//!
//! - `state.rs`: the pane's state (the flows, the filter, the selection,
//!   the stage opened, the latest news), apart from drawing;
//! - `graph.rs`: a flow's graph laid out (a chain, or edges by producer);
//! - `view_flows.rs`, `view_stage.rs`: their drawing;
//! - here: [`FlowsUi`] (the pane as the app holds it, and when it asks the
//!   runtime again), [`FlowsSession`] (the engine side), [`SPEC`].
//!
//! The flows are read from the runtime once a second while the pane shows
//! (the app's tick asks, the session reads `flows()`), and the stage opened
//! likewise; statuses, held edges, restarts, dead letters and swaps arrive
//! as observations in between.

mod graph;
mod state;
mod view_flows;
mod view_stage;

use std::sync::Arc;
use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::Rect;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;
use wbx_engine::Observation;
use wbx_engine::pipelines::element::{NewElement, now_ms};
use wbx_engine::pipelines::info::{FlowInfo, FlowStatus, StageDetail};
use wbx_engine::pipelines::{FlowError, FlowObservation, PipelineRuntime};

pub use graph::{EdgeLine, chain, edge_lines, push_nodes};
pub use state::{FlowFilter, FlowsPane, Focus, NEWS_SHOWN, News, Opened, Tone};

use crate::action::{Action, Done, Request};
use crate::app::{App, Overlay, PaneId};
use crate::keys::Command;
use crate::model::{
    ActionSpec, ModelParts, ModelRequest, ModelResult, ModelSession, ModelUi, Nav, PaneSpec, UiSpec,
};
use crate::panes::refresh::Reads;
use crate::view::text;

pub const FLOWS: PaneId = PaneId("flows");

const MODEL: &str = "pipelines";

/// The pipelines model's pane, keys and commands.
pub const SPEC: UiSpec = UiSpec {
    model: MODEL,
    panes: &[PaneSpec {
        id: FLOWS,
        title: "Flows",
        order: 70,
        action: "flows",
    }],
    actions: &[
        ActionSpec::of_pane(
            FLOWS,
            "pause-flow",
            "flows: pause the selected flow, or resume it",
            &["p"],
        ),
        ActionSpec::of_pane(
            FLOWS,
            "start-flow",
            "flows: start the selected flow",
            &["s"],
        ),
        ActionSpec::of_pane(
            FLOWS,
            "stop-flow",
            "flows: stop the selected flow once drained (asks first)",
            &["S"],
        ),
        ActionSpec::of_pane(
            FLOWS,
            "redrive",
            "flows: send the selected flow's dead letters again",
            &["R"],
        ),
    ],
    commands: &[(
        "push [FLOW [NODE]] JSON",
        "push one element (JSON) into a flow's push source (the selected flow's)",
    )],
    filters: &[("flows:", "text in the flow's name")],
};

/// What the Flows pane asks of the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowsRequest {
    /// Every flow again.
    Poll,
    /// One stage opened.
    Inspect { flow: String, stage: String },
    /// A change to a flow, reported in the key hints line.
    Control(Control),
}

/// What the keys and `:push` do to a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    Start(String),
    /// Stop once drained.
    Stop(String),
    Pause(String),
    Resume(String),
    /// Send the flow's dead letters again.
    Redrive(String),
    /// One element, JSON, into a push source (the flow's only one when
    /// `node` is none).
    Push {
        flow: String,
        node: Option<String>,
        payload: String,
    },
}

impl From<FlowsRequest> for Request {
    fn from(request: FlowsRequest) -> Request {
        Request::Model(ModelRequest::new(MODEL, request))
    }
}

impl From<Control> for Request {
    fn from(control: Control) -> Request {
        FlowsRequest::Control(control).into()
    }
}

/// The runtime's flows, as it said them.
#[derive(Debug, Clone)]
pub struct Polled {
    pub flows: Vec<FlowInfo>,
}

/// What the runtime said of the stage opened (none: it has no such stage).
#[derive(Debug, Clone)]
pub struct Inspected {
    pub flow: String,
    pub stage: String,
    pub detail: Option<StageDetail>,
}

/// The Flows pane's state, and when it asks the runtime again.
#[derive(Debug)]
pub struct FlowsUi {
    pub pane: FlowsPane,
    /// Milliseconds since the Unix epoch: when news was told. Tests fix it.
    clock: fn() -> u64,
    reads: Reads,
}

impl FlowsUi {
    /// The pane over `pane`, which holds the runtime's flows as of now.
    pub fn new(pane: FlowsPane) -> FlowsUi {
        FlowsUi::with_clock(pane, now_ms)
    }

    /// The pane with `clock` for the news' times (milliseconds since the
    /// Unix epoch), so a drawing can be compared from run to run.
    pub fn with_clock(pane: FlowsPane, clock: fn() -> u64) -> FlowsUi {
        FlowsUi {
            pane,
            clock,
            reads: Reads::new(),
        }
    }

    /// The flow the keys act on, or a notice that there is none.
    fn target(&self, app: &mut App) -> Option<(String, FlowStatus)> {
        match self.pane.selected() {
            Some(flow) => Some((flow.name.clone(), flow.status)),
            None => {
                app.notify("select a flow first", true);
                None
            }
        }
    }

    fn pause_or_resume(&self, app: &mut App) -> Vec<Request> {
        let Some((flow, status)) = self.target(app) else {
            return Vec::new();
        };
        let request = match status {
            FlowStatus::Paused => Control::Resume(flow),
            _ if status.is_over() => {
                let status = status.as_str();
                app.notify(
                    format!("flow {flow} is not running ({status}): s starts it"),
                    true,
                );
                return Vec::new();
            }
            _ => Control::Pause(flow),
        };
        vec![request.into()]
    }

    fn start(&self, app: &mut App) -> Vec<Request> {
        let Some((flow, status)) = self.target(app) else {
            return Vec::new();
        };
        if !status.is_over() {
            let what = match status {
                FlowStatus::Paused => format!("flow {flow} is paused: p resumes it"),
                _ => format!("flow {flow} is {} already", status.as_str()),
            };
            app.notify(what, true);
            return Vec::new();
        }
        app.notify(format!("starting {flow}…"), false);
        vec![Control::Start(flow).into()]
    }

    /// `S`: the question, with the stop to send on a yes.
    fn confirm_stop(&self, app: &mut App) {
        let Some((flow, status)) = self.target(app) else {
            return;
        };
        if status.is_over() {
            let status = status.as_str();
            app.notify(format!("flow {flow} is not running ({status})"), true);
            return;
        }
        app.overlay = Some(Overlay::Confirm {
            question: format!(
                "Stop flow {flow}? Its sources stop, what is queued goes through, then it \
                 stops; s starts it again."
            ),
            request: Control::Stop(flow).into(),
        });
    }

    fn redrive(&self, app: &mut App) -> Vec<Request> {
        match self.target(app) {
            Some((flow, _)) => vec![Control::Redrive(flow).into()],
            None => Vec::new(),
        }
    }

    fn open_stage(&mut self) -> Vec<Request> {
        match self.pane.enter() {
            Some((flow, stage)) => {
                self.reads.open();
                vec![FlowsRequest::Inspect { flow, stage }.into()]
            }
            None => Vec::new(),
        }
    }
}

/// `[FLOW [NODE]] JSON` of `:push`: the flow (the selected one when left
/// out), the push node, and the element as compact JSON; or what is wrong.
pub fn parse_push(
    rest: &str,
    selected: Option<&str>,
) -> Result<(String, Option<String>, String), String> {
    let usage = "'push' needs a JSON element: push {\"page\": \"/\"} (into the selected flow), \
                 push FLOW JSON, or push FLOW NODE JSON";
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(usage.to_owned());
    }
    let json = |text: &str| serde_json::from_str::<Value>(text.trim()).map(|v| v.to_string());
    let whole = json(rest);
    if let Ok(payload) = whole {
        let flow = selected.ok_or("no flow is selected: push FLOW JSON")?;
        return Ok((flow.to_owned(), None, payload));
    }
    let Some((flow, tail)) = rest.split_once(char::is_whitespace) else {
        return Err(usage.to_owned());
    };
    let after_flow = json(tail);
    if let Ok(payload) = after_flow {
        return Ok((flow.to_owned(), None, payload));
    }
    if let Some((node, element)) = tail.trim().split_once(char::is_whitespace)
        && let Ok(payload) = json(element)
    {
        return Ok((flow.to_owned(), Some(node.to_owned()), payload));
    }
    // Say why the part meant as JSON is not: all of it when it starts as
    // JSON does, else what follows the flow's name.
    let looks_json = rest.starts_with(['{', '[', '"']);
    let error = if looks_json { whole } else { after_flow };
    Err(match error {
        Err(e) => format!("the element is not JSON: {e}"),
        Ok(_) => usage.to_owned(),
    })
}

impl ModelUi for FlowsUi {
    fn spec(&self) -> &'static UiSpec {
        &SPEC
    }

    fn resize(&mut self, page: usize) {
        self.pane.resize(page);
    }

    fn observe(&mut self, observation: &Observation, _app: &mut App) -> bool {
        let at_ms = (self.clock)();
        observation
            .model::<FlowObservation>()
            .is_some_and(|event| self.pane.observe(event, at_ms))
    }

    fn lagged(&mut self) {
        self.reads.list.forget();
    }

    fn refreshes(&self, _pane: PaneId) -> bool {
        true
    }

    fn tick(&mut self, _pane: PaneId, now: Instant, _app: &mut App) -> Vec<Request> {
        let opened = self.pane.opened.as_ref();
        let (poll, inspect) = self.reads.tick(now, opened.is_some());
        let poll = poll.then(|| FlowsRequest::Poll.into());
        let inspect = opened.filter(|_| inspect).map(|opened| {
            FlowsRequest::Inspect {
                flow: opened.flow.clone(),
                stage: opened.stage.clone(),
            }
            .into()
        });
        poll.into_iter().chain(inspect).collect()
    }

    fn act(&mut self, action: &'static str, app: &mut App) -> Vec<Request> {
        match action {
            "pause-flow" => self.pause_or_resume(app),
            "start-flow" => self.start(app),
            "stop-flow" => {
                self.confirm_stop(app);
                Vec::new()
            }
            "redrive" => self.redrive(app),
            _ => Vec::new(),
        }
    }

    fn nav(&mut self, _pane: PaneId, nav: Nav, _app: &mut App) -> Vec<Request> {
        let pane = &mut self.pane;
        if let Some(opened) = &mut pane.opened {
            match nav.scrolled(opened.scroll) {
                Some(scroll) => opened.scroll = scroll,
                None => pane.back(),
            }
            return Vec::new();
        }
        match nav {
            Nav::Step(delta) => pane.step(delta),
            Nav::Top => pane.end(false),
            Nav::Bottom => pane.end(true),
            Nav::Open => return self.open_stage(),
            Nav::Back => pane.back(),
        }
        Vec::new()
    }

    fn command(&mut self, word: &str, rest: &str, app: &mut App) -> Option<Vec<Request>> {
        if word != "push" {
            return None;
        }
        let selected = self.pane.selected().map(|f| f.name.as_str());
        Some(match parse_push(rest, selected) {
            Ok((flow, node, payload)) => vec![
                Control::Push {
                    flow,
                    node,
                    payload,
                }
                .into(),
            ],
            Err(error) => {
                app.notify(error, true);
                Vec::new()
            }
        })
    }

    fn filter(&self, pane: PaneId) -> Option<String> {
        (pane == FLOWS).then(|| self.pane.filter.text.clone())
    }

    fn set_filter(&mut self, pane: PaneId, text: &str, _app: &mut App) {
        if pane == FLOWS {
            self.pane.set_filter(FlowFilter::parse(text));
        }
    }

    fn result(&mut self, result: &ModelResult, app: &mut App) -> bool {
        let shown = app.pane == FLOWS;
        if let Some(polled) = result.get::<Polled>() {
            self.reads.list.answered();
            return self.pane.snapshot(polled.flows.clone()) && shown;
        }
        if let Some(inspected) = result.get::<Inspected>() {
            self.reads.opened.answered();
            let detail = inspected.detail.as_ref();
            return self
                .pane
                .inspected(&inspected.flow, &inspected.stage, detail)
                && shown;
        }
        false
    }

    fn draw(&self, _pane: PaneId, frame: &mut Frame, area: Rect, _app: &App) {
        match &self.pane.opened {
            Some(opened) => view_stage::draw(frame, area, opened),
            None => view_flows::draw(frame, area, &self.pane),
        }
    }

    fn badge(&self, _pane: PaneId) -> Option<String> {
        Some(text::thousands(self.pane.flows.len() as u64))
    }

    fn hints(&self, _pane: PaneId) -> Vec<(Command, &'static str)> {
        let flow = [
            (Command::Model("pause-flow"), "pause/resume"),
            (Command::Model("start-flow"), "start"),
            (Command::Model("stop-flow"), "stop"),
            (Command::Model("redrive"), "redrive"),
        ];
        if self.pane.flows.is_empty() {
            Vec::new()
        } else if self.pane.opened.is_some() {
            vec![(Command::Down, "scroll"), (Command::Back, "close")]
        } else if self.pane.focus == Focus::Stages {
            let mut hints = vec![(Command::Open, "open stage"), (Command::Back, "flows")];
            hints.extend(flow);
            hints
        } else {
            let mut hints = vec![(Command::Filter, "filter"), (Command::Open, "stages")];
            hints.extend(flow);
            hints
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The pipeline runtime as the pane needs it.
pub struct FlowsSession {
    runtime: Arc<PipelineRuntime>,
}

/// The pipelines model's part, over a running engine's pipeline runtime:
/// the pane starts with the flows as they are now.
pub fn open(runtime: Arc<PipelineRuntime>) -> ModelParts {
    let pane = FlowsPane::new(runtime.flows());
    ModelParts {
        ui: Box::new(FlowsUi::new(pane)),
        session: Arc::new(FlowsSession { runtime }),
    }
}

/// How a control request ended, as the line the status bar shows; then
/// the flows as they are after it, so the pane need not wait for its tick.
fn report(
    runtime: &PipelineRuntime,
    done: &UnboundedSender<Action>,
    result: Result<String, String>,
) {
    let (ok, message) = match result {
        Ok(message) => (true, message),
        Err(message) => (false, message),
    };
    let _ = done.send(Action::Done(Done { ok, message }));
    let polled = Polled {
        flows: runtime.flows(),
    };
    let _ = done.send(Action::Model(ModelResult::new(MODEL, polled)));
}

/// `flow clicks: paused`, or what went wrong doing `what`.
fn status_line(
    flow: &str,
    what: &str,
    result: Result<FlowStatus, FlowError>,
) -> Result<String, String> {
    result
        .map(|status| format!("flow {flow}: {}", status.as_str()))
        .map_err(|e| format!("{what} {flow}: {e}"))
}

impl FlowsSession {
    /// Carries out a request that changes a flow, on a task of its own
    /// (a stop waits for the flow to drain; a push, for room in a queue).
    async fn control(runtime: &PipelineRuntime, control: Control) -> Result<String, String> {
        match control {
            Control::Start(flow) => status_line(&flow, "start", runtime.start_flow(&flow).await),
            Control::Stop(flow) => status_line(&flow, "stop", runtime.stop_flow(&flow).await),
            Control::Pause(flow) => status_line(&flow, "pause", runtime.pause_flow(&flow).await),
            Control::Resume(flow) => status_line(&flow, "resume", runtime.resume_flow(&flow).await),
            Control::Redrive(flow) => match runtime.redrive(&flow).await {
                Ok(0) => Ok(format!("flow {flow} has no dead letters")),
                Ok(n) => Ok(format!(
                    "{} of {flow} sent again",
                    text::count(n as u64, "dead letter")
                )),
                Err(e) => Err(format!("redrive {flow}: {e}")),
            },
            Control::Push {
                flow,
                node,
                payload,
            } => {
                let element = NewElement::json(payload);
                match runtime.push(&flow, node.as_deref(), vec![element]).await {
                    Ok(sequences) => Ok(match sequences.first() {
                        Some(sequence) => format!("pushed #{sequence} into {flow}"),
                        None => format!("pushed into {flow}"),
                    }),
                    Err(e) => Err(format!("push into {flow}: {e}")),
                }
            }
        }
    }
}

impl ModelSession for FlowsSession {
    fn perform(&self, request: &ModelRequest, done: &UnboundedSender<Action>) {
        let Some(request) = request.get::<FlowsRequest>().cloned() else {
            return;
        };
        let (runtime, done) = (self.runtime.clone(), done.clone());
        match request {
            // Each flow's figures, under short locks: done here.
            FlowsRequest::Poll => {
                let polled = Polled {
                    flows: runtime.flows(),
                };
                let _ = done.send(Action::Model(ModelResult::new(MODEL, polled)));
            }
            // Reads the flow's dead-letter file: off the interface's loop.
            FlowsRequest::Inspect { flow, stage } => {
                tokio::task::spawn_blocking(move || {
                    let detail = runtime.stage(&flow, &stage);
                    let inspected = Inspected {
                        flow,
                        stage,
                        detail,
                    };
                    let _ = done.send(Action::Model(ModelResult::new(MODEL, inspected)));
                });
            }
            FlowsRequest::Control(control) => {
                tokio::spawn(async move {
                    let result = FlowsSession::control(&runtime, control).await;
                    report(&runtime, &done, result);
                });
            }
        }
    }
}
