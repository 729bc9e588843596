//! The app's state: which pane shows, each pane's own state, what overlays
//! and prompts are open. Only [`crate::update`] changes it; the view only
//! reads it.

use crate::keys::KeyMap;
use crate::model::{ModelUi, PaneSpec, UiSpec};
use crate::panes::{LogsPane, ModulesPane};
use crate::status::Status;

/// A pane, by its name (the one `:NAME` takes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PaneId(pub &'static str);

impl PaneId {
    pub const MODULES: PaneId = PaneId("modules");
    pub const LOGS: PaneId = PaneId("logs");

    pub fn name(self) -> &'static str {
        self.0
    }
}

/// The core's panes; models add theirs ([`UiSpec::panes`]).
pub const CORE_PANES: [PaneSpec; 2] = [
    PaneSpec {
        id: PaneId::MODULES,
        title: "Modules",
        order: 10,
        action: "modules",
    },
    PaneSpec {
        id: PaneId::LOGS,
        title: "Logs",
        order: 30,
        action: "logs",
    },
];

/// Every pane, the core's and the models', in the selector's order.
pub fn pane_list(specs: &[&UiSpec]) -> Vec<PaneSpec> {
    let mut panes: Vec<PaneSpec> = CORE_PANES
        .iter()
        .chain(specs.iter().flat_map(|spec| spec.panes))
        .copied()
        .collect();
    panes.sort_by_key(|pane| pane.order);
    panes
}

/// A line of text being typed at the bottom of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
    /// The text when the prompt opened, to put back on cancel.
    pub before: String,
}

impl Prompt {
    pub fn new(kind: PromptKind, text: String) -> Prompt {
        Prompt {
            kind,
            before: text.clone(),
            text,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// `:` command mode.
    Command,
    /// `/` filter of the given pane.
    Filter(PaneId),
    /// A question a model's pane asked (`position: `); the answer goes to
    /// the pane's model.
    Ask {
        pane: PaneId,
        question: &'static str,
    },
}

impl PromptKind {
    pub fn sigil(self) -> &'static str {
        match self {
            PromptKind::Command => ":",
            PromptKind::Filter(_) => "/",
            PromptKind::Ask { question, .. } => question,
        }
    }
}

/// Something drawn over the panes that takes the keys while open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    Help {
        scroll: u16,
    },
    /// A destructive request waiting for a yes.
    Confirm {
        question: String,
        request: crate::action::Request,
    },
}

/// A one-line notice in the hint line, until the next key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

#[derive(Debug)]
pub struct App {
    pub pane: PaneId,
    /// Every pane, in the selector's order.
    pub panes: Vec<PaneSpec>,
    pub status: Status,
    pub modules: ModulesPane,
    pub logs: LogsPane,
    /// The registered models' panes.
    pub models: Vec<Box<dyn ModelUi>>,
    pub overlay: Option<Overlay>,
    pub prompt: Option<Prompt>,
    pub notice: Option<Notice>,
    pub keys: KeyMap,
    /// The terminal's size, in cells.
    pub size: (u16, u16),
    pub quit: bool,
    /// Something changed since the last frame.
    pub dirty: bool,
}

impl App {
    pub fn new(
        status: Status,
        modules: ModulesPane,
        logs: LogsPane,
        models: Vec<Box<dyn ModelUi>>,
        keys: KeyMap,
    ) -> App {
        let specs: Vec<&UiSpec> = models.iter().map(|m| m.spec()).collect();
        let mut app = App {
            pane: PaneId::MODULES,
            panes: pane_list(&specs),
            status,
            modules,
            logs,
            models: Vec::new(),
            overlay: None,
            prompt: None,
            notice: None,
            keys,
            size: (80, 24),
            quit: false,
            dirty: true,
        };
        for mut model in models {
            model.seed(&mut app);
            app.models.push(model);
        }
        app
    }

    /// Whether the clock should tick: a spinner turns, or the pane shown
    /// is refreshed as time passes (the Actors pane re-reads its table).
    pub fn animating(&self) -> bool {
        self.status.build.is_building()
            || self
                .owner(self.pane)
                .is_some_and(|index| self.models[index].refreshes(self.pane))
    }

    /// Whether the app has a pane `pane` (a model without a runtime has none).
    pub fn has_pane(&self, pane: PaneId) -> bool {
        self.panes.iter().any(|p| p.id == pane)
    }

    pub fn notify(&mut self, text: impl Into<String>, error: bool) {
        self.notice = Some(Notice {
            text: text.into(),
            error,
        });
    }

    /// The pane named `name`.
    pub fn pane_named(&self, name: &str) -> Option<PaneId> {
        self.panes.iter().map(|p| p.id).find(|id| id.name() == name)
    }

    /// The pane's title.
    pub fn title(&self, pane: PaneId) -> &'static str {
        self.panes
            .iter()
            .find(|p| p.id == pane)
            .map_or(pane.name(), |p| p.title)
    }

    /// The pane after (or before, `delta` -1) the one shown.
    pub fn pane_after(&self, delta: isize) -> PaneId {
        let n = self.panes.len() as isize;
        let at = self
            .panes
            .iter()
            .position(|p| p.id == self.pane)
            .unwrap_or(0) as isize;
        self.panes[(at + delta).rem_euclid(n) as usize].id
    }

    /// The index of the model whose pane `pane` is.
    pub fn owner(&self, pane: PaneId) -> Option<usize> {
        self.models
            .iter()
            .position(|m| m.spec().panes.iter().any(|p| p.id == pane))
    }

    /// Lets model `index` act on the app: the model is taken out of the
    /// app meanwhile, so it can change the rest of it.
    pub fn with_model<R>(
        &mut self,
        index: usize,
        f: impl FnOnce(&mut dyn ModelUi, &mut App) -> R,
    ) -> R {
        let mut models = std::mem::take(&mut self.models);
        let result = f(models[index].as_mut(), self);
        self.models = models;
        result
    }

    /// [`App::with_model`] for every model in turn.
    pub fn each_model<R>(&mut self, mut f: impl FnMut(&mut dyn ModelUi, &mut App) -> R) -> Vec<R> {
        (0..self.models.len())
            .map(|index| self.with_model(index, &mut f))
            .collect()
    }
}
