//! The app's state: which pane shows, each pane's own state, what overlays
//! and prompts are open. Only [`crate::update`] changes it; the view only
//! reads it.

use crate::keys::KeyMap;
use crate::panes::{EventsPane, LogsPane, ModulesPane, ReplayPane};
use crate::status::Status;

/// The panes, in the selector's order. A new pane is a variant here, its
/// state in `panes/`, its drawing in `view/`, and one arm in `update` and
/// `view` each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaneId {
    Modules,
    Events,
    Logs,
    Replay,
}

impl PaneId {
    pub const ALL: [PaneId; 4] = [
        PaneId::Modules,
        PaneId::Events,
        PaneId::Logs,
        PaneId::Replay,
    ];

    pub fn title(self) -> &'static str {
        match self {
            PaneId::Modules => "Modules",
            PaneId::Events => "Events",
            PaneId::Logs => "Logs",
            PaneId::Replay => "Replay",
        }
    }

    /// The name `:pane NAME` takes.
    pub fn name(self) -> &'static str {
        match self {
            PaneId::Modules => "modules",
            PaneId::Events => "events",
            PaneId::Logs => "logs",
            PaneId::Replay => "replay",
        }
    }

    pub fn from_name(name: &str) -> Option<PaneId> {
        PaneId::ALL.into_iter().find(|p| p.name() == name)
    }

    fn index(self) -> usize {
        PaneId::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    pub fn next(self) -> PaneId {
        PaneId::ALL[(self.index() + 1) % PaneId::ALL.len()]
    }

    pub fn prev(self) -> PaneId {
        PaneId::ALL[(self.index() + PaneId::ALL.len() - 1) % PaneId::ALL.len()]
    }
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
    /// A position to jump to in the Events pane.
    Goto,
}

impl PromptKind {
    pub fn sigil(self) -> &'static str {
        match self {
            PromptKind::Command => ":",
            PromptKind::Filter(_) => "/",
            PromptKind::Goto => "position: ",
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

#[derive(Debug, Clone)]
pub struct App {
    pub pane: PaneId,
    pub status: Status,
    pub modules: ModulesPane,
    pub events: EventsPane,
    pub logs: LogsPane,
    pub replay: ReplayPane,
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
    pub fn new(status: Status, modules: ModulesPane, logs: LogsPane, keys: KeyMap) -> App {
        App {
            pane: PaneId::Modules,
            status,
            modules,
            events: EventsPane::default(),
            logs,
            replay: ReplayPane::default(),
            overlay: None,
            prompt: None,
            notice: None,
            keys,
            size: (80, 24),
            quit: false,
            dirty: true,
        }
    }

    /// Whether a clock tick changes what is drawn (a spinner turns).
    pub fn animating(&self) -> bool {
        self.status.build.is_building()
    }

    pub fn notify(&mut self, text: impl Into<String>, error: bool) {
        self.notice = Some(Notice {
            text: text.into(),
            error,
        });
    }
}
