//! The lines a detail view is made of (a process, a stage): a named
//! field, a section's heading, a placeholder for an empty section, and
//! JSON pretty-printed.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::theme;

/// `name` in a column of its own, then `value`.
pub fn field(name: &str, value: Vec<Span<'static>>) -> Line<'static> {
    let mut spans = vec![Span::styled(format!("{name:<13}"), theme::DIM)];
    spans.extend(value);
    Line::from(spans)
}

/// A blank line, then the section's title.
pub fn heading(lines: &mut Vec<Line<'static>>, title: String) {
    lines.push(Line::raw(""));
    lines.push(Line::styled(title, theme::HEADER));
}

/// What an empty section says instead.
pub fn none(lines: &mut Vec<Line<'static>>, text: &str) {
    lines.push(Line::styled(format!("  {text}"), theme::DIM));
}

/// JSON, pretty-printed, each line indented.
pub fn json(
    lines: &mut Vec<Line<'static>>,
    value: &serde_json::Value,
    indent: usize,
    style: Style,
) {
    let pretty = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    for line in pretty.lines() {
        lines.push(Line::styled(format!("{:indent$}{line}", ""), style));
    }
}
