//! Overlays: the help listing every key and command, and the question a
//! destructive action asks first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::theme;
use crate::app::{App, Overlay};
use crate::command::USAGE;
use crate::layout;

pub fn draw(frame: &mut Frame, area: Rect, overlay: &Overlay, app: &App) {
    match overlay {
        Overlay::Help { scroll } => help(frame, area, app, *scroll),
        Overlay::Confirm { question, .. } => confirm(frame, area, question),
    }
}

fn help(frame: &mut Frame, area: Rect, app: &App, scroll: u16) {
    let mut lines = vec![Line::styled("Keys", theme::HEADER)];
    for spec in app.keys.specs() {
        let keys: Vec<String> = app
            .keys
            .keys_of(spec.command)
            .iter()
            .map(ToString::to_string)
            .collect();
        let keys = if keys.is_empty() {
            "(unbound)".to_owned()
        } else {
            keys.join(", ")
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {keys:<18}"), theme::ACCENT),
            Span::raw(spec.describe.clone()),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Commands (after :)", theme::HEADER));
    let panes: Vec<&str> = app.panes.iter().map(|p| p.id.name()).collect();
    let panes = (panes.join("|"), "switch pane");
    let usage = app
        .models
        .iter()
        .flat_map(|m| m.spec().commands.iter())
        .chain(USAGE)
        .map(|(usage, what)| (usage.to_string(), *what))
        .chain(std::iter::once((panes.0, panes.1)));
    for (usage, what) in usage {
        lines.push(Line::from(vec![
            Span::styled(format!("  {usage:<31}"), theme::ACCENT),
            Span::raw(what),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Filters (after /)", theme::HEADER));
    for filter in app.models.iter().flat_map(|m| m.spec().filters) {
        lines.push(Line::raw(format!("  {filter}")));
    }
    lines.push(Line::raw(
        "  logs:   module:NAME  level:warn  and any text in the line",
    ));
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Keys are remapped in [keys] of tui.toml in the wbx config directory.",
        theme::DIM,
    ));
    let box_area = layout::centered(area, 100, lines.len() as u16 + 2);
    frame.render_widget(Clear, box_area);
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(Span::styled(" Help · esc closes ", theme::HEADER)))
            .scroll((scroll, 0)),
        box_area,
    );
}

fn confirm(frame: &mut Frame, area: Rect, question: &str) {
    let box_area = layout::centered(area, 60, 7);
    frame.render_widget(Clear, box_area);
    frame.render_widget(
        Paragraph::new(vec![
            Line::raw(question.to_owned()),
            Line::raw(""),
            Line::from(vec![
                Span::styled("y", theme::ACCENT),
                Span::raw(" yes   "),
                Span::styled("n", theme::ACCENT),
                Span::raw(" no"),
            ]),
        ])
        .wrap(Wrap { trim: true })
        .block(Block::bordered().title(Span::styled(" Are you sure? ", theme::WARN))),
        box_area,
    );
}
