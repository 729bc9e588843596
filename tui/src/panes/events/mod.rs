//! The events model's part of the interface: the Events pane (a window onto
//! the event log) and the Replay pane (a projector stepped through it), the
//! keys and `:` commands that act on them, and the session that carries out
//! their requests on the events runtime.
//!
//! - `log.rs`, `view_log.rs`: the Events pane's state and drawing;
//! - `replay.rs`, `view_replay.rs`: the Replay pane's;
//! - here: [`EventsUi`] (the panes, as the app holds them), [`EventsSession`]
//!   (the engine side) and [`SPEC`] (panes, keys, commands).

mod log;
mod replay;
mod view_log;
mod view_replay;

use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::Rect;
use tokio::sync::mpsc::UnboundedSender;
use wbx_engine::Observation;
use wbx_engine::events::command::CommandRequest;
use wbx_engine::events::kinds::{EFFECT, PROJECTOR};
use wbx_engine::events::{EventStore, EventsObservation, EventsRuntime};
use wbx_engine::replay::{Step, Stepper, Target};

pub use log::{EventFilter, EventsPane};
pub use replay::ReplayPane;

use crate::action::{Action, Done, Request};
use crate::app::{App, Overlay, PaneId, Prompt, PromptKind};
use crate::keys::Command;
use crate::model::{
    ActionSpec, ModelParts, ModelRequest, ModelResult, ModelSession, ModelUi, Nav, PaneSpec, Scope,
    UiSpec,
};
use crate::view::text;

pub const EVENTS: PaneId = PaneId("events");
pub const REPLAY: PaneId = PaneId("replay");

const MODEL: &str = "events";

/// The events model's panes, keys and commands.
pub const SPEC: UiSpec = UiSpec {
    model: MODEL,
    panes: &[
        PaneSpec {
            id: EVENTS,
            title: "Events",
            order: 20,
            action: "events",
        },
        PaneSpec {
            id: REPLAY,
            title: "Replay",
            order: 40,
            action: "replay-pane",
        },
    ],
    actions: &[
        ActionSpec {
            name: "goto",
            describe: "jump to an event position",
            keys: &["p"],
            scope: Scope::Everywhere,
        },
        ActionSpec {
            name: "rebuild-read-model",
            describe: "modules: rebuild the selected projector's read model (asks first)",
            keys: &["R"],
            scope: Scope::Pane(PaneId::MODULES),
        },
        ActionSpec {
            name: "replay",
            describe: "events: step a projector through the log from the selected event",
            keys: &["s"],
            scope: Scope::Pane(EVENTS),
        },
        ActionSpec {
            name: "step-back",
            describe: "replay: one event back",
            keys: &["left", ","],
            scope: Scope::Pane(REPLAY),
        },
        ActionSpec {
            name: "step-forward",
            describe: "replay: one event forward",
            keys: &["right", "."],
            scope: Scope::Pane(REPLAY),
        },
    ],
    commands: &[
        (
            "exec COMMAND [JSON]",
            "execute a command (JSON input, default {})",
        ),
        (
            "rebuild-read-model PROJECTOR",
            "rebuild a projector's read model from the log (asks first)",
        ),
        ("goto POSITION", "show the event at a position"),
        (
            "replay PROJECTOR [POSITION]",
            "step a projector through the log, to a position (default: the end)",
        ),
    ],
    filters: &[(
        "events:",
        "type:NAME  tag:KEY:VALUE  and any text in the event",
    )],
};

/// What the events panes ask of the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventsRequest {
    Execute {
        command: String,
        input: String,
    },
    RebuildReadModel(String),
    /// Step a projector's replay of the log to `target`.
    Replay {
        projector: String,
        target: Target,
    },
}

impl From<EventsRequest> for Request {
    fn from(request: EventsRequest) -> Request {
        Request::Model(ModelRequest::new(MODEL, request))
    }
}

/// Where the step view of `projector` got to, or why it could not.
#[derive(Debug)]
pub struct Replayed {
    pub projector: String,
    pub result: Result<Step, String>,
}

/// The events panes' state.
pub struct EventsUi {
    store: EventStore,
    pub log: EventsPane,
    pub replay: ReplayPane,
    /// Projectors' positions when the app started, for the Modules pane.
    positions: Vec<(String, u64)>,
}

impl EventsUi {
    /// The panes over `store`, following its head; `positions` are the
    /// projectors' when the app starts.
    pub fn new(store: EventStore, positions: Vec<(String, u64)>) -> EventsUi {
        EventsUi {
            log: EventsPane::new(store.head()),
            replay: ReplayPane::default(),
            store,
            positions,
        }
    }

    fn goto(&mut self, position: u64, app: &mut App) {
        app.pane = EVENTS;
        self.log.detail = None;
        self.log.goto(&self.store, position);
        if self.log.selected_event().map(|e| e.position) != Some(position) {
            app.notify(
                format!("no event at position {position} passes the filter; showing the nearest"),
                false,
            );
        }
    }

    /// Opens the Replay pane on `projector`, stepped to `position`.
    fn start_replay(&mut self, projector: &str, position: u64, app: &mut App) -> Vec<Request> {
        if !known_projector(app, projector) {
            return Vec::new();
        }
        app.pane = REPLAY;
        if self.replay.projector.as_deref() != Some(projector) {
            self.replay = ReplayPane {
                projector: Some(projector.to_owned()),
                ..ReplayPane::default()
            };
        }
        self.step_replay(Target::Position(position), app)
    }

    /// Asks for the replay to move, unless a step is under way.
    fn step_replay(&mut self, target: Target, app: &mut App) -> Vec<Request> {
        let Some(projector) = self.replay.projector.clone() else {
            app.notify(
                "no replay yet: press s on an event in the Events pane, or :replay PROJECTOR",
                true,
            );
            return Vec::new();
        };
        if self.replay.busy {
            return Vec::new();
        }
        self.replay.busy = true;
        vec![EventsRequest::Replay { projector, target }.into()]
    }

    /// The `s` key: the selected event's position, in the projector
    /// replayed last (or the first).
    fn replay_from_selected(&mut self, app: &mut App) -> Vec<Request> {
        let Some(position) = self.log.selected_event().map(|e| e.position) else {
            app.notify(
                "select an event in the Events pane, then s steps a projector to it",
                true,
            );
            return Vec::new();
        };
        let projector = self.replay.projector.clone().or_else(|| {
            app.modules
                .rows
                .iter()
                .find(|r| r.kind == PROJECTOR)
                .map(|r| r.name.clone())
        });
        match projector {
            Some(projector) => self.start_replay(&projector, position, app),
            None => {
                app.notify("this project has no projector to replay", true);
                Vec::new()
            }
        }
    }

    fn observe_events(&mut self, event: &EventsObservation, app: &mut App) -> bool {
        let modules = &mut app.modules;
        match event {
            EventsObservation::Appended { last, .. } | EventsObservation::Arrived { last, .. } => {
                self.log.appended(*last);
                modules.head = modules.head.max(*last);
            }
            EventsObservation::ProjectorStopped {
                module,
                position,
                error,
            } => {
                let row = modules.row(module, PROJECTOR);
                row.position = Some(*position);
                row.stopped = Some(error.clone());
            }
            EventsObservation::ProjectorCaughtUp { module, position } => {
                let row = modules.row(module, PROJECTOR);
                row.position = Some(*position);
                row.stopped = None;
            }
            EventsObservation::EffectRetrying {
                module,
                position,
                attempt,
                error,
            } => {
                if let Some(row) = modules.get_mut(module) {
                    row.retrying = Some(format!(
                        "retrying position {position} (attempt {attempt}): {error}"
                    ));
                }
            }
            EventsObservation::EffectStopped { module, error } => {
                modules.row(module, EFFECT).stopped = Some(error.clone());
            }
            EventsObservation::EffectWaiting { module, why } => {
                modules.row(module, EFFECT).stopped = Some(why.clone());
            }
            EventsObservation::EffectStarted { module, position } => {
                let row = modules.row(module, EFFECT);
                row.position = Some(*position);
                row.stopped = None;
                row.retrying = None;
            }
        }
        true
    }
}

impl std::fmt::Debug for EventsUi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventsUi")
            .field("log", &self.log)
            .field("replay", &self.replay)
            .finish_non_exhaustive()
    }
}

/// Whether the project has a projector of that name; says so when not.
fn known_projector(app: &mut App, projector: &str) -> bool {
    let known = app
        .modules
        .rows
        .iter()
        .any(|r| r.name == projector && r.kind == PROJECTOR);
    if !known {
        app.notify(format!("no projector named '{projector}'"), true);
    }
    known
}

fn confirm_read_model_rebuild(app: &mut App, projector: &str) {
    if !known_projector(app, projector) {
        return;
    }
    app.overlay = Some(Overlay::Confirm {
        question: format!(
            "Rebuild the read model of '{projector}' from the whole log? \
             Its tables are replayed from position 1."
        ),
        request: EventsRequest::RebuildReadModel(projector.to_owned()).into(),
    });
}

fn position(text: &str) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("'{}' is not a position (a whole number)", text.trim()))
}

impl ModelUi for EventsUi {
    fn spec(&self) -> &'static UiSpec {
        &SPEC
    }

    fn seed(&mut self, app: &mut App) {
        app.modules.head = self.log.head;
        for row in app.modules.rows.iter_mut().filter(|r| r.kind == PROJECTOR) {
            row.position = Some(0);
        }
        for (name, position) in &self.positions {
            app.modules.row(name, PROJECTOR).position = Some(*position);
        }
    }

    fn resize(&mut self, page: usize) {
        self.log.resize(&self.store, page);
    }

    fn observe(&mut self, observation: &Observation, app: &mut App) -> bool {
        match observation.model::<EventsObservation>() {
            Some(event) => self.observe_events(event, app),
            None => false,
        }
    }

    fn lagged(&mut self) {
        // Appends may be among what was skipped: read the tail afresh.
        self.log.head = self.log.head.max(self.store.head());
        self.log.stale = true;
    }

    fn settle(&mut self) {
        if self.log.stale {
            self.log.settle(&self.store);
        }
    }

    fn act(&mut self, action: &'static str, app: &mut App) -> Vec<Request> {
        match action {
            "goto" => {
                if app.pane != REPLAY {
                    app.pane = EVENTS;
                }
                let kind = PromptKind::Ask {
                    pane: app.pane,
                    question: "position: ",
                };
                app.prompt = Some(Prompt::new(kind, String::new()));
            }
            "rebuild-read-model" => match app.modules.selected() {
                Some(row) if row.kind == PROJECTOR => {
                    let name = row.name.clone();
                    confirm_read_model_rebuild(app, &name);
                }
                _ => app.notify(
                    "select a projector in the Modules pane to rebuild its read model",
                    true,
                ),
            },
            "replay" => return self.replay_from_selected(app),
            "step-back" => return self.step_replay(Target::Previous, app),
            "step-forward" => return self.step_replay(Target::Next, app),
            _ => {}
        }
        Vec::new()
    }

    fn nav(&mut self, pane: PaneId, nav: Nav, app: &mut App) -> Vec<Request> {
        if pane == REPLAY {
            match nav {
                Nav::Step(delta) => {
                    self.replay.scroll = self.replay.scroll.saturating_add_signed(delta as i16)
                }
                Nav::Top => return self.step_replay(Target::Position(0), app),
                Nav::Bottom => {
                    let end = self.log.head.max(self.store.head());
                    return self.step_replay(Target::Position(end), app);
                }
                Nav::Open | Nav::Back => {}
            }
            return Vec::new();
        }
        let log = &mut self.log;
        let selected = log.selected_event().is_some();
        match (nav, &mut log.detail) {
            (Nav::Step(delta), Some(scroll)) => {
                *scroll = scroll.saturating_add_signed(delta as i16)
            }
            (Nav::Step(delta), None) if delta < 0 => log.up(&self.store, delta.unsigned_abs()),
            (Nav::Step(delta), None) => log.down(&self.store, delta.unsigned_abs()),
            (Nav::Top, _) => log.top(&self.store),
            (Nav::Bottom, _) => log.bottom(&self.store),
            (Nav::Open, _) if selected => log.detail = Some(0),
            (Nav::Open, _) => {}
            (Nav::Back, Some(_)) => log.detail = None,
            (Nav::Back, None) if !log.filter.is_empty() => {
                log.set_filter(&self.store, EventFilter::default())
            }
            (Nav::Back, None) => {}
        }
        Vec::new()
    }

    fn command(&mut self, word: &str, rest: &str, app: &mut App) -> Option<Vec<Request>> {
        let requests = match word {
            "exec" | "x" => {
                let (command, input) = match rest.split_once(char::is_whitespace) {
                    Some((command, input)) => (command, input.trim()),
                    None => (rest, "{}"),
                };
                if command.is_empty() {
                    app.notify("'exec' needs a command name, then its JSON input", true);
                } else if let Err(e) = serde_json::from_str::<serde_json::Value>(input) {
                    app.notify(format!("the input of '{command}' is not JSON: {e}"), true);
                } else {
                    app.notify(format!("executing {command}…"), false);
                    return Some(vec![
                        EventsRequest::Execute {
                            command: command.to_owned(),
                            input: input.to_owned(),
                        }
                        .into(),
                    ]);
                }
                Vec::new()
            }
            "rebuild-read-model" if rest.is_empty() => {
                app.notify("'rebuild-read-model' needs a projector name", true);
                Vec::new()
            }
            "rebuild-read-model" => {
                confirm_read_model_rebuild(app, rest);
                Vec::new()
            }
            "goto" | "g" => {
                match position(rest) {
                    Ok(position) => self.goto(position, app),
                    Err(error) => app.notify(error, true),
                }
                Vec::new()
            }
            "replay" => {
                let mut words = rest.split_whitespace();
                let Some(projector) = words.next() else {
                    app.notify("'replay' needs a projector name, then a position", true);
                    return Some(Vec::new());
                };
                match words.next().map(position).transpose() {
                    Ok(at) => {
                        let at = at.unwrap_or(self.log.head);
                        return Some(self.start_replay(projector, at, app));
                    }
                    Err(error) => app.notify(error, true),
                }
                Vec::new()
            }
            _ => return None,
        };
        Some(requests)
    }

    fn filter(&self, pane: PaneId) -> Option<String> {
        (pane == EVENTS).then(|| self.log.filter.text.clone())
    }

    fn set_filter(&mut self, pane: PaneId, text: &str, _app: &mut App) {
        if pane == EVENTS {
            self.log.set_filter(&self.store, EventFilter::parse(text));
        }
    }

    fn answer(&mut self, pane: PaneId, text: &str, app: &mut App) -> Vec<Request> {
        match position(text) {
            Ok(position) if pane == REPLAY => {
                return self.step_replay(Target::Position(position), app);
            }
            Ok(position) => self.goto(position, app),
            Err(error) => app.notify(error, true),
        }
        Vec::new()
    }

    fn result(&mut self, result: &ModelResult, _app: &mut App) -> bool {
        let Some(replayed) = result.get::<Replayed>() else {
            return false;
        };
        // A result for a projector no longer shown is stale.
        if self.replay.projector.as_deref() != Some(replayed.projector.as_str()) {
            return false;
        }
        self.replay.stepped(replayed.result.clone());
        true
    }

    fn draw(&self, pane: PaneId, frame: &mut Frame, area: Rect, _app: &App) {
        if pane == REPLAY {
            view_replay::draw(frame, area, &self.replay);
        } else {
            view_log::draw(frame, area, &self.log);
        }
    }

    fn badge(&self, pane: PaneId) -> Option<String> {
        if pane == EVENTS {
            return Some(text::thousands(self.log.head));
        }
        let event = self.replay.step.as_ref()?.event.as_ref()?;
        Some(format!("@{}", event.position))
    }

    fn hints(&self, pane: PaneId) -> Vec<(Command, &'static str)> {
        if pane == PaneId::MODULES {
            vec![(Command::Model("rebuild-read-model"), "rebuild read model")]
        } else if pane == REPLAY {
            vec![
                (Command::Model("step-back"), "back"),
                (Command::Model("step-forward"), "forward"),
                (Command::Model("goto"), "position"),
                (Command::Top, "start"),
                (Command::Bottom, "end"),
            ]
        } else if self.log.detail.is_some() {
            vec![(Command::Down, "scroll"), (Command::Back, "close")]
        } else {
            vec![
                (Command::Filter, "filter"),
                (Command::Open, "open"),
                (Command::Model("goto"), "position"),
                (Command::Model("replay"), "replay"),
                (Command::Bottom, "follow"),
            ]
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The events runtime as the panes need it.
pub struct EventsSession {
    runtime: Arc<EventsRuntime>,
    /// The step view's replay, made on first use.
    stepper: Arc<tokio::sync::Mutex<Option<Stepper>>>,
}

/// The events model's part, over a running engine's events runtime.
pub fn open(runtime: Arc<EventsRuntime>) -> ModelParts {
    let positions = runtime
        .projectors()
        .into_iter()
        .map(|p| (p.name, p.position))
        .collect();
    ModelParts {
        ui: Box::new(EventsUi::new(runtime.store().clone(), positions)),
        session: Arc::new(EventsSession {
            runtime,
            stepper: Arc::default(),
        }),
    }
}

impl ModelSession for EventsSession {
    fn perform(&self, request: &ModelRequest, done: &UnboundedSender<Action>) {
        let Some(request) = request.get::<EventsRequest>() else {
            return;
        };
        let report = |ok: bool, message: String| {
            let _ = done.send(Action::Done(Done { ok, message }));
        };
        match request.clone() {
            EventsRequest::Execute { command, input } => {
                let runtime = self.runtime.clone();
                let done = done.clone();
                tokio::spawn(async move {
                    let request = CommandRequest {
                        command: command.clone(),
                        input,
                        ..CommandRequest::default()
                    };
                    let outcome = runtime.execute(request).await;
                    let _ = done.send(Action::Done(match outcome {
                        Ok(outcome) if outcome.duplicate => Done {
                            ok: true,
                            message: format!("{command}: nothing done, a duplicate"),
                        },
                        Ok(outcome) => Done {
                            ok: true,
                            message: match (outcome.events.len(), outcome.position) {
                                (0, _) | (_, None) => format!("{command}: decided, no events"),
                                (1, Some(p)) => {
                                    format!("{command}: appended 1 event at position {p}")
                                }
                                (n, Some(p)) => {
                                    format!("{command}: appended {n} events, the last at {p}")
                                }
                            },
                        },
                        Err(error) => Done {
                            ok: false,
                            message: format!("{command}: {error}"),
                        },
                    }));
                });
            }
            EventsRequest::Replay { projector, target } => {
                let (stepper, done) = (self.stepper.clone(), done.clone());
                let (engine, store) = (self.runtime.engine().clone(), self.runtime.store().clone());
                let name = projector.clone();
                let stepping = tokio::spawn(async move {
                    let mut stepper = stepper.lock().await;
                    if stepper.as_ref().is_none_or(|s| s.module() != name) {
                        *stepper = Some(Stepper::new(engine, store, &name)?);
                    }
                    match stepper.as_mut() {
                        Some(stepper) => stepper.step(target).await,
                        None => Err(anyhow::anyhow!("no replay of {name}")),
                    }
                });
                tokio::spawn(async move {
                    let result = match stepping.await {
                        Ok(step) => step.map_err(|e| format!("{e:#}")),
                        Err(_) => Err("the replay stopped unexpectedly".to_owned()),
                    };
                    let replayed = Replayed { projector, result };
                    let _ = done.send(Action::Model(ModelResult::new(MODEL, replayed)));
                });
            }
            EventsRequest::RebuildReadModel(projector) => {
                match self.runtime.rebuild_projector(&projector) {
                    Ok(()) => report(
                        true,
                        format!("{projector}: rebuilding its read model from the log"),
                    ),
                    Err(error) => report(false, format!("{error:#}")),
                }
            }
        }
    }
}
