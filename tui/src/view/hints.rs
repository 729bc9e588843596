//! The bottom line: the prompt being typed, a notice, or the keys that
//! matter in the current pane.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::app::{App, PaneId};
use crate::keys::Command;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let line = if let Some(prompt) = &app.prompt {
        Line::from(vec![
            Span::styled(prompt.kind.sigil(), theme::ACCENT),
            Span::raw(prompt.text.clone()),
            Span::styled("█", theme::ACCENT),
        ])
    } else if let Some(notice) = &app.notice {
        Line::from(Span::styled(
            notice.text.clone(),
            if notice.error {
                theme::ERROR
            } else {
                theme::OK
            },
        ))
    } else {
        hints(app)
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn hints(app: &App) -> Line<'static> {
    let keys = &app.keys;
    let mut pairs: Vec<(Command, &str)> =
        vec![(Command::Help, "help"), (Command::CommandMode, "command")];
    if app.pane == PaneId::MODULES {
        if app.modules.detail.is_some() {
            pairs.extend([(Command::Down, "scroll"), (Command::Back, "close")]);
        } else {
            pairs.extend([(Command::Open, "details"), (Command::Rebuild, "rebuild")]);
            // What the models do with a selected module.
            for model in &app.models {
                pairs.extend(model.hints(PaneId::MODULES));
            }
        }
    } else if app.pane == PaneId::LOGS {
        pairs.extend([
            (Command::Filter, "search"),
            (Command::ModuleFilter, "module"),
            (Command::Level, "level"),
            (Command::Bottom, "follow"),
        ]);
    } else if let Some(index) = app.owner(app.pane) {
        pairs.extend(app.models[index].hints(app.pane));
    }
    pairs.extend([(Command::NextPane, "pane"), (Command::Quit, "quit")]);
    let mut spans = Vec::new();
    for (command, label) in pairs {
        spans.push(Span::styled(
            format!(" {}", keys.hint(command)),
            theme::ACCENT,
        ));
        spans.push(Span::styled(format!(" {label} "), theme::DIM));
    }
    Line::from(spans)
}
