//! The Actors pane's state as a whole: the process table, the tree view
//! while it shows, the process opened, and the latest exits, restarts,
//! escalations and swaps the runtime told of. Drawing is in `view_*.rs`.

use std::collections::VecDeque;
use std::time::Instant;

use wbx_engine::actors::info::{ProcessDetail, ProcessInfo};
use wbx_engine::actors::message::reason;
use wbx_engine::actors::{ActorError, ActorObservation};

use super::processes::ProcessTable;
use super::tree::{TreeSearch, TreeView};

/// Happenings kept; the view shows the latest [`RECENT_SHOWN`].
pub const RECENT: usize = 50;
/// Lines under the table (or the trees) for the latest happenings.
pub const RECENT_SHOWN: usize = 2;

/// What happened to a process, for the line under the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HappeningKind {
    /// An exit; `normal` and `shutdown` are not failures.
    Exit {
        failed: bool,
    },
    Restart,
    Escalation,
    /// A swap; `clean` when the state was carried and nothing went wrong.
    Swap {
        clean: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Happening {
    /// Milliseconds since the Unix epoch, when the pane was told.
    pub at_ms: u64,
    pub kind: HappeningKind,
    pub text: String,
}

/// The process opened with `Enter`.
#[derive(Debug, Clone)]
pub struct Opened {
    pub pid: String,
    /// What the runtime said of it last; none until it answers.
    pub detail: Option<ProcessDetail>,
    /// Why the last look failed.
    pub error: Option<String>,
    /// Its exit reason, once it exited: it is not asked after any more.
    pub exited: Option<String>,
    pub scroll: u16,
}

impl Opened {
    /// Whether the runtime is still worth asking about it.
    pub fn alive(&self) -> bool {
        self.exited.is_none()
    }
}

#[derive(Debug, Default)]
pub struct ActorsPane {
    pub table: ProcessTable,
    /// The supervision trees, while they show instead of the table.
    pub tree: Option<TreeView>,
    pub opened: Option<Opened>,
    /// The latest first.
    pub recent: VecDeque<Happening>,
    /// Rows came or went since the table was last sorted.
    stale: bool,
}

impl ActorsPane {
    /// The runtime's processes as of `at`; false when nothing shown
    /// changed.
    pub fn snapshot(&mut self, at: Instant, rows: Vec<ProcessInfo>, dead_letters: u64) -> bool {
        let changed = self.table.snapshot(at, rows, dead_letters);
        self.stale = false;
        if let Some(tree) = &mut self.tree {
            tree.rebuild(&self.table.rows);
        }
        changed
    }

    /// An observation of the actors model, told at `at_ms`; true when it
    /// changed what is shown.
    pub fn observe(&mut self, event: &ActorObservation, at_ms: u64) -> bool {
        // Pids named as the table knows them (a supervisor by its name).
        let named = |pid: &str| who(pid, self.table.row(pid).and_then(|r| r.name.as_deref()));
        let (kind, text) = match event {
            ActorObservation::Spawned {
                pid, module, name, ..
            } => {
                self.table.spawned(pid, module, name.as_deref());
                self.stale = true;
                return true;
            }
            ActorObservation::Exited {
                pid,
                module,
                name,
                reason: why,
            } => {
                self.table.exited(pid);
                self.stale = true;
                if let Some(opened) = self.opened.as_mut().filter(|o| &o.pid == pid) {
                    opened.exited = Some(why.clone());
                }
                let failed = !reason::is_normal(why);
                (
                    HappeningKind::Exit { failed },
                    format!("{} ({module}) exited: {why}", who(pid, name.as_deref())),
                )
            }
            ActorObservation::Restarted {
                supervisor,
                child,
                old_pid,
                new_pid,
                reason: why,
                with,
            } => (
                HappeningKind::Restart,
                match with {
                    Some(with) => format!(
                        "{} restarted {child}: {old_pid} → {new_pid} with {with}, after {why}",
                        named(supervisor)
                    ),
                    None => format!(
                        "{} restarted {child}: {old_pid} → {new_pid} after {why}",
                        named(supervisor)
                    ),
                },
            ),
            ActorObservation::TreeFailed { tree, error } => (
                HappeningKind::Escalation,
                format!("supervision tree '{tree}' did not start: {error}"),
            ),
            ActorObservation::Escalated {
                supervisor,
                restarts,
                period_s,
            } => (
                HappeningKind::Escalation,
                format!(
                    "{} gave up after {restarts} restarts in {period_s} s: its parent decides",
                    named(supervisor)
                ),
            ),
            ActorObservation::Swapped {
                pid,
                module,
                to,
                carried,
                note,
                ..
            } => {
                let how = match (carried, note) {
                    (true, None) => "its state carried".to_owned(),
                    (true, Some(note)) => note.clone(),
                    (false, Some(note)) => format!("started again through init: {note}"),
                    (false, None) => "started again through init".to_owned(),
                };
                (
                    HappeningKind::Swap {
                        clean: *carried && note.is_none(),
                    },
                    format!("{} ({module}) → {to}, {how}", named(pid)),
                )
            }
            // Too many to list; the dead letters are counted in the title.
            ActorObservation::Undelivered { .. } => return false,
        };
        if self.recent.len() == RECENT {
            self.recent.pop_back();
        }
        self.recent.push_front(Happening { at_ms, kind, text });
        true
    }

    /// Sorts the rows that came and went since the last frame.
    pub fn settle(&mut self) {
        if std::mem::take(&mut self.stale) {
            self.table.refresh();
            if let Some(tree) = &mut self.tree {
                tree.rebuild(&self.table.rows);
            }
        }
    }

    /// The main area's list holds `page` rows; the latest happenings take
    /// some of them.
    pub fn resize(&mut self, page: usize) {
        let page = page.saturating_sub(RECENT_SHOWN).max(1);
        self.table.resize(page);
        if let Some(tree) = &mut self.tree {
            tree.resize(page, &self.table.rows);
        }
    }

    /// The trees instead of the table, or the table again.
    pub fn toggle_tree(&mut self) {
        self.tree = match self.tree.take() {
            Some(_) => None,
            None => Some(TreeView::new(&self.table.rows, self.table.page)),
        };
    }

    /// `/` in the trees: true when a node matches.
    pub fn find(&mut self, text: &str) -> bool {
        let rows = &self.table.rows;
        match &mut self.tree {
            Some(tree) => tree.find(TreeSearch::parse(text), rows),
            None => false,
        }
    }

    /// The process the keys act on: the one opened, else the one selected.
    pub fn target(&self) -> Option<&ProcessInfo> {
        if let Some(opened) = &self.opened {
            return opened
                .detail
                .as_ref()
                .map(|d| &d.info)
                .or_else(|| self.table.row(&opened.pid));
        }
        match &self.tree {
            Some(tree) => tree.selected(&self.table.rows),
            None => self.table.selected(),
        }
    }

    pub fn open(&mut self, pid: &str) {
        self.opened = Some(Opened {
            pid: pid.to_owned(),
            detail: None,
            error: None,
            exited: None,
            scroll: 0,
        });
    }

    /// What the runtime said of `pid`; false when it is no longer open.
    pub fn inspected(&mut self, pid: &str, result: &Result<ProcessDetail, ActorError>) -> bool {
        let Some(opened) = self.opened.as_mut().filter(|o| o.pid == pid) else {
            return false;
        };
        match result {
            Ok(detail) => {
                opened.detail = Some(detail.clone());
                opened.error = None;
            }
            Err(error) => {
                opened.error = Some(error.to_string());
                // It exited before the pane was told (or the pane was
                // told while the look was under way).
                if matches!(error, ActorError::NoSuchProcess(_)) && opened.exited.is_none() {
                    opened.exited = Some("(the runtime no longer has it)".to_owned());
                }
            }
        }
        true
    }
}

/// A process as a person names it: its registered name and pid, or its pid.
pub fn who(pid: &str, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{name} {pid}"),
        None => pid.to_owned(),
    }
}
