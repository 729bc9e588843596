//! The one place the app's state changes: [`update`] takes an [`Action`],
//! changes the [`App`], and returns the [`Request`]s for the engine.
//!
//! It reads the event store for the Events pane's window (only the rows on
//! screen); everything else it learns from actions.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use wbx_engine::events::EventStore;
use wbx_engine::events::EventsObservation;
use wbx_engine::events::kinds::PROJECTOR;
use wbx_engine::replay::Target;

use crate::action::{Action, Request};
use crate::app::{App, Overlay, PaneId, Prompt, PromptKind};
use crate::command::{self, Line};
use crate::keys::Command;
use crate::layout;
use crate::panes::{EventFilter, LogFilter};

pub fn update(app: &mut App, action: Action, store: &EventStore) -> Vec<Request> {
    match action {
        Action::Key(key) => {
            app.dirty = true;
            app.notice = None;
            return key_pressed(app, key, store);
        }
        Action::Resize { width, height } => {
            app.size = (width, height);
            let page = layout::page(app.size);
            app.events.resize(store, page);
            app.logs.resize(page);
            app.modules.cursor.fit(app.modules.rows.len(), page);
            app.dirty = true;
        }
        Action::Observed(observation) => {
            if let wbx_engine::Observation::Unchanged { module } = &observation {
                app.notify(
                    format!("{module}: rebuilt into the component already running"),
                    false,
                );
            }
            app.status.observe(&observation, Instant::now());
            app.modules.observe(&observation);
            app.logs.observe(&observation);
            if let Some(EventsObservation::Appended { last, .. }) = observation.model() {
                app.events.appended(*last);
            }
            let page = layout::page(app.size);
            app.modules.cursor.fit(app.modules.rows.len(), page);
            app.dirty = true;
        }
        Action::Lagged(skipped) => {
            app.status.skipped += skipped;
            // Appends may be among what was skipped: read the tail afresh.
            app.events.head = app.events.head.max(store.head());
            app.events.stale = true;
            app.dirty = true;
        }
        Action::Tick(now) => app.dirty |= app.status.tick(now),
        Action::Done(done) => {
            app.notify(done.message, !done.ok);
            app.dirty = true;
        }
        Action::Replayed { projector, result } => {
            // A result for a projector no longer shown is stale.
            if app.replay.projector.as_deref() == Some(projector.as_str()) {
                app.replay.stepped(result);
                app.dirty = true;
            }
        }
    }
    Vec::new()
}

/// Reads what observations made stale; call before drawing.
pub fn settle(app: &mut App, store: &EventStore) {
    if app.events.stale {
        app.events.settle(store);
    }
}

fn key_pressed(app: &mut App, key: KeyEvent, store: &EventStore) -> Vec<Request> {
    if let Some(overlay) = app.overlay.take() {
        return overlay_key(app, overlay, key);
    }
    if let Some(prompt) = app.prompt.take() {
        return prompt_key(app, prompt, key, store);
    }
    match app.keys.command(&key) {
        Some(command) => run(app, command, store),
        None => Vec::new(),
    }
}

fn overlay_key(app: &mut App, overlay: Overlay, key: KeyEvent) -> Vec<Request> {
    match overlay {
        Overlay::Confirm { request, question } => match key.code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => return vec![request],
            KeyCode::Char('n' | 'N') | KeyCode::Esc => app.notify("cancelled", false),
            _ => app.overlay = Some(Overlay::Confirm { question, request }),
        },
        Overlay::Help { scroll } => {
            let scroll = match app.keys.command(&key) {
                Some(Command::Help | Command::Back | Command::Quit) => return Vec::new(),
                Some(Command::Up) => scroll.saturating_sub(1),
                Some(Command::Down) => scroll.saturating_add(1),
                Some(Command::PageUp) => scroll.saturating_sub(10),
                Some(Command::PageDown) => scroll.saturating_add(10),
                _ => scroll,
            };
            app.overlay = Some(Overlay::Help { scroll });
        }
    }
    Vec::new()
}

fn prompt_key(
    app: &mut App,
    mut prompt: Prompt,
    key: KeyEvent,
    store: &EventStore,
) -> Vec<Request> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let cancelled =
        matches!(key.code, KeyCode::Esc) || (ctrl && matches!(key.code, KeyCode::Char('c')));
    if cancelled {
        // The Logs filter follows the typing: cancelling puts back the one
        // there was before.
        if prompt.kind == PromptKind::Filter(PaneId::Logs)
            && let Ok(filter) = LogFilter::parse(&prompt.before)
        {
            app.logs.set_filter(filter);
        }
        return Vec::new();
    }
    match key.code {
        KeyCode::Enter => return submit(app, prompt, store),
        KeyCode::Backspace => {
            prompt.text.pop();
        }
        KeyCode::Char('u') if ctrl => prompt.text.clear(),
        KeyCode::Char(c) if !ctrl => prompt.text.push(c),
        _ => {}
    }
    // Log filtering is in memory: it follows the typing.
    if prompt.kind == PromptKind::Filter(PaneId::Logs)
        && let Ok(filter) = LogFilter::parse(&prompt.text)
    {
        app.logs.set_filter(filter);
    }
    app.prompt = Some(prompt);
    Vec::new()
}

fn submit(app: &mut App, prompt: Prompt, store: &EventStore) -> Vec<Request> {
    match prompt.kind {
        PromptKind::Command => match command::parse(&prompt.text) {
            Ok(line) => return command_line(app, line, store),
            Err(error) => app.notify(error, true),
        },
        PromptKind::Filter(pane) => filter(app, pane, &prompt.text, store),
        PromptKind::Goto => match prompt.text.trim().parse::<u64>() {
            Ok(position) if app.pane == PaneId::Replay => {
                return step_replay(app, Target::Position(position));
            }
            Ok(position) => goto(app, position, store),
            Err(_) => app.notify(
                format!(
                    "'{}' is not a position (a whole number)",
                    prompt.text.trim()
                ),
                true,
            ),
        },
    }
    Vec::new()
}

fn filter(app: &mut App, pane: PaneId, text: &str, store: &EventStore) {
    match pane {
        PaneId::Events => app.events.set_filter(store, EventFilter::parse(text)),
        PaneId::Logs => match LogFilter::parse(text) {
            Ok(filter) => app.logs.set_filter(filter),
            Err(error) => app.notify(error, true),
        },
        PaneId::Modules | PaneId::Replay => app.notify("this pane has no filter", true),
    }
}

fn goto(app: &mut App, position: u64, store: &EventStore) {
    app.pane = PaneId::Events;
    app.events.detail = None;
    app.events.goto(store, position);
    if app.events.selected_event().map(|e| e.position) != Some(position) {
        app.notify(
            format!("no event at position {position} passes the filter; showing the nearest"),
            false,
        );
    }
}

fn command_line(app: &mut App, line: Line, store: &EventStore) -> Vec<Request> {
    match line {
        Line::Quit => app.quit = true,
        Line::Help => app.overlay = Some(Overlay::Help { scroll: 0 }),
        Line::Pane(pane) => app.pane = pane,
        Line::Exec { command, input } => {
            app.notify(format!("executing {command}…"), false);
            return vec![Request::Execute { command, input }];
        }
        Line::Rebuild(module) => return rebuild(app, &module),
        Line::RebuildReadModel(projector) => confirm_read_model_rebuild(app, &projector),
        Line::Goto(position) => goto(app, position, store),
        Line::Filter(text) => filter(app, app.pane, &text, store),
        Line::Replay {
            projector,
            position,
        } => return start_replay(app, &projector, position.unwrap_or(app.events.head)),
    }
    Vec::new()
}

/// Opens the Replay pane on `projector`, stepped to `position`.
fn start_replay(app: &mut App, projector: &str, position: u64) -> Vec<Request> {
    if !known_projector(app, projector) {
        return Vec::new();
    }
    app.pane = PaneId::Replay;
    if app.replay.projector.as_deref() != Some(projector) {
        app.replay = Default::default();
        app.replay.projector = Some(projector.to_owned());
    }
    step_replay(app, Target::Position(position))
}

/// Asks for the replay to move, unless a step is under way.
fn step_replay(app: &mut App, target: Target) -> Vec<Request> {
    let Some(projector) = app.replay.projector.clone() else {
        app.notify(
            "no replay yet: press s on an event in the Events pane, or :replay PROJECTOR",
            true,
        );
        return Vec::new();
    };
    if app.replay.busy {
        return Vec::new();
    }
    app.replay.busy = true;
    vec![Request::Replay { projector, target }]
}

fn rebuild(app: &mut App, module: &str) -> Vec<Request> {
    if !app.modules.rows.iter().any(|r| r.name == module) {
        app.notify(format!("no module named '{module}'"), true);
        return Vec::new();
    }
    app.notify(format!("rebuilding {module}…"), false);
    vec![Request::RebuildModule(module.to_owned())]
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
        request: Request::RebuildReadModel(projector.to_owned()),
    });
}

fn run(app: &mut App, command: Command, store: &EventStore) -> Vec<Request> {
    let page = layout::page(app.size);
    match command {
        Command::Quit => app.quit = true,
        Command::Help => app.overlay = Some(Overlay::Help { scroll: 0 }),
        Command::CommandMode => {
            app.prompt = Some(Prompt::new(PromptKind::Command, String::new()));
        }
        Command::Filter => {
            let text = match app.pane {
                PaneId::Events => app.events.filter.text.clone(),
                PaneId::Logs => app.logs.filter.describe(),
                PaneId::Modules | PaneId::Replay => {
                    app.notify("this pane has no filter", true);
                    return Vec::new();
                }
            };
            app.prompt = Some(Prompt::new(PromptKind::Filter(app.pane), text));
        }
        Command::Goto => {
            if app.pane != PaneId::Replay {
                app.pane = PaneId::Events;
            }
            app.prompt = Some(Prompt::new(PromptKind::Goto, String::new()));
        }
        Command::NextPane => app.pane = app.pane.next(),
        Command::PrevPane => app.pane = app.pane.prev(),
        Command::Modules => app.pane = PaneId::Modules,
        Command::Events => app.pane = PaneId::Events,
        Command::Logs => app.pane = PaneId::Logs,
        Command::ReplayPane => app.pane = PaneId::Replay,
        Command::Up => step(app, -1, store),
        Command::Down => step(app, 1, store),
        Command::PageUp => step(app, -(page as isize), store),
        Command::PageDown => step(app, page as isize, store),
        Command::Top if app.pane == PaneId::Replay => {
            return step_replay(app, Target::Position(0));
        }
        Command::Bottom if app.pane == PaneId::Replay => {
            return step_replay(app, Target::Position(app.events.head.max(store.head())));
        }
        Command::Top => match app.pane {
            PaneId::Modules => app.modules.cursor.top(app.modules.rows.len(), page),
            PaneId::Events => app.events.top(store),
            PaneId::Logs => app.logs.cursor.top(app.logs.shown.len(), page),
            PaneId::Replay => {}
        },
        Command::Bottom => match app.pane {
            PaneId::Modules => {
                let len = app.modules.rows.len();
                app.modules.cursor.step(len as isize, len, page);
            }
            PaneId::Events => app.events.bottom(store),
            PaneId::Logs => app.logs.cursor.bottom(app.logs.shown.len(), page),
            PaneId::Replay => {}
        },
        Command::Open => match app.pane {
            PaneId::Modules if app.modules.selected().is_some() => app.modules.detail = Some(0),
            PaneId::Events if app.events.selected_event().is_some() => app.events.detail = Some(0),
            _ => {}
        },
        Command::Back => back(app, store),
        Command::Rebuild => match app.modules.selected() {
            Some(row) if app.pane == PaneId::Modules => {
                let name = row.name.clone();
                return rebuild(app, &name);
            }
            _ => app.notify("select a module in the Modules pane to rebuild it", true),
        },
        Command::RebuildReadModel => match app.modules.selected() {
            Some(row) if app.pane == PaneId::Modules && row.kind == PROJECTOR => {
                let name = row.name.clone();
                confirm_read_model_rebuild(app, &name);
            }
            _ => app.notify(
                "select a projector in the Modules pane to rebuild its read model",
                true,
            ),
        },
        Command::Level if app.pane == PaneId::Logs => app.logs.cycle_level(),
        Command::ModuleFilter if app.pane == PaneId::Logs => app.logs.cycle_module(),
        Command::Level | Command::ModuleFilter => {
            app.notify("level and module filters belong to the Logs pane", true)
        }
        Command::Replay => match (app.pane, app.events.selected_event()) {
            (PaneId::Events, Some(event)) => {
                let position = event.position;
                let projector = app.replay.projector.clone().or_else(|| {
                    app.modules
                        .rows
                        .iter()
                        .find(|r| r.kind == PROJECTOR)
                        .map(|r| r.name.clone())
                });
                match projector {
                    Some(projector) => return start_replay(app, &projector, position),
                    None => app.notify("this project has no projector to replay", true),
                }
            }
            _ => app.notify(
                "select an event in the Events pane, then s steps a projector to it",
                true,
            ),
        },
        Command::StepBack if app.pane == PaneId::Replay => {
            return step_replay(app, Target::Previous);
        }
        Command::StepForward if app.pane == PaneId::Replay => {
            return step_replay(app, Target::Next);
        }
        Command::StepBack | Command::StepForward => {
            app.notify("stepping belongs to the Replay pane (4)", true)
        }
    }
    Vec::new()
}

/// Moves the selection, or scrolls the open detail view.
fn step(app: &mut App, delta: isize, store: &EventStore) {
    let page = layout::page(app.size);
    let scroll = |s: &mut u16| *s = s.saturating_add_signed(delta as i16);
    match app.pane {
        PaneId::Modules => match &mut app.modules.detail {
            Some(s) => scroll(s),
            None => app.modules.cursor.step(delta, app.modules.rows.len(), page),
        },
        PaneId::Events => match &mut app.events.detail {
            Some(s) => scroll(s),
            None if delta < 0 => app.events.up(store, delta.unsigned_abs()),
            None => app.events.down(store, delta.unsigned_abs()),
        },
        PaneId::Logs => app.logs.cursor.step(delta, app.logs.shown.len(), page),
        PaneId::Replay => {
            app.replay.scroll = app.replay.scroll.saturating_add_signed(delta as i16);
        }
    }
}

/// Esc: close the detail view, else clear the filter.
fn back(app: &mut App, store: &EventStore) {
    match app.pane {
        PaneId::Modules => app.modules.detail = None,
        PaneId::Events if app.events.detail.is_some() => app.events.detail = None,
        PaneId::Events if !app.events.filter.is_empty() => {
            app.events.set_filter(store, EventFilter::default())
        }
        PaneId::Logs if app.logs.filter != LogFilter::default() => {
            app.logs.set_filter(LogFilter::default())
        }
        _ => {}
    }
}
