//! What a runtime model adds to the interface, and how the app takes it in
//! without naming the model.
//!
//! A model's part lives in its pane folder (`panes/<model>/`) and has two
//! halves:
//! - [`ModelUi`], the state of its panes: changed by observations, keys,
//!   `:` commands and the results of its requests, and drawn. It lives in
//!   the [`App`] and, like the rest of the app, is changed only by
//!   [`crate::update`] and read by [`crate::view`].
//! - [`ModelSession`], the engine as its panes need it: it carries out the
//!   model's [`ModelRequest`]s and sends their results back as actions.
//!
//! Its panes, key actions and `:` commands are static data ([`UiSpec`]),
//! so the key map and the help know them before any engine runs.
//! `crate::models` lists the registered models.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::Rect;
use tokio::sync::mpsc::UnboundedSender;
use wbx_engine::Observation;

use crate::action::{Action, Request};
use crate::app::{App, PaneId};
use crate::keys::Command;

/// A pane: its id (its name in `:NAME`), its title, and where it goes
/// among the panes (the core's: Modules 10, Logs 30).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaneSpec {
    pub id: PaneId,
    pub title: &'static str,
    pub order: u8,
    /// The name of the action that shows it, in `tui.toml` (`events`).
    pub action: &'static str,
}

/// Where a key action works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// In every pane.
    Everywhere,
    /// In this pane only: another pane may bind the same key to something else.
    Pane(PaneId),
}

/// A key action: its name in `tui.toml`, what it does, its default keys,
/// and where it works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionSpec {
    pub name: &'static str,
    pub describe: &'static str,
    pub keys: &'static [&'static str],
    pub scope: Scope,
}

impl ActionSpec {
    /// An action that works in `pane` only.
    pub const fn of_pane(
        pane: PaneId,
        name: &'static str,
        describe: &'static str,
        keys: &'static [&'static str],
    ) -> ActionSpec {
        ActionSpec {
            name,
            describe,
            keys,
            scope: Scope::Pane(pane),
        }
    }
}

/// What a model adds, as data.
#[derive(Debug)]
pub struct UiSpec {
    pub model: &'static str,
    pub panes: &'static [PaneSpec],
    pub actions: &'static [ActionSpec],
    /// Its `:` commands, `(usage, what it does)`, for the help.
    pub commands: &'static [(&'static str, &'static str)],
    /// Its `/` filters, `(pane, what they match)`, for the help.
    pub filters: &'static [(&'static str, &'static str)],
}

/// A move in a pane: the same keys move in every pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// Up (negative) or down this many rows.
    Step(isize),
    Top,
    Bottom,
    /// Open the selected row.
    Open,
    /// Close a detail view, else clear the filter.
    Back,
}

impl Nav {
    /// This move in a detail view scrolled `scroll` lines down: where it
    /// scrolls to, or `None` when it closes the view.
    pub fn scrolled(self, scroll: u16) -> Option<u16> {
        match self {
            Nav::Step(delta) => Some(scroll.saturating_add_signed(delta as i16)),
            Nav::Top => Some(0),
            Nav::Back => None,
            Nav::Bottom | Nav::Open => Some(scroll),
        }
    }
}

/// The state of a model's panes.
pub trait ModelUi: fmt::Debug + Send {
    fn spec(&self) -> &'static UiSpec;

    /// The app was just made: put what the model knows into the core
    /// panes (the Modules pane's rows of its modules).
    fn seed(&mut self, app: &mut App) {
        let _ = app;
    }

    /// The terminal's size changed: a page holds `page` rows.
    fn resize(&mut self, page: usize) {
        let _ = page;
    }

    /// An observation; true when it changed what is shown. The model may
    /// also tell the core panes (a module of its stopped).
    fn observe(&mut self, observation: &Observation, app: &mut App) -> bool;

    /// The app fell behind the observation stream: re-read what may be stale.
    fn lagged(&mut self) {}

    /// Reads what observations made stale, before a frame.
    fn settle(&mut self) {}

    /// Whether `pane`, while shown, is refreshed as time passes: the app
    /// then ticks ([`ModelUi::tick`]) instead of sleeping until something
    /// happens. Its other panes, and every pane of it hidden, cost nothing.
    fn refreshes(&self, pane: PaneId) -> bool {
        let _ = pane;
        false
    }

    /// Time passes while `pane` shows and [`ModelUi::refreshes`] it: what to
    /// ask of the engine to bring it up to date (the model decides how
    /// often; ticks come every 100 ms).
    fn tick(&mut self, pane: PaneId, now: Instant, app: &mut App) -> Vec<Request> {
        let _ = (pane, now, app);
        Vec::new()
    }

    /// One of its key actions, pressed where its scope allows.
    fn act(&mut self, action: &'static str, app: &mut App) -> Vec<Request>;

    /// A move in one of its panes.
    fn nav(&mut self, pane: PaneId, nav: Nav, app: &mut App) -> Vec<Request>;

    /// `:WORD REST`: `None` when WORD is not one of its commands.
    fn command(&mut self, word: &str, rest: &str, app: &mut App) -> Option<Vec<Request>>;

    /// The filter of one of its panes, as typed; `None` when it has none.
    fn filter(&self, pane: PaneId) -> Option<String> {
        let _ = pane;
        None
    }

    /// A new filter for one of its panes (only those with one).
    fn set_filter(&mut self, pane: PaneId, text: &str, app: &mut App) {
        let _ = (pane, text, app);
    }

    /// The answer to a question the model asked at the prompt.
    fn answer(&mut self, pane: PaneId, text: &str, app: &mut App) -> Vec<Request> {
        let _ = (pane, text, app);
        Vec::new()
    }

    /// The result of one of its requests; true when it changed what is shown.
    fn result(&mut self, result: &ModelResult, app: &mut App) -> bool;

    fn draw(&self, pane: PaneId, frame: &mut Frame, area: Rect, app: &App);

    /// A count worth a glance beside the pane's title.
    fn badge(&self, pane: PaneId) -> Option<String> {
        let _ = pane;
        None
    }

    /// The keys that matter in the pane now, with what they do.
    fn hints(&self, pane: PaneId) -> Vec<(Command, &'static str)>;

    /// The model's own state, for code that knows the model (its tests,
    /// its benchmarks).
    fn as_any(&self) -> &dyn Any;
}

/// The engine as a model's panes need it.
pub trait ModelSession: Send + Sync {
    /// Starts `request`; its result comes back on `done`, as
    /// [`Action::Model`] or [`Action::Done`].
    fn perform(&self, request: &ModelRequest, done: &UnboundedSender<Action>);
}

/// A model's part, made over a running engine.
pub struct ModelParts {
    pub ui: Box<dyn ModelUi>,
    pub session: Arc<dyn ModelSession>,
}

/// Work a model's panes ask of its session: the model's own request type,
/// carried by the core without knowing it.
#[derive(Clone)]
pub struct ModelRequest {
    pub model: &'static str,
    request: Arc<dyn Any + Send + Sync>,
    /// How it reads, to compare and show requests.
    text: String,
}

impl ModelRequest {
    pub fn new<T: Any + Send + Sync + fmt::Debug>(model: &'static str, request: T) -> Self {
        ModelRequest {
            model,
            text: format!("{request:?}"),
            request: Arc::new(request),
        }
    }

    /// The request, when it is a `T`.
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.request.downcast_ref()
    }
}

impl fmt::Debug for ModelRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.model, self.text)
    }
}

impl PartialEq for ModelRequest {
    fn eq(&self, other: &Self) -> bool {
        self.model == other.model && self.text == other.text
    }
}

impl Eq for ModelRequest {}

/// The result of a model's request, for its panes.
#[derive(Clone)]
pub struct ModelResult {
    pub model: &'static str,
    result: Arc<dyn Any + Send + Sync>,
}

impl ModelResult {
    pub fn new<T: Any + Send + Sync>(model: &'static str, result: T) -> Self {
        ModelResult {
            model,
            result: Arc::new(result),
        }
    }

    pub fn get<T: Any>(&self) -> Option<&T> {
        self.result.downcast_ref()
    }
}

impl fmt::Debug for ModelResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a result for the {} model", self.model)
    }
}
