//! The loop that drives the app: terminal input, engine observations and
//! the results of requests become actions; [`update`] applies them; a frame
//! is drawn when something changed, at most every [`FRAME`].
//!
//! Observations waiting in the stream are taken in together (up to
//! [`BATCH`]) before the next frame, so an event storm costs one frame, not
//! one per event; the stream itself is bounded and says how much a slow
//! view skipped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::mpsc;
use wbx_engine::observe::{BuildFailure, Subscription};
use wbx_engine::{Engine, ModuleKind, Observation, Runtimes};

use crate::action::{Action, Done, Request};
use crate::app::App;
use crate::keys::KeyMap;
use crate::model::ModelSession;
use crate::panes::{LogsPane, ModulesPane};
use crate::status::{BuildState, Status};
use crate::update::{settle, update};
use crate::{models, view};

/// The shortest time between two frames.
pub const FRAME: Duration = Duration::from_millis(16);
/// How often the clock ticks while something builds (the spinner turns)
/// or the pane shown is refreshed with time (the Actors pane).
const TICK: Duration = Duration::from_millis(100);
/// Observations taken in at most before a frame is drawn.
pub const BATCH: usize = 2048;

/// The build `wbx dev` ran before the engine started.
#[derive(Debug, Clone, Default)]
pub struct FirstBuild {
    pub built: usize,
    pub elapsed: Duration,
    pub failures: Vec<BuildFailure>,
}

/// A running engine as the app sees it.
pub struct Session {
    pub project: String,
    /// The control API's address.
    pub api: String,
    pub engine: Arc<Engine>,
    /// Every model's runtime: what any model says of its modules, and what
    /// each model's panes work on.
    pub runtimes: Runtimes,
    /// The project's modules, built or not.
    pub declared: Vec<(String, ModuleKind)>,
    pub first_build: FirstBuild,
    /// Asks the dev loop to rebuild a module.
    pub rebuilds: mpsc::UnboundedSender<String>,
}

/// What carries out the app's requests: the dev loop for rebuilds, each
/// model's session for the model's requests.
pub struct Performer {
    rebuilds: mpsc::UnboundedSender<String>,
    sessions: Vec<(&'static str, Arc<dyn ModelSession>)>,
}

impl Session {
    /// The app as the engine stands now, and what performs its requests.
    pub fn app(&self, keys: KeyMap) -> (App, Performer) {
        let infos = self.engine.modules();
        let mut status = Status::new(&self.project, &self.api);
        status.build = if self.first_build.failures.is_empty() {
            BuildState::Built {
                modules: self.first_build.built,
                elapsed: self.first_build.elapsed,
            }
        } else {
            BuildState::Failed {
                modules: self
                    .first_build
                    .failures
                    .iter()
                    .map(|f| f.module.clone())
                    .collect(),
            }
        };
        let modules = ModulesPane::seed(
            &self.declared,
            &infos,
            &self.runtimes.states(),
            &self.first_build.failures,
        );
        let logs = LogsPane::new(infos.iter().flat_map(|m| self.engine.logs(&m.name)));
        let (mut uis, mut sessions) = (Vec::new(), Vec::new());
        for part in models::open(&self.runtimes) {
            sessions.push((part.ui.spec().model, part.session));
            uis.push(part.ui);
        }
        let performer = Performer {
            rebuilds: self.rebuilds.clone(),
            sessions,
        };
        (App::new(status, modules, logs, uis, keys), performer)
    }
}

impl Performer {
    /// Starts `request`; its result arrives on `done`.
    pub fn perform(&self, request: Request, done: &mpsc::UnboundedSender<Action>) {
        match request {
            Request::RebuildModule(module) => {
                if self.rebuilds.send(module.clone()).is_err() {
                    let _ = done.send(Action::Done(Done {
                        ok: false,
                        message: format!("cannot rebuild {module}: the watcher stopped"),
                    }));
                }
            }
            Request::Model(request) => {
                if let Some((_, session)) = self.sessions.iter().find(|(m, _)| *m == request.model)
                {
                    session.perform(&request, done);
                }
            }
        }
    }
}

/// Runs the app in the terminal until the person quits or `stop` resolves.
/// The terminal is restored on the way out, also after a panic (the hook
/// `ratatui::try_init` installs restores it first).
pub async fn run(
    session: Session,
    keys: KeyMap,
    stop: impl std::future::Future<Output = ()>,
) -> Result<()> {
    // Subscribed before the snapshots are read, so nothing falls between.
    let observations = session.engine.subscribe();
    let (app, performer) = session.app(keys);
    let mut terminal = ratatui::try_init().context("cannot open the terminal interface")?;
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let result = tokio::select! {
        result = drive(
            &mut terminal,
            app,
            Inputs {
                terminal: EventStream::new(),
                observations: Some(observations),
                done: done_rx,
            },
            |request| performer.perform(request, &done_tx),
        ) => result.map(|_| ()),
        () = stop => Ok(()),
    };
    ratatui::restore();
    result
}

/// Where actions come from.
pub struct Inputs<S> {
    pub terminal: S,
    pub observations: Option<Subscription>,
    /// Results of requests, as actions.
    pub done: mpsc::UnboundedReceiver<Action>,
}

/// The loop itself, on any backend and input stream (tests and the frame
/// benchmark drive it headless). Returns the app when it quits or the
/// input ends.
pub async fn drive<B, S>(
    terminal: &mut Terminal<B>,
    mut app: App,
    mut inputs: Inputs<S>,
    mut perform: impl FnMut(Request),
) -> Result<App>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = std::io::Result<Event>> + Unpin,
{
    let size = terminal.size().context("cannot read the terminal's size")?;
    update(
        &mut app,
        Action::Resize {
            width: size.width,
            height: size.height,
        },
    );
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_frame: Option<Instant> = None;
    loop {
        settle(&mut app);
        if app.quit {
            return Ok(app);
        }
        let due = last_frame.map_or(Instant::now(), |f| f + FRAME);
        if app.dirty && Instant::now() >= due {
            terminal
                .draw(|frame| view::draw(frame, &app))
                .context("cannot draw")?;
            last_frame = Some(Instant::now());
            app.dirty = false;
        }
        let wait_for_frame = app.dirty;
        let action = tokio::select! {
            input = inputs.terminal.next() => match input {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => Action::Key(key),
                Some(Ok(Event::Resize(width, height))) => Action::Resize { width, height },
                Some(Ok(_)) => continue,
                Some(Err(error)) => return Err(error).context("cannot read the terminal"),
                None => return Ok(app),
            },
            observed = recv(&mut inputs.observations) => match observed {
                Ok(observation) => Action::Observed(Box::new(observation)),
                Err(RecvError::Lagged(skipped)) => Action::Lagged(skipped),
                Err(RecvError::Closed) => {
                    inputs.observations = None;
                    continue;
                }
            },
            Some(done) = inputs.done.recv() => done,
            now = tick.tick(), if app.animating() => Action::Tick(now.into_std()),
            _ = tokio::time::sleep_until(due.into()), if wait_for_frame => continue,
        };
        apply(&mut app, action, &mut perform);
        take_waiting(&mut app, &mut inputs.observations, &mut perform);
    }
}

fn apply(app: &mut App, action: Action, perform: &mut impl FnMut(Request)) {
    for request in update(app, action) {
        perform(request);
    }
}

/// Takes in the observations already waiting, up to [`BATCH`].
fn take_waiting(
    app: &mut App,
    observations: &mut Option<Subscription>,
    perform: &mut impl FnMut(Request),
) {
    let Some(subscription) = observations else {
        return;
    };
    for _ in 0..BATCH {
        let action = match subscription.try_recv() {
            Ok(observation) => Action::Observed(Box::new(observation)),
            Err(TryRecvError::Lagged(skipped)) => Action::Lagged(skipped),
            Err(TryRecvError::Empty | TryRecvError::Closed) => return,
        };
        apply(app, action, perform);
    }
}

async fn recv(observations: &mut Option<Subscription>) -> Result<Observation, RecvError> {
    match observations {
        Some(subscription) => subscription.recv().await,
        None => std::future::pending().await,
    }
}
