//! The one place the app's state changes: [`update`] takes an [`Action`],
//! changes the [`App`], and returns the [`Request`]s for the engine.
//!
//! The core's panes (Modules, Logs), the prompt and the overlays are
//! handled here; what concerns a model's pane goes to that model's
//! [`crate::model::ModelUi`], which changes its own state (and may tell the
//! core panes what it knows).

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use wbx_engine::Observation;

use crate::action::{Action, Request};
use crate::app::{App, Overlay, PaneId, Prompt, PromptKind};
use crate::command::{self, Line};
use crate::keys::{Command, Lookup};
use crate::layout;
use crate::model::Nav;
use crate::panes::LogFilter;

pub fn update(app: &mut App, action: Action) -> Vec<Request> {
    match action {
        Action::Key(key) => {
            app.dirty = true;
            app.notice = None;
            return key_pressed(app, key);
        }
        Action::Resize { width, height } => {
            app.size = (width, height);
            let page = layout::page(app.size);
            app.logs.resize(page);
            app.modules.cursor.fit(app.modules.rows.len(), page);
            for model in &mut app.models {
                model.resize(page);
            }
            app.dirty = true;
        }
        Action::Observed(observation) => {
            if let Observation::Unchanged { module } = &*observation {
                app.notify(
                    format!("{module}: rebuilt into the component already running"),
                    false,
                );
            }
            app.status.observe(&observation, Instant::now());
            app.modules.observe(&observation);
            app.logs.observe(&observation);
            app.each_model(|model, app| model.observe(&observation, app));
            let page = layout::page(app.size);
            app.modules.cursor.fit(app.modules.rows.len(), page);
            app.dirty = true;
        }
        Action::Lagged(skipped) => {
            app.status.skipped += skipped;
            for model in &mut app.models {
                model.lagged();
            }
            app.dirty = true;
        }
        Action::Tick(now) => {
            app.dirty |= app.status.tick(now);
            let pane = app.pane;
            if let Some(index) = app.owner(pane) {
                return app.with_model(index, |model, app| model.tick(pane, now, app));
            }
        }
        Action::Done(done) => {
            app.notify(done.message, !done.ok);
            app.dirty = true;
        }
        Action::Model(result) => {
            if let Some(index) = app
                .models
                .iter()
                .position(|m| m.spec().model == result.model)
            {
                app.dirty |= app.with_model(index, |model, app| model.result(&result, app));
            }
        }
    }
    Vec::new()
}

/// Reads what observations made stale; call before drawing.
pub fn settle(app: &mut App) {
    for model in &mut app.models {
        model.settle();
    }
}

fn key_pressed(app: &mut App, key: KeyEvent) -> Vec<Request> {
    if let Some(overlay) = app.overlay.take() {
        return overlay_key(app, overlay, key);
    }
    if let Some(prompt) = app.prompt.take() {
        return prompt_key(app, prompt, key);
    }
    match app.keys.lookup(&key, app.pane) {
        Lookup::Found(command) => run(app, command),
        Lookup::Elsewhere(command, pane) => {
            let what = app
                .keys
                .specs()
                .iter()
                .find(|s| s.command == command)
                .map_or(String::new(), |s| s.describe.clone());
            let title = app.title(pane);
            app.notify(format!("{what}: in the {title} pane"), true);
            Vec::new()
        }
        Lookup::Unbound => Vec::new(),
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

fn prompt_key(app: &mut App, mut prompt: Prompt, key: KeyEvent) -> Vec<Request> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let cancelled =
        matches!(key.code, KeyCode::Esc) || (ctrl && matches!(key.code, KeyCode::Char('c')));
    if cancelled {
        // The Logs filter follows the typing: cancelling puts back the one
        // there was before.
        if prompt.kind == PromptKind::Filter(PaneId::LOGS)
            && let Ok(filter) = LogFilter::parse(&prompt.before)
        {
            app.logs.set_filter(filter);
        }
        return Vec::new();
    }
    match key.code {
        KeyCode::Enter => return submit(app, prompt),
        KeyCode::Backspace => {
            prompt.text.pop();
        }
        KeyCode::Char('u') if ctrl => prompt.text.clear(),
        KeyCode::Char(c) if !ctrl => prompt.text.push(c),
        _ => {}
    }
    // Log filtering is in memory: it follows the typing.
    if prompt.kind == PromptKind::Filter(PaneId::LOGS)
        && let Ok(filter) = LogFilter::parse(&prompt.text)
    {
        app.logs.set_filter(filter);
    }
    app.prompt = Some(prompt);
    Vec::new()
}

fn submit(app: &mut App, prompt: Prompt) -> Vec<Request> {
    match prompt.kind {
        PromptKind::Command => match command::parse(&prompt.text) {
            Ok(line) => return command_line(app, line),
            Err(error) => app.notify(error, true),
        },
        PromptKind::Filter(pane) => filter(app, pane, &prompt.text),
        PromptKind::Ask { pane, .. } => {
            if let Some(index) = app.owner(pane) {
                return app.with_model(index, |model, app| model.answer(pane, &prompt.text, app));
            }
        }
    }
    Vec::new()
}

fn filter(app: &mut App, pane: PaneId, text: &str) {
    if pane == PaneId::LOGS {
        match LogFilter::parse(text) {
            Ok(filter) => app.logs.set_filter(filter),
            Err(error) => app.notify(error, true),
        }
        return;
    }
    match app.owner(pane) {
        Some(index) if app.models[index].filter(pane).is_some() => {
            app.with_model(index, |model, app| model.set_filter(pane, text, app));
        }
        _ => app.notify("this pane has no filter", true),
    }
}

fn command_line(app: &mut App, line: Line) -> Vec<Request> {
    match line {
        Line::Quit => app.quit = true,
        Line::Help => app.overlay = Some(Overlay::Help { scroll: 0 }),
        Line::Pane(name) => show_pane(app, &name),
        Line::Rebuild(module) => return rebuild(app, &module),
        Line::Filter(text) => filter(app, app.pane, &text),
        Line::Other { word, rest } => {
            if let Some(pane) = app.pane_named(&word) {
                app.pane = pane;
                return Vec::new();
            }
            // The model of the pane shown reads a word first: `:call` is the
            // Actors pane's there and the mesh's elsewhere.
            let shown = app.owner(app.pane);
            let order = shown
                .into_iter()
                .chain((0..app.models.len()).filter(|index| Some(*index) != shown));
            for index in order.collect::<Vec<_>>() {
                let taken = app.with_model(index, |model, app| model.command(&word, &rest, app));
                if let Some(requests) = taken {
                    return requests;
                }
            }
            let mut words = command::words(command::USAGE);
            for model in &app.models {
                words.extend(command::words(model.spec().commands));
            }
            words.extend(app.panes.iter().map(|p| p.id.name()));
            app.notify(
                format!("unknown command '{word}'; commands: {}", words.join(", ")),
                true,
            );
        }
    }
    Vec::new()
}

fn show_pane(app: &mut App, name: &str) {
    match app.pane_named(name) {
        Some(pane) => app.pane = pane,
        None => {
            let names: Vec<_> = app.panes.iter().map(|p| p.id.name()).collect();
            app.notify(
                format!("no pane named '{name}': {}", names.join(", ")),
                true,
            );
        }
    }
}

fn rebuild(app: &mut App, module: &str) -> Vec<Request> {
    if !app.modules.rows.iter().any(|r| r.name == module) {
        app.notify(format!("no module named '{module}'"), true);
        return Vec::new();
    }
    app.notify(format!("rebuilding {module}…"), false);
    vec![Request::RebuildModule(module.to_owned())]
}

fn run(app: &mut App, command: Command) -> Vec<Request> {
    let page = layout::page(app.size) as isize;
    match command {
        Command::Quit => app.quit = true,
        Command::Help => app.overlay = Some(Overlay::Help { scroll: 0 }),
        Command::CommandMode => {
            app.prompt = Some(Prompt::new(PromptKind::Command, String::new()));
        }
        Command::Filter => {
            let text = if app.pane == PaneId::LOGS {
                Some(app.logs.filter.describe())
            } else {
                app.owner(app.pane)
                    .and_then(|index| app.models[index].filter(app.pane))
            };
            match text {
                Some(text) => app.prompt = Some(Prompt::new(PromptKind::Filter(app.pane), text)),
                None => app.notify("this pane has no filter", true),
            }
        }
        Command::NextPane => app.pane = app.pane_after(1),
        Command::PrevPane => app.pane = app.pane_after(-1),
        Command::Pane(pane) if app.has_pane(pane) => app.pane = pane,
        Command::Pane(pane) => app.notify(
            format!(
                "the {} pane is not open: its model does not run here",
                pane.name()
            ),
            true,
        ),
        Command::Up => return nav(app, Nav::Step(-1)),
        Command::Down => return nav(app, Nav::Step(1)),
        Command::PageUp => return nav(app, Nav::Step(-page)),
        Command::PageDown => return nav(app, Nav::Step(page)),
        Command::Top => return nav(app, Nav::Top),
        Command::Bottom => return nav(app, Nav::Bottom),
        Command::Open => return nav(app, Nav::Open),
        Command::Back => return nav(app, Nav::Back),
        Command::Rebuild => match app.modules.selected() {
            Some(row) => {
                let name = row.name.clone();
                return rebuild(app, &name);
            }
            None => app.notify("select a module in the Modules pane to rebuild it", true),
        },
        Command::Level => app.logs.cycle_level(),
        Command::ModuleFilter => app.logs.cycle_module(),
        Command::Model(action) => {
            let owner = app
                .models
                .iter()
                .position(|m| m.spec().actions.iter().any(|a| a.name == action));
            if let Some(index) = owner {
                return app.with_model(index, |model, app| model.act(action, app));
            }
        }
    }
    Vec::new()
}

/// A move in the pane shown: the core's panes here, a model's by its model.
fn nav(app: &mut App, nav: Nav) -> Vec<Request> {
    let page = layout::page(app.size);
    let pane = app.pane;
    if pane == PaneId::MODULES {
        let len = app.modules.rows.len();
        let modules = &mut app.modules;
        let selected = modules.selected().is_some();
        match (nav, &mut modules.detail) {
            (Nav::Step(delta), Some(scroll)) => {
                *scroll = scroll.saturating_add_signed(delta as i16);
            }
            (Nav::Step(delta), None) => modules.cursor.step(delta, len, page),
            (Nav::Top, _) => modules.cursor.top(len, page),
            (Nav::Bottom, _) => modules.cursor.step(len as isize, len, page),
            (Nav::Open, _) if selected => modules.detail = Some(0),
            (Nav::Open, _) => {}
            (Nav::Back, _) => modules.detail = None,
        }
    } else if pane == PaneId::LOGS {
        let logs = &mut app.logs;
        match nav {
            Nav::Step(delta) => logs.cursor.step(delta, logs.shown.len(), page),
            Nav::Top => logs.cursor.top(logs.shown.len(), page),
            Nav::Bottom => logs.cursor.bottom(logs.shown.len(), page),
            Nav::Open => {}
            Nav::Back if logs.filter != LogFilter::default() => {
                logs.set_filter(LogFilter::default())
            }
            Nav::Back => {}
        }
    } else if let Some(index) = app.owner(pane) {
        return app.with_model(index, |model, app| model.nav(pane, nav, app));
    }
    Vec::new()
}
