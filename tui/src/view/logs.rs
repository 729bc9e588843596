//! The Logs pane: one line per guest log line, each under its module.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use wbx_engine::logs::LogSource;

use super::{text, theme};
use crate::app::App;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let pane = &app.logs;
    let mut title = vec![
        Span::styled(" Logs ", theme::HEADER),
        Span::styled(
            format!(
                "{} of {} ",
                text::thousands(pane.shown.len() as u64),
                text::count(pane.lines.len() as u64, "line")
            ),
            theme::DIM,
        ),
        if pane.cursor.follow {
            Span::styled("· following ", theme::OK)
        } else {
            Span::styled("· paused (G follows) ", theme::WARN)
        },
    ];
    let filter = pane.filter.describe();
    if !filter.is_empty() {
        title.push(Span::styled(format!("· filter: {filter} "), theme::ACCENT));
    }
    if pane.dropped > 0 {
        title.push(Span::styled(
            format!("· {} older in .wbx/logs ", text::thousands(pane.dropped)),
            theme::DIM,
        ));
    }
    let block = Block::bordered().title(Line::from(title));
    if pane.shown.is_empty() {
        let text = if pane.lines.is_empty() {
            "No log lines yet. Guests log through wbx_guest::log, println! or eprintln!."
        } else {
            "No line passes the filter. Esc clears it."
        };
        return super::message(frame, area, block, text.to_owned(), theme::DIM);
    }
    let width = pane.modules.iter().map(|m| m.len()).max().unwrap_or(0);
    let lines: Vec<Line> = pane
        .visible()
        .map(|(n, line)| {
            let source = match line.source {
                LogSource::Log => "",
                LogSource::Stdout => "stdout ",
                LogSource::Stderr => "stderr ",
            };
            let mut spans = vec![
                Span::styled(format!("{} ", text::clock(line.at)), theme::DIM),
                Span::styled(format!("{:<width$} ", line.module), theme::ACCENT),
                Span::styled(
                    format!("{:<5} ", line.level.as_str()),
                    theme::level(line.level),
                ),
                Span::styled(source, theme::DIM),
                Span::raw(line.text.clone()),
            ];
            if n == pane.cursor.selected && !pane.cursor.follow {
                for span in &mut spans {
                    span.style = span.style.patch(theme::SELECTED);
                }
            }
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
