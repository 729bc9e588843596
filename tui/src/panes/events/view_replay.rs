//! The Replay pane: the event a projector's replay stands at, and the rows
//! it changed in the scratch read model, before and after.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use wbx_engine::replay::read_model::row_text;

use super::replay::ReplayPane;
use crate::view::{self, text, theme};

pub fn draw(frame: &mut Frame, area: Rect, pane: &ReplayPane) {
    let mut title = vec![Span::styled(" Replay ", theme::HEADER)];
    if let Some(projector) = &pane.projector {
        title.push(Span::styled(format!("· {projector} "), theme::BOLD));
    }
    if let Some(step) = &pane.step {
        title.push(Span::styled(
            format!("· {} handled ", text::count(step.handled, "event")),
            theme::DIM,
        ));
    }
    if pane.busy {
        title.push(Span::styled("· replaying… ", theme::WARN));
    }
    let block = Block::bordered().title(Line::from(title));
    let mut lines: Vec<Line> = Vec::new();
    if let Some(error) = &pane.error {
        lines.push(Line::styled(
            "The replay failed:",
            theme::ERROR.patch(theme::BOLD),
        ));
        lines.extend(
            error
                .lines()
                .map(|l| Line::styled(l.to_owned(), theme::ERROR)),
        );
        lines.push(Line::raw(""));
    }
    match &pane.step {
        None if pane.projector.is_none() => {
            let text = "No replay yet. Select an event in the Events pane and press s: a \
                        projector replays the log up to it into a scratch read model (the live \
                        one is not touched) and shows what that event changed. Or type \
                        :replay PROJECTOR [POSITION].";
            return view::message(frame, area, block, text.to_owned(), theme::DIM);
        }
        None => {}
        Some(step) => {
            let neighbour = |p: Option<u64>| p.map_or("—".to_owned(), |p| p.to_string());
            let mut header = vec![Span::styled(
                format!(
                    "← {}  → {}   ",
                    neighbour(step.previous),
                    neighbour(step.next)
                ),
                theme::DIM,
            )];
            match &step.event {
                Some(event) => header.extend([
                    Span::styled(format!("position {} ", event.position), theme::BOLD),
                    Span::styled(format!("{} ", event.event_type), theme::BOLD),
                    Span::styled(format!("{} ", event.tags.join(" ")), theme::ACCENT),
                    Span::raw(event.data.get().to_owned()),
                ]),
                None => header.push(Span::styled(
                    "before the first event: the read model is as init made it",
                    theme::BOLD,
                )),
            }
            lines.push(Line::from(header));
            lines.push(Line::raw(""));
            if step.event.is_some() && step.changes.is_empty() {
                lines.push(Line::styled("This event changed no rows.", theme::DIM));
            }
            for change in &step.changes {
                lines.push(Line::styled(change.heading(), theme::HEADER));
                let row = |sign: &str, r: &[String], style| {
                    Line::styled(format!("{sign} {}", row_text(r)), style)
                };
                for (before, after) in &change.changed {
                    lines.push(row("-", before, theme::ERROR));
                    lines.push(row("+", after, theme::OK));
                }
                lines.extend(change.removed.iter().map(|r| row("-", r, theme::ERROR)));
                lines.extend(change.added.iter().map(|r| row("+", r, theme::OK)));
            }
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((pane.scroll, 0)),
        area,
    );
}
