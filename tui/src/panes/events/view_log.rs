//! The Events pane: the window onto the log, or one event in full.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Row, Table};
use wbx_engine::events::StoredEvent;

use super::log::EventsPane;
use crate::view::{self, text, theme};

pub fn draw(frame: &mut Frame, area: Rect, pane: &EventsPane) {
    match (pane.detail, pane.selected_event()) {
        (Some(scroll), Some(event)) => detail(frame, area, event, scroll),
        _ => table(frame, area, pane),
    }
}

fn title(pane: &EventsPane) -> Line<'static> {
    let mut spans = vec![
        Span::styled(" Events ", theme::HEADER),
        Span::styled(format!("head {} ", text::thousands(pane.head)), theme::DIM),
        if pane.follow {
            Span::styled("· following ", theme::OK)
        } else {
            Span::styled("· paused (G follows) ", theme::WARN)
        },
    ];
    if !pane.filter.is_empty() {
        spans.push(Span::styled(
            format!("· filter: {} ", pane.filter.text),
            theme::ACCENT,
        ));
    }
    Line::from(spans)
}

fn table(frame: &mut Frame, area: Rect, pane: &EventsPane) {
    let block = Block::bordered().title(title(pane));
    if let Some(error) = &pane.error {
        let text = format!("Cannot read the event log: {error}");
        return view::message(frame, area, block, text, theme::ERROR);
    }
    if pane.rows.is_empty() {
        let text = if pane.filter.is_empty() {
            "No events yet. Execute a command: press : and type  exec <command> {\"…\": …}"
        } else {
            "No event passes the filter. Esc clears it."
        };
        return view::message(frame, area, block, text.to_owned(), theme::DIM);
    }
    let correlation = pane
        .selected_event()
        .and_then(|e| e.correlation_id.as_deref());
    let position_width = pane
        .rows
        .last()
        .map_or(3, |e| text::thousands(e.position).len().max(3)) as u16;
    let rows = pane.rows.iter().enumerate().map(|(n, event)| {
        let related = correlation.is_some() && event.correlation_id.as_deref() == correlation;
        let style = if n == pane.selected {
            theme::SELECTED
        } else if related {
            theme::RELATED
        } else {
            Style::default()
        };
        Row::new(vec![
            Span::styled(if related { "┃" } else { " " }, theme::RELATED),
            Span::raw(format!(
                "{:>width$}",
                text::thousands(event.position),
                width = usize::from(position_width)
            )),
            Span::styled(text::clock(event.timestamp), theme::DIM),
            Span::styled(event.event_type.clone(), theme::BOLD),
            Span::styled(event.tags.join(" "), theme::ACCENT),
            Span::raw(event.data.get().to_owned()),
        ])
        .style(style)
    });
    // Type and tags as wide as this window needs, within bounds; the data
    // gets the rest.
    let longest = |f: &dyn Fn(&StoredEvent) -> usize| pane.rows.iter().map(f).max().unwrap_or(0);
    let type_width = longest(&|e| e.event_type.chars().count()).clamp(4, 24) as u16;
    let tags_width = longest(&|e| e.tags.join(" ").chars().count()).clamp(4, 28) as u16;
    let widths = [
        Constraint::Length(1),
        Constraint::Length(position_width),
        Constraint::Length(12),
        Constraint::Length(type_width),
        Constraint::Length(tags_width),
        Constraint::Min(8),
    ];
    let header = Row::new(["", "Pos", "Time (UTC)", "Type", "Tags", "Data"]).style(theme::HEADER);
    frame.render_widget(Table::new(rows, widths).header(header).block(block), area);
}

fn detail(frame: &mut Frame, area: Rect, event: &StoredEvent, scroll: u16) {
    let field = |name: &str, value: Option<&str>| {
        Line::from(vec![
            Span::styled(format!("{name:<14}"), theme::DIM),
            match value {
                Some(v) => Span::raw(v.to_owned()),
                None => Span::styled("—", theme::DIM),
            },
        ])
    };
    let time = humantime::format_rfc3339_millis(event.timestamp).to_string();
    let tags = event.tags.join("  ");
    let mut lines = vec![
        field("type", Some(&event.event_type)),
        field("position", Some(&event.position.to_string())),
        field("id", Some(&event.id)),
        field("time", Some(&time)),
        field(
            "tags",
            Some(&tags).filter(|t| !t.is_empty()).map(|t| t.as_str()),
        ),
        field("correlation", event.correlation_id.as_deref()),
        field("causation", event.causation_id.as_deref()),
        field("triggered by", event.triggering_event_id.as_deref()),
        field("idempotency", event.idempotency_key.as_deref()),
        Line::raw(""),
        Line::styled("data", theme::HEADER),
    ];
    let pretty = serde_json::from_str::<serde_json::Value>(event.data.get())
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| event.data.get().to_owned());
    lines.extend(pretty.lines().map(|l| Line::raw(l.to_owned())));
    let title = format!(" Event {} · {} ", event.position, event.event_type);
    view::detail(frame, area, title, lines, scroll);
}
