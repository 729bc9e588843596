//! Overlays: the help listing every key and command, and the question a
//! destructive action asks first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::theme;
use crate::app::{App, Overlay};
use crate::command::USAGE;
use crate::keys::Command;
use crate::layout;

pub fn draw(frame: &mut Frame, area: Rect, overlay: &Overlay, app: &App) {
    match overlay {
        Overlay::Help { scroll } => help(frame, area, app, *scroll),
        Overlay::Confirm { question, .. } => confirm(frame, area, question),
    }
}

fn help(frame: &mut Frame, area: Rect, app: &App, scroll: u16) {
    let mut lines = vec![Line::styled("Keys", theme::HEADER)];
    for command in Command::all() {
        let keys: Vec<String> = app
            .keys
            .keys_of(command)
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
            Span::raw(command.describe()),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Commands (after :)", theme::HEADER));
    for (usage, what) in USAGE {
        lines.push(Line::from(vec![
            Span::styled(format!("  {usage:<31}"), theme::ACCENT),
            Span::raw(*what),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Filters (after /)", theme::HEADER));
    lines.push(Line::raw(
        "  events: type:NAME  tag:KEY:VALUE  and any text in the event",
    ));
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
