//! The few styles the view uses, so the screen reads as one piece.

use ratatui::style::{Color, Modifier, Style};
use wbx_engine::logs::Level;

pub const DIM: Style = Style::new().fg(Color::DarkGray);
pub const BOLD: Style = Style::new().add_modifier(Modifier::BOLD);
pub const OK: Style = Style::new().fg(Color::Green);
pub const WARN: Style = Style::new().fg(Color::Yellow);
pub const ERROR: Style = Style::new().fg(Color::Red);
pub const ACCENT: Style = Style::new().fg(Color::Cyan);
pub const HEADER: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
pub const BADGE: Style = Style::new()
    .fg(Color::Black)
    .bg(Color::Cyan)
    .add_modifier(Modifier::BOLD);
pub const SELECTED: Style = Style::new().add_modifier(Modifier::REVERSED);
pub const SELECTED_TAB: Style = Style::new()
    .fg(Color::Cyan)
    .add_modifier(Modifier::BOLD.union(Modifier::UNDERLINED));
/// Events that share the selected event's correlation id.
pub const RELATED: Style = Style::new().fg(Color::Magenta);

/// A queue or a mailbox holding `depth` of `capacity`: red when full,
/// yellow past three quarters, else plain.
pub fn fill(depth: usize, capacity: usize) -> Style {
    if capacity > 0 && depth >= capacity {
        ERROR
    } else if capacity > 0 && depth * 4 >= capacity * 3 {
        WARN
    } else {
        Style::new()
    }
}

/// A log line's level.
pub fn level(level: Level) -> Style {
    match level {
        Level::Error => ERROR,
        Level::Warn => WARN,
        Level::Info => OK,
        Level::Debug | Level::Trace => DIM,
    }
}
