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

/// The help box's width when the screen has room for it.
const HELP_WIDTH: u16 = 100;
/// The narrowest text column beside a label; narrower, the text goes
/// under the label instead.
const MIN_TEXT: usize = 24;

fn help(frame: &mut Frame, area: Rect, app: &App, scroll: u16) {
    let box_width = HELP_WIDTH.min(area.width);
    // Inside the border.
    let width = usize::from(box_width.saturating_sub(2));
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
        lines.extend(row(&keys, 18, &spec.describe, width));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Commands (after :)", theme::HEADER));
    let panes: Vec<&str> = app.panes.iter().map(|p| p.id.name()).collect();
    let panes = panes.join("|");
    let usage = app
        .models
        .iter()
        .flat_map(|m| m.spec().commands.iter().copied())
        .chain(USAGE.iter().copied())
        .chain(std::iter::once((panes.as_str(), "switch pane")));
    for (usage, what) in usage {
        lines.extend(row(usage, 31, what, width));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Filters (after /)", theme::HEADER));
    let filters = app
        .models
        .iter()
        .flat_map(|m| m.spec().filters.iter().copied())
        .chain([("logs:", "module:NAME  level:warn  and any text in the line")]);
    for (pane, what) in filters {
        lines.extend(row(pane, 8, what, width));
    }
    lines.push(Line::raw(""));
    for text in wrap(
        "Keys are remapped in [keys] of tui.toml in the wbx config directory.",
        width,
    ) {
        lines.push(Line::styled(text, theme::DIM));
    }
    let box_area = layout::centered(area, box_width, lines.len() as u16 + 2);
    // Scrolled no further than the last line at the bottom of the box.
    let last = (lines.len() as u16).saturating_sub(box_area.height.saturating_sub(2));
    frame.render_widget(Clear, box_area);
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(Span::styled(" Help · esc closes ", theme::HEADER)))
            .scroll((scroll.min(last), 0)),
        box_area,
    );
}

/// A label (a key, a command) in a column `label_width` wide, and `text`
/// beside it, wrapped in its own column within `width`. A label too wide
/// for its column (it needs a space after it), or a box too narrow for two
/// columns, puts the text on the lines below the label.
fn row(label: &str, label_width: usize, text: &str, width: usize) -> Vec<Line<'static>> {
    const INDENT: usize = 2;
    let column = INDENT + label_width;
    let label_line =
        |pad: usize| Span::styled(format!("{:INDENT$}{label:<pad$}", ""), theme::ACCENT);
    if width >= column + MIN_TEXT && label.chars().count() < label_width {
        let mut lines = Vec::new();
        for (n, part) in wrap(text, width - column).into_iter().enumerate() {
            let left = if n == 0 {
                label_line(label_width)
            } else {
                Span::raw(" ".repeat(column))
            };
            lines.push(Line::from(vec![left, Span::raw(part)]));
        }
        return lines;
    }
    let under = if width >= column + MIN_TEXT {
        column
    } else {
        2 * INDENT
    };
    let mut lines = vec![Line::from(label_line(0))];
    for part in wrap(text, width.saturating_sub(under)) {
        lines.push(Line::raw(format!("{:under$}{part}", "")));
    }
    lines
}

/// `text` in lines of at most `width` characters, broken at spaces (a word
/// longer than a line is broken where the line ends). Spaces within a line
/// are kept as they are; those where a line breaks are dropped.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    // Splitting at single spaces keeps a run of them as empty words.
    for word in text.split(' ') {
        let mut word = word.to_owned();
        loop {
            let used = line.chars().count();
            let needed = word.chars().count() + usize::from(used > 0);
            if used + needed <= width {
                if used > 0 {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line).trim_end().to_owned());
                if word.is_empty() {
                    break;
                }
                continue;
            }
            // Longer than a whole line: as much as fits, the rest next.
            let rest: String = word.chars().skip(width).collect();
            lines.push(word.chars().take(width).collect());
            if rest.is_empty() {
                break;
            }
            word = rest;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_between_words_and_inside_a_word_too_long() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 10), [""]);
        assert_eq!(wrap("a  b", 10), ["a  b"]);
        assert_eq!(wrap("aa  bb", 3), ["aa", "bb"]);
    }

    #[test]
    fn a_row_wraps_its_text_under_itself() {
        let text =
            |lines: Vec<Line>| -> Vec<String> { lines.iter().map(ToString::to_string).collect() };
        assert_eq!(
            text(row("k", 3, "one two three four", 5 + MIN_TEXT)),
            ["  k  one two three four"]
        );
        let narrow = text(row("k", 3, &"word ".repeat(10), 5 + MIN_TEXT));
        assert_eq!(narrow.len(), 2, "{narrow:?}");
        assert_eq!(narrow[1], format!("     {}", ["word"; 5].join(" ")));
        // A label wider than its column: the text goes below it.
        let wide = text(row("a-long-label", 3, "text", 40));
        assert_eq!(wide, ["  a-long-label", "     text"]);
        // Too narrow for two columns: the text below, indented.
        let cramped = text(row("k", 3, "some text", 20));
        assert_eq!(cramped, ["  k", "    some text"]);
    }
}
