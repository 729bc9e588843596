//! The actors model's part of the interface: the Actors pane (after
//! observer_cli: the process table sorted by mailbox, messages handled or
//! memory; the supervision trees; one process opened with its mailbox,
//! links, trace, state and logs), the `:send` and `:call` commands, `K` to
//! kill, and the session that carries them out on the actor runtime.
//!
//! - `processes.rs`: the table's state (rows, rates, sort, filter);
//! - `tree.rs`: the tree view's (its lines, the search);
//! - `state.rs`: the pane's as a whole (the process opened, the latest
//!   exits, restarts, escalations and swaps);
//! - `view_table.rs`, `view_tree.rs`, `view_process.rs`: their drawing;
//! - here: [`ActorsUi`] (the pane as the app holds it, and when it asks
//!   the runtime again), [`ActorsSession`] (the engine side), [`SPEC`].
//!
//! The table is read from the runtime once a second while the pane shows
//! (the app's tick asks, the session reads `processes()`), and the process
//! opened likewise; spawns, exits and the rest arrive as observations in
//! between.

mod processes;
mod state;
mod tree;
mod view_process;
mod view_table;
mod view_tree;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ratatui::Frame;
use ratatui::layout::Rect;
use tokio::sync::mpsc::UnboundedSender;
use wbx_engine::Observation;
use wbx_engine::actors::info::{ProcessDetail, ProcessInfo};
use wbx_engine::actors::{ActorError, ActorObservation, ActorRuntime};

pub use processes::{ProcessFilter, ProcessTable, RATE_MIN_INTERVAL, Sort, SortKey};
pub use state::{ActorsPane, Happening, HappeningKind, Opened, RECENT_SHOWN};
pub use tree::{TreeLine, TreeSearch, TreeView};

use crate::action::{Action, Done, Request};
use crate::app::{App, Overlay, PaneId, Prompt, PromptKind};
use crate::keys::Command;
use crate::model::{
    ActionSpec, ModelParts, ModelRequest, ModelResult, ModelSession, ModelUi, Nav, PaneSpec, UiSpec,
};
use crate::panes::refresh::Reads;
use crate::view::text;

pub const ACTORS: PaneId = PaneId("actors");

const MODEL: &str = "actors";
/// How often the table, and the process opened, are read again while the
/// pane shows.
pub use crate::panes::refresh::REFRESH;
/// How long `:call` waits for the reply.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Characters of a reply shown in the hint line.
const REPLY_SHOWN: usize = 300;

const fn key(
    name: &'static str,
    describe: &'static str,
    keys: &'static [&'static str],
) -> ActionSpec {
    ActionSpec::of_pane(ACTORS, name, describe, keys)
}

/// The actors model's pane, keys and commands.
pub const SPEC: UiSpec = UiSpec {
    model: MODEL,
    panes: &[PaneSpec {
        id: ACTORS,
        title: "Actors",
        order: 60,
        action: "actors",
    }],
    actions: &[
        key(
            "sort-mailbox",
            "actors: sort by mailbox depth (again: the other way)",
            &["m"],
        ),
        key(
            "sort-rate",
            "actors: sort by messages handled per second",
            &["r"],
        ),
        key("sort-memory", "actors: sort by memory", &["M"]),
        key("sort-restarts", "actors: sort by restarts", &["R"]),
        key("sort-pid", "actors: sort by pid", &["P"]),
        key("sort-name", "actors: sort by registered name", &["n"]),
        key(
            "tree",
            "actors: the supervision trees, or the table again",
            &["t"],
        ),
        key(
            "kill",
            "actors: kill the selected process (asks first)",
            &["K"],
        ),
        key(
            "call-process",
            "actors: type a :call to the selected process",
            &["c"],
        ),
    ],
    commands: &[
        (
            "send PID|NAME JSON",
            "put a message (JSON) in a process's mailbox",
        ),
        (
            "call PID|NAME JSON",
            "in the Actors pane: call a process and show its reply",
        ),
    ],
    filters: &[(
        "actors:",
        "text in the pid, name or module; a pid (<0.5>) matches that process; in the trees, / finds a node",
    )],
};

/// What the Actors pane asks of the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorsRequest {
    /// The process table again.
    Poll,
    /// One process, by pid, opened.
    Inspect(String),
    Send {
        target: String,
        message: String,
    },
    Call {
        target: String,
        message: String,
    },
    /// Kill a process, by pid.
    Kill(String),
}

impl From<ActorsRequest> for Request {
    fn from(request: ActorsRequest) -> Request {
        Request::Model(ModelRequest::new(MODEL, request))
    }
}

/// The runtime's processes as of `at`, and the sends that found none.
#[derive(Debug, Clone)]
pub struct Polled {
    pub at: Instant,
    pub processes: Vec<ProcessInfo>,
    pub dead_letters: u64,
}

/// What the runtime said of the process opened.
#[derive(Debug, Clone)]
pub struct Inspected {
    pub pid: String,
    pub result: Result<ProcessDetail, ActorError>,
}

/// The Actors pane's state, and when it asks the runtime again.
#[derive(Debug)]
pub struct ActorsUi {
    pub pane: ActorsPane,
    /// Milliseconds since the Unix epoch: when a happening was told. Tests
    /// fix it.
    clock: fn() -> u64,
    reads: Reads,
}

fn wall_clock() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl ActorsUi {
    /// The pane over `pane`, which holds the runtime's processes as of now.
    pub fn new(pane: ActorsPane) -> ActorsUi {
        ActorsUi::with_clock(pane, wall_clock)
    }

    /// The pane with `clock` for the happenings' times (milliseconds since
    /// the Unix epoch), so a drawing can be compared from run to run.
    pub fn with_clock(pane: ActorsPane, clock: fn() -> u64) -> ActorsUi {
        ActorsUi {
            pane,
            clock,
            reads: Reads::new(),
        }
    }

    fn sort(&mut self, key: SortKey) {
        self.pane.opened = None;
        self.pane.tree = None;
        self.pane.table.sort_by(key);
    }

    /// Opens the process the keys act on and asks the runtime about it.
    fn open_target(&mut self) -> Vec<Request> {
        let Some(pid) = self.pane.target().map(|p| p.pid.clone()) else {
            return Vec::new();
        };
        self.pane.open(&pid);
        self.reads.open();
        vec![ActorsRequest::Inspect(pid).into()]
    }

    /// `K`: the question, with the kill to send on a yes.
    fn confirm_kill(&self, app: &mut App) {
        let Some(process) = self.pane.target() else {
            app.notify("select a process to kill it", true);
            return;
        };
        if self.pane.opened.as_ref().is_some_and(|o| !o.alive()) {
            app.notify(format!("{} has exited already", process.pid), true);
            return;
        }
        let who = state::who(&process.pid, process.name.as_deref());
        app.overlay = Some(Overlay::Confirm {
            question: format!(
                "Kill {who} ({})? A kill cannot be trapped; its supervisor, if any, decides \
                 what follows.",
                process.module
            ),
            request: ActorsRequest::Kill(process.pid.clone()).into(),
        });
    }

    /// `c`: the command prompt with a call to the selected process typed in.
    fn prefill_call(&self, app: &mut App) {
        let target = self.pane.target().map_or("PID|NAME".to_owned(), |p| {
            p.name.clone().unwrap_or(p.pid.clone())
        });
        app.prompt = Some(Prompt::new(PromptKind::Command, format!("call {target} ")));
    }
}

/// `TARGET JSON` of `:send` and `:call`, or what is wrong with it.
pub fn parse_message(word: &str, rest: &str) -> Result<(String, String), String> {
    let usage = || {
        format!(
            "'{word}' needs a process (a pid or a registered name) and a JSON message: \
             {word} counter {{\"add\": 1}}"
        )
    };
    let (target, message) = rest
        .trim()
        .split_once(char::is_whitespace)
        .ok_or_else(usage)?;
    let message = message.trim();
    serde_json::from_str::<serde_json::Value>(message)
        .map_err(|e| format!("the message to '{target}' is not JSON: {e}"))?;
    Ok((target.to_owned(), message.to_owned()))
}

impl ModelUi for ActorsUi {
    fn spec(&self) -> &'static UiSpec {
        &SPEC
    }

    fn resize(&mut self, page: usize) {
        self.pane.resize(page);
    }

    fn observe(&mut self, observation: &Observation, _app: &mut App) -> bool {
        match observation.model::<ActorObservation>() {
            Some(event) => self.pane.observe(event, (self.clock)()),
            None => false,
        }
    }

    fn lagged(&mut self) {
        // Spawns and exits may be among what was skipped: read the table
        // at the next tick.
        self.reads.list.forget();
    }

    fn settle(&mut self) {
        self.pane.settle();
    }

    fn refreshes(&self, _pane: PaneId) -> bool {
        true
    }

    fn tick(&mut self, _pane: PaneId, now: Instant, _app: &mut App) -> Vec<Request> {
        let alive = self.pane.opened.as_ref().filter(|o| o.alive());
        let (poll, inspect) = self.reads.tick(now, alive.is_some());
        let mut requests = Vec::new();
        if poll {
            requests.push(ActorsRequest::Poll.into());
        }
        if let Some(opened) = alive.filter(|_| inspect) {
            requests.push(ActorsRequest::Inspect(opened.pid.clone()).into());
        }
        requests
    }

    fn act(&mut self, action: &'static str, app: &mut App) -> Vec<Request> {
        match action {
            "sort-mailbox" => self.sort(SortKey::Mailbox),
            "sort-rate" => self.sort(SortKey::Rate),
            "sort-memory" => self.sort(SortKey::Memory),
            "sort-restarts" => self.sort(SortKey::Restarts),
            "sort-pid" => self.sort(SortKey::Pid),
            "sort-name" => self.sort(SortKey::Name),
            "tree" => {
                self.pane.opened = None;
                self.pane.toggle_tree();
            }
            "kill" => self.confirm_kill(app),
            "call-process" => self.prefill_call(app),
            _ => {}
        }
        Vec::new()
    }

    fn nav(&mut self, _pane: PaneId, nav: Nav, _app: &mut App) -> Vec<Request> {
        let pane = &mut self.pane;
        if let Some(opened) = &mut pane.opened {
            match nav.scrolled(opened.scroll) {
                Some(scroll) => opened.scroll = scroll,
                None => pane.opened = None,
            }
            return Vec::new();
        }
        let rows = &pane.table.rows;
        match (nav, &mut pane.tree) {
            (Nav::Open, _) => return self.open_target(),
            (Nav::Step(delta), Some(tree)) => tree.step(delta, rows),
            (Nav::Top, Some(tree)) => tree.top(rows),
            (Nav::Bottom, Some(tree)) => tree.bottom(rows),
            (Nav::Back, Some(tree)) if !tree.search.is_empty() => tree.clear_search(),
            (Nav::Back, Some(_)) => pane.tree = None,
            (Nav::Step(delta), None) => pane.table.step(delta),
            (Nav::Top, None) => pane.table.top(),
            (Nav::Bottom, None) => pane.table.bottom(),
            (Nav::Back, None) if !pane.table.filter.is_empty() => {
                pane.table.set_filter(ProcessFilter::default())
            }
            (Nav::Back, None) => {}
        }
        Vec::new()
    }

    fn command(&mut self, word: &str, rest: &str, app: &mut App) -> Option<Vec<Request>> {
        let call = match word {
            "send" => false,
            "call" => true,
            _ => return None,
        };
        Some(match parse_message(word, rest) {
            Ok((target, message)) => {
                let request = if call {
                    app.notify(format!("calling {target}…"), false);
                    ActorsRequest::Call { target, message }
                } else {
                    ActorsRequest::Send { target, message }
                };
                vec![request.into()]
            }
            Err(error) => {
                app.notify(error, true);
                Vec::new()
            }
        })
    }

    fn filter(&self, pane: PaneId) -> Option<String> {
        if pane != ACTORS {
            return None;
        }
        Some(match &self.pane.tree {
            Some(tree) => tree.search.text.clone(),
            None => self.pane.table.filter.text.clone(),
        })
    }

    fn set_filter(&mut self, pane: PaneId, text: &str, app: &mut App) {
        if pane != ACTORS {
            return;
        }
        self.pane.opened = None;
        if self.pane.tree.is_none() {
            self.pane.table.set_filter(ProcessFilter::parse(text));
        } else if !self.pane.find(text) && !text.trim().is_empty() {
            app.notify(
                format!("no process in the trees matches '{}'", text.trim()),
                true,
            );
        }
    }

    fn result(&mut self, result: &ModelResult, app: &mut App) -> bool {
        let shown = app.pane == ACTORS;
        if let Some(polled) = result.get::<Polled>() {
            self.reads.list.answered();
            let changed =
                self.pane
                    .snapshot(polled.at, polled.processes.clone(), polled.dead_letters);
            return changed && shown;
        }
        if let Some(inspected) = result.get::<Inspected>() {
            self.reads.opened.answered();
            return self.pane.inspected(&inspected.pid, &inspected.result) && shown;
        }
        false
    }

    fn draw(&self, _pane: PaneId, frame: &mut Frame, area: Rect, _app: &App) {
        match &self.pane.opened {
            Some(opened) => view_process::draw(frame, area, opened, &self.pane.table),
            None => view_table::draw(frame, area, &self.pane),
        }
    }

    fn badge(&self, _pane: PaneId) -> Option<String> {
        Some(text::thousands(self.pane.table.rows.len() as u64))
    }

    fn hints(&self, _pane: PaneId) -> Vec<(Command, &'static str)> {
        if self.pane.opened.is_some() {
            vec![
                (Command::Down, "scroll"),
                (Command::Model("kill"), "kill"),
                (Command::Back, "close"),
            ]
        } else if self.pane.tree.is_some() {
            vec![
                (Command::Filter, "find"),
                (Command::Open, "open"),
                (Command::Model("tree"), "table"),
                (Command::Model("kill"), "kill"),
            ]
        } else {
            vec![
                (Command::Filter, "filter"),
                (Command::Open, "open"),
                (Command::Model("sort-mailbox"), "mailbox"),
                (Command::Model("sort-rate"), "rate"),
                (Command::Model("tree"), "tree"),
                (Command::Model("kill"), "kill"),
            ]
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The actor runtime as the pane needs it.
pub struct ActorsSession {
    runtime: Arc<ActorRuntime>,
}

/// The actors model's part, over a running engine's actor runtime: the
/// pane starts with the processes running now.
pub fn open(runtime: Arc<ActorRuntime>) -> ModelParts {
    let mut pane = ActorsPane::default();
    pane.snapshot(
        Instant::now(),
        runtime.processes(),
        runtime.dead_letters().total,
    );
    ModelParts {
        ui: Box::new(ActorsUi::new(pane)),
        session: Arc::new(ActorsSession { runtime }),
    }
}

/// A reply as one line: compact JSON when it is JSON, cut to what the
/// hint line shows.
fn one_line(reply: &str) -> String {
    let compact = serde_json::from_str::<serde_json::Value>(reply)
        .map_or_else(|_| reply.replace('\n', " "), |v| v.to_string());
    text::fit(&compact, REPLY_SHOWN)
}

impl ModelSession for ActorsSession {
    fn perform(&self, request: &ModelRequest, done: &UnboundedSender<Action>) {
        let Some(request) = request.get::<ActorsRequest>().cloned() else {
            return;
        };
        let finished = |done: &UnboundedSender<Action>, ok: bool, message: String| {
            let _ = done.send(Action::Done(Done { ok, message }));
        };
        let runtime = &self.runtime;
        match request {
            // Reading the table takes each process's lock briefly: done
            // here rather than on a task of its own.
            ActorsRequest::Poll => {
                let polled = Polled {
                    at: Instant::now(),
                    processes: runtime.processes(),
                    dead_letters: runtime.dead_letters().total,
                };
                let _ = done.send(Action::Model(ModelResult::new(MODEL, polled)));
            }
            // Waits for the process's `inspect` at its next message
            // boundary (a second at most).
            ActorsRequest::Inspect(pid) => {
                let (runtime, done) = (runtime.clone(), done.clone());
                tokio::spawn(async move {
                    let result = runtime.detail(&pid).await;
                    let inspected = Inspected { pid, result };
                    let _ = done.send(Action::Model(ModelResult::new(MODEL, inspected)));
                });
            }
            ActorsRequest::Send { target, message } => match runtime.send(&target, &message) {
                Ok(()) => finished(done, true, format!("sent to {target}")),
                Err(e) => finished(done, false, format!("send to {target}: {e}")),
            },
            ActorsRequest::Call { target, message } => {
                let (runtime, done) = (runtime.clone(), done.clone());
                tokio::spawn(async move {
                    match runtime.call(&target, &message, CALL_TIMEOUT).await {
                        Ok(reply) => finished(
                            &done,
                            true,
                            format!("{target} replied: {}", one_line(&reply)),
                        ),
                        Err(e) => finished(&done, false, format!("call to {target}: {e}")),
                    }
                });
            }
            ActorsRequest::Kill(pid) => match runtime.kill(&pid) {
                Ok(pid) => finished(done, true, format!("killed {pid}")),
                Err(e) => finished(done, false, format!("kill {pid}: {e}")),
            },
        }
    }
}
